//! Applying one batch: validate every record, drop the rows with errors, then write the
//! kinds in dependency order (organisations and persons, courses, networks, events, then
//! what refers to them), resolving references between records of the source.

use std::collections::{HashMap, HashSet};

use hub_plugin_sdk::{RecordKind, codes};
use hub_schema::entity::indicators;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, Value};

use super::prepare::{Ctx, Seen};
use super::records::{KeyedRow, OBS_COLUMNS, ObsRow, OrgRecord, Prepared, RefTarget, prepare};
use super::report::Issue;
use super::sql::{content_hash, find_by_keys, insert_rows, stored_by_key, update_row};
use super::unify::{self, Applied, State};
use super::{Issues, RowKey, Sourced};

/// Validates and applies one batch of records.
pub(crate) async fn batch(
    ctx: &mut Ctx<'_>,
    mut records: Vec<Sourced>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    // Programme definitions are a barrier: a batch that defines clusters or programmes and
    // then names them (a workbook's clusters sheet, then its firms) is applied in two
    // parts, so that the later rows are validated against the clusters just written.
    // Importers emit a row's records together and definitions last in their row, so the
    // split never cuts a row.
    if let Some(last) = records
        .iter()
        .rposition(|r| matches!(r.record.kind(), RecordKind::Programme | RecordKind::Cluster))
        && last + 1 < records.len()
    {
        let rest = records.split_off(last + 1);
        Box::pin(batch(ctx, records, issues)).await?;
        return Box::pin(batch(ctx, rest, issues)).await;
    }
    if records
        .iter()
        .any(|r| r.record.kind() == RecordKind::TradeFlow)
    {
        super::trade::ensure_refs(ctx).await?;
    }
    let mut prepared = Vec::with_capacity(records.len());
    for sourced in records {
        if issues.rejected_rows.contains(&RowKey::of(&sourced.at)) {
            continue;
        }
        if let Some(rows) = prepare(ctx, issues, sourced.at, sourced.record) {
            prepared.extend(rows);
        }
    }
    // A row with an error is rejected as a whole, and every check that can reject a row
    // runs before anything of the batch is written: a rejected row leaves nothing behind.
    super::check::batch(ctx, &prepared, issues).await?;
    prepared.retain(|p| !issues.rejected_rows.contains(&RowKey::of(p.at())));
    prepared.sort_by_key(Prepared::order);

    let mut orgs = Vec::new();
    let mut persons = Vec::new();
    let mut keyed: Vec<KeyedRow> = Vec::new();
    let mut observations = Vec::new();
    let mut trade = Vec::new();
    let mut definitions = Vec::new();
    for p in prepared {
        match p {
            Prepared::Organisation(o) => orgs.push(*o),
            Prepared::Person(p) => persons.push(p),
            Prepared::Keyed(k) => keyed.push(k),
            Prepared::Observation(o) => observations.push(o),
            Prepared::Trade(t) => trade.push(*t),
            Prepared::Definition(d) => definitions.push(*d),
        }
    }
    if !orgs.is_empty() {
        organisations(ctx, orgs, issues).await?;
    }
    if !persons.is_empty() {
        unify::apply(ctx, persons, issues).await?;
    }
    if !definitions.is_empty() {
        super::definitions::apply(ctx, definitions, issues).await?;
    }
    // Keyed kinds in order; each group is resolved after the groups it may refer to.
    let mut start = 0;
    while start < keyed.len() {
        let kind = keyed[start].kind;
        let end = keyed[start..]
            .iter()
            .position(|k| k.kind != kind)
            .map_or(keyed.len(), |n| start + n);
        let group: Vec<KeyedRow> = keyed[start..end]
            .iter()
            .filter(|k| !issues.rejected_rows.contains(&RowKey::of(&k.at)))
            .cloned()
            .collect();
        let leads = kind == RecordKind::NetworkMember
            && group
                .iter()
                .any(|k| k.values.iter().any(|v| *v == Value::from("lead")));
        apply_keyed(ctx, kind, group, issues).await?;
        if kind == RecordKind::IndicatorValue && !ctx.created_indicators.is_empty() {
            complete_indicators(ctx).await?;
        }
        if leads {
            set_network_leads(ctx).await?;
        }
        start = end;
    }
    let observations: Vec<ObsRow> = observations
        .into_iter()
        .filter(|o| !issues.rejected_rows.contains(&RowKey::of(&o.at)))
        .collect();
    if !observations.is_empty() {
        apply_observations(ctx, observations, issues).await?;
    }
    if !trade.is_empty() {
        super::trade::apply(ctx, trade, issues).await?;
    }
    ctx.refresh_figures().await?;
    Ok(())
}

/// Indicators this import created from their values: the breakdowns their values use, and
/// the programme of their programme-level values.
async fn complete_indicators(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let ids: Vec<Value> = ctx
        .created_indicators
        .iter()
        .map(|id| Value::from(*id))
        .collect();
    let rows = find_by_keys(
        ctx.txn,
        "indicator_values",
        None,
        "indicator_id",
        &ids,
        &["indicator_id", "breakdown", "programme_id"],
    )
    .await?;
    let mut found: HashMap<i64, (std::collections::BTreeSet<String>, Option<i64>)> = HashMap::new();
    for r in &rows {
        let entry = found.entry(r.try_get_by("indicator_id")?).or_default();
        if let Some(b) = r.try_get_by::<Option<String>, _>("breakdown")? {
            entry.0.insert(b);
        }
        if entry.1.is_none() {
            entry.1 = r.try_get_by("programme_id")?;
        }
    }
    let current = find_by_keys(
        ctx.txn,
        "indicators",
        None,
        "id",
        &ids,
        &["id", "breakdowns", "programme_id"],
    )
    .await?;
    for r in &current {
        let id: i64 = r.try_get_by("id")?;
        let Some((breakdowns, programme)) = found.get(&id) else {
            continue;
        };
        let breakdowns = (!breakdowns.is_empty())
            .then(|| breakdowns.iter().cloned().collect::<Vec<_>>().join(","));
        let stored_programme: Option<i64> = r.try_get_by("programme_id")?;
        let programme = stored_programme.or(*programme);
        if r.try_get_by::<Option<String>, _>("breakdowns")? != breakdowns
            || stored_programme != programme
        {
            let seq = ctx.seqs(1).await?;
            let prov = super::Prov {
                run_id: ctx.run_id,
                source_ref: format!("indicator:{id}"),
                at: ctx.at,
            };
            update_row(
                ctx.txn,
                "indicators",
                id,
                &["breakdowns", "programme_id"],
                vec![breakdowns.into(), programme.into()],
                &prov,
                seq,
            )
            .await?;
        }
    }
    Ok(())
}

/// A network whose record names no lead organisation takes its member of role `lead`
/// (lists of networks name the lead firm by name only, while the member lists carry
/// identifiers).
async fn set_network_leads(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let seq = ctx.seqs(1).await?;
    let backend = ctx.txn.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "UPDATE networks SET lead_organisation_id = (SELECT m.organisation_id \
         FROM network_members m WHERE m.network_id = networks.id AND m.role = 'lead' \
         ORDER BY m.id LIMIT 1), change_seq = ?, import_run_id = ?, updated_at = ? \
         WHERE lead_organisation_id IS NULL AND id IN (SELECT network_id FROM network_members \
         WHERE role = 'lead' AND import_run_id = ?)",
    );
    ctx.txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                seq.into(),
                ctx.run_id.into(),
                ctx.at.into(),
                ctx.run_id.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// What hangs off an organisation record: its identifiers, its clusters (slug, id) and
/// since when it belongs to them.
type OrgExtras = (
    Vec<super::prepare::Ident>,
    Vec<(String, i64)>,
    Option<chrono::NaiveDate>,
);

/// Organisations: the two layers, then their identifiers and cluster memberships.
async fn organisations(
    ctx: &mut Ctx<'_>,
    orgs: Vec<OrgRecord>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let mut extras: HashMap<String, OrgExtras> = HashMap::new();
    let mut pending = Vec::with_capacity(orgs.len());
    for o in orgs {
        extras.insert(
            o.pending.key.clone(),
            (o.identifiers, o.clusters, o.membership_from),
        );
        pending.push(o.pending);
    }
    let applied: Vec<Applied<_>> = unify::apply(ctx, pending, issues).await?;
    let written: Vec<&Applied<_>> = applied
        .iter()
        .filter(|a| a.state != State::Unchanged)
        .collect();
    // A new or changed record may bring a figure (a head count on the firm itself).
    ctx.figures_touched
        .extend(written.iter().map(|a| a.entity_id));
    if written.is_empty() {
        return Ok(());
    }

    // Identifiers of changed records are replaced; new records get theirs.
    let changed: Vec<Value> = written
        .iter()
        .filter(|a| a.state == State::Updated)
        .map(|a| Value::from(a.record_id))
        .collect();
    if !changed.is_empty() {
        delete_where_in(
            ctx,
            "organisation_identifiers",
            "source_record_id",
            &changed,
        )
        .await?;
    }
    let total: usize = written.iter().map(|a| extras[&a.pending.key].0.len()).sum();
    let first = ctx.seqs(total).await?;
    let mut rows = Vec::with_capacity(total);
    for a in &written {
        for ident in &extras[&a.pending.key].0 {
            rows.push((
                vec![
                    Value::from(a.entity_id),
                    Value::from(a.record_id),
                    Value::from(ident.scheme.code().into_owned()),
                    Value::from(ident.value.clone()),
                    Value::from(ident.display.clone()),
                    Value::from(ident.hashed),
                ],
                ctx.prov(&a.pending.at),
                first + rows.len() as i64,
            ));
        }
    }
    insert_rows(
        ctx.txn,
        "organisation_identifiers",
        &[
            "organisation_id",
            "source_record_id",
            "scheme",
            "value",
            "display",
            "is_hashed",
        ],
        rows,
    )
    .await?;

    // Cluster memberships the records state, keyed `{record key}#{slug}`; not those a
    // curator ended (a warning says so).
    let stating: Vec<i64> = written
        .iter()
        .filter(|a| !extras[&a.pending.key].1.is_empty())
        .map(|a| a.entity_id)
        .collect();
    let removed = if stating.is_empty() {
        HashSet::new()
    } else {
        super::curate::removed_memberships(ctx, &stating).await?
    };
    let mut memberships = Vec::new();
    for a in &written {
        for (slug, cluster_id) in &extras[&a.pending.key].1 {
            if removed.contains(&(a.entity_id, slug.clone())) {
                issues.push(Issue::warning(
                    &a.pending.at,
                    Some("clusters"),
                    "curated_membership",
                    format!(
                        "A curator took this firm out of the cluster {slug}; the record's \
                         membership was not applied (setClusterMembership puts it back)."
                    ),
                ));
                continue;
            }
            let mut row = KeyedRow {
                kind: RecordKind::ClusterMembership,
                at: a.pending.at.clone(),
                table: "cluster_memberships",
                key: format!("{}#{slug}", a.pending.key),
                columns: Vec::new(),
                values: Vec::new(),
                refs: Vec::new(),
            };
            row.columns
                .extend(["cluster_id", "organisation_id", "valid_from", "valid_to"]);
            row.values.extend([
                Value::from(*cluster_id),
                Value::from(a.entity_id),
                Value::from(extras[&a.pending.key].2),
                Value::from(Option::<chrono::NaiveDate>::None),
            ]);
            memberships.push(row);
        }
    }
    apply_keyed(ctx, RecordKind::ClusterMembership, memberships, issues).await?;
    Ok(())
}

async fn delete_where_in(
    ctx: &Ctx<'_>,
    table: &str,
    column: &str,
    values: &[Value],
) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait as _;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
    let backend = ctx.txn.get_database_backend();
    for chunk in values.chunks(10_000) {
        let mut delete = Query::delete();
        delete
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_in(chunk.iter().cloned()));
        ctx.txn.execute_raw(backend.build(&delete)).await?;
    }
    Ok(())
}

/// Resolves references of records to other records of the same source; an unresolved
/// reference rejects its row.
async fn resolve(
    ctx: &Ctx<'_>,
    rows: &mut Vec<KeyedRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let mut wanted: HashMap<RefTarget, HashSet<String>> = HashMap::new();
    for row in rows.iter() {
        for r in &row.refs {
            wanted.entry(r.target).or_default().insert(r.key.clone());
        }
    }
    let mut found: HashMap<(RefTarget, String), Option<i64>> = HashMap::new();
    for (target, keys) in wanted {
        let (table, column) = target.lookup();
        if target == RefTarget::UnitNumber {
            // Units are found by their number in any source: the registry's unit number
            // identifies the firm wherever it is cited.
            let pairs: Vec<(String, String)> = keys
                .into_iter()
                .map(|k| ("psic-punjab-unit".to_owned(), k))
                .collect();
            for (_, value, org) in super::sql::identifiers(ctx.txn, &pairs).await? {
                found.insert((target, value), Some(org));
            }
            continue;
        }
        let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
        let result = find_by_keys(
            ctx.txn,
            table,
            Some(ctx.source_id),
            "source_key",
            &keys,
            &["source_key", column],
        )
        .await?;
        for r in &result {
            found.insert(
                (target, r.try_get_by("source_key")?),
                r.try_get_by::<Option<i64>, _>(column)?,
            );
        }
    }
    let mut kept = Vec::with_capacity(rows.len());
    for mut row in rows.drain(..) {
        let mut ok = true;
        for r in std::mem::take(&mut row.refs) {
            match found.get(&(r.target, r.key.clone())).copied().flatten() {
                Some(id) => {
                    row.columns.push(r.column);
                    row.values.push(Value::from(id));
                }
                None if r.target == RefTarget::UnitNumber => {
                    issues.push(Issue::warning(
                        &row.at,
                        Some(r.field),
                        "unknown_unit",
                        format!(
                            "No firm has the registry unit number {:?} yet; the record is \
                             kept without its firm.",
                            r.key
                        ),
                    ));
                    row.columns.push(r.column);
                    row.values.push(Value::from(Option::<i64>::None));
                }
                None => {
                    ok = false;
                    issues.push(Issue::error(
                        &row.at,
                        Some(r.field),
                        codes::UNKNOWN_REFERENCE,
                        format!(
                            "The {} {:?} is neither in this file (before this row) nor \
                             imported earlier from this source.",
                            r.field, r.key
                        ),
                    ));
                }
            }
        }
        if ok {
            kept.push(row);
        }
    }
    *rows = kept;
    Ok(())
}

/// The plots allotments name, created the first time an estate's plot number is seen: the
/// `@estate` (resolved) and `@plot` columns become `plot_id`.
async fn ensure_plots(ctx: &mut Ctx<'_>, rows: &mut [KeyedRow]) -> anyhow::Result<()> {
    let take = |row: &mut KeyedRow, column: &str| -> Option<Value> {
        let pos = row.columns.iter().position(|c| *c == column)?;
        row.columns.remove(pos);
        Some(row.values.remove(pos))
    };
    let mut wanted: Vec<(usize, i64, String, Option<f64>)> = Vec::new();
    for (i, row) in rows.iter_mut().enumerate() {
        let estate = take(row, "@estate");
        let plot = take(row, "@plot");
        if let (Some(Value::BigInt(Some(estate))), Some(Value::Json(Some(plot)))) = (estate, plot) {
            let number = plot["number"].as_str().unwrap_or_default().to_owned();
            wanted.push((i, estate, number, plot["area_sqm"].as_f64()));
        }
    }
    let estates: Vec<Value> = wanted.iter().map(|(_, e, ..)| Value::from(*e)).collect();
    let stored = find_by_keys(
        ctx.txn,
        "plots",
        None,
        "estate_id",
        &estates,
        &["id", "estate_id", "plot_number"],
    )
    .await?;
    let mut plots: HashMap<(i64, String), i64> = HashMap::new();
    for r in &stored {
        plots.insert(
            (r.try_get_by("estate_id")?, r.try_get_by("plot_number")?),
            r.try_get_by("id")?,
        );
    }
    let mut missing: Vec<(i64, String, Option<f64>, usize)> = Vec::new();
    for (i, estate, number, area) in &wanted {
        let key = (*estate, number.clone());
        if !plots.contains_key(&key) && !missing.iter().any(|m| (m.0, &m.1) == (key.0, &key.1)) {
            missing.push((*estate, number.clone(), *area, *i));
        }
    }
    if !missing.is_empty() {
        let first = ctx.seqs(missing.len()).await?;
        let new_rows = missing
            .iter()
            .enumerate()
            .map(|(n, (estate, number, area, i))| {
                (
                    vec![
                        Value::from(*estate),
                        Value::from(number.clone()),
                        Value::from(*area),
                    ],
                    ctx.prov(&rows[*i].at),
                    first + n as i64,
                )
            })
            .collect();
        insert_rows(
            ctx.txn,
            "plots",
            &["estate_id", "plot_number", "area_sqm"],
            new_rows,
        )
        .await?;
        let ids = super::sql::ids_by_seq(ctx.txn, "plots", first, first + missing.len() as i64 - 1)
            .await?;
        for (n, (estate, number, ..)) in missing.into_iter().enumerate() {
            plots.insert((estate, number), ids[&(first + n as i64)]);
        }
    }
    for (i, estate, number, _) in wanted {
        let row = &mut rows[i];
        row.columns.push("plot_id");
        row.values.push(Value::from(plots[&(estate, number)]));
    }
    Ok(())
}

/// Creates the indicators that values name with a name and unit, once each.
async fn create_indicators(ctx: &mut Ctx<'_>, rows: &mut [KeyedRow]) -> anyhow::Result<()> {
    for row in rows.iter_mut() {
        let Some(pos) = row.columns.iter().position(|c| *c == "@indicator") else {
            continue;
        };
        row.columns.remove(pos);
        let Value::Json(Some(spec)) = row.values.remove(pos) else {
            continue;
        };
        let code = spec["code"].as_str().unwrap_or_default().to_owned();
        let id = match ctx.indicators.get(&code) {
            Some(id) => *id,
            None => {
                let seq = ctx.seqs(1).await?;
                let prov = ctx.prov(&row.at);
                let model = indicators::ActiveModel {
                    // World Bank disbursement-linked indicators are coded DLI-n.
                    is_disbursement_linked: Set(code.starts_with("DLI")),
                    code: Set(code.clone()),
                    name: Set(spec["name"].as_str().unwrap_or_default().to_owned()),
                    unit: Set(spec["unit"].as_str().unwrap_or_default().to_owned()),
                    programme_id: Set(spec["programme"].as_i64()),
                    import_run_id: Set(Some(prov.run_id)),
                    source_ref: Set(Some(prov.source_ref)),
                    change_seq: Set(seq),
                    created_at: Set(prov.at),
                    updated_at: Set(prov.at),
                    ..Default::default()
                }
                .insert(ctx.txn)
                .await?;
                ctx.indicators.insert(code, model.id);
                ctx.created_indicators.push(model.id);
                model.id
            }
        };
        if let Some(slot) = row.columns.iter().position(|c| *c == "indicator_id") {
            row.values[slot] = Value::from(id);
        }
    }
    Ok(())
}

/// Applies records of one simple kind: found again by `(source, key)`, inserted when new,
/// updated when their content changed, left alone otherwise.
async fn apply_keyed(
    ctx: &mut Ctx<'_>,
    kind: RecordKind,
    rows: Vec<KeyedRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    issues.kind = Some(kind);
    // Keys read before in this file (the check before writing refused other content).
    let mut unseen = Vec::with_capacity(rows.len());
    for row in rows {
        match ctx.seen(kind, &row.key, &row.seen_hash()) {
            Seen::New => unseen.push(row),
            Seen::Repeat => ctx.count(kind, 0, 0, 1),
            Seen::Conflict => issues.push(Issue::error(
                &row.at,
                Some("source_key"),
                codes::DUPLICATE_KEY,
                format!(
                    "The key {:?} of this {kind} was read before in this file with other values.",
                    row.key
                ),
            )),
        }
    }
    let mut rows = unseen;
    resolve(ctx, &mut rows, issues).await?;
    if kind == RecordKind::IndicatorValue {
        create_indicators(ctx, &mut rows).await?;
    }
    if kind == RecordKind::PlotAllotment {
        ensure_plots(ctx, &mut rows).await?;
    }
    // Sort each row's columns so that every row of the kind writes the same columns in the
    // same order (references were appended as they resolved).
    let mut fresh: Vec<(KeyedRow, String)> = Vec::with_capacity(rows.len());
    for mut row in rows {
        let mut pairs: Vec<(&'static str, Value)> =
            row.columns.drain(..).zip(row.values.drain(..)).collect();
        pairs.sort_by_key(|(c, _)| *c);
        (row.columns, row.values) = pairs.into_iter().unzip();
        let hash = content_hash(&row.values, "");
        fresh.push((row, hash));
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let table = fresh[0].0.table;
    let stored = stored_by_key(
        ctx.txn,
        table,
        ctx.source_id,
        fresh.iter().map(|(r, _)| r.key.clone()),
    )
    .await?;
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for (row, hash) in fresh {
        match stored.get(&row.key) {
            None => new.push((row, hash)),
            Some(s) if s.hash.as_deref() == Some(hash.as_str()) => ctx.count(kind, 0, 0, 1),
            Some(s) => changed.push((row, hash, s.id)),
        }
    }
    if !new.is_empty() {
        let mut columns = vec!["source_id", "source_key", "content_hash"];
        columns.extend(new[0].0.columns.iter().copied());
        let source_id = ctx.source_id;
        let rows = new
            .into_iter()
            .map(|(row, hash)| {
                let mut values = vec![
                    Value::from(source_id),
                    Value::from(row.key.clone()),
                    Value::from(hash),
                ];
                values.extend(row.values);
                (values, row.at)
            })
            .collect();
        ctx.insert_new(kind, table, &columns, rows).await?;
    }
    if !changed.is_empty() {
        let mut columns = vec!["content_hash"];
        columns.extend(changed[0].0.columns.iter().copied());
        let rows = changed
            .into_iter()
            .map(|(row, hash, id)| {
                let mut values = vec![Value::from(hash)];
                values.extend(row.values);
                (id, values, row.at)
            })
            .collect();
        ctx.update_changed(kind, table, &columns, rows).await?;
    }
    Ok(())
}

/// A stored observation: id, content hash and the run that last wrote it.
type StoredObservation = (i64, Option<String>, Option<i64>);

/// The error of a firm observed twice for one period in one file, with other values.
pub(crate) fn duplicate_observation(o: &ObsRow) -> Issue {
    Issue::error(
        &o.at,
        Some("period"),
        codes::DUPLICATE_KEY,
        format!(
            "The firm {:?} has a second observation for {} in this file, with other values.",
            o.org_key, o.period
        ),
    )
}

/// Firm observations: identified by their organisation's source record and their period.
async fn apply_observations(
    ctx: &mut Ctx<'_>,
    rows: Vec<ObsRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    const KIND: RecordKind = RecordKind::FirmObservation;
    issues.kind = Some(KIND);
    // The organisation records they belong to.
    let records = super::sql::org_records(
        ctx.txn,
        ctx.source_id,
        rows.iter().map(|o| o.org_key.as_str()),
    )
    .await?;

    let mut fresh = Vec::with_capacity(rows.len());
    let mut in_batch: HashMap<(i64, &str, chrono::NaiveDate), String> = HashMap::new();
    for o in rows {
        let Some(&(record_id, org_id)) = records.get(&o.org_key) else {
            issues.push(Issue::error(
                &o.at,
                Some("organisation_key"),
                codes::UNKNOWN_REFERENCE,
                format!(
                    "The organisation_key {:?} is neither in this file (before this row) nor \
                     imported earlier from this source.",
                    o.org_key
                ),
            ));
            continue;
        };
        let hash = content_hash(&o.values, &org_id.to_string());
        // Repeats within the batch; those of earlier batches are found below as rows this
        // import wrote. Observations are the bulk of a large file, so no key is kept in
        // memory for them across batches.
        let identity = (record_id, o.period.kind().as_str(), o.period.start());
        match in_batch.get(&identity) {
            None => {
                in_batch.insert(identity, hash.clone());
                fresh.push((o, record_id, org_id, hash));
            }
            Some(first) if *first == hash => ctx.count(KIND, 0, 0, 1),
            Some(_) => issues.push(duplicate_observation(&o)),
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let record_ids: HashSet<i64> = fresh.iter().map(|(_, r, ..)| *r).collect();
    let record_ids: Vec<Value> = record_ids.into_iter().map(Value::from).collect();
    let stored_rows = find_by_keys(
        ctx.txn,
        "firm_observations",
        None,
        "source_record_id",
        &record_ids,
        &[
            "id",
            "source_record_id",
            "period_kind",
            "period_start",
            "content_hash",
            "import_run_id",
        ],
    )
    .await?;
    let mut stored: HashMap<(i64, String, chrono::NaiveDate), StoredObservation> = HashMap::new();
    for r in &stored_rows {
        stored.insert(
            (
                r.try_get_by("source_record_id")?,
                r.try_get_by("period_kind")?,
                r.try_get_by("period_start")?,
            ),
            (
                r.try_get_by("id")?,
                r.try_get_by("content_hash")?,
                r.try_get_by("import_run_id")?,
            ),
        );
    }
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for (o, record_id, org_id, hash) in fresh {
        let identity = (
            record_id,
            o.period.kind().as_str().to_owned(),
            o.period.start(),
        );
        match stored.get(&identity) {
            None => new.push((o, record_id, org_id, hash)),
            Some((_, old, _)) if old.as_deref() == Some(hash.as_str()) => {
                ctx.count(KIND, 0, 0, 1);
            }
            // Written by this import from an earlier row: a second observation of the firm
            // and period with other values.
            Some((_, _, run)) if *run == Some(ctx.run_id) => {
                issues.push(duplicate_observation(&o));
            }
            Some((id, ..)) => changed.push((o, org_id, hash, *id)),
        }
    }
    ctx.figures_touched.extend(
        new.iter()
            .map(|(_, _, org, _)| *org)
            .chain(changed.iter().map(|(_, org, ..)| *org)),
    );
    let mut columns = vec![
        "organisation_id",
        "source_record_id",
        "source_id",
        "period_kind",
        "period_start",
        "period_end",
        "content_hash",
    ];
    columns.extend(OBS_COLUMNS);
    let source_id = ctx.source_id;
    let rows = new
        .into_iter()
        .map(|(o, record_id, org_id, hash)| {
            let mut values = vec![
                Value::from(org_id),
                Value::from(record_id),
                Value::from(source_id),
                Value::from(o.period.kind().as_str()),
                Value::from(o.period.start()),
                Value::from(o.period.end()),
                Value::from(hash),
            ];
            values.extend(o.values);
            (values, o.at)
        })
        .collect();
    ctx.insert_new(KIND, "firm_observations", &columns, rows)
        .await?;
    let mut update_columns = vec!["organisation_id", "content_hash"];
    update_columns.extend(OBS_COLUMNS);
    let rows = changed
        .into_iter()
        .map(|(o, org_id, hash, id)| {
            let mut values = vec![Value::from(org_id), Value::from(hash)];
            values.extend(o.values);
            (id, values, o.at)
        })
        .collect();
    ctx.update_changed(KIND, "firm_observations", &update_columns, rows)
        .await?;
    Ok(())
}
