//! Provincial IT's pages (issue 10): the catalog of procedures with every published
//! build, the province default, which unit runs which build and the rollouts;
//! publishing a build by upload; pilots, rollouts and rollbacks behind a confirmation
//! page that says what will change (`changes.rs`); the registry's audit (`audit.rs`).
//!
//! Who may see and do what is the API's rule (`authz::authorize` with
//! `Permission::Publish`, and `ReadRegistryAudit` for the audit), and every change goes
//! through the same registry functions as `POST /api/v1/plugins`, `/api/v1/rollouts`
//! and `/api/v1/rollouts/rollback`.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{CSRF_FIELD, Nav, Staff, encode_component};
use super::{PageError, render};
use crate::api::AppState;
use crate::authz::{Grant, Permission};
use crate::domain::{Level, UnitKind};
use crate::registry::RegistryError;
use crate::runtime::RuntimeError;
use crate::store::{Binding, Unit};
use crate::workflow::WorkflowError;

pub(super) mod audit;
pub(super) mod changes;

/// What the catalog's refusal says when the account may not publish.
const PUBLISHERS_ONLY: &str = "Trang danh mục thủ tục dành cho cán bộ quản trị thủ tục của tỉnh";

/// The API's rule (`api::authorize`) for the signed-in account: its unit as stored, the
/// permission, the province-wide reach. A refusal is a page naming who may.
pub(super) async fn grant(
    state: &AppState,
    staff: &Staff,
    permission: Permission,
    who_may: &str,
) -> Result<Grant, PageError> {
    let home = state
        .store
        .unit(&staff.actor.unit)
        .await
        .map_err(WorkflowError::from)?;
    crate::authz::authorize(&staff.actor, home.as_ref(), permission, None)
        .map_err(|refusal| PageError::forbidden(format!("{who_may} ({refusal}).")))
}

/// The units the grant reaches, by name.
pub(super) async fn units_in_reach(
    state: &AppState,
    grant: &Grant,
) -> Result<Vec<Unit>, PageError> {
    let mut units: Vec<Unit> = state
        .store
        .units()
        .await
        .map_err(WorkflowError::from)?
        .into_iter()
        .filter(|unit| grant.reach.covers(unit))
        .collect();
    units.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(units)
}

/// The bindings of the units in `units`, by unit code, for one procedure (or all).
pub(super) async fn bindings_of(
    state: &AppState,
    units: &[Unit],
    procedure: Option<&str>,
) -> Result<Vec<Binding>, PageError> {
    Ok(state
        .store
        .bindings()
        .await
        .map_err(WorkflowError::from)?
        .into_iter()
        .filter(|binding| units.iter().any(|unit| unit.code == binding.unit))
        .filter(|binding| procedure.is_none_or(|code| binding.procedure_code == code))
        .collect())
}

pub(super) fn unit_name(units: &[Unit], code: &str) -> String {
    units
        .iter()
        .find(|unit| unit.code == code)
        .map_or_else(|| code.to_string(), |unit| unit.name.clone())
}

/// The first 12 hex digits of a sha256: enough to tell builds apart on a page.
pub(super) fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// "1.1.0 (1a2b3c4d5e6f)": a build as pages name it.
pub(super) fn build_label(state: &AppState, sha: &str) -> String {
    match state.registry.build(sha) {
        Some(build) => format!("{} ({})", build.info.plugin_version, short(sha)),
        None => format!("bản dựng {}", short(sha)),
    }
}

pub(super) fn level_name(level: Level) -> &'static str {
    match level {
        Level::Commune => "Cấp xã",
        Level::Province => "Cấp tỉnh",
    }
}

pub(super) fn source_name(source: &str) -> &'static str {
    match source {
        "default" => "Mặc định của tỉnh",
        "pilot" => "Thí điểm",
        "variant" => "Biến thể địa phương",
        _ => "Khác",
    }
}

pub(super) fn scope_name(scope: &str) -> &'static str {
    match scope {
        "pilot" => "Thí điểm",
        "all" => "Toàn tỉnh",
        _ => "Khác",
    }
}

/// A stored civil time ("2026-12-01T09:00:00+07:00") as people read it.
pub(super) fn when(at: &str) -> String {
    crate::clock::parse_civil(at)
        .map(|at| at.format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_else(|| at.to_string())
}

/// The address of a procedure's pages under the catalog.
pub(super) fn procedure_path(code: &str) -> String {
    format!("/staff/catalog/{}", encode_component(code))
}

/// The province default before and after a change.
pub(super) struct DefaultChange {
    pub from: String,
    pub to: String,
}

/// The id of a procedure's section on the catalog page ("p-1-001612").
pub(super) fn anchor(code: &str) -> String {
    let safe: String = code
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("p-{safe}")
}

// ---- refusals -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "catalog_refused.html")]
struct Refused {
    nav: Nav,
    title: &'static str,
    lead: String,
    detail: String,
}

/// A page refusing a change, in the staff pages' frame, with the status the API answers.
pub(super) fn refused(
    staff: &Staff,
    status: StatusCode,
    title: &'static str,
    lead: String,
    detail: String,
) -> Response {
    let page = Refused {
        nav: staff.nav("catalog"),
        title,
        lead,
        detail,
    };
    (status, render(&page)).into_response()
}

/// A registry refusal as a page: the registry's own message under a Vietnamese title,
/// with the status `POST /api/v1/plugins` and `/api/v1/rollouts` answer.
pub(super) fn registry_refused(staff: &Staff, lead: &str, error: RegistryError) -> Response {
    use StatusCode as S;
    let (status, title) = match &error {
        RegistryError::TooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "Tệp quá lớn"),
        RegistryError::VersionClash(_) => (S::CONFLICT, "Phiên bản đã được công bố"),
        RegistryError::NotFound(_) => (S::NOT_FOUND, "Không tìm thấy"),
        RegistryError::Invalid(_) | RegistryError::InvalidSettings(_) => {
            (S::UNPROCESSABLE_ENTITY, "Yêu cầu không hợp lệ")
        }
        RegistryError::Plugin(RuntimeError::Busy { .. }) => {
            (S::SERVICE_UNAVAILABLE, "Máy chủ đang bận")
        }
        RegistryError::Plugin(_) => (S::UNPROCESSABLE_ENTITY, "Bản dựng bị từ chối"),
        RegistryError::SettingsTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "Cấu hình quá lớn"),
        RegistryError::Forbidden(_) => (S::FORBIDDEN, "Không có quyền"),
        RegistryError::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "Bản dựng chưa sẵn sàng"),
        RegistryError::Store(_) => {
            tracing::error!(%error, "a catalog change failed");
            return refused(
                staff,
                S::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống",
                "Đã có lỗi; lỗi đã được ghi lại. Vui lòng thử lại sau.".into(),
                String::new(),
            );
        }
    };
    refused(staff, status, title, lead.to_string(), error.to_string())
}

// ---- the catalog ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    nav: Nav,
    csrf: String,
    /// What the last post did, shown at the top of its procedure's section (where the
    /// redirect lands), or at the top of the page if that procedure has none.
    done: Option<Done>,
    done_elsewhere: bool,
    procedures: Vec<ProcedureView>,
    unavailable: Vec<UnavailableRow>,
}

struct ProcedureView {
    code: String,
    /// `/staff/catalog/<code>`, percent-encoded.
    path: String,
    anchor: String,
    name: String,
    level: &'static str,
    default_label: Option<String>,
    builds: Vec<BuildRow>,
    /// The builds a rollout can take (not local variants), newest first.
    rollable: Vec<BuildOption>,
    /// The units that handle the procedure's level: pilot candidates.
    candidates: Vec<UnitOption>,
    units: Vec<UnitRow>,
    rollouts: Vec<RolloutRow>,
    /// The rollout a rollback would undo.
    latest_open: Option<i64>,
}

struct Done {
    procedure: String,
    text: String,
}

struct BuildRow {
    version: String,
    variant: Option<String>,
    sha_short: String,
    sha: String,
    size_kib: usize,
    published_by: String,
    published_at: String,
    is_default: bool,
    used_by: Vec<String>,
}

struct BuildOption {
    sha: String,
    label: String,
}

struct UnitOption {
    code: String,
    name: String,
}

struct UnitRow {
    name: String,
    build: String,
    source: &'static str,
    enabled: bool,
}

struct RolloutRow {
    id: i64,
    build: String,
    scope: &'static str,
    units: String,
    by: String,
    at: String,
    rolled_back_at: Option<String>,
}

struct UnavailableRow {
    code: String,
    version: String,
    sha_short: String,
    reason: String,
}

pub(super) async fn catalog(
    State(state): State<AppState>,
    staff: Staff,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    let units = units_in_reach(&state, &grant).await?;
    let bindings = bindings_of(&state, &units, None).await?;
    // As `GET /api/v1/plugins`: the compiled builds, with who published each and when.
    let publications = state
        .store
        .publications()
        .await
        .map_err(WorkflowError::from)?;
    let mut procedures: BTreeMap<String, ProcedureView> = BTreeMap::new();
    for (sha, by, at) in &publications {
        let Some(build) = state.registry.build(sha) else {
            continue;
        };
        let code = build.info.procedure_code().to_string();
        let default = state.registry.default_build(&code);
        let view = procedures
            .entry(code.clone())
            .or_insert_with(|| ProcedureView {
                path: procedure_path(&code),
                anchor: anchor(&code),
                name: build.info.name.clone(),
                level: level_name(build.info.level),
                default_label: default.as_deref().map(|sha| build_label(&state, sha)),
                candidates: units
                    .iter()
                    .filter(|unit| unit.kind.handles() == Some(build.info.level))
                    .map(|unit| UnitOption {
                        code: unit.code.clone(),
                        name: unit.name.clone(),
                    })
                    .collect(),
                code,
                builds: Vec::new(),
                rollable: Vec::new(),
                units: Vec::new(),
                rollouts: Vec::new(),
                latest_open: None,
            });
        let is_default = default.as_deref() == Some(sha.as_str());
        if build.info.variant_of.is_none() {
            // The procedure as the province's own build names it, not a variant.
            view.name = build.info.name.clone();
            view.level = level_name(build.info.level);
            view.rollable.insert(
                0,
                BuildOption {
                    sha: sha.clone(),
                    label: format!(
                        "{} · {} · {}",
                        build.info.plugin_version,
                        short(sha),
                        when(at)
                    ),
                },
            );
        }
        view.builds.push(BuildRow {
            version: build.info.plugin_version.clone(),
            variant: build
                .info
                .variant_of
                .as_ref()
                .map(|_| build.info.code.clone()),
            sha_short: short(sha),
            sha: sha.clone(),
            size_kib: build.size.div_ceil(1024),
            published_by: by.clone(),
            published_at: when(at),
            is_default,
            used_by: bindings
                .iter()
                .filter(|binding| &binding.build_sha256 == sha)
                .map(|binding| unit_name(&units, &binding.unit))
                .collect(),
        });
    }
    for view in procedures.values_mut() {
        let mut rows: Vec<UnitRow> = bindings
            .iter()
            .filter(|binding| binding.procedure_code == view.code)
            .map(|binding| UnitRow {
                name: unit_name(&units, &binding.unit),
                build: build_label(&state, &binding.build_sha256),
                source: source_name(&binding.source),
                enabled: binding.enabled,
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        view.units = rows;
        // As `GET /api/v1/rollouts`, keeping to the rollouts of units this account reaches.
        let rollouts = state
            .store
            .rollouts(&view.code)
            .await
            .map_err(WorkflowError::from)?;
        view.latest_open = rollouts
            .iter()
            .find(|rollout| rollout.rolled_back_at.is_none())
            .map(|rollout| rollout.id);
        view.rollouts = rollouts
            .iter()
            .filter(|rollout| {
                rollout.units.is_empty()
                    || rollout
                        .units
                        .iter()
                        .any(|code| units.iter().any(|unit| &unit.code == code))
            })
            .map(|rollout| RolloutRow {
                id: rollout.id,
                build: build_label(&state, &rollout.build_sha256),
                scope: scope_name(&rollout.scope),
                units: names_list(&units, &rollout.units),
                by: rollout.actor_id.clone(),
                at: when(&rollout.at),
                rolled_back_at: rollout.rolled_back_at.as_deref().map(when),
            })
            .collect();
    }
    let unavailable = state
        .registry
        .unavailable()
        .into_iter()
        .map(|build| UnavailableRow {
            sha_short: short(&build.sha256),
            code: build.code,
            version: build.version,
            reason: build.reason,
        })
        .collect();
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let done = done_line(&state, &units, &query).await?;
    let done_elsewhere = done
        .as_ref()
        .is_some_and(|done| !procedures.contains_key(&done.procedure));
    Ok(render(&CatalogPage {
        nav: staff.nav("catalog"),
        csrf: staff.csrf.clone(),
        done,
        done_elsewhere,
        procedures: procedures.into_values().collect(),
        unavailable,
    }))
}

/// Unit names, comma-separated ("—" for none).
pub(super) fn names_list(units: &[Unit], codes: &[String]) -> String {
    if codes.is_empty() {
        return "—".into();
    }
    codes
        .iter()
        .map(|code| unit_name(units, code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line confirming what the last post did, told from the state (never echoed from
/// the address): the build just published, the rollout made, the rollout undone.
async fn done_line(
    state: &AppState,
    units: &[Unit],
    query: &HashMap<String, String>,
) -> Result<Option<Done>, PageError> {
    if let Some(sha) = query.get("published") {
        return Ok(state.registry.build(sha).map(|build| {
            let text = if query.contains_key("again") {
                format!(
                    "Bản dựng {} của thủ tục {} đã được công bố trước đó; không có gì thay đổi.",
                    build_label(state, sha),
                    build.info.procedure_code()
                )
            } else {
                format!(
                    "Đã công bố bản {} của thủ tục “{}” ({}). Bản mới chưa được đơn vị nào dùng cho đến khi triển khai.",
                    build_label(state, sha),
                    build.info.name,
                    build.info.procedure_code()
                )
            };
            Done {
                procedure: build.info.procedure_code().to_string(),
                text,
            }
        }));
    }
    let Some(procedure) = query.get("procedure") else {
        return Ok(None);
    };
    let id_of = |key: &str| query.get(key).and_then(|id| id.parse::<i64>().ok());
    let (id, undone) = match (id_of("rollout"), id_of("rolled_back")) {
        (Some(id), _) => (id, false),
        (None, Some(id)) => (id, true),
        _ => return Ok(None),
    };
    let rollouts = state
        .store
        .rollouts(procedure)
        .await
        .map_err(WorkflowError::from)?;
    let Some(rollout) = rollouts.iter().find(|rollout| rollout.id == id) else {
        return Ok(None);
    };
    let done = |text: String| {
        Some(Done {
            procedure: procedure.clone(),
            text,
        })
    };
    if !undone {
        return Ok(done(format!(
            "Đã triển khai {} bản {} của thủ tục {} (đợt #{}) đến: {}.",
            scope_name(&rollout.scope).to_lowercase(),
            build_label(state, &rollout.build_sha256),
            procedure,
            rollout.id,
            names_list(units, &rollout.units)
        )));
    }
    let now = bindings_of(state, units, Some(procedure)).await?;
    let back: Vec<String> = rollout
        .units
        .iter()
        .map(
            |code| match now.iter().find(|binding| &binding.unit == code) {
                Some(binding) => format!(
                    "{} nay dùng bản {}",
                    unit_name(units, code),
                    build_label(state, &binding.build_sha256)
                ),
                None => format!("{} ngừng tiếp nhận thủ tục", unit_name(units, code)),
            },
        )
        .collect();
    Ok(done(format!(
        "Đã thu hồi đợt triển khai #{} (bản {}) của thủ tục {}: {}.",
        rollout.id,
        build_label(state, &rollout.build_sha256),
        procedure,
        back.join("; ")
    )))
}

// ---- publishing by upload ---------------------------------------------------------------

/// Reads the publishing form (the CSRF field and the component file), checks the CSRF
/// token before anything else, and publishes the bytes through the registry as
/// `POST /api/v1/plugins` does.
pub(super) async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let unreadable = |status: StatusCode, message: String| PageError {
        status,
        title: "Không đọc được biểu mẫu gửi lên",
        message,
    };
    let mut multipart =
        multipart.map_err(|rejection| unreadable(rejection.status(), rejection.body_text()))?;
    let mut csrf = None;
    let mut component: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(unreadable(error.status(), error.body_text())),
        };
        match field.name() {
            Some(CSRF_FIELD) => {
                csrf = Some(
                    field
                        .text()
                        .await
                        .map_err(|error| unreadable(error.status(), error.body_text()))?,
                );
            }
            Some("component") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|error| unreadable(error.status(), error.body_text()))?;
                component = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    staff.check_csrf(csrf.as_deref())?;
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    let Some((file_name, bytes)) = component.filter(|(_, bytes)| !bytes.is_empty()) else {
        return Ok(refused(
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Chưa chọn tệp",
            "Hãy chọn tệp thành phần WebAssembly (.wasm) của bản dựng rồi gửi lại.".into(),
            String::new(),
        ));
    };
    let at = crate::clock::format_civil(state.now());
    match state.registry.publish(bytes, &grant.actor, &at).await {
        Ok((build, created)) => {
            let again = if created { "" } else { "&again=1" };
            Ok(Redirect::to(&format!(
                "/staff/catalog?published={}{again}#{}",
                build.sha256,
                anchor(build.info.procedure_code())
            ))
            .into_response())
        }
        Err(error) => Ok(registry_refused(
            &staff,
            &format!("Hệ thống không nhận tệp “{file_name}”. Lý do kho thủ tục đưa ra:"),
            error,
        )),
    }
}

/// Where a change sends back to: the catalog at the procedure, with what was done.
pub(super) fn back_to_catalog(key: &str, id: i64, procedure: &str) -> Response {
    Redirect::to(&format!(
        "/staff/catalog?{key}={id}&procedure={}#{}",
        encode_component(procedure),
        anchor(procedure)
    ))
    .into_response()
}

/// Whether a unit kind may be a pilot (every unit but the province itself).
pub(super) fn may_pilot(kind: UnitKind) -> bool {
    kind != UnitKind::Province
}
