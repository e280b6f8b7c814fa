//! The web console: pages for people who do not use curl, served by the same binary at
//! `/` (docs/decisions/0019-web-console.md). Server-rendered askama templates (checked at
//! compile time, escaping every value) beside this module in `templates/`; the one
//! stylesheet is embedded, nothing is fetched from elsewhere. The pages call the same
//! workflow as the API, so tenancy and every check are the API's.
//!
//! So far: the citizen portal (`citizen.rs`): the procedures a unit offers, the filing
//! form generated from the plugin's form schema (`schema_form.rs`) with its documents,
//! findings at their fields, the receipt and tracking.

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
#[allow(unused_imports)]
use lang::Words;
use lang::tr;

use crate::api::AppState;
use crate::domain::Status;
use crate::workflow::WorkflowError;

mod catalog;
mod citizen;
mod dashboard;
pub mod lang;
mod officer;
pub mod schema_form;
pub mod session;
mod tracking;
mod unit_admin;

/// The console's routes; `api::app` serves them behind the same front door.
pub fn routes() -> Router<AppState> {
    let citizen = Router::new()
        .route("/", get(citizen::home))
        .route("/units/{unit}", get(citizen::unit))
        .route(
            "/units/{unit}/procedures/{code}/file",
            get(citizen::file_form).post(citizen::file),
        )
        .route("/track", get(tracking::track))
        .route("/track/supplement", post(tracking::supplement))
        .route("/track/rating", post(tracking::rate))
        .route(
            "/sign-in",
            get(session::sign_in_form).post(session::sign_in),
        )
        .route("/lang/{code}", get(lang::switch))
        // The citizens' pages speak the language their cookie chose; staff pages are
        // Vietnamese.
        .layer(middleware::from_fn(lang::layer));
    let staff = Router::new()
        .route("/staff", get(session::staff_home))
        .route("/staff/sign-out", post(session::sign_out))
        .route("/staff/dashboard", get(dashboard::dashboard))
        .route("/staff/catalog", get(catalog::catalog))
        .route("/staff/catalog/publish", post(catalog::publish))
        .route("/staff/catalog/audit", get(catalog::audit::audit))
        .route(
            "/staff/catalog/{procedure}/rollout",
            get(catalog::changes::rollout_confirm).post(catalog::changes::rollout),
        )
        .route(
            "/staff/catalog/{procedure}/rollback",
            get(catalog::changes::rollback_confirm).post(catalog::changes::rollback),
        )
        .route("/staff/inbox", get(officer::inbox))
        .route("/staff/dossiers/{code}", get(officer::dossier))
        .route("/staff/dossiers/{code}/actions", post(officer::act))
        .route(
            "/staff/dossiers/{code}/documents/{sha256}",
            get(officer::document),
        )
        .route("/staff/dossiers/{code}/result", get(officer::result))
        .route("/staff/unit", get(unit_admin::start))
        .route("/staff/units/{unit}", get(unit_admin::unit))
        .route("/staff/units/{unit}/cutoff", post(unit_admin::cutoff))
        .route(
            "/staff/units/{unit}/procedures/{code}",
            post(unit_admin::configure),
        )
        .route(
            "/staff/units/{unit}/procedures/{code}/settings",
            get(unit_admin::settings_form).post(unit_admin::save_settings),
        )
        .route(
            "/staff/units/{unit}/accounts",
            get(unit_admin::accounts_page).post(unit_admin::create_account),
        )
        .route(
            "/staff/units/{unit}/accounts/password",
            get(unit_admin::password_form).post(unit_admin::set_password),
        )
        .route(
            "/staff/units/{unit}/accounts/revoke",
            get(unit_admin::revoke_form).post(unit_admin::revoke),
        );
    citizen
        .merge(staff)
        .route("/assets/console.css", get(stylesheet))
        .layer(middleware::from_fn(security_headers))
}

const STYLESHEET: &str = include_str!("assets/console.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Every page: only this origin's stylesheet, no scripts, no framing, no sniffing, and
/// no referrer (tracking pages carry the tracking secret in their address).
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The canonical statuses in the words citizens see on the national portal.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Submitted => tr(
            "Mới nộp, chờ tiếp nhận",
            "Submitted, waiting to be received",
        ),
        Status::Received => tr("Đã tiếp nhận", "Received"),
        Status::Refused => tr("Từ chối tiếp nhận", "Refused at intake"),
        Status::Processing => tr("Đang giải quyết", "Being processed"),
        Status::SupplementRequested => tr("Chờ bổ sung hồ sơ", "Waiting for a supplement"),
        Status::AwaitingPayment => tr("Chờ thực hiện nghĩa vụ tài chính", "Waiting for payment"),
        Status::WithdrawalRequested => tr("Xin rút hồ sơ", "Withdrawal requested"),
        Status::Stopped => tr("Dừng xử lý", "Stopped"),
        Status::Settled => tr(
            "Đã có kết quả, chờ trả",
            "Result ready, waiting to be returned",
        ),
        Status::Returned => tr("Đã trả kết quả", "Result returned"),
    }
}

/// A page that could not be shown, as a page (not a problem document): people read it.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    title: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl PageError {
    /// A form posted without its CSRF token (or with another session's).
    pub fn csrf() -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: tr("Biểu mẫu không hợp lệ", "Form not accepted"),
            message: tr("Biểu mẫu này đã hết hạn hoặc không được gửi từ trang của hệ thống. Hãy mở lại trang và gửi lại.", "This form has expired or was not sent from this site's page. Open the page again and send it again.").into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: tr("Không có quyền", "Not allowed"),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: tr("Yêu cầu không hợp lệ", "Request not accepted"),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            title: tr("Không tìm thấy", "Not found"),
            message: message.into(),
        }
    }
}

impl From<WorkflowError> for PageError {
    fn from(error: WorkflowError) -> Self {
        let message = error.to_string();
        let (status, title) = match &error {
            WorkflowError::DossierNotFound(_) | WorkflowError::UnknownUnit(_) => {
                (StatusCode::NOT_FOUND, tr("Không tìm thấy", "Not found"))
            }
            WorkflowError::UnknownProcedure { .. } => (
                StatusCode::NOT_FOUND,
                tr(
                    "Thủ tục không được tiếp nhận",
                    "Procedure not accepted here",
                ),
            ),
            WorkflowError::Unauthenticated | WorkflowError::Forbidden(_) => {
                (StatusCode::FORBIDDEN, tr("Không có quyền", "Not allowed"))
            }
            WorkflowError::Plugin(_)
            | WorkflowError::BuildUnavailable(_)
            | WorkflowError::Content(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                tr(
                    "Dịch vụ tạm thời gián đoạn",
                    "Service temporarily unavailable",
                ),
            ),
            WorkflowError::Store(_) => {
                tracing::error!(%error, "a console page failed");
                return PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: tr("Lỗi hệ thống", "System error"),
                    message: tr(
                        "Đã có lỗi; lỗi đã được ghi lại. Vui lòng thử lại sau.",
                        "Something went wrong; it has been logged. Please try again later.",
                    )
                    .into(),
                };
            }
            _ => (
                StatusCode::UNPROCESSABLE_ENTITY,
                tr("Yêu cầu không hợp lệ", "Request not accepted"),
            ),
        };
        PageError {
            status,
            title,
            message,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title,
            message: &self.message,
        };
        (self.status, render(&page)).into_response()
    }
}

/// A template as a page; a template that fails to render is logged and answered 500.
fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a console page");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
        }
    }
}
