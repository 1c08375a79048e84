//! Record linkage of firms and curation, on every engine, through `hub import` and
//! GraphQL over HTTP: links by score and their evidence, the review queue, accept, reject
//! (remembered on re-import), merge and split round trips with the change feed, curated
//! values that outrank every source and conflicts of later imports, and never a link or a
//! merge across two values of one strong identifier scheme.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::graphql_import::post_as;
use crate::support::{RunningHub, TestDb, create_key, engines, hub, import_json, spawn};

/// A registry extract: unit numbers and NTNs, names as registered.
const REGISTRY: &str = "Record ID,Unit No,Name of Unit,District,Tehsil,NTN No.,Phone\n\
    R-1,SKT-0001,Ali Surgical Works (Pvt.) Ltd.,Sialkot,Sialkot,1234567-1,052-3251234\n\
    R-2,SKT-0002,Ali Surgical Instruments,Sialkot,Sialkot,2345678-2,052-3259999\n\
    R-3,SKT-0003,Bilal Leather Garments,Sialkot,Daska,3456789-3,\n\
    R-4,SKT-0004,Zafar Sports International,Sialkot,Sialkot,4567890-4,\n\
    R-5,SKT-0005,Cheema Cutlery House,Sialkot,Pasrur,5678901-5,\n";

/// A diagnostic survey: names as typed by enumerators, no unit numbers.
const SURVEY: &str = "Record ID,Name of Unit,District,Tehsil,NTN No.\n\
    S-1,ALI SURGCAL WORKS,Sialkot,Sialkot,\n\
    S-2,Bilal Leather Garments,Sialkot,Sambrial,\n\
    S-3,Ali Surgical Works,Sialkot,Sialkot,9999999-9\n\
    S-4,Cheema Cutlery House Pvt Ltd,Sialkot,Daska,\n\
    S-5,Zafar Sports Intl.,Sialkot,Sialkot,\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// The organisation a record of a source is linked to.
fn org_of(db: &TestDb, source: &str, key: &str) -> i64 {
    db.count(&format!(
        "SELECT r.organisation_id FROM organisation_source_records r JOIN sources s ON \
         s.id = r.source_id WHERE s.code = '{source}' AND r.source_key = '{key}'"
    ))
}

fn record_id(db: &TestDb, source: &str, key: &str) -> i64 {
    db.count(&format!(
        "SELECT r.id FROM organisation_source_records r JOIN sources s ON s.id = r.source_id \
         WHERE s.code = '{source}' AND r.source_key = '{key}'"
    ))
}

fn active_method(db: &TestDb, record: i64) -> String {
    db.query_scalar(&format!(
        "SELECT method FROM record_links WHERE entity_type = 'organisation' AND \
         source_record_id = {record} AND status = 'active'"
    ))
}

fn pending(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM match_reviews WHERE status = 'pending'")
}

fn live_firms(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM organisations WHERE kind = 'firm' AND merged_into_id IS NULL")
}

fn firm_gid(id: i64) -> String {
    gid("Firm", id)
}

fn gql(hub: &RunningHub, key: &str, query: &str, variables: Value) -> Value {
    let (status, body) = post_as(
        hub,
        Some(key),
        &json!({ "query": query, "variables": variables }),
    );
    assert_eq!(status, 200, "{body}");
    body
}

fn data(body: Value) -> Value {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {body}"))
        .to_owned()
}

const QUEUE: &str = "query($status: ReviewStatus!, $kind: ReviewKind) { \
    matchReviews(status: $status, kind: $kind) { totalCount nodes { id kind status score \
    evidence decidedBy record { id source name tehsil } recordFirm { id name } \
    candidate { id name } candidateRecord { source name } } } }";

#[test]
fn firms_link_by_name_and_place_and_curators_decide_the_rest_on_every_engine() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let dir = db.data_path().to_path_buf();
        let registry = write(&dir, "registry.csv", REGISTRY);
        let survey = write(&dir, "survey.csv", SURVEY);
        let (ok, report) = import_json(&db, &registry, &["--source", "psic-test"]);
        assert!(ok, "{engine}: {report:#}");
        let (ok, report) = import_json(&db, &survey, &["--source", "survey-test"]);
        assert!(ok, "{engine}: {report:#}");
        let linkage = &report["linkage"];
        assert_eq!(linkage["scored"], 5, "{engine}: {report:#}");

        // A typo, capitals and no legal form, same tehsil: linked automatically, by score,
        // with its evidence.
        let s1 = record_id(&db, "survey-test", "S-1");
        assert_eq!(
            org_of(&db, "survey-test", "S-1"),
            org_of(&db, "psic-test", "R-1"),
            "{engine}"
        );
        assert_eq!(active_method(&db, s1), "score", "{engine}");
        let evidence: Value = serde_json::from_str(&db.query_scalar(&format!(
            "SELECT evidence FROM record_links WHERE source_record_id = {s1} AND \
             entity_type = 'organisation'"
        )))
        .unwrap();
        assert_eq!(evidence["name"], "one_edit", "{engine}: {evidence}");
        assert_eq!(evidence["tehsil"], "agree", "{engine}: {evidence}");
        // The same name with another NTN: never linked, never proposed.
        let s3 = record_id(&db, "survey-test", "S-3");
        assert_eq!(active_method(&db, s3), "new", "{engine}");
        assert_ne!(
            org_of(&db, "survey-test", "S-3"),
            org_of(&db, "psic-test", "R-1"),
            "{engine}"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM match_reviews WHERE source_record_id = {s3}"
            )),
            0,
            "{engine}"
        );
        // An abbreviation: "Intl." is "International".
        assert_eq!(
            org_of(&db, "survey-test", "S-5"),
            org_of(&db, "psic-test", "R-4"),
            "{engine}"
        );
        // The same name in a neighbouring tehsil: a firm of its own, waiting for review
        // with the registry's firm as candidate.
        let s2 = record_id(&db, "survey-test", "S-2");
        assert_eq!(active_method(&db, s2), "new", "{engine}");
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT candidate_id FROM match_reviews WHERE source_record_id = {s2} AND \
                 status = 'pending'"
            )),
            org_of(&db, "psic-test", "R-3").to_string(),
            "{engine}"
        );
        let s4 = record_id(&db, "survey-test", "S-4");
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM match_reviews WHERE source_record_id = {s4} AND \
                 candidate_id = {}",
                org_of(&db, "psic-test", "R-5")
            )),
            1,
            "{engine}"
        );
        assert_eq!(pending(&db), 2, "{engine}");
        assert_eq!(linkage["linked"], 2, "{engine}: {report:#}");
        assert_eq!(linkage["queued"], 2, "{engine}: {report:#}");

        // Over GraphQL.
        let curator = create_key(&db, "curator", "curator", &[]);
        let analyst = create_key(&db, "analyst", "analyst", &[]);
        let mut cmd = hub(&db);
        cmd.arg("serve");
        let hub = spawn(cmd);
        let queue = data(gql(&hub, &curator, QUEUE, json!({"status": "PENDING"})));
        let nodes = queue["matchReviews"]["nodes"].as_array().unwrap().clone();
        assert_eq!(queue["matchReviews"]["totalCount"], 2, "{engine}: {queue}");
        let bilal = nodes
            .iter()
            .find(|n| n["record"]["name"] == "Bilal Leather Garments")
            .unwrap_or_else(|| panic!("{engine}: {queue}"))
            .clone();
        assert_eq!(bilal["kind"], "MATCH", "{engine}");
        assert_eq!(bilal["record"]["source"], "survey-test", "{engine}");
        assert_eq!(bilal["candidateRecord"]["source"], "psic-test", "{engine}");
        assert_eq!(
            bilal["candidate"]["name"], "Bilal Leather Garments",
            "{engine}"
        );
        assert_eq!(bilal["evidence"]["name"], "exact", "{engine}");
        assert_eq!(bilal["evidence"]["tehsil"], "disagree", "{engine}");
        let score = bilal["score"].as_f64().unwrap();
        assert!((0.6..0.97).contains(&score), "{engine}: {score}");
        // Analysts may neither see nor decide the queue.
        for (query, vars) in [
            (QUEUE, json!({"status": "PENDING"})),
            (
                "mutation($id: ID!) { acceptMatch(id: $id) { status } }",
                json!({"id": bilal["id"]}),
            ),
        ] {
            let body = gql(&hub, &analyst, query, vars);
            assert_eq!(error_code(&body), "FORBIDDEN", "{engine}: {body}");
        }
        assert_eq!(pending(&db), 2, "{engine}");

        // Reject: remembered, and not proposed again when the survey comes again.
        let rejected = data(gql(
            &hub,
            &curator,
            "mutation($id: ID!) { rejectMatch(id: $id) { status decidedBy } }",
            json!({"id": bilal["id"]}),
        ));
        assert_eq!(rejected["rejectMatch"]["status"], "REJECTED", "{engine}");
        assert_eq!(
            rejected["rejectMatch"]["decidedBy"], "key:curator",
            "{engine}"
        );
        let (ok, again) = import_json(&db, &survey, &["--source", "survey-test"]);
        assert!(ok, "{engine}: {again:#}");
        assert_eq!(again["totals"]["inserted"], 0, "{engine}: {again:#}");
        assert_eq!(again["totals"]["updated"], 0, "{engine}: {again:#}");
        assert_eq!(pending(&db), 1, "{engine}");
        assert_eq!(
            db.count("SELECT count(*) FROM match_reviews WHERE status = 'rejected'"),
            1,
            "{engine}"
        );

        // Accept: the record's firm is merged into the candidate, with a tombstone.
        let firms_before = live_firms(&db);
        let cheema = org_of(&db, "psic-test", "R-5");
        let cheema_survey_firm = org_of(&db, "survey-test", "S-4");
        let change_before = db.count("SELECT last_seq FROM change_counter");
        let cheema_review = nodes
            .iter()
            .find(|n| n["record"]["name"] == "Cheema Cutlery House Pvt Ltd")
            .unwrap()
            .clone();
        let accepted = data(gql(
            &hub,
            &curator,
            "mutation($id: ID!) { acceptMatch(id: $id) { status recordFirm { id } } }",
            json!({"id": cheema_review["id"]}),
        ));
        assert_eq!(accepted["acceptMatch"]["status"], "ACCEPTED", "{engine}");
        assert_eq!(
            accepted["acceptMatch"]["recordFirm"]["id"],
            firm_gid(cheema),
            "{engine}"
        );
        assert_eq!(org_of(&db, "survey-test", "S-4"), cheema, "{engine}");
        assert_eq!(live_firms(&db), firms_before - 1, "{engine}");
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT op || ' ' || merged_into_id FROM tombstones WHERE entity_type = \
                 'organisation' AND entity_id = {cheema_survey_firm}"
            )),
            format!("merge {cheema}"),
            "{engine}"
        );
        assert!(
            db.count(&format!(
                "SELECT min(change_seq) FROM tombstones WHERE entity_id = {cheema_survey_firm}"
            )) > change_before,
            "{engine}: the merge is in the change feed"
        );
        // A BI tool pulling since before the merge is told the firm is gone.
        let deleted = format!("{{\"_deleted\":true,\"id\":{cheema_survey_firm},");
        let (status, pulled) = hub.get(&format!("/datasets/firms.ndjson?since={change_before}"));
        assert_eq!(status, 200, "{engine}: {pulled}");
        assert!(pulled.contains(&deleted), "{engine}: {pulled}");
        let firm = data(gql(
            &hub,
            &curator,
            "query($id: ID!) { node(id: $id) { ... on Firm { name sourceRecords { nodes { \
             id source links { method rule status decidedBy } } } history { action actor \
             review } } } }",
            json!({"id": firm_gid(cheema)}),
        ));
        let records = firm["node"]["sourceRecords"]["nodes"].as_array().unwrap();
        assert_eq!(records.len(), 2, "{engine}: {firm}");
        let survey_record = records
            .iter()
            .find(|r| r["source"] == "survey-test")
            .unwrap();
        let links = survey_record["links"].as_array().unwrap();
        assert_eq!(
            links
                .iter()
                .map(|l| format!("{} {}", l["method"], l["status"]))
                .collect::<Vec<_>>(),
            ["\"new\" \"reverted\"", "\"manual\" \"active\""],
            "{engine}: {firm}"
        );
        let actions: Vec<&str> = firm["node"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["merge", "accept"], "{engine}: {firm}");

        // Split the record off again: its old firm comes back, with the record.
        let split = data(gql(
            &hub,
            &curator,
            "mutation($id: ID!, $records: [ID!]!) { splitFirm(id: $id, sourceRecords: \
             $records) { firm { id } restored { id name } created { id } } }",
            json!({"id": firm_gid(cheema), "records": [survey_record["id"]]}),
        ));
        assert_eq!(
            split["splitFirm"]["restored"][0]["id"],
            firm_gid(cheema_survey_firm),
            "{engine}: {split}"
        );
        assert!(split["splitFirm"]["created"].is_null(), "{engine}");
        assert_eq!(
            org_of(&db, "survey-test", "S-4"),
            cheema_survey_firm,
            "{engine}"
        );
        assert_eq!(live_firms(&db), firms_before, "{engine}");
        // ... and a BI tool pulling since before the merge gets the firm's row, and no
        // tombstone that would delete it after the row.
        let (status, pulled) = hub.get(&format!("/datasets/firms.ndjson?since={change_before}"));
        assert_eq!(status, 200, "{engine}: {pulled}");
        assert!(!pulled.contains(&deleted), "{engine}: {pulled}");
        assert!(
            pulled.contains(&format!("{{\"id\":{cheema_survey_firm},")),
            "{engine}: {pulled}"
        );

        // A record linked by score splits off to a new firm.
        let ali = org_of(&db, "psic-test", "R-1");
        let split = data(gql(
            &hub,
            &curator,
            "mutation($id: ID!, $records: [ID!]!) { splitFirm(id: $id, sourceRecords: \
             $records) { restored { id } created { id name } } }",
            json!({"id": firm_gid(ali), "records": [
                gid("SourceRecord", s1)
            ]}),
        ));
        let created = &split["splitFirm"]["created"];
        assert_eq!(created["name"], "Ali Surgcal Works", "{engine}: {split}");
        assert_ne!(org_of(&db, "survey-test", "S-1"), ali, "{engine}");
        assert_eq!(active_method(&db, s1), "manual", "{engine}");
        // ... and merges back.
        let merged = data(gql(
            &hub,
            &curator,
            "mutation($into: ID!, $from: ID!) { mergeFirms(into: $into, from: $from) { id } }",
            json!({"into": firm_gid(ali), "from": created["id"]}),
        ));
        assert_eq!(merged["mergeFirms"]["id"], firm_gid(ali), "{engine}");
        assert_eq!(org_of(&db, "survey-test", "S-1"), ali, "{engine}");

        // Two NTNs are never one firm, whatever a curator asks.
        let before = db.fingerprint(&[
            "organisations",
            "organisation_source_records",
            "record_links",
            "tombstones",
        ]);
        let other = org_of(&db, "psic-test", "R-2");
        let body = gql(
            &hub,
            &curator,
            "mutation($into: ID!, $from: ID!) { mergeFirms(into: $into, from: $from) { id } }",
            json!({"into": firm_gid(ali), "from": firm_gid(other)}),
        );
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{engine}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("NTN"), "{engine}: {message}");
        assert!(!message.contains("1234567"), "{engine}: {message}");
        let body = gql(
            &hub,
            &curator,
            "mutation($id: ID!) { addFirmIdentifier(id: $id, scheme: \"PK-NTN\", value: \
             \"2345678-2\") { id } }",
            json!({"id": firm_gid(ali)}),
        );
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{engine}: {body}");
        assert_eq!(
            db.fingerprint(&[
                "organisations",
                "organisation_source_records",
                "record_links",
                "tombstones",
            ]),
            before,
            "{engine}: a refused decision writes nothing"
        );

        // A curated name outranks every source; a later import with another name puts a
        // conflict in the queue, once, and leaves the name alone.
        let corrected = data(gql(
            &hub,
            &curator,
            "mutation($id: ID!) { correctFirm(id: $id, set: {name: \"Ali Surgical Works \
             International\", foundedYear: 1987}) { name foundedYear sourceRecords { nodes \
             { source name } } history { action field before after actor } } }",
            json!({"id": firm_gid(ali)}),
        ));
        let firm = &corrected["correctFirm"];
        assert_eq!(firm["name"], "Ali Surgical Works International", "{engine}");
        assert_eq!(firm["foundedYear"], 1987, "{engine}");
        assert!(
            firm["sourceRecords"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["source"] == "hub-curation"),
            "{engine}: {firm}"
        );
        let correction = firm["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["action"] == "correct" && h["field"] == "name")
            .unwrap_or_else(|| panic!("{engine}: {firm}"));
        assert_eq!(
            correction["before"], "Ali Surgical Works (Pvt.) Ltd.",
            "{engine}"
        );
        assert_eq!(
            correction["after"], "Ali Surgical Works International",
            "{engine}"
        );
        assert_eq!(correction["actor"], "key:curator", "{engine}");

        // A new record of another source with the registered name: two firms of that name
        // in the tehsil (one of them with another NTN), so both wait for a curator rather
        // than a guess. Accepting one supersedes the other; no conflict with the curated
        // name arises, since no source changed a value it had given.
        let sheet = write(
            &dir,
            "attendance.csv",
            "Record ID,Name of Unit,District,Tehsil\nA-1,Ali Surgical Works,Sialkot,Sialkot\n",
        );
        let (ok, report) = import_json(&db, &sheet, &["--source", "attendance-test"]);
        assert!(ok, "{engine}: {report:#}");
        let a1 = record_id(&db, "attendance-test", "A-1");
        assert_eq!(
            db.query(&format!(
                "SELECT candidate_id FROM match_reviews WHERE source_record_id = {a1} AND \
                 status = 'pending' ORDER BY candidate_id"
            )),
            format!("{ali}\n{}", org_of(&db, "survey-test", "S-3")),
            "{engine}"
        );
        let review = db.count(&format!(
            "SELECT id FROM match_reviews WHERE source_record_id = {a1} AND candidate_id = {ali}"
        ));
        data(gql(
            &hub,
            &curator,
            "mutation($id: ID!) { acceptMatch(id: $id) { status } }",
            json!({"id": gid("MatchReview", review)}),
        ));
        assert_eq!(org_of(&db, "attendance-test", "A-1"), ali, "{engine}");
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT status FROM match_reviews WHERE source_record_id = {a1} AND \
                 candidate_id <> {ali}"
            )),
            "superseded",
            "{engine}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM match_reviews WHERE kind = 'conflict'"),
            0,
            "{engine}"
        );

        let renamed = write(
            &dir,
            "registry.csv",
            &REGISTRY.replace(
                "Ali Surgical Works (Pvt.) Ltd.",
                "Ali Surgical Works Sialkot (Pvt.) Ltd.",
            ),
        );
        for round in 0..2 {
            let (ok, report) = import_json(&db, &renamed, &["--source", "psic-test"]);
            assert!(ok, "{engine}: {report:#}");
            assert_eq!(
                report["totals"]["updated"],
                if round == 0 { 1 } else { 0 },
                "{engine}: round {round}: {report:#}"
            );
            let name = db.query_scalar(&format!("SELECT name FROM organisations WHERE id = {ali}"));
            assert_eq!(
                name, "Ali Surgical Works International",
                "{engine}: {round}"
            );
            let conflicts = data(gql(
                &hub,
                &curator,
                QUEUE,
                json!({"status": "PENDING", "kind": "CONFLICT"}),
            ));
            assert_eq!(
                conflicts["matchReviews"]["totalCount"], 1,
                "{engine}: round {round}: {conflicts}"
            );
            let node = &conflicts["matchReviews"]["nodes"][0];
            assert_eq!(node["evidence"]["field"], "name", "{engine}");
            assert_eq!(
                node["evidence"]["source"], "Ali Surgical Works Sialkot (Pvt.) Ltd.",
                "{engine}"
            );
        }
        // Accepting the conflict gives the name back to the sources.
        let conflict_id = data(gql(
            &hub,
            &curator,
            QUEUE,
            json!({"status": "PENDING", "kind": "CONFLICT"}),
        ))["matchReviews"]["nodes"][0]["id"]
            .clone();
        data(gql(
            &hub,
            &curator,
            "mutation($id: ID!) { acceptMatch(id: $id) { status } }",
            json!({"id": conflict_id}),
        ));
        assert_eq!(
            db.query_scalar(&format!("SELECT name FROM organisations WHERE id = {ali}")),
            "Ali Surgical Works Sialkot (Pvt.) Ltd.",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT founded_year FROM organisations WHERE id = {ali}"
            )),
            "1987",
            "{engine}: the other curated field stays"
        );
        // Cluster membership: a curator puts a firm in a cluster and takes it out again; a
        // later import stating the membership does not put it back silently.
        let clusters = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/clusters.toml");
        let (ok, report) = import_json(&db, &clusters, &[]);
        assert!(ok, "{engine}: {report:#}");
        let members = |firm: i64| {
            db.count(&format!(
                "SELECT count(*) FROM cluster_memberships m JOIN clusters c ON c.id = \
                 m.cluster_id WHERE c.slug = 'sialkot-surgical' AND m.organisation_id = {firm}"
            ))
        };
        let set = "mutation($id: ID!, $member: Boolean!) { setClusterMembership(id: $id, \
                   cluster: \"sialkot-surgical\", member: $member) { history { action field \
                   after } } }";
        data(gql(
            &hub,
            &curator,
            set,
            json!({"id": firm_gid(ali), "member": true}),
        ));
        assert_eq!(members(ali), 1, "{engine}");
        let out = data(gql(
            &hub,
            &curator,
            set,
            json!({"id": firm_gid(ali), "member": false}),
        ));
        assert_eq!(members(ali), 0, "{engine}");
        let last = out["setClusterMembership"]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            last,
            json!({"action": "membership", "field": "sialkot-surgical", "after": false}),
            "{engine}"
        );
        let body = gql(
            &hub,
            &curator,
            set,
            json!({"id": firm_gid(ali), "member": false}),
        );
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{engine}: {body}");
        let bilal = org_of(&db, "psic-test", "R-3");
        let mut with_clusters = String::new();
        for (n, line) in fs::read_to_string(&renamed).unwrap().lines().enumerate() {
            let extra = match n {
                0 => ",Cluster",
                _ if line.starts_with("R-1,") || line.starts_with("R-3,") => ",sialkot-surgical",
                _ => ",",
            };
            with_clusters.push_str(&format!("{line}{extra}\n"));
        }
        let stated = write(&dir, "registry-clusters.csv", &with_clusters);
        let (ok, report) = import_json(&db, &stated, &["--source", "psic-test"]);
        assert!(ok, "{engine}: {report:#}");
        assert!(
            report["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "curated_membership" && i["row"] == 2),
            "{engine}: {report:#}"
        );
        assert_eq!(members(ali), 0, "{engine}: the curator's decision stands");
        assert_eq!(
            members(bilal),
            1,
            "{engine}: other firms' memberships apply"
        );

        // After all these decisions, the survey imported again changes nothing and
        // proposes nothing.
        let reviews = db.count("SELECT count(*) FROM match_reviews");
        let (ok, again) = import_json(&db, &survey, &["--source", "survey-test"]);
        assert!(ok, "{engine}: {again:#}");
        assert_eq!(again["totals"]["inserted"], 0, "{engine}: {again:#}");
        assert_eq!(again["totals"]["updated"], 0, "{engine}: {again:#}");
        assert_eq!(
            db.count("SELECT count(*) FROM match_reviews"),
            reviews,
            "{engine}"
        );
        // A stored record that gains an NTN, and a new record of the same name with another
        // NTN, in one file: the new record never joins the first one's firm.
        let survey_v2 = write(
            &dir,
            "survey.csv",
            &format!(
                "{}S-6,Bilal Leather Garments,Sialkot,Sambrial,8888888-8\n",
                SURVEY.replace(
                    "S-2,Bilal Leather Garments,Sialkot,Sambrial,",
                    "S-2,Bilal Leather Garments,Sialkot,Sambrial,7777777-7"
                )
            ),
        );
        let (ok, report) = import_json(&db, &survey_v2, &["--source", "survey-test"]);
        assert!(ok, "{engine}: {report:#}");
        assert_ne!(
            org_of(&db, "survey-test", "S-6"),
            org_of(&db, "survey-test", "S-2"),
            "{engine}: {report:#}"
        );
        // Curation is recorded in the audit trail, and its runs in the import runs.
        assert!(
            db.count("SELECT count(*) FROM audit_events WHERE kind LIKE 'curation.%'") >= 6,
            "{engine}"
        );
        assert_eq!(
            db.count(
                "SELECT count(*) FROM import_runs WHERE importer_id = 'curation' AND status \
                 <> 'applied'"
            ),
            0,
            "{engine}"
        );
        hub.terminate(std::time::Duration::from_secs(10));
    }
}

/// A global id as the API writes it.
pub fn gid(type_name: &str, id: i64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}
