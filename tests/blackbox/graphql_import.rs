//! `importFile` over HTTP, on every engine: real multipart requests (GraphQL multipart
//! request spec) built by hand, the CSRF header, the curator role it needs, the upload
//! limit, and the run as `importRuns` shows it afterwards.

use serde_json::{Value, json};

use crate::support::{RunningHub, TestDb, create_key, engines, hub, spawn};

/// The preferred GraphQL response media type.
const GRJ: &str = "application/graphql-response+json";

/// A firm list as cluster teams keep them.
const FIRMS: &str = "Survey ID,Name of Unit,District,NTN No.,Total Employees\r\n\
    UP-001,Sialkot Surgical Works,Sialkot,9900001-1,45\r\n\
    UP-002,Lahore Leather House,Lahore,9900002-2,120\r\n\
    UP-003,Precision Instruments,Sialkot,9900003-3,18\r\n";

/// The same with an NTN that is no NTN on its second data row (row 3 of the file).
const BAD_NTN: &str = "Survey ID,Name of Unit,District,NTN No.,Total Employees\r\n\
    UP-101,Good Firm,Lahore,9900101-1,10\r\n\
    UP-102,Bad Number Firm,Sialkot,12,20\r\n\
    UP-103,Another Firm,Lahore,9900103-3,30\r\n";

const IMPORT: &str = "mutation Import($file: Upload!, $source: String, $importer: String) { \
    importFile(file: $file, source: $source, importer: $importer) { runId status importer source file sha256 \
    rowsRead rejected inserted updated unchanged byKind { kind inserted updated unchanged } \
    error issuesTotal issues { severity file sheet row column field code message } } }";

const BOUNDARY: &str = "hub-blackbox-3f9a1c";

/// A GraphQL multipart request: `operations` (the query, `$file` null, the other
/// `variables`), `map` (part `0` to `variables.file`), then the file.
fn multipart_body(file_name: &str, content: &[u8], variables: &Value) -> Vec<u8> {
    let mut variables = variables.clone();
    variables["file"] = Value::Null;
    let operations = json!({
        "query": IMPORT,
        "variables": variables,
    });
    let mut body = Vec::new();
    let mut text_part = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    text_part("operations", &operations.to_string());
    text_part("map", r#"{"0": ["variables.file"]}"#);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// POSTs an upload of `content` as `file_name` under the source `test-upload` with the
/// bearer credential `auth`; `preflight` adds the CSRF header. Returns the status and the
/// body as JSON.
fn upload(
    hub: &RunningHub,
    auth: Option<&str>,
    file_name: &str,
    content: &[u8],
    preflight: bool,
) -> (u16, Value) {
    let variables = json!({"source": "test-upload"});
    upload_with(hub, auth, file_name, content, &variables, preflight)
}

/// POSTs an `importFile` of `content` as `file_name` with these variables (`source`,
/// `importer`) and the bearer credential `auth`.
pub(crate) fn upload_with(
    hub: &RunningHub,
    auth: Option<&str>,
    file_name: &str,
    content: &[u8],
    variables: &Value,
    preflight: bool,
) -> (u16, Value) {
    let url = hub.url("/graphql");
    let mut request = hub.agent().post(&url).header("Accept", GRJ).header(
        "Content-Type",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if preflight {
        request = request.header("GraphQL-Require-Preflight", "1");
    }
    if let Some(auth) = auth {
        request = request.header("Authorization", &format!("Bearer {auth}"));
    }
    let mut response = request
        .send(&multipart_body(file_name, content, variables)[..])
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .expect("reading the body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: not JSON ({e}): {text}"));
    (status, json)
}

/// POSTs a JSON GraphQL request.
pub(crate) fn post(hub: &RunningHub, request: &Value) -> (u16, Value) {
    post_as(hub, None, request)
}

/// POSTs a JSON GraphQL request with the bearer credential `auth`.
pub(crate) fn post_as(hub: &RunningHub, auth: Option<&str>, request: &Value) -> (u16, Value) {
    let url = hub.url("/graphql");
    let mut request_builder = hub
        .agent()
        .post(&url)
        .header("Accept", GRJ)
        .header("Content-Type", "application/json");
    if let Some(auth) = auth {
        request_builder = request_builder.header("Authorization", &format!("Bearer {auth}"));
    }
    let mut response = request_builder
        .send(request.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .expect("reading the body");
    (status, serde_json::from_str(&text).unwrap())
}

/// The `extensions.code` of the first error.
fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {body}"))
}

/// Row counts of what an import writes, and the change counter.
fn fingerprint(db: &TestDb) -> String {
    db.query_scalar(
        "SELECT (SELECT last_seq FROM change_counter) || ',' || \
         (SELECT count(*) FROM organisations) || ',' || \
         (SELECT count(*) FROM organisation_source_records) || ',' || \
         (SELECT count(*) FROM organisation_identifiers) || ',' || \
         (SELECT count(*) FROM import_runs) || ',' || \
         (SELECT count(*) FROM import_row_errors)",
    )
}

#[test]
fn import_file_over_multipart_on_every_engine() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let curator = create_key(&db, "uploader", "curator", &[]);
        let auth = Some(curator.as_str());
        let mut cmd = hub(&db);
        cmd.arg("serve")
            .env("HUB__GRAPHQL__MAX_UPLOAD_BYTES", "8192");
        let hub = spawn(cmd);

        // Without the CSRF header: 400, nothing read.
        let before = fingerprint(&db);
        let (status, body) = upload(&hub, auth, "firms.csv", FIRMS.as_bytes(), false);
        assert_eq!(status, 400, "{engine}: {body}");
        assert_eq!(code(&body), "BAD_REQUEST", "{engine}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("GraphQL-Require-Preflight"),
            "{engine}: {body}"
        );
        assert_eq!(fingerprint(&db), before, "{engine}");

        // Over graphql.max_upload_bytes: 413.
        let big = format!("{FIRMS}{}", "x".repeat(10_000));
        let (status, body) = upload(&hub, auth, "firms.csv", big.as_bytes(), true);
        assert_eq!(status, 413, "{engine}: {body}");
        assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{engine}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("graphql.max_upload_bytes"),
            "{engine}: {body}"
        );

        // The upload: applied.
        let (status, body) = upload(&hub, auth, "firms.csv", FIRMS.as_bytes(), true);
        assert_eq!(status, 200, "{engine}: {body}");
        assert!(body.get("errors").is_none(), "{engine}: {body}");
        let r = &body["data"]["importFile"];
        assert_eq!(r["status"], "APPLIED", "{engine}: {r}");
        assert_eq!(r["importer"], "spreadsheet", "{engine}: {r}");
        assert_eq!(r["source"], "test-upload", "{engine}: {r}");
        assert_eq!(r["file"], "firms.csv", "{engine}: {r}");
        assert_eq!(r["rowsRead"], 3, "{engine}: {r}");
        let inserted = r["inserted"].as_i64().unwrap();
        assert!(inserted > 0, "{engine}: {r}");
        let run_id = r["runId"].as_str().expect("an applied run has an id");
        assert_eq!(
            db.query_scalar("SELECT count(*) FROM organisations"),
            "3",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT file_name || '|' || status || '|' || triggered_by FROM import_runs \
                 WHERE triggered_by = 'graphql'"
            ),
            "firms.csv|applied|graphql",
            "{engine}"
        );

        // importRuns shows the run with its counts.
        let (status, runs) = post_as(
            &hub,
            auth,
            &json!({"query": "{ importRuns(filter: {importer: {eq: \"spreadsheet\"}}) { totalCount nodes { id status fileName fileSha256 rowsRead inserted updated unchanged rejected } } }"}),
        );
        assert_eq!(status, 200, "{engine}: {runs}");
        let runs = &runs["data"]["importRuns"];
        assert_eq!(runs["totalCount"], 1, "{engine}: {runs}");
        let run = &runs["nodes"][0];
        assert_eq!(run["id"], run_id, "{engine}: {run}");
        assert_eq!(run["status"], "applied", "{engine}: {run}");
        assert_eq!(run["fileName"], "firms.csv", "{engine}: {run}");
        assert_eq!(run["fileSha256"], r["sha256"], "{engine}: {run}");
        for (field, expected) in [
            ("rowsRead", &r["rowsRead"]),
            ("inserted", &r["inserted"]),
            ("updated", &r["updated"]),
            ("unchanged", &r["unchanged"]),
            ("rejected", &r["rejected"]),
        ] {
            assert_eq!(&run[field], expected, "{engine}: {field}: {run}");
        }

        // The same file again: nothing inserted or updated.
        let (status, body) = upload(&hub, auth, "firms.csv", FIRMS.as_bytes(), true);
        assert_eq!(status, 200, "{engine}: {body}");
        let r = &body["data"]["importFile"];
        assert_eq!(r["status"], "APPLIED", "{engine}: {r}");
        assert_eq!(
            (&r["inserted"], &r["updated"]),
            (&json!(0), &json!(0)),
            "{engine}: {r}"
        );

        // A rejected row: FAILED, the issue names file, row and field; nothing written.
        let before = fingerprint(&db);
        let (status, body) = upload(&hub, auth, "bad-ntn.csv", BAD_NTN.as_bytes(), true);
        assert_eq!(status, 200, "{engine}: {body}");
        let r = &body["data"]["importFile"];
        assert_eq!(r["status"], "FAILED", "{engine}: {r}");
        assert_eq!(r["runId"], Value::Null, "{engine}: {r}");
        let issue = &r["issues"][0];
        assert_eq!(issue["file"], "bad-ntn.csv", "{engine}: {r}");
        assert_eq!(issue["row"], 3, "{engine}: {r}");
        assert!(
            issue["field"]
                .as_str()
                .is_some_and(|f| f.to_lowercase().contains("ntn")),
            "{engine}: {r}"
        );
        assert_eq!(fingerprint(&db), before, "{engine}");

        // Mutations are never run over GET.
        let url = hub.url("/graphql");
        let response = hub
            .agent()
            .get(&url)
            .header("Accept", GRJ)
            .query("query", IMPORT)
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{engine}");
    }
}

#[test]
fn import_file_needs_a_curator_or_an_admin_on_every_engine() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let analyst = create_key(&db, "reader", "analyst", &["--pii"]);
        let admin = create_key(&db, "root", "admin", &[]);
        let mut cmd = hub(&db);
        cmd.arg("serve");
        let hub = spawn(cmd);
        let before = fingerprint(&db);

        // Without credentials, and with an analyst's key: refused before the body is read.
        for (who, auth) in [("public", None), ("analyst", Some(analyst.as_str()))] {
            let (status, body) = upload(&hub, auth, "firms.csv", FIRMS.as_bytes(), true);
            assert_eq!(status, 403, "{engine}, {who}: {body}");
            assert_eq!(code(&body), "FORBIDDEN", "{engine}, {who}: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("curator or admin role")
                    && message.contains(&format!("the {who} role")),
                "{engine}: {message}"
            );

            // So is the mutation itself, sent as JSON.
            let (status, body) = post_as(
                &hub,
                auth,
                &json!({"query": IMPORT, "variables": {"file": "#__graphql_file__:0"}}),
            );
            assert_eq!(status, 200, "{engine}, {who}: {body}");
            assert_eq!(body["data"], Value::Null, "{engine}, {who}: {body}");
            assert_eq!(code(&body), "FORBIDDEN", "{engine}, {who}: {body}");
        }
        assert_eq!(fingerprint(&db), before, "{engine}");
        // The attempts are in the audit trail, under who made them and what they tried.
        assert_eq!(
            db.query(
                "SELECT actor || ' ' || detail FROM audit_events WHERE kind = 'access.denied' \
                 ORDER BY id"
            )
            .lines()
            .map(|l| l.replace(' ', ""))
            .collect::<Vec<_>>(),
            [
                r#"anonymous{"reason":"fileupload"}"#,
                r#"anonymous{"reason":"importFile"}"#,
                r#"key:reader{"reason":"fileupload"}"#,
                r#"key:reader{"reason":"importFile"}"#,
            ],
            "{engine}"
        );

        // An admin may import.
        let (status, body) = upload(&hub, Some(&admin), "firms.csv", FIRMS.as_bytes(), true);
        assert_eq!(status, 200, "{engine}: {body}");
        assert_eq!(
            body["data"]["importFile"]["status"], "APPLIED",
            "{engine}: {body}"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT count(*) FROM audit_events WHERE kind = 'import' AND actor = 'key:root'"
            ),
            "1",
            "{engine}"
        );
    }
}
