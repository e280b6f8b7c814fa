//! `motcua-load scale` at a tiny size, so the country-sized test keeps working: two
//! provinces of twenty units, three stamped builds, 2,000 dossiers (500 at the big
//! ward), on SQLite. The tool checks and the test asserts: every unit offers its
//! level's catalog, every start reached `/readyz`, the inbox totals and `/metrics`
//! count exactly the dossiers filled.
//!
//! It drives the `motcua` binary built beside `motcua-load` (`cargo test --workspace`
//! builds both).

mod common;

#[test]
fn scale_at_a_tiny_size() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let (_, figures) = common::run_tool(
        &[
            "scale",
            "--backends",
            "sqlite",
            "--provinces",
            "2",
            "--units",
            "20",
            "--builds",
            "3",
            "--dossiers",
            "2000",
            "--big-ward",
            "500",
            "--cold-runs",
            "1",
            "--warm-runs",
            "1",
            "--requests",
            "5",
            "--inbox-units",
            "19",
            "--idle-seconds",
            "1",
            "--dir",
            &dir_arg,
        ],
        dir.path(),
    );
    let figures = &figures[0];
    let checks = &figures["checks"];

    // Every unit: 2 departments and 20 communes, each offering its level's catalog.
    assert_eq!(checks["units_checked"], 22, "{checks}");
    assert_eq!(checks["units_offering_catalog"], 22, "{checks}");
    let commune = checks["commune_procedures"].as_array().unwrap();
    let province = checks["province_procedures"].as_array().unwrap();
    assert!(commune.len() >= 4, "commune-level procedures: {commune:?}");
    assert!(
        !province.is_empty(),
        "province-level procedures: {province:?}"
    );
    // The catalog (7 components) and 3 stamped builds, all loaded at every start.
    assert_eq!(figures["builds_published"], 10);
    assert_eq!(checks["starts"], 3);
    for key in ["cold_start_seconds", "warm_start_seconds"] {
        let starts = figures[key].as_array().unwrap();
        assert_eq!(starts.len(), 1, "{key}");
        assert!(starts[0].as_f64().unwrap() > 0.0, "{key}");
    }
    // The inboxes of all 20 communes add up to the 2,000 filled; the big ward holds 500.
    assert_eq!(checks["inbox_units_checked"], 20);
    assert_eq!(checks["inbox_total"], 2000);
    assert_eq!(checks["inbox_expected"], 2000);
    assert_eq!(checks["big_ward_total"], 500);
    assert_eq!(checks["metrics_dossiers"], 2000);
    assert!(figures["memory_after_load"]["rss_mib"].as_f64().unwrap() > 1.0);
    // Every kind of request was measured.
    let latencies = figures["latencies"].as_array().unwrap();
    assert!(latencies.len() >= 8, "{latencies:?}");
    for latency in latencies {
        assert!(latency["requests"].as_u64().unwrap() > 0, "{latency}");
    }
}
