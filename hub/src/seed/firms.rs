//! Firms in two layers: source records as each source said them, linked by strong
//! identifiers to unified organisations whose fields survive from the best source.
//!
//! Every registry unit and every survey row becomes an `organisation_source_records` row
//! (source + source key), with its identifiers in `organisation_identifiers` (per source
//! record, mirrored onto the organisation). [`link`] groups the records into firms using
//! only the registry unit number, the NTN and the SECP number; each link is logged in
//! `record_links` (`new` for the record that founded a firm, `strong_identifier` with the
//! scheme as rule for the others). A CNIC, whether an owner's or a 13-digit "NTN", is
//! stored hashed and never links: one owner may hold several units, each its own firm.
//!
//! Cluster memberships and firm observations are written here too, because both hang off
//! a source record and its firm.

use std::collections::HashMap;

use chrono::NaiveDate;
use hub_schema::domain::{CnicKey, IdentifierScheme, NtnOrCnic, Period, normalise_name};
use hub_schema::entity::{
    cluster_memberships, firm_observations, organisation_identifiers, organisation_source_records,
    organisations, record_links,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _,
};
use serde_json::{Value, json};

use super::clusters::Catalogue;
use super::survivorship::{Survivor, to_json};
use super::values::display_text;
use super::{Ctx, Loc};
use crate::provenance::insert_chunked;

/// One firm as one source row said it.
#[derive(Debug, Clone)]
pub(super) struct FirmRecord {
    pub(super) loc: Loc,
    pub(super) source: &'static str,
    pub(super) key: String,
    pub(super) name: String,
    pub(super) legal_form: Option<&'static str>,
    pub(super) district_text: Option<String>,
    pub(super) tehsil_text: Option<String>,
    pub(super) district_id: Option<i64>,
    pub(super) tehsil_id: Option<i64>,
    pub(super) address: Option<String>,
    pub(super) industry_code: Option<String>,
    pub(super) founded_year: Option<i32>,
    pub(super) employees_total: Option<i32>,
    pub(super) employees_female: Option<i32>,
    pub(super) registered_on: Option<NaiveDate>,
    pub(super) status: Option<&'static str>,
    pub(super) observed_on: NaiveDate,
    /// What else the source said (never personal values).
    pub(super) attributes: Option<Value>,
    pub(super) identifiers: Vec<Ident>,
    pub(super) clusters: ClusterClaim,
    pub(super) observations: Vec<Observation>,
}

/// How a record places its firm in clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ClusterClaim {
    /// The firm belongs to the clusters whose ISIC classes and districts match its
    /// industry code and district; membership from the registration date.
    ByActivity,
    None,
}

/// An identifier of a source record, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ident {
    pub(super) scheme: IdentifierScheme,
    /// The canonical value, or the keyed hash for a CNIC.
    pub(super) value: String,
    /// The value as shown: canonical, or masked for a CNIC.
    pub(super) display: String,
    pub(super) hashed: bool,
}

impl Ident {
    pub(super) fn plain(scheme: IdentifierScheme, value: &str) -> Self {
        Ident {
            scheme,
            value: value.to_owned(),
            display: value.to_owned(),
            hashed: false,
        }
    }

    /// An NTN, or the CNIC a 13-digit NTN is: hashed and masked.
    pub(super) fn ntn(parsed: NtnOrCnic, key: &CnicKey) -> Self {
        match parsed {
            NtnOrCnic::Ntn(ntn) => Ident::plain(IdentifierScheme::Ntn, ntn.as_str()),
            NtnOrCnic::Cnic(cnic) => Ident {
                scheme: IdentifierScheme::Cnic,
                value: cnic.keyed_hash(key),
                display: cnic.masked(),
                hashed: true,
            },
        }
    }

    /// Whether two records sharing this identifier are the same firm.
    fn links(&self) -> bool {
        self.scheme.is_strong() && self.scheme.identifies_firm() && !self.hashed
    }

    /// The order in which identifiers are tried: the registry's own number first.
    fn strength(&self) -> u8 {
        match self.scheme {
            IdentifierScheme::PsicPunjabUnit => 0,
            IdentifierScheme::Ntn => 1,
            IdentifierScheme::Secp => 2,
            _ => 3,
        }
    }

    fn index_key(&self) -> (String, String) {
        (self.scheme.code().into_owned(), self.value.clone())
    }
}

/// Figures a source gives for a period.
#[derive(Debug, Clone, Default)]
pub(super) struct Observation {
    pub(super) period: Option<Period>,
    pub(super) employees_total: Option<i32>,
    pub(super) employees_female: Option<i32>,
    pub(super) turnover_pkr: Option<f64>,
    pub(super) exports_usd: Option<f64>,
    pub(super) certifications: Option<String>,
}

/// How one record was linked: the firm (0-based, in founding order) and, unless it founded
/// the firm, the identifier scheme that matched and the record that brought it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) firm: usize,
    pub(super) via: Option<(String, usize)>,
}

/// The result of linking: one link per record, the number of firms, and the records whose
/// identifiers pointed at two different firms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Linking {
    pub(super) links: Vec<Link>,
    pub(super) firms: usize,
    pub(super) conflicts: Vec<usize>,
}

/// Groups records into firms by strong identifiers, in the order given.
///
/// A record whose strong identifiers match no earlier record founds a firm. One that
/// matches joins the firm of its strongest matching identifier; if another identifier
/// matches a different firm, the firms are not merged (that is a curator's decision) and
/// the record is reported as a conflict.
pub(super) fn link(records: &[FirmRecord]) -> Linking {
    let mut index: HashMap<(String, String), (usize, usize)> = HashMap::new();
    let mut links = Vec::with_capacity(records.len());
    let mut firms = 0;
    let mut conflicts = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let mut strong: Vec<&Ident> = record.identifiers.iter().filter(|id| id.links()).collect();
        strong.sort_by_key(|id| id.strength());
        let matches: Vec<(&Ident, (usize, usize))> = strong
            .iter()
            .filter_map(|id| index.get(&id.index_key()).map(|&m| (*id, m)))
            .collect();
        let link = match matches.first() {
            Some((id, (firm, by))) => {
                if matches.iter().any(|(_, (other, _))| other != firm) {
                    conflicts.push(i);
                }
                Link {
                    firm: *firm,
                    via: Some((id.scheme.code().into_owned(), *by)),
                }
            }
            None => {
                firms += 1;
                Link {
                    firm: firms - 1,
                    via: None,
                }
            }
        };
        for id in strong {
            index.entry(id.index_key()).or_insert((link.firm, i));
        }
        links.push(link);
    }
    Linking {
        links,
        firms,
        conflicts,
    }
}

/// The firms written, to resolve references from other files.
#[derive(Debug, Default)]
pub(super) struct Firms {
    /// source code → source key → (source record id, organisation id)
    records: HashMap<&'static str, HashMap<String, (i64, i64)>>,
    /// (scheme code, value) → organisation id, for strong identifiers.
    identifiers: HashMap<(String, String), i64>,
}

impl Firms {
    /// The organisation of a source record.
    pub(super) fn organisation(&self, source: &str, key: &str) -> Option<i64> {
        self.records.get(source)?.get(key).map(|&(_, org)| org)
    }

    /// The organisation carrying a strong identifier (canonical value).
    pub(super) fn by_identifier(&self, scheme: &IdentifierScheme, value: &str) -> Option<i64> {
        self.identifiers
            .get(&(scheme.code().into_owned(), value.to_owned()))
            .copied()
    }
}

/// The unified values of one firm and the records they came from.
struct Unified {
    founder: usize,
    name: String,
    legal_form: Option<&'static str>,
    district_id: Option<i64>,
    tehsil_id: Option<i64>,
    address: Option<String>,
    founded_year: Option<i32>,
    employees_total: Option<i32>,
    employees_female: Option<i32>,
    industry_code: Option<String>,
    status: Option<&'static str>,
    chosen: Vec<(&'static str, usize)>,
}

fn survive(ctx: &Ctx<'_>, records: &[FirmRecord], members: &[usize]) -> Unified {
    let mut s = Survivor::new(members.iter().map(|&i| (i, &records[i])), |r| {
        (ctx.priority(r.source), Some(r.observed_on))
    });
    let name = s
        .pick("name", |r| Some(display_text(&r.name)))
        .unwrap_or_default();
    let district_id = s.pick("district_id", |r| r.district_id);
    let tehsil_id = s.pick_where(
        "tehsil_id",
        |r| r.district_id == district_id,
        |r| r.tehsil_id,
    );
    Unified {
        founder: members[0],
        name,
        legal_form: s.pick("legal_form", |r| r.legal_form),
        district_id,
        tehsil_id,
        address: s.pick("address", |r| r.address.as_deref().map(display_text)),
        founded_year: s.pick("founded_year", |r| r.founded_year),
        employees_total: s.pick("employees_total", |r| r.employees_total),
        employees_female: s.pick("employees_female", |r| r.employees_female),
        industry_code: s.pick("industry_code", |r| r.industry_code.clone()),
        status: s.pick("status", |r| r.status),
        chosen: s.chosen().to_vec(),
    }
}

/// Links and writes the firm records (registry first, then the survey).
pub(super) async fn write(
    ctx: &mut Ctx<'_>,
    catalogue: &Catalogue,
    records: Vec<FirmRecord>,
) -> anyhow::Result<Firms> {
    let mut source_ids = HashMap::new();
    for r in &records {
        if !source_ids.contains_key(r.source) {
            source_ids.insert(r.source, ctx.source(r.loc.file, r.source).await?.id);
        }
    }
    let linking = link(&records);
    for &i in &linking.conflicts {
        ctx.warn(
            &records[i].loc,
            "identifiers",
            "identifiers",
            "identifier_conflict",
            "The row's identifiers point to two different firms; it was linked to the firm of its \
             strongest identifier and the firms were not merged.",
        );
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); linking.firms];
    for (i, link) in linking.links.iter().enumerate() {
        members[link.firm].push(i);
    }

    // Unified organisations, one insert each for the id.
    let unified: Vec<Unified> = members.iter().map(|m| survive(ctx, &records, m)).collect();
    ctx.reserve_each(unified.iter().map(|u| records[u.founder].loc.file))
        .await?;
    let mut org_ids = Vec::with_capacity(unified.len());
    for u in &unified {
        let founder = &records[u.founder];
        let size_class = u
            .employees_total
            .and_then(|n| u32::try_from(n).ok())
            .and_then(|n| ctx.sizes.classify_by_employees(n));
        let model = row!(organisations {
            kind: "firm".to_owned(),
            name_key: normalise_name(&u.name),
            name: u.name.clone(),
            legal_form: u.legal_form.map(str::to_owned),
            district_id: u.district_id,
            tehsil_id: u.tehsil_id,
            address: u.address.clone(),
            founded_year: u.founded_year,
            employees_total: u.employees_total,
            employees_female: u.employees_female,
            size_class: size_class.map(|c| c.as_str().to_owned()),
            size_basis: size_class.map(|_| "employees".to_owned()),
            industry_code: u.industry_code.clone(),
            // A firm no source calls otherwise is taken to be active: it answered a
            // survey or is on the register.
            status: u.status.unwrap_or("active").to_owned(),
        } @ ctx.prov(founder.loc.file, founder.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        org_ids.push(model.id);
    }
    ctx.summary.firms += unified.len();
    let org_of = |i: usize| org_ids[linking.links[i].firm];

    // Source records, in one batch; their ids are read back by source key.
    ctx.reserve_each(records.iter().map(|r| r.loc.file)).await?;
    let rows: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            row!(organisation_source_records {
                source_id: source_ids[r.source],
                source_key: r.key.clone(),
                organisation_id: Some(org_of(i)),
                kind: "firm".to_owned(),
                name: r.name.clone(),
                name_key: normalise_name(&r.name),
                legal_form: r.legal_form.map(str::to_owned),
                district_text: r.district_text.clone(),
                tehsil_text: r.tehsil_text.clone(),
                district_id: r.district_id,
                tehsil_id: r.tehsil_id,
                address: r.address.clone(),
                phone: None,
                email: None,
                industry_code: r.industry_code.clone(),
                founded_year: r.founded_year,
                employees_total: r.employees_total,
                employees_female: r.employees_female,
                registered_on: r.registered_on,
                status: r.status.map(str::to_owned),
                observed_on: Some(r.observed_on),
                attributes: r.attributes.clone(),
            } @ ctx.prov(r.loc.file, r.loc.source_ref()))
        })
        .collect();
    ctx.summary.organisation_source_records += insert_chunked(ctx.txn, rows).await?;
    let mut ids_by_key: HashMap<(i64, String), i64> = HashMap::new();
    for &source_id in source_ids.values() {
        let pairs: Vec<(i64, String)> = organisation_source_records::Entity::find()
            .select_only()
            .column(organisation_source_records::Column::Id)
            .column(organisation_source_records::Column::SourceKey)
            .filter(organisation_source_records::Column::SourceId.eq(source_id))
            .into_tuple()
            .all(ctx.txn)
            .await?;
        ids_by_key.extend(pairs.into_iter().map(|(id, key)| ((source_id, key), id)));
    }
    let record_ids: Vec<i64> = records
        .iter()
        .map(|r| ids_by_key[&(source_ids[r.source], r.key.clone())])
        .collect();

    // Survivorship, now that the records have ids. The organisation rows were inserted in
    // this transaction, so this completes them rather than changing them.
    for (u, &org_id) in unified.iter().zip(&org_ids) {
        organisations::Entity::update_many()
            .col_expr(
                organisations::Column::Survivorship,
                Expr::value(to_json(&u.chosen, |i| record_ids[i])),
            )
            .filter(organisations::Column::Id.eq(org_id))
            .exec(ctx.txn)
            .await?;
    }

    // Identifiers, per source record and mirrored onto the organisation.
    let identifiers: Vec<(usize, &Ident)> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.identifiers.iter().map(move |id| (i, id)))
        .collect();
    ctx.reserve_each(identifiers.iter().map(|(i, _)| records[*i].loc.file))
        .await?;
    let rows: Vec<_> = identifiers
        .iter()
        .map(|&(i, id)| {
            row!(organisation_identifiers {
                organisation_id: Some(org_of(i)),
                source_record_id: Some(record_ids[i]),
                scheme: id.scheme.code().into_owned(),
                value: id.value.clone(),
                display: id.display.clone(),
                is_hashed: id.hashed,
            } @ ctx.prov(records[i].loc.file, records[i].loc.source_ref()))
        })
        .collect();
    ctx.summary.organisation_identifiers += insert_chunked(ctx.txn, rows).await?;

    // One link per record.
    ctx.reserve_each(records.iter().map(|r| r.loc.file)).await?;
    let rows: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (method, rule, evidence) = match &linking.links[i].via {
                None => ("new", None, None),
                Some((scheme, by)) => (
                    "strong_identifier",
                    Some(scheme.clone()),
                    Some(json!({"scheme": scheme, "matched_source_record_id": record_ids[*by]})),
                ),
            };
            row!(record_links {
                entity_type: "organisation".to_owned(),
                source_record_id: record_ids[i],
                unified_id: org_of(i),
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

    write_memberships(ctx, catalogue, &records, &source_ids, &org_of).await?;
    write_observations(ctx, &records, &source_ids, &record_ids, &org_of).await?;

    let mut firms = Firms::default();
    for (i, r) in records.iter().enumerate() {
        firms
            .records
            .entry(r.source)
            .or_default()
            .insert(r.key.clone(), (record_ids[i], org_of(i)));
        for id in r.identifiers.iter().filter(|id| id.links()) {
            firms.identifiers.entry(id.index_key()).or_insert(org_of(i));
        }
    }
    Ok(firms)
}

async fn write_memberships(
    ctx: &mut Ctx<'_>,
    catalogue: &Catalogue,
    records: &[FirmRecord],
    source_ids: &HashMap<&'static str, i64>,
    org_of: &impl Fn(usize) -> i64,
) -> anyhow::Result<()> {
    let mut memberships = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match &r.clusters {
            ClusterClaim::ByActivity => {
                let class = r.industry_code.as_deref().and_then(|code| code.get(..4));
                let mut matching: Vec<_> = catalogue
                    .clusters
                    .iter()
                    .filter(|(_, c)| {
                        class.is_some_and(|class| c.isic_classes.iter().any(|k| k == class))
                            && r.district_id.is_some_and(|d| c.district_ids.contains(&d))
                    })
                    .collect();
                matching.sort_by_key(|(slug, _)| slug.as_str());
                for (slug, c) in matching {
                    memberships.push((i, slug.as_str(), c.id, r.registered_on));
                }
            }
            ClusterClaim::None => {}
        }
    }
    ctx.reserve_each(memberships.iter().map(|(i, ..)| records[*i].loc.file))
        .await?;
    let rows: Vec<_> = memberships
        .into_iter()
        .map(|(i, slug, cluster_id, from)| {
            let r = &records[i];
            row!(cluster_memberships {
                cluster_id: cluster_id,
                organisation_id: org_of(i),
                valid_from: from,
                valid_to: None,
                source_id: Some(source_ids[r.source]),
                source_key: Some(format!("{}:{slug}", r.key)),
            } @ ctx.prov(r.loc.file, r.loc.source_ref()))
        })
        .collect();
    ctx.summary.cluster_memberships += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

async fn write_observations(
    ctx: &mut Ctx<'_>,
    records: &[FirmRecord],
    source_ids: &HashMap<&'static str, i64>,
    record_ids: &[i64],
    org_of: &impl Fn(usize) -> i64,
) -> anyhow::Result<()> {
    let observations: Vec<(usize, Period, &Observation)> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.observations
                .iter()
                .filter_map(move |o| o.period.map(|p| (i, p, o)))
        })
        .collect();
    ctx.reserve_each(observations.iter().map(|(i, ..)| records[*i].loc.file))
        .await?;
    let rows: Vec<_> = observations
        .into_iter()
        .map(|(i, period, o)| {
            let r = &records[i];
            row!(firm_observations {
                organisation_id: org_of(i),
                source_record_id: record_ids[i],
                source_id: source_ids[r.source],
                period_kind: period.kind().as_str().to_owned(),
                period_start: period.start(),
                period_end: period.end(),
                employees_total: o.employees_total,
                employees_female: o.employees_female,
                turnover_pkr: o.turnover_pkr,
                exports_usd: o.exports_usd,
                certifications: o.certifications.clone(),
            } @ ctx.prov(r.loc.file, r.loc.source_ref()))
        })
        .collect();
    ctx.summary.firm_observations += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::DemoFile;
    use super::*;
    use hub_schema::domain::{Cnic, SecpRegistrationNumber};

    fn key() -> CnicKey {
        CnicKey::from_bytes((0u8..32).collect::<Vec<_>>()).unwrap()
    }

    fn record(name: &str, identifiers: Vec<Ident>) -> FirmRecord {
        FirmRecord {
            loc: Loc::new(DemoFile::Units, None, 2),
            source: "psic-punjab",
            key: name.to_owned(),
            name: name.to_owned(),
            legal_form: None,
            district_text: None,
            tehsil_text: None,
            district_id: None,
            tehsil_id: None,
            address: None,
            industry_code: None,
            founded_year: None,
            employees_total: None,
            employees_female: None,
            registered_on: None,
            status: None,
            observed_on: NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            attributes: None,
            identifiers,
            clusters: ClusterClaim::None,
            observations: Vec::new(),
        }
    }

    fn unit(v: &str) -> Ident {
        Ident::plain(IdentifierScheme::PsicPunjabUnit, v)
    }
    fn ntn(v: &str) -> Ident {
        Ident::ntn(hub_schema::domain::parse_ntn(v).unwrap(), &key())
    }
    fn secp(v: &str) -> Ident {
        Ident::plain(
            IdentifierScheme::Secp,
            SecpRegistrationNumber::parse(v).unwrap().as_str(),
        )
    }

    #[test]
    fn links_by_strong_identifiers_only() {
        let cnic = "35202-1234567-1";
        let records = vec![
            record("A", vec![unit("LHR-1"), ntn("1234567-1")]),
            // Same owner CNIC given as NTN in two units: two firms.
            record("B", vec![unit("LHR-2"), ntn(cnic)]),
            record("C", vec![unit("LHR-3"), ntn(cnic)]),
            // Survey rows.
            record("A", vec![unit("LHR-1")]),
            record("A again", vec![ntn("12345671")]),
            record("D", vec![secp("86650")]),
            record("D2", vec![secp("0086650"), ntn("7654321-0")]),
            record("E", vec![unit("LHR-2"), ntn("1234567-1")]),
            // Same name as A, no identifiers: a firm of its own.
            record("A", vec![]),
        ];
        let linking = link(&records);
        let firms: Vec<usize> = linking.links.iter().map(|l| l.firm).collect();
        assert_eq!(firms, vec![0, 1, 2, 0, 0, 3, 3, 1, 4]);
        assert_eq!(linking.firms, 5);
        assert_eq!(linking.conflicts, vec![7]);
        assert_eq!(linking.links[0].via, None);
        assert_eq!(linking.links[3].via, Some(("psic-punjab-unit".into(), 0)));
        assert_eq!(linking.links[4].via, Some(("PK-NTN".into(), 0)));
        assert_eq!(linking.links[6].via, Some(("PK-SEC".into(), 5)));
        // The CNIC is hashed and masked, never stored as digits.
        let hashed = &records[1].identifiers[1];
        assert_eq!(hashed.scheme, IdentifierScheme::Cnic);
        assert!(hashed.hashed);
        assert_eq!(hashed.value, Cnic::parse(cnic).unwrap().keyed_hash(&key()));
        assert_eq!(hashed.display, "*****-****567-1");
    }
}
