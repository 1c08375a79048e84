//! Pakistan's exports of the clusters' HS baskets 2017-2024 in the UN Comtrade
//! API v1 CSV layout: `comtrade_pak_exports_2017_2024.csv`.
//!
//! For every year the file holds, for each selected 6-digit subheading, one
//! row per partner with trade plus a World row (World = the listed partners
//! plus an "other partners" margin). 4-digit headings are the exact sum of
//! their listed subheadings, partner by partner; for the garment chapters 61
//! and 62 there are also 2-digit rows (listed headings plus the chapter's
//! other headings). One `TOTAL` row per year gives Pakistan's total exports.
//! HS 2017 (H5) codes up to 2021, HS 2022 (H6) from 2022; every code is
//! checked against the nomenclature files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use rand::Rng;
use rand::rngs::StdRng;

use crate::reference::Reference;
use crate::util::csv_writer;

const YEARS: [i32; 8] = [2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024];

/// Pakistan's total exports, billion USD (rounded public magnitudes).
const TOTAL_BN: [f64; 8] = [21.9, 23.6, 23.8, 22.2, 28.8, 31.0, 27.7, 30.6];

/// A subheading: 2017 World exports (million USD), USD per quantity unit and per kg.
struct Leaf(&'static str, f64, f64, f64);

struct Basket {
    /// Export index per year, 2017 = 1.
    index: [f64; 8],
    /// Comtrade partner code and typical share.
    partners: &'static [(u32, f64)],
    /// Headings and their subheadings.
    headings: &'static [(&'static str, &'static [Leaf])],
    /// 2-digit chapters reported too, with the ratio of the whole chapter to its listed headings.
    chapters: &'static [(&'static str, f64)],
}

const BASKETS: &[Basket] = &[
    // sialkot-surgical
    Basket {
        index: [1.00, 1.06, 1.10, 0.95, 1.20, 1.28, 1.24, 1.31],
        partners: &[
            (842, 0.40),
            (276, 0.16),
            (826, 0.06),
            (251, 0.05),
            (380, 0.04),
            (724, 0.03),
            (528, 0.03),
            (56, 0.02),
            (156, 0.02),
            (784, 0.03),
            (682, 0.03),
            (392, 0.03),
        ],
        headings: &[
            (
                "9018",
                &[
                    Leaf("901890", 330.0, 3.5, 45.0),
                    Leaf("901849", 20.0, 4.0, 60.0),
                    Leaf("901850", 9.0, 50.0, 50.0),
                    Leaf("901832", 7.0, 30.0, 30.0),
                ],
            ),
            (
                "9021",
                &[
                    Leaf("902110", 18.0, 25.0, 25.0),
                    Leaf("902190", 5.0, 30.0, 30.0),
                ],
            ),
        ],
        chapters: &[],
    },
    // lahore-garments
    Basket {
        index: [1.00, 1.05, 1.09, 0.93, 1.30, 1.42, 1.30, 1.38],
        partners: &[
            (842, 0.32),
            (826, 0.12),
            (276, 0.10),
            (724, 0.09),
            (528, 0.08),
            (56, 0.05),
            (251, 0.05),
            (380, 0.04),
            (784, 0.03),
            (682, 0.02),
            (156, 0.01),
            (392, 0.01),
        ],
        headings: &[
            ("6105", &[Leaf("610510", 120.0, 4.5, 14.0)]),
            (
                "6109",
                &[
                    Leaf("610910", 450.0, 2.2, 11.0),
                    Leaf("610990", 60.0, 2.8, 12.0),
                ],
            ),
            (
                "6110",
                &[
                    Leaf("611020", 220.0, 6.0, 13.0),
                    Leaf("611030", 90.0, 5.0, 12.0),
                ],
            ),
            (
                "6203",
                &[
                    Leaf("620342", 700.0, 7.0, 13.0),
                    Leaf("620343", 40.0, 6.5, 12.0),
                ],
            ),
            (
                "6204",
                &[
                    Leaf("620462", 250.0, 6.0, 13.0),
                    Leaf("620442", 15.0, 8.0, 14.0),
                ],
            ),
        ],
        chapters: &[("61", 2.9), ("62", 2.15)],
    },
    // lahore-leather-footwear
    Basket {
        index: [1.00, 0.97, 0.99, 0.82, 1.05, 1.12, 1.02, 1.06],
        partners: &[
            (276, 0.18),
            (842, 0.15),
            (826, 0.10),
            (380, 0.10),
            (251, 0.08),
            (724, 0.05),
            (528, 0.05),
            (56, 0.04),
            (784, 0.04),
            (682, 0.03),
            (156, 0.03),
            (392, 0.02),
        ],
        headings: &[
            (
                "4202",
                &[
                    Leaf("420221", 12.0, 12.0, 25.0),
                    Leaf("420291", 15.0, 20.0, 20.0),
                ],
            ),
            (
                "4203",
                &[
                    Leaf("420310", 250.0, 40.0, 40.0),
                    Leaf("420321", 200.0, 35.0, 35.0),
                    Leaf("420329", 120.0, 30.0, 30.0),
                ],
            ),
            (
                "6403",
                &[
                    Leaf("640399", 40.0, 9.0, 14.0),
                    Leaf("640359", 25.0, 18.0, 22.0),
                    Leaf("640391", 15.0, 14.0, 16.0),
                ],
            ),
            ("6405", &[Leaf("640510", 5.0, 8.0, 12.0)]),
            ("6406", &[Leaf("640610", 15.0, 20.0, 20.0)]),
        ],
        chapters: &[],
    },
    // lahore-auto-parts
    Basket {
        index: [1.00, 1.08, 1.02, 0.80, 1.15, 1.25, 1.10, 1.20],
        partners: &[
            (784, 0.14),
            (682, 0.10),
            (842, 0.12),
            (826, 0.08),
            (276, 0.08),
            (156, 0.05),
            (392, 0.05),
            (251, 0.04),
            (380, 0.04),
            (724, 0.03),
            (528, 0.03),
            (56, 0.02),
        ],
        headings: &[
            (
                "8708",
                &[
                    Leaf("870899", 9.0, 6.0, 6.0),
                    Leaf("870830", 3.0, 7.0, 7.0),
                    Leaf("870870", 2.0, 4.0, 4.0),
                ],
            ),
            (
                "8714",
                &[Leaf("871410", 3.0, 5.0, 5.0), Leaf("871499", 1.5, 5.0, 5.0)],
            ),
        ],
        chapters: &[],
    },
];

/// One value before it is written: `(year, cmdCode, partnerCode)` -> figures.
#[derive(Debug, Clone, Default)]
struct Cell {
    value: u64,
    qty: Option<f64>,
    net: Option<f64>,
}

type Table = BTreeMap<(i32, String, u32), Cell>;

fn classification(year: i32) -> &'static str {
    if year >= 2022 { "H6" } else { "H5" }
}

/// Adds a subheading's figures into a heading; the net weight stays known
/// only while every part has one.
fn add(table: &mut Table, key: (i32, String, u32), cell: &Cell) {
    let e = table.entry(key).or_insert(Cell {
        value: 0,
        qty: None,
        net: Some(0.0),
    });
    e.value += cell.value;
    e.net = e.net.zip(cell.net).map(|(a, b)| a + b);
}

fn leaf_rows(rng: &mut StdRng, table: &mut Table, basket: &Basket, leaf: &Leaf) {
    // Which partners buy this subheading, and their shares (stable over the years).
    let mut shares: Vec<(u32, f64)> = Vec::new();
    for (rank, &(p, w)) in basket.partners.iter().enumerate() {
        if rank >= 2 && rng.random_bool(0.2) {
            continue;
        }
        shares.push((p, w * rng.random_range(0.6..1.5)));
    }
    let sum: f64 = shares.iter().map(|s| s.1).sum();
    let other = rng.random_range(0.12..0.30);
    let Leaf(code, base, price_unit, price_kg) = *leaf;
    for (y, &year) in YEARS.iter().enumerate() {
        let world = base * 1e6 * basket.index[y] * rng.random_range(0.94..1.06);
        let listed = world * (1.0 - other * rng.random_range(0.9..1.1));
        let mut total = 0u64;
        for &(p, s) in &shares {
            let value = (listed * s / sum * rng.random_range(0.9..1.1)).round() as u64;
            let cell = quantities(rng, value, price_unit, price_kg);
            total += value;
            table.insert((year, code.to_string(), p), cell);
        }
        let other_value = (world - total as f64).max(world * 0.05).round() as u64;
        let cell = quantities(rng, total + other_value, price_unit, price_kg);
        table.insert((year, code.to_string(), 0), cell);
    }
}

/// Quantity (in the subheading's unit) and net weight; both blank in some rows.
fn quantities(rng: &mut StdRng, value: u64, price_unit: f64, price_kg: f64) -> Cell {
    if rng.random_bool(0.08) {
        return Cell {
            value,
            qty: None,
            net: None,
        };
    }
    let net = (value as f64 / price_kg * rng.random_range(0.9..1.1)).round();
    let qty = (value as f64 / price_unit * rng.random_range(0.9..1.1)).round();
    Cell {
        value,
        qty: Some(qty),
        net: Some(net),
    }
}

pub fn write(rng: &mut StdRng, out: &Path, reference: &Reference) -> Result<usize> {
    let mut table = Table::new();
    for basket in BASKETS {
        for (heading, leaves) in basket.headings {
            for leaf in leaves.iter() {
                leaf_rows(rng, &mut table, basket, leaf);
            }
            // Headings: exact sums of their listed subheadings, partner by partner.
            let sums: Vec<((i32, String, u32), Cell)> = table
                .iter()
                .filter(|((_, c, _), _)| c.len() == 6 && leaves.iter().any(|l| l.0 == c.as_str()))
                .map(|((y, _, p), cell)| {
                    (
                        (*y, heading.to_string(), *p),
                        Cell {
                            value: cell.value,
                            qty: None,
                            net: cell.net,
                        },
                    )
                })
                .collect();
            for (key, cell) in sums {
                add(&mut table, key, &cell);
            }
        }
        for &(chapter, ratio) in basket.chapters {
            for &year in &YEARS {
                let headings: Vec<(u32, u64)> = table
                    .iter()
                    .filter(|((y, c, _), _)| *y == year && c.len() == 4 && c.starts_with(chapter))
                    .map(|((_, _, p), cell)| (*p, cell.value))
                    .collect();
                let mut by_partner: BTreeMap<u32, u64> = BTreeMap::new();
                for (p, v) in headings {
                    *by_partner.entry(p).or_default() += v;
                }
                let world_headings = by_partner.remove(&0).unwrap_or(0);
                let mut partners_total = 0u64;
                for (p, v) in by_partner {
                    let value = (v as f64 * ratio * rng.random_range(0.85..1.15)).round() as u64;
                    partners_total += value;
                    table.insert(
                        (year, chapter.to_string(), p),
                        Cell {
                            value,
                            qty: None,
                            net: None,
                        },
                    );
                }
                let world = ((partners_total as f64) * rng.random_range(1.12..1.25))
                    .max(world_headings as f64 * 1.2)
                    .round() as u64;
                table.insert(
                    (year, chapter.to_string(), 0),
                    Cell {
                        value: world,
                        qty: None,
                        net: None,
                    },
                );
            }
        }
    }
    for (y, &year) in YEARS.iter().enumerate() {
        let value = (TOTAL_BN[y] * 1e9 * rng.random_range(0.995..1.005)).round() as u64;
        table.insert(
            (year, "TOTAL".to_string(), 0),
            Cell {
                value,
                qty: None,
                net: None,
            },
        );
    }

    let mut w = csv_writer(
        &out.join("comtrade_pak_exports_2017_2024.csv"),
        false,
        false,
    )?;
    w.write_record(HEADER.split(','))?;
    // Row order: year, then TOTAL, chapters, headings, subheadings, then partner code.
    let mut keys: Vec<&(i32, String, u32)> = table.keys().collect();
    keys.sort_by_key(|(y, c, p)| (*y, c != "TOTAL", c.len(), c.clone(), *p));
    let (pak_iso, pak_name) = {
        let a = reference.area(586)?;
        (a.iso3.clone(), a.name.clone())
    };
    for key in &keys {
        let (year, code, partner) = key;
        let cell = &table[*key];
        let class = classification(*year);
        let (desc, aggr, leaf, unit) = if code == "TOTAL" {
            ("All Commodities".to_string(), 0, false, "n/a".to_string())
        } else {
            let hs = reference.hs_code(class, code)?;
            (hs.desc.clone(), hs.aggr_level, hs.is_leaf, hs.unit.clone())
        };
        let (unit_code, unit_abbr) = match (leaf, unit.as_str()) {
            (true, "u") => ("5", "u"),
            (true, "2u") => ("6", "2u"),
            (true, "kg") => ("8", "kg"),
            _ => ("-1", "N/A"),
        };
        // For subheadings measured in kg the quantity is the net weight.
        let qty = if unit_code == "8" {
            cell.net
        } else if leaf {
            cell.qty
        } else {
            None
        };
        let area = reference.area(*partner)?;
        let num = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or_default();
        let aggregate = !leaf || *partner == 0;
        let record: Vec<String> = vec![
            "C".into(),
            "A".into(),
            format!("{year}0101"),
            year.to_string(),
            "52".into(),
            year.to_string(),
            "586".into(),
            pak_iso.clone(),
            pak_name.clone(),
            "X".into(),
            "Export".into(),
            partner.to_string(),
            area.iso3.clone(),
            area.name.clone(),
            "0".into(),
            "W00".into(),
            "World".into(),
            class.into(),
            "HS".into(),
            "True".into(),
            code.clone(),
            desc,
            aggr.to_string(),
            if leaf { "1" } else { "0" }.into(),
            "C00".into(),
            "TOTAL CPC".into(),
            "0".into(),
            "0".into(),
            "TOTAL MOT".into(),
            unit_code.into(),
            unit_abbr.into(),
            num(qty),
            "False".into(),
            unit_code.into(),
            unit_abbr.into(),
            num(qty),
            "False".into(),
            num(cell.net),
            "False".into(),
            String::new(),
            "False".into(),
            String::new(),
            cell.value.to_string(),
            cell.value.to_string(),
            "0".into(),
            "True".into(),
            if aggregate { "True" } else { "False" }.into(),
        ];
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(keys.len())
}

const HEADER: &str = "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,legacyEstimationFlag,isReported,isAggregate";
