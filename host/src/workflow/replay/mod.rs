//! Replay: re-deciding a dossier's recorded history through the build it is pinned to.
//!
//! A plugin is a pure decider: given the dossier as it stood, the command and the unit's
//! settings, it answers the same decision every time. A dossier is pinned to the sha256
//! of its build and to its unit's settings at filing, and its events record every
//! command (actor, time, note, payload) and what came of it. So the whole history can be
//! run again: the dossier is rebuilt as it stood at filing from its row and its first
//! event, each recorded command is handed to the pinned build with the snapshot of that
//! moment, the decision goes through the same host checks and date keeping as the live
//! action (`apply_decision`), and the result is compared with what the event recorded.
//!
//! - Filing (`submit`) is the host's: `check` runs again on the stored submission and
//!   must have no blocking finding and the same findings; the build's `describe` must
//!   still match what was stored when it was published.
//! - Plugin decisions: same next step, status, effects (fees, supplement items, clock
//!   starts, payments, apologies, results), decision note and due date; the documents
//!   the command added are the ones stored.
//! - The host's own steps (closing a dossier whose supplement never came, due dates
//!   recomputed after a calendar load, the citizen's rating) are checked against the
//!   rules that made them.
//! - At the end, the rebuilt dossier must equal the stored row.
//!
//! Replay writes nothing. See docs/decisions/0016-replay.md.

mod report;
mod steps;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDateTime, NaiveTime};
use serde::Serialize;
use serde_json::{Value, json};

pub use report::{
    ChainState, Difference, EventActor, EventKind, Outcome, Replay, ReplayBuild, ReplayedEvent,
};
use steps::Replayer;

use super::deadlines::{self, SYSTEM_ACTOR};
use super::documents::{ATTACH_DOCUMENT_ACTION, ATTACH_RESULT_ACTION};
use super::{Caller, DEFAULT_CUTOFF, Result, Workflow, WorkflowError};
use crate::audit::{EventRecord, verify_chain};
use crate::authz::{self, Permission};
use crate::clock::parse_civil;
use crate::domain::{Actor, Document, Role, Status};
use crate::runtime::{PluginBuild, Runtime, SandboxLimits};
use crate::store::{
    Deadline, DossierRecord, DossierUpdate, Facts, RecordedFacts, Store, StoreError,
};

/// The action of the host's filing event.
pub const FILING_ACTION: &str = "submit";
/// The host's sweep closing a dossier whose supplement never came.
pub const CLOSE_ACTION: &str = "close-incomplete";
/// The host's recomputation of a provisional due date after a calendar load.
pub const RECOMPUTE_ACTION: &str = "recompute-due-date";
/// The citizen's rating of a returned dossier (the host's, not a plugin's).
pub const RATING_ACTION: &str = "rate";

/// What a replay runs with.
pub struct ReplayContext<'a> {
    pub store: &'a Store,
    pub runtime: &'a Runtime,
    /// The dossier's pinned build, loaded.
    pub build: Arc<PluginBuild>,
    /// The fingerprint of the calendar `runtime` holds.
    pub calendar_fingerprint: String,
}

impl Workflow {
    /// Replays a dossier for an auditor: staff of the handling unit, or the province's
    /// admins and leaders for any dossier. Writes nothing.
    pub async fn replay(&self, caller: &Caller, code: &str) -> Result<Replay> {
        let auditor = match caller {
            Caller::Staff(actor) => self.province_auditor(actor).await?,
            Caller::Citizen { .. } => {
                return Err(WorkflowError::Forbidden(
                    "replay is for the handling unit's staff and the province's auditors".into(),
                ));
            }
            Caller::Anonymous => false,
        };
        let record = if auditor {
            self.store
                .dossier(code)
                .await?
                .ok_or_else(|| WorkflowError::DossierNotFound(code.to_string()))?
        } else {
            // Tenancy as for the dossier view: staff of the handling unit only.
            self.dossier_for(caller, code).await?.0
        };
        let build = self.build(&record.build_sha256).await?;
        let context = ReplayContext {
            store: &self.store,
            runtime: &self.runtime,
            build,
            calendar_fingerprint: self.calendar_watch.fingerprint().await,
        };
        replay(&context, &record).await
    }

    /// Whether the province's one authorisation rule lets `actor` audit every unit's
    /// dossiers.
    async fn province_auditor(&self, actor: &Actor) -> Result<bool> {
        let home = self.store.unit(&actor.unit).await?;
        Ok(authz::authorize(actor, home.as_ref(), Permission::AuditDossiers, None).is_ok())
    }
}

/// Replays a dossier straight from the database, as `motcua dossier replay` does: the
/// calendar the database holds, and the pinned build compiled from its stored bytes.
pub async fn replay_from_store(store: &Store, limits: SandboxLimits, code: &str) -> Result<Replay> {
    let record = store
        .dossier(code)
        .await?
        .ok_or_else(|| WorkflowError::DossierNotFound(code.to_string()))?;
    let (calendar, fingerprint) = super::calendar::read_calendar(store).await?;
    let runtime = Arc::new(Runtime::new(limits, Arc::new(calendar))?);
    let bytes = store
        .build_bytes(&record.build_sha256)
        .await?
        .ok_or_else(|| {
            WorkflowError::Store(StoreError::Corrupt(format!(
                "pinned build {} is not stored",
                record.build_sha256
            )))
        })?;
    let loader = runtime.clone();
    let build = tokio::task::spawn_blocking(move || loader.load(&bytes))
        .await
        .map_err(|error| {
            WorkflowError::BadRequest(format!("loading the build failed: {error}"))
        })??;
    if build.sha256 != record.build_sha256 {
        return Err(WorkflowError::Store(StoreError::Corrupt(format!(
            "the bytes stored for build {} hash to {}",
            record.build_sha256, build.sha256
        ))));
    }
    let context = ReplayContext {
        store,
        runtime: &runtime,
        build: Arc::new(build),
        calendar_fingerprint: fingerprint,
    };
    replay(&context, &record).await
}

/// Compares recorded values with replayed ones, field by field.
#[derive(Default)]
struct Comparison {
    checked: Vec<String>,
    differences: Vec<Difference>,
    notes: Vec<String>,
}

impl Comparison {
    fn compare(&mut self, field: &str, recorded: Value, replayed: Value) {
        self.checked.push(field.to_string());
        if recorded != replayed {
            self.differences.push(Difference {
                field: field.to_string(),
                recorded,
                replayed,
            });
        }
    }

    /// A check that failed outright: the recorded outcome against what the replay got.
    fn fail(&mut self, field: &str, recorded: Value, replayed: impl Into<Value>) {
        self.checked.push(field.to_string());
        self.differences.push(Difference {
            field: field.to_string(),
            recorded,
            replayed: replayed.into(),
        });
    }
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The dossier as it stood right after filing, rebuilt from its row.
fn filed_state(
    record: &DossierRecord,
    build: &PluginBuild,
    documents: Vec<Document>,
) -> DossierRecord {
    let mut state = record.clone();
    let initial = build.info.step(&build.info.initial_step);
    state.step = build.info.initial_step.clone();
    state.status = initial.map(|step| step.status).unwrap_or(Status::Submitted);
    state.received_at = None;
    state.clock_started_at = None;
    state.due_date = None;
    state.supplement_count = 0;
    state.extension_count = 0;
    state.fees_requested_vnd = 0;
    state.fees_paid_vnd = 0;
    state.paid_online = false;
    state.result = None;
    state.settled_at = None;
    state.returned_at = None;
    state.version = 1;
    state.updated_at = record.submitted_at.clone();
    state.deadline = Deadline::default();
    state.facts = Facts {
        digitized: super::documents::digitized(&build.info, &documents, None),
        ..Facts::default()
    };
    state.documents = documents;
    state
}

/// Moves the rebuilt dossier on by one event.
fn advance(state: &mut DossierRecord, update: DossierUpdate) {
    state.step = update.step;
    state.status = update.status;
    state.received_at = update.received_at;
    state.clock_started_at = update.clock_started_at;
    state.due_date = update.due_date;
    state.supplement_count = update.supplement_count;
    state.extension_count = update.extension_count;
    state.fees_requested_vnd = update.fees_requested_vnd;
    state.fees_paid_vnd = update.fees_paid_vnd;
    state.paid_online = update.paid_online;
    state.result = update.result;
    state.settled_at = update.settled_at;
    state.returned_at = update.returned_at;
    state.updated_at = update.updated_at;
    state.documents.extend(update.new_documents);
    state.deadline = update.deadline;
    state.facts = update.facts;
    state.version += 1;
}

/// When a command cannot be replayed, the rebuilt dossier takes the recorded step and
/// status so the events after it are still compared against something sensible.
fn adopt_recorded(state: &mut DossierRecord, event: &EventRecord, at: NaiveDateTime) {
    let mut update = deadlines::unchanged(state, at);
    update.step = event.to_step.clone();
    if let Some(status) = Status::from_code(event.to_status) {
        update.status = status;
    }
    advance(state, update);
}

/// The documents a command added, as its recorded request carries them.
/// A component as declared, before any file: what the request and the stored row must
/// agree on.
fn as_declared(mut document: Document) -> Document {
    document.sha256.make_ascii_lowercase();
    document.digitized = false;
    document.content_type = None;
    document
}

fn request_documents(payload: &Value) -> std::result::Result<Vec<Document>, String> {
    match payload
        .get("request")
        .and_then(|request| request.get("documents"))
    {
        None => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value.clone()).map_err(|error| error.to_string()),
    }
}

fn is_decision(index: usize, event: &EventRecord, payload: &Value) -> bool {
    let file_step = matches!(
        event.action.as_str(),
        ATTACH_DOCUMENT_ACTION | ATTACH_RESULT_ACTION
    ) && payload.get("sha256").is_some()
        && payload.get("effects").is_none();
    let host_step = file_step
        || (index == 0 && event.from_step.is_none())
        || (event.actor_role == SYSTEM_ACTOR
            && matches!(event.action.as_str(), CLOSE_ACTION | RECOMPUTE_ACTION))
        || (event.action == RATING_ACTION
            && event.actor_role == Role::Citizen.as_str()
            && payload.get("rating").is_some()
            && payload.get("effects").is_none());
    !host_step
}

/// Replays every event of `record` with the context's build and calendar.
pub async fn replay(context: &ReplayContext<'_>, record: &DossierRecord) -> Result<Replay> {
    let events = context.store.events(&record.code).await?;
    let chain = match verify_chain(&events) {
        Ok(_) => ChainState {
            valid: true,
            error: None,
        },
        Err(error) => ChainState {
            valid: false,
            error: Some(error.to_string()),
        },
    };
    let facts = context.store.recorded_facts(&record.code).await?;
    let build = &context.build;
    let payloads: Vec<Value> = events
        .iter()
        .map(|event| serde_json::from_str(&event.payload_json).unwrap_or(Value::Null))
        .collect();
    // The documents each command added; those filed with the dossier are the rest.
    let added: Vec<Vec<Document>> = events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            if is_decision(index, event, &payloads[index]) {
                request_documents(&payloads[index]).unwrap_or_default()
            } else {
                Vec::new()
            }
        })
        .collect();
    let added_count: usize = added.iter().map(Vec::len).sum();
    let filed_count = record.documents.len().saturating_sub(added_count);
    let mut stored_documents = record.documents.iter().cloned();
    // As they were declared: their files were uploaded by later events.
    let filed_documents: Vec<Document> = stored_documents
        .by_ref()
        .take(filed_count)
        .map(as_declared)
        .collect();

    let (settings, settings_source) = match &record.settings_json {
        Some(settings) => (settings.clone(), "pinned"),
        None => (
            context
                .store
                .bindings()
                .await?
                .into_iter()
                .find(|binding| {
                    binding.unit == record.handling_unit
                        && binding.procedure_code == record.procedure_code
                })
                .map(|binding| binding.settings_json)
                .unwrap_or_else(|| "{}".into()),
            "current",
        ),
    };
    let unit_cutoff = context
        .store
        .unit(&record.handling_unit)
        .await?
        .and_then(|unit| NaiveTime::parse_from_str(&unit.cutoff, "%H:%M").ok())
        .unwrap_or(DEFAULT_CUTOFF);
    let replayer = Replayer {
        context,
        record,
        settings,
        unit_cutoff,
        current_calendar: context.runtime.calendar(),
    };
    let mut calendars = HashMap::new();

    let mut state = filed_state(record, build, filed_documents.clone());
    let mut replayed = Vec::with_capacity(events.len());
    let (mut decisions, mut host_steps) = (0, 0);
    for (index, event) in events.iter().enumerate() {
        let payload = &payloads[index];
        let mut comparison = Comparison::default();
        let Some(at) = parse_civil(&event.at) else {
            comparison.fail("at", json!(event.at), "not a time");
            replayed.push(finish(event, EventKind::HostStep, comparison));
            continue;
        };
        if payload.is_null() {
            comparison.fail("payload", json!(event.payload_json), "not JSON");
        }
        let kind = if index == 0 && event.from_step.is_none() {
            host_steps += 1;
            replayer
                .filing(event, payload, &filed_documents, &mut comparison)
                .await;
            EventKind::Filing
        } else if is_decision(index, event, payload) {
            decisions += 1;
            let stored: Vec<Document> = stored_documents
                .by_ref()
                .take(added[index].len())
                .map(as_declared)
                .collect();
            let requested: Vec<Document> = added[index].iter().cloned().map(as_declared).collect();
            comparison.compare("documents", to_json(&stored), to_json(&requested));
            let calendar = replayer
                .calendar_for(payload, &mut calendars, &mut comparison)
                .await?;
            replayer
                .decision(event, payload, at, &calendar, &mut state, &mut comparison)
                .await;
            EventKind::Decision
        } else {
            host_steps += 1;
            let calendar = if event.action == CLOSE_ACTION {
                replayer
                    .calendar_for(payload, &mut calendars, &mut comparison)
                    .await?
            } else {
                replayer.current_calendar.clone()
            };
            replayer.host_step(event, payload, at, &calendar, &mut state, &mut comparison);
            EventKind::HostStep
        };
        // The reportable facts as the event left them, for events that record what the
        // host decided with (rows back-filled by migration 0003 for older events are
        // empty): the latest row at or before the event, since an event that changes no
        // fact writes none (decision 0031). A row missing where a fact changed shows
        // as the previous row's facts differing from the rebuilt ones.
        if payload.get("host").is_some() {
            match facts
                .iter()
                .take_while(|facts| facts.seq <= event.seq)
                .last()
            {
                Some(recorded) => compare_facts(recorded, &state, &mut comparison),
                None => comparison.fail("facts", json!(null), "a dossier_changes row"),
            }
        }
        replayed.push(finish(event, kind, comparison));
    }
    if events.is_empty() {
        replayed.push(ReplayedEvent {
            seq: 0,
            at: String::new(),
            action: FILING_ACTION.into(),
            actor: EventActor {
                id: String::new(),
                role: String::new(),
                unit: String::new(),
            },
            kind: EventKind::Filing,
            outcome: Outcome::Mismatch,
            checked: vec!["events".into()],
            differences: vec![Difference {
                field: "events".into(),
                recorded: json!([]),
                replayed: json!("a filing event"),
            }],
            notes: Vec::new(),
        });
    }
    let final_state = final_differences(record, &state);
    let mismatches = replayed
        .iter()
        .filter(|event| event.outcome == Outcome::Mismatch)
        .count()
        + usize::from(!final_state.is_empty());
    Ok(Replay {
        code: record.code.clone(),
        procedure_code: record.procedure_code.clone(),
        build: ReplayBuild {
            sha256: build.sha256.clone(),
            plugin: build.info.code.clone(),
            version: build.info.plugin_version.clone(),
        },
        settings: settings_source,
        calendar: context.calendar_fingerprint.clone(),
        chain,
        events: replayed,
        final_state,
        verdict: if mismatches == 0 {
            Outcome::Match
        } else {
            Outcome::Mismatch
        },
        decisions,
        host_steps,
        mismatches,
    })
}

fn finish(event: &EventRecord, kind: EventKind, comparison: Comparison) -> ReplayedEvent {
    ReplayedEvent {
        seq: event.seq,
        at: event.at.clone(),
        action: event.action.clone(),
        actor: EventActor {
            id: event.actor_id.clone(),
            role: event.actor_role.clone(),
            unit: event.actor_unit.clone(),
        },
        kind,
        outcome: if comparison.differences.is_empty() {
            Outcome::Match
        } else {
            Outcome::Mismatch
        },
        checked: comparison.checked,
        differences: comparison.differences,
        notes: comparison.notes,
    }
}

/// The reportable facts an event recorded against the rebuilt dossier's.
fn compare_facts(recorded: &RecordedFacts, state: &DossierRecord, comparison: &mut Comparison) {
    let pairs: [(&str, Value, Value); 11] = [
        (
            "facts.status",
            json!(recorded.status),
            json!(state.status.code()),
        ),
        (
            "facts.statutory_due_date",
            json!(recorded.statutory_due_date),
            json!(state.deadline.statutory_due_date),
        ),
        (
            "facts.due_date",
            json!(recorded.due_date),
            json!(state.due_date),
        ),
        (
            "facts.supplement_count",
            json!(recorded.supplement_count),
            json!(state.supplement_count),
        ),
        (
            "facts.settled_at",
            json!(recorded.settled_at),
            json!(state.settled_at),
        ),
        (
            "facts.closed_at",
            json!(recorded.closed_at),
            json!(state.facts.closed_at),
        ),
        (
            "facts.processing_seconds",
            json!(recorded.processing_seconds),
            json!(state.facts.processing_seconds),
        ),
        (
            "facts.fees_requested_vnd",
            json!(recorded.fees_requested_vnd),
            json!(state.fees_requested_vnd),
        ),
        (
            "facts.paid_online",
            json!(recorded.paid_online),
            json!(state.paid_online),
        ),
        (
            "facts.digitized",
            json!(recorded.digitized),
            json!(state.facts.digitized),
        ),
        (
            "facts.rating",
            json!(recorded.rating),
            json!(state.facts.rating),
        ),
    ];
    for (field, recorded, replayed) in pairs {
        comparison.compare(field, recorded, replayed);
    }
}

/// The stored dossier against the rebuilt one.
fn final_differences(stored: &DossierRecord, replayed: &DossierRecord) -> Vec<Difference> {
    let fields: [(&str, Value, Value); 20] = [
        ("step", json!(stored.step), json!(replayed.step)),
        (
            "status",
            json!(stored.status.code()),
            json!(replayed.status.code()),
        ),
        ("version", json!(stored.version), json!(replayed.version)),
        (
            "received_at",
            json!(stored.received_at),
            json!(replayed.received_at),
        ),
        ("due_date", json!(stored.due_date), json!(replayed.due_date)),
        (
            "statutory_due_date",
            json!(stored.deadline.statutory_due_date),
            json!(replayed.deadline.statutory_due_date),
        ),
        (
            "supplement_count",
            json!(stored.supplement_count),
            json!(replayed.supplement_count),
        ),
        (
            "extension_count",
            json!(stored.extension_count),
            json!(replayed.extension_count),
        ),
        (
            "fees_requested_vnd",
            json!(stored.fees_requested_vnd),
            json!(replayed.fees_requested_vnd),
        ),
        (
            "fees_paid_vnd",
            json!(stored.fees_paid_vnd),
            json!(replayed.fees_paid_vnd),
        ),
        (
            "paid_online",
            json!(stored.paid_online),
            json!(replayed.paid_online),
        ),
        ("result", to_json(&stored.result), to_json(&replayed.result)),
        (
            "settled_at",
            json!(stored.settled_at),
            json!(replayed.settled_at),
        ),
        (
            "returned_at",
            json!(stored.returned_at),
            json!(replayed.returned_at),
        ),
        (
            "waiting_since",
            json!(stored.deadline.waiting_since),
            json!(replayed.deadline.waiting_since),
        ),
        (
            "waited_seconds",
            json!(stored.deadline.waited_seconds),
            json!(replayed.deadline.waited_seconds),
        ),
        (
            "closed_at",
            json!(stored.facts.closed_at),
            json!(replayed.facts.closed_at),
        ),
        (
            "processing_seconds",
            json!(stored.facts.processing_seconds),
            json!(replayed.facts.processing_seconds),
        ),
        (
            "rating",
            json!(stored.facts.rating),
            json!(replayed.facts.rating),
        ),
        // Every component with its file state (digitized, content type).
        (
            "documents",
            json!(stored.documents),
            json!(replayed.documents),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, stored, replayed)| stored != replayed)
        .map(|(field, recorded, replayed)| Difference {
            field: field.into(),
            recorded,
            replayed,
        })
        .collect()
}
