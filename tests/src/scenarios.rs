//! The procedure scenarios under `tests/scenarios/`, run against the real server.
//!
//! A scenario files a dossier (a named body from `_filings.json`, optionally changed
//! by a JSON merge patch), then takes actions at given times as given actors and
//! checks the answer after each: HTTP status, problem type, canonical status, step,
//! due date, fees, result. After every refused step it checks that nothing was
//! written; at the end it checks the citizen's view and the dossier's audit chain.
//!
//! Deadline keeping is data too: a step `{"as": "system", "action": "sweep"}` runs the
//! host's deadline sweep at the step's time and checks the dossier afterwards, and the
//! expectations cover the statutory due date, whether it is provisional, the clock and
//! the working days left.
//!
//! The province the scenarios run in ([`prepare`]): the demo seed, plus the land-use
//! (status 6, the payment pause), death and marriage procedures as pilots at Xuân Hòa,
//! and Thanh Ba on the business-household procedure's on-site local variant, so every
//! catalog plugin is played through. `tests/scenarios.rs` runs them; `tests/replay.rs`
//! runs them and then replays every dossier they left.

use std::path::{Path, PathBuf};

use motcua::audit::{EventRecord, verify_chain};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Response, TestServer, plugin_bytes, publisher};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    start: String,
    filing: String,
    #[serde(default)]
    patch: Option<Value>,
    #[serde(default)]
    file_as: Option<String>,
    #[serde(default)]
    expect_filed: Expect,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    final_track_status: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(default)]
    at: Option<String>,
    #[serde(rename = "as")]
    actor: String,
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    payload: Option<Value>,
    /// Send this version in If-Match instead of the current one (stale-version checks).
    #[serde(default)]
    version_offset: i64,
    #[serde(default)]
    expect: Expect,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Expect {
    http: Option<u16>,
    problem: Option<String>,
    refusal: Option<String>,
    status: Option<i64>,
    step: Option<String>,
    due_date: Option<Value>,
    statutory_due_date: Option<Value>,
    due_provisional: Option<bool>,
    /// `running`, `paused`, `stopped-for-supplement`, `not-started` or `stopped`.
    clock: Option<String>,
    /// A number, or null when the clock does not run.
    #[serde(default, deserialize_with = "present")]
    working_days_left: Option<Value>,
    supplement_count: Option<i64>,
    fees_requested_vnd: Option<i64>,
    fees_paid_vnd: Option<i64>,
    result_kind: Option<String>,
    /// Finding targets that must all be reported (for a refused filing).
    #[serde(default)]
    findings: Vec<String>,
    /// Every finding reported, as "target code", in the order reported: nothing more.
    findings_exactly: Option<Vec<String>>,
    /// Supplement items whose targets must all be listed.
    #[serde(default)]
    pending_supplement: Vec<String>,
    code_prefix: Option<String>,
}

/// Keeps an explicit `null` as `Some(Value::Null)`, so a scenario can expect one.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The filing bodies of `_filings.json`, by name.
pub fn filings() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(scenario_dir().join("_filings.json")).expect("read _filings.json"),
    )
    .expect("_filings.json is JSON")
}

/// Gives each document `filing` declares a file of its own (a PDF showing `label` and
/// the document's name): its sha256 and size are the file's, and the client's
/// `digitized` is dropped (the server says what is digitized: the components whose
/// files it stored). Returns the files, in the documents' order.
pub fn with_own_files(filing: &mut Value, label: &str) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for document in filing["documents"].as_array_mut().expect("documents") {
        let bytes = crate::storage::samples::pdf(
            &format!("{label}: {}", document["name"].as_str().expect("name")),
            0,
        );
        document["sha256"] = json!(crate::storage::samples::sha256(&bytes));
        document["size"] = json!(bytes.len());
        document
            .as_object_mut()
            .expect("document")
            .remove("digitized");
        files.push(bytes);
    }
    files
}

pub fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn load_scenarios() -> (Value, Vec<(String, Scenario)>) {
    let dir = scenario_dir();
    let filings: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("_filings.json")).expect("read _filings.json"),
    )
    .expect("_filings.json is JSON");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenario dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "expected the scenario suite, found {} files",
        files.len()
    );
    let scenarios = files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read scenario");
            let scenario: Scenario = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().to_string(),
                scenario,
            )
        })
        .collect();
    (filings, scenarios)
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = json!({});
            }
            let object = target.as_object_mut().expect("object");
            for (key, value) in patch {
                if value.is_null() {
                    object.remove(key);
                } else {
                    merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn check(context: &str, expect: &Expect, http: StatusCode, body: &Value) {
    let want_http = expect.http.unwrap_or(200);
    assert_eq!(
        http.as_u16(),
        want_http,
        "{context}: HTTP status; body {body}"
    );
    if let Some(problem) = &expect.problem {
        assert_eq!(
            body["type"],
            format!("urn:motcua:problem:{problem}"),
            "{context}: problem type; body {body}"
        );
    }
    if let Some(refusal) = &expect.refusal {
        assert_eq!(
            body["code"],
            refusal.as_str(),
            "{context}: refusal code; body {body}"
        );
    }
    if let Some(status) = expect.status {
        assert_eq!(
            body["status"]["code"], status,
            "{context}: canonical status; body {body}"
        );
    }
    if let Some(step) = &expect.step {
        let actual = if body["step"].is_string() {
            &body["step"]
        } else {
            &body["step"]["id"]
        };
        assert_eq!(actual, step.as_str(), "{context}: step");
    }
    if let Some(due) = &expect.due_date {
        assert_eq!(&body["due_date"], due, "{context}: due date");
    }
    if let Some(due) = &expect.statutory_due_date {
        assert_eq!(
            &body["due"]["statutory_date"], due,
            "{context}: statutory due date; body {body}"
        );
    }
    if let Some(provisional) = expect.due_provisional {
        assert_eq!(
            body["due"]["provisional"], provisional,
            "{context}: provisional due date"
        );
    }
    if let Some(clock) = &expect.clock {
        assert_eq!(body["due"]["clock"], clock.as_str(), "{context}: clock");
    }
    if let Some(left) = &expect.working_days_left {
        assert_eq!(
            &body["due"]["working_days_left"], left,
            "{context}: working days left"
        );
    }
    if let Some(count) = expect.supplement_count {
        assert_eq!(
            body["supplement_count"], count,
            "{context}: supplement count"
        );
    }
    if let Some(fees) = expect.fees_requested_vnd {
        assert_eq!(
            body["fees"]["requested_vnd"], fees,
            "{context}: fees requested"
        );
    }
    if let Some(fees) = expect.fees_paid_vnd {
        assert_eq!(body["fees"]["paid_vnd"], fees, "{context}: fees paid");
    }
    if let Some(kind) = &expect.result_kind {
        assert_eq!(
            body["result"]["kind"],
            kind.as_str(),
            "{context}: result kind"
        );
    }
    for target in &expect.findings {
        let findings = body["findings"].as_array().cloned().unwrap_or_default();
        assert!(
            findings
                .iter()
                .any(|finding| finding["target"] == target.as_str()),
            "{context}: expected a finding on {target}; got {findings:?}"
        );
    }
    if let Some(expected) = &expect.findings_exactly {
        let reported: Vec<String> = body["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|finding| {
                format!(
                    "{} {}",
                    finding["target"].as_str().unwrap_or("?"),
                    finding["code"].as_str().unwrap_or("?")
                )
            })
            .collect();
        assert_eq!(&reported, expected, "{context}: the findings, exactly");
    }
    for target in &expect.pending_supplement {
        let items = body["pending_supplement"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            items.iter().any(|item| item["target"] == target.as_str()),
            "{context}: expected supplement item {target}; got {items:?}"
        );
    }
    if let Some(prefix) = &expect.code_prefix {
        assert!(
            body["code"]
                .as_str()
                .is_some_and(|code| code.starts_with(prefix.as_str())),
            "{context}: code {}",
            body["code"]
        );
    }
}

/// Rebuilds the chain from the history the API served and verifies it independently
/// of the server's own verifier, then asks the server's verifier too.
async fn assert_chain_verifies(server: &TestServer, token: &str, code: &str) {
    let view = server.dossier(token, code).await;
    let events: Vec<EventRecord> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|event| EventRecord {
            dossier_code: code.to_string(),
            seq: event["seq"].as_i64().unwrap(),
            at: event["at"].as_str().unwrap().to_string(),
            actor_id: event["actor"]["id"].as_str().unwrap().to_string(),
            actor_role: event["actor"]["role"].as_str().unwrap().to_string(),
            actor_unit: event["actor"]["unit"].as_str().unwrap().to_string(),
            action: event["action"].as_str().unwrap().to_string(),
            from_step: event["from_step"].as_str().map(str::to_string),
            to_step: event["to_step"].as_str().unwrap().to_string(),
            from_status: event["from_status"].as_i64(),
            to_status: event["to_status"].as_i64().unwrap(),
            note: event["note"].as_str().unwrap().to_string(),
            payload_json: event["payload"].to_string(),
            prev_hash: event["prev_hash"].as_str().unwrap().to_string(),
            hash: event["hash"].as_str().unwrap().to_string(),
        })
        .collect();
    assert!(!events.is_empty(), "{code}: no history");
    // Recompute every hash from what the API served: the chain must hold without
    // trusting the server's own verdict.
    assert_eq!(
        verify_chain(&events),
        Ok(events.len()),
        "{code}: chain rebuilt from the served history"
    );
    let audit = server
        .get(&format!("/api/v1/dossiers/{code}/audit"), Some(token))
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert_eq!(
        audit.body["valid"], true,
        "{code}: audit chain: {}",
        audit.body
    );
    assert_eq!(audit.body["events"], events.len() as i64);
    let stored = server.state.store.events(code).await.expect("events");
    assert_eq!(
        verify_chain(&stored),
        Ok(stored.len()),
        "{code}: stored chain"
    );
    // The history read with the dossier (one JSON array decoded by field order) is the
    // chain read column by column: a field out of place would break this, not the hashes.
    let with_history = server
        .state
        .store
        .dossier_with_history(code)
        .await
        .expect("dossier read")
        .expect("the dossier exists");
    assert_eq!(
        with_history.history.as_deref().map(Vec::as_slice),
        Some(stored.as_slice()),
        "{code}: the history read with the dossier differs from its events"
    );
}

/// A dossier a scenario filed and played through.
#[derive(Clone, Debug)]
pub struct PlayedDossier {
    /// The scenario file.
    pub file: String,
    pub code: String,
    pub tracking_secret: String,
    /// A token of the handling unit's officer.
    pub officer: String,
    pub handling_unit: String,
    /// The final status code, as an officer sees it.
    pub status: i64,
}

/// Sets the province up for the scenarios: pilots and the local variant.
pub async fn prepare(server: &TestServer) {
    let at = "2026-03-01T08:00:00+07:00";
    for stem in [
        "land_use_certificate",
        "death_registration",
        "marriage_registration",
    ] {
        server.pilot(stem, &["xuan-hoa"], at).await;
    }
    // Thanh Ba runs business-household registration with its on-site verification step.
    server
        .state
        .registry
        .publish(plugin_bytes("business_household_onsite"), &publisher(), at)
        .await
        .expect("publish the on-site variant");
    let chosen = server
        .put(
            "/api/v1/units/thanh-ba/procedures/1.001612",
            Some("demo-thanh-ba-admin"),
            &json!({ "variant": "1.0.0" }),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
}

/// Runs every scenario on a prepared server, asserting each step; returns the dossiers
/// that were filed.
pub async fn run_all(server: &TestServer) -> Vec<PlayedDossier> {
    let backend = server.backend;
    let (filings, scenarios) = load_scenarios();
    let mut played = Vec::new();
    for (file, scenario) in &scenarios {
        let context = format!("[{backend:?}] {file} ({})", scenario.name);
        eprintln!("running {context}");
        server.set_time(&scenario.start);
        let mut body = filings
            .get(&scenario.filing)
            .unwrap_or_else(|| panic!("{context}: no filing named {}", scenario.filing))
            .clone();
        if let Some(patch) = &scenario.patch {
            merge_patch(&mut body, patch);
        }
        let before = server.row_counts().await;
        let response = server
            .post("/api/v1/dossiers", scenario.file_as.as_deref(), &body)
            .await;
        let expect_http = scenario.expect_filed.http.unwrap_or(201);
        check_filing(&context, &scenario.expect_filed, expect_http, &response);
        if expect_http != 201 {
            assert_eq!(
                server.row_counts().await,
                before,
                "{context}: a refused filing wrote rows"
            );
            continue;
        }
        let code = response.body["code"].as_str().expect("code").to_string();
        let secret = response.body["tracking_secret"]
            .as_str()
            .expect("secret")
            .to_string();
        let unit = body["handling_unit"]
            .as_str()
            .or(body["receiving_unit"].as_str())
            .unwrap()
            .to_string();
        let officer = format!("demo-{unit}-officer");

        for (index, step) in scenario.steps.iter().enumerate() {
            let context = format!(
                "{context} step {} ({} as {})",
                index + 1,
                step.action,
                step.actor
            );
            if let Some(at) = &step.at {
                server.set_time(at);
            }
            let current = server.dossier(&officer, &code).await;
            let version = current["version"].as_i64().unwrap() + step.version_offset;
            let payload = step.payload.clone().unwrap_or_else(|| json!({}));
            if step.actor == "system" {
                assert_eq!(step.action, "sweep", "{context}: the system only sweeps");
                server
                    .state
                    .close_unsupplemented()
                    .await
                    .unwrap_or_else(|error| panic!("{context}: sweep failed: {error}"));
                let after = server.dossier(&officer, &code).await;
                check(&context, &step.expect, StatusCode::OK, &after);
                continue;
            }
            let before = server.row_counts().await;
            let response = if step.actor == "citizen" {
                server
                    .act_at(
                        None,
                        &[("x-tracking-secret", secret.clone())],
                        &code,
                        version,
                        &step.action,
                        &step.note,
                        payload,
                    )
                    .await
            } else {
                server
                    .act_at(
                        Some(&step.actor),
                        &[],
                        &code,
                        version,
                        &step.action,
                        &step.note,
                        payload,
                    )
                    .await
            };
            if step.actor == "citizen" && response.status == StatusCode::OK {
                // The citizen gets the tracking view; check the full state as an officer sees it.
                assert!(
                    response.body.get("applicant").is_none(),
                    "{context}: the citizen's answer carries personal data"
                );
                let full = server.dossier(&officer, &code).await;
                check(&context, &step.expect, response.status, &full);
            } else {
                check(&context, &step.expect, response.status, &response.body);
                if response.status == StatusCode::OK {
                    // The answer is the dossier as written, built without reading it
                    // back: it must be what a read afterwards serves, history included.
                    let read = server.dossier(&step.actor, &code).await;
                    assert_eq!(
                        response.body, read,
                        "{context}: the action's answer differs from the dossier read after it"
                    );
                }
            }
            if response.status != StatusCode::OK {
                assert_eq!(
                    response.content_type, "application/problem+json",
                    "{context}: problem content type"
                );
                assert_eq!(
                    server.row_counts().await,
                    before,
                    "{context}: a refused action wrote rows"
                );
                let after = server.dossier(&officer, &code).await;
                assert_eq!(
                    after["version"], current["version"],
                    "{context}: a refused action changed the dossier"
                );
            }
        }

        let track = server.track(&code, &secret).await;
        assert_eq!(
            track.status,
            StatusCode::OK,
            "{context}: tracking: {}",
            track.body
        );
        assert!(
            track.body.get("applicant").is_none(),
            "{context}: the citizen view must not carry personal data"
        );
        if let Some(status) = scenario.final_track_status {
            assert_eq!(
                track.body["status"]["code"], status,
                "{context}: final status as the citizen sees it"
            );
        }
        assert_chain_verifies(server, &officer, &code).await;
        let status = server.dossier(&officer, &code).await["status"]["code"]
            .as_i64()
            .expect("status");
        played.push(PlayedDossier {
            file: file.clone(),
            code,
            tracking_secret: secret,
            officer,
            handling_unit: unit,
            status,
        });
    }
    played
}

fn check_filing(context: &str, expect: &Expect, http: u16, response: &Response) {
    let mut body = response.body.clone();
    if http == 201 {
        // Filing answers `step` as a plain id; normalise to the dossier view's shape.
        body["step"] = json!({ "id": response.body["step"] });
    } else {
        assert_eq!(
            response.content_type, "application/problem+json",
            "{context}: problem content type"
        );
    }
    check(
        context,
        &Expect {
            http: Some(http),
            ..expect.clone()
        },
        response.status,
        &body,
    );
}
