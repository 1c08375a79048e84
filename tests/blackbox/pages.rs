//! The pages for agency staff (`/`, `/clusters/{slug}`, `/firms`, `/firms/{id}`, the
//! sign-in form) on `hub demo`:
//!
//! - over HTTP on every engine: each page's figures equal the analytics API's answers for
//!   the same caller; the public view shows no firm-level figure or identifier; the
//!   sign-in cookie (`HttpOnly`, `SameSite=Strict`) is honoured by the pages and never by
//!   `/graphql` or `/datasets`; revoked credentials, foreign origins, unknown clusters and
//!   firms, bad parameters; every page under 300 KB with its stylesheet; every chart's
//!   "download the data" link answers with a CSV.
//! - in headless Chromium (Debian's `chromium`; `HUB_TEST_REQUIRE_BROWSER=1` makes its
//!   absence a failure, as in CI): each page loads with no console error and no request
//!   leaving the hub, the charts draw one mark per figure of the API's answer, the sign-in
//!   form works and its cookie is out of scripts' reach, the print stylesheet hides the
//!   navigation and an A4 PDF is printed; a screenshot of each page is written to
//!   `target/tmp/screenshots/` (the README's pictures).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::{Engine, RunningHub, create_key, demo, engines};

/// The environment variable that makes a missing Chromium a failure.
const REQUIRE_BROWSER_ENV: &str = "HUB_TEST_REQUIRE_BROWSER";

/// `1234567` as the pages write it: `1,234,567`.
fn digits(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A response as the pages' tests read it.
struct Page {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A client that neither follows redirects nor sends credentials of its own.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn get(h: &RunningHub, path: &str, headers: &[(&str, &str)]) -> Page {
    let url = h.url(path);
    let mut request = agent().get(&url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    read(request.call().unwrap_or_else(|e| panic!("GET {url}: {e}")))
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Page {
    let status = response.status().as_u16();
    let mut headers = BTreeMap::new();
    for (k, v) in response.headers() {
        headers
            .entry(k.as_str().to_owned())
            .and_modify(|old: &mut String| {
                old.push('\n');
                old.push_str(v.to_str().unwrap_or(""));
            })
            .or_insert_with(|| v.to_str().unwrap_or("").to_owned());
    }
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Page {
        status,
        headers,
        body,
    }
}

fn post_form(h: &RunningHub, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
    let url = h.url(path);
    let mut request = agent().post(&url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    read(
        request
            .send_form(form.iter().copied())
            .unwrap_or_else(|e| panic!("POST {url}: {e}")),
    )
}

/// The GraphQL answer's `data` for `query` with `auth` (a key, or the public).
fn api(h: &RunningHub, auth: Option<&str>, query: &str, variables: Value) -> Value {
    let url = h.url("/graphql");
    let mut request = agent().post(&url);
    if let Some(key) = auth {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request
        .send_json(json!({"query": query, "variables": variables}))
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let body: Value = response.body_mut().read_json().unwrap();
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// The text of the element with `data-figure="NAME"` inside the element whose opening tag
/// contains `scope` (or anywhere when `scope` is empty).
fn figure(html: &str, scope: &str, name: &str) -> Option<String> {
    let from = if scope.is_empty() {
        0
    } else {
        html.find(scope)?
    };
    let rest = &html[from..];
    let at = rest.find(&format!("data-figure=\"{name}\""))?;
    let open = at + rest[at..].find('>')? + 1;
    let close = open + rest[open..].find('<')?;
    Some(rest[open..close].trim().to_owned())
}

const CLUSTER_FIGURES: &str = "{ clusters(first: 100) { nodes { slug } }
  firmStatistics(groupBy: [CLUSTER]) { groups { keys { cluster } firms employees withheld } }
  trainingStatistics(groupBy: [CLUSTER]) { groups { keys { cluster } persons firms withheld } } }";

/// The pages over HTTP, on every engine.
#[test]
fn pages_show_the_api_figures_with_the_callers_rules() {
    for engine in engines() {
        pages_over_http(engine);
    }
}

fn pages_over_http(engine: Engine) {
    let (db, h) = demo(engine);
    let analyst = create_key(&db, "pages-analyst", "analyst", &[]);
    let e = engine.name();

    // The home page: one row per cluster, each figure the API's for the public.
    let home = get(&h, "/", &[]);
    assert_eq!(home.status, 200, "{e}: {}", home.body);
    assert!(home.headers["content-type"].starts_with("text/html"));
    let csp = &home.headers["content-security-policy"];
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("http"),
        "{csp}"
    );
    let data = api(&h, None, CLUSTER_FIGURES, json!({}));
    let slugs: Vec<String> = data["clusters"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs.len(), 4, "{e}");
    for slug in &slugs {
        let scope = format!("data-cluster=\"{slug}\"");
        let firms = data["firmStatistics"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["keys"]["cluster"] == json!(slug))
            .unwrap();
        assert_eq!(
            figure(&home.body, &scope, "firms").as_deref(),
            Some(digits(firms["firms"].as_i64().unwrap()).as_str()),
            "{e} {slug}"
        );
        let employees = figure(&home.body, &scope, "employees").unwrap();
        if firms["withheld"] == json!(true) {
            assert_eq!(employees, "withheld");
        } else {
            assert_eq!(
                employees.split_whitespace().next(),
                Some(digits(firms["employees"].as_i64().unwrap()).as_str()),
                "{e} {slug}: {employees}"
            );
        }
        let trained = data["trainingStatistics"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["keys"]["cluster"] == json!(slug))
            .unwrap();
        let persons = figure(&home.body, &scope, "persons").unwrap();
        if trained["withheld"] == json!(true) {
            assert_eq!(persons, "withheld");
        } else {
            assert_eq!(
                persons,
                digits(trained["persons"].as_i64().unwrap()),
                "{e} {slug}"
            );
        }
        assert!(home.body.contains(&format!("href=\"/clusters/{slug}\"")));
    }

    // A cluster profile: its headline figures and every chart's download link.
    let profile = get(&h, "/clusters/sialkot-surgical", &[]);
    assert_eq!(profile.status, 200, "{e}: {}", profile.body);
    let firms = data["firmStatistics"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["keys"]["cluster"] == json!("sialkot-surgical"))
        .unwrap();
    assert_eq!(
        figure(&profile.body, "<dl class=\"facts\"", "firms"),
        Some(digits(firms["firms"].as_i64().unwrap()))
    );
    let css = get(&h, &stylesheet_href(&profile.body), &[]);
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"].starts_with("text/css"));
    let mut links: Vec<String> = profile
        .body
        .match_indices("href=\"/datasets/")
        .map(|(at, _)| {
            let rest = &profile.body[at + 6..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect();
    links.sort();
    links.dedup();
    assert!(links.len() >= 5, "{e}: {links:?}");
    for link in &links {
        let got = get(&h, link, &[]);
        assert_eq!(got.status, 200, "{e} {link}: {}", got.body);
        assert!(
            got.headers["content-type"].starts_with("text/csv"),
            "{link}"
        );
        assert!(got.body.lines().count() > 1, "{e} {link}: no rows");
    }

    // Every page with its stylesheet under 300 KB.
    let directory = get(&h, "/firms", &[]);
    assert_eq!(directory.status, 200);
    let firm_id = first_firm_id(&directory.body);
    let firm = get(&h, &format!("/firms/{firm_id}"), &[]);
    assert_eq!(firm.status, 200, "{e}: {}", firm.body);
    for page in [&home, &profile, &directory, &firm] {
        assert!(
            page.body.len() + css.body.len() < 300 * 1024,
            "{e}: {} bytes",
            page.body.len()
        );
        assert!(!page.body.contains("<script"), "{e}: no script on a page");
    }

    // The public view: no firm-level figure, no identifier.
    let analyst_view = api(
        &h,
        Some(&analyst),
        "query($id: ID!) { firm(id: $id) { employeesTotal identifiers { value } } }",
        json!({"id": firm_id}),
    );
    assert!(firm.body.contains("data-figures=\"hidden\""), "{e}");
    assert_eq!(figure(&firm.body, "", "employees"), None);
    for id in analyst_view["firm"]["identifiers"].as_array().unwrap() {
        let value = id["value"].as_str().unwrap();
        assert!(
            !firm.body.contains(value),
            "{e}: identifier {value} shown to the public"
        );
    }
    assert!(!directory.body.contains(">Employees<"), "{e}");

    // The analyst's view with the header: the figures are the API's.
    let bearer = format!("Bearer {analyst}");
    let firm_as_analyst = get(
        &h,
        &format!("/firms/{firm_id}"),
        &[("Authorization", &bearer)],
    );
    let employees = figure(&firm_as_analyst.body, "", "employees").unwrap();
    let want = analyst_view["firm"]["employeesTotal"]
        .as_i64()
        .map_or("—".to_owned(), digits);
    assert_eq!(employees, want, "{e}");
    for id in analyst_view["firm"]["identifiers"].as_array().unwrap() {
        assert!(firm_as_analyst.body.contains(id["value"].as_str().unwrap()));
    }

    // Sign-in: the cookie's attributes, and where it is honoured.
    let signed = post_form(
        &h,
        "/sign-in",
        &[("credential", &analyst), ("next", "/firms")],
        &[("Origin", &h.base_url)],
    );
    assert_eq!(signed.status, 303, "{e}: {}", signed.body);
    assert_eq!(signed.headers["location"], "/firms");
    let set_cookie = &signed.headers["set-cookie"];
    for attribute in ["hub_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{e}: {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    // `next` is followed only to a plain path of this hub (a tab would make `//host`).
    let elsewhere = post_form(
        &h,
        "/sign-in",
        &[("credential", &analyst), ("next", "/\t/evil.example")],
        &[],
    );
    assert_eq!(elsewhere.status, 303);
    assert_eq!(elsewhere.headers["location"], "/", "{e}");
    let as_cookie = get(&h, &format!("/firms/{firm_id}"), &[("Cookie", &cookie)]);
    assert!(as_cookie.body.contains("Signed in as"), "{e}");
    assert_eq!(
        figure(&as_cookie.body, "", "employees"),
        figure(&firm_as_analyst.body, "", "employees")
    );
    // Never by the API or the datasets.
    let mut response = agent()
        .post(&h.url("/graphql"))
        .header("Cookie", &cookie)
        .send_json(json!({"query": "{ viewer { role } }"}))
        .unwrap();
    let viewer: Value = response.body_mut().read_json().unwrap();
    assert_eq!(viewer["data"]["viewer"]["role"], json!("PUBLIC"), "{e}");
    let loans = get(&h, "/datasets/loans.csv", &[("Cookie", &cookie)]);
    assert_eq!(loans.status, 403, "{e}: the cookie opened a dataset");
    let loans = get(&h, "/datasets/loans.csv", &[("Authorization", &bearer)]);
    assert_eq!(loans.status, 200, "{e}");

    // Refusals: a wrong key, a form from another site, a revoked key's cookie.
    let wrong = post_form(
        &h,
        "/sign-in",
        &[("credential", "hub_not_a_key"), ("next", "/")],
        &[],
    );
    assert_eq!(wrong.status, 401, "{e}");
    assert!(wrong.body.contains("Not accepted") && !wrong.headers.contains_key("set-cookie"));
    let foreign = post_form(
        &h,
        "/sign-in",
        &[("credential", &analyst)],
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(foreign.status, 403, "{e}");
    assert!(!foreign.headers.contains_key("set-cookie"));
    // Revoked through the serving instance, which refuses it from the next request (one
    // revoked by `hub keys revoke` is refused within `access.key_cache_ms`).
    let admin = create_key(&db, "pages-admin", "admin", &[]);
    let revoked = api(
        &h,
        Some(&admin),
        "mutation { revokeApiKey(name: \"pages-analyst\") { state } }",
        json!({}),
    );
    assert_eq!(revoked["revokeApiKey"]["state"], "revoked", "{e}");
    let revoked = get(&h, "/", &[("Cookie", &cookie)]);
    assert_eq!(revoked.status, 401, "{e}");
    assert!(
        revoked.headers["set-cookie"].contains("hub_session=;"),
        "{e}"
    );
    let foreign = post_form(&h, "/sign-out", &[], &[("Origin", "http://evil.example")]);
    assert_eq!(foreign.status, 403, "{e}");
    let out = post_form(&h, "/sign-out", &[], &[]);
    assert_eq!(out.status, 303);
    assert!(
        out.headers["set-cookie"].contains("Max-Age=0"),
        "{}",
        out.headers["set-cookie"]
    );

    // A key scoped to one cluster: that cluster only, on every page.
    let scoped = create_key(
        &db,
        "pages-garments",
        "analyst",
        &["--cluster", "lahore-garments"],
    );
    let scoped = format!("Bearer {scoped}");
    let home = get(&h, "/", &[("Authorization", &scoped)]);
    assert_eq!(home.status, 200);
    assert_eq!(home.body.matches("<tr data-cluster=").count(), 1, "{e}");
    assert!(home.body.contains("data-cluster=\"lahore-garments\""));
    assert_eq!(
        get(
            &h,
            "/clusters/sialkot-surgical",
            &[("Authorization", &scoped)]
        )
        .status,
        404,
        "{e}"
    );
    assert_eq!(
        get(
            &h,
            "/clusters/lahore-garments",
            &[("Authorization", &scoped)]
        )
        .status,
        200
    );
    let theirs = get(&h, "/firms", &[("Authorization", &scoped)]);
    let all = api(
        &h,
        Some(scoped.trim_start_matches("Bearer ")),
        "{ firms { totalCount } }",
        json!({}),
    );
    assert!(
        theirs
            .body
            .contains(&format!("data-total=\"{}\"", all["firms"]["totalCount"]))
    );

    // What is not there, and what does not parse.
    assert_eq!(get(&h, "/clusters/no-such-cluster", &[]).status, 404);
    assert_eq!(get(&h, "/firms/not-an-id", &[]).status, 400);
    let bad = get(&h, "/firms?size=huge", &[]);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("size"), "{}", bad.body);
    let search = get(
        &h,
        "/firms?q=surgical&size=small&cluster=sialkot-surgical",
        &[],
    );
    assert_eq!(search.status, 200);
    let total: i64 = search
        .body
        .split("data-total=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    let expected = api(
        &h,
        None,
        "{ firms(search: \"surgical\", filter: {sizeClass: {eq: \"small\"}, cluster: {slug: {eq: \"sialkot-surgical\"}}}) { totalCount } }",
        json!({}),
    );
    assert_eq!(json!(total), expected["firms"]["totalCount"], "{e}");
    assert!(total > 0, "{e}: the search found nothing");
}

/// The stylesheet's address on a page.
fn stylesheet_href(html: &str) -> String {
    let at = html.find("rel=\"stylesheet\" href=\"").unwrap() + 23;
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&")
}

/// The id of the first firm a directory page links to.
fn first_firm_id(html: &str) -> String {
    let at = html.find("data-firm=\"").unwrap() + 11;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

// ---- In a real browser -------------------------------------------------------------------

/// Debian's Chromium, when installed.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HUB_TEST_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Where the screenshots go: `target/tmp/screenshots/`.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the browser reported while a page loaded.
#[derive(Default)]
struct Seen {
    errors: Vec<String>,
    requests: Vec<String>,
}

#[test]
fn pages_in_a_real_browser() {
    use headless_chrome::protocol::cdp::{Emulation, Log, Network, Page as Cdp, Runtime};
    use headless_chrome::{Browser, LaunchOptions};

    let Some(path) = chromium() else {
        assert!(
            std::env::var(REQUIRE_BROWSER_ENV).as_deref() != Ok("1"),
            "no Chromium found and {REQUIRE_BROWSER_ENV}=1"
        );
        crate::support::note(
            "blackbox: pages_in_a_real_browser skipped: no chromium (apt-get install chromium)",
        );
        return;
    };
    let (db, h) = demo(Engine::Sqlite);
    let analyst = create_key(&db, "browser-analyst", "analyst", &[]);
    let profile_dir = tempfile::tempdir().unwrap();
    let user_data = format!("--user-data-dir={}", profile_dir.path().display());
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        user_data.as_str(),
    ]
    .into_iter()
    .map(OsStr::new)
    .collect();
    let browser = Browser::new(
        LaunchOptions::default_builder()
            .path(Some(path))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1280, 1800)))
            .idle_browser_timeout(Duration::from_secs(300))
            .args(args)
            .build()
            .unwrap(),
    )
    .unwrap();
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(60));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sink = seen.clone();
    tab.add_event_listener(Arc::new(
        move |event: &headless_chrome::protocol::cdp::types::Event| {
            use headless_chrome::protocol::cdp::types::Event;
            let mut seen = sink.lock().unwrap();
            match event {
                Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
                    seen.errors.push(format!("log: {}", e.params.entry.text));
                }
                Event::RuntimeConsoleAPICalled(e)
                    if e.params.Type == Runtime::ConsoleAPICalledEventTypeOption::Error =>
                {
                    seen.errors
                        .push(format!("console.error: {:?}", e.params.args));
                }
                Event::RuntimeExceptionThrown(e) => {
                    seen.errors
                        .push(format!("exception: {}", e.params.exception_details.text));
                }
                Event::NetworkRequestWillBeSent(e) => {
                    seen.requests.push(e.params.request.url.clone())
                }
                _ => {}
            }
        },
    ))
    .unwrap();
    tab.enable_log().unwrap();
    tab.enable_runtime().unwrap();
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .unwrap();

    let eval = |js: &str| -> Value {
        tab.evaluate(js, false)
            .unwrap_or_else(|e| panic!("{js}: {e}"))
            .value
            .unwrap_or(Value::Null)
    };
    let visit = |path: &str, shot: &str| {
        {
            let mut s = seen.lock().unwrap();
            s.errors.clear();
            s.requests.clear();
        }
        tab.navigate_to(&h.url(path))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        // Let late events (a failed image, a console message) arrive.
        std::thread::sleep(Duration::from_millis(300));
        let s = seen.lock().unwrap();
        assert!(
            s.errors.is_empty(),
            "{path}: console errors: {:?}",
            s.errors
        );
        assert!(!s.requests.is_empty(), "{path}: no request seen");
        for url in &s.requests {
            assert!(
                url.starts_with(&h.base_url) || url.starts_with("data:"),
                "{path}: a request left the hub: {url}"
            );
        }
        drop(s);
        if !shot.is_empty() {
            // The whole page, not only the window.
            let height = tab
                .evaluate("document.documentElement.scrollHeight", false)
                .unwrap()
                .value
                .and_then(|v| v.as_f64())
                .unwrap_or(1800.0);
            let png = tab
                .call_method(Cdp::CaptureScreenshot {
                    format: Some(Cdp::CaptureScreenshotFormatOption::Png),
                    quality: None,
                    clip: Some(Cdp::Viewport {
                        x: 0.0,
                        y: 0.0,
                        width: 1280.0,
                        height,
                        scale: 1.0,
                    }),
                    from_surface: Some(true),
                    capture_beyond_viewport: Some(true),
                    optimize_for_speed: None,
                })
                .unwrap()
                .data;
            let png = base64::engine::general_purpose::STANDARD
                .decode(png)
                .unwrap();
            std::fs::write(screenshots().join(shot), png).unwrap();
        }
    };

    // The home page.
    visit("/", "home.png");
    let rows = eval("document.querySelectorAll('tr[data-cluster]').length");
    assert_eq!(rows, json!(4));

    // The cluster profile: one mark per figure of the API's answer.
    visit("/clusters/sialkot-surgical", "cluster.png");
    let charts = eval(
        "JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => \
         [f.id, Number(f.dataset.marks), f.querySelectorAll('svg rect.mark').length]))",
    );
    let charts: Vec<(String, i64, i64)> = serde_json::from_str(charts.as_str().unwrap()).unwrap();
    let marks: BTreeMap<&str, i64> = charts
        .iter()
        .map(|(id, declared, drawn)| {
            assert_eq!(declared, drawn, "{id}: marks declared and drawn");
            (id.as_str(), *drawn)
        })
        .collect();
    let answers = api(
        &h,
        None,
        "{ cluster(slug: \"sialkot-surgical\") {
            exports: trade(flow: EXPORT) { groups { year valueUsd } }
            partners: trade(flow: EXPORT, groupBy: [YEAR, PARTNER]) { groups { year partner valueUsd } } }
          sizes: firmStatistics(groupBy: [CLUSTER, SIZE_CLASS]) { groups { keys { cluster } firms employees femaleEmployees withheld } }
          training: trainingStatistics(groupBy: [CLUSTER, YEAR, SEX]) { groups { keys { cluster } persons withheld } }
          byYear: trainingStatistics(groupBy: [CLUSTER, YEAR]) { groups { keys { cluster } persons firms withheld } }
          results: indicatorResults(cluster: \"sialkot-surgical\") { progress } }",
        json!({}),
    );
    let count = |v: &Value, keep: &dyn Fn(&Value) -> bool| {
        v.as_array().unwrap().iter().filter(|g| keep(g)).count() as i64
    };
    let exports = &answers["cluster"]["exports"]["groups"];
    assert_eq!(
        marks["exports-by-year"],
        count(exports, &|g| !g["valueUsd"].is_null())
    );
    assert!(marks["exports-by-year"] >= 5);
    let latest = exports
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["year"].as_i64().unwrap())
        .max()
        .unwrap();
    let partners = count(&answers["cluster"]["partners"]["groups"], &|g| {
        g["year"] == json!(latest) && !g["valueUsd"].is_null()
    });
    assert_eq!(marks["top-partners"], partners.min(10));
    let of_cluster = |g: &Value| g["keys"]["cluster"] == json!("sialkot-surgical");
    assert_eq!(
        marks["firms-by-size"],
        count(&answers["sizes"]["groups"], &of_cluster)
    );
    assert_eq!(
        marks["employees-by-size"],
        count(&answers["sizes"]["groups"], &|g| of_cluster(g)
            && g["withheld"] == json!(false)
            && !g["employees"].is_null())
            + count(&answers["sizes"]["groups"], &|g| of_cluster(g)
                && g["withheld"] == json!(false)
                && !g["femaleEmployees"].is_null())
    );
    assert_eq!(
        marks["trained-by-year-and-sex"],
        count(&answers["training"]["groups"], &|g| of_cluster(g)
            && g["withheld"] == json!(false)
            && !g["persons"].is_null())
    );
    assert_eq!(
        marks["trained-by-year"],
        count(&answers["byYear"]["groups"], &|g| of_cluster(g)
            && g["withheld"] == json!(false)
            && !g["persons"].is_null())
            + count(&answers["byYear"]["groups"], &|g| of_cluster(g)
                && g["withheld"] == json!(false))
    );
    assert!(
        marks["trained-by-year"] > 0,
        "the public sees trainings by year"
    );
    assert_eq!(
        marks["results-progress"],
        count(&answers["results"], &|r| !r["progress"].is_null())
    );
    assert!(marks["results-progress"] > 0 && marks["employment-over-time"] > 0);
    // The latest year's exports in the chart's table are the API's figure.
    let latest_value = exports
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["year"] == json!(latest))
        .unwrap()["valueUsd"]
        .as_f64()
        .unwrap();
    let cell = eval(&format!(
        "[...document.querySelectorAll('#exports-by-year tbody tr')].find(r => \
         r.querySelector('th').textContent === '{latest}').querySelector('td').textContent"
    ));
    assert_eq!(
        cell,
        json!(format!("US${}", digits(latest_value.round() as i64)))
    );

    // Printed: no navigation, and an A4 PDF.
    tab.call_method(Emulation::SetEmulatedMedia {
        media: Some("print".into()),
        features: None,
    })
    .unwrap();
    assert_eq!(
        eval("getComputedStyle(document.querySelector('header.site')).display"),
        json!("none")
    );
    let pdf = tab
        .print_to_pdf(Some(headless_chrome::types::PrintToPdfOptions {
            paper_width: Some(8.27),
            paper_height: Some(11.69),
            ..Default::default()
        }))
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(screenshots().join("cluster.pdf"), &pdf).unwrap();
    tab.call_method(Emulation::SetEmulatedMedia {
        media: Some(String::new()),
        features: None,
    })
    .unwrap();

    // The directory and a firm, public: no figure.
    visit("/firms?cluster=sialkot-surgical", "firms.png");
    let first = eval("document.querySelector('tr[data-firm]').dataset.firm");
    let firm_path = format!("/firms/{}", first.as_str().unwrap());
    visit(&firm_path, "");
    assert_eq!(
        eval("document.querySelector('[data-figure=employees]') === null"),
        json!(true)
    );

    // Signed in through the form: the analyst's figures; the cookie is not for scripts.
    visit(&format!("/sign-in?next={firm_path}"), "");
    tab.wait_for_element("#credential")
        .unwrap()
        .click()
        .unwrap();
    tab.type_str(&analyst).unwrap();
    tab.wait_for_element("form.signin button")
        .unwrap()
        .click()
        .unwrap();
    tab.wait_until_navigated().unwrap();
    tab.wait_for_element("[data-figure=employees]").unwrap();
    assert_eq!(eval("document.cookie"), json!(""));
    let expected = api(
        &h,
        Some(&analyst),
        "query($id: ID!) { firm(id: $id) { employeesTotal } }",
        json!({"id": first}),
    );
    let shown = eval("document.querySelector('[data-figure=employees]').textContent");
    let want = expected["firm"]["employeesTotal"]
        .as_i64()
        .map_or("—".to_owned(), digits);
    assert!(
        shown.as_str().unwrap().starts_with(&want),
        "{shown} vs {want}"
    );
    visit(&firm_path, "firm.png");
    assert!(seen.lock().unwrap().errors.is_empty());
}
