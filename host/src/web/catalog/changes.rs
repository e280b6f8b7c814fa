//! Pilots, rollouts and rollbacks from the console: a confirmation page computed from
//! the current bindings says what will change, and its button posts (with the
//! session's CSRF token) to the same `registry.rollout` / `registry.rollback` as
//! `POST /api/v1/rollouts` and `/api/v1/rollouts/rollback`. The registry stays the one
//! that decides: the page only previews.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{
    DefaultChange, PUBLISHERS_ONLY, back_to_catalog, bindings_of, build_label, grant, may_pilot,
    refused, registry_refused, scope_name, unit_name, units_in_reach, when,
};
use crate::api::AppState;
use crate::authz::Permission;
use crate::registry::Scope;
use crate::web::session::{Nav, Staff};
use crate::web::{PageError, render};
use crate::workflow::WorkflowError;

/// A unit moving from one build to another.
struct Move {
    unit: String,
    from: String,
    to: String,
    /// The unit has switched the procedure off; it stays off on the new build.
    disabled: bool,
}

/// A unit that stays as it is, and why.
struct Stay {
    unit: String,
    build: String,
}

#[derive(Template)]
#[template(path = "catalog_rollout.html")]
struct RolloutConfirm {
    nav: Nav,
    csrf: String,
    procedure: String,
    procedure_name: String,
    path: String,
    anchor: String,
    all: bool,
    build_sha: String,
    build: String,
    published: String,
    /// What the form posts as `units`: "all" or the pilot units' codes.
    units_value: String,
    moves: Vec<Move>,
    starts: Vec<String>,
    keep_variant: Vec<Stay>,
    already: Vec<String>,
    /// The province default before and after a rollout to all.
    default_change: Option<DefaultChange>,
}

/// `GET /staff/catalog/{procedure}/rollout?build=<sha or version>&units=a,b` (units
/// repeated as checkboxes send them, or `units=all` / `scope=all`).
pub(crate) async fn rollout_confirm(
    State(state): State<AppState>,
    staff: Staff,
    Path(procedure): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, PageError> {
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    let pairs = query.map(|Query(pairs)| pairs).unwrap_or_default();
    let wanted = pairs
        .iter()
        .find(|(key, _)| key == "build")
        .map(|(_, value)| value.trim())
        .unwrap_or_default();
    let all = pairs.iter().any(|(key, value)| {
        (key == "scope" && value == "all") || (key == "units" && value == "all")
    });
    let mut pilots: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key == "units")
        .flat_map(|(_, value)| value.split(','))
        .map(|code| code.trim().to_string())
        .filter(|code| !code.is_empty() && code != "all")
        .collect();
    pilots.sort();
    pilots.dedup();
    let Some(build) = state.registry.find(&procedure, wanted) else {
        return Err(PageError::not_found(format!(
            "Thủ tục {procedure} không có bản dựng “{wanted}”."
        )));
    };
    if build.info.variant_of.is_some() {
        return Err(PageError::bad_request(format!(
            "{} là biến thể địa phương: quản trị của đơn vị tự chọn dùng nó cho đơn vị mình.",
            build.label()
        )));
    }
    let units = units_in_reach(&state, &grant).await?;
    let targets: Vec<&crate::store::Unit> = if all {
        units
            .iter()
            .filter(|unit| unit.kind.handles() == Some(build.info.level))
            .collect()
    } else {
        if pilots.is_empty() {
            return Err(PageError::bad_request(
                "Hãy chọn ít nhất một đơn vị thí điểm.",
            ));
        }
        let mut targets = Vec::new();
        for code in &pilots {
            match units.iter().find(|unit| &unit.code == code) {
                Some(unit) if may_pilot(unit.kind) => targets.push(unit),
                Some(unit) => {
                    return Err(PageError::bad_request(format!(
                        "{} là cấp tỉnh; đơn vị thí điểm là các sở, phường, xã.",
                        unit.name
                    )));
                }
                None => {
                    return Err(PageError::not_found(format!(
                        "Đơn vị “{code}” không thuộc tỉnh của bạn."
                    )));
                }
            }
        }
        targets
    };
    let bindings = bindings_of(&state, &units, Some(&procedure)).await?;
    let to = build_label(&state, &build.sha256);
    let mut page = RolloutConfirm {
        nav: staff.nav("catalog"),
        csrf: staff.csrf.clone(),
        anchor: super::anchor(&procedure),
        path: super::procedure_path(&procedure),
        procedure_name: build.info.name.clone(),
        all,
        build_sha: build.sha256.clone(),
        build: to.clone(),
        published: String::new(),
        units_value: if all { "all".into() } else { pilots.join(",") },
        moves: Vec::new(),
        starts: Vec::new(),
        keep_variant: Vec::new(),
        already: Vec::new(),
        default_change: None,
        procedure,
    };
    if let Some((_, by, at)) = state
        .store
        .publications()
        .await
        .map_err(WorkflowError::from)?
        .into_iter()
        .find(|(sha, _, _)| sha == &build.sha256)
    {
        page.published = format!("{by}, {}", when(&at));
    }
    for unit in targets {
        match bindings.iter().find(|binding| binding.unit == unit.code) {
            None => page.starts.push(unit.name.clone()),
            Some(binding) if binding.source == "variant" => page.keep_variant.push(Stay {
                unit: unit.name.clone(),
                build: build_label(&state, &binding.build_sha256),
            }),
            Some(binding) if binding.build_sha256 == build.sha256 => {
                page.already.push(unit.name.clone())
            }
            Some(binding) => page.moves.push(Move {
                unit: unit.name.clone(),
                from: build_label(&state, &binding.build_sha256),
                to: to.clone(),
                disabled: !binding.enabled,
            }),
        }
    }
    if all {
        let before = state
            .registry
            .default_build(&page.procedure)
            .map_or_else(|| "chưa có".to_string(), |sha| build_label(&state, &sha));
        page.default_change = Some(DefaultChange { from: before, to });
    }
    Ok(render(&page))
}

/// `POST /staff/catalog/{procedure}/rollout`: the confirmed rollout, through the
/// registry exactly as the API makes it.
pub(crate) async fn rollout(
    State(state): State<AppState>,
    staff: Staff,
    Path(procedure): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    crate::workflow::check_text("procedure", &procedure, false)?;
    let build = form.get("build").map(String::as_str).unwrap_or_default();
    let units = form.get("units").map(String::as_str).unwrap_or_default();
    let scope = if units == "all" {
        Scope::All
    } else {
        Scope::Pilot(
            units
                .split(',')
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(str::to_string)
                .collect(),
        )
    };
    let at = crate::clock::format_civil(state.now());
    match state
        .registry
        .rollout(&procedure, build, scope, &grant.actor, &at)
        .await
    {
        Ok(id) => Ok(back_to_catalog("rollout", id, &procedure)),
        Err(error) => Ok(registry_refused(
            &staff,
            "Chưa triển khai được. Lý do kho thủ tục đưa ra:",
            error,
        )),
    }
}

#[derive(Template)]
#[template(path = "catalog_rollback.html")]
struct RollbackConfirm {
    nav: Nav,
    csrf: String,
    procedure: String,
    path: String,
    anchor: String,
    rollout: i64,
    scope: &'static str,
    build: String,
    made: String,
    returns: Vec<Move>,
    stops: Vec<String>,
    kept: Vec<Stay>,
    default_change: Option<DefaultChange>,
}

/// `GET /staff/catalog/{procedure}/rollback`: what undoing the latest rollout does to
/// each unit it touched, from the state it kept and the bindings now (as
/// `Store::rollback` restores: only a binding still as the rollout left it).
pub(crate) async fn rollback_confirm(
    State(state): State<AppState>,
    staff: Staff,
    Path(procedure): Path<String>,
) -> Result<Response, PageError> {
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    crate::workflow::check_text("procedure", &procedure, false)?;
    let latest = state
        .store
        .latest_rollout(&procedure)
        .await
        .map_err(WorkflowError::from)?
        .ok_or_else(|| {
            PageError::not_found(format!(
                "Thủ tục {procedure} không có đợt triển khai nào để thu hồi."
            ))
        })?;
    let previous = state
        .store
        .rollout_previous(latest.id)
        .await
        .map_err(WorkflowError::from)?
        .unwrap_or(Value::Null);
    let units = units_in_reach(&state, &grant).await?;
    let bindings = bindings_of(&state, &units, Some(&procedure)).await?;
    let from = build_label(&state, &latest.build_sha256);
    let mut page = RollbackConfirm {
        nav: staff.nav("catalog"),
        csrf: staff.csrf.clone(),
        anchor: super::anchor(&procedure),
        path: super::procedure_path(&procedure),
        rollout: latest.id,
        scope: scope_name(&latest.scope),
        build: from.clone(),
        made: format!("{}, {}", latest.actor_id, when(&latest.at)),
        returns: Vec::new(),
        stops: Vec::new(),
        kept: Vec::new(),
        default_change: None,
        procedure: procedure.clone(),
    };
    // Units that are on the rollout's build as it left them (not a variant chosen since).
    let still_as_left = |code: &str| {
        bindings
            .iter()
            .find(|binding| binding.unit == code)
            .filter(|binding| {
                binding.build_sha256 == latest.build_sha256 && binding.source != "variant"
            })
    };
    let empty = serde_json::Map::new();
    let before_units = previous["units"].as_object().unwrap_or(&empty);
    for (code, before) in before_units {
        let name = unit_name(&units, code);
        match (still_as_left(code), before["build"].as_str()) {
            (Some(binding), Some(sha)) => page.returns.push(Move {
                unit: name,
                from: from.clone(),
                to: build_label(&state, sha),
                disabled: !binding.enabled,
            }),
            (Some(_), None) => page.stops.push(name),
            (None, _) => page.kept.push(Stay {
                unit: name,
                build: bindings
                    .iter()
                    .find(|binding| &binding.unit == code)
                    .map_or_else(
                        || "không tiếp nhận".to_string(),
                        |binding| build_label(&state, &binding.build_sha256),
                    ),
            }),
        }
    }
    if previous["default_changed"].as_bool() == Some(true) {
        let back = previous["default"].as_str();
        page.default_change = Some(DefaultChange {
            from: from.clone(),
            to: back.map_or_else(
                || "không còn bản mặc định".to_string(),
                |sha| build_label(&state, sha),
            ),
        });
        // Units bound to the default since the rollout follow it back.
        for binding in &bindings {
            if before_units.contains_key(&binding.unit)
                || binding.source != "default"
                || binding.build_sha256 != latest.build_sha256
            {
                continue;
            }
            let name = unit_name(&units, &binding.unit);
            match back {
                Some(sha) => page.returns.push(Move {
                    unit: name,
                    from: from.clone(),
                    to: build_label(&state, sha),
                    disabled: !binding.enabled,
                }),
                None => page.stops.push(name),
            }
        }
    }
    Ok(render(&page))
}

/// `POST /staff/catalog/{procedure}/rollback`: undoes the rollout the page showed, and
/// only that one (another rollout since means the page was out of date).
pub(crate) async fn rollback(
    State(state): State<AppState>,
    staff: Staff,
    Path(procedure): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.check_form(&form)?;
    let grant = grant(&state, &staff, Permission::Publish, PUBLISHERS_ONLY).await?;
    crate::workflow::check_text("procedure", &procedure, false)?;
    let confirmed = form
        .get("rollout")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| PageError::bad_request("Thiếu số đợt triển khai cần thu hồi."))?;
    let latest = state
        .store
        .latest_rollout(&procedure)
        .await
        .map_err(WorkflowError::from)?
        .map(|rollout| rollout.id);
    if latest != Some(confirmed) {
        return Ok(refused(
            &staff,
            StatusCode::CONFLICT,
            "Trang xác nhận đã cũ",
            format!(
                "Đợt triển khai mới nhất của thủ tục {procedure} không còn là đợt #{confirmed} bạn đã xem; chưa thu hồi gì. Hãy mở lại trang danh mục."
            ),
            String::new(),
        ));
    }
    let at = crate::clock::format_civil(state.now());
    match state
        .registry
        .rollback(&procedure, Some(confirmed), &grant.actor, &at)
        .await
    {
        Ok(undone) => Ok(back_to_catalog("rolled_back", undone.id, &procedure)),
        Err(error) => Ok(registry_refused(
            &staff,
            "Chưa thu hồi được. Lý do kho thủ tục đưa ra:",
            error,
        )),
    }
}
