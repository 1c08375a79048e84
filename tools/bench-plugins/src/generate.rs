//! The benchmark's input: a chamber of commerce member directory in the JSON form the
//! `chamber-directory` plugin reads (see its `src/lib.rs`), one member per line.
//!
//! Deterministic: a fixed linear congruential generator seeded with a constant, so member
//! `i` is the same whatever the size of the file (the 10-member file is the first ten
//! members of the large one) and the same size always gives the same bytes.
//!
//! - **Membership numbers** `BNCH-0000001`, … (chamber code `BNCH`): unique, and kept as
//!   written by the plugin since they start with the chamber code and a separator.
//! - **NTNs** `NNNNNNN-C`: the seven digits count up from [`NTN_FIRST`] (9,000,000),
//!   skipping the seven-digit parts of the NTNs already in the database (the demo's, read
//!   from the template when `sqlite3` is available), and stay below 10,000,000, so that
//!   they are unique, well-formed and new: at most [`MAX_MEMBERS`] members. The check
//!   digit is the digit sum modulo 10 (the hub checks the shape, not the digit).
//! - **Sectors and districts**: about 85% of the members are in one of the four demo
//!   clusters (Sialkot + Surgical Instruments, Lahore + Garments, Lahore + Leather
//!   Footwear, Lahore + Auto Parts); the others have a sector without a cluster (sports
//!   goods, musical instruments, cutlery, pharmaceuticals, spinning) or a sector whose
//!   cluster is elsewhere (surgical instruments made in Lahore).
//! - **Names** of the kind Punjab firms have (`Al-Noor Surgical Works`), tehsils of the
//!   bundled admin areas, addresses on real industrial roads and estates, and fictional
//!   contacts: e-mail domains under `.example`, phone numbers whose subscriber part starts
//!   with 0, which no Pakistani number does.

use std::collections::HashSet;
use std::io::Write;

use anyhow::bail;

/// The directory's chamber code.
pub const CHAMBER_CODE: &str = "BNCH";

/// The first seven-digit part of the generated NTNs.
pub const NTN_FIRST: u32 = 9_000_000;

/// One past the last seven-digit part.
const NTN_END: u32 = 10_000_000;

/// The most members a directory can have: one NTN each in `9000000..=9999999`.
pub const MAX_MEMBERS: u64 = (NTN_END - NTN_FIRST) as u64;

/// What a generated directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub members: u64,
    /// Members whose sector and district make up one of the four demo clusters: each gives
    /// a cluster membership record.
    pub in_cluster: u64,
}

/// A district: its name, tehsils (as the bundled admin areas name them), dialling code
/// and roads.
struct District {
    name: &'static str,
    tehsils: &'static [&'static str],
    area_code: &'static str,
    streets: &'static [&'static str],
}

const SIALKOT: District = District {
    name: "Sialkot",
    tehsils: &[
        "Sialkot", "Sialkot", "Sialkot", "Daska", "Sambrial", "Pasrur",
    ],
    area_code: "52",
    streets: &[
        "Small Industrial Estate",
        "Daska Road",
        "Wazirabad Road",
        "Pasrur Road",
        "Defence Road",
        "Kashmir Road",
        "Sialkot Export Processing Zone",
        "Ugoki Road",
    ],
};

const LAHORE: District = District {
    name: "Lahore",
    tehsils: &[
        "Lahore City",
        "Lahore City",
        "Lahore Cantt.",
        "Model Town",
        "Raiwind",
        "Shalimar",
    ],
    area_code: "42",
    streets: &[
        "Quaid-e-Azam Industrial Estate, Kot Lakhpat",
        "Sundar Industrial Estate",
        "Ferozepur Road",
        "Multan Road",
        "Badami Bagh",
        "Shahdara",
        "Township",
        "Gulberg III",
        "Raiwind Road",
    ],
};

const GUJRANWALA: District = District {
    name: "Gujranwala",
    tehsils: &[
        "Gujranwala City",
        "Gujranwala Saddar",
        "Kamoke",
        "Wazirabad",
    ],
    area_code: "55",
    streets: &[
        "G.T. Road",
        "Small Industrial Estate",
        "Sialkot Bypass",
        "Pasrur Road",
    ],
};

const FAISALABAD: District = District {
    name: "Faisalabad",
    tehsils: &["Faisalabad City", "Faisalabad Saddar", "Jaranwala"],
    area_code: "41",
    streets: &[
        "Sargodha Road",
        "Jhang Road",
        "Sheikhupura Road",
        "Value Addition City",
    ],
};

/// A trade group of the directory: a sector in a district.
struct Trade {
    sector: &'static str,
    district: &'static District,
    /// Whether the plugin's default table puts the pair in a cluster.
    in_cluster: bool,
    weight: u32,
    /// The trade word of firm names.
    words: &'static [&'static str],
}

const TRADES: &[Trade] = &[
    Trade {
        sector: "Surgical Instruments",
        district: &SIALKOT,
        in_cluster: true,
        weight: 34,
        words: &["Surgical", "Surgico", "Instruments", "Medical", "Dental"],
    },
    Trade {
        sector: "Garments",
        district: &LAHORE,
        in_cluster: true,
        weight: 22,
        words: &["Garments", "Apparel", "Knitwear", "Fashions", "Textiles"],
    },
    Trade {
        sector: "Leather Footwear",
        district: &LAHORE,
        in_cluster: true,
        weight: 15,
        words: &["Footwear", "Shoes", "Leather", "Tannery"],
    },
    Trade {
        sector: "Auto Parts",
        district: &LAHORE,
        in_cluster: true,
        weight: 14,
        words: &["Auto Parts", "Engineering", "Autos", "Motors", "Castings"],
    },
    Trade {
        sector: "Sports Goods",
        district: &SIALKOT,
        in_cluster: false,
        weight: 5,
        words: &["Sports", "Balls", "Gloves"],
    },
    Trade {
        sector: "Musical Instruments",
        district: &SIALKOT,
        in_cluster: false,
        weight: 1,
        words: &["Bagpipes", "Musical"],
    },
    Trade {
        sector: "Cutlery",
        district: &GUJRANWALA,
        in_cluster: false,
        weight: 3,
        words: &["Cutlery", "Steel", "Metal"],
    },
    Trade {
        sector: "Textile Spinning",
        district: &FAISALABAD,
        in_cluster: false,
        weight: 3,
        words: &["Spinning Mills", "Textile Mills", "Yarn"],
    },
    Trade {
        sector: "Pharmaceuticals",
        district: &LAHORE,
        in_cluster: false,
        weight: 2,
        words: &["Pharma", "Laboratories", "Healthcare"],
    },
    // Surgical instruments made in Lahore: a sector of a cluster, in another district.
    Trade {
        sector: "Surgical Instruments",
        district: &LAHORE,
        in_cluster: false,
        weight: 1,
        words: &["Surgical", "Medical"],
    },
];

const NAME_FIRST: &[&str] = &[
    "Al-Noor",
    "Madina",
    "Crescent",
    "Hilal",
    "Bismillah",
    "Ghani",
    "Royal",
    "Zam Zam",
    "Al-Fateh",
    "Shaheen",
    "Noor",
    "United",
    "Friends",
    "Al-Habib",
    "Tariq",
    "Anwar",
    "Rehman",
    "Iqbal",
    "Sadiq",
    "Mughal",
    "Qureshi",
    "Awan",
    "Haji Bashir",
    "Ittehad",
    "Pak",
    "Star",
    "Diamond",
    "Everest",
    "Falcon",
    "Kohinoor",
    "Ravi",
    "Chenab",
];

const NAME_FORM: &[&str] = &[
    "Works",
    "Industries",
    "Enterprises",
    "(Pvt.) Ltd.",
    "Traders",
    "& Co.",
    "Brothers",
    "International",
    "Manufacturing Co.",
];

const MAILBOXES: &[&str] = &["info", "sales", "exports", "contact", "office"];

/// Membership status words, weighted: mostly active, some the plugin maps to inactive or
/// closed, some about the membership only (no status).
const STATUSES: &[(&str, u32)] = &[
    ("active", 82),
    ("inactive", 6),
    ("dormant", 3),
    ("closed", 2),
    ("lapsed", 5),
    ("suspended", 2),
];

/// A 64-bit linear congruential generator (Knuth's MMIX constants), as in `bench-import`.
#[derive(Debug, Clone)]
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 32 random bits (the high half of the state).
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// Uniform in `lo..=hi` (the modulo bias is irrelevant here).
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next_u32() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u32) -> bool {
        self.next_u32() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u32 - 1) as usize]
    }

    fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
        let total: u32 = items.iter().map(&weight).sum();
        let mut pick = self.range(0, total - 1);
        for item in items {
            if pick < weight(item) {
                return item;
            }
            pick -= weight(item);
        }
        &items[0]
    }
}

/// The NTNs of the members: seven-digit parts counting up from [`NTN_FIRST`], skipping
/// those in `taken`.
struct Ntns<'a> {
    next: u32,
    taken: &'a HashSet<u32>,
}

impl Iterator for Ntns<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        while self.taken.contains(&self.next) {
            self.next += 1;
        }
        if self.next >= NTN_END {
            return None;
        }
        let base = self.next;
        self.next += 1;
        let check = base
            .to_string()
            .bytes()
            .map(|b| u32::from(b - b'0'))
            .sum::<u32>()
            % 10;
        Some(format!("{base}-{check}"))
    }
}

/// The seven-digit part of an NTN written `1234567-8` or `12345678`; `None` for anything
/// else.
pub fn ntn_base(ntn: &str) -> Option<u32> {
    let digits: String = ntn.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 8 {
        digits[..7].parse().ok()
    } else {
        None
    }
}

/// A JSON string literal.
fn js(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Writes a directory of `members` members whose NTNs avoid the seven-digit parts in
/// `taken`.
pub fn write_directory(
    out: &mut impl Write,
    members: u64,
    taken: &HashSet<u32>,
) -> anyhow::Result<Generated> {
    let mut rng = Lcg::new(20_240_301);
    let mut ntns = Ntns {
        next: NTN_FIRST,
        taken,
    };
    writeln!(out, "{{")?;
    writeln!(
        out,
        "  \"chamber\": \"Benchmark Chamber of Commerce & Industry (generated)\","
    )?;
    writeln!(out, "  \"chamber_code\": \"{CHAMBER_CODE}\",")?;
    writeln!(out, "  \"published\": \"2024-06-30\",")?;
    writeln!(out, "  \"members\": [")?;
    let mut in_cluster = 0u64;
    let mut line = String::with_capacity(512);
    for i in 1..=members {
        let Some(ntn) = ntns.next() else {
            bail!(
                "no NTN left below 10000000 for member {i}: at most {} members (fewer the \
                 more of the database's NTNs are in 9000000..=9999999)",
                MAX_MEMBERS
            );
        };
        let trade = rng.weighted(TRADES, |t| t.weight);
        in_cluster += u64::from(trade.in_cluster);
        let district = trade.district;
        let first = *rng.pick(NAME_FIRST);
        let word = *rng.pick(trade.words);
        let name = format!("{first} {word} {}", rng.pick(NAME_FORM));
        let tehsil = *rng.pick(district.tehsils);
        let address = format!(
            "{} {}{}, {}, {}",
            if rng.chance(50) { "Plot" } else { "Building" },
            rng.range(1, 999),
            ["", "-A", "-B", "-C"][rng.range(0, 3) as usize],
            rng.pick(district.streets),
            district.name
        );
        let phone = format!("+92 {} 0{:06}", district.area_code, rng.range(0, 999_999));
        let slug: String = format!("{first}{word}")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let email = format!("{}@{slug}{i}.example", rng.pick(MAILBOXES));
        let since = format!(
            "{}-{:02}-{:02}",
            rng.range(1975, 2023),
            rng.range(1, 12),
            rng.range(1, 28)
        );
        // Firm sizes: mostly small, some medium, a few large.
        let employees = match rng.range(0, 99) {
            0..=59 => rng.range(3, 49),
            60..=92 => rng.range(50, 249),
            _ => rng.range(250, 2500),
        };
        let status = rng.weighted(STATUSES, |s| s.1).0;
        let exporter = rng.chance(if trade.in_cluster { 55 } else { 30 });

        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "    {{\"membership_no\": \"{CHAMBER_CODE}-{i:07}\", \"name\": {}, \"ntn\": \"{ntn}\", \
             \"sector\": {}, \"district\": {}, \"tehsil\": {}, \"address\": {}, \
             \"phone\": \"{phone}\", \"email\": {}, \"member_since\": \"{since}\", \
             \"employees\": {employees}, \"status\": \"{status}\", \"exporter\": {exporter}}}",
            js(&name),
            js(trade.sector),
            js(district.name),
            js(tehsil),
            js(&address),
            js(&email),
        );
        line.push_str(if i < members { ",\n" } else { "\n" });
        out.write_all(line.as_bytes())?;
    }
    writeln!(out, "  ]")?;
    writeln!(out, "}}")?;
    out.flush()?;
    Ok(Generated {
        members,
        in_cluster,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io;

    use super::*;

    /// The directory in memory.
    fn generate_to_vec(members: u64, taken: &HashSet<u32>) -> (Vec<u8>, Generated) {
        let mut out = Vec::new();
        let generated = write_directory(&mut out, members, taken).expect("in memory");
        (out, generated)
    }

    #[test]
    fn the_directory_is_valid_json_with_unique_keys() {
        let taken: HashSet<u32> = [9_000_001, 9_000_003].into_iter().collect();
        let (bytes, generated) = generate_to_vec(2000, &taken);
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        let members = value["members"].as_array().expect("members");
        assert_eq!(members.len(), 2000);
        assert_eq!(generated.members, 2000);
        let numbers: HashSet<&str> = members
            .iter()
            .map(|m| m["membership_no"].as_str().unwrap())
            .collect();
        assert_eq!(numbers.len(), 2000);
        let ntns: HashSet<u32> = members
            .iter()
            .map(|m| ntn_base(m["ntn"].as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(ntns.len(), 2000);
        assert!(ntns.iter().all(|n| (NTN_FIRST..NTN_END).contains(n)));
        assert!(ntns.is_disjoint(&taken));
        assert_eq!(members[0]["ntn"], "9000000-9");
        assert!(
            members
                .iter()
                .all(|m| m["email"].as_str().unwrap().ends_with(".example"))
        );
        // Most members are in a cluster, not all.
        let share = generated.in_cluster as f64 / 2000.0;
        assert!((0.75..0.95).contains(&share), "{share}");
    }

    #[test]
    fn small_files_are_the_start_of_large_ones() {
        let none = HashSet::new();
        let (small, _) = generate_to_vec(10, &none);
        let (large, _) = generate_to_vec(100, &none);
        let small: serde_json::Value = serde_json::from_slice(&small).unwrap();
        let large: serde_json::Value = serde_json::from_slice(&large).unwrap();
        assert_eq!(small["members"][9], large["members"][9]);
    }

    #[test]
    fn ntns_end_below_ten_million() {
        let taken: HashSet<u32> = (NTN_FIRST..NTN_END - 2).collect();
        let mut out = io::sink();
        assert!(write_directory(&mut out, 2, &taken).is_ok());
        assert!(write_directory(&mut out, 3, &taken).is_err());
    }

    #[test]
    fn reads_ntn_bases() {
        assert_eq!(ntn_base("1234567-8"), Some(1_234_567));
        assert_eq!(ntn_base("12345678"), Some(1_234_567));
        assert_eq!(ntn_base("12345-1234567-1"), None);
    }
}
