//! The report: one row per figure, each with its floor, ratio and bar, stamped with the machine.
//!
//! Rows carry numbers (for the JSON) and their own formatting (for the table), so a reader of either
//! sees the same figures. A bar is judged only in a full run: smoke counts are too small to mean
//! anything, so smoke rows say "n/a (smoke)" instead of a verdict that would be noise.

use std::fmt::Write;

use serde::Serialize;

use crate::generator::LoadSummary;
use crate::machine::Machine;

/// The unit of a row's value and floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    RequestsPerSec,
    Micros,
    Millis,
    Count,
    MiB,
    Percent,
    PerSec,
    /// A plain number (e.g. requests per key per lifetime).
    Number,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::RequestsPerSec => format!("{value:.0} req/s"),
            Unit::Micros => format!("{value:.0} µs"),
            Unit::Millis => format!("{value:.1} ms"),
            Unit::Count => format!("{value:.0}"),
            Unit::MiB => format!("{value:.1} MiB"),
            Unit::Percent => format!("{value:.1} %"),
            Unit::PerSec => format!("{value:.2} /s"),
            Unit::Number => format!("{value:.2}"),
        }
    }
}

/// How a row's figure compares with its bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Outcome {
    Pass,
    Fail,
    /// The figure has no bar (reported for information).
    Info,
    /// A smoke run: the bar is not judged.
    Smoke,
    /// The figure could not be measured; the detail says why.
    Error(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Pass => "pass".into(),
            Outcome::Fail => "FAIL".into(),
            Outcome::Info => "-".into(),
            Outcome::Smoke => "n/a (smoke)".into(),
            Outcome::Error(_) => "ERROR".into(),
        }
    }
}

/// One figure of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub value: Option<f64>,
    pub unit: Unit,
    /// The same figure measured on the floor, when the row has one.
    pub floor: Option<f64>,
    /// value / floor, when the row has a floor.
    pub ratio: Option<f64>,
    /// The bar in words ("ratio ≥ 0.5"), empty when there is none.
    pub bar: String,
    pub outcome: Outcome,
}

impl Row {
    /// A row with a value and no floor or bar.
    pub fn info(scenario: &str, figure: impl Into<String>, value: f64, unit: Unit) -> Self {
        Self {
            scenario: scenario.to_owned(),
            figure: figure.into(),
            value: Some(value),
            unit,
            floor: None,
            ratio: None,
            bar: String::new(),
            outcome: Outcome::Info,
        }
    }

    /// A row whose figure could not be measured.
    pub fn error(scenario: &str, figure: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            scenario: scenario.to_owned(),
            figure: figure.into(),
            value: None,
            unit: Unit::Number,
            floor: None,
            ratio: None,
            bar: String::new(),
            outcome: Outcome::Error(why.into()),
        }
    }

    /// Adds a floor and the ratio value / floor.
    pub fn with_floor(mut self, floor: f64) -> Self {
        self.floor = Some(floor);
        self.ratio = match self.value {
            Some(value) if floor > 0.0 => Some(value / floor),
            _ => None,
        };
        self
    }

    /// Adds a bar and its verdict (`Smoke` instead of a verdict in smoke runs).
    pub fn with_bar(mut self, bar: impl Into<String>, met: bool, smoke: bool) -> Self {
        self.bar = bar.into();
        self.outcome = match (smoke, met) {
            (true, _) => Outcome::Smoke,
            (false, true) => Outcome::Pass,
            (false, false) => Outcome::Fail,
        };
        self
    }
}

/// One load run behind the rows, kept in the JSON for whoever wants the raw figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadRecord {
    pub scenario: String,
    pub label: String,
    #[serde(flatten)]
    pub summary: LoadSummary,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub smoke: bool,
    /// When the run started, Unix seconds.
    pub started_unix: u64,
    pub duration_secs: f64,
    pub rows: Vec<Row>,
    pub loads: Vec<LoadRecord>,
    /// Free-text notes on how figures were obtained (e.g. what the memory figure includes).
    pub notes: Vec<String>,
}

impl Report {
    /// True when no row failed its bar or errored.
    pub fn passed(&self) -> bool {
        self.rows
            .iter()
            .all(|r| !matches!(r.outcome, Outcome::Fail | Outcome::Error(_)))
    }

    /// The human table: the machine line, one line per row, then errors and notes.
    pub fn table(&self) -> String {
        let header = [
            "scenario", "figure", "value", "floor", "ratio", "bar", "result",
        ];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.scenario.clone(),
                    row.figure.clone(),
                    row.value
                        .map(|v| row.unit.format(v))
                        .unwrap_or_else(|| "-".into()),
                    row.floor
                        .map(|v| row.unit.format(v))
                        .unwrap_or_else(|| "-".into()),
                    row.ratio
                        .map(|r| format!("{r:.2}"))
                        .unwrap_or_else(|| "-".into()),
                    if row.bar.is_empty() {
                        "-".into()
                    } else {
                        row.bar.clone()
                    },
                    row.outcome.label(),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for line in &cells {
            for (width, cell) in widths.iter_mut().zip(line) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.machine.line());
        let _ = writeln!(
            out,
            "run: {}, {:.1} s",
            if self.smoke {
                "smoke (tiny counts; bars not judged)"
            } else {
                "full"
            },
            self.duration_secs
        );
        push_line(&mut out, &header.map(String::from), &widths);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "{}", rule.join("-+-"));
        for line in &cells {
            push_line(&mut out, line, &widths);
        }
        for row in &self.rows {
            if let Outcome::Error(why) = &row.outcome {
                let _ = writeln!(out, "error: {} / {}: {why}", row.scenario, row.figure);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

fn push_line(out: &mut String, cells: &[String; 7], widths: &[usize; 7]) {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| {
            let pad = width.saturating_sub(cell.chars().count());
            format!("{cell}{}", " ".repeat(pad))
        })
        .collect();
    let _ = writeln!(out, "{}", padded.join(" | ").trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rows: Vec<Row>) -> Report {
        Report {
            machine: Machine::detect(),
            smoke: false,
            started_unix: 0,
            duration_secs: 1.0,
            rows,
            loads: Vec::new(),
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn ratio_is_value_over_floor_and_bar_sets_the_outcome() {
        let row = Row::info("1", "throughput", 50.0, Unit::RequestsPerSec)
            .with_floor(100.0)
            .with_bar("ratio ≥ 0.5", true, false);
        assert_eq!(row.ratio, Some(0.5));
        assert_eq!(row.outcome, Outcome::Pass);
        let smoke = row.clone().with_bar("ratio ≥ 0.5", false, true);
        assert_eq!(smoke.outcome, Outcome::Smoke);
    }

    #[test]
    fn table_lists_every_row_with_aligned_columns_and_errors() {
        let r = report(vec![
            Row::info("1 hot path", "throughput", 1234.0, Unit::RequestsPerSec).with_floor(2468.0),
            Row::error("6 memory", "RSS", "gateway not ready"),
        ]);
        let table = r.table();
        assert!(table.contains("1234 req/s"));
        assert!(table.contains("0.50"));
        assert!(table.contains("ERROR"));
        assert!(table.contains("error: 6 memory / RSS: gateway not ready"));
        assert!(table.contains("note: a note"));
        assert!(!r.passed());
        let bars: Vec<usize> = table
            .lines()
            .filter(|l| l.starts_with("1 hot path") || l.starts_with("scenario"))
            .map(|l| l.find('|').unwrap_or(0))
            .collect();
        assert_eq!(bars[0], bars[1], "columns align:\n{table}");
    }
}
