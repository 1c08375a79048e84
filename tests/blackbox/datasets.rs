//! Datasets for BI tools over HTTP (`/datasets`), on every engine: each format read back by
//! a real reader (the `csv` and `parquet` crates, JSON) and compared with the GraphQL
//! answer for the same filter and with the raw rows; gzip; incremental pulls (`since`,
//! tombstones, snapshots) and ETags; the access policy (roles, columns, cluster scopes,
//! small-group suppression, the `pii` variant); the `bi_*` views and a read-only
//! PostgreSQL role on them; and, on PostgreSQL, a puller that never misses a commit of two
//! imports writing at once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{
    Engine, RunningHub, TestDb, create_key, demo, engines, hub, import_json, spawn,
};

/// A response: status, headers (lower-case names), body.
struct Got {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn change(&self) -> i64 {
        self.header("x-hub-change").unwrap().parse().unwrap()
    }
}

/// GET `path` with `auth` (a key) and extra headers.
fn fetch(h: &RunningHub, path: &str, auth: Option<&str>, extra: &[(&str, &str)]) -> Got {
    let url = h.url(path);
    let mut request = h.agent().get(&url);
    if let Some(key) = auth {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    let mut response = request.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .unwrap();
    Got {
        status,
        headers,
        body,
    }
}

/// GET that must answer 200.
fn ok(h: &RunningHub, path: &str, auth: Option<&str>) -> Got {
    let got = fetch(h, path, auth, &[]);
    assert_eq!(got.status, 200, "{path}: {}", got.text());
    got
}

fn gql(h: &RunningHub, auth: Option<&str>, query: &str, variables: Value) -> Value {
    let url = h.url("/graphql");
    let mut request = h.agent().post(&url);
    if let Some(key) = auth {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request
        .send_json(json!({ "query": query, "variables": variables }))
        .unwrap();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    body["data"].clone()
}

/// The row number of a GraphQL global id.
fn row_id(global: &Value) -> i64 {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global.as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

/// Every node of a root connection, page by page.
fn all_nodes(
    h: &RunningHub,
    auth: Option<&str>,
    field: &str,
    args: &str,
    selection: &str,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let q = format!(
            "query($after: String) {{ c: {field}(first: 100, after: $after{args}) {{ \
             nodes {{ {selection} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        );
        let data = gql(h, auth, &q, json!({ "after": after }));
        out.extend(data["c"]["nodes"].as_array().unwrap().iter().cloned());
        if data["c"]["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = data["c"]["pageInfo"]["endCursor"].clone();
    }
}

/// A dataset's rows as typed JSON values, whatever the format, so that formats compare.
type Rows = Vec<BTreeMap<String, Value>>;

/// Column types from the catalog: name → type.
fn types(catalog: &Value, dataset: &str) -> BTreeMap<String, String> {
    catalog["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["identifier"] == dataset)
        .unwrap()["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
            )
        })
        .chain([("_deleted".to_owned(), "boolean".to_owned())])
        .collect()
}

fn typed(ty: &str, text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    match ty {
        "integer" => json!(text.parse::<i64>().unwrap()),
        "number" => json!(text.parse::<f64>().unwrap()),
        "boolean" => json!(text.parse::<bool>().unwrap()),
        _ => json!(text),
    }
}

fn read_csv(body: &[u8], types: &BTreeMap<String, String>) -> Rows {
    let mut reader = csv::Reader::from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(name, v)| (name.clone(), typed(&types[name], v)))
                .collect()
        })
        .collect()
}

/// JSON numbers of `number` columns as floats (NDJSON writes `1.0`, CSV `1`).
fn normalised(object: &Value, types: &BTreeMap<String, String>) -> BTreeMap<String, Value> {
    object
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match (types[k].as_str(), v) {
                ("number", Value::Number(n)) => json!(n.as_f64().unwrap()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn read_ndjson(body: &[u8], types: &BTreeMap<String, String>) -> Rows {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| normalised(&serde_json::from_str(l).unwrap(), types))
        .collect()
}

fn read_json(body: &[u8], types: &BTreeMap<String, String>) -> Rows {
    let all: Value = serde_json::from_slice(body).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .map(|o| normalised(o, types))
        .collect()
}

fn read_parquet(body: &[u8]) -> Rows {
    use parquet::file::reader::{FileReader as _, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(body)).unwrap();
    let rows = reader.get_row_iter(None).unwrap();
    rows.map(|row| {
        row.unwrap()
            .get_column_iter()
            .map(|(name, field)| {
                let v = match field {
                    Field::Null => Value::Null,
                    Field::Bool(b) => json!(b),
                    Field::Long(n) => json!(n),
                    Field::Int(n) => json!(n),
                    Field::Double(x) => json!(x),
                    Field::Str(s) => json!(s),
                    Field::Date(_) => json!(field.to_string().trim_matches('"')),
                    other => json!(other.to_string()),
                };
                (name.clone(), v)
            })
            .collect()
    })
    .collect()
}

/// The raw rows of a SQL query, split on `|`.
fn raw(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    db.query(sql)
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn every_format_reads_back_the_same_rows_as_graphql_and_the_tables() {
    for engine in engines() {
        let (db, h) = demo(engine);
        let analyst = create_key(&db, "bi", "analyst", &[]);
        let catalog = ok(&h, "/datasets", Some(&analyst)).json();
        let names: Vec<&str> = catalog["dataset"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["identifier"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "firms",
                "firm_observations",
                "cluster_indicators",
                "training_participation",
                "training_statistics",
                "trade_flows",
                "cluster_trade",
                "loans",
                "import_runs"
            ],
            "{engine}"
        );

        // Trade flows: exports from 2020, in four formats.
        let query = "year_gte=2020&flow=export&columns=id,partner,commodity_code,year,value_usd,period_start,is_value_estimated";
        let types = types(&catalog, "trade_flows");
        let csv = ok(
            &h,
            &format!("/datasets/trade_flows.csv?{query}"),
            Some(&analyst),
        );
        assert!(
            csv.header("content-type").unwrap().starts_with("text/csv"),
            "{engine}"
        );
        let from_csv = read_csv(&csv.body, &types);
        let from_ndjson = read_ndjson(
            &ok(
                &h,
                &format!("/datasets/trade_flows.ndjson?{query}"),
                Some(&analyst),
            )
            .body,
            &types,
        );
        let from_json = read_json(
            &ok(
                &h,
                &format!("/datasets/trade_flows.json?{query}"),
                Some(&analyst),
            )
            .body,
            &types,
        );
        let parquet = ok(
            &h,
            &format!("/datasets/trade_flows.parquet?{query}"),
            Some(&analyst),
        );
        assert_eq!(&parquet.body[..4], b"PAR1", "{engine}");
        let from_parquet = read_parquet(&parquet.body);
        assert!(from_csv.len() > 100, "{engine}: {} rows", from_csv.len());
        assert_eq!(from_ndjson, from_csv, "{engine}: NDJSON = CSV");
        assert_eq!(from_json, from_csv, "{engine}: JSON = CSV");
        assert_eq!(from_parquet, from_csv, "{engine}: Parquet = CSV");

        // The same filter through GraphQL.
        let nodes = all_nodes(
            &h,
            Some(&analyst),
            "tradeFlows",
            ", filter: {year: {gte: 2020}, flow: {eq: EXPORT}}",
            "id partner commodityCode valueUsd periodStart",
        );
        let from_graphql: BTreeMap<i64, (String, String, Value, String)> = nodes
            .iter()
            .map(|n| {
                (
                    row_id(&n["id"]),
                    (
                        n["partner"].as_str().unwrap().to_owned(),
                        n["commodityCode"].as_str().unwrap().to_owned(),
                        n["valueUsd"].clone(),
                        n["periodStart"].as_str().unwrap().to_owned(),
                    ),
                )
            })
            .collect();
        let from_dataset: BTreeMap<i64, (String, String, Value, String)> = from_csv
            .iter()
            .map(|r| {
                (
                    r["id"].as_i64().unwrap(),
                    (
                        r["partner"].as_str().unwrap().to_owned(),
                        r["commodity_code"].as_str().unwrap().to_owned(),
                        r["value_usd"].clone(),
                        r["period_start"].as_str().unwrap().to_owned(),
                    ),
                )
            })
            .collect();
        assert_eq!(from_dataset.len(), from_graphql.len(), "{engine}");
        for (id, (partner, code, value, start)) in &from_graphql {
            let d = &from_dataset[id];
            assert_eq!(
                (&d.0, &d.1, &d.3),
                (partner, code, start),
                "{engine}: flow {id}"
            );
            assert!(
                close(d.2.as_f64().unwrap(), value.as_f64().unwrap()),
                "{engine}: flow {id}: {} vs {value}",
                d.2
            );
        }
        // And with the tables.
        let table = raw(
            &db,
            "SELECT t.id, t.value_usd FROM trade_flows t WHERE t.flow = 'export' \
             AND t.period_start >= '2020-01-01' ORDER BY t.id",
        );
        assert_eq!(
            table
                .iter()
                .map(|r| r[0].parse::<i64>().unwrap())
                .collect::<Vec<_>>(),
            from_csv
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            "{engine}: the same flows as the table, in id order"
        );

        // gzip when asked, the same bytes once decompressed.
        let gz = fetch(
            &h,
            &format!("/datasets/trade_flows.csv?{query}"),
            Some(&analyst),
            &[("Accept-Encoding", "gzip")],
        );
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{engine}");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(gz.body.as_slice())
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, csv.body, "{engine}: gzip decompresses to the CSV");
        assert!(
            gz.body.len() * 3 < csv.body.len(),
            "{engine}: gzip compresses"
        );

        // Firms of one cluster with their current figures, against `firms` in GraphQL.
        let firms = ok(
            &h,
            "/datasets/firms.ndjson?cluster=sialkot-surgical",
            Some(&analyst),
        );
        let firm_types = self::types(&catalog, "firms");
        let firm_rows = read_ndjson(&firms.body, &firm_types);
        let nodes = all_nodes(
            &h,
            Some(&analyst),
            "firms",
            ", filter: {cluster: {slug: {eq: \"sialkot-surgical\"}}}",
            "id name district sizeClass employeesTotal employeesTotalAsOf { period source } exportsUsd",
        );
        assert_eq!(firm_rows.len(), nodes.len(), "{engine}");
        assert!(nodes.len() > 20, "{engine}");
        let by_id: BTreeMap<i64, &BTreeMap<String, Value>> = firm_rows
            .iter()
            .map(|r| (r["id"].as_i64().unwrap(), r))
            .collect();
        for n in &nodes {
            let r = by_id[&row_id(&n["id"])];
            assert_eq!(r["name"], n["name"], "{engine}");
            assert_eq!(r["district"], n["district"], "{engine}");
            assert_eq!(r["size_class"], n["sizeClass"], "{engine}");
            assert_eq!(r["employees_total"], n["employeesTotal"], "{engine}");
            assert_eq!(
                r["employees_period"], n["employeesTotalAsOf"]["period"],
                "{engine}"
            );
            assert_eq!(
                r["employees_source"], n["employeesTotalAsOf"]["source"],
                "{engine}"
            );
            match (r["exports_usd"].as_f64(), n["exportsUsd"].as_f64()) {
                (Some(a), Some(b)) => assert!(close(a, b), "{engine}"),
                (a, b) => assert_eq!(a, b, "{engine}"),
            }
            assert!(
                r["clusters"]
                    .as_str()
                    .unwrap()
                    .split("; ")
                    .any(|c| c == "sialkot-surgical"),
                "{engine}: {r:?}"
            );
        }

        // Training statistics as the analyst reads them = `trainingStatistics`.
        let stats = read_csv(
            &ok(&h, "/datasets/training_statistics.csv", Some(&analyst)).body,
            &self::types(&catalog, "training_statistics"),
        );
        let answer = gql(
            &h,
            Some(&analyst),
            "{ trainingStatistics(groupBy: [CLUSTER, YEAR, SEX], first: 1000) { groups { \
             keys { cluster year sex } participations persons firms events completed \
             completionRate scored meanScoreGain withheld } } }",
            Value::Null,
        );
        let groups = answer["trainingStatistics"]["groups"].as_array().unwrap();
        assert_eq!(stats.len(), groups.len(), "{engine}");
        for g in groups {
            let k = &g["keys"];
            let row = stats
                .iter()
                .find(|r| {
                    r["cluster"] == k["cluster"] && r["year"] == k["year"] && r["sex"] == k["sex"]
                })
                .unwrap_or_else(|| panic!("{engine}: no row for {k}"));
            for (column, field) in [
                ("participations", "participations"),
                ("persons", "persons"),
                ("firms", "firms"),
                ("events", "events"),
                ("completed", "completed"),
                ("scored", "scored"),
            ] {
                assert_eq!(row[column], g[field], "{engine}: {k} {column}");
            }
            for (column, field) in [
                ("completion_rate", "completionRate"),
                ("mean_score_gain", "meanScoreGain"),
            ] {
                match (row[column].as_f64(), g[field].as_f64()) {
                    (Some(a), Some(b)) => assert!(close(a, b), "{engine}: {k} {column}"),
                    (a, b) => assert_eq!(a, b, "{engine}: {k} {column}"),
                }
            }
            assert_eq!(row["withheld"], json!(false), "{engine}");
        }

        // Cluster trade = `Cluster.trade` by year and partner.
        let trade = read_csv(
            &ok(
                &h,
                "/datasets/cluster_trade.csv?cluster=sialkot-surgical&flow=export",
                None,
            )
            .body,
            &self::types(&catalog, "cluster_trade"),
        );
        let answer = gql(
            &h,
            None,
            "{ cluster(slug: \"sialkot-surgical\") { trade(groupBy: [YEAR, PARTNER]) { \
             groups { year partner valueUsd flows } } } }",
            Value::Null,
        );
        let groups = answer["cluster"]["trade"]["groups"].as_array().unwrap();
        assert!(!groups.is_empty(), "{engine}");
        assert_eq!(trade.len(), groups.len(), "{engine}");
        for (row, g) in trade.iter().zip(groups) {
            assert_eq!(row["year"], g["year"], "{engine}");
            assert_eq!(row["partner"], g["partner"], "{engine}");
            assert_eq!(row["flows"], g["flows"], "{engine}");
            assert!(
                close(
                    row["value_usd"].as_f64().unwrap(),
                    g["valueUsd"].as_f64().unwrap()
                ),
                "{engine}"
            );
        }
    }
}

/// The change counter.
fn counter(db: &TestDb) -> i64 {
    db.query_scalar("SELECT last_seq FROM change_counter WHERE id = 1")
        .parse()
        .unwrap()
}

use crate::import_comtrade::V1_HEADER;

/// A UN Comtrade API v1 CSV of annual Pakistani exports in `year` of the HS headings
/// `codes` to the Comtrade areas `partners`, every pair once, valued from `base`.
fn comtrade(
    db: &TestDb,
    name: &str,
    year: u32,
    codes: &[&str],
    partners: &[u32],
    base: u64,
) -> PathBuf {
    let mut text = format!("{V1_HEADER}\n");
    let mut value = base;
    for code in codes {
        for partner in partners {
            value += 1;
            text.push_str(&format!(
                "C,A,{year}0101,{year},52,{year},586,PAK,Pakistan,X,Export,{partner},,Partner,0,\
                 W00,World,H5,HS,True,{code},Goods,4,0,C00,TOTAL CPC,0,0,TOTAL MOT,-1,N/A,,False,\
                 -1,N/A,,False,,False,,False,,{value},{value},0,True,False\n"
            ));
        }
    }
    let path = db.data_path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn incremental_pulls_return_exactly_the_changes_with_tombstones_and_etags_revalidate() {
    for engine in engines() {
        let (db, h) = demo(engine);
        let analyst = create_key(&db, "bi", "analyst", &[]);
        let first = ok(&h, "/datasets/trade_flows.csv", Some(&analyst));
        let n0 = first.change();
        assert_eq!(
            n0,
            counter(&db),
            "{engine}: X-Hub-Change is the change counter"
        );
        let etag = first.header("etag").unwrap().to_owned();
        assert!(etag.starts_with(&format!("W/\"{n0}-")), "{engine}: {etag}");

        // Unchanged: 304 without a body, for the same request only.
        let again = fetch(
            &h,
            "/datasets/trade_flows.csv",
            Some(&analyst),
            &[("If-None-Match", &etag)],
        );
        assert_eq!(again.status, 304, "{engine}");
        assert!(again.body.is_empty(), "{engine}");
        assert_eq!(again.change(), n0, "{engine}");
        let other = fetch(
            &h,
            "/datasets/trade_flows.csv?year=2020",
            Some(&analyst),
            &[("If-None-Match", &etag)],
        );
        assert_eq!(other.status, 200, "{engine}: another query, another tag");
        let public = fetch(
            &h,
            "/datasets/trade_flows.csv",
            None,
            &[("If-None-Match", &etag)],
        );
        assert_eq!(public.status, 200, "{engine}: another caller, another tag");

        // Nothing changed since n0.
        let types = types(&ok(&h, "/datasets", None).json(), "trade_flows");
        let none = read_csv(
            &ok(
                &h,
                &format!("/datasets/trade_flows.csv?since={n0}"),
                Some(&analyst),
            )
            .body,
            &types,
        );
        assert!(none.is_empty(), "{engine}: {none:?}");

        // The catalog's count of trade flows, which it keeps until the data change.
        let catalog_flows = |h: &RunningHub| {
            let catalog = ok(h, "/datasets", Some(&analyst)).json();
            let entry = catalog["dataset"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["identifier"] == "trade_flows")
                .unwrap()
                .clone();
            (
                entry["rowCount"].as_i64().unwrap(),
                entry["changeSeq"].as_i64().unwrap(),
            )
        };
        let flows_before = db.count("SELECT COUNT(*) FROM trade_flows");
        assert_eq!(catalog_flows(&h).0, flows_before, "{engine}");
        assert_eq!(
            catalog_flows(&h).0,
            flows_before,
            "{engine}: counted again the same"
        );

        // An import: 6 new flows, and one demo flow of 2019 changed.
        let file = comtrade(
            &db,
            "more.csv",
            2019,
            &["0101", "0102"],
            &[842, 156, 276],
            7_000,
        );
        let (applied, report) = import_json(&db, &file, &[]);
        assert!(applied, "{engine}: {report:#}");
        let n1 = counter(&db);
        assert!(n1 > n0, "{engine}");
        assert_eq!(
            catalog_flows(&h),
            (db.count("SELECT COUNT(*) FROM trade_flows"), n1),
            "{engine}: the catalog counts again after a change"
        );
        assert_eq!(catalog_flows(&h).0, flows_before + 6, "{engine}");
        let changed = fetch(
            &h,
            &format!("/datasets/trade_flows.csv?since={n0}"),
            Some(&analyst),
            &[],
        );
        assert_eq!(changed.change(), n1, "{engine}");
        let rows = read_csv(&changed.body, &types);
        let want: Vec<i64> = raw(
            &db,
            &format!("SELECT id FROM trade_flows WHERE change_seq > {n0} ORDER BY id"),
        )
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
        assert_eq!(want.len(), 6, "{engine}");
        assert_eq!(
            rows.iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            want,
            "{engine}: exactly the rows changed after {n0}"
        );
        assert!(
            rows.iter().all(|r| r["_deleted"] == json!(false)),
            "{engine}"
        );
        // GraphQL lists the same rows with `changedSince`, each with its `changeSeq`.
        let nodes = all_nodes(
            &h,
            Some(&analyst),
            "tradeFlows",
            &format!(", changedSince: {n0}"),
            "id changeSeq",
        );
        let mut listed: Vec<i64> = nodes.iter().map(|n| row_id(&n["id"])).collect();
        listed.sort_unstable();
        assert_eq!(listed, want, "{engine}: changedSince lists the same rows");
        for n in &nodes {
            let seq = n["changeSeq"].as_i64().unwrap();
            assert!(seq > n0 && seq <= n1, "{engine}: {n}");
        }
        for list in [
            "clusters",
            "firms",
            "programmes",
            "trainingEvents",
            "participations",
            "tradeFlows",
            "indicators",
            "organisations",
            "networks",
            "industrialEstates",
            "plotAllotments",
            "loans",
            "firmObservations",
            "indicatorValues",
            "sources",
        ] {
            let q = format!(
                "{{ l: {list}(first: 1, changedSince: 0) {{ totalCount nodes {{ changeSeq }} }} }}"
            );
            let got = gql(&h, Some(&analyst), &q, Value::Null);
            assert!(
                got["l"]["totalCount"].as_i64().unwrap() > 0,
                "{engine}: {list}"
            );
            assert!(
                got["l"]["nodes"][0]["changeSeq"].as_i64().unwrap() > 0,
                "{engine}: {list}"
            );
        }
        let everything = gql(
            &h,
            None,
            "{ tradeFlows(changedSince: 0) { totalCount } }",
            Value::Null,
        );
        assert_eq!(
            everything["tradeFlows"]["totalCount"],
            json!(db.count("SELECT COUNT(*) FROM trade_flows")),
            "{engine}"
        );
        let stale = fetch(
            &h,
            "/datasets/trade_flows.csv",
            Some(&analyst),
            &[("If-None-Match", &etag)],
        );
        assert_eq!(
            stale.status, 200,
            "{engine}: a new change number, a new tag"
        );

        // A firm merged away (as record linkage will merge firms): its tombstone, not its row.
        let (gone, into): (i64, i64) = {
            let r = raw(
                &db,
                "SELECT MIN(id), MAX(id) FROM organisations WHERE kind = 'firm'",
            );
            (r[0][0].parse().unwrap(), r[0][1].parse().unwrap())
        };
        let seq = n1 + 1;
        db.query(&format!(
            "UPDATE change_counter SET last_seq = {seq} WHERE id = 1; \
             UPDATE organisations SET merged_into_id = {into}, change_seq = {seq} WHERE id = {gone}; \
             INSERT INTO tombstones (change_seq, entity_type, entity_id, op, merged_into_id, occurred_at) \
             VALUES ({seq}, 'organisation', {gone}, 'merge', {into}, '2026-12-06T00:00:00+00:00')"
        ));
        let firm_types = self::types(&ok(&h, "/datasets", Some(&analyst)).json(), "firms");
        for format in ["csv", "ndjson", "parquet"] {
            let got = ok(
                &h,
                &format!("/datasets/firms.{format}?since={n1}&columns=name"),
                Some(&analyst),
            );
            let rows = match format {
                "csv" => read_csv(&got.body, &firm_types),
                "ndjson" => read_ndjson(&got.body, &firm_types),
                _ => read_parquet(&got.body),
            };
            assert_eq!(rows.len(), 1, "{engine} {format}: {rows:?}");
            assert_eq!(rows[0]["id"], json!(gone), "{engine} {format}");
            assert_eq!(rows[0]["change_seq"], json!(seq), "{engine} {format}");
            assert_eq!(rows[0]["_deleted"], json!(true), "{engine} {format}");
        }
        let whole = read_csv(
            &ok(&h, "/datasets/firms.csv", Some(&analyst)).body,
            &firm_types,
        );
        assert!(
            whole.iter().all(|r| r["id"] != json!(gone)),
            "{engine}: a merged firm is no row"
        );

        // Snapshot datasets: nothing when nothing feeding them changed, all otherwise.
        let snap = ok(&h, &format!("/datasets/cluster_trade.csv?since={n0}"), None);
        assert_eq!(
            snap.header("x-hub-incremental"),
            Some("snapshot"),
            "{engine}"
        );
        assert!(
            snap.text().lines().count() > 10,
            "{engine}: trade changed after n0"
        );
        let quiet = ok(
            &h,
            &format!("/datasets/cluster_trade.csv?since={seq}"),
            None,
        );
        assert_eq!(quiet.text().lines().count(), 1, "{engine}: the header only");
        let training = ok(
            &h,
            &format!("/datasets/training_statistics.csv?since={n0}"),
            None,
        );
        assert_eq!(
            training.text().lines().count(),
            1,
            "{engine}: no training changed after n0"
        );
    }
}

#[test]
fn datasets_apply_the_access_policy() {
    for engine in engines() {
        let (db, h) = demo(engine);
        let analyst = create_key(&db, "bi", "analyst", &[]);
        let scoped = create_key(
            &db,
            "sialkot",
            "analyst",
            &["--cluster", "sialkot-surgical"],
        );
        let pii = create_key(&db, "trainers", "analyst", &["--pii"]);

        // The catalog lists everything to everyone, with the role each needs.
        let catalog = ok(&h, "/datasets", None).json();
        let loans = catalog["dataset"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["identifier"] == "loans")
            .unwrap();
        assert_eq!(loans["role"], "analyst", "{engine}");
        assert_eq!(loans["readable"], json!(false), "{engine}");
        assert!(
            loans["rowCount"].is_null(),
            "{engine}: no counts of what the caller may not read"
        );
        let firms_entry = catalog["dataset"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["identifier"] == "firms")
            .unwrap();
        assert_eq!(
            firms_entry["rowCount"],
            json!(db.count(
                "SELECT COUNT(*) FROM organisations WHERE kind = 'firm' AND merged_into_id IS NULL"
            )),
            "{engine}"
        );

        // Rows a role may not read: 403; bad credentials: 401.
        let refused = fetch(&h, "/datasets/loans.csv", None, &[]);
        assert_eq!(refused.status, 403, "{engine}");
        assert_eq!(
            refused.json()["errors"][0]["extensions"]["code"],
            "FORBIDDEN",
            "{engine}"
        );
        assert_eq!(
            fetch(&h, "/datasets/loans.csv", Some("hub_notakey"), &[]).status,
            401,
            "{engine}"
        );
        assert_eq!(
            ok(&h, "/datasets/loans.csv", Some(&analyst)).status,
            200,
            "{engine}"
        );

        // Columns a role may not see are left out, and refused when asked for.
        let public_firms = ok(&h, "/datasets/firms.csv", None).text();
        let header = public_firms.lines().next().unwrap();
        for hidden in ["ntn", "employees_total", "turnover_pkr", "exports_usd"] {
            assert!(
                !header.split(',').any(|c| c == hidden),
                "{engine}: {header}"
            );
        }
        let asked = fetch(
            &h,
            "/datasets/firms.csv?columns=name,employees_total",
            None,
            &[],
        );
        assert_eq!(asked.status, 403, "{engine}");
        let filtered = fetch(&h, "/datasets/firms.csv?employees_total_gte=10", None, &[]);
        assert_eq!(
            filtered.status, 403,
            "{engine}: no filtering on what the caller does not see"
        );
        let analyst_header = ok(&h, "/datasets/firms.csv", Some(&analyst)).text();
        assert!(
            analyst_header
                .lines()
                .next()
                .unwrap()
                .contains("employees_total"),
            "{engine}"
        );

        // A cluster scope: the firms of the cluster, nothing else.
        let catalog_types = types(&catalog, "firms");
        let mine = read_csv(
            &ok(&h, "/datasets/firms.csv", Some(&scoped)).body,
            &catalog_types,
        );
        let members: BTreeSet<i64> = raw(
            &db,
            "SELECT DISTINCT m.organisation_id FROM cluster_memberships m JOIN clusters c \
             ON c.id = m.cluster_id JOIN organisations o ON o.id = m.organisation_id \
             WHERE c.slug = 'sialkot-surgical' AND o.merged_into_id IS NULL",
        )
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
        let got: BTreeSet<i64> = mine.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(got, members, "{engine}");
        let their_stats = ok(&h, "/datasets/training_statistics.csv", Some(&scoped)).text();
        assert!(
            their_stats
                .lines()
                .skip(1)
                .all(|l| l.starts_with("sialkot-surgical,")),
            "{engine}: {their_stats}"
        );

        // Personal data: person names only with the pii scope.
        let with_names = ok(&h, "/datasets/training_participation.csv", Some(&pii)).text();
        assert!(
            with_names.lines().next().unwrap().contains("person_name"),
            "{engine}"
        );
        assert_eq!(
            with_names.lines().count() - 1,
            db.count("SELECT COUNT(*) FROM participations") as usize,
            "{engine}: one row per participation"
        );
        for caller in [None, Some(analyst.as_str())] {
            let counts = ok(&h, "/datasets/training_participation.csv", caller).text();
            assert!(!counts.contains("person_name"), "{engine}");
            let some_name = db
                .query_scalar("SELECT full_name FROM persons WHERE full_name IS NOT NULL LIMIT 1");
            assert!(
                !counts.contains(&some_name),
                "{engine}: no name in the counts"
            );
        }

        // Small groups: the public's counts by event and sex withhold every group of fewer
        // than 5 firms (and complements); the analyst's withhold none.
        let types = types(&catalog, "training_participation");
        let public = read_csv(
            &ok(&h, "/datasets/training_participation.csv", None).body,
            &types,
        );
        let full = read_csv(
            &ok(&h, "/datasets/training_participation.csv", Some(&analyst)).body,
            &types,
        );
        assert_eq!(public.len(), full.len(), "{engine}");
        let raw_counts = raw(
            &db,
            "SELECT p.training_event_id, COALESCE(p.sex, ''), COUNT(*), \
             COUNT(DISTINCT p.organisation_id) FROM participations p \
             GROUP BY p.training_event_id, p.sex",
        );
        let mut small = 0;
        for (p, f) in public.iter().zip(&full) {
            assert_eq!(p["event_id"], f["event_id"], "{engine}");
            let key = (
                p["event_id"].as_i64().unwrap(),
                p["sex"].as_str().unwrap_or("").to_owned(),
            );
            let counted = raw_counts
                .iter()
                .find(|r| r[0].parse::<i64>().unwrap() == key.0 && r[1] == key.1)
                .unwrap();
            let firms: i64 = counted[3].parse().unwrap();
            assert_eq!(
                f["participations"],
                json!(counted[2].parse::<i64>().unwrap()),
                "{engine}"
            );
            assert_eq!(f["withheld"], json!(false), "{engine}");
            if firms < 5 && firms > 0 {
                small += 1;
                assert_eq!(p["withheld"], json!(true), "{engine}: {key:?}");
                assert!(p["participations"].is_null(), "{engine}: {key:?}");
            }
            if p["withheld"] == json!(false) {
                assert_eq!(p["participations"], f["participations"], "{engine}");
            }
        }
        assert!(small > 0, "{engine}: the demo has small groups");
        let filtered = fetch(&h, "/datasets/training_statistics.csv?year=2022", None, &[]);
        assert_eq!(
            filtered.status, 403,
            "{engine}: no filtered tables of suppressed counts"
        );

        // Unknown datasets, formats and parameters.
        assert_eq!(
            fetch(&h, "/datasets/nothing.csv", None, &[]).status,
            404,
            "{engine}"
        );
        assert_eq!(
            fetch(&h, "/datasets/firms.xlsx", None, &[]).status,
            404,
            "{engine}"
        );
        let bad = fetch(&h, "/datasets/firms.csv?colour=red", None, &[]);
        assert_eq!(bad.status, 400, "{engine}");
        assert!(bad.text().contains("`colour`"), "{engine}");
        let bad = fetch(&h, "/datasets/trade_flows.csv?year=twenty", None, &[]);
        assert_eq!(bad.status, 400, "{engine}");
    }
}

#[test]
fn the_bi_views_hold_no_personal_data_and_a_read_only_role_reads_them() {
    for engine in engines() {
        let (db, _h) = demo(engine);
        for view in hub_schema::migration::BI_VIEWS {
            let n = db.count(&format!("SELECT COUNT(*) FROM {view}"));
            assert!(n > 0, "{engine}: {view} is empty");
            let columns = match engine {
                Engine::Sqlite => {
                    db.query(&format!("SELECT name FROM pragma_table_info('{view}')"))
                }
                _ => db.query(&format!(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = '{view}'"
                )),
            };
            for personal in [
                "full_name",
                "person_name",
                "cnic",
                "phone",
                "email",
                "trainers",
            ] {
                assert!(
                    !columns.lines().any(|c| c.contains(personal)),
                    "{engine}: {view} has {personal}"
                );
            }
        }
        // The view's figures are the tables'.
        assert_eq!(
            db.query_scalar("SELECT SUM(participations) FROM bi_training_statistics"),
            db.query_scalar("SELECT COUNT(*) FROM participations"),
            "{engine}"
        );
        if engine == Engine::Postgres {
            // The read-only role of README "Use it from your BI tool".
            db.query(&format!(
                "CREATE ROLE bi_reader NOLOGIN; GRANT SELECT ON {} TO bi_reader",
                hub_schema::migration::BI_VIEWS.join(", ")
            ));
            assert_eq!(
                db.query("SET ROLE bi_reader; SELECT COUNT(*) FROM bi_firms")
                    .lines()
                    .last()
                    .unwrap(),
                db.query_scalar("SELECT COUNT(*) FROM bi_firms"),
            );
            let denied = db.try_query("SET ROLE bi_reader; SELECT COUNT(*) FROM persons");
            assert!(
                denied
                    .as_ref()
                    .is_err_and(|e| e.contains("permission denied")),
                "{denied:?}"
            );
            db.query("DROP OWNED BY bi_reader; DROP ROLE bi_reader");
        }
    }
}

#[test]
fn a_puller_never_misses_a_commit_of_two_imports_writing_at_once() {
    for engine in engines() {
        if engine != Engine::Postgres {
            continue;
        }
        let db = TestDb::fresh(engine);
        let h = spawn({
            let mut c = hub(&db);
            c.arg("serve");
            c
        });
        let analyst = create_key(&db, "bi", "analyst", &[]);
        let files: Vec<PathBuf> = (0..4)
            .map(|i| {
                let codes: &[&str] = match i % 2 {
                    0 => &["0101", "0102", "0103", "0104", "0105"],
                    _ => &["0201", "0202", "0203", "0204", "0206"],
                };
                comtrade(
                    &db,
                    &format!("part{i}.csv"),
                    2015 + i,
                    codes,
                    &[842, 156, 276, 826, 250, 380, 392, 410],
                    1_000 * u64::from(i),
                )
            })
            .collect();
        let done = std::sync::atomic::AtomicBool::new(false);
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        let mut pulls = 0;
        std::thread::scope(|s| {
            let writers: Vec<_> = files
                .chunks(2)
                .map(|pair| {
                    let db = &db;
                    s.spawn(move || {
                        for f in pair {
                            let (applied, report) = import_json(db, f, &[]);
                            assert!(applied, "{report:#}");
                        }
                    })
                })
                .collect();
            let done = &done;
            s.spawn(move || {
                for w in writers {
                    w.join().unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            // Pull repeatedly from the last change number until the writers are done, then
            // once more.
            let mut since = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let got = ok(
                    &h,
                    &format!("/datasets/trade_flows.csv?since={since}&columns=id"),
                    Some(&analyst),
                );
                pulls += 1;
                for line in got.text().lines().skip(1) {
                    seen.insert(line.split(',').nth(1).unwrap().parse().unwrap());
                }
                since = got.change();
                if finished {
                    break;
                }
            }
        });
        let all: BTreeSet<i64> = raw(&db, "SELECT id FROM trade_flows")
            .iter()
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert_eq!(all.len(), 4 * 5 * 8, "every flow imported");
        assert_eq!(
            seen, all,
            "pulled incrementally over {pulls} pulls, nothing missed"
        );
        assert!(pulls > 2, "the pulls overlapped the imports ({pulls})");
    }
}

/// The code block after `<!-- recipe: NAME -->` in README.md, for the hub at `base`.
fn recipe(name: &str, base: &str) -> String {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let marker = format!("<!-- recipe: {name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker}"))..];
    let start = after.find("```python\n").unwrap() + "```python\n".len();
    let end = start + after[start..].find("```").unwrap();
    after[start..end].replace("http://127.0.0.1:8080", base)
}

/// Runs Python code in `dir` with `HUB_KEY`; its stdout lines.
fn python(code: &str, dir: &std::path::Path, key: &str) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .env("HUB_KEY", key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{code}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_recipes_for_pandas_and_duckdb_read_the_demo() {
    let readers = std::process::Command::new("python3")
        .args(["-c", "import pandas, pyarrow, duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !readers {
        assert!(
            std::env::var("HUB_TEST_REQUIRE_BI_READERS").as_deref() != Ok("1"),
            "python3 with pandas, pyarrow and duckdb is required (HUB_TEST_REQUIRE_BI_READERS=1)"
        );
        crate::support::note(
            "datasets: python3 with pandas, pyarrow and duckdb not found: the README's recipes are not run",
        );
        return;
    }
    // The recipes are written for `hub demo`, the SQLite default.
    let (db, h) = demo(Engine::Sqlite);
    let key = create_key(&db, "pandas", "analyst", &[]);
    let base = h.url("");
    let base = base.trim_end_matches('/');

    let lines = python(&recipe("pandas", base), db.data_path(), &key);
    let (firms, employees) = lines[0].split_once(' ').unwrap();
    assert_eq!(
        firms.parse::<i64>().unwrap(),
        db.count(
            "SELECT COUNT(*) FROM organisations WHERE kind = 'firm' AND merged_into_id IS NULL"
        )
    );
    assert_eq!(
        employees.parse::<i64>().unwrap(),
        db.count(
            "SELECT SUM(employees_total) FROM organisations WHERE kind = 'firm' \
             AND merged_into_id IS NULL"
        )
    );
    // `{2017: 123, 2018: 456}` against `Cluster.trade` by year.
    let by_year: BTreeMap<i64, i64> = lines[1]
        .trim_matches(|c| c == '{' || c == '}')
        .split(", ")
        .map(|pair| {
            let (y, v) = pair.split_once(": ").unwrap();
            (y.parse().unwrap(), v.parse().unwrap())
        })
        .collect();
    let answer = gql(
        &h,
        None,
        "{ cluster(slug: \"sialkot-surgical\") { trade { groups { year valueUsd } } } }",
        Value::Null,
    );
    let want: BTreeMap<i64, i64> = answer["cluster"]["trade"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["year"].as_i64().unwrap(),
                g["valueUsd"].as_f64().unwrap().round() as i64,
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(by_year, want, "pandas' sums by year = Cluster.trade");

    let lines = python(&recipe("duckdb", base), db.data_path(), &key);
    let (count, sum) = lines[0]
        .trim_matches(|c| c == '(' || c == ')')
        .split_once(", ")
        .unwrap();
    let rows = raw(
        &db,
        "SELECT COUNT(*), SUM(t.value_usd) FROM trade_flows t JOIN countries p \
         ON p.id = t.partner_id WHERE t.flow = 'export' AND p.iso3 <> 'W00' \
         AND t.commodity_code <> 'TOTAL'",
    );
    assert_eq!(
        count.parse::<i64>().unwrap(),
        rows[0][0].parse::<i64>().unwrap()
    );
    assert!(close(
        sum.parse::<f64>().unwrap(),
        rows[0][1].parse::<f64>().unwrap().round()
    ));
}
