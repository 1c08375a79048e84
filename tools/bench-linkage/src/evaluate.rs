//! What the hub made of the records: read from its SQLite database with the `sqlite3`
//! command-line tool, and scored against the ground truth.
//!
//! Per record (`organisation_source_records` of the three sources): the organisation it
//! belongs to, the method of its active `record_links` row (`new`, `strong_identifier`,
//! `score`), and the organisations proposed for it in pending match reviews
//! (`match_reviews`, `kind = 'match'`, `status = 'pending'`). See the crate documentation
//! for the metrics.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::generate::{Dataset, File, change};

/// What the hub did with one record.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The unified firm the record belongs to.
    pub org: Option<i64>,
    /// The methods of its active `record_links` rows (one, normally).
    pub methods: Vec<String>,
    /// The organisations proposed for it in pending match reviews.
    pub candidates: Vec<i64>,
}

impl Outcome {
    fn method(&self) -> &str {
        match self.methods.as_slice() {
            [one] => one,
            [] => "none",
            _ => "several",
        }
    }
}

/// Runs one query with `sqlite3 -csv` and returns its rows, split at commas (the values
/// read here never hold one).
fn query(db: &Path, sql: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let out = Command::new("sqlite3")
        .args(["-batch", "-bail", "-noheader", "-csv", "-readonly"])
        .arg(db)
        .arg(sql)
        .stdin(Stdio::null())
        .output()
        .context("running sqlite3 (is the sqlite3 command-line tool installed?)")?;
    if !out.status.success() {
        bail!(
            "sqlite3 failed on {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect())
}

/// The outcome of every record of the three sources, by file and record key.
pub fn read_outcomes(db: &Path) -> anyhow::Result<HashMap<(File, String), Outcome>> {
    let sources: Vec<String> = File::ALL
        .iter()
        .map(|f| format!("'{}'", f.source()))
        .collect();
    let rows = query(
        db,
        &format!(
            "SELECT s.code, r.source_key, r.id, r.organisation_id, l.method \
             FROM organisation_source_records r \
             JOIN sources s ON s.id = r.source_id \
             LEFT JOIN record_links l ON l.entity_type = 'organisation' \
               AND l.source_record_id = r.id AND l.status = 'active' \
             WHERE s.code IN ({})",
            sources.join(",")
        ),
    )?;
    let mut outcomes: HashMap<(File, String), Outcome> = HashMap::new();
    let mut by_id: HashMap<i64, (File, String)> = HashMap::new();
    for row in rows {
        let [code, key, id, org, method] = row.as_slice() else {
            bail!("unexpected row from sqlite3: {row:?}");
        };
        let file = File::ALL
            .into_iter()
            .find(|f| f.source() == code)
            .with_context(|| format!("unknown source {code}"))?;
        let id: i64 = id.parse().with_context(|| format!("record id {id:?}"))?;
        let entry = outcomes
            .entry((file, key.clone()))
            .or_insert_with(|| Outcome {
                org: org.parse().ok(),
                ..Outcome::default()
            });
        if !method.is_empty() {
            entry.methods.push(method.clone());
        }
        by_id.insert(id, (file, key.clone()));
    }
    let reviews = query(
        db,
        "SELECT source_record_id, candidate_id FROM match_reviews \
         WHERE entity_type = 'organisation' AND kind = 'match' AND status = 'pending'",
    )?;
    for row in reviews {
        let [record, candidate] = row.as_slice() else {
            bail!("unexpected row from sqlite3: {row:?}");
        };
        let record: i64 = record.parse()?;
        let candidate: i64 = candidate.parse()?;
        // Reviews of records of other sources (none in a fresh database) are ignored.
        if let Some(outcome) = by_id.get(&record).and_then(|k| outcomes.get_mut(k)) {
            outcome.candidates.push(candidate);
        }
    }
    Ok(outcomes)
}

/// Records and how many of them were found, for one kind of change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Found {
    pub records: u64,
    pub linked: u64,
    pub with_queue: u64,
}

/// The quality measures of one run.
#[derive(Debug, Clone, Default)]
pub struct Quality {
    /// Records of the three files.
    pub records: u64,
    /// Records of files 2 and 3 (survey, attendance): the ones scored.
    pub copies: u64,
    /// Records of files 2 and 3 linked by strong identifier, and of those to the true firm.
    pub strong: u64,
    pub strong_ok: u64,
    /// Records of files 2 and 3 linked by score, and of those to the true firm.
    pub score: u64,
    pub score_ok: u64,
    /// Wrong score links to a registry firm with the same person and product words in the
    /// same district, and of those to the record's twin.
    pub score_wrong_stem: u64,
    pub score_wrong_twin: u64,
    /// Records of files 2 and 3 that founded a firm (method `new`).
    pub founded: u64,
    /// Records of files 2 and 3 with no or several active links (should be none).
    pub odd_links: u64,
    /// Records of files 2 and 3 in the true firm's organisation.
    pub found: u64,
    /// … or, if not, with the true firm's organisation among their pending candidates.
    pub found_with_queue: u64,
    /// Records of files 2 and 3 not in the true firm's organisation but in one of two or
    /// more records, all of their true firm (a firm founded outside the registry by a
    /// record of the same firm): counted as misses.
    pub elsewhere_consistent: u64,
    /// Distinct records (three files) with a pending review, and the review rows.
    pub queued_records: u64,
    pub review_rows: u64,
    /// Records of files 2 and 3 with a pending review, and of those with the true firm's
    /// organisation among the candidates.
    pub queued_copies: u64,
    pub queued_copies_true: u64,
    /// Registry records sharing their organisation with another registry record.
    pub registry_merged: u64,
    /// Pairs of records (three files) in one organisation; of those, pairs of one true
    /// firm; pairs of records of one true firm.
    pub pairs_predicted: u64,
    pub pairs_correct: u64,
    pub pairs_true: u64,
    /// Records missing from the database.
    pub missing: u64,
    /// Recall by change, for records of files 2 and 3: `(name, found)`; first the records
    /// with no change of the name or place.
    pub by_change: Vec<(&'static str, Found)>,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

impl Quality {
    /// Scores the outcomes against the dataset's ground truth.
    #[must_use]
    pub fn measure(data: &Dataset, outcomes: &HashMap<(File, String), Outcome>) -> Self {
        let mut q = Quality::default();
        let outcome = |r: &crate::generate::Record| outcomes.get(&(r.file, r.key.clone()));

        // The true firm's organisation: its registry record's.
        let mut truth_org: Vec<Option<i64>> = vec![None; data.firms.len()];
        let mut registry_firm_of_org: HashMap<i64, usize> = HashMap::new();
        let mut registry_orgs: HashMap<i64, u64> = HashMap::new();
        for r in data.file(File::Registry) {
            if let Some(org) = outcome(r).and_then(|o| o.org) {
                truth_org[r.firm] = Some(org);
                registry_firm_of_org.insert(org, r.firm);
                *registry_orgs.entry(org).or_default() += 1;
            }
        }
        q.registry_merged = registry_orgs.values().filter(|&&n| n > 1).sum();

        // Organisation -> (records, records by true firm).
        let mut org_size: HashMap<i64, u64> = HashMap::new();
        let mut org_firm: HashMap<(i64, usize), u64> = HashMap::new();
        let mut firm_size: HashMap<usize, u64> = HashMap::new();
        for r in &data.records {
            q.records += 1;
            *firm_size.entry(r.firm).or_default() += 1;
            let Some(o) = outcome(r) else {
                q.missing += 1;
                continue;
            };
            if let Some(org) = o.org {
                *org_size.entry(org).or_default() += 1;
                *org_firm.entry((org, r.firm)).or_default() += 1;
            }
            if !o.candidates.is_empty() {
                q.queued_records += 1;
                q.review_rows += o.candidates.len() as u64;
            }
        }
        q.pairs_predicted = org_size.values().map(|&n| pairs(n)).sum();
        q.pairs_correct = org_firm.values().map(|&n| pairs(n)).sum();
        q.pairs_true = firm_size.values().map(|&n| pairs(n)).sum();

        let twin = |a: usize, b: usize| {
            data.firms[a].twin_of == Some(b) || data.firms[b].twin_of == Some(a)
        };
        const PLAIN: u16 =
            change::SUFFIX | change::ABBREVIATED | change::TYPO | change::UPPER | change::MOVED;
        let mut by_change: Vec<(&'static str, u16, Found)> =
            vec![("no name or place change", 0, Found::default())];
        by_change.extend(
            change::NAMES
                .iter()
                .map(|&(bit, name)| (name, bit, Found::default())),
        );
        let mut no_ntn = Found::default();
        for r in data.records.iter().filter(|r| r.file != File::Registry) {
            q.copies += 1;
            let Some(o) = outcome(r) else { continue };
            let truth = truth_org[r.firm];
            let correct = o.org.is_some() && o.org == truth;
            match o.method() {
                "strong_identifier" => {
                    q.strong += 1;
                    q.strong_ok += u64::from(correct);
                }
                "score" => {
                    q.score += 1;
                    if correct {
                        q.score_ok += 1;
                    } else if let Some(&other) =
                        o.org.and_then(|org| registry_firm_of_org.get(&org))
                    {
                        let (a, b) = (&data.firms[r.firm], &data.firms[other]);
                        if a.stem() == b.stem() && a.district == b.district {
                            q.score_wrong_stem += 1;
                            q.score_wrong_twin += u64::from(twin(r.firm, other));
                        }
                    }
                }
                "new" => q.founded += 1,
                _ => q.odd_links += 1,
            }
            let queued = truth.is_some_and(|t| o.candidates.contains(&t));
            if !o.candidates.is_empty() {
                q.queued_copies += 1;
                q.queued_copies_true += u64::from(queued);
            }
            q.found += u64::from(correct);
            q.found_with_queue += u64::from(correct || queued);
            if !correct
                && let Some(org) = o.org
                && org_size.get(&org).is_some_and(|&n| n > 1)
                && org_firm.get(&(org, r.firm)) == org_size.get(&org)
            {
                q.elsewhere_consistent += 1;
            }
            for (_, bit, found) in &mut by_change {
                let applies = if *bit == 0 {
                    r.changes & PLAIN == 0
                } else {
                    r.changes & *bit != 0
                };
                if applies {
                    found.records += 1;
                    found.linked += u64::from(correct);
                    found.with_queue += u64::from(correct || queued);
                }
            }
            if r.changes & change::NTN == 0 {
                no_ntn.records += 1;
                no_ntn.linked += u64::from(correct);
                no_ntn.with_queue += u64::from(correct || queued);
            }
        }
        q.by_change = by_change
            .into_iter()
            .map(|(name, _, found)| (name, found))
            .collect();
        q.by_change.insert(1, ("no NTN", no_ntn));
        q
    }
}

/// `part / whole`, `None` when `whole` is 0.
#[must_use]
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The organisations that have a registry record.
    fn registry_orgs(data: &Dataset, outcomes: &HashMap<(File, String), Outcome>) -> HashSet<i64> {
        data.file(File::Registry)
            .filter_map(|r| outcomes.get(&(r.file, r.key.clone()))?.org)
            .collect()
    }

    /// The perfect outcome: each record in its firm's organisation (`firm + 1`), registry
    /// records founding, copies linked by score.
    fn perfect(data: &Dataset) -> HashMap<(File, String), Outcome> {
        data.records
            .iter()
            .map(|r| {
                let method = if r.file == File::Registry {
                    "new"
                } else {
                    "score"
                };
                (
                    (r.file, r.key.clone()),
                    Outcome {
                        org: Some(r.firm as i64 + 1),
                        methods: vec![method.to_owned()],
                        candidates: vec![],
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_perfect_outcome_scores_one() {
        let data = Dataset::generate(500, 3).unwrap();
        let outcomes = perfect(&data);
        assert_eq!(registry_orgs(&data, &outcomes).len(), 500);
        let q = Quality::measure(&data, &outcomes);
        assert_eq!(q.records, 500 + 350 + 250);
        assert_eq!(q.copies, 600);
        assert_eq!(
            (q.score, q.score_ok, q.found, q.found_with_queue),
            (600, 600, 600, 600)
        );
        assert_eq!(q.pairs_predicted, q.pairs_correct);
        assert_eq!(q.pairs_predicted, q.pairs_true);
        assert_eq!((q.registry_merged, q.queued_records, q.missing), (0, 0, 0));
    }

    #[test]
    fn misses_queue_and_wrong_links_are_counted() {
        let data = Dataset::generate(500, 3).unwrap();
        let mut outcomes = perfect(&data);
        let copies: Vec<&crate::generate::Record> = data
            .records
            .iter()
            .filter(|r| r.file != File::Registry)
            .collect();
        // A copy founding its own firm, its true firm proposed.
        let a = copies[0];
        let o = outcomes.get_mut(&(a.file, a.key.clone())).unwrap();
        o.org = Some(100_000);
        o.methods = vec!["new".into()];
        o.candidates = vec![a.firm as i64 + 1, 7];
        // A copy linked by score to the wrong firm.
        let b = copies[1];
        let wrong = (b.firm + 1) % data.firms.len();
        let o = outcomes.get_mut(&(b.file, b.key.clone())).unwrap();
        o.org = Some(wrong as i64 + 1);
        let q = Quality::measure(&data, &outcomes);
        assert_eq!((q.score, q.score_ok), (599, 598));
        assert_eq!(q.founded, 1);
        assert_eq!((q.found, q.found_with_queue), (598, 599));
        assert_eq!((q.queued_records, q.review_rows), (1, 2));
        assert_eq!((q.queued_copies, q.queued_copies_true), (1, 1));
        assert_eq!(
            q.elsewhere_consistent, 0,
            "a firm of one record is not elsewhere"
        );
        assert!(q.pairs_correct < q.pairs_predicted);
        // Another record of the same firm in the firm the first one founded: both elsewhere.
        let c = copies
            .iter()
            .skip(2)
            .find(|c| c.firm == a.firm)
            .expect("a firm in both the survey and the attendance list");
        outcomes.get_mut(&(c.file, c.key.clone())).unwrap().org = Some(100_000);
        let q = Quality::measure(&data, &outcomes);
        assert_eq!(q.elsewhere_consistent, 2);
    }
}
