//! The seven scenarios of BENCHMARKS.md, one module each, and what they share: the [`Findings`] they
//! write rows into and the hot-path comparison of a load run with its floor.

pub mod cold_chain;
pub mod expiry;
mod hot;
pub mod hot_grpc;
pub mod hot_http;
pub mod memory;
pub mod stampede;
pub mod steady;
pub mod throttled;

use crate::generator::LoadResult;
use crate::report::{LoadRecord, Outcome, Row, Unit};

/// What the scenarios found so far.
#[derive(Debug, Default)]
pub struct Findings {
    pub smoke: bool,
    pub rows: Vec<Row>,
    pub loads: Vec<LoadRecord>,
    pub notes: Vec<String>,
}

/// Bars of a hot-path comparison, as ratios to the floor.
#[derive(Debug, Clone, Copy)]
pub struct HotBars {
    /// Throughput must be at least this share of the floor's.
    pub min_throughput_ratio: f64,
    /// p99 must be at most this multiple of the floor's, when set.
    pub max_p99_ratio: Option<f64>,
}

impl Findings {
    pub fn new(smoke: bool) -> Self {
        Self {
            smoke,
            ..Self::default()
        }
    }

    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// A row judged against a bar (or marked smoke).
    pub fn judged(&mut self, row: Row, bar: impl Into<String>, met: bool) {
        let smoke = self.smoke;
        self.rows.push(row.with_bar(bar, met, smoke));
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Keeps a load run's raw figures for the JSON.
    pub fn load(&mut self, scenario: &str, label: impl Into<String>, result: &LoadResult) {
        self.loads.push(LoadRecord {
            scenario: scenario.to_owned(),
            label: label.into(),
            summary: result.summary(),
        });
    }

    /// The rows of one hot-path comparison: throughput and p50/p99/p99.9, each with the floor and
    /// the ratio, the throughput (and p99) judged against `bars`. Failed requests add an error row
    /// (a ratio over failures would mislead); a run cut short by its time limit adds a note.
    pub fn hot_rows(
        &mut self,
        scenario: &str,
        label: &str,
        measured: &LoadResult,
        floor: &LoadResult,
        bars: HotBars,
    ) {
        self.load(scenario, format!("{label} floor"), floor);
        self.load(scenario, label.to_owned(), measured);
        let throughput = Row::info(
            scenario,
            format!("{label} throughput"),
            measured.requests_per_sec(),
            Unit::RequestsPerSec,
        )
        .with_floor(floor.requests_per_sec());
        let ratio = throughput.ratio.unwrap_or(0.0);
        self.judged(
            throughput,
            format!("≥ {} × floor", bars.min_throughput_ratio),
            ratio >= bars.min_throughput_ratio,
        );
        for (name, q) in [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)] {
            let row = Row::info(
                scenario,
                format!("{label} {name}"),
                measured.quantile_us(q),
                Unit::Micros,
            )
            .with_floor(floor.quantile_us(q));
            match bars.max_p99_ratio {
                Some(max) if name == "p99" => {
                    let met = row.ratio.is_some_and(|r| r <= max);
                    self.judged(row, format!("≤ {max} × floor"), met);
                }
                _ => self.row(row),
            }
        }
        for (side, result) in [("floor", floor), ("agentmint", measured)] {
            if result.errors > 0 {
                let why = format!(
                    "{side}: {} failed requests; first: {}",
                    result.errors,
                    result.first_error.as_deref().unwrap_or("")
                );
                self.rows.push(Row {
                    outcome: Outcome::Error(why),
                    ..Row::info(
                        scenario,
                        format!("{label} failed requests"),
                        result.errors as f64,
                        Unit::Count,
                    )
                });
            }
            if result.truncated {
                // Slow, not broken: the figures above still hold for the requests that ran.
                self.note(format!(
                    "{scenario} {label}: the {side} run hit its time limit after {} requests",
                    result.completed()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hdrhistogram::Histogram;

    use super::*;

    fn result(requests: u64, latency_us: u64, secs: u64) -> LoadResult {
        let mut latency = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        latency.record_n(latency_us * 1_000, requests).unwrap();
        LoadResult {
            concurrency: 1,
            latency,
            errors: 0,
            first_error: None,
            elapsed: Duration::from_secs(secs),
            truncated: false,
        }
    }

    const BARS: HotBars = HotBars {
        min_throughput_ratio: 0.5,
        max_p99_ratio: Some(2.0),
    };

    #[test]
    fn hot_rows_judge_throughput_and_p99_against_the_floor() {
        let mut findings = Findings::new(false);
        // 600 req/s at 300 µs against a floor of 1000 req/s at 100 µs: throughput passes, p99 fails.
        findings.hot_rows(
            "1",
            "app c=1",
            &result(600, 300, 1),
            &result(1_000, 100, 1),
            BARS,
        );
        let row = |figure: &str| {
            findings
                .rows
                .iter()
                .find(|r| r.figure == figure)
                .unwrap_or_else(|| panic!("no {figure}"))
        };
        assert_eq!(row("app c=1 throughput").outcome, Outcome::Pass);
        assert_eq!(row("app c=1 throughput").ratio, Some(0.6));
        assert_eq!(row("app c=1 p99").outcome, Outcome::Fail);
        assert_eq!(row("app c=1 p50").outcome, Outcome::Info);
        assert_eq!(findings.loads.len(), 2);
    }

    #[test]
    fn a_failed_run_adds_an_error_row_and_smoke_judges_nothing() {
        let mut findings = Findings::new(true);
        let mut failed = result(10, 100, 1);
        failed.errors = 3;
        failed.first_error = Some("refused".into());
        findings.hot_rows("1", "user c=16", &failed, &result(10, 100, 1), BARS);
        assert!(findings.rows.iter().any(|r| matches!(
            &r.outcome,
            Outcome::Error(why) if why.contains("3 failed requests") && why.contains("refused")
        )));
        assert!(
            findings
                .rows
                .iter()
                .filter(|r| !r.bar.is_empty())
                .all(|r| r.outcome == Outcome::Smoke)
        );
    }
}
