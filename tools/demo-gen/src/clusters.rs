//! The programme and its four clusters, and `clusters.toml`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::reference::Reference;

/// A tehsil where a cluster's firms sit, with street names for addresses.
#[derive(Debug)]
pub struct Location {
    pub district: &'static str,
    pub tehsil: &'static str,
    /// Town written at the end of an address.
    pub town: &'static str,
    pub localities: &'static [&'static str],
    pub weight: f64,
}

#[derive(Debug)]
pub struct Cluster {
    pub slug: &'static str,
    pub name: &'static str,
    pub sector: &'static str,
    pub description: &'static str,
    /// District names as in the admin list (title case).
    pub districts: &'static [&'static str],
    pub isic: &'static [&'static str],
    /// PSIC codes (ISIC class + digits) with weights.
    pub psic: &'static [(&'static str, f64)],
    pub hs_basket: &'static [&'static str],
    /// Firms in the 2023 diagnostic survey.
    pub survey_firms: usize,
    /// Of those, firms also in the PSIC registry.
    pub survey_in_registry: usize,
    /// Firms only in the PSIC registry.
    pub registry_only: usize,
    pub locations: &'static [Location],
    /// Second part of firm names.
    pub nouns: &'static [&'static str],
    /// `(certifications, weight)` for exporting firms.
    pub certs: &'static [(&'static str, f64)],
    /// Range of the female share of employees, and the chance a firm employs no women.
    pub female_share: (f64, f64),
    pub no_women: f64,
    pub export_prob: f64,
    /// Annual turnover per worker, PKR.
    pub turnover_per_worker: (f64, f64),
    /// Designations of ordinary staff sent to trainings.
    pub staff_roles: &'static [&'static str],
}

pub const PROGRAMME_CODE: &str = "punjab-cdi";
pub const PROGRAMME_NAME: &str = "Punjab Industrial Cluster Development Initiative";
pub const PSIC: &str = "Punjab Small Industries Corporation";

const SIALKOT_TOWN: &[&str] = &[
    "Kashmir Road",
    "Paris Road",
    "Ugoki Road",
    "Defence Road",
    "Khadim Ali Road",
    "Small Industrial Estate",
    "Hajipura",
    "Shahabpura Road",
    "Airport Road",
    "Mianapura",
];

pub const CLUSTERS: &[Cluster] = &[
    Cluster {
        slug: "sialkot-surgical",
        name: "Sialkot Surgical Instruments Cluster",
        sector: "Surgical and medical instruments",
        description: "Forging, machining, finishing and export of surgical, dental and beauty instruments in Sialkot district.",
        districts: &["Sialkot"],
        isic: &["3250"],
        psic: &[("32501", 0.8), ("32502", 0.15), ("32509", 0.05)],
        hs_basket: &["9018", "9021"],
        survey_firms: 90,
        survey_in_registry: 30,
        registry_only: 10,
        locations: &[
            Location {
                district: "Sialkot",
                tehsil: "Sialkot",
                town: "Sialkot",
                localities: SIALKOT_TOWN,
                weight: 0.6,
            },
            Location {
                district: "Sialkot",
                tehsil: "Daska",
                town: "Daska",
                localities: &[
                    "Sialkot Road",
                    "Gujranwala Road",
                    "Mohallah Islampura",
                    "Kashmir Road",
                ],
                weight: 0.15,
            },
            Location {
                district: "Sialkot",
                tehsil: "Pasrur",
                town: "Pasrur",
                localities: &["Railway Road", "Sialkot Road", "Narowal Road"],
                weight: 0.07,
            },
            Location {
                district: "Sialkot",
                tehsil: "Sambrial",
                town: "Sambrial",
                localities: &["Wazirabad Road", "Sialkot Road", "Export Processing Zone"],
                weight: 0.18,
            },
        ],
        nouns: &[
            "Surgical Works",
            "Surgical Instruments",
            "Surgical Industries",
            "Medical Instruments",
            "Surgico",
            "Dental Instruments",
            "Instruments Co.",
            "Surgical Company",
            "Medi-Tech",
        ],
        certs: &[
            ("ISO 13485; CE", 0.35),
            ("ISO 9001; ISO 13485; CE", 0.2),
            ("ISO 13485; CE; FDA", 0.1),
            ("ISO 9001", 0.1),
            ("", 0.25),
        ],
        female_share: (0.02, 0.10),
        no_women: 0.55,
        export_prob: 0.8,
        turnover_per_worker: (1_200_000.0, 3_000_000.0),
        staff_roles: &[
            "Production Manager",
            "Quality Manager",
            "Forging Supervisor",
            "Grinder",
            "Polisher",
            "Export Manager",
            "Sterilisation Technician",
            "Machinist",
        ],
    },
    Cluster {
        slug: "lahore-garments",
        name: "Lahore Garments Cluster",
        sector: "Garments and knitwear",
        description: "Cut-make-trim garment, knitwear and hosiery units in Lahore district supplying export buyers and the domestic market.",
        districts: &["Lahore"],
        isic: &["1410", "1430"],
        psic: &[
            ("14101", 0.55),
            ("14102", 0.1),
            ("14301", 0.25),
            ("14302", 0.1),
        ],
        hs_basket: &["61", "62"],
        survey_firms: 70,
        survey_in_registry: 20,
        registry_only: 9,
        locations: &[
            Location {
                district: "Lahore",
                tehsil: "Lahore City",
                town: "Lahore",
                localities: &["Misri Shah", "Nishtar Road", "Ravi Road", "Shahalam Market"],
                weight: 0.15,
            },
            Location {
                district: "Lahore",
                tehsil: "Lahore Cantt.",
                town: "Lahore",
                localities: &["Walton Road", "Ghazi Road", "Bedian Road"],
                weight: 0.2,
            },
            Location {
                district: "Lahore",
                tehsil: "Model Town",
                town: "Lahore",
                localities: &[
                    "Quaid-e-Azam Industrial Estate, Kot Lakhpat",
                    "Township",
                    "Ferozepur Road",
                    "Gajju Matta",
                ],
                weight: 0.2,
            },
            Location {
                district: "Lahore",
                tehsil: "Raiwind",
                town: "Raiwind",
                localities: &["Sundar Industrial Estate", "Raiwind Road", "Manga Mandi"],
                weight: 0.2,
            },
            Location {
                district: "Lahore",
                tehsil: "Shalimar",
                town: "Lahore",
                localities: &["Shahdara", "Baghbanpura", "G.T. Road", "Daroghawala"],
                weight: 0.25,
            },
        ],
        nouns: &[
            "Garments",
            "Apparel",
            "Knitwear",
            "Fashions",
            "Textiles",
            "Hosiery",
            "Clothing",
            "Stitching Unit",
        ],
        certs: &[
            ("WRAP; BSCI", 0.2),
            ("OEKO-TEX", 0.15),
            ("BSCI", 0.15),
            ("ISO 9001", 0.1),
            ("", 0.4),
        ],
        female_share: (0.15, 0.55),
        no_women: 0.1,
        export_prob: 0.4,
        turnover_per_worker: (900_000.0, 2_400_000.0),
        staff_roles: &[
            "Production Manager",
            "Merchandiser",
            "Line Supervisor",
            "Stitcher",
            "Machine Operator",
            "Pattern Maker",
            "Quality Inspector",
            "Compliance Officer",
        ],
    },
    Cluster {
        slug: "lahore-leather-footwear",
        name: "Lahore Leather and Footwear Cluster",
        sector: "Leather goods and footwear",
        description: "Footwear, footwear components and leather goods makers in Lahore, with a few units in Sheikhupura and Kasur.",
        districts: &["Lahore", "Sheikhupura", "Kasur"],
        isic: &["1520", "1512"],
        psic: &[
            ("15201", 0.5),
            ("15209", 0.15),
            ("15121", 0.25),
            ("15129", 0.1),
        ],
        hs_basket: &["6403", "6405", "6406", "4202", "4203"],
        survey_firms: 50,
        survey_in_registry: 15,
        registry_only: 8,
        locations: &[
            Location {
                district: "Lahore",
                tehsil: "Lahore City",
                town: "Lahore",
                localities: &["Shahalam Market", "Anarkali", "Misri Shah", "Ichhra"],
                weight: 0.35,
            },
            Location {
                district: "Lahore",
                tehsil: "Shalimar",
                town: "Lahore",
                localities: &["Shahdara", "Baghbanpura", "G.T. Road"],
                weight: 0.15,
            },
            Location {
                district: "Lahore",
                tehsil: "Lahore Cantt.",
                town: "Lahore",
                localities: &["Walton Road", "Ghazi Road"],
                weight: 0.1,
            },
            Location {
                district: "Lahore",
                tehsil: "Model Town",
                town: "Lahore",
                localities: &[
                    "Township",
                    "Quaid-e-Azam Industrial Estate, Kot Lakhpat",
                    "Ferozepur Road",
                ],
                weight: 0.15,
            },
            Location {
                district: "Sheikhupura",
                tehsil: "Sheikhupura",
                town: "Sheikhupura",
                localities: &["Lahore Road", "Faisalabad Road"],
                weight: 0.05,
            },
            Location {
                district: "Sheikhupura",
                tehsil: "Ferozewala",
                town: "Ferozewala",
                localities: &["Kala Shah Kaku", "G.T. Road"],
                weight: 0.05,
            },
            Location {
                district: "Kasur",
                tehsil: "Kasur",
                town: "Kasur",
                localities: &["Din Garh", "Lahore Road", "Tannery Area"],
                weight: 0.1,
            },
            Location {
                district: "Kasur",
                tehsil: "Pattoki",
                town: "Pattoki",
                localities: &["Multan Road"],
                weight: 0.05,
            },
        ],
        nouns: &[
            "Leather Crafts",
            "Footwear",
            "Shoes",
            "Leather Goods",
            "Leather Industries",
            "Shoe Company",
            "Leather Works",
        ],
        certs: &[
            ("ISO 9001", 0.3),
            ("ISO 9001; ISO 14001", 0.1),
            ("BSCI", 0.1),
            ("", 0.5),
        ],
        female_share: (0.03, 0.25),
        no_women: 0.4,
        export_prob: 0.45,
        turnover_per_worker: (900_000.0, 2_200_000.0),
        staff_roles: &[
            "Production Manager",
            "Designer",
            "Cutter",
            "Closing Supervisor",
            "Lasting Operator",
            "Stitcher",
            "Quality Inspector",
        ],
    },
    Cluster {
        slug: "lahore-auto-parts",
        name: "Lahore Auto Parts Cluster",
        sector: "Automotive parts and components",
        description: "Vendors of automotive, motorcycle and tractor parts in Lahore, with units in Sheikhupura and Gujranwala.",
        districts: &["Lahore", "Sheikhupura", "Gujranwala"],
        isic: &["2930"],
        psic: &[("29301", 0.6), ("29302", 0.25), ("29309", 0.15)],
        hs_basket: &["8708", "8714"],
        survey_firms: 50,
        survey_in_registry: 15,
        registry_only: 9,
        locations: &[
            Location {
                district: "Lahore",
                tehsil: "Lahore City",
                town: "Lahore",
                localities: &["Badami Bagh", "McLeod Road", "Nishtar Road"],
                weight: 0.3,
            },
            Location {
                district: "Lahore",
                tehsil: "Lahore Cantt.",
                town: "Lahore",
                localities: &["Walton Road", "Ghazi Road"],
                weight: 0.1,
            },
            Location {
                district: "Lahore",
                tehsil: "Model Town",
                town: "Lahore",
                localities: &["Quaid-e-Azam Industrial Estate, Kot Lakhpat", "Township"],
                weight: 0.15,
            },
            Location {
                district: "Lahore",
                tehsil: "Shalimar",
                town: "Lahore",
                localities: &["Shahdara", "G.T. Road"],
                weight: 0.1,
            },
            Location {
                district: "Lahore",
                tehsil: "Raiwind",
                town: "Raiwind",
                localities: &["Sundar Industrial Estate"],
                weight: 0.05,
            },
            Location {
                district: "Sheikhupura",
                tehsil: "Sheikhupura",
                town: "Sheikhupura",
                localities: &["Lahore Road", "Sargodha Road"],
                weight: 0.05,
            },
            Location {
                district: "Sheikhupura",
                tehsil: "Ferozewala",
                town: "Ferozewala",
                localities: &["Kala Shah Kaku"],
                weight: 0.05,
            },
            Location {
                district: "Gujranwala",
                tehsil: "Gujranwala City",
                town: "Gujranwala",
                localities: &[
                    "G.T. Road",
                    "Sheikhupura Road",
                    "Small Industrial Estate",
                    "Pasrur Road",
                ],
                weight: 0.12,
            },
            Location {
                district: "Gujranwala",
                tehsil: "Gujranwala Saddar",
                town: "Gujranwala",
                localities: &["Sialkot Road", "Eminabad Road"],
                weight: 0.08,
            },
        ],
        nouns: &[
            "Auto Parts",
            "Auto Industries",
            "Engineering Works",
            "Automotive",
            "Rubber & Auto Parts",
            "Motor Parts",
            "Precision Engineering",
        ],
        certs: &[
            ("ISO 9001", 0.35),
            ("IATF 16949; ISO 9001", 0.15),
            ("ISO 9001; ISO 14001", 0.1),
            ("", 0.4),
        ],
        female_share: (0.01, 0.04),
        no_women: 0.8,
        export_prob: 0.12,
        turnover_per_worker: (1_500_000.0, 3_500_000.0),
        staff_roles: &[
            "Production Manager",
            "Quality Engineer",
            "CNC Operator",
            "Die Maker",
            "Foreman",
            "Machinist",
            "Welder",
        ],
    },
];

/// Registry units outside the four clusters (registered with PSIC all the same).
#[derive(Debug)]
pub struct OtherTrade {
    pub psic: &'static str,
    pub nouns: &'static [&'static str],
    pub location: Location,
}

pub const OTHER_TRADES: &[OtherTrade] = &[
    OtherTrade {
        psic: "32301",
        nouns: &["Sports", "Sports Industries"],
        location: Location {
            district: "Sialkot",
            tehsil: "Sialkot",
            town: "Sialkot",
            localities: SIALKOT_TOWN,
            weight: 1.0,
        },
    },
    OtherTrade {
        psic: "32302",
        nouns: &["Gloves", "Sports Wear"],
        location: Location {
            district: "Sialkot",
            tehsil: "Sambrial",
            town: "Sambrial",
            localities: &["Wazirabad Road"],
            weight: 1.0,
        },
    },
    OtherTrade {
        psic: "25931",
        nouns: &["Cutlery Works", "Cutlery House"],
        location: Location {
            district: "Gujranwala",
            tehsil: "Gujranwala City",
            town: "Gujranwala",
            localities: &["Small Industrial Estate", "G.T. Road"],
            weight: 1.0,
        },
    },
    OtherTrade {
        psic: "25932",
        nouns: &["Hardware Industries", "Tools"],
        location: Location {
            district: "Gujranwala",
            tehsil: "Kamoke",
            town: "Kamoke",
            localities: &["G.T. Road"],
            weight: 1.0,
        },
    },
];

/// Checks every place and code in the definitions against the reference tables.
pub fn check(reference: &Reference) -> Result<()> {
    for c in CLUSTERS {
        for d in c.districts {
            reference.check_district(d)?;
        }
        for l in c.locations {
            reference.check_place(l.district, l.tehsil)?;
        }
        for (p, _) in c.psic {
            reference.check_psic(p)?;
        }
        for code in c.hs_basket {
            reference.hs_code("H5", code)?;
            reference.hs_code("H6", code)?;
        }
    }
    for o in OTHER_TRADES {
        reference.check_psic(o.psic)?;
        reference.check_place(o.location.district, o.location.tehsil)?;
    }
    Ok(())
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Writes `clusters.toml`.
pub fn write_toml(out: &Path) -> Result<()> {
    let mut s = String::new();
    s.push_str("# Programme and cluster definitions for the demo dataset (synthetic).\n");
    s.push_str("# Generated by tools/demo-gen: cargo run -p demo-gen -- --out hub/demo\n");
    s.push_str("# Imported like any programme file: hub import clusters.toml\n\n");
    s.push_str("[[agency]]\n");
    s.push_str("name = \"UNIDO\"\n");
    s.push_str("kind = \"agency\"\n");
    s.push_str("iati = \"XM-DAC-41123\"\n\n");
    s.push_str("[[programme]]\n");
    writeln!(s, "code = \"{PROGRAMME_CODE}\"")?;
    writeln!(s, "name = \"{PROGRAMME_NAME}\"")?;
    writeln!(s, "lead = \"{PSIC}\"")?;
    s.push_str("technical_assistance = \"UNIDO\"\n");
    s.push_str("funder = \"World Bank\"\n");
    s.push_str("start_date = \"2019-07-01\"\n");
    s.push_str("end_date = \"2025-06-30\"\n");
    s.push_str(
        "description = \"Provincial programme that strengthens SME clusters in Punjab through \
         cluster diagnostics, SME networks, training, common services and export promotion; \
         implemented by the Punjab Small Industries Corporation with UNIDO technical assistance and World Bank financing.\"\n",
    );
    for c in CLUSTERS {
        s.push_str("\n[[cluster]]\n");
        writeln!(s, "slug = \"{}\"", c.slug)?;
        writeln!(s, "name = \"{}\"", c.name)?;
        writeln!(s, "sector = \"{}\"", c.sector)?;
        writeln!(s, "programme = \"{PROGRAMME_CODE}\"")?;
        writeln!(s, "description = \"{}\"", c.description)?;
        writeln!(s, "districts = {}", list(c.districts))?;
        writeln!(s, "isic_classes = {}", list(c.isic))?;
        s.push_str("hs_revision = \"HS2017\"\n");
        writeln!(s, "hs_basket = {}", list(c.hs_basket))?;
    }
    std::fs::write(out.join("clusters.toml"), s)?;
    Ok(())
}
