//! Actions racing for one dossier, on both backends, through the HTTP API: several
//! officers send an action at the same version at once. Exactly one is taken; every
//! other answers 409 `stale-version` and writes nothing: one event more in the chain,
//! which still verifies, one row more of reportable facts, and the unit's kept counts
//! still equal its dossiers. Both kinds of action race: one that changes the status
//! (`receive`, which moves the counts) and one that does not (`record-payment`).

use futures::future::join_all;
use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const DOSSIERS: usize = 6;
const RACERS: usize = 8;

fn household() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json");
    filings["household"].clone()
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
    server.finish().await;
}

motcua_e2e::on_both_backends!(one_action_wins_and_the_others_write_nothing);
