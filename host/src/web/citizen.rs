//! The citizen portal, without login: the units, the procedures a unit offers, the
//! filing form generated from the procedure's form schema with its documents, the
//! findings at their fields, the receipt, and tracking by code and secret.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::schema_form::{self, Field, FieldKind};
use super::{PageError, render};
use crate::api::AppState;
use crate::clock::parse_civil;
use crate::documents::ContentType;
use crate::domain::{
    Applicant, Channel, Document, DocumentRequirement, Finding, Level, ProcessingTime, Severity,
    Status, UnitKind,
};
use crate::runtime::PluginBuild;
use crate::workflow::{Caller, FileRequest, Workflow, WorkflowError};

// ---- the units and what they offer ------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    units: Vec<UnitCard>,
}

struct UnitCard {
    code: String,
    name: String,
    kind: &'static str,
}

fn kind_name(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Province => "Tỉnh",
        UnitKind::Department => "Sở, ngành",
        UnitKind::Ward => "Phường",
        UnitKind::Commune => "Xã",
    }
}

pub(super) async fn home(State(state): State<AppState>) -> Result<Response, PageError> {
    let units = state.store.units().await.map_err(WorkflowError::from)?;
    let units = units
        .into_iter()
        .filter(|unit| !state.registry.offered(&unit.code).is_empty())
        .map(|unit| UnitCard {
            kind: kind_name(unit.kind),
            code: unit.code,
            name: unit.name,
        })
        .collect();
    Ok(render(&Home { units }))
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    unit_code: String,
    unit_name: String,
    procedures: Vec<ProcedureCard>,
}

struct ProcedureCard {
    code: String,
    name: String,
    level: &'static str,
    time: String,
    fees: Vec<String>,
    documents: Vec<RequirementLine>,
}

struct RequirementLine {
    name: String,
    required: bool,
    options: String,
}

fn vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{grouped} đồng")
}

fn procedure_card(build: &PluginBuild) -> ProcedureCard {
    let info = &build.info;
    ProcedureCard {
        code: info.code.clone(),
        name: info.name.clone(),
        level: match info.level {
            Level::Commune => "Cấp xã",
            Level::Province => "Cấp tỉnh",
        },
        time: match info.processing_time {
            ProcessingTime::SameDay => "Trong ngày làm việc".into(),
            ProcessingTime::WorkingDays(days) => format!("{days} ngày làm việc"),
        },
        fees: if info.fees.is_empty() {
            vec!["Không".into()]
        } else {
            info.fees
                .iter()
                .map(|fee| {
                    let amount = if fee.amount_vnd == 0 {
                        "miễn".to_string()
                    } else {
                        vnd(fee.amount_vnd)
                    };
                    format!("{}: {amount}", fee.name)
                })
                .collect()
        },
        documents: info
            .documents
            .iter()
            .map(|requirement| RequirementLine {
                name: requirement.name.clone(),
                required: requirement.required,
                options: requirement
                    .options
                    .iter()
                    .map(|option| option.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" hoặc "),
            })
            .collect(),
    }
}

async fn unit_name(state: &AppState, code: &str) -> Result<String, PageError> {
    if !is_code(code) {
        return Err(PageError::not_found("Không có đơn vị này."));
    }
    state
        .store
        .unit(code)
        .await
        .map_err(WorkflowError::from)?
        .map(|unit| unit.name)
        .ok_or_else(|| PageError::not_found("Không có đơn vị này."))
}

fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

pub(super) async fn unit(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let unit_name = unit_name(&state, &code).await?;
    let procedures = state
        .registry
        .offered(&code)
        .iter()
        .map(|(_, build)| procedure_card(build))
        .collect();
    Ok(render(&UnitPage {
        unit_code: code,
        unit_name,
        procedures,
    }))
}

// ---- the filing form --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "file.html")]
struct FilingPage {
    unit_code: String,
    unit_name: String,
    procedure_code: String,
    procedure_name: String,
    form_title: String,
    applicant_html: String,
    form_html: String,
    documents_html: String,
    findings: Vec<FindingLink>,
    files_dropped: bool,
    max_file_mib: u64,
}

struct FindingLink {
    anchor: String,
    message: String,
}

/// One field as the template shows it.
#[derive(Template)]
#[template(path = "field.html")]
struct FieldView {
    anchor: String,
    name: String,
    label: String,
    hint: Option<String>,
    required: bool,
    finding: Option<String>,
    value: String,
    control: Control,
}

enum Control {
    Input {
        kind: &'static str,
        pattern: Option<String>,
        minlength: Option<u64>,
        maxlength: Option<u64>,
        step: Option<&'static str>,
    },
    Select {
        /// (value, label, selected)
        options: Vec<(String, String, bool)>,
    },
    Checkbox {
        checked: bool,
    },
    File {
        /// (kind, name, selected)
        kinds: Vec<(String, String, bool)>,
    },
    Group {
        optional: bool,
        present: bool,
        children: Vec<String>,
    },
}

fn anchor(name: &str) -> String {
    name.replace('.', "-")
}

/// Labels of common coded values; others are shown as they are.
fn choice_label(value: &str) -> String {
    match value {
        "male" => "Nam",
        "female" => "Nữ",
        other => other,
    }
    .to_string()
}

/// What the page knows when it is drawn: the posted values and the findings by target.
struct Drawn<'a> {
    values: &'a HashMap<String, String>,
    findings: &'a HashMap<String, String>,
}

fn draw(field: &Field, drawn: &Drawn<'_>) -> String {
    let value = drawn.values.get(&field.name).cloned().unwrap_or_default();
    let control = match &field.kind {
        FieldKind::Group { fields, optional } => Control::Group {
            optional: *optional,
            present: drawn
                .values
                .contains_key(&format!("{}.present", field.name)),
            children: fields.iter().map(|child| draw(child, drawn)).collect(),
        },
        FieldKind::Choice(values) => Control::Select {
            options: values
                .iter()
                .map(|option| (option.clone(), choice_label(option), *option == value))
                .collect(),
        },
        FieldKind::Boolean => Control::Checkbox {
            checked: !value.is_empty(),
        },
        FieldKind::Date => Control::Input {
            kind: "date",
            pattern: None,
            minlength: None,
            maxlength: None,
            step: None,
        },
        FieldKind::Integer { .. } => Control::Input {
            kind: "number",
            pattern: None,
            minlength: None,
            maxlength: None,
            step: Some("1"),
        },
        FieldKind::Number { .. } => Control::Input {
            kind: "number",
            pattern: None,
            minlength: None,
            maxlength: None,
            step: Some("any"),
        },
        FieldKind::Text {
            pattern,
            min_length,
            max_length,
        } => Control::Input {
            kind: "text",
            pattern: pattern
                .as_ref()
                .map(|p| p.trim_start_matches('^').trim_end_matches('$').to_string()),
            minlength: *min_length,
            maxlength: *max_length,
            step: None,
        },
    };
    let view = FieldView {
        anchor: anchor(&field.name),
        name: field.name.clone(),
        label: field.title.clone(),
        // Hints written for plugin authors (`YYYY-MM-DD`, code names) are not shown.
        hint: field
            .hint
            .clone()
            .filter(|hint| !hint.contains('`') && !hint.is_ascii()),
        required: field.required,
        finding: drawn.findings.get(&field.name).cloned(),
        value,
        control,
    };
    view.render().unwrap_or_else(|error| {
        tracing::error!(%error, "rendering a form field");
        String::new()
    })
}

/// The applicant's own fields (the same for every procedure).
fn applicant_fields() -> Vec<Field> {
    let text = |name: &str, title: &str, required: bool, pattern: Option<&str>| Field {
        name: format!("applicant.{name}"),
        title: title.into(),
        hint: None,
        required,
        kind: FieldKind::Text {
            pattern: pattern.map(str::to_string),
            min_length: None,
            max_length: Some(512),
        },
    };
    vec![
        text("full_name", "Họ, chữ đệm và tên", true, None),
        text(
            "citizen_id",
            "Số định danh cá nhân",
            true,
            Some("^[0-9]{12}$"),
        ),
        text("phone", "Số điện thoại", false, None),
        text("email", "Thư điện tử", false, None),
        text("address", "Địa chỉ liên hệ", false, None),
    ]
}

fn draw_documents(requirements: &[DocumentRequirement], drawn: &Drawn<'_>) -> String {
    requirements
        .iter()
        .map(|requirement| {
            let name = format!("documents.{}", requirement.id);
            let chosen = drawn.values.get(&format!("{name}.kind"));
            let view = FieldView {
                anchor: anchor(&name),
                name: name.clone(),
                label: requirement.name.clone(),
                hint: Some(
                    requirement
                        .options
                        .iter()
                        .map(|option| option.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" hoặc "),
                ),
                required: requirement.required,
                finding: drawn.findings.get(&name).cloned(),
                value: String::new(),
                control: Control::File {
                    kinds: requirement
                        .options
                        .iter()
                        .enumerate()
                        .map(|(index, option)| {
                            let selected = chosen.map_or(index == 0, |kind| *kind == option.kind);
                            (option.kind.clone(), option.name.clone(), selected)
                        })
                        .collect(),
                },
            };
            view.render().unwrap_or_default()
        })
        .collect()
}

fn filing_page(
    state: &AppState,
    unit: (&str, &str),
    build: &PluginBuild,
    values: &HashMap<String, String>,
    findings: &[Finding],
    files_dropped: bool,
) -> FilingPage {
    let by_target: HashMap<String, String> =
        findings.iter().fold(HashMap::new(), |mut found, finding| {
            found
                .entry(finding.target.clone())
                .and_modify(|message: &mut String| {
                    message.push(' ');
                    message.push_str(&finding.message);
                })
                .or_insert_with(|| finding.message.clone());
            found
        });
    let drawn = Drawn {
        values,
        findings: &by_target,
    };
    let info = &build.info;
    let form_fields = schema_form::fields(&info.form_schema, "form");
    FilingPage {
        unit_code: unit.0.to_string(),
        unit_name: unit.1.to_string(),
        procedure_code: info.code.clone(),
        procedure_name: info.name.clone(),
        form_title: info.form_schema["title"]
            .as_str()
            .unwrap_or("Tờ khai")
            .to_string(),
        applicant_html: applicant_fields().iter().map(|f| draw(f, &drawn)).collect(),
        form_html: form_fields.iter().map(|f| draw(f, &drawn)).collect(),
        documents_html: draw_documents(&info.documents, &drawn),
        findings: findings
            .iter()
            .map(|finding| FindingLink {
                anchor: anchor(&finding.target),
                message: finding.message.clone(),
            })
            .collect(),
        files_dropped,
        max_file_mib: state.document_limits.max_file_bytes / (1024 * 1024),
    }
}

/// The build a unit offers a procedure with, for the citizen.
async fn offered(
    state: &AppState,
    unit: &str,
    code: &str,
) -> Result<(String, Arc<PluginBuild>), PageError> {
    let unit_name = unit_name(state, unit).await?;
    let binding = state
        .registry
        .binding(unit, code)
        .filter(|binding| binding.enabled)
        .ok_or_else(|| PageError::not_found("Đơn vị không tiếp nhận thủ tục này."))?;
    let build = state
        .registry
        .pinned(&binding.build_sha256)
        .await
        .map_err(WorkflowError::from)?;
    Ok((unit_name, build))
}

pub(super) async fn file_form(
    State(state): State<AppState>,
    Path((unit, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (unit_name, build) = offered(&state, &unit, &code).await?;
    let page = filing_page(
        &state,
        (&unit, &unit_name),
        &build,
        &HashMap::new(),
        &[],
        false,
    );
    Ok(render(&page))
}

/// A file the citizen attached to a requirement.
struct Attachment {
    requirement: String,
    file_name: String,
    bytes: Bytes,
}

fn finding(target: &str, message: String) -> Finding {
    Finding {
        target: target.to_string(),
        code: "document-file".into(),
        message,
        severity: Severity::Blocking,
    }
}

/// Files the dossier: the form read back from the generated fields, the applicant, and
/// each attached file declared by its sha256, then stored once the dossier exists.
pub(super) async fn file(
    State(state): State<AppState>,
    Path((unit, code)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (unit_name, build) = offered(&state, &unit, &code).await?;
    let mut multipart = multipart.map_err(|rejection| PageError {
        status: rejection.status(),
        title: "Yêu cầu không hợp lệ",
        message: rejection.body_text(),
    })?;
    let limits = &state.document_limits;
    let mut values: HashMap<String, String> = HashMap::new();
    let mut attachments: Vec<Attachment> = Vec::new();
    let mut local: Vec<Finding> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                return Err(PageError {
                    status: error.status(),
                    title: "Không đọc được hồ sơ gửi lên",
                    message: error.body_text(),
                });
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let requirement = name.strip_prefix("documents.").unwrap_or(&name).to_string();
            let mut field = field;
            let mut bytes = Vec::new();
            let mut too_large = false;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if (bytes.len() + chunk.len()) as u64 > limits.max_file_bytes {
                            too_large = true;
                        } else {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        return Err(PageError {
                            status: error.status(),
                            title: "Không đọc được tệp gửi lên",
                            message: error.body_text(),
                        });
                    }
                }
            }
            if too_large {
                local.push(finding(
                    &name,
                    format!(
                        "Tệp “{file_name}” vượt quá {} MB.",
                        limits.max_file_bytes / (1024 * 1024)
                    ),
                ));
            } else if !bytes.is_empty() {
                attachments.push(Attachment {
                    requirement,
                    file_name,
                    bytes: Bytes::from(bytes),
                });
            }
        } else {
            let text = field.text().await.map_err(|error| PageError {
                status: error.status(),
                title: "Không đọc được hồ sơ gửi lên",
                message: error.body_text(),
            })?;
            values.insert(name, text);
        }
    }
    let info = &build.info;
    let mut documents = Vec::new();
    for attachment in &attachments {
        let target = format!("documents.{}", attachment.requirement);
        let Some(requirement) = info
            .documents
            .iter()
            .find(|requirement| requirement.id == attachment.requirement)
        else {
            continue;
        };
        match ContentType::sniff(&attachment.bytes) {
            Some(kind) if limits.allows(&kind) => {}
            _ => {
                local.push(finding(
                    &target,
                    format!(
                        "Tệp “{}” không phải PDF, JPEG hoặc PNG.",
                        attachment.file_name
                    ),
                ));
                continue;
            }
        }
        let chosen = values.get(&format!("{target}.kind"));
        let option = requirement
            .options
            .iter()
            .find(|option| Some(&option.kind) == chosen)
            .or_else(|| requirement.options.first());
        let Some(option) = option else { continue };
        documents.push(Document {
            kind: option.kind.clone(),
            name: format!("{} ({})", option.name, attachment.file_name),
            sha256: hex::encode(Sha256::digest(&attachment.bytes)),
            size: attachment.bytes.len() as u64,
            digitized: false,
            content_type: None,
        });
    }
    let page = |findings: &[Finding]| {
        render(&filing_page(
            &state,
            (&unit, &unit_name),
            &build,
            &values,
            findings,
            !attachments.is_empty(),
        ))
    };
    if !local.is_empty() {
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page(&local)).into_response());
    }
    let text = |name: &str| {
        values
            .get(&format!("applicant.{name}"))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    let request = FileRequest {
        procedure_code: code.clone(),
        receiving_unit: unit.clone(),
        handling_unit: None,
        channel: Channel::Online,
        applicant: Applicant {
            full_name: text("full_name").unwrap_or_default(),
            citizen_id: text("citizen_id").unwrap_or_default(),
            phone: text("phone"),
            email: text("email"),
            address: text("address"),
        },
        form: schema_form::read(&schema_form::fields(&info.form_schema, "form"), &values),
        documents: documents.clone(),
    };
    let filed = match state.file(&Caller::Anonymous, request).await {
        Ok(filed) => filed,
        Err(WorkflowError::Findings(findings)) => {
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                page(&findings),
            )
                .into_response());
        }
        Err(WorkflowError::BadRequest(message)) => {
            let findings = [finding("applicant.full_name", message)];
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                page(&findings),
            )
                .into_response());
        }
        Err(error) => return Err(error.into()),
    };
    let citizen = Caller::Citizen {
        secret: filed.tracking_secret.clone(),
    };
    for (attachment, document) in attachments.iter().zip(&documents) {
        let bytes = attachment.bytes.clone();
        let body: crate::documents::Body =
            Box::pin(futures::stream::once(async move { Ok(bytes) }));
        if let Err(error) = state
            .attach_component(&citizen, &filed.code, &document.sha256, body)
            .await
        {
            // The dossier is filed; the tracking page shows the file as missing.
            tracing::warn!(%error, code = %filed.code, "storing a file sent with a filing");
        }
    }
    Ok(Redirect::to(&format!(
        "/track?code={}&secret={}&new=1",
        filed.code, filed.tracking_secret
    ))
    .into_response())
}

// ---- tracking ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub(super) struct TrackQuery {
    code: Option<String>,
    secret: Option<String>,
    new: Option<String>,
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    receipt: Option<Receipt>,
    dossier: Option<TrackedDossier>,
    error: Option<String>,
}

struct Receipt {
    code: String,
    secret: String,
}

struct TrackedDossier {
    code: String,
    procedure: String,
    status: String,
    step: String,
    due: String,
    missing: Vec<String>,
    result: Option<TrackedResult>,
    history: Vec<HistoryLine>,
}

struct TrackedResult {
    name: String,
    download: Option<String>,
}

struct HistoryLine {
    at: String,
    status: String,
}

/// The canonical statuses in the words citizens see on the national portal.
fn status_name(status: Status) -> &'static str {
    match status {
        Status::Submitted => "Mới nộp, chờ tiếp nhận",
        Status::Received => "Đã tiếp nhận",
        Status::Refused => "Từ chối tiếp nhận",
        Status::Processing => "Đang giải quyết",
        Status::SupplementRequested => "Chờ bổ sung hồ sơ",
        Status::AwaitingPayment => "Chờ thực hiện nghĩa vụ tài chính",
        Status::WithdrawalRequested => "Xin rút hồ sơ",
        Status::Stopped => "Dừng xử lý",
        Status::Settled => "Đã có kết quả, chờ trả",
        Status::Returned => "Đã trả kết quả",
    }
}

pub(super) async fn track(
    State(state): State<AppState>,
    query: Result<Query<TrackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let query = query.map(|Query(query)| query).unwrap_or(TrackQuery {
        code: None,
        secret: None,
        new: None,
    });
    let (Some(code), Some(secret)) = (
        query
            .code
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        query
            .secret
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
    ) else {
        return Ok(render(&TrackPage {
            receipt: None,
            dossier: None,
            error: None,
        }));
    };
    let not_found = || {
        render(&TrackPage {
            receipt: None,
            dossier: None,
            error: Some("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này.".into()),
        })
    };
    if !is_code(&code) {
        return Ok((axum::http::StatusCode::NOT_FOUND, not_found()).into_response());
    }
    let caller = Caller::Citizen {
        secret: secret.clone(),
    };
    let (record, build, _actor) = match state.dossier_for(&caller, &code).await {
        Ok(found) => found,
        Err(WorkflowError::DossierNotFound(_)) | Err(WorkflowError::Forbidden(_)) => {
            return Ok((axum::http::StatusCode::NOT_FOUND, not_found()).into_response());
        }
        Err(error) => return Err(error.into()),
    };
    let events = state.history(&record.code).await?;
    let step = build
        .info
        .step(&record.step)
        .map(|step| step.name.clone())
        .unwrap_or_else(|| record.step.clone());
    let dossier = TrackedDossier {
        code: record.code.clone(),
        procedure: build.info.name.clone(),
        status: status_name(record.status).to_string(),
        step,
        due: record
            .due_date
            .as_deref()
            .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .map(|day| day.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "Tính từ khi hồ sơ được tiếp nhận".into()),
        missing: Workflow::pending_supplement(&record, &events)
            .into_iter()
            .map(|item| item.message)
            .collect(),
        result: record.result.as_ref().map(|result| TrackedResult {
            name: result.name.clone(),
            download: (record.status == Status::Returned && result.file.is_some())
                .then(|| format!("/api/v1/dossiers/{}/result?secret={}", record.code, secret)),
        }),
        history: events
            .iter()
            .filter(|event| event.from_status != Some(event.to_status))
            .filter_map(|event| {
                Status::from_code(event.to_status).map(|status| HistoryLine {
                    at: parse_civil(&event.at)
                        .map(|at| at.format("%d/%m/%Y %H:%M").to_string())
                        .unwrap_or_else(|| event.at.clone()),
                    status: status_name(status).to_string(),
                })
            })
            .collect(),
    };
    Ok(render(&TrackPage {
        receipt: query.new.is_some().then(|| Receipt {
            code: record.code.clone(),
            secret,
        }),
        dossier: Some(dossier),
        error: None,
    }))
}
