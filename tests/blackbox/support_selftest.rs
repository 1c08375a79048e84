//! Tests of the black-box harness itself (no `hub` binary needed).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{self, Engine, TestDb, db, pg, session};

#[test]
fn engines_start_with_sqlite_and_follow_the_postgres_binaries() {
    let engines = support::engines();
    assert_eq!(engines.first(), Some(&Engine::Sqlite));
    assert_eq!(
        engines.contains(&Engine::Postgres),
        pg::find_bin_dir().is_some(),
        "{engines:?}"
    );
    if std::env::var(support::REQUIRE_PG_ENV).as_deref() == Ok("1") {
        assert!(engines.contains(&Engine::Postgres));
    }
    assert_eq!(Engine::Sqlite.name(), "sqlite");
    assert_eq!(Engine::Postgres.to_string(), "postgres");
}

#[test]
fn engine_decision_skips_or_fails_without_postgres() {
    let dir = PathBuf::from("/usr/lib/postgresql/15/bin");
    let both = vec![Engine::Sqlite, Engine::Postgres];
    assert_eq!(support::decide_engines(Some(&dir), false), Ok(both.clone()));
    assert_eq!(support::decide_engines(Some(&dir), true), Ok(both));
    assert_eq!(
        support::decide_engines(None, false),
        Ok(vec![Engine::Sqlite])
    );
    let err = support::decide_engines(None, true).unwrap_err();
    assert!(err.contains("HUB_TEST_REQUIRE_PG=1"), "{err}");
}

#[test]
fn scratch_directory_is_shared_and_temporary_dirs_live_inside() {
    let root = session::root();
    assert!(root.is_dir());
    assert!(
        root.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(session::PREFIX)
    );
    let owner = std::fs::read_to_string(root.join("owner.pid")).unwrap();
    assert_eq!(owner, std::process::id().to_string());
    let dir = session::tempdir("x-");
    assert!(dir.path().starts_with(root));
    let path = dir.path().to_path_buf();
    drop(dir);
    assert!(!path.exists());
}

fn postgres_available() -> bool {
    support::engines().contains(&Engine::Postgres)
}

#[test]
fn postgres_cluster_answers_select_1() {
    if !postgres_available() {
        return;
    }
    let cluster = pg::cluster();
    assert_eq!(cluster.psql("postgres", "SELECT 1"), "1");
    assert_eq!(cluster.psql("postgres", "SHOW fsync"), "off");
    assert_eq!(cluster.psql("postgres", "SHOW server_encoding"), "UTF8");
    assert!(
        cluster
            .url("x")
            .starts_with("postgres://postgres@127.0.0.1:")
    );
    // The same cluster for every caller.
    assert!(std::ptr::eq(cluster, pg::cluster()));
}

#[test]
fn postgres_databases_from_a_template_are_independent_copies() {
    if !postgres_available() {
        return;
    }
    let cluster = pg::cluster();
    let template = "selftest_template";
    cluster.create_database(template, None).unwrap();
    cluster
        .psql(
            template,
            "CREATE TABLE person (id int PRIMARY KEY, name text NOT NULL);
             INSERT INTO person VALUES (1, 'Ada'), (2, 'Grace');",
        )
        .to_string();
    let a = TestDb::copy_of_pg(template);
    let b = TestDb::copy_of_pg(template);
    assert_ne!(a.url, b.url);
    assert_eq!(a.query_scalar("SELECT count(*) FROM person"), "2");
    a.psql("INSERT INTO person VALUES (3, 'Barbara')");
    assert_eq!(a.query_scalar("SELECT count(*) FROM person"), "3");
    assert_eq!(b.query_scalar("SELECT count(*) FROM person"), "2");
    assert_eq!(
        b.query("SELECT id, name FROM person ORDER BY id"),
        "1|Ada\n2|Grace"
    );

    // Dropping a TestDb drops its database.
    let name = a.pg_database().unwrap().to_string();
    drop(a);
    let left = cluster.psql(
        "postgres",
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
    );
    assert_eq!(left, "0");
    drop(b);
    cluster.drop_database(template).unwrap();
}

#[test]
fn empty_databases_are_writable_on_every_engine() {
    for engine in support::engines() {
        let db = TestDb::empty(engine);
        assert_eq!(db.engine, engine);
        let env = db.env();
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        assert_eq!(get("HUB__DATABASE__URL"), Some(db.url.clone()));
        assert_eq!(
            get("HUB__DATA_DIR").map(PathBuf::from),
            Some(db.data_path().to_path_buf())
        );
        assert_eq!(
            get("HUB__SECURITY__CNIC_KEY").as_deref(),
            Some(support::TEST_CNIC_KEY)
        );
        assert_eq!(support::TEST_CNIC_KEY.len(), 64);
        match engine {
            Engine::Sqlite => {
                let file = db.sqlite_path().unwrap();
                assert!(!file.exists());
                assert_eq!(db.url, format!("sqlite://{}?mode=rwc", file.display()));
            }
            Engine::Postgres => assert!(db.url.starts_with("postgres://")),
        }
        assert!(db.try_query("SELECT count(*) FROM t").is_err(), "{engine}");
        db.query("CREATE TABLE t (x integer, y text); INSERT INTO t VALUES (42, NULL), (7, 'b')");
        assert_eq!(
            db.query_scalar("SELECT x FROM t WHERE x = 42"),
            "42",
            "{engine}"
        );
        assert_eq!(
            db.query("SELECT x, y FROM t ORDER BY x"),
            "7|b\n42|",
            "{engine}"
        );
    }
}

#[test]
fn sqlite_copies_of_a_template_are_independent() {
    let template = session::tempdir("selftest-template-");
    let file = template.path().join(db::SQLITE_FILE);
    db::sqlite3(
        &file,
        "PRAGMA journal_mode=WAL; CREATE TABLE t (x integer); INSERT INTO t VALUES (1);",
    )
    .unwrap();
    std::fs::write(template.path().join("note.txt"), "copied too").unwrap();
    std::fs::write(template.path().join("hub.sqlite-shm"), "not copied").unwrap();
    let a = TestDb::copy_of_sqlite(template.path());
    let b = TestDb::copy_of_sqlite(template.path());
    assert_ne!(a.data_path(), b.data_path());
    assert!(a.data_path().join("note.txt").is_file());
    assert!(!a.data_path().join("hub.sqlite-shm").exists());
    a.query("INSERT INTO t VALUES (2)");
    assert_eq!(a.query_scalar("SELECT count(*) FROM t"), "2");
    assert_eq!(b.query_scalar("SELECT count(*) FROM t"), "1");
    let dir = a.data_path().to_path_buf();
    drop(a);
    assert!(!dir.exists());
}

/// A tiny HTTP server: `GET /hello` → 200 text, `POST /echo` → 201 with the JSON body
/// echoed, anything else → 404 JSON.
fn fake_http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    port
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let (status, content_type, body) =
        match request_line.split_whitespace().take(2).collect::<Vec<_>>()[..] {
            ["GET", "/hello"] => ("200 OK", "text/plain", b"hello".to_vec()),
            ["POST", "/echo"] => ("201 Created", "application/json", body),
            _ => (
                "404 Not Found",
                "application/json",
                br#"{"error":"nope"}"#.to_vec(),
            ),
        };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
}

/// A stand-in for `hub serve`: prints the listening line for `port`, logs to stderr, sleeps.
fn fake_hub(port: u16) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(format!(
        "echo starting; echo 'some log line' >&2; echo 'hub: listening on http://127.0.0.1:{port}'; exec sleep 600"
    ));
    cmd
}

fn process_exists(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[test]
fn spawn_waits_for_the_listening_line_and_speaks_http() {
    let port = fake_http_server();
    let hub = support::spawn(fake_hub(port));
    assert_eq!(hub.base_url, format!("http://127.0.0.1:{port}"));
    assert_eq!(hub.get("/hello"), (200, "hello".to_string()));
    assert_eq!(hub.get_json("/missing"), (404, json!({"error": "nope"})));
    let body = json!({"query": "{ persons { id } }", "n": [1, 2]});
    assert_eq!(hub.post_json("/echo", &body), (201, body.clone()));
    assert!(hub.stdout().contains("starting\n"));
    // stderr is drained concurrently; give it a moment.
    for _ in 0..100 {
        if hub.stderr().contains("some log line") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(hub.stderr().contains("some log line"), "{:?}", hub.stderr());

    let pid = hub.pid();
    assert!(session::root().join("pids").join(pid.to_string()).exists());
    drop(hub);
    assert!(!process_exists(pid), "child {pid} still running after drop");
    assert!(!session::root().join("pids").join(pid.to_string()).exists());
}

#[test]
fn terminate_stops_the_child_with_sigterm() {
    let port = fake_http_server();
    let hub = support::spawn(fake_hub(port));
    let pid = hub.pid();
    let status = hub
        .terminate(Duration::from_secs(10))
        .expect("exits on SIGTERM");
    assert!(!status.success());
    assert!(!process_exists(pid));
}

#[test]
#[should_panic(expected = "database is on fire")]
fn spawn_reports_the_stderr_of_a_child_that_exits_early() {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg("echo 'database is on fire' >&2; exit 3");
    support::spawn(cmd);
}

#[test]
#[should_panic(expected = "printed no `hub: listening on ...` within")]
fn spawn_times_out_without_the_listening_line() {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg("echo 'not yet'; exec sleep 600");
    support::spawn_with_timeout(cmd, Duration::from_millis(500));
}

#[test]
fn output_runs_commands_with_a_timeout() {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg("echo out; echo err >&2; exit 4");
    let out = support::output(&mut cmd);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");

    let mut slow = Command::new("sleep");
    slow.arg("600");
    let err = support::process::try_output(&mut slow, Duration::from_millis(300)).unwrap_err();
    assert!(err.contains("did not finish"), "{err}");
}

#[test]
fn hub_commands_carry_the_database_configuration() {
    let db = TestDb::empty(Engine::Sqlite);
    let cmd = support::hub(&db);
    assert_eq!(cmd.get_program(), support::hub_path().as_os_str());
    let envs: Vec<(String, Option<String>)> = cmd
        .get_envs()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    for (key, value) in db.env() {
        assert!(
            envs.contains(&(key.clone(), Some(value))),
            "{key} missing: {envs:?}"
        );
    }
    assert!(envs.contains(&("HUB__LOG__FILTER".into(), Some("warn".into()))));
    assert!(envs.contains(&("HUB__SERVER__BIND".into(), Some("127.0.0.1:0".into()))));
    assert_eq!(cmd.get_current_dir(), Some(db.data_path()));
}
