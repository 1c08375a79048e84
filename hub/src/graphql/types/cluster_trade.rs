//! `Cluster.trade`: the cluster's HS basket summed per year (and partner), with trade
//! reported in any HS revision from 1992 to 2022 placed in the basket's revision through
//! the bundled concordance ([`hub_schema::domain::hs_convert`]).
//!
//! How:
//! 1. The candidate codes: in each revision, the codes at the basket's level of detail
//!    (chapters, headings or subheadings, as its finest item) with a subheading that
//!    corresponds to one of the basket (`Concordance::candidates`).
//! 2. Their flows, added by `tradeFlowsAggregate`'s rules (one source, one period kind,
//!    one aggregate level, partner rows without World, totals only), grouped by year,
//!    partner when asked, classification and code: one statement.
//! 3. Each (revision, code) placed: entirely inside a basket item, it is added; split
//!    across the basket's boundary (part of it moved to or came from a code outside), it is
//!    **not placed**: reported beside the figure with its value and the codes on each
//!    side, never shared out (the concordance has no weights).
//! 4. The basket's share of the reporter's total trade (the `TOTAL` commodity rows of the
//!    same source and flow: partner `W00` for a year, the partner's own row per partner),
//!    where the source has them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::{Context, Enum, Result, SimpleObject};
use hub_schema::domain::hs::{HsCode, HsRevision};
use hub_schema::domain::hs_convert::{Basket, Concordance, Placement};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, JoinType, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::trade::{Flow, FlowFilter, HsCodeFilter, PeriodKind, TradeFlowFilter};
use super::trade_aggregate::{Flows, Measures, TradeFlowDimension, aggregate};
use crate::graphql::answers::Lookup;
use crate::graphql::filter::{IntFilter, StringFilter};
use crate::graphql::list::internal;

/// What a cluster's trade can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ClusterTradeDimension {
    Year,
    Partner,
}

/// Trade in a reported code that could not be placed in the basket.
#[derive(Debug, Clone, SimpleObject)]
pub struct NotPlaced {
    /// The code as reported.
    pub code: String,
    /// Its classification, e.g. `HS2022`.
    pub classification: String,
    pub value_usd: Option<f64>,
    /// Why: the codes it corresponds to inside and outside the basket.
    pub reason: String,
}

/// A cluster's trade in one year (and partner).
#[derive(Debug, Clone, SimpleObject)]
pub struct ClusterTradeGroup {
    pub year: i32,
    /// The partner's ISO3 code, when grouped by partner.
    pub partner: Option<String>,
    /// The basket's trade: the flows placed in it.
    pub value_usd: Option<f64>,
    /// The flows added.
    pub flows: i64,
    /// The classifications the added flows were reported in.
    pub reported_in: Vec<String>,
    /// Trade that could not be placed (split across the basket's boundary), not included
    /// in `valueUsd`.
    pub not_placed: Vec<NotPlaced>,
    /// The sum of `notPlaced`.
    pub not_placed_value_usd: Option<f64>,
    /// The reporter's total trade in all commodities that year (and with that partner),
    /// from the same source; null where the source has no `TOTAL` rows.
    pub total_value_usd: Option<f64>,
    /// `valueUsd / totalValueUsd`.
    pub share_of_total: Option<f64>,
}

/// A cluster's trade by year.
#[derive(Debug, Clone, SimpleObject)]
pub struct ClusterTrade {
    /// The revision the basket is written in and the figures are placed in, e.g. `HS2017`.
    pub revision: Option<String>,
    /// The basket's items (chapters, headings or subheadings).
    pub basket: Vec<String>,
    /// The source whose flows are added.
    pub source: Option<String>,
    pub period_kind: Option<PeriodKind>,
    /// The digits of the codes added.
    pub aggregate_level: Option<i32>,
    pub flow: Flow,
    pub reporter: String,
    pub notes: Vec<String>,
    pub groups: Vec<ClusterTradeGroup>,
}

/// The most groups read for one cluster's trade (years × partners × codes).
const MAX_ROWS: u64 = 1_000_000;

/// `Cluster.trade`.
#[allow(clippy::too_many_arguments)]
pub async fn cluster_trade(
    ctx: &Context<'_>,
    cluster_id: i64,
    basket: (&[String], &[String]),
    years: Option<IntFilter>,
    flow: Flow,
    reporter: String,
    partner: Option<String>,
    group_by: Vec<ClusterTradeDimension>,
) -> Result<ClusterTrade> {
    let db = ctx.data::<DatabaseConnection>()?;
    let (items, revisions) = basket;
    let read = read_basket(items, revisions);
    let items = items.to_vec();
    let mut out = ClusterTrade {
        revision: None,
        basket: items,
        source: None,
        period_kind: None,
        aggregate_level: None,
        flow,
        reporter: reporter.clone(),
        notes: Vec::new(),
        groups: Vec::new(),
    };
    let (basket, level) = match read {
        Err(note) => {
            out.notes.push(note);
            return Ok(out);
        }
        Ok(b) => b,
    };
    let revision = basket.revision;
    out.revision = Some(revision.classification_code().to_owned());

    // The change number and the rollups' state, read once for both aggregates.
    let state = crate::rollups::state(db).await.map_err(internal)?;
    let known = Some(state);
    // An answer given at this change number is the answer (see `Answers`).
    let answers = ctx.data_opt::<Arc<Answers>>().map(|a| &**a);
    let question = format!(
        "{cluster_id}|{:?}|{:?}|{years:?}|{flow:?}|{reporter}|{partner:?}|{group_by:?}|{:?}",
        out.basket,
        revisions,
        crate::graphql::answers::scope_of(ctx),
    );
    let turn = match Answers::lookup(answers, question, state).await {
        Lookup::Kept(answer) => return Ok(answer),
        Lookup::Compute(turn) => turn,
    };

    // Every candidate code of every revision, and where it goes (the same for every request
    // about this basket: kept for the life of the process).
    let placed = placements(&basket)?;
    let placement = &placed.placement;
    let alternatives: Vec<TradeFlowFilter> = placed
        .candidates
        .iter()
        .map(|(classification, codes)| TradeFlowFilter {
            classification: Some(Box::new(StringFilter {
                eq: Some(classification.clone()),
                ..Default::default()
            })),
            hs_code: Some(Box::new(HsCodeFilter {
                starts_with: None,
                eq: None,
                r#in: Some(codes.clone()),
            })),
            ..Default::default()
        })
        .collect();
    let filter = TradeFlowFilter {
        flow: Some(Box::new(FlowFilter {
            eq: Some(flow),
            ..Default::default()
        })),
        reporter: Some(Box::new(StringFilter {
            eq: Some(reporter.clone()),
            ..Default::default()
        })),
        partner: partner.clone().map(|p| {
            Box::new(StringFilter {
                eq: Some(p),
                ..Default::default()
            })
        }),
        year: years.clone().map(Box::new),
        // Every candidate code at once, which the level columns' indexes serve; then each
        // code within its own revision.
        hs_code: Some(Box::new(HsCodeFilter {
            starts_with: None,
            eq: None,
            r#in: Some(
                placed
                    .candidates
                    .iter()
                    .flat_map(|(_, codes)| codes.iter().cloned())
                    .collect::<BTreeSet<String>>()
                    .into_iter()
                    .collect(),
            ),
        })),
        or: Some(alternatives),
        ..Default::default()
    };
    let by_partner = group_by.contains(&ClusterTradeDimension::Partner);
    let code_dim = match level {
        2 => TradeFlowDimension::Hs2,
        4 => TradeFlowDimension::Hs4,
        _ => TradeFlowDimension::Hs6,
    };
    let mut dims = vec![TradeFlowDimension::Year];
    if by_partner {
        dims.push(TradeFlowDimension::Partner);
    }
    dims.extend([TradeFlowDimension::Classification, code_dim]);
    let flows = Box::pin(aggregate(
        ctx,
        Some(filter),
        dims,
        None,
        None,
        MAX_ROWS,
        Measures::VALUE,
        Flows::ClusterRollup(cluster_id),
        known,
    ))
    .await?;
    out.source = flows.source.clone();
    out.period_kind = flows.period_kind;
    out.aggregate_level = flows.aggregate_level;
    out.notes = flows.notes.clone();
    out.notes.push(format!(
        "Trade reported in any HS revision is placed in the basket's revision ({}) through \
         the concordance; a code split across the basket's boundary is listed in `notPlaced` \
         with its value, never shared out.",
        revision.classification_code()
    ));

    let mut groups: BTreeMap<(i32, Option<String>), ClusterTradeGroup> = BTreeMap::new();
    for g in &flows.groups {
        let k = &g.keys;
        let year = k.year.unwrap_or_default();
        let key = (year, if by_partner { k.partner.clone() } else { None });
        let entry = groups
            .entry(key.clone())
            .or_insert_with(|| ClusterTradeGroup {
                year,
                partner: key.1.clone(),
                value_usd: None,
                flows: 0,
                reported_in: Vec::new(),
                not_placed: Vec::new(),
                not_placed_value_usd: None,
                total_value_usd: None,
                share_of_total: None,
            });
        let classification = k.classification.clone().unwrap_or_default();
        let code = match code_dim {
            TradeFlowDimension::Hs2 => k.hs2.clone(),
            TradeFlowDimension::Hs4 => k.hs4.clone(),
            _ => k.hs6.clone(),
        }
        .unwrap_or_default();
        let add = |sum: &mut Option<f64>, v: Option<f64>| {
            if let Some(v) = v {
                *sum = Some(sum.unwrap_or(0.0) + v);
            }
        };
        match placement.get(&(classification.clone(), code.clone())) {
            Some(Placement::Inside(_)) => {
                add(&mut entry.value_usd, g.sum.value_usd);
                entry.flows += g.count;
                if !entry.reported_in.contains(&classification) {
                    entry.reported_in.push(classification);
                    entry.reported_in.sort();
                }
            }
            Some(Placement::NotConvertible(why)) => {
                add(&mut entry.not_placed_value_usd, g.sum.value_usd);
                entry.not_placed.push(NotPlaced {
                    code,
                    classification,
                    value_usd: g.sum.value_usd,
                    reason: why.to_string(),
                });
            }
            // Outside the basket, or a code the candidates did not list (a flow at a
            // finer level than the basket's, which the level rule keeps out).
            Some(Placement::Outside) | None => {}
        }
    }

    // The reporter's total trade, from the same source, kind and flow.
    if let (Some(source), Some(kind)) = (&flows.source, flows.period_kind) {
        let totals = TradeFlowFilter {
            source: Some(Box::new(StringFilter {
                eq: Some(source.clone()),
                ..Default::default()
            })),
            flow: Some(Box::new(FlowFilter {
                eq: Some(flow),
                ..Default::default()
            })),
            reporter: Some(Box::new(StringFilter {
                eq: Some(reporter.clone()),
                ..Default::default()
            })),
            // The world's row for a year; each partner's own row per partner.
            partner: partner
                .clone()
                .or_else(|| (!by_partner).then(|| "W00".to_owned()))
                .map(|p| {
                    Box::new(StringFilter {
                        eq: Some(p),
                        ..Default::default()
                    })
                }),
            commodity_code: Some(Box::new(StringFilter {
                eq: Some("TOTAL".to_owned()),
                ..Default::default()
            })),
            aggregate_level: Some(Box::new(IntFilter {
                eq: Some(0),
                ..Default::default()
            })),
            period_kind: Some(Box::new(super::trade::PeriodKindFilter {
                eq: Some(kind),
                ..Default::default()
            })),
            year: years.map(Box::new),
            ..Default::default()
        };
        let mut dims = vec![TradeFlowDimension::Year];
        if by_partner {
            dims.push(TradeFlowDimension::Partner);
        }
        let total = Box::pin(aggregate(
            ctx,
            Some(totals),
            dims,
            None,
            None,
            MAX_ROWS,
            Measures::VALUE,
            Flows::Raw,
            known,
        ))
        .await?;
        for t in &total.groups {
            let key = (
                t.keys.year.unwrap_or_default(),
                if by_partner {
                    t.keys.partner.clone()
                } else {
                    None
                },
            );
            if let Some(g) = groups.get_mut(&key) {
                g.total_value_usd = t.sum.value_usd;
                g.share_of_total = g
                    .value_usd
                    .zip(t.sum.value_usd)
                    .filter(|(_, total)| *total != 0.0)
                    .map(|(v, total)| v / total);
            }
        }
        if total.groups.is_empty() {
            out.notes.push(format!(
                "{source} has no TOTAL rows for these years: no share of total trade."
            ));
        }
    }
    out.groups = groups.into_values().collect();
    turn.keep(&out);
    Ok(out)
}

/// The kept answers of `Cluster.trade` (see [`crate::graphql::answers`]): only answers read
/// from fresh rollups are kept, never one computed while a writer had left them behind.
/// Keeping them spares a request the aggregate over the rollup and the placing of codes
/// (8 ms of a SQLite request of the surgical cluster's trade by year and partner,
/// measured).
pub type Answers = crate::graphql::answers::Answers<ClusterTrade>;

/// A cluster's basket items, and the basket with the digits of its finest item, or why its
/// trade cannot be placed (no basket, or items in several revisions).
pub(crate) async fn basket_of(
    db: &impl ConnectionTrait,
    cluster_id: i64,
) -> Result<(Vec<String>, Result<(Basket, usize), String>), sea_orm::DbErr> {
    let mut basket_query = Query::select();
    basket_query
        .expr_as(Expr::cust("cl.code"), Alias::new("classification"))
        .expr_as(Expr::cust("p.code"), Alias::new("code"))
        .from_as(Alias::new("cluster_products"), Alias::new("p"))
        .join_as(
            JoinType::InnerJoin,
            Alias::new("classifications"),
            Alias::new("cl"),
            Expr::cust("cl.id = p.classification_id"),
        )
        .and_where(Expr::cust("p.cluster_id").eq(cluster_id))
        .order_by_expr(Expr::cust("p.code"), Order::Asc);
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(backend.build(&basket_query)).await?;
    let mut revisions = BTreeSet::new();
    let mut items = Vec::new();
    for r in &rows {
        revisions.insert(r.try_get_by::<String, _>("classification")?);
        items.push(r.try_get_by::<String, _>("code")?);
    }
    let revisions: Vec<String> = revisions.into_iter().collect();
    let read = read_basket(&items, &revisions);
    Ok((items, read))
}

/// The basket of `items` written in `revisions` (each once), with the digits of its finest
/// item, or why its trade cannot be placed (no basket, or items in several revisions).
fn read_basket(items: &[String], revisions: &[String]) -> Result<(Basket, usize), String> {
    match revisions {
        [] => Err("The cluster has no HS basket: no trade is counted for it.".to_owned()),
        [code] => match HsRevision::parse(code) {
            Ok(revision) => {
                let level = items.iter().map(|i| i.len().min(6)).max().unwrap_or(4);
                Ok((Basket::new(revision, items.to_vec()), level))
            }
            Err(e) => Err(e.to_string()),
        },
        _ => Err(format!(
            "The cluster's basket mixes revisions ({}): its trade cannot be placed in one.",
            revisions.join(", ")
        )),
    }
}

/// Where the candidate codes of a basket go: per classification its candidate codes, and
/// each (classification, code) placed.
pub(crate) struct Placements {
    pub(crate) candidates: Vec<(String, Vec<String>)>,
    placement: BTreeMap<(String, String), Placement>,
}

/// The placements of `basket`, computed once per basket for the life of the process (the
/// concordance is bundled and never changes; a basket changed by an import is a new key).
pub(crate) fn placements(basket: &Basket) -> Result<Arc<Placements>> {
    static KEPT: OnceLock<Mutex<HashMap<String, Arc<Placements>>>> = OnceLock::new();
    let key = format!(
        "{}:{}",
        basket.revision.classification_code(),
        basket.items.join(",")
    );
    let kept = KEPT.get_or_init(Default::default);
    if let Some(p) = kept.lock().map_err(internal)?.get(&key) {
        return Ok(p.clone());
    }
    let level = basket
        .items
        .iter()
        .map(|i| i.len().min(6))
        .max()
        .unwrap_or(4);
    let concordance = Concordance::bundled();
    let mut candidates = Vec::new();
    let mut placement = BTreeMap::new();
    for r in HsRevision::ALL {
        let codes = concordance.candidates(basket, r, level);
        for code in &codes {
            let placed = HsCode::parse(r, code)
                .map(|c| concordance.place(&c, basket))
                .map_err(internal)?;
            placement.insert((r.classification_code().to_owned(), code.clone()), placed);
        }
        if !codes.is_empty() {
            candidates.push((
                r.classification_code().to_owned(),
                codes.into_iter().collect(),
            ));
        }
    }
    let p = Arc::new(Placements {
        candidates,
        placement,
    });
    let mut kept = kept.lock().map_err(internal)?;
    // A bound on the kept baskets, in case baskets churn: start again when full.
    if kept.len() >= 1_024 {
        kept.clear();
    }
    kept.insert(key, p.clone());
    Ok(p)
}
