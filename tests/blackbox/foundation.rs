//! The foundation through the command line and HTTP: migrations and reference data on both
//! engines, `hub demo`, `hub serve`, configuration layering, the CNIC key, admin areas.

use std::fs;

use crate::support::{self, Engine, TEST_CNIC_KEY, TestDb, engines, hub, hub_bare, output, spawn};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn migrate(db: &TestDb) -> std::process::Output {
    output(hub(db).arg("migrate"))
}

#[test]
fn migrations_and_reference_data_load_on_every_engine_and_are_idempotent() {
    for engine in engines() {
        let db = TestDb::empty(engine);
        let first = migrate(&db);
        assert!(
            first.status.success(),
            "{engine}: migrate failed: {}",
            stderr(&first)
        );
        assert!(
            stdout(&first).contains("up to date"),
            "{engine}: {}",
            stdout(&first)
        );

        // The whole model is there, the same tables on both engines.
        let tables = db.query(match engine {
            Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> 'seaql_migrations' ORDER BY name"
            }
            Engine::Postgres => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' \
                 AND table_type = 'BASE TABLE' AND table_name <> 'seaql_migrations' \
                 ORDER BY table_name"
            }
        });
        let mut expected = hub_schema::migration::table_names();
        expected.sort_unstable();
        assert_eq!(
            tables.lines().collect::<Vec<_>>(),
            expected,
            "{engine}: tables of the model"
        );
        assert!(expected.len() > 40);
        // And the views for BI tools.
        let views = db.query(match engine {
            Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name",
            Engine::Postgres => {
                "SELECT table_name FROM information_schema.views WHERE table_schema = 'public' \
                 ORDER BY table_name"
            }
        });
        let mut expected_views = hub_schema::migration::BI_VIEWS.to_vec();
        expected_views.sort_unstable();
        assert_eq!(
            views.lines().collect::<Vec<_>>(),
            expected_views,
            "{engine}: views"
        );

        // Reference data: HS revisions, concordance, ISIC, countries, admin areas.
        let count = |sql: &str| db.query_scalar(sql).parse::<i64>().unwrap();
        let hs = |rev: &str| {
            count(&format!(
                "SELECT count(*) FROM classification_codes c JOIN classifications k ON k.id = c.classification_id \
                 WHERE k.code = '{rev}'"
            ))
        };
        assert_eq!(hs("HS2012"), 6530, "{engine}");
        assert_eq!(hs("HS2017"), 6709, "{engine}");
        assert_eq!(hs("HS2022"), 6940, "{engine}");
        // The older revisions Comtrade serves years before 2012 in (H0 to H3).
        assert_eq!(hs("HS1992"), 6382, "{engine}");
        assert_eq!(hs("HS1996"), 6475, "{engine}");
        assert_eq!(hs("HS2002"), 6570, "{engine}");
        assert_eq!(hs("HS2007"), 6374, "{engine}");
        // Clinical waste (3825.30) came out of syringes and needles (9018.31) in HS 2002.
        assert_eq!(
            db.query_scalar(
                "SELECT f.code || '>' || t.code || ':' || c.from_code || '>' || c.to_code \
                 FROM code_concordances c JOIN classifications f ON f.id = c.from_classification_id \
                 JOIN classifications t ON t.id = c.to_classification_id \
                 WHERE c.to_code = '382530' AND c.from_code = '901831'"
            ),
            "HS1996>HS2002:901831>382530"
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM classification_codes c JOIN classifications k ON k.id = c.classification_id \
                 WHERE k.code = 'ISIC-R4' AND c.level = 4"
            ),
            419
        );
        // 8708.22 was split out of 8708.29 in HS 2022.
        assert_eq!(
            db.query_scalar(
                "SELECT f.code || '>' || t.code || ':' || c.from_code || '>' || c.to_code || ':' || c.relationship \
                 FROM code_concordances c JOIN classifications f ON f.id = c.from_classification_id \
                 JOIN classifications t ON t.id = c.to_classification_id WHERE c.to_code = '870822'"
            ),
            "HS2017>HS2022:870829>870822:n:1"
        );
        // Comtrade codes are not M49: the USA is 842, and both 586 and 588 are Pakistan.
        assert_eq!(
            db.query_scalar(
                "SELECT c.iso3 FROM comtrade_areas a JOIN countries c ON c.id = a.country_id WHERE a.code = 842"
            ),
            "USA"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT count(DISTINCT c.iso3) FROM comtrade_areas a JOIN countries c ON c.id = a.country_id \
                 WHERE a.code IN (586, 588)"
            ),
            "1"
        );
        // Punjab: 36 districts before 2022, 41 after, the new ones with their former parent.
        let punjab_districts = |when: &str| {
            count(&format!(
                "SELECT count(*) FROM admin_areas d JOIN admin_areas v ON v.id = d.parent_id \
                 JOIN admin_areas p ON p.id = v.parent_id WHERE d.level = 'district' AND p.name = 'Punjab' \
                 AND (d.valid_from IS NULL OR d.valid_from <= '{when}') AND (d.valid_to IS NULL OR d.valid_to >= '{when}')"
            ))
        };
        assert_eq!(punjab_districts("2021-06-30"), 36, "{engine}");
        assert_eq!(punjab_districts("2024-06-30"), 41, "{engine}");
        assert_eq!(
            db.query(
                "SELECT d.name || '<' || f.name FROM admin_areas d JOIN admin_areas f ON f.id = d.former_parent_id \
                 ORDER BY d.name"
            )
            .lines()
            .collect::<Vec<_>>(),
            [
                "Kot Addu<Muzaffargarh",
                "Murree<Rawalpindi",
                "Talagang<Chakwal",
                "Taunsa<Dera Ghazi Khan",
                "Wazirabad<Gujranwala"
            ]
        );
        // Names are normalised: trimmed and title case, misspellings corrected.
        assert_eq!(
            count("SELECT count(*) FROM admin_areas WHERE name <> trim(name)"),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM admin_areas WHERE level = 'district' AND name = 'SIALKOT'"),
            0
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM admin_areas WHERE level = 'district' AND name = 'Sargodha'"
            ),
            1
        );
        assert_eq!(
            db.query_scalar(
                "SELECT iso_code FROM admin_areas WHERE level = 'province' AND name = 'Punjab'"
            ),
            "PK-PB"
        );
        // Every reference row has provenance and its own change number.
        assert_eq!(
            count("SELECT count(*) FROM admin_areas WHERE import_run_id IS NULL OR change_seq = 0"),
            0
        );
        let seq = db.query_scalar("SELECT last_seq FROM change_counter");
        assert_eq!(
            count("SELECT count(DISTINCT change_seq) FROM classification_codes"),
            count("SELECT count(*) FROM classification_codes")
        );

        // A second run changes nothing.
        let second = migrate(&db);
        assert!(
            second.status.success(),
            "{engine}: second migrate failed: {}",
            stderr(&second)
        );
        assert_eq!(
            db.query_scalar("SELECT last_seq FROM change_counter"),
            seq,
            "{engine}: second run wrote"
        );
        assert_eq!(
            db.query_scalar("SELECT count(*) FROM import_runs"),
            "1",
            "{engine}"
        );
    }
}

#[test]
fn demo_creates_its_database_and_serves_health_and_readiness() {
    let dir = support::session::tempdir("demo-");
    let data_dir = dir.path().join("fresh").join("data");
    let mut cmd = hub_bare();
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--bind")
        .arg("127.0.0.1:0");
    let running = spawn(cmd);
    let (status, body) = running.get("/healthz");
    assert_eq!(status, 200, "{body}");
    let (status, ready) = running.get_json("/readyz");
    assert_eq!(status, 200);
    assert_eq!(ready["database"], "ok");
    assert!(
        data_dir.join("hub.sqlite").exists(),
        "the SQLite file is created under the data dir"
    );
    assert!(
        data_dir.join("cnic.key").exists(),
        "a CNIC key is generated on first run"
    );
    assert!(
        running.stdout().contains("hub: loaded the demo dataset"),
        "{}",
        running.stdout()
    );
    let (status, _) = running.get("/no-such-page");
    assert_eq!(status, 404);
}

/// What the demo dataset holds, as counts that must agree across engines.
const DEMO_COUNTS: &[(&str, &str)] = &[
    (
        "firms",
        "SELECT count(*) FROM organisations WHERE kind = 'firm'",
    ),
    (
        "agencies",
        "SELECT count(*) FROM organisations WHERE kind <> 'firm'",
    ),
    (
        "source records",
        "SELECT count(*) FROM organisation_source_records",
    ),
    (
        "unlinked source records",
        "SELECT count(*) FROM organisation_source_records WHERE organisation_id IS NULL",
    ),
    (
        "firms in two sources",
        "SELECT count(*) FROM (SELECT organisation_id FROM organisation_source_records GROUP BY organisation_id HAVING count(DISTINCT source_id) > 1) x",
    ),
    ("persons", "SELECT count(*) FROM persons"),
    ("clusters", "SELECT count(*) FROM clusters"),
    ("networks", "SELECT count(*) FROM networks"),
    ("training events", "SELECT count(*) FROM training_events"),
    ("participations", "SELECT count(*) FROM participations"),
    ("indicator values", "SELECT count(*) FROM indicator_values"),
    ("trade flows", "SELECT count(*) FROM trade_flows"),
    (
        "rows without provenance",
        "SELECT (SELECT count(*) FROM organisations WHERE import_run_id IS NULL OR change_seq = 0) + (SELECT count(*) FROM trade_flows WHERE import_run_id IS NULL OR change_seq = 0)",
    ),
    ("row errors", "SELECT count(*) FROM import_row_errors"),
];

#[test]
fn the_demo_dataset_loads_the_same_on_every_engine_and_only_once() {
    let mut per_engine = Vec::new();
    for engine in engines() {
        let db = TestDb::empty(engine);
        let running = spawn({
            let mut c = hub(&db);
            c.arg("demo");
            c
        });
        assert_eq!(running.get("/readyz").0, 200, "{engine}");
        drop(running);
        let counts: Vec<(String, i64)> = DEMO_COUNTS
            .iter()
            .map(|(name, sql)| (name.to_string(), db.query_scalar(sql).parse().unwrap()))
            .collect();
        let get = |name: &str| counts.iter().find(|(n, _)| n == name).unwrap().1;
        // About 300 firms over the clusters' districts, some of them in two sources.
        assert!((250..=350).contains(&get("firms")), "{engine}: {counts:?}");
        assert!(get("firms in two sources") >= 50, "{engine}: {counts:?}");
        assert_eq!(get("unlinked source records"), 0, "{engine}");
        assert_eq!(get("clusters"), 4, "{engine}");
        assert!(get("training events") >= 20, "{engine}");
        assert!(
            get("participations") > get("training events") * 5,
            "{engine}"
        );
        assert!(get("networks") >= 3, "{engine}");
        assert_eq!(get("rows without provenance"), 0, "{engine}");
        assert_eq!(get("row errors"), 0, "{engine}");
        // Trade: Pakistan's total exports to the World for every year 2017-2024, and the
        // clusters' largest market mapped through Comtrade code 842.
        assert_eq!(
            db.query(
                "SELECT DISTINCT substr(CAST(t.period_start AS TEXT), 1, 4) FROM trade_flows t \
                 JOIN countries r ON r.id = t.reporter_id JOIN countries p ON p.id = t.partner_id \
                 WHERE t.commodity_code = 'TOTAL' AND r.iso3 = 'PAK' AND p.iso3 = 'W00' AND t.flow = 'export' \
                 ORDER BY 1"
            )
            .lines()
            .collect::<Vec<_>>(),
            ["2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024"],
            "{engine}"
        );
        assert!(
            db.query_scalar(
                "SELECT count(*) FROM trade_flows t JOIN countries p ON p.id = t.partner_id \
                 WHERE p.iso3 = 'USA' AND t.hs4 = '9018'"
            )
            .parse::<i64>()
            .unwrap()
                >= 8,
            "{engine}"
        );
        // Personal data: CNICs only as keyed hashes.
        assert_eq!(
            db.query_scalar(
                "SELECT count(*) FROM organisation_identifiers WHERE scheme = 'PK-CNIC' AND (is_hashed = false OR length(value) <> 64)"
            ),
            "0",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar("SELECT count(*) FROM persons WHERE cnic_hash IS NOT NULL AND length(cnic_hash) <> 64"),
            "0",
            "{engine}"
        );

        // A second start loads nothing.
        let seq = db.query_scalar("SELECT last_seq FROM change_counter");
        let running = spawn({
            let mut c = hub(&db);
            c.arg("demo");
            c
        });
        assert!(
            running.stdout().contains("already loaded"),
            "{engine}: {}",
            running.stdout()
        );
        drop(running);
        assert_eq!(
            db.query_scalar("SELECT last_seq FROM change_counter"),
            seq,
            "{engine}"
        );
        per_engine.push((engine, counts));
    }
    // SQLite and PostgreSQL hold the same data.
    if let [(_, a), (_, b)] = per_engine.as_slice() {
        assert_eq!(a, b, "the demo differs between engines");
    }
}

#[test]
fn serve_answers_on_every_engine_and_refuses_an_unmigrated_database() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let running = spawn({
            let mut c = hub(&db);
            c.arg("serve");
            c
        });
        assert_eq!(running.get("/healthz").0, 200, "{engine}");
        assert_eq!(running.get_json("/readyz").1["status"], "ok", "{engine}");
        drop(running);

        let empty = TestDb::empty(engine);
        let out = output(hub(&empty).arg("serve"));
        assert!(
            !out.status.success(),
            "{engine}: serve on an unmigrated database must fail"
        );
        assert!(
            stderr(&out).contains("hub migrate"),
            "{engine}: {}",
            stderr(&out)
        );

        // A database one migration behind (as an older hub left it) is refused too,
        // naming the migration; recorded again, the database is served.
        let behind = TestDb::fresh(engine);
        let (last, applied_at) = {
            let row = behind.query_scalar(
                "SELECT version || '|' || applied_at FROM seaql_migrations ORDER BY version DESC LIMIT 1",
            );
            let (v, a) = row.split_once('|').expect("version|applied_at");
            (v.to_owned(), a.to_owned())
        };
        behind.query(&format!(
            "DELETE FROM seaql_migrations WHERE version = '{last}'"
        ));
        let out = output(hub(&behind).arg("serve"));
        assert!(!out.status.success(), "{engine}: served an older schema");
        let text = stderr(&out);
        assert!(
            text.contains(&last) && text.contains("run `hub migrate`"),
            "{engine}: {text}"
        );
        behind.query(&format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{last}', {applied_at})"
        ));
        let running = spawn({
            let mut c = hub(&behind);
            c.arg("serve");
            c
        });
        assert_eq!(running.get("/healthz").0, 200, "{engine}");
    }
}

#[test]
fn configuration_layers_environment_over_file_over_defaults() {
    let dir = support::session::tempdir("config-");
    let file = dir.path().join("custom.toml");
    fs::write(
        &file,
        "[server]\nbind = \"0.0.0.0:9000\"\nworkers = 3\n[log]\nfilter = \"debug\"\n[size_classes]\nsmall_from = 11\n",
    )
    .unwrap();
    let out = output(
        hub_bare()
            .arg("--config")
            .arg(&file)
            .arg("config")
            .env_remove("HUB__LOG__FILTER")
            .env("HUB__SERVER__BIND", "127.0.0.1:7000")
            .env("HUB__DATA_DIR", "/srv/hub"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let effective: toml::Table = toml::from_str(&text).expect("hub config prints TOML");
    // Environment beats the file.
    assert_eq!(effective["server"]["bind"].as_str(), Some("127.0.0.1:7000"));
    assert_eq!(effective["data_dir"].as_str(), Some("/srv/hub"));
    // The file beats the defaults.
    assert_eq!(effective["server"]["workers"].as_integer(), Some(3));
    assert_eq!(effective["log"]["filter"].as_str(), Some("debug"));
    assert_eq!(
        effective["size_classes"]["small_from"].as_integer(),
        Some(11)
    );
    // Defaults fill the rest. SQLite's pool: two connections per core and two more, at
    // most 10 (the hub's own cores run SQLite's statements).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as i64;
    assert_eq!(
        effective["database"]["max_connections"].as_integer(),
        Some((2 * cores + 2).min(10))
    );
    assert_eq!(
        effective["size_classes"]["large_from"].as_integer(),
        Some(250)
    );
    assert_eq!(effective["database"]["engine"].as_str(), Some("sqlite"));

    // Without --config, hub.toml in the working directory is read.
    fs::write(
        dir.path().join("hub.toml"),
        "[server]\nbind = \"127.0.0.1:7777\"\n",
    )
    .unwrap();
    let out = output(hub_bare().arg("config").current_dir(dir.path()));
    let effective: toml::Table = toml::from_str(&stdout(&out)).unwrap();
    assert_eq!(effective["server"]["bind"].as_str(), Some("127.0.0.1:7777"));

    // PostgreSQL's pool defaults to 10 connections; a number set wins on either engine.
    let pool = |env: &[(&str, &str)]| {
        let out = output(hub_bare().arg("config").envs(env.iter().copied()));
        assert!(out.status.success(), "{}", stderr(&out));
        let effective: toml::Table = toml::from_str(&stdout(&out)).unwrap();
        effective["database"]["max_connections"].as_integer()
    };
    let pg = ("HUB__DATABASE__URL", "postgres://hub@127.0.0.1:5432/hub");
    assert_eq!(pool(&[pg]), Some(10));
    assert_eq!(
        pool(&[pg, ("HUB__DATABASE__MAX_CONNECTIONS", "3")]),
        Some(3)
    );
    assert_eq!(pool(&[("HUB__DATABASE__MAX_CONNECTIONS", "3")]), Some(3));

    // A missing --config file and an invalid value are errors that say what is wrong.
    let out = output(
        hub_bare()
            .arg("--config")
            .arg(dir.path().join("missing.toml"))
            .arg("config"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing.toml"), "{}", stderr(&out));
    let out = output(
        hub_bare()
            .arg("config")
            .env("HUB__SIZE_CLASSES__SMALL_FROM", "500"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("size"), "{}", stderr(&out));
}

#[test]
fn secrets_are_never_printed() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let mut outputs = Vec::new();
        // `hub config` shows that secrets are set, never what they are.
        let out = output(hub(&db).arg("config"));
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains("cnic_key = \"[redacted]\""), "{text}");
        assert!(text.contains("url = \"[redacted]\""), "{text}");
        outputs.push(out);
        // Neither do logs at their most verbose.
        outputs.push(output(
            hub(&db).arg("migrate").env("HUB__LOG__FILTER", "trace"),
        ));
        outputs.push(output(
            hub(&db)
                .arg("migrate")
                .env("RUST_LOG", "trace")
                .env("HUB__LOG__FORMAT", "json"),
        ));
        for out in &outputs {
            for text in [stdout(out), stderr(out)] {
                assert!(
                    !text.contains(TEST_CNIC_KEY),
                    "{engine}: the CNIC key was printed"
                );
                assert!(
                    !text.to_lowercase().contains(&TEST_CNIC_KEY[..24]),
                    "{engine}: part of the key was printed"
                );
            }
        }
    }
    // On SQLite without a configured key, the generated key file's content is not printed.
    let db = TestDb::empty(Engine::Sqlite);
    let out = output(
        hub(&db)
            .arg("migrate")
            .env_remove("HUB__SECURITY__CNIC_KEY")
            .env("RUST_LOG", "trace"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = fs::read_to_string(db.data_path().join("cnic.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    assert!(!stdout(&out).contains(key.trim()) && !stderr(&out).contains(key.trim()));
}

#[test]
fn a_database_refuses_another_cnic_key_and_postgres_requires_one() {
    let other_key = "0123456789abcdef".repeat(4);
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let out = output(
            hub(&db)
                .arg("migrate")
                .env("HUB__SECURITY__CNIC_KEY", &other_key),
        );
        assert!(
            !out.status.success(),
            "{engine}: another key must be refused"
        );
        let err = stderr(&out);
        assert!(err.contains("fingerprint"), "{engine}: {err}");
        assert!(
            !err.contains(&other_key) && !err.contains(TEST_CNIC_KEY),
            "{engine}: a key was printed"
        );
    }
    if engines().contains(&Engine::Postgres) {
        let db = TestDb::empty(Engine::Postgres);
        let out = output(
            hub(&db)
                .arg("migrate")
                .env_remove("HUB__SECURITY__CNIC_KEY"),
        );
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("security.cnic_key must be configured on PostgreSQL"),
            "{}",
            stderr(&out)
        );
    }
    // A placeholder key is no key.
    let db = TestDb::empty(Engine::Sqlite);
    let out = output(
        hub(&db)
            .arg("migrate")
            .env("HUB__SECURITY__CNIC_KEY", "0".repeat(64)),
    );
    assert!(!out.status.success());
}

#[test]
fn admin_area_import_adds_and_updates_and_rejects_bad_files_whole() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let dir = support::session::tempdir("areas-");
        let areas = |sql: &str| db.query_scalar(sql);
        let before = areas("SELECT count(*) FROM admin_areas");
        let seq = areas("SELECT last_seq FROM change_counter");

        // A bad row anywhere: an error naming the line and column, and nothing written.
        let bad = dir.path().join("bad.csv");
        fs::write(
            &bad,
            "province,division,district,tehsil,valid_from\nPunjab,Gujrat,Wazirabad,Alipur Chatha,2022-01-01\n\
             Punjab,Gujrat,,Wazirabad,2022-01-01\n",
        )
        .unwrap();
        let out = output(hub(&db).args(["admin-areas", "import"]).arg(&bad));
        assert!(!out.status.success(), "{engine}");
        let err = stderr(&out);
        assert!(
            err.contains("bad.csv") && err.contains("line 3") && err.contains("district"),
            "{engine}: {err}"
        );
        assert_eq!(
            areas("SELECT count(*) FROM admin_areas"),
            before,
            "{engine}: nothing written"
        );
        assert_eq!(
            areas("SELECT last_seq FROM change_counter"),
            seq,
            "{engine}"
        );

        // The official list adds the tehsils of a new district, in messy spelling.
        let good = dir.path().join("official.csv");
        fs::write(
            &good,
            "province,division,district,tehsil,valid_from,valid_to\n PUNJAB ,gujrat,WAZIRABAD,alipur chatha,2022-01-01,\n\
             Punjab,Gujrat,Wazirabad,Wazirabad,2022-01-01,\n",
        )
        .unwrap();
        let out = output(hub(&db).args(["admin-areas", "import"]).arg(&good));
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("2 inserted"),
            "{engine}: {}",
            stdout(&out)
        );
        assert_eq!(
            db.query(
                "SELECT t.name FROM admin_areas t JOIN admin_areas d ON d.id = t.parent_id \
                 WHERE d.name = 'Wazirabad' AND d.level = 'district' ORDER BY t.name"
            )
            .lines()
            .collect::<Vec<_>>(),
            ["Alipur Chatha", "Wazirabad"]
        );
        // Again: nothing new.
        let out = output(hub(&db).args(["admin-areas", "import"]).arg(&good));
        assert!(
            stdout(&out).contains("0 inserted, 0 updated"),
            "{engine}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn readiness_fails_while_the_database_is_gone_and_liveness_does_not() {
    if !engines().contains(&Engine::Postgres) {
        return;
    }
    let db = TestDb::fresh(Engine::Postgres);
    let running = spawn({
        let mut c = hub(&db);
        c.arg("serve");
        c
    });
    assert_eq!(running.get("/readyz").0, 200);
    support::pg::cluster()
        .drop_database(db.pg_database().unwrap())
        .expect("dropping the database under the server");
    let (status, body) = running.get_json("/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "unreachable");
    assert_eq!(
        running.get("/healthz").0,
        200,
        "the process itself still answers"
    );
}

#[test]
fn the_sql_log_shows_statements_but_never_personal_values() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = db.data_path().join("contacts.csv");
        fs::write(
            &file,
            "Name of Unit,District,Contact Person,Contact Phone,Contact Email,Contact CNIC\n\
             Zafar Surgical,Sialkot,Qamar Zaman Khan,0300-1234567,qamar.zaman@example.pk,35202-1234567-1\n",
        )
        .unwrap();
        let out = output(
            hub(&db)
                .arg("import")
                .arg(&file)
                .env("HUB__LOG__FILTER", "info,hub::sql=debug"),
        );
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        let log = stderr(&out);
        assert!(log.contains("INSERT INTO"), "{engine}: no SQL logged");
        assert!(log.contains("micros="), "{engine}: no timing");
        // The values as written and as normalised (a bare run of digits such as `35202` may
        // well be a statement's time in microseconds or a change number).
        for value in [
            "Qamar Zaman",
            "0300-1234567",
            "03001234567",
            "923001234567",
            "qamar.zaman",
            "35202-1234567",
            "3520212345671",
        ] {
            assert!(!log.contains(value), "{engine}: {value} reached the log");
        }
        // The values were written all the same.
        assert_eq!(
            db.count("SELECT count(*) FROM persons WHERE full_name = 'Qamar Zaman Khan' AND phone IS NOT NULL"),
            1,
            "{engine}"
        );
    }
}
