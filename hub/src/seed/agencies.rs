//! Agencies, donors, chambers and training providers as organisations.
//!
//! The programme's partners (the Punjab Small Industries Corporation, UNIDO, the World Bank)
//! and the training providers are organisations like the firms, with a source record, a
//! link and identifiers, so that the two-layer model holds for every organisation. They
//! are few and named consistently across the demo files, so they are found again by their
//! normalised name: the rule "never link by name" protects firms, whose names repeat and
//! vary, while this short curated list is the authority on agency names.

use std::collections::HashMap;

use hub_schema::domain::{IdentifierScheme, normalise_name};
use hub_schema::entity::{
    organisation_identifiers, organisation_source_records, organisations, record_links,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use super::survivorship::to_json;
use super::{Ctx, DemoFile};

/// IATI organisation identifiers of the agencies the demo names, by normalised name.
const KNOWN_IATI: &[(&str, &str)] = &[("unido", "XM-DAC-41123")];

/// The agencies written so far, by normalised name.
#[derive(Debug, Default)]
pub(super) struct Agencies {
    by_key: HashMap<String, i64>,
}

impl Agencies {
    /// The organisation of an agency by name, when it was written already.
    pub(super) fn find(&self, name: &str) -> Option<i64> {
        self.by_key.get(&normalise_name(name)).copied()
    }

    /// The organisation of an agency by name, created with this kind (`agency`, `donor`,
    /// `chamber`, `training_provider`) under `file`'s run and `source` if it is new.
    pub(super) async fn ensure(
        &mut self,
        ctx: &mut Ctx<'_>,
        file: DemoFile,
        source: &'static str,
        name: &str,
        kind: &str,
        source_ref: &str,
    ) -> anyhow::Result<i64> {
        if let Some(id) = self.find(name) {
            return Ok(id);
        }
        let source_id = ctx.source(file, source).await?.id;
        let name_key = normalise_name(name);
        let iati = KNOWN_IATI
            .iter()
            .find(|(key, _)| *key == name_key)
            .map(|(_, id)| *id);
        ctx.reserve(file, 3 + usize::from(iati.is_some())).await?;

        let org = row!(organisations {
            kind: kind.to_owned(),
            name: name.to_owned(),
            name_key: name_key.clone(),
            status: "active".to_owned(),
        } @ ctx.prov(file, source_ref))
        .insert(ctx.txn)
        .await?;
        let record = row!(organisation_source_records {
            source_id: source_id,
            source_key: format!("agency:{name_key}"),
            organisation_id: Some(org.id),
            kind: kind.to_owned(),
            name: name.to_owned(),
            name_key: name_key.clone(),
            observed_on: None,
        } @ ctx.prov(file, source_ref))
        .insert(ctx.txn)
        .await?;
        organisations::Entity::update_many()
            .col_expr(
                organisations::Column::Survivorship,
                Expr::value(to_json(&[("name", 0)], |_| record.id)),
            )
            .filter(organisations::Column::Id.eq(org.id))
            .exec(ctx.txn)
            .await?;
        row!(record_links {
            entity_type: "organisation".to_owned(),
            source_record_id: record.id,
            unified_id: org.id,
            method: "new".to_owned(),
            status: "active".to_owned(),
        } @ ctx.prov(file, source_ref))
        .insert(ctx.txn)
        .await?;
        if let Some(iati) = iati {
            row!(organisation_identifiers {
                organisation_id: Some(org.id),
                source_record_id: Some(record.id),
                scheme: IdentifierScheme::IatiOrg.code().into_owned(),
                value: iati.to_owned(),
                display: iati.to_owned(),
                is_hashed: false,
            } @ ctx.prov(file, source_ref))
            .insert(ctx.txn)
            .await?;
            ctx.summary.organisation_identifiers += 1;
        }
        ctx.summary.agencies += 1;
        ctx.summary.organisation_source_records += 1;
        ctx.summary.record_links += 1;
        self.by_key.insert(name_key, org.id);
        Ok(org.id)
    }
}
