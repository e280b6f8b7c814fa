//! Đăng ký thành lập hộ kinh doanh, Xuân Hòa ward's local variant of national procedure
//! 1.001612: a specialist verifies the business premises on site before the dossier
//! goes to the leader for approval.
//!
//! Everything else is the base procedure's: this crate depends on the base rules,
//! `business-household-rules` (a library without an `export!`, so that only this
//! crate's [`export!`] is linked), and changes only what the variant changes:
//!
//! - identity: code [`CODE`], `variant-of` 1.001612, its own name and version;
//! - steps: a `site-visit` step (status processing) between `review` and `approval`,
//!   whose `record-site-visit` action moves on to `approval` only when the premises
//!   were verified;
//! - `propose` in `review` leads to `site-visit` instead of `approval`, after the same
//!   fee check, unless the unit's setting `site_visit_required` is false;
//! - settings: the base settings plus `site_visit_required` (default true).
//!
//! [`export!`]: motcua_sdk::export

use business_household_rules as base;
use motcua_sdk::prelude::*;
use serde::Deserialize;

/// The variant's procedure code: the base code, a slash and the variant's name.
pub const CODE: &str = "1.001612/xuan-hoa-onsite";

/// The variant's name, as citizens and officers see it.
pub const NAME: &str =
    "Đăng ký thành lập hộ kinh doanh (Xuân Hòa: xác minh tại địa điểm kinh doanh)";

/// The step the variant adds.
pub const SITE_VISIT: &str = "site-visit";

/// Per-unit settings: the base procedure's, plus whether the on-site verification is
/// required, all in one flat JSON object.
//
// Its schema is `settings_schema()`. serde does not support `deny_unknown_fields`
// together with `flatten`, so unknown settings are refused by the schema alone
// (`#[schemars(deny_unknown_fields)]`), which the host validates settings against
// before storing them; parsing ignores them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Settings {
    /// The base procedure's settings (fee, online exemption).
    #[serde(flatten)]
    pub base: base::Settings,
    /// Whether a proposal goes through the on-site verification. When false, `propose`
    /// goes straight to `approval`, as in the base procedure.
    pub site_visit_required: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            base: base::Settings::default(),
            site_visit_required: true,
        }
    }
}

/// JSON Schema of the per-unit settings, derived from [`Settings`]: the base settings'
/// properties (flattened from [`base::Settings`], so that a setting the base gains is
/// the variant's too) and `site_visit_required`.
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// The workflow: the base steps, with `site-visit` just before `approval`.
pub fn steps() -> Vec<StepSpec> {
    let mut steps = base::steps();
    let approval = steps
        .iter()
        .position(|step| step.id == "approval")
        .expect("the base procedure has an approval step");
    steps.insert(
        approval,
        step(
            SITE_VISIT,
            "Xác minh tại địa điểm kinh doanh",
            Status::Processing,
        )
        .action(
            "record-site-visit",
            "Ghi nhận kết quả xác minh tại địa điểm",
            &[Role::Specialist],
        ),
    );
    steps
}

/// What `describe` returns: the base procedure's description under the variant's
/// identity, settings and steps.
pub fn procedure_info() -> ProcedureInfo {
    ProcedureInfo {
        code: CODE.into(),
        name: NAME.into(),
        settings_schema: settings_schema(),
        steps: steps(),
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: Some(base::CODE.into()),
        ..base::procedure_info()
    }
}

/// Every problem with a submission: the variant files exactly like the base procedure.
pub fn check_submission(submission: &Submission) -> Vec<Finding> {
    base::check_submission(submission)
}

/// The payload of `record-site-visit`: both fields are required.
#[derive(Debug, Deserialize)]
struct SiteVisitPayload {
    /// Whether the premises exist and match the registration.
    verified: bool,
    /// The specialist's report of the visit; the host keeps it with the event.
    report: String,
}

/// The next step of a dossier, or why the command cannot be carried out: the variant's
/// own actions, and the base procedure's rules for everything else.
///
/// Reads the unit's settings through `settings` only when an action needs them.
pub fn decide_command(
    dossier: &Dossier,
    command: &Command,
    settings: impl FnOnce() -> Settings,
) -> Result<Decision, Refusal> {
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "propose") => {
            require_paid(dossier)?;
            if settings().site_visit_required {
                decision(SITE_VISIT, Status::Processing)
            } else {
                decision("approval", Status::Processing)
            }
        }
        (SITE_VISIT, "record-site-visit") => {
            let payload: SiteVisitPayload = parse_payload(&command.payload_json)?;
            if !payload.verified {
                return Err(refuse(
                    "site-not-verified",
                    format!(
                        "Địa điểm kinh doanh chưa được xác minh, chưa thể trình phê duyệt. Biên bản: {}",
                        payload.report.trim()
                    ),
                ));
            }
            decision("approval", Status::Processing)
        }
        _ => return base::decide_command(dossier, command, || settings().base),
    };
    Ok(decided.note(command.note.trim()))
}

/// The plugin as the host sees it.
pub struct BusinessHouseholdOnsite;

impl Guest for BusinessHouseholdOnsite {
    fn describe() -> ProcedureInfo {
        procedure_info()
    }

    fn check(submission: Submission) -> Vec<Finding> {
        check_submission(&submission)
    }

    fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> {
        decide_command(&dossier, &command, motcua_sdk::settings::<Settings>)
    }
}

motcua_sdk::export!(BusinessHouseholdOnsite);

#[cfg(test)]
mod tests;
