//! Tests of the importer on the samples of `samples/` and on files written by the tests.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Map, Value, json};
use hub_plugin_sdk::{
    ClusterMembership, Confidence, Date, IdentifierValue, ImportError, Importer, Input, Item,
    LogLevel, Organisation, OrganisationKind, OrganisationStatus, Personal, Record, RecordKind,
    RowError, Severity, codes, schemes,
};

use super::*;

/// A folder of files written by one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("chamber-directory-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Every item of a file, read in batches of 5 (small, to cross members).
fn import(path: &Path, options: &Value) -> Result<Vec<Item>, ImportError> {
    read_all(&mut ChamberDirectory, Input::new(path), options, 5)
}

fn open_error(path: &Path, options: &Value) -> ImportError {
    match import(path, options) {
        Ok(_) => panic!("{} should not import", path.display()),
        Err(error) => error,
    }
}

fn organisations(items: &[Item]) -> Vec<&Organisation> {
    items
        .iter()
        .filter_map(Item::as_record::<Organisation>)
        .collect()
}

fn memberships(items: &[Item]) -> Vec<&ClusterMembership> {
    items
        .iter()
        .filter_map(Item::as_record::<ClusterMembership>)
        .collect()
}

fn row_errors(items: &[Item]) -> Vec<&RowError> {
    items.iter().filter_map(Item::as_row_error).collect()
}

fn logs(items: &[Item]) -> Vec<(LogLevel, &str)> {
    items.iter().filter_map(Item::as_log).collect()
}

/// Every message the items carry: row errors and log lines.
fn messages(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::RowError(e) => Some(format!("{} {:?}", e.message, e.field)),
            Item::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Asserts that none of `texts` holds any of the personal `values`.
fn assert_no_personal(texts: &[String], values: &[&str]) {
    for text in texts {
        for value in values {
            assert!(!text.contains(value), "{text:?} contains {value:?}");
        }
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<Date> {
    Date::from_ymd(y, m, d).ok()
}

/// A JSON directory of `members`, with the SCCI header.
fn json_directory(members: &Value) -> String {
    json!({
        "chamber": "Sialkot Chamber of Commerce & Industry",
        "chamber_code": "SCCI",
        "published": "2024-03-01",
        "members": members,
    })
    .to_string()
}

// ---- The samples -----------------------------------------------------------------------

#[test]
fn both_samples_give_the_same_items() {
    let from_json = import(&sample("scci_members_2024.json"), &Value::Null).unwrap();
    let from_xml = import(&sample("scci_members_2024.xml"), &Value::Null).unwrap();
    // The same items but for the file name and the column declaration (the XML form
    // writes the membership number as the attribute `no`).
    let comparable = |items: &[Item]| -> Vec<Item> {
        items
            .iter()
            .filter(|i| !matches!(i, Item::Columns { .. }))
            .cloned()
            .map(|mut item| {
                match &mut item {
                    Item::Record(r) => r.source_ref.file.clear(),
                    Item::RowError(e) => e.source_ref.file.clear(),
                    _ => {}
                }
                item
            })
            .collect()
    };
    assert_eq!(comparable(&from_json), comparable(&from_xml));
    assert_eq!(organisations(&from_json).len(), 12);
    assert_eq!(memberships(&from_json).len(), 11);
    assert!(
        row_errors(&from_json).is_empty(),
        "{:?}",
        row_errors(&from_json)
    );
    for (items, file) in [
        (&from_json, "scci_members_2024.json"),
        (&from_xml, "scci_members_2024.xml"),
    ] {
        let mut rows = Vec::new();
        for item in items.iter() {
            if let Item::Record(r) = item {
                assert_eq!(r.source_ref.file, file);
                assert_eq!(r.source_ref.sheet, None);
                assert_eq!(r.source_ref.column, None);
                rows.push(r.source_ref.row.unwrap());
            }
        }
        assert_eq!(rows.first(), Some(&1));
        assert_eq!(rows.last(), Some(&12));
        assert!(rows.is_sorted());
    }
}

#[test]
fn a_member_is_a_firm_and_its_cluster_membership() {
    let items = import(&sample("scci_members_2024.json"), &Value::Null).unwrap();
    let mut expected = Organisation::new(
        "SCCI-01234",
        OrganisationKind::Firm,
        "Al-Noor Surgical Works",
    );
    expected.district = Some("Sialkot".into());
    expected.tehsil = Some("Sialkot".into());
    expected.address = Some("Small Industrial Estate, Sialkot".into());
    expected.phone = Some(Personal::new("+92 52 1234567"));
    expected.email = Some(Personal::new("info@alnoor.example"));
    expected.employees_total = Some(45);
    expected.status = Some(OrganisationStatus::Active);
    expected.observed_on = date(2024, 3, 1);
    expected.identifiers = vec![
        IdentifierValue::new(schemes::NTN, "1234567-8"),
        IdentifierValue::new(schemes::CHAMBER_MEMBERSHIP, "SCCI-01234"),
    ];
    let attributes = json!({
        "membership_status": "active",
        "sector": "Surgical Instruments",
        "exporter": true,
        "member_since": "2005-07-01",
    });
    let Value::Object(attributes) = attributes else {
        unreachable!()
    };
    expected.attributes = attributes;
    assert_eq!(organisations(&items)[0], &expected);

    // The membership follows its organisation, in the same row.
    let records: Vec<&Item> = items
        .iter()
        .filter(|i| matches!(i, Item::Record(_)))
        .collect();
    let Item::Record(second) = records[1] else {
        unreachable!()
    };
    assert_eq!(second.source_ref.to_string(), "scci_members_2024.json!R1");
    let mut membership = ClusterMembership::new(
        "SCCI-01234/sialkot-surgical",
        "sialkot-surgical",
        "SCCI-01234",
    );
    membership.valid_from = date(2005, 7, 1);
    assert_eq!(second.record, Record::ClusterMembership(membership));

    let clusters: Vec<(&str, &str)> = memberships(&items)
        .iter()
        .map(|m| (m.organisation_key.as_str(), m.cluster.as_str()))
        .collect();
    assert_eq!(
        clusters,
        [
            ("SCCI-01234", "sialkot-surgical"),
            ("SCCI-01871", "sialkot-surgical"),
            ("SCCI-02210", "sialkot-surgical"),
            ("SCCI-03015", "sialkot-surgical"),
            ("SCCI-02988", "lahore-garments"),
            ("SCCI-03102", "lahore-garments"),
            ("SCCI-02577", "lahore-leather-footwear"),
            ("SCCI-02640", "lahore-leather-footwear"),
            ("SCCI-02733", "lahore-auto-parts"),
            ("SCCI-02899", "lahore-auto-parts"),
            ("SCCI-03190", "sialkot-surgical"),
        ]
    );

    let by_key = |key: &str| {
        *organisations(&items)
            .iter()
            .find(|o| o.source_key == key)
            .unwrap()
    };
    // The sports goods maker has no cluster, and that is no error.
    assert_eq!(by_key("SCCI-00457").attributes["sector"], "Sports Goods");
    assert_eq!(
        by_key("SCCI-02899").status,
        Some(OrganisationStatus::Closed)
    );
    assert_eq!(
        by_key("SCCI-02210").status,
        Some(OrganisationStatus::Inactive)
    );
    // A lapsed membership says nothing of the firm's operation.
    let lapsed = by_key("SCCI-03190");
    assert_eq!(lapsed.status, None);
    assert_eq!(lapsed.attributes["membership_status"], "lapsed");
    assert_eq!(lapsed.employees_total, None);
    assert_eq!(lapsed.phone, None);

    let logs = logs(&items);
    assert_eq!(
        logs.first(),
        Some(&(
            LogLevel::Info,
            "Chamber member directory of Sialkot Chamber of Commerce & Industry (chamber code \
             SCCI), published 2024-03-01."
        ))
    );
    assert_eq!(
        logs.last(),
        Some(&(
            LogLevel::Info,
            "Read 12 members; 11 placed in a cluster; 1 in a sector and district without a \
             cluster (add them with the option sector_clusters): Sports Goods in Sialkot (1)."
        ))
    );
    assert_no_personal(
        &messages(&items),
        &["+92", "@", "Al-Noor", "1234567-8", "Small Industrial"],
    );
}

#[test]
fn the_first_items_declare_the_columns() {
    let items = import(&sample("scci_members_2024.xml"), &Value::Null).unwrap();
    let Some(Item::Columns { sheet, columns }) = items.get(1) else {
        panic!(
            "the second item should declare the columns: {:?}",
            items.get(1)
        );
    };
    assert_eq!(*sheet, None);
    assert_eq!(columns["organisation.source_key"], "no");
    assert_eq!(columns["organisation.identifiers.PK-NTN"], "ntn");
    assert_eq!(columns["cluster_membership.valid_from"], "member_since");
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, Item::Columns { .. }))
            .count(),
        1
    );
}

#[test]
fn the_manifest_describes_what_the_importer_does() {
    let manifest = ChamberDirectory.manifest();
    assert_eq!(manifest.id, "chamber-directory");
    assert_eq!(
        manifest.name,
        "Chamber of commerce member directory (JSON, XML)"
    );
    assert_eq!(manifest.version, "1.0.0");
    assert_eq!(manifest.inputs.extensions, ["json", "xml"]);
    assert_eq!(
        manifest.inputs.mime_types,
        ["application/json", "application/xml", "text/xml"]
    );
    assert_eq!(
        manifest.emits,
        [RecordKind::Organisation, RecordKind::ClusterMembership]
    );
    assert_eq!(manifest.default_source, None);
    assert_eq!(manifest.options_schema, Some(options::schema()));
    // The samples emit exactly the kinds the manifest lists.
    let items = import(&sample("scci_members_2024.json"), &Value::Null).unwrap();
    let mut kinds: Vec<RecordKind> = items
        .iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(r.record.kind()),
            _ => None,
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, manifest.emits);
}

// ---- Sniffing --------------------------------------------------------------------------

#[test]
fn sniffing_recognises_directories_by_content() {
    let importer = ChamberDirectory;
    let json = std::fs::read(sample("scci_members_2024.json")).unwrap();
    let xml = std::fs::read(sample("scci_members_2024.xml")).unwrap();
    assert_eq!(importer.sniff(&json, "x.json"), Confidence::new(85));
    assert_eq!(importer.sniff(&json, "upload"), Confidence::new(85));
    assert_eq!(importer.sniff(&xml, "x.xml"), Confidence::new(85));
    // A head cut short still shows the keys.
    assert!(importer.sniff(&json[..300], "x").percent() >= 80);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&xml[..600]);
    assert!(importer.sniff(&with_bom, "x").percent() >= 80);

    let cases: [(&[u8], &str, u8); 9] = [
        (br#"{"Members": [{"Membership Number": "1"}]}"#, "x", 85),
        (br#"{"members": []}"#, "list.json", 15),
        (br#"{"members": []}"#, "list.txt", 0),
        (br#"{"firms": [{"membership_no": "1"}]}"#, "x.JSON", 15),
        (b"<directory><member no=\"1\"/></directory>", "d", 85),
        (b"<directory><members/></directory>", "d.xml", 15),
        (b"<firms><member no=\"1\"/></firms>", "d", 0),
        (b"membership_no,name\nSCCI-1,Firm\n", "members.csv", 0),
        (b"", "members.xml", 15),
    ];
    for (head, name, expected) in cases {
        assert_eq!(
            importer.sniff(head, name),
            Confidence::new(expected),
            "{}",
            String::from_utf8_lossy(head)
        );
    }
}

#[test]
fn sniffing_never_panics() {
    let importer = ChamberDirectory;
    let json = std::fs::read(sample("scci_members_2024.json")).unwrap();
    let xml = "<directory>\"é€\"<member no='ü'".as_bytes();
    // Every cut of a real head, cut characters included.
    for end in 0..json.len().min(2_000) {
        let _ = importer.sniff(&json[..end], "x.json");
    }
    for end in 0..xml.len() {
        let _ = importer.sniff(&xml[..end], "x");
    }
    // Pseudo-random bytes, biased towards the characters the sniffer looks for.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let alphabet = b"{}[]<>\"\\:/ \n\xEF\xBB\xBF\xC3\xA9\x80\xFFmembrsdicoy_";
    for round in 0..2_000 {
        let len = round % 300;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pick = usize::try_from(state % 1_000).unwrap();
                if pick < 500 {
                    alphabet[pick % alphabet.len()]
                } else {
                    state.to_le_bytes()[pick % 8]
                }
            })
            .collect();
        assert!(importer.sniff(&bytes, "random.bin").percent() <= 85);
    }
}

// ---- Options ---------------------------------------------------------------------------

#[test]
fn options_add_and_override_clusters() {
    let options = json!({
        "source": "scci-directory",
        "importer": "chamber-directory",
        "sector_clusters": [
            {"sector": "Sports Goods", "district": "Sialkot", "cluster": "sialkot-sports"},
            {"sector": "Garments", "district": "Lahore", "cluster": ""},
            {"sector": "HOSIERY", "district": "lahore", "cluster": "lahore-knitwear"}
        ]
    });
    let items = import(&sample("scci_members_2024.xml"), &options).unwrap();
    let cluster_of = |key: &str| {
        memberships(&items)
            .iter()
            .find(|m| m.organisation_key == key)
            .map(|m| m.cluster.clone())
    };
    assert_eq!(cluster_of("SCCI-00457").as_deref(), Some("sialkot-sports"));
    assert_eq!(cluster_of("SCCI-02988"), None);
    assert_eq!(cluster_of("SCCI-03102").as_deref(), Some("lahore-knitwear"));
    assert_eq!(
        cluster_of("SCCI-01234").as_deref(),
        Some("sialkot-surgical")
    );

    // Without the defaults, only the entries given place members.
    let options = json!({
        "default_clusters": false,
        "sector_clusters": [{"sector": "Auto Parts", "district": "Lahore", "cluster": "lahore-auto-parts"}]
    });
    let items = import(&sample("scci_members_2024.json"), &options).unwrap();
    let keys: Vec<&str> = memberships(&items)
        .iter()
        .map(|m| m.source_key.as_str())
        .collect();
    assert_eq!(keys, ["SCCI-02733/lahore-auto-parts"]);
}

#[test]
fn the_chamber_code_qualifies_membership_numbers() {
    let scratch = Scratch::new("chamber-code");
    let path = scratch.write(
        "lcci.json",
        json!({
            "chamber": "Lahore Chamber of Commerce & Industry",
            "published": "01/03/2024",
            "members": [{"Membership Number": " 01234 ", "Firm Name": "Ravi Auto Works", "NTN No": "7654321-0", "District": "Lahore", "Sector": "Auto Parts"}]
        })
        .to_string(),
    );
    let error = open_error(&path, &Value::Null);
    assert!(
        error.message.contains("the directory has no chamber_code"),
        "{error}"
    );

    let items = import(&path, &json!({"chamber_code": "lcci"})).unwrap();
    let firm = organisations(&items)[0];
    assert_eq!(firm.source_key, "01234");
    assert_eq!(firm.name, "Ravi Auto Works");
    assert_eq!(firm.observed_on, date(2024, 3, 1));
    assert_eq!(
        firm.identifiers,
        [
            IdentifierValue::new(schemes::NTN, "7654321-0"),
            IdentifierValue::new(schemes::CHAMBER_MEMBERSHIP, "LCCI/01234"),
        ]
    );
    assert_eq!(memberships(&items)[0].cluster, "lahore-auto-parts");

    // The options win over the directory.
    let items = import(
        &sample("scci_members_2024.json"),
        &json!({"chamber_code": "SCCI-SKT", "published": "2024-04-15"}),
    )
    .unwrap();
    let firm = organisations(&items)[0];
    assert_eq!(firm.observed_on, date(2024, 4, 15));
    assert_eq!(
        firm.identifiers[1],
        IdentifierValue::new(schemes::CHAMBER_MEMBERSHIP, "SCCI-SKT/SCCI-01234")
    );

    let error = open_error(&sample("scci_members_2024.json"), &json!({"columns": {}}));
    assert!(
        error
            .message
            .starts_with("the options of chamber-directory are not valid"),
        "{error}"
    );
}

// ---- Bad rows --------------------------------------------------------------------------

#[test]
fn bad_members_are_row_errors_that_name_fields_not_values() {
    let scratch = Scratch::new("bad-rows");
    let members = json!([
        {"name": "Secret Firm One", "phone": "+92 300 1111111", "email": "one@secret.example"},
        {"membership_no": "SCCI-9", "email": "two@secret.example"},
        "SCCI-10 Secret Firm Three",
        {"membership_no": "SCCI-11", "name": ["Secret Firm Four"]},
        {"membership_no": "SCCI-12", "name": "Secret Firm Five", "ntn": {"no": "1234567-8"},
         "employees": "many", "member_since": "since 1999", "exporter": "perhaps",
         "status": "Platinum Secret", "sector": "Surgical Instruments", "district": "Sialkot",
         "fax": "+92 52 999", "contact_person": "Secret Person"},
        {"membership_no": "SCCI-13", "name": "Fine Firm", "employees": "1,200", "member_since": "15/03/2019", "exporter": "Y"}
    ]);
    let path = scratch.write("bad.json", json_directory(&members));
    let items = import(&path, &Value::Null).unwrap();

    // Row, field, code, severity, column.
    type Summary<'a> = (u64, Option<&'a str>, &'a str, Severity, Option<&'a str>);
    let errors: Vec<Summary<'_>> = row_errors(&items)
        .iter()
        .map(|e| {
            (
                e.source_ref.row.unwrap(),
                e.field.as_deref(),
                e.code.as_str(),
                e.severity,
                e.source_ref.column.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                1,
                Some("membership_no"),
                codes::MISSING_REQUIRED,
                Severity::Error,
                None
            ),
            (
                2,
                Some("name"),
                codes::MISSING_REQUIRED,
                Severity::Error,
                None
            ),
            (3, None, codes::INVALID_VALUE, Severity::Error, None),
            (
                4,
                Some("name"),
                codes::INVALID_VALUE,
                Severity::Error,
                Some("name")
            ),
            (
                5,
                Some("ntn"),
                codes::INVALID_VALUE,
                Severity::Warning,
                Some("ntn")
            ),
            (
                5,
                Some("member_since"),
                codes::INVALID_DATE,
                Severity::Warning,
                Some("member_since")
            ),
            (
                5,
                Some("employees"),
                codes::INVALID_NUMBER,
                Severity::Warning,
                Some("employees")
            ),
            (
                5,
                Some("status"),
                codes::UNKNOWN_CODE,
                Severity::Warning,
                Some("status")
            ),
            (
                5,
                Some("exporter"),
                codes::INVALID_VALUE,
                Severity::Warning,
                Some("exporter")
            ),
        ]
    );
    assert_eq!(
        row_errors(&items)[0].message,
        "The field membership_no is required but the row leaves it empty."
    );

    // Only the members with number and name give records; warnings keep the member.
    let firms = organisations(&items);
    let keys: Vec<&str> = firms.iter().map(|o| o.source_key.as_str()).collect();
    assert_eq!(keys, ["SCCI-12", "SCCI-13"]);
    assert_eq!(firms[0].employees_total, None);
    assert_eq!(firms[0].status, None);
    assert!(!firms[0].attributes.contains_key("membership_status"));
    assert_eq!(firms[0].attributes["sector"], "Surgical Instruments");
    assert_eq!(
        firms[0].identifiers,
        [IdentifierValue::new(schemes::CHAMBER_MEMBERSHIP, "SCCI-12")]
    );
    assert!(!firms[0].attributes.contains_key("fax"));
    assert!(!firms[0].attributes.contains_key("contact_person"));
    assert_eq!(firms[1].employees_total, Some(1200));
    assert_eq!(firms[1].attributes["member_since"], "2019-03-15");
    assert_eq!(firms[1].attributes["exporter"], true);
    // The member with an undated membership still has its cluster.
    let membership = memberships(&items)[0];
    assert_eq!(membership.source_key, "SCCI-12/sialkot-surgical");
    assert_eq!(membership.valid_from, None);

    // Unknown keys are named once in the log, without their values.
    let logs = logs(&items);
    assert!(logs.contains(&(LogLevel::Info, "The members' field fax is not imported.")));
    assert!(logs.contains(&(
        LogLevel::Info,
        "The members' field contact_person is not imported."
    )));

    assert_no_personal(
        &messages(&items),
        &[
            "Secret",
            "+92",
            "@",
            "1234567-8",
            "Platinum",
            "perhaps",
            "many",
            "1999",
        ],
    );
}

#[test]
fn field_names_are_accepted_in_their_variants() {
    let scratch = Scratch::new("variants");
    let path = scratch.write(
        "variants.json",
        r#"{"Chamber Code": "SCCI", "Published On": "2024-03-01", "MEMBERS": [
            {"Member No.": "SCCI-1", "Company Name": "Variant Works", "NTN_No": "1234567-8",
             "Trade Group": "Surgical Instruments", "City": "Sialkot", "Tahsil": "Sambrial",
             "Postal Address": "Somewhere", "Telephone": "+92 52 1", "E-Mail": "a@b.example",
             "Date of Membership": "2001-02-03", "No. of Employees": "7",
             "Membership Status": "Dormant", "Is Exporter": "no"}
        ]}"#,
    );
    let items = import(&path, &Value::Null).unwrap();
    assert!(row_errors(&items).is_empty(), "{:?}", row_errors(&items));
    let firm = organisations(&items)[0];
    assert_eq!(firm.source_key, "SCCI-1");
    assert_eq!(firm.name, "Variant Works");
    assert_eq!(firm.district.as_deref(), Some("Sialkot"));
    assert_eq!(firm.tehsil.as_deref(), Some("Sambrial"));
    assert_eq!(firm.address.as_deref(), Some("Somewhere"));
    assert_eq!(
        firm.email.as_ref().map(Personal::expose),
        Some("a@b.example")
    );
    assert_eq!(firm.employees_total, Some(7));
    assert_eq!(firm.status, Some(OrganisationStatus::Inactive));
    assert_eq!(firm.attributes["exporter"], false);
    assert_eq!(
        firm.identifiers[0],
        IdentifierValue::new(schemes::NTN, "1234567-8")
    );
    assert_eq!(memberships(&items)[0].valid_from, date(2001, 2, 3));
}

#[test]
fn xml_reads_attributes_wrappers_namespaces_and_references() {
    let scratch = Scratch::new("xml-forms");
    let path = scratch.write(
        "forms.xml",
        "\u{FEFF}<?xml version=\"1.0\"?>\n\
         <!DOCTYPE directory>\n\
         <d:directory xmlns:d=\"urn:example\" Chamber_Code=\"SCCI\" published=\"2024-03-01\">\n\
           <d:notice>Secret notice text</d:notice>\n\
           <d:members>\n\
             <d:member no=\"SCCI-1\" status=\"active\">\n\
               <d:name><![CDATA[Tariq & Sons]]> &amp; Co &#x2013; Sialkot</d:name>\n\
               <d:sector>Surgical &amp; Dental\n   Instruments</d:sector>\n\
               <d:district>Sialkot</d:district>\n\
               <d:employees/>\n\
               <d:address><line>Street 1</line><line>Sialkot</line></d:address>\n\
             </d:member>\n\
             <d:member/>\n\
           </d:members>\n\
         </d:directory>\n\
         <!-- after the root -->\n",
    );
    let items = import(&path, &Value::Null).unwrap();
    let firms = organisations(&items);
    assert_eq!(firms.len(), 1);
    assert_eq!(firms[0].name, "Tariq & Sons & Co \u{2013} Sialkot");
    assert_eq!(firms[0].status, Some(OrganisationStatus::Active));
    assert_eq!(firms[0].address.as_deref(), Some("Street 1 Sialkot"));
    assert_eq!(firms[0].employees_total, None);
    assert_eq!(memberships(&items)[0].cluster, "sialkot-surgical");
    // The empty member lacks both required fields.
    let errors: Vec<(u64, Option<&str>)> = row_errors(&items)
        .iter()
        .map(|e| (e.source_ref.row.unwrap(), e.field.as_deref()))
        .collect();
    assert_eq!(errors, [(2, Some("membership_no")), (2, Some("name"))]);
    let logs = logs(&items);
    assert!(logs.contains(&(
        LogLevel::Info,
        "The element <notice> of the directory is not a member and is not read."
    )));
    assert_no_personal(&messages(&items), &["Secret", "Tariq"]);
}

#[test]
fn an_empty_directory_is_read_with_a_warning() {
    let scratch = Scratch::new("empty-directory");
    for (name, content) in [
        ("empty.json", json_directory(&json!([]))),
        ("empty.xml", "<directory chamber_code='SCCI'/>".to_owned()),
        (
            "wrapped.xml",
            "<directory chamber_code='SCCI'><members/></directory>".to_owned(),
        ),
    ] {
        let items = import(&scratch.write(name, content), &Value::Null).unwrap();
        assert!(organisations(&items).is_empty());
        assert_eq!(
            logs(&items).last(),
            Some(&(LogLevel::Warn, "The directory lists no members.")),
            "{name}"
        );
    }
}

// ---- Malformed files -------------------------------------------------------------------

#[test]
fn malformed_json_is_refused_with_line_and_column() {
    let scratch = Scratch::new("malformed-json");
    let cases = [
        (
            "{\n  \"chamber_code\": \"SCCI\",\n  \"members\": [{\"name\": \"Secret Firm\" \"ntn\": \"1234567-8\"}]\n}\n",
            "the file is not valid JSON at line 3, column 38: expected `,` or `}`",
        ),
        (
            "{\"members\": [{\"name\": \"Secret Fi",
            "the file is not valid JSON at line 1, column 32: EOF while parsing a string",
        ),
        (
            "\u{FEFF}{\"members\": [{\"name\": \"Secret\u{1}Firm\"}]}",
            "the file is not valid JSON at line 1, column 30: control character (\\u0000-\\u001F) found while parsing a string",
        ),
    ];
    for (content, expected) in cases {
        let path = scratch.write("bad.json", content);
        let error = open_error(&path, &Value::Null);
        assert_eq!(error.message, expected);
        assert_eq!(
            error.source_ref.as_ref().map(|r| r.file.as_str()),
            Some("bad.json")
        );
        assert_no_personal(&[error.to_string()], &["Secret", "1234567"]);
    }
}

#[test]
fn malformed_xml_is_refused_with_line_and_column() {
    let scratch = Scratch::new("malformed-xml");
    let head = "<directory chamber_code=\"SCCI\">\n  <member no=\"SCCI-1\"><name>Fine Firm</name></member>\n";
    let cases = [
        (
            "  <member no=\"SCCI-2\">\n    <name>Secret Firm</nam>\n  </member>\n</directory>\n",
            "the file is not well-formed XML at line 4, column 22: an end tag does not match its start tag",
        ),
        (
            "  <member no=\"SCCI-2\"><name>Secret &nbsp; Firm</name></member>\n</directory>\n",
            "the file is not well-formed XML at line 3, column 36: the text refers to an entity the document does not define",
        ),
        (
            "  <member no=\"SCCI-2\" no=\"Secret\"><name>Firm</name></member>\n</directory>\n",
            "the file is not well-formed XML at line 3, column 3: an attribute is malformed (repeated, unquoted or without a value)",
        ),
        (
            "  <member no=\"SCCI-2\"><name>Secret Fi",
            "the file is not well-formed XML at line 3, column 38: the file ends before the directory is closed (is it cut short?)",
        ),
        (
            "  <member no=\"SCCI-2\"><name>Secret Firm</name",
            "the file is not well-formed XML at line 3, column 40: tag not closed: `>` not found before end of input",
        ),
    ];
    for (tail, expected) in cases {
        let path = scratch.write("bad.xml", format!("{head}{tail}"));
        // The member read before the problem is delivered before the error.
        let mut importer = ChamberDirectory;
        let mut stream = importer.open(Input::new(&path), &Value::Null).unwrap();
        let mut items = Vec::new();
        let error = loop {
            match stream.next_batch(100) {
                Ok(Some(batch)) => items.extend(batch),
                Ok(None) => panic!("{tail} should fail"),
                Err(error) => break error,
            }
        };
        assert_eq!(error.message, expected);
        assert_eq!(organisations(&items).len(), 1);
        assert_eq!(stream.next_batch(100).unwrap(), None);
        assert_no_personal(&[error.to_string()], &["Secret"]);
    }

    // Before the root: the error comes from open.
    let path = scratch.write(
        "bad.xml",
        "<?xml version=\"1.0\"?>\n<directory chamber_code=\"SCCI\"\n",
    );
    assert_eq!(
        open_error(&path, &Value::Null).message,
        "the file is not well-formed XML at line 2, column 1: tag not closed: `>` not found before end of input"
    );
    let path = scratch.write(
        "bad.xml",
        b"<directory chamber_code=\"SCCI\"><member no=\"\xFF\"/></directory>".as_slice(),
    );
    let error = open_error(&path, &Value::Null);
    assert_eq!(
        error.message,
        "the file is not well-formed XML at line 1, column 32: the text is not UTF-8"
    );
}

#[test]
fn files_that_are_not_directories_are_refused() {
    let scratch = Scratch::new("not-directories");
    let cases = [
        (
            "list.json",
            "[{\"membership_no\": \"1\"}]",
            "the JSON is not an object with a \"members\" list",
        ),
        (
            "firms.json",
            "{\"firms\": []}",
            "the JSON has no \"members\" list",
        ),
        (
            "odd.json",
            "{\"members\": {\"a\": 1}}",
            "its \"members\" is not a list",
        ),
        (
            "firms.xml",
            "<firms><member no=\"1\"/></firms>",
            "its root element is not <directory>",
        ),
        (
            "text.xml",
            "members: none",
            "it starts with text, not an element",
        ),
        ("comment.xml", "<!-- nothing -->", "it holds no XML element"),
        (
            "members.csv",
            "membership_no,name\n1,Firm\n",
            "the file is neither JSON nor XML",
        ),
    ];
    for (name, content, reason) in cases {
        let error = open_error(&scratch.write(name, content), &Value::Null);
        assert_eq!(
            error.message,
            format!("this is not a chamber member directory: {reason}"),
            "{name}"
        );
    }
    let error = open_error(&scratch.write("empty.json", " \n"), &Value::Null);
    assert!(
        error
            .message
            .starts_with("the file is not valid JSON at line 2"),
        "{error}"
    );
    let error = open_error(&scratch.write("empty.xml", ""), &Value::Null);
    assert_eq!(error.message, "the file is empty");
    let error = open_error(&scratch.0.join("missing.json"), &Value::Null);
    assert!(
        error.message.starts_with("cannot read the input: "),
        "{error}"
    );
    // A published date that does not read.
    let path = scratch.write(
        "undated.json",
        "{\"chamber_code\": \"SCCI\", \"published\": \"spring 2024\", \"members\": []}",
    );
    assert_eq!(
        open_error(&path, &Value::Null).message,
        "the directory's published date must be written YYYY-MM-DD or DD/MM/YYYY (or give the \
         option published)"
    );
}

// ---- Size ------------------------------------------------------------------------------

#[test]
fn a_large_directory_streams_in_both_forms() {
    const MEMBERS: u64 = 30_000;
    let scratch = Scratch::new("large");
    let mut xml = String::from("<directory chamber_code=\"SCCI\" published=\"2024-03-01\">\n");
    let mut members = Vec::new();
    for n in 1..=MEMBERS {
        let sector = if n % 3 == 0 {
            "Sports Goods"
        } else {
            "Surgical Instruments"
        };
        let _ = writeln!(
            xml,
            "<member no=\"SCCI-{n:05}\"><name>Firm {n}</name><ntn>{:07}-{}</ntn><sector>{sector}</sector><district>Sialkot</district><employees>{}</employees></member>",
            1_000_000 + n,
            n % 10,
            n % 200
        );
        let mut member = Map::new();
        member.insert("membership_no".into(), format!("SCCI-{n:05}").into());
        member.insert("name".into(), format!("Firm {n}").into());
        member.insert(
            "ntn".into(),
            format!("{:07}-{}", 1_000_000 + n, n % 10).into(),
        );
        member.insert("sector".into(), sector.into());
        member.insert("district".into(), "Sialkot".into());
        member.insert("employees".into(), (n % 200).into());
        members.push(Value::Object(member));
    }
    xml.push_str("</directory>\n");
    let json = json_directory(&Value::Array(members));
    for path in [
        scratch.write("large.xml", xml),
        scratch.write("large.json", json),
    ] {
        let mut importer = ChamberDirectory;
        let mut stream = importer.open(Input::new(&path), &Value::Null).unwrap();
        let (mut firms, mut placed, mut errors) = (0_u64, 0_u64, 0_u64);
        while let Some(batch) = stream.next_batch(1_000).unwrap() {
            assert!(batch.len() <= 1_000);
            for item in batch {
                match item {
                    Item::Record(r) if r.record.kind() == RecordKind::Organisation => firms += 1,
                    Item::Record(_) => placed += 1,
                    Item::RowError(_) => errors += 1,
                    _ => {}
                }
            }
        }
        assert_eq!((firms, placed, errors), (MEMBERS, MEMBERS - MEMBERS / 3, 0));
    }
}
