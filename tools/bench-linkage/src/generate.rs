//! The benchmark's input: `n` ground-truth firms and three CSV files that describe them, a
//! registry, a survey and an attendance list, with the ground truth (which record is which
//! firm) kept in memory and written to `truth.csv`.
//!
//! # Firms
//!
//! A firm's name is a person or family word (one of [`PERSONS`], ~150, some of two words
//! such as "Haji Bashir"), a product word ([`PRODUCTS`], 25) and a descriptor
//! ([`DESCRIPTORS`], 15), with in the registry a legal suffix ([`REGISTRY_SUFFIXES`]: none
//! for 40% of the firms, each of the four others for 15%): "Cheema Surgical Works (Pvt.)
//! Ltd.". Firms lie in four Punjab districts with their tehsils as the hub's bundled admin
//! areas name them ([`DISTRICTS`]), uniformly; the name without its suffix is unique within a
//! district. Each firm has a phone `AAA-NNNNNNN` (the district's area code; the seven
//! subscriber digits, which the hub compares, distinct among all firms), an address
//! ("Plot 12, Small Industrial Estate, Sialkot"), a registry unit number
//! `PSIC-<district>-<nnnnnn>` (distinct), and for 90% an NTN (distinct): eight digits
//! written `1234567-8`. The hub checks only the NTN's shape (eight digits, not all zeros;
//! the FBR does not publish a check digit), and a unit number is free text of at most 32
//! characters, so every generated value is valid.
//!
//! **Hard negatives.** `n / 20` of the `n` firms (5%) are *twins*: each is made from a
//! distinct other firm, with the same person and product words ("same name stem") in the
//! same tehsil but another descriptor ("Cheema Surgical Works" / "Cheema Surgical
//! Industries"), and its own NTN, unit number, phone and address. A twin is a firm like any
//! other: in every file with the same chances. (With ~3,750 name stems per district, large
//! sizes also hold many firms sharing a stem by chance, in the district or the tehsil.)
//!
//! # Files
//!
//! 1. `registry.csv` (source `bench-registry`): every firm, in random order, as `R-<n>`:
//!    canonical name with its legal suffix, district, tehsil, unit number, NTN (when the
//!    firm has one), phone for 80%, address.
//! 2. `survey.csv` (source `bench-survey`): a random 70% of the firms, as `S-<n>`; phone
//!    for 50%, address for 50% (half of them written differently: "Rd." for "Road",
//!    "Plot No." for "Plot", …).
//! 3. `attendance.csv` (source `bench-attendance`): a random 50% of the firms, as `A-<n>`;
//!    phone for 30%, no address.
//!
//! In files 2 and 3 each record is perturbed independently, with these chances: the firm's
//! NTN for 40% (when it has one; written `1234567-8` or `12345678`), none for 60%; the
//! legal suffix dropped or written another way (another of [`SUFFIX_VARIANTS`], or one added
//! when the firm has none) 40%; an abbreviated word ([`ABBREVIATIONS`]: "Inds.", "Mfrs.",
//! "Engg.", …; only names holding such a word change) 10%; one typo (insertion, deletion,
//! substitution or transposition of adjacent characters, at a random position of the
//! name) 15%; the name in upper case 20%; another tehsil of the same district 5%. The
//! changes are applied in that order.
//!
//! Deterministic: a SplitMix64 generator seeded with the seed and the size, one stream per
//! purpose (firms, each file).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `stream` of the run with `seed` and `size`.
    #[must_use]
    pub fn new(seed: u64, size: usize, stream: u64) -> Self {
        let mut mix = Rng(seed ^ 0x0005_EED0_F114_CA6E);
        let a = mix.next_u64();
        let mut mix = Rng(a ^ (size as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let b = mix.next_u64();
        Rng(b ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is negligible here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A district: its name and tehsils as the hub's admin areas (schema/reference/
/// pakistan_admin_areas_raw.csv, title-cased by `hub migrate`) name them, the code used in
/// unit numbers and the telephone area code.
#[derive(Debug)]
pub struct District {
    pub name: &'static str,
    pub code: &'static str,
    pub area_code: &'static str,
    pub tehsils: &'static [&'static str],
}

/// The districts. Gujranwala's tehsil Wazirabad is left out: it has been a district of its
/// own since 2022.
pub const DISTRICTS: [District; 4] = [
    District {
        name: "Sialkot",
        code: "SKT",
        area_code: "052",
        tehsils: &["Daska", "Pasrur", "Sambrial", "Sialkot"],
    },
    District {
        name: "Lahore",
        code: "LHR",
        area_code: "042",
        tehsils: &[
            "Lahore Cantt.",
            "Lahore City",
            "Model Town",
            "Raiwind",
            "Shalimar",
        ],
    },
    District {
        name: "Gujranwala",
        code: "GRW",
        area_code: "055",
        tehsils: &[
            "Gujranwala City",
            "Gujranwala Saddar",
            "Kamoke",
            "Nowshera Virkan",
        ],
    },
    District {
        name: "Faisalabad",
        code: "FSD",
        area_code: "041",
        tehsils: &[
            "Chak Jhumra",
            "Faisalabad City",
            "Faisalabad Saddar",
            "Jaranwala",
            "Sammundri",
            "Tandlianwala",
        ],
    },
];

/// Person and family words that firms are named after.
pub const PERSONS: &[&str] = &[
    "Ali",
    "Bilal",
    "Hamza",
    "Usman",
    "Zafar",
    "Iqbal",
    "Anwar",
    "Rehman",
    "Butt",
    "Cheema",
    "Ghumman",
    "Malik",
    "Akram",
    "Aslam",
    "Ashraf",
    "Azhar",
    "Babar",
    "Bajwa",
    "Farooq",
    "Ghani",
    "Hafeez",
    "Haider",
    "Hanif",
    "Haroon",
    "Hassan",
    "Hussain",
    "Ijaz",
    "Imran",
    "Irfan",
    "Jamil",
    "Javed",
    "Kamran",
    "Khalid",
    "Latif",
    "Mahmood",
    "Majeed",
    "Mansoor",
    "Masood",
    "Mubashir",
    "Munir",
    "Murtaza",
    "Nadeem",
    "Naeem",
    "Nasir",
    "Naveed",
    "Nawaz",
    "Qadir",
    "Qureshi",
    "Rafiq",
    "Rashid",
    "Raza",
    "Rizwan",
    "Saeed",
    "Sajid",
    "Saleem",
    "Sarwar",
    "Shafiq",
    "Shahid",
    "Shakeel",
    "Sharif",
    "Shehzad",
    "Sohail",
    "Tahir",
    "Tariq",
    "Waqas",
    "Waseem",
    "Yasin",
    "Yousaf",
    "Zahid",
    "Zubair",
    "Arshad",
    "Asif",
    "Athar",
    "Awan",
    "Chaudhry",
    "Dar",
    "Gondal",
    "Gill",
    "Goraya",
    "Janjua",
    "Kashif",
    "Khokhar",
    "Mirza",
    "Mughal",
    "Rana",
    "Sandhu",
    "Sheikh",
    "Sial",
    "Tarar",
    "Virk",
    "Warraich",
    "Abbas",
    "Adeel",
    "Afzal",
    "Ahsan",
    "Amjad",
    "Anjum",
    "Arif",
    "Asghar",
    "Atif",
    "Faisal",
    "Fahad",
    "Habib",
    "Ishaq",
    "Junaid",
    "Kaleem",
    "Liaqat",
    "Moin",
    "Noman",
    "Pervaiz",
    "Qasim",
    "Riaz",
    "Sabir",
    "Sadiq",
    "Shoaib",
    "Talha",
    "Umar",
    "Wajid",
    "Yaqoob",
    "Zeeshan",
    "Bhatti",
    "Chattha",
    "Kahlon",
    "Sethi",
    "Saigol",
    "Haji Bashir",
    "Chaudhry Aslam",
    "Mian Latif",
    "Sheikh Anwar",
    "Malik Riaz",
    "Haji Yousaf",
    "Rana Tariq",
    "Hafiz Nadeem",
    "Sufi Barkat",
    "Khawaja Saeed",
    "Mian Javed",
    "Chaudhry Rafiq",
    "Haji Ghulam",
    "Sheikh Rashid",
    "Malik Akram",
    "Mian Shafi",
    "Haji Din",
    "Chaudhry Nazir",
    "Sheikh Munir",
    "Rana Akbar",
    "Al-Noor",
    "Madina",
    "Bismillah",
    "Crescent",
    "Al-Fateh",
];

/// What the firm makes.
pub const PRODUCTS: &[&str] = &[
    "Surgical",
    "Sports",
    "Leather",
    "Garments",
    "Cutlery",
    "Instruments",
    "Textile",
    "Auto Parts",
    "Engineering",
    "Gloves",
    "Footwear",
    "Knitwear",
    "Hosiery",
    "Steel",
    "Rubber",
    "Plastics",
    "Furniture",
    "Ceramics",
    "Electric",
    "Foods",
    "Chemicals",
    "Packages",
    "Apparel",
    "Fabrics",
    "Dyeing",
];

/// The last word(s) of a name before the legal suffix.
pub const DESCRIPTORS: &[&str] = &[
    "Works",
    "Industries",
    "Traders",
    "Enterprises",
    "Manufacturers",
    "International",
    "Corporation",
    "Company",
    "Brothers",
    "& Sons",
    "House",
    "Exports",
    "Manufacturing",
    "Associates",
    "Impex",
];

/// The legal suffixes of the registry, with their chances in percent (`""`: none).
pub const REGISTRY_SUFFIXES: [(&str, u32); 5] = [
    ("", 40),
    ("(Pvt.) Ltd.", 15),
    ("Private Limited", 15),
    ("& Co", 15),
    ("SMC-Pvt Ltd", 15),
];

/// How files 2 and 3 may write a legal suffix.
pub const SUFFIX_VARIANTS: [&str; 7] = [
    "(Pvt.) Ltd.",
    "Private Limited",
    "& Co",
    "SMC-Pvt Ltd",
    "Pvt Ltd",
    "PRIVATE LIMITED",
    "(Private) Limited",
];

/// Words that files 2 and 3 may abbreviate.
pub const ABBREVIATIONS: [(&str, &str); 10] = [
    ("Manufacturing", "Mfg."),
    ("Manufacturers", "Mfrs."),
    ("Industries", "Inds."),
    ("International", "Intl."),
    ("Enterprises", "Ent."),
    ("Engineering", "Engg."),
    ("Brothers", "Bros."),
    ("Corporation", "Corp."),
    ("Company", "Co."),
    ("Associates", "Assoc."),
];

const STREETS: [&str; 20] = [
    "Small Industrial Estate",
    "Industrial Estate",
    "GT Road",
    "Circular Road",
    "Railway Road",
    "Kashmir Road",
    "Defence Road",
    "Canal Road",
    "Sargodha Road",
    "Sheikhupura Road",
    "Main Bazar",
    "Mohallah Islampura",
    "Mohallah Rehmanpura",
    "Ghalla Mandi",
    "Model Town",
    "Satellite Town",
    "Quaid-e-Azam Industrial Estate",
    "Sundar Industrial Estate",
    "Allama Iqbal Road",
    "Mall Road",
];

const PREMISES: [&str; 4] = ["Plot", "House", "Shop", "Factory"];

/// How the survey may write an address differently.
const ADDRESS_VARIANTS: [(&str, &str); 5] = [
    ("Road", "Rd."),
    ("Plot", "Plot No."),
    ("House", "H. No."),
    ("Industrial Estate", "Ind. Estate"),
    ("Factory", "Fac."),
];

// The rates of the perturbations of files 2 and 3.
pub const SURVEY_SHARE: f64 = 0.70;
pub const ATTENDANCE_SHARE: f64 = 0.50;
pub const TWIN_SHARE: f64 = 0.05;
const REGISTRY_NTN: f64 = 0.90;
const REGISTRY_PHONE: f64 = 0.80;
const KEEP_NTN: f64 = 0.40;
const TYPO: f64 = 0.15;
const SUFFIX: f64 = 0.40;
const UPPER: f64 = 0.20;
const ABBREVIATE: f64 = 0.10;
const MOVED: f64 = 0.05;
const SURVEY_PHONE: f64 = 0.50;
const SURVEY_ADDRESS: f64 = 0.50;
const ATTENDANCE_PHONE: f64 = 0.30;

/// A ground-truth firm.
#[derive(Debug, Clone)]
pub struct Firm {
    pub person: &'static str,
    pub product: &'static str,
    pub descriptor: &'static str,
    /// The registry's legal suffix; `""` for none.
    pub suffix: &'static str,
    pub district: usize,
    pub tehsil: usize,
    pub phone: String,
    pub address: String,
    pub ntn: Option<String>,
    pub unit: String,
    /// For a twin: the firm it was made from.
    pub twin_of: Option<usize>,
}

impl Firm {
    /// The name without its legal suffix.
    #[must_use]
    pub fn base_name(&self) -> String {
        format!("{} {} {}", self.person, self.product, self.descriptor)
    }

    /// The registry's name.
    #[must_use]
    pub fn name(&self) -> String {
        if self.suffix.is_empty() {
            self.base_name()
        } else {
            format!("{} {}", self.base_name(), self.suffix)
        }
    }

    /// Person and product word: what a twin shares.
    #[must_use]
    pub fn stem(&self) -> (&'static str, &'static str) {
        (self.person, self.product)
    }
}

/// The three files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum File {
    Registry,
    Survey,
    Attendance,
}

impl File {
    pub const ALL: [File; 3] = [File::Registry, File::Survey, File::Attendance];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            File::Registry => "registry",
            File::Survey => "survey",
            File::Attendance => "attendance",
        }
    }

    /// The hub source the file is imported under.
    #[must_use]
    pub fn source(self) -> &'static str {
        match self {
            File::Registry => "bench-registry",
            File::Survey => "bench-survey",
            File::Attendance => "bench-attendance",
        }
    }

    fn key_prefix(self) -> &'static str {
        match self {
            File::Registry => "R",
            File::Survey => "S",
            File::Attendance => "A",
        }
    }

    fn header(self) -> &'static str {
        match self {
            File::Registry => {
                "Record ID,Name of Unit,District,Tehsil,NTN No.,Unit No,Phone,Address"
            }
            File::Survey => "Record ID,Name of Unit,District,Tehsil,NTN No.,Phone,Address",
            File::Attendance => "Record ID,Name of Unit,District,Tehsil,NTN No.,Phone",
        }
    }
}

/// What was done to a record of files 2 and 3 (bits of [`Record::changes`]).
pub mod change {
    pub const NTN: u16 = 1;
    pub const SUFFIX: u16 = 1 << 1;
    pub const ABBREVIATED: u16 = 1 << 2;
    pub const TYPO: u16 = 1 << 3;
    pub const UPPER: u16 = 1 << 4;
    pub const MOVED: u16 = 1 << 5;
    pub const PHONE: u16 = 1 << 6;
    pub const ADDRESS: u16 = 1 << 7;

    /// The bits with their names, for `truth.csv` and the breakdown.
    pub const NAMES: [(u16, &str); 8] = [
        (NTN, "ntn"),
        (SUFFIX, "suffix"),
        (ABBREVIATED, "abbreviated"),
        (TYPO, "typo"),
        (UPPER, "upper"),
        (MOVED, "moved"),
        (PHONE, "phone"),
        (ADDRESS, "address"),
    ];
}

/// One record of a file, with its true firm.
#[derive(Debug, Clone)]
pub struct Record {
    pub file: File,
    pub key: String,
    pub firm: usize,
    pub name: String,
    pub tehsil: usize,
    pub ntn: Option<String>,
    pub unit: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Bits of [`change`]: what the record carries or how it differs from the registry.
    pub changes: u16,
}

/// The ground truth and the records of the three files.
#[derive(Debug)]
pub struct Dataset {
    pub firms: Vec<Firm>,
    pub records: Vec<Record>,
}

impl Dataset {
    /// Generates `n` firms and their records.
    pub fn generate(n: usize, seed: u64) -> anyhow::Result<Self> {
        let capacity = DISTRICTS.len() * PERSONS.len() * PRODUCTS.len() * DESCRIPTORS.len();
        if n == 0 || n > capacity / 2 {
            anyhow::bail!(
                "the generator makes 1 to {} firms (half its {capacity} distinct names), not {n}",
                capacity / 2
            );
        }
        let firms = firms(n, &mut Rng::new(seed, n, 1));
        let mut records = Vec::with_capacity(n * 22 / 10);
        records.extend(registry(&firms, &mut Rng::new(seed, n, 2)));
        records.extend(copies(&firms, File::Survey, &mut Rng::new(seed, n, 3)));
        records.extend(copies(&firms, File::Attendance, &mut Rng::new(seed, n, 4)));
        Ok(Dataset { firms, records })
    }

    /// The records of one file, in file order.
    pub fn file(&self, file: File) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.file == file)
    }

    /// Writes `<file>.csv` into `dir`.
    pub fn write_csv(&self, file: File, path: &Path) -> io::Result<()> {
        let mut out = io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "{}", file.header())?;
        let mut line = String::with_capacity(200);
        for r in self.file(file) {
            let firm = &self.firms[r.firm];
            let district = &DISTRICTS[firm.district];
            line.clear();
            let opt = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
            let _ = write!(
                line,
                "{},{},{},{},{}",
                r.key,
                csv_field(&r.name),
                district.name,
                district.tehsils[r.tehsil],
                opt(&r.ntn)
            );
            if file == File::Registry {
                let _ = write!(line, ",{}", opt(&r.unit));
            }
            let _ = write!(line, ",{}", opt(&r.phone));
            if file != File::Attendance {
                let _ = write!(line, ",{}", opt(&r.address));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        out.flush()
    }

    /// Writes `truth.csv`: each record's file and key, its true firm (the firm's registry
    /// key), the firm's twin (`twin_of`: the firm this one was made from), the firm's and the
    /// record's tehsil and name, and what was changed.
    pub fn write_truth(&self, path: &Path) -> io::Result<()> {
        let mut out = io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(
            out,
            "file,record_key,firm,twin_of,district,firm_tehsil,record_tehsil,name,record_name,\
             changes"
        )?;
        for r in &self.records {
            let firm = &self.firms[r.firm];
            let changes: Vec<&str> = change::NAMES
                .iter()
                .filter(|(bit, _)| r.changes & bit != 0)
                .map(|(_, name)| *name)
                .collect();
            writeln!(
                out,
                "{},{},R-{},{},{},{},{},{},{},{}",
                r.file.name(),
                r.key,
                r.firm + 1,
                firm.twin_of
                    .map(|t| format!("R-{}", t + 1))
                    .unwrap_or_default(),
                DISTRICTS[firm.district].name,
                DISTRICTS[firm.district].tehsils[firm.tehsil],
                DISTRICTS[firm.district].tehsils[r.tehsil],
                csv_field(&firm.name()),
                csv_field(&r.name),
                changes.join("|")
            )?;
        }
        out.flush()
    }
}

/// Quotes a CSV field when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The firms, twins included, in random order (firm `i` is the registry's `R-<i+1>`).
fn firms(n: usize, rng: &mut Rng) -> Vec<Firm> {
    let twins = (n as f64 * TWIN_SHARE).floor() as usize;
    let originals = n - twins;
    let mut names: HashSet<(usize, usize, usize, usize)> = HashSet::with_capacity(n);
    let mut phones: HashSet<u32> = HashSet::with_capacity(n);
    let mut ntns: HashSet<u32> = HashSet::with_capacity(n);
    let mut firms: Vec<Firm> = Vec::with_capacity(n);
    let mut details = |rng: &mut Rng, district: usize| {
        let area = DISTRICTS[district].area_code;
        let phone = loop {
            let digits = 2_000_000 + rng.below(8_000_000) as u32;
            if phones.insert(digits) {
                break format!("{area}-{digits}");
            }
        };
        let ntn = rng.chance(REGISTRY_NTN).then(|| {
            loop {
                let seven = 1_000_000 + rng.below(9_000_000) as u32;
                if ntns.insert(seven) {
                    break ntn_of(seven);
                }
            }
        });
        let suffix = {
            let mut pick = rng.below(100) as u32;
            REGISTRY_SUFFIXES
                .iter()
                .find(|(_, w)| {
                    let hit = pick < *w;
                    pick = pick.saturating_sub(*w);
                    hit
                })
                .map_or("", |(s, _)| s)
        };
        let address = format!(
            "{} {}, {}, {}",
            rng.pick(&PREMISES),
            1 + rng.below(999),
            rng.pick(&STREETS),
            DISTRICTS[district].name
        );
        (phone, ntn, suffix, address)
    };
    while firms.len() < originals {
        let district = rng.below(DISTRICTS.len());
        let tehsil = rng.below(DISTRICTS[district].tehsils.len());
        let (p, q, d) = (
            rng.below(PERSONS.len()),
            rng.below(PRODUCTS.len()),
            rng.below(DESCRIPTORS.len()),
        );
        if !names.insert((district, p, q, d)) {
            continue;
        }
        let (phone, ntn, suffix, address) = details(rng, district);
        firms.push(Firm {
            person: PERSONS[p],
            product: PRODUCTS[q],
            descriptor: DESCRIPTORS[d],
            suffix,
            district,
            tehsil,
            phone,
            address,
            ntn,
            unit: String::new(),
            twin_of: None,
        });
    }
    // Twins of distinct originals, with a descriptor free in the district.
    let mut order: Vec<usize> = (0..originals).collect();
    rng.shuffle(&mut order);
    let mut made = 0;
    for &of in &order {
        if made == twins {
            break;
        }
        let original = firms[of].clone();
        let p = PERSONS.iter().position(|x| *x == original.person);
        let q = PRODUCTS.iter().position(|x| *x == original.product);
        let (Some(p), Some(q)) = (p, q) else { continue };
        let free: Vec<usize> = (0..DESCRIPTORS.len())
            .filter(|&d| !names.contains(&(original.district, p, q, d)))
            .collect();
        if free.is_empty() {
            continue;
        }
        let d = *rng.pick(&free);
        names.insert((original.district, p, q, d));
        let (phone, ntn, suffix, address) = details(rng, original.district);
        firms.push(Firm {
            descriptor: DESCRIPTORS[d],
            suffix,
            phone,
            address,
            ntn,
            twin_of: Some(of),
            ..original
        });
        made += 1;
    }
    // Random order, twin links remapped; unit numbers by position.
    let mut perm: Vec<usize> = (0..firms.len()).collect();
    rng.shuffle(&mut perm);
    let mut position = vec![0; firms.len()];
    for (new, &old) in perm.iter().enumerate() {
        position[old] = new;
    }
    let mut out: Vec<Firm> = perm.iter().map(|&old| firms[old].clone()).collect();
    for (i, firm) in out.iter_mut().enumerate() {
        firm.twin_of = firm.twin_of.map(|old| position[old]);
        firm.unit = format!("PSIC-{}-{:06}", DISTRICTS[firm.district].code, i + 1);
    }
    out
}

/// An NTN from its first seven digits: a weighted-sum digit appended (the hub checks only
/// the shape, eight digits not all zeros).
fn ntn_of(seven: u32) -> String {
    let digits = seven.to_string();
    let check = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| (i as u32 + 2) * u32::from(b - b'0'))
        .sum::<u32>()
        % 10;
    format!("{digits}-{check}")
}

fn registry(firms: &[Firm], rng: &mut Rng) -> Vec<Record> {
    firms
        .iter()
        .enumerate()
        .map(|(i, firm)| Record {
            file: File::Registry,
            key: format!("R-{}", i + 1),
            firm: i,
            name: firm.name(),
            tehsil: firm.tehsil,
            ntn: firm.ntn.clone(),
            unit: Some(firm.unit.clone()),
            phone: rng.chance(REGISTRY_PHONE).then(|| firm.phone.clone()),
            address: Some(firm.address.clone()),
            changes: 0,
        })
        .collect()
}

/// The records of file 2 or 3: a random share of the firms, in random order, perturbed.
fn copies(firms: &[Firm], file: File, rng: &mut Rng) -> Vec<Record> {
    let share = match file {
        File::Survey => SURVEY_SHARE,
        _ => ATTENDANCE_SHARE,
    };
    let mut chosen: Vec<usize> = (0..firms.len()).collect();
    rng.shuffle(&mut chosen);
    chosen.truncate((firms.len() as f64 * share).round() as usize);
    chosen
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            perturb(
                &firms[f],
                f,
                file,
                format!("{}-{}", file.key_prefix(), i + 1),
                rng,
            )
        })
        .collect()
}

fn perturb(firm: &Firm, index: usize, file: File, key: String, rng: &mut Rng) -> Record {
    let mut changes = 0;
    let ntn = match &firm.ntn {
        Some(ntn) if rng.chance(KEEP_NTN) => {
            changes |= change::NTN;
            Some(if rng.chance(0.5) {
                ntn.clone()
            } else {
                ntn.replace('-', "")
            })
        }
        _ => None,
    };
    let mut suffix = firm.suffix;
    if rng.chance(SUFFIX) {
        changes |= change::SUFFIX;
        suffix = if !suffix.is_empty() && rng.chance(0.5) {
            ""
        } else {
            let others: Vec<&str> = SUFFIX_VARIANTS
                .iter()
                .copied()
                .filter(|s| *s != firm.suffix)
                .collect();
            *rng.pick(&others)
        };
    }
    let mut base = firm.base_name();
    if rng.chance(ABBREVIATE) {
        let abbreviated = abbreviate(&base);
        if abbreviated != base {
            changes |= change::ABBREVIATED;
            base = abbreviated;
        }
    }
    let mut name = if suffix.is_empty() {
        base
    } else {
        format!("{base} {suffix}")
    };
    if rng.chance(TYPO) {
        changes |= change::TYPO;
        name = typo(&name, rng);
    }
    if rng.chance(UPPER) {
        changes |= change::UPPER;
        name = name.to_uppercase();
    }
    let mut tehsil = firm.tehsil;
    if rng.chance(MOVED) {
        changes |= change::MOVED;
        let count = DISTRICTS[firm.district].tehsils.len();
        tehsil = (tehsil + 1 + rng.below(count - 1)) % count;
    }
    let phone_share = match file {
        File::Survey => SURVEY_PHONE,
        _ => ATTENDANCE_PHONE,
    };
    let phone = rng.chance(phone_share).then(|| firm.phone.clone());
    if phone.is_some() {
        changes |= change::PHONE;
    }
    let address = (file == File::Survey && rng.chance(SURVEY_ADDRESS)).then(|| {
        if rng.chance(0.5) {
            ADDRESS_VARIANTS
                .iter()
                .fold(firm.address.clone(), |a, (from, to)| a.replace(from, to))
        } else {
            firm.address.clone()
        }
    });
    if address.is_some() {
        changes |= change::ADDRESS;
    }
    Record {
        file,
        key,
        firm: index,
        name,
        tehsil,
        ntn,
        unit: None,
        phone,
        address,
        changes,
    }
}

/// The name with the words of [`ABBREVIATIONS`] abbreviated.
fn abbreviate(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(long, _)| *long == w)
                .map_or(w, |(_, short)| short)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One typo at a random position: insertion, deletion, substitution, or transposition of
/// two adjacent, different characters. The result always differs from `name`.
pub fn typo(name: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let letter = |rng: &mut Rng, like: char| {
        let c = char::from(b'a' + rng.below(26) as u8);
        if like.is_uppercase() {
            c.to_ascii_uppercase()
        } else {
            c
        }
    };
    match rng.below(4) {
        0 => {
            let at = rng.below(chars.len() + 1);
            let like = chars.get(at.saturating_sub(1)).copied().unwrap_or('a');
            chars.insert(at, letter(rng, like));
        }
        1 if chars.len() > 1 => {
            chars.remove(rng.below(chars.len()));
        }
        3 if chars.windows(2).any(|w| w[0] != w[1]) => loop {
            let at = rng.below(chars.len() - 1);
            if chars[at] != chars[at + 1] {
                chars.swap(at, at + 1);
                break;
            }
        },
        _ => {
            let at = rng.below(chars.len());
            let old = chars[at];
            chars[at] = loop {
                let c = letter(rng, old);
                if c != old {
                    break c;
                }
            };
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn the_word_lists_have_no_repeats() {
        for list in [PERSONS, PRODUCTS, DESCRIPTORS] {
            let set: HashSet<&str> = list.iter().copied().collect();
            assert_eq!(set.len(), list.len());
        }
        assert!((140..=160).contains(&PERSONS.len()), "{}", PERSONS.len());
        assert_eq!(PRODUCTS.len(), 25);
        assert_eq!(DESCRIPTORS.len(), 15);
        assert_eq!(REGISTRY_SUFFIXES.iter().map(|(_, w)| w).sum::<u32>(), 100);
    }

    #[test]
    fn the_districts_are_the_hubs_admin_areas() {
        let raw = include_str!("../../../schema/reference/pakistan_admin_areas_raw.csv");
        let known: HashSet<(String, String)> = raw
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split(',').collect();
                Some((
                    cols.get(2)?.trim().to_lowercase(),
                    cols.get(3)?.trim().to_lowercase(),
                ))
            })
            .collect();
        for d in &DISTRICTS {
            for t in d.tehsils {
                assert!(
                    known.contains(&(d.name.to_lowercase(), t.to_lowercase())),
                    "{} / {t}",
                    d.name
                );
            }
        }
    }

    #[test]
    fn the_dataset_is_deterministic_and_consistent() {
        let a = Dataset::generate(2_000, 7).unwrap();
        let b = Dataset::generate(2_000, 7).unwrap();
        let names = |d: &Dataset| d.records.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&Dataset::generate(2_000, 8).unwrap()));

        assert_eq!(a.firms.len(), 2_000);
        assert_eq!(a.firms.iter().filter(|f| f.twin_of.is_some()).count(), 100);
        let mut by_name = HashSet::new();
        let (mut phones, mut ntns, mut units) = (HashSet::new(), HashSet::new(), HashSet::new());
        for f in &a.firms {
            assert!(by_name.insert((f.base_name(), f.district)), "{}", f.name());
            assert!(phones.insert(f.phone[4..].to_owned()));
            assert!(units.insert(f.unit.clone()));
            assert!(f.unit.len() <= 32);
            if let Some(ntn) = &f.ntn {
                assert!(ntns.insert(ntn.clone()));
                let digits: String = ntn.chars().filter(char::is_ascii_digit).collect();
                assert_eq!((digits.len(), ntn.len()), (8, 9), "{ntn}");
                assert!(digits.bytes().any(|b| b != b'0'));
            }
            if let Some(t) = f.twin_of {
                let o = &a.firms[t];
                assert_eq!(
                    (o.stem(), o.district, o.tehsil),
                    (f.stem(), f.district, f.tehsil)
                );
                assert_ne!(o.descriptor, f.descriptor);
                assert!(o.twin_of.is_none());
            }
        }
        let count = |file| a.file(file).count();
        assert_eq!(count(File::Registry), 2_000);
        assert_eq!(count(File::Survey), 1_400);
        assert_eq!(count(File::Attendance), 1_000);
        // Each firm at most once per file; the rates roughly as asked.
        let mut seen = HashMap::new();
        for r in &a.records {
            assert!(seen.insert((r.file, r.firm), ()).is_none());
        }
        let copies: Vec<&Record> = a
            .records
            .iter()
            .filter(|r| r.file != File::Registry)
            .collect();
        let share = |bit| {
            copies.iter().filter(|r| r.changes & bit != 0).count() as f64 / copies.len() as f64
        };
        assert!(
            (0.30..0.42).contains(&share(change::NTN)),
            "{}",
            share(change::NTN)
        );
        assert!((0.12..0.18).contains(&share(change::TYPO)));
        assert!((0.36..0.44).contains(&share(change::SUFFIX)));
        assert!((0.17..0.23).contains(&share(change::UPPER)));
        assert!((0.03..0.07).contains(&share(change::MOVED)));
    }

    #[test]
    fn typos_change_the_name_by_one_edit() {
        let mut rng = Rng::new(1, 1, 1);
        for _ in 0..1_000 {
            let t = typo("Ali Surgical Works", &mut rng);
            assert_ne!(t, "Ali Surgical Works");
            let diff = t.chars().count() as i64 - 18;
            assert!(diff.abs() <= 1, "{t}");
        }
        for _ in 0..100 {
            assert_ne!(typo("aa", &mut rng), "aa");
        }
    }

    #[test]
    fn abbreviations_replace_whole_words() {
        assert_eq!(abbreviate("Ali Engineering Industries"), "Ali Engg. Inds.");
        assert_eq!(abbreviate("Ali Surgical Works"), "Ali Surgical Works");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(csv_field("ab"), "ab");
    }
}
