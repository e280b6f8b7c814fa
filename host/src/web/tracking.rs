//! Tracking a dossier by its code and tracking secret, and what the citizen does from
//! there: completing a supplement (with the files asked for) and rating the returned
//! dossier once. Every form carries the citizen's CSRF token (a double-submit cookie).

use std::collections::HashMap;

#[allow(unused_imports)]
use super::lang::Words;
use askama::Template;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::citizen::{Posted, declare, is_code, read_posted, store_declared};
use super::lang::tr;
use super::session::{CSRF_FIELD, check_citizen_csrf, citizen_csrf, encode_component, with_cookie};
use super::{PageError, render, status_name};
use crate::clock::parse_civil;
use crate::domain::{Finding, Status};
use crate::workflow::rating::RATINGS;
use crate::workflow::{ActionRequest, Caller, Workflow, WorkflowError};

#[derive(Deserialize)]
pub(super) struct TrackQuery {
    code: Option<String>,
    secret: Option<String>,
    new: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    receipt: Option<Receipt>,
    dossier: Option<TrackedDossier>,
    error: Option<String>,
    /// A line confirming what the citizen just did.
    done: Option<&'static str>,
    /// Problems with what the citizen just posted, shown above the form.
    problems: Vec<String>,
    csrf: String,
}

struct Receipt {
    code: String,
    secret: String,
}

struct TrackedDossier {
    code: String,
    secret: String,
    version: i64,
    procedure: String,
    status: String,
    step: String,
    due: String,
    missing: Vec<MissingLine>,
    result: Option<TrackedResult>,
    history: Vec<HistoryLine>,
    /// The action completing the supplement, when the citizen may take it now.
    supplement: Option<SupplementForm>,
    /// Whether the dossier may be rated now, and the rating given if it was.
    can_rate: bool,
    rated: Option<&'static str>,
}

struct MissingLine {
    message: String,
    /// For a missing document: the requirement's field name and its kinds.
    document: Option<MissingDocument>,
}

struct MissingDocument {
    field: String,
    anchor: String,
    label: String,
    /// (kind, name)
    kinds: Vec<(String, String)>,
}

struct SupplementForm {
    action: String,
    label: String,
}

struct TrackedResult {
    name: String,
    download: Option<String>,
}

struct HistoryLine {
    at: String,
    status: String,
}

/// The three levels of the national satisfaction survey, as citizens read them.
pub fn rating_name(rating: &str) -> &'static str {
    match rating {
        "very-satisfied" => tr("Rất hài lòng", "Very satisfied"),
        "satisfied" => tr("Hài lòng", "Satisfied"),
        _ => tr("Không hài lòng", "Dissatisfied"),
    }
}

/// The dossier as its citizen sees it, with what they may do now.
async fn tracked(
    state: &Workflow,
    code: &str,
    secret: &str,
) -> Result<TrackedDossier, WorkflowError> {
    let caller = Caller::Citizen {
        secret: secret.to_string(),
    };
    let (record, build, actor) = state.dossier_for(&caller, code).await?;
    let events = state.history_of(&record).await?;
    let step = build
        .info
        .step(&record.step)
        .map(|step| step.name.clone())
        .unwrap_or_else(|| record.step.clone());
    // The citizen's action that completes the supplement: by name, never another action
    // the step also offers them (a withdrawal is not a supplement).
    let supplement = (record.status == Status::SupplementRequested)
        .then(|| state.available_actions(&build, &record, &actor))
        .and_then(|actions| {
            actions
                .into_iter()
                .find(|(action, _)| action == "complete-supplement")
        })
        .map(|(action, label)| SupplementForm { action, label });
    let mut asked_for = std::collections::HashSet::new();
    let missing = Workflow::pending_supplement(&record, &events)
        .into_iter()
        .map(|item| {
            // Two items about one requirement get one file input.
            let document = Some(&item.target)
                .filter(|target| asked_for.insert(target.to_string()))
                .and_then(|target| target.strip_prefix("documents."))
                .and_then(|id| build.info.documents.iter().find(|r| r.id == id))
                .map(|requirement| MissingDocument {
                    field: format!("documents.{}", requirement.id),
                    anchor: format!("documents-{}", requirement.id),
                    label: requirement.name.clone(),
                    kinds: requirement
                        .options
                        .iter()
                        .map(|option| (option.kind.clone(), option.name.clone()))
                        .collect(),
                });
            MissingLine {
                message: item.message,
                document,
            }
        })
        .collect();
    Ok(TrackedDossier {
        code: record.code.clone(),
        secret: secret.to_string(),
        version: record.version,
        procedure: build.info.name.clone(),
        status: status_name(record.status).to_string(),
        step,
        due: record
            .due_date
            .as_deref()
            .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .map(|day| day.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| {
                tr(
                    "Tính từ khi hồ sơ được tiếp nhận",
                    "Counted from when the dossier is received",
                )
                .into()
            }),
        missing,
        result: record.result.as_ref().map(|result| TrackedResult {
            name: result.name.clone(),
            download: (record.status == Status::Returned && result.file.is_some()).then(|| {
                format!(
                    "/api/v1/dossiers/{}/result?secret={}",
                    record.code,
                    encode_component(secret)
                )
            }),
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
        supplement,
        can_rate: record.status == Status::Returned && record.facts.rating.is_none(),
        rated: record.facts.rating.as_deref().map(rating_name),
    })
}

fn lookup_page(csrf: String, error: Option<String>) -> TrackPage {
    TrackPage {
        receipt: None,
        dossier: None,
        error,
        done: None,
        problems: Vec::new(),
        csrf,
    }
}

fn not_found(csrf: String) -> Response {
    let page = lookup_page(
        csrf,
        Some(
            tr(
                "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này.",
                "No dossier has this dossier code and tracking code.",
            )
            .into(),
        ),
    );
    (StatusCode::NOT_FOUND, render(&page)).into_response()
}

fn trimmed(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

pub(super) async fn track(
    State(state): State<crate::api::AppState>,
    headers: HeaderMap,
    query: Result<Query<TrackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let (csrf, cookie) = citizen_csrf(&headers);
    let query = query.map(|Query(query)| query).unwrap_or(TrackQuery {
        code: None,
        secret: None,
        new: None,
        done: None,
    });
    let (Some(code), Some(secret)) = (trimmed(query.code), trimmed(query.secret)) else {
        return Ok(with_cookie(render(&lookup_page(csrf, None)), cookie));
    };
    if !is_code(&code) {
        return Ok(with_cookie(not_found(csrf), cookie));
    }
    let dossier = match tracked(&state, &code, &secret).await {
        Ok(dossier) => dossier,
        Err(WorkflowError::DossierNotFound(_)) | Err(WorkflowError::Forbidden(_)) => {
            return Ok(with_cookie(not_found(csrf), cookie));
        }
        Err(error) => return Err(error.into()),
    };
    let page = TrackPage {
        receipt: query.new.is_some().then(|| Receipt {
            code: dossier.code.clone(),
            secret: secret.clone(),
        }),
        dossier: Some(dossier),
        error: None,
        done: match query.done.as_deref() {
            Some("supplement") => Some(tr(
                "Đã gửi bổ sung. Hồ sơ được tiếp tục giải quyết.",
                "Supplement sent. The dossier is being handled again.",
            )),
            Some("rating") => Some(tr("Cảm ơn bạn đã đánh giá.", "Thank you for your rating.")),
            _ => None,
        },
        problems: Vec::new(),
        csrf,
    };
    Ok(with_cookie(render(&page), cookie))
}

fn back_to(code: &str, secret: &str, done: &str) -> Response {
    Redirect::to(&format!(
        "/track?code={}&secret={}&done={done}",
        encode_component(code),
        encode_component(secret)
    ))
    .into_response()
}

/// The tracking page again with what went wrong, the dossier as it is now.
async fn with_problems(
    state: &Workflow,
    code: &str,
    secret: &str,
    csrf: &str,
    status: StatusCode,
    problems: Vec<String>,
) -> Result<Response, PageError> {
    let dossier = tracked(state, code, secret).await?;
    let page = TrackPage {
        receipt: None,
        dossier: Some(dossier),
        error: None,
        done: None,
        problems,
        csrf: csrf.to_string(),
    };
    Ok((status, render(&page)).into_response())
}

/// Words for a refusal of the citizen's post.
fn refusal_text(error: &WorkflowError) -> String {
    match error {
        WorkflowError::StaleVersion { .. } => {
            tr(
                "Hồ sơ vừa được cập nhật trong lúc bạn điền. Trang dưới đây là trạng thái mới nhất; hãy kiểm tra và gửi lại.",
                "The dossier changed while you were filling in the form. Below is how it is now; check it and send again.",
            )
            .into()
        }
        WorkflowError::Findings(findings) => findings
            .iter()
            .map(|finding| finding.message.clone())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Completes a supplement: the files asked for are declared with the action, then
/// stored, as the API's action and `PUT …/documents/{sha256}` would.
pub(super) async fn supplement(
    State(state): State<crate::api::AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let mut multipart =
        multipart.map_err(|rejection| PageError::bad_request(rejection.body_text()))?;
    let Posted {
        values,
        attachments,
        findings_before: mut findings,
    } = read_posted(&mut multipart, state.document_limits.max_file_bytes).await?;
    check_citizen_csrf(&headers, values.get(CSRF_FIELD).map(String::as_str))?;
    let field = |name: &str| {
        values
            .get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (code, secret) = (field("code"), field("secret"));
    if !is_code(&code) || secret.is_empty() {
        return Err(PageError::not_found(tr(
            "Không tìm thấy hồ sơ.",
            "Dossier not found.",
        )));
    }
    let csrf = field(CSRF_FIELD);
    let caller = Caller::Citizen {
        secret: secret.clone(),
    };
    let (_, build, _) = state
        .dossier_for(&caller, &code)
        .await
        .map_err(|error| match error {
            WorkflowError::Forbidden(_) => {
                PageError::not_found(tr("Không tìm thấy hồ sơ.", "Dossier not found."))
            }
            other => other.into(),
        })?;
    let declared = declare(
        &attachments,
        &build.info.documents,
        &values,
        &state.document_limits,
        &mut findings,
    );
    if !findings.is_empty() {
        let problems = findings.into_iter().map(|f: Finding| f.message).collect();
        return with_problems(
            &state,
            &code,
            &secret,
            &csrf,
            StatusCode::UNPROCESSABLE_ENTITY,
            problems,
        )
        .await;
    }
    let documents: Vec<_> = declared
        .iter()
        .map(|(_, document)| document.clone())
        .collect();
    let request = ActionRequest {
        code: code.clone(),
        action: field("action"),
        note: field("note"),
        payload: if documents.is_empty() {
            json!({})
        } else {
            json!({ "documents": documents })
        },
        if_match: field("version").parse().ok(),
    };
    match state.act(&caller, request).await {
        Ok(_) => {}
        Err(
            error @ (WorkflowError::StaleVersion { .. }
            | WorkflowError::VersionRequired
            | WorkflowError::Findings(_)
            | WorkflowError::BadRequest(_)
            | WorkflowError::Forbidden(_)),
        ) => {
            let status = if matches!(error, WorkflowError::StaleVersion { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return with_problems(
                &state,
                &code,
                &secret,
                &csrf,
                status,
                vec![refusal_text(&error)],
            )
            .await;
        }
        Err(error) => return Err(error.into()),
    }
    store_declared(&state, &caller, &code, declared).await;
    Ok(back_to(&code, &secret, "supplement"))
}

/// The citizen's one rating of a returned dossier.
pub(super) async fn rate(
    State(state): State<crate::api::AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    check_citizen_csrf(&headers, form.get(CSRF_FIELD).map(String::as_str))?;
    let field = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (code, secret) = (field("code"), field("secret"));
    if !is_code(&code) || secret.is_empty() {
        return Err(PageError::not_found(tr(
            "Không tìm thấy hồ sơ.",
            "Dossier not found.",
        )));
    }
    let rating = field("rating");
    let csrf = field(CSRF_FIELD);
    if !RATINGS.contains(&rating.as_str()) {
        return with_problems(
            &state,
            &code,
            &secret,
            &csrf,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![tr("Hãy chọn một mức đánh giá.", "Choose one of the ratings.").into()],
        )
        .await;
    }
    let caller = Caller::Citizen {
        secret: secret.clone(),
    };
    match state.rate(&caller, &code, &rating, &field("comment")).await {
        Ok(_) => Ok(back_to(&code, &secret, "rating")),
        Err(WorkflowError::BadRequest(_)) => {
            let problem = tr(
                "Không ghi nhận được đánh giá: mỗi hồ sơ được đánh giá một lần, sau khi đã trả kết quả.",
                "The rating was not recorded: a dossier is rated once, after its result is returned.",
            );
            with_problems(
                &state,
                &code,
                &secret,
                &csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![problem.into()],
            )
            .await
        }
        Err(WorkflowError::Forbidden(_)) | Err(WorkflowError::DossierNotFound(_)) => Err(
            PageError::not_found(tr("Không tìm thấy hồ sơ.", "Dossier not found.")),
        ),
        Err(error) => Err(error.into()),
    }
}
