//! The frame every page shares: head, navigation, who is signed in, footer.

use maud::{DOCTYPE, Markup, html};

use super::Caller;
use crate::graphql::principal::Role;

/// A whole page around `main`.
pub fn page(title: &str, caller: &Caller, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Cluster Data Hub" }
                link rel="stylesheet" href=(super::stylesheet());
                // No favicon request (it would be a 404 in every browser's console).
                link rel="icon" href="data:,";
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header.site {
                    nav aria-label="Site" {
                        a.brand href="/" { "Cluster Data Hub" }
                        a href="/" { "Programmes" }
                        a href="/firms" { "Firms" }
                        a href="/datasets" { "Datasets" }
                        a href="/graphql" { "GraphQL" }
                    }
                    (who(caller))
                }
                main #main { (main) }
                footer.site {
                    p {
                        "Figures are read through the hub's GraphQL API with your role's view: "
                        (view_of(&caller.principal)) ". "
                        "Each chart names its period and source; its numbers are in the table "
                        "under it and in the dataset it links to."
                    }
                }
            }
        }
    }
}

/// What a caller sees, in a few words.
pub fn view_of(p: &crate::graphql::principal::Principal) -> String {
    let personal = if p.pii {
        "with personal data"
    } else {
        "without personal data"
    };
    match p.role {
        Role::Public => "the public view (aggregates with small groups withheld, the firm \
                         directory without figures or identifiers)"
            .to_owned(),
        role => format!("the {role} view (firm figures and identifiers, {personal})"),
    }
}

/// The signed-in caller and the sign-in or sign-out control.
fn who(caller: &Caller) -> Markup {
    let p = &caller.principal;
    html! {
        div.who {
            @if p.role == Role::Public {
                span { "Public view" }
                " "
                a href="/sign-in" { "Sign in" }
            } @else {
                span { "Signed in as " strong { (p.actor) } " (" (p.role) @if p.pii { ", personal data" } ")" }
                @if caller.by_cookie {
                    form.inline method="post" action="/sign-out" {
                        button type="submit" { "Sign out" }
                    }
                }
            }
        }
    }
}
