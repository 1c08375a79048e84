//! The checks that can reject a row, run over a whole batch before anything of it is
//! written: a rejected row leaves nothing behind, not its persons, not its firms.
//!
//! [`super::records::prepare`] validates each record alone (fields, codes, identifiers,
//! places). What it cannot see is checked here, with the batch and the database at hand:
//!
//! - **repeated keys**: a key read before in the file (an earlier batch, or an earlier row
//!   of this one) with other content is a `duplicate_key` error; the same content is a
//!   repeat, read once. Firm observations are repeated by firm and period, trade flows by
//!   their dimensions.
//! - **references** to other records of the source (`event_key`, `organisation_key`, …):
//!   each must name a record of this batch whose row is not rejected, or one imported
//!   before (in an earlier batch or import). Rejecting a row can orphan a reference of
//!   another row, so the check runs until nothing more is rejected.
//!
//! Only then are the rows written ([`super::apply`]), in dependency order, and the
//! checks the writers still make can no longer fail.

use std::collections::{HashMap, HashSet};

use hub_plugin_sdk::{RecordKind, codes};
use sea_orm::Value;

use super::prepare::{Ctx, Seen};
use super::records::{Prepared, RefTarget};
use super::report::Issue;
use super::sql::find_by_keys;
use super::{Issues, RowKey};

/// The key and content a record is found again by in the file, and its kind.
fn seen_key(p: &Prepared) -> Option<(RecordKind, String, String)> {
    match p {
        Prepared::Organisation(o) => Some((
            RecordKind::Organisation,
            o.pending.key.clone(),
            super::unify::seen_hash(&o.pending),
        )),
        Prepared::Person(pending) => Some((
            RecordKind::Person,
            pending.key.clone(),
            super::unify::seen_hash(pending),
        )),
        Prepared::Keyed(k) => Some((k.kind, k.key.clone(), k.seen_hash())),
        Prepared::Trade(t) => {
            let (key, hash) = t.seen_key();
            Some((RecordKind::TradeFlow, key, hash))
        }
        Prepared::Definition(d) => Some((d.kind(), d.key().to_owned(), d.seen_hash())),
        Prepared::Observation(_) => None,
    }
}

/// The record a reference of a record of `target` names, as a key of this batch.
fn defines(p: &Prepared) -> Option<(RefTarget, &str)> {
    match p {
        Prepared::Organisation(o) => Some((RefTarget::Organisation, o.pending.key.as_str())),
        Prepared::Person(pending) => Some((RefTarget::Person, pending.key.as_str())),
        Prepared::Keyed(k) => {
            let target = match k.kind {
                RecordKind::Network => RefTarget::Network,
                RecordKind::Course => RefTarget::Course,
                RecordKind::TrainingEvent => RefTarget::Event,
                RecordKind::IndustrialEstate => RefTarget::Estate,
                _ => return None,
            };
            Some((target, k.key.as_str()))
        }
        _ => None,
    }
}

/// The references of a record that must resolve: `(target, key, field)`.
fn references(p: &Prepared) -> Vec<(RefTarget, &str, &'static str)> {
    match p {
        Prepared::Keyed(k) => k
            .refs
            .iter()
            // A unit number names a firm of any source and is optional: an unknown one is
            // a warning, written as such.
            .filter(|r| r.target != RefTarget::UnitNumber)
            .map(|r| (r.target, r.key.as_str(), r.field))
            .collect(),
        Prepared::Observation(o) => {
            vec![(
                RefTarget::Organisation,
                o.org_key.as_str(),
                "organisation_key",
            )]
        }
        Prepared::Definition(d) => d
            .references()
            .into_iter()
            .map(|(key, field)| (RefTarget::Organisation, key, field))
            .collect(),
        _ => Vec::new(),
    }
}

/// Rejects the rows of `prepared` (in file order) that the checks of this module refuse,
/// recording each problem in `issues`. Writes nothing.
pub(crate) async fn batch(
    ctx: &Ctx<'_>,
    prepared: &[Prepared],
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let rejected =
        |issues: &Issues, p: &Prepared| issues.rejected_rows.contains(&RowKey::of(p.at()));

    // Repeated keys: against the file so far, then within the batch.
    let mut first: HashMap<(RecordKind, String), String> = HashMap::new();
    for p in prepared {
        if rejected(issues, p) {
            continue;
        }
        let Some((kind, key, hash)) = seen_key(p) else {
            continue;
        };
        let conflict = match ctx.seen_peek(kind, &key, &hash) {
            Seen::Conflict => true,
            Seen::Repeat => false,
            Seen::New => match first.get(&(kind, key.clone())) {
                Some(h) => *h != hash,
                None => {
                    first.insert((kind, key.clone()), hash);
                    false
                }
            },
        };
        if conflict {
            issues.kind = Some(kind);
            issues.push(duplicate(p, kind, &key));
        }
    }
    observations(ctx, prepared, issues).await?;

    // References, until no rejection orphans another row.
    let mut stored: HashSet<(RefTarget, String)> = HashSet::new();
    let mut looked_up: HashSet<(RefTarget, String)> = HashSet::new();
    loop {
        let defined: HashSet<(RefTarget, &str)> = prepared
            .iter()
            .filter(|p| !rejected(issues, p))
            .filter_map(defines)
            .collect();
        // Look up, once each, the keys no record of the batch defines.
        let mut wanted: HashMap<RefTarget, Vec<String>> = HashMap::new();
        for p in prepared.iter().filter(|p| !rejected(issues, p)) {
            for (target, key, _) in references(p) {
                if !defined.contains(&(target, key)) && looked_up.insert((target, key.to_owned())) {
                    wanted.entry(target).or_default().push(key.to_owned());
                }
            }
        }
        for (target, keys) in wanted {
            let (table, column) = target.lookup();
            let values: Vec<Value> = keys.into_iter().map(Value::from).collect();
            for r in find_by_keys(
                ctx.txn,
                table,
                Some(ctx.source_id),
                "source_key",
                &values,
                &["source_key", column],
            )
            .await?
            {
                if r.try_get_by::<Option<i64>, _>(column)?.is_some() {
                    stored.insert((target, r.try_get_by("source_key")?));
                }
            }
        }
        let mut orphaned = Vec::new();
        for p in prepared.iter().filter(|p| !rejected(issues, p)) {
            for (target, key, field) in references(p) {
                if !defined.contains(&(target, key)) && !stored.contains(&(target, key.to_owned()))
                {
                    orphaned.push((p, field, key.to_owned()));
                }
            }
        }
        if orphaned.is_empty() {
            return Ok(());
        }
        for (p, field, key) in orphaned {
            issues.kind = Some(kind_of(p));
            issues.push(Issue::error(
                p.at(),
                Some(field),
                codes::UNKNOWN_REFERENCE,
                format!(
                    "The {field} {key:?} is neither in this file (in a row that is not \
                     rejected) nor imported earlier from this source."
                ),
            ));
        }
    }
}

fn kind_of(p: &Prepared) -> RecordKind {
    match p {
        Prepared::Organisation(_) => RecordKind::Organisation,
        Prepared::Person(_) => RecordKind::Person,
        Prepared::Keyed(k) => k.kind,
        Prepared::Observation(_) => RecordKind::FirmObservation,
        Prepared::Trade(_) => RecordKind::TradeFlow,
        Prepared::Definition(d) => d.kind(),
    }
}

fn duplicate(p: &Prepared, kind: RecordKind, key: &str) -> Issue {
    match p {
        Prepared::Trade(t) => Issue::error(
            &t.at,
            None,
            codes::DUPLICATE_KEY,
            "The same flow (reporter, partner, flow, commodity, period) appears earlier in \
             this file with other values."
                .to_owned(),
        ),
        Prepared::Definition(d) => Issue::error(
            d.at(),
            Some(if kind == RecordKind::Programme {
                "code"
            } else {
                "slug"
            }),
            codes::DUPLICATE_KEY,
            format!("The {kind} {key:?} was read before in this file with other values."),
        ),
        p => Issue::error(
            p.at(),
            Some("source_key"),
            codes::DUPLICATE_KEY,
            format!(
                "The key {key:?} of this {kind} was read before in this file with other values."
            ),
        ),
    }
}

/// Firm observations repeated for one firm and period with other values: within the batch,
/// and against those an earlier batch of this import wrote.
async fn observations(
    ctx: &Ctx<'_>,
    prepared: &[Prepared],
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let obs: Vec<&super::records::ObsRow> = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::Observation(o) if !issues.rejected_rows.contains(&RowKey::of(&o.at)) => {
                Some(o)
            }
            _ => None,
        })
        .collect();
    if obs.is_empty() {
        return Ok(());
    }
    issues.kind = Some(RecordKind::FirmObservation);
    // This import's earlier observations of the same firms (keyed by record key and period).
    let record_of: HashMap<i64, (String, i64)> = super::sql::org_records(
        ctx.txn,
        ctx.source_id,
        obs.iter().map(|o| o.org_key.as_str()),
    )
    .await?
    .into_iter()
    .map(|(key, (record, org))| (record, (key, org)))
    .collect();
    let mut earlier: HashMap<(String, String, chrono::NaiveDate), (Option<String>, i64)> =
        HashMap::new();
    if !record_of.is_empty() {
        let ids: Vec<Value> = record_of.keys().map(|id| Value::from(*id)).collect();
        for r in find_by_keys(
            ctx.txn,
            "firm_observations",
            None,
            "source_record_id",
            &ids,
            &[
                "source_record_id",
                "period_kind",
                "period_start",
                "content_hash",
                "import_run_id",
            ],
        )
        .await?
        {
            if r.try_get_by::<Option<i64>, _>("import_run_id")? != Some(ctx.run_id) {
                continue;
            }
            let (key, org) = &record_of[&r.try_get_by::<i64, _>("source_record_id")?];
            earlier.insert(
                (
                    key.clone(),
                    r.try_get_by("period_kind")?,
                    r.try_get_by("period_start")?,
                ),
                (r.try_get_by("content_hash")?, *org),
            );
        }
    }
    let mut in_batch: HashMap<(&str, &str, chrono::NaiveDate), &[Value]> = HashMap::new();
    for o in obs {
        let identity = (
            o.org_key.as_str(),
            o.period.kind().as_str(),
            o.period.start(),
        );
        let conflict = match in_batch.get(&identity) {
            Some(values) => *values != o.values.as_slice(),
            None => {
                in_batch.insert(identity, &o.values);
                match earlier.get(&(
                    o.org_key.clone(),
                    o.period.kind().as_str().to_owned(),
                    o.period.start(),
                )) {
                    Some((hash, org)) => {
                        hash.as_deref()
                            != Some(super::sql::content_hash(&o.values, &org.to_string()).as_str())
                    }
                    None => false,
                }
            }
        };
        if conflict {
            issues.push(super::apply::duplicate_observation(o));
        }
    }
    Ok(())
}
