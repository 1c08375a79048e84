//! The floor: the engine's own bulk loader filling the same tables, with the same indexes
//! and foreign keys, as the pipeline does for the benchmark's CSV.
//!
//! The CSV goes into a temporary staging table with `sqlite3`'s `.import` or PostgreSQL's
//! `COPY` (psql `\copy`); set-based `INSERT … SELECT` statements then write, in one
//! transaction, an import run, the source, one organisation, one organisation source record
//! and one NTN identifier per firm, and one firm observation per row, with district ids
//! looked up in the admin areas, provenance (run, source reference) and change numbers.
//! What the floor leaves out is what the pipeline exists for: validation, finding records
//! again, linking, survivorship and content hashes.

use std::path::Path;

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
}
