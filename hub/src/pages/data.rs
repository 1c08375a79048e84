//! The shapes of the analytics' answers the pages read (the GraphQL types, in serde).

use serde::Deserialize;

/// `FirmGroupKeys` / `TrainingGroupKeys`, the keys the pages group by.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Keys {
    pub cluster: Option<String>,
    pub district: Option<String>,
    pub tehsil: Option<String>,
    pub size_class: Option<String>,
    pub year: Option<i32>,
    pub sex: Option<String>,
}

/// `FiguresPeriod`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiguresPeriod {
    pub earliest_start: Option<String>,
    pub latest_end: Option<String>,
    pub undated: i64,
}

/// `FirmGroup`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmGroup {
    pub keys: Keys,
    pub firms: i64,
    pub firms_with_employees: i64,
    pub employees: Option<i64>,
    pub female_employees: Option<i64>,
    pub share_female: Option<f64>,
    pub employees_as_of: FiguresPeriod,
    pub withheld: bool,
}

impl FirmGroup {
    /// The periods the head counts come from, in words.
    pub fn as_of(&self) -> String {
        let p = &self.employees_as_of;
        let mut s = match (&p.earliest_start, &p.latest_end) {
            (Some(a), Some(b)) => format!("head counts of {a} to {b}"),
            _ => "head counts".to_owned(),
        };
        if p.undated > 0 {
            s.push_str(&format!(" ({} undated)", p.undated));
        }
        if self.firms_with_employees < self.firms {
            s.push_str(&format!(
                "; {} of {} firms report one",
                self.firms_with_employees, self.firms
            ));
        }
        s
    }
}

/// `TrainingGroup`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingGroup {
    pub keys: Keys,
    pub participations: Option<i64>,
    pub persons: Option<i64>,
    pub firms: i64,
    pub events: i64,
    pub completion_rate: Option<f64>,
    pub mean_score_gain: Option<f64>,
    pub withheld: bool,
}

/// `ClusterTradeGroup`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeGroup {
    pub year: i32,
    #[serde(default)]
    pub partner: Option<String>,
    pub value_usd: Option<f64>,
    #[serde(default)]
    pub not_placed_value_usd: Option<f64>,
}

/// The latest year's group and the year before's (when there is one), of groups by year.
pub fn latest_two(groups: &[TradeGroup]) -> Option<(&TradeGroup, Option<&TradeGroup>)> {
    let latest = groups.iter().max_by_key(|g| g.year)?;
    let previous = groups.iter().find(|g| g.year == latest.year - 1);
    Some((latest, previous))
}
