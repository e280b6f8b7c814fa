//! Replaying one event: the filing, a plugin decision, or one of the host's own steps.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDateTime, NaiveTime};
use serde_json::{Value, json};

use super::{
    CLOSE_ACTION, Comparison, FILING_ACTION, RATING_ACTION, RECOMPUTE_ACTION, ReplayContext,
    adopt_recorded, advance, request_documents, to_json,
};
use crate::audit::EventRecord;
use crate::calendar::Calendar;
use crate::clock::parse_civil;
use crate::domain::{Actor, Command, Document, Role, Severity, Status, StoredFile, Submission};
use crate::store::DossierRecord;
use crate::workflow::deadlines::{self, CLOSED_INCOMPLETE_STEP, clock_runs};
use crate::workflow::documents::{ATTACH_DOCUMENT_ACTION, ATTACH_RESULT_ACTION, digitized};
use crate::workflow::{
    DEFAULT_CUTOFF, Result, apply_decision, authorize_action, parse_date, snapshot,
};

pub(super) struct Replayer<'a> {
    pub(super) context: &'a ReplayContext<'a>,
    pub(super) record: &'a DossierRecord,
    pub(super) settings: String,
    pub(super) unit_cutoff: NaiveTime,
    pub(super) current_calendar: Arc<Calendar>,
}

impl Replayer<'_> {
    /// The holiday calendar an event was decided under: the one in force now when the
    /// event recorded the same fingerprint (or none), else the stored tables of the
    /// years it recorded.
    pub(super) async fn calendar_for(
        &self,
        payload: &Value,
        cache: &mut HashMap<String, (Arc<Calendar>, Vec<i32>)>,
        comparison: &mut Comparison,
    ) -> Result<Arc<Calendar>> {
        let Some(recorded) = payload["host"]["calendar"].as_str() else {
            comparison.notes.push(
                "the event does not record its holiday calendar; the one in force now is used"
                    .into(),
            );
            return Ok(self.current_calendar.clone());
        };
        if recorded == self.context.calendar_fingerprint {
            return Ok(self.current_calendar.clone());
        }
        if !cache.contains_key(recorded) {
            let (calendar, replaced) =
                crate::workflow::calendar::calendar_as_recorded(self.context.store, recorded)
                    .await?;
            cache.insert(recorded.to_string(), (Arc::new(calendar), replaced));
        }
        let (calendar, replaced) = &cache[recorded];
        comparison.notes.push(
            "the holiday calendar changed since this event: the host's dates use the tables it recorded; the plugin's calendar calls see the one in force now"
                .into(),
        );
        if !replaced.is_empty() {
            comparison.notes.push(format!(
                "the table of {replaced:?} was replaced since; only the current one is stored, so it is used"
            ));
        }
        Ok(calendar.clone())
    }

    /// The cut-off the host recorded with an event.
    fn cutoff(&self, payload: &Value, comparison: &mut Comparison) -> NaiveTime {
        match payload["host"]["cutoff"]
            .as_str()
            .and_then(|text| NaiveTime::parse_from_str(text, "%H:%M").ok())
        {
            Some(cutoff) => cutoff,
            None => {
                comparison.notes.push(format!(
                    "the event does not record the cut-off it used; the unit's current {} is assumed",
                    self.unit_cutoff.format("%H:%M")
                ));
                self.unit_cutoff
            }
        }
    }

    pub(super) async fn filing(
        &self,
        event: &EventRecord,
        payload: &Value,
        documents: &[Document],
        comparison: &mut Comparison,
    ) {
        let record = self.record;
        let build = &self.context.build;
        comparison.compare("action", json!(event.action), json!(FILING_ACTION));
        comparison.compare("at", json!(event.at), json!(record.submitted_at));
        comparison.compare(
            "build",
            payload["build"].clone(),
            json!(record.build_sha256),
        );
        comparison.compare("channel", payload["channel"].clone(), json!(record.channel));
        let initial = build.info.step(&build.info.initial_step);
        comparison.compare(
            "to_step",
            json!(event.to_step),
            json!(build.info.initial_step),
        );
        comparison.compare(
            "to_status",
            json!(event.to_status),
            json!(initial.map(|step| step.status.code())),
        );
        // Who may file: the citizen online, an officer of the receiving unit otherwise.
        let filer = if event.actor_role == Role::Citizen.as_str() {
            format!("citizen:{}", record.applicant.citizen_id)
        } else {
            event.actor_id.clone()
        };
        comparison.compare("actor", json!(event.actor_id), json!(filer));
        if event.actor_role != Role::Citizen.as_str() {
            comparison.compare(
                "actor_unit",
                json!(event.actor_unit),
                json!(record.receiving_unit),
            );
        }
        match self.context.store.pinned_build_info(&build.sha256).await {
            Ok(Some(stored)) => comparison.compare(
                "describe",
                serde_json::from_str(&stored).unwrap_or(Value::Null),
                to_json(&build.info),
            ),
            Ok(None) => comparison.fail("describe", json!(null), "the build is not stored"),
            Err(error) => comparison.fail("describe", json!(null), error.to_string()),
        }
        let Some(at) = parse_civil(&event.at) else {
            return;
        };
        let submission = Submission {
            procedure_code: record.procedure_code.clone(),
            receiving_unit: record.receiving_unit.clone(),
            handling_unit: record.handling_unit.clone(),
            channel: record.channel,
            applicant: record.applicant.clone(),
            form: record.form.clone(),
            documents: documents.to_vec(),
            at,
        };
        match self
            .context
            .runtime
            .check(build, self.settings.clone(), &submission)
            .await
        {
            Ok(findings) => {
                let blocking: Vec<_> = findings
                    .iter()
                    .filter(|finding| finding.severity == Severity::Blocking)
                    .collect();
                comparison.compare("blocking_findings", json!([]), to_json(&blocking));
                comparison.compare("findings", payload["findings"].clone(), to_json(&findings));
            }
            Err(error) => comparison.fail("check", json!("answered"), error.to_string()),
        }
    }

    pub(super) async fn decision(
        &self,
        event: &EventRecord,
        payload: &Value,
        at: NaiveDateTime,
        calendar: &Calendar,
        state: &mut DossierRecord,
        comparison: &mut Comparison,
    ) {
        let build = &self.context.build;
        let cutoff = self.cutoff(payload, comparison);
        comparison.compare("from_step", json!(event.from_step), json!(state.step));
        comparison.compare(
            "from_status",
            json!(event.from_status),
            json!(state.status.code()),
        );
        let Some(role) = Role::parse(&event.actor_role) else {
            comparison.fail("actor_role", json!(event.actor_role), "not a role");
            return adopt_recorded(state, event, at);
        };
        // Tenancy: staff of the handling unit, or the citizen whose dossier it is.
        let expected_actor = match role {
            Role::Citizen => json!({
                "id": format!("citizen:{}", self.record.applicant.citizen_id),
                "unit": self.record.handling_unit,
            }),
            _ => json!({ "id": event.actor_id, "unit": self.record.handling_unit }),
        };
        comparison.compare(
            "actor",
            json!({ "id": event.actor_id, "unit": event.actor_unit }),
            expected_actor,
        );
        if let Err(error) = authorize_action(build, &state.step, &event.action, role) {
            comparison.fail("action", json!(event.action), error.to_string());
            return adopt_recorded(state, event, at);
        }
        let new_documents = match request_documents(payload) {
            Ok(mut documents) => {
                crate::workflow::documents::as_declared(&state.documents, &mut documents);
                documents
            }
            Err(error) => {
                comparison.fail(
                    "request.documents",
                    payload["request"]["documents"].clone(),
                    error,
                );
                return adopt_recorded(state, event, at);
            }
        };
        let request = match payload.get("request") {
            Some(request) if request.is_object() => request.clone(),
            _ => {
                comparison.fail(
                    "request",
                    payload["request"].clone(),
                    "no recorded command payload",
                );
                return adopt_recorded(state, event, at);
            }
        };
        let mut dossier = match snapshot(state) {
            Ok(dossier) => dossier,
            Err(error) => {
                comparison.fail("snapshot", json!(null), error.to_string());
                return adopt_recorded(state, event, at);
            }
        };
        dossier.documents.extend(new_documents.iter().cloned());
        let command = Command {
            action: event.action.clone(),
            actor: Actor {
                id: event.actor_id.clone(),
                role,
                unit: event.actor_unit.clone(),
            },
            at,
            note: event.note.clone(),
            payload: request,
        };
        let decision = match self
            .context
            .runtime
            .decide(build, self.settings.clone(), &dossier, &command)
            .await
        {
            Ok(Ok(decision)) => decision,
            Ok(Err(refusal)) => {
                comparison.fail(
                    "decision",
                    json!("accepted"),
                    json!({ "refused": refusal.code, "message": refusal.message }),
                );
                return adopt_recorded(state, event, at);
            }
            Err(error) => {
                comparison.fail(
                    "decision",
                    json!("accepted"),
                    format!("plugin failed: {error}"),
                );
                return adopt_recorded(state, event, at);
            }
        };
        comparison.compare("to_step", json!(event.to_step), json!(decision.next_step));
        comparison.compare(
            "to_status",
            json!(event.to_status),
            json!(decision.status.code()),
        );
        comparison.compare(
            "effects",
            payload["effects"].clone(),
            to_json(&decision.effects),
        );
        comparison.compare(
            "decision_note",
            payload["decision_note"].clone(),
            json!(decision.note),
        );
        match apply_decision(calendar, state, build, &decision, cutoff, at, new_documents) {
            Ok(update) => {
                comparison.compare(
                    "due_date",
                    payload["due_date"].clone(),
                    json!(update.due_date),
                );
                advance(state, update);
            }
            Err(error) => {
                comparison.fail("host_checks", json!("passed"), error.to_string());
                adopt_recorded(state, event, at);
            }
        }
    }

    pub(super) fn host_step(
        &self,
        event: &EventRecord,
        payload: &Value,
        at: NaiveDateTime,
        calendar: &Calendar,
        state: &mut DossierRecord,
        comparison: &mut Comparison,
    ) {
        comparison.compare("from_step", json!(event.from_step), json!(state.step));
        comparison.compare(
            "from_status",
            json!(event.from_status),
            json!(state.status.code()),
        );
        let mut update = deadlines::unchanged(state, at);
        match event.action.as_str() {
            CLOSE_ACTION => {
                comparison.compare(
                    "status_before",
                    json!(Status::SupplementRequested.code()),
                    json!(state.status.code()),
                );
                let since = state
                    .deadline
                    .waiting_since
                    .as_deref()
                    .and_then(parse_civil);
                let last_day =
                    since.map(|since| deadlines::supplement_deadline(calendar, since.date()));
                comparison.compare(
                    "last_day",
                    payload["last_day"].clone(),
                    json!(last_day.map(|day| day.format("%Y-%m-%d").to_string())),
                );
                comparison.compare(
                    "expired",
                    json!(true),
                    json!(last_day.is_some_and(|day| day < at.date())),
                );
                update.step = CLOSED_INCOMPLETE_STEP.into();
                update.status = Status::Stopped;
                deadlines::follow_status(calendar, state, &mut update, false, at, DEFAULT_CUTOFF);
            }
            RECOMPUTE_ACTION => {
                comparison.compare("clock_runs", json!(true), json!(clock_runs(state.status)));
                comparison.compare(
                    "before.due_date",
                    payload["before"]["due_date"].clone(),
                    json!(state.due_date),
                );
                let base = state
                    .deadline
                    .clock_base_day
                    .as_deref()
                    .and_then(parse_date);
                if let (Some(base), Some(days)) = (base, state.deadline.clock_days) {
                    let due = calendar.add_working_days(base, u32::try_from(days).unwrap_or(0));
                    let provisional = !calendar.covers_span(base, due);
                    let promised = state.due_date.as_deref().and_then(parse_date);
                    let due_date = match promised {
                        Some(promised) if state.extension_count > 0 && promised > due => promised,
                        _ => due,
                    };
                    update.deadline.statutory_due_date = Some(due.format("%Y-%m-%d").to_string());
                    update.deadline.provisional = provisional;
                    update.due_date = Some(due_date.format("%Y-%m-%d").to_string());
                    comparison.compare(
                        "after.due_date",
                        payload["after"]["due_date"].clone(),
                        json!(update.due_date),
                    );
                    comparison.compare(
                        "after.provisional",
                        payload["after"]["provisional"].clone(),
                        json!(provisional),
                    );
                    comparison
                        .notes
                        .push("recomputed with the holiday calendar in force now".into());
                } else {
                    comparison.fail("clock", json!("running"), "the clock never started");
                }
            }
            RATING_ACTION => {
                comparison.compare(
                    "status_before",
                    json!(Status::Returned.code()),
                    json!(state.status.code()),
                );
                comparison.compare("rated_before", json!(null), json!(state.facts.rating));
                let rating = payload["rating"].as_str().unwrap_or_default();
                comparison.compare(
                    "rating",
                    payload["rating"].clone(),
                    json!(
                        crate::workflow::rating::RATINGS
                            .contains(&rating)
                            .then_some(rating)
                    ),
                );
                comparison.compare(
                    "actor",
                    json!(event.actor_id),
                    json!(format!("citizen:{}", self.record.applicant.citizen_id)),
                );
                update.facts.rating = Some(rating.to_string());
            }
            ATTACH_DOCUMENT_ACTION => {
                let sha256 = payload["sha256"].as_str().unwrap_or_default().to_string();
                let declared = state.documents.iter().any(|d| d.sha256 == sha256);
                let held = state
                    .documents
                    .iter()
                    .any(|d| d.sha256 == sha256 && d.digitized);
                comparison.compare("declared", json!(true), json!(declared));
                comparison.compare("stored_before", json!(false), json!(held));
                let content_type = payload["content_type"].as_str().map(str::to_string);
                for document in state.documents.iter_mut().filter(|d| d.sha256 == sha256) {
                    document.digitized = true;
                    document.content_type = content_type.clone();
                }
                update.facts.digitized = digitized(
                    &self.context.build.info,
                    &state.documents,
                    update.result.as_ref(),
                );
            }
            ATTACH_RESULT_ACTION => {
                comparison.compare(
                    "result_before",
                    json!("issued, without a file"),
                    json!(match &state.result {
                        Some(result) if result.file.is_none() => "issued, without a file",
                        Some(_) => "issued, with a file",
                        None => "not issued",
                    }),
                );
                if let Some(result) = update.result.as_mut() {
                    result.digitized = true;
                    result.file = Some(StoredFile {
                        sha256: payload["sha256"].as_str().unwrap_or_default().into(),
                        size: payload["size"].as_u64().unwrap_or_default(),
                        content_type: payload["content_type"].as_str().unwrap_or_default().into(),
                        stored_at: event.at.clone(),
                    });
                }
                update.facts.digitized = digitized(
                    &self.context.build.info,
                    &state.documents,
                    update.result.as_ref(),
                );
            }
            other => {
                comparison.fail("action", json!(other), "no host step of that name");
                return adopt_recorded(state, event, at);
            }
        }
        comparison.compare("to_step", json!(event.to_step), json!(update.step));
        comparison.compare(
            "to_status",
            json!(event.to_status),
            json!(update.status.code()),
        );
        advance(state, update);
    }
}
