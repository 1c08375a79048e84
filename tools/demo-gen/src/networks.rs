//! SME networks formed by the cluster teams, and `sme_networks.xlsx`.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::clusters::CLUSTERS;
use crate::firms::Firm;
use crate::util::{
    date_format, excel_date, header_format, new_workbook, plus_days, random_date, ymd,
};

#[derive(Debug)]
pub struct Member {
    /// Index into the firm list.
    pub firm: usize,
    pub lead: bool,
    pub joined: NaiveDate,
}

#[derive(Debug)]
pub struct Network {
    pub name: &'static str,
    pub kind: &'static str,
    pub cluster: usize,
    pub formed: NaiveDate,
    pub members: Vec<Member>,
}

/// `(name, type, cluster index, preferred tehsil)`
const NETWORKS: &[(&str, &str, usize, Option<&str>)] = &[
    (
        "Sialkot Surgical Exporters Consortium",
        "export consortium",
        0,
        None,
    ),
    (
        "Daska Forging and Finishing Network",
        "vertical",
        0,
        Some("Daska"),
    ),
    (
        "Sialkot Sterilisation and Packaging Network",
        "horizontal",
        0,
        Some("Sialkot"),
    ),
    ("Lahore Knitwear Producers Network", "horizontal", 1, None),
    (
        "Lahore Garment Exporters Consortium",
        "export consortium",
        1,
        None,
    ),
    ("Lahore Footwear Components Network", "vertical", 2, None),
    (
        "Badami Bagh Auto Parts Network",
        "horizontal",
        3,
        Some("Lahore City"),
    ),
];

pub fn generate(rng: &mut StdRng, firms: &[Firm]) -> Vec<Network> {
    let mut out = Vec::new();
    for &(name, kind, ci, tehsil) in NETWORKS {
        let formed = random_date(rng, ymd(2020, 3, 1), ymd(2023, 9, 30));
        let mut pool: Vec<usize> = firms
            .iter()
            .enumerate()
            .filter(|(_, f)| f.cluster == Some(ci) && f.survey_id.is_some())
            .filter(|(_, f)| kind != "export consortium" || f.exports_usd > 0)
            .map(|(i, _)| i)
            .collect();
        pool.shuffle(rng);
        // Firms of the preferred tehsil first.
        if let Some(t) = tehsil {
            pool.sort_by_key(|&i| firms[i].tehsil != t);
        }
        let n = rng.random_range(5..=12).min(pool.len());
        let mut chosen: Vec<usize> = pool[..n].to_vec();
        chosen.sort_by_key(|&i| std::cmp::Reverse(firms[i].employees));
        let members = chosen
            .iter()
            .enumerate()
            .map(|(k, &firm)| {
                let joined = if k == 0 || rng.random_bool(0.6) {
                    formed
                } else {
                    random_date(rng, plus_days(formed, 20), ymd(2024, 6, 30))
                };
                Member {
                    firm,
                    lead: k == 0,
                    joined,
                }
            })
            .collect();
        out.push(Network {
            name,
            kind,
            cluster: ci,
            formed,
            members,
        });
    }
    out
}

pub fn write(out: &Path, networks: &[Network], firms: &[Firm]) -> Result<usize> {
    let mut wb = new_workbook("CDI SME networks")?;
    let bold = header_format();
    let date = date_format();
    let ws = wb.add_worksheet();
    ws.set_name("Networks")?;
    for (c, h) in ["Network", "Type", "Cluster", "Formed On", "Lead Firm"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [42, 18, 24, 12, 42].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (r, n) in networks.iter().enumerate() {
        let row = r as u32 + 1;
        let lead = n.members.iter().find(|m| m.lead).expect("a lead firm");
        ws.write_string(row, 0, n.name)?;
        ws.write_string(row, 1, n.kind)?;
        ws.write_string(row, 2, CLUSTERS[n.cluster].slug)?;
        ws.write_datetime_with_format(row, 3, excel_date(n.formed)?, &date)?;
        ws.write_string(row, 4, &firms[lead.firm].survey_name)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("Members")?;
    for (c, h) in [
        "Network",
        "Survey ID",
        "Member Firm",
        "NTN No.",
        "Role",
        "Joined On",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [42, 11, 42, 12, 8, 12].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let mut row = 1u32;
    for n in networks {
        for m in &n.members {
            let f = &firms[m.firm];
            ws.write_string(row, 0, n.name)?;
            ws.write_string(row, 1, f.survey_id.as_deref().unwrap_or_default())?;
            ws.write_string(row, 2, &f.survey_name)?;
            if let (Some(ntn), true) = (&f.ntn, f.ntn_in_survey) {
                ws.write_string(row, 3, ntn)?;
            }
            ws.write_string(row, 4, if m.lead { "lead" } else { "member" })?;
            ws.write_datetime_with_format(row, 5, excel_date(m.joined)?, &date)?;
            row += 1;
        }
    }
    wb.save(out.join("sme_networks.xlsx"))?;
    Ok(row as usize - 1)
}
