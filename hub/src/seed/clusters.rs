//! `clusters.toml`: the programme, its partner agencies, and the clusters with their
//! districts, ISIC classes and HS product basket.
//!
//! ```toml
//! [[programme]]
//! code = "punjab-cdi"
//! name = "Punjab Industrial Cluster Development Initiative"
//! lead = "Punjab Small Industries Corporation"
//! technical_assistance = "UNIDO"
//! funder = "World Bank"
//! start_date = "2019-07-01"
//!
//! [[cluster]]
//! slug = "sialkot-surgical"
//! programme = "punjab-cdi"
//! districts = ["Sialkot"]
//! isic_classes = ["3250"]
//! hs_revision = "HS2017"
//! hs_basket = ["9018", "9021"]
//! ```

use std::collections::HashMap;

use anyhow::Context as _;
use hub_schema::domain::{HsCode, HsRevision, ISIC4, IsicCode};
use hub_schema::entity::{
    cluster_activities, cluster_areas, cluster_products, clusters, programmes,
};
use sea_orm::ActiveModelTrait as _;
use serde::Deserialize;
use toml::Spanned;

use super::agencies::Agencies;
use super::values::parse_date;
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const FILE: DemoFile = DemoFile::Clusters;
const SOURCE: &str = "hub-curated";

#[derive(Debug, Deserialize)]
pub(super) struct Definitions {
    #[serde(default)]
    programme: Vec<ProgrammeDef>,
    #[serde(default)]
    cluster: Vec<ClusterDef>,
}

#[derive(Debug, Deserialize)]
struct ProgrammeDef {
    code: Spanned<String>,
    name: String,
    lead: Option<String>,
    technical_assistance: Option<String>,
    funder: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
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

/// The programmes and agencies written so far.
#[derive(Debug, Default)]
struct Catalogue {
    programmes: HashMap<String, i64>,
    agencies: Agencies,
}

/// Parses the file. An unreadable file is a defect of the bundle, hence an error.
pub(super) fn parse(ctx: &mut Ctx<'_>) -> anyhow::Result<Definitions> {
    let text = std::str::from_utf8(FILE.bytes()).context("clusters.toml is not UTF-8")?;
    let defs: Definitions = toml::from_str(text).context("clusters.toml")?;
    ctx.read(FILE, defs.programme.len() + defs.cluster.len());
    Ok(defs)
}

/// The line (1-based) where a value starts, for source references.
fn line_of<T>(spanned: &Spanned<T>) -> u64 {
    let text = FILE.bytes();
    let end = spanned.span().start.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Writes the agencies, programmes and clusters.
pub(super) async fn write(ctx: &mut Ctx<'_>, defs: &Definitions) -> anyhow::Result<()> {
    let mut catalogue = Catalogue::default();

    for p in &defs.programme {
        let loc = Loc::new(FILE, None, line_of(&p.code));
        let source_ref = loc.source_ref();
        let agencies = &mut catalogue.agencies;
        let lead = partner(ctx, agencies, p.lead.as_deref(), "agency", &source_ref).await?;
        let assistance = partner(
            ctx,
            agencies,
            p.technical_assistance.as_deref(),
            "agency",
            &source_ref,
        )
        .await?;
        let funder = partner(ctx, agencies, p.funder.as_deref(), "donor", &source_ref).await?;
        ctx.reserve(FILE, 1).await?;
        let model = row!(programmes {
            code: p.code.get_ref().clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            lead_organisation_id: lead,
            funder_organisation_id: funder,
            technical_assistance_organisation_id: assistance,
            start_date: p.start_date.as_deref().and_then(parse_date),
            end_date: p.end_date.as_deref().and_then(parse_date),
        } @ ctx.prov(FILE, source_ref.clone()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.programmes += 1;
        catalogue
            .programmes
            .insert(p.code.get_ref().clone(), model.id);
    }

    ctx.reserve(FILE, defs.cluster.len()).await?;
    let mut areas = Vec::new();
    let mut activities = Vec::new();
    let mut products = Vec::new();
    for c in &defs.cluster {
        let loc = Loc::new(FILE, None, line_of(&c.slug));
        let slug = c.slug.get_ref().clone();
        let revision = match c.hs_revision.as_deref().map(HsRevision::parse) {
            Some(Ok(revision)) => Some(revision),
            Some(Err(e)) => {
                ctx.warn(
                    &loc,
                    "hs_revision",
                    "hs_revision",
                    "unknown_hs_revision",
                    e.to_string(),
                );
                None
            }
            None => None,
        };
        let hs_classification_id = match revision {
            Some(r) => Some(ctx.classification(r.classification_code())?),
            None => None,
        };
        let programme_id = c
            .programme
            .as_ref()
            .and_then(|code| catalogue.programmes.get(code).copied());
        let model = row!(clusters {
            slug: slug.clone(),
            name: c.name.clone(),
            sector: c.sector.clone(),
            description: c.description.clone(),
            programme_id: programme_id,
            hs_classification_id: hs_classification_id,
            status: "active".to_owned(),
        } @ ctx.prov(FILE, loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.clusters += 1;

        let mut district_ids = Vec::new();
        for name in &c.districts {
            match ctx.areas.district(name, None) {
                Some(d) if !district_ids.contains(&d.id) => district_ids.push(d.id),
                Some(_) => {}
                None => ctx.warn(
                    &loc,
                    "districts",
                    "district",
                    "unknown_district",
                    format!(
                        "The district \"{name}\" is not a known district; the cluster is \
                         kept without it."
                    ),
                ),
            }
        }
        areas.extend(district_ids.iter().map(|&d| (model.id, d, loc.clone())));

        let mut isic_classes = Vec::new();
        for code in &c.isic_classes {
            match IsicCode::parse(code) {
                Ok(isic) => isic_classes.push(isic.as_str().to_owned()),
                Err(e) => ctx.warn(
                    &loc,
                    "isic_classes",
                    "isic_class",
                    "invalid_isic_code",
                    e.to_string(),
                ),
            }
        }
        activities.extend(
            isic_classes
                .iter()
                .map(|code| (model.id, code.clone(), loc.clone())),
        );

        if let (Some(revision), Some(class_id)) = (revision, hs_classification_id) {
            for code in &c.hs_basket {
                match HsCode::parse(revision, code) {
                    Ok(hs) => products.push((model.id, class_id, hs, loc.clone())),
                    Err(e) => ctx.warn(
                        &loc,
                        "hs_basket",
                        "hs_code",
                        "invalid_hs_code",
                        e.to_string(),
                    ),
                }
            }
        }
    }

    let isic_id = ctx.classification(ISIC4)?;
    ctx.reserve(FILE, areas.len() + activities.len() + products.len())
        .await?;
    let rows: Vec<_> = areas
        .into_iter()
        .map(|(cluster_id, admin_area_id, loc)| {
            row!(cluster_areas { cluster_id: cluster_id, admin_area_id: admin_area_id }
                @ ctx.prov(FILE, loc.source_ref()))
        })
        .collect();
    insert_chunked(ctx.txn, rows).await?;
    let rows: Vec<_> = activities
        .into_iter()
        .map(|(cluster_id, code, loc)| {
            row!(cluster_activities {
                cluster_id: cluster_id,
                classification_id: isic_id,
                code: code,
            }
                @ ctx.prov(FILE, loc.source_ref()))
        })
        .collect();
    insert_chunked(ctx.txn, rows).await?;
    let rows: Vec<_> = products
        .into_iter()
        .map(|(cluster_id, classification_id, hs, loc)| {
            row!(cluster_products {
                cluster_id: cluster_id,
                classification_id: classification_id,
                code: hs.as_str().to_owned(),
                level: i32::from(hs.level()),
            } @ ctx.prov(FILE, loc.source_ref()))
        })
        .collect();
    insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

/// The organisation of a programme partner named in the file, if one is named.
async fn partner(
    ctx: &mut Ctx<'_>,
    agencies: &mut Agencies,
    name: Option<&str>,
    kind: &str,
    source_ref: &str,
) -> anyhow::Result<Option<i64>> {
    match name {
        Some(name) => Ok(Some(
            agencies
                .ensure(ctx, FILE, SOURCE, name, kind, source_ref)
                .await?,
        )),
        None => Ok(None),
    }
}
