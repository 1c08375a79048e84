//! Survivorship: which linked source record gives each field of a unified entity.
//!
//! The rule is the same for firms and persons: the record of the best source priority
//! (lower number wins) that has a value; within one source the newer observation wins;
//! then the record read first. The choice is kept per field (`{field: source_record_id}`
//! in the unified row's `survivorship` column), so every unified value can be traced to
//! the record that gave it while the other sources' values stay visible on their records.

use chrono::NaiveDate;
use serde_json::{Map, Value};

/// The records of one unified entity, best first, and the fields chosen from them.
pub(crate) struct Survivor<'r, R> {
    ranked: Vec<(usize, &'r R)>,
    chosen: Vec<(&'static str, usize)>,
}

impl<'r, R> Survivor<'r, R> {
    /// Ranks records given as `(index, record)`; `rank_key` gives a record's source
    /// priority and observation date.
    pub(crate) fn new(
        records: impl IntoIterator<Item = (usize, &'r R)>,
        rank_key: impl Fn(&R) -> (i32, Option<NaiveDate>),
    ) -> Self {
        let mut ranked: Vec<(usize, &'r R)> = records.into_iter().collect();
        ranked.sort_by(|(ia, a), (ib, b)| {
            let (pa, oa) = rank_key(a);
            let (pb, ob) = rank_key(b);
            // Newer first; a record without a date comes after dated ones.
            pa.cmp(&pb).then(ob.cmp(&oa)).then(ia.cmp(ib))
        });
        Survivor {
            ranked,
            chosen: Vec::new(),
        }
    }

    /// The value of `field` from the best record that has one, among the records `allowed`
    /// accepts.
    pub(crate) fn pick_where<T>(
        &mut self,
        field: &'static str,
        allowed: impl Fn(&R) -> bool,
        value: impl Fn(&R) -> Option<T>,
    ) -> Option<T> {
        let (index, found) = self
            .ranked
            .iter()
            .filter(|(_, r)| allowed(r))
            .find_map(|(i, r)| value(r).map(|v| (*i, v)))?;
        self.chosen.push((field, index));
        Some(found)
    }

    /// The value of `field` from the best record that has one.
    pub(crate) fn pick<T>(
        &mut self,
        field: &'static str,
        value: impl Fn(&R) -> Option<T>,
    ) -> Option<T> {
        self.pick_where(field, |_| true, value)
    }

    /// The chosen fields as `(field, record index)`.
    pub(crate) fn chosen(&self) -> &[(&'static str, usize)] {
        &self.chosen
    }
}

/// The `survivorship` JSON: `{field: source_record_id}`.
pub(crate) fn to_json(chosen: &[(&'static str, usize)], record_id: impl Fn(usize) -> i64) -> Value {
    let map: Map<String, Value> = chosen
        .iter()
        .map(|(field, index)| ((*field).to_owned(), Value::from(record_id(*index))))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R {
        priority: i32,
        observed: Option<NaiveDate>,
        name: Option<&'static str>,
        phone: Option<&'static str>,
    }

    #[test]
    fn best_priority_then_newest_then_first() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d);
        let records = [
            R {
                priority: 20,
                observed: day(5),
                name: Some("survey"),
                phone: Some("s"),
            },
            R {
                priority: 10,
                observed: day(1),
                name: None,
                phone: None,
            },
            R {
                priority: 10,
                observed: day(2),
                name: Some("registry new"),
                phone: None,
            },
            R {
                priority: 10,
                observed: day(1),
                name: Some("registry old"),
                phone: None,
            },
        ];
        let mut s = Survivor::new(records.iter().enumerate(), |r| (r.priority, r.observed));
        assert_eq!(s.pick("name", |r| r.name), Some("registry new"));
        assert_eq!(s.pick("phone", |r| r.phone), Some("s"));
        assert_eq!(s.pick("none", |_| None::<i32>), None);
        let json = to_json(s.chosen(), |i| 100 + i as i64);
        assert_eq!(json, serde_json::json!({"name": 102, "phone": 100}));
    }
}
