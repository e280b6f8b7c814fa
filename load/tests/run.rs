//! `motcua-load run` briefly, in slices, on SQLite: both servers answer every filing and
//! action their clients send (the clients read the code and the version from motcua's
//! answers as from the bare server's), and the slices add up to the measured seconds.
//!
//! It drives the `motcua` binary built beside `motcua-load` (`cargo test --workspace`
//! builds both).

mod common;

#[test]
fn a_run_in_slices_counts_every_answer_of_both_servers() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, rows) = common::run_tool(
        &[
            "run",
            "--backends",
            "sqlite",
            "--work",
            "filings,actions",
            "--clients",
            "2",
            "--seconds",
            "2",
            "--slices",
            "2",
        ],
        dir.path(),
    );
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, work) in rows.iter().zip(["filings", "actions"]) {
        assert_eq!(row["work"], work);
        for server in ["motcua", "bare"] {
            let figures = &row[server];
            assert_eq!(figures["failed"], 0, "{work} on {server}: {figures}");
            assert!(
                figures["answered"].as_u64().unwrap() > 0,
                "{work} on {server}: {figures}"
            );
            // Two slices of one second each.
            assert_eq!(figures["seconds"], 2.0, "{work} on {server}: {figures}");
            let rate = figures["per_second"].as_f64().unwrap();
            let answered = figures["answered"].as_f64().unwrap();
            assert!((rate * 2.0 - answered).abs() < 1e-6, "{figures}");
        }
    }
    assert!(stdout.contains("| sqlite | actions | 2 |"), "{stdout}");
}
