//! `/clusters/{slug}`: a cluster profile.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::charts::{Chart, Series, Shape, Unit, Value, group_digits};
use super::data::{FirmGroup, TradeGroup, TrainingGroup, latest_two};
use super::home::{Groups, Nodes};
use super::{Failure, caller, escape_query, failed, html as page_html, layout, read};
use crate::graphql::http::Endpoint;

/// The firm statistics fields the page reads.
const FIRM_GROUP: &str = "groups { keys { cluster district tehsil sizeClass } firms \
    firmsWithEmployees employees femaleEmployees shareFemale withheld \
    employeesAsOf { earliestStart latestEnd undated } }";
const TRAINING_GROUP: &str = "groups { keys { cluster year sex } participations persons firms \
    events completionRate meanScoreGain withheld }";
const RESULT_VALUE: &str = "{ value period source }";

/// The cluster itself: its basket, trade and job indicators.
const CLUSTER: &str = "query Cluster($slug: String!) {
  cluster(slug: $slug) { slug name sector description status hsRevision hsBasket isicClasses districts
    programme { code name }
    exports: trade(flow: EXPORT) { revision source periodKind notes
      groups { year valueUsd flows reportedIn notPlacedValueUsd totalValueUsd shareOfTotal
        notPlaced { code classification valueUsd reason } } }
    partners: trade(flow: EXPORT, groupBy: [YEAR, PARTNER]) { source groups { year partner valueUsd } }
    employment: indicatorValues(first: 100, filter: {indicator: {unit: {eq: \"jobs\"}}, breakdown: {isNull: true}}) {
      nodes { period periodStart valueType source value indicator { code name } } }
  }
}";

/// Its SME networks (a document of its own: each member is a firm to resolve).
const NETWORKS: &str = "query Networks($slug: String!) {
  cluster(slug: $slug) { networks(first: 15) { totalCount nodes { id name kind formedOn dissolvedOn
    lead { id name } members(first: 40) { totalCount nodes { role firm { id name } } } } } }
}";

/// The analytics of every cluster, read whole (callers under small-group suppression may
/// not filter them) and narrowed to this cluster here.
fn statistics() -> String {
    format!(
        "query Statistics($slug: String!) {{
  sizes: firmStatistics(groupBy: [CLUSTER, SIZE_CLASS]) {{ notes {FIRM_GROUP} }}
  districts: firmStatistics(groupBy: [CLUSTER, DISTRICT]) {{ {FIRM_GROUP} }}
  tehsils: firmStatistics(groupBy: [CLUSTER, TEHSIL]) {{ {FIRM_GROUP} }}
  total: firmStatistics(groupBy: [CLUSTER]) {{ {FIRM_GROUP} }}
  training: trainingStatistics(groupBy: [CLUSTER, YEAR, SEX]) {{ notes {TRAINING_GROUP} }}
  trainingByYear: trainingStatistics(groupBy: [CLUSTER, YEAR]) {{ {TRAINING_GROUP} }}
  trainingTotal: trainingStatistics(groupBy: [CLUSTER]) {{ {TRAINING_GROUP} }}
  results: indicatorResults(cluster: $slug) {{ indicator name unit level
    baseline {RESULT_VALUE} endTarget {RESULT_VALUE} latestActual {RESULT_VALUE}
    targetForLatestActual {RESULT_VALUE} progress onTrack }}
  sources(first: 100) {{ nodes {{ code name kind publisher lastImportedAt }} }}
}}"
    )
}

#[derive(Debug, Deserialize)]
struct ClusterAnswer {
    cluster: Option<Cluster>,
}

#[derive(Debug, Deserialize)]
struct NetworksAnswer {
    cluster: Option<ClusterNetworks>,
}

#[derive(Debug, Deserialize)]
struct ClusterNetworks {
    networks: Counted<Network>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counted<T> {
    total_count: i64,
    nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    sizes: Stats<FirmGroup>,
    districts: Groups<FirmGroup>,
    tehsils: Groups<FirmGroup>,
    total: Groups<FirmGroup>,
    training: Stats<TrainingGroup>,
    training_by_year: Groups<TrainingGroup>,
    training_total: Groups<TrainingGroup>,
    results: Vec<ResultRow>,
    sources: Nodes<Source>,
}

#[derive(Debug, Deserialize)]
struct Stats<T> {
    notes: Vec<String>,
    groups: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cluster {
    slug: String,
    name: String,
    sector: String,
    description: Option<String>,
    hs_revision: Option<String>,
    hs_basket: Vec<String>,
    isic_classes: Vec<String>,
    districts: Vec<String>,
    programme: Option<ProgrammeRef>,
    exports: Trade,
    partners: Trade,
    employment: Nodes<IndicatorValue>,
}

#[derive(Debug, Deserialize)]
struct ProgrammeRef {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trade {
    #[serde(default)]
    revision: Option<String>,
    /// The period kind of the flows added (`YEAR`, `FISCAL_YEAR`, ...).
    #[serde(default)]
    period_kind: Option<String>,
    source: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
    groups: Vec<YearTrade>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct YearTrade {
    #[serde(flatten)]
    group: TradeGroup,
    #[serde(default)]
    reported_in: Vec<String>,
    #[serde(default)]
    share_of_total: Option<f64>,
    #[serde(default)]
    not_placed: Vec<NotPlaced>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotPlaced {
    code: String,
    classification: String,
    value_usd: Option<f64>,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Network {
    id: String,
    name: String,
    kind: String,
    formed_on: Option<String>,
    dissolved_on: Option<String>,
    lead: Option<FirmRef>,
    members: Counted<Member>,
}

#[derive(Debug, Deserialize)]
pub struct FirmRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct Member {
    role: String,
    firm: Option<FirmRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndicatorValue {
    period: String,
    period_start: String,
    value_type: String,
    source: Option<String>,
    value: Option<f64>,
    indicator: IndicatorRef,
}

#[derive(Debug, Deserialize)]
struct IndicatorRef {
    code: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultRow {
    indicator: String,
    name: String,
    unit: String,
    baseline: Option<ResultValue>,
    end_target: Option<ResultValue>,
    latest_actual: Option<ResultValue>,
    target_for_latest_actual: Option<ResultValue>,
    progress: Option<f64>,
    on_track: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct ResultValue {
    value: f64,
    period: String,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    code: String,
    name: String,
    kind: String,
    publisher: Option<String>,
    last_imported_at: Option<String>,
}

/// `GET /clusters/{slug}`.
pub async fn page(
    req: HttpRequest,
    endpoint: web::Data<Endpoint>,
    slug: web::Path<String>,
) -> HttpResponse {
    let caller = match caller(&req, &endpoint).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let vars = json!({ "slug": *slug });
    let (cluster, networks, stats) = futures_util::future::join3(
        read::<ClusterAnswer>(&endpoint, &caller, CLUSTER, vars.clone(), false),
        read::<NetworksAnswer>(&endpoint, &caller, NETWORKS, vars.clone(), false),
        read::<Answer>(&endpoint, &caller, &statistics(), vars, false),
    )
    .await;
    let answers = cluster.and_then(|c| Ok((c, networks?, stats?)));
    match answers {
        Ok((ClusterAnswer { cluster: None }, _, _)) => failed(
            &caller,
            Failure::NotFound(format!("There is no cluster `{slug}` in your view.")),
        ),
        Ok((ClusterAnswer { cluster: Some(c) }, n, a)) => {
            let networks = n.cluster.map(|n| n.networks);
            page_html(
                StatusCode::OK,
                layout::page(&c.name, &caller, render(&c, networks.as_ref(), &a)),
            )
        }
        Err(f) => failed(&caller, f),
    }
}

/// The periods a trade answer adds up, in words.
pub fn period_words(kind: Option<&str>) -> &'static str {
    match kind {
        Some("YEAR") => "calendar-year figures",
        Some("FISCAL_YEAR") => "fiscal-year figures (the year a fiscal year starts in)",
        Some("QUARTER") => "quarterly figures (a year may be partial)",
        Some("MONTH") => "monthly figures (a year may be partial)",
        _ => "the figures",
    }
}

/// A training group's figure, or withheld.
fn shown(g: &TrainingGroup, v: Option<i64>) -> Value {
    if g.withheld {
        Value::Withheld
    } else {
        v.map(|n| n as f64).into()
    }
}

/// A group's figure, or withheld.
fn figure(g: &FirmGroup, v: Option<i64>) -> Value {
    if g.withheld {
        Value::Withheld
    } else {
        v.map_or(Value::Missing, |n| Value::Number(n as f64))
    }
}

/// The groups of one cluster.
fn of_cluster<'a>(groups: &'a [FirmGroup], slug: &str) -> Vec<&'a FirmGroup> {
    groups
        .iter()
        .filter(|g| g.keys.cluster.as_deref() == Some(slug))
        .collect()
}

/// The groups' key in words (a missing key is "not recorded").
fn key_text(k: Option<&str>) -> String {
    k.map_or_else(|| "not recorded".to_owned(), str::to_owned)
}

const SIZE_ORDER: [&str; 4] = ["micro", "small", "medium", "large"];

/// Bars of the firms per group.
fn firm_counts(
    id: &str,
    title: String,
    caption: String,
    label: &str,
    groups: &[&FirmGroup],
    key: impl Fn(&FirmGroup) -> String,
    download: &str,
) -> Chart {
    Chart {
        id: id.into(),
        title,
        caption,
        unit: Unit::Count,
        shape: Shape::Bars,
        category_label: label.into(),
        categories: groups.iter().map(|g| key(g)).collect(),
        series: vec![Series {
            name: "Firms".into(),
            values: groups
                .iter()
                .map(|g| Value::Number(g.firms as f64))
                .collect(),
        }],
        download: Some(download.to_owned()),
    }
}

fn render(c: &Cluster, networks: Option<&Counted<Network>>, a: &Answer) -> Markup {
    let slug = c.slug.as_str();
    let q = escape_query(slug);
    let mut sizes = of_cluster(&a.sizes.groups, slug);
    sizes.sort_by_key(|g| {
        g.keys
            .size_class
            .as_deref()
            .and_then(|s| SIZE_ORDER.iter().position(|o| *o == s))
            .unwrap_or(SIZE_ORDER.len())
    });
    // By tehsil when the cluster lies in one district, else by district.
    let by_tehsil = c.districts.len() <= 1;
    let mut areas = if by_tehsil {
        of_cluster(&a.tehsils.groups, slug)
    } else {
        of_cluster(&a.districts.groups, slug)
    };
    areas.sort_by_key(|g| std::cmp::Reverse(g.firms));
    let area_key = |g: &FirmGroup| {
        key_text(if by_tehsil {
            g.keys.tehsil.as_deref()
        } else {
            g.keys.district.as_deref()
        })
    };
    let total = of_cluster(&a.total.groups, slug).into_iter().next();
    let training_total = a
        .training_total
        .groups
        .iter()
        .find(|g| g.keys.cluster.as_deref() == Some(slug));
    let firms_csv = format!("/datasets/firms.csv?cluster={q}");
    let as_of = total.map(FirmGroup::as_of).unwrap_or_default();

    let size_chart = firm_counts(
        "firms-by-size",
        "Firms by size class".into(),
        format!(
            "Firms of the cluster by size class (micro, small, medium, large, by head count), \
             each firm once, from the hub's firm records ({as_of})."
        ),
        "Size class",
        &sizes,
        |g| key_text(g.keys.size_class.as_deref()),
        &firms_csv,
    );
    let area = if by_tehsil { "tehsil" } else { "district" };
    let area_chart = firm_counts(
        "firms-by-area",
        format!("Firms by {area}"),
        format!(
            "Firms of the cluster by the {area} of their address, from the hub's firm records."
        ),
        if by_tehsil { "Tehsil" } else { "District" },
        &areas,
        area_key,
        &firms_csv,
    );
    let jobs_chart = Chart {
        id: "employees-by-size".into(),
        title: "Employees and women employees by size class".into(),
        caption: format!(
            "Current head counts (the latest period each firm reports), summed per size \
             class: {as_of}. Women are summed over the firms that report them. The firms' \
             head counts in the file need a role that sees firm figures."
        ),
        unit: Unit::Count,
        shape: Shape::Columns,
        category_label: "Size class".into(),
        categories: sizes
            .iter()
            .map(|g| key_text(g.keys.size_class.as_deref()))
            .collect(),
        series: vec![
            Series {
                name: "Employees".into(),
                values: sizes.iter().map(|g| figure(g, g.employees)).collect(),
            },
            Series {
                name: "Women".into(),
                values: sizes
                    .iter()
                    .map(|g| figure(g, g.female_employees))
                    .collect(),
            },
        ],
        download: Some(firms_csv.clone()),
    };

    // Employment over the periods observed: the results framework's job indicators.
    let mut periods: Vec<(&str, &str)> = c
        .employment
        .nodes
        .iter()
        .filter(|v| v.value_type != "TARGET")
        .map(|v| (v.period_start.as_str(), v.period.as_str()))
        .collect();
    periods.sort();
    periods.dedup();
    let mut job_indicators: Vec<(&str, &str)> = c
        .employment
        .nodes
        .iter()
        .map(|v| (v.indicator.code.as_str(), v.indicator.name.as_str()))
        .collect();
    job_indicators.sort();
    job_indicators.dedup();
    let job_sources: Vec<&str> = {
        let mut s: Vec<&str> = c
            .employment
            .nodes
            .iter()
            .filter_map(|v| v.source.as_deref())
            .collect();
        s.sort();
        s.dedup();
        s
    };
    let employment_chart = Chart {
        id: "employment-over-time".into(),
        title: "Employment over the periods observed".into(),
        caption: format!(
            "The cluster's employment indicators of the results framework (unit: jobs): the \
             actual value of each period, the baseline where a period has no actual; source: \
             {}. Firm records of different periods cover different firms, so their sums are \
             not a series.",
            if job_sources.is_empty() {
                "none".to_owned()
            } else {
                job_sources.join(", ")
            }
        ),
        unit: Unit::Count,
        shape: Shape::Columns,
        category_label: "Period".into(),
        categories: periods.iter().map(|(_, p)| (*p).to_owned()).collect(),
        series: job_indicators
            .iter()
            .map(|(code, name)| Series {
                name: format!("{name} ({code})"),
                values: periods
                    .iter()
                    .map(|(_, p)| {
                        // The actual where a period has one, else its baseline.
                        ["ACTUAL", "BASELINE"]
                            .iter()
                            .find_map(|kind| {
                                c.employment.nodes.iter().find(|v| {
                                    v.indicator.code == *code
                                        && v.period == *p
                                        && v.value_type == *kind
                                })
                            })
                            .map_or(Value::Missing, |v| v.value.into())
                    })
                    .collect(),
            })
            .collect(),
        download: Some(format!(
            "/datasets/cluster_indicators.csv?cluster={q}&unit=jobs"
        )),
    };

    let mut exports: Vec<&YearTrade> = c.exports.groups.iter().collect();
    exports.sort_by_key(|g| g.group.year);
    let trade_csv = format!("/datasets/cluster_trade.csv?cluster={q}&flow=export");
    let trade_source = c.exports.source.as_deref().unwrap_or("no source");
    let revision = c.exports.revision.as_deref().unwrap_or("its own revision");
    let reported: Vec<String> = {
        let mut r: Vec<String> = exports.iter().flat_map(|g| g.reported_in.clone()).collect();
        r.sort();
        r.dedup();
        r
    };
    let exports_chart = Chart {
        id: "exports-by-year".into(),
        title: "Exports of the cluster's products by year".into(),
        caption: format!(
            "Pakistan's exports of the cluster's HS basket ({}), in US dollars by the year of \
             {}, from {trade_source}; reported in {}, placed in {revision} through the \
             concordance. Trade that could not be placed is listed below, not added.",
            c.hs_basket.join(", "),
            period_words(c.exports.period_kind.as_deref()),
            if reported.is_empty() {
                "—".to_owned()
            } else {
                reported.join(", ")
            }
        ),
        unit: Unit::Usd,
        shape: Shape::Columns,
        category_label: "Year".into(),
        categories: exports.iter().map(|g| g.group.year.to_string()).collect(),
        series: vec![Series {
            name: "Exports (US$)".into(),
            values: exports.iter().map(|g| g.group.value_usd.into()).collect(),
        }],
        download: Some(trade_csv.clone()),
    };
    let latest_year = latest_two(
        &c.exports
            .groups
            .iter()
            .map(|g| g.group.clone())
            .collect::<Vec<_>>(),
    )
    .map(|(l, _)| l.year);
    let mut partners: Vec<&YearTrade> = c
        .partners
        .groups
        .iter()
        .filter(|g| Some(g.group.year) == latest_year && g.group.partner.is_some())
        .collect();
    partners.sort_by(|x, y| {
        y.group
            .value_usd
            .unwrap_or(0.0)
            .total_cmp(&x.group.value_usd.unwrap_or(0.0))
    });
    partners.truncate(10);
    let partners_chart = Chart {
        id: "top-partners".into(),
        title: format!(
            "Top partner markets in {}",
            latest_year.map_or_else(|| "the latest year".to_owned(), |y| y.to_string())
        ),
        caption: format!(
            "The ten largest markets for the cluster's basket in the latest year, in US \
             dollars, from {}; the World total (W00) is not a market and is left out.",
            c.partners.source.as_deref().unwrap_or("no source")
        ),
        unit: Unit::Usd,
        shape: Shape::Bars,
        category_label: "Partner (ISO3)".into(),
        categories: partners
            .iter()
            .map(|g| g.group.partner.clone().unwrap_or_default())
            .collect(),
        series: vec![Series {
            name: "Exports (US$)".into(),
            values: partners.iter().map(|g| g.group.value_usd.into()).collect(),
        }],
        download: Some(trade_csv.clone()),
    };

    let mut training: Vec<&TrainingGroup> = a
        .training
        .groups
        .iter()
        .filter(|g| g.keys.cluster.as_deref() == Some(slug))
        .collect();
    training.sort_by_key(|g| g.keys.year);
    let mut years: Vec<i32> = training.iter().filter_map(|g| g.keys.year).collect();
    years.dedup();
    let mut sexes: Vec<Option<&str>> = training.iter().map(|g| g.keys.sex.as_deref()).collect();
    sexes.sort();
    sexes.dedup();
    // A browser downloads as the public (the datasets never read the sign-in cookie), and
    // the public may not filter a suppressed table: the whole table, every cluster.
    let training_csv = "/datasets/training_statistics.csv".to_owned();
    let training_chart = Chart {
        id: "trained-by-year-and-sex".into(),
        title: "People trained by year and sex".into(),
        caption: "Distinct persons trained in the cluster's training events, by the year the \
                  event started and the sex recorded, from the attendance sheets (a person \
                  trained in two years counts in both)."
            .into(),
        unit: Unit::Count,
        shape: Shape::Stacked,
        category_label: "Year".into(),
        categories: years.iter().map(ToString::to_string).collect(),
        series: sexes
            .iter()
            .map(|sex| Series {
                name: sex.map_or_else(|| "sex not recorded".to_owned(), |s| s.to_owned()),
                values: years
                    .iter()
                    .map(|y| {
                        training
                            .iter()
                            .find(|g| g.keys.year == Some(*y) && g.keys.sex.as_deref() == *sex)
                            .map_or(Value::Missing, |g| shown(g, g.persons))
                    })
                    .collect(),
            })
            .collect(),
        download: Some(training_csv.clone()),
    };

    let mut by_year: Vec<&TrainingGroup> = a
        .training_by_year
        .groups
        .iter()
        .filter(|g| g.keys.cluster.as_deref() == Some(slug))
        .collect();
    by_year.sort_by_key(|g| g.keys.year);
    let by_year_chart = Chart {
        id: "trained-by-year".into(),
        title: "People trained and firms reached by year".into(),
        caption: "Distinct persons trained and distinct firms they came from, by the year the \
                  event started, from the attendance sheets."
            .into(),
        unit: Unit::Count,
        shape: Shape::Columns,
        category_label: "Year".into(),
        categories: by_year
            .iter()
            .map(|g| {
                g.keys
                    .year
                    .map_or_else(|| "no date".to_owned(), |y| y.to_string())
            })
            .collect(),
        series: vec![
            Series {
                name: "Persons".into(),
                values: by_year.iter().map(|g| shown(g, g.persons)).collect(),
            },
            Series {
                name: "Firms".into(),
                values: by_year.iter().map(|g| shown(g, Some(g.firms))).collect(),
            },
        ],
        download: Some(training_csv.clone()),
    };

    let results_chart = Chart {
        id: "results-progress".into(),
        title: "Progress towards the end targets".into(),
        caption: "Per indicator of the results framework: (latest actual − baseline) / (end \
                  target − baseline), as a percentage; 100% is the end target reached."
            .into(),
        unit: Unit::Share,
        shape: Shape::Bars,
        category_label: "Indicator".into(),
        categories: a.results.iter().map(|r| r.indicator.clone()).collect(),
        series: vec![Series {
            name: "Progress".into(),
            values: a.results.iter().map(|r| r.progress.into()).collect(),
        }],
        download: Some(format!("/datasets/cluster_indicators.csv?cluster={q}")),
    };

    html! {
        p.crumbs { a href="/" { "Programmes" } " › "
            @if let Some(p) = &c.programme { (p.name) " › " } (c.name) }
        h1 { (c.name) }
        p.lead { (c.sector) " in " (c.districts.join(", ")) "."
            @if let Some(d) = &c.description { " " (d) } }
        dl.facts {
            dt { "HS basket" } dd { (c.hs_basket.join(", ")) @if let Some(r) = &c.hs_revision { " (" (r) ")" } }
            dt { "ISIC Rev.4 classes" } dd { (c.isic_classes.join(", ")) }
            dt { "Firms" } dd data-figure="firms" { @match total { Some(t) => (group_digits(t.firms)), None => "0" } }
            dt { "Employees" } dd data-figure="employees" {
                @match total.filter(|t| !t.withheld) {
                    Some(t) => { (t.employees.map_or_else(|| "—".to_owned(), group_digits))
                        @if let Some(s) = t.share_female { ", " (Unit::Share.format(s)) " women" }
                        " (" (t.as_of()) ")" }
                    None => "withheld",
                }
            }
            dt { "People trained" } dd data-figure="persons" {
                @match training_total {
                    Some(t) if !t.withheld => {
                        (group_digits(t.persons.unwrap_or(0))) " distinct persons from "
                        (group_digits(t.firms)) " firms, in " (t.events) " events ("
                        (t.participations.map_or_else(|| "—".to_owned(), group_digits)) " participations)"
                        @if let Some(r) = t.completion_rate { "; " (Unit::Share.format(r)) " completed" }
                        @if let Some(g) = t.mean_score_gain { "; mean score gain " (format!("{g:+.1}")) " points" }
                    }
                    Some(_) => "withheld",
                    None => "none recorded",
                }
            }
        }
        nav.toc aria-label="On this page" { ul {
            li { a href="#firms" { "Firms" } } li { a href="#employment" { "Employment" } }
            li { a href="#trade" { "Exports" } } li { a href="#training" { "Training" } }
            li { a href="#results" { "Results" } } li { a href="#networks" { "SME networks" } }
            li { a href="#sources" { "Sources" } }
        } }
        @if !a.sizes.notes.is_empty() {
            ul.notes { @for n in &a.sizes.notes { li { (n) } } }
        }
        section #firms aria-labelledby="h-firms" {
            h2 #h-firms { "Firms" }
            div.grid { (size_chart.render()) (area_chart.render()) }
            p { a href={"/firms?cluster=" (q)} { "The cluster's firms in the directory" } }
        }
        section #employment aria-labelledby="h-employment" {
            h2 #h-employment { "Employment" }
            div.grid { (jobs_chart.render()) (employment_chart.render()) }
        }
        section #trade aria-labelledby="h-trade" {
            h2 #h-trade { "Exports" }
            div.grid { (exports_chart.render()) (partners_chart.render()) }
            @let shares: Vec<&&YearTrade> = exports.iter().filter(|g| g.share_of_total.is_some()).collect();
            @if !shares.is_empty() {
                p { "Share of Pakistan's total merchandise exports: "
                    @for (i, g) in shares.iter().enumerate() { @if i > 0 { ", " } (g.group.year) ": " (format!("{:.2}%", g.share_of_total.unwrap_or(0.0) * 100.0)) } "." }
            }
            @let not_placed: Vec<(&i32, &NotPlaced)> = exports.iter().flat_map(|g| g.not_placed.iter().map(move |n| (&g.group.year, n))).collect();
            @if not_placed.is_empty() {
                p.small { "All trade reported in the years shown was placed in the basket." }
            } @else {
                table.not-placed {
                    caption { "Trade that could not be placed in the basket (not included above)" }
                    thead { tr { th scope="col" { "Year" } th scope="col" { "Code" } th scope="col" { "Value" } th scope="col" { "Why" } } }
                    tbody { @for (y, n) in &not_placed { tr { td { (y) } td { (n.code) " (" (n.classification) ")" }
                        td.num { (n.value_usd.map_or_else(|| "—".to_owned(), |v| Unit::Usd.format(v))) } td { (n.reason) } } } }
                }
            }
            @if !c.exports.notes.is_empty() { ul.notes { @for n in &c.exports.notes { li { (n) } } } }
        }
        section #training aria-labelledby="h-training" {
            h2 #h-training { "Training" }
            div.grid { (by_year_chart.render()) (training_chart.render()) }
            @if !a.training.notes.is_empty() { ul.notes { @for n in &a.training.notes { li { (n) } } } }
        }
        section #results aria-labelledby="h-results" {
            h2 #h-results { "Results against targets" }
            @if a.results.is_empty() {
                p { "No indicator of the results framework is reported for this cluster." }
            } @else {
                (results_chart.render())
                table.results {
                    caption { "The results framework for this cluster: baseline, targets and the latest actual" }
                    thead { tr {
                        th scope="col" { "Indicator" } th scope="col" { "Baseline" }
                        th scope="col" { "Latest actual" } th scope="col" { "Target for that period" }
                        th scope="col" { "End target" } th scope="col" { "Progress" } th scope="col" { "On track" }
                    } }
                    tbody { @for r in &a.results { tr data-indicator=(r.indicator) {
                        th scope="row" { (r.indicator) br; span.small { (r.name) " (" (r.unit) ")" } }
                        td.num { (result_value(&r.baseline)) }
                        td.num { (result_value(&r.latest_actual)) }
                        td.num { (result_value(&r.target_for_latest_actual)) }
                        td.num { (result_value(&r.end_target)) }
                        td.num { (r.progress.map_or_else(|| "—".to_owned(), |p| Unit::Share.format(p))) }
                        td { @match r.on_track { Some(true) => "yes", Some(false) => "no", None => "—" } }
                    } } }
                }
            }
        }
        section #networks aria-labelledby="h-networks" {
            h2 #h-networks { "SME networks" }
            @let listed = networks.map_or(&[][..], |n| &n.nodes[..]);
            @if listed.is_empty() { p { "No SME network is recorded for this cluster." } }
            @for n in listed {
                article.network data-network=(n.id) {
                    h3 { (n.name) }
                    p.small { (n.kind.to_lowercase().replace('_', " ")) " network"
                        @if let Some(f) = &n.formed_on { ", formed " (f) }
                        @if let Some(d) = &n.dissolved_on { ", dissolved " (d) }
                        @if let Some(l) = &n.lead { ". Lead firm: " a href={"/firms/" (escape_query(&l.id))} { (l.name) } }
                        "." }
                    ul.members { @for m in &n.members.nodes { li {
                        @match &m.firm {
                            Some(f) => { a href={"/firms/" (escape_query(&f.id))} { (f.name) } }
                            None => "a member that is not a firm",
                        }
                        @if m.role == "lead" { " (lead)" }
                    } } }
                    @if n.members.total_count > n.members.nodes.len() as i64 {
                        p.small { "and " (n.members.total_count - n.members.nodes.len() as i64) " more members (see the GraphQL API)." }
                    }
                }
            }
        }
        @if let Some(n) = networks.filter(|n| n.total_count > n.nodes.len() as i64) {
            p.small { "And " (n.total_count - n.nodes.len() as i64) " more networks (see the GraphQL API)." }
        }
        section #sources aria-labelledby="h-sources" {
            h2 #h-sources { "Sources" }
            table.sources {
                caption { "The sources in the hub, by priority, and when each was last imported" }
                thead { tr { th scope="col" { "Source" } th scope="col" { "Kind" } th scope="col" { "Publisher" } th scope="col" { "Last imported" } } }
                tbody { @for s in &a.sources.nodes { tr {
                    th scope="row" { (s.name) br; code { (s.code) } }
                    td { (s.kind) } td { (s.publisher.as_deref().unwrap_or("—")) }
                    td { (s.last_imported_at.as_deref().map_or("never", |t| t.get(..16).unwrap_or(t))) }
                } } }
            }
        }
    }
}

fn result_value(v: &Option<ResultValue>) -> Markup {
    html! {
        @match v {
            Some(v) => { (Unit::Decimal.format(v.value)) br; span.small { (v.period) @if let Some(s) = &v.source { ", " (s) } } }
            None => "—",
        }
    }
}
