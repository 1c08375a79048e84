//! `/firms` (the directory: search and filters) and `/firms/{id}` (one firm, as the
//! caller's role may see it).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::charts::{Unit, group_digits};
use super::cluster::FirmRef;
use super::data::FirmGroup;
use super::home::{Groups, Nodes};
use super::{Caller, Failure, caller, escape_query, failed, html as page_html, layout, read};
use crate::graphql::http::Endpoint;
use crate::graphql::policy::Protected;

/// Firms per directory page.
const PAGE: i64 = 50;
/// The size classes, smallest first.
const SIZES: [&str; 4] = ["micro", "small", "medium", "large"];

const DIRECTORY: &str = "query Firms($first: Int!, $after: String, $search: String, $filter: FirmFilter) {
  firms(first: $first, after: $after, search: $search, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name district tehsil sizeClass status employeesTotal
      clusters(first: 10) { nodes { slug name } } } }
  clusters(first: 100) { nodes { slug name } }
  districts: firmStatistics(groupBy: [DISTRICT]) { groups { keys { cluster district tehsil sizeClass }
    firms firmsWithEmployees employees femaleEmployees shareFemale withheld
    employeesAsOf { earliestStart latestEnd undated } } }
}";

/// The directory's parameters.
#[derive(Debug, Default, Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    after: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryAnswer {
    firms: FirmPage,
    clusters: Nodes<ClusterRef>,
    districts: Groups<FirmGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FirmPage {
    total_count: i64,
    page_info: PageInfo,
    nodes: Vec<Listed>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    name: String,
    district: Option<String>,
    tehsil: Option<String>,
    size_class: Option<String>,
    status: String,
    employees_total: Option<i64>,
    clusters: Nodes<ClusterRef>,
}

#[derive(Debug, Deserialize)]
struct ClusterRef {
    slug: String,
    name: String,
}

/// The directory's filter as a `FirmFilter`, refusing a size class that is none.
fn firm_filter(p: &DirectoryQuery) -> Result<Json, Failure> {
    let mut filter = serde_json::Map::new();
    if !p.cluster.is_empty() {
        filter.insert("cluster".into(), json!({"slug": {"eq": p.cluster}}));
    }
    if !p.district.is_empty() {
        filter.insert("district".into(), json!({"eq": p.district}));
    }
    if !p.size.is_empty() {
        if !SIZES.contains(&p.size.as_str()) {
            return Err(Failure::BadRequest(format!(
                "`size` is one of {}, not `{}`.",
                SIZES.join(", "),
                p.size
            )));
        }
        filter.insert("sizeClass".into(), json!({"eq": p.size}));
    }
    Ok(if filter.is_empty() {
        Json::Null
    } else {
        Json::Object(filter)
    })
}

/// `GET /firms`.
pub async fn directory(
    req: HttpRequest,
    endpoint: web::Data<Endpoint>,
    params: web::Query<DirectoryQuery>,
) -> HttpResponse {
    let caller = match caller(&req, &endpoint).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let filter = match firm_filter(&params) {
        Ok(f) => f,
        Err(f) => return failed(&caller, f),
    };
    let search = params.q.trim();
    let variables = json!({
        "first": PAGE,
        "after": if params.after.is_empty() { Json::Null } else { json!(params.after) },
        "search": if search.is_empty() { Json::Null } else { json!(search) },
        "filter": filter,
    });
    match read::<DirectoryAnswer>(&endpoint, &caller, DIRECTORY, variables, true).await {
        Ok(a) => page_html(
            StatusCode::OK,
            layout::page("Firms", &caller, render_directory(&caller, &params, &a)),
        ),
        Err(f) => failed(&caller, f),
    }
}

fn render_directory(caller: &Caller, p: &DirectoryQuery, a: &DirectoryAnswer) -> Markup {
    let figures = caller.may(Protected::FirmFigures);
    let mut districts: Vec<&str> = a
        .districts
        .groups
        .iter()
        .filter_map(|g| g.keys.district.as_deref())
        .collect();
    districts.sort_unstable();
    let next = a
        .firms
        .page_info
        .end_cursor
        .as_deref()
        .filter(|_| a.firms.page_info.has_next_page);
    let same_filters = format!(
        "q={}&cluster={}&district={}&size={}",
        escape_query(&p.q),
        escape_query(&p.cluster),
        escape_query(&p.district),
        escape_query(&p.size)
    );
    html! {
        h1 { "Firms" }
        p.lead { "The firms the hub holds, each once whichever sources report it. "
            @if !figures { "Head counts, turnover and identifiers are shown to analysts and above; "
                a href="/sign-in?next=/firms" { "sign in" } " for them." } }
        form.filters method="get" action="/firms" role="search" {
            div { label for="q" { "Name" } input #q type="search" name="q" value=(p.q) placeholder="words of the name"; }
            div { label for="cluster" { "Cluster" }
                select #cluster name="cluster" {
                    option value="" { "any" }
                    @for c in &a.clusters.nodes { option value=(c.slug) selected[c.slug == p.cluster] { (c.name) } }
                } }
            div { label for="district" { "District" }
                select #district name="district" {
                    option value="" { "any" }
                    @for d in &districts { option value=(d) selected[*d == p.district] { (d) } }
                } }
            div { label for="size" { "Size class" }
                select #size name="size" {
                    option value="" { "any" }
                    @for s in SIZES { option value=(s) selected[s == p.size] { (s) } }
                } }
            div { button type="submit" { "Show firms" } }
        }
        p.count data-total=(a.firms.total_count) { (group_digits(a.firms.total_count)) " firms match." }
        table.firms {
            caption.visually-hidden { "Firms, by name" }
            thead { tr {
                th scope="col" { "Firm" } th scope="col" { "Clusters" } th scope="col" { "District" }
                th scope="col" { "Tehsil" } th scope="col" { "Size class" }
                @if figures { th scope="col" { "Employees" } }
                th scope="col" { "Status" }
            } }
            tbody {
                @for f in &a.firms.nodes { tr data-firm=(f.id) {
                    th scope="row" { a href={"/firms/" (escape_query(&f.id))} { (f.name) } }
                    td { @for (i, c) in f.clusters.nodes.iter().enumerate() { @if i > 0 { ", " } a href={"/clusters/" (escape_query(&c.slug))} { (c.name) } } }
                    td { (f.district.as_deref().unwrap_or("—")) }
                    td { (f.tehsil.as_deref().unwrap_or("—")) }
                    td { (f.size_class.as_deref().unwrap_or("—")) }
                    @if figures { td.num { (f.employees_total.map_or_else(|| "—".to_owned(), group_digits)) } }
                    td { (f.status) }
                } }
            }
        }
        nav.pages aria-label="Pages" {
            @if !p.after.is_empty() { a href={"/firms?" (same_filters)} { "First page" } " " }
            @if let Some(cursor) = next { a rel="next" href={"/firms?" (same_filters) "&after=" (escape_query(cursor))} { "Next " (PAGE) " firms" } }
        }
    }
}

const FIRM: &str = "query Firm($id: ID!) {
  firm(id: $id) { id name legalForm district tehsil address website foundedYear sizeClass sizeBasis
    industryCode status phone email
    employeesTotal employeesTotalAsOf { ...origin } employeesFemale employeesFemaleAsOf { ...origin }
    turnoverPkr turnoverPkrAsOf { ...origin } exportsUsd exportsUsdAsOf { ...origin }
    certifications certificationsAsOf { ...origin }
    identifiers { scheme value source }
    clusters(first: 20) { nodes { slug name } }
    networks(first: 50) { nodes { id name kind cluster { slug name } lead { id name } } }
    participations(first: 100) { totalCount nodes { completed
      event { id title startDate endDate provider cluster { slug name } } } }
  }
}
fragment origin on FigureOrigin { period source undated }";

#[derive(Debug, Deserialize)]
struct FirmAnswer {
    firm: Option<Firm>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Origin {
    period: Option<String>,
    source: Option<String>,
    undated: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Firm {
    id: String,
    name: String,
    legal_form: Option<String>,
    district: Option<String>,
    tehsil: Option<String>,
    address: Option<String>,
    website: Option<String>,
    founded_year: Option<i32>,
    size_class: Option<String>,
    size_basis: Option<String>,
    industry_code: Option<String>,
    status: String,
    phone: Option<String>,
    email: Option<String>,
    employees_total: Option<i64>,
    employees_total_as_of: Option<Origin>,
    employees_female: Option<i64>,
    employees_female_as_of: Option<Origin>,
    turnover_pkr: Option<f64>,
    turnover_pkr_as_of: Option<Origin>,
    exports_usd: Option<f64>,
    exports_usd_as_of: Option<Origin>,
    certifications: Option<String>,
    certifications_as_of: Option<Origin>,
    identifiers: Vec<Identifier>,
    clusters: Nodes<ClusterRef>,
    networks: Nodes<FirmNetwork>,
    participations: Participations,
}

#[derive(Debug, Deserialize)]
struct Identifier {
    scheme: String,
    value: String,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FirmNetwork {
    id: String,
    name: String,
    kind: String,
    cluster: Option<ClusterRef>,
    lead: Option<FirmRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Participations {
    total_count: i64,
    nodes: Vec<Participation>,
}

#[derive(Debug, Deserialize)]
struct Participation {
    completed: Option<bool>,
    event: Option<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    id: String,
    title: String,
    start_date: Option<String>,
    end_date: Option<String>,
    provider: Option<String>,
    cluster: Option<ClusterRef>,
}

/// `GET /firms/{id}`.
pub async fn page(
    req: HttpRequest,
    endpoint: web::Data<Endpoint>,
    id: web::Path<String>,
) -> HttpResponse {
    let caller = match caller(&req, &endpoint).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    match read::<FirmAnswer>(&endpoint, &caller, FIRM, json!({ "id": *id }), true).await {
        Ok(FirmAnswer { firm: Some(f) }) => page_html(
            StatusCode::OK,
            layout::page(&f.name, &caller, render_firm(&caller, &f)),
        ),
        Ok(FirmAnswer { firm: None }) => failed(
            &caller,
            Failure::NotFound(format!("There is no firm `{id}` in your view.")),
        ),
        Err(f) => failed(&caller, f),
    }
}

fn origin(o: &Option<Origin>) -> Markup {
    html! {
        @if let Some(o) = o {
            span.small { " ("
                @if o.undated { "undated" } @else { (o.period.as_deref().unwrap_or("—")) }
                @if let Some(s) = &o.source { ", " (s) } ")" }
        }
    }
}

fn render_firm(caller: &Caller, f: &Firm) -> Markup {
    let figures = caller.may(Protected::FirmFigures);
    let identifiers = caller.may(Protected::FirmIdentifiers);
    let personal = caller.may(Protected::PersonalData);
    // Events attended, each once, with the firm's participations in it.
    let mut events: Vec<(&Event, usize, usize)> = Vec::new();
    for p in &f.participations.nodes {
        if let Some(e) = &p.event {
            match events.iter_mut().find(|(x, _, _)| x.id == e.id) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += usize::from(p.completed == Some(true));
                }
                None => events.push((e, 1, usize::from(p.completed == Some(true)))),
            }
        }
    }
    events.sort_by(|a, b| a.0.start_date.cmp(&b.0.start_date));
    html! {
        p.crumbs { a href="/firms" { "Firms" } " › " (f.name) }
        h1 { (f.name) }
        dl.facts {
            dt { "Clusters" } dd data-figure="clusters" {
                @if f.clusters.nodes.is_empty() { "none" }
                @for (i, c) in f.clusters.nodes.iter().enumerate() { @if i > 0 { ", " } a href={"/clusters/" (escape_query(&c.slug))} { (c.name) } }
            }
            dt { "District, tehsil" } dd { (f.district.as_deref().unwrap_or("—")) ", " (f.tehsil.as_deref().unwrap_or("—")) }
            @if let Some(a) = &f.address { dt { "Address" } dd { (a) } }
            dt { "Size class" } dd data-figure="size" { (f.size_class.as_deref().unwrap_or("—"))
                @if let Some(b) = &f.size_basis { span.small { " (by " (b) ")" } } }
            dt { "Legal form" } dd { (f.legal_form.as_deref().unwrap_or("—")) }
            dt { "Industry (PSIC)" } dd { (f.industry_code.as_deref().unwrap_or("—")) }
            dt { "Founded" } dd { (f.founded_year.map_or_else(|| "—".to_owned(), |y| y.to_string())) }
            dt { "Status" } dd { (f.status) }
            @if let Some(w) = &f.website { dt { "Website" } dd { (w) } }
        }
        section aria-labelledby="h-figures" {
            h2 #h-figures { "Figures" }
            @if figures {
                dl.facts data-figures="shown" {
                    dt { "Employees" } dd data-figure="employees" { (f.employees_total.map_or_else(|| "—".to_owned(), group_digits)) (origin(&f.employees_total_as_of)) }
                    dt { "Women employees" } dd data-figure="female" { (f.employees_female.map_or_else(|| "—".to_owned(), group_digits)) (origin(&f.employees_female_as_of)) }
                    dt { "Annual turnover" } dd data-figure="turnover" { (f.turnover_pkr.map_or_else(|| "—".to_owned(), |v| format!("PKR {}", group_digits(v.round() as i64)))) (origin(&f.turnover_pkr_as_of)) }
                    dt { "Exports" } dd data-figure="exports" { (f.exports_usd.map_or_else(|| "—".to_owned(), |v| Unit::Usd.format(v))) (origin(&f.exports_usd_as_of)) }
                    dt { "Certifications" } dd { (f.certifications.as_deref().unwrap_or("—")) (origin(&f.certifications_as_of)) }
                }
            } @else {
                p data-figures="hidden" { "Firm-level figures (employees, turnover, exports) are shown to analysts, curators and admins. "
                    a href={"/sign-in?next=/firms/" (escape_query(&f.id))} { "Sign in" } " to see them." }
            }
        }
        section aria-labelledby="h-ids" {
            h2 #h-ids { "Identifiers" }
            @if identifiers {
                @if f.identifiers.is_empty() { p { "None recorded." } }
                @else { table.identifiers { thead { tr { th scope="col" { "Scheme" } th scope="col" { "Value" } th scope="col" { "Source" } } }
                    tbody { @for i in &f.identifiers { tr { td { (i.scheme) } td { code { (i.value) } } td { (i.source.as_deref().unwrap_or("—")) } } } } } }
            } @else {
                p { "Identifiers (NTN, SECP, registry numbers) are shown to analysts, curators and admins." }
            }
            @if personal {
                p { "Contact: " (f.phone.as_deref().unwrap_or("no phone")) ", " (f.email.as_deref().unwrap_or("no e-mail")) }
            }
        }
        section aria-labelledby="h-networks" {
            h2 #h-networks { "SME networks" }
            @if f.networks.nodes.is_empty() { p { "Not a member of a recorded network." } }
            ul { @for n in &f.networks.nodes { li data-network=(n.id) { (n.name) " (" (n.kind.to_lowercase().replace('_', " "))
                @if let Some(c) = &n.cluster { ", " a href={"/clusters/" (escape_query(&c.slug))} { (c.name) } }
                @if let Some(l) = &n.lead { "; lead firm " @if l.id == f.id { "this firm" } @else { a href={"/firms/" (escape_query(&l.id))} { (l.name) } } }
                ")" } } }
        }
        section aria-labelledby="h-training" {
            h2 #h-training { "Trainings" }
            @if !caller.may(Protected::Persons) {
                p { "The training events the firm's people attended are shown to analysts, curators and admins "
                    "(participations are records of persons); the cluster's profile has the public counts." }
            } @else if events.is_empty() { p { "No one from this firm is recorded in a training event." } }
            @else {
                p data-figure="participations" { (f.participations.total_count) " participations of the firm's people"
                    @if f.participations.total_count > f.participations.nodes.len() as i64 { "; the events of the first " (f.participations.nodes.len()) ":" } @else { ", in " (events.len()) " events:" } }
                table.events { thead { tr { th scope="col" { "Event" } th scope="col" { "Dates" } th scope="col" { "Provider" } th scope="col" { "Participations (completed)" } } }
                    tbody { @for (e, n, done) in &events { tr {
                        th scope="row" { (e.title) @if let Some(c) = &e.cluster { br; span.small { (c.name) } } }
                        td { (e.start_date.as_deref().unwrap_or("—")) @if let Some(end) = &e.end_date { " to " (end) } }
                        td { (e.provider.as_deref().unwrap_or("—")) }
                        td.num { (n) " (" (done) ")" }
                    } } } }
            }
        }
    }
}
