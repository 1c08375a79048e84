//! Charts drawn by the server as SVG: readable without JavaScript, printable, and each with
//! its numbers in a table beside it (for screen readers and for copying into a report) and
//! a link to the dataset the figures come from.
//!
//! Two shapes cover the pages: columns (categories along the bottom, such as years, one or
//! more series side by side or stacked) and bars (categories down the side, such as size
//! classes or partner markets). Every value drawn is one `<rect class="mark">` with a
//! `<title>` (the browser's tooltip), so what a chart shows can be counted and checked.

use maud::{Markup, PreEscaped, html};

/// One figure of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A figure.
    Number(f64),
    /// Withheld from this caller (small-group suppression).
    Withheld,
    /// Not reported.
    Missing,
}

impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Value::Missing, Value::Number)
    }
}

impl Value {
    fn number(self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
}

/// How figures are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole numbers: firms, people, jobs.
    Count,
    /// US dollars.
    Usd,
    /// A share, written as a percentage.
    Share,
    /// A figure with decimals (scores, indicator values of any unit).
    Decimal,
}

impl Unit {
    /// The figure as the table and tooltips write it.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => group_digits(v.round() as i64),
            Unit::Usd => format!("US${}", group_digits(v.round() as i64)),
            Unit::Share => format!("{:.1}%", v * 100.0),
            Unit::Decimal => {
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    group_digits(v as i64)
                } else {
                    format!("{v:.2}")
                }
            }
        }
    }

    /// The figure as an axis writes it: short (`1.2M`).
    fn short(self, v: f64) -> String {
        match self {
            Unit::Share => format!("{:.0}%", v * 100.0),
            Unit::Usd => format!("${}", compact(v)),
            _ => compact(v),
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234567.0` as `1.2M`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if suffix.is_empty() && scaled.fract() != 0.0 {
        format!("{scaled:.1}")
    } else if suffix.is_empty() || scaled.abs() >= 100.0 {
        format!("{scaled:.0}{suffix}")
    } else {
        format!("{scaled:.1}{suffix}")
    }
}

/// One series of figures, one per category.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Value>,
}

/// How a chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Vertical columns, categories along the bottom; several series side by side.
    Columns,
    /// Vertical columns, several series stacked.
    Stacked,
    /// Horizontal bars, categories down the side (one series).
    Bars,
}

/// A chart and what it says about its figures.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The element id (also the anchor of the figure).
    pub id: String,
    pub title: String,
    /// Period and source of the figures, and what they count.
    pub caption: String,
    pub unit: Unit,
    pub shape: Shape,
    /// What the categories are (the table's first column header).
    pub category_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// The dataset behind the chart, as CSV.
    pub download: Option<String>,
}

const WIDTH: f64 = 640.0;
/// The colours of the series (Okabe-Ito, safe for colour-blind readers), as CSS classes
/// `s0`, `s1`, ... in the stylesheet.
const SERIES_CLASSES: [&str; 4] = ["s0", "s1", "s2", "s3"];

impl Chart {
    /// The number of marks the chart draws: one per figure (withheld and missing figures
    /// draw none).
    pub fn marks(&self) -> usize {
        self.series
            .iter()
            .flat_map(|s| &s.values)
            .filter(|v| matches!(v, Value::Number(_)))
            .count()
    }

    fn withheld(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| &s.values)
            .any(|v| *v == Value::Withheld)
    }

    /// The chart: a figure with its title, the SVG, its caption, the table and the link.
    pub fn render(&self) -> Markup {
        let title_id = format!("{}-title", self.id);
        let desc_id = format!("{}-desc", self.id);
        html! {
            figure.chart id=(self.id) data-marks=(self.marks()) {
                h3 id=(title_id) { (self.title) }
                @if self.marks() == 0 {
                    p.empty { "Nothing to draw: no figure is reported"
                        @if self.withheld() { " or visible to you" } "." }
                } @else {
                    (self.svg(&title_id, &desc_id))
                }
                figcaption id=(desc_id) {
                    (self.caption)
                    @if self.withheld() {
                        " Figures of groups with few firms are withheld from your view (—)."
                    }
                }
                @if self.series.len() > 1 {
                    ul.legend aria-hidden="true" {
                        @for (i, s) in self.series.iter().enumerate() {
                            li { span class={"key " (SERIES_CLASSES[i % 4])} {} (s.name) }
                        }
                    }
                }
                details.numbers {
                    summary { "The numbers" }
                    (self.table())
                }
                @if let Some(href) = &self.download {
                    p.download { a href=(href) download { "Download the data (CSV)" } }
                }
            }
        }
    }

    fn table(&self) -> Markup {
        html! {
            table {
                caption.visually-hidden { (self.title) }
                thead { tr {
                    th scope="col" { (self.category_label) }
                    @for s in &self.series { th scope="col" { (s.name) } }
                } }
                tbody {
                    @for (i, c) in self.categories.iter().enumerate() {
                        tr {
                            th scope="row" { (c) }
                            @for s in &self.series {
                                td { (cell_text(self.unit, s.values.get(i).copied().unwrap_or(Value::Missing))) }
                            }
                        }
                    }
                }
            }
        }
    }

    fn svg(&self, title_id: &str, desc_id: &str) -> Markup {
        match self.shape {
            Shape::Bars => self.bars(title_id, desc_id),
            Shape::Columns | Shape::Stacked => self.columns(title_id, desc_id),
        }
    }

    /// Horizontal bars: label, bar, value.
    fn bars(&self, title_id: &str, desc_id: &str) -> Markup {
        let row = 26.0;
        let label_w = 190.0;
        let value_w = 110.0;
        let top = 6.0;
        let height = top + row * self.categories.len() as f64 + 6.0;
        let max = self
            .series
            .iter()
            .flat_map(|s| &s.values)
            .filter_map(|v| v.number())
            .fold(0.0_f64, f64::max);
        let span = WIDTH - label_w - value_w;
        let series = self.series.first();
        html! {
            svg role="img" aria-labelledby=(title_id) aria-describedby=(desc_id)
                viewBox={"0 0 " (WIDTH) " " (fmt(height))} width=(WIDTH) height=(fmt(height)) {
                @for (i, c) in self.categories.iter().enumerate() {
                    @let y = top + row * i as f64;
                    @let v = series.and_then(|s| s.values.get(i).copied()).unwrap_or(Value::Missing);
                    text.label x=(fmt(label_w - 8.0)) y=(fmt(y + row * 0.62)) text-anchor="end" { (truncate(c, 28)) }
                    @if let Value::Number(n) = v {
                        @let w = if max > 0.0 { (n.max(0.0) / max) * span } else { 0.0 };
                        rect class="mark s0" x=(fmt(label_w)) y=(fmt(y + 4.0)) width=(fmt(w.max(1.0))) height=(fmt(row - 8.0)) {
                            title { (c) ": " (self.unit.format(n)) }
                        }
                        text.value x=(fmt(label_w + w.max(1.0) + 6.0)) y=(fmt(y + row * 0.62)) { (self.unit.short(n)) }
                    } @else {
                        text.value.muted x=(fmt(label_w + 6.0)) y=(fmt(y + row * 0.62)) { (cell_text(self.unit, v)) }
                    }
                }
            }
        }
    }

    /// Vertical columns with a value axis.
    fn columns(&self, title_id: &str, desc_id: &str) -> Markup {
        let height = 240.0;
        let left = 64.0;
        let right = 8.0;
        let top = 10.0;
        let bottom = 28.0;
        let plot_h = height - top - bottom;
        let n = self.categories.len().max(1) as f64;
        let band = (WIDTH - left - right) / n;
        let stacked = self.shape == Shape::Stacked;
        let max = if stacked {
            (0..self.categories.len())
                .map(|i| {
                    self.series
                        .iter()
                        .filter_map(|s| s.values.get(i).and_then(|v| v.number()))
                        .map(|v| v.max(0.0))
                        .sum::<f64>()
                })
                .fold(0.0_f64, f64::max)
        } else {
            self.series
                .iter()
                .flat_map(|s| &s.values)
                .filter_map(|v| v.number())
                .fold(0.0_f64, f64::max)
        };
        let ticks = nice_ticks(max);
        let top_value = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
        let y_of = |v: f64| top + plot_h - (v.max(0.0) / top_value) * plot_h;
        let k = self.series.len().max(1) as f64;
        let inner = band * 0.72;
        let col_w = if stacked { inner } else { inner / k };
        html! {
            svg role="img" aria-labelledby=(title_id) aria-describedby=(desc_id)
                viewBox={"0 0 " (WIDTH) " " (height)} width=(WIDTH) height=(height) {
                @for t in &ticks {
                    line.grid x1=(left) x2=(fmt(WIDTH - right)) y1=(fmt(y_of(*t))) y2=(fmt(y_of(*t))) {}
                    text.axis x=(fmt(left - 6.0)) y=(fmt(y_of(*t) + 4.0)) text-anchor="end" { (self.unit.short(*t)) }
                }
                @for (i, c) in self.categories.iter().enumerate() {
                    @let x0 = left + band * i as f64 + (band - inner) / 2.0;
                    text.axis x=(fmt(left + band * (i as f64 + 0.5))) y=(fmt(height - 10.0)) text-anchor="middle" { (truncate(c, 12)) }
                    @let mut base = 0.0_f64;
                    @for (j, s) in self.series.iter().enumerate() {
                        @if let Some(Value::Number(v)) = s.values.get(i).copied() {
                            @let (x, y0, y1) = if stacked {
                                let b = base;
                                base += v.max(0.0);
                                (x0, y_of(b), y_of(base))
                            } else {
                                (x0 + col_w * j as f64, y_of(0.0), y_of(v))
                            };
                            rect class={"mark " (SERIES_CLASSES[j % 4])} x=(fmt(x)) y=(fmt(y1)) width=(fmt(col_w.max(1.0))) height=(fmt((y0 - y1).max(0.5))) {
                                title { (c) ", " (s.name) ": " (self.unit.format(v)) }
                            }
                        }
                    }
                }
                line.baseline x1=(left) x2=(fmt(WIDTH - right)) y1=(fmt(y_of(0.0))) y2=(fmt(y_of(0.0))) {}
            }
        }
    }
}

/// A table cell's text.
fn cell_text(unit: Unit, v: Value) -> String {
    match v {
        Value::Number(n) => unit.format(n),
        Value::Withheld => "— (withheld)".to_owned(),
        Value::Missing => "—".to_owned(),
    }
}

/// Round axis ticks from 0 to at least `max` (four or five steps of 1, 2 or 5 × 10^k).
fn nice_ticks(max: f64) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0, 1.0];
    }
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let steps = (max / step).ceil() as usize;
    (0..=steps).map(|i| step * i as f64).collect()
}

/// A coordinate with at most one decimal.
fn fmt(v: f64) -> PreEscaped<String> {
    let r = (v * 10.0).round() / 10.0;
    PreEscaped(if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A small line of figures (a trend), drawn inline beside a headline figure.
pub fn sparkline(label: &str, values: &[f64]) -> Markup {
    let (w, h) = (90.0, 22.0);
    if values.len() < 2 {
        return html! {};
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min);
    let span = if max > min { max - min } else { 1.0 };
    let step = w / (values.len() - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{},{}",
                fmt(step * i as f64).0,
                fmt(h - 2.0 - (v - min) / span * (h - 4.0)).0
            )
        })
        .collect();
    html! {
        svg.spark role="img" aria-label=(label) viewBox={"0 0 " (w) " " (h)} width="90" height="22" {
            polyline points=(points.join(" ")) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(shape: Shape, series: Vec<Series>) -> Chart {
        Chart {
            id: "c".into(),
            title: "T <&>".into(),
            caption: "2023, source x".into(),
            unit: Unit::Count,
            shape,
            category_label: "Year".into(),
            categories: vec!["2021".into(), "2022".into(), "2023".into()],
            series,
            download: Some("/datasets/x.csv?cluster=a&flow=export".into()),
        }
    }

    #[test]
    fn one_mark_per_figure_and_none_for_withheld_or_missing() {
        let s = |name: &str, v: Vec<Value>| Series {
            name: name.into(),
            values: v,
        };
        for shape in [Shape::Columns, Shape::Stacked, Shape::Bars] {
            let c = chart(
                shape,
                vec![s(
                    "a",
                    vec![Value::Number(3.0), Value::Withheld, Value::Number(0.0)],
                )],
            );
            let html = c.render().into_string();
            assert_eq!(html.matches("class=\"mark ").count(), 2, "{shape:?}");
            assert!(html.contains("data-marks=\"2\""));
            assert!(html.contains("— (withheld)"));
            assert!(html.contains("withheld from your view"));
            // Text is escaped, the link's ampersand too.
            assert!(html.contains("T &lt;&amp;&gt;"));
            assert!(html.contains("cluster=a&amp;flow=export"));
        }
        let two = chart(
            Shape::Stacked,
            vec![
                s("f", vec![Value::Number(1.0); 3]),
                s(
                    "m",
                    vec![Value::Number(2.0), Value::Missing, Value::Number(2.0)],
                ),
            ],
        );
        assert_eq!(two.marks(), 5);
        assert_eq!(
            two.render().into_string().matches("class=\"mark ").count(),
            5
        );
        let empty = chart(Shape::Columns, vec![s("a", vec![Value::Withheld; 3])]);
        let html = empty.render().into_string();
        assert!(!html.contains("<svg"));
        assert!(html.contains("or visible to you"));
    }

    #[test]
    fn figures_are_written_in_full_and_axes_short() {
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(-1_000), "-1,000");
        assert_eq!(group_digits(999), "999");
        assert_eq!(Unit::Usd.format(1_234_567.4), "US$1,234,567");
        assert_eq!(Unit::Share.format(0.2734), "27.3%");
        assert_eq!(Unit::Decimal.format(12.5), "12.50");
        assert_eq!(compact(1_250_000.0), "1.2M");
        assert_eq!(compact(250_000_000.0), "250M");
        assert_eq!(compact(900.0), "900");
        assert_eq!(nice_ticks(930.0), vec![0.0, 250.0, 500.0, 750.0, 1000.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        let t = nice_ticks(3.2e7);
        assert!(*t.last().unwrap() >= 3.2e7 && t.len() <= 6, "{t:?}");
    }
}
