//! The audit trail: imports, key creation and revocation, denied attempts and erasures,
//! stored in `audit_events` and listed to admins (`auditEvents`).
//!
//! An event's `detail` holds ids, names an admin chose (keys), counts and reasons, never
//! personal data: no person names, CNICs, phone numbers or e-mail addresses, and never a
//! credential (a denied key is named by its visible prefix at most).
//!
//! Denied requests are recorded at most once per [`DENIED_WINDOW`] for one actor and
//! reason on one instance, with the number of repeats: a flood of bad credentials must
//! not turn into a flood of writes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hub_schema::entity::audit_events;
use sea_orm::{ActiveModelTrait as _, ConnectionTrait, DbErr, Set};
use serde_json::Value as Json;

/// Kinds of events.
pub mod kind {
    /// An import was applied (CLI or `importFile`).
    pub const IMPORT: &str = "import";
    /// An API key was created.
    pub const KEY_CREATED: &str = "key.created";
    /// An API key was revoked.
    pub const KEY_REVOKED: &str = "key.revoked";
    /// A request with bad credentials (401).
    pub const AUTH_DENIED: &str = "auth.denied";
    /// An operation the caller's role does not allow (403 or `FORBIDDEN`).
    pub const ACCESS_DENIED: &str = "access.denied";
    /// A person's personal data was erased.
    pub const PERSON_ERASED: &str = "person.erased";
}

/// Records one event.
pub async fn record(
    db: &impl ConnectionTrait,
    kind: &str,
    actor: &str,
    detail: Json,
) -> Result<(), DbErr> {
    audit_events::ActiveModel {
        at: Set(chrono::Utc::now().fixed_offset()),
        kind: Set(kind.to_owned()),
        actor: Set(actor.to_owned()),
        detail: Set((!detail.is_null()).then_some(detail)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// How long repeats of one denial are counted instead of recorded.
pub const DENIED_WINDOW: Duration = Duration::from_secs(10);

/// (kind, actor, reason) of a denial.
type DenialKey = (String, String, String);

/// Coalesces repeated denials (see the module documentation).
/// Remembers, per [`DenialKey`], when it was last recorded and the repeats since.
#[derive(Debug, Default)]
pub struct Denials {
    seen: Mutex<HashMap<DenialKey, (Instant, u64)>>,
}

impl Denials {
    /// The most distinct denials remembered; beyond it the memory is cleared.
    const MAX: usize = 10_000;

    /// Records a denial unless the same one was recorded within [`DENIED_WINDOW`]; a
    /// recorded event carries the repeats it stands for. Failing to record is logged, never
    /// an error of the request.
    pub async fn record(&self, db: &impl ConnectionTrait, kind: &str, actor: &str, reason: &str) {
        let key = (kind.to_owned(), actor.to_owned(), reason.to_owned());
        let now = Instant::now();
        let repeats = {
            let Ok(mut seen) = self.seen.lock() else {
                return;
            };
            if seen.len() >= Self::MAX {
                seen.clear();
            }
            match seen.get_mut(&key) {
                Some((at, repeats)) if now.duration_since(*at) < DENIED_WINDOW => {
                    *repeats += 1;
                    return;
                }
                Some(entry) => {
                    let repeats = entry.1;
                    *entry = (now, 0);
                    repeats
                }
                None => {
                    seen.insert(key, (now, 0));
                    0
                }
            }
        };
        let mut detail = serde_json::json!({ "reason": reason });
        if repeats > 0 {
            detail["repeatsBefore"] = repeats.into();
        }
        if let Err(e) = record(db, kind, actor, detail).await {
            tracing::warn!(error = %e, kind, "could not record a denied request in the audit trail");
        }
    }
}
