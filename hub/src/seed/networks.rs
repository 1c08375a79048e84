//! `sme_networks.xlsx`: SME networks and consortia formed by the cluster teams (source
//! `cdi-networks`).
//!
//! ```text
//! Networks: Network | Type | Cluster | Formed On | Lead Firm
//! Members:  Network | Survey ID | Member Firm | NTN No. | Role | Joined On
//! ```
//!
//! Members are found through their Survey ID (the survey's source record and its firm), or
//! failing that through their NTN; never through the firm name, which is also why the
//! `Lead Firm` column is not used: the lead is the member whose role is `lead`.

use std::collections::{HashMap, HashSet};

use hub_schema::domain::{IdentifierScheme, Ntn, normalise_name};
use hub_schema::entity::{network_members, networks};
use sea_orm::ActiveModelTrait as _;

use super::clusters::Catalogue;
use super::firms::Firms;
use super::xlsx::Workbook;
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const FILE: DemoFile = DemoFile::Networks;
const SOURCE: &str = "cdi-networks";
const SURVEY_SOURCE: &str = "cdi-survey-2023";

struct NetworkRow {
    loc: Loc,
    name: String,
    kind: &'static str,
    cluster_id: Option<i64>,
    programme_id: Option<i64>,
    formed_on: Option<chrono::NaiveDate>,
}

struct MemberRow {
    loc: Loc,
    network_key: String,
    /// The Survey ID, or the NTN when there is none: the member's key in the network.
    member_key: String,
    organisation_id: i64,
    lead: bool,
    joined_on: Option<chrono::NaiveDate>,
}

/// Reads and writes the networks and their members.
pub(super) async fn load(
    ctx: &mut Ctx<'_>,
    catalogue: &Catalogue,
    firms: &Firms,
) -> anyhow::Result<()> {
    let mut workbook = Workbook::open(FILE.bytes(), FILE.name())?;
    let (networks, members) = parse(ctx, &mut workbook, catalogue, firms)?;
    let source_id = ctx.source(FILE, SOURCE).await?.id;

    ctx.reserve(FILE, networks.len()).await?;
    let mut ids = HashMap::new();
    for n in networks {
        let key = normalise_name(&n.name);
        let lead = members
            .iter()
            .find(|m| m.lead && m.network_key == key)
            .map(|m| m.organisation_id);
        let model = row!(networks {
            name: n.name.clone(),
            name_key: key.clone(),
            kind: n.kind.to_owned(),
            cluster_id: n.cluster_id,
            programme_id: n.programme_id,
            lead_organisation_id: lead,
            formed_on: n.formed_on,
            dissolved_on: None,
            description: None,
            source_id: Some(source_id),
            source_key: Some(key.clone()),
        } @ ctx.prov(FILE, n.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.networks += 1;
        ids.insert(key, model.id);
    }

    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for m in members {
        let Some(&network_id) = ids.get(&m.network_key) else {
            ctx.reject(
                &m.loc,
                "Network",
                "network",
                "unknown_network",
                "The network is not on the Networks sheet; the row is skipped.",
            );
            continue;
        };
        if !seen.insert((network_id, m.organisation_id)) {
            ctx.reject(
                &m.loc,
                "Survey ID",
                "organisation",
                "duplicate_member",
                "The firm is already a member of this network on an earlier \
                 row; the row is skipped.",
            );
            continue;
        }
        kept.push((m, network_id));
    }
    ctx.reserve(FILE, kept.len()).await?;
    let rows: Vec<_> = kept
        .into_iter()
        .map(|(m, network_id)| {
            row!(network_members {
                network_id: network_id,
                organisation_id: m.organisation_id,
                role: if m.lead { "lead" } else { "member" }.to_owned(),
                joined_on: m.joined_on,
                left_on: None,
                source_id: Some(source_id),
                source_key: Some(format!("{}#{}", m.network_key, m.member_key)),
            } @ ctx.prov(FILE, m.loc.source_ref()))
        })
        .collect();
    ctx.summary.network_members += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

fn parse(
    ctx: &mut Ctx<'_>,
    workbook: &mut Workbook,
    catalogue: &Catalogue,
    firms: &Firms,
) -> anyhow::Result<(Vec<NetworkRow>, Vec<MemberRow>)> {
    let sheet = workbook.sheet("Networks", &["Network", "Type", "Cluster"])?;
    let mut networks = Vec::new();
    let mut rows_read = 0;
    let mut names = HashSet::new();
    for row in sheet.rows() {
        rows_read += 1;
        let loc = Loc::new(FILE, Some(&sheet.name), row.number);
        let Some(name) = row.text("Network") else {
            ctx.reject(
                &loc,
                "Network",
                "name",
                "missing_value",
                "The network name is empty; the row is skipped.",
            );
            continue;
        };
        if !names.insert(normalise_name(&name)) {
            ctx.reject(
                &loc,
                "Network",
                "name",
                "duplicate_key",
                "The network appears on an earlier row; the row is skipped.",
            );
            continue;
        }
        let kind = match row.text("Type").map(|t| normalise_name(&t)).as_deref() {
            Some("horizontal") => "horizontal",
            Some("vertical") => "vertical",
            Some("export consortium" | "export_consortium" | "consortium") => "export_consortium",
            _ => {
                ctx.reject(
                    &loc,
                    "Type",
                    "kind",
                    "unknown_network_type",
                    "The type is not horizontal, vertical or export consortium; \
                     the row is skipped.",
                );
                continue;
            }
        };
        let cluster = row.text("Cluster").and_then(|slug| {
            let found = catalogue.clusters.get(&slug);
            if found.is_none() {
                ctx.warn(
                    &loc,
                    "Cluster",
                    "cluster",
                    "unknown_cluster",
                    "The cluster is not one of the clusters of clusters.toml; the \
                     network is kept without one.",
                );
            }
            found
        });
        let formed_on = row.date("Formed On").unwrap_or_else(|_| {
            ctx.warn(
                &loc,
                "Formed On",
                "formed_on",
                "invalid_date",
                "The date is not readable; it is left out.",
            );
            None
        });
        networks.push(NetworkRow {
            loc,
            name,
            kind,
            cluster_id: cluster.map(|c| c.id),
            programme_id: cluster
                .and_then(|c| c.programme_id)
                .or_else(|| catalogue.programme_id()),
            formed_on,
        });
    }

    let sheet = workbook.sheet("Members", &["Network", "Survey ID", "Role"])?;
    let mut members = Vec::new();
    for row in sheet.rows() {
        rows_read += 1;
        let loc = Loc::new(FILE, Some(&sheet.name), row.number);
        let Some(network) = row.text("Network") else {
            ctx.reject(
                &loc,
                "Network",
                "network",
                "missing_value",
                "The network is empty; the row is skipped.",
            );
            continue;
        };
        let survey_id = row.text("Survey ID");
        let ntn = row.text("NTN No.").and_then(|raw| Ntn::parse(&raw).ok());
        let by_survey = survey_id
            .as_deref()
            .and_then(|id| firms.organisation(SURVEY_SOURCE, id));
        let by_ntn = ntn
            .as_ref()
            .and_then(|n| firms.by_identifier(&IdentifierScheme::Ntn, n.as_str()));
        let Some(organisation_id) = by_survey.or(by_ntn) else {
            ctx.reject(
                &loc,
                "Survey ID",
                "organisation",
                "unknown_firm",
                "Neither the Survey ID nor the NTN is that of a known firm; the row is skipped.",
            );
            continue;
        };
        let member_key = survey_id
            .or_else(|| ntn.map(|n| n.as_str().to_owned()))
            .unwrap_or_default();
        let lead = match row.text("Role").map(|r| r.to_lowercase()).as_deref() {
            Some("lead") => true,
            Some("member") | None => false,
            Some(_) => {
                ctx.warn(
                    &loc,
                    "Role",
                    "role",
                    "unknown_role",
                    "The role is neither lead nor member; the firm is recorded as a member.",
                );
                false
            }
        };
        let joined_on = row.date("Joined On").unwrap_or_else(|_| {
            ctx.warn(
                &loc,
                "Joined On",
                "joined_on",
                "invalid_date",
                "The date is not readable; it is left out.",
            );
            None
        });
        members.push(MemberRow {
            loc,
            network_key: normalise_name(&network),
            member_key,
            organisation_id,
            lead,
            joined_on,
        });
    }
    ctx.read(FILE, rows_read);
    Ok((networks, members))
}
