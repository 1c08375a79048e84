//! Small-group suppression of aggregates for callers without firm-level access.
//!
//! Counts of firms are public (the directory shows them); figures aggregated over
//! firm-level data (head counts, participations and what is computed from them) are
//! withheld for a group with fewer contributing firms than `access.min_group_firms`
//! (**primary** suppression). Alone, that leaks: the total minus the visible groups is the
//! withheld one. So, as statistical offices do with tables and their margins, a withheld
//! group never stands alone on a line of the table: for every dimension, among the groups
//! that share all other keys (a line, whose total is another table's cell or the grand
//! total), if exactly one group is withheld, the next smallest group with figures is
//! withheld too (**complementary** suppression), until no line has a single withheld
//! group. The difference of a line then gives the sum of at least two withheld groups,
//! never one.
//!
//! What the rule protects is each table and its margins. The endpoints keep the callers it
//! applies to to tables and margins: no `filter` (a filter's complement is a table of its
//! own nobody suppressed against), and no `having` or `orderBy` on a withheld measure (no
//! side channel through what is not shown).

use std::collections::HashMap;

/// The groups to withhold: `keys[i]` are group `i`'s keys (one per dimension grouped by,
/// in the same order for every group), `contributing[i]` its contributing firms. A group
/// without contributing firms has no figures to withhold and cannot serve as a complement.
pub fn withheld(keys: &[Vec<String>], contributing: &[i64], threshold: i64) -> Vec<bool> {
    let n = contributing.len();
    let mut out: Vec<bool> = contributing
        .iter()
        .map(|&c| c > 0 && c < threshold)
        .collect();
    let dims = keys.first().map_or(0, Vec::len);
    if !out.iter().any(|&w| w) || dims == 0 {
        return out;
    }
    loop {
        let mut changed = false;
        for d in 0..dims {
            let mut lines: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
            for (i, k) in keys.iter().enumerate().take(n) {
                let line: Vec<&str> = k
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != d)
                    .map(|(_, v)| v.as_str())
                    .collect();
                lines.entry(line).or_default().push(i);
            }
            let mut lines: Vec<Vec<usize>> = lines.into_values().collect();
            lines.sort();
            for members in lines {
                let withheld_here = members.iter().filter(|&&i| out[i]).count();
                if withheld_here != 1 {
                    continue;
                }
                let complement = members
                    .iter()
                    .copied()
                    .filter(|&i| !out[i] && contributing[i] > 0)
                    .min_by_key(|&i| (contributing[i], i));
                if let Some(i) = complement {
                    out[i] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return out;
        }
    }
}

/// The note an answer with withheld groups carries.
pub fn note(withheld: usize, threshold: i64) -> String {
    format!(
        "{withheld} group(s) withheld: figures of groups with fewer than {threshold} \
         contributing firms are not shown to this caller, nor those of the groups withheld \
         with them so that none can be found by subtraction."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn a_lone_small_group_takes_the_next_smallest_with_it() {
        let k = keys(&[&["a"], &["b"], &["c"], &["d"]]);
        assert_eq!(withheld(&k, &[3, 40, 7, 9], 5), [true, false, true, false]);
        // Two small groups protect each other; big ones stay.
        assert_eq!(withheld(&k, &[3, 40, 2, 9], 5), [true, false, true, false]);
        // Nothing small: nothing withheld. Empty groups are never a complement.
        assert_eq!(withheld(&k, &[30, 40, 7, 9], 5), [false; 4]);
        assert_eq!(withheld(&k, &[3, 0, 0, 9], 5), [true, false, false, true]);
        // One group alone is its own total: withheld when small.
        assert_eq!(withheld(&keys(&[&[]]), &[4], 5), [true]);
    }

    #[test]
    fn no_line_of_a_two_way_table_has_a_single_withheld_cell() {
        // district × size.
        let k = keys(&[
            &["d1", "small"],
            &["d1", "large"],
            &["d2", "small"],
            &["d2", "large"],
            &["d3", "small"],
            &["d3", "large"],
        ]);
        let c = [2, 30, 40, 50, 60, 8];
        let w = withheld(&k, &c, 5);
        assert!(w[0], "primary");
        for d in 0..2 {
            let mut lines: HashMap<String, usize> = HashMap::new();
            for (i, key) in k.iter().enumerate() {
                if w[i] {
                    *lines.entry(key[1 - d].clone()).or_default() += 1;
                }
            }
            assert!(lines.values().all(|&n| n != 1), "{d}: {w:?}");
        }
        // (d1, small) first; then (d2, small) on the small line and (d1, large) on d1's;
        // then (d2, large) on d2's line. d3 is shown whole.
        assert_eq!(w, [true, true, true, true, false, false]);
    }
}
