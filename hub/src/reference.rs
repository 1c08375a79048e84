//! Loading the bundled reference data, the admin-area import, and the admin-area matcher.
//!
//! Reference data is written once per bundle version (`hub_meta.reference_version`), in one
//! transaction, as an import run of its own, so it has provenance and change numbers like
//! everything else.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::NaiveDate;
use hub_schema::domain::HsRevision;
use hub_schema::entity::{
    admin_area_synonyms, admin_areas, classification_codes, classifications, code_concordances,
    comtrade_areas, countries,
};
use hub_schema::reference::{self, AdminAreaRow};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};

use crate::provenance::{Stamp, insert_chunked, now};

const META_KEY: &str = "reference_version";

/// What a reference load did, for the command's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub classification_codes: usize,
    pub concordances: usize,
    pub countries: usize,
    pub admin_areas: AdminAreaCounts,
}

/// Refuses a database whose reference data is older than this hub's bundle (a new HS
/// revision or concordance step would be missing): `hub migrate` loads it.
pub async fn check_loaded(db: &DatabaseConnection) -> anyhow::Result<()> {
    let loaded = crate::db::meta_get(db, META_KEY).await?;
    if loaded.as_deref() == Some(reference::VERSION) {
        return Ok(());
    }
    anyhow::bail!(
        "the database's reference data ({}) is not this hub's ({}); run `hub migrate` first",
        loaded.as_deref().unwrap_or("none"),
        reference::VERSION
    )
}

/// Loads the bundled reference data unless this bundle version is loaded already.
/// Returns `None` when there was nothing to do.
pub async fn load_bundled(db: &DatabaseConnection) -> anyhow::Result<Option<Loaded>> {
    if crate::db::meta_get(db, META_KEY).await?.as_deref() == Some(reference::VERSION) {
        return Ok(None);
    }
    let txn = db.begin().await?;
    let stamp = Stamp::begin(
        &txn,
        "reference",
        reference::VERSION,
        Some("bundled reference data"),
    )
    .await?;
    let mut loaded = Loaded::default();

    // Classifications and their codes.
    let mut class_ids = HashMap::new();
    for c in reference::classifications() {
        let existing = classifications::Entity::find()
            .filter(classifications::Column::Code.eq(c.code))
            .one(&txn)
            .await?;
        let id = match existing {
            Some(m) => m.id,
            None => {
                let seq = stamp.next_seq(&txn).await?;
                classifications::ActiveModel {
                    code: Set(c.code.to_owned()),
                    name: Set(c.name.to_owned()),
                    kind: Set(c.kind.to_owned()),
                    revision_year: Set(c.revision_year),
                    description: Set(None),
                    import_run_id: Set(Some(stamp.run_id)),
                    source_ref: Set(Some("schema/reference".into())),
                    change_seq: Set(seq),
                    created_at: Set(now()),
                    updated_at: Set(now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        class_ids.insert(c.code, id);
    }
    let hs_files: Vec<(&str, String)> = HsRevision::ALL
        .into_iter()
        .map(|r| (r.classification_code(), format!("hs{}.csv", r.year())))
        .collect();
    for (code, file) in hs_files
        .iter()
        .map(|(c, f)| (*c, f.as_str()))
        .chain([("ISIC-R4", "isic_rev4.csv")])
    {
        let class_id = class_ids[code];
        classification_codes::Entity::delete_many()
            .filter(classification_codes::Column::ClassificationId.eq(class_id))
            .exec(&txn)
            .await?;
        let codes = if code == "ISIC-R4" {
            reference::isic_codes()
        } else {
            reference::hs_codes(code)
        };
        let block = stamp.take(&txn, codes.len()).await?;
        let rows = codes
            .into_iter()
            .enumerate()
            .map(|(i, c)| classification_codes::ActiveModel {
                classification_id: Set(class_id),
                code: Set(c.code),
                parent_code: Set(c.parent_code),
                level: Set(c.level),
                description: Set(c.description),
                is_leaf: Set(c.is_leaf),
                import_run_id: Set(Some(stamp.run_id)),
                source_ref: Set(Some(format!("{file}!R{}", i + 2))),
                change_seq: Set(block.first + i as i64),
                created_at: Set(now()),
                updated_at: Set(now()),
                ..Default::default()
            });
        loaded.classification_codes += insert_chunked(&txn, rows.collect()).await?;
    }

    // The HS concordance.
    code_concordances::Entity::delete_many().exec(&txn).await?;
    let conc = reference::hs_concordance();
    let block = stamp.take(&txn, conc.len()).await?;
    let rows: Vec<_> = conc
        .into_iter()
        .enumerate()
        .map(|(i, c)| code_concordances::ActiveModel {
            from_classification_id: Set(class_ids[c.from_classification]),
            from_code: Set(c.from_code),
            to_classification_id: Set(class_ids[c.to_classification]),
            to_code: Set(c.to_code),
            relationship: Set(c.relationship),
            import_run_id: Set(Some(stamp.run_id)),
            source_ref: Set(Some(concordance_file(c.from_classification).into())),
            change_seq: Set(block.first + i as i64),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        })
        .collect();
    loaded.concordances = insert_chunked(&txn, dedup_concordance(rows)).await?;

    // Countries (by ISO3) and Comtrade area codes.
    loaded.countries = load_countries(&txn, &stamp).await?;

    // Admin areas.
    loaded.admin_areas = import_admin_areas(
        &txn,
        &stamp,
        &reference::admin_areas(),
        "pakistan_admin_areas",
    )
    .await?;

    crate::db::meta_set(&txn, META_KEY, reference::VERSION).await?;
    stamp
        .finish(
            &txn,
            loaded.classification_codes + loaded.concordances + loaded.countries,
        )
        .await?;
    crate::rollups::refresh(&txn).await?;
    txn.commit().await?;
    Ok(Some(loaded))
}

/// The bundled file a concordance step comes from.
fn concordance_file(from_classification: &str) -> &'static str {
    match from_classification {
        "HS2012" | "HS2017" => "hs_concordance.csv",
        _ => "hs_concordance_1992_2012.csv",
    }
}

/// The concordance file repeats some pairs; the model keeps each pair once.
fn dedup_concordance(
    rows: Vec<code_concordances::ActiveModel>,
) -> Vec<code_concordances::ActiveModel> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| {
            let key = (
                r.from_classification_id.clone().unwrap(),
                r.from_code.clone().unwrap(),
                r.to_classification_id.clone().unwrap(),
                r.to_code.clone().unwrap(),
            );
            seen.insert(key)
        })
        .collect()
}

async fn load_countries(txn: &impl ConnectionTrait, stamp: &Stamp) -> anyhow::Result<usize> {
    let mut areas = reference::comtrade_areas();
    // A country is named after its current area (Pakistan, 586), not a former one (588, the
    // pre-1972 "East and West Pakistan"): current areas first.
    areas.sort_by_key(|a| (a.valid_to.is_some(), a.code));
    let existing: HashMap<String, i64> = countries::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.iso3, c.id))
        .collect();
    let mut ids = existing.clone();
    let mut inserted = 0;
    for a in &areas {
        if ids.contains_key(&a.iso3) {
            continue;
        }
        let seq = stamp.next_seq(txn).await?;
        let model = countries::ActiveModel {
            iso3: Set(a.iso3.clone()),
            iso2: Set(a.iso2.clone()),
            name: Set(a.name.clone()),
            kind: Set(if a.is_group { "group" } else { "country" }.into()),
            import_run_id: Set(Some(stamp.run_id)),
            source_ref: Set(Some(format!("comtrade_areas.csv!C:code={}", a.code))),
            change_seq: Set(seq),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        ids.insert(a.iso3.clone(), model.id);
        inserted += 1;
    }
    comtrade_areas::Entity::delete_many().exec(txn).await?;
    let block = stamp.take(txn, areas.len()).await?;
    let rows: Vec<_> = areas
        .into_iter()
        .enumerate()
        .map(|(i, a)| comtrade_areas::ActiveModel {
            code: Set(a.code),
            country_id: Set(ids[&a.iso3]),
            name: Set(a.name),
            valid_from: Set(a.valid_from),
            valid_to: Set(a.valid_to),
            is_group: Set(a.is_group),
            import_run_id: Set(Some(stamp.run_id)),
            source_ref: Set(Some("comtrade_areas.csv".into())),
            change_seq: Set(block.first + i as i64),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        })
        .collect();
    insert_chunked(txn, rows).await?;
    Ok(inserted)
}

/// What an admin-area import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdminAreaCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// ISO 3166-2 codes of Pakistan's provinces and territories.
fn province_iso(name: &str) -> Option<&'static str> {
    Some(match reference::name_key(name).as_str() {
        "punjab" => "PK-PB",
        "sindh" => "PK-SD",
        "khyber pakhtunkhwa" => "PK-KP",
        "balochistan" => "PK-BA",
        "gilgit baltistan" => "PK-GB",
        "islamabad" | "islamabad capital territory" => "PK-IS",
        "azad jammu and kashmir" | "azad kashmir" => "PK-JK",
        _ => return None,
    })
}

/// Canonical names by (level, synonym key): misspellings in source lists become the
/// canonical name on import.
fn canonical_names() -> HashMap<(String, String), String> {
    reference::admin_area_synonyms()
        .into_iter()
        .map(|s| ((s.level, reference::name_key(&s.synonym)), s.name))
        .collect()
}

/// Imports admin-area rows (province > division > district > tehsil): areas are found again
/// by level, parent and normalised name; new ones are inserted, changed validity dates or
/// notes are updated. A district with a `former_parent` records that district. Runs inside
/// the caller's transaction.
pub async fn import_admin_areas(
    txn: &impl ConnectionTrait,
    stamp: &Stamp,
    rows: &[AdminAreaRow],
    file: &str,
) -> anyhow::Result<AdminAreaCounts> {
    let canonical = canonical_names();
    let canon = |level: &str, name: &str| -> String {
        canonical
            .get(&(level.to_owned(), reference::name_key(name)))
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    };
    let mut counts = AdminAreaCounts::default();
    let mut cache: HashMap<(String, Option<i64>, String), admin_areas::Model> =
        admin_areas::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|m| ((m.level.clone(), m.parent_id, m.name_key.clone()), m))
            .collect();

    let country = upsert_area(
        txn,
        stamp,
        &mut cache,
        &mut counts,
        Area::new("country", "Pakistan", None).iso("PK"),
        file,
    )
    .await?;
    for (line, row) in rows.iter().enumerate() {
        let source_ref = format!("{file}!R{}", line + 2);
        let province_name = canon("province", &row.province);
        let mut province = Area::new("province", &province_name, Some(country));
        if let Some(iso) = province_iso(&province_name) {
            province = province.iso(iso);
        }
        if reference::name_key(&province_name) == "federally administered tribal areas" {
            // Merged into Khyber Pakhtunkhwa by the 25th Amendment (31 May 2018).
            province.valid_to = NaiveDate::from_ymd_opt(2018, 5, 31);
        }
        let province =
            upsert_area(txn, stamp, &mut cache, &mut counts, province, &source_ref).await?;
        let division = upsert_area(
            txn,
            stamp,
            &mut cache,
            &mut counts,
            Area::new(
                "division",
                &canon("division", &row.division),
                Some(province),
            ),
            &source_ref,
        )
        .await?;
        let mut district = Area::new(
            "district",
            &canon("district", &row.district),
            Some(division),
        );
        if row.tehsil.is_none() {
            district.valid_from = row.valid_from;
            district.valid_to = row.valid_to;
            district.notes = row.notes.clone();
            if let Some(former) = &row.former_parent {
                let key = reference::name_key(&canon("district", former));
                district.former_parent_id = cache
                    .iter()
                    .find(|((level, _, name_key), m)| {
                        level == "district" && *name_key == key && m.valid_to.is_none()
                    })
                    .map(|(_, m)| m.id);
                anyhow::ensure!(
                    district.former_parent_id.is_some(),
                    "{source_ref}, column former_parent: no district named {former:?}"
                );
            }
        }
        let district =
            upsert_area(txn, stamp, &mut cache, &mut counts, district, &source_ref).await?;
        if let Some(tehsil) = &row.tehsil {
            let mut t = Area::new("tehsil", &canon("tehsil", tehsil), Some(district));
            t.valid_from = row.valid_from;
            t.valid_to = row.valid_to;
            t.notes = row.notes.clone();
            upsert_area(txn, stamp, &mut cache, &mut counts, t, &source_ref).await?;
        }
    }
    // Synonyms of the areas that exist now.
    let mut existing_syn: std::collections::HashSet<(i64, String)> =
        admin_area_synonyms::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|s| (s.admin_area_id, s.synonym_key))
            .collect();
    for s in reference::admin_area_synonyms() {
        let key = reference::name_key(&s.name);
        let syn_key = reference::name_key(&s.synonym);
        let targets: Vec<i64> = cache
            .iter()
            .filter(|((level, _, name_key), _)| *level == s.level && *name_key == key)
            .map(|(_, m)| m.id)
            .collect();
        for id in targets {
            if syn_key == key || !existing_syn.insert((id, syn_key.clone())) {
                continue;
            }
            let seq = stamp.next_seq(txn).await?;
            admin_area_synonyms::ActiveModel {
                admin_area_id: Set(id),
                synonym: Set(s.synonym.clone()),
                synonym_key: Set(syn_key.clone()),
                import_run_id: Set(Some(stamp.run_id)),
                source_ref: Set(Some("admin_area_synonyms.csv".into())),
                change_seq: Set(seq),
                created_at: Set(now()),
                updated_at: Set(now()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(counts)
}

struct Area {
    level: &'static str,
    name: String,
    parent_id: Option<i64>,
    iso_code: Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    former_parent_id: Option<i64>,
    notes: Option<String>,
}

impl Area {
    fn new(level: &'static str, name: &str, parent_id: Option<i64>) -> Self {
        Area {
            level,
            name: name.to_owned(),
            parent_id,
            iso_code: None,
            valid_from: None,
            valid_to: None,
            former_parent_id: None,
            notes: None,
        }
    }

    fn iso(mut self, code: &str) -> Self {
        self.iso_code = Some(code.to_owned());
        self
    }
}

async fn upsert_area(
    txn: &impl ConnectionTrait,
    stamp: &Stamp,
    cache: &mut HashMap<(String, Option<i64>, String), admin_areas::Model>,
    counts: &mut AdminAreaCounts,
    area: Area,
    source_ref: &str,
) -> anyhow::Result<i64> {
    let key = (
        area.level.to_owned(),
        area.parent_id,
        reference::name_key(&area.name),
    );
    if let Some(existing) = cache.get(&key) {
        let changed = (area.valid_from.is_some() && existing.valid_from != area.valid_from)
            || (area.valid_to.is_some() && existing.valid_to != area.valid_to)
            || (area.former_parent_id.is_some()
                && existing.former_parent_id != area.former_parent_id)
            || (area.notes.is_some() && existing.notes != area.notes)
            || (area.iso_code.is_some() && existing.iso_code != area.iso_code);
        if !changed {
            return Ok(existing.id);
        }
        let seq = stamp.next_seq(txn).await?;
        let mut model: admin_areas::ActiveModel = existing.clone().into();
        if area.valid_from.is_some() {
            model.valid_from = Set(area.valid_from);
        }
        if area.valid_to.is_some() {
            model.valid_to = Set(area.valid_to);
        }
        if area.former_parent_id.is_some() {
            model.former_parent_id = Set(area.former_parent_id);
        }
        if area.notes.is_some() {
            model.notes = Set(area.notes);
        }
        if area.iso_code.is_some() {
            model.iso_code = Set(area.iso_code);
        }
        model.import_run_id = Set(Some(stamp.run_id));
        model.source_ref = Set(Some(source_ref.to_owned()));
        model.change_seq = Set(seq);
        model.updated_at = Set(now());
        let updated = model.update(txn).await?;
        counts.updated += 1;
        let id = updated.id;
        cache.insert(key, updated);
        return Ok(id);
    }
    let seq = stamp.next_seq(txn).await?;
    let model = admin_areas::ActiveModel {
        level: Set(area.level.to_owned()),
        name_key: Set(key.2.clone()),
        name: Set(area.name),
        parent_id: Set(area.parent_id),
        former_parent_id: Set(area.former_parent_id),
        iso_code: Set(area.iso_code),
        valid_from: Set(area.valid_from),
        valid_to: Set(area.valid_to),
        notes: Set(area.notes),
        import_run_id: Set(Some(stamp.run_id)),
        source_ref: Set(Some(source_ref.to_owned())),
        change_seq: Set(seq),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    counts.inserted += 1;
    let id = model.id;
    cache.insert(key, model);
    Ok(id)
}

/// Imports an admin-area file (`hub admin-areas import FILE`) in one transaction, as an
/// import run of its own. A file error names the line and column and changes nothing.
pub async fn import_admin_area_file(
    db: &DatabaseConnection,
    path: &std::path::Path,
) -> anyhow::Result<AdminAreaCounts> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rows = reference::parse_admin_areas(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    anyhow::ensure!(!rows.is_empty(), "{file}: the file has no rows");
    let txn = db.begin().await?;
    let mut stamp =
        Stamp::begin(&txn, "admin-areas", env!("CARGO_PKG_VERSION"), Some(&file)).await?;
    let counts = import_admin_areas(&txn, &stamp, &rows, &file).await?;
    stamp.counts = (
        counts.inserted as i64,
        counts.updated as i64,
        counts.unchanged as i64,
    );
    stamp.finish(&txn, rows.len()).await?;
    crate::rollups::refresh(&txn).await?;
    txn.commit().await?;
    Ok(counts)
}

/// Finds admin areas by name, through synonyms, as valid on a date (or now).
#[derive(Debug, Default)]
pub struct AdminAreaIndex {
    areas: Vec<admin_areas::Model>,
    by_key: HashMap<(String, String), Vec<usize>>,
}

impl AdminAreaIndex {
    /// Reads all admin areas and synonyms.
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let areas = admin_areas::Entity::find().all(db).await?;
        let pos: HashMap<i64, usize> = areas.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        let mut by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, a) in areas.iter().enumerate() {
            by_key
                .entry((a.level.clone(), a.name_key.clone()))
                .or_default()
                .push(i);
        }
        for s in admin_area_synonyms::Entity::find().all(db).await? {
            if let Some(&i) = pos.get(&s.admin_area_id) {
                by_key
                    .entry((areas[i].level.clone(), s.synonym_key))
                    .or_default()
                    .push(i);
            }
        }
        Ok(AdminAreaIndex { areas, by_key })
    }

    fn candidates(&self, level: &str, name: &str) -> impl Iterator<Item = &admin_areas::Model> {
        self.by_key
            .get(&(level.to_owned(), reference::name_key(name)))
            .into_iter()
            .flatten()
            .map(|&i| &self.areas[i])
    }

    /// The district of this name valid on `on` (today when `None`).
    pub fn district(&self, name: &str, on: Option<NaiveDate>) -> Option<&admin_areas::Model> {
        let on = on.unwrap_or_else(|| chrono::Utc::now().date_naive());
        self.candidates("district", name).find(|a| valid_on(a, on))
    }

    /// The tehsil of this name within a district.
    pub fn tehsil(&self, district_id: i64, name: &str) -> Option<&admin_areas::Model> {
        self.candidates("tehsil", name)
            .find(|a| a.parent_id == Some(district_id))
    }

    /// An area by id.
    pub fn get(&self, id: i64) -> Option<&admin_areas::Model> {
        self.areas.iter().find(|a| a.id == id)
    }
}

fn valid_on(a: &admin_areas::Model, on: NaiveDate) -> bool {
    a.valid_from.is_none_or(|f| f <= on) && a.valid_to.is_none_or(|t| t >= on)
}
