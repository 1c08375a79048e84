//! Converting trade reported in one HS revision to a cluster's HS basket in another.
//!
//! A cluster's basket is a list of HS items (chapters, headings or subheadings) in one
//! revision. Trade reported in another revision is placed into the basket through the
//! bundled concordance, which links each revision to the next (HS 1992 ↔ 1996 ↔ 2002 ↔ 2007 ↔
//! 2012 ↔ 2017 ↔ 2022), chained step by step through the revisions between, at the basket's
//! level of detail:
//!
//! - a reported code all of whose successors (or predecessors) fall inside one basket item
//!   belongs to that item: a merge or split *within* 8708 or within chapter 62 changes
//!   nothing at the heading or chapter level;
//! - a code none of whose successors fall inside the basket is outside it;
//! - a code whose successors fall partly inside and partly outside is **not convertible**:
//!   part of it moved to (or came from) a code across the item's boundary, and the
//!   concordance has no value weights, so no share is ever computed or guessed. The result
//!   says which codes lie on each side.
//!
//! Headings and chapters reported as aggregates are placed through their subheadings. The
//! relationships come from the concordance file, not from a list of known cases.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

use super::hs::{HsCode, HsRevision};

/// A cluster's basket: HS items of one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket {
    /// The revision the items are written in.
    pub revision: HsRevision,
    /// Chapters (2 digits), headings (4) or subheadings (6).
    pub items: Vec<String>,
}

impl Basket {
    /// A basket of these items in `revision`.
    pub fn new(revision: HsRevision, items: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Basket {
            revision,
            items: items.into_iter().map(Into::into).collect(),
        }
    }

    /// The basket item a subheading of the basket's revision falls in.
    fn item_of(&self, subheading: &str) -> Option<&str> {
        self.items
            .iter()
            .map(String::as_str)
            .find(|item| subheading.starts_with(item))
    }
}

/// Where trade in a reported code goes in a basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Entirely inside this basket item.
    Inside(String),
    /// Entirely outside the basket.
    Outside,
    /// Split across the boundary of a basket item: not convertible without weights.
    NotConvertible(NotConvertible),
}

/// Why a reported code cannot be placed in a basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConvertible {
    /// The code as reported, and its revision.
    pub code: String,
    pub from: HsRevision,
    /// The basket's revision.
    pub to: HsRevision,
    /// The corresponding codes inside the basket, with the item each falls in.
    pub inside: Vec<(String, String)>,
    /// The corresponding codes outside the basket (or in another item).
    pub outside: Vec<String>,
    /// Codes the concordance does not know (reported code or its children).
    pub unknown: Vec<String>,
}

impl fmt::Display for NotConvertible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not convertible: {} ({}) ",
            self.code,
            self.from.classification_code()
        )?;
        if !self.unknown.is_empty() {
            return write!(
                f,
                "has codes the concordance does not know: {}",
                self.unknown.join(", ")
            );
        }
        let items: BTreeSet<&str> = self.inside.iter().map(|(_, i)| i.as_str()).collect();
        let inside: Vec<&str> = self.inside.iter().map(|(c, _)| c.as_str()).collect();
        write!(
            f,
            "corresponds in {} to {} in the basket item {} and moved to {} outside it",
            self.to.classification_code(),
            inside.join(", "),
            items.into_iter().collect::<Vec<_>>().join(", "),
            self.outside.join(", ")
        )
    }
}

/// The bundled concordance, between adjacent revisions in both directions.
///
/// Subheadings are kept as numbers (`010121` as 10121), the links of each step as one
/// sorted list of pairs and each revision's subheadings as one sorted list, searched by
/// bisection: about 1 MB for the whole concordance, where maps of strings to sets of
/// strings held about 40 MB of the server's memory for as long as it ran.
#[derive(Debug, Default)]
pub struct Concordance {
    /// (from, to) → (subheading in `from`, subheading in `to`), sorted.
    edges: HashMap<(HsRevision, HsRevision), Vec<(u32, u32)>>,
    /// revision → its subheadings, sorted.
    subheadings: HashMap<HsRevision, Vec<u32>>,
}

/// The revisions the concordance links, oldest first: every adjacent pair has a step.
const LINKED: [HsRevision; 7] = HsRevision::ALL;

/// A subheading (six digits) as a number.
fn number(subheading: &str) -> Option<u32> {
    if subheading.len() == 6 && subheading.bytes().all(|b| b.is_ascii_digit()) {
        subheading.parse().ok()
    } else {
        None
    }
}

/// A subheading number written back as its six digits.
fn digits(subheading: u32) -> String {
    format!("{subheading:06}")
}

/// The subheading numbers under a chapter (two digits) or heading (four).
fn span(code: &str) -> Option<std::ops::RangeInclusive<u32>> {
    let width = match code.len() {
        2 => 10_000,
        4 => 100,
        _ => return None,
    };
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let low = code.parse::<u32>().ok()? * width;
    Some(low..=low + width - 1)
}

/// The elements of a list sorted by `key` whose key lies in `range`.
fn within<T>(sorted: &[T], key: impl Fn(&T) -> u32, range: std::ops::RangeInclusive<u32>) -> &[T] {
    let start = sorted.partition_point(|x| key(x) < *range.start());
    let end = sorted.partition_point(|x| key(x) <= *range.end());
    &sorted[start..end]
}

impl Concordance {
    /// The concordance bundled with the reference data (decoded once, from the numbers the
    /// build script made of the CSV files: see `build.rs`).
    pub fn bundled() -> &'static Concordance {
        static BUNDLED: OnceLock<Concordance> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            Concordance::decode(include_bytes!(concat!(env!("OUT_DIR"), "/hs_convert.bin")))
                .expect("the concordance made by build.rs decodes")
        })
    }

    /// Reads the concordance from the words written by `build.rs`; `None` if they do not
    /// have that shape.
    fn decode(bytes: &[u8]) -> Option<Concordance> {
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        let mut words = bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        let mut next = || words.next();
        let revision = |year: u32| LINKED.into_iter().find(|r| r.year() == year as i32);
        let mut c = Concordance::default();
        for _ in 0..next()? {
            let (from, to) = (revision(next()?)?, revision(next()?)?);
            let count = next()? as usize;
            let mut pairs = Vec::with_capacity(count);
            for _ in 0..count {
                pairs.push((next()?, next()?));
            }
            let mut back: Vec<(u32, u32)> = pairs.iter().map(|&(a, b)| (b, a)).collect();
            c.edges.entry((from, to)).or_default().append(&mut pairs);
            c.edges.entry((to, from)).or_default().append(&mut back);
        }
        for pairs in c.edges.values_mut() {
            pairs.sort_unstable();
            pairs.dedup();
            pairs.shrink_to_fit();
        }
        for _ in 0..next()? {
            let revision = revision(next()?)?;
            let count = next()? as usize;
            let mut subs = Vec::with_capacity(count);
            for _ in 0..count {
                subs.push(next()?);
            }
            c.subheadings.insert(revision, subs);
        }
        // Nothing may follow the last revision.
        next().is_none().then_some(c)
    }

    /// The subheadings of `revision` under a chapter or heading, in order.
    fn children(&self, revision: HsRevision, code: &str) -> Vec<String> {
        match (self.subheadings.get(&revision), span(code)) {
            (Some(subs), Some(range)) => within(subs, |s| *s, range)
                .iter()
                .map(|s| digits(*s))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `code` is a chapter, heading or subheading of its revision (`TOTAL` is not).
    #[must_use]
    pub fn knows(&self, code: &HsCode) -> bool {
        let Some(subs) = self.subheadings.get(&code.revision()) else {
            return false;
        };
        match code.level() {
            2 | 4 => span(code.as_str()).is_some_and(|r| !within(subs, |s| *s, r).is_empty()),
            6 => number(code.as_str()).is_some_and(|n| subs.binary_search(&n).is_ok()),
            _ => false,
        }
    }

    /// The subheadings of `to` corresponding to a subheading of `from`, through the
    /// revisions between them; `None` when the concordance does not know the code.
    pub fn corresponding(
        &self,
        from: HsRevision,
        subheading: &str,
        to: HsRevision,
    ) -> Option<BTreeSet<String>> {
        let position = |r: HsRevision| LINKED.iter().position(|l| *l == r);
        let (start, end) = (position(from)?, position(to)?);
        let steps: Vec<(HsRevision, HsRevision)> = if start <= end {
            (start..end).map(|i| (LINKED[i], LINKED[i + 1])).collect()
        } else {
            (end..start)
                .rev()
                .map(|i| (LINKED[i + 1], LINKED[i]))
                .collect()
        };
        let mut codes: Vec<u32> = vec![number(subheading)?];
        for step in steps {
            let edges = self.edges.get(&step)?;
            let mut next = Vec::new();
            for code in &codes {
                let linked = within(edges, |(a, _)| *a, *code..=*code);
                if linked.is_empty() {
                    return None;
                }
                next.extend(linked.iter().map(|(_, b)| *b));
            }
            next.sort_unstable();
            next.dedup();
            codes = next;
        }
        Some(codes.into_iter().map(digits).collect())
    }

    /// The codes of `revision` at `level` digits (2, 4 or 6) that may hold trade of
    /// `basket`: those with a subheading corresponding to a subheading of a basket item.
    /// Each still has to be [placed](Self::place): a candidate may be split across the
    /// basket's boundary.
    pub fn candidates(
        &self,
        basket: &Basket,
        revision: HsRevision,
        level: usize,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in &basket.items {
            let subheadings: Vec<String> = if item.len() >= 6 {
                vec![item[..6].to_owned()]
            } else {
                self.children(basket.revision, item)
            };
            for sub in subheadings {
                let targets = if revision == basket.revision {
                    Some(BTreeSet::from([sub]))
                } else {
                    self.corresponding(basket.revision, &sub, revision)
                };
                for t in targets.into_iter().flatten() {
                    if let Some(code) = t.get(..level) {
                        out.insert(code.to_owned());
                    }
                }
            }
        }
        out
    }

    /// Where trade reported as `code` goes in `basket`.
    pub fn place(&self, code: &HsCode, basket: &Basket) -> Placement {
        let from = code.revision();
        let not_convertible = |inside, outside, unknown| {
            Placement::NotConvertible(NotConvertible {
                code: code.as_str().to_owned(),
                from,
                to: basket.revision,
                inside,
                outside,
                unknown,
            })
        };
        if code.is_total() {
            return not_convertible(Vec::new(), vec!["TOTAL".into()], Vec::new());
        }
        let subheadings: Vec<String> = if code.level() == 6 {
            vec![code.as_str().to_owned()]
        } else {
            self.children(from, code.as_str())
        };
        if subheadings.is_empty() {
            return not_convertible(Vec::new(), Vec::new(), vec![code.as_str().to_owned()]);
        }
        let mut inside: Vec<(String, String)> = Vec::new();
        let mut outside: BTreeSet<String> = BTreeSet::new();
        let mut unknown = Vec::new();
        for sub in &subheadings {
            let targets = if from == basket.revision {
                Some(BTreeSet::from([sub.clone()]))
            } else {
                self.corresponding(from, sub, basket.revision)
            };
            let Some(targets) = targets else {
                unknown.push(sub.clone());
                continue;
            };
            for t in targets {
                match basket.item_of(&t) {
                    Some(item) => inside.push((t.clone(), item.to_owned())),
                    None => {
                        outside.insert(t);
                    }
                }
            }
        }
        inside.sort();
        inside.dedup();
        let items: BTreeSet<&str> = inside.iter().map(|(_, i)| i.as_str()).collect();
        if !unknown.is_empty() {
            return not_convertible(inside, outside.into_iter().collect(), unknown);
        }
        match (items.len(), outside.is_empty()) {
            (0, _) => Placement::Outside,
            (1, true) => Placement::Inside(items.into_iter().next().unwrap_or_default().to_owned()),
            _ => {
                // Split between two items, or between an item and the rest: the share of
                // each side is not known.
                let first = items.iter().next().copied().unwrap_or_default().to_owned();
                let mut outside: Vec<String> = outside.into_iter().collect();
                outside.extend(
                    inside
                        .iter()
                        .filter(|(_, i)| *i != first)
                        .map(|(c, _)| c.clone()),
                );
                let inside = inside.into_iter().filter(|(_, i)| *i == first).collect();
                not_convertible(inside, outside, Vec::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(revision: HsRevision, raw: &str) -> HsCode {
        HsCode::parse(revision, raw).unwrap()
    }

    use HsRevision::{Hs1992, Hs1996, Hs2002, Hs2007, Hs2012, Hs2017, Hs2022};

    /// The concordance as the CSV files give it, read by the `csv` crate
    /// (`crate::reference`), independently of `build.rs`.
    fn from_csv() -> Concordance {
        let mut c = Concordance::default();
        for row in crate::reference::hs_concordance() {
            let (Ok(from), Ok(to), Some(a), Some(b)) = (
                HsRevision::parse(row.from_classification),
                HsRevision::parse(row.to_classification),
                number(&row.from_code),
                number(&row.to_code),
            ) else {
                continue;
            };
            c.edges.entry((from, to)).or_default().push((a, b));
            c.edges.entry((to, from)).or_default().push((b, a));
        }
        for pairs in c.edges.values_mut() {
            pairs.sort_unstable();
            pairs.dedup();
        }
        for revision in LINKED {
            let mut subs: Vec<u32> = crate::reference::hs_codes(revision.classification_code())
                .iter()
                .filter_map(|code| number(&code.code))
                .collect();
            subs.sort_unstable();
            subs.dedup();
            c.subheadings.insert(revision, subs);
        }
        c
    }

    #[test]
    fn the_built_concordance_is_the_csv_files() {
        let built = Concordance::bundled();
        let read = from_csv();
        // Every adjacent pair of revisions, both ways, and every revision's subheadings.
        assert_eq!(built.edges.len(), 2 * (LINKED.len() - 1));
        assert_eq!(built.subheadings.len(), LINKED.len());
        for (step, pairs) in &read.edges {
            assert!(!pairs.is_empty(), "{step:?}");
            assert_eq!(built.edges.get(step), Some(pairs), "{step:?}");
        }
        for (revision, subs) in &read.subheadings {
            assert!(subs.len() > 5_000, "{revision:?}");
            assert_eq!(built.subheadings.get(revision), Some(subs), "{revision:?}");
        }
        assert_eq!(built.edges.len(), read.edges.len());
        // Words of another shape are refused, not misread.
        let bytes = include_bytes!(concat!(env!("OUT_DIR"), "/hs_convert.bin"));
        assert!(Concordance::decode(&bytes[..bytes.len() - 4]).is_none());
        assert!(Concordance::decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(Concordance::decode(&[bytes.as_slice(), &[0; 4]].concat()).is_none());
        assert!(Concordance::decode(&[]).is_none());
        assert!(Concordance::decode(bytes).is_some());
    }

    #[test]
    fn merges_and_splits_inside_an_item_convert() {
        let c = Concordance::bundled();
        let garments = Basket::new(Hs2022, ["61", "62"]);
        // 620111 + 620191 (2017) merged into 620120 (2022): inside chapter 62.
        assert_eq!(
            c.place(&code(Hs2017, "620111"), &garments),
            Placement::Inside("62".into())
        );
        // Footwear headings map across 2017 → 2022 without leaving the heading.
        let shoes = Basket::new(Hs2022, ["6403", "6405"]);
        assert_eq!(
            c.place(&code(Hs2017, "640351"), &shoes),
            Placement::Inside("6403".into())
        );
        // 870829 (2017) was split into 870822 and 870829 (2022), and parts of 8708 went to
        // the new heading 8524 (display modules): the concordance ties every 8708
        // subheading to 8524, so 2017 auto-parts trade is not convertible to a 2022 basket
        // of 8708 without weights, and it says so.
        let auto = Basket::new(Hs2022, ["8708", "8714"]);
        let Placement::NotConvertible(nc) = c.place(&code(Hs2017, "870829"), &auto) else {
            panic!("870829 crosses the boundary of 8708");
        };
        assert_eq!(
            nc.inside,
            [
                ("870822".to_owned(), "8708".to_owned()),
                ("870829".to_owned(), "8708".to_owned())
            ]
        );
        assert!(nc.outside.contains(&"852411".to_owned()), "{nc:?}");
        // Between two items of one basket the split is not convertible either.
        let narrow = Basket::new(Hs2022, ["870822", "870829"]);
        assert!(matches!(
            c.place(&code(Hs2017, "870829"), &narrow),
            Placement::NotConvertible(_)
        ));
        // Backwards: 620120 (2022) came from 620111 and 620191 (2017).
        let back = Basket::new(Hs2017, ["62"]);
        assert_eq!(
            c.place(&code(Hs2022, "620120"), &back),
            Placement::Inside("62".into())
        );
        let back_narrow = Basket::new(Hs2017, ["620111"]);
        assert!(matches!(
            c.place(&code(Hs2022, "620120"), &back_narrow),
            Placement::NotConvertible(_)
        ));
    }

    #[test]
    fn codes_moving_across_the_boundary_are_reported_not_guessed() {
        let c = Concordance::bundled();
        let surgical = Basket::new(Hs2022, ["9018", "9021"]);
        // Parts of 9018 (2017) moved to the new heading 8524 in 2022.
        let Placement::NotConvertible(nc) = c.place(&code(Hs2017, "901890"), &surgical) else {
            panic!("901890 is split across 9018's boundary");
        };
        assert!(nc.inside.iter().any(|(_, item)| item == "9018"), "{nc:?}");
        assert!(nc.outside.iter().any(|o| o.starts_with("8524")), "{nc:?}");
        let text = nc.to_string();
        assert!(
            text.starts_with("not convertible: 901890 (HS2017)"),
            "{text}"
        );
        assert!(text.contains("8524"), "{text}");
        // A heading reported as an aggregate is placed through its subheadings.
        assert!(matches!(
            c.place(&code(Hs2017, "9018"), &surgical),
            Placement::NotConvertible(_)
        ));
        // The same codes into a 2017 basket need no conversion.
        let same = Basket::new(Hs2017, ["9018"]);
        assert_eq!(
            c.place(&code(Hs2017, "901890"), &same),
            Placement::Inside("9018".into())
        );
        // Unrelated codes are outside; a total is never placed.
        assert_eq!(
            c.place(&code(Hs2017, "010121"), &surgical),
            Placement::Outside
        );
        assert!(matches!(
            c.place(&code(Hs2017, "TOTAL"), &surgical),
            Placement::NotConvertible(_)
        ));
    }

    #[test]
    fn revisions_chain_through_the_one_between() {
        let c = Concordance::bundled();
        // 2012 → 2017 maps the cluster codes one to one.
        let surgical_2017 = Basket::new(Hs2017, ["9018"]);
        assert_eq!(
            c.place(&code(Hs2012, "901890"), &surgical_2017),
            Placement::Inside("9018".into())
        );
        assert_eq!(
            c.corresponding(Hs2012, "620111", Hs2022),
            Some(BTreeSet::from(["620120".to_owned()]))
        );
        // Codes the concordance does not know are not guessed.
        assert_eq!(c.corresponding(HsRevision::Hs2007, "999998", Hs2022), None);
    }

    #[test]
    fn history_since_1992_chains_into_a_basket_of_any_revision() {
        let c = Concordance::bundled();
        let surgical_2017 = Basket::new(Hs2017, ["9018"]);
        // 2007 (H3) trade in 9018 lands inside a 2017 basket of 9018, through HS2012.
        for sub in ["901811", "901819", "901831", "901890"] {
            assert_eq!(
                c.place(&code(Hs2007, sub), &surgical_2017),
                Placement::Inside("9018".into()),
                "HS2007 {sub}"
            );
        }
        // A heading reported as an aggregate: every one of its subheadings stays inside.
        assert_eq!(
            c.place(&code(Hs2007, "9018"), &surgical_2017),
            Placement::Inside("9018".into())
        );
        // From 1992 (H0) it chains through five steps.
        assert_eq!(
            c.place(&code(Hs1992, "901890"), &surgical_2017),
            Placement::Inside("9018".into())
        );
        // Syringes and needles of 1992-1996 (901831-901839) were partly moved to clinical
        // waste (382530) in 2002: not convertible, and the result says where they went.
        let Placement::NotConvertible(nc) = c.place(&code(Hs1996, "901831"), &surgical_2017) else {
            panic!("HS1996 901831 crosses 9018's boundary in 2002");
        };
        assert_eq!(nc.outside, ["382530".to_owned()], "{nc:?}");
        assert_eq!(nc.inside, [("901831".to_owned(), "9018".to_owned())]);
        // From HS2002 onwards 901831 stays inside.
        assert_eq!(
            c.place(&code(Hs2002, "901831"), &surgical_2017),
            Placement::Inside("9018".into())
        );
        // Backwards: a basket written in 1992 places trade reported in 2017 and in 2022.
        let surgical_1992 = Basket::new(Hs1992, ["9018"]);
        assert_eq!(
            c.place(&code(Hs2017, "901890"), &surgical_1992),
            Placement::Inside("9018".into())
        );
        assert_eq!(
            c.place(&code(Hs2022, "901812"), &surgical_1992),
            Placement::Inside("9018".into())
        );
        // Garments stay garments across every revision at the chapter level.
        let garments_2007 = Basket::new(Hs2007, ["61", "62"]);
        assert_eq!(
            c.place(&code(Hs1992, "620111"), &garments_2007),
            Placement::Inside("62".into())
        );
        assert_eq!(
            c.place(&code(Hs2022, "620120"), &garments_2007),
            Placement::Inside("62".into())
        );
    }

    #[test]
    fn codes_are_known_in_their_revision_only() {
        let c = Concordance::bundled();
        assert!(c.knows(&code(Hs2017, "9018")));
        assert!(c.knows(&code(Hs2017, "90")));
        assert!(c.knows(&code(Hs2017, "901890")));
        assert!(c.knows(&code(Hs2022, "852411")));
        assert!(!c.knows(&code(Hs2017, "852411")), "8524 is new in HS 2022");
        assert!(!c.knows(&code(Hs2017, "9099")));
        assert!(!c.knows(&code(Hs2017, "TOTAL")));
        assert!(c.knows(&code(Hs1992, "901831")));
    }

    #[test]
    fn every_revision_knows_its_subheadings() {
        let c = Concordance::bundled();
        for revision in HsRevision::ALL {
            for (from, to) in [(revision, Hs2022), (Hs1992, revision)] {
                assert!(
                    c.corresponding(from, "010190", to).is_some()
                        || c.corresponding(from, "030110", to).is_some(),
                    "{from} to {to}"
                );
            }
            assert!(
                c.children(revision, "9018").len() > 5
                    && c.children(revision, "90").len() > c.children(revision, "9018").len(),
                "{revision} has the subheadings of 9018 and chapter 90"
            );
        }
    }
}
