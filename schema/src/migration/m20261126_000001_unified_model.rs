//! The unified model, as one migration.
//!
//! Read this file as the schema. Every data table carries provenance (import run, source
//! reference) and a change-sequence number (see [`super::ddl::Table::provenance`]);
//! organisations and persons come in two layers, source records and unified entities.
//! ARCHITECTURE.md explains the choices; this file is the single place where they are made.

use super::ddl::{Col::*, table};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables in creation order (a table comes after the tables it refers to).
fn tables() -> Vec<super::ddl::Table> {
    vec![
        // ---- The hub itself ------------------------------------------------------------
        // Key/value facts about this database, e.g. the fingerprint of the CNIC hash key.
        table("hub_meta")
            .col("key", Text)
            .col("value", Text)
            .unique(&["key"]),
        // One row: the last change-sequence number handed out. Writers take numbers from it
        // with an UPDATE inside their transaction; the row lock makes numbers follow commit
        // order on PostgreSQL, and SQLite has a single writer anyway.
        table("change_counter").col("last_seq", BigInt),
        // Import runs: who imported what, when, with what result.
        table("import_runs")
            .col("importer_id", Text)
            .col("importer_version", Text)
            .col("file_name", TextNull)
            .col("file_sha256", TextNull)
            .col("file_size", BigIntNull)
            .col("options", JsonNull)
            // running | applied | partial | failed | dry_run
            .col("status", Text)
            .col_default("dry_run", Bool, false)
            .col_default("allow_partial", Bool, false)
            .col("started_at", Timestamp)
            .col("finished_at", TimestampNull)
            .col_default("rows_read", BigInt, 0)
            .col_default("inserted", BigInt, 0)
            .col_default("updated", BigInt, 0)
            .col_default("unchanged", BigInt, 0)
            .col_default("rejected", BigInt, 0)
            .col_default("warnings", BigInt, 0)
            .col("error_message", TextNull)
            .col("first_change_seq", BigIntNull)
            .col("last_change_seq", BigIntNull)
            .col("triggered_by", TextNull)
            .index(&["started_at"])
            .index(&["file_sha256"]),
        // Per-row errors and warnings. They name file, sheet, row, column and field, never
        // a personal value.
        table("import_row_errors")
            .part_of("import_run_id", "import_runs")
            // error | warning
            .col("severity", Text)
            .col("file", TextNull)
            .col("sheet", TextNull)
            .col("row_number", BigIntNull)
            .col("column_name", TextNull)
            .col("field", TextNull)
            .col("code", Text)
            .col("message", Text)
            .index(&["import_run_id"]),
        // Deletes and merges leave tombstones, so "what changed since N" sees them.
        table("tombstones")
            .col("change_seq", BigInt)
            .col("entity_type", Text)
            .col("entity_id", BigInt)
            // delete | merge
            .col("op", Text)
            .col("merged_into_id", BigIntNull)
            .refs_null("import_run_id", "import_runs")
            .col("occurred_at", Timestamp)
            .index(&["change_seq"])
            .index(&["entity_type", "entity_id"]),
        // Sources: a registry, a survey, a statistics publisher, a curated file. Part of
        // the identity of source records and trade flows.
        table("sources")
            .col("code", Text)
            .col("name", Text)
            // registry | survey | attendance | trade_statistics | curated | reference | plugin
            .col("kind", Text)
            .col("publisher", TextNull)
            // Lower wins in survivorship; configuration may override it.
            .col_default("priority", Int, 100)
            .col("description", TextNull)
            .provenance()
            .unique(&["code"]),
        // ---- Reference data ------------------------------------------------------------
        table("classifications")
            .col("code", Text)
            .col("name", Text)
            // hs | isic | national_isic | sitc | bec | product_group | national_group
            .col("kind", Text)
            .col("revision_year", IntNull)
            .col("description", TextNull)
            .provenance()
            .unique(&["code"]),
        table("classification_codes")
            .part_of("classification_id", "classifications")
            .col("code", Text)
            .col("parent_code", TextNull)
            // HS: 0 (TOTAL), 2, 4, 6 digits; ISIC: 1 section .. 4 class, 5+ sub-classes.
            .col("level", Int)
            .col("description", Text)
            .col_default("is_leaf", Bool, false)
            .provenance()
            .unique(&["classification_id", "code"])
            .index(&["classification_id", "parent_code"]),
        // Revision concordances, as the source wrote them: `relationship` is the
        // cardinality after:before (`1:n` merges old codes, `n:1` splits one).
        table("code_concordances")
            .refs("from_classification_id", "classifications")
            .col("from_code", Text)
            .refs("to_classification_id", "classifications")
            .col("to_code", Text)
            .col("relationship", Text)
            .provenance()
            .unique(&[
                "from_classification_id",
                "from_code",
                "to_classification_id",
                "to_code",
            ])
            .index(&["to_classification_id", "to_code"]),
        // Countries and areas, keyed by ISO3 (or a hub code for areas with none).
        table("countries")
            .col("iso3", Text)
            .col("iso2", TextNull)
            .col("name", Text)
            // country | group | special (areas n.e.s., free zones, bunkers)
            .col("kind", Text)
            .provenance()
            .unique(&["iso3"]),
        // UN Comtrade area codes, which are not plain M49 and are effective-dated.
        table("comtrade_areas")
            .col("code", Int)
            .refs("country_id", "countries")
            .col("name", Text)
            .col("valid_from", DateNull)
            .col("valid_to", DateNull)
            .col_default("is_group", Bool, false)
            .provenance()
            .index(&["code"]),
        // Admin areas: country > province > division > district > tehsil, effective-dated.
        table("admin_areas")
            .col("level", Text)
            .col("name", Text)
            // Normalised name for matching (lower case, no punctuation).
            .col("name_key", Text)
            .refs_null("parent_id", "admin_areas")
            // A district notified out of another records the district it was part of.
            .refs_null("former_parent_id", "admin_areas")
            .col("iso_code", TextNull)
            .col("valid_from", DateNull)
            .col("valid_to", DateNull)
            .col("notes", TextNull)
            .provenance()
            .index(&["level", "name_key"])
            .index(&["parent_id"]),
        table("admin_area_synonyms")
            .part_of("admin_area_id", "admin_areas")
            .col("synonym", Text)
            .col("synonym_key", Text)
            .provenance()
            .unique(&["admin_area_id", "synonym_key"])
            .index(&["synonym_key"]),
        // ---- Organisations: unified entities and their source records ------------------
        table("organisations")
            // firm | bds_provider | association | chamber | agency | donor | training_provider
            .col("kind", Text)
            .col("name", Text)
            .col("name_key", Text)
            .col("legal_form", TextNull)
            .refs_null("district_id", "admin_areas")
            .refs_null("tehsil_id", "admin_areas")
            .col("address", TextNull)
            .col("phone", TextNull)
            .col("email", TextNull)
            .col("website", TextNull)
            .col("founded_year", IntNull)
            .col("employees_total", IntNull)
            .col("employees_female", IntNull)
            .col("size_class", TextNull)
            // employees | turnover
            .col("size_basis", TextNull)
            .col("industry_code", TextNull)
            // active | closed | inactive | unknown
            .col_default("status", Text, "active")
            // Which source record each field was taken from (survivorship), by field name.
            .col("survivorship", JsonNull)
            .refs_null("merged_into_id", "organisations")
            .provenance()
            .index(&["name_key"])
            .index(&["kind", "name_key"])
            .index(&["district_id"]),
        table("organisation_source_records")
            .refs("source_id", "sources")
            .col("source_key", Text)
            .refs_null("organisation_id", "organisations")
            .col("kind", Text)
            .col("name", Text)
            .col("name_key", Text)
            .col("legal_form", TextNull)
            .col("district_text", TextNull)
            .col("tehsil_text", TextNull)
            .refs_null("district_id", "admin_areas")
            .refs_null("tehsil_id", "admin_areas")
            .col("address", TextNull)
            .col("phone", TextNull)
            .col("email", TextNull)
            .col("industry_code", TextNull)
            .col("founded_year", IntNull)
            .col("employees_total", IntNull)
            .col("employees_female", IntNull)
            .col("registered_on", DateNull)
            .col("status", TextNull)
            // When the source said it; newer beats older within one source.
            .col("observed_on", DateNull)
            // Everything else the source said, as it said it (never personal values).
            .col("attributes", JsonNull)
            .provenance()
            .unique(&["source_id", "source_key"])
            .index(&["organisation_id"])
            .index(&["name_key"]),
        // Identifiers as (scheme, value), per source record, mirrored onto the unified
        // organisation it is linked to. Personal schemes (CNIC of a sole proprietor) store
        // the keyed hash in `value` and only a masked form in `display`.
        table("organisation_identifiers")
            .refs_null("organisation_id", "organisations")
            .refs_null("source_record_id", "organisation_source_records")
            .col("scheme", Text)
            .col("value", Text)
            .col("display", Text)
            .col_default("is_hashed", Bool, false)
            .provenance()
            .index(&["scheme", "value"])
            .index(&["organisation_id"])
            .unique(&["source_record_id", "scheme", "value"]),
        // ---- Persons (personal data) ----------------------------------------------------
        table("persons")
            .col("full_name", TextNull)
            .col("name_key", TextNull)
            // female | male | other
            .col("sex", TextNull)
            .col("birth_year", IntNull)
            // Keyed hash of the CNIC and its last four digits; never the CNIC itself.
            .col("cnic_hash", TextNull)
            .col("cnic_last4", TextNull)
            .col("phone", TextNull)
            .col("email", TextNull)
            .refs_null("district_id", "admin_areas")
            .col("survivorship", JsonNull)
            .refs_null("merged_into_id", "persons")
            .col("erased_at", TimestampNull)
            .provenance()
            .index(&["cnic_hash"])
            .index(&["name_key"]),
        table("person_source_records")
            .refs("source_id", "sources")
            .col("source_key", Text)
            .refs_null("person_id", "persons")
            .col("full_name", TextNull)
            .col("name_key", TextNull)
            .col("sex", TextNull)
            .col("cnic_hash", TextNull)
            .col("cnic_last4", TextNull)
            .col("phone", TextNull)
            .col("email", TextNull)
            .col("district_text", TextNull)
            .col("observed_on", DateNull)
            .col("attributes", JsonNull)
            .provenance()
            .unique(&["source_id", "source_key"])
            .index(&["person_id"])
            .index(&["cnic_hash"]),
        // Persons in organisations: owners, staff, contacts, borrowers.
        table("affiliations")
            .part_of("person_id", "persons")
            .part_of("organisation_id", "organisations")
            // owner | staff | contact | borrower | trainer
            .col("role", Text)
            .col("title", TextNull)
            .col("valid_from", DateNull)
            .col("valid_to", DateNull)
            .source_key()
            .provenance()
            .index(&["person_id"])
            .index(&["organisation_id"]),
        // Every link of a source record to a unified entity: how it was made, and whether it
        // still stands (links are reversible).
        table("record_links")
            // organisation | person
            .col("entity_type", Text)
            .col("source_record_id", BigInt)
            .col("unified_id", BigInt)
            // strong_identifier | score | manual | new
            .col("method", Text)
            .col("rule", TextNull)
            .col("score", RealNull)
            .col("evidence", JsonNull)
            // active | reverted
            .col_default("status", Text, "active")
            .col("decided_by", TextNull)
            .col("reverted_at", TimestampNull)
            .provenance()
            .index(&["entity_type", "source_record_id"])
            .index(&["entity_type", "unified_id"]),
        // Uncertain pairs waiting for a curator.
        table("match_reviews")
            .col("entity_type", Text)
            .col("source_record_id", BigInt)
            .col("candidate_id", BigInt)
            .col("score", Real)
            .col("evidence", JsonNull)
            // pending | accepted | rejected
            .col_default("status", Text, "pending")
            .col("decided_by", TextNull)
            .col("decided_at", TimestampNull)
            .provenance()
            .index(&["status"])
            .index(&["entity_type", "source_record_id"]),
        // ---- Programmes and clusters ---------------------------------------------------
        table("programmes")
            .col("code", Text)
            .col("name", Text)
            .col("description", TextNull)
            .refs_null("lead_organisation_id", "organisations")
            .refs_null("funder_organisation_id", "organisations")
            .refs_null("technical_assistance_organisation_id", "organisations")
            .col("start_date", DateNull)
            .col("end_date", DateNull)
            .provenance()
            .unique(&["code"]),
        table("clusters")
            .col("slug", Text)
            .col("name", Text)
            .col("sector", Text)
            .col("description", TextNull)
            .refs_null("programme_id", "programmes")
            // The HS revision the product basket is written in.
            .refs_null("hs_classification_id", "classifications")
            .col_default("status", Text, "active")
            .provenance()
            .unique(&["slug"]),
        table("cluster_areas")
            .part_of("cluster_id", "clusters")
            .refs("admin_area_id", "admin_areas")
            .provenance()
            .unique(&["cluster_id", "admin_area_id"]),
        // ISIC classes (or national sub-classes) of a cluster.
        table("cluster_activities")
            .part_of("cluster_id", "clusters")
            .refs("classification_id", "classifications")
            .col("code", Text)
            .provenance()
            .unique(&["cluster_id", "classification_id", "code"]),
        // The HS product basket: chapters, headings or subheadings in one revision.
        table("cluster_products")
            .part_of("cluster_id", "clusters")
            .refs("classification_id", "classifications")
            .col("code", Text)
            .col("level", Int)
            .provenance()
            .unique(&["cluster_id", "classification_id", "code"]),
        table("cluster_memberships")
            .refs("cluster_id", "clusters")
            .refs("organisation_id", "organisations")
            .col("valid_from", DateNull)
            .col("valid_to", DateNull)
            .source_key()
            .provenance()
            .index(&["cluster_id", "organisation_id"])
            .index(&["organisation_id"]),
        table("networks")
            .col("name", Text)
            .col("name_key", Text)
            // horizontal | vertical | export_consortium
            .col("kind", Text)
            .refs_null("cluster_id", "clusters")
            .refs_null("programme_id", "programmes")
            .refs_null("lead_organisation_id", "organisations")
            .col("formed_on", DateNull)
            .col("dissolved_on", DateNull)
            .col("description", TextNull)
            .source_key()
            .provenance()
            .index(&["cluster_id"]),
        table("network_members")
            .part_of("network_id", "networks")
            .refs("organisation_id", "organisations")
            // lead | member
            .col_default("role", Text, "member")
            .col("joined_on", DateNull)
            .col("left_on", DateNull)
            .source_key()
            .provenance()
            .unique(&["network_id", "organisation_id"])
            .index(&["organisation_id"]),
        // Action-plan items of a programme.
        table("interventions")
            .refs("programme_id", "programmes")
            .refs_null("cluster_id", "clusters")
            // training | common_facility_centre | study_tour | network | loan | diagnostic | trade_fair | other
            .col("kind", Text)
            .col("title", Text)
            .col("description", TextNull)
            // planned | ongoing | completed | cancelled
            .col_default("status", Text, "planned")
            .col("planned_start", DateNull)
            .col("planned_end", DateNull)
            .col("actual_start", DateNull)
            .col("actual_end", DateNull)
            .col("budget_amount", RealNull)
            .col("budget_currency", TextNull)
            .refs_null("lead_organisation_id", "organisations")
            .source_key()
            .provenance()
            .index(&["programme_id"])
            .index(&["cluster_id"]),
        // ---- Indicators ----------------------------------------------------------------
        table("indicators")
            .col("code", Text)
            .col("name", Text)
            .col("unit", Text)
            .col("description", TextNull)
            // Comma-separated breakdown dimensions, e.g. "sex".
            .col("breakdowns", TextNull)
            .refs_null("programme_id", "programmes")
            .col_default("is_disbursement_linked", Bool, false)
            .col("iati_ref", TextNull)
            .provenance()
            .unique(&["code"]),
        table("indicator_values")
            .refs("indicator_id", "indicators")
            // firm | cluster | programme | area
            .col("scope", Text)
            .refs_null("organisation_id", "organisations")
            .refs_null("cluster_id", "clusters")
            .refs_null("programme_id", "programmes")
            .refs_null("admin_area_id", "admin_areas")
            // year | quarter | month | fiscal_year
            .col("period_kind", Text)
            .col("period_start", Date)
            .col("period_end", Date)
            // baseline | target | actual
            .col("value_type", Text)
            .col("value", Real)
            .col("breakdown", TextNull)
            .col("breakdown_value", TextNull)
            .col("note", TextNull)
            .source_key()
            .provenance()
            .index(&["indicator_id", "period_start"])
            .index(&["cluster_id"])
            .index(&["organisation_id"]),
        // ---- Firm observations -----------------------------------------------------------
        table("firm_observations")
            .refs("organisation_id", "organisations")
            .refs("source_record_id", "organisation_source_records")
            .refs("source_id", "sources")
            .col("period_kind", Text)
            .col("period_start", Date)
            .col("period_end", Date)
            .col("employees_total", IntNull)
            .col("employees_female", IntNull)
            .col("turnover_pkr", RealNull)
            .col("exports_usd", RealNull)
            .col("certifications", TextNull)
            .provenance()
            .unique(&["source_record_id", "period_kind", "period_start"])
            .index(&["organisation_id", "period_start"]),
        // ---- Training ------------------------------------------------------------------
        table("courses")
            .col("code", TextNull)
            .col("title", Text)
            .col("topic", TextNull)
            .col("hours", RealNull)
            .refs_null("provider_organisation_id", "organisations")
            .source_key()
            .provenance(),
        table("training_events")
            .refs_null("course_id", "courses")
            .col("code", TextNull)
            .col("title", Text)
            .refs_null("provider_organisation_id", "organisations")
            // Trainers' names: personal data.
            .col("trainers", TextNull)
            .col("start_date", DateNull)
            .col("end_date", DateNull)
            .refs_null("venue_district_id", "admin_areas")
            .col("venue", TextNull)
            .refs_null("cluster_id", "clusters")
            .refs_null("intervention_id", "interventions")
            // in_person | online | blended
            .col("modality", TextNull)
            .source_key()
            .provenance()
            .index(&["cluster_id", "start_date"])
            .index(&["start_date"]),
        table("participations")
            .part_of("training_event_id", "training_events")
            .refs_null("person_id", "persons")
            // The organisation at the time: a firm, or an agency or BDS provider for staff.
            .refs_null("organisation_id", "organisations")
            .col("role", TextNull)
            .col("sex", TextNull)
            .col("attendance_pct", RealNull)
            .col("pre_score", RealNull)
            .col("post_score", RealNull)
            .col("completed", BoolNull)
            .col("certificate_number", TextNull)
            .source_key()
            .provenance()
            .index(&["training_event_id"])
            .index(&["person_id"])
            .index(&["organisation_id"]),
        // ---- Registry records of the Punjab Small Industries Corporation ----------------
        table("industrial_estates")
            .col("name", Text)
            .col("name_key", Text)
            .refs_null("district_id", "admin_areas")
            .source_key()
            .provenance(),
        table("plots")
            .part_of("estate_id", "industrial_estates")
            .col("plot_number", Text)
            .col("area_sqm", RealNull)
            .provenance()
            .unique(&["estate_id", "plot_number"]),
        table("plot_allotments")
            .refs("plot_id", "plots")
            .refs_null("organisation_id", "organisations")
            .col("unit_number", TextNull)
            .col("allotted_on", DateNull)
            // allotted | cancelled | vacant
            .col("status", Text)
            .source_key()
            .provenance()
            .index(&["plot_id"])
            .index(&["organisation_id"]),
        table("loans")
            .col("scheme", Text)
            .refs_null("borrower_person_id", "persons")
            .refs_null("organisation_id", "organisations")
            .col("unit_number", TextNull)
            .col("amount_pkr", RealNull)
            .col("sanctioned_on", DateNull)
            .col("disbursed_on", DateNull)
            .refs_null("district_id", "admin_areas")
            .col("status", TextNull)
            .source_key()
            .provenance()
            .index(&["organisation_id"]),
        // ---- Trade -----------------------------------------------------------------------
        // The source is part of a flow's identity: Comtrade and WITS report the same flow.
        table("trade_flows")
            .refs("source_id", "sources")
            .refs("reporter_id", "countries")
            .refs("partner_id", "countries")
            // import | export | re_export | re_import
            .col("flow", Text)
            .refs("classification_id", "classifications")
            .col("commodity_code", Text)
            // HS levels as their own columns, so "starts with 9018" is an indexed equality.
            .col("hs2", TextNull)
            .col("hs4", TextNull)
            .col("hs6", TextNull)
            .col("aggregate_level", Int)
            .col("period_kind", Text)
            .col("period_start", Date)
            .col("period_end", Date)
            // Further dimensions when not totals (second partner, customs procedure, mode of
            // transport), as `key=value;...`; empty for the usual totals.
            .col_default("breakdown_key", Text, "")
            .col("value_usd", RealNull)
            .col("original_value", RealNull)
            .col("original_currency", TextNull)
            .col_default("original_unit_multiplier", Int, 0)
            .col("net_weight_kg", RealNull)
            .col("quantity", RealNull)
            .col("quantity_unit", TextNull)
            .col_default("is_value_estimated", Bool, false)
            .col_default("is_quantity_estimated", Bool, false)
            .col_default("is_net_weight_estimated", Bool, false)
            .col("flags", TextNull)
            .provenance()
            .unique(&[
                "source_id",
                "reporter_id",
                "partner_id",
                "flow",
                "classification_id",
                "commodity_code",
                "period_kind",
                "period_start",
                "breakdown_key",
            ])
            .index(&["hs4", "period_start"])
            .index(&["hs6", "period_start"])
            .index(&["hs2", "period_start"])
            .index(&["reporter_id", "flow", "period_start"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::ddl::create_all(manager, tables()).await?;
        let insert = Query::insert()
            .into_table(Alias::new("change_counter"))
            .columns([Alias::new("id"), Alias::new("last_seq")])
            .values_panic([1.into(), 0.into()])
            .to_owned();
        manager.exec_stmt(insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::ddl::drop_all(manager, tables()).await
    }
}

/// The names of all tables of the model, in creation order.
pub fn table_names() -> Vec<&'static str> {
    tables().iter().map(|t| t.name()).collect()
}
