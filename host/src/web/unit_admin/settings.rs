//! A procedure's settings for a unit: a form generated from the settings schema of the
//! build the unit runs (`schema_form`, the generator of the citizen's filing form),
//! prefilled with the unit's settings, saved through `Registry::configure_unit` as
//! `PUT /api/v1/units/{unit}/procedures/{code}` saves them; the validator's refusals
//! land at their fields, in Vietnamese, with what was typed kept.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{admin_of, at, back_to, grouped, is_code, sha_prefix};
use crate::api::AppState;
use crate::authz::Permission;
use crate::registry::{RegistryError, UnitChange};
use crate::runtime::PluginBuild;
use crate::schema::Violation;
use crate::store::Unit;
use crate::web::citizen::{Drawn, anchor, draw};
use crate::web::schema_form::{self, Field, FieldKind};
use crate::web::session::{Nav, Staff};
use crate::web::{PageError, render};
use crate::workflow::WorkflowError;

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    nav: Nav,
    csrf: String,
    unit_code: String,
    unit_name: String,
    procedure_code: String,
    procedure_name: String,
    build: String,
    form_html: String,
    /// The validator's refusals, each linking to its field.
    errors: Vec<ErrorLink>,
    /// The validator's own words, under the Vietnamese.
    detail: Option<String>,
}

struct ErrorLink {
    anchor: String,
    message: String,
}

/// Vietnamese names of the demo plugins' settings, for schemas that give no `title`
/// (their descriptions are written for plugin authors, in English).
fn setting_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "registration_fee_vnd" => "Lệ phí đăng ký (đồng)",
        "online_fee_exempt" => "Miễn lệ phí cho hồ sơ nộp trực tuyến",
        "site_visit_required" => "Phải xác minh tại địa điểm kinh doanh",
        "late_registration_warning_days" => "Số ngày sau sự kiện thì cảnh báo đăng ký muộn",
        "land_price_vnd_per_m2" => "Giá đất ở (đồng/m²)",
        "residential_fee_rate_percent" => "Tỷ lệ thu tiền sử dụng đất ở (%)",
        _ => return None,
    })
}

fn default_text(default: &Value) -> String {
    match default {
        Value::Bool(true) => "có".into(),
        Value::Bool(false) => "không".into(),
        Value::Number(number) => grouped(&number.to_string()),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The settings form's fields: the generator's, named in Vietnamese where the schema
/// has no title, each saying the plugin's default.
fn settings_fields(schema: &Value) -> Vec<Field> {
    let defaults = schema_form::defaults(schema, "settings");
    fn label(fields: &mut [Field], defaults: &HashMap<String, Value>) {
        for field in fields {
            let key = field
                .name
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            if field.title == key
                && let Some(title) = setting_label(&key)
            {
                field.title = title.into();
            }
            field.hint = defaults.get(&field.name).map(|default| match field.kind {
                FieldKind::Boolean => format!("Mặc định: {}", default_text(default)),
                _ => format!("Để trống để dùng mặc định: {}", default_text(default)),
            });
            if let FieldKind::Group { fields, .. } = &mut field.kind {
                label(fields, defaults);
            }
        }
    }
    let mut fields = schema_form::fields(schema, "settings");
    label(&mut fields, &defaults);
    fields
}

/// The build whose settings the unit sets: the one it is bound to, else the default
/// `configure_unit` would bind it to.
fn settings_build(
    state: &AppState,
    unit: &str,
    procedure: &str,
) -> Result<Arc<PluginBuild>, PageError> {
    let sha = state
        .registry
        .unit_bindings(unit)
        .into_iter()
        .find(|binding| binding.procedure_code == procedure)
        .map(|binding| binding.build_sha256)
        .or_else(|| state.registry.default_build(procedure))
        .ok_or_else(|| PageError::not_found("Thủ tục này chưa được triển khai cho đơn vị."))?;
    state.registry.build(&sha).ok_or_else(|| {
        PageError::from(WorkflowError::BadRequest(format!(
            "bản dựng {} chưa tải được trên máy chủ này",
            sha_prefix(&sha)
        )))
    })
}

#[allow(clippy::too_many_arguments)]
fn settings_page(
    staff: &Staff,
    unit: &Unit,
    procedure: &str,
    build: &PluginBuild,
    fields: &[Field],
    values: &HashMap<String, String>,
    violations: &[Violation],
    refusal: Option<&RegistryError>,
) -> SettingsPage {
    let mut findings = HashMap::new();
    let mut errors = Vec::new();
    let mut detail = None;
    // What does not fit the settings schema, in Vietnamese at each field; the same
    // schema check the registry makes, so it refuses nothing the page let through.
    for violation in violations {
        let said = violation.sentence();
        // The summary names the field by the label the page gives it.
        let label = find_field(fields, &violation.target).map(|field| field.title.clone());
        errors.push(ErrorLink {
            anchor: anchor(&violation.target),
            message: match label {
                Some(label) => format!("{label}: {said}"),
                None => said.clone(),
            },
        });
        findings.insert(violation.target.clone(), said);
        detail = Some(violation.messages.join("; "));
    }
    match refusal {
        Some(other) => {
            errors.push(ErrorLink {
                anchor: "settings".into(),
                message: "Cấu hình chưa được lưu.".into(),
            });
            detail = Some(other.to_string());
        }
        None => {}
    }
    let drawn = Drawn {
        values,
        findings: &findings,
    };
    SettingsPage {
        nav: staff.nav("unit"),
        csrf: staff.csrf.clone(),
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        procedure_code: procedure.to_string(),
        procedure_name: build.info.name.clone(),
        build: format!(
            "phiên bản {} · {}",
            build.info.plugin_version,
            sha_prefix(&build.sha256)
        ),
        form_html: fields.iter().map(|field| draw(field, &drawn)).collect(),
        errors,
        detail,
    }
}

fn find_field<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find_map(|field| {
        if field.name == name {
            Some(field)
        } else if let FieldKind::Group { fields, .. } = &field.kind {
            find_field(fields, name)
        } else {
            None
        }
    })
}

/// `GET /staff/units/{unit}/procedures/{code}/settings`: the form, prefilled with the
/// unit's settings; a box the settings leave unset shows the plugin's default.
pub(in crate::web) async fn settings_form(
    State(state): State<AppState>,
    staff: Staff,
    Path((code, procedure)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let unit = admin_of(&state, &staff, Permission::ConfigureUnit, &code).await?;
    if !is_code(&procedure) {
        return Err(PageError::not_found("Không có thủ tục này."));
    }
    let build = settings_build(&state, &unit.code, &procedure)?;
    let fields = settings_fields(&build.info.settings_schema);
    let current: Value =
        serde_json::from_str(&state.registry.settings(&unit.code, &procedure)).unwrap_or(json!({}));
    let mut values = schema_form::values(&fields, &current);
    for (name, default) in schema_form::defaults(&build.info.settings_schema, "settings") {
        let pointer: String = name
            .split('.')
            .skip(1)
            .map(|key| format!("/{key}"))
            .collect();
        if default == Value::Bool(true) && current.pointer(&pointer).is_none() {
            values.insert(name, "on".into());
        }
    }
    Ok(render(&settings_page(
        &staff,
        &unit,
        &procedure,
        &build,
        &fields,
        &values,
        &[],
        None,
    )))
}

/// `POST /staff/units/{unit}/procedures/{code}/settings`: the posted form read back
/// into JSON and given to `Registry::configure_unit`, as the API's settings change.
pub(in crate::web) async fn save_settings(
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
    let build = settings_build(&state, &unit.code, &procedure)?;
    let fields = settings_fields(&build.info.settings_schema);
    let settings = schema_form::read(&fields, &form);
    // The page again with what was posted and why it was not saved.
    let refused = |violations: &[Violation], error: Option<&RegistryError>| {
        let page = settings_page(
            &staff, &unit, &procedure, &build, &fields, &form, violations, error,
        );
        (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
    };
    let violations = build.settings_check.violations(&settings, "settings");
    if !violations.is_empty() {
        return Ok(refused(&violations, None));
    }
    let change = UnitChange {
        settings: Some(settings),
        ..UnitChange::default()
    };
    match state
        .registry
        .configure_unit(&unit.code, &procedure, change, &staff.actor, &at(&state))
        .await
    {
        Ok(_) => Ok(back_to(&unit.code, "settings", Some(&procedure))),
        Err(
            error @ (RegistryError::InvalidSettings(_)
            | RegistryError::SettingsTooLarge { .. }
            | RegistryError::Invalid(_)),
        ) => Ok(refused(&[], Some(&error))),
        Err(error) => Err(WorkflowError::from(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_fields_are_named_in_vietnamese_with_their_defaults() {
        let schema = json!({
            "type": "object",
            "properties": {
                "online_fee_exempt": { "type": "boolean", "default": false },
                "registration_fee_vnd": { "type": "integer", "minimum": 0, "default": 100000 },
                "custom": { "type": "string", "title": "Tên riêng" }
            }
        });
        let fields = settings_fields(&schema);
        let fee = fields
            .iter()
            .find(|f| f.name == "settings.registration_fee_vnd")
            .unwrap();
        assert_eq!(fee.title, "Lệ phí đăng ký (đồng)");
        assert_eq!(
            fee.hint.as_deref(),
            Some("Để trống để dùng mặc định: 100.000")
        );
        let exempt = fields
            .iter()
            .find(|f| f.name == "settings.online_fee_exempt")
            .unwrap();
        assert_eq!(exempt.hint.as_deref(), Some("Mặc định: không"));
        let custom = fields.iter().find(|f| f.name == "settings.custom").unwrap();
        assert_eq!(
            (custom.title.as_str(), custom.hint.as_deref()),
            ("Tên riêng", None)
        );
    }
}
