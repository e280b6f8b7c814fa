//! The citizen portal, without login: the units, the procedures a unit offers, the
//! filing form generated from the procedure's form schema with its documents, the
//! findings at their fields, the receipt, and tracking by code and secret.

use std::collections::HashMap;
use std::sync::Arc;

#[allow(unused_imports)]
use super::lang::Words;
use super::lang::{tr, tr_owned};
use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::schema_form::{self, Field, FieldKind};
use super::session::{CSRF_FIELD, check_citizen_csrf, citizen_csrf, with_cookie};
use super::{PageError, render};
use crate::api::AppState;
use crate::documents::ContentType;
use crate::domain::{
    Applicant, Channel, Document, DocumentRequirement, Finding, Level, ProcessingTime, Severity,
    UnitKind,
};
use crate::runtime::PluginBuild;
use crate::workflow::{Caller, FileRequest, WorkflowError};

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

pub(super) fn kind_name(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Province => tr("Tỉnh", "Province"),
        UnitKind::Department => tr("Sở, ngành", "Department"),
        UnitKind::Ward => tr("Phường", "Ward"),
        UnitKind::Commune => tr("Xã", "Commune"),
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
    /// The department that handles it, for a province-level procedure this counter
    /// receives.
    handled_by: Option<String>,
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
    format!(
        "{} {}",
        crate::fees::group_digits(amount),
        tr("đồng", "VND")
    )
}

fn procedure_card(build: &PluginBuild, handled_by: Option<String>) -> ProcedureCard {
    let info = &build.info;
    ProcedureCard {
        handled_by,
        code: info.code.clone(),
        name: info.name.clone(),
        level: match info.level {
            Level::Commune => tr("Cấp xã", "Commune level"),
            Level::Province => tr("Cấp tỉnh", "Province level"),
        },
        time: match info.processing_time {
            ProcessingTime::SameDay => tr("Trong ngày làm việc", "Within the working day").into(),
            ProcessingTime::WorkingDays(days) => {
                format!("{days} {}", tr("ngày làm việc", "working days"))
            }
        },
        fees: if info.fees.is_empty() {
            vec![tr("Không", "None").into()]
        } else {
            info.fees
                .iter()
                .map(|fee| {
                    // A schedule that depends on the form is shown in its own words.
                    let amount = match fee.schedule.fixed_amount() {
                        Some(0) => tr("miễn", "waived").to_string(),
                        Some(amount) => vnd(amount),
                        None => fee.schedule.describe(),
                    };
                    let mut line = format!("{}: {amount}", fee.name);
                    if !fee.schedule.exemptions.is_empty() {
                        line.push_str(&format!(
                            " ({} {})",
                            tr("miễn, giảm:", "exempt or reduced:"),
                            fee.schedule.exemptions.join("; ")
                        ));
                    }
                    line
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
                    .join(tr(" hoặc ", " or ")),
            })
            .collect(),
    }
}

pub(super) fn is_code(value: &str) -> bool {
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
    let (unit, departments) = counter(&state, &code).await?;
    let names: HashMap<&str, &str> = departments
        .iter()
        .map(|department| (department.code.as_str(), department.name.as_str()))
        .collect();
    let procedures = state
        .registry
        .receivable(&unit, &departments)
        .iter()
        .map(|receivable| {
            let handled_by = receivable
                .handled_by
                .as_deref()
                .map(|code| names.get(code).copied().unwrap_or(code).to_string());
            procedure_card(&receivable.build, handled_by)
        })
        .collect();
    Ok(render(&UnitPage {
        unit_code: code,
        unit_name: unit.name,
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
    csrf: String,
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

pub(super) fn anchor(name: &str) -> String {
    name.replace('.', "-")
}

/// Labels of common coded values; others are shown as they are.
fn choice_label(value: &str) -> String {
    match value {
        "male" => tr("Nam", "Male"),
        "female" => tr("Nữ", "Female"),
        other => other,
    }
    .to_string()
}

/// What the page knows when it is drawn: the posted values and the findings by target.
pub(super) struct Drawn<'a> {
    pub(super) values: &'a HashMap<String, String>,
    pub(super) findings: &'a HashMap<String, String>,
}

pub(super) fn draw(field: &Field, drawn: &Drawn<'_>) -> String {
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
        text(
            "full_name",
            tr("Họ, chữ đệm và tên", "Full name"),
            true,
            None,
        ),
        text(
            "citizen_id",
            tr("Số định danh cá nhân", "Personal identification number"),
            true,
            Some("^[0-9]{12}$"),
        ),
        text("phone", tr("Số điện thoại", "Phone"), false, None),
        text("email", tr("Thư điện tử", "E-mail"), false, None),
        text("address", tr("Địa chỉ liên hệ", "Address"), false, None),
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
                        .join(tr(" hoặc ", " or ")),
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
    csrf: &str,
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
            .unwrap_or(tr("Tờ khai", "Form"))
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
        csrf: csrf.to_string(),
    }
}

/// A unit, and the departments of its province whose province-level procedures its
/// counter receives.
async fn counter(
    state: &AppState,
    code: &str,
) -> Result<(crate::store::Unit, Vec<crate::store::Unit>), PageError> {
    let missing = || PageError::not_found(tr("Không có đơn vị này.", "There is no such unit."));
    if !is_code(code) {
        return Err(missing());
    }
    state
        .store
        .counter(code)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(missing)
}

/// The build a unit's counter receives a procedure with, for the citizen, and the unit
/// that handles it when that is another (a department, for a province-level procedure).
async fn offered(
    state: &AppState,
    unit: &str,
    code: &str,
) -> Result<(String, Arc<PluginBuild>, Option<String>), PageError> {
    let (listed, departments) = counter(state, unit).await?;
    let receivable = state
        .registry
        .receivable(&listed, &departments)
        .into_iter()
        .find(|receivable| receivable.binding.procedure_code == code);
    let handled_by = receivable
        .as_ref()
        .and_then(|receivable| receivable.handled_by.clone());
    let binding = receivable
        .map(|receivable| receivable.binding)
        .ok_or_else(|| {
            PageError::not_found(tr(
                "Đơn vị không tiếp nhận thủ tục này.",
                "This unit does not accept this procedure.",
            ))
        })?;
    let build = state
        .registry
        .pinned(&binding.build_sha256)
        .await
        .map_err(WorkflowError::from)?;
    Ok((listed.name, build, handled_by))
}

pub(super) async fn file_form(
    State(state): State<AppState>,
    Path((unit, code)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (unit_name, build, _) = offered(&state, &unit, &code).await?;
    let (csrf, cookie) = citizen_csrf(&headers);
    let page = filing_page(
        &state,
        (&unit, &unit_name),
        &build,
        &HashMap::new(),
        &[],
        false,
        &csrf,
    );
    Ok(with_cookie(render(&page), cookie))
}

/// A file the citizen attached to a requirement.
pub(super) struct Attachment {
    pub requirement: String,
    pub file_name: String,
    pub bytes: Bytes,
}

fn finding(target: &str, message: String) -> Finding {
    Finding {
        target: target.to_string(),
        code: "document-file".into(),
        message,
        severity: Severity::Blocking,
    }
}

/// What a console form posted as `multipart/form-data`: its text fields, its files
/// (each within the per-file cap), and a finding for each file over the cap.
pub(super) struct Posted {
    pub values: HashMap<String, String>,
    pub attachments: Vec<Attachment>,
    pub findings_before: Vec<Finding>,
}

pub(super) async fn read_posted(
    multipart: &mut Multipart,
    max_file_bytes: u64,
) -> Result<Posted, PageError> {
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
                    title: tr(
                        "Không đọc được hồ sơ gửi lên",
                        "The dossier sent could not be read",
                    ),
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
                        if (bytes.len() + chunk.len()) as u64 > max_file_bytes {
                            too_large = true;
                        } else {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        return Err(PageError {
                            status: error.status(),
                            title: tr(
                                "Không đọc được tệp gửi lên",
                                "The file sent could not be read",
                            ),
                            message: error.body_text(),
                        });
                    }
                }
            }
            if too_large {
                local.push(finding(
                    &name,
                    tr_owned(
                        format!(
                            "Tệp “{file_name}” vượt quá {} MB.",
                            max_file_bytes / (1024 * 1024)
                        ),
                        format!(
                            "The file “{file_name}” is over {} MB.",
                            max_file_bytes / (1024 * 1024)
                        ),
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
                title: tr(
                    "Không đọc được hồ sơ gửi lên",
                    "The dossier sent could not be read",
                ),
                message: error.body_text(),
            })?;
            values.insert(name, text);
        }
    }
    Ok(Posted {
        values,
        attachments,
        findings_before: local,
    })
}

/// Declares each attached file under its requirement: its type recognised from its
/// bytes (a finding at the requirement when it is not allowed), the kind the citizen
/// chose, its sha256 and size. Files for requirements the build does not have are left
/// out. Returns each file's bytes with its declaration.
pub(super) fn declare(
    attachments: &[Attachment],
    requirements: &[DocumentRequirement],
    values: &HashMap<String, String>,
    limits: &crate::documents::DocumentLimits,
    findings: &mut Vec<Finding>,
) -> Vec<(Bytes, Document)> {
    let mut declared = Vec::new();
    for attachment in attachments {
        let target = format!("documents.{}", attachment.requirement);
        let Some(requirement) = requirements
            .iter()
            .find(|requirement| requirement.id == attachment.requirement)
        else {
            continue;
        };
        match ContentType::sniff(&attachment.bytes) {
            Some(kind) if limits.allows(&kind) => {}
            _ => {
                findings.push(finding(
                    &target,
                    tr_owned(
                        format!(
                            "Tệp “{}” không phải PDF, JPEG hoặc PNG.",
                            attachment.file_name
                        ),
                        format!(
                            "The file “{}” is not a PDF, JPEG or PNG.",
                            attachment.file_name
                        ),
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
        declared.push((
            attachment.bytes.clone(),
            Document {
                kind: option.kind.clone(),
                name: format!("{} ({})", option.name, attachment.file_name),
                sha256: hex::encode(Sha256::digest(&attachment.bytes)),
                size: attachment.bytes.len() as u64,
                digitized: false,
                content_type: None,
            },
        ));
    }
    declared
}

/// Stores the declared files once the dossier holds their declarations, as
/// `PUT …/documents/{sha256}` would. A file that fails to store is logged: the dossier
/// stands, and its tracking page shows the file as missing.
pub(super) async fn store_declared(
    state: &AppState,
    citizen: &Caller,
    code: &str,
    declared: Vec<(Bytes, Document)>,
) {
    for (bytes, document) in declared {
        let body: crate::documents::Body =
            Box::pin(futures::stream::once(async move { Ok(bytes) }));
        if let Err(error) = state
            .attach_component(citizen, code, &document.sha256, body)
            .await
        {
            tracing::warn!(%error, %code, "storing a file sent from a console form");
        }
    }
}

/// Files the dossier: the form read back from the generated fields, the applicant, and
/// each attached file declared by its sha256, then stored once the dossier exists.
pub(super) async fn file(
    State(state): State<AppState>,
    Path((unit, code)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (unit_name, build, handled_by) = offered(&state, &unit, &code).await?;
    let mut multipart = multipart.map_err(|rejection| PageError {
        status: rejection.status(),
        title: tr("Yêu cầu không hợp lệ", "Request not accepted"),
        message: rejection.body_text(),
    })?;
    let limits = &state.document_limits;
    let Posted {
        values,
        attachments,
        findings_before: mut local,
    } = read_posted(&mut multipart, limits.max_file_bytes).await?;
    check_citizen_csrf(&headers, values.get(CSRF_FIELD).map(String::as_str))?;
    let info = &build.info;
    let declared = declare(&attachments, &info.documents, &values, limits, &mut local);
    let documents: Vec<Document> = declared
        .iter()
        .map(|(_, document)| document.clone())
        .collect();
    let page = |findings: &[Finding]| {
        render(&filing_page(
            &state,
            (&unit, &unit_name),
            &build,
            &values,
            findings,
            !attachments.is_empty(),
            values.get(CSRF_FIELD).map_or("", String::as_str),
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
        handling_unit: handled_by,
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
    store_declared(&state, &citizen, &filed.code, declared).await;
    Ok(Redirect::to(&format!(
        "/track?code={}&secret={}&new=1",
        filed.code, filed.tracking_secret
    ))
    .into_response())
}
