//! The reference tables in `schema/reference/` that the generated data must
//! agree with: HS 2017 / HS 2022 nomenclatures, the Punjab admin areas, the
//! Comtrade area codes and ISIC Rev.4 classes. Every code and place name the
//! generator writes is checked against them, so a typo fails the run.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One HS code as listed in the Comtrade nomenclature files.
#[derive(Debug, Clone)]
pub struct HsCode {
    /// Description without the leading `"9018 - "`, as Comtrade's `cmdDesc`.
    pub desc: String,
    pub is_leaf: bool,
    pub aggr_level: u8,
    /// `u`, `2u`, `kg` or `n/a`.
    pub unit: String,
}

/// A Comtrade partner area.
#[derive(Debug, Clone)]
pub struct Area {
    pub iso3: String,
    pub name: String,
}

#[derive(Debug)]
pub struct Reference {
    pub hs2017: HashMap<String, HsCode>,
    pub hs2022: HashMap<String, HsCode>,
    /// `(district, tehsil)`, both normalised (trimmed, lower case, single spaces).
    admin: HashSet<(String, String)>,
    pub areas: HashMap<u32, Area>,
    isic_classes: HashSet<String>,
}

/// Trim, lower-case and collapse inner whitespace: how the raw admin list is compared.
pub fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn read_rows(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let rows = rdr.records().collect::<Result<Vec<_>, _>>()?;
    Ok((headers, rows))
}

fn col(headers: &csv::StringRecord, name: &str) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == name)
        .with_context(|| format!("column {name} missing"))
}

fn load_hs(path: &Path) -> Result<HashMap<String, HsCode>> {
    let (h, rows) = read_rows(path)?;
    let (id, text, leaf, level, unit) = (
        col(&h, "id")?,
        col(&h, "text")?,
        col(&h, "isLeaf")?,
        col(&h, "aggrlevel")?,
        col(&h, "standardUnitAbbr")?,
    );
    let mut out = HashMap::new();
    for r in rows {
        let code = r[id].to_string();
        let raw = &r[text];
        let desc = raw
            .strip_prefix(&format!("{code} - "))
            .unwrap_or(raw)
            .to_string();
        out.insert(
            code,
            HsCode {
                desc,
                is_leaf: &r[leaf] == "1",
                aggr_level: r[level].parse().unwrap_or(0),
                unit: r[unit].to_string(),
            },
        );
    }
    Ok(out)
}

impl Reference {
    pub fn load(dir: &Path) -> Result<Reference> {
        let hs2017 = load_hs(&dir.join("hs2017.csv"))?;
        let hs2022 = load_hs(&dir.join("hs2022.csv"))?;

        let (h, rows) = read_rows(&dir.join("pakistan_admin_areas_raw.csv"))?;
        let (d, t) = (col(&h, "district")?, col(&h, "tehsil")?);
        let admin = rows.iter().map(|r| (norm(&r[d]), norm(&r[t]))).collect();

        let (h, rows) = read_rows(&dir.join("comtrade_areas.csv"))?;
        let (c, iso, name) = (col(&h, "code")?, col(&h, "iso3")?, col(&h, "name")?);
        let mut areas = HashMap::new();
        for r in rows {
            if let Ok(code) = r[c].parse::<u32>() {
                areas.entry(code).or_insert(Area {
                    iso3: r[iso].to_string(),
                    name: r[name].to_string(),
                });
            }
        }

        let (h, rows) = read_rows(&dir.join("isic_rev4.csv"))?;
        let (code, level) = (col(&h, "code")?, col(&h, "level")?);
        let isic_classes = rows
            .iter()
            .filter(|r| &r[level] == "class")
            .map(|r| r[code].to_string())
            .collect();

        Ok(Reference {
            hs2017,
            hs2022,
            admin,
            areas,
            isic_classes,
        })
    }

    /// The nomenclature of a Comtrade classification code (`H5` or `H6`).
    pub fn hs(&self, classification: &str) -> &HashMap<String, HsCode> {
        if classification == "H6" {
            &self.hs2022
        } else {
            &self.hs2017
        }
    }

    /// The HS code, or an error naming the revision it is missing from.
    pub fn hs_code(&self, classification: &str, code: &str) -> Result<&HsCode> {
        self.hs(classification)
            .get(code)
            .with_context(|| format!("HS code {code} is not in the {classification} nomenclature"))
    }

    pub fn check_place(&self, district: &str, tehsil: &str) -> Result<()> {
        if !self.admin.contains(&(norm(district), norm(tehsil))) {
            bail!("{tehsil} ({district}) is not in pakistan_admin_areas_raw.csv");
        }
        Ok(())
    }

    pub fn check_district(&self, district: &str) -> Result<()> {
        if !self.admin.iter().any(|(d, _)| *d == norm(district)) {
            bail!("district {district} is not in pakistan_admin_areas_raw.csv");
        }
        Ok(())
    }

    /// A PSIC code must start with an ISIC Rev.4 class and add 1-3 digits.
    pub fn check_psic(&self, code: &str) -> Result<()> {
        let ok = (5..=7).contains(&code.len())
            && code.chars().all(|c| c.is_ascii_digit())
            && self.isic_classes.contains(&code[..4]);
        if !ok {
            bail!("{code} is not an ISIC Rev.4 class plus 1-3 digits");
        }
        Ok(())
    }

    pub fn area(&self, code: u32) -> Result<&Area> {
        self.areas
            .get(&code)
            .with_context(|| format!("area code {code} is not in comtrade_areas.csv"))
    }
}
