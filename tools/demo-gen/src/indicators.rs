//! The CDI results framework, `cdi_results_framework.xlsx`: indicator values
//! per cluster and year 2021-2024 (2021 = baseline), computed from the other
//! generated files wherever they say something (firms supported, people
//! trained, networks, survey employment and exports).

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;
use chrono::Datelike;
use rand::Rng;
use rand::rngs::StdRng;

use crate::clusters::CLUSTERS;
use crate::firms::Firm;
use crate::names::Gender;
use crate::networks::Network;
use crate::training::Event;
use crate::util::{header_format, new_workbook, round_to};

const YEARS: [i32; 4] = [2021, 2022, 2023, 2024];

#[derive(Debug)]
struct Row {
    code: &'static str,
    indicator: &'static str,
    unit: &'static str,
    cluster: Option<usize>,
    breakdown: Option<&'static str>,
    /// `(year, target, actual)`; the 2021 target is blank.
    values: Vec<(i32, Option<f64>, f64)>,
}

impl Row {
    fn baseline(&self) -> f64 {
        self.values[0].2
    }
}

/// Targets of a cumulative indicator that starts from `baseline` and was
/// planned to reach about the 2024 actual.
fn cumulative_targets(rng: &mut StdRng, baseline: f64, actual_2024: f64, step: f64) -> [f64; 3] {
    let final_target =
        round_to(actual_2024 * rng.random_range(0.9..1.2), step).max(step as u64) as f64;
    let gap = (final_target - baseline).max(0.0);
    [0.35, 0.7, 1.0].map(|share| (baseline + (gap * share / step).ceil() * step).round())
}

/// Targets of a level indicator: growth over the baseline.
fn growth_targets(baseline: f64, growth: [f64; 3], step: f64) -> [f64; 3] {
    growth.map(|g| round_to(baseline * g, step) as f64)
}

fn with_targets(actuals: [f64; 4], targets: [f64; 3]) -> Vec<(i32, Option<f64>, f64)> {
    YEARS
        .iter()
        .enumerate()
        .map(|(i, &y)| {
            (
                y,
                if i == 0 { None } else { Some(targets[i - 1]) },
                actuals[i],
            )
        })
        .collect()
}

pub fn generate(
    rng: &mut StdRng,
    out: &Path,
    firms: &[Firm],
    networks: &[Network],
    events: &[Event],
) -> Result<usize> {
    let mut rows: Vec<Row> = Vec::new();
    for (ci, _) in CLUSTERS.iter().enumerate() {
        // CDI-1: firms supported (training or network membership), cumulative.
        let supported = YEARS.map(|y| {
            let mut set = HashSet::new();
            for e in events
                .iter()
                .filter(|e| e.cluster == Some(ci) && e.year() <= y)
            {
                set.extend(e.participants.iter().filter_map(|p| p.firm));
            }
            for n in networks.iter().filter(|n| n.cluster == ci) {
                set.extend(
                    n.members
                        .iter()
                        .filter(|m| m.joined.year() <= y)
                        .map(|m| m.firm),
                );
            }
            set.len() as f64
        });
        let t = cumulative_targets(rng, supported[0], supported[3], 5.0);
        rows.push(Row {
            code: "CDI-1",
            indicator: "Firms receiving CDI support (cumulative)",
            unit: "firms",
            cluster: Some(ci),
            breakdown: None,
            values: with_targets(supported, t),
        });

        // CDI-2 / CDI-3: employment in surveyed firms around the 2023 survey.
        let survey: Vec<&Firm> = firms
            .iter()
            .filter(|f| f.cluster == Some(ci) && f.survey_id.is_some())
            .collect();
        let total: f64 = survey.iter().map(|f| f.employees as f64).sum();
        let female: f64 = survey.iter().map(|f| f.female as f64).sum();
        let level = |x: f64, f: [f64; 4]| f.map(|k| (x * k).round());
        let emp = level(total, [0.93, 0.97, 1.0, rng.random_range(1.01..1.05)]);
        rows.push(Row {
            code: "CDI-2",
            indicator: "Employment in CDI cluster firms",
            unit: "jobs",
            cluster: Some(ci),
            breakdown: None,
            values: with_targets(emp, growth_targets(emp[0], [1.03, 1.06, 1.10], 10.0)),
        });
        let fem = level(female, [0.88, 0.94, 1.0, rng.random_range(1.03..1.08)]);
        rows.push(Row {
            code: "CDI-3",
            indicator: "Female employment in CDI cluster firms",
            unit: "jobs",
            cluster: Some(ci),
            breakdown: Some("female"),
            values: with_targets(fem, growth_targets(fem[0], [1.05, 1.12, 1.20], 1.0)),
        });

        // CDI-4: people from cluster firms trained, cumulative, total and by sex
        // (the female and male targets add up to the total target).
        let trained = |sex: Option<Gender>| {
            YEARS.map(|y| {
                let mut set = HashSet::new();
                for e in events
                    .iter()
                    .filter(|e| e.cluster == Some(ci) && e.year() <= y)
                {
                    for p in &e.participants {
                        if sex.is_none_or(|g| p.person.gender == g) {
                            set.insert(p.person.cnic.clone());
                        }
                    }
                }
                set.len() as f64
            })
        };
        let (all, women, men) = (
            trained(None),
            trained(Some(Gender::Female)),
            trained(Some(Gender::Male)),
        );
        let all_t = cumulative_targets(rng, all[0], all[3], 5.0);
        let women_t = cumulative_targets(rng, women[0], women[3], 1.0);
        let men_t = [0, 1, 2].map(|i| (all_t[i] - women_t[i]).max(men[0]));
        let name = "People from cluster firms trained (cumulative)";
        for (breakdown, actual, target) in [
            (None, all, all_t),
            (Some("female"), women, women_t),
            (Some("male"), men, men_t),
        ] {
            rows.push(Row {
                code: "CDI-4",
                indicator: name,
                unit: "persons",
                cluster: Some(ci),
                breakdown,
                values: with_targets(actual, target),
            });
        }

        // CDI-5: exports of surveyed firms.
        let exports: f64 = survey.iter().map(|f| f.exports_usd as f64).sum();
        let ex = [0.86, 0.95, 1.0, rng.random_range(1.03..1.12)]
            .map(|k| round_to(exports * k, 1000.0) as f64);
        rows.push(Row {
            code: "CDI-5",
            indicator: "Exports of CDI cluster firms",
            unit: "USD",
            cluster: Some(ci),
            breakdown: None,
            values: with_targets(ex, growth_targets(ex[0], [1.05, 1.12, 1.20], 1000.0)),
        });

        // CDI-6: networks formed, cumulative.
        let formed = YEARS.map(|y| {
            networks
                .iter()
                .filter(|n| n.cluster == ci && n.formed.year() <= y)
                .count() as f64
        });
        let target_final = formed[3] + if rng.random_bool(0.5) { 1.0 } else { 0.0 };
        let t = [
            (target_final * 0.4).round(),
            (target_final * 0.75).round(),
            target_final,
        ];
        rows.push(Row {
            code: "CDI-6",
            indicator: "SME networks formed (cumulative)",
            unit: "networks",
            cluster: Some(ci),
            breakdown: None,
            values: with_targets(formed, t),
        });
    }

    // Programme level: sums over clusters.
    let mut programme = Vec::new();
    let mut seen: Vec<(&str, Option<&str>)> = Vec::new();
    for r in &rows {
        if !seen.contains(&(r.code, r.breakdown)) {
            seen.push((r.code, r.breakdown));
        }
    }
    for (code, breakdown) in seen {
        let parts: Vec<&Row> = rows
            .iter()
            .filter(|r| r.code == code && r.breakdown == breakdown)
            .collect();
        let values = (0..YEARS.len())
            .map(|i| {
                let target = parts.iter().map(|r| r.values[i].1).sum::<Option<f64>>();
                let actual = parts.iter().map(|r| r.values[i].2).sum();
                (YEARS[i], target, actual)
            })
            .collect();
        programme.push(Row {
            code,
            indicator: parts[0].indicator,
            unit: parts[0].unit,
            cluster: None,
            breakdown,
            values,
        });
    }
    // DLI-3: the World Bank disbursement-linked indicator, verified from CDI-1.
    let cdi1 = programme.iter().find(|r| r.code == "CDI-1").expect("CDI-1");
    let dli_values = cdi1
        .values
        .iter()
        .map(|&(y, t, a)| (y, t.map(|t| (t / 10.0).floor() * 10.0), a))
        .collect();
    programme.push(Row {
        code: "DLI-3",
        indicator: "Cluster SMEs receiving business development services (DLI-3, cumulative)",
        unit: "firms",
        cluster: None,
        breakdown: None,
        values: dli_values,
    });

    // Order: indicator, then the clusters, then the programme level.
    let mut all: Vec<Row> = rows.into_iter().chain(programme).collect();
    all.sort_by_key(|r| {
        (
            r.code,
            r.cluster.is_none(),
            r.cluster,
            r.breakdown.map(|b| if b == "female" { 1 } else { 2 }),
        )
    });
    write(out, &all)
}

fn write(out: &Path, rows: &[Row]) -> Result<usize> {
    let mut wb = new_workbook("CDI results framework")?;
    let bold = header_format();
    let ws = wb.add_worksheet();
    ws.set_name("Indicators")?;
    let headers = [
        "Indicator Code",
        "Indicator",
        "Unit",
        "Cluster",
        "Breakdown",
        "Breakdown Value",
        "Year",
        "Baseline",
        "Target",
        "Actual",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [14, 62, 9, 24, 10, 15, 6, 12, 12, 12].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let mut row = 1u32;
    for r in rows {
        for &(year, target, actual) in &r.values {
            ws.write_string(row, 0, r.code)?;
            ws.write_string(row, 1, r.indicator)?;
            ws.write_string(row, 2, r.unit)?;
            if let Some(ci) = r.cluster {
                ws.write_string(row, 3, CLUSTERS[ci].slug)?;
            }
            if let Some(b) = r.breakdown {
                ws.write_string(row, 4, "sex")?;
                ws.write_string(row, 5, b)?;
            }
            ws.write_number(row, 6, year as f64)?;
            ws.write_number(row, 7, r.baseline())?;
            if let Some(t) = target {
                ws.write_number(row, 8, t)?;
            }
            ws.write_number(row, 9, actual)?;
            row += 1;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save(out.join("cdi_results_framework.xlsx"))?;
    Ok(row as usize - 1)
}
