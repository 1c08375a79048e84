//! Trade flows: validated against the Comtrade areas, countries and classifications, and
//! written identified by their dimensions together with their source.
//!
//! - **Areas.** Comtrade area codes resolve through `comtrade_areas`, effective-dated, never
//!   as M49 (USA is 842 there). ISO3 codes and names resolve through `countries` (`WLD`,
//!   WITS's World, is Comtrade's `W00`). An unknown reporter is a row error; an unlisted
//!   partner code (areas n.e.s., free zones, bunkers…) becomes a partner area of its own
//!   (`countries.kind = special`, ISO3 `C-<code>`) with a warning, once per code.
//! - **Classifications.** HS revisions (`H0`…`H6`, `HS2017`) check the code and fill the
//!   `hs2`/`hs4`/`hs6` columns; any other classification (SITC `S3`, `BEC`, WITS product
//!   groups, the bureau's commodity groups) is stored under its own code, created on first
//!   use, and its codes are kept as written.
//! - **Values.** `value × 10^unit_multiplier` in USD gives `value_usd`; the value as given,
//!   its currency and multiplier are kept.
//! - **Identity.** Source, reporter, partner, flow, classification, code, period and
//!   breakdown: re-importing an overlapping extract updates, never duplicates, and the same
//!   flow from two sources stays two flows.

use std::collections::{HashMap, HashSet};

use hub_plugin_sdk::{Flow, SourceRef, TradeArea, codes};
use hub_schema::domain::{HsCode, HsRevision, Period};
use hub_schema::entity::{classifications, comtrade_areas, countries};
use sea_orm::Value;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, ConnectionTrait as _, EntityTrait as _};

use super::Issues;
use super::prepare::{Ctx, Seen};
use super::records::Prepared;
use super::report::Issue;
use super::sql::content_hash;

/// What trade validation needs, read on the first trade record of an import.
#[derive(Debug, Default)]
pub(crate) struct TradeRefs {
    areas: HashMap<i32, Vec<comtrade_areas::Model>>,
    by_iso3: HashMap<String, i64>,
    by_iso2: HashMap<String, i64>,
    by_name: HashMap<String, i64>,
    classifications: HashMap<String, i64>,
    /// Whether the import's source had flows before this import: when it had none, every
    /// flow is new (repeats within the file are caught as they are read) and the stored
    /// flows need not be looked up.
    source_had_flows: bool,
}

impl TradeRefs {
    async fn load(ctx: &Ctx<'_>) -> anyhow::Result<Self> {
        let mut refs = TradeRefs::default();
        for a in comtrade_areas::Entity::find().all(ctx.txn).await? {
            refs.areas.entry(a.code).or_default().push(a);
        }
        for c in countries::Entity::find().all(ctx.txn).await? {
            refs.by_name.insert(c.name.to_lowercase(), c.id);
            refs.by_iso3.insert(c.iso3.to_uppercase(), c.id);
            if let Some(iso2) = &c.iso2 {
                refs.by_iso2.insert(iso2.to_uppercase(), c.id);
            }
        }
        if let Some(&world) = refs.by_iso3.get("W00") {
            refs.by_iso3.insert("WLD".into(), world);
        }
        for c in classifications::Entity::find().all(ctx.txn).await? {
            refs.classifications.insert(c.code, c.id);
        }
        let mut any = Query::select();
        any.from(Alias::new("trade_flows"))
            .column(Alias::new("id"))
            .and_where(Expr::col(Alias::new("source_id")).eq(ctx.source_id))
            .limit(1);
        let backend = ctx.txn.get_database_backend();
        refs.source_had_flows = ctx.txn.query_one_raw(backend.build(&any)).await?.is_some();
        Ok(refs)
    }

    fn comtrade(&self, code: i32, on: chrono::NaiveDate) -> Option<i64> {
        self.areas.get(&code)?.iter().find_map(|a| {
            (a.valid_from.is_none_or(|f| f <= on) && a.valid_to.is_none_or(|t| t >= on))
                .then_some(a.country_id)
        })
    }
}

/// A partner area: known, or an unlisted Comtrade code to create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Partner {
    Known(i64),
    Unlisted(i32),
}

/// A trade flow ready to write.
#[derive(Debug, Clone)]
pub(crate) struct TradeRow {
    pub at: SourceRef,
    reporter_id: i64,
    partner: Partner,
    flow: &'static str,
    classification: ClassificationRef,
    commodity_code: String,
    hs: [Option<String>; 3],
    aggregate_level: i32,
    period: Period,
    breakdown_key: String,
    /// value_usd … flags, in [`FIGURES`] order.
    figures: Vec<Value>,
}

/// A classification: known, or one to create (a code that is not an HS revision).
#[derive(Debug, Clone, PartialEq)]
enum ClassificationRef {
    Known(i64),
    New(String),
}

/// The figures of a flow, after its identity.
const FIGURES: [&str; 11] = [
    "value_usd",
    "original_value",
    "original_currency",
    "original_unit_multiplier",
    "net_weight_kg",
    "quantity",
    "quantity_unit",
    "is_value_estimated",
    "is_quantity_estimated",
    "is_net_weight_estimated",
    "flags",
];

/// Validates a trade flow.
pub(crate) fn prepare(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    f: hub_plugin_sdk::TradeFlow,
) -> Option<Vec<Prepared>> {
    let refs = ctx.trade.as_ref()?;
    // Importers of statistics write canonical periods (`2011-12` is December there);
    // other forms are read as people write them.
    let period = match Period::parse_canonical(f.period.trim()) {
        Ok(p) => p,
        Err(_) => ctx.period(issues, at, "period", &f.period)?,
    };
    let on = period.start();
    let area = |area: &TradeArea| -> Result<Partner, Option<i32>> {
        match area {
            TradeArea::ComtradeCode(code) => {
                let code: i32 = code.trim().parse().map_err(|_| None)?;
                refs.comtrade(code, on)
                    .map(Partner::Known)
                    .ok_or(Some(code))
            }
            // ISO3, or the ISO2 codes Eurostat and the IMF use in SDMX.
            TradeArea::Iso3(iso) => {
                let iso = iso.trim().to_uppercase();
                refs.by_iso3
                    .get(&iso)
                    .or_else(|| (iso.len() == 2).then(|| refs.by_iso2.get(&iso)).flatten())
                    .map(|id| Partner::Known(*id))
                    .ok_or(None)
            }
            TradeArea::Name(name) => refs
                .by_name
                .get(&name.trim().to_lowercase())
                .map(|id| Partner::Known(*id))
                .ok_or(None),
        }
    };
    let describe = |a: &TradeArea| match a {
        TradeArea::ComtradeCode(c) => format!("Comtrade area code {}", c.trim()),
        TradeArea::Iso3(c) => format!("area code {}", c.trim()),
        TradeArea::Name(n) => format!("area {:?}", n.trim()),
    };
    let reporter_id = match area(&f.reporter) {
        Ok(Partner::Known(id)) => Some(id),
        _ => {
            issues.push(Issue::error(
                at,
                Some("reporter"),
                codes::UNKNOWN_CODE,
                format!(
                    "The reporter's {} is not a known reporter area in {period}.",
                    describe(&f.reporter)
                ),
            ));
            None
        }
    };
    let partner = match area(&f.partner) {
        Ok(p) => Some(p),
        Err(Some(code)) => Some(Partner::Unlisted(code)),
        Err(None) => {
            issues.push(Issue::error(
                at,
                Some("partner"),
                codes::UNKNOWN_CODE,
                format!(
                    "The partner's {} is not a known area.",
                    describe(&f.partner)
                ),
            ));
            None
        }
    };
    let flow = match f.flow {
        Flow::Import => "import",
        Flow::Export => "export",
        Flow::ReExport => "re_export",
        Flow::ReImport => "re_import",
    };
    let code = f.commodity_code.trim().to_owned();
    let (classification, commodity_code, hs, level) = match HsRevision::parse(&f.classification) {
        Ok(revision) => match HsCode::parse(revision, &code) {
            Ok(hs) => {
                let id = refs
                    .classifications
                    .get(revision.classification_code())
                    .copied();
                let Some(id) = id else {
                    issues.push(Issue::error(
                        at,
                        Some("classification"),
                        codes::UNKNOWN_CODE,
                        format!(
                            "The hub has no reference list of {}; load it first.",
                            revision.classification_code()
                        ),
                    ));
                    return None;
                };
                let parts = [
                    hs.chapter().map(str::to_owned),
                    hs.heading().map(str::to_owned),
                    hs.subheading().map(str::to_owned),
                ];
                (
                    ClassificationRef::Known(id),
                    hs.as_str().to_owned(),
                    parts,
                    i32::from(hs.level()),
                )
            }
            Err(e) => {
                issues.push(Issue::error(
                    at,
                    Some("commodity_code"),
                    "invalid_hs_code",
                    e.to_string(),
                ));
                return None;
            }
        },
        Err(_) => {
            let class = f.classification.trim().to_owned();
            if class.is_empty() || code.is_empty() {
                issues.push(Issue::error(
                    at,
                    Some(if class.is_empty() {
                        "classification"
                    } else {
                        "commodity_code"
                    }),
                    codes::MISSING_REQUIRED,
                    "A trade flow needs its classification and commodity code.".to_owned(),
                ));
                return None;
            }
            let level = if code.eq_ignore_ascii_case("TOTAL") {
                0
            } else if code.bytes().all(|b| b.is_ascii_digit()) {
                code.len() as i32
            } else {
                -1
            };
            let class_ref = match refs.classifications.get(&class) {
                Some(id) => ClassificationRef::Known(*id),
                None => ClassificationRef::New(class),
            };
            (class_ref, code, [None, None, None], level)
        }
    };
    let multiplier = f.unit_multiplier;
    if !(-12..=15).contains(&multiplier) {
        issues.push(Issue::error(
            at,
            Some("unit_multiplier"),
            codes::INVALID_VALUE,
            "The unit multiplier must be a power of ten between -12 and 15.".to_owned(),
        ));
    }
    for (field, v) in [
        ("value", f.value),
        ("value_usd", f.value_usd),
        ("net_weight_kg", f.net_weight_kg),
        ("quantity", f.quantity),
    ] {
        if v.is_some_and(|v| !v.is_finite()) {
            issues.push(Issue::error(
                at,
                Some(field),
                codes::INVALID_NUMBER,
                format!("The field {field} must be a finite number."),
            ));
        }
    }
    let currency = f
        .currency
        .as_deref()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    let scaled = f.value.map(|v| v * 10f64.powi(multiplier));
    let value_usd = if currency.as_deref() == Some("USD") {
        scaled
    } else {
        f.value_usd
    };
    let breakdown_key = f
        .breakdown
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";");
    let figures = vec![
        value_usd.into(),
        f.value.into(),
        currency.into(),
        multiplier.into(),
        f.net_weight_kg.into(),
        f.quantity.into(),
        f.quantity_unit
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .into(),
        f.is_value_estimated.into(),
        f.is_quantity_estimated.into(),
        f.is_net_weight_estimated.into(),
        f.flags
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .into(),
    ];
    Some(vec![Prepared::Trade(Box::new(TradeRow {
        at: at.clone(),
        reporter_id: reporter_id?,
        partner: partner?,
        flow,
        classification,
        commodity_code,
        hs,
        aggregate_level: level,
        period,
        breakdown_key,
        figures,
    }))])
}

/// Reads the trade reference data on the first trade record.
pub(crate) async fn ensure_refs(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    if ctx.trade.is_none() {
        ctx.trade = Some(TradeRefs::load(ctx).await?);
    }
    Ok(())
}

/// Writes a batch of trade flows.
pub(crate) async fn apply(
    ctx: &mut Ctx<'_>,
    rows: Vec<TradeRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    const KIND: hub_plugin_sdk::RecordKind = hub_plugin_sdk::RecordKind::TradeFlow;
    issues.kind = Some(KIND);
    // Flows read before in this file (the check before writing refused other content).
    let mut unseen = Vec::with_capacity(rows.len());
    let mut hashes = Vec::with_capacity(rows.len());
    for row in rows {
        let (key, hash) = row.seen_key();
        match ctx.seen(KIND, &key, &hash) {
            Seen::New => {
                unseen.push(row);
                hashes.push(hash);
            }
            Seen::Repeat => ctx.count(KIND, 0, 0, 1),
            Seen::Conflict => issues.push(Issue::error(
                &row.at,
                None,
                codes::DUPLICATE_KEY,
                "The same flow (reporter, partner, flow, commodity, period) appears earlier \
                 in this file with other values."
                    .to_owned(),
            )),
        }
    }
    create_missing(ctx, &mut unseen, issues).await?;
    let fresh: Vec<(TradeRow, String, String)> = unseen
        .into_iter()
        .zip(hashes)
        .map(|(row, hash)| {
            let identity = identity(&row);
            (row, identity, hash)
        })
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    // The stored flows of the same codes and periods.
    let had_flows = ctx.trade.as_ref().is_some_and(|t| t.source_had_flows);
    let codes_wanted: HashSet<&str> = fresh
        .iter()
        .map(|(r, ..)| r.commodity_code.as_str())
        .collect();
    let starts: HashSet<chrono::NaiveDate> = fresh.iter().map(|(r, ..)| r.period.start()).collect();
    let mut select = Query::select();
    select
        .from(Alias::new("trade_flows"))
        .columns(
            [
                "id",
                "reporter_id",
                "partner_id",
                "flow",
                "classification_id",
                "commodity_code",
                "period_kind",
                "period_start",
                "breakdown_key",
                "content_hash",
            ]
            .map(Alias::new),
        )
        .and_where(Expr::col(Alias::new("source_id")).eq(ctx.source_id))
        .and_where(Expr::col(Alias::new("commodity_code")).is_in(codes_wanted.iter().copied()))
        .and_where(Expr::col(Alias::new("period_start")).is_in(starts.iter().copied()));
    let backend = ctx.txn.get_database_backend();
    let found = if had_flows {
        ctx.txn.query_all_raw(backend.build(&select)).await?
    } else {
        Vec::new()
    };
    let mut stored: HashMap<String, (i64, Option<String>)> = HashMap::new();
    for r in &found {
        let key = format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            r.try_get_by::<i64, _>("reporter_id")?,
            r.try_get_by::<i64, _>("partner_id")?,
            r.try_get_by::<String, _>("flow")?,
            r.try_get_by::<i64, _>("classification_id")?,
            r.try_get_by::<String, _>("commodity_code")?,
            r.try_get_by::<String, _>("period_kind")?,
            r.try_get_by::<chrono::NaiveDate, _>("period_start")?,
            r.try_get_by::<String, _>("breakdown_key")?,
        );
        stored.insert(key, (r.try_get_by("id")?, r.try_get_by("content_hash")?));
    }
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for (row, identity, hash) in fresh {
        match stored.get(&identity) {
            None => new.push((row, hash)),
            Some((_, old)) if old.as_deref() == Some(hash.as_str()) => ctx.count(KIND, 0, 0, 1),
            Some((id, _)) => changed.push((row, hash, *id)),
        }
    }
    let mut columns = vec![
        "source_id",
        "reporter_id",
        "partner_id",
        "flow",
        "classification_id",
        "commodity_code",
        "hs2",
        "hs4",
        "hs6",
        "aggregate_level",
        "period_kind",
        "period_start",
        "period_end",
        "breakdown_key",
        "content_hash",
    ];
    columns.extend(FIGURES);
    let source_id = ctx.source_id;
    let rows = new
        .into_iter()
        .map(|(row, hash)| {
            let [hs2, hs4, hs6] = row.hs;
            let mut values = vec![
                Value::from(source_id),
                Value::from(row.reporter_id),
                Value::from(partner_id(&row.partner)),
                Value::from(row.flow),
                Value::from(classification_id(&row.classification)),
                Value::from(row.commodity_code),
                Value::from(hs2),
                Value::from(hs4),
                Value::from(hs6),
                Value::from(row.aggregate_level),
                Value::from(row.period.kind().as_str()),
                Value::from(row.period.start()),
                Value::from(row.period.end()),
                Value::from(row.breakdown_key),
                Value::from(hash),
            ];
            values.extend(row.figures);
            (values, row.at)
        })
        .collect();
    ctx.insert_new(KIND, "trade_flows", &columns, rows).await?;
    let mut update_columns = vec!["content_hash"];
    update_columns.extend(FIGURES);
    let rows = changed
        .into_iter()
        .map(|(row, hash, id)| {
            let mut values = vec![Value::from(hash)];
            values.extend(row.figures);
            (id, values, row.at)
        })
        .collect();
    ctx.update_changed(KIND, "trade_flows", &update_columns, rows)
        .await?;
    Ok(())
}

fn partner_id(p: &Partner) -> i64 {
    match p {
        Partner::Known(id) => *id,
        Partner::Unlisted(_) => unreachable!("unlisted partners are created before writing"),
    }
}

fn classification_id(c: &ClassificationRef) -> i64 {
    match c {
        ClassificationRef::Known(id) => *id,
        ClassificationRef::New(_) => unreachable!("classifications are created before writing"),
    }
}

impl TradeRow {
    /// The identity and content a flow is found again by within its file, before its
    /// partner area or classification is created: `(identity, content hash)`.
    pub(crate) fn seen_key(&self) -> (String, String) {
        let partner = match &self.partner {
            Partner::Known(id) => format!("k{id}"),
            Partner::Unlisted(code) => format!("u{code}"),
        };
        let class = match &self.classification {
            ClassificationRef::Known(id) => format!("k{id}"),
            ClassificationRef::New(code) => format!("n{code}"),
        };
        let key = format!(
            "{}|{partner}|{}|{class}|{}|{}|{}|{}",
            self.reporter_id,
            self.flow,
            self.commodity_code,
            self.period.kind().as_str(),
            self.period.start(),
            self.breakdown_key
        );
        (key, content_hash(&self.figures, &format!("{:?}", self.hs)))
    }
}

/// The identity of a flow within its source, as stored.
fn identity(row: &TradeRow) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        row.reporter_id,
        partner_id(&row.partner),
        row.flow,
        classification_id(&row.classification),
        row.commodity_code,
        row.period.kind().as_str(),
        row.period.start(),
        row.breakdown_key
    )
}

/// Creates the unlisted partner areas (with a warning, once per code) and the non-HS
/// classifications the rows name, and points the rows at them.
async fn create_missing(
    ctx: &mut Ctx<'_>,
    rows: &mut [TradeRow],
    issues: &mut Issues,
) -> anyhow::Result<()> {
    for row in rows.iter_mut() {
        if let Partner::Unlisted(code) = row.partner {
            let refs = ctx.trade.as_ref().expect("trade references are loaded");
            let known = refs.comtrade(code, row.period.start());
            let id = match known {
                Some(id) => id,
                None => {
                    let id = create_area(ctx, code, &row.at).await?;
                    issues.push(Issue::warning(
                        &row.at,
                        Some("partner"),
                        "unlisted_partner",
                        format!(
                            "The partner code {code} is not in the list of Comtrade areas; it is \
                             stored as a partner area of its own (C-{code})."
                        ),
                    ));
                    id
                }
            };
            row.partner = Partner::Known(id);
        }
        if let ClassificationRef::New(code) = &row.classification {
            let code = code.clone();
            let refs = ctx.trade.as_ref().expect("trade references are loaded");
            let id = match refs.classifications.get(&code) {
                Some(id) => *id,
                None => create_classification(ctx, &code, &row.at).await?,
            };
            row.classification = ClassificationRef::Known(id);
        }
    }
    Ok(())
}

async fn create_area(ctx: &mut Ctx<'_>, code: i32, at: &SourceRef) -> anyhow::Result<i64> {
    let seqs = ctx.seqs(2).await?;
    let prov = ctx.prov(at);
    let country = countries::ActiveModel {
        iso3: Set(format!("C-{code}")),
        iso2: Set(None),
        name: Set(format!("Comtrade area {code}")),
        kind: Set("special".into()),
        import_run_id: Set(Some(prov.run_id)),
        source_ref: Set(Some(prov.source_ref.clone())),
        change_seq: Set(seqs),
        created_at: Set(prov.at),
        updated_at: Set(prov.at),
        ..Default::default()
    }
    .insert(ctx.txn)
    .await?;
    let area = comtrade_areas::ActiveModel {
        code: Set(code),
        country_id: Set(country.id),
        name: Set(format!("Comtrade area {code}")),
        valid_from: Set(None),
        valid_to: Set(None),
        is_group: Set(false),
        import_run_id: Set(Some(prov.run_id)),
        source_ref: Set(Some(prov.source_ref)),
        change_seq: Set(seqs + 1),
        created_at: Set(prov.at),
        updated_at: Set(prov.at),
        ..Default::default()
    }
    .insert(ctx.txn)
    .await?;
    let refs = ctx.trade.as_mut().expect("trade references are loaded");
    refs.by_iso3.insert(format!("C-{code}"), country.id);
    refs.areas.entry(code).or_default().push(area);
    Ok(country.id)
}

async fn create_classification(
    ctx: &mut Ctx<'_>,
    code: &str,
    at: &SourceRef,
) -> anyhow::Result<i64> {
    let seq = ctx.seqs(1).await?;
    let prov = ctx.prov(at);
    let upper = code.to_ascii_uppercase();
    let kind = if upper.starts_with('S') && upper.len() == 2 {
        "sitc"
    } else if upper.starts_with("BEC") {
        "bec"
    } else {
        "product_group"
    };
    let model = classifications::ActiveModel {
        code: Set(code.to_owned()),
        name: Set(code.to_owned()),
        kind: Set(kind.into()),
        revision_year: Set(None),
        description: Set(Some(format!(
            "Created by an import of {} for the codes it uses.",
            ctx.source_code
        ))),
        import_run_id: Set(Some(prov.run_id)),
        source_ref: Set(Some(prov.source_ref)),
        change_seq: Set(seq),
        created_at: Set(prov.at),
        updated_at: Set(prov.at),
        ..Default::default()
    }
    .insert(ctx.txn)
    .await?;
    let refs = ctx.trade.as_mut().expect("trade references are loaded");
    refs.classifications.insert(code.to_owned(), model.id);
    Ok(model.id)
}
