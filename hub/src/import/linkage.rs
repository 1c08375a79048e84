//! Record linkage of firms that no strong identifier links: by name, place, phone and
//! address, scored in the manner of Fellegi and Sunter (as Splink does).
//!
//! Each comparison of a new source record with a stored one falls into a level per field
//! (the name equal after normalisation, one edit apart, close, or different; the tehsil,
//! district and phone agreeing, disagreeing or missing on one side; the address sharing
//! most, some or none of its words). Each level carries a weight, `log2(m / u)`: how much
//! likelier that level is among pairs of one firm (`m`) than among pairs of two different
//! firms in the same block (`u`). The weights of a pair plus a prior give its match
//! weight, shown as a probability. When the best candidate's probability of being the
//! record's firm rather than another candidate or none (its odds over one plus the odds
//! of all candidates) reaches `[import.linkage] link_above`, the record links
//! automatically (a `record_links` row with method `score`, the score and the evidence);
//! otherwise the candidates scoring at least `review_above` wait in the review queue
//! (`match_reviews`) while the record founds a firm of its own; with none, the record is
//! a new firm.
//!
//! **Never two values of one strong scheme.** A candidate firm holding a value of NTN,
//! registry unit number, SECP or STRN that differs from the record's value of the same
//! scheme is never linked, scored or proposed.
//!
//! **Blocking.** A record is compared only with records sharing a block: in its district,
//! each pair of its first four name words (so that one typo leaves a pair intact), the
//! single words of a one- or two-word name, the whole normalised name in any district,
//! and the last seven digits of its phone. A block larger than `max_block` is skipped
//! (a word that common tells nothing). Cost grows with the records times the blocks'
//! sizes, near-linearly in the number of firms.
//!
//! The index is built once per import from the firms' source records (every source's
//! spelling counts) and grows with the import's own records. Evidence names levels, never
//! values: a phone number compared is not written anywhere.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hub_schema::domain::normalise_name;
use sea_orm::{ConnectionTrait as _, DatabaseTransaction, Statement};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The identifier schemes issued once per firm: two different values never link.
pub(crate) const STRONG_SCHEMES: [&str; 4] = ["PK-NTN", "psic-punjab-unit", "PK-SEC", "PK-STRN"];

/// `[import.linkage]`: linking firms by name, place, phone and address.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LinkageSettings {
    /// Link firms without a strong identifier by score at all.
    pub enabled: bool,
    /// A pair scoring at least this (0 to 1) links automatically.
    pub link_above: f64,
    /// A pair scoring at least this, but below `link_above`, waits for a curator.
    pub review_above: f64,
    /// Blocks with more records than this are not compared.
    pub max_block: usize,
    /// Candidates of one record placed in the review queue, best first.
    pub max_reviews_per_record: usize,
}

impl Default for LinkageSettings {
    fn default() -> Self {
        LinkageSettings {
            enabled: true,
            link_above: 0.97,
            review_above: 0.6,
            max_block: 400,
            max_reviews_per_record: 2,
        }
    }
}

impl LinkageSettings {
    /// Checks the thresholds.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        if !unit(self.link_above) || !unit(self.review_above) {
            return Err("import.linkage: link_above and review_above lie between 0 and 1".into());
        }
        if self.review_above > self.link_above {
            return Err("import.linkage: review_above may not exceed link_above".into());
        }
        Ok(())
    }
}

/// What the linkage of one import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LinkageReport {
    /// Firm records without a strong identifier match that were scored.
    pub scored: u64,
    /// Pairs compared.
    pub compared: u64,
    /// Records linked automatically by score.
    pub linked: u64,
    /// Records placed in the review queue (each with one or more candidates).
    pub queued: u64,
    /// Time spent linking (loading the index, blocking, scoring), in milliseconds.
    pub millis: u64,
}

// ---- Normalisation --------------------------------------------------------------------------

/// Words of a firm's name that say its legal form, not which firm it is.
const LEGAL: &[&str] = &[
    "pvt",
    "private",
    "ltd",
    "limited",
    "smc",
    "llc",
    "inc",
    "plc",
    "co",
    "company",
    "and",
    "the",
    "pte",
    "corp",
    "corporation",
    "incorporated",
    "llp",
    "regd",
    "registered",
];

/// A legal form's word, or a long one misspelt by one letter ("Limted", "Privte").
fn is_legal(word: &str) -> bool {
    LEGAL.contains(&word)
        || (word.len() >= 6
            && LEGAL
                .iter()
                .any(|l| l.len() >= 6 && strsim::osa_distance(l, word) <= 1))
}

/// Abbreviations and transliteration variants, to one spelling.
const VARIANTS: &[(&str, &str)] = &[
    ("mfg", "manufacturing"),
    ("mfgs", "manufacturing"),
    ("mfrs", "manufacturers"),
    ("mfr", "manufacturer"),
    ("inds", "industries"),
    ("ind", "industries"),
    ("indus", "industries"),
    ("industry", "industries"),
    ("intl", "international"),
    ("internatl", "international"),
    ("ent", "enterprises"),
    ("entp", "enterprises"),
    ("enterprise", "enterprises"),
    ("engg", "engineering"),
    ("eng", "engineering"),
    ("bros", "brothers"),
    ("trdg", "trading"),
    ("trd", "trading"),
    ("surg", "surgical"),
    ("instr", "instruments"),
    ("instrs", "instruments"),
    ("assoc", "associates"),
    ("mohammad", "muhammad"),
    ("mohammed", "muhammad"),
    ("muhammed", "muhammad"),
    ("mohamed", "muhammad"),
    ("muhamad", "muhammad"),
    ("mohd", "muhammad"),
    ("muhd", "muhammad"),
    ("md", "muhammad"),
    ("ahmed", "ahmad"),
    ("hussein", "hussain"),
    ("husain", "hussain"),
    ("hussian", "hussain"),
    ("rehman", "rahman"),
    ("osman", "usman"),
    ("yousaf", "yusuf"),
    ("yousuf", "yusuf"),
    ("yousef", "yusuf"),
    ("ch", "chaudhry"),
    ("chaudhary", "chaudhry"),
    ("choudhry", "chaudhry"),
    ("chaudhri", "chaudhry"),
    ("shaikh", "sheikh"),
    ("shiekh", "sheikh"),
    ("quraishi", "qureshi"),
    ("qureshy", "qureshi"),
    ("siddiqi", "siddiqui"),
    ("khaled", "khalid"),
    ("tarik", "tariq"),
    ("faruq", "farooq"),
    ("farooque", "farooq"),
    ("yaqoob", "yaqub"),
    ("yakub", "yaqub"),
    ("razzak", "razzaq"),
    ("razaq", "razzaq"),
    ("anwer", "anwar"),
];

/// The words a firm's name is compared by: normalised ([`normalise_name`]), legal forms
/// dropped, abbreviations and transliteration variants written one way, a leading
/// "M/s." dropped.
pub(crate) fn name_words(name: &str) -> Vec<String> {
    let normal = normalise_name(name);
    let mut words: Vec<&str> = normal.split(' ').filter(|w| !w.is_empty()).collect();
    if words.first() == Some(&"ms") {
        words.remove(0);
    } else if words.len() > 1 && words[0] == "m" && words[1] == "s" {
        words.drain(..2);
    }
    words
        .into_iter()
        .filter(|w| !is_legal(w))
        .map(|w| {
            VARIANTS
                .iter()
                .find(|(from, _)| *from == w)
                .map_or(w, |(_, to)| to)
                .to_owned()
        })
        .collect()
}

/// The last seven digits of a phone number (the subscriber's number, whatever the prefix).
fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| digits[digits.len() - 7..].to_owned())
}

/// The words of an address that tell places apart (three letters or more, or numbers).
fn address_words(address: &str) -> Vec<String> {
    let mut words: Vec<String> = normalise_name(address)
        .split(' ')
        .filter(|w| w.len() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// What a record is compared by.
#[derive(Clone, Debug)]
pub(crate) struct Features {
    words: Vec<String>,
    key: String,
    /// The words in alphabetical order, joined: names equal but for word order.
    sorted_key: String,
    district: Option<i64>,
    tehsil: Option<i64>,
    phone: Option<String>,
    address: Vec<String>,
}

impl Features {
    pub fn new(
        name: &str,
        district: Option<i64>,
        tehsil: Option<i64>,
        phone: Option<&str>,
        address: Option<&str>,
    ) -> Self {
        let words = name_words(name);
        let mut sorted: Vec<&str> = words.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        Features {
            key: words.join(" "),
            sorted_key: sorted.join(" "),
            words,
            district,
            tehsil,
            phone: phone.and_then(phone_key),
            address: address.map(address_words).unwrap_or_default(),
        }
    }

    /// The blocks this record is found in, each as a 64-bit hash of what defines it (a
    /// collision only adds comparisons).
    fn blocks(&self) -> Vec<u64> {
        use std::hash::{Hash as _, Hasher as _};
        let block = |district: Option<i64>, parts: &[&str]| {
            let mut h = std::hash::DefaultHasher::new();
            district.hash(&mut h);
            parts.hash(&mut h);
            h.finish()
        };
        let mut out = Vec::new();
        if self.key.is_empty() {
            return out;
        }
        out.push(block(None, &["=", &self.sorted_key]));
        let w: Vec<&str> = self.words.iter().take(4).map(String::as_str).collect();
        if w.len() <= 2 {
            for word in &w {
                out.push(block(self.district, &[word]));
            }
        }
        for i in 0..w.len() {
            for j in i + 1..w.len() {
                let (x, y) = if w[i] <= w[j] {
                    (w[i], w[j])
                } else {
                    (w[j], w[i])
                };
                out.push(block(self.district, &[x, y]));
            }
        }
        if let Some(phone) = &self.phone {
            out.push(block(None, &["tel", phone]));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

// ---- Comparison -----------------------------------------------------------------------------

/// How far two names are apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum NameLevel {
    Different,
    /// Every word of the shorter name in the longer (one word more at most), or the same
    /// words in another order with one edit.
    Close,
    /// One edit apart (insertion, deletion, substitution, transposition).
    OneEdit,
    /// Equal after normalisation (word order ignored).
    Exact,
}

/// Whether a field agrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Agreement {
    Agree,
    Partial,
    Disagree,
    Missing,
}

fn name_level(a: &Features, b: &Features) -> NameLevel {
    if a.key.is_empty() || b.key.is_empty() {
        return NameLevel::Different;
    }
    if a.key == b.key {
        return NameLevel::Exact;
    }
    if a.sorted_key == b.sorted_key {
        return NameLevel::Exact;
    }
    if a.key.len().min(b.key.len()) >= 6 && name_one_edit(&a.key, &b.key) {
        return NameLevel::OneEdit;
    }
    // Every word of the shorter name matches a word of the other (equal, or one edit
    // apart for words of five letters or more), and the longer has one word more at most.
    let (short, long) = if a.words.len() <= b.words.len() {
        (&a.words, &b.words)
    } else {
        (&b.words, &a.words)
    };
    if short.len() >= 2 && long.len() - short.len() <= 1 {
        let mut used = [false; 16];
        let mut edits = long.len() - short.len();
        let all = long.len() <= used.len()
            && short.iter().all(|w| {
                let exact = long
                    .iter()
                    .enumerate()
                    .position(|(i, l)| !used[i] && l == w);
                let found = exact.or_else(|| {
                    // One edit in one word of five letters or more, and only one.
                    if edits > 0 || w.len() < 5 {
                        return None;
                    }
                    let i = long
                        .iter()
                        .enumerate()
                        .position(|(i, l)| !used[i] && l.len() >= 5 && within_one_edit(l, w))?;
                    edits += 1;
                    Some(i)
                });
                found.map(|i| used[i] = true).is_some()
            });
        if all && edits <= 1 {
            return NameLevel::Close;
        }
    }
    NameLevel::Different
}

/// Whether two texts are at most one edit apart (insertion, deletion, substitution or
/// transposition of adjacent letters: optimal string alignment distance ≤ 1), without
/// computing the distance: after the common prefix and suffix, what is left must be one
/// letter or two swapped ones.
fn within_one_edit(a: &str, b: &str) -> bool {
    if !(a.is_ascii() && b.is_ascii()) {
        return strsim::osa_distance(a, b) <= 1;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    match (a.len(), b.len()) {
        (0..=1, 0..=1) => true,
        (2, 2) => a[0] == b[1] && a[1] == b[0],
        _ => false,
    }
}

/// One edit between two names that reads as a typo: not in a number ("Star Surgical 1"
/// and "Star Surgical 2" are two firms) nor in a word under four letters ("Ali" and "Ala").
fn name_one_edit(a: &str, b: &str) -> bool {
    if !within_one_edit(a, b) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let word = |s: &[char]| -> Vec<char> {
        let p = at.min(s.len().saturating_sub(1));
        let start = s[..p].iter().rposition(|c| *c == ' ').map_or(0, |i| i + 1);
        let end = s[p..]
            .iter()
            .position(|c| *c == ' ')
            .map_or(s.len(), |i| p + i);
        s[start..end].to_vec()
    };
    [word(&a), word(&b)]
        .iter()
        .all(|w| w.len() >= 4 && !w.iter().any(|c| c.is_numeric()))
}

fn place(a: Option<i64>, b: Option<i64>) -> Agreement {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Agreement::Agree,
        (Some(_), Some(_)) => Agreement::Disagree,
        _ => Agreement::Missing,
    }
}

fn phone(a: &Option<String>, b: &Option<String>) -> Agreement {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Agreement::Agree,
        (Some(_), Some(_)) => Agreement::Disagree,
        _ => Agreement::Missing,
    }
}

fn address(a: &[String], b: &[String]) -> Agreement {
    if a.is_empty() || b.is_empty() {
        return Agreement::Missing;
    }
    let shared = a.iter().filter(|w| b.binary_search(w).is_ok()).count();
    let jaccard = shared as f64 / (a.len() + b.len() - shared) as f64;
    if jaccard >= 0.6 {
        Agreement::Agree
    } else if jaccard >= 0.25 {
        Agreement::Partial
    } else {
        Agreement::Disagree
    }
}

/// The prior match weight of a pair that shares a block: about one pair in six is the
/// same firm (blocks are small: two name words in one district).
const PRIOR: f64 = -2.5;

/// `log2(m / u)` of each level. `m`: the share of pairs of one firm at that level; `u`:
/// the share of pairs of two firms sharing a block. Chosen from what is known of the
/// sources (registries type names with care; surveys and attendance sheets drop legal
/// forms, abbreviate and misspell; one firm in twenty is placed in a neighbouring tehsil;
/// half the firms of a block share its two words) and checked on the quality benchmark
/// (`tools/bench-linkage`).
fn name_weight(level: NameLevel) -> f64 {
    match level {
        NameLevel::Exact => (0.62f64 / 0.002).log2(),
        NameLevel::OneEdit => (0.25f64 / 0.002).log2(),
        NameLevel::Close => (0.15f64 / 0.08).log2(),
        NameLevel::Different => (0.05f64 / 0.966).log2(),
    }
}

fn place_weight(level: Agreement, m_agree: f64, u_agree: f64) -> f64 {
    match level {
        Agreement::Agree => (m_agree / u_agree).log2(),
        Agreement::Disagree => ((1.0 - m_agree) / (1.0 - u_agree)).log2(),
        Agreement::Partial | Agreement::Missing => 0.0,
    }
}

fn address_weight(level: Agreement) -> f64 {
    match level {
        Agreement::Agree => (0.7f64 / 0.05).log2(),
        Agreement::Partial => (0.2f64 / 0.15).log2(),
        Agreement::Disagree => (0.1f64 / 0.8).log2(),
        Agreement::Missing => 0.0,
    }
}

/// A scored pair: the match probability and the levels it came from (the evidence is
/// written out only for the pairs kept, [`Scored::evidence`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored {
    pub score: f64,
    name: NameLevel,
    district: Agreement,
    tehsil: Agreement,
    phone: Agreement,
    address: Agreement,
}

impl Scored {
    /// The weight of each field's level.
    fn weights(&self) -> [(&'static str, f64); 5] {
        [
            ("name", name_weight(self.name)),
            ("district", place_weight(self.district, 0.99, 0.5)),
            ("tehsil", place_weight(self.tehsil, 0.95, 0.33)),
            ("phone", place_weight(self.phone, 0.9, 0.005)),
            ("address", address_weight(self.address)),
        ]
    }

    /// How the pair compared: each field's level, the weights and the match weight.
    pub fn evidence(&self) -> serde_json::Value {
        let weights = self.weights();
        let weight = PRIOR + weights.iter().map(|(_, w)| w).sum::<f64>();
        let round = |v: f64| (v * 100.0).round() / 100.0;
        json!({
            "name": self.name,
            "district": self.district,
            "tehsil": self.tehsil,
            "phone": self.phone,
            "address": self.address,
            "match_weight": round(weight),
            "weights": weights
                .iter()
                .map(|(k, w)| ((*k).to_owned(), json!(round(*w))))
                .collect::<serde_json::Map<_, _>>(),
        })
    }
}

fn score(a: &Features, b: &Features) -> Scored {
    let mut scored = Scored {
        score: 0.0,
        name: name_level(a, b),
        district: place(a.district, b.district),
        tehsil: place(a.tehsil, b.tehsil),
        phone: phone(&a.phone, &b.phone),
        address: address(&a.address, &b.address),
    };
    let weight = PRIOR + scored.weights().iter().map(|(_, w)| w).sum::<f64>();
    scored.score = 1.0 / (1.0 + (-weight).exp2());
    scored
}

// ---- The index ------------------------------------------------------------------------------

/// A firm in the index: stored before this batch, or founded by the batch's record at an
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Firm {
    Stored(i64),
    Founder(usize),
}

struct Entry {
    firm: Firm,
    record_id: Option<i64>,
    features: Features,
}

/// What to do with a record.
#[derive(Debug, Clone)]
pub(crate) enum Decision {
    /// Link to this firm.
    Link(Firm, Candidate),
    /// Found a firm, and queue these candidates for review.
    Review(Vec<(Firm, Candidate)>),
    /// Found a firm.
    New,
}

/// A candidate firm of a record.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub scored: Scored,
    /// The probability that this is the record's firm rather than another candidate or
    /// none (see [`LinkIndex::decide`]).
    pub posterior: f64,
    /// The stored record of the firm the best comparison was with.
    pub record_id: Option<i64>,
}

/// The firms' records by block, and their strong identifiers.
pub(crate) struct LinkIndex {
    entries: Vec<Entry>,
    blocks: HashMap<u64, Vec<u32>>,
    strong: HashMap<Firm, Vec<(String, String)>>,
    pub report: LinkageReport,
    spent: Duration,
}

impl LinkIndex {
    /// Reads the records of every firm (not merged away) and their strong identifiers.
    pub async fn load(txn: &DatabaseTransaction) -> anyhow::Result<LinkIndex> {
        let started = Instant::now();
        let backend = txn.get_database_backend();
        let rows = txn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT r.id, r.organisation_id, r.name, r.district_id, r.tehsil_id, r.phone, \
                 r.address FROM organisation_source_records r JOIN organisations o ON \
                 o.id = r.organisation_id WHERE o.kind = 'firm' AND o.merged_into_id IS NULL \
                 AND r.kind = 'firm' ORDER BY r.id",
            ))
            .await?;
        let mut index = LinkIndex {
            entries: Vec::with_capacity(rows.len()),
            blocks: HashMap::new(),
            strong: HashMap::new(),
            report: LinkageReport::default(),
            spent: Duration::ZERO,
        };
        for r in &rows {
            let features = Features::new(
                &r.try_get_by::<String, _>("name")?,
                r.try_get_by("district_id")?,
                r.try_get_by("tehsil_id")?,
                r.try_get_by::<Option<String>, _>("phone")?.as_deref(),
                r.try_get_by::<Option<String>, _>("address")?.as_deref(),
            );
            index.add(
                Firm::Stored(r.try_get_by("organisation_id")?),
                Some(r.try_get_by("id")?),
                features,
                &[],
            );
        }
        let schemes = STRONG_SCHEMES
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let idents = txn
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT organisation_id, scheme, value FROM organisation_identifiers \
                     WHERE organisation_id IS NOT NULL AND scheme IN ({schemes})"
                ),
            ))
            .await?;
        for r in &idents {
            let firm = Firm::Stored(r.try_get_by("organisation_id")?);
            let pair = (r.try_get_by("scheme")?, r.try_get_by("value")?);
            let list = index.strong.entry(firm).or_default();
            if !list.contains(&pair) {
                list.push(pair);
            }
        }
        index.spent += started.elapsed();
        Ok(index)
    }

    /// Adds a record of a firm, with the record's links (strong schemes are kept).
    pub fn add(
        &mut self,
        firm: Firm,
        record_id: Option<i64>,
        features: Features,
        links: &[(String, String)],
    ) {
        let n = self.entries.len() as u32;
        for block in features.blocks() {
            self.blocks.entry(block).or_default().push(n);
        }
        self.entries.push(Entry {
            firm,
            record_id,
            features,
        });
        let strong = self.strong.entry(firm).or_default();
        for link in links {
            if STRONG_SCHEMES.contains(&link.0.as_str()) && !strong.contains(link) {
                strong.push(link.clone());
            }
        }
    }

    /// Adds strong identifiers to a firm (those of a stored record that changed).
    pub fn add_strong(&mut self, firm: Firm, links: &[(String, String)]) {
        let strong = self.strong.entry(firm).or_default();
        for link in links {
            if STRONG_SCHEMES.contains(&link.0.as_str()) && !strong.contains(link) {
                strong.push(link.clone());
            }
        }
    }

    /// Gives the batch's founders their entity ids, once written.
    pub fn settle(&mut self, entity_of_founder: &HashMap<usize, i64>) {
        let fix = |f: Firm| match f {
            Firm::Founder(i) => Firm::Stored(entity_of_founder[&i]),
            stored => stored,
        };
        for e in &mut self.entries {
            e.firm = fix(e.firm);
        }
        let strong = std::mem::take(&mut self.strong);
        for (firm, mut list) in strong {
            let to = self.strong.entry(fix(firm)).or_default();
            list.retain(|l| !to.contains(l));
            to.extend(list);
        }
    }

    /// Gives the batch's new records their ids, once written (`ids[k]` for founder or
    /// linked record `k` of the batch, in the order they were added since `from`).
    pub fn set_record_ids(&mut self, from: usize, ids: impl IntoIterator<Item = i64>) {
        for (e, id) in self.entries[from..].iter_mut().zip(ids) {
            e.record_id = Some(id);
        }
    }

    /// The number of records in the index.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether a firm holds a value of a strong scheme other than the record's own value
    /// of that scheme.
    fn conflicts(&self, firm: Firm, links: &[(String, String)]) -> bool {
        let Some(held) = self.strong.get(&firm) else {
            return false;
        };
        held.iter().any(|(scheme, value)| {
            links.iter().any(|(s, v)| {
                s == scheme && v != value && !links.contains(&(s.clone(), value.clone()))
            })
        })
    }

    /// Decides where a record goes.
    pub fn decide(
        &mut self,
        features: &Features,
        links: &[(String, String)],
        settings: &LinkageSettings,
    ) -> Decision {
        let started = Instant::now();
        self.report.scored += 1;
        let mut seen: Vec<u32> = Vec::new();
        for block in features.blocks() {
            if let Some(members) = self.blocks.get(&block)
                && members.len() <= settings.max_block
            {
                seen.extend_from_slice(members);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let mut best: HashMap<Firm, Candidate> = HashMap::new();
        let mut vetoed: HashMap<Firm, bool> = HashMap::new();
        for n in seen {
            let entry = &self.entries[n as usize];
            let veto = *vetoed
                .entry(entry.firm)
                .or_insert_with(|| self.conflicts(entry.firm, links));
            if veto {
                continue;
            }
            self.report.compared += 1;
            let scored = score(features, &entry.features);
            let better = best
                .get(&entry.firm)
                .is_none_or(|c| scored.score > c.scored.score);
            if better {
                best.insert(
                    entry.firm,
                    Candidate {
                        scored,
                        posterior: 0.0,
                        record_id: entry.record_id,
                    },
                );
            }
        }
        // The probability that the best candidate is the record's firm rather than another
        // candidate or none: its odds over one plus the odds of every candidate (at most
        // one of them is the record's firm).
        let odds = |p: f64| p / (1.0 - p).max(f64::MIN_POSITIVE);
        let total: f64 = best.values().map(|c| odds(c.scored.score)).sum();
        let mut ranked: Vec<(Firm, Candidate)> = best
            .into_iter()
            .filter(|(_, c)| c.scored.score >= settings.review_above)
            .collect();
        ranked.sort_by(|a, b| {
            b.1.scored
                .score
                .total_cmp(&a.1.scored.score)
                .then_with(|| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)))
        });
        ranked.truncate(settings.max_reviews_per_record.max(1));
        for (_, c) in &mut ranked {
            c.posterior = odds(c.scored.score) / (1.0 + total);
        }
        self.spent += started.elapsed();
        match ranked.first() {
            None => Decision::New,
            // One clear candidate links; two plausible firms are for a curator to tell
            // apart.
            Some((firm, c)) if c.posterior >= settings.link_above => {
                self.report.linked += 1;
                Decision::Link(*firm, c.clone())
            }
            Some(_) => {
                self.report.queued += 1;
                Decision::Review(ranked)
            }
        }
    }

    /// The report, with the time spent so far.
    pub fn report(&self) -> LinkageReport {
        LinkageReport {
            millis: self.spent.as_millis() as u64,
            ..self.report
        }
    }

    /// Counts time spent outside [`LinkIndex::decide`] (adding records).
    pub fn charge(&mut self, spent: Duration) {
        self.spent += spent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, tehsil: i64) -> Features {
        Features::new(name, Some(1), Some(tehsil), None, None)
    }

    #[test]
    fn names_are_compared_without_legal_forms_abbreviations_or_spelling_variants() {
        assert_eq!(
            name_words("M/s. Mohammad Ahmed Surgical Inds. (Pvt.) Ltd."),
            ["muhammad", "ahmad", "surgical", "industries"]
        );
        assert_eq!(name_words("ALI & CO"), ["ali"]);
        assert_eq!(
            name_words("Intl. Mfg. Company Private Limited"),
            ["international", "manufacturing"]
        );
    }

    #[test]
    fn one_edit_is_the_optimal_string_alignment_distance_of_one() {
        for (a, b) in [
            ("surgical", "surgical"),
            ("surgical", "surgcal"),
            ("surgical", "surgicall"),
            ("surgical", "surgixal"),
            ("surgical", "sugrical"),
            ("ab", "ba"),
            ("aab", "aba"),
            ("muhammad", "muhammed"),
            ("lahore", "lahore city"),
            ("works", "sports"),
            ("abc", "cab"),
            ("sialkot", "skalkit"),
            ("ṣurgical", "surgical"),
        ] {
            assert_eq!(
                within_one_edit(a, b),
                strsim::osa_distance(a, b) <= 1,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn levels_of_names() {
        let level = |a: &str, b: &str| name_level(&f(a, 1), &f(b, 1));
        assert_eq!(
            level("Ali Surgical Works", "ALI SURGICAL WORKS (PVT) LTD"),
            NameLevel::Exact
        );
        assert_eq!(
            level("Ali Surgical Works", "Ali Surgcal Works"),
            NameLevel::OneEdit
        );
        assert_eq!(
            level("Ali Surgical Works", "Ali Surigcal Works"),
            NameLevel::OneEdit
        );
        assert_eq!(
            level("Ali Surgical Works", "Ali Surgical"),
            NameLevel::Close
        );
        assert_eq!(
            level("Ali Surgical Works", "Ali Surgical Instruments"),
            NameLevel::Different
        );
        assert_eq!(
            level("Ali Surgical Works", "Bilal Leather"),
            NameLevel::Different
        );
        // Not a typo: a number, a short word.
        assert_ne!(
            level("Star Surgical 1", "Star Surgical 2"),
            NameLevel::OneEdit
        );
        assert_ne!(
            level("Ali Traders Sialkot", "Ala Traders Sialkot"),
            NameLevel::OneEdit
        );
        assert_eq!(
            level("Star Surgical 1", "Star Surgcal 1"),
            NameLevel::OneEdit
        );
        assert_ne!(level("Café Works 1", "Café Works 12"), NameLevel::OneEdit);
        assert_ne!(level("Café Works 1", "Café Works 2"), NameLevel::Close);
    }

    #[test]
    fn a_stem_shared_by_two_firms_of_one_tehsil_does_not_link() {
        let settings = LinkageSettings::default();
        let a = score(
            &f("Ali Surgical Works", 7),
            &f("Ali Surgical Instruments", 7),
        );
        assert!(a.score < settings.review_above, "{a:?}");
        let same = score(
            &f("Ali Surgical Works", 7),
            &f("ALI SURGCAL WORKS PVT LTD", 7),
        );
        assert!(same.score >= settings.link_above, "{same:?}");
        let moved = score(&f("Ali Surgical Works", 7), &f("Ali Surgical Works", 8));
        assert!(
            moved.score >= settings.review_above && moved.score < settings.link_above,
            "{moved:?}"
        );
    }

    #[test]
    fn two_values_of_one_strong_scheme_never_link() {
        let settings = LinkageSettings::default();
        let mut index = LinkIndex {
            entries: Vec::new(),
            blocks: HashMap::new(),
            strong: HashMap::new(),
            report: LinkageReport::default(),
            spent: Duration::ZERO,
        };
        let ntn = |v: &str| vec![("PK-NTN".to_owned(), v.to_owned())];
        index.add(
            Firm::Stored(1),
            Some(10),
            f("Ali Surgical Works", 7),
            &ntn("1234567"),
        );
        let same = f("Ali Surgical Works", 7);
        assert!(matches!(
            index.decide(&same, &ntn("7654321"), &settings),
            Decision::New
        ));
        assert!(matches!(
            index.decide(&same, &[], &settings),
            Decision::Link(Firm::Stored(1), _)
        ));
    }
}
