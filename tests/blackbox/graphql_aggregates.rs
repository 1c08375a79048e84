//! Aggregates over GraphQL on every engine, each figure compared with the same figure
//! computed here from the raw rows (read with plain SQL, grouped and added up in Rust):
//! `tradeFlowsAggregate` on the demo's Comtrade flows plus a monthly file of a second
//! source (fiscal years, quarters, months, groups of one), with the rules that keep a
//! figure true: one source, one period kind, one aggregate level, World rows apart.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::{Value, json};

use crate::support::{
    Engine, RunningHub, TestDb, demo_as_analyst, demo_as_analyst_with, engines, import_json,
};

fn answer(h: &RunningHub, query: &str) -> Value {
    let (status, body) = h.post_json("/graphql", &json!({ "query": query }));
    assert_eq!(status, 200, "{query}\n{body:#}");
    body
}

fn ok(h: &RunningHub, query: &str) -> Value {
    let body = answer(h, query);
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    body["data"].clone()
}

/// One stored trade flow, as read from the tables.
#[derive(Debug, Clone)]
struct Row {
    source: String,
    priority: i64,
    kind: String,
    /// `YYYY-MM-DD`.
    start: String,
    level: i64,
    partner: String,
    flow: String,
    hs2: String,
    hs4: String,
    value: Option<f64>,
    weight: Option<f64>,
    totals: bool,
}

impl Row {
    fn year(&self) -> i64 {
        self.start[..4].parse().unwrap()
    }
    fn month(&self) -> i64 {
        self.start[5..7].parse().unwrap()
    }
}

fn rows(db: &TestDb) -> Vec<Row> {
    let text = db.query(
        "SELECT s.code, s.priority, t.period_kind, CAST(t.period_start AS TEXT), \
         t.aggregate_level, p.iso3, t.flow, COALESCE(t.hs2, ''), COALESCE(t.hs4, ''), \
         t.value_usd, t.net_weight_kg, t.breakdown_key \
         FROM trade_flows t JOIN sources s ON s.id = t.source_id \
         JOIN countries p ON p.id = t.partner_id",
    );
    let num = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    text.lines()
        .map(|l| {
            let c: Vec<&str> = l.split('|').collect();
            Row {
                source: c[0].to_owned(),
                priority: c[1].parse().unwrap(),
                kind: c[2].to_owned(),
                start: c[3].to_owned(),
                level: c[4].parse().unwrap(),
                partner: c[5].to_owned(),
                flow: c[6].to_owned(),
                hs2: c[7].to_owned(),
                hs4: c[8].to_owned(),
                value: num(c[9]),
                weight: num(c[10]),
                totals: c[11].is_empty(),
            }
        })
        .collect()
}

/// A group's measures, added up here.
#[derive(Debug, Default, Clone)]
struct Measures {
    count: i64,
    value: Option<f64>,
    weight: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl Measures {
    fn add(&mut self, r: &Row) {
        self.count += 1;
        if let Some(v) = r.value {
            self.value = Some(self.value.unwrap_or(0.0) + v);
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
        if let Some(w) = r.weight {
            self.weight = Some(self.weight.unwrap_or(0.0) + w);
        }
    }
}

fn close(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: {got} where none was expected"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {got}, expected {w}"));
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{what}: {g}, expected {w}"
            );
        }
    }
}

/// Checks an answer's groups, in order, against `want` (keys as JSON, measures).
fn check_groups(engine: Engine, got: &Value, want: &[(Value, Measures)]) {
    let groups = got["groups"].as_array().unwrap();
    let keys: Vec<&Value> = groups.iter().map(|g| &g["keys"]).collect();
    let want_keys: Vec<&Value> = want.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, want_keys, "{engine}: group keys");
    for (g, (k, m)) in groups.iter().zip(want) {
        let what = format!("{engine} {k}");
        assert_eq!(g["count"], json!(m.count), "{what}: count");
        close(&g["sum"]["valueUsd"], m.value, &format!("{what}: sum"));
        close(
            &g["sum"]["netWeightKg"],
            m.weight,
            &format!("{what}: weight"),
        );
        close(&g["min"]["valueUsd"], m.min, &format!("{what}: min"));
        close(&g["max"]["valueUsd"], m.max, &format!("{what}: max"));
    }
}

/// Every key field of a group, null but the ones given.
fn keys(set: &[(&str, Value)]) -> Value {
    let mut k = json!({
        "year": null, "fiscalYear": null, "quarter": null, "month": null,
        "reporter": null, "partner": null, "flow": null, "classification": null,
        "hs2": null, "hs4": null, "hs6": null, "source": null
    });
    for (name, v) in set {
        k[*name] = v.clone();
    }
    k
}

const KEYS: &str = "keys { year fiscalYear quarter month reporter partner flow classification hs2 hs4 hs6 source }";
const MEASURES: &str =
    "count sum { valueUsd netWeightKg quantity quantityUnit } min { valueUsd } max { valueUsd }";

fn aggregate(h: &RunningHub, args: &str) -> Value {
    let q = format!(
        "{{ a: tradeFlowsAggregate({args}) {{ source sourceChosenByPriority periodKind \
         aggregateLevel worldRowsExcluded notes totalGroups groups {{ {KEYS} {MEASURES} }} }} }}"
    );
    ok(h, &q)["a"].clone()
}

/// The monthly file of the second source: exports of heading 9018 to two partners, each
/// month of FY2019-20 and July 2020; `(month start, partner ISO3, value)` of every row.
const MONTHLY_SOURCE: &str = "test-monthly";

fn monthly_file(db: &TestDb) -> (std::path::PathBuf, Vec<(String, String, f64)>) {
    let header = "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,\
reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,\
partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,\
cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,\
qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,\
isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,\
legacyEstimationFlag,isReported,isAggregate";
    let mut text = format!("{header}\n");
    let mut written = Vec::new();
    let months: Vec<(i32, u32)> = (7..=12)
        .map(|m| (2019, m))
        .chain((1..=7).map(|m| (2020, m)))
        .collect();
    for (i, (y, m)) in months.iter().enumerate() {
        for (code, iso3) in [(842, "USA"), (276, "DEU")] {
            let value = 1_000.0 * (i as f64 + 1.0) + if iso3 == "USA" { 7.0 } else { 3.0 };
            text.push_str(&format!(
                "C,M,{y}{m:02}01,{y},{m},{y}{m:02},586,PAK,Pakistan,X,Export,{code},{iso3},P,0,W00,\
                 World,H5,HS,True,9018,Instruments,4,0,C00,TOTAL CPC,0,0,TOTAL MOT,-1,N/A,,False,\
                 -1,N/A,,False,,False,,False,,{value},{value},0,True,False\n"
            ));
            written.push((format!("{y}-{m:02}-01"), iso3.to_owned(), value));
        }
    }
    let path = db.data_path().join("monthly_9018.csv");
    fs::write(&path, text).unwrap();
    (path, written)
}

#[test]
fn trade_aggregates_add_one_source_one_period_kind_and_one_level_on_every_engine() {
    for engine in engines() {
        let (db, h) = demo_as_analyst(engine);
        let (file, monthly) = monthly_file(&db);
        let (imported, report) = import_json(&db, &file, &["--source", MONTHLY_SOURCE]);
        assert!(imported, "{engine}: {report:#}");
        let all = rows(&db);
        assert!(all.iter().any(|r| r.source == MONTHLY_SOURCE));

        // Exports of heading 9018 by year: two sources report them; the one with the lowest
        // priority is added, its annual flows at level 4, World apart.
        let selected =
            |r: &&Row| r.hs4 == "9018" && r.flow == "export" && r.partner != "W00" && r.totals;
        let best = all
            .iter()
            .filter(selected)
            .map(|r| (r.priority, r.source.clone()))
            .min()
            .unwrap()
            .1;
        let mut by_year: BTreeMap<i64, Measures> = BTreeMap::new();
        for r in all
            .iter()
            .filter(selected)
            .filter(|r| r.source == best && r.kind == "year" && r.level == 4)
        {
            by_year.entry(r.year()).or_default().add(r);
        }
        assert!(by_year.len() >= 5, "{engine}: {by_year:?}");
        // Asked first for its count and value only: those are computed alone, and the kept
        // answer never serves the same question asking for every measure (next).
        let few = ok(
            &h,
            r#"{ a: tradeFlowsAggregate(filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}}, groupBy: [YEAR]) { groups { keys { year } count sum { valueUsd } } } }"#,
        )["a"]["groups"]
            .clone();
        let few = few.as_array().unwrap();
        assert_eq!(few.len(), by_year.len(), "{engine}: {few:?}");
        for (g, (year, m)) in few.iter().zip(&by_year) {
            let what = format!("{engine} {year} (count and value only)");
            assert_eq!(g["keys"]["year"], json!(year), "{what}");
            assert_eq!(g["count"], json!(m.count), "{what}: count");
            close(&g["sum"]["valueUsd"], m.value, &format!("{what}: sum"));
        }
        let got = aggregate(
            &h,
            r#"filter: {hsCode: {startsWith: "9018"}, flow: {eq: EXPORT}}, groupBy: [YEAR]"#,
        );
        assert_eq!(got["source"], json!(best), "{engine}");
        assert_eq!(got["sourceChosenByPriority"], json!(true), "{engine}");
        assert_eq!(got["periodKind"], json!("YEAR"), "{engine}");
        assert_eq!(got["aggregateLevel"], json!(4), "{engine}");
        assert_eq!(got["worldRowsExcluded"], json!(true), "{engine}");
        assert_eq!(got["totalGroups"], json!(by_year.len()), "{engine}");
        let want: Vec<(Value, Measures)> = by_year
            .iter()
            .map(|(y, m)| (keys(&[("year", json!(y))]), m.clone()))
            .collect();
        check_groups(engine, &got, &want);
        let notes = got["notes"].to_string();
        assert!(
            notes.contains("W00") && notes.contains(&best),
            "{engine}: {notes}"
        );

        // The same by year and partner, largest first, groups of at least two flows, top 5.
        let mut by_partner: BTreeMap<(i64, String), Measures> = BTreeMap::new();
        for r in all
            .iter()
            .filter(selected)
            .filter(|r| r.source == best && r.kind == "year" && r.level == 4)
        {
            by_partner
                .entry((r.year(), r.partner.clone()))
                .or_default()
                .add(r);
        }
        let mut kept: Vec<_> = by_partner
            .into_iter()
            .filter(|(_, m)| m.count >= 2)
            .collect();
        kept.sort_by(|a, b| {
            b.1.value
                .partial_cmp(&a.1.value)
                .unwrap()
                .then_with(|| a.0.cmp(&b.0))
        });
        let total = kept.len();
        let want: Vec<(Value, Measures)> = kept
            .into_iter()
            .take(5)
            .map(|((y, p), m)| (keys(&[("year", json!(y)), ("partner", json!(p))]), m))
            .collect();
        let got = aggregate(
            &h,
            &format!(
                r#"filter: {{hsCode: {{startsWith: "9018"}}, flow: {{eq: EXPORT}}, source: {{eq: "{best}"}}}},
                   groupBy: [YEAR, PARTNER], having: {{count: {{gte: 2}}}},
                   orderBy: [{{field: SUM_VALUE_USD, direction: DESC}}], first: 5"#
            ),
        );
        assert_eq!(got["sourceChosenByPriority"], json!(false), "{engine}");
        assert_eq!(got["totalGroups"], json!(total), "{engine}");
        check_groups(engine, &got, &want);

        // Chapter 61 without grouping: one group of the chapter rows (level 2), never with
        // the headings and subheadings under them, which report the same trade again.
        let chapter = |level: i64| {
            let mut m = Measures::default();
            for r in all.iter().filter(|r| {
                r.source == best
                    && r.hs2 == "61"
                    && r.flow == "export"
                    && r.partner != "W00"
                    && r.totals
                    && r.kind == "year"
                    && r.level == level
            }) {
                m.add(r);
            }
            m
        };
        let (ch, headings) = (chapter(2), chapter(4));
        assert!(ch.count > 0 && headings.count > 0, "{engine}");
        let got = aggregate(
            &h,
            &format!(
                r#"filter: {{hsCode: {{startsWith: "61"}}, flow: {{eq: EXPORT}}, source: {{eq: "{best}"}}}}"#
            ),
        );
        assert_eq!(got["aggregateLevel"], json!(2), "{engine}");
        check_groups(engine, &got, &[(keys(&[]), ch)]);
        // Grouped by heading, the headings' own rows (level 4) are added.
        let mut by_heading: BTreeMap<String, Measures> = BTreeMap::new();
        for r in all.iter().filter(|r| {
            r.source == best
                && r.hs2 == "61"
                && r.flow == "export"
                && r.partner != "W00"
                && r.totals
                && r.kind == "year"
                && r.level == 4
        }) {
            by_heading.entry(r.hs4.clone()).or_default().add(r);
        }
        let got = aggregate(
            &h,
            &format!(
                r#"filter: {{hsCode: {{startsWith: "61"}}, flow: {{eq: EXPORT}}, source: {{eq: "{best}"}}}}, groupBy: [HS4]"#
            ),
        );
        assert_eq!(got["aggregateLevel"], json!(4), "{engine}");
        let want: Vec<(Value, Measures)> = by_heading
            .into_iter()
            .map(|(k, m)| (keys(&[("hs4", json!(k))]), m))
            .collect();
        check_groups(engine, &got, &want);

        // World rows only when asked for: the totals of all commodities (level 0) by year.
        let mut world: BTreeMap<i64, Measures> = BTreeMap::new();
        for r in all.iter().filter(|r| {
            r.source == best
                && r.partner == "W00"
                && r.flow == "export"
                && r.totals
                && r.kind == "year"
                && r.level == 0
        }) {
            world.entry(r.year()).or_default().add(r);
        }
        assert!(!world.is_empty(), "{engine}");
        let got = aggregate(
            &h,
            r#"filter: {partner: {eq: "W00"}, flow: {eq: EXPORT}}, groupBy: [YEAR]"#,
        );
        assert_eq!(got["worldRowsExcluded"], json!(false), "{engine}");
        assert_eq!(got["aggregateLevel"], json!(0), "{engine}");
        let want: Vec<(Value, Measures)> = world
            .into_iter()
            .map(|(y, m)| (keys(&[("year", json!(y))]), m))
            .collect();
        check_groups(engine, &got, &want);

        // The monthly source: fiscal years, quarters and months made of its months, from
        // the values written into its file (FY2020-21 is one month per partner: groups of
        // one flow).
        let fy = |start: &str| {
            let (y, m): (i64, i64) = (start[..4].parse().unwrap(), start[5..7].parse().unwrap());
            let first = if m < 7 { y - 1 } else { y };
            format!("FY{first}-{:02}", (first + 1) % 100)
        };
        let mut by_fy: BTreeMap<(String, String), Measures> = BTreeMap::new();
        let mut by_quarter: BTreeMap<String, Measures> = BTreeMap::new();
        for (start, partner, value) in &monthly {
            let row = Row {
                source: MONTHLY_SOURCE.to_owned(),
                priority: 0,
                kind: "month".to_owned(),
                start: start.clone(),
                level: 4,
                partner: partner.clone(),
                flow: "export".to_owned(),
                hs2: "90".to_owned(),
                hs4: "9018".to_owned(),
                value: Some(*value),
                weight: None,
                totals: true,
            };
            by_fy
                .entry((fy(start), partner.clone()))
                .or_default()
                .add(&row);
            let q = (row.month() - 1) / 3 + 1;
            by_quarter
                .entry(format!("{}-Q{q}", row.year()))
                .or_default()
                .add(&row);
        }
        let got = aggregate(
            &h,
            &format!(
                r#"filter: {{source: {{eq: "{MONTHLY_SOURCE}"}}}}, groupBy: [FISCAL_YEAR, PARTNER]"#
            ),
        );
        assert_eq!(got["periodKind"], json!("MONTH"), "{engine}");
        let want: Vec<(Value, Measures)> = by_fy
            .into_iter()
            .map(|((f, p), m)| (keys(&[("fiscalYear", json!(f)), ("partner", json!(p))]), m))
            .collect();
        assert!(want.iter().any(|(_, m)| m.count == 1), "{engine}");
        check_groups(engine, &got, &want);
        let got = aggregate(
            &h,
            &format!(r#"filter: {{source: {{eq: "{MONTHLY_SOURCE}"}}}}, groupBy: [QUARTER]"#),
        );
        let want: Vec<(Value, Measures)> = by_quarter
            .into_iter()
            .map(|(q, m)| (keys(&[("quarter", json!(q))]), m))
            .collect();
        check_groups(engine, &got, &want);
        let got = aggregate(
            &h,
            &format!(
                r#"filter: {{source: {{eq: "{MONTHLY_SOURCE}"}}, partner: {{eq: "USA"}}}}, groupBy: [MONTH], orderBy: [{{field: MONTH, direction: DESC}}], first: 2"#
            ),
        );
        assert_eq!(got["totalGroups"], json!(13), "{engine}");
        let months: Vec<&Value> = got["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["keys"]["month"])
            .collect();
        assert_eq!(months, [&json!("2020-07"), &json!("2020-06")], "{engine}");

        // Annual flows cannot make months: no groups, and the answer says why.
        let got = aggregate(
            &h,
            &format!(r#"filter: {{source: {{eq: "{best}"}}}}, groupBy: [MONTH]"#),
        );
        assert_eq!(got["groups"], json!([]), "{engine}");
        assert!(
            got["notes"].to_string().contains("Month"),
            "{engine}: {got}"
        );

        // Refusals name the argument.
        for (args, word) in [
            ("groupBy: [YEAR], orderBy: [{field: PARTNER}]", "orderBy"),
            ("first: 10001", "first"),
            ("groupBy: [YEAR, YEAR]", "groupBy"),
        ] {
            let body = answer(
                &h,
                &format!("{{ tradeFlowsAggregate({args}) {{ totalGroups }} }}"),
            );
            let e = &body["errors"][0];
            assert_eq!(
                e["extensions"]["code"],
                json!("BAD_USER_INPUT"),
                "{engine}: {body}"
            );
            assert!(
                e["message"].as_str().unwrap().contains(word),
                "{engine}: {body}"
            );
        }
        // The most groups an aggregate returns is within the cost limit: one statement.
        ok(
            &h,
            &format!(
                "{{ tradeFlowsAggregate(first: 10000, groupBy: [HS6, PARTNER]) {{ groups {{ {KEYS} {MEASURES} }} }} }}"
            ),
        );
    }
}

/// One firm as stored: its current figures and what the statistics group it by.
#[derive(Debug, Clone)]
struct FirmRow {
    id: i64,
    district: Option<String>,
    size_class: Option<String>,
    total: Option<i64>,
    female: Option<i64>,
    /// The period of its head count, from `figures`.
    start: Option<String>,
    end: Option<String>,
}

fn firm_rows(db: &TestDb) -> Vec<FirmRow> {
    let text = db.query(
        "SELECT o.id, COALESCE(d.name, ''), COALESCE(o.size_class, ''), o.employees_total, \
         o.employees_female, COALESCE(CAST(o.figures AS TEXT), '') \
         FROM organisations o LEFT JOIN admin_areas d ON d.id = o.district_id \
         WHERE o.kind = 'firm' AND o.merged_into_id IS NULL",
    );
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    text.lines()
        .map(|l| {
            // The figures JSON is the last column and may hold `|`: split the others off.
            let c: Vec<&str> = l.splitn(6, '|').collect();
            let figures: Value = if c[5].is_empty() {
                Value::Null
            } else {
                serde_json::from_str(c[5]).unwrap()
            };
            let period = |f: &str| figures["employees_total"][f].as_str().map(str::to_owned);
            FirmRow {
                id: c[0].parse().unwrap(),
                district: opt(c[1]),
                size_class: opt(c[2]),
                total: opt(c[3]).map(|v| v.parse().unwrap()),
                female: opt(c[4]).map(|v| v.parse().unwrap()),
                start: period("period_start"),
                end: period("period_end"),
            }
        })
        .collect()
}

/// Firm measures, added up here.
#[derive(Debug, Default, Clone)]
struct FirmMeasures {
    firms: i64,
    with: i64,
    employees: Option<i64>,
    female: Option<i64>,
    both_female: i64,
    both_total: i64,
    start: Option<String>,
    end: Option<String>,
    undated: i64,
}

impl FirmMeasures {
    fn add(&mut self, f: &FirmRow) {
        self.firms += 1;
        if let Some(t) = f.total {
            self.with += 1;
            self.employees = Some(self.employees.unwrap_or(0) + t);
            if f.start.is_none() {
                self.undated += 1;
            }
        }
        if let Some(w) = f.female {
            self.female = Some(self.female.unwrap_or(0) + w);
        }
        if let (Some(t), Some(w)) = (f.total, f.female) {
            self.both_total += t;
            self.both_female += w;
        }
        if let Some(s) = &f.start {
            self.start = Some(self.start.clone().map_or(s.clone(), |m| m.min(s.clone())));
        }
        if let Some(e) = &f.end {
            self.end = Some(self.end.clone().map_or(e.clone(), |m| m.max(e.clone())));
        }
    }

    fn check(&self, got: &Value, what: &str) {
        assert_eq!(got["firms"], json!(self.firms), "{what}: firms");
        assert_eq!(got["firmsWithEmployees"], json!(self.with), "{what}: with");
        assert_eq!(got["employees"], json!(self.employees), "{what}: employees");
        assert_eq!(got["femaleEmployees"], json!(self.female), "{what}: female");
        let share = (self.both_total > 0).then(|| self.both_female as f64 / self.both_total as f64);
        close(&got["shareFemale"], share, &format!("{what}: share"));
        let a = &got["employeesAsOf"];
        assert_eq!(a["earliestStart"], json!(self.start), "{what}: start");
        assert_eq!(a["latestEnd"], json!(self.end), "{what}: end");
        assert_eq!(a["undated"], json!(self.undated), "{what}: undated");
    }
}

/// A key as the groups are ordered: NULL after every value.
fn last<T: Default + Clone>(v: &Option<T>) -> (bool, T) {
    (v.is_none(), v.clone().unwrap_or_default())
}

const FIRM_GROUP: &str = "keys { cluster district tehsil sizeClass industry } firms \
    firmsWithEmployees employees femaleEmployees shareFemale \
    employeesAsOf { earliestStart latestEnd undated }";

/// One participation as stored, with what the statistics group it by.
#[derive(Debug, Clone)]
struct Part {
    person: Option<i64>,
    org: Option<i64>,
    event: i64,
    sex: Option<String>,
    completed: Option<bool>,
    gain: Option<f64>,
    cluster: Option<String>,
    year: Option<i64>,
}

fn parts(db: &TestDb) -> Vec<Part> {
    let text = db.query(
        "SELECT COALESCE(pe.merged_into_id, p.person_id), p.organisation_id, \
         p.training_event_id, COALESCE(p.sex, ''), p.completed, p.pre_score, p.post_score, \
         COALESCE(c.slug, ''), CAST(e.start_date AS TEXT) \
         FROM participations p JOIN training_events e ON e.id = p.training_event_id \
         LEFT JOIN persons pe ON pe.id = p.person_id \
         LEFT JOIN clusters c ON c.id = e.cluster_id",
    );
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    text.lines()
        .map(|l| {
            let c: Vec<&str> = l.split('|').collect();
            let num = |s: &str| opt(s).map(|v| v.parse::<f64>().unwrap());
            Part {
                person: opt(c[0]).map(|v| v.parse().unwrap()),
                org: opt(c[1]).map(|v| v.parse().unwrap()),
                event: c[2].parse().unwrap(),
                sex: opt(c[3]),
                completed: opt(c[4]).map(|v| matches!(v.as_str(), "t" | "1" | "true")),
                gain: num(c[5]).zip(num(c[6])).map(|(pre, post)| post - pre),
                cluster: opt(c[7]),
                year: opt(c[8]).map(|d| d[..4].parse().unwrap()),
            }
        })
        .collect()
}

fn check_training(got: &Value, group: &[&Part], what: &str) {
    use std::collections::BTreeSet;
    let distinct = |f: &dyn Fn(&Part) -> Option<i64>| {
        group
            .iter()
            .filter_map(|p| f(p))
            .collect::<BTreeSet<_>>()
            .len()
    };
    assert_eq!(
        got["participations"],
        json!(group.len()),
        "{what}: participations"
    );
    assert_eq!(
        got["persons"],
        json!(distinct(&|p| p.person)),
        "{what}: persons"
    );
    assert_eq!(got["firms"], json!(distinct(&|p| p.org)), "{what}: firms");
    assert_eq!(
        got["events"],
        json!(distinct(&|p| Some(p.event))),
        "{what}: events"
    );
    let completed = group.iter().filter(|p| p.completed == Some(true)).count();
    let recorded = group.iter().filter(|p| p.completed.is_some()).count();
    assert_eq!(got["completed"], json!(completed), "{what}: completed");
    let rate = (recorded > 0).then(|| completed as f64 / recorded as f64);
    close(&got["completionRate"], rate, &format!("{what}: rate"));
    let gains: Vec<f64> = group.iter().filter_map(|p| p.gain).collect();
    assert_eq!(got["scored"], json!(gains.len()), "{what}: scored");
    let mean = (!gains.is_empty()).then(|| gains.iter().sum::<f64>() / gains.len() as f64);
    close(&got["meanScoreGain"], mean, &format!("{what}: gain"));
}

const TRAINING_GROUP: &str = "keys { cluster year sex course provider } participations persons \
    firms events completed completionRate scored meanScoreGain";

#[test]
fn firm_and_training_statistics_match_the_stored_rows_on_every_engine() {
    for engine in engines() {
        let (db, h) = demo_as_analyst(engine);
        let firms = firm_rows(&db);
        let by_id: BTreeMap<i64, &FirmRow> = firms.iter().map(|f| (f.id, f)).collect();
        let links = db.query(
            "SELECT DISTINCT m.organisation_id, c.slug FROM cluster_memberships m \
             JOIN clusters c ON c.id = m.cluster_id",
        );

        // All firms, one group.
        let mut all = FirmMeasures::default();
        firms.iter().for_each(|f| all.add(f));
        let got = ok(
            &h,
            &format!("{{ s: firmStatistics {{ totalGroups groups {{ {FIRM_GROUP} }} }} }}"),
        );
        assert_eq!(got["s"]["totalGroups"], json!(1), "{engine}");
        all.check(&got["s"]["groups"][0], &format!("{engine} all firms"));

        // By cluster and size class: a firm counts in each of its clusters.
        let mut want: BTreeMap<(String, (bool, String)), FirmMeasures> = BTreeMap::new();
        for l in links.lines() {
            let (id, slug) = l.split_once('|').unwrap();
            let Some(f) = by_id.get(&id.parse::<i64>().unwrap()) else {
                continue;
            };
            want.entry((slug.to_owned(), last(&f.size_class)))
                .or_default()
                .add(f);
        }
        let got = ok(
            &h,
            &format!(
                "{{ s: firmStatistics(groupBy: [CLUSTER, SIZE_CLASS]) {{ totalGroups notes groups {{ {FIRM_GROUP} }} }} }}"
            ),
        );
        let groups = got["s"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), want.len(), "{engine}: {got:#}");
        for (g, ((slug, (_, size)), m)) in groups.iter().zip(&want) {
            assert_eq!(g["keys"]["cluster"], json!(slug), "{engine}");
            assert_eq!(
                g["keys"]["sizeClass"].as_str().unwrap_or(""),
                size,
                "{engine}"
            );
            m.check(g, &format!("{engine} {slug} {size}"));
        }
        assert!(
            got["s"]["notes"].to_string().contains("several clusters"),
            "{engine}"
        );

        // The surgical cluster's firms by district, largest employer first.
        let surgical: Vec<i64> = links
            .lines()
            .filter_map(|l| l.split_once('|'))
            .filter(|(_, s)| *s == "sialkot-surgical")
            .map(|(id, _)| id.parse().unwrap())
            .collect();
        let mut by_district: BTreeMap<(bool, String), FirmMeasures> = BTreeMap::new();
        for id in &surgical {
            if let Some(f) = by_id.get(id) {
                by_district.entry(last(&f.district)).or_default().add(f);
            }
        }
        let mut want: Vec<_> = by_district.into_iter().collect();
        // Largest first, groups without a sum last (NULLs last whatever the direction).
        want.sort_by_key(|(k, m)| {
            (
                m.employees.is_none(),
                std::cmp::Reverse(m.employees),
                k.clone(),
            )
        });
        let got = ok(
            &h,
            &format!(
                r#"{{ s: firmStatistics(filter: {{cluster: {{slug: {{eq: "sialkot-surgical"}}}}}}, groupBy: [DISTRICT], orderBy: [{{field: EMPLOYEES, direction: DESC}}]) {{ groups {{ {FIRM_GROUP} }} }} }}"#
            ),
        );
        let groups = got["s"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), want.len(), "{engine}: {got:#}");
        for (g, ((_, district), m)) in groups.iter().zip(&want) {
            assert_eq!(
                g["keys"]["district"].as_str().unwrap_or(""),
                district,
                "{engine}"
            );
            m.check(g, &format!("{engine} surgical {district}"));
        }

        // Training: everyone, then by cluster, year and sex.
        let ps = parts(&db);
        assert!(ps.len() > 100, "{engine}");
        let got = ok(
            &h,
            &format!(
                "{{ s: trainingStatistics {{ totalGroups notes groups {{ {TRAINING_GROUP} }} }} }}"
            ),
        );
        let everyone: Vec<&Part> = ps.iter().collect();
        check_training(&got["s"]["groups"][0], &everyone, &format!("{engine} all"));
        assert!(
            got["s"]["groups"][0]["persons"].as_i64().unwrap() < ps.len() as i64,
            "{engine}: some people took part more than once"
        );
        type Key = ((bool, String), (bool, i64), (bool, String));
        let mut want: BTreeMap<Key, Vec<&Part>> = BTreeMap::new();
        for p in &ps {
            want.entry((last(&p.cluster), last(&p.year), last(&p.sex)))
                .or_default()
                .push(p);
        }
        let got = ok(
            &h,
            &format!(
                "{{ s: trainingStatistics(groupBy: [CLUSTER, YEAR, SEX]) {{ totalGroups groups {{ {TRAINING_GROUP} }} }} }}"
            ),
        );
        let groups = got["s"]["groups"].as_array().unwrap();
        assert_eq!(got["s"]["totalGroups"], json!(want.len()), "{engine}");
        assert_eq!(groups.len(), want.len(), "{engine}");
        for (g, (((_, cluster), (_, year), (_, sex)), group)) in groups.iter().zip(&want) {
            let k = &g["keys"];
            assert_eq!(k["cluster"].as_str().unwrap_or(""), cluster, "{engine}");
            assert_eq!(k["year"].as_i64().unwrap_or(0), *year, "{engine}");
            assert_eq!(k["sex"].as_str().unwrap_or(""), sex, "{engine}");
            check_training(g, group, &format!("{engine} {cluster} {year} {sex}"));
        }
        // Women trained, by having: the groups with at least 5 distinct persons.
        let got = ok(
            &h,
            &format!(
                r#"{{ s: trainingStatistics(filter: {{sex: {{eq: "female"}}}}, groupBy: [CLUSTER], having: {{persons: {{gte: 5}}}}) {{ groups {{ {TRAINING_GROUP} }} }} }}"#
            ),
        );
        let mut women: BTreeMap<(bool, String), Vec<&Part>> = BTreeMap::new();
        for p in ps.iter().filter(|p| p.sex.as_deref() == Some("female")) {
            women.entry(last(&p.cluster)).or_default().push(p);
        }
        women.retain(|_, g| {
            g.iter()
                .filter_map(|p| p.person)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                >= 5
        });
        let groups = got["s"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), women.len(), "{engine}: {got:#}");
        for (g, ((_, cluster), group)) in groups.iter().zip(&women) {
            assert_eq!(
                g["keys"]["cluster"].as_str().unwrap_or(""),
                cluster,
                "{engine}"
            );
            check_training(g, group, &format!("{engine} women {cluster}"));
        }
    }
}

#[test]
fn indicator_results_are_one_request_and_match_the_stored_values_on_every_engine() {
    type Key = (String, u8, String, String);
    /// kind → period start → (source priority, row id, value).
    type Kinds = BTreeMap<String, BTreeMap<String, (i64, i64, f64)>>;
    for engine in engines() {
        let (db, h) = demo_as_analyst(engine);
        // The headline values (no breakdown) of programmes and clusters, one per period: the
        // source ranked first, then the latest written.
        let text = db.query(
            "SELECT i.code, v.scope, COALESCE(p.code, cp.code, ''), COALESCE(c.slug, ''), \
             v.value_type, CAST(v.period_start AS TEXT), v.value, \
             COALESCE(s.priority, 2147483647), v.id \
             FROM indicator_values v JOIN indicators i ON i.id = v.indicator_id \
             LEFT JOIN programmes p ON p.id = v.programme_id \
             LEFT JOIN clusters c ON c.id = v.cluster_id \
             LEFT JOIN programmes cp ON cp.id = c.programme_id \
             LEFT JOIN sources s ON s.id = v.source_id \
             WHERE v.scope IN ('programme', 'cluster') \
             AND (v.breakdown IS NULL OR v.breakdown = '')",
        );
        let mut values: BTreeMap<Key, Kinds> = BTreeMap::new();
        for l in text.lines() {
            let c: Vec<&str> = l.split('|').collect();
            let level = u8::from(c[1] == "cluster");
            let cluster = if level == 1 { c[3] } else { "" };
            let cand = (
                c[7].parse().unwrap(),
                c[8].parse().unwrap(),
                c[6].parse().unwrap(),
            );
            let slot = values
                .entry((c[0].to_owned(), level, c[2].to_owned(), cluster.to_owned()))
                .or_default()
                .entry(c[4].to_owned())
                .or_default()
                .entry(c[5].to_owned())
                .or_insert(cand);
            // Lower priority first, then the later row.
            if (cand.0, std::cmp::Reverse(cand.1)) < (slot.0, std::cmp::Reverse(slot.1)) {
                *slot = cand;
            }
        }
        assert!(values.len() >= 10, "{engine}: {}", values.len());
        let got = ok(
            &h,
            "{ r: indicatorResults { indicator level programme cluster progress onTrack \
             baseline { value periodStart } endTarget { value periodStart } \
             latestActual { value periodStart } targetForLatestActual { value periodStart } } }",
        );
        let got = got["r"].as_array().unwrap();
        assert_eq!(got.len(), values.len(), "{engine}");
        for (g, ((code, level, programme, cluster), kinds)) in got.iter().zip(&values) {
            let what = format!("{engine} {code} {programme} {cluster}");
            assert_eq!(g["indicator"], json!(code), "{what}");
            assert_eq!(
                g["level"],
                json!(if *level == 1 { "CLUSTER" } else { "PROGRAMME" }),
                "{what}"
            );
            assert_eq!(g["programme"].as_str().unwrap_or(""), programme, "{what}");
            assert_eq!(g["cluster"].as_str().unwrap_or(""), cluster, "{what}");
            let first = |k: &str| kinds.get(k).and_then(|m| m.iter().next());
            let last = |k: &str| kinds.get(k).and_then(|m| m.iter().next_back());
            let same =
                |got: &Value, want: Option<(&String, &(i64, i64, f64))>, part: &str| match want {
                    None => assert!(got.is_null(), "{what} {part}: {got}"),
                    Some((start, (_, _, v))) => {
                        assert_eq!(got["periodStart"], json!(start), "{what} {part}");
                        close(&got["value"], Some(*v), &format!("{what} {part}"));
                    }
                };
            let baseline = first("baseline");
            let end = last("target");
            let actual = last("actual");
            let for_actual =
                actual.and_then(|(s, _)| kinds.get("target").and_then(|m| m.get_key_value(s)));
            same(&g["baseline"], baseline, "baseline");
            same(&g["endTarget"], end, "end target");
            same(&g["latestActual"], actual, "latest actual");
            same(
                &g["targetForLatestActual"],
                for_actual,
                "target of the actual's period",
            );
            let (b, t, a) = (
                baseline.map(|x| x.1.2),
                end.map(|x| x.1.2),
                actual.map(|x| x.1.2),
            );
            let progress = match (b, t, a) {
                (Some(b), Some(t), Some(a)) if t != b => Some((a - b) / (t - b)),
                _ => None,
            };
            close(&g["progress"], progress, &format!("{what} progress"));
            let falling = matches!((b, t), (Some(b), Some(t)) if t < b);
            let on_track = a
                .zip(for_actual.map(|x| x.1.2))
                .map(|(a, t)| if falling { a <= t } else { a >= t });
            assert_eq!(g["onTrack"], json!(on_track), "{what} on track");
        }
        // Narrowed to one cluster and one indicator: that row only.
        let got = ok(
            &h,
            r#"{ r: indicatorResults(cluster: "sialkot-surgical", indicator: "CDI-1") { indicator cluster level } }"#,
        );
        assert_eq!(
            got["r"],
            json!([{"indicator": "CDI-1", "cluster": "sialkot-surgical", "level": "CLUSTER"}]),
            "{engine}"
        );
    }
}

/// The HS 2022 → HS 2017 step of the bundled concordance, read from the reference file
/// itself: each HS 2022 subheading → its HS 2017 subheadings; and the HS 2022 subheadings.
fn concordance_2022_to_2017() -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/reference");
    let text = fs::read_to_string(root.join("hs_concordance.csv")).unwrap();
    let mut back: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        if c.len() >= 4 && c[3] == "2022 to 2017" {
            back.entry(c[0].to_owned())
                .or_default()
                .push(c[1].to_owned());
        }
    }
    let codes = fs::read_to_string(root.join("hs2022.csv")).unwrap();
    let subheadings = codes
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    (back, subheadings)
}

#[test]
fn cluster_trade_places_every_revision_in_the_basket_and_reports_what_it_cannot_on_every_engine() {
    let (back, subheadings) = concordance_2022_to_2017();
    for engine in engines() {
        let (db, h) = demo_as_analyst(engine);
        let all = rows(&db);
        let baskets = db.query(
            "SELECT c.slug, cl.code, p.code FROM cluster_products p \
             JOIN clusters c ON c.id = p.cluster_id \
             JOIN classifications cl ON cl.id = p.classification_id ORDER BY c.slug, p.code",
        );
        let mut by_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in baskets.lines() {
            let c: Vec<&str> = l.split('|').collect();
            assert_eq!(
                c[1], "HS2017",
                "{engine}: the demo's baskets are in HS 2017"
            );
            by_cluster
                .entry(c[0].to_owned())
                .or_default()
                .push(c[2].to_owned());
        }
        assert_eq!(by_cluster.len(), 4, "{engine}");
        let classification = db.query(
            "SELECT t.id, cl.code FROM trade_flows t \
             JOIN classifications cl ON cl.id = t.classification_id",
        );
        let revisions: BTreeSet<String> = classification
            .lines()
            .filter_map(|l| l.split('|').nth(1))
            .map(str::to_owned)
            .collect();
        assert!(
            revisions.contains("HS2017") && revisions.contains("HS2022"),
            "{engine}: the demo's trade straddles a revision change: {revisions:?}"
        );
        // The classification of every flow, by the row order of `rows` (read again with it).
        let with_cls = db.query(
            "SELECT cl.code, p.iso3, t.flow, t.aggregate_level, CAST(t.period_start AS TEXT), \
             COALESCE(t.hs2, ''), COALESCE(t.hs4, ''), COALESCE(t.hs6, ''), t.value_usd, \
             t.breakdown_key, s.code, r.iso3 \
             FROM trade_flows t JOIN classifications cl ON cl.id = t.classification_id \
             JOIN countries p ON p.id = t.partner_id JOIN countries r ON r.id = t.reporter_id \
             JOIN sources s ON s.id = t.source_id",
        );
        let flows: Vec<Vec<String>> = with_cls
            .lines()
            .map(|l| l.split('|').map(str::to_owned).collect())
            .collect();
        assert_eq!(flows.len(), all.len(), "{engine}");
        let world_total: BTreeMap<i64, f64> = flows
            .iter()
            .filter(|f| f[1] == "W00" && f[2] == "export" && f[3] == "0" && f[11] == "PAK")
            .map(|f| (f[4][..4].parse().unwrap(), f[8].parse().unwrap()))
            .collect();

        for (slug, items) in &by_cluster {
            let level = items.iter().map(|i| i.len()).max().unwrap();
            // Where an HS 2022 code of `level` digits goes: Some(true) inside, Some(false)
            // split across the boundary, None outside.
            let place = |code: &str| -> Option<bool> {
                let befores: Vec<&String> = subheadings
                    .iter()
                    .filter(|s| s.starts_with(code))
                    .flat_map(|s| back.get(s).into_iter().flatten())
                    .collect();
                let inside = befores
                    .iter()
                    .filter(|b| items.iter().any(|i| b.starts_with(i.as_str())))
                    .count();
                match inside {
                    0 => None,
                    n if n == befores.len() => {
                        // Inside one item only (a code split between two items is split).
                        let hit: BTreeSet<&String> = befores
                            .iter()
                            .filter_map(|b| items.iter().find(|i| b.starts_with(i.as_str())))
                            .collect();
                        Some(hit.len() == 1)
                    }
                    _ => Some(false),
                }
            };
            let mut want: BTreeMap<i64, (f64, i64, f64, BTreeSet<String>)> = BTreeMap::new();
            for f in &flows {
                let code = match level {
                    2 => &f[5],
                    4 => &f[6],
                    _ => &f[7],
                };
                if f[2] != "export"
                    || f[3] != level.to_string()
                    || f[1] == "W00"
                    || !f[9].is_empty()
                    || f[11] != "PAK"
                    || f[10] != "un-comtrade"
                {
                    continue;
                }
                let year: i64 = f[4][..4].parse().unwrap();
                let value: f64 = f[8].parse().unwrap_or(0.0);
                let where_to = match f[0].as_str() {
                    "HS2017" => items
                        .iter()
                        .any(|i| code.starts_with(i.as_str()))
                        .then_some(true),
                    "HS2022" => place(code),
                    other => panic!("{engine}: a flow in {other}"),
                };
                let e = want.entry(year).or_default();
                match where_to {
                    Some(true) => {
                        e.0 += value;
                        e.1 += 1;
                    }
                    Some(false) => {
                        e.2 += value;
                        e.3.insert(format!("{}:{code}", f[0]));
                    }
                    None => {}
                }
            }
            let got = ok(
                &h,
                &format!(
                    r#"{{ cluster(slug: "{slug}") {{ trade {{ revision basket source aggregateLevel groups {{
                        year partner valueUsd flows reportedIn notPlacedValueUsd
                        notPlaced {{ code classification valueUsd reason }} totalValueUsd shareOfTotal }} }} }} }}"#
                ),
            );
            let t = &got["cluster"]["trade"];
            let what = format!("{engine} {slug}");
            assert_eq!(t["revision"], json!("HS2017"), "{what}");
            assert_eq!(t["basket"], json!(items), "{what}");
            assert_eq!(t["aggregateLevel"], json!(level), "{what}");
            let groups = t["groups"].as_array().unwrap();
            let years: Vec<i64> = groups.iter().map(|g| g["year"].as_i64().unwrap()).collect();
            assert_eq!(years, want.keys().copied().collect::<Vec<_>>(), "{what}");
            for (g, (year, (value, count, split, codes))) in groups.iter().zip(&want) {
                let what = format!("{what} {year}");
                close(
                    &g["valueUsd"],
                    (*count > 0).then_some(*value),
                    &format!("{what} value"),
                );
                assert_eq!(g["flows"], json!(count), "{what}");
                let got_codes: BTreeSet<String> = g["notPlaced"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| {
                        assert!(
                            n["reason"].as_str().unwrap().contains("outside"),
                            "{what}: {n}"
                        );
                        format!(
                            "{}:{}",
                            n["classification"].as_str().unwrap(),
                            n["code"].as_str().unwrap()
                        )
                    })
                    .collect();
                assert_eq!(&got_codes, codes, "{what}: not placed");
                close(
                    &g["notPlacedValueUsd"],
                    (!codes.is_empty()).then_some(*split),
                    &format!("{what} not placed"),
                );
                let total = world_total.get(year).copied();
                close(&g["totalValueUsd"], total, &format!("{what} total"));
                let share = total.filter(|_| *count > 0).map(|t| value / t);
                close(&g["shareOfTotal"], share, &format!("{what} share"));
            }
        }
        // The surgical basket's HS 2022 heading 9021 gained parts of 7317, 7318 and 8108: it
        // cannot be placed, and says so.
        let got = ok(
            &h,
            r#"{ cluster(slug: "sialkot-surgical") { trade(years: {eq: 2023}, groupBy: [YEAR, PARTNER]) { groups { year partner valueUsd notPlaced { code reason } } } } }"#,
        );
        let groups = got["cluster"]["trade"]["groups"].as_array().unwrap();
        assert!(groups.len() > 1, "{engine}: {got}");
        assert!(
            groups
                .iter()
                .all(|g| g["year"] == json!(2023) && g["partner"].is_string())
        );
        let reasons = got.to_string();
        assert!(
            reasons.contains("9021") && reasons.contains("7318"),
            "{engine}: {reasons}"
        );
    }
}

/// Whether two answers are the same, numbers within a relative 1e-9 (a mean or a share
/// added up in another order may differ in its last bits).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn rollups_answer_as_the_live_count_and_imports_refresh_them_on_every_engine() {
    for engine in engines() {
        // The key is read once and kept: the statements counted below are the answers'.
        let (db, h) = demo_as_analyst_with(engine, &[("HUB__ACCESS__KEY_CACHE_MS", "600000")]);
        let reflected = || {
            (
                db.query_scalar("SELECT value FROM hub_meta WHERE key = 'statistics_rollups'")
                    .split('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                db.query_scalar("SELECT CAST(last_seq AS TEXT) FROM change_counter"),
            )
        };
        let (at, now) = reflected();
        assert_eq!(at, now, "{engine}: the rollups reflect the last change");

        // Every grouping set of both statistics: the stored rollup (no filter) answers as
        // the live count does (an empty filter counts live), with `having` and `orderBy`.
        let statistics = [
            (
                "firmStatistics",
                ["CLUSTER", "DISTRICT", "TEHSIL", "SIZE_CLASS", "INDUSTRY"],
                FIRM_GROUP,
                "having: {firms: {gte: 2}}, orderBy: [{field: EMPLOYEES, direction: DESC}]",
            ),
            (
                "trainingStatistics",
                ["CLUSTER", "YEAR", "SEX", "COURSE", "PROVIDER"],
                TRAINING_GROUP,
                "having: {persons: {gte: 2}}, orderBy: [{field: PERSONS, direction: DESC}]",
            ),
        ];
        for (field, dims, group, rest) in statistics {
            for mask in 0..32u32 {
                let by: Vec<&str> = (0..5)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| dims[i])
                    .collect();
                let query = |filter: &str| {
                    format!(
                        "{{ s: {field}({filter}groupBy: [{}], {rest}) {{ totalGroups notes groups {{ {group} }} }} }}",
                        by.join(", ")
                    )
                };
                let rolled = ok(&h, &query(""));
                let live = ok(&h, &query("filter: {}, "));
                assert!(
                    same(&rolled, &live),
                    "{engine} {field} by {by:?}:\nrollup {rolled:#}\nlive {live:#}"
                );
                if mask == 0 {
                    assert!(
                        rolled["s"]["groups"].as_array().unwrap().len() == 1,
                        "{engine} {field}: {rolled:#}"
                    );
                }
            }
        }

        // The rollup is what answers: a stored count changed by hand shows...
        let firms = || {
            ok(&h, "{ s: firmStatistics { groups { firms } } }")["s"]["groups"][0]["firms"]
                .as_i64()
                .unwrap()
        };
        let truth = firms();
        db.query("UPDATE firm_statistics_rollup SET firms = firms + 1000 WHERE grouping = 0");
        assert_eq!(firms(), truth + 1000, "{engine}: read from the rollup");
        // The same for a cluster's trade.
        let trade = |by: &str| {
            ok(
                &h,
                &format!(
                    r#"{{ cluster(slug: "sialkot-surgical") {{ trade(groupBy: [{by}]) {{ revision source periodKind aggregateLevel notes groups {{ year partner valueUsd flows reportedIn notPlaced {{ code classification valueUsd reason }} notPlacedValueUsd totalValueUsd shareOfTotal }} }} }} }}"#
                ),
            )
        };
        let value = |answer: &Value| -> f64 {
            answer["cluster"]["trade"]["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|g| g["valueUsd"].as_f64())
                .sum()
        };
        // (By year and partner first: an answer is kept for its change number, and this
        // hand-made change takes none, so by year is asked for the first time after it.)
        let before = value(&trade("YEAR, PARTNER"));
        assert!(before > 0.0, "{engine}");
        assert!(
            db.count("SELECT COUNT(*) FROM cluster_trade_rollup") > 0,
            "{engine}"
        );
        db.query("UPDATE cluster_trade_rollup SET value_usd = value_usd + 1000000");
        let edited = trade("YEAR");
        assert!(
            value(&edited) > before + 1_000_000.0,
            "{engine}: trade read from the rollup"
        );
        // The answer is kept while the change number stays: asked again, the same answer.
        db.query("UPDATE cluster_trade_rollup SET value_usd = value_usd + 1000000");
        assert_eq!(
            trade("YEAR"),
            edited,
            "{engine}: kept for its change number"
        );
        // ...until an import (of trade flows only) recomputes them in its own transaction.
        let (file, _) = monthly_file(&db);
        let (imported, report) = import_json(&db, &file, &["--source", MONTHLY_SOURCE]);
        assert!(imported, "{engine}: {report:#}");
        assert_eq!(firms(), truth, "{engine}: refreshed by the import");
        let (at, now) = reflected();
        assert_eq!(at, now, "{engine}: the rollups reflect the import");
        let rolled = [trade("YEAR"), trade("YEAR, PARTNER")];

        // A change the rollups do not reflect (a writer that did not refresh them) makes
        // the statistics count live: slower, never wrong.
        db.query("UPDATE firm_statistics_rollup SET firms = firms + 1000 WHERE grouping = 0");
        db.query("UPDATE cluster_trade_rollup SET value_usd = value_usd + 1000000");
        db.query("UPDATE change_counter SET last_seq = last_seq + 1 WHERE id = 1");
        assert_eq!(firms(), truth, "{engine}: stale rollups are not read");
        // Live, a cluster's trade is what the rollup gave, by year and by year and partner.
        let live = [trade("YEAR"), trade("YEAR, PARTNER")];
        for (rolled, live) in rolled.iter().zip(&live) {
            assert!(
                same(rolled, live),
                "{engine}:\nrollup {rolled:#}\nlive {live:#}"
            );
        }

        // `tradeFlowsAggregate` keeps its answers per change number too: a hand edit that
        // takes no number is not seen, the next number is (each flow one dollar more).
        let by_year = || {
            ok(
                &h,
                "{ a: tradeFlowsAggregate(groupBy: [YEAR]) { source groups { keys { year } count sum { valueUsd } } } }",
            )
        };
        let first = by_year();
        let groups = first["a"]["groups"].as_array().unwrap().clone();
        assert!(!groups.is_empty(), "{engine}: {first:#}");
        db.query("UPDATE trade_flows SET value_usd = value_usd + 1");
        assert_eq!(by_year(), first, "{engine}: kept for its change number");
        db.query("UPDATE change_counter SET last_seq = last_seq + 1 WHERE id = 1");
        let next = by_year();
        assert_eq!(next["a"]["source"], first["a"]["source"], "{engine}");
        let now = next["a"]["groups"].as_array().unwrap();
        assert_eq!(now.len(), groups.len(), "{engine}: {next:#}");
        for (was, is) in groups.iter().zip(now) {
            assert_eq!(was["keys"], is["keys"], "{engine}");
            let added = was["count"].as_f64().unwrap();
            let (was, is) = (
                was["sum"]["valueUsd"].as_f64().unwrap(),
                is["sum"]["valueUsd"].as_f64().unwrap(),
            );
            assert!(
                (is - (was + added)).abs() < 1e-3 + 1e-12 * is.abs(),
                "{engine}: {was} + {added} flows of one dollar each, read {is}"
            );
        }

        // Requests asking a question at once compute it once: the others wait for the
        // answer and take it. Counted in statements (`/metrics`): one computation and
        // seven lookups of the change number, as many as one request computing and seven
        // asking again one after the other.
        let question = "{ a: tradeFlowsAggregate(groupBy: [YEAR, PARTNER]) { groups { keys { year partner } count sum { valueUsd } } } }";
        let next_change =
            || db.query("UPDATE change_counter SET last_seq = last_seq + 1 WHERE id = 1");
        next_change();
        let before = h.sql_statements();
        let answered = ok(&h, question);
        let computing = h.sql_statements() - before;
        let before = h.sql_statements();
        assert_eq!(ok(&h, question), answered, "{engine}");
        let asking_again = h.sql_statements() - before;
        assert!(
            asking_again < computing,
            "{engine}: {asking_again} vs {computing}"
        );
        next_change();
        let before = h.sql_statements();
        let start = std::sync::Barrier::new(8);
        let answers: Vec<Value> = std::thread::scope(|s| {
            let asks: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        ok(&h, question)
                    })
                })
                .collect();
            asks.into_iter().map(|a| a.join().unwrap()).collect()
        });
        assert_eq!(
            h.sql_statements() - before,
            computing + 7 * asking_again,
            "{engine}: eight requests at once, one computation"
        );
        for a in &answers {
            assert_eq!(a, &answered, "{engine}");
        }
    }
}
