//! Pages for agency staff: `/` (the programmes and their clusters), `/clusters/{slug}` (a
//! cluster profile), `/firms` (the firm directory) and `/firms/{id}` (one firm), rendered
//! by the server as HTML with SVG charts ([`charts`]), and the sign-in form.
//!
//! **Same data, same rules.** Every figure on a page is read by running a GraphQL document
//! through the caller's own schema ([`Endpoint::execute_as`]): the analytics
//! (`firmStatistics`, `trainingStatistics`, `Cluster.trade`, `indicatorResults`) and the
//! lists, with the role's policy, cluster scopes and small-group suppression. There is no
//! second query layer, so a page can show nothing the caller could not ask the API for.
//!
//! **Who the caller is.** The `Authorization: Bearer` header when sent (as for
//! `/graphql`); else the sign-in cookie [`COOKIE`], which `POST /sign-in` sets after
//! checking the key or JWT typed into the form: `HttpOnly` (no script reads it),
//! `SameSite=Strict` (no other site's page sends it), `Path=/`, `Secure` when the request
//! came over HTTPS, and no expiry (it ends with the browser session, or at
//! `POST /sign-out`). Only these pages read it: `/graphql` and `/datasets` take the header
//! alone, so a cookie can never make a cross-site request act with its role. Without
//! either the caller is the public. Credentials that no longer verify (a revoked key, an
//! expired token) answer 401 with the sign-in form, and clear the cookie.
//!
//! **Made for the field.** No JavaScript; one stylesheet embedded in the binary (screen and
//! A4 print); nothing loaded from another host (the Content-Security-Policy allows this
//! host alone); every chart with its numbers in a table and a link to the dataset behind.

mod charts;
mod cluster;
mod data;
mod firms;
mod home;
mod layout;
mod signin;

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::graphql::errors;
use crate::graphql::http::{Asset, Endpoint, Stopped, content_hash, serve_asset};
use crate::graphql::policy::{self, Protected};
use crate::graphql::principal::Principal;

/// The sign-in cookie: the key or JWT itself, read by the pages only.
pub const COOKIE: &str = "hub_session";

/// The pages' Content-Security-Policy: this host only, no script at all.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers the pages; needs `web::Data<Endpoint>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(home::page)))
        .service(web::resource("/clusters/{slug}").route(web::get().to(cluster::page)))
        .service(web::resource("/firms").route(web::get().to(firms::directory)))
        .service(web::resource("/firms/{id}").route(web::get().to(firms::page)))
        .service(
            web::resource("/sign-in")
                .route(web::get().to(signin::form))
                .route(web::post().to(signin::submit)),
        )
        .service(web::resource("/sign-out").route(web::post().to(signin::sign_out)))
        .service(web::resource("/assets/{file}").route(web::get().to(asset)));
}

/// Who is asking, and how they proved it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Signed in with the cookie (the page offers to sign out).
    pub by_cookie: bool,
}

impl Caller {
    /// Whether the caller may see `what`.
    pub fn may(&self, what: Protected) -> bool {
        policy::allows(&self.principal, what)
    }
}

/// The caller of a page request, or the page refusing it.
pub async fn caller(req: &HttpRequest, endpoint: &Endpoint) -> Result<Caller, HttpResponse> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|h| h.as_bytes().to_vec());
    let cookie = if header.is_none() {
        req.cookie(COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    } else {
        None
    };
    let by_cookie = cookie.is_some();
    let credential = header.or_else(|| cookie.map(|c| format!("Bearer {c}").into_bytes()));
    let principal = match endpoint.access().principal(credential.as_deref()).await {
        Ok(p) => p,
        Err(refused) => {
            endpoint.access().record_refusal(&refused).await;
            let mut response = signin::refused(req, &refused.message);
            if by_cookie {
                let _ = response.add_cookie(&signin::removal(req));
            } else {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            return Err(response);
        }
    };
    if let Some(wait) = endpoint.over_rate(&principal, req.peer_addr().map(|a| a.ip())) {
        let seconds = wait.as_secs().max(1);
        let caller = Caller {
            principal,
            by_cookie,
        };
        let mut response = message(
            &caller,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            &format!(
                "Your role may load a limited number of pages a minute; try again in {seconds} s."
            ),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.to_string()).expect("digits"),
        );
        return Err(response);
    }
    Ok(Caller {
        principal,
        by_cookie,
    })
}

/// Why a page could not be made.
#[derive(Debug)]
pub enum Failure {
    /// Nothing by that name or id (or nothing this caller may see).
    NotFound(String),
    /// A request parameter that does not parse.
    BadRequest(String),
    /// The API answered with errors, or the answer did not have the expected shape.
    Internal(String),
    /// Longer than `graphql.request_timeout_ms`.
    Timeout,
}

/// Runs `document` as the caller, as `/graphql` runs requests (on the main runtime, under
/// `graphql.request_timeout_ms`), and reads its `data` as `T`. `input` says whether the
/// variables come from the request (an id in the path): only then is an input error the
/// caller's (400); an error of the page's own document is the hub's (500).
pub async fn read<T: DeserializeOwned>(
    endpoint: &web::Data<Endpoint>,
    caller: &Caller,
    document: &str,
    variables: Json,
    input: bool,
) -> Result<T, Failure> {
    let answer = Endpoint::execute_limited(
        endpoint,
        caller.principal.clone(),
        document.to_owned(),
        variables,
    )
    .await
    .map_err(|stopped| match stopped {
        Stopped::TimedOut => Failure::Timeout,
        Stopped::Failed => Failure::Internal("the request's task failed".into()),
    })?;
    if !answer.errors.is_empty() {
        let messages: Vec<String> = answer.errors.iter().map(|e| e.message.clone()).collect();
        if input
            && answer
                .errors
                .iter()
                .all(|e| errors::code_of(e) == Some(errors::BAD_USER_INPUT))
        {
            return Err(Failure::BadRequest(messages.join("; ")));
        }
        return Err(Failure::Internal(messages.join("; ")));
    }
    let data = answer
        .data
        .into_json()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    // The position only: serde's message can quote a value, which may be personal data.
    serde_json::from_value(data).map_err(|e| {
        Failure::Internal(format!(
            "the answer does not have the page's shape ({:?} error)",
            e.classify()
        ))
    })
}

/// A page as the response: HTML with the pages' headers.
pub fn html(status: StatusCode, body: Markup) -> HttpResponse {
    // Not stored at all: a page may hold a role's figures or contact details, and a shared
    // computer's cache would keep them after signing out.
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Authorization, Cookie"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body.into_string())
}

/// A page that says one thing: a 404, a 400, a 429.
pub fn message(caller: &Caller, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    html(
        status,
        layout::page(
            title,
            caller,
            maud::html! { h1 { (title) } p { (text) } p { a href="/" { "Back to the programmes" } } },
        ),
    )
}

/// The response to a failure: the page says what happened (an internal error is logged
/// and the page says only that it failed; GraphQL messages never carry personal data).
pub fn failed(caller: &Caller, failure: Failure) -> HttpResponse {
    match failure {
        Failure::NotFound(what) => message(caller, StatusCode::NOT_FOUND, "Not found", &what),
        Failure::BadRequest(what) => message(caller, StatusCode::BAD_REQUEST, "Bad request", &what),
        Failure::Timeout => message(
            caller,
            StatusCode::GATEWAY_TIMEOUT,
            "This page took too long",
            "The hub stopped reading the figures for this page at its time limit \
             (graphql.request_timeout_ms); try again in a moment.",
        ),
        Failure::Internal(what) => {
            tracing::error!(error = %what, "page failed");
            message(
                caller,
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be made",
                "The hub could not read the figures for this page; the server log says why.",
            )
        }
    }
}

const ASSETS: &[Asset] = &[Asset {
    name: "hub.css",
    content_type: "text/css; charset=utf-8",
    bytes: include_bytes!("assets/hub.css"),
}];

/// The stylesheet's address, with a hash of its content (cached for a year).
pub fn stylesheet() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let asset = &ASSETS[0];
        format!("/assets/{}?v={}", asset.name, content_hash(asset.bytes))
    })
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    serve_asset(ASSETS, &file)
}

/// `value` with URL query escaping.
pub fn escape_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
