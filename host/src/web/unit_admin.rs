//! The unit admin's pages (issue 10, point 4): a unit's procedures (offered or not, the
//! build in force, a local variant and back to the province default) and its cut-off
//! hour (here), each procedure's settings in a form generated from its settings schema
//! (`unit_admin/settings.rs`), and its staff accounts (`unit_admin/accounts.rs`).
//!
//! Every change calls the function the JSON API calls (`Registry::configure_unit`,
//! `registry::set_cutoff`, `accounts::create`/`revoke`) under the same rule
//! (`authz::authorize` with `ConfigureUnit` or `ManageAccounts` on the unit), and answers
//! 303 back to the page with a line saying what changed. A refused change is shown on
//! the page it came from, with what was typed, and changes nothing.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::citizen::kind_name;
use super::session::{Nav, Staff, encode_component};
use super::{PageError, render};
use crate::api::AppState;
use crate::authz::{self, Permission, Reach};
use crate::registry::{self, RegistryError, UnitChange};
use crate::runtime::PluginBuild;
use crate::store::{Binding, Unit};
use crate::workflow::WorkflowError;

mod accounts;
mod passwords;
mod settings;
pub(super) use accounts::{accounts_page, create_account, revoke, revoke_form};
pub(super) use passwords::{password_form, set_password};
pub(super) use settings::{save_settings, settings_form};

/// The unit `code`, if `staff` may act on it with `permission`: the API's lookups and
/// rule (an unknown unit is 404, then `authz::authorize` decides), as a page.
async fn admin_of(
    state: &AppState,
    staff: &Staff,
    permission: Permission,
    code: &str,
) -> Result<Unit, PageError> {
    let not_found = || PageError::not_found("Không có đơn vị này.");
    if !is_code(code) {
        return Err(not_found());
    }
    let target = state
        .store
        .unit(code)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(not_found)?;
    let home = state
        .store
        .unit(&staff.actor.unit)
        .await
        .map_err(WorkflowError::from)?;
    authz::authorize(&staff.actor, home.as_ref(), permission, Some(&target)).map_err(|_| {
        PageError::forbidden(format!(
            "Tài khoản {} không quản trị {}. Chỉ quản trị của đơn vị đó hoặc của tỉnh mới xem và thay đổi được trang này.",
            staff.actor.id, target.name
        ))
    })?;
    Ok(target)
}

/// A unit or procedure code as the API accepts them in a path.
fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn at(state: &AppState) -> String {
    crate::clock::format_civil(state.now())
}

/// A stored civil time (`2026-12-01T09:00:00+07:00`) as people read it.
fn civil_text(text: &str) -> String {
    crate::clock::parse_civil(text)
        .map(|at| at.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
}

/// 100000 → "100.000".
fn grouped(number: &str) -> String {
    let (sign, digits) = number
        .strip_prefix('-')
        .map_or(("", number), |rest| ("-", rest));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return number.to_string();
    }
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push('.');
        }
        out.push(digit);
    }
    format!("{sign}{out}")
}

fn sha_prefix(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}

// ---- the unit admin's start: their unit, or the province's units ---------------------

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    nav: Nav,
    units: Vec<UnitLine>,
}

struct UnitLine {
    code: String,
    name: String,
    kind: &'static str,
}

/// `GET /staff/unit`: a unit's admin goes to their unit; a province admin chooses one
/// of the units their reach covers.
pub(super) async fn start(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let home = state
        .store
        .unit(&staff.actor.unit)
        .await
        .map_err(WorkflowError::from)?;
    let grant = authz::authorize(&staff.actor, home.as_ref(), Permission::ConfigureUnit, None)
        .map_err(|_| {
            PageError::forbidden("Trang đơn vị dành cho quản trị đơn vị và quản trị của tỉnh.")
        })?;
    if let Reach::Unit(code) = &grant.reach {
        return Ok(Redirect::to(&format!("/staff/units/{code}")).into_response());
    }
    let mut units: Vec<Unit> = state
        .store
        .units()
        .await
        .map_err(WorkflowError::from)?
        .into_iter()
        .filter(|unit| grant.reach.covers(unit))
        .collect();
    // The province first, then its units by name.
    units.sort_by(|a, b| (a.parent.is_some(), &a.name).cmp(&(b.parent.is_some(), &b.name)));
    Ok(render(&UnitsPage {
        nav: staff.nav("unit"),
        units: units
            .into_iter()
            .map(|unit| UnitLine {
                kind: kind_name(unit.kind),
                code: unit.code,
                name: unit.name,
            })
            .collect(),
    }))
}

// ---- the unit page: procedures and cut-off ------------------------------------------------

#[derive(Template)]
#[template(path = "admin_unit.html")]
struct UnitPage {
    nav: Nav,
    csrf: String,
    unit: UnitFacts,
    /// What the last change did.
    done: Option<String>,
    /// Why the last change was refused.
    error: Option<String>,
    handles_procedures: bool,
    procedures: Vec<ProcedureRow>,
    /// The cut-off as typed (or as stored), and why it was refused.
    cutoff: String,
    cutoff_error: Option<String>,
    /// Whether the admin reaches the whole province (a way back to its units).
    province_admin: bool,
}

struct UnitFacts {
    code: String,
    name: String,
    kind: &'static str,
    agency_id: String,
    cutoff: String,
}

struct ProcedureRow {
    code: String,
    /// The row's id: `p-` and the code with dots as dashes.
    id: String,
    name: String,
    offered: bool,
    build: Option<BuildFacts>,
    /// The build's own name, when it is not the procedure's (a variant's).
    build_name: Option<String>,
    /// The build bound is not loaded on this host.
    unloaded: Option<String>,
    /// The province default and each local variant; empty when there is no variant.
    choices: Vec<Choice>,
    has_settings: bool,
}

struct BuildFacts {
    version: String,
    sha: String,
    source: &'static str,
    name: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn source_name(source: &str) -> &'static str {
    match source {
        "default" => "Mặc định của tỉnh",
        "pilot" => "Thí điểm của tỉnh",
        "variant" => "Phiên bản riêng của đơn vị",
        _ => "Khác",
    }
}

fn row_id(code: &str) -> String {
    format!("p-{}", code.replace(['.', '/'], "-"))
}

/// Whether a settings schema has anything to set.
fn has_settings(build: &PluginBuild) -> bool {
    build.info.settings_schema["properties"]
        .as_object()
        .is_some_and(|properties| !properties.is_empty())
}

/// Every procedure the province offers at this unit's level (its default builds of
/// that level) and every procedure the unit is bound to, with the binding.
async fn procedures_of(
    state: &AppState,
    unit: &Unit,
) -> Result<Vec<(String, Option<Binding>)>, PageError> {
    let bindings = state.registry.unit_bindings(&unit.code);
    let mut codes: Vec<String> = bindings
        .iter()
        .map(|binding| binding.procedure_code.clone())
        .collect();
    let level = unit.kind.handles();
    for (code, sha) in state
        .store
        .province_defaults()
        .await
        .map_err(WorkflowError::from)?
    {
        let at_level = state
            .registry
            .build(&sha)
            .is_some_and(|build| Some(build.info.level) == level);
        if at_level && !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes.sort();
    Ok(codes
        .into_iter()
        .map(|code| {
            let binding = bindings
                .iter()
                .find(|binding| binding.procedure_code == code)
                .cloned();
            (code, binding)
        })
        .collect())
}

fn procedure_row(state: &AppState, code: String, binding: Option<Binding>) -> ProcedureRow {
    let default = state
        .registry
        .default_build(&code)
        .and_then(|sha| state.registry.build(&sha));
    let bound = binding
        .as_ref()
        .and_then(|binding| state.registry.build(&binding.build_sha256));
    let name = default
        .as_ref()
        .or(bound.as_ref())
        .map(|build| build.info.name.clone())
        .unwrap_or_else(|| code.clone());
    let in_force = bound.clone().or_else(|| default.clone());
    let build = in_force.as_ref().map(|build| BuildFacts {
        version: build.info.plugin_version.clone(),
        sha: sha_prefix(&build.sha256),
        source: source_name(binding.as_ref().map_or("default", |b| b.source.as_str())),
        name: build.info.name.clone(),
    });
    let unloaded = match (&binding, &bound) {
        (Some(binding), None) => Some(sha_prefix(&binding.build_sha256)),
        _ => None,
    };
    let on_variant = binding.as_ref().is_some_and(|b| b.source == "variant");
    let variants = state.registry.variants(&code);
    let mut choices = Vec::new();
    if !variants.is_empty() {
        if let Some(default) = &default {
            choices.push(Choice {
                value: String::new(),
                label: format!(
                    "Mặc định của tỉnh · phiên bản {} · {}",
                    default.info.plugin_version,
                    sha_prefix(&default.sha256)
                ),
                selected: !on_variant,
            });
        }
        for variant in &variants {
            choices.push(Choice {
                value: variant.sha256.clone(),
                label: format!(
                    "{} · phiên bản {} · {}",
                    variant.info.name,
                    variant.info.plugin_version,
                    sha_prefix(&variant.sha256)
                ),
                selected: on_variant
                    && binding
                        .as_ref()
                        .is_some_and(|b| b.build_sha256 == variant.sha256),
            });
        }
    }
    ProcedureRow {
        build_name: build
            .as_ref()
            .map(|build| build.name.clone())
            .filter(|build_name| *build_name != name),
        id: row_id(&code),
        offered: binding.as_ref().is_some_and(|b| b.enabled),
        has_settings: in_force.as_deref().is_some_and(has_settings),
        code,
        name,
        build,
        unloaded,
        choices,
    }
}

/// What the last change did, from the redirect's query, said from the state now.
fn done_line(
    query: &HashMap<String, String>,
    unit: &Unit,
    rows: &[ProcedureRow],
) -> Option<String> {
    let row = query
        .get("procedure")
        .and_then(|code| rows.iter().find(|row| &row.code == code));
    match (query.get("done").map(String::as_str), row) {
        (Some("cutoff"), _) => Some(format!(
            "Đã đổi giờ chốt nhận hồ sơ thành {}: hồ sơ tiếp nhận sau giờ này được tính từ ngày làm việc tiếp theo.",
            unit.cutoff
        )),
        (Some("enable"), Some(row)) => Some(format!(
            "Đã bật thủ tục {} ({}): đơn vị tiếp nhận hồ sơ của thủ tục này.",
            row.name, row.code
        )),
        (Some("disable"), Some(row)) => Some(format!(
            "Đã tắt thủ tục {} ({}): đơn vị không tiếp nhận hồ sơ mới của thủ tục này.",
            row.name, row.code
        )),
        (Some("variant"), Some(row)) => row.build.as_ref().map(|build| {
            let dropped = query
                .get("dropped")
                .filter(|names| !names.is_empty())
                .map(|names| format!(" Các thông số phiên bản này không dùng đã được bỏ: {names}."))
                .unwrap_or_default();
            format!(
                "Đã chuyển thủ tục {} ({}) sang {}: {} · phiên bản {} · {}.{dropped}",
                row.name,
                row.code,
                build.source.to_lowercase(),
                build.name,
                build.version,
                build.sha
            )
        }),
        (Some("settings"), Some(row)) => Some(format!(
            "Đã lưu cấu hình của thủ tục {} ({}).",
            row.name, row.code
        )),
        _ => None,
    }
}

async fn unit_page(
    state: &AppState,
    staff: &Staff,
    unit: Unit,
    query: &HashMap<String, String>,
) -> Result<UnitPage, PageError> {
    let rows: Vec<ProcedureRow> = procedures_of(state, &unit)
        .await?
        .into_iter()
        .map(|(code, binding)| procedure_row(state, code, binding))
        .collect();
    let province_admin = state
        .store
        .unit(&staff.actor.unit)
        .await
        .map_err(WorkflowError::from)?
        .is_some_and(|home| home.kind == crate::domain::UnitKind::Province);
    Ok(UnitPage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        done: done_line(query, &unit, &rows),
        error: None,
        handles_procedures: unit.kind.handles().is_some() || !rows.is_empty(),
        procedures: rows,
        cutoff: unit.cutoff.clone(),
        cutoff_error: None,
        province_admin,
        unit: UnitFacts {
            kind: kind_name(unit.kind),
            code: unit.code,
            name: unit.name,
            agency_id: unit.agency_id,
            cutoff: unit.cutoff,
        },
    })
}

/// `GET /staff/units/{unit}`.
pub(super) async fn unit(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let unit = admin_of(&state, &staff, Permission::ConfigureUnit, &code).await?;
    Ok(render(&unit_page(&state, &staff, unit, &query).await?))
}

/// 303 to the unit page, which says what changed (`done`, and the rest of the query
/// after it) at its top.
fn back_to(unit: &str, done: &str, procedure: Option<&str>) -> Response {
    let target = match procedure {
        Some(code) => format!("/staff/units/{unit}?done={done}&procedure={code}"),
        None => format!("/staff/units/{unit}?done={done}"),
    };
    Redirect::to(&target).into_response()
}

/// A refusal the admin can act on, in Vietnamese, with the host's own words after it.
fn refusal_text(error: &RegistryError) -> String {
    let what = match error {
        RegistryError::InvalidSettings(_) => {
            "Cấu hình hiện tại của đơn vị không hợp với phiên bản được chọn; hãy sửa cấu hình trước."
        }
        RegistryError::NotFound(_) => "Không tìm thấy phiên bản hoặc thủ tục đã chọn.",
        _ => "Không thực hiện được thay đổi.",
    };
    format!("{what} (Chi tiết: {error})")
}

/// When a unit switches builds, its settings must fit the chosen build's schema
/// (`configure_unit` checks). Settings the chosen build does not know (a variant's own,
/// when going back to the default) would make the switch fail, with no way to remove
/// them from a form that shows the other build's settings: they are left out, in the
/// same call, and the page names them. `None` when nothing needs leaving out.
fn fitted_settings(
    state: &AppState,
    unit: &str,
    procedure: &str,
    chosen: Option<&str>,
) -> Option<(Value, Vec<String>)> {
    let target = match chosen {
        None => state
            .registry
            .default_build(procedure)
            .and_then(|sha| state.registry.build(&sha))?,
        Some(sha) => state
            .registry
            .variants(procedure)
            .into_iter()
            .find(|variant| variant.sha256 == sha)?,
    };
    let schema = &target.info.settings_schema;
    let known = schema["properties"].as_object()?;
    if schema["additionalProperties"] != Value::Bool(false) {
        return None;
    }
    let current: Value = serde_json::from_str(&state.registry.settings(unit, procedure)).ok()?;
    let current = current.as_object()?;
    let (kept, left): (
        serde_json::Map<String, Value>,
        serde_json::Map<String, Value>,
    ) = current
        .clone()
        .into_iter()
        .partition(|(key, _)| known.contains_key(key));
    if left.is_empty() {
        return None;
    }
    Some((Value::Object(kept), left.keys().cloned().collect()))
}

/// `POST /staff/units/{unit}/procedures/{code}`: offer the procedure or stop, or
/// switch the build (a local variant, or back to the province default), through
/// `Registry::configure_unit` as `PUT /api/v1/units/{unit}/procedures/{code}`.
pub(super) async fn configure(
    State(state): State<AppState>,
    staff: Staff,
    Path((code, procedure)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let unit = admin_of(&state, &staff, Permission::ConfigureUnit, &code).await?;
    if !is_code(&procedure) {
        return Err(PageError::not_found("Không có thủ tục này."));
    }
    let change_name = form.get("change").map(String::as_str).unwrap_or_default();
    let mut dropped = String::new();
    let change = match change_name {
        "enable" | "disable" => UnitChange {
            enabled: Some(change_name == "enable"),
            ..UnitChange::default()
        },
        "variant" => {
            let chosen = form
                .get("variant")
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty());
            let fitted = fitted_settings(&state, &unit.code, &procedure, chosen.as_deref());
            if let Some((_, names)) = &fitted {
                dropped = names.join(",");
            }
            UnitChange {
                variant: Some(chosen),
                settings: fitted.map(|(settings, _)| settings),
                ..UnitChange::default()
            }
        }
        _ => return Err(PageError::bad_request("Thay đổi không rõ.")),
    };
    match state
        .registry
        .configure_unit(&unit.code, &procedure, change, &staff.actor, &at(&state))
        .await
    {
        Ok(_) if !dropped.is_empty() => Ok(back_to(
            &unit.code,
            &format!("{change_name}&dropped={}", encode_component(&dropped)),
            Some(&procedure),
        )),
        Ok(_) => Ok(back_to(&unit.code, change_name, Some(&procedure))),
        Err(
            error @ (RegistryError::InvalidSettings(_)
            | RegistryError::Invalid(_)
            | RegistryError::NotFound(_)
            | RegistryError::SettingsTooLarge { .. }),
        ) => {
            let mut page = unit_page(&state, &staff, unit, &HashMap::new()).await?;
            page.error = Some(refusal_text(&error));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(error) => Err(WorkflowError::from(error).into()),
    }
}

/// `POST /staff/units/{unit}/cutoff`: the same `registry::set_cutoff` as
/// `PUT /api/v1/units/{unit}/settings`.
pub(super) async fn cutoff(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let unit = admin_of(&state, &staff, Permission::ConfigureUnit, &code).await?;
    let typed = form
        .get("cutoff")
        .map(|text| text.trim())
        .unwrap_or_default();
    match registry::set_cutoff(&state.store, &unit.code, typed, &staff.actor, &at(&state)).await {
        Ok(_) => Ok(back_to(&unit.code, "cutoff", None)),
        Err(RegistryError::Invalid(_)) => {
            let mut page = unit_page(&state, &staff, unit, &HashMap::new()).await?;
            page.cutoff = typed.to_string();
            page.cutoff_error = Some(format!(
                "“{typed}” không phải là giờ dạng GG:PP (ví dụ 15:00); giờ chốt chưa thay đổi."
            ));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(error) => Err(WorkflowError::from(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped("100000"), "100.000");
        assert_eq!(grouped("-1500"), "-1.500");
        assert_eq!(grouped("12"), "12");
        assert_eq!(grouped("3.5"), "3.5");
    }
}
