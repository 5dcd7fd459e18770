//! The whole harness, end to end, with smoke counts: every scenario runs against the real emulator,
//! gateway and sandbox resolver and produces its rows; nothing errors; the JSON is written. Timings
//! are never asserted (a debug build on a shared machine says nothing about speed).

use agentmint_bench::{BenchOptions, Outcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smoke_run_measures_every_scenario_and_writes_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested").join("bench.json");
    let report = agentmint_bench::run(BenchOptions {
        smoke: true,
        out: Some(out.clone()),
    })
    .await
    .unwrap();
    let table = report.table();

    let errors: Vec<_> = report
        .rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Error(_)))
        .collect();
    assert!(errors.is_empty(), "scenarios failed:\n{table}");
    for n in 1..=7 {
        let prefix = format!("{n} ");
        assert!(
            report.rows.iter().any(|r| r.scenario.starts_with(&prefix)),
            "no row for scenario {n}:\n{table}"
        );
    }
    assert!(
        report
            .rows
            .iter()
            .filter(|r| !r.bar.is_empty())
            .all(|r| r.outcome == Outcome::Smoke),
        "smoke runs judge no bar:\n{table}"
    );
    assert!(table.contains("n/a (smoke)"));
    assert!(table.contains(&report.machine.git_revision));

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["smoke"], true);
    assert!(json["machine"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(
        json["rows"].as_array().unwrap().len(),
        report.rows.len(),
        "the JSON holds every row"
    );
    assert!(!json["loads"].as_array().unwrap().is_empty());
}
