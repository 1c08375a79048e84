//! In-process checks of `importFile` on SQLite: off by default, then a firm list uploaded,
//! re-uploaded, dry-run and rejected. `tests/blackbox/graphql_import.rs` covers the same
//! through real multipart requests on both engines.

use std::sync::Arc;

use async_graphql::{Request, UploadValue, Variables};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use super::principal::{Principal, Role};
use super::test_support::data;
use super::{ImportSetup, attach_uploads, build_schema, prepare_request};
use crate::config::{GraphqlSettings, ImportSettings};

/// A firm list as cluster teams keep them.
const FIRMS: &str = "Survey ID,Name of Unit,District,NTN No.,Total Employees\n\
    UP-001,Sialkot Surgical Works,Sialkot,9900001-1,45\n\
    UP-002,Lahore Leather House,Lahore,9900002-2,120\n\
    UP-003,Precision Instruments,Sialkot,9900003-3,18\n";

/// The same with an NTN that is no NTN on its second data row (row 3 of the file).
const BAD_NTN: &str = "Survey ID,Name of Unit,District,NTN No.,Total Employees\n\
    UP-101,Good Firm,Lahore,9900101-1,10\n\
    UP-102,Bad Number Firm,Sialkot,12,20\n\
    UP-103,Another Firm,Lahore,9900103-3,30\n";

const IMPORT: &str = "mutation Import($file: Upload!, $source: String, $mapping: String, \
    $dryRun: Boolean! = false) { importFile(file: $file, source: $source, mapping: $mapping, \
    dryRun: $dryRun) { runId status importer importerVersion source file sha256 size dryRun \
    rowsRead rejected warnings inserted updated unchanged \
    byKind { kind inserted updated unchanged } error issuesTotal \
    issues { severity file sheet row column field code message } \
    importRun { id status fileName fileSha256 inserted rowsRead } } }";

/// A migrated SQLite database with the bundled reference data (admin areas), no demo data.
async fn reference_database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("i.sqlite").display()
    );
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(4);
    let db = Database::connect(options).await.unwrap();
    crate::db::migrate(&db).await.unwrap();
    crate::reference::load_bundled(&db).await.unwrap();
    (dir, db)
}

fn setup() -> Arc<ImportSetup> {
    Arc::new(ImportSetup {
        importers: crate::import::Importers::builtin(),
        key: hub_schema::domain::CnicKey::from_hex(&"0123456789abcdef".repeat(4)).unwrap(),
        sizes: Default::default(),
        settings: ImportSettings::default(),
    })
}

/// Runs `query` with `variables` on the hub's schema (with `imports`) over `db` as a
/// curator, with the files mapped to their variables as a multipart request maps them.
async fn run_with_files(
    db: &DatabaseConnection,
    imports: Option<Arc<ImportSetup>>,
    query: &str,
    variables: Value,
    files: &[(&str, &str, &str)],
) -> Value {
    let curator = Principal::with_role(Role::Curator);
    run_with_files_as(curator, db, imports, query, variables, files).await
}

/// [`run_with_files`] as `principal`.
async fn run_with_files_as(
    principal: Principal,
    db: &DatabaseConnection,
    imports: Option<Arc<ImportSetup>>,
    query: &str,
    variables: Value,
    files: &[(&str, &str, &str)],
) -> Value {
    let limits = GraphqlSettings::default();
    let schema = build_schema(Some(db.clone()), &limits, imports);
    let mut request = Request::new(query).variables(Variables::from_json(variables));
    for (path, name, content) in files {
        request.set_upload(
            path,
            UploadValue {
                filename: (*name).to_owned(),
                content_type: Some("text/csv".to_owned()),
                content: actix_web::web::Bytes::copy_from_slice(content.as_bytes()),
            },
        );
    }
    let response = prepare_request(attach_uploads(request), db, principal, &limits)
        .execute(&schema)
        .await;
    serde_json::to_value(response).unwrap()
}

/// Uploads `content` as `name` through `importFile` with `variables` (besides `file`).
async fn import(
    db: &DatabaseConnection,
    imports: Option<Arc<ImportSetup>>,
    name: &str,
    content: &str,
    mut variables: Value,
) -> Value {
    variables["file"] = Value::Null;
    run_with_files(
        db,
        imports,
        IMPORT,
        variables,
        &[("variables.file", name, content)],
    )
    .await
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by::<i64, _>("n").unwrap()
}

/// Import runs started over GraphQL (the bundled reference data has runs of its own).
async fn graphql_runs(db: &DatabaseConnection) -> i64 {
    count(db, "import_runs WHERE triggered_by = 'graphql'").await
}

/// The `extensions.code` of the first error.
fn first_code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_file_needs_a_curator() {
    let (_dir, db) = reference_database().await;
    for principal in [Principal::public(), Principal::with_role(Role::Analyst)] {
        let role = principal.role;
        let v = run_with_files_as(
            principal,
            &db,
            Some(setup()),
            IMPORT,
            json!({"source": "test-upload", "file": null}),
            &[("variables.file", "firms.csv", FIRMS)],
        )
        .await;
        assert_eq!(first_code(&v), "FORBIDDEN", "{role}: {v:#}");
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("curator role or higher")
                && message.contains(&format!("the {role} role")),
            "{message}"
        );
        assert_eq!(v["data"], Value::Null, "{v:#}");
    }
    assert_eq!(graphql_runs(&db).await, 0);
    assert_eq!(count(&db, "organisations").await, 0);
    assert_eq!(count(&db, "audit_events WHERE kind = 'import'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_firm_list_is_imported_once() {
    let (_dir, db) = reference_database().await;
    let imports = Some(setup());
    let vars = json!({"source": "test-upload"});

    // A dry run counts everything and writes nothing.
    let mut dry = vars.clone();
    dry["dryRun"] = json!(true);
    let v = import(&db, imports.clone(), "firms.csv", FIRMS, dry).await;
    let r = &data(&v)["importFile"];
    assert_eq!(r["status"], "DRY_RUN", "{r:#}");
    assert_eq!(r["dryRun"], true);
    assert!(r["inserted"].as_i64().unwrap() > 0, "{r:#}");
    assert_eq!(r["runId"], Value::Null);
    assert_eq!(r["importRun"], Value::Null);
    assert_eq!(count(&db, "organisations").await, 0);
    assert_eq!(count(&db, "organisation_source_records").await, 0);
    assert_eq!(graphql_runs(&db).await, 0);

    // Applied.
    let v = import(&db, imports.clone(), "firms.csv", FIRMS, vars.clone()).await;
    let r = &data(&v)["importFile"];
    assert_eq!(r["status"], "APPLIED", "{r:#}");
    assert_eq!(r["importer"], "spreadsheet");
    assert_eq!(r["source"], "test-upload");
    assert_eq!(r["file"], "firms.csv");
    assert_eq!(r["size"], FIRMS.len());
    assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(r["rowsRead"], 3, "{r:#}");
    assert_eq!(r["rejected"], 0);
    assert_eq!(r["error"], Value::Null);
    let inserted = r["inserted"].as_i64().unwrap();
    assert!(inserted > 0, "{r:#}");
    let by_kind: i64 = r["byKind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["inserted"].as_i64().unwrap())
        .sum();
    assert_eq!(by_kind, inserted, "{r:#}");
    assert!(
        r["byKind"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "organisation" && k["inserted"].as_i64().unwrap() > 0),
        "{r:#}"
    );
    let run_id = r["runId"].as_str().expect("an applied run has an id");
    assert_eq!(r["importRun"]["id"], run_id);
    assert_eq!(r["importRun"]["status"], "applied");
    assert_eq!(r["importRun"]["fileName"], "firms.csv");
    assert_eq!(r["importRun"]["fileSha256"], r["sha256"]);
    assert_eq!(r["importRun"]["inserted"], inserted);
    assert_eq!(count(&db, "organisations").await, 3);
    assert_eq!(graphql_runs(&db).await, 1);
    // The audit trail names who imported which run, and nothing of the file's content.
    assert_eq!(
        count(
            &db,
            "audit_events WHERE kind = 'import' AND actor = 'test:curator'"
        )
        .await,
        1
    );

    // The same file again changes nothing.
    let v = import(&db, imports.clone(), "firms.csv", FIRMS, vars.clone()).await;
    let r = &data(&v)["importFile"];
    assert_eq!(r["status"], "APPLIED", "{r:#}");
    assert_eq!(
        (&r["inserted"], &r["updated"]),
        (&json!(0), &json!(0)),
        "{r:#}"
    );
    assert!(r["unchanged"].as_i64().unwrap() > 0, "{r:#}");
    assert_ne!(r["runId"], run_id);
    assert_eq!(count(&db, "organisations").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_row_fails_the_upload_and_writes_nothing() {
    let (_dir, db) = reference_database().await;
    let before = count(&db, "organisations").await;
    let v = import(
        &db,
        Some(setup()),
        "bad-ntn.csv",
        BAD_NTN,
        json!({"source": "test-upload"}),
    )
    .await;
    let r = &data(&v)["importFile"];
    assert_eq!(r["status"], "FAILED", "{r:#}");
    assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r:#}");
    assert_eq!(r["rejected"], 1, "{r:#}");
    assert_eq!(r["runId"], Value::Null);
    let issue = &r["issues"][0];
    assert_eq!(issue["severity"], "error", "{r:#}");
    assert_eq!(issue["file"], "bad-ntn.csv", "{r:#}");
    assert_eq!(issue["row"], 3, "{r:#}");
    assert!(
        issue["field"]
            .as_str()
            .is_some_and(|f| f.to_lowercase().contains("ntn")),
        "{r:#}"
    );
    assert!(r["issuesTotal"].as_i64().unwrap() >= 1);
    // The value itself is not repeated back.
    assert!(!issue["message"].as_str().unwrap().contains("12,"), "{r:#}");
    assert_eq!(count(&db, "organisations").await, before);
    assert_eq!(count(&db, "organisation_source_records").await, 0);
    assert_eq!(graphql_runs(&db).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_are_input_errors() {
    let (_dir, db) = reference_database().await;
    let imports = Some(setup());

    // A mapping that is not TOML.
    let v = import(
        &db,
        imports.clone(),
        "firms.csv",
        FIRMS,
        json!({"mapping": "[[sheets]\ntarget = "}),
    )
    .await;
    assert_eq!(first_code(&v), "BAD_USER_INPUT", "{v:#}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mapping"),
        "{v:#}"
    );

    // An upload placeholder written by hand, without a file: an error, not a panic.
    for placeholder in ["#__graphql_file__:0", "#__graphql_file__:7"] {
        let v = run_with_files(
            &db,
            imports.clone(),
            IMPORT,
            json!({"file": placeholder}),
            &[],
        )
        .await;
        assert_eq!(first_code(&v), "BAD_USER_INPUT", "{v:#}");
    }
    // Any other value is no Upload: refused by validation.
    let v = run_with_files(
        &db,
        imports.clone(),
        IMPORT,
        json!({"file": "#__graphql_file__:nope"}),
        &[],
    )
    .await;
    assert_eq!(first_code(&v), "GRAPHQL_VALIDATION_FAILED", "{v:#}");
    let v = run_with_files(
        &db,
        imports,
        r#"mutation { importFile(file: "firms.csv") { status } }"#,
        json!({}),
        &[],
    )
    .await;
    assert_eq!(first_code(&v), "GRAPHQL_VALIDATION_FAILED", "{v:#}");
    assert_eq!(graphql_runs(&db).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_is_read_from_its_toml_text() {
    let (_dir, db) = reference_database().await;
    // Only the key and the name: the bad NTN is not read, and the mapping names the source.
    let mapping = "source = \"mapped-list\"\n\
        [[sheets]]\n\
        target = \"firms\"\n\
        [sheets.columns]\n\
        \"Survey ID\" = \"firm.source_key\"\n\
        \"Name of Unit\" = \"firm.name\"\n";
    let v = import(
        &db,
        Some(setup()),
        "bad-ntn.csv",
        BAD_NTN,
        json!({"mapping": mapping}),
    )
    .await;
    let r = &data(&v)["importFile"];
    assert_eq!(r["status"], "APPLIED", "{r:#}");
    assert_eq!(r["source"], "mapped-list", "{r:#}");
    assert_eq!(r["rejected"], 0, "{r:#}");
    assert_eq!(count(&db, "organisations").await, 3);
    assert_eq!(
        count(&db, "organisation_identifiers WHERE scheme = 'PK-NTN'").await,
        0
    );
}
