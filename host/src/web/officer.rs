//! The pages of a unit's officers, specialists and leaders: the unit's inbox, a dossier
//! with what the API's view holds (form, applicant, documents, result, history, pinned
//! build, due date), and the actions the caller may take, each as a form.
//!
//! The data, tenancy and checks are the API's: the inbox is the store's inbox of the
//! caller's own unit (what `GET /api/v1/units/{unit}/dossiers` answers its own staff);
//! a dossier is the workflow's `dossier_for` with the staff caller; its actions are
//! `available_actions`, taken through the workflow's `act` with the version the page
//! showed as `If-Match`; files are read through the API's own download functions.

mod inbox;
mod payload;

pub(super) use inbox::inbox;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::session::{Nav, Staff, encode_component, role_name};
use super::{PageError, render, status_name};
use crate::api::AppState;
use crate::audit::EventRecord;
use crate::clock::parse_civil;
use crate::domain::{Actor, Channel, Role, Status};
use crate::runtime::PluginBuild;
use crate::store::DossierRecord;
use crate::workflow::documents::{ATTACH_DOCUMENT_ACTION, ATTACH_RESULT_ACTION};
use crate::workflow::{ActionRequest, Workflow, WorkflowError, deadlines};
use payload::InputKind;

// ---- shared words -------------------------------------------------------------------------

fn channel_name(channel: &str) -> &str {
    match Channel::parse(channel) {
        Some(Channel::Online) => "Trực tuyến",
        Some(Channel::InPerson) => "Trực tiếp",
        Some(Channel::Postal) => "Bưu chính",
        None => channel,
    }
}

/// `YYYY-MM-DD` as `dd/mm/yyyy`; other text as it is.
fn day(text: &str) -> String {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|day| day.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| text.to_string())
}

/// A stored time as `dd/mm/yyyy hh:mm`.
fn moment(text: &str) -> String {
    parse_civil(text)
        .map(|at| at.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
}

/// Working days left in words, with the class that marks it: overdue, due soon, or
/// neither. `None` while the clock does not run.
fn days_left(left: Option<i64>) -> (String, &'static str) {
    match left {
        Some(days) if days < 0 => (format!("Quá hạn {} ngày", -days), "overdue"),
        Some(0) => ("Đến hạn hôm nay".into(), "soon"),
        Some(days) => (
            format!("Còn {days} ngày làm việc"),
            if days <= i64::from(deadlines::DUE_SOON_WORKING_DAYS) {
                "soon"
            } else {
                ""
            },
        ),
        None => (String::new(), ""),
    }
}

/// The name of a step: the build's, the host's own closing step's, or its id.
fn step_name(build: Option<&PluginBuild>, step: &str) -> String {
    build
        .and_then(|build| build.info.step(step))
        .map(|step| step.name.clone())
        .or_else(|| {
            (step == deadlines::CLOSED_INCOMPLETE_STEP)
                .then(|| deadlines::CLOSED_INCOMPLETE_STEP_NAME.to_string())
        })
        .unwrap_or_else(|| step.to_string())
}

/// A unit's name, or its code when it has none (a unit removed since).
async fn unit_name(state: &AppState, code: &str) -> Result<String, PageError> {
    Ok(state
        .store
        .unit(code)
        .await
        .map_err(WorkflowError::from)?
        .map_or_else(|| code.to_string(), |unit| unit.name))
}

fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A (value, label, selected) option of a select.
type Choice = (String, String, bool);

fn choices(options: Vec<(String, String)>, current: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| {
            let selected = value == current;
            (value, label, selected)
        })
        .collect()
}

// ---- the dossier --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    nav: Nav,
    csrf: String,
    code: String,
    procedure: String,
    status: &'static str,
    status_code: i64,
    step: String,
    version: i64,
    done: Option<String>,
    stale: Option<Stale>,
    problem: Option<String>,
    applicant: Vec<(&'static str, String)>,
    handling: Vec<(&'static str, String)>,
    due: String,
    left: String,
    left_class: &'static str,
    missing: Vec<String>,
    form_title: String,
    form_html: String,
    documents: Vec<DocumentLine>,
    result: Option<ResultView>,
    history: Vec<HistoryLine>,
    build: BuildView,
    actions: Vec<ActionForm>,
}

struct Stale {
    expected: i64,
    current: i64,
    action: String,
}

struct DocumentLine {
    name: String,
    kind: String,
    size: String,
    stored: bool,
    href: String,
}

struct ResultView {
    name: String,
    number: String,
    /// (size and type, download address) of its electronic file.
    file: Option<(String, String)>,
}

struct HistoryLine {
    at: String,
    who: String,
    action: String,
    change: String,
    /// The step it moved between, when it moved.
    steps: Option<String>,
    note: String,
}

struct BuildView {
    procedure: String,
    version: String,
    sha: String,
    full_sha: String,
}

struct ActionForm {
    name: String,
    label: String,
    note_label: &'static str,
    note: String,
    inputs: Vec<InputView>,
}

struct InputView {
    id: String,
    name: String,
    label: &'static str,
    hint: Option<&'static str>,
    required: bool,
    value: String,
    /// `text`, `area`, `integer`, `number`, `date` or `select`.
    kind: &'static str,
    options: Vec<Choice>,
}

/// One entry of the form as a definition list; children are rendered entries.
#[derive(Template)]
#[template(path = "form_entry.html")]
struct FormEntry {
    label: String,
    value: Option<String>,
    children: Vec<String>,
}

/// What the page says beyond the dossier: a confirmation, a stale form, a refusal, and
/// the values typed into the action that was refused.
#[derive(Default)]
struct Said {
    done: Option<String>,
    stale: Option<Stale>,
    problem: Option<String>,
    typed: Option<(String, HashMap<String, String>)>,
}

/// The dossier the staff member may see, or the page saying they may not.
async fn load(
    state: &AppState,
    staff: &Staff,
    code: &str,
) -> Result<(DossierRecord, Arc<PluginBuild>, Actor), PageError> {
    if !is_code(code) {
        return Err(PageError::not_found("Không có hồ sơ này."));
    }
    state
        .dossier_for(&staff.caller(), code)
        .await
        .map_err(|error| refusal(error, staff, code))
}

/// A workflow error about one dossier as a page, in words for its reader.
fn refusal(error: WorkflowError, staff: &Staff, code: &str) -> PageError {
    match error {
        WorkflowError::Forbidden(_) => PageError::forbidden(format!(
            "Hồ sơ {code} không thuộc đơn vị của bạn ({}) hoặc vai trò của bạn không được làm việc này.",
            staff.actor.unit
        )),
        WorkflowError::DossierNotFound(_) => {
            PageError::not_found(format!("Không có hồ sơ {code}."))
        }
        other => other.into(),
    }
}

fn scalar_text(value: &Value, schema: &Value) -> String {
    match value {
        Value::Null => "Không khai".into(),
        Value::Bool(true) => "Có".into(),
        Value::Bool(false) => "Không".into(),
        Value::String(text) if schema["format"] == "date" => day(text),
        Value::String(text) => match text.as_str() {
            "male" => "Nam".into(),
            "female" => "Nữ".into(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// The entries of a form object, labelled with the schema's titles where it has them.
fn form_entries(value: &Value, schema: &Value) -> Vec<String> {
    let Value::Object(object) = value else {
        return Vec::new();
    };
    object
        .iter()
        .map(|(key, child)| {
            let child_schema = &schema["properties"][key];
            let label = child_schema["title"].as_str().unwrap_or(key).to_string();
            form_entry(label, child, child_schema)
        })
        .collect()
}

fn form_entry(label: String, value: &Value, schema: &Value) -> String {
    let entry = match value {
        Value::Object(_) => FormEntry {
            label,
            value: None,
            children: form_entries(value, schema),
        },
        Value::Array(items) => FormEntry {
            label,
            value: None,
            children: items
                .iter()
                .enumerate()
                .map(|(index, item)| form_entry((index + 1).to_string(), item, &schema["items"]))
                .collect(),
        },
        scalar => FormEntry {
            label,
            value: Some(scalar_text(scalar, schema)),
            children: Vec::new(),
        },
    };
    entry.render().unwrap_or_else(|error| {
        tracing::error!(%error, "rendering a form entry");
        String::new()
    })
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// What an event did, in words: the build's label of the action, or the host's.
fn action_label(build: &PluginBuild, action: &str) -> String {
    let host = match action {
        "submit" => Some("Nộp hồ sơ"),
        ATTACH_DOCUMENT_ACTION => Some("Lưu tệp thành phần hồ sơ"),
        ATTACH_RESULT_ACTION => Some("Lưu tệp kết quả"),
        "rate" => Some("Đánh giá mức độ hài lòng"),
        "close-incomplete" => Some("Hệ thống dừng xử lý (không bổ sung)"),
        "recompute-due-date" => Some("Hệ thống tính lại ngày hẹn trả"),
        _ => None,
    };
    host.map(str::to_string)
        .or_else(|| {
            build
                .info
                .steps
                .iter()
                .flat_map(|step| &step.actions)
                .find(|spec| spec.name == action)
                .map(|spec| spec.label.clone())
        })
        .unwrap_or_else(|| action.to_string())
}

fn history_line(build: &PluginBuild, event: &EventRecord) -> HistoryLine {
    let name = |code: i64| Status::from_code(code).map_or("?", status_name);
    let change = match event.from_status {
        Some(from) if from != event.to_status => {
            format!("{} → {}", name(from), name(event.to_status))
        }
        Some(_) => format!("{} (không đổi)", name(event.to_status)),
        None => name(event.to_status).to_string(),
    };
    let role =
        Role::parse(&event.actor_role).map_or(event.actor_role.as_str(), |role| role_name(role));
    HistoryLine {
        at: moment(&event.at),
        who: if event.actor_id == deadlines::SYSTEM_ACTOR {
            "Hệ thống".into()
        } else {
            format!("{} ({role})", event.actor_id)
        },
        action: action_label(build, &event.action),
        change,
        steps: event
            .from_step
            .as_deref()
            .filter(|from| *from != event.to_step)
            .map(|from| {
                format!(
                    "Bước: {} → {}",
                    step_name(Some(build), from),
                    step_name(Some(build), &event.to_step)
                )
            }),
        note: event.note.clone(),
    }
}

fn action_form(
    build: &PluginBuild,
    name: String,
    label: String,
    typed: Option<&HashMap<String, String>>,
) -> ActionForm {
    let value = |key: &str| {
        typed
            .and_then(|typed| typed.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let inputs = payload::inputs(&name, build)
        .into_iter()
        .map(|input| {
            let posted = value(&input.name());
            let (kind, options) = match input.kind {
                InputKind::Text => ("text", Vec::new()),
                InputKind::LongText | InputKind::Items => ("area", Vec::new()),
                InputKind::Integer => ("integer", Vec::new()),
                InputKind::Number => ("number", Vec::new()),
                InputKind::Date => ("date", Vec::new()),
                InputKind::YesNo(options) => (
                    "select",
                    options
                        .iter()
                        .map(|(value, label)| {
                            (value.to_string(), label.to_string(), posted == *value)
                        })
                        .collect(),
                ),
            };
            InputView {
                id: format!("{name}-{}", input.key),
                name: input.name(),
                label: input.label,
                hint: input.hint,
                required: input.required,
                value: posted,
                kind,
                options,
            }
        })
        .collect();
    ActionForm {
        note_label: match name.as_str() {
            "refuse" | "send-back" => "Lý do",
            _ => "Ghi chú",
        },
        note: value("note"),
        inputs,
        name,
        label,
    }
}

async fn dossier_page(
    state: &AppState,
    staff: &Staff,
    (record, build, actor): (DossierRecord, Arc<PluginBuild>, Actor),
    said: Said,
) -> Result<DossierPage, PageError> {
    let events = state.history_of(&record).await?;
    let calendar = state.runtime.calendar();
    let (left, left_class) = days_left(deadlines::working_days_left(
        &calendar,
        &record,
        state.now().date(),
    ));
    let left = if left.is_empty() {
        match deadlines::clock_state(&record) {
            "not-started" => "Chưa tính (tính từ khi tiếp nhận)".to_string(),
            "paused" => "Tạm dừng: chờ thực hiện nghĩa vụ tài chính".to_string(),
            "stopped-for-supplement" => "Tạm dừng: chờ bổ sung hồ sơ".to_string(),
            _ => "Đã dừng tính thời hạn".to_string(),
        }
    } else {
        left
    };
    let applicant = &record.applicant;
    let mut applicant_lines = vec![
        ("Họ, chữ đệm và tên", applicant.full_name.clone()),
        ("Số định danh cá nhân", applicant.citizen_id.clone()),
    ];
    for (label, value) in [
        ("Số điện thoại", &applicant.phone),
        ("Thư điện tử", &applicant.email),
        ("Địa chỉ liên hệ", &applicant.address),
    ] {
        if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
            applicant_lines.push((label, value.clone()));
        }
    }
    let mut handling = vec![
        (
            "Kênh nộp",
            channel_name(record.channel.as_str()).to_string(),
        ),
        (
            "Nơi tiếp nhận",
            unit_name(state, &record.receiving_unit).await?,
        ),
        (
            "Đơn vị giải quyết",
            unit_name(state, &record.handling_unit).await?,
        ),
        ("Nộp lúc", moment(&record.submitted_at)),
    ];
    if let Some(received) = &record.received_at {
        handling.push(("Tiếp nhận lúc", moment(received)));
    }
    if record.fees_requested_vnd > 0 || record.fees_paid_vnd > 0 {
        handling.push((
            "Phí, lệ phí",
            format!(
                "phải nộp {} đồng, đã nộp {} đồng",
                record.fees_requested_vnd, record.fees_paid_vnd
            ),
        ));
    }
    if record.supplement_count > 0 {
        handling.push((
            "Số lần yêu cầu bổ sung",
            record.supplement_count.to_string(),
        ));
    }
    if let Some(returned) = &record.returned_at {
        handling.push(("Trả kết quả lúc", moment(returned)));
    }
    let documents = record
        .documents
        .iter()
        .map(|document| DocumentLine {
            name: document.name.clone(),
            kind: build
                .info
                .documents
                .iter()
                .flat_map(|requirement| &requirement.options)
                .find(|option| option.kind == document.kind)
                .map(|option| option.name.clone())
                .unwrap_or_else(|| document.kind.clone()),
            size: size_text(document.size),
            stored: document.digitized,
            href: format!(
                "/staff/dossiers/{}/documents/{}",
                record.code, document.sha256
            ),
        })
        .collect();
    let result = record.result.as_ref().map(|result| ResultView {
        name: result.name.clone(),
        number: result.number.clone(),
        file: result.file.as_ref().map(|file| {
            (
                format!("{}, {}", size_text(file.size), file.content_type),
                format!("/staff/dossiers/{}/result", record.code),
            )
        }),
    });
    let typed = said.typed.as_ref();
    let actions = state
        .available_actions(&build, &record, &actor)
        .into_iter()
        .map(|(name, label)| {
            let typed = typed
                .filter(|(action, _)| *action == name)
                .map(|(_, values)| values);
            action_form(&build, name, label, typed)
        })
        .collect();
    Ok(DossierPage {
        nav: staff.nav("inbox"),
        csrf: staff.csrf.clone(),
        procedure: build.info.name.clone(),
        status: status_name(record.status),
        status_code: record.status.code(),
        step: step_name(Some(&build), &record.step),
        version: record.version,
        done: said.done,
        stale: said.stale,
        problem: said.problem,
        applicant: applicant_lines,
        handling,
        due: match &record.due_date {
            Some(due) if record.deadline.provisional => format!("{} (tạm tính)", day(due)),
            Some(due) => day(due),
            None => "Chưa có".into(),
        },
        left,
        left_class,
        missing: Workflow::pending_supplement(&record, &events)
            .into_iter()
            .map(|item| item.message)
            .collect(),
        form_title: build.info.form_schema["title"]
            .as_str()
            .unwrap_or("Tờ khai")
            .to_string(),
        form_html: form_entries(&record.form, &build.info.form_schema).concat(),
        documents,
        result,
        history: events
            .iter()
            .map(|event| history_line(&build, event))
            .collect(),
        build: BuildView {
            procedure: record.procedure_code.clone(),
            version: build.info.plugin_version.clone(),
            sha: record.build_sha256.chars().take(12).collect(),
            full_sha: record.build_sha256.clone(),
        },
        actions,
        code: record.code,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct DossierParams {
    /// The action just taken, for the confirmation line.
    done: Option<String>,
}

pub(super) async fn dossier(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    params: Result<Query<DossierParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let found = load(&state, &staff, &code).await?;
    let done = params.done.and_then(|action| {
        found
            .1
            .info
            .steps
            .iter()
            .flat_map(|step| &step.actions)
            .find(|spec| spec.name == action)
            .map(|spec| format!("Đã thực hiện: {}.", spec.label))
    });
    let page = dossier_page(
        &state,
        &staff,
        found,
        Said {
            done,
            ..Said::default()
        },
    )
    .await?;
    Ok(render(&page))
}

/// Takes one action from its form: the version the page showed is the `If-Match`.
pub(super) async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let (_, build, _) = load(&state, &staff, &code).await?;
    let action = form
        .get("action")
        .map(|action| action.trim().to_string())
        .unwrap_or_default();
    let inputs = payload::inputs(&action, &build);
    let request = ActionRequest {
        code: code.clone(),
        action: action.clone(),
        note: form
            .get("note")
            .map(|note| note.trim().to_string())
            .unwrap_or_default(),
        payload: payload::read(&inputs, &form),
        if_match: form
            .get("version")
            .and_then(|version| version.trim().parse::<i64>().ok()),
    };
    let label = action_label(&build, &action);
    let (status, said) = match state.act(&staff.caller(), request).await {
        Ok(_) => {
            let target = format!("/staff/dossiers/{code}?done={}", encode_component(&action));
            return Ok(Redirect::to(&target).into_response());
        }
        Err(WorkflowError::StaleVersion { expected, current }) => (
            StatusCode::CONFLICT,
            Said {
                stale: Some(Stale {
                    expected,
                    current,
                    action: label,
                }),
                ..Said::default()
            },
        ),
        Err(error) => {
            let problem = match error {
                WorkflowError::Refused(refusal) => refusal.message,
                WorkflowError::ActionNotAvailable { .. } => format!(
                    "Thao tác “{label}” không có ở bước hiện tại của hồ sơ; hãy tải lại trang."
                ),
                WorkflowError::VersionRequired => {
                    "Biểu mẫu thiếu phiên bản của hồ sơ; hãy tải lại trang rồi thao tác lại.".into()
                }
                WorkflowError::BadRequest(message) => format!("Dữ liệu không hợp lệ: {message}"),
                WorkflowError::DecisionRejected(message) => {
                    format!("Hệ thống không chấp nhận kết quả xử lý của thủ tục: {message}")
                }
                WorkflowError::File { message, .. } => format!("Tệp không hợp lệ: {message}"),
                other => return Err(refusal(other, &staff, &code)),
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Said {
                    problem: Some(problem),
                    ..Said::default()
                },
            )
        }
    };
    let said = Said {
        typed: Some((action, form)),
        ..said
    };
    let found = load(&state, &staff, &code).await?;
    let page = dossier_page(&state, &staff, found, said).await?;
    Ok((status, render(&page)).into_response())
}

// ---- files --------------------------------------------------------------------------------

/// A component's file, with the API's headers.
pub(super) async fn document(
    State(state): State<AppState>,
    staff: Staff,
    Path((code, sha256)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if !is_code(&code) || !crate::documents::is_sha256(&sha256.to_ascii_lowercase()) {
        return Err(PageError::not_found("Không có tệp này."));
    }
    crate::api::component_download(&state, &staff.caller(), &code, &sha256)
        .await
        .map_err(|error| refusal(error, &staff, &code))
}

/// The result's file, with the API's headers.
pub(super) async fn result(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    if !is_code(&code) {
        return Err(PageError::not_found("Không có hồ sơ này."));
    }
    crate::api::result_download(&state, &staff.caller(), &code)
        .await
        .map_err(|error| refusal(error, &staff, &code))
}
