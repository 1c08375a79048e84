//! Persons in two layers, and their affiliations with organisations.
//!
//! Owners (registry), contacts (survey), borrowers (loans) and trainees (attendance sheets)
//! are personal data: each becomes a `person_source_records` row, and records carrying the
//! same CNIC (compared by its keyed hash; the CNIC itself is never stored) are one person.
//! Records without a CNIC stay persons of their own: names and phone numbers are too weak
//! to link people without review. Contact details live on persons, never in the
//! `attributes` of organisations.

use std::collections::HashMap;

use chrono::NaiveDate;
use hub_schema::domain::{Cnic, CnicKey, normalise_name};
use hub_schema::entity::{affiliations, person_source_records, persons, record_links};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _,
};
use serde_json::{Value, json};

use super::survivorship::{Survivor, to_json};
use super::values::display_text;
use super::{Ctx, Loc};
use crate::provenance::insert_chunked;

/// A CNIC as stored: keyed hash and last four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CnicRef {
    pub(super) hash: String,
    pub(super) last4: String,
}

impl CnicRef {
    pub(super) fn new(cnic: &Cnic, key: &CnicKey) -> Self {
        CnicRef {
            hash: cnic.keyed_hash(key),
            last4: cnic.last4().to_owned(),
        }
    }
}

/// One person as one source row said it.
#[derive(Debug, Clone)]
pub(super) struct PersonRecord {
    pub(super) loc: Loc,
    pub(super) source: &'static str,
    pub(super) key: String,
    pub(super) full_name: Option<String>,
    pub(super) sex: Option<&'static str>,
    pub(super) cnic: Option<CnicRef>,
    pub(super) phone: Option<String>,
    pub(super) observed_on: Option<NaiveDate>,
    pub(super) attributes: Option<Value>,
}

/// The persons written, by the source record they came from.
#[derive(Debug, Default)]
pub(super) struct Persons {
    records: HashMap<&'static str, HashMap<String, i64>>,
}

impl Persons {
    /// The person of a source record.
    pub(super) fn person(&self, source: &str, key: &str) -> Option<i64> {
        self.records.get(source)?.get(key).copied()
    }
}

/// A person's role in an organisation, as a source states it.
#[derive(Debug, Clone)]
pub(super) struct AffiliationSpec {
    pub(super) loc: Loc,
    /// The person's source record: source code and key.
    pub(super) person: (&'static str, String),
    pub(super) organisation_id: i64,
    pub(super) role: &'static str,
    pub(super) title: Option<String>,
    pub(super) valid_from: Option<NaiveDate>,
    pub(super) source: &'static str,
    pub(super) key: String,
}

/// Groups records into persons: by CNIC hash, otherwise one person per record. Returns
/// the group of each record and, for records joining an earlier one, that record.
pub(super) fn link(records: &[PersonRecord]) -> (Vec<(usize, Option<usize>)>, usize) {
    let mut by_hash: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut groups = 0;
    let links = records
        .iter()
        .enumerate()
        .map(|(i, r)| match r.cnic.as_ref().map(|c| c.hash.as_str()) {
            Some(hash) => match by_hash.get(hash) {
                Some(&(group, first)) => (group, Some(first)),
                None => {
                    by_hash.insert(hash, (groups, i));
                    groups += 1;
                    (groups - 1, None)
                }
            },
            None => {
                groups += 1;
                (groups - 1, None)
            }
        })
        .collect();
    (links, groups)
}

/// Links and writes the person records.
pub(super) async fn write(
    ctx: &mut Ctx<'_>,
    records: Vec<PersonRecord>,
) -> anyhow::Result<Persons> {
    let mut source_ids = HashMap::new();
    for r in &records {
        if !source_ids.contains_key(r.source) {
            source_ids.insert(r.source, ctx.source(r.loc.file, r.source).await?.id);
        }
    }
    let (links, groups) = link(&records);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (i, (group, _)) in links.iter().enumerate() {
        members[*group].push(i);
    }

    struct Unified {
        founder: usize,
        full_name: Option<String>,
        sex: Option<&'static str>,
        cnic: Option<CnicRef>,
        phone: Option<String>,
        chosen: Vec<(&'static str, usize)>,
    }
    let unified: Vec<Unified> = members
        .iter()
        .map(|m| {
            let mut s = Survivor::new(m.iter().map(|&i| (i, &records[i])), |r| {
                (ctx.priority(r.source), r.observed_on)
            });
            Unified {
                founder: m[0],
                full_name: s.pick("full_name", |r| r.full_name.as_deref().map(display_text)),
                sex: s.pick("sex", |r| r.sex),
                cnic: s.pick("cnic_hash", |r| r.cnic.clone()),
                phone: s.pick("phone", |r| r.phone.clone()),
                chosen: s.chosen().to_vec(),
            }
        })
        .collect();

    ctx.reserve_each(unified.iter().map(|u| records[u.founder].loc.file))
        .await?;
    let mut person_ids = Vec::with_capacity(unified.len());
    for u in &unified {
        let founder = &records[u.founder];
        let model = row!(persons {
            name_key: u.full_name.as_deref().map(normalise_name),
            full_name: u.full_name.clone(),
            sex: u.sex.map(str::to_owned),
            cnic_hash: u.cnic.as_ref().map(|c| c.hash.clone()),
            cnic_last4: u.cnic.as_ref().map(|c| c.last4.clone()),
            phone: u.phone.clone(),
        } @ ctx.prov(founder.loc.file, founder.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        person_ids.push(model.id);
    }
    ctx.summary.persons += unified.len();
    let person_of = |i: usize| person_ids[links[i].0];

    ctx.reserve_each(records.iter().map(|r| r.loc.file)).await?;
    let rows: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            row!(person_source_records {
                source_id: source_ids[r.source],
                source_key: r.key.clone(),
                person_id: Some(person_of(i)),
                name_key: r.full_name.as_deref().map(normalise_name),
                full_name: r.full_name.clone(),
                sex: r.sex.map(str::to_owned),
                cnic_hash: r.cnic.as_ref().map(|c| c.hash.clone()),
                cnic_last4: r.cnic.as_ref().map(|c| c.last4.clone()),
                phone: r.phone.clone(),
                email: None,
                district_text: None,
                observed_on: r.observed_on,
                attributes: r.attributes.clone(),
            } @ ctx.prov(r.loc.file, r.loc.source_ref()))
        })
        .collect();
    ctx.summary.person_source_records += insert_chunked(ctx.txn, rows).await?;
    let mut ids_by_key: HashMap<(i64, String), i64> = HashMap::new();
    for &source_id in source_ids.values() {
        let pairs: Vec<(i64, String)> = person_source_records::Entity::find()
            .select_only()
            .column(person_source_records::Column::Id)
            .column(person_source_records::Column::SourceKey)
            .filter(person_source_records::Column::SourceId.eq(source_id))
            .into_tuple()
            .all(ctx.txn)
            .await?;
        ids_by_key.extend(pairs.into_iter().map(|(id, key)| ((source_id, key), id)));
    }
    let record_ids: Vec<i64> = records
        .iter()
        .map(|r| ids_by_key[&(source_ids[r.source], r.key.clone())])
        .collect();

    // Survivorship completes the person rows inserted above, in the same transaction.
    for (u, &person_id) in unified.iter().zip(&person_ids) {
        let mut chosen = u.chosen.clone();
        if let Some(&(_, i)) = chosen.iter().find(|(f, _)| *f == "cnic_hash") {
            chosen.push(("cnic_last4", i));
        }
        persons::Entity::update_many()
            .col_expr(
                persons::Column::Survivorship,
                Expr::value(to_json(&chosen, |i| record_ids[i])),
            )
            .filter(persons::Column::Id.eq(person_id))
            .exec(ctx.txn)
            .await?;
    }

    ctx.reserve_each(records.iter().map(|r| r.loc.file)).await?;
    let rows: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (method, rule, evidence) = match links[i].1 {
                None => ("new", None, None),
                Some(first) => (
                    "strong_identifier",
                    Some("PK-CNIC".to_owned()),
                    Some(
                        json!({"scheme": "PK-CNIC", "matched_source_record_id": record_ids[first]}),
                    ),
                ),
            };
            row!(record_links {
                entity_type: "person".to_owned(),
                source_record_id: record_ids[i],
                unified_id: person_of(i),
                method: method.to_owned(),
                rule: rule,
                score: None,
                evidence: evidence,
                status: "active".to_owned(),
                decided_by: None,
            } @ ctx.prov(r.loc.file, r.loc.source_ref()))
        })
        .collect();
    ctx.summary.record_links += insert_chunked(ctx.txn, rows).await?;

    let mut persons = Persons::default();
    for (i, r) in records.iter().enumerate() {
        persons
            .records
            .entry(r.source)
            .or_default()
            .insert(r.key.clone(), person_of(i));
    }
    Ok(persons)
}

/// Writes affiliations whose person was written.
pub(super) async fn write_affiliations(
    ctx: &mut Ctx<'_>,
    persons: &Persons,
    specs: Vec<AffiliationSpec>,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let specs: Vec<(AffiliationSpec, i64)> = specs
        .into_iter()
        .filter_map(|s| {
            let person = persons.person(s.person.0, &s.person.1)?;
            Some((s, person))
        })
        .collect();
    let mut source_ids = HashMap::new();
    for (s, _) in &specs {
        if !source_ids.contains_key(s.source) {
            source_ids.insert(s.source, ctx.source(s.loc.file, s.source).await?.id);
        }
    }
    ctx.reserve_each(specs.iter().map(|(s, _)| s.loc.file))
        .await?;
    for (s, person_id) in specs {
        rows.push(row!(affiliations {
            person_id: person_id,
            organisation_id: s.organisation_id,
            role: s.role.to_owned(),
            title: s.title,
            valid_from: s.valid_from,
            valid_to: None,
            source_id: Some(source_ids[s.source]),
            source_key: Some(s.key),
        } @ ctx.prov(s.loc.file, s.loc.source_ref())));
    }
    ctx.summary.affiliations += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::DemoFile;
    use super::*;

    fn record(key: &str, hash: Option<&str>) -> PersonRecord {
        PersonRecord {
            loc: Loc::new(DemoFile::Training, Some("x"), 5),
            source: "cdi-training",
            key: key.to_owned(),
            full_name: Some("Same Name".into()),
            sex: None,
            cnic: hash.map(|h| CnicRef {
                hash: h.to_owned(),
                last4: "0000".into(),
            }),
            phone: None,
            observed_on: None,
            attributes: None,
        }
    }

    #[test]
    fn one_person_per_cnic_and_never_by_name() {
        let records = [
            record("owner:1", Some("h1")),
            record("owner:2", Some("h1")),
            record("contact:1", None),
            record("contact:2", None),
            record("h2", Some("h2")),
        ];
        let (links, groups) = link(&records);
        assert_eq!(
            links,
            vec![(0, None), (0, Some(0)), (1, None), (2, None), (3, None)]
        );
        assert_eq!(groups, 4);
    }
}
