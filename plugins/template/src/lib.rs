//! Cấp bản sao trích lục hộ tịch: issuing copies of a civil-status extract (birth,
//! marriage or death) at commune level.
//!
//! This crate is the starting point of every new procedure: `motcua plugin new NAME`
//! copies it to `plugins/NAME`. Change the procedure's description in
//! [`procedure_info`], what a filing must contain in [`check_submission`], and what each
//! action does in [`decide_command`]; keep the scenarios in `scenarios/` passing with
//! `motcua plugin test`. Before publishing, replace the code `local.procedure-template`
//! with the national procedure code from the National Public Service Portal.
//!
//! Legal basis: Luật Hộ tịch 2014 (Điều 63, 64), Nghị định 123/2015/NĐ-CP, Thông tư
//! 281/2016/TT-BTC (fee of 8,000 đồng per copy).

use motcua_sdk::prelude::*;
use serde::Deserialize;

/// The procedure's code in the catalog.
pub const CODE: &str = "local.procedure-template";

/// The application form (tờ khai cấp bản sao trích lục hộ tịch).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Tờ khai cấp bản sao trích lục hộ tịch")]
pub struct Form {
    /// Which civil-status event the extract is about.
    pub registration_kind: RegistrationKind,
    /// The registration's number in the civil-status book.
    #[schemars(length(min = 1))]
    pub registration_number: String,
    /// The date the event was registered, YYYY-MM-DD.
    #[schemars(extend("format" = "date"))]
    pub registered_on: String,
    /// How many copies, 1 to 20.
    #[schemars(range(min = 1, max = 20))]
    pub copies: u32,
    /// What the copies are for.
    #[schemars(length(min = 1))]
    pub purpose: String,
}

/// The civil-status events an extract can be copied from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationKind {
    Birth,
    Marriage,
    Death,
}

/// What a unit may set for this procedure.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The fee per copy in đồng (Thông tư 281/2016/TT-BTC: 8,000); 0 waives it.
    #[schemars(range(min = 0))]
    pub fee_per_copy_vnd: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fee_per_copy_vnd: 8_000,
        }
    }
}

/// The document components a filing needs.
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement("request", "Tờ khai cấp bản sao trích lục hộ tịch")
            .option("request-form", "Tờ khai cấp bản sao trích lục hộ tịch"),
        requirement("identity", "Giấy tờ tùy thân của người yêu cầu")
            .option("citizen-id-card", "Căn cước công dân")
            .option("passport", "Hộ chiếu"),
        requirement("authorization", "Văn bản ủy quyền (khi nộp thay)")
            .option("authorization", "Văn bản ủy quyền")
            .optional(),
    ]
}

/// The intake (receive, refuse, ask for and complete a supplement), less what `receive`
/// decides, which needs the unit's settings (see [`received`]). A supplement is asked
/// for before receipt, and completing it files the dossier again.
fn intake() -> Intake<'static> {
    Intake::new(|_| documents())
}

/// The workflow: steps, their canonical statuses, and who may take which action.
pub fn steps() -> Vec<StepSpec> {
    let [submitted, supplement, refused] = intake().steps();
    vec![
        submitted,
        supplement,
        step("review", "Đang xử lý", Status::Processing)
            .action(
                "record-payment",
                "Ghi nhận nộp phí",
                &[Role::Officer, Role::Citizen],
            )
            .action("issue", "Cấp bản sao", &[Role::Specialist]),
        step("settled", "Đã có kết quả", Status::Settled).action(
            "return-result",
            "Trả kết quả",
            &[Role::Officer],
        ),
        refused,
        step("returned", "Đã trả kết quả", Status::Returned),
    ]
}

/// What the procedure is, for the host and the catalog.
pub fn procedure_info() -> ProcedureInfo {
    ProcedureInfo {
        code: CODE.into(),
        name: "Cấp bản sao trích lục hộ tịch".into(),
        field: "civil-status".into(),
        level: Level::Commune,
        processing_time: ProcessingTime::SameDay,
        fees: vec![fee(
            "copy",
            "Phí cấp bản sao trích lục (mỗi bản)",
            8_000,
            "Thông tư 281/2016/TT-BTC; đơn vị có thể miễn",
        )],
        documents: documents(),
        form_schema: form_schema_json::<Form>(),
        settings_schema: settings_schema_json::<Settings>(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Luật Hộ tịch 2014, Điều 63 và 64".into(),
            "Nghị định 123/2015/NĐ-CP".into(),
            "Thông tư 281/2016/TT-BTC".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// Every problem with a filing the form's schema cannot say, at once.
///
/// The host has already checked the form against [`Form`]'s schema (every field
/// present, the number of copies from 1 to 20, texts not empty, the date a real date)
/// and reports those problems itself, one per field; this checks the rules: the
/// applicant's citizen ID, a registration date not after the filing, the documents.
pub fn check_submission(submission: &Submission) -> Vec<Finding> {
    let mut findings = Findings::new();
    findings.check_citizen_id("applicant.citizen_id", &submission.applicant.citizen_id);
    if let Some(form) = parse_form::<Form>(&submission.form_json, &mut findings) {
        if let Ok(registered) = parse_date(&form.registered_on) {
            if registered > submission.at.date {
                findings.block(
                    "form.registered_on",
                    "date-in-future",
                    "Ngày đăng ký không thể sau ngày nộp hồ sơ.",
                );
            }
        }
    }
    for finding in missing_document_findings(&documents(), &submission.documents) {
        findings.push(finding);
    }
    findings.into_vec()
}

/// What `receive` decides: the same-day clock starts, and the fee for the copies asked
/// for is requested unless the unit waives it.
fn received(dossier: &Dossier, settings: &Settings) -> Decision {
    let copies = serde_json::from_str::<Form>(&dossier.form_json)
        .map(|form| form.copies)
        .unwrap_or(1);
    let amount = settings.fee_per_copy_vnd.saturating_mul(u64::from(copies));
    let received =
        decision("review", Status::Processing).effect(Effect::StartClock(ProcessingTime::SameDay));
    if amount == 0 {
        return received;
    }
    received.effect(Effect::RequestFee(FeeRequest {
        code: "copy".into(),
        amount_vnd: amount,
        reason: format!("Phí cấp {copies} bản sao trích lục"),
    }))
}

/// What each action does in each step: the intake's actions first, then the
/// procedure's own.
pub fn decide_command(
    dossier: &Dossier,
    command: &Command,
    settings: &Settings,
) -> Result<Decision, Refusal> {
    let intake = intake().on_receive(|dossier| received(dossier, settings));
    if let Some(decided) = intake.decide(dossier, command) {
        return decided;
    }
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "record-payment") => {
            let paid = read_payment(dossier, &command.payload_json)?;
            decision("review", Status::Processing).effect(paid.effect())
        }
        ("review", "issue") => {
            require_paid(dossier)?;
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "civil-status-extract-copy".into(),
                name: "Bản sao trích lục hộ tịch".into(),
                number: format!("BSTL-{}", dossier.code),
                digitized: true,
            }))
        }
        ("settled", "return-result") => decision("returned", Status::Returned),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(command.note.trim()))
}

/// The plugin as the host sees it.
pub struct Procedure;

impl Guest for Procedure {
    fn describe() -> ProcedureInfo {
        procedure_info()
    }

    fn check(submission: Submission) -> Vec<Finding> {
        check_submission(&submission)
    }

    fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> {
        decide_command(&dossier, &command, &motcua_sdk::settings::<Settings>())
    }
}

motcua_sdk::export!(Procedure);

#[cfg(test)]
mod tests;
