//! `motcua report processing|indicators` as an operator runs it: against the database
//! directly, JSON or CSV on stdout, and a message that says what to fix with a non-zero
//! exit for a bad period or format. The figures themselves are checked against
//! hand-computed tables in tests/tests/reports.rs, through the same library function.

use std::process::{Command, Output};

fn motcua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("run motcua")
}

#[test]
fn report_command_writes_json_and_csv_and_explains_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
    let migrated = motcua(&["migrate", "--database-url", &url]);
    assert!(migrated.status.success(), "{migrated:?}");

    let json = motcua(&[
        "report",
        "processing",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--database-url",
        &url,
    ]);
    assert!(json.status.success(), "{json:?}");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(report["period"]["as_of"], "2026-01-31T23:59:59+07:00");
    assert_eq!(report["rows"], serde_json::json!([]));
    assert_eq!(report["total"]["to_process"], 0);
    assert_eq!(
        report["total"]["late_rate_percent"],
        serde_json::Value::Null
    );

    let csv = motcua(&[
        "report",
        "indicators",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--format",
        "csv",
        "--database-url",
        &url,
    ]);
    assert!(csv.status.success(), "{csv:?}");
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(
        text.starts_with("rank,unit,name,on_time_numerator,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "no units yet: the header alone");

    for (args, message) in [
        (
            vec!["--from", "2026-02-01", "--to", "2026-01-01"],
            "is after `to`",
        ),
        (
            vec![
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-31",
                "--format",
                "xml",
            ],
            "is not `json` or `csv`",
        ),
        (
            vec!["--from", "1 Jan", "--to", "2026-01-31"],
            "not a date like 2026-01-31",
        ),
        (
            vec![
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-31",
                "--unit",
                "ha-noi",
            ],
            "unit `ha-noi` does not exist",
        ),
    ] {
        let mut full = vec!["report", "processing"];
        full.extend(args.iter().copied());
        full.extend(["--database-url", &url]);
        let failed = motcua(&full);
        assert!(!failed.status.success(), "{full:?} succeeded");
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert!(stderr.contains(message), "{full:?}: {stderr}");
        assert!(failed.stdout.is_empty(), "nothing on stdout: {full:?}");
    }
}
