//! The plugin libraries the tests load, built as part of the test run.
//!
//! The workspace's plugin crates (`plugins/chamber-directory`, `plugins/testing/*`) are
//! built once per test process with `cargo build` into `target/blackbox-plugins` (a
//! folder of their own, incremental across runs), and the raw-ABI plugin's faulty variants
//! are compiled with `rustc --cfg 'variant="…"'` into the scratch directory. No manual
//! step: `cargo test` is enough.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use super::session;

/// The library file name of a crate on this platform: `lib<name>.so` on Linux.
pub fn library_file(crate_name: &str) -> String {
    format!(
        "{}{crate_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("hub/ has a parent")
        .to_owned()
}

/// The plugin crates of the workspace, by package name, built once: their libraries.
fn cargo_built() -> &'static HashMap<String, PathBuf> {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let packages = ["chamber-directory", "misbehaving-plugin", "raw-abi-plugin"];
        // A target folder of its own: built alone, the plugin crates resolve their
        // dependencies' features differently than the whole workspace does, and would
        // replace artifacts that `cargo test` still uses (its doctests link against them).
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target"))
            .join("blackbox-plugins");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.arg("build")
            .arg("--manifest-path")
            .arg(workspace().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .arg("--message-format=json-render-diagnostics");
        for package in packages {
            cmd.args(["-p", package]);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("blackbox: cargo build of the plugins: {e}"));
        assert!(
            out.status.success(),
            "blackbox: cargo build of the plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut libraries = HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if message["reason"] != "compiler-artifact" {
                continue;
            }
            let Some(name) = message["target"]["name"].as_str() else {
                continue;
            };
            let suffix = std::env::consts::DLL_SUFFIX;
            let library = message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(suffix));
            if let Some(library) = library {
                libraries.insert(name.replace('-', "_"), PathBuf::from(library));
            }
        }
        libraries
    })
}

/// The library of a workspace plugin crate, by its library name (`chamber_directory`,
/// `misbehaving_plugin`, `raw_abi_plugin`).
pub fn library(name: &str) -> PathBuf {
    cargo_built()
        .get(name)
        .unwrap_or_else(|| panic!("blackbox: no plugin library {name} was built"))
        .clone()
}

/// A variant of the raw-ABI plugin (`abi_v99`, `no_symbol`, …: see its crate docs),
/// compiled once per test process.
pub fn raw_variant(variant: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(variant) {
        return path.clone();
    }
    let dir = session::root().join("raw-abi-variants");
    std::fs::create_dir_all(&dir).expect("blackbox: raw-abi variant folder");
    let crate_name = format!("raw_{variant}");
    let out = dir.join(library_file(&crate_name));
    let cargo = Path::new(env!("CARGO"));
    let rustc = std::env::var_os("RUSTC")
        .map(PathBuf::from)
        .or_else(|| {
            let beside = cargo.with_file_name(format!("rustc{}", std::env::consts::EXE_SUFFIX));
            beside.is_file().then_some(beside)
        })
        .unwrap_or_else(|| PathBuf::from("rustc"));
    let status = Command::new(&rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "cdylib",
            "--crate-name",
        ])
        .arg(&crate_name)
        .arg("--cfg")
        .arg(format!("variant=\"{variant}\""))
        .arg(workspace().join("plugins/testing/raw-abi/src/lib.rs"))
        .arg("-o")
        .arg(&out)
        .env("CARGO_PKG_VERSION", env!("CARGO_PKG_VERSION"))
        .status()
        .unwrap_or_else(|e| panic!("blackbox: {}: {e}", rustc.display()));
    assert!(
        status.success(),
        "blackbox: compiling the raw-abi variant {variant} failed"
    );
    built.insert(variant.to_owned(), out.clone());
    out
}

/// A fresh plugin folder holding copies of `libraries` under the given file names.
pub fn folder(libraries: &[(&str, &Path)]) -> tempfile::TempDir {
    let dir = session::tempdir("plugins-");
    for (name, library) in libraries {
        std::fs::copy(library, dir.path().join(name)).unwrap_or_else(|e| {
            panic!(
                "blackbox: copying {} into the plugin folder: {e}",
                library.display()
            )
        });
    }
    dir
}
