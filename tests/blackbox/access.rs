//! Access for partner agencies, through the real interfaces: `hub keys` on the command
//! line, `Authorization: Bearer` over HTTP with API keys and JWTs (HS256, RS256 from a PEM
//! file, ES256 from a JWKS document), what each role sees of the same query, the admin
//! mutations and the audit trail, on every engine.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::support::{RunningHub, TestDb, create_key, engines, hub, output, spawn};

const GRJ: &str = "application/graphql-response+json";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/blackbox/fixtures/jwt")
        .join(name)
}

/// POSTs `query` with `Authorization: <auth>` (verbatim) when given: status, body, and the
/// `WWW-Authenticate` header.
fn ask(hub: &RunningHub, auth: Option<&str>, query: &str) -> (u16, Value, Option<String>) {
    ask_header(hub, auth, query, "www-authenticate")
}

/// [`ask`], returning the response header `name` instead.
fn ask_header(
    hub: &RunningHub,
    auth: Option<&str>,
    query: &str,
    name: &str,
) -> (u16, Value, Option<String>) {
    let url = hub.url("/graphql");
    let mut request = hub
        .agent()
        .post(&url)
        .header("Accept", GRJ)
        .header("Content-Type", "application/json");
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let mut response = request
        .send(json!({ "query": query }).to_string().as_bytes())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = response.status().as_u16();
    let header = response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap(), header)
}

/// `hub serve` or `hub demo` on `db`, listening.
fn start(db: &TestDb, command: &str) -> RunningHub {
    start_with(db, command, &[])
}

/// [`start`] with more environment.
fn start_with(db: &TestDb, command: &str, env: &[(&str, &str)]) -> RunningHub {
    let mut cmd = hub(db);
    cmd.arg(command).envs(env.iter().copied());
    spawn(cmd)
}

fn bearer(credential: &str) -> String {
    format!("Bearer {credential}")
}

/// The viewer as `credential` makes it, or the 401's message.
fn viewer(hub: &RunningHub, credential: &str) -> Result<Value, String> {
    let (status, body, challenge) = ask(
        hub,
        Some(&bearer(credential)),
        "{ viewer { role pii actor } }",
    );
    match status {
        200 => Ok(body["data"]["viewer"].clone()),
        401 => {
            assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            assert!(body.get("data").is_none(), "{body}");
            assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
            Err(body["errors"][0]["message"].as_str().unwrap().to_owned())
        }
        other => panic!("status {other}: {body}"),
    }
}

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line_and_honoured_at_once() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        // Without the key cache, a change made by another process counts from the next
        // request (with it, within `access.key_cache_ms`: see the next test).
        let server = start_with(&db, "serve", &[("HUB__ACCESS__KEY_CACHE_MS", "0")]);

        // Created while the server runs: honoured from the next request.
        let out = output(hub(&db).args([
            "keys", "create", "--name", "ministry", "--role", "analyst", "--pii",
        ]));
        assert!(out.status.success(), "{engine}: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let key = stdout.split_whitespace().last().unwrap().to_owned();
        assert!(
            key.starts_with("hub_") && key.len() > 50,
            "{engine}: {stdout}"
        );
        assert!(stdout.contains("shown this once"), "{engine}: {stdout}");
        let v = viewer(&server, &key).unwrap();
        assert_eq!(
            v,
            json!({"role": "ANALYST", "pii": true, "actor": "key:ministry"})
        );

        // Only the hash is stored, and lists show the prefix, never the key.
        let hash = db.query_scalar("SELECT secret_hash FROM api_keys WHERE name = 'ministry'");
        assert_eq!(hash.len(), 64, "{engine}");
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM api_keys WHERE secret_hash = '{key}'"
            )),
            0
        );
        let list = output(hub(&db).args(["keys", "list"]));
        let listed = String::from_utf8(list.stdout).unwrap();
        let prefix = &key[..12];
        assert!(
            listed.contains("ministry") && listed.contains(prefix),
            "{engine}: {listed}"
        );
        assert!(
            !listed.contains(&key[13..]),
            "{engine}: the secret is listed: {listed}"
        );
        let list = output(hub(&db).args(["keys", "list", "--json"]));
        let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(listed[0]["name"], "ministry");
        assert_eq!(listed[0]["prefix"], prefix);
        assert_eq!(listed[0]["role"], "analyst");
        assert_eq!(listed[0]["state"], "active");

        // A name is taken once; bad names and roles are refused with a reason.
        let again =
            output(hub(&db).args(["keys", "create", "--name", "ministry", "--role", "public"]));
        assert!(!again.status.success());
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("exists already"),
            "{again:?}"
        );
        let bad = output(hub(&db).args(["keys", "create", "--name", "x", "--role", "owner"]));
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("admin, curator, analyst or public"));

        // Revoked while the server runs: refused from the next request, with the reason.
        let out = output(hub(&db).args(["keys", "revoke", "ministry"]));
        assert!(out.status.success(), "{engine}: {out:?}");
        let refused = viewer(&server, &key).unwrap_err();
        assert!(
            refused.contains("`ministry` was revoked"),
            "{engine}: {refused}"
        );
        let listed: Value =
            serde_json::from_slice(&output(hub(&db).args(["keys", "list", "--json"])).stdout)
                .unwrap();
        assert_eq!(listed[0]["state"], "revoked");

        // Expired keys are refused; so are unknown keys and malformed credentials, never
        // read as the public caller.
        let temp = create_key(&db, "temporary", "analyst", &["--expires", "2099-12-31"]);
        assert_eq!(viewer(&server, &temp).unwrap()["role"], "ANALYST");
        db.query("UPDATE api_keys SET expires_at = created_at WHERE name = 'temporary'");
        let refused = viewer(&server, &temp).unwrap_err();
        assert!(
            refused.contains("`temporary` expired"),
            "{engine}: {refused}"
        );
        let past = output(hub(&db).args([
            "keys",
            "create",
            "--name",
            "late",
            "--role",
            "analyst",
            "--expires",
            "2001-01-01",
        ]));
        assert!(!past.status.success(), "{engine}");
        let unknown = format!("{}x", &temp[..temp.len() - 1]);
        assert!(viewer(&server, &unknown).unwrap_err().contains("not known"));
        for auth in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-credential"] {
            let (status, body, _) = ask(&server, Some(auth), "{ viewer { role } }");
            assert_eq!(status, 401, "{engine}, {auth}: {body}");
        }

        // Without credentials: the public caller.
        let (status, body, _) = ask(&server, None, "{ viewer { role pii actor } }");
        assert_eq!(status, 200);
        assert_eq!(
            body["data"]["viewer"],
            json!({"role": "PUBLIC", "pii": false, "actor": "anonymous"})
        );

        // The audit trail has the key's life and the refusals, never a key.
        let events = db.query("SELECT kind || ' ' || actor FROM audit_events ORDER BY id");
        for expected in [
            "key.created cli",
            "key.revoked cli",
            "auth.denied key:ministry",
            "auth.denied key:temporary",
            "auth.denied anonymous",
        ] {
            assert!(
                events.lines().any(|l| l == expected),
                "{engine}: {expected} in\n{events}"
            );
        }
        let all = db.query("SELECT coalesce(CAST(detail AS TEXT), '') FROM audit_events");
        assert!(
            !all.contains(&key[13..]) && !all.contains(&temp[13..]),
            "{engine}: {all}"
        );
    }
}

/// With the key cache on, an accepted key is not read again for `access.key_cache_ms`: a
/// revocation by another process is seen once that time has passed, one through the
/// serving instance (`revokeApiKey`) from the next request.
#[test]
fn an_accepted_key_is_trusted_for_the_cache_time_and_forgotten_when_revoked_here() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let admin = create_key(&db, "root", "admin", &[]);
        let analyst = create_key(&db, "reader", "analyst", &[]);
        // Ten minutes: longer than the test, so what the cache keeps is not a race.
        let server = start_with(&db, "serve", &[("HUB__ACCESS__KEY_CACHE_MS", "600000")]);
        assert_eq!(viewer(&server, &analyst).unwrap()["role"], "ANALYST");

        // Revoked by another process: the instance still trusts what it read.
        let out = output(
            hub(&db)
                .env("HUB__ACCESS__KEY_CACHE_MS", "600000")
                .args(["keys", "revoke", "reader"]),
        );
        assert!(out.status.success(), "{engine}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("within 600000 ms"),
            "{engine}: {out:?}"
        );
        assert_eq!(
            viewer(&server, &analyst).unwrap()["role"],
            "ANALYST",
            "{engine}: the cache was not used"
        );
        // An expiry edited in the database after the key was accepted: not read again.
        assert_eq!(viewer(&server, &admin).unwrap()["role"], "ADMIN");
        db.query("UPDATE api_keys SET expires_at = created_at WHERE name = 'root'");
        assert_eq!(viewer(&server, &admin).unwrap()["role"], "ADMIN");

        // A revocation through this instance forgets every key it kept: the key revoked
        // elsewhere and the expired one are read again and refused.
        let third = create_key(&db, "third", "analyst", &[]);
        assert_eq!(viewer(&server, &third).unwrap()["role"], "ANALYST");
        let (_, body, _) = ask(
            &server,
            Some(&bearer(&admin)),
            "mutation { revokeApiKey(name: \"third\") { state } }",
        );
        assert_eq!(
            body["data"]["revokeApiKey"]["state"], "revoked",
            "{engine}: {body}"
        );
        assert!(
            viewer(&server, &third)
                .unwrap_err()
                .contains("`third` was revoked")
        );
        assert!(
            viewer(&server, &analyst)
                .unwrap_err()
                .contains("`reader` was revoked"),
            "{engine}"
        );
        assert!(
            viewer(&server, &admin)
                .unwrap_err()
                .contains("`root` expired")
        );
    }
}

/// Each role, and the analyst with `pii`, asks the same query of the demo.
#[test]
fn every_role_sees_what_it_may_of_the_same_query() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let analyst = create_key(&db, "analyst", "analyst", &[]);
        let pii = create_key(&db, "officer", "analyst", &["--pii"]);
        let curator = create_key(&db, "curator", "curator", &[]);
        let admin = create_key(&db, "admin", "admin", &[]);
        let server = start(&db, "demo");
        let query = "{ viewer { role } \
            firms(first: 100) { totalCount nodes { name district employeesTotal identifiers { scheme value } } } \
            participations(first: 50) { totalCount nodes { person { sex fullName phone } } } \
            tradeFlows(first: 3) { totalCount } }";
        let mut answers = Vec::new();
        for (who, credential) in [
            ("public", None),
            ("analyst", Some(&analyst)),
            ("pii", Some(&pii)),
            ("curator", Some(&curator)),
            ("admin", Some(&admin)),
        ] {
            let auth = credential.map(|c| bearer(c));
            let (status, body, _) = ask(&server, auth.as_deref(), query);
            assert_eq!(status, 200, "{engine}, {who}: {body}");
            assert!(body.get("errors").is_none(), "{engine}, {who}: {body}");
            answers.push((who, body["data"].clone()));
        }
        for (who, data) in &answers {
            let firms = data["firms"]["nodes"].as_array().unwrap();
            assert!(
                !firms.is_empty(),
                "{engine}, {who}: the directory is public"
            );
            let figures = firms
                .iter()
                .filter(|f| !f["employeesTotal"].is_null())
                .count();
            let identifiers = firms
                .iter()
                .filter(|f| !f["identifiers"].as_array().unwrap().is_empty())
                .count();
            let people = data["participations"]["nodes"].as_array().unwrap();
            let persons = people.iter().filter(|p| !p["person"].is_null()).count();
            let names = people
                .iter()
                .filter(|p| !p["person"]["fullName"].is_null())
                .count();
            assert!(
                data["tradeFlows"]["totalCount"].as_i64().unwrap() > 0,
                "{who}: trade is published"
            );
            match *who {
                "public" => {
                    assert_eq!(
                        (figures, identifiers, persons, names),
                        (0, 0, 0, 0),
                        "{engine}: {data}"
                    );
                }
                "pii" => {
                    assert!(
                        figures > 0 && identifiers > 0 && persons > 0 && names > 0,
                        "{engine}: {data}"
                    );
                }
                _ => {
                    assert!(
                        figures > 0 && identifiers > 0 && persons > 0,
                        "{engine}, {who}: {data}"
                    );
                    assert_eq!(names, 0, "{engine}, {who}: names need the pii scope");
                }
            }
        }
        // The same firms for everyone: what differs is what is shown of them.
        let public_names: Vec<&Value> = answers[0].1["firms"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["name"])
            .collect();
        let admin_names: Vec<&Value> = answers[4].1["firms"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["name"])
            .collect();
        assert_eq!(public_names, admin_names, "{engine}");

        // Import runs need an analyst; keys and the audit trail an admin.
        let (_, body, _) = ask(&server, None, "{ importRuns(first: 1) { totalCount } }");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{engine}: {body}"
        );
        let (_, body, _) = ask(
            &server,
            Some(&bearer(&analyst)),
            "{ importRuns(first: 1) { totalCount } }",
        );
        assert!(
            body["data"]["importRuns"]["totalCount"].as_i64().unwrap() > 0,
            "{engine}: {body}"
        );
        for credential in [None, Some(&analyst), Some(&curator)] {
            let auth = credential.map(|c| bearer(c));
            let (_, body, _) = ask(&server, auth.as_deref(), "{ apiKeys { name } }");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{engine}: {body}"
            );
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("needs the admin role"),
                "{engine}: {body}"
            );
        }
        let (_, body, _) = ask(
            &server,
            Some(&bearer(&admin)),
            "{ apiKeys { name role pii state } }",
        );
        assert_eq!(
            body["data"]["apiKeys"].as_array().unwrap().len(),
            4,
            "{engine}: {body}"
        );
        assert_eq!(
            body["data"]["apiKeys"][1],
            json!({"name": "officer", "role": "ANALYST", "pii": true, "state": "active"})
        );
    }
}

#[test]
fn admins_manage_keys_over_graphql_and_read_the_audit_trail() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let admin = create_key(&db, "root", "admin", &[]);
        let server = start(&db, "serve");
        let as_admin = Some(bearer(&admin));
        let (_, body, _) = ask(
            &server,
            as_admin.as_deref(),
            "mutation { createApiKey(name: \"bi-tool\", role: CURATOR, expires: \"2099-01-31\") { secret apiKey { name prefix role state expiresAt } } }",
        );
        let created = &body["data"]["createApiKey"];
        let secret = created["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("{engine}: {body}"));
        assert!(secret.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));
        assert_eq!(created["apiKey"]["role"], "CURATOR");
        assert_eq!(
            created["apiKey"]["expiresAt"], "2099-02-01T00:00:00+00:00",
            "{engine}: through the last day"
        );
        assert_eq!(viewer(&server, secret).unwrap()["role"], "CURATOR");

        // A curator may not make keys.
        let (_, body, _) = ask(
            &server,
            Some(&bearer(secret)),
            "mutation { createApiKey(name: \"mine\", role: ADMIN) { secret } }",
        );
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{engine}: {body}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM api_keys WHERE name = 'mine'"),
            0
        );

        let (_, body, _) = ask(
            &server,
            as_admin.as_deref(),
            "mutation { revokeApiKey(name: \"bi-tool\") { state revokedAt } }",
        );
        assert_eq!(
            body["data"]["revokeApiKey"]["state"], "revoked",
            "{engine}: {body}"
        );
        assert!(viewer(&server, secret).is_err());

        let (_, body, _) = ask(
            &server,
            as_admin.as_deref(),
            "{ auditEvents(first: 10) { sequence kind actor detail } }",
        );
        let events = body["data"]["auditEvents"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        let kinds: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e["kind"].as_str().unwrap(), e["actor"].as_str().unwrap()))
            .collect();
        // Newest first.
        assert_eq!(
            kinds,
            [
                ("auth.denied", "key:bi-tool"),
                ("key.revoked", "key:root"),
                ("access.denied", "key:bi-tool"),
                ("key.created", "key:root"),
                ("key.created", "cli"),
            ],
            "{engine}: {body}"
        );
        assert_eq!(events[3]["detail"]["role"], "curator");
        let older = events[1]["sequence"].as_i64().unwrap();
        let (_, body, _) = ask(
            &server,
            as_admin.as_deref(),
            &format!("{{ auditEvents(before: {older}, kind: \"key.created\") {{ actor }} }}"),
        );
        assert_eq!(
            body["data"]["auditEvents"],
            json!([{"actor": "key:root"}, {"actor": "cli"}])
        );
    }
}

/// Claims of a test token.
fn claims(role: Option<&str>, offset_exp: i64, extra: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({ "sub": "officer-7", "iss": "https://idp.example.pk", "aud": "cluster-hub", "exp": now + offset_exp, "iat": now });
    if let Some(role) = role {
        c["role"] = role.into();
    }
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

const SECRET: &str = "0123456789abcdef0123456789abcdef-test-only";

#[test]
fn jwts_from_an_identity_provider_are_verified_and_forgeries_refused() {
    let db = TestDb::fresh(crate::support::Engine::Sqlite);
    let server = spawn({
        let mut cmd = hub(&db);
        cmd.arg("demo")
            .env("HUB__ACCESS__JWT__HS256_SECRET", SECRET)
            .env(
                "HUB__ACCESS__JWT__PUBLIC_KEY_FILES",
                fixture("rs256-public.pem"),
            )
            .env("HUB__ACCESS__JWT__JWKS_FILE", fixture("jwks.json"))
            .env("HUB__ACCESS__JWT__ISSUER", "https://idp.example.pk")
            .env("HUB__ACCESS__JWT__AUDIENCE", "cluster-hub");
        cmd
    });
    let hs = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    let rs =
        EncodingKey::from_rsa_pem(&std::fs::read(fixture("rs256-private.pem")).unwrap()).unwrap();
    let es =
        EncodingKey::from_ec_pem(&std::fs::read(fixture("es256-private.pem")).unwrap()).unwrap();

    // Each algorithm with its own key.
    let ok = claims(Some("analyst"), 600, json!({"scope": "read pii"}));
    for (alg, key, kid) in [
        (Algorithm::HS256, &hs, None),
        (Algorithm::RS256, &rs, None),
        (Algorithm::ES256, &es, Some("agency-es256")),
    ] {
        let token = sign(alg, key, kid, &ok);
        assert_eq!(
            viewer(&server, &token).unwrap(),
            json!({"role": "ANALYST", "pii": true, "actor": "jwt:officer-7"}),
            "{alg:?}"
        );
    }
    // A clusters claim scopes the token.
    let scoped = sign(
        Algorithm::HS256,
        &hs,
        None,
        &claims(
            Some("analyst"),
            600,
            json!({"clusters": ["lahore-garments"]}),
        ),
    );
    let (_, body, _) = ask(
        &server,
        Some(&bearer(&scoped)),
        "{ viewer { clusters } clusters { nodes { slug } } }",
    );
    assert_eq!(
        body["data"],
        json!({"viewer": {"clusters": ["lahore-garments"]}, "clusters": {"nodes": [{"slug": "lahore-garments"}]}}),
        "{body}"
    );
    // Roles as an array: the highest known one counts.
    let token = sign(
        Algorithm::HS256,
        &hs,
        None,
        &claims(None, 600, json!({"role": ["viewer", "curator", "analyst"]})),
    );
    assert_eq!(viewer(&server, &token).unwrap()["role"], "CURATOR");

    let refused = |token: &str, why: &str| {
        let message = viewer(&server, token).expect_err(why);
        assert!(message.contains(why), "{why}: {message}");
    };
    // Expired (beyond the leeway), not yet valid, wrong issuer or audience, no role.
    refused(
        &sign(
            Algorithm::HS256,
            &hs,
            None,
            &claims(Some("admin"), -120, json!({})),
        ),
        "expired",
    );
    let future = chrono::Utc::now().timestamp() + 3600;
    refused(
        &sign(
            Algorithm::HS256,
            &hs,
            None,
            &claims(Some("admin"), 7200, json!({"nbf": future})),
        ),
        "not valid yet",
    );
    refused(
        &sign(
            Algorithm::HS256,
            &hs,
            None,
            &claims(Some("admin"), 600, json!({"iss": "https://evil.example"})),
        ),
        "issuer",
    );
    refused(
        &sign(
            Algorithm::HS256,
            &hs,
            None,
            &claims(Some("admin"), 600, json!({"aud": "another-app"})),
        ),
        "audience",
    );
    refused(
        &sign(Algorithm::HS256, &hs, None, &claims(None, 600, json!({}))),
        "no known role",
    );
    let mut no_exp = claims(Some("admin"), 600, json!({}));
    no_exp.as_object_mut().unwrap().remove("exp");
    refused(&sign(Algorithm::HS256, &hs, None, &no_exp), "exp");

    // Tampered: an analyst's token with its payload changed to admin.
    let token = sign(Algorithm::RS256, &rs, None, &ok);
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged_claims = b64.encode(claims(Some("admin"), 600, json!({"scope": "pii"})).to_string());
    refused(
        &format!("{}.{}.{}", parts[0], forged_claims, parts[2]),
        "signature",
    );

    // `alg: none`, unsigned.
    let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    refused(
        &format!("{none_header}.{forged_claims}."),
        "no accepted algorithm",
    );

    // HS256 signed with the RS256 public key as the secret: never checked against a
    // public key, and not the configured secret.
    let public_pem = std::fs::read(fixture("rs256-public.pem")).unwrap();
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public_pem).unwrap(),
        None,
        &claims(Some("admin"), 600, json!({})),
    );
    refused(&confused, "signature");

    // An ES256 token naming a key the JWKS document does not hold.
    refused(
        &sign(Algorithm::ES256, &es, Some("retired-key"), &ok),
        "no key is configured",
    );
}

#[test]
fn without_an_identity_provider_jwts_are_refused() {
    let db = TestDb::fresh(crate::support::Engine::Sqlite);
    let server = start(&db, "serve");
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        None,
        &claims(Some("admin"), 600, json!({})),
    );
    assert!(
        viewer(&server, &token)
            .unwrap_err()
            .contains("no identity provider")
    );
}

/// Whether no line of the table (groups sharing every key but one) has exactly one
/// withheld group.
fn no_lone_withheld(groups: &[(Vec<String>, bool)]) -> bool {
    let dims = groups.first().map_or(0, |g| g.0.len());
    (0..dims).all(|d| {
        let mut lines: std::collections::HashMap<Vec<&String>, usize> = Default::default();
        for (keys, withheld) in groups {
            let line: Vec<&String> = keys
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != d)
                .map(|(_, k)| k)
                .collect();
            *lines.entry(line).or_default() += usize::from(*withheld);
        }
        lines.values().all(|n| *n != 1)
    })
}

#[test]
fn the_public_sees_statistics_with_small_groups_withheld_and_no_way_round() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let analyst = create_key(&db, "analyst", "analyst", &[]);
        let server = start(&db, "demo");
        let as_analyst = Some(bearer(&analyst));
        let firms_q = "{ firmStatistics(groupBy: [DISTRICT, SIZE_CLASS]) { notes groups { keys { district sizeClass } firms firmsWithEmployees employees femaleEmployees withheld } } }";
        let (_, full, _) = ask(&server, as_analyst.as_deref(), firms_q);
        let (_, public, _) = ask(&server, None, firms_q);
        let full = full["data"]["firmStatistics"]["groups"]
            .as_array()
            .unwrap()
            .clone();
        let shown = &public["data"]["firmStatistics"];
        let groups = shown["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("{engine}: {public}"));
        assert_eq!(groups.len(), full.len(), "{engine}");
        let mut table = Vec::new();
        for (p, a) in groups.iter().zip(&full) {
            assert_eq!(p["keys"], a["keys"], "{engine}");
            assert_eq!(
                p["firms"], a["firms"],
                "{engine}: counts of firms are public"
            );
            assert_eq!(a["withheld"], false, "{engine}: analysts see every figure");
            let contributing = a["firmsWithEmployees"].as_i64().unwrap();
            let withheld = p["withheld"].as_bool().unwrap();
            if contributing > 0 && contributing < 5 {
                assert!(withheld, "{engine}: a group of {contributing} firms: {p}");
            }
            if withheld {
                assert!(
                    p["employees"].is_null() && p["femaleEmployees"].is_null(),
                    "{engine}: {p}"
                );
            } else {
                assert_eq!(
                    (&p["employees"], &p["femaleEmployees"]),
                    (&a["employees"], &a["femaleEmployees"]),
                    "{engine}"
                );
            }
            let keys = ["district", "sizeClass"]
                .map(|k| p["keys"][k].to_string())
                .to_vec();
            table.push((keys, withheld));
        }
        let withheld = table.iter().filter(|(_, w)| *w).count();
        assert!(
            withheld >= 2,
            "{engine}: the demo has small groups: {shown}"
        );
        assert!(
            no_lone_withheld(&table),
            "{engine}: a lone withheld group: {table:?}"
        );
        assert!(
            shown["notes"].as_array().unwrap().iter().any(|n| n
                .as_str()
                .unwrap()
                .contains(&format!("{withheld} group(s) withheld"))),
            "{engine}: {shown}"
        );

        // Trainings likewise, over the firms the participants came from.
        let training_q = "{ trainingStatistics(groupBy: [CLUSTER, SEX]) { groups { keys { cluster sex } firms participations persons withheld } } }";
        let (_, full, _) = ask(&server, as_analyst.as_deref(), training_q);
        let (_, public, _) = ask(&server, None, training_q);
        let full = full["data"]["trainingStatistics"]["groups"]
            .as_array()
            .unwrap()
            .clone();
        let groups = public["data"]["trainingStatistics"]["groups"]
            .as_array()
            .unwrap()
            .clone();
        let mut table = Vec::new();
        for (p, a) in groups.iter().zip(&full) {
            assert_eq!(p["firms"], a["firms"], "{engine}");
            let contributing = a["firms"].as_i64().unwrap();
            let withheld = p["withheld"].as_bool().unwrap();
            if contributing > 0 && contributing < 5 {
                assert!(withheld, "{engine}: {p}");
            }
            if withheld {
                assert!(
                    p["participations"].is_null() && p["persons"].is_null(),
                    "{engine}: {p}"
                );
            } else {
                assert_eq!(p["participations"], a["participations"], "{engine}");
            }
            table.push((
                ["cluster", "sex"]
                    .map(|k| p["keys"][k].to_string())
                    .to_vec(),
                withheld,
            ));
        }
        assert!(no_lone_withheld(&table), "{engine}: {table:?}");

        // No way round: filters, `having` and orders on what is withheld are refused to
        // the public, and so are filters and orders on hidden firm fields in lists.
        for query in [
            "{ firmStatistics(filter: {name: {eq: \"x\"}}) { groups { employees } } }",
            "{ firmStatistics(groupBy: [DISTRICT], having: {firms: {gte: 1}}) { groups { employees } } }",
            "{ firmStatistics(groupBy: [DISTRICT], orderBy: [{field: EMPLOYEES}]) { groups { employees } } }",
            "{ trainingStatistics(filter: {sex: {eq: \"female\"}}) { groups { persons } } }",
            "{ firms(filter: {employeesTotal: {gte: 100}}) { totalCount } }",
            "{ firms(filter: {or: [{name: {eq: \"x\"}}, {turnoverPkr: {gte: 1}}]}) { totalCount } }",
            "{ firms(orderBy: [{field: EMPLOYEES_TOTAL, direction: DESC}], first: 1) { nodes { name } } }",
            "{ firms(filter: {identifier: {scheme: {eq: \"PK-NTN\"}}}) { totalCount } }",
            "{ clusters { nodes { firms(filter: {exportsUsd: {gte: 1}}) { totalCount } } } }",
        ] {
            let (status, body, _) = ask(&server, None, query);
            assert_eq!(status, 200, "{engine}: {query}: {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{engine}: {query}: {body}"
            );
            // An analyst may.
            let (_, body, _) = ask(&server, as_analyst.as_deref(), query);
            assert!(body.get("errors").is_none(), "{engine}: {query}: {body}");
        }
        // Variables are read as bound; an enum given in the variables arrives as a string.
        let url = server.url("/graphql");
        for (query, variables) in [
            (
                "query($f: FirmFilter) { firms(filter: $f) { totalCount } }",
                json!({"f": {"employeesTotal": {"gte": 100}}}),
            ),
            (
                "query($o: [FirmOrder!]) { firms(orderBy: $o, first: 1) { nodes { name } } }",
                json!({"o": [{"field": "EMPLOYEES_TOTAL", "direction": "DESC"}]}),
            ),
            (
                "query($f: FirmOrderField!) { firms(orderBy: [{field: $f}], first: 1) { nodes { name } } }",
                json!({"f": "EMPLOYEES_TOTAL"}),
            ),
            (
                "query($o: [FirmStatisticsOrder!]) { firmStatistics(groupBy: [DISTRICT], orderBy: $o) { groups { employees } } }",
                json!({"o": [{"field": "EMPLOYEES"}]}),
            ),
        ] {
            let mut response = server
                .agent()
                .post(&url)
                .header("Content-Type", "application/json")
                .send(
                    json!({"query": query, "variables": variables})
                        .to_string()
                        .as_bytes(),
                )
                .unwrap();
            let body: Value =
                serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{engine}: {query} {variables}: {body}"
            );
        }
    }
}

#[test]
fn an_erased_person_stays_erased_when_the_same_files_are_imported_again() {
    use base64::Engine as _;
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo");
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let officer = create_key(&db, "officer", "analyst", &["--pii"]);
        let server = start(&db, "demo");
        // A trainee with a name and a phone, known from the attendance sheets only.
        let row = db.query_scalar(
            "SELECT min(p.id) FROM persons p WHERE p.full_name IS NOT NULL \
             AND p.phone IS NOT NULL AND p.merged_into_id IS NULL \
             AND EXISTS (SELECT 1 FROM participations x WHERE x.person_id = p.id) \
             AND NOT EXISTS (SELECT 1 FROM person_source_records r JOIN sources s \
                 ON s.id = r.source_id WHERE r.person_id = p.id AND s.code <> 'cdi-training')",
        );
        let row: i64 = row
            .parse()
            .unwrap_or_else(|_| panic!("{engine}: no such trainee"));
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Person:{row}"));
        let participations = |db: &TestDb| {
            db.count(&format!(
                "SELECT count(*) FROM participations WHERE person_id = {row}"
            ))
        };
        let before = participations(&db);
        let personal = |db: &TestDb| {
            db.query(&format!(
                "SELECT coalesce(full_name, '') || coalesce(phone, '') || coalesce(email, '') \
                 || coalesce(cnic_hash, '') || coalesce(cnic_last4, '') FROM persons WHERE id = {row} \
                 UNION ALL SELECT coalesce(full_name, '') || coalesce(phone, '') || \
                 coalesce(email, '') || coalesce(cnic_hash, '') || coalesce(cnic_last4, '') \
                 FROM person_source_records WHERE person_id = {row}"
            ))
        };
        assert!(!personal(&db).trim().is_empty(), "{engine}");
        let name_query =
            format!("{{ node(id: \"{id}\") {{ ... on Person {{ fullName phone sex }} }} }}");
        let (_, body, _) = ask(&server, Some(&bearer(&officer)), &name_query);
        assert!(
            body["data"]["node"]["fullName"].is_string(),
            "{engine}: {body}"
        );
        let sex = body["data"]["node"]["sex"].clone();

        let out = output(hub(&db).args(["persons", "erase", &id]));
        assert!(out.status.success(), "{engine}: {out:?}");
        let check = |db: &TestDb, when: &str| {
            assert!(
                personal(db).lines().all(|l| l.trim().is_empty()),
                "{engine}, {when}: {}",
                personal(db)
            );
            assert_eq!(
                db.count(&format!(
                    "SELECT count(*) FROM person_source_records WHERE person_id = {row} \
                     AND erased_at IS NULL"
                )),
                0,
                "{engine}, {when}: every record is marked"
            );
            assert_eq!(participations(db), before, "{engine}, {when}: counts stay");
            let (_, body, _) = ask(&server, Some(&bearer(&officer)), &name_query);
            let node = &body["data"]["node"];
            assert!(
                node["fullName"].is_null() && node["phone"].is_null(),
                "{engine}, {when}: {body}"
            );
            assert_eq!(node["sex"], sex, "{engine}, {when}: sex stays for counts");
        };
        check(&db, "erased");

        // The same attendance file again: nothing comes back.
        let out = output(
            hub(&db)
                .arg("import")
                .arg(demo.join("training_attendance_2022_2024.xlsx"))
                .arg("--mapping")
                .arg(demo.join("mappings/training_attendance_2022_2024.toml"))
                .arg("--json"),
        );
        assert!(
            out.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        check(&db, "re-imported");

        // Recorded, without the person's data.
        let audit = db.query("SELECT actor || ' ' || CAST(detail AS TEXT) FROM audit_events WHERE kind = 'person.erased'");
        assert!(audit.starts_with("cli "), "{engine}: {audit}");
        assert!(audit.contains(&row.to_string()), "{engine}: {audit}");
        // An unknown person is an error that says so.
        let out = output(hub(&db).args(["persons", "erase", "999999999"]));
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no person has the id"),
            "{out:?}"
        );
    }
}

#[test]
fn each_role_has_its_own_limits_rate_and_introspection() {
    let db = TestDb::fresh(crate::support::Engine::Sqlite);
    let analyst = create_key(&db, "analyst", "analyst", &[]);
    let as_analyst = bearer(&analyst);
    let server = spawn({
        let mut cmd = hub(&db);
        cmd.arg("serve")
            .env("HUB__ACCESS__ROLES__PUBLIC__MAX_PAGE_SIZE", "10")
            .env("HUB__ACCESS__ROLES__PUBLIC__INTROSPECTION", "false")
            .env("HUB__ACCESS__ROLES__ANALYST__MAX_DEPTH", "3")
            .env("HUB__ACCESS__ROLES__ANALYST__REQUESTS_PER_MINUTE", "4");
        cmd
    });
    let code = |body: &Value| {
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    // Page size: the public's 10, the analyst's the default 100.
    let page = "{ tradeFlows(first: 20) { totalCount } }";
    let (_, body, _) = ask(&server, None, page);
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10"),
        "{body}"
    );
    let (_, body, _) = ask(&server, Some(&as_analyst), page);
    assert!(body.get("errors").is_none(), "{body}");

    // Depth: the analyst's 3, the public's the default 12.
    let deep = "{ clusters { nodes { programme { clusters { nodes { slug } } } } } }";
    let (_, body, _) = ask(&server, Some(&as_analyst), deep);
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    let (_, body, _) = ask(&server, None, deep);
    assert!(body.get("errors").is_none(), "{body}");

    // Introspection: off for the public only (answered `null`, like any field a role may
    // not read). The analyst's request is checked in the rate test below.
    let schema = "{ __schema { queryType { name } } }";
    let (_, body, _) = ask(&server, None, schema);
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let (_, body, _) = ask(&server, None, "{ __typename }");
    assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");

    // Rate: the analyst's key had 2 requests; 2 more pass, then 429 with Retry-After
    // (a request every 15 s at 4 a minute); the public is not limited.
    let (status, body, _) = ask(&server, Some(&as_analyst), "{ viewer { role } }");
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = ask(&server, Some(&as_analyst), schema);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "QueryRoot",
        "{body}"
    );
    let (status, body, retry) = ask_header(
        &server,
        Some(&as_analyst),
        "{ viewer { role } }",
        "retry-after",
    );
    assert_eq!(status, 429, "{body}");
    assert_eq!(code(&body), "RATE_LIMITED");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=15).contains(&retry), "{retry}");
    for _ in 0..20 {
        let (status, _, _) = ask(&server, None, "{ __typename }");
        assert_eq!(status, 200);
    }
}

#[test]
fn a_cluster_scoped_key_reaches_only_what_its_cluster_reaches() {
    const SLUG: &str = "sialkot-surgical";
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let server = start(&db, "demo");
        // Made once the demo's clusters exist; honoured by the running server at once.
        let scoped = create_key(&db, "sialkot", "analyst", &["--cluster", SLUG]);
        let everything = create_key(&db, "all", "analyst", &[]);
        let as_scoped = bearer(&scoped);
        let q = |query: &str| {
            let (status, body, _) = ask(&server, Some(&as_scoped), query);
            assert_eq!(status, 200, "{engine}: {body}");
            assert!(body.get("errors").is_none(), "{engine}: {query}: {body}");
            body["data"].clone()
        };
        let cluster = db.count(&format!("SELECT id FROM clusters WHERE slug = '{SLUG}'"));
        let member = |org: &str| {
            format!(
                "EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = {org} \
                 AND m.cluster_id = {cluster})"
            )
        };
        let expected = |sql: &str| db.count(sql);

        let v = q("{ viewer { role clusters } clusters { totalCount nodes { slug } } }");
        assert_eq!(v["viewer"]["clusters"], json!([SLUG]), "{engine}");
        assert_eq!(
            v["clusters"]["nodes"],
            json!([{ "slug": SLUG }]),
            "{engine}"
        );

        // Every list counts what is reachable from the cluster, as the stored rows say.
        let firms = expected(&format!(
            "SELECT count(*) FROM organisations o WHERE o.kind = 'firm' \
             AND o.merged_into_id IS NULL AND {}",
            member("o.id")
        ));
        let all_firms = expected(
            "SELECT count(*) FROM organisations WHERE kind = 'firm' AND merged_into_id IS NULL",
        );
        assert!(
            firms > 0 && firms < all_firms,
            "{engine}: {firms} of {all_firms}"
        );
        let v = q(
            "{ firms { totalCount } firmStatistics { groups { firms } } \
                    trainingEvents { totalCount } participations { totalCount } \
                    loans { totalCount } firmObservations { totalCount } networks { totalCount } \
                    trainingStatistics { groups { participations } } \
                    tradeFlows { totalCount } }",
        );
        assert_eq!(v["firms"]["totalCount"], firms, "{engine}");
        assert_eq!(v["firmStatistics"]["groups"][0]["firms"], firms, "{engine}");
        let events = expected(&format!(
            "SELECT count(*) FROM training_events WHERE cluster_id = {cluster}"
        ));
        assert_eq!(v["trainingEvents"]["totalCount"], events, "{engine}");
        let participations = expected(&format!(
            "SELECT count(*) FROM participations p JOIN training_events e \
             ON e.id = p.training_event_id WHERE e.cluster_id = {cluster}"
        ));
        assert!(participations > 0, "{engine}");
        assert_eq!(
            v["participations"]["totalCount"], participations,
            "{engine}"
        );
        assert_eq!(
            v["trainingStatistics"]["groups"][0]["participations"], participations,
            "{engine}"
        );
        let loans = expected(&format!(
            "SELECT count(*) FROM loans l WHERE {}",
            member("l.organisation_id")
        ));
        assert_eq!(v["loans"]["totalCount"], loans, "{engine}");
        let observations = expected(&format!(
            "SELECT count(*) FROM firm_observations f WHERE {}",
            member("f.organisation_id")
        ));
        assert_eq!(
            v["firmObservations"]["totalCount"], observations,
            "{engine}"
        );
        let networks = expected(&format!(
            "SELECT count(*) FROM networks WHERE cluster_id = {cluster}"
        ));
        assert_eq!(v["networks"]["totalCount"], networks, "{engine}");
        // Published trade statistics are not the cluster's: every scope sees them.
        assert_eq!(
            v["tradeFlows"]["totalCount"],
            expected("SELECT count(*) FROM trade_flows"),
            "{engine}"
        );

        // A firm outside the cluster: not by id, not by identifier, not through a
        // participation of the cluster's trainings, not through another cluster.
        let outside = db.query_scalar(&format!(
            "SELECT min(o.id) FROM organisations o JOIN organisation_identifiers i \
             ON i.organisation_id = o.id AND i.scheme = 'PK-NTN' AND i.is_hashed = false \
             WHERE o.kind = 'firm' AND NOT {}",
            member("o.id")
        ));
        let ntn = db.query_scalar(&format!(
            "SELECT min(value) FROM organisation_identifiers WHERE organisation_id = {outside} \
             AND scheme = 'PK-NTN'"
        ));
        let id = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!("Firm:{outside}"),
        );
        let probe = format!(
            "{{ node(id: \"{id}\") {{ id }} firm(id: \"{id}\") {{ name }} \
               firmByIdentifier(scheme: \"PK-NTN\", value: \"{ntn}\") {{ name }} \
               cluster(slug: \"lahore-garments\") {{ slug }} }}"
        );
        let v = q(&probe);
        assert_eq!(
            v,
            json!({"node": null, "firm": null, "firmByIdentifier": null, "cluster": null}),
            "{engine}"
        );
        // The same probe with an unscoped key finds them (the probe is a real one).
        let (_, body, _) = ask(&server, Some(&bearer(&everything)), &probe);
        assert!(body["data"]["firm"]["name"].is_string(), "{engine}: {body}");
        assert!(
            body["data"]["firmByIdentifier"]["name"].is_string(),
            "{engine}: {body}"
        );

        let v = q(
            "{ participations(first: 100) { nodes { firm { id } event { cluster { slug } } } } }",
        );
        for p in v["participations"]["nodes"].as_array().unwrap() {
            assert_eq!(p["event"]["cluster"]["slug"], SLUG, "{engine}");
            if let Some(firm) = p["firm"]["id"].as_str() {
                let bytes =
                    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, firm)
                        .unwrap();
                let row = String::from_utf8(bytes)
                    .unwrap()
                    .split_once(':')
                    .unwrap()
                    .1
                    .to_owned();
                assert_eq!(
                    db.count(&format!(
                        "SELECT count(*) FROM organisations o WHERE o.id = {row} AND {}",
                        member("o.id")
                    )),
                    1,
                    "{engine}: a participant's firm outside the cluster"
                );
            }
        }

        // A filter that follows a relation sees only what the scope reaches: a firm of the
        // cluster that is also in another cluster cannot be found by that other cluster.
        let both = db.query_scalar(&format!(
            "SELECT min(o.id) FROM organisations o WHERE o.kind = 'firm' AND {}",
            member("o.id")
        ));
        db.query(&format!(
            "INSERT INTO cluster_memberships (cluster_id, organisation_id, change_seq, \
             created_at, updated_at) SELECT id, {both}, 0, CURRENT_TIMESTAMP, \
             CURRENT_TIMESTAMP FROM clusters WHERE slug = 'lahore-garments'"
        ));
        let by_other = "{ firms(filter: {cluster: {slug: {eq: \"lahore-garments\"}}}) { totalCount } \
                        clusters { nodes { slug } } }";
        let v = q(by_other);
        assert_eq!(v["firms"]["totalCount"], 0, "{engine}: {v}");
        assert_eq!(
            v["clusters"]["nodes"],
            json!([{ "slug": SLUG }]),
            "{engine}"
        );
        let (_, body, _) = ask(&server, Some(&bearer(&everything)), by_other);
        assert!(
            body["data"]["firms"]["totalCount"].as_i64().unwrap() > 0,
            "{engine}: {body}"
        );
        let both_id = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!("Firm:{both}"),
        );
        let v = q(&format!(
            "{{ firm(id: \"{both_id}\") {{ clusters {{ nodes {{ slug }} }} }} }}"
        ));
        assert_eq!(
            v["firm"]["clusters"]["nodes"],
            json!([{ "slug": SLUG }]),
            "{engine}: {v}"
        );

        // A scope names clusters that exist.
        let out = output(hub(&db).args([
            "keys",
            "create",
            "--name",
            "typo",
            "--role",
            "analyst",
            "--cluster",
            "sialkot-surgicall",
        ]));
        assert!(!out.status.success(), "{engine}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no cluster has the slug"),
            "{out:?}"
        );
    }
}

/// The role × entry-point matrix: one protected field of each class (a firm's head count,
/// its identifiers, a person's name, a loan's amount) reached through every way into the
/// graph (root list, nested relation, alias, fragment, `node(id)`, `firm(id)`), asserted
/// visible or `null` for each caller, on every engine.
#[test]
fn the_role_and_entry_point_matrix_holds_on_every_engine() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let server = start(&db, "demo");
        let callers = [
            ("public", None),
            (
                "analyst",
                Some(create_key(&db, "m-analyst", "analyst", &[])),
            ),
            ("pii", Some(create_key(&db, "m-pii", "analyst", &["--pii"]))),
            (
                "curator",
                Some(create_key(&db, "m-curator", "curator", &[])),
            ),
            (
                "admin",
                Some(create_key(&db, "m-admin", "admin", &["--pii"])),
            ),
        ];
        // A firm with a head count, an NTN and a loan, and a trainee with a name.
        let firm = db.query_scalar(
            "SELECT min(o.id) FROM organisations o WHERE o.kind = 'firm' \
             AND o.employees_total IS NOT NULL AND o.merged_into_id IS NULL \
             AND EXISTS (SELECT 1 FROM organisation_identifiers i WHERE i.organisation_id = o.id \
                 AND i.scheme = 'PK-NTN' AND i.is_hashed = false) \
             AND EXISTS (SELECT 1 FROM loans l WHERE l.organisation_id = o.id \
                 AND l.amount_pkr IS NOT NULL) \
             AND EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.organisation_id = o.id)",
        );
        let person = db.query_scalar(
            "SELECT min(p.id) FROM persons p WHERE p.full_name IS NOT NULL \
             AND EXISTS (SELECT 1 FROM participations x WHERE x.person_id = p.id)",
        );
        let gid = |kind: &str, row: &str| {
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                format!("{kind}:{row}"),
            )
        };
        let (firm_id, person_id) = (gid("Firm", &firm), gid("Person", &person));
        let slug = db.query_scalar(&format!(
            "SELECT min(c.slug) FROM clusters c JOIN cluster_memberships m ON m.cluster_id = c.id \
             WHERE m.organisation_id = {firm}"
        ));
        let fields = "employeesTotal identifiers(scheme: \"PK-NTN\") { value } \
                      loans(first: 5) { nodes { amountPkr } }";
        // Each entry point yields the firm (a JSON pointer to it in the answer).
        let entries: Vec<(&str, String, String)> = vec![
            (
                "node",
                format!("{{ node(id: \"{firm_id}\") {{ ... on Firm {{ {fields} }} }} }}"),
                "/node".into(),
            ),
            (
                "firm",
                format!("{{ firm(id: \"{firm_id}\") {{ {fields} }} }}"),
                "/firm".into(),
            ),
            (
                "alias and fragment",
                format!(
                    "{{ x: firm(id: \"{firm_id}\") {{ ...F }} }} fragment F on Firm {{ {fields} }}"
                ),
                "/x".into(),
            ),
            (
                "nested under its cluster",
                format!(
                    "{{ cluster(slug: \"{slug}\") {{ firms(first: 100) {{ nodes {{ id {fields} }} }} }} }}"
                ),
                String::new(),
            ),
        ];
        let person_query = format!(
            "{{ node(id: \"{person_id}\") {{ ... on Person {{ fullName }} }} \
               p: trainingEvents(first: 5) {{ nodes {{ participations(first: 20) \
               {{ nodes {{ person {{ fullName }} }} }} }} }} }}"
        );
        for (who, key) in &callers {
            let auth = key.as_deref().map(bearer);
            let figures = *who != "public";
            let names = matches!(*who, "pii" | "admin");
            for (entry, query, pointer) in &entries {
                let (status, body, _) = ask(&server, auth.as_deref(), query);
                assert_eq!(status, 200, "{engine}, {who}, {entry}: {body}");
                assert!(
                    body.get("errors").is_none(),
                    "{engine}, {who}, {entry}: {body}"
                );
                let firm_value = if pointer.is_empty() {
                    body["data"]["cluster"]["firms"]["nodes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|f| f["id"] == firm_id.as_str())
                        .cloned()
                        .unwrap_or_else(|| panic!("{engine}, {who}: the firm is in its cluster"))
                } else {
                    body["data"].pointer(pointer).cloned().unwrap()
                };
                assert_eq!(
                    firm_value["employeesTotal"].is_number(),
                    figures,
                    "{engine}, {who}, {entry}: head count: {body}"
                );
                assert_eq!(
                    !firm_value["identifiers"].as_array().unwrap().is_empty(),
                    figures,
                    "{engine}, {who}, {entry}: identifiers: {body}"
                );
                let loans = firm_value["loans"]["nodes"].as_array().unwrap();
                assert_eq!(
                    loans.iter().any(|l| l["amountPkr"].is_number()),
                    figures,
                    "{engine}, {who}, {entry}: loans: {body}"
                );
            }
            let (_, body, _) = ask(&server, auth.as_deref(), &person_query);
            let data = &body["data"];
            assert_eq!(
                data["node"]["fullName"].is_string(),
                names,
                "{engine}, {who}: a person by id: {body}"
            );
            let nested: Vec<&Value> = data["p"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|e| e["participations"]["nodes"].as_array().unwrap())
                .collect();
            assert_eq!(
                nested.iter().any(|p| p["person"]["fullName"].is_string()),
                names,
                "{engine}, {who}: a person through a participation: {body}"
            );
        }
    }
}
