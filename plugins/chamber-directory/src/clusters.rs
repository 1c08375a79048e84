//! Which cluster a member belongs to: a table from sector and district to cluster slug.
//!
//! A cluster is an industry in a place, so the table is keyed by both: surgical
//! instruments in Sialkot are the `sialkot-surgical` cluster, surgical instruments made
//! in Lahore are not. Sectors and districts are compared folded (see [`fold`]), so
//! `Surgical & Dental Instruments` and `surgical and dental instruments` are one sector.

use std::collections::HashMap;

/// The default table, for the four clusters of the demo programme: sector, district,
/// cluster slug. The districts are those of each cluster in `hub/demo/clusters.toml`.
pub const DEFAULT_CLUSTERS: &[(&str, &str, &str)] = &[
    ("Surgical Instruments", "Sialkot", "sialkot-surgical"),
    ("Surgical Goods", "Sialkot", "sialkot-surgical"),
    (
        "Surgical & Dental Instruments",
        "Sialkot",
        "sialkot-surgical",
    ),
    ("Garments", "Lahore", "lahore-garments"),
    ("Readymade Garments", "Lahore", "lahore-garments"),
    ("Textile Made-ups", "Lahore", "lahore-garments"),
    ("Hosiery", "Lahore", "lahore-garments"),
    ("Knitwear", "Lahore", "lahore-garments"),
    ("Leather Footwear", "Lahore", "lahore-leather-footwear"),
    ("Leather Footwear", "Sheikhupura", "lahore-leather-footwear"),
    ("Leather Footwear", "Kasur", "lahore-leather-footwear"),
    ("Footwear", "Lahore", "lahore-leather-footwear"),
    ("Footwear", "Sheikhupura", "lahore-leather-footwear"),
    ("Footwear", "Kasur", "lahore-leather-footwear"),
    ("Leather Goods", "Lahore", "lahore-leather-footwear"),
    ("Leather Goods", "Sheikhupura", "lahore-leather-footwear"),
    ("Leather Goods", "Kasur", "lahore-leather-footwear"),
    ("Auto Parts", "Lahore", "lahore-auto-parts"),
    ("Auto Parts", "Sheikhupura", "lahore-auto-parts"),
    ("Auto Parts", "Gujranwala", "lahore-auto-parts"),
    ("Automotive", "Lahore", "lahore-auto-parts"),
    ("Automotive", "Sheikhupura", "lahore-auto-parts"),
    ("Automotive", "Gujranwala", "lahore-auto-parts"),
    ("Auto Parts & Accessories", "Lahore", "lahore-auto-parts"),
    (
        "Auto Parts & Accessories",
        "Sheikhupura",
        "lahore-auto-parts",
    ),
    (
        "Auto Parts & Accessories",
        "Gujranwala",
        "lahore-auto-parts",
    ),
];

/// Sector and district (folded) → cluster slug as written; an empty slug means "no
/// cluster", so that an option can take a default entry away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterTable {
    entries: HashMap<(String, String), String>,
}

impl ClusterTable {
    /// A table without entries.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// The table of [`DEFAULT_CLUSTERS`].
    #[must_use]
    pub fn defaults() -> Self {
        let mut table = Self::empty();
        for (sector, district, cluster) in DEFAULT_CLUSTERS {
            table.set(sector, district, cluster);
        }
        table
    }

    /// Puts members of `sector` in `district` in `cluster` (trimmed; empty for none),
    /// replacing an earlier entry for the same sector and district.
    pub fn set(&mut self, sector: &str, district: &str, cluster: &str) {
        self.entries
            .insert((fold(sector), fold(district)), cluster.trim().to_owned());
    }

    /// The slug of the cluster of members of `sector` in `district`, if the table has one.
    #[must_use]
    pub fn cluster(&self, sector: &str, district: &str) -> Option<&str> {
        self.entries
            .get(&(fold(sector), fold(district)))
            .map(String::as_str)
            .filter(|slug| !slug.is_empty())
    }

    /// The number of entries, those meaning "no cluster" included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A sector or district name as compared: lower case, `&` read as `and`, every other
/// character that is not a letter or digit read as a space, runs of spaces collapsed.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '&' => spaced.push_str(" and "),
            c if c.is_alphanumeric() => spaced.extend(c.to_lowercase()),
            _ => spaced.push(' '),
        }
    }
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_keyed_by_sector_and_district() {
        let table = ClusterTable::defaults();
        assert_eq!(
            table.cluster("Surgical Instruments", "Sialkot"),
            Some("sialkot-surgical")
        );
        assert_eq!(
            table.cluster(" surgical  and dental instruments", "SIALKOT"),
            Some("sialkot-surgical")
        );
        assert_eq!(table.cluster("Surgical Instruments", "Lahore"), None);
        assert_eq!(
            table.cluster("Textile Made Ups", "lahore"),
            Some("lahore-garments")
        );
        assert_eq!(
            table.cluster("Leather Goods", "Kasur"),
            Some("lahore-leather-footwear")
        );
        assert_eq!(
            table.cluster("Automotive", "Gujranwala"),
            Some("lahore-auto-parts")
        );
        assert_eq!(table.cluster("Sports Goods", "Sialkot"), None);
    }

    #[test]
    fn an_empty_slug_takes_an_entry_away() {
        let mut table = ClusterTable::defaults();
        table.set("Garments", "Lahore", "");
        assert_eq!(table.cluster("Garments", "Lahore"), None);
        table.set("Cutlery", "Wazirabad", " wazirabad-cutlery ");
        assert_eq!(
            table.cluster("cutlery", "Wazirabad"),
            Some("wazirabad-cutlery")
        );
        assert!(ClusterTable::empty().is_empty());
        assert_eq!(ClusterTable::defaults().len(), DEFAULT_CLUSTERS.len());
    }

    #[test]
    fn folding_ignores_case_punctuation_and_ampersands() {
        assert_eq!(
            fold("  Auto-Parts & Accessories. "),
            "auto parts and accessories"
        );
        assert_eq!(fold(""), "");
    }
}
