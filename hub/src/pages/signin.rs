//! `GET /sign-in` (the form), `POST /sign-in` (checks the key or JWT and sets the
//! cookie) and `POST /sign-out` (clears it). See the module above for the cookie's rules.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::{COOKIE, Caller, html as page_html, layout};
use crate::graphql::http::Endpoint;
use crate::graphql::principal::Principal;

/// The form's fields.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    credential: String,
    #[serde(default)]
    next: String,
}

/// `?next=` of the form.
#[derive(Debug, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a path of this hub, else `/`. Only the characters of a
/// plain path and query are accepted: browsers drop tabs and line breaks from a URL, so
/// `/\t/evil.example` would become `//evil.example`, another host.
fn local_path(next: &str) -> &str {
    let plain = next
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_.~%?&=-+,:".contains(&b));
    if plain && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

/// The longest credential kept in the cookie: browsers drop cookies over about 4 KB.
const MAX_CREDENTIAL: usize = 3800;

fn public() -> Caller {
    Caller {
        principal: Principal::public(),
        by_cookie: false,
    }
}

fn form_markup(next: &str, problem: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in" }
        p {
            "Paste an API key (from your hub's administrator: " code { "hub keys create" }
            ") or a token from your agency's identity provider. Signed in, these pages show "
            "your role's view; without signing in they show the public view."
        }
        @if let Some(problem) = problem {
            p.problem role="alert" { (problem) }
        }
        form.signin method="post" action="/sign-in" {
            input type="hidden" name="next" value=(local_path(next));
            label for="credential" { "API key or token" }
            input #credential type="password" name="credential" required autocomplete="current-password"
                spellcheck="false";
            button type="submit" { "Sign in" }
        }
        p.small {
            "The key is kept in a cookie that only this hub's pages read (not the GraphQL API "
            "or the datasets, which take the " code { "Authorization" } " header), until you "
            "sign out or close the browser."
        }
    }
}

/// `GET /sign-in`.
pub async fn form(query: web::Query<Next>) -> HttpResponse {
    page_html(
        StatusCode::OK,
        layout::page("Sign in", &public(), form_markup(&query.next, None)),
    )
}

/// The 401 page of credentials that do not verify (see [`super::caller`]).
pub fn refused(req: &HttpRequest, reason: &str) -> HttpResponse {
    let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
    page_html(
        StatusCode::UNAUTHORIZED,
        layout::page(
            "Sign in",
            &public(),
            form_markup(
                next,
                Some(&format!("Your credentials were not accepted: {reason}")),
            ),
        ),
    )
}

/// Whether a form post comes from this hub's own page: browsers send `Origin` with every
/// POST; when it is there it must be this host.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let info = req.connection_info();
    origin.to_str().ok().is_some_and(|o| {
        o.split_once("://")
            .is_some_and(|(scheme, host)| scheme == info.scheme() && host == info.host())
    })
}

/// The cookie, with the rules every setting of it shares.
fn cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    let mut c = Cookie::new(COOKIE, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(req.connection_info().scheme() == "https");
    c
}

/// The cookie that removes the sign-in cookie.
pub fn removal(req: &HttpRequest) -> Cookie<'static> {
    let mut c = cookie(req, String::new());
    c.make_removal();
    c
}

/// `POST /sign-in`.
pub async fn submit(
    req: HttpRequest,
    endpoint: web::Data<Endpoint>,
    body: web::Form<SignIn>,
) -> HttpResponse {
    if !same_origin(&req) {
        return super::message(
            &public(),
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            "The sign-in form was sent from another site.",
        );
    }
    let credential = body.credential.trim();
    let problem = if credential.is_empty() {
        Some("Paste a key or token.".to_owned())
    } else if !credential
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
    {
        Some("That is not a key or token: it has spaces or characters keys never have.".to_owned())
    } else if credential.len() > MAX_CREDENTIAL {
        Some(format!(
            "That token is longer than a browser keeps in a cookie ({MAX_CREDENTIAL} characters); \
             ask your identity provider for a shorter one, or use an API key."
        ))
    } else {
        match endpoint
            .access()
            .principal(Some(format!("Bearer {credential}").as_bytes()))
            .await
        {
            Ok(principal) => {
                // The role only: a token's subject may be an e-mail address.
                tracing::info!(role = %principal.role, "signed in to the pages");
                let mut response = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, local_path(&body.next)))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
                let _ = response.add_cookie(&cookie(&req, credential.to_owned()));
                return response;
            }
            Err(refused) => {
                endpoint.access().record_refusal(&refused).await;
                Some(format!("Not accepted: {}", refused.message))
            }
        }
    };
    page_html(
        StatusCode::UNAUTHORIZED,
        layout::page(
            "Sign in",
            &public(),
            form_markup(&body.next, problem.as_deref()),
        ),
    )
}

/// `POST /sign-out`.
pub async fn sign_out(req: HttpRequest) -> HttpResponse {
    if !same_origin(&req) {
        return super::message(
            &public(),
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "The sign-out form was sent from another site.",
        );
    }
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    let _ = response.add_cookie(&removal(&req));
    response
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/clusters/a?x=1"), "/clusters/a?x=1");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "",
            "x",
            "/\\evil",
        ] {
            assert_eq!(local_path(bad), "/", "{bad}");
        }
    }
}
