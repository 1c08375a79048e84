//! Importer plugins through the real interfaces: `hub plugins check`, `hub importers
//! list`, `hub import` and `importFile`, in both isolation modes. Every way a plugin can
//! fail must give a clear error naming the plugin and the check, leave the database
//! unchanged, and leave the server answering.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::graphql_import::{post, post_as, upload_with};
use crate::support::plugins::{folder, library, library_file, raw_variant};
use crate::support::{Engine, TestDb, create_key, engines, hub, output, spawn};

/// The tables an import writes to, and the change counter.
const WRITTEN: &[&str] = &[
    "organisations",
    "organisation_source_records",
    "organisation_identifiers",
    "cluster_memberships",
    "import_runs",
    "import_row_errors",
    "sources",
];

fn fingerprint(db: &TestDb) -> String {
    db.fingerprint(WRITTEN)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `hub` for `db` with the plugins of `dir` in `isolation`, short limits.
fn hub_with(db: &TestDb, dir: &Path, isolation: &str) -> Command {
    let mut cmd = hub(db);
    cmd.env("HUB__PLUGINS__DIR", dir)
        .env("HUB__PLUGINS__ISOLATION", isolation)
        .env("HUB__PLUGINS__TIMEOUT_MS", "2000")
        .env("HUB__PLUGINS__MAX_BATCH_BYTES", "500000")
        .env("HUB__PLUGINS__MAX_OUTPUT_BYTES", "2000000")
        .env("HUB__PLUGINS__MAX_IMPORT_MS", "1500");
    cmd
}

fn misbehaving_folder() -> tempfile::TempDir {
    let misbehaving = library("misbehaving_plugin");
    let raw = library("raw_abi_plugin");
    folder(&[
        (&library_file("misbehaving_plugin"), &misbehaving),
        (&library_file("raw_abi_plugin"), &raw),
    ])
}

/// Writes `content` to a file in the database's data folder.
fn input(db: &TestDb, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = db.data_path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn plugins_check_names_the_check_a_library_fails() {
    let db = TestDb::fresh(Engine::Sqlite);
    let garbage = input(&db, "libgarbage.so", b"this is not a shared library");
    let cases: Vec<(std::path::PathBuf, &str, &str)> = vec![
        (garbage, "load", "the library does not load"),
        (
            raw_variant("no_symbol"),
            "symbol",
            "exports no hub_importer symbol",
        ),
        (
            raw_variant("abi_v99"),
            "ABI version",
            "built for ABI version 99; this hub loads ABI version 1",
        ),
        (
            raw_variant("short_table"),
            "table size",
            "table is 16 bytes",
        ),
        (
            raw_variant("null_open"),
            "table functions",
            "has no open function",
        ),
        (
            raw_variant("bad_manifest"),
            "manifest",
            "not a valid importer manifest",
        ),
        (
            raw_variant("bad_id"),
            "manifest",
            "\"Not An Id!\" is not an importer id",
        ),
        (
            raw_variant("future_sdk"),
            "SDK version",
            "built with SDK \"9.0.0\"",
        ),
        (
            raw_variant("clash"),
            "id",
            "\"spreadsheet\" is a built-in importer's id",
        ),
    ];
    for (path, check, expected) in cases {
        let out = output(hub(&db).arg("plugins").arg("check").arg(&path));
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{check}: {stdout}{stderr}");
        let line = format!("FAIL {check}: ");
        let failed = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&line))
            .unwrap_or_else(|| panic!("{check}: no failed line: {stdout}{stderr}"));
        assert!(failed.contains(expected), "{check}: {failed}");
        assert!(stdout.ends_with("result: FAILED\n"), "{stdout}");

        let out = output(hub(&db).args(["plugins", "check", "--json"]).arg(&path));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ok"], false);
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["check"] == check && c["outcome"] == "failed"),
            "{report}"
        );
    }
}

#[test]
fn plugins_check_reports_a_good_plugin_and_dry_runs_its_input() {
    for engine in engines() {
        check_and_dry_run(engine);
    }
}

fn check_and_dry_run(engine: Engine) {
    let db = TestDb::fresh(engine);
    let file = input(&db, "three.misbehave", b"ok 3\n");
    let before = fingerprint(&db);
    let out = output(
        hub(&db)
            .args(["plugins", "check"])
            .arg(library("misbehaving_plugin"))
            .arg("--input")
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    // The SDK has the workspace's version, as this package does.
    let sdk = env!("CARGO_PKG_VERSION");
    for expected in [
        "importer misbehaving 0.1.0 (Misbehaving test plugin)",
        &*format!("ABI      version 1, table 56 bytes; SDK {sdk}"),
        "ok   ABI version: 1",
        "ok   id: unique among built-in and installed importers",
        "ok   sniff: 95% confident it reads three.misbehave",
        "ok   dry run: 3 rows read, 3 records would be inserted, 0 updated",
        "result: ok",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    // A dry run: nothing written.
    assert_eq!(fingerprint(&db), before);

    // Records failing validation fail the check, with the rows named.
    let bad = input(&db, "bad.misbehave", b"invalid\n");
    let out = output(
        hub(&db)
            .args(["plugins", "check"])
            .arg(library("misbehaving_plugin"))
            .arg("--input")
            .arg(&bad),
    );
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL dry run: 2 of 3 rows have errors"),
        "{stdout}"
    );
    assert!(stdout.contains("bad.misbehave!R2"), "{stdout}");
    assert!(stdout.contains("bad.misbehave!R3"), "{stdout}");
    assert_eq!(fingerprint(&db), before);
}

#[test]
fn refused_plugins_are_reported_and_the_others_load() {
    let db = TestDb::fresh(Engine::Sqlite);
    let misbehaving = library("misbehaving_plugin");
    let raw = library("raw_abi_plugin");
    let (v99, clash) = (raw_variant("abi_v99"), raw_variant("clash"));
    let dir = folder(&[
        ("libmisbehaving_plugin.so", &misbehaving),
        ("libraw_one.so", &raw),
        ("libraw_two.so", &raw),
        ("libraw_v99.so", &v99),
        ("libraw_clash.so", &clash),
        ("README.txt", &misbehaving),
    ]);
    std::fs::write(dir.path().join("libgarbage.so"), b"not a library").unwrap();
    for isolation in ["process", "in-process"] {
        let out =
            output(hub_with(&db, dir.path(), isolation).args(["importers", "list", "--json"]));
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        let listed: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        let plugins: Vec<(&str, &str)> = listed
            .iter()
            .filter(|m| m.get("plugin").is_some())
            .map(|m| {
                (
                    m["id"].as_str().unwrap(),
                    m["plugin"]["isolation"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            plugins,
            [("misbehaving", isolation)],
            "{isolation}: {stdout}"
        );
        assert!(listed.iter().any(|m| m["id"] == "spreadsheet"));
        for expected in [
            "plugin libgarbage.so refused: load check failed: the library does not load",
            "plugin libraw_v99.so refused: ABI version check failed: the plugin was built for \
             ABI version 99; this hub loads ABI version 1",
            "plugin libraw_clash.so refused: id check failed: the id \"spreadsheet\" is a \
             built-in importer's",
            "plugin libraw_one.so refused: id check failed: the id \"raw-ndjson\" is declared by \
             libraw_one.so and libraw_two.so",
            "plugin libraw_two.so refused: id check failed",
        ] {
            assert!(
                stderr.contains(expected),
                "{isolation}: missing {expected:?} in\n{stderr}"
            );
        }
        assert!(!stderr.contains("README"), "{stderr}");

        // Asking for a refused plugin names the refusal.
        let file = input(&db, "a.ndjson", b"");
        let out = output(
            hub_with(&db, dir.path(), isolation)
                .args(["import", "--importer", "raw-ndjson"])
                .arg(&file),
        );
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr.contains("no importer has the id \"raw-ndjson\""),
            "{stderr}"
        );
        assert!(
            stderr.contains("libraw_one.so refused: id check failed"),
            "{stderr}"
        );
    }
}

#[test]
fn pinned_hashes_let_only_the_listed_libraries_load() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let out = output(
        hub(&db)
            .args(["plugins", "check", "--json"])
            .arg(dir.path().join("libmisbehaving_plugin.so")),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sha = report["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);

    let list = |allowed: &str| {
        let config = db.data_path().join("pins.toml");
        std::fs::write(
            &config,
            format!("[plugins]\nallowed_sha256 = [{allowed}]\n"),
        )
        .unwrap();
        let out = output(
            hub_with(&db, dir.path(), "process")
                .arg("--config")
                .arg(&config)
                .args(["importers", "list"]),
        );
        text(&out)
    };
    let (stdout, stderr) = list(&format!("\"{sha}\""));
    assert!(stdout.contains("misbehaving"), "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "plugin libraw_abi_plugin.so refused: sha256 check failed: the library's SHA-256 is"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("raw-ndjson"), "{stdout}");

    let (stdout, stderr) = list(&format!("\"{}\"", "0".repeat(64)));
    assert!(!stdout.contains("misbehaving"), "{stdout}");
    assert!(
        stderr.contains("which plugins.allowed_sha256 does not list"),
        "{stderr}"
    );
}

/// A failure mode of a plugin and what the error must say.
struct Fault {
    importer: &'static str,
    file: &'static str,
    content: &'static [u8],
    expected: &'static str,
    /// Survivable in-process too (a crash is not).
    in_process: bool,
}

const FAULTS: &[Fault] = &[
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"panic-value\n",
        expected: "panicked while reading the file: invalid type: string \"…\", expected u32",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: br#"{"kind":"record","source_ref":{"file":"p.ndjson","sheet":null,"row":1,"column":null},"record":{"type":"35202-1234567-1"}}"#,
        expected: "batch 1, line 1: unknown record type \"(not a type name)\"",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: br#"{"kind":"log","level":"info","message":"x","35202-1234567-1":true}"#,
        expected: "batch 1, line 1: invalid item: unknown field `…`",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"panic-open\n",
        expected: "plugin misbehaving (libmisbehaving_plugin.so) panicked while opening the file: \
                   open panics on request (at ",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"panic-next\n",
        expected: "plugin misbehaving (libmisbehaving_plugin.so) panicked while reading the file: \
                   next_batch panics on request",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"segfault\n",
        expected: "plugin misbehaving (libmisbehaving_plugin.so) crashed: its process was killed \
                   by signal 11 (SIGSEGV, segmentation fault) while reading the file",
        in_process: false,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"abort\n",
        expected: "crashed: its process was killed by signal 6 (SIGABRT",
        in_process: false,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"stack-overflow\n",
        expected: "crashed: its process was killed by signal",
        in_process: false,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"hang-next\n",
        expected: "plugin misbehaving (libmisbehaving_plugin.so) did not answer within 2000 ms \
                   (plugins.timeout_ms) while reading the file",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"hang-open\n",
        expected: "did not answer within 2000 ms (plugins.timeout_ms) while opening the file",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"big-batch\n",
        expected: "above plugins.max_batch_bytes (500000)",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"flood\n",
        expected: "produced more than plugins.max_output_bytes (2000000 bytes) for one file",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"trickle\n",
        expected: "plugin misbehaving (libmisbehaving_plugin.so) was still reading after 1500 ms \
                   (plugins.max_import_ms); the import was stopped",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"undeclared\n",
        expected: "p.misbehave!R2: The importer misbehaving emitted a network record, which its \
                   manifest does not declare.",
        in_process: true,
    },
    Fault {
        importer: "misbehaving",
        file: "p.misbehave",
        content: b"invalid\n",
        expected: "p.misbehave!R3: [district] \"Atlantis\" is not a known district.",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: b"{\"kind\":\"log\",\"level\":\"info\",\"message\":\"fine\"}\n{\"kind\": \"record\", \"cnic\": \"35202-",
        expected: "plugin raw-ndjson (libraw_abi_plugin.so) returned output the hub cannot read: \
                   batch 1, line 2: not a JSON line",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: b"{\"kind\":\"log\",\"level\":\"info\",\"message\":\"caf\xe9\"}\n",
        expected: "returned output the hub cannot read: batch 1 is not valid UTF-8",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: br#"{"kind":"record","source_ref":{"file":"p.ndjson","sheet":null,"row":1,"column":null},"record":{"type":"spaceship","source_key":"S-1"}}"#,
        expected: "returned output the hub cannot read: batch 1, line 1: unknown record type \
                   \"spaceship\"",
        in_process: true,
    },
    Fault {
        importer: "raw-ndjson",
        file: "p.ndjson",
        content: br#"{"kind":"telemetry","data":1}"#,
        expected: "batch 1, line 1: unknown item kind \"telemetry\"",
        in_process: true,
    },
];

#[test]
fn every_fault_of_a_plugin_fails_its_import_and_changes_nothing() {
    for engine in engines() {
        every_fault_on(engine);
    }
}

fn every_fault_on(engine: Engine) {
    let db = TestDb::fresh(engine);
    let dir = misbehaving_folder();
    let before = fingerprint(&db);
    for isolation in ["process", "in-process"] {
        for fault in FAULTS
            .iter()
            .filter(|f| isolation == "process" || f.in_process)
        {
            let file = input(&db, fault.file, fault.content);
            let out = output(
                hub_with(&db, dir.path(), isolation)
                    .args(["import", "--importer", fault.importer])
                    .arg(&file),
            );
            let (stdout, stderr) = text(&out);
            let what = format!(
                "{engine}, {isolation}, {}",
                String::from_utf8_lossy(fault.content)
                    .lines()
                    .next()
                    .unwrap_or_default()
            );
            assert_eq!(out.status.code(), Some(1), "{what}: {stdout}{stderr}");
            assert!(
                stderr.contains(fault.expected),
                "{what}: missing {:?} in\n{stderr}",
                fault.expected
            );
            assert!(
                !stderr.contains("35202"),
                "{what}: personal data in\n{stderr}"
            );
            assert_eq!(fingerprint(&db), before, "{what}: the database changed");
        }
    }
    // The same plugins work when they behave.
    for isolation in ["process", "in-process"] {
        let file = input(&db, "good.misbehave", b"ok 4\n");
        let out = output(
            hub_with(&db, dir.path(), isolation)
                .arg("import")
                .arg(&file),
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{isolation}: {stdout}{stderr}");
        assert!(
            stdout.contains("importer misbehaving 0.1.0, source file-good"),
            "{stdout}"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) FROM organisation_source_records WHERE source_key LIKE 'M-%'"),
        4
    );
}

#[test]
fn a_plugin_writing_to_stdout_does_not_break_the_pipe() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        print_and_import(&db);
    }
}

fn print_and_import(db: &TestDb) {
    let dir = misbehaving_folder();
    let file = input(db, "print.misbehave", b"print\n");
    let out = output(
        hub_with(db, dir.path(), "process")
            .args(["import", "--importer", "misbehaving", "--json"])
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["totals"]["inserted"], 1);
}

const CLUSTERS: &str = "{ clusters { totalCount } }";

/// GraphQL still answers, with the seeded clusters.
fn still_answering(hub: &crate::support::RunningHub) {
    let (status, body) = post(hub, &json!({ "query": CLUSTERS }));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["clusters"]["totalCount"].as_i64().is_some(),
        "{body}"
    );
    let (status, _) = hub.get("/healthz");
    assert_eq!(status, 200);
}

#[test]
fn the_server_survives_every_plugin_fault_over_graphql() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let uploader = create_key(&db, "uploader", "curator", &[]);
        // Beside the misbehaving plugins, libraries refused at load: the server starts
        // without them.
        let dir = misbehaving_folder();
        for variant in ["abi_v99", "no_symbol", "bad_manifest"] {
            let library = raw_variant(variant);
            std::fs::copy(
                &library,
                dir.path().join(library_file(&format!("raw_{variant}"))),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join(library_file("garbage")), b"not a library").unwrap();
        for isolation in ["process", "in-process"] {
            let mut cmd = hub_with(&db, dir.path(), isolation);
            cmd.arg("serve");
            let mut server = spawn(cmd);
            still_answering(&server);
            for refused in ["libraw_abi_v99.so", "libraw_no_symbol.so", "libgarbage.so"] {
                assert!(
                    server
                        .stderr()
                        .contains(&format!("plugin {refused} refused")),
                    "{engine}, {isolation}: {}",
                    server.stderr()
                );
            }
            let before = fingerprint(&db);
            for fault in FAULTS
                .iter()
                .filter(|f| isolation == "process" || f.in_process)
            {
                let variables = json!({"importer": fault.importer, "source": "plugin-test"});
                let (status, body) = upload_with(
                    &server,
                    Some(&uploader),
                    fault.file,
                    fault.content,
                    &variables,
                    true,
                );
                let what = format!(
                    "{engine}, {isolation}, {}",
                    String::from_utf8_lossy(fault.content)
                        .lines()
                        .next()
                        .unwrap_or_default()
                );
                assert_eq!(status, 200, "{what}: {body}");
                let result = &body["data"]["importFile"];
                assert_eq!(result["status"], "FAILED", "{what}: {body}");
                // Row problems come back as issues: their message without the `file!R3: `.
                let expected = fault
                    .expected
                    .split_once(": ")
                    .filter(|(place, _)| place.contains("!R"))
                    .map_or(fault.expected, |(_, message)| message);
                let expected = expected
                    .strip_prefix('[')
                    .and_then(|rest| rest.split_once("] "))
                    .map_or(expected, |(_, message)| message);
                let said = format!("{} {}", result["error"], result["issues"]);
                assert!(
                    said.contains(&expected.replace('"', "\\\"")),
                    "{what}: missing {expected:?} in {said}"
                );
                assert_eq!(server.has_exited(), None, "{what}: the server died");
                still_answering(&server);
                assert_eq!(fingerprint(&db), before, "{what}: the database changed");
            }
            // Every child was stopped and reaped, whatever it did.
            assert_eq!(
                plugin_host_children(server.pid()),
                Vec::<u32>::new(),
                "{engine}, {isolation}: plugin-host children left behind"
            );
            // And a good file after all that.
            let variables =
                json!({"importer": "misbehaving", "source": format!("plugin-{isolation}")});
            let (_, body) = upload_with(
                &server,
                Some(&uploader),
                "good.misbehave",
                b"ok 2\n",
                &variables,
                true,
            );
            assert_eq!(
                body["data"]["importFile"]["status"], "APPLIED",
                "{engine}, {isolation}: {body}"
            );
            assert_eq!(body["data"]["importFile"]["inserted"], 2, "{body}");
            server.terminate(std::time::Duration::from_secs(10));
        }
    }
}

/// The example plugin's samples: the same twelve members as JSON and as XML.
fn chamber_sample(extension: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/chamber-directory/samples")
        .join(format!("scci_members_2024.{extension}"))
}

#[test]
fn the_chamber_directory_plugin_imports_into_the_demo_on_every_engine() {
    let chamber = library("chamber_directory");
    let dir = folder(&[(&library_file("chamber_directory"), &chamber)]);
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let uploader = create_key(&db, "uploader", "curator", &[]);
        let mut cmd = hub_with(&db, dir.path(), "process");
        cmd.arg("demo");
        let server = spawn(cmd);
        let firms = "SELECT count(*) FROM organisations WHERE kind = 'firm'";
        let before = db.count(firms);

        // Picked by sniffing, run in a child process, through the same pipeline.
        let out = output(
            hub_with(&db, dir.path(), "process")
                .args(["import", "--source", "scci-directory", "--json"])
                .arg(chamber_sample("json")),
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{engine}: {stdout}{stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["importer"], "chamber-directory", "{report}");
        assert_eq!(report["rows_read"], 12, "{report}");
        assert_eq!(
            report["by_kind"]["organisation"]["inserted"], 12,
            "{report}"
        );
        assert_eq!(
            report["by_kind"]["cluster_membership"]["inserted"], 11,
            "{report}"
        );
        // Two members carry the NTNs of firms the demo registry holds: linked, not new.
        assert_eq!(db.count(firms), before + 10, "{engine}");

        let query = r#"{ firmByIdentifier(scheme: "PK-NTN", value: "8501501-1") {
            name sourceRecords { nodes { source } } clusters { nodes { slug } } } }"#;
        let (_, body) = post_as(&server, Some(&uploader), &json!({ "query": query }));
        let firm = &body["data"]["firmByIdentifier"];
        let mut sources: Vec<&str> = firm["sourceRecords"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{engine}: {body}"))
            .iter()
            .map(|n| n["source"].as_str().unwrap())
            .collect();
        sources.sort_unstable();
        // The registry's and the directory's records, beside what the demo's survey and
        // attendance lists said about the same firm.
        assert_eq!(
            sources,
            [
                "cdi-survey-2023",
                "cdi-training",
                "psic-punjab",
                "scci-directory"
            ],
            "{engine}: {body}"
        );
        assert!(
            firm["clusters"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["slug"] == "sialkot-surgical"),
            "{engine}: {body}"
        );

        // The XML edition holds the same members: in-process this time, nothing changes.
        let out = output(
            hub_with(&db, dir.path(), "in-process")
                .args(["import", "--source", "scci-directory", "--json"])
                .arg(chamber_sample("xml")),
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["status"], "applied", "{engine}: {report}");
        assert_eq!(report["totals"]["inserted"], 0, "{engine}: {report}");
        assert_eq!(report["totals"]["updated"], 0, "{engine}: {report}");
        assert_eq!(report["totals"]["unchanged"], 23, "{engine}: {report}");

        // And over GraphQL, as another chamber's source.
        let xml = std::fs::read(chamber_sample("xml")).unwrap();
        let variables = json!({"source": "scci-2", "importer": "chamber-directory"});
        let (_, body) = upload_with(&server, Some(&uploader), "scci.xml", &xml, &variables, true);
        let result = &body["data"]["importFile"];
        assert_eq!(result["status"], "APPLIED", "{engine}: {body}");
        assert_eq!(result["importer"], "chamber-directory", "{body}");
        assert_eq!(
            db.count(firms),
            before + 10,
            "{engine}: linked by NTN again"
        );
        server.terminate(std::time::Duration::from_secs(10));
    }
}

#[test]
fn a_plugin_child_sees_none_of_the_hub_configuration() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    // The hub itself runs with HUB__DATABASE__URL, HUB__PLUGINS__* and more set.
    let file = input(&db, "env.misbehave", b"env\n");
    let out = output(
        hub_with(&db, dir.path(), "process")
            .args(["import", "--importer", "misbehaving"])
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
}

#[test]
fn a_plugin_failing_to_sniff_is_passed_over() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let file = input(&db, "x.misbehave", b"sniff-panic\n");
    for isolation in ["process", "in-process"] {
        let out = output(
            hub_with(&db, dir.path(), isolation)
                .arg("import")
                .arg(&file),
        );
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{isolation}: {stdout}{stderr}");
        assert!(
            stderr.contains("plugin misbehaving (libmisbehaving_plugin.so) failed to sniff a file"),
            "{isolation}: {stderr}"
        );
        assert!(
            stderr.contains("x.misbehave: no importer recognises this file"),
            "{isolation}: {stderr}"
        );
    }
}

#[test]
fn plugins_check_warns_of_an_installed_plugin_with_the_same_id() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let candidate = db.data_path().join("libmisbehaving_v2.so");
    std::fs::copy(library("misbehaving_plugin"), &candidate).unwrap();
    let check = |path: &Path| {
        let out = output(
            hub(&db)
                .env("HUB__PLUGINS__DIR", dir.path())
                .args(["plugins", "check"])
                .arg(path),
        );
        (out.status.code(), text(&out).0)
    };
    let (code, stdout) = check(&candidate);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "warn id: the installed plugin libmisbehaving_plugin.so has the same id: installed \
             beside it, both would be refused; replace it instead"
        ),
        "{stdout}"
    );
    // The installed library itself is not its own twin.
    let (code, stdout) = check(&dir.path().join("libmisbehaving_plugin.so"));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("ok   id: unique"), "{stdout}");
}

/// The `hub plugin-host` children of a process still alive.
fn plugin_host_children(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid …: the fields after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains("plugin-host") {
            children.push(pid);
        }
    }
    children
}

#[test]
fn a_plugin_hanging_in_sniff_is_not_asked_again() {
    let db = TestDb::fresh(Engine::Sqlite);
    let uploader = create_key(&db, "uploader", "curator", &[]);
    let dir = misbehaving_folder();
    for isolation in ["process", "in-process"] {
        let mut cmd = hub_with(&db, dir.path(), isolation);
        cmd.arg("serve");
        let server = spawn(cmd);
        for _ in 0..2 {
            let variables = json!({"source": "sniffing"});
            let (_, body) = upload_with(
                &server,
                Some(&uploader),
                "x.misbehave",
                b"sniff-hang\n",
                &variables,
                true,
            );
            let result = &body["data"]["importFile"];
            assert_eq!(result["status"], "FAILED", "{isolation}: {body}");
            assert!(
                result["error"]
                    .as_str()
                    .unwrap()
                    .contains("no importer recognises this file"),
                "{isolation}: {body}"
            );
        }
        still_answering(&server);
        let log = server.stderr();
        assert_eq!(
            log.matches("plugin misbehaving (libmisbehaving_plugin.so) failed to sniff a file")
                .count(),
            1,
            "{isolation}: asked twice:\n{log}"
        );
        assert!(
            log.contains("it is not asked to sniff again until the hub restarts"),
            "{isolation}: {log}"
        );
        // Still there by its id.
        let variables = json!({"source": "sniffing", "importer": "misbehaving"});
        let (_, body) = upload_with(
            &server,
            Some(&uploader),
            "ok.misbehave",
            b"ok 1\n",
            &variables,
            true,
        );
        assert_eq!(
            body["data"]["importFile"]["status"], "APPLIED",
            "{isolation}: {body}"
        );
        server.terminate(std::time::Duration::from_secs(10));
    }
}

#[test]
fn a_file_name_that_is_not_utf8_reaches_the_plugin_unchanged() {
    use std::os::unix::ffi::OsStrExt as _;
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.misbehave");
    let file = db.data_path().join(name);
    std::fs::write(&file, b"ok 2\n").unwrap();
    for isolation in ["process", "in-process"] {
        let out = output(
            hub_with(&db, dir.path(), isolation)
                .args(["import", "--importer", "misbehaving", "--source", isolation])
                .arg(&file),
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{isolation}: {stdout}{stderr}");
    }
}

/// The ids of the processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so read after its last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn a_plugin_child_dies_with_a_killed_hub() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let file = input(&db, "hang.misbehave", b"hang-next\n");
    let mut cmd = hub_with(&db, dir.path(), "process");
    cmd.env("HUB__PLUGINS__TIMEOUT_MS", "60000")
        .env("HUB__PLUGINS__MAX_IMPORT_MS", "60000")
        .args(["import", "--importer", "misbehaving"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut hub_process = cmd.spawn().unwrap();
    let hub_pid = hub_process.id();
    // The plugin host starts for the import, sends a first batch and hangs. Hosts of
    // shorter calls (loading the plugin's description) come and go before it: the one
    // wanted is still alive half a second after it was seen.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let plugin_host = loop {
        let hosts: Vec<u32> = children_of(hub_pid)
            .into_iter()
            .filter(|c| {
                std::fs::read(format!("/proc/{c}/cmdline"))
                    .map(|cmd| String::from_utf8_lossy(&cmd).contains("plugin-host"))
                    .unwrap_or(false)
            })
            .collect();
        if !hosts.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if let Some(host) = hosts.into_iter().find(|h| alive(*h)) {
                break host;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no plugin host stayed up for the import"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    hub_process.kill().unwrap(); // SIGKILL: no destructor, no clean-up of the hub runs.
    hub_process.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(plugin_host) {
        assert!(
            std::time::Instant::now() < deadline,
            "the plugin host {plugin_host} outlived the hub killed with SIGKILL"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn an_in_process_plugin_that_prints_leaves_the_json_report_clean() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let file = input(&db, "print.misbehave", b"print\n");
    let out = output(
        hub_with(&db, dir.path(), "in-process")
            .args(["import", "--importer", "misbehaving", "--json"])
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON report ({e}):\n{stdout}"));
    assert_eq!(report["status"], "applied");
}

/// A check changes nothing anywhere: without a database it says how to make one, and
/// creates neither a database nor a CNIC key (nor does `hub serve`).
#[test]
fn plugins_check_never_creates_a_database_or_a_key() {
    let dir = crate::support::session::tempdir("no-database-");
    let data = dir.path().join("data");
    let file = dir.path().join("three.misbehave");
    std::fs::write(&file, b"ok 3\n").unwrap();
    let out = output(
        crate::support::hub_bare()
            .current_dir(dir.path())
            .env("HUB__DATA_DIR", &data)
            .args(["plugins", "check"])
            .arg(library("misbehaving_plugin"))
            .arg("--input")
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("hub.sqlite does not exist") && stderr.contains("hub migrate"),
        "{stdout}{stderr}"
    );
    let out = output(
        crate::support::hub_bare()
            .current_dir(dir.path())
            .env("HUB__DATA_DIR", &data)
            .env("HUB__SERVER__BIND", "127.0.0.1:0")
            .arg("serve"),
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("hub migrate"), "{stderr}");
    for created in [data.join("hub.sqlite"), data.join("cnic.key")] {
        assert!(!created.exists(), "{} was created", created.display());
    }
    assert!(
        !dir.path().join("data").exists() && !dir.path().join("hub.sqlite").exists(),
        "nothing created in the working directory"
    );
}

/// A mapping is checked against the importer's options schema before the importer runs: a
/// plugin that declares no options refuses a mapping with any, and the spreadsheet importer
/// refuses keys its schema does not have, each naming what is wrong; the database is
/// unchanged. The hub's own keys (`source`, `importer`) pass.
#[test]
fn mappings_are_checked_against_the_importers_options() {
    let db = TestDb::fresh(Engine::Sqlite);
    let dir = misbehaving_folder();
    let file = input(&db, "three.misbehave", b"ok 3\n");
    let before = fingerprint(&db);
    let mapping = input(
        &db,
        "firms.toml",
        b"source = \"chamber\"\n[[sheets]]\ntarget = \"firms\"\n",
    );
    let out = output(
        hub_with(&db, dir.path(), "process")
            .args(["import", "--importer", "misbehaving", "--mapping"])
            .arg(&mapping)
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("the importer misbehaving takes no options") && stderr.contains("sheets"),
        "{stderr}"
    );
    assert_eq!(fingerprint(&db), before);
    // The hub's own keys alone are fine.
    let only_source = input(&db, "source.toml", b"source = \"chamber\"\n");
    let out = output(
        hub_with(&db, dir.path(), "process")
            .args(["import", "--importer", "misbehaving", "--mapping"])
            .arg(&only_source)
            .arg(&file),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");

    // A built-in importer's schema: the registry importer takes no `sheets`.
    let csv = input(&db, "units.csv", b"Name,District\nA,Lahore\n");
    let out = output(
        hub_with(&db, dir.path(), "process")
            .args(["import", "--importer", "psic-punjab-units", "--mapping"])
            .arg(&mapping)
            .arg(&csv),
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("does not fit the options of the importer psic-punjab-units"),
        "{stderr}"
    );
}

/// The supported way to depend on the SDK from a plugin of one's own: a crate outside this
/// workspace, depending on the SDK by path (a checkout of the hub's release, or the same
/// tree as a git dependency), builds, and the hub loads what it built. The example plugin
/// is copied out of the tree with a manifest of its own, as an author would start.
#[test]
fn the_example_plugin_builds_out_of_tree_against_the_sdk() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = crate::support::session::tempdir("out-of-tree-");
    let krate = dir.path().join("my-chamber-plugin");
    let example = workspace.join("plugins/chamber-directory");
    for sub in ["src", "samples"] {
        std::fs::create_dir_all(krate.join(sub)).unwrap();
        for entry in std::fs::read_dir(example.join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), krate.join(sub).join(entry.file_name())).unwrap();
        }
    }
    let sdk = workspace.join("plugins/sdk");
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-chamber-plugin\"\nversion = \"1.0.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nhub-plugin-sdk = {{ path = {:?} }}\nserde_json = \"1\"\n\
             quick-xml = {{ version = \"0.42\", default-features = false }}\n\n\
             # Not a member of any workspace above it.\n[workspace]\n",
            sdk.display().to_string()
        ),
    )
    .unwrap();
    // The hub's lock file pins the same versions the hub was tested with.
    std::fs::copy(workspace.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let target = workspace.join("target/blackbox-out-of-tree");
    let out = Command::new(env!("CARGO"))
        .arg("build")
        .arg("--offline")
        .arg("--manifest-path")
        .arg(krate.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the out-of-tree plugin builds:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let library = target.join("debug").join(library_file("my_chamber_plugin"));
    let db = TestDb::fresh(Engine::Sqlite);
    let out = output(hub(&db).args(["plugins", "check"]).arg(&library));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("ok   ABI version: 1"), "{stdout}");
    assert!(stdout.contains("result: ok"), "{stdout}");
}
