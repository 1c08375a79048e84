//! `comtrade_pak_exports_2017_2024.csv`: Pakistan's exports of the clusters' products in
//! the UN Comtrade API v1 CSV layout (source `un-comtrade`).
//!
//! ```text
//! typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,…,flowCode,…,
//! partnerCode,partnerISO,…,classificationCode,…,cmdCode,cmdDesc,aggrLevel,isLeaf,…,
//! qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,…,netWgt,isNetWgtEstimated,…,primaryValue,…
//! C,A,20170101,2017,52,2017,586,PAK,Pakistan,X,Export,0,W00,World,…,H5,HS,True,TOTAL,…
//! ```
//!
//! Reporter and partner are Comtrade area codes, which are not plain M49 (the USA is 842,
//! not 840) and are effective-dated: they are mapped through the `comtrade_areas` table to
//! countries. `refMonth` 52 marks annual data. H5 codes are HS 2017, H6 codes HS 2022; the
//! HS levels go to their own columns (`hs2`, `hs4`, `hs6`) so that "starts with 9018" is an
//! indexed equality; `TOTAL` has none.

use chrono::NaiveDate;
use hub_schema::domain::{HsCode, HsRevision, Period};
use hub_schema::entity::{comtrade_areas, trade_flows};
use sea_orm::EntityTrait as _;

use super::csvfile::{CsvFile, Record};
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const FILE: DemoFile = DemoFile::Trade;
const SOURCE: &str = "un-comtrade";

/// Comtrade area codes and their countries, with validity dates.
struct Areas(Vec<comtrade_areas::Model>);

impl Areas {
    /// The country an area code stands for on a date.
    fn country(&self, code: i32, on: NaiveDate) -> Option<i64> {
        let valid = |a: &&comtrade_areas::Model| {
            a.valid_from.is_none_or(|f| f <= on) && a.valid_to.is_none_or(|t| t >= on)
        };
        self.0
            .iter()
            .filter(|a| a.code == code)
            .find(valid)
            .map(|a| a.country_id)
    }
}

/// `import`, `export`, `re_export`, `re_import` from Comtrade's flow codes.
fn flow(code: &str) -> Option<&'static str> {
    match code.trim().to_ascii_uppercase().as_str() {
        "X" => Some("export"),
        "M" => Some("import"),
        "RX" => Some("re_export"),
        "RM" => Some("re_import"),
        _ => None,
    }
}

/// Comtrade writes booleans as `True`/`False` (also `1`/`0`).
fn flag(value: Option<String>) -> bool {
    value.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}

fn number(value: Option<String>) -> Option<f64> {
    value
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|n| n.is_finite())
}

/// Reads and writes the trade flows.
pub(super) async fn load(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let csv = CsvFile::parse(
        FILE.bytes(),
        FILE.name(),
        &[
            "refYear",
            "refMonth",
            "reporterCode",
            "partnerCode",
            "flowCode",
            "classificationCode",
            "cmdCode",
            "primaryValue",
        ],
    )?;
    ctx.read(FILE, csv.len());
    let source_id = ctx.source(FILE, SOURCE).await?.id;
    let areas = Areas(comtrade_areas::Entity::find().all(ctx.txn).await?);

    let mut flows = Vec::with_capacity(csv.len());
    for (line, rec) in csv.records() {
        let loc = Loc::new(FILE, None, line);
        if let Some(flow) = parse_flow(ctx, &areas, &loc, &rec)? {
            flows.push((loc, flow));
        }
    }
    ctx.reserve(FILE, flows.len()).await?;
    let rows: Vec<_> = flows
        .into_iter()
        .map(|(loc, f)| {
            row!(trade_flows {
                source_id: source_id,
                reporter_id: f.reporter_id,
                partner_id: f.partner_id,
                flow: f.flow.to_owned(),
                classification_id: f.classification_id,
                commodity_code: f.code.as_str().to_owned(),
                hs2: f.code.chapter().map(str::to_owned),
                hs4: f.code.heading().map(str::to_owned),
                hs6: f.code.subheading().map(str::to_owned),
                aggregate_level: f.aggregate_level,
                period_kind: f.period.kind().as_str().to_owned(),
                period_start: f.period.start(),
                period_end: f.period.end(),
                breakdown_key: String::new(),
                value_usd: f.value,
                original_value: f.value,
                original_currency: Some("USD".to_owned()),
                original_unit_multiplier: 0,
                net_weight_kg: f.net_weight,
                quantity: f.quantity,
                quantity_unit: f.quantity_unit,
                is_value_estimated: false,
                is_quantity_estimated: f.quantity_estimated,
                is_net_weight_estimated: f.net_weight_estimated,
                flags: f.flags,
            } @ ctx.prov(FILE, loc.source_ref()))
        })
        .collect();
    ctx.summary.trade_flows += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

struct Flow {
    reporter_id: i64,
    partner_id: i64,
    flow: &'static str,
    classification_id: i64,
    code: HsCode,
    aggregate_level: i32,
    period: Period,
    value: Option<f64>,
    net_weight: Option<f64>,
    quantity: Option<f64>,
    quantity_unit: Option<String>,
    quantity_estimated: bool,
    net_weight_estimated: bool,
    flags: Option<String>,
}

/// One record as a flow, or `None` (with a row error) when it cannot be stored.
fn parse_flow(
    ctx: &mut Ctx<'_>,
    areas: &Areas,
    loc: &Loc,
    rec: &Record<'_>,
) -> anyhow::Result<Option<Flow>> {
    let year = rec.get("refYear").and_then(|y| y.parse::<i32>().ok());
    let month = rec.get("refMonth").and_then(|m| m.parse::<u32>().ok());
    let Some(period) = year
        .zip(month)
        .and_then(|(y, m)| Period::from_comtrade(y, m).ok())
    else {
        ctx.reject(
            loc,
            "refMonth",
            "period",
            "invalid_period",
            "refYear and refMonth do not give a year or a month; the row is skipped.",
        );
        return Ok(None);
    };
    let Some(flow) = rec.get("flowCode").as_deref().and_then(flow) else {
        ctx.reject(
            loc,
            "flowCode",
            "flow",
            "unsupported_flow",
            "The flow code is not X, M, RX or RM; the row is skipped.",
        );
        return Ok(None);
    };
    let area = |column: &str| {
        rec.get(column)
            .and_then(|c| c.parse::<i32>().ok())
            .and_then(|code| areas.country(code, period.start()))
    };
    let (Some(reporter_id), Some(partner_id)) = (area("reporterCode"), area("partnerCode")) else {
        ctx.reject(
            loc,
            "partnerCode",
            "partner",
            "unknown_area",
            "The reporter or partner code is not a Comtrade area code \
             valid in the period; the row is skipped.",
        );
        return Ok(None);
    };
    let Some(revision) = rec
        .get("classificationCode")
        .and_then(|c| HsRevision::parse(&c).ok())
    else {
        ctx.reject(
            loc,
            "classificationCode",
            "classification",
            "unsupported_classification",
            "The classification is not an HS revision (H0 to H6); the row is skipped.",
        );
        return Ok(None);
    };
    let code = match HsCode::parse(revision, &rec.get("cmdCode").unwrap_or_default()) {
        Ok(code) => code,
        Err(e) => {
            ctx.reject(
                loc,
                "cmdCode",
                "commodity_code",
                "invalid_hs_code",
                format!("{e} The row is skipped."),
            );
            return Ok(None);
        }
    };
    let classification_id = ctx.classification(revision.classification_code())?;
    let aggregate_level = rec
        .get("aggrLevel")
        .and_then(|a| a.parse::<i32>().ok())
        .unwrap_or_else(|| i32::from(code.level()));
    // A quantity unit code of -1 means "no quantity".
    let quantity_unit = match rec.get("qtyUnitCode").as_deref() {
        Some("-1") => None,
        _ => rec
            .get("qtyUnitAbbr")
            .filter(|u| !u.eq_ignore_ascii_case("N/A")),
    };
    let flags = rec
        .get("legacyEstimationFlag")
        .filter(|f| f != "0")
        .map(|f| format!("legacyEstimationFlag={f}"));
    Ok(Some(Flow {
        reporter_id,
        partner_id,
        flow,
        classification_id,
        aggregate_level,
        period,
        value: number(rec.get("primaryValue")),
        net_weight: number(rec.get("netWgt")),
        quantity: number(rec.get("qty")),
        quantity_unit,
        quantity_estimated: flag(rec.get("isQtyEstimated")),
        net_weight_estimated: flag(rec.get("isNetWgtEstimated")),
        flags,
        code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_and_flags() {
        assert_eq!(flow("X"), Some("export"));
        assert_eq!(flow("rm"), Some("re_import"));
        assert_eq!(flow("MIP"), None);
        assert!(flag(Some("True".into())));
        assert!(!flag(Some("False".into())));
        assert!(!flag(None));
    }

    #[test]
    fn areas_are_effective_dated() {
        let area =
            |code, country_id, from: Option<(i32, u32, u32)>, to: Option<(i32, u32, u32)>| {
                let date = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
                comtrade_areas::Model {
                    id: 0,
                    code,
                    country_id,
                    name: String::new(),
                    valid_from: from.map(date),
                    valid_to: to.map(date),
                    is_group: false,
                    import_run_id: None,
                    source_ref: None,
                    change_seq: 0,
                    created_at: Default::default(),
                    updated_at: Default::default(),
                }
            };
        let areas = Areas(vec![
            area(842, 1, Some((1981, 1, 1)), None),
            area(841, 1, None, Some((1980, 12, 31))),
        ]);
        let on = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        assert_eq!(areas.country(842, on), Some(1));
        assert_eq!(areas.country(841, on), None);
        assert_eq!(areas.country(840, on), None);
    }
}
