//! `motcua dossier replay CODE` as an auditor runs it against the database: a table (or
//! JSON with `--json`) of every event, recorded against replayed; exit 0 when everything
//! matches, 1 on a mismatch (an event edited by hand, the triggers dropped), 2 when the
//! replay cannot run (an unknown dossier).

#[allow(dead_code)] // the helpers for tests that start a server
mod common;
use common::motcua;

use chrono::NaiveDateTime;
use motcua::app::{self, Config};
use motcua::clock::Clock;
use motcua::domain::{Actor, Applicant, Channel, Document, Role};
use motcua::workflow::{ActionRequest, Caller, FileRequest};
use serde_json::{Value, json};

fn staff(id: &str, role: Role) -> Caller {
    Caller::Staff(Actor {
        id: id.into(),
        role,
        unit: "xuan-hoa".into(),
    })
}

/// A demo province with one birth registration taken to its result, on SQLite at `url`.
async fn province_with_a_dossier(url: &str) -> String {
    let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    let clock = Clock::manual(at("2026-03-02 08:00"));
    let state = app::build_state(&Config::new(url), clock.clone())
        .await
        .expect("state");
    motcua::demo::seed(&state).await.expect("seed");
    // The birth registration the end-to-end scenarios file.
    let filings: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/scenarios/_filings.json"),
        )
        .expect("read the scenario filings"),
    )
    .expect("JSON");
    let birth = &filings["birth"];
    let filed = state
        .file(
            &Caller::Anonymous,
            FileRequest {
                procedure_code: "1.001193".into(),
                receiving_unit: "xuan-hoa".into(),
                handling_unit: None,
                channel: Channel::Online,
                applicant: serde_json::from_value::<Applicant>(birth["applicant"].clone())
                    .expect("applicant"),
                form: birth["form"].clone(),
                documents: serde_json::from_value::<Vec<Document>>(birth["documents"].clone())
                    .expect("documents"),
            },
        )
        .await
        .unwrap_or_else(|error| panic!("filing: {error}"));
    for (id, role, action, time) in [
        (
            "xuan-hoa-officer",
            Role::Officer,
            "receive",
            "2026-03-02 09:00",
        ),
        (
            "xuan-hoa-specialist",
            Role::Specialist,
            "submit-for-signing",
            "2026-03-02 10:00",
        ),
        ("xuan-hoa-leader", Role::Leader, "sign", "2026-03-02 11:00"),
        (
            "xuan-hoa-officer",
            Role::Officer,
            "return-result",
            "2026-03-02 14:00",
        ),
    ] {
        clock.set(at(time));
        let version = state
            .store
            .dossier(&filed.code)
            .await
            .unwrap()
            .unwrap()
            .version;
        state
            .act(
                &staff(id, role),
                ActionRequest {
                    code: filed.code.clone(),
                    action: action.into(),
                    note: String::new(),
                    payload: json!({}),
                    if_match: Some(version),
                },
            )
            .await
            .unwrap_or_else(|error| panic!("{action}: {error}"));
    }
    state.store.close().await;
    filed.code
}

/// Rewrites one event's recorded next step as a database administrator would.
async fn edit_event(url: &str, code: &str) {
    use sqlx::{Connection, Executor, Row};
    let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
    let triggers: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'dossier_events'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .map(|row| row.get(0))
    .collect();
    for trigger in triggers {
        connection
            .execute(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
            .await
            .unwrap();
    }
    let done = connection
        .execute(sqlx::AssertSqlSafe(format!(
            "UPDATE dossier_events SET to_step = 'settled' WHERE dossier_code = '{code}' AND seq = 3"
        )))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

fn replay(args: &[&str]) -> (i32, String, String) {
    let output = motcua()
        .arg("dossier")
        .arg("replay")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn replay_command_reports_each_event_and_exits_by_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(province_with_a_dossier(&url));

    // Everything as recorded: exit 0, one line per event, the verdict last.
    let (status, stdout, stderr) = replay(&[&code, "--database-url", &url]);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("dossier {code}")), "{stdout}");
    assert!(stdout.contains("settings: pinned"), "{stdout}");
    for (seq, action, kind) in [
        (1, "submit", "filing"),
        (2, "receive", "decision"),
        (3, "submit-for-signing", "decision"),
        (4, "sign", "decision"),
        (5, "return-result", "decision"),
    ] {
        let line = stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{seq} ")))
            .unwrap_or_else(|| panic!("no line for event {seq}: {stdout}"));
        assert!(line.contains(action) && line.contains(kind), "{line}");
        assert!(line.ends_with(" MATCH"), "{line}");
    }
    assert!(
        stdout.contains(
            "verdict: MATCH (4 decision(s) re-decided, 1 host step(s) checked, 0 mismatch(es))"
        ),
        "{stdout}"
    );

    // The same as JSON, in the API's shape.
    let (status, stdout, _) = replay(&[&code, "--json", "--database-url", &url]);
    assert_eq!(status, 0);
    let body: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(body["verdict"], "match");
    assert_eq!(body["events"].as_array().unwrap().len(), 5);
    assert_eq!(body["build"]["plugin"], "1.001193");

    // An unknown dossier: the replay cannot run.
    let (status, stdout, stderr) = replay(&["000.31.19.H43-260302-9999", "--database-url", &url]);
    assert_eq!(status, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(stdout.is_empty());

    // An administrator rewrites the proposal to signing as if it had gone to the result.
    runtime.block_on(edit_event(&url, &code));
    let (status, stdout, stderr) = replay(&[&code, "--database-url", &url]);
    assert_eq!(status, 1, "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("3 "))
        .expect("event 3");
    assert!(line.ends_with(" MISMATCH"), "{line}");
    assert!(
        stdout.contains("to_step: recorded \"settled\", replayed \"signing\""),
        "{stdout}"
    );
    assert!(stdout.contains("hash chain: BROKEN"), "{stdout}");
    assert!(stdout.contains("verdict: MISMATCH"), "{stdout}");
    let (status, stdout, _) = replay(&[&code, "--json", "--database-url", &url]);
    assert_eq!(status, 1);
    let body: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(body["verdict"], "mismatch");
    assert_eq!(body["events"][2]["outcome"], "mismatch");
    assert_eq!(
        body["events"][3]["outcome"], "match",
        "{}",
        body["events"][3]
    );
}
