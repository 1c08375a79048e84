//! `/`: the programmes and their clusters, with headline figures per cluster.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::charts::{Unit, group_digits, sparkline};
use super::data::{FirmGroup, TradeGroup, TrainingGroup, latest_two};
use super::{Caller, caller, failed, html as page_html, layout, read};
use crate::graphql::http::Endpoint;

const QUERY: &str = "query Home {
  programmes(first: 100) { nodes { code name description startDate endDate
    lead { name } technicalAssistance { name } funder { name } } }
  clusters(first: 100) { nodes { slug name sector districts programme { code }
    trade(flow: EXPORT) { source revision periodKind groups { year valueUsd notPlacedValueUsd } } } }
  firmStatistics(groupBy: [CLUSTER]) { groups { keys { cluster } firms firmsWithEmployees
    employees femaleEmployees shareFemale withheld employeesAsOf { earliestStart latestEnd undated } } }
  trainingStatistics(groupBy: [CLUSTER]) { groups { keys { cluster year sex }
    participations persons firms events completionRate meanScoreGain withheld } }
  indicatorResults { level cluster programme onTrack }
}";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    programmes: Nodes<Programme>,
    clusters: Nodes<Cluster>,
    firm_statistics: Groups<FirmGroup>,
    training_statistics: Groups<TrainingGroup>,
    indicator_results: Vec<Result>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Groups<T> {
    pub groups: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Programme {
    code: String,
    name: String,
    description: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    lead: Option<Named>,
    technical_assistance: Option<Named>,
    funder: Option<Named>,
}

#[derive(Debug, Deserialize)]
struct ProgrammeRef {
    code: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trade {
    source: Option<String>,
    period_kind: Option<String>,
    revision: Option<String>,
    groups: Vec<TradeGroup>,
}

#[derive(Debug, Deserialize)]
struct Cluster {
    slug: String,
    name: String,
    sector: String,
    districts: Vec<String>,
    programme: Option<ProgrammeRef>,
    trade: Trade,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Result {
    level: String,
    cluster: Option<String>,
    programme: Option<String>,
    on_track: Option<bool>,
}

/// `GET /`.
pub async fn page(req: HttpRequest, endpoint: web::Data<Endpoint>) -> HttpResponse {
    let caller = match caller(&req, &endpoint).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    match read::<Answer>(&endpoint, &caller, QUERY, json!({}), false).await {
        Ok(answer) => page_html(
            StatusCode::OK,
            layout::page("Programmes and clusters", &caller, render(&caller, &answer)),
        ),
        Err(f) => failed(&caller, f),
    }
}

/// On track / with a verdict, of the results matching `keep`.
fn on_track(results: &[Result], keep: impl Fn(&Result) -> bool) -> (usize, usize) {
    let judged: Vec<&Result> = results
        .iter()
        .filter(|r| keep(r) && r.on_track.is_some())
        .collect();
    (
        judged.iter().filter(|r| r.on_track == Some(true)).count(),
        judged.len(),
    )
}

fn render(caller: &Caller, a: &Answer) -> Markup {
    let firms: HashMap<&str, &FirmGroup> = a
        .firm_statistics
        .groups
        .iter()
        .filter_map(|g| Some((g.keys.cluster.as_deref()?, g)))
        .collect();
    let trained: HashMap<&str, &TrainingGroup> = a
        .training_statistics
        .groups
        .iter()
        .filter_map(|g| Some((g.keys.cluster.as_deref()?, g)))
        .collect();
    let of_programme = |code: Option<&str>| -> Vec<&Cluster> {
        a.clusters
            .nodes
            .iter()
            .filter(|c| c.programme.as_ref().map(|p| p.code.as_str()) == code)
            .collect()
    };
    let unassigned = of_programme(None);
    html! {
        h1 { "Programmes and clusters" }
        p.lead {
            "What the hub holds about each cluster development programme: its clusters with "
            "their firms, jobs, exports, trainings and results. "
            "Open a cluster for its profile, or the " a href="/firms" { "firm directory" } ". "
            "For your own analysis: the " a href="/datasets" { "dataset catalog" } " (CSV, "
            "NDJSON, Parquet for BI tools), the " a href="/graphql" { "GraphQL API" }
            " (GraphiQL in the browser) and the hub's README."
        }
        @if caller.principal.role == crate::graphql::principal::Role::Public {
            p.note { "You see the public view: figures of groups of fewer firms than the hub's "
                "threshold are withheld, and no firm-level figure is shown. "
                a href="/sign-in" { "Sign in" } " for your role's view." }
        }
        @for p in &a.programmes.nodes {
            @let clusters = of_programme(Some(&p.code));
            @let (ok, judged) = on_track(&a.indicator_results, |r| r.level == "PROGRAMME" && r.programme.as_deref() == Some(&p.code));
            section.programme aria-labelledby={"p-" (p.code)} {
                h2 id={"p-" (p.code)} { (p.name) }
                p.meta {
                    @if let Some(lead) = &p.lead { "Led by " (lead.name) ". " }
                    @if let Some(ta) = &p.technical_assistance { "Technical assistance: " (ta.name) ". " }
                    @if let Some(f) = &p.funder { "Funded by " (f.name) ". " }
                    @if let (Some(s), Some(e)) = (&p.start_date, &p.end_date) { (s) " to " (e) ". " }
                    @if judged > 0 {
                        strong { (ok) " of " (judged) } " programme indicators on track (latest actual at or above its period's target)."
                    }
                }
                @if let Some(d) = &p.description { p { (d) } }
                (cluster_table(&clusters, &firms, &trained, &a.indicator_results))
            }
        }
        @if !unassigned.is_empty() {
            section.programme aria-labelledby="p-none" {
                h2 #p-none { "Clusters outside a programme" }
                (cluster_table(&unassigned, &firms, &trained, &a.indicator_results))
            }
        }
        @if a.clusters.nodes.is_empty() {
            p { "No cluster yet: import a programme file (" code { "hub import" } ")." }
        }
    }
}

fn cluster_table(
    clusters: &[&Cluster],
    firms: &HashMap<&str, &FirmGroup>,
    trained: &HashMap<&str, &TrainingGroup>,
    results: &[Result],
) -> Markup {
    html! {
        table.clusters {
            caption { "Clusters, with the current head counts of their firms, the exports of "
                "their HS basket and the people trained" }
            thead { tr {
                th scope="col" { "Cluster" }
                th scope="col" { "Firms" }
                th scope="col" { "Employees (share women)" }
                th scope="col" { "Exports of the basket, latest year" }
                th scope="col" { "People trained" }
                th scope="col" { "Indicators on track" }
            } }
            tbody {
                @for c in clusters {
                    @let f = firms.get(c.slug.as_str());
                    @let t = trained.get(c.slug.as_str());
                    @let (ok, judged) = on_track(results, |r| r.level == "CLUSTER" && r.cluster.as_deref() == Some(&c.slug));
                    tr data-cluster=(c.slug) {
                        th scope="row" {
                            a href={"/clusters/" (c.slug)} { (c.name) }
                            br; span.small { (c.sector) " · " (c.districts.join(", ")) }
                        }
                        td.num data-figure="firms" {
                            @match f { Some(g) => (group_digits(g.firms)), None => "0" }
                        }
                        td.num data-figure="employees" {
                            @match f.filter(|g| !g.withheld) {
                                Some(g) => {
                                    @match g.employees { Some(e) => (group_digits(e)), None => "—" }
                                    @if let Some(s) = g.share_female { " (" (Unit::Share.format(s)) ")" }
                                    br; span.small { (g.as_of()) }
                                }
                                None => { @if f.is_some() { "withheld" } @else { "—" } }
                            }
                        }
                        td.num data-figure="exports" {
                            @match latest_two(&c.trade.groups) {
                                Some((latest, previous)) => {
                                    (latest.value_usd.map_or_else(|| "—".to_owned(), |v| Unit::Usd.format(v)))
                                    " in " (latest.year)
                                    @if let (Some(v), Some(p)) = (latest.value_usd, previous.and_then(|p| p.value_usd).filter(|p| *p > 0.0)) {
                                        @let change = v / p - 1.0;
                                        br; span.small { (if change >= 0.0 { "up " } else { "down " }) (Unit::Share.format(change.abs())) " on " (latest.year - 1) }
                                    }
                                    @if let Some(n) = latest.not_placed_value_usd.filter(|n| *n > 0.0) {
                                        br; span.small { "and " (Unit::Usd.format(n)) " not placed in the basket" }
                                    }
                                    " "
                                    (sparkline(&format!("Exports of {} by year", c.name), &c.trade.groups.iter().filter_map(|g| g.value_usd).collect::<Vec<_>>()))
                                    br; span.small { (c.trade.source.as_deref().unwrap_or("")) ", " (c.trade.revision.as_deref().unwrap_or("")) " basket, "
                                        (super::cluster::period_words(c.trade.period_kind.as_deref())) }
                                }
                                None => "no trade imported",
                            }
                        }
                        td.num data-figure="persons" {
                            @match t {
                                Some(g) if !g.withheld => { (group_digits(g.persons.unwrap_or(0))) br; span.small { "from " (group_digits(g.firms)) " firms" } }
                                Some(_) => "withheld",
                                None => "0",
                            }
                        }
                        td.num data-figure="on-track" {
                            @if judged > 0 { (ok) " of " (judged) } @else { "—" }
                        }
                    }
                }
            }
        }
    }
}
