//! The procedures a unit's counter receives, and what their fees come to for a form.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState, body_bytes, parse_body, path_code, query};
use crate::fees::QuoteError;
use crate::workflow::WorkflowError;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ProceduresParams {
    /// The unit's code (required).
    #[param(example = "xuan-hoa")]
    unit: Option<String>,
}

/// What a unit's counter receives, from each plugin's `describe`, with the build in
/// force: the unit's own procedures, and for a ward or commune the province-level
/// procedures of the province's departments (`handled_by` names the department).
#[utoipa::path(
    get,
    path = "/api/v1/procedures",
    tag = "registry",
    params(ProceduresParams),
    responses(
        (status = 200, description = "The unit's procedures", body = super::schemas::Offered),
        super::openapi::BadRequest, super::openapi::NotFound,
    )
)]
pub(super) async fn procedures(
    State(state): State<AppState>,
    params: Result<Query<ProceduresParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let unit = query(params)?.unit.ok_or_else(|| {
        ApiError::BadQuery("give the unit: /api/v1/procedures?unit=xuan-hoa".into())
    })?;
    path_code(&unit, "unit")?;
    let Some((listed, departments)) = state
        .store
        .counter(&unit)
        .await
        .map_err(WorkflowError::from)?
    else {
        return Err(ApiError::NotFound(format!("unit `{unit}` does not exist")));
    };
    let offered: Vec<Value> = state
        .registry
        .receivable(&listed, &departments)
        .into_iter()
        .map(|receivable| {
            let (binding, build) = (receivable.binding, receivable.build);
            let mut info = serde_json::to_value(&build.info).unwrap_or(Value::Null);
            if let Some(object) = info.as_object_mut() {
                let is_default = state.registry.default_build(&binding.procedure_code).as_deref() == Some(&build.sha256);
                object.insert(
                    "build".into(),
                    json!({ "sha256": build.sha256, "version": build.info.plugin_version, "contract": build.contract().version() }),
                );
                object.insert(
                    "binding".into(),
                    json!({ "source": binding.source, "province_default": is_default, "procedure": binding.procedure_code }),
                );
                object.insert(
                    "settings".into(),
                    serde_json::from_str(&binding.settings_json).unwrap_or(Value::Null),
                );
                // The local variants published for the procedure, which the unit's
                // admin may choose instead of the province's build.
                let variants: Vec<Value> = state
                    .registry
                    .variants(&binding.procedure_code)
                    .iter()
                    .map(|variant| {
                        json!({
                            "code": variant.info.code,
                            "name": variant.info.name,
                            "version": variant.info.plugin_version,
                            "sha256": variant.sha256,
                            "in_use": variant.sha256 == build.sha256,
                        })
                    })
                    .collect();
                object.insert("variants".into(), Value::Array(variants));
                object.insert("handled_by".into(), json!(receivable.handled_by));
            }
            info
        })
        .collect();
    Ok(Json(json!({ "unit": unit, "procedures": offered })).into_response())
}

/// A form to quote the fees of, at the unit that would receive it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "unit": "xuan-hoa", "form": { "document_title": "Giấy khai sinh", "pages": 3, "copies": 2 } }))]
pub(super) struct QuoteBody {
    /// The unit's code: the fees are those of the build in force there.
    unit: String,
    /// The application form, as it would be filed.
    #[schema(value_type = Object)]
    form: Value,
}

/// What the fees of a procedure come to for one form.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeeQuote {
    unit: String,
    procedure: String,
    build: QuotedBuild,
    fees: Vec<QuotedFee>,
    /// The sum of every fee the form gives.
    total_vnd: u64,
    /// False when a fee is assessed while the dossier is processed, so the total is
    /// not yet all the applicant will owe.
    complete: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotedBuild {
    sha256: String,
    version: String,
    /// The contract version the build targets.
    contract: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuotedFee {
    code: String,
    name: String,
    /// Null for a fee assessed while the dossier is processed.
    amount_vnd: Option<u64>,
    /// The schedule in words, as shown to the applicant.
    schedule: String,
    exemptions: Vec<String>,
}

/// What the fees of a procedure at a unit come to for a form, computed from the fee
/// schedules its build declares: what a portal shows before the applicant files. The
/// plugin asks for the same amounts when it requests the fee.
#[utoipa::path(
    post,
    path = "/api/v1/procedures/{code}/fees/quote",
    tag = "registry",
    params(("code" = String, Path, description = "The national procedure code")),
    request_body = QuoteBody,
    responses(
        (status = 200, description = "The fees for this form", body = FeeQuote),
        super::openapi::BadRequest, super::openapi::NotFound, super::openapi::Unprocessable,
    )
)]
pub(super) async fn quote(
    State(state): State<AppState>,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    path_code(&code, "procedure")?;
    let body: QuoteBody = parse_body(&body_bytes(body)?)?;
    path_code(&body.unit, "unit")?;
    let Some((listed, departments)) = state
        .store
        .counter(&body.unit)
        .await
        .map_err(WorkflowError::from)?
    else {
        return Err(WorkflowError::UnknownUnit(body.unit).into());
    };
    let Some(build) = state
        .registry
        .receivable(&listed, &departments)
        .into_iter()
        .find(|receivable| receivable.binding.procedure_code == code)
        .map(|receivable| receivable.build)
    else {
        return Err(ApiError::NotFound(format!(
            "unit `{}` does not offer procedure `{code}`; GET /api/v1/procedures?unit={} lists what it offers",
            body.unit, body.unit
        )));
    };
    if !body.form.is_object() {
        return Err(ApiError::FeeQuote(
            "`form` must be a JSON object, as it would be filed".into(),
        ));
    }
    let mut fees = Vec::new();
    for fee in &build.info.fees {
        let amount_vnd = match fee.schedule.amount(&body.form) {
            Ok(amount) => Some(amount),
            Err(QuoteError::Assessed) => None,
            Err(error) => {
                return Err(ApiError::FeeQuote(format!("fee `{}`: {error}", fee.code)));
            }
        };
        fees.push(QuotedFee {
            code: fee.code.clone(),
            name: fee.name.clone(),
            amount_vnd,
            schedule: fee.schedule.describe(),
            exemptions: fee.schedule.exemptions.clone(),
        });
    }
    let total_vnd = fees
        .iter()
        .try_fold(0u64, |total, fee| {
            total.checked_add(fee.amount_vnd.unwrap_or(0))
        })
        .ok_or_else(|| ApiError::FeeQuote("the fees add up beyond any amount".into()))?;
    let complete = fees.iter().all(|fee| fee.amount_vnd.is_some());
    Ok(Json(FeeQuote {
        unit: body.unit,
        procedure: code,
        build: QuotedBuild {
            sha256: build.sha256.clone(),
            version: build.info.plugin_version.clone(),
            contract: build.contract().version().into(),
        },
        fees,
        total_vnd,
        complete,
    })
    .into_response())
}
