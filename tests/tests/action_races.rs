//! Actions racing for one dossier, on both backends, through the HTTP API: several
//! officers send an action at the same version at once. Exactly one is taken; every
//! other answers 409 `stale-version` and writes nothing: one event more in the chain,
//! which still verifies, one row more of reportable facts, and the unit's kept counts
//! still equal its dossiers. Both kinds of action race: one that changes the status
//! (`receive`, which moves the counts) and one that does not (`record-payment`).
//!
//! On PostgreSQL the racing actions are written in groups of several dossiers
//! (`store/batch.rs`), and the statement that writes a group finds its dossiers by key.
//!
//! Two hosts taking turns on one dossier: each answer carries the whole stored
//! history and the stored documents, though a host reuses the history and documents it
//! holds of a dossier it acted on last (`store/recent.rs`) and the other host moved the
//! dossier on, or stored a component's file, in between.

use futures::future::join_all;
use motcua_e2e::storage::samples::sha256;
use motcua_e2e::{Backend, TestServer, metric_sample};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const DOSSIERS: usize = 6;
const RACERS: usize = 8;

fn household() -> Value {
    motcua_e2e::scenarios::filings()["household"].clone()
}

/// Sends `RACERS` copies of one action at `version` to every dossier at once; asserts
/// one success per dossier and a stale-version problem for every other copy.
async fn race(server: &TestServer, codes: &[String], version: i64, action: &str, payload: Value) {
    let requests = codes.iter().flat_map(|code| {
        (0..RACERS).map(|_| {
            server.act_at(
                Some(OFFICER),
                &[],
                code,
                version,
                action,
                "",
                payload.clone(),
            )
        })
    });
    let answers = join_all(requests).await;
    for (code, answers) in codes.iter().zip(answers.chunks(RACERS)) {
        let taken: Vec<_> = answers
            .iter()
            .filter(|answer| answer.status == StatusCode::OK)
            .collect();
        assert_eq!(
            taken.len(),
            1,
            "{action} on {code} at version {version}: {:?}",
            answers.iter().map(|a| a.status).collect::<Vec<_>>()
        );
        assert_eq!(taken[0].body["version"], json!(version + 1));
        for answer in answers.iter().filter(|a| a.status != StatusCode::OK) {
            let problem = answer.problem(StatusCode::CONFLICT);
            assert_eq!(problem["type"], json!("urn:motcua:problem:stale-version"));
            assert_eq!(problem["current_version"], json!(version + 1));
        }
    }
}

async fn one_action_wins_and_the_others_write_nothing(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let mut codes = Vec::new();
    for _ in 0..DOSSIERS {
        codes.push(server.file(Some(OFFICER), &household()).await.code);
    }
    let (dossiers, events_before, _) = server.row_counts().await;
    assert_eq!(dossiers, DOSSIERS as i64);

    race(&server, &codes, 1, "receive", json!({})).await;
    race(
        &server,
        &codes,
        2,
        "record-payment",
        json!({ "amount_vnd": 100000, "online": true, "receipt": "VNPAY-1" }),
    )
    .await;

    let (_, events_after, _) = server.row_counts().await;
    assert_eq!(
        events_after - events_before,
        2 * DOSSIERS as i64,
        "one event per taken action, none for a refused one"
    );
    for code in &codes {
        let audit = server
            .get(&format!("/api/v1/dossiers/{code}/audit"), Some(OFFICER))
            .await;
        assert_eq!(audit.body["valid"], json!(true), "{}", audit.body);
        assert_eq!(audit.body["events"], json!(3), "{}", audit.body);
        let dossier = server.dossier(OFFICER, code).await;
        assert_eq!(dossier["version"], json!(3));
        assert_eq!(dossier["history"].as_array().map(Vec::len), Some(3));
    }
    // The kept counts behind the inbox's totals moved once per dossier.
    let inbox = server
        .get("/api/v1/units/xuan-hoa/dossiers?status=4", Some(OFFICER))
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert_eq!(inbox.body["total"], json!(DOSSIERS), "{}", inbox.body);
    let filed = server
        .get("/api/v1/units/xuan-hoa/dossiers?status=1", Some(OFFICER))
        .await;
    assert_eq!(filed.body["total"], json!(0), "{}", filed.body);
    if backend == Backend::Postgres {
        // The racing actions were written in groups of several dossiers (`batch.rs`):
        // the checks above held for actions written together.
        let text = server.scrape().await;
        let groups = metric_sample(&text, "motcua_action_groups").unwrap();
        let actions = metric_sample(&text, "motcua_grouped_actions").unwrap();
        assert!(actions >= (2 * DOSSIERS) as f64, "{text}");
        assert!(groups < actions, "{groups} groups for {actions} actions");
    }
    server.finish().await;
}

/// Each answer to an action carries the dossier's history: a host keeps the history of
/// the dossiers it acted on and reuses it while the row's head is the one it holds. With
/// two hosts taking turns on one dossier, every answer must still be the whole stored
/// history, the same as a fresh read shows and the audit check verifies.
async fn hosts_taking_turns_answer_with_the_whole_history(backend: Backend) {
    let first = TestServer::start(backend, "2026-03-02 09:00").await;
    let second = first.second_host().await;
    let (filing, files) = household_with_files();
    let code = first.file(Some(OFFICER), &filing).await.code;
    let turns = [
        &first, &first, &second, &first, &second, &second, &first, &first,
    ];
    // A component's file stored by the other host between two actions of one host: the
    // documents the first host holds with the history are then not the stored ones.
    let uploads = [(3, &second, &files[0]), (7, &second, &files[1])];
    let mut version = 1;
    let mut events = 1;
    for (turn, host) in turns.iter().enumerate() {
        for (_, uploader, bytes) in uploads.iter().filter(|(before, ..)| *before == turn) {
            let response = uploader
                .put_bytes(
                    &format!("/api/v1/dossiers/{code}/documents/{}", sha256(bytes)),
                    Some(OFFICER),
                    &[],
                    bytes,
                )
                .await;
            assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
            version += 1;
            events += 1;
        }
        let (action, mut payload) = if turn == 0 {
            ("receive", json!({}))
        } else {
            (
                "record-payment",
                json!({ "amount_vnd": 1000, "online": false, "receipt": format!("R-{turn}") }),
            )
        };
        if turn == 4 {
            // An action that adds a document: the next answer of its host (turn 5)
            // shows it as stored.
            payload["documents"] = json!([{
                "kind": "payment-receipt",
                "name": "Biên lai thu lệ phí",
                "sha256": sha256(b"receipt R-4"),
                "size": 11,
            }]);
        }
        let answer = host
            .act_at(Some(OFFICER), &[], &code, version, action, "", payload)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "turn {turn}: {}",
            answer.body
        );
        version += 1;
        events += 1;
        let history = answer.body["history"].as_array().expect("history");
        // The filing's event and one per action and upload so far, numbered in order.
        assert_eq!(history.len(), events, "turn {turn}: {history:?}");
        for (index, event) in history.iter().enumerate() {
            assert_eq!(event["seq"], json!(index + 1), "turn {turn}");
        }
        assert_eq!(
            history.last().unwrap()["payload"]["request"]["receipt"],
            if turn == 0 {
                Value::Null
            } else {
                json!(format!("R-{turn}"))
            },
            "turn {turn}: the answer ends with this action's own event"
        );
        // The same events and documents, field by field, as either host reads them
        // from the store.
        for reader in [&first, &second] {
            let stored = reader.dossier(OFFICER, &code).await;
            assert_eq!(&stored["history"], &answer.body["history"], "turn {turn}");
            assert_eq!(
                &stored["documents"], &answer.body["documents"],
                "turn {turn}"
            );
        }
        let audit = host
            .get(&format!("/api/v1/dossiers/{code}/audit"), Some(OFFICER))
            .await;
        assert_eq!(audit.body["valid"], json!(true), "{}", audit.body);
        assert_eq!(audit.body["head"], history.last().unwrap()["hash"]);
    }
    // Both files stored show in the last answer's documents.
    let last = first.dossier(OFFICER, &code).await;
    let digitized = last["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .filter(|document| document["digitized"] == json!(true))
        .count();
    assert_eq!(digitized, 2, "{}", last["documents"]);
    assert_eq!(last["documents"].as_array().map(Vec::len), Some(3));
    second.finish().await;
    first.finish().await;
}

/// The household filing with its components' files made for this test, and the files.
fn household_with_files() -> (Value, Vec<Vec<u8>>) {
    let mut body = household();
    let files = motcua_e2e::scenarios::with_own_files(&mut body, "action races");
    (body, files)
}

motcua_e2e::on_both_backends!(
    one_action_wins_and_the_others_write_nothing,
    hosts_taking_turns_answer_with_the_whole_history,
);

/// PostgreSQL plans the statement that writes a group of actions once per connection
/// and keeps the plan, perhaps made while `dossiers` is empty (as here, on a fresh
/// database), where reading the whole table looks as cheap as finding rows by key. The
/// plan must find the group's dossiers by key all the same, or each group would read
/// every dossier once the table is large.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_actions_finds_its_dossiers_by_key_on_postgres() {
    let server = TestServer::start(Backend::Postgres, "2026-03-02 09:00").await;
    let plan = server
        .state
        .store
        .action_group_plan()
        .await
        .unwrap()
        .join("\n");
    assert!(
        plan.contains("Index Scan using dossiers_pkey on dossiers"),
        "{plan}"
    );
    assert!(!plan.contains("Seq Scan on dossiers"), "{plan}");
    server.finish().await;
}
