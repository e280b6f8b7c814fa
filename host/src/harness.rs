//! The offline scenario harness behind `motcua plugin test`.
//!
//! A scenario file (YAML) gives a unit's settings and cut-off hour, a submission, and a
//! sequence of commands with actor, role and time, each with what it must lead to:
//! findings, steps, canonical statuses, due dates, fees, results, refusals. The harness
//! runs the plugin in the real runtime (same engine settings, limits and calendar as the
//! server) and applies decisions with the server's own `workflow::apply_decision`, with
//! no server and no database. It stops a scenario at its first divergence and says
//! exactly where and what differed.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Deserialize;
use serde_json::Value;

use crate::clock::format_civil;
use crate::domain::{
    Actor, Applicant, Channel, Command, Document, ProcedureInfo, Role, Severity, Status, Submission,
};
use crate::runtime::{PluginBuild, Runtime};
use crate::store::DossierRecord;
use crate::workflow::{self, WorkflowError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The unit that receives and handles the dossier.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// The unit's settings for this procedure.
    #[serde(default = "empty_object")]
    pub settings: Value,
    /// The unit's cut-off hour, "HH:MM".
    #[serde(default = "default_cutoff")]
    pub cutoff: String,
    pub submission: ScenarioSubmission,
    #[serde(default)]
    pub steps: Vec<ScenarioStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSubmission {
    pub at: String,
    #[serde(default = "default_channel")]
    pub channel: Channel,
    pub applicant: Applicant,
    #[serde(default = "empty_object")]
    pub form: Value,
    #[serde(default)]
    pub documents: Vec<Document>,
    /// Findings that must be reported (by target and code; other findings may appear).
    #[serde(default)]
    pub expect_findings: Vec<ExpectedFinding>,
    /// Whether the dossier is accepted (no blocking finding). Defaults to true.
    #[serde(default = "yes")]
    pub expect_accepted: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    pub target: String,
    pub code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioStep {
    pub at: String,
    #[serde(rename = "as")]
    pub role: Role,
    pub action: String,
    #[serde(default)]
    pub note: String,
    #[serde(default = "empty_object")]
    pub payload: Value,
    #[serde(default)]
    pub expect: StepExpectation,
}

/// What a step must lead to; only the fields given are compared.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepExpectation {
    pub step: Option<String>,
    /// A canonical status by name (`processing`) or national code (`4`).
    pub status: Option<Value>,
    pub due_date: Option<NaiveDate>,
    pub supplement_count: Option<i64>,
    pub fees_requested_vnd: Option<i64>,
    pub fees_paid_vnd: Option<i64>,
    pub result: Option<String>,
    /// The plugin refuses with this code.
    pub refusal: Option<String>,
    /// The host refuses the action or the decision: `forbidden`, `not-available` or `rejected`.
    pub host_refuses: Option<String>,
}

fn default_unit() -> String {
    "xuan-hoa".into()
}
fn default_cutoff() -> String {
    "15:00".into()
}
fn default_channel() -> Channel {
    Channel::Online
}
fn empty_object() -> Value {
    Value::Object(Default::default())
}
fn yes() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{path}: {message}")]
    BadScenario { path: String, message: String },
    #[error("{0}")]
    Plugin(String),
}

/// The result of one scenario file.
pub struct ScenarioReport {
    pub path: PathBuf,
    pub name: String,
    pub steps: usize,
    /// The first divergence, described for a person; `None` when the scenario passed.
    pub divergence: Option<String>,
    /// The steps a dossier of the scenario was in (the initial one included).
    pub reached_steps: BTreeSet<String>,
    /// The (step, action) pairs the plugin decided, whether it accepted or refused.
    pub taken_actions: BTreeSet<(String, String)>,
}

/// What the scenarios of a plugin exercised of what it declares.
#[derive(Debug, PartialEq, Eq)]
pub struct Coverage {
    pub steps: usize,
    pub actions: usize,
    /// Declared steps no scenario's dossier was ever in.
    pub unreached_steps: Vec<String>,
    /// Declared (step, action) pairs no scenario took to the plugin.
    pub untaken_actions: Vec<(String, String)>,
}

/// Which declared steps and actions `reports` never exercised. An action counts when
/// the plugin decided it from its step, accepting or refusing it: either way its
/// `decide` arm ran. An action the host refused before asking the plugin does not.
pub fn coverage(info: &ProcedureInfo, reports: &[ScenarioReport]) -> Coverage {
    let reached: BTreeSet<&String> = reports.iter().flat_map(|r| &r.reached_steps).collect();
    let taken: BTreeSet<&(String, String)> =
        reports.iter().flat_map(|r| &r.taken_actions).collect();
    let mut coverage = Coverage {
        steps: info.steps.len(),
        actions: 0,
        unreached_steps: Vec::new(),
        untaken_actions: Vec::new(),
    };
    for step in &info.steps {
        if !reached.contains(&step.id) {
            coverage.unreached_steps.push(step.id.clone());
        }
        for action in &step.actions {
            coverage.actions += 1;
            let pair = (step.id.clone(), action.name.clone());
            if !taken.contains(&pair) {
                coverage.untaken_actions.push(pair);
            }
        }
    }
    coverage
}

/// Every `.yaml` / `.yml` file named, or inside a directory named, sorted.
pub fn scenario_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in std::fs::read_dir(path)? {
                let file = entry?.path();
                if file.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(file);
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    Ok(files)
}

fn parse_at(path: &Path, text: &str) -> Result<NaiveDateTime, HarnessError> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").map_err(|_| HarnessError::BadScenario {
        path: path.display().to_string(),
        message: format!("time `{text}` must look like 2026-03-02 09:30"),
    })
}

fn status_matches(expected: &Value, actual: Status) -> bool {
    match expected {
        Value::Number(code) => code.as_i64() == Some(actual.code()),
        Value::String(name) => {
            name == actual.as_str() || name.parse::<i64>().ok() == Some(actual.code())
        }
        _ => false,
    }
}

/// Compares one expectation; appends a readable difference when it does not hold.
fn compare(
    diff: &mut String,
    field: &str,
    expected: impl std::fmt::Display,
    actual: impl std::fmt::Display,
    holds: bool,
) {
    if !holds {
        let _ = writeln!(
            diff,
            "    {field}\n      expected: {expected}\n      actual:   {actual}"
        );
    }
}

/// Runs one scenario file against a loaded build.
pub async fn run_scenario(
    runtime: &Runtime,
    build: &std::sync::Arc<PluginBuild>,
    path: &Path,
) -> Result<ScenarioReport, HarnessError> {
    let text = std::fs::read_to_string(path).map_err(|error| HarnessError::BadScenario {
        path: path.display().to_string(),
        message: error.to_string(),
    })?;
    let scenario: Scenario =
        serde_norway::from_str(&text).map_err(|error| HarnessError::BadScenario {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
    let cutoff = NaiveTime::parse_from_str(&scenario.cutoff, "%H:%M").map_err(|_| {
        HarnessError::BadScenario {
            path: path.display().to_string(),
            message: format!("cutoff `{}` must look like 15:00", scenario.cutoff),
        }
    })?;
    // The server refuses settings that do not fit the plugin's schema; so does the harness.
    build
        .settings_check
        .check_settings(&scenario.settings)
        .map_err(|errors| HarnessError::BadScenario {
            path: path.display().to_string(),
            message: format!(
                "settings do not fit the plugin's settings schema: {}",
                errors.join("; ")
            ),
        })?;
    let settings = scenario.settings.to_string();
    let mut report = ScenarioReport {
        path: path.to_path_buf(),
        name: scenario.name.clone(),
        steps: 0,
        divergence: None,
        reached_steps: BTreeSet::new(),
        taken_actions: BTreeSet::new(),
    };

    let submitted_at = parse_at(path, &scenario.submission.at)?;
    let submission = Submission {
        procedure_code: build.info.procedure_code().to_string(),
        receiving_unit: scenario.unit.clone(),
        handling_unit: scenario.unit.clone(),
        channel: scenario.submission.channel,
        applicant: scenario.submission.applicant.clone(),
        form: scenario.submission.form.clone(),
        documents: scenario.submission.documents.clone(),
        at: submitted_at,
    };
    // As at the server: the host's findings on the form's schema, then the plugin's
    // on the places the host found nothing wrong with.
    let findings = crate::schema::with_plugin_findings(
        build.form_check.form_findings(&submission.form),
        runtime
            .check(build, settings.clone(), &submission)
            .await
            .map_err(|error| HarnessError::Plugin(error.to_string()))?,
    );
    let mut diff = String::new();
    for expected in &scenario.submission.expect_findings {
        let found = findings
            .iter()
            .any(|f| f.target == expected.target && f.code == expected.code);
        let listed: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}", f.target, f.code))
            .collect();
        compare(
            &mut diff,
            "finding",
            format!("{} {}", expected.target, expected.code),
            format!("[{}]", listed.join(", ")),
            found,
        );
    }
    let accepted = !findings.iter().any(|f| f.severity == Severity::Blocking);
    let blocking: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .map(|f| format!("{}: {}", f.target, f.message))
        .collect();
    compare(
        &mut diff,
        "accepted",
        scenario.submission.expect_accepted,
        format!(
            "{accepted} {}",
            if blocking.is_empty() {
                String::new()
            } else {
                format!("(blocking: {})", blocking.join("; "))
            }
        ),
        accepted == scenario.submission.expect_accepted,
    );
    if !diff.is_empty() {
        report.divergence = Some(format!(
            "  at the submission ({})\n{diff}",
            scenario.submission.at
        ));
        return Ok(report);
    }
    if !accepted {
        return Ok(report);
    }

    let initial = build
        .info
        .step(&build.info.initial_step)
        .expect("validated at load");
    let mut record = DossierRecord {
        code: "000.00.00.H00-000000-0001".into(),
        procedure_code: submission.procedure_code.clone(),
        build_sha256: build.sha256.clone(),
        receiving_unit: scenario.unit.clone(),
        handling_unit: scenario.unit.clone(),
        channel: submission.channel,
        applicant: submission.applicant.clone(),
        form: submission.form.clone(),
        step: initial.id.clone(),
        status: initial.status,
        submitted_at: format_civil(submitted_at),
        received_at: None,
        clock_started_at: None,
        due_date: None,
        supplement_count: 0,
        extension_count: 0,
        fees_requested_vnd: 0,
        fees_paid_vnd: 0,
        paid_online: false,
        result: None,
        settled_at: None,
        returned_at: None,
        tracking_secret_hash: String::new(),
        version: 1,
        updated_at: format_civil(submitted_at),
        documents: submission.documents.clone(),
        deadline: Default::default(),
        facts: Default::default(),
        settings_json: None,
        head: Default::default(),
        unit_cutoff: None,
        history: None,
    };
    report.reached_steps.insert(record.step.clone());

    for (index, step) in scenario.steps.iter().enumerate() {
        report.steps = index + 1;
        let at = parse_at(path, &step.at)?;
        let where_ = format!(
            "  step {} `{}` as {} at {} (from step `{}`)",
            index + 1,
            step.action,
            step.role.as_str(),
            step.at,
            record.step
        );
        let mut diff = String::new();
        let actor = Actor {
            id: format!("{}-{}", scenario.unit, step.role.as_str()),
            role: step.role,
            unit: scenario.unit.clone(),
        };
        let outcome =
            run_step(runtime, build, &record, step, &actor, at, cutoff, &settings).await?;
        let expect = &step.expect;
        if matches!(
            outcome,
            StepOutcome::PluginRefused(_) | StepOutcome::Applied(_)
        ) {
            report
                .taken_actions
                .insert((record.step.clone(), step.action.clone()));
        }
        if let StepOutcome::Applied(next) = &outcome {
            report.reached_steps.insert(next.step.clone());
        }
        match outcome {
            StepOutcome::HostRefused(kind, message) => {
                compare(
                    &mut diff,
                    "outcome",
                    describe_expected(expect),
                    format!("the host refuses ({kind}): {message}"),
                    expect.host_refuses.as_deref() == Some(kind),
                );
            }
            StepOutcome::PluginRefused(refusal) => {
                compare(
                    &mut diff,
                    "outcome",
                    describe_expected(expect),
                    format!("the plugin refuses `{}`: {}", refusal.code, refusal.message),
                    expect.refusal.as_deref() == Some(refusal.code.as_str()),
                );
            }
            StepOutcome::Applied(next) => {
                if expect.refusal.is_some() || expect.host_refuses.is_some() {
                    compare(
                        &mut diff,
                        "outcome",
                        describe_expected(expect),
                        format!("accepted, now in step `{}`", next.step),
                        false,
                    );
                }
                if let Some(want) = &expect.step {
                    compare(&mut diff, "step", want, &next.step, *want == next.step);
                }
                if let Some(want) = &expect.status {
                    compare(
                        &mut diff,
                        "status",
                        want,
                        format!("{} ({})", next.status.as_str(), next.status.code()),
                        status_matches(want, next.status),
                    );
                }
                if let Some(want) = expect.due_date {
                    let actual = next.due_date.clone().unwrap_or_else(|| "none".into());
                    compare(
                        &mut diff,
                        "due_date",
                        want,
                        &actual,
                        actual == want.format("%Y-%m-%d").to_string(),
                    );
                }
                if let Some(want) = expect.supplement_count {
                    compare(
                        &mut diff,
                        "supplement_count",
                        want,
                        next.supplement_count,
                        want == next.supplement_count,
                    );
                }
                if let Some(want) = expect.fees_requested_vnd {
                    compare(
                        &mut diff,
                        "fees_requested_vnd",
                        want,
                        next.fees_requested_vnd,
                        want == next.fees_requested_vnd,
                    );
                }
                if let Some(want) = expect.fees_paid_vnd {
                    compare(
                        &mut diff,
                        "fees_paid_vnd",
                        want,
                        next.fees_paid_vnd,
                        want == next.fees_paid_vnd,
                    );
                }
                if let Some(want) = &expect.result {
                    let actual = next
                        .result
                        .as_ref()
                        .map(|r| r.kind.clone())
                        .unwrap_or_else(|| "none".into());
                    compare(&mut diff, "result", want, &actual, *want == actual);
                }
                record = next;
            }
        }
        if !diff.is_empty() {
            report.divergence = Some(format!("{where_}\n{diff}"));
            return Ok(report);
        }
    }
    Ok(report)
}

fn describe_expected(expect: &StepExpectation) -> String {
    match (&expect.refusal, &expect.host_refuses) {
        (Some(code), _) => format!("the plugin refuses `{code}`"),
        (None, Some(kind)) => format!("the host refuses ({kind})"),
        (None, None) => "accepted".into(),
    }
}

enum StepOutcome {
    Applied(DossierRecord),
    PluginRefused(crate::domain::Refusal),
    HostRefused(&'static str, String),
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    runtime: &Runtime,
    build: &std::sync::Arc<PluginBuild>,
    record: &DossierRecord,
    step: &ScenarioStep,
    actor: &Actor,
    at: NaiveDateTime,
    cutoff: NaiveTime,
    settings: &str,
) -> Result<StepOutcome, HarnessError> {
    match workflow::authorize_action(build, &record.step, &step.action, actor.role) {
        Err(WorkflowError::Forbidden(message)) => {
            return Ok(StepOutcome::HostRefused("forbidden", message));
        }
        Err(error) => return Ok(StepOutcome::HostRefused("not-available", error.to_string())),
        Ok(()) => {}
    }
    let new_documents: Vec<Document> = match step.payload.get("documents") {
        None => Vec::new(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|error| HarnessError::Plugin(format!("payload.documents: {error}")))?,
    };
    let mut snapshot =
        workflow::snapshot(record).map_err(|error| HarnessError::Plugin(error.to_string()))?;
    snapshot.documents.extend(new_documents.iter().cloned());
    let command = Command {
        action: step.action.clone(),
        actor: actor.clone(),
        at,
        note: step.note.clone(),
        payload: step.payload.clone(),
    };
    let decision = match runtime
        .decide(build, settings.to_string(), &snapshot, &command)
        .await
    {
        Ok(Ok(decision)) => decision,
        Ok(Err(refusal)) => return Ok(StepOutcome::PluginRefused(refusal)),
        Err(error) => return Err(HarnessError::Plugin(error.to_string())),
    };
    let update = match workflow::apply_decision(
        &runtime.calendar(),
        record,
        build,
        &decision,
        cutoff,
        at,
        new_documents,
    ) {
        Ok(update) => update,
        Err(error) => return Ok(StepOutcome::HostRefused("rejected", error.to_string())),
    };
    let mut next = record.clone();
    next.step = update.step;
    next.status = update.status;
    next.received_at = update.received_at;
    next.clock_started_at = update.clock_started_at;
    next.due_date = update.due_date;
    next.supplement_count = update.supplement_count;
    next.extension_count = update.extension_count;
    next.fees_requested_vnd = update.fees_requested_vnd;
    next.fees_paid_vnd = update.fees_paid_vnd;
    next.paid_online = update.paid_online;
    next.result = update.result;
    next.settled_at = update.settled_at;
    next.returned_at = update.returned_at;
    next.updated_at = update.updated_at;
    next.documents.extend(update.new_documents);
    next.deadline = update.deadline;
    next.facts = update.facts;
    next.version += 1;
    Ok(StepOutcome::Applied(next))
}
