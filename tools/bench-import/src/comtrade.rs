//! The benchmark's Comtrade input: a UN Comtrade API v1 CSV (the 47 columns of the demo's
//! `comtrade_pak_exports_2017_2024.csv`) of Pakistan's annual trade by HS 2017 subheading,
//! which `hub import` reads with the importer `un-comtrade-v1`, picked by content.
//!
//! One row per flow: reporter 586 (Pakistan); partners among real Comtrade area codes
//! ([`PARTNERS`]: World 0, the USA 842, France 251, India 699, …, all in the hub's Comtrade
//! area list, so none is created on the way); flows `X` and `M`; classification `H5` with
//! the 5,388 six-digit subheadings of the bundled HS 2017 list
//! (`schema/reference/hs2017.csv`), their descriptions and standard quantity units; annual
//! periods 2015–2024 (`freqCode` A, `refMonth` 52, `period` YYYY, `refPeriodId` YYYY0101).
//!
//! The rows are an exact, uniformly drawn subset of all (year, flow, subheading, partner)
//! combinations (selection sampling, Knuth's Algorithm S), written in that order, as the
//! API sorts an answer: every flow identity (reporter, partner, flow, code, period) comes
//! once, and a run needs no memory beyond the subheading list. At most
//! [`max_rows`] rows (2,694,000).
//!
//! Values follow the demo file's shape: trade values of 10² to 10⁸ USD (ten times that for
//! World), FOB for exports and CIF for imports, net weights at 0.5 to 200 USD/kg, the
//! quantity in the subheading's unit (`8 kg`, `5 u`, `6 2u`, `12 m³`, … and `-1 N/A` where
//! HS has none), about 2% of the rows without a net weight, about 4% with an estimated
//! quantity and 4% with an estimated net weight (`legacyEstimationFlag` 2, 4 or 6 then);
//! the other columns as the demo has them (totals for the second partner, customs
//! procedure and transport).
//!
//! Deterministic: the generator of [`crate::generate`], seeded with the row count.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::RangeInclusive;

use crate::generate::Lcg;

/// The importer the hub must pick for the file by itself.
pub const IMPORTER: &str = "un-comtrade-v1";

/// The header of a Comtrade API v1 CSV answer, as the demo file has it.
pub const HEADER: &str = "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,\
reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,\
partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,\
cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,\
qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,\
isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,\
legacyEstimationFlag,isReported,isAggregate";

/// The reporter: Comtrade code, ISO3, name.
pub const REPORTER: (u16, &str, &str) = (586, "PAK", "Pakistan");

/// The partners: Comtrade area codes (not M49: the USA is 842, France 251, India 699)
/// with the ISO3 and name Comtrade writes; World first.
pub const PARTNERS: [(u16, &str, &str); 25] = [
    (0, "W00", "World"),
    (842, "USA", "USA"),
    (276, "DEU", "Germany"),
    (826, "GBR", "United Kingdom"),
    (251, "FRA", "France"),
    (380, "ITA", "Italy"),
    (724, "ESP", "Spain"),
    (528, "NLD", "Netherlands"),
    (56, "BEL", "Belgium"),
    (156, "CHN", "China"),
    (784, "ARE", "United Arab Emirates"),
    (682, "SAU", "Saudi Arabia"),
    (392, "JPN", "Japan"),
    (699, "IND", "India"),
    (50, "BGD", "Bangladesh"),
    (4, "AFG", "Afghanistan"),
    (364, "IRN", "Iran"),
    (124, "CAN", "Canada"),
    (36, "AUS", "Australia"),
    (410, "KOR", "Rep. of Korea"),
    (458, "MYS", "Malaysia"),
    (144, "LKA", "Sri Lanka"),
    (704, "VNM", "Viet Nam"),
    (360, "IDN", "Indonesia"),
    (764, "THA", "Thailand"),
];

/// The flows: code, description.
pub const FLOWS: [(&str, &str); 2] = [("X", "Export"), ("M", "Import")];

/// The years, annual data.
pub const YEARS: RangeInclusive<u16> = 2015..=2024;

/// The bundled HS 2017 list (`id,text,parent,isLeaf,aggrlevel,standardUnitAbbr`).
const HS2017: &str = include_str!("../../../schema/reference/hs2017.csv");

/// Comtrade's quantity unit codes by abbreviation (WCO standard units).
const QTY_UNITS: [(&str, i8); 13] = [
    ("n/a", -1),
    ("m²", 2),
    ("1000 kWh", 3),
    ("m", 4),
    ("u", 5),
    ("2u", 6),
    ("l", 7),
    ("kg", 8),
    ("1000u", 9),
    ("U (jeu/pack)", 10),
    ("12u", 11),
    ("m³", 12),
    ("carat", 13),
];

/// A six-digit HS 2017 subheading.
#[derive(Debug, Clone)]
pub struct Subheading {
    pub code: &'static str,
    /// The description as a CSV field (quoted when it must be).
    pub desc_field: String,
    /// Comtrade's quantity unit code and abbreviation (`-1`, `N/A` where there is none).
    pub unit: (i8, &'static str),
}

/// The six-digit subheadings of HS 2017, in the list's order.
#[must_use]
pub fn subheadings() -> Vec<Subheading> {
    HS2017
        .lines()
        .skip(1)
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            let (code, rest) = line.split_once(',')?;
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // text (maybe quoted, with commas), parent, isLeaf, aggrlevel, unit.
            let mut tail = rest.rsplitn(5, ',');
            let unit = tail.next()?;
            let text = tail.nth(3)?;
            let text = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => text.to_owned(),
            };
            let desc = text
                .strip_prefix(code)
                .and_then(|t| t.strip_prefix(" - "))
                .unwrap_or(&text);
            let unit = QTY_UNITS.iter().find(|(abbr, _)| *abbr == unit).map_or(
                (-1, "N/A"),
                |&(abbr, code)| {
                    if code < 0 { (-1, "N/A") } else { (code, abbr) }
                },
            );
            Some(Subheading {
                code,
                desc_field: csv_field(desc),
                unit,
            })
        })
        .collect()
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The number of distinct flows (year, flow, subheading, partner): the most rows a file
/// can have.
#[must_use]
pub fn max_rows() -> u64 {
    space(subheadings().len())
}

fn space(subheadings: usize) -> u64 {
    YEARS.len() as u64 * FLOWS.len() as u64 * subheadings as u64 * PARTNERS.len() as u64
}

/// Writes the header and `rows` data rows (at most [`max_rows`]).
pub fn write_csv(out: &mut impl Write, rows: u64) -> io::Result<()> {
    let subheadings = subheadings();
    let total = space(subheadings.len());
    if rows > total {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a Comtrade file has at most {total} distinct flows, not {rows}"),
        ));
    }
    let mut pick = Lcg::new(rows.wrapping_mul(97).wrapping_add(586));
    let mut rng = Lcg::new(rows.wrapping_mul(131).wrapping_add(2017));
    writeln!(out, "{HEADER}")?;
    let mut line = String::with_capacity(512);
    let mut seen = 0u64;
    let mut written = 0u64;
    'all: for year in YEARS {
        for (flow, flow_desc) in FLOWS {
            for sub in &subheadings {
                for (partner, partner_iso, partner_desc) in PARTNERS {
                    if written == rows {
                        break 'all;
                    }
                    // Algorithm S: take this flow with probability (still wanted) / (left).
                    let left = total - seen;
                    seen += 1;
                    if pick.next_u64() % left >= rows - written {
                        continue;
                    }
                    written += 1;
                    line.clear();
                    flow_row(
                        &mut line,
                        &mut rng,
                        year,
                        (flow, flow_desc),
                        sub,
                        (partner, partner_iso, partner_desc),
                    );
                    out.write_all(line.as_bytes())?;
                }
            }
        }
    }
    debug_assert_eq!(written, rows);
    Ok(())
}

/// One data row, with its line break.
fn flow_row(
    line: &mut String,
    rng: &mut Lcg,
    year: u16,
    (flow, flow_desc): (&str, &str),
    sub: &Subheading,
    (partner, partner_iso, partner_desc): (u16, &str, &str),
) {
    let world = partner == 0;
    // 10^2 .. 10^8 USD, log-uniform; World ten times more.
    let magnitude = 10u64.pow(rng.range(2, 7));
    let mut value = magnitude + rng.next_u64() % (9 * magnitude);
    if world {
        value *= 10;
    }
    // 0.5 .. 200 USD/kg, in cents.
    let cents_per_kg = u64::from(rng.range(50, 20_000));
    let net_weight = (rng.chance(98)).then(|| (value * 100 / cents_per_kg).max(1));
    let (unit_code, unit) = sub.unit;
    let qty = match unit {
        "N/A" => None,
        "kg" => net_weight,
        // 1 .. 500 USD a unit, in cents.
        _ => Some((value * 100 / u64::from(rng.range(100, 50_000))).max(1)),
    };
    let qty_estimated = qty.is_some() && rng.chance(4);
    let weight_estimated = net_weight.is_some() && rng.chance(4);
    let legacy_flag = 2 * u8::from(qty_estimated) + 4 * u8::from(weight_estimated);
    let (cif, fob) = if flow == "X" {
        (None, Some(value))
    } else {
        (Some(value), None)
    };
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let py = |b: bool| if b { "True" } else { "False" };
    let (reporter, reporter_iso, reporter_desc) = REPORTER;
    let _ = writeln!(
        line,
        "C,A,{year}0101,{year},52,{year},{reporter},{reporter_iso},{reporter_desc},\
         {flow},{flow_desc},{partner},{partner_iso},{partner_desc},0,W00,World,H5,HS,True,\
         {code},{desc},6,1,C00,TOTAL CPC,0,0,TOTAL MOT,{unit_code},{unit},{qty},{qe},\
         {unit_code},{unit},{qty},{qe},{wgt},{we},,False,{cif},{fob},{value},{legacy_flag},\
         True,{aggregate}",
        code = sub.code,
        desc = sub.desc_field,
        qty = opt(qty),
        qe = py(qty_estimated),
        wgt = opt(net_weight),
        we = py(weight_estimated),
        cif = opt(cif),
        fob = opt(fob),
        aggregate = py(world),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn generate(rows: u64) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Splits a CSV line, honouring quotes.
    fn fields(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(String::new()),
                _ => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }

    #[test]
    fn the_header_is_the_demo_files() {
        let demo = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../hub/demo/comtrade_pak_exports_2017_2024.csv"
        ))
        .unwrap();
        assert_eq!(demo.lines().next(), Some(HEADER));
        assert_eq!(HEADER.split(',').count(), 47);
    }

    #[test]
    fn the_subheadings_are_hs2017s_six_digit_codes() {
        let subs = subheadings();
        assert_eq!(subs.len(), 5_388);
        assert_eq!(max_rows(), 2_694_000);
        let first = &subs[0];
        assert_eq!(first.code, "010121");
        assert_eq!(
            first.desc_field,
            "\"Horses; live, pure-bred breeding animals\""
        );
        assert_eq!(first.unit, (5, "u"));
        let codes: BTreeSet<&str> = subs.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), subs.len());
        assert!(codes.contains("420221") && codes.contains("902190"));
        let units: BTreeSet<_> = subs.iter().map(|s| s.unit).collect();
        assert!(units.contains(&(8, "kg")) && units.contains(&(-1, "N/A")));
        assert!(units.contains(&(12, "m³")) && units.contains(&(6, "2u")));
    }

    #[test]
    fn the_csv_is_deterministic_with_unique_flows() {
        let text = generate(3_001);
        assert_eq!(text, generate(3_001), "same rows, same bytes");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(HEADER));
        let header: Vec<&str> = HEADER.split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let rows: Vec<Vec<String>> = lines.map(fields).collect();
        assert_eq!(rows.len(), 3_001);
        let codes: BTreeSet<&str> = subheadings().iter().map(|s| s.code).collect();
        let partners: BTreeSet<String> = PARTNERS.iter().map(|p| p.0.to_string()).collect();
        let mut flows = BTreeSet::new();
        let (mut years, mut flow_codes, mut with_partner) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut estimated = 0;
        for row in &rows {
            assert_eq!(row.len(), 47, "{row:?}");
            let get = |name: &str| row[col(name)].as_str();
            let identity = (
                get("reporterCode").to_owned(),
                get("partnerCode").to_owned(),
                get("flowCode").to_owned(),
                get("cmdCode").to_owned(),
                get("period").to_owned(),
            );
            assert!(flows.insert(identity), "flow repeated: {row:?}");
            assert_eq!(get("reporterCode"), "586");
            assert!(partners.contains(get("partnerCode")), "{row:?}");
            assert!(codes.contains(get("cmdCode")), "{row:?}");
            assert_eq!(
                (get("freqCode"), get("refMonth"), get("classificationCode")),
                ("A", "52", "H5")
            );
            let year: u16 = get("refYear").parse().unwrap();
            assert!(YEARS.contains(&year));
            assert_eq!(get("period"), year.to_string());
            assert_eq!(get("refPeriodId"), format!("{year}0101"));
            let value: u64 = get("primaryValue").parse().unwrap();
            let (cif, fob) = (get("cifvalue"), get("fobvalue"));
            match get("flowCode") {
                "X" => assert_eq!((cif, fob), ("", get("primaryValue"))),
                "M" => assert_eq!((cif, fob), (get("primaryValue"), "")),
                other => panic!("flow {other}"),
            }
            assert!(value >= 100);
            if get("qtyUnitCode") == "-1" {
                assert_eq!((get("qtyUnitAbbr"), get("qty")), ("N/A", ""));
            }
            let flag: u8 = get("legacyEstimationFlag").parse().unwrap();
            let qe = get("isQtyEstimated") == "True";
            let we = get("isNetWgtEstimated") == "True";
            assert_eq!(flag, 2 * u8::from(qe) + 4 * u8::from(we), "{row:?}");
            estimated += usize::from(qe || we);
            assert_eq!(
                get("isAggregate"),
                if get("partnerCode") == "0" {
                    "True"
                } else {
                    "False"
                }
            );
            years.insert(year);
            flow_codes.insert(get("flowCode").to_owned());
            with_partner.insert(get("partnerCode").to_owned());
        }
        assert_eq!(years.len(), YEARS.len());
        assert_eq!(flow_codes.len(), 2);
        assert_eq!(with_partner.len(), PARTNERS.len());
        assert!((100..=500).contains(&estimated), "{estimated}");
        // In the API's order: by year first.
        assert!(rows.windows(2).all(|w| w[0][3] <= w[1][3]));
        assert_eq!(generate(0).lines().count(), 1);
        assert!(write_csv(&mut io::sink(), max_rows() + 1).is_err());
    }
}
