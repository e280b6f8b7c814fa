//! `GET /staff/catalog/audit`: the registry's audit as `GET /api/v1/registry/events`
//! gives it (the province's events for the province's publishers and admins, a unit's
//! own for its admins), newest first, a page at a time, each change summarised from
//! its before and after.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::Value;

use super::{build_label, grant, names_list, source_name, unit_name, units_in_reach, when};
use crate::api::AppState;
use crate::authz::{Permission, Reach};
use crate::domain::Role;
use crate::store::{EventScope, RegistryEvent, Unit};
use crate::web::session::{Nav, Staff, role_name};
use crate::web::{PageError, render};
use crate::workflow::WorkflowError;

const PER_PAGE: usize = 50;
/// Pages beyond this are not served: reading them means reading every event before.
/// Pages are read as the first `page × 50` events (the store has no offset), so the
/// depth is bounded: 200 pages are the 10,000 most recent changes.
const LAST_PAGE: usize = 200;

#[derive(Template)]
#[template(path = "catalog_audit.html")]
struct AuditPage {
    nav: Nav,
    reach: String,
    rows: Vec<Row>,
    page: usize,
    previous: Option<usize>,
    next: Option<usize>,
}

struct Row {
    at: String,
    actor: String,
    role: &'static str,
    action: String,
    procedure: String,
    unit: String,
    before: String,
    after: String,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    // As the API: the province's publishers and admins read the province's audit; a
    // unit's admins their own unit's events only.
    let grant = grant(
        &state,
        &staff,
        Permission::ReadRegistryAudit,
        "Nhật ký danh mục thủ tục dành cho cán bộ quản trị thủ tục và quản trị đơn vị",
    )
    .await?;
    let units = units_in_reach(&state, &grant).await?;
    let (scope, reach) = match &grant.reach {
        Reach::Province(code) => (
            EventScope::Province(code.clone()),
            format!("toàn {}", unit_name(&units, code)),
        ),
        Reach::Unit(code) => (EventScope::Unit(code.clone()), unit_name(&units, code)),
    };
    let page = query
        .ok()
        .and_then(|Query(query)| {
            query
                .get("page")
                .and_then(|page| page.parse::<usize>().ok())
        })
        .unwrap_or(1)
        .clamp(1, LAST_PAGE);
    let offset = (page - 1) * PER_PAGE;
    let events = state
        .store
        .registry_events(&scope, (offset + PER_PAGE + 1) as i64)
        .await
        .map_err(WorkflowError::from)?;
    let more = events.len() > offset + PER_PAGE;
    let rows = events
        .iter()
        .skip(offset)
        .take(PER_PAGE)
        .map(|event| row(&state, &units, event))
        .collect();
    Ok(render(&AuditPage {
        nav: staff.nav("catalog"),
        reach,
        rows,
        page,
        previous: (page > 1).then(|| page - 1),
        next: (more && page < LAST_PAGE).then(|| page + 1),
    }))
}

fn action_name(action: &str) -> String {
    match action {
        "publish" => "Công bố bản dựng",
        "rollout-pilot" => "Triển khai thí điểm",
        "rollout-all" => "Triển khai toàn tỉnh",
        "rollback" => "Thu hồi đợt triển khai",
        "configure-unit" => "Cấu hình thủ tục của đơn vị",
        "set-cutoff" => "Đổi giờ chốt nhận hồ sơ",
        other => return other.to_string(),
    }
    .to_string()
}

fn row(state: &AppState, units: &[Unit], event: &RegistryEvent) -> Row {
    let procedure = event
        .procedure_code
        .as_deref()
        .map(|code| {
            match state
                .registry
                .default_build(code)
                .and_then(|sha| state.registry.build(&sha))
            {
                Some(build) => format!("{} · {code}", build.info.name),
                None => code.to_string(),
            }
        })
        .unwrap_or_else(|| "—".into());
    let (before, after) = match event.action.as_str() {
        "rollout-pilot" | "rollout-all" => (
            previous_summary(state, units, &event.before),
            rollout_summary(state, units, &event.after),
        ),
        "publish" => (
            "—".to_string(),
            format!(
                "bản {} của {}",
                event.after["build"]
                    .as_str()
                    .map_or_else(|| "?".to_string(), |sha| build_label(state, sha)),
                event.after["plugin"].as_str().unwrap_or("?")
            ),
        ),
        "rollback" => (
            undone_summary(state, units, &event.before),
            previous_summary(state, units, &event.after),
        ),
        _ => (
            summary(state, units, &event.before),
            summary(state, units, &event.after),
        ),
    };
    Row {
        at: when(&event.at),
        actor: event.actor_id.clone(),
        role: Role::parse(&event.actor_role).map_or("", role_name),
        action: action_name(&event.action),
        procedure,
        unit: event
            .unit
            .as_deref()
            .map_or_else(|| "—".into(), |code| unit_name(units, code)),
        before,
        after,
    }
}

fn is_sha(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a rollout kept for its rollback (the default and each unit's binding before).
fn previous_summary(state: &AppState, units: &[Unit], previous: &Value) -> String {
    let mut parts: Vec<String> = previous["units"]
        .as_object()
        .map(|bindings| {
            bindings
                .iter()
                .map(|(code, binding)| {
                    let build = binding["build"].as_str().map_or_else(
                        || "chưa tiếp nhận".to_string(),
                        |sha| build_label(state, sha),
                    );
                    format!("{}: {build}", unit_name(units, code))
                })
                .collect()
        })
        .unwrap_or_default();
    if previous["default_changed"].as_bool() == Some(true) {
        let default = previous["default"]
            .as_str()
            .map_or_else(|| "chưa có".to_string(), |sha| build_label(state, sha));
        parts.push(format!("mặc định của tỉnh: {default}"));
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("; ")
    }
}

fn rollout_summary(state: &AppState, units: &[Unit], after: &Value) -> String {
    let codes = string_list(&after["units"]);
    let mut text = format!(
        "{} tại {}",
        after["build"]
            .as_str()
            .map_or_else(|| "?".to_string(), |sha| build_label(state, sha)),
        names_list(units, &codes)
    );
    let skipped = string_list(&after["skipped_variant_units"]);
    if !skipped.is_empty() {
        text.push_str(&format!(
            "; giữ biến thể địa phương: {}",
            names_list(units, &skipped)
        ));
    }
    text
}

fn undone_summary(state: &AppState, units: &[Unit], before: &Value) -> String {
    format!(
        "đợt #{}: {} tại {}",
        before["rollout"],
        before["build"]
            .as_str()
            .map_or_else(|| "?".to_string(), |sha| build_label(state, sha)),
        names_list(units, &string_list(&before["units"]))
    )
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Any other change, flattened: keys in Vietnamese where the registry's are known,
/// builds named by version, at most 300 characters.
fn summary(state: &AppState, units: &[Unit], value: &Value) -> String {
    fn key_name(key: &str) -> &str {
        match key {
            "build" => "bản",
            "version" => "phiên bản",
            "plugin" => "mã",
            "source" => "nguồn",
            "enabled" => "tiếp nhận",
            "settings" => "cấu hình",
            "cutoff" => "giờ chốt",
            "units" => "đơn vị",
            "unit" => "đơn vị",
            "role" => "vai trò",
            other => other,
        }
    }
    fn flatten(state: &AppState, units: &[Unit], key: Option<&str>, value: &Value) -> String {
        match value {
            Value::Null => "—".into(),
            Value::Bool(true) => "có".into(),
            Value::Bool(false) => "không".into(),
            Value::String(text) if is_sha(text) => build_label(state, text),
            Value::String(text) if key == Some("source") => source_name(text).to_string(),
            Value::String(text) if matches!(key, Some("unit")) => unit_name(units, text),
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Array(items) => items
                .iter()
                .map(|item| flatten(state, units, key, item))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(fields) if fields.is_empty() => "{}".into(),
            Value::Object(fields) => fields
                .iter()
                .map(|(name, item)| {
                    format!(
                        "{}: {}",
                        key_name(name),
                        flatten(state, units, Some(name), item)
                    )
                })
                .collect::<Vec<_>>()
                .join(" · "),
        }
    }
    let text = flatten(state, units, None, value);
    if text.chars().count() > 300 {
        let cut: String = text.chars().take(299).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_digests_are_named_as_builds() {
        assert!(is_sha(&"ab".repeat(32)));
        assert!(!is_sha(&"ab".repeat(31)));
        assert!(!is_sha(&"zz".repeat(32)));
    }
}
