//! Standing up a programme without the demo, on every engine: `hub import programme.toml`
//! (and the same definitions as a workbook) on a fresh database, what a firm list can do
//! before and after, idempotent re-import, an edited definition updating its cluster, bad
//! definitions refused whole with their place, and `programmes` / `Cluster.programme` over
//! GraphQL.

use std::fs;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};

use crate::support::{TestDb, engines, hub, import_json, output, spawn};

/// The tables a programme import writes, and the change counter.
const TABLES: [&str; 9] = [
    "sources",
    "programmes",
    "clusters",
    "cluster_areas",
    "cluster_activities",
    "cluster_products",
    "organisations",
    "import_runs",
    "tombstones",
];

const PROGRAMME: &str = r#"# A programme of our own.
[[agency]]
name = "UNIDO"
iati = "XM-DAC-41123"

[[programme]]
code = "punjab-cdi"
name = "Punjab Industrial Cluster Development Initiative"
lead = "Punjab Small Industries Corporation"
technical_assistance = "UNIDO"
funder = "World Bank"
start_date = "2019-07-01"
end_date = "2025-06-30"

[[cluster]]
slug = "sialkot-surgical"
name = "Sialkot Surgical Instruments Cluster"
sector = "Surgical and medical instruments"
programme = "punjab-cdi"
description = "Surgical instruments in Sialkot."
districts = ["Sialkot"]
isic_classes = ["3250"]
hs_revision = "HS2017"
hs_basket = ["9018", "9021"]

[[cluster]]
slug = "lahore-garments"
name = "Lahore Garments Cluster"
sector = "Garments"
programme = "punjab-cdi"
districts = ["Lahore"]
isic_classes = ["1410"]
hs_revision = "H5"
hs_basket = ["61", "62"]
"#;

fn scratch(db: &TestDb, name: &str, content: &str) -> PathBuf {
    let path = db.data_path().join(name);
    fs::write(&path, content).unwrap();
    path
}

fn import(db: &TestDb, file: &Path) -> (bool, Value) {
    import_json(db, file, &[])
}

fn counts(report: &Value, kind: &str) -> (i64, i64, i64) {
    let c = &report["by_kind"][kind];
    (
        c["inserted"].as_i64().unwrap_or(0),
        c["updated"].as_i64().unwrap_or(0),
        c["unchanged"].as_i64().unwrap_or(0),
    )
}

/// A cluster's sets as `districts | isic | revision:basket`, read from the database.
fn cluster_sets(db: &TestDb, slug: &str) -> String {
    let list = |sql: &str| -> String {
        let out = db.query(sql);
        let mut items: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        items.sort_unstable();
        items.join(",")
    };
    let id = format!("(SELECT id FROM clusters WHERE slug = '{slug}')");
    format!(
        "{} | {} | {}",
        list(&format!(
            "SELECT a.name FROM cluster_areas ca JOIN admin_areas a ON a.id = ca.admin_area_id \
             WHERE ca.cluster_id = {id}"
        )),
        list(&format!(
            "SELECT code FROM cluster_activities WHERE cluster_id = {id}"
        )),
        list(&format!(
            "SELECT k.code || ':' || p.code FROM cluster_products p \
             JOIN classifications k ON k.id = p.classification_id WHERE p.cluster_id = {id}"
        )),
    )
}

/// A firm list naming its cluster by slug.
const FIRMS: &str = "Name of Unit,District,NTN,Cluster\n\
                     Abid Medi-Tech,Sialkot,1234567-1,sialkot-surgical\n";

#[test]
fn a_programme_file_sets_up_a_fresh_database_and_updates_it_when_edited() {
    for engine in engines() {
        let db = TestDb::fresh(engine);

        // Before: a firm list naming a cluster is refused, since there is none.
        let firms = scratch(&db, "firms.csv", FIRMS);
        let (ok, report) = import(&db, &firms);
        assert!(!ok, "{engine}: {report:#}");
        assert!(
            report.to_string().contains("known clusters: none yet"),
            "{engine}: {report:#}"
        );

        // The programme file, sniffed like any file.
        let file = scratch(&db, "programme.toml", PROGRAMME);
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["importer"], "programme", "{engine}");
        assert_eq!(report["source"], "programme", "{engine}");
        assert_eq!(counts(&report, "programme"), (1, 0, 0), "{engine}");
        assert_eq!(counts(&report, "cluster"), (2, 0, 0), "{engine}");
        // UNIDO comes from its [[agency]] entry and again, the same, with the programme
        // that names it: read once.
        assert_eq!(counts(&report, "organisation"), (3, 0, 1), "{engine}");
        assert_eq!(
            cluster_sets(&db, "sialkot-surgical"),
            "Sialkot | 3250 | HS2017:9018,HS2017:9021",
            "{engine}"
        );
        assert_eq!(
            cluster_sets(&db, "lahore-garments"),
            "Lahore | 1410 | HS2017:61,HS2017:62",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT p.code || ' ' || l.name || ' ' || l.kind || ' / ' || f.name || ' ' || \
                 f.kind || ' / ' || t.name || ' ' || p.start_date FROM programmes p \
                 JOIN organisations l ON l.id = p.lead_organisation_id \
                 JOIN organisations f ON f.id = p.funder_organisation_id \
                 JOIN organisations t ON t.id = p.technical_assistance_organisation_id"
            ),
            "punjab-cdi Punjab Small Industries Corporation agency / World Bank donor / UNIDO \
             2019-07-01",
            "{engine}"
        );
        // Provenance: the line each cluster starts on, under the file's import run.
        assert_eq!(
            db.query_scalar(
                "SELECT c.source_ref || ' ' || r.importer_id FROM clusters c \
                 JOIN import_runs r ON r.id = c.import_run_id WHERE c.slug = 'lahore-garments'"
            ),
            "programme.toml!R27 programme",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT i.value FROM organisation_identifiers i JOIN organisations o \
                 ON o.id = i.organisation_id WHERE o.name = 'UNIDO' AND i.scheme = 'IATI-ORG'"
            ),
            "XM-DAC-41123",
            "{engine}"
        );

        // After: the firm list imports, and its firm is in the cluster.
        let (ok, report) = import(&db, &firms);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(
            db.query_scalar(
                "SELECT c.slug FROM cluster_memberships m JOIN clusters c ON c.id = m.cluster_id"
            ),
            "sialkot-surgical",
            "{engine}"
        );

        // Again: nothing changes, no change number is taken.
        let before = db.fingerprint(&TABLES[..8]);
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(counts(&report, "programme"), (0, 0, 1), "{engine}");
        assert_eq!(counts(&report, "cluster"), (0, 0, 2), "{engine}");
        let after = db.fingerprint(&TABLES[..8]);
        assert_eq!(
            after.split_once(',').map(|(seq, _)| seq),
            before.split_once(',').map(|(seq, _)| seq),
            "{engine}: no change numbers"
        );

        // Edited: a district added, 9021 out of the basket and 9022 in, a new description.
        let seq_before = db.count("SELECT last_seq FROM change_counter");
        let edited = PROGRAMME
            .replace(
                r#"districts = ["Sialkot"]"#,
                r#"districts = ["Sialkot", "Wazirabad"]"#,
            )
            .replace(r#"["9018", "9021"]"#, r#"["9018", "9022"]"#)
            .replace(
                "Surgical instruments in Sialkot.",
                "Instruments, Sialkot and Wazirabad.",
            );
        let file = scratch(&db, "programme.toml", &edited);
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(
            counts(&report, "cluster"),
            (0, 1, 1),
            "{engine}: {report:#}"
        );
        assert_eq!(
            cluster_sets(&db, "sialkot-surgical"),
            "Sialkot,Wazirabad | 3250 | HS2017:9018,HS2017:9022",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar("SELECT description FROM clusters WHERE slug = 'sialkot-surgical'"),
            "Instruments, Sialkot and Wazirabad.",
            "{engine}"
        );
        // The cluster and its new entries carry new change numbers; the removed basket item
        // left a tombstone.
        assert!(
            db.count("SELECT change_seq FROM clusters WHERE slug = 'sialkot-surgical'")
                > seq_before,
            "{engine}"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM tombstones WHERE entity_type = 'cluster_product' \
                 AND change_seq > {seq_before}"
            )),
            1,
            "{engine}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM clusters"),
            2,
            "{engine}: updated, not duplicated"
        );
    }
}

#[test]
fn a_bad_definition_is_refused_whole_with_its_place() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let before = db.fingerprint(&TABLES);
        let cases: [(&str, String, &[&str]); 7] = [
            (
                "unknown district",
                PROGRAMME.replace(r#"["Lahore"]"#, r#"["Lahore", "Lahorre"]"#),
                &[
                    "programme.toml",
                    "programme.toml!R27",
                    "districts",
                    "Lahorre",
                    "not a known district",
                ],
            ),
            (
                "bad HS code",
                PROGRAMME.replace(r#"["61", "62"]"#, r#"["61", "6x"]"#),
                &["programme.toml!R27", "hs_basket", "6x"],
            ),
            (
                "basket without revision",
                PROGRAMME.replace("hs_revision = \"H5\"\n", ""),
                &["programme.toml!R27", "hs_revision", "required"],
            ),
            (
                "unknown programme",
                PROGRAMME.replace(
                    "programme = \"punjab-cdi\"\ndistricts = [\"Lahore\"]",
                    "programme = \"kp-cdi\"\ndistricts = [\"Lahore\"]",
                ),
                &["programme.toml!R27", "programme", "kp-cdi", "punjab-cdi"],
            ),
            (
                "an ISIC group, not a class",
                PROGRAMME.replace(r#"isic_classes = ["1410"]"#, r#"isic_classes = ["141"]"#),
                &["programme.toml!R27", "isic_classes", "not a class"],
            ),
            (
                "a code of another revision",
                PROGRAMME.replace(r#"["61", "62"]"#, r#"["61", "8524"]"#),
                &["programme.toml!R27", "hs_basket", "8524", "HS2017"],
            ),
            (
                "a key this format does not have",
                PROGRAMME.replace("sector = \"Garments\"", "sectors = \"Garments\""),
                &["programme.toml", "programme.toml!R29", "sectors"],
            ),
        ];
        for (case, text, expected) in cases {
            let file = scratch(&db, "programme.toml", &text);
            let o = output(hub(&db).arg("import").arg(&file));
            let stderr = String::from_utf8_lossy(&o.stderr).into_owned()
                + &String::from_utf8_lossy(&o.stdout);
            assert!(!o.status.success(), "{engine} {case}: {stderr}");
            for e in expected {
                assert!(
                    stderr.contains(e),
                    "{engine} {case}: {e:?} missing in {stderr}"
                );
            }
            assert_eq!(
                db.fingerprint(&TABLES),
                before,
                "{engine} {case}: unchanged"
            );
        }
    }
}

/// The same definitions as a workbook, as an agency keeps them: sheets in any order, lists
/// in one cell.
fn programme_workbook(path: &Path) {
    let mut book = Workbook::new();
    let clusters = book.add_worksheet().set_name("Clusters").unwrap();
    let rows = [
        [
            "Slug",
            "Name",
            "Sector",
            "Programme",
            "Districts",
            "ISIC Classes",
            "HS Revision",
            "HS Basket",
        ],
        [
            "lahore-auto-parts",
            "Lahore Auto Parts Cluster",
            "Automotive parts",
            "punjab-cdi",
            "Lahore; Sheikhupura, Gujranwala",
            "2930",
            "HS2017",
            "8708, 8714",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            clusters.write(r as u32, c as u16, *value).unwrap();
        }
    }
    let programmes = book.add_worksheet().set_name("Programmes").unwrap();
    for (c, (header, value)) in [
        ("Code", "punjab-cdi"),
        ("Name", "Punjab Industrial Cluster Development Initiative"),
        ("Lead Agency", "Punjab Small Industries Corporation"),
        ("Funder", "World Bank"),
    ]
    .iter()
    .enumerate()
    {
        programmes.write(0, c as u16, *header).unwrap();
        programmes.write(1, c as u16, *value).unwrap();
    }
    let agencies = book.add_worksheet().set_name("Agencies").unwrap();
    for (c, (header, value)) in [
        ("Name", "World Bank"),
        ("Kind", "donor"),
        ("IATI", "XM-DAC-44000"),
    ]
    .iter()
    .enumerate()
    {
        agencies.write(0, c as u16, *header).unwrap();
        agencies.write(1, c as u16, *value).unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn a_programme_workbook_imports_and_graphql_shows_programmes() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = db.data_path().join("our programme.xlsx");
        programme_workbook(&file);
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["importer"], "spreadsheet", "{engine}");
        assert_eq!(
            counts(&report, "cluster"),
            (1, 0, 0),
            "{engine}: {report:#}"
        );
        assert_eq!(counts(&report, "programme"), (1, 0, 0), "{engine}");
        assert_eq!(
            cluster_sets(&db, "lahore-auto-parts"),
            "Gujranwala,Lahore,Sheikhupura | 2930 | HS2017:8708,HS2017:8714",
            "{engine}"
        );
        // The TOML file of the same programme adds its clusters to it.
        let toml = scratch(&db, "programme.toml", PROGRAMME);
        let (ok, report) = import(&db, &toml);
        assert!(ok, "{engine}: {report:#}");

        let running = spawn({
            let mut c = hub(&db);
            c.arg("serve");
            c
        });
        let (status, body) = running.post_json(
            "/graphql",
            &json!({"query": "{ programmes { totalCount nodes { id code name startDate \
                lead { name kind } funder { name kind } technicalAssistance { name } \
                clusters { totalCount nodes { slug programme { code } } } } } \
                clusters(filter: { slug: { eq: \"lahore-auto-parts\" } }) { nodes { programme { code name } } } }"}),
        );
        assert_eq!(status, 200, "{engine}: {body:#}");
        assert!(body.get("errors").is_none(), "{engine}: {body:#}");
        let programmes = &body["data"]["programmes"];
        assert_eq!(programmes["totalCount"], 1, "{engine}: {body:#}");
        let p = &programmes["nodes"][0];
        assert_eq!(p["code"], "punjab-cdi");
        assert_eq!(
            p["startDate"], "2019-07-01",
            "{engine}: the TOML gave the dates"
        );
        assert_eq!(p["lead"]["name"], "Punjab Small Industries Corporation");
        assert_eq!(p["funder"]["kind"], "DONOR", "{engine}: {p:#}");
        assert_eq!(p["technicalAssistance"]["name"], "UNIDO");
        let slugs: Vec<&str> = p["clusters"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap())
            .collect();
        assert_eq!(
            slugs,
            ["lahore-auto-parts", "lahore-garments", "sialkot-surgical"],
            "{engine}"
        );
        assert_eq!(
            body["data"]["clusters"]["nodes"][0]["programme"]["code"], "punjab-cdi",
            "{engine}"
        );
        // A programme is a node.
        let id = p["id"].as_str().unwrap();
        let (_, node) = running.post_json(
            "/graphql",
            &json!({"query": format!("{{ node(id: \"{id}\") {{ ... on Programme {{ code }} }} }}")}),
        );
        assert_eq!(
            node["data"]["node"]["code"], "punjab-cdi",
            "{engine}: {node:#}"
        );
        // The World Bank of the workbook (a donor with an IATI id) and of the TOML file is
        // one organisation.
        assert_eq!(
            db.count("SELECT count(*) FROM organisations WHERE name = 'World Bank'"),
            1,
            "{engine}"
        );
    }
}

/// One workbook that defines a cluster and lists its firms: the definitions are written
/// before the firms are checked, in the same import.
#[test]
fn a_workbook_can_define_a_cluster_and_list_its_firms() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let path = db.data_path().join("new cluster.xlsx");
        let mut book = Workbook::new();
        let firms = book.add_worksheet().set_name("Firms").unwrap();
        for (c, header) in ["Name of Unit", "District", "Cluster"].iter().enumerate() {
            firms.write(0, c as u16, *header).unwrap();
        }
        for (r, name) in ["Gujrat Fans Ltd", "Pak Electric Works"].iter().enumerate() {
            firms.write(r as u32 + 1, 0, *name).unwrap();
            firms.write(r as u32 + 1, 1, "Gujrat").unwrap();
            firms.write(r as u32 + 1, 2, "gujrat-fans").unwrap();
        }
        let clusters = book.add_worksheet().set_name("Clusters").unwrap();
        for (c, (header, value)) in [
            ("Slug", "gujrat-fans"),
            ("Name", "Gujrat Electric Fans Cluster"),
            ("Sector", "Electric fans"),
            ("Districts", "Gujrat"),
            ("ISIC Classes", "2750"),
        ]
        .iter()
        .enumerate()
        {
            clusters.write(0, c as u16, *header).unwrap();
            clusters.write(1, c as u16, *value).unwrap();
        }
        book.save(&path).unwrap();
        let (ok, report) = import(&db, &path);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(counts(&report, "cluster"), (1, 0, 0), "{engine}");
        assert_eq!(
            db.count(
                "SELECT count(DISTINCT m.organisation_id) FROM cluster_memberships m \
                 JOIN clusters c ON c.id = m.cluster_id WHERE c.slug = 'gujrat-fans'"
            ),
            2,
            "{engine}: both firms are members"
        );
    }
}
