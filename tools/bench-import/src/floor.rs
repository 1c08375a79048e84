//! The floor: the engine's own bulk loader filling the same tables, with the same indexes
//! and foreign keys, as the pipeline does for the benchmark's CSV.
//!
//! The CSV goes into a temporary staging table with `sqlite3`'s `.import` or PostgreSQL's
//! `COPY` (psql `\copy`); set-based `INSERT … SELECT` statements then write, in one
//! transaction, an import run, the source and the rows:
//!
//! - firms ([`script`]): one organisation, one organisation source record and one NTN
//!   identifier per firm, and one firm observation per row, with district ids looked up in
//!   the admin areas;
//! - Comtrade ([`comtrade_script`]): one trade flow per row, reporter and partner resolved
//!   through the Comtrade area list (`comtrade_areas`, effective-dated, to `countries`) for
//!   the year, the HS revision's classification id (`H5` is `HS2017`), the `hs2`/`hs4`/`hs6`
//!   columns cut from the code, the year's period columns, values in USD, quantity unit,
//!   estimation booleans and the legacy estimation flag as the importer passes them, under
//!   the source `un-comtrade` as the hub's default configuration describes it;
//!
//! each with provenance (run, source reference) and change numbers. What the floor leaves
//! out is what the pipeline exists for: validation, finding records again, linking,
//! survivorship and content hashes.

use std::path::Path;

use crate::comtrade;

/// The two engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// The floor script for `engine`, loading `csv` (an absolute path).
pub fn script(engine: Engine, csv: &Path) -> String {
    let csv = csv.to_string_lossy().replace('\'', "''");
    let file = "firms.csv";
    // Engine-specific pieces: loading, row numbers, dates, the current time.
    let (prologue, load, rownum, start, end, now, epilogue) = match engine {
        Engine::Sqlite => (
            ".bail on\nPRAGMA foreign_keys = ON;\nPRAGMA synchronous = NORMAL;\n\
             CREATE TEMP TABLE staging(firm_id TEXT, firm_name TEXT, district TEXT, ntn TEXT, \
             year INTEGER, employees INTEGER, female INTEGER, turnover REAL, exports REAL);\n"
                .to_owned(),
            format!(".import --csv --skip 1 --schema temp '{csv}' staging\nBEGIN;\n"),
            "st.rowid",
            "printf('%04d-01-01', st.year)",
            "printf('%04d-12-31', st.year)",
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
            "COMMIT;\n".to_owned(),
        ),
        Engine::Postgres => (
            "CREATE TEMP TABLE staging(rn bigserial, firm_id text, firm_name text, district text, \
             ntn text, year int, employees int, female int, turnover double precision, \
             exports double precision);\n"
                .to_owned(),
            format!(
                "\\copy staging(firm_id, firm_name, district, ntn, year, employees, female, \
                 turnover, exports) FROM '{csv}' WITH (FORMAT csv, HEADER true)\n\
                 ANALYZE staging;\n"
            ),
            "st.rn",
            "make_date(st.year, 1, 1)",
            "make_date(st.year, 12, 31)",
            "now()",
            "SELECT setval(pg_get_serial_sequence('organisations', 'id'), \
             (SELECT max(id) FROM organisations));\n\
             SELECT setval(pg_get_serial_sequence('organisation_source_records', 'id'), \
             (SELECT max(id) FROM organisation_source_records));\n"
                .to_owned(),
        ),
    };
    let firms_index = if engine == Engine::Postgres {
        "ANALYZE firms;\n"
    } else {
        ""
    };
    format!(
        "{prologue}{load}\
INSERT INTO import_runs(importer_id, importer_version, file_name, status, started_at)
  VALUES ('floor', '0', '{file}', 'running', {now});
CREATE TEMP TABLE firms(n BIGINT PRIMARY KEY, firm_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  district TEXT, ntn TEXT, first_row BIGINT NOT NULL);
INSERT INTO firms(n, firm_id, name, district, ntn, first_row)
  SELECT row_number() OVER (ORDER BY min({rownum})), st.firm_id, min(st.firm_name),
         min(st.district), min(NULLIF(st.ntn, '')), min({rownum})
  FROM staging st GROUP BY st.firm_id;
{firms_index}CREATE TEMP TABLE districts AS
  SELECT d.district,
         (SELECT a.id FROM admin_areas a WHERE a.level = 'district'
            AND a.name_key = lower(d.district) ORDER BY a.id LIMIT 1) AS id
  FROM (SELECT DISTINCT district FROM firms) d;
CREATE TEMP TABLE base AS SELECT
  (SELECT coalesce(max(id), 0) FROM organisations) AS org,
  (SELECT coalesce(max(id), 0) FROM organisation_source_records) AS osr,
  (SELECT last_seq FROM change_counter) AS seq,
  (SELECT count(*) FROM firms) AS f,
  (SELECT count(*) FROM staging) AS r,
  (SELECT max(id) FROM import_runs) AS run,
  {now} AS at;
INSERT INTO sources(code, name, kind, priority, import_run_id, source_ref, change_seq,
                    created_at, updated_at)
  SELECT 'bench', 'bench', 'spreadsheet', 50, b.run, '{file}', b.seq + 1, b.at, b.at FROM base b;
INSERT INTO organisations(id, kind, name, name_key, district_id, import_run_id, source_ref,
                          change_seq, created_at, updated_at)
  SELECT b.org + f.n, 'firm', f.name, lower(f.name), d.id, b.run,
         '{file}!R' || (f.first_row + 1), b.seq + 1 + f.n, b.at, b.at
  FROM firms f CROSS JOIN base b LEFT JOIN districts d ON d.district = f.district;
INSERT INTO organisation_source_records(id, source_id, source_key, organisation_id, kind, name,
    name_key, district_text, district_id, import_run_id, source_ref, change_seq, created_at,
    updated_at)
  SELECT b.osr + f.n, s.id, f.firm_id, b.org + f.n, 'firm', f.name, lower(f.name), f.district,
         d.id, b.run, '{file}!R' || (f.first_row + 1), b.seq + 1 + b.f + f.n, b.at, b.at
  FROM firms f CROSS JOIN base b CROSS JOIN (SELECT id FROM sources WHERE code = 'bench') s
  LEFT JOIN districts d ON d.district = f.district;
INSERT INTO organisation_identifiers(organisation_id, source_record_id, scheme, value, display,
    import_run_id, source_ref, change_seq, created_at, updated_at)
  SELECT b.org + f.n, b.osr + f.n, 'PK-NTN', f.ntn, f.ntn, b.run,
         '{file}!R' || (f.first_row + 1), b.seq + 1 + 2 * b.f + f.n, b.at, b.at
  FROM firms f CROSS JOIN base b WHERE f.ntn IS NOT NULL;
INSERT INTO firm_observations(organisation_id, source_record_id, source_id, period_kind,
    period_start, period_end, employees_total, employees_female, turnover_pkr, exports_usd,
    import_run_id, source_ref, change_seq, created_at, updated_at)
  SELECT b.org + f.n, b.osr + f.n, s.id, 'year', {start}, {end}, st.employees, st.female,
         st.turnover, st.exports, b.run, '{file}!R' || ({rownum} + 1),
         b.seq + 1 + 3 * b.f + {rownum}, b.at, b.at
  FROM staging st JOIN firms f ON f.firm_id = st.firm_id CROSS JOIN base b
  CROSS JOIN (SELECT id FROM sources WHERE code = 'bench') s;
UPDATE change_counter SET last_seq = (SELECT seq + 1 + 3 * f + r FROM base);
UPDATE import_runs SET status = 'applied', finished_at = {now},
  rows_read = (SELECT r FROM base), inserted = (SELECT 1 + 2 * f + r FROM base)
  WHERE id = (SELECT run FROM base);
{epilogue}"
    )
}

/// The Comtrade floor script for `engine`, loading `csv` (an absolute path to a UN Comtrade
/// API v1 CSV of annual flows).
pub fn comtrade_script(engine: Engine, csv: &Path) -> String {
    let file = csv
        .file_name()
        .map_or_else(|| "comtrade.csv".into(), |n| n.to_string_lossy())
        .replace('\'', "''");
    let csv = csv.to_string_lossy().replace('\'', "''");
    // The staging table: the header's columns, lower-cased and quoted (`period` is a
    // keyword), typed where the INSERT reads numbers or booleans.
    let columns: Vec<String> = comtrade::HEADER
        .split(',')
        .map(str::to_ascii_lowercase)
        .collect();
    let typed = |name: &str| -> &str {
        match (name, engine) {
            ("refyear" | "reportercode" | "partnercode", Engine::Sqlite) => "INTEGER",
            ("refyear" | "reportercode" | "partnercode", Engine::Postgres) => "int",
            ("qty" | "netwgt" | "primaryvalue", Engine::Sqlite) => "REAL",
            ("qty" | "netwgt" | "primaryvalue", Engine::Postgres) => "double precision",
            ("isqtyestimated" | "isnetwgtestimated", Engine::Postgres) => "boolean",
            (_, Engine::Sqlite) => "TEXT",
            (_, Engine::Postgres) => "text",
        }
    };
    let staging = columns
        .iter()
        .map(|c| format!("\"{c}\" {}", typed(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let quoted = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // Engine-specific pieces: loading, row numbers, dates, the current time, empty numbers
    // (SQLite's `.import` writes '' where PostgreSQL's COPY writes NULL) and booleans.
    let (prologue, load, rownum, now, epilogue) = match engine {
        Engine::Sqlite => (
            format!(
                ".bail on\nPRAGMA foreign_keys = ON;\nPRAGMA synchronous = NORMAL;\n\
                 CREATE TEMP TABLE staging({staging});\n"
            ),
            format!(".import --csv --skip 1 --schema temp '{csv}' staging\nBEGIN;\n"),
            "st.rowid",
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
            "COMMIT;\n",
        ),
        Engine::Postgres => (
            format!("CREATE TEMP TABLE staging(rn bigserial, {staging});\n"),
            format!(
                "\\copy staging({quoted}) FROM '{csv}' WITH (FORMAT csv, HEADER true)\n\
                 ANALYZE staging;\n"
            ),
            "st.rn",
            "now()",
            "",
        ),
    };
    let date = |year: &str, month: u8, day: u8| match engine {
        Engine::Sqlite => format!("printf('%04d-{month:02}-{day:02}', {year})"),
        Engine::Postgres => format!("make_date({year}, {month}, {day})"),
    };
    let num = |col: &str| match engine {
        Engine::Sqlite => format!("NULLIF(st.{col}, '')"),
        Engine::Postgres => format!("st.{col}"),
    };
    let boolean = |col: &str| match engine {
        Engine::Sqlite => format!("(lower(st.{col}) = 'true')"),
        Engine::Postgres => format!("coalesce(st.{col}, false)"),
    };
    let analyze = if engine == Engine::Postgres {
        "ANALYZE area_years;\n"
    } else {
        ""
    };
    let (start, end) = (date("st.refyear", 1, 1), date("st.refyear", 12, 31));
    let year_start = date("a_y.year", 1, 1);
    let (value, net_weight, qty) = (num("primaryvalue"), num("netwgt"), num("qty"));
    let (qty_estimated, weight_estimated) =
        (boolean("isqtyestimated"), boolean("isnetwgtestimated"));
    format!(
        "{prologue}{load}\
INSERT INTO import_runs(importer_id, importer_version, file_name, status, started_at)
  VALUES ('floor', '0', '{file}', 'running', {now});
CREATE TEMP TABLE hs_revisions(code TEXT PRIMARY KEY, classification_id BIGINT NOT NULL);
INSERT INTO hs_revisions(code, classification_id)
  SELECT v.code, c.id FROM (SELECT 'H0' AS code, 'HS1992' AS name UNION ALL
    SELECT 'H1', 'HS1996' UNION ALL SELECT 'H2', 'HS2002' UNION ALL SELECT 'H3', 'HS2007'
    UNION ALL SELECT 'H4', 'HS2012' UNION ALL SELECT 'H5', 'HS2017' UNION ALL
    SELECT 'H6', 'HS2022') v
  JOIN classifications c ON c.code = v.name;
CREATE TEMP TABLE area_years(code INTEGER NOT NULL, year INTEGER NOT NULL, country_id BIGINT,
  PRIMARY KEY (code, year));
INSERT INTO area_years(code, year, country_id)
  SELECT a_y.code, a_y.year,
         (SELECT a.country_id FROM comtrade_areas a WHERE a.code = a_y.code
            AND (a.valid_from IS NULL OR a.valid_from <= {year_start})
            AND (a.valid_to IS NULL OR a.valid_to >= {year_start})
          ORDER BY a.id LIMIT 1)
  FROM (SELECT reportercode AS code, refyear AS year FROM staging
        UNION SELECT partnercode, refyear FROM staging) a_y;
{analyze}CREATE TEMP TABLE base AS SELECT
  (SELECT last_seq FROM change_counter) AS seq,
  (SELECT count(*) FROM staging) AS r,
  (SELECT max(id) FROM import_runs) AS run,
  {now} AS at;
INSERT INTO sources(code, name, kind, priority, import_run_id, source_ref, change_seq,
                    created_at, updated_at)
  SELECT 'un-comtrade', 'UN Comtrade', 'trade_statistics', 10, b.run, 'source:un-comtrade',
         b.seq + 1, b.at, b.at FROM base b;
INSERT INTO trade_flows(source_id, reporter_id, partner_id, flow, classification_id,
    commodity_code, hs2, hs4, hs6, aggregate_level, period_kind, period_start, period_end,
    breakdown_key, value_usd, original_value, original_currency, original_unit_multiplier,
    net_weight_kg, quantity, quantity_unit, is_value_estimated, is_quantity_estimated,
    is_net_weight_estimated, flags, import_run_id, source_ref, change_seq, created_at,
    updated_at)
  SELECT s.id, r.country_id, p.country_id,
         CASE upper(st.flowcode) WHEN 'M' THEN 'import' WHEN 'X' THEN 'export'
           WHEN 'RM' THEN 're_import' WHEN 'RX' THEN 're_export' END,
         h.classification_id, st.cmdcode, substr(st.cmdcode, 1, 2),
         CASE WHEN length(st.cmdcode) >= 4 THEN substr(st.cmdcode, 1, 4) END,
         CASE WHEN length(st.cmdcode) >= 6 THEN substr(st.cmdcode, 1, 6) END,
         length(st.cmdcode), 'year', {start}, {end}, '',
         {value}, {value}, 'USD', 0, {net_weight}, {qty},
         CASE WHEN st.qtyunitcode = '-1' OR upper(st.qtyunitabbr) = 'N/A'
                OR st.qtyunitabbr = '' THEN NULL ELSE st.qtyunitabbr END,
         FALSE, {qty_estimated}, {weight_estimated},
         CASE WHEN st.legacyestimationflag NOT IN ('', '0')
           THEN 'legacyEstimationFlag=' || st.legacyestimationflag END,
         b.run, '{file}!R' || ({rownum} + 1), b.seq + 1 + {rownum}, b.at, b.at
  FROM staging st CROSS JOIN base b
  CROSS JOIN (SELECT id FROM sources WHERE code = 'un-comtrade') s
  JOIN hs_revisions h ON h.code = upper(st.classificationcode)
  JOIN area_years r ON r.code = st.reportercode AND r.year = st.refyear
  JOIN area_years p ON p.code = st.partnercode AND p.year = st.refyear;
UPDATE change_counter SET last_seq = (SELECT seq + 1 + r FROM base);
UPDATE import_runs SET status = 'applied', finished_at = {now},
  rows_read = (SELECT r FROM base), inserted = (SELECT 1 + r FROM base)
  WHERE id = (SELECT run FROM base);
{epilogue}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_load_with_the_engines_own_loader() {
        let sqlite = script(Engine::Sqlite, Path::new("/tmp/x/firms.csv"));
        assert!(sqlite.contains(".import --csv --skip 1 --schema temp '/tmp/x/firms.csv' staging"));
        assert!(sqlite.trim_end().ends_with("COMMIT;"));
        let pg = script(Engine::Postgres, Path::new("/tmp/o'k/firms.csv"));
        assert!(pg.contains("\\copy staging(") && pg.contains("FROM '/tmp/o''k/firms.csv'"));
        for table in [
            "sources",
            "organisations",
            "organisation_source_records",
            "organisation_identifiers",
            "firm_observations",
        ] {
            assert!(pg.contains(&format!("INSERT INTO {table}(")), "{table}");
        }
    }

    #[test]
    fn comtrade_scripts_stage_the_whole_header() {
        let sqlite = comtrade_script(Engine::Sqlite, Path::new("/tmp/x/comtrade-20.csv"));
        assert!(sqlite.contains(".import --csv --skip 1 --schema temp '/tmp/x/comtrade-20.csv'"));
        assert!(sqlite.contains("'comtrade-20.csv!R' || (st.rowid + 1)"));
        assert!(sqlite.contains("\"period\" TEXT") && sqlite.contains("\"refyear\" INTEGER"));
        assert!(sqlite.trim_end().ends_with("COMMIT;"));
        let pg = comtrade_script(Engine::Postgres, Path::new("/tmp/o'k/comtrade.csv"));
        let copy = pg
            .lines()
            .find(|l| l.starts_with("\\copy staging("))
            .unwrap();
        assert_eq!(
            copy.matches('"').count(),
            2 * 47,
            "the 47 columns, in one line"
        );
        assert!(copy.ends_with("FROM '/tmp/o''k/comtrade.csv' WITH (FORMAT csv, HEADER true)"));
        assert!(pg.contains("make_date(st.refyear, 12, 31)"));
        for script in [&sqlite, &pg] {
            for table in ["import_runs", "sources", "trade_flows"] {
                assert!(script.contains(&format!("INSERT INTO {table}(")), "{table}");
            }
        }
    }
}
