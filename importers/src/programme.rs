//! Programme definitions in TOML (importer `programme`): the programmes, their partner
//! agencies and their clusters, the file an agency writes once to start its own programme.
//!
//! ```toml
//! # Partner agencies with more than a name (optional: a programme's lead, technical
//! # assistance and funder may be named by name alone).
//! [[agency]]
//! name = "UNIDO"
//! kind = "agency"              # agency (default), donor, chamber, association, bds_provider
//! iati = "XM-DAC-41123"        # IATI organisation identifier
//! website = "https://www.unido.org"
//!
//! [[programme]]
//! code = "punjab-cdi"          # lower-case letters, digits and dashes
//! name = "Punjab Industrial Cluster Development Initiative"
//! lead = "Punjab Small Industries Corporation"
//! technical_assistance = "UNIDO"
//! funder = "World Bank"        # a donor
//! start_date = "2019-07-01"
//! end_date = "2025-06-30"
//! description = "…"
//!
//! [[cluster]]
//! slug = "sialkot-surgical"    # lower-case letters, digits and dashes
//! name = "Sialkot Surgical Instruments Cluster"
//! sector = "Surgical and medical instruments"
//! programme = "punjab-cdi"     # a programme of this file or imported before
//! description = "…"
//! districts = ["Sialkot"]
//! isic_classes = ["3250"]      # ISIC Rev.4 classes
//! hs_revision = "HS2017"       # the revision the basket is written in
//! hs_basket = ["9018", "9021"] # chapters, headings or subheadings
//! ```
//!
//! - **Records.** Each agency (those of `[[agency]]`, then the programmes' lead, technical
//!   assistance and funder named only there) is an [`Organisation`] of kind `agency`
//!   (funders `donor`) keyed [`agency_key`], emitted once before the programmes that name
//!   it; each programme a [`Programme`], each cluster a [`Cluster`], in that order. The
//!   hub links agencies to the same organisation in other sources by their name, as it
//!   does every institution.
//! - **Places.** A record's source reference is the file and the line of its entry's
//!   `code`, `slug` or `name` (`programme.toml!R14`).
//! - **Errors.** A file that is not TOML, or an entry with a key this format does not have
//!   (a typo such as `hs_baskets`), is refused whole with its line. A value the hub refuses
//!   (an unknown district, an invalid ISIC class or HS code, a programme code that is not
//!   in the file) rejects its entry's row.
//! - **Source.** `programme` unless the user names another (`--source`).
//!
//! The same definitions are read from a workbook by the spreadsheet importer, from sheets
//! named `programmes`, `clusters` and `agencies` (see [`crate::spreadsheet`]).

use std::collections::{HashMap, HashSet};

use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Cluster, Confidence, Date, IdentifierValue, ImportError, Importer, ImporterManifest, Input,
    Item, IterStream, Organisation, OrganisationKind, Programme, RecordKind, RecordStream,
    RowError, SourceRef, codes, schemes,
};
use serde::Deserialize;
use toml::Spanned;

use crate::spreadsheet::organisation_kind;

/// The id of the importer.
pub const IMPORTER_ID: &str = "programme";

/// The source of a programme file when the user names none.
pub const DEFAULT_SOURCE: &str = "programme";

/// The key of an agency's organisation record: `agency:` and its name folded (case,
/// punctuation and spacing ignored), so that every mention of one agency in a source is one
/// record.
#[must_use]
pub fn agency_key(name: &str) -> String {
    format!(
        "agency:{}",
        crate::spreadsheet::fold(name).replace(' ', "-")
    )
}

/// The importers of this module: `programme`.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(ProgrammeImporter)]
}

/// Reads programme definitions in TOML (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProgrammeImporter;

impl Importer for ProgrammeImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            IMPORTER_ID,
            "Programme definition (programmes, clusters and agencies in TOML)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["toml"])
        .with_emits([
            RecordKind::Organisation,
            RecordKind::Programme,
            RecordKind::Cluster,
        ])
        .with_default_source(DEFAULT_SOURCE)
        .with_options_schema(json!({
            "type": "object",
            "properties": {
                "source": {"type": "string"},
                "importer": {"type": "string"}
            },
            "additionalProperties": false
        }))
    }

    /// 90 for text with a `[[programme]]` or `[[cluster]]` table header on a line of its
    /// own; 0 otherwise, whatever the file's name.
    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        if head.contains(&0) {
            return Confidence::NONE;
        }
        let text = String::from_utf8_lossy(head);
        let table = text.lines().map(str::trim).any(|line| {
            matches!(
                line.split('#').next().map(str::trim),
                Some("[[programme]]" | "[[cluster]]")
            )
        });
        if table {
            Confidence::new(90)
        } else {
            Confidence::NONE
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        // The options are the hub's keys only: the hub checks a mapping against the
        // manifest's schema before opening.
        let _ = options;
        let file = if input.file_name.is_empty() {
            Input::new(&input.path).file_name
        } else {
            input.file_name.clone()
        };
        let at = SourceRef::new(file.clone());
        let bytes = std::fs::read(&input.path)
            .map_err(|e| ImportError::at(at.clone(), format!("cannot read the file: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ImportError::at(
                at.clone().with_row(line_of(
                    &String::from_utf8_lossy(e.as_bytes()),
                    e.utf8_error().valid_up_to(),
                )),
                "the file is not UTF-8 text",
            )
        })?;
        let definitions: Definitions = toml::from_str(&text).map_err(|e| {
            let place = match e.span() {
                Some(span) => at.clone().with_row(line_of(&text, span.start)),
                None => at.clone(),
            };
            ImportError::at(
                place,
                format!(
                    "this is not a programme definition: {}",
                    e.message().trim_end_matches('.')
                ),
            )
        })?;
        if definitions.programme.is_empty()
            && definitions.cluster.is_empty()
            && definitions.agency.is_empty()
        {
            return Err(ImportError::at(
                at,
                "this is not a programme definition: it has no [[programme]], [[cluster]] or \
                 [[agency]] entry",
            ));
        }
        let items = items(&file, &text, definitions);
        Ok(Box::new(IterStream::new(items.into_iter().map(Ok))))
    }
}

/// The line (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Definitions {
    #[serde(default)]
    agency: Vec<AgencyDef>,
    #[serde(default)]
    programme: Vec<ProgrammeDef>,
    #[serde(default)]
    cluster: Vec<ClusterDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyDef {
    name: Spanned<String>,
    kind: Option<String>,
    iati: Option<String>,
    website: Option<String>,
    district: Option<String>,
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeDef {
    code: Spanned<String>,
    name: String,
    lead: Option<String>,
    technical_assistance: Option<String>,
    funder: Option<String>,
    start_date: Option<Spanned<toml::Value>>,
    end_date: Option<Spanned<toml::Value>>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterDef {
    slug: Spanned<String>,
    name: String,
    sector: String,
    programme: Option<String>,
    description: Option<String>,
    #[serde(default)]
    districts: Vec<String>,
    #[serde(default)]
    isic_classes: Vec<String>,
    hs_revision: Option<String>,
    #[serde(default)]
    hs_basket: Vec<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The items of a parsed file: agencies, programmes, clusters.
fn items(file: &str, text: &str, defs: Definitions) -> Vec<Item> {
    let place = |start: usize| SourceRef::row(file, line_of(text, start));
    let mut out = Vec::new();
    // Every agency's record, by key: those of `[[agency]]`, then those the programmes name
    // (a donor when only ever named as a funder). Each programme repeats the agencies it
    // names with the same content, so that one rejected entry never orphans another
    // (the hub reads identical repeats once).
    let mut agencies: HashMap<String, Organisation> = HashMap::new();
    let mut seen_names: HashSet<String> = HashSet::new();
    for a in defs.agency {
        let at = place(a.name.span().start);
        let name = a.name.into_inner().trim().to_owned();
        let key = agency_key(&name);
        if !seen_names.insert(key.clone()) {
            out.push(
                RowError::error(
                    at.with_column("name"),
                    codes::DUPLICATE_KEY,
                    "An earlier [[agency]] entry has the same name; the entry is skipped.",
                )
                .with_field("name")
                .into(),
            );
            continue;
        }
        let kind = match a.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => OrganisationKind::Agency,
            Some(k) => match organisation_kind(k) {
                Some(kind) => kind,
                None => {
                    out.push(
                        RowError::error(
                            at.clone().with_column("kind"),
                            codes::UNKNOWN_CODE,
                            "The kind is not one of agency, donor, chamber, association, \
                             bds_provider or training_provider.",
                        )
                        .with_field("kind")
                        .into(),
                    );
                    continue;
                }
            },
        };
        let mut org = Organisation::new(key.clone(), kind, name);
        org.website = non_empty(a.website);
        org.district = non_empty(a.district);
        org.address = non_empty(a.address);
        if let Some(iati) = non_empty(a.iati) {
            org.identifiers
                .push(IdentifierValue::new(schemes::IATI_ORG, iati));
        }
        agencies.insert(key, org.clone());
        out.push(Item::record(at, org));
    }
    // Agencies named only by programmes: a donor when only ever the funder.
    let mut roles: HashMap<String, (String, bool)> = HashMap::new();
    for p in &defs.programme {
        for (name, funder) in [
            (&p.lead, false),
            (&p.technical_assistance, false),
            (&p.funder, true),
        ] {
            if let Some(name) = non_empty(name.clone()) {
                let entry = roles.entry(agency_key(&name)).or_insert((name, true));
                entry.1 &= funder;
            }
        }
    }
    for (key, (name, only_funder)) in roles {
        agencies.entry(key.clone()).or_insert_with(|| {
            let kind = if only_funder {
                OrganisationKind::Donor
            } else {
                OrganisationKind::Agency
            };
            Organisation::new(key, kind, name)
        });
    }
    for p in defs.programme {
        let at = place(p.code.span().start);
        let mut refer = |name: Option<String>| -> Option<String> {
            let key = agency_key(&non_empty(name)?);
            if let Some(org) = agencies.get(&key) {
                out.push(Item::record(at.clone(), org.clone()));
            }
            Some(key)
        };
        let lead = refer(p.lead);
        let assistance = refer(p.technical_assistance);
        let funder = refer(p.funder);
        let mut programme = Programme::new(p.code.into_inner(), p.name);
        programme.description = non_empty(p.description);
        programme.lead_organisation_key = lead;
        programme.technical_assistance_organisation_key = assistance;
        programme.funder_organisation_key = funder;
        let mut bad_date = false;
        for (field, value, slot) in [
            ("start_date", p.start_date, &mut programme.start_date),
            ("end_date", p.end_date, &mut programme.end_date),
        ] {
            let Some(value) = value else { continue };
            let line = line_of(text, value.span().start);
            // A quoted date or a TOML date literal (`start_date = 2019-07-01`).
            let parsed = match value.get_ref() {
                toml::Value::String(text) => Date::parse_iso(text.trim()).ok(),
                toml::Value::Datetime(dt) if dt.time.is_none() => dt.date.and_then(|d| {
                    Date::from_ymd(i32::from(d.year), u32::from(d.month), u32::from(d.day)).ok()
                }),
                _ => None,
            };
            match parsed {
                Some(d) => *slot = Some(d),
                None => {
                    bad_date = true;
                    out.push(
                        RowError::error(
                            SourceRef::row(file, line).with_column(field),
                            codes::INVALID_DATE,
                            format!("The {field} is not a date written as yyyy-mm-dd."),
                        )
                        .with_field(field)
                        .into(),
                    );
                }
            }
        }
        if !bad_date {
            out.push(Item::record(at, programme));
        }
    }
    for c in defs.cluster {
        let at = place(c.slug.span().start);
        let mut cluster = Cluster::new(c.slug.into_inner(), c.name, c.sector);
        cluster.programme = non_empty(c.programme);
        cluster.description = non_empty(c.description);
        cluster.districts = c.districts;
        cluster.isic_classes = c.isic_classes;
        cluster.hs_revision = non_empty(c.hs_revision);
        cluster.hs_basket = c.hs_basket;
        out.push(Item::record(at, cluster));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_plugin_sdk::{Record, read_all};

    fn read(text: &str) -> Result<Vec<Item>, ImportError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("programme.toml");
        std::fs::write(&path, text).unwrap();
        read_all(&mut ProgrammeImporter, Input::new(&path), &Value::Null, 3)
    }

    const SAMPLE: &str = r#"
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

[[cluster]]
slug = "sialkot-surgical"
name = "Sialkot Surgical Instruments Cluster"
sector = "Surgical instruments"
programme = "punjab-cdi"
districts = ["Sialkot"]
isic_classes = ["3250"]
hs_revision = "HS2017"
hs_basket = ["9018", "9021"]
"#;

    #[test]
    fn every_programme_repeats_the_agencies_it_names_before_it() {
        let items = read(SAMPLE).unwrap();
        let records: Vec<(u64, &Record)> = items
            .iter()
            .filter_map(|i| match i {
                Item::Record(r) => Some((r.source_ref.row.unwrap(), &r.record)),
                _ => None,
            })
            .collect();
        let kinds: Vec<(u64, RecordKind, Option<&str>)> = records
            .iter()
            .map(|(row, r)| (*row, r.kind(), r.source_key()))
            .collect();
        assert_eq!(
            kinds,
            [
                (3, RecordKind::Organisation, Some("agency:unido")),
                (
                    7,
                    RecordKind::Organisation,
                    Some("agency:punjab-small-industries-corporation")
                ),
                (7, RecordKind::Organisation, Some("agency:unido")),
                (7, RecordKind::Organisation, Some("agency:world-bank")),
                (7, RecordKind::Programme, Some("punjab-cdi")),
                (15, RecordKind::Cluster, Some("sialkot-surgical")),
            ]
        );
        // The agency repeated on the programme's row is the [[agency]] entry, identifiers
        // and all: the hub reads the repeat once.
        assert_eq!(records[0].1, records[2].1);
        let Record::Programme(p) = records[4].1 else {
            panic!()
        };
        assert_eq!(
            p.technical_assistance_organisation_key.as_deref(),
            Some("agency:unido")
        );
        assert_eq!(
            p.start_date.map(|d| d.to_string()).as_deref(),
            Some("2019-07-01")
        );
        let Record::Organisation(bank) = records[3].1 else {
            panic!()
        };
        assert_eq!(bank.kind, OrganisationKind::Donor);
    }

    #[test]
    fn typos_and_syntax_errors_name_their_line() {
        let typo = SAMPLE.replace("hs_basket =", "hs_baskets =");
        let err = read(&typo).unwrap_err();
        assert_eq!(
            err.source_ref.as_ref().and_then(|r| r.row),
            Some(22),
            "{err}"
        );
        assert!(err.to_string().contains("hs_baskets"), "{err}");
        let broken = SAMPLE.replace("name = \"UNIDO\"", "name = UNIDO");
        let err = read(&broken).unwrap_err();
        assert_eq!(
            err.source_ref.as_ref().and_then(|r| r.row),
            Some(3),
            "{err}"
        );
        assert!(read("title = \"nothing\"\n").is_err());
    }

    #[test]
    fn dates_may_be_quoted_or_toml_dates() {
        let items = read(&SAMPLE.replace("\"2019-07-01\"", "2019-07-01")).unwrap();
        let programme = items
            .iter()
            .find_map(|i| match i {
                Item::Record(r) => match &r.record {
                    Record::Programme(p) => Some(p),
                    _ => None,
                },
                _ => None,
            })
            .expect("the programme");
        assert_eq!(
            programme.start_date.map(|d| d.to_string()).as_deref(),
            Some("2019-07-01")
        );
    }

    #[test]
    fn a_bad_date_is_a_row_error_at_its_line() {
        let items = read(&SAMPLE.replace("2019-07-01", "01/07/2019")).unwrap();
        let error = items
            .iter()
            .find_map(|i| match i {
                Item::RowError(e) => Some(e),
                _ => None,
            })
            .expect("a row error");
        assert_eq!(error.source_ref.row, Some(12));
        assert_eq!(error.code, codes::INVALID_DATE);
        assert!(
            !items
                .iter()
                .any(|i| matches!(i, Item::Record(r) if r.record.kind() == RecordKind::Programme))
        );
    }

    #[test]
    fn sniffing_needs_a_programme_or_cluster_table() {
        let importer = ProgrammeImporter;
        assert_eq!(
            importer.sniff(SAMPLE.as_bytes(), "x.toml"),
            Confidence::new(90)
        );
        assert_eq!(
            importer.sniff(b"[[sheets]]\ntarget = \"firms\"\n", "mapping.toml"),
            Confidence::NONE
        );
        assert_eq!(importer.sniff(b"\x00\x01", "a.toml"), Confidence::NONE);
    }
}
