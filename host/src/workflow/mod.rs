//! The workflow engine: files dossiers and applies actions.
//!
//! For every action: load the dossier, authorise the actor against the handling unit
//! and the step the plugin declared, let the dossier's *pinned* plugin build decide,
//! check the decision against the declared steps, compute dates with the calendar,
//! and hand one update plus one audit event to the store.

pub mod calendar;
pub mod deadlines;
mod decision;
pub mod documents;
pub mod rating;
pub mod replay;

use std::sync::Arc;

use chrono::{NaiveDateTime, NaiveTime};
use rand::RngCore;

use crate::audit::EventRecord;
use crate::clock::{Clock, format_civil};
use crate::domain::{
    Actor, Applicant, Channel, Command, Document, Effect, Finding, MissingItem, Refusal, Role,
    Severity, Status, Submission,
};
use crate::registry::{Registry, RegistryError};
use crate::runtime::{PluginBuild, Runtime, RuntimeError, sha256_hex};
use crate::store::{DossierRecord, NewDossier, NewEvent, Store, StoreError, Unit};

pub(crate) use decision::parse_date;
pub use decision::{DEFAULT_CUTOFF, apply_decision, authorize_action, snapshot};

/// Errors of the workflow layer, grouped by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unit `{0}` does not exist")]
    UnknownUnit(String),
    #[error("procedure `{procedure}` is not offered by unit `{unit}`")]
    UnknownProcedure { procedure: String, unit: String },
    #[error("the dossier has {} blocking finding(s)", .0.iter().filter(|f| f.severity == Severity::Blocking).count())]
    Findings(Vec<Finding>),
    #[error("dossier `{0}` not found")]
    DossierNotFound(String),
    #[error("a valid officer token or the dossier's tracking secret is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "send If-Match with the dossier's current version (from GET /api/v1/dossiers/{{code}})"
    )]
    VersionRequired,
    #[error("the dossier is at version {current}, not {expected}; reload it and try again")]
    StaleVersion { expected: i64, current: i64 },
    #[error("action `{action}` is not available in step `{step}`")]
    ActionNotAvailable { action: String, step: String },
    #[error("the plugin refused: {}", .0.message)]
    Refused(Refusal),
    #[error("the plugin's decision was rejected by the host: {0}")]
    DecisionRejected(String),
    #[error(transparent)]
    Plugin(#[from] RuntimeError),
    /// The build a dossier is pinned to (or a unit is bound to) is not loaded here.
    #[error("{0}")]
    BuildUnavailable(crate::registry::Unavailable),
    /// A file request refused for a reason of the dossier's (docs/decisions/0018).
    #[error("{message}")]
    File {
        refusal: documents::FileRefusal,
        message: String,
    },
    /// The content store refused or failed (type, size, digest, missing, corrupt).
    #[error(transparent)]
    Content(crate::documents::ContentError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for WorkflowError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::VersionConflict { expected } => WorkflowError::StaleVersion {
                expected,
                current: expected + 1,
            },
            other => WorkflowError::Store(other),
        }
    }
}

impl From<RegistryError> for WorkflowError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Plugin(error) => WorkflowError::Plugin(error),
            RegistryError::Store(error) => WorkflowError::Store(error),
            RegistryError::Unavailable(unavailable) => WorkflowError::BuildUnavailable(unavailable),
            RegistryError::Forbidden(message) => WorkflowError::Forbidden(message),
            other => WorkflowError::BadRequest(other.to_string()),
        }
    }
}

type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// Who is calling.
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    /// An officer, specialist, leader, admin or publisher, by token.
    Staff(Actor),
    /// A citizen holding a dossier's tracking secret.
    Citizen {
        secret: String,
    },
}

pub struct FileRequest {
    pub procedure_code: String,
    pub receiving_unit: String,
    pub handling_unit: Option<String>,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub documents: Vec<Document>,
}

pub struct Filed {
    pub code: String,
    pub status: Status,
    pub step: String,
    pub tracking_secret: String,
    pub findings: Vec<Finding>,
}

pub struct ActionRequest {
    pub code: String,
    pub action: String,
    pub note: String,
    pub payload: serde_json::Value,
    pub if_match: Option<i64>,
}

/// Sanity limits on what a request may carry, before any plugin sees it.
const MAX_TEXT: usize = 4096;
/// No statutory processing time comes near ten years of working days.
const MAX_WORKING_DAYS: u32 = 2_600;
/// One trillion đồng: far above any fee, far below integer overflow.
const MAX_VND: i64 = 1_000_000_000_000;

pub struct Workflow {
    pub store: Store,
    pub runtime: Arc<Runtime>,
    pub registry: Arc<Registry>,
    pub clock: Clock,
    /// What this host last put in force of the database's holiday calendar.
    pub calendar_watch: calendar::CalendarWatch,
    /// The files of dossiers (docs/decisions/0018-documents.md).
    pub documents: crate::documents::ContentStore,
    pub document_limits: crate::documents::DocumentLimits,
    /// What this host tells Prometheus (`crate::metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Workflow {
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// Counts a plugin call of a serving host, with its outcome and duration.
    fn count_call<T>(
        &self,
        build: &PluginBuild,
        call: &str,
        started: std::time::Instant,
        answer: &std::result::Result<T, RuntimeError>,
        refused: impl FnOnce(&T) -> bool,
    ) {
        let outcome = match answer {
            Ok(value) if refused(value) => "refused",
            Ok(_) => "ok",
            Err(error) => crate::metrics::outcome_of(error),
        };
        let label = format!(
            "{} {}",
            build.info.plugin_version,
            &build.sha256[..12.min(build.sha256.len())]
        );
        self.metrics
            .plugin_call(&build.info.code, &label, call, outcome, started.elapsed());
    }

    async fn unit(&self, code: &str) -> Result<Unit> {
        self.store
            .unit(code)
            .await?
            .ok_or_else(|| WorkflowError::UnknownUnit(code.to_string()))
    }

    /// A build in force; a problem naming it (never a bare 500) when this host has
    /// not loaded it.
    async fn build(&self, sha: &str) -> Result<Arc<PluginBuild>> {
        Ok(self.registry.pinned(sha).await?)
    }

    /// Files a dossier: checks it with the procedure's plugin and stores it.
    pub async fn file(&self, caller: &Caller, mut request: FileRequest) -> Result<Filed> {
        check_text("receiving_unit", &request.receiving_unit, false)?;
        check_text(
            "handling_unit",
            request.handling_unit.as_deref().unwrap_or(""),
            false,
        )?;
        check_text("procedure", &request.procedure_code, false)?;
        let receiving = self.unit(&request.receiving_unit).await?;
        let handling_code = request
            .handling_unit
            .clone()
            .unwrap_or_else(|| receiving.code.clone());
        let handling = self.unit(&handling_code).await?;
        // Filing regardless of administrative boundaries works inside one province:
        // both units must hang under the same parent.
        if handling.code != receiving.code
            && (handling.parent.is_none() || handling.parent != receiving.parent)
        {
            return Err(WorkflowError::BadRequest(format!(
                "`{}` cannot handle a dossier received at `{}`: they are not units of the same province",
                handling.code, receiving.code
            )));
        }
        let actor = match (caller, request.channel) {
            (Caller::Anonymous, Channel::Online) => Actor {
                id: format!("citizen:{}", request.applicant.citizen_id),
                role: Role::Citizen,
                unit: receiving.code.clone(),
            },
            (Caller::Citizen { .. }, Channel::Online) => {
                return Err(WorkflowError::BadRequest(
                    "file a new dossier without a tracking secret".into(),
                ));
            }
            (Caller::Anonymous | Caller::Citizen { .. }, _) => {
                return Err(WorkflowError::Forbidden(
                    "only online filing works without a token; counter and postal filing need an officer's token".into(),
                ));
            }
            (Caller::Staff(actor), _) => {
                if actor.role != Role::Officer || actor.unit != receiving.code {
                    return Err(WorkflowError::Forbidden(format!(
                        "only an officer of `{}` may file at its counter",
                        receiving.code
                    )));
                }
                actor.clone()
            }
        };
        validate_applicant(&request.applicant)?;
        documents::declare(&self.document_limits, &[], None, &mut request.documents)?;
        if !request.form.is_object() {
            return Err(WorkflowError::BadRequest(
                "`form` must be a JSON object".into(),
            ));
        }
        let binding = self
            .registry
            .binding(&handling_code, &request.procedure_code)
            .ok_or_else(|| WorkflowError::UnknownProcedure {
                procedure: request.procedure_code.clone(),
                unit: handling_code.clone(),
            })?;
        let build = self.build(&binding.build_sha256).await?;
        let now = self.now();
        let submission = Submission {
            procedure_code: request.procedure_code.clone(),
            receiving_unit: receiving.code.clone(),
            handling_unit: handling_code.clone(),
            channel: request.channel,
            applicant: request.applicant.clone(),
            form: request.form.clone(),
            documents: request.documents.clone(),
            at: now,
        };
        note_in_span(&receiving.code, None, &build);
        // The host checks the form against the build's form schema, one finding per
        // field that does not fit (docs/decisions/0026).
        let schema_findings = build.form_check.form_findings(&request.form);
        let started = std::time::Instant::now();
        let checked = self
            .runtime
            .check(&build, binding.settings_json.clone(), &submission)
            .await;
        self.count_call(&build, "check", started, &checked, |findings| {
            findings
                .iter()
                .any(|finding| finding.severity == Severity::Blocking)
        });
        let findings = crate::schema::with_plugin_findings(schema_findings, checked?);
        if findings
            .iter()
            .any(|finding| finding.severity == Severity::Blocking)
        {
            return Err(WorkflowError::Findings(findings));
        }
        let step = build
            .info
            .step(&build.info.initial_step)
            .expect("validated at load");
        let secret = random_secret();
        let at = format_civil(now);
        let dossier = NewDossier {
            procedure_code: request.procedure_code.clone(),
            build_sha256: build.sha256.clone(),
            receiving_unit: receiving.code.clone(),
            handling_unit: handling_code,
            channel: request.channel,
            applicant: request.applicant,
            form: request.form,
            step: step.id.clone(),
            status: step.status,
            submitted_at: at.clone(),
            tracking_secret_hash: sha256_hex(secret.as_bytes()),
            digitized: documents::digitized(&build.info, &request.documents, None),
            documents: request.documents,
            settings_json: binding.settings_json.clone(),
        };
        let event = NewEvent {
            at,
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            actor_unit: actor.unit.clone(),
            action: "submit".into(),
            from_step: None,
            to_step: step.id.clone(),
            from_status: None,
            to_status: step.status.code(),
            note: String::new(),
            payload_json: serde_json::json!({
                "channel": request.channel,
                "build": build.sha256,
                "findings": findings,
                // What the host decided with, for the replay (docs/decisions/0016).
                "host": { "calendar": self.calendar_watch.fingerprint().await },
            })
            .to_string(),
        };
        let code = self
            .store
            .create_dossier(&receiving.agency_id, now.date(), &dossier, &event)
            .await?;
        tracing::Span::current().record("dossier", code.as_str());
        Ok(Filed {
            code,
            status: step.status,
            step: step.id.clone(),
            tracking_secret: secret,
            findings,
        })
    }

    /// Loads a dossier the caller may see, with its events as stored.
    pub async fn dossier_for(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<(DossierRecord, Arc<PluginBuild>, Actor)> {
        self.dossier_read_for(caller, code, false).await
    }

    /// `dossier_for`, with `recent`: the events from this host's copy where it is the
    /// dossier's whole history (an action, which answers with them).
    async fn dossier_read_for(
        &self,
        caller: &Caller,
        code: &str,
        recent: bool,
    ) -> Result<(DossierRecord, Arc<PluginBuild>, Actor)> {
        if matches!(caller, Caller::Anonymous) {
            // Before the lookup, so that strangers cannot probe which codes exist.
            return Err(WorkflowError::Unauthenticated);
        }
        // With its events, in the same statement: most callers show the history, or act
        // and answer with it; for the others (a download) it is one subquery more.
        let read = if recent {
            self.store.dossier_with_recent_history(code).await
        } else {
            self.store.dossier_with_history(code).await
        };
        let record = read?.ok_or_else(|| WorkflowError::DossierNotFound(code.to_string()))?;
        let actor = match caller {
            Caller::Anonymous => return Err(WorkflowError::Unauthenticated),
            Caller::Staff(actor) => {
                // Tenancy: whatever a plugin says, staff see only their own unit's dossiers.
                if actor.unit != record.handling_unit {
                    return Err(WorkflowError::Forbidden(format!(
                        "dossier {code} is handled by `{}`; your token belongs to `{}`",
                        record.handling_unit, actor.unit
                    )));
                }
                actor.clone()
            }
            Caller::Citizen { secret } => {
                if sha256_hex(secret.as_bytes()) != record.tracking_secret_hash {
                    // The same answer as an unknown code: a secret cannot confirm a code exists.
                    return Err(WorkflowError::DossierNotFound(code.to_string()));
                }
                Actor {
                    id: format!("citizen:{}", record.applicant.citizen_id),
                    role: Role::Citizen,
                    unit: record.handling_unit.clone(),
                }
            }
        };
        let build = self.build(&record.build_sha256).await?;
        note_in_span(&record.handling_unit, Some(&record.code), &build);
        Ok((record, build, actor))
    }

    /// Applies an action; returns the dossier as now stored, its build and the actor.
    pub async fn act(
        &self,
        caller: &Caller,
        request: ActionRequest,
    ) -> Result<(DossierRecord, Arc<PluginBuild>, Actor)> {
        let (record, build, actor) = self.dossier_read_for(caller, &request.code, true).await?;
        let expected = request.if_match.ok_or(WorkflowError::VersionRequired)?;
        if expected != record.version {
            return Err(WorkflowError::StaleVersion {
                expected,
                current: record.version,
            });
        }
        if request.note.len() > MAX_TEXT {
            return Err(WorkflowError::BadRequest(format!(
                "`note` is over {MAX_TEXT} bytes"
            )));
        }
        check_text("note", &request.note, true)?;
        check_text("action", &request.action, false)?;
        authorize_action(&build, &record.step, &request.action, actor.role)?;
        if !request.payload.is_object() {
            return Err(WorkflowError::BadRequest(
                "`payload` must be a JSON object".into(),
            ));
        }
        let mut new_documents: Vec<Document> = match request.payload.get("documents") {
            None => Vec::new(),
            Some(value) => serde_json::from_value(value.clone()).map_err(|error| {
                WorkflowError::BadRequest(format!("payload.documents: {error}"))
            })?,
        };
        documents::declare(
            &self.document_limits,
            &record.documents,
            record.result.as_ref(),
            &mut new_documents,
        )?;

        let now = self.now();
        let mut snapshot = snapshot(&record)?;
        snapshot.documents.extend(new_documents.iter().cloned());
        let command = Command {
            action: request.action.clone(),
            actor: actor.clone(),
            at: now,
            note: request.note.clone(),
            payload: request.payload.clone(),
        };
        // The settings pinned when the dossier was filed; dossiers filed before settings
        // were pinned follow the unit's current ones.
        let settings = record.settings_json.clone().unwrap_or_else(|| {
            self.registry
                .settings(&record.handling_unit, &record.procedure_code)
        });
        let started = std::time::Instant::now();
        let decided = self
            .runtime
            .decide(&build, settings, &snapshot, &command)
            .await;
        self.count_call(&build, "decide", started, &decided, |answer| {
            answer.is_err()
        });
        let decision = match decided? {
            Ok(decision) => decision,
            Err(refusal) => return Err(WorkflowError::Refused(refusal)),
        };
        // The unit's cut-off hour was read with the dossier.
        let cutoff = match &record.unit_cutoff {
            Some(cutoff) => cutoff.clone(),
            None => self.unit(&record.handling_unit).await?.cutoff,
        };
        let cutoff = NaiveTime::parse_from_str(&cutoff, "%H:%M").unwrap_or(DEFAULT_CUTOFF);
        let update = apply_decision(
            &self.runtime.calendar(),
            &record,
            &build,
            &decision,
            cutoff,
            now,
            new_documents,
        )?;
        let event = NewEvent {
            at: format_civil(now),
            actor_id: actor.id.clone(),
            actor_role: actor.role.as_str().into(),
            actor_unit: actor.unit.clone(),
            action: request.action.clone(),
            from_step: Some(record.step.clone()),
            to_step: decision.next_step.clone(),
            from_status: Some(record.status.code()),
            to_status: decision.status.code(),
            note: request.note.clone(),
            payload_json: serde_json::json!({
                "request": request.payload,
                "effects": decision.effects,
                "decision_note": decision.note,
                "due_date": update.due_date,
                // What the host decided with, for the replay (docs/decisions/0016).
                "host": {
                    "cutoff": cutoff.format("%H:%M").to_string(),
                    "calendar": self.calendar_watch.fingerprint().await,
                },
            })
            .to_string(),
        };
        match self.store.apply_action(&record, &update, &event).await {
            // The dossier as written, without reading it back.
            Ok(head) => {
                let documents_as_read =
                    update.new_documents.is_empty() && update.stored_component.is_none();
                let record = record.updated(update, head);
                self.store.remember_history(&record, documents_as_read);
                Ok((record, build, actor))
            }
            Err(StoreError::VersionConflict { expected }) => {
                // Another action landed between our read and our write.
                let current = self
                    .store
                    .dossier(&record.code)
                    .await?
                    .map(|r| r.version)
                    .unwrap_or(expected);
                Err(WorkflowError::StaleVersion { expected, current })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The actions the caller may take on a dossier now.
    pub fn available_actions(
        &self,
        build: &PluginBuild,
        record: &DossierRecord,
        actor: &Actor,
    ) -> Vec<(String, String)> {
        build
            .info
            .step(&record.step)
            .map(|step| {
                step.actions
                    .iter()
                    .filter(|action| action.roles.contains(&actor.role))
                    .map(|action| (action.name.clone(), action.label.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The dossier's events: those read with it (and kept up to date by the action that
    /// answers with it), else read now.
    pub async fn history_of<'a>(
        &self,
        record: &'a DossierRecord,
    ) -> Result<std::borrow::Cow<'a, [EventRecord]>> {
        match &record.history {
            Some(history) => Ok(std::borrow::Cow::Borrowed(history.as_slice())),
            None => Ok(std::borrow::Cow::Owned(
                self.store.events(&record.code).await?,
            )),
        }
    }

    /// Items requested by the latest supplement request, for the citizen's view.
    pub fn pending_supplement(record: &DossierRecord, events: &[EventRecord]) -> Vec<MissingItem> {
        if record.status != Status::SupplementRequested {
            return Vec::new();
        }
        events
            .iter()
            .rev()
            .filter_map(|event| serde_json::from_str::<serde_json::Value>(&event.payload_json).ok())
            .filter_map(|payload| payload.get("effects").cloned())
            .filter_map(|effects| serde_json::from_value::<Vec<Effect>>(effects).ok())
            .find_map(|effects| {
                effects.into_iter().find_map(|effect| match effect {
                    Effect::RequestSupplement { items } => Some(items),
                    _ => None,
                })
            })
            .unwrap_or_default()
    }
}

/// Names the unit, the dossier and the build in the request's span (the log lines of
/// the request carry them; a span without these fields ignores them).
fn note_in_span(unit: &str, dossier: Option<&str>, build: &PluginBuild) {
    let span = tracing::Span::current();
    span.record("unit", unit);
    if let Some(code) = dossier {
        span.record("dossier", code);
    }
    span.record(
        "build",
        format!(
            "{} {} {}",
            build.info.code,
            build.info.plugin_version,
            &build.sha256[..12.min(build.sha256.len())]
        )
        .as_str(),
    );
}

/// Text stored verbatim must not carry control characters (PostgreSQL refuses NUL,
/// and none belongs in a name, a code or a note); line breaks are allowed in notes.
pub fn check_text(field: &str, value: &str, allow_newlines: bool) -> Result<()> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(WorkflowError::BadRequest(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}

fn validate_applicant(applicant: &Applicant) -> Result<()> {
    if applicant.full_name.trim().is_empty() {
        return Err(WorkflowError::BadRequest(
            "applicant.full_name is empty".into(),
        ));
    }
    for (field, value) in [
        ("applicant.full_name", Some(&applicant.full_name)),
        ("applicant.citizen_id", Some(&applicant.citizen_id)),
        ("applicant.phone", applicant.phone.as_ref()),
        ("applicant.email", applicant.email.as_ref()),
        ("applicant.address", applicant.address.as_ref()),
    ] {
        if let Some(value) = value {
            if value.len() > MAX_TEXT {
                return Err(WorkflowError::BadRequest(format!(
                    "{field} is over {MAX_TEXT} bytes"
                )));
            }
            check_text(field, value, false)?;
        }
    }
    Ok(())
}

fn random_secret() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new random API token (shown once; only its hash is stored).
pub fn new_token() -> String {
    format!("mct_{}", random_secret())
}
