//! Đăng ký khai tử (death registration) at commune level, national procedure 1.000656.
//!
//! The rules follow Luật Hộ tịch 2014 (Điều 33–34), Nghị định 123/2015/NĐ-CP and
//! Thông tư 04/2020/TT-BTP:
//!
//! - the spouse, a child, a parent or another relative registers the death within
//!   15 days of it (Điều 33 khoản 1); registering later is still owed, so `check` only
//!   warns about it ([`Settings::late_registration_warning_days`]);
//! - the dossier holds the death notice (Giấy báo tử) or a paper that replaces it, and
//!   the declarant's identity paper (Điều 34 khoản 1);
//! - the death is registered the day the dossier is received; when the facts must be
//!   verified, within at most 3 working days (Điều 34 khoản 2). The specialist's
//!   `verify` action models that: it restarts the clock with [`VERIFICATION_DAYS`]
//!   working days and tells the applicant why;
//! - on-time registration is free of charge (Điều 11 khoản 1).
//!
//! The rules live in plain functions ([`procedure_info`], [`check_submission`],
//! [`decide_command`]) that take everything they need as arguments, so they are
//! unit-tested natively; the [`Guest`] implementation only adds the host's settings.

use motcua_sdk::date::days_between;
use motcua_sdk::prelude::*;
use serde::Deserialize;

/// National procedure code.
pub const CODE: &str = "1.000656";

/// Working days the registration may take when the death must be verified
/// (Luật Hộ tịch 2014, Điều 34 khoản 2).
pub const VERIFICATION_DAYS: u32 = 3;

/// Days after the death within which it must be registered (Luật Hộ tịch 2014,
/// Điều 33 khoản 1): the default of [`Settings::late_registration_warning_days`].
pub const STATUTORY_REGISTRATION_DAYS: u32 = 15;

/// JSON Schema of the application form (tờ khai đăng ký khai tử), derived from
/// [`DeathForm`].
pub fn form_schema() -> String {
    form_schema_json::<DeathForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`].
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Days after the death beyond which `check` warns that the registration is late.
    /// The law gives the family 15 days (Luật Hộ tịch, Điều 33); the warning never
    /// blocks, since a late registration is still owed.
    #[schemars(range(min = 1))]
    pub late_registration_warning_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            late_registration_warning_days: STATUTORY_REGISTRATION_DAYS,
        }
    }
}

// The application form. Every field defaults, so that a missing field is reported by
// the content checks rather than stopping the parse (see `parse_form`); its schema
// ([`form_schema`]) still requires every field but `deceased.cause`. (Plain comments
// here: a doc comment would become the schema's description.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(title = "Tờ khai đăng ký khai tử")]
pub struct DeathForm {
    #[schemars(title = "Người đã chết")]
    pub deceased: Deceased,
    /// The declarant's relationship to the deceased ("con", "vợ", ...).
    #[schemars(
        title = "Quan hệ của người đi đăng ký khai tử với người đã chết",
        length(min = 1)
    )]
    pub declarant_relationship: String,
}

/// The person whose death is registered.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Deceased {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    #[schemars(title = "Số định danh cá nhân", regex(pattern = r"^[0-9]{12}$"))]
    pub citizen_id: String,
    /// `YYYY-MM-DD`.
    #[schemars(title = "Ngày, tháng, năm sinh", extend("format" = "date"))]
    pub birth_date: String,
    /// `YYYY-MM-DD`.
    #[schemars(title = "Ngày, tháng, năm chết", extend("format" = "date"))]
    pub death_date: String,
    #[schemars(title = "Nơi chết", length(min = 1))]
    pub death_place: String,
    /// As written on the death notice; may be absent or empty.
    #[schemars(title = "Nguyên nhân chết")]
    pub cause: Option<String>,
}

/// The document components of the dossier (Luật Hộ tịch 2014, Điều 34 khoản 1).
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement(
            "death-proof",
            "Giấy báo tử hoặc giấy tờ thay thế Giấy báo tử",
        )
        .option(
            "death-notice",
            "Giấy báo tử (do cơ sở y tế hoặc cơ quan có thẩm quyền cấp)",
        )
        .option("death-confirmation", "Văn bản xác nhận việc chết"),
        requirement(
            "declarant-id",
            "Giấy tờ tùy thân của người đi đăng ký khai tử",
        )
        .option("citizen-id-card", "Thẻ căn cước / căn cước công dân"),
    ]
}

/// The intake: receipt starts the same-day clock; a supplement is asked for before
/// receipt, and completing it files the dossier again.
fn intake() -> Intake<'static> {
    Intake::new(|_| documents()).on_receive(|_| {
        decision("review", Status::Processing).effect(Effect::StartClock(ProcessingTime::SameDay))
    })
}

/// The workflow: steps, their canonical statuses, and who may take which action.
pub fn steps() -> Vec<StepSpec> {
    use Role::{Leader, Officer, Specialist};
    let [submitted, supplement, refused] = intake().steps();
    vec![
        submitted,
        supplement,
        step("review", "Thẩm định", Status::Processing)
            .action("verify", "Xác minh việc chết", &[Specialist])
            .action("submit-for-signing", "Trình ký", &[Specialist]),
        step("verification", "Đang xác minh", Status::Processing).action(
            "submit-for-signing",
            "Trình ký",
            &[Specialist],
        ),
        step("signing", "Chờ ký", Status::Processing)
            .action("sign", "Ký trích lục khai tử", &[Leader])
            .action("send-back", "Trả lại để thẩm định lại", &[Leader]),
        step("settled", "Đã có kết quả", Status::Settled).action(
            "return-result",
            "Trả kết quả",
            &[Officer],
        ),
        refused,
        step("returned", "Đã trả kết quả", Status::Returned),
    ]
}

/// What `describe` returns.
pub fn procedure_info() -> ProcedureInfo {
    ProcedureInfo {
        code: CODE.into(),
        name: "Đăng ký khai tử".into(),
        field: "civil-status".into(),
        level: Level::Commune,
        processing_time: ProcessingTime::SameDay,
        fees: vec![fee(
            "registration",
            "Lệ phí đăng ký khai tử",
            0,
            "Miễn lệ phí đăng ký khai tử đúng hạn (Điều 11 khoản 1 Luật Hộ tịch 2014). \
             Đăng ký quá hạn 15 ngày: mức lệ phí do Hội đồng nhân dân cấp tỉnh quyết định \
             (Thông tư 85/2019/TT-BTC).",
        )],
        documents: documents(),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Luật Hộ tịch số 60/2014/QH13, Điều 33 (thời hạn và trách nhiệm đăng ký khai tử) và Điều 34 (thủ tục đăng ký khai tử)".into(),
            "Nghị định 123/2015/NĐ-CP quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch".into(),
            "Thông tư 04/2020/TT-BTP quy định chi tiết thi hành một số điều của Luật Hộ tịch và Nghị định 123/2015/NĐ-CP".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// Every problem with a submission, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission, settings: &Settings) -> Vec<Finding> {
    let mut findings = Findings::new();
    if let Some(form) = parse_form::<DeathForm>(&submission.form_json, &mut findings) {
        check_form(&form, &submission.at.date, settings, &mut findings);
    }
    let applicant = &submission.applicant;
    findings.check_citizen_id("applicant.citizen_id", &applicant.citizen_id);
    if let Some(phone) = applicant.phone.as_deref().filter(|phone| !phone.is_empty()) {
        findings.check_phone("applicant.phone", phone);
    }
    findings.extend(missing_document_findings(
        &documents(),
        &submission.documents,
    ));
    findings.into_vec()
}

fn check_form(form: &DeathForm, submitted_on: &Date, settings: &Settings, findings: &mut Findings) {
    let deceased = &form.deceased;
    findings.require_text(
        "form.deceased.full_name",
        &deceased.full_name,
        "họ tên người đã chết",
    );
    findings.check_citizen_id("form.deceased.citizen_id", &deceased.citizen_id);
    let birth_date = findings.require_date(
        "form.deceased.birth_date",
        &deceased.birth_date,
        "ngày sinh",
    );
    if let Some(born) = birth_date
        && born > *submitted_on
    {
        findings.block(
            "form.deceased.birth_date",
            "birth-date-in-future",
            format!("Ngày sinh {born} sau ngày nộp hồ sơ {submitted_on}."),
        );
    }
    if let Some(died) = findings.require_date(
        "form.deceased.death_date",
        &deceased.death_date,
        "ngày chết",
    ) {
        check_death_date(died, birth_date, submitted_on, settings, findings);
    }
    findings.require_text(
        "form.deceased.death_place",
        &deceased.death_place,
        "nơi chết",
    );
    findings.require_text(
        "form.declarant_relationship",
        &form.declarant_relationship,
        "quan hệ với người đã chết",
    );
}

/// The date of death must lie between the birth (when known) and the day of
/// submission; a registration more than the unit's warning days after it is late.
fn check_death_date(
    died: Date,
    born: Option<Date>,
    submitted_on: &Date,
    settings: &Settings,
    findings: &mut Findings,
) {
    const TARGET: &str = "form.deceased.death_date";
    let days_since_death = days_between(&died, submitted_on);
    if days_since_death < 0 {
        findings.block(
            TARGET,
            "death-date-in-future",
            format!("Ngày chết {died} sau ngày nộp hồ sơ {submitted_on}."),
        );
        return;
    }
    if let Some(born) = born
        && died < born
    {
        findings.block(
            TARGET,
            "death-before-birth",
            format!("Ngày chết {died} trước ngày sinh {born}."),
        );
        return;
    }
    let allowed = settings.late_registration_warning_days.max(1);
    if days_since_death > i64::from(allowed) {
        findings.warn(
            TARGET,
            "late-registration",
            format!(
                "Đăng ký khai tử sau {days_since_death} ngày kể từ ngày chết, quá thời hạn {allowed} ngày \
                 (Điều 33 Luật Hộ tịch 2014); việc đăng ký vẫn được giải quyết."
            ),
        );
    }
}

/// The next step of a dossier, or why the command cannot be carried out.
///
/// Pure and deterministic: it reads only the snapshot and the command.
pub fn decide_command(dossier: &Dossier, command: &Command) -> Result<Decision, Refusal> {
    if let Some(decided) = intake().decide(dossier, command) {
        return decided;
    }
    let note = command.note.trim();
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "verify") => decision("verification", Status::Processing)
            .effect(Effect::StartClock(ProcessingTime::WorkingDays(
                VERIFICATION_DAYS,
            )))
            .effect(Effect::NotifyApplicant(verification_notice(note))),
        ("review" | "verification", "submit-for-signing") => {
            decision("signing", Status::Processing)
        }
        ("signing", "sign") => {
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "death-extract".into(),
                name: "Trích lục khai tử".into(),
                number: extract_number(&dossier.code),
                digitized: true,
            }))
        }
        ("signing", "send-back") => decision("review", Status::Processing),
        ("settled", "return-result") => decision("returned", Status::Returned),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(note))
}

/// What the applicant is told when the death must be verified: the new time limit,
/// and the specialist's reason when one was given.
pub fn verification_notice(reason: &str) -> String {
    let mut notice = format!(
        "Việc khai tử cần được xác minh; thời hạn giải quyết được kéo dài không quá {VERIFICATION_DAYS:02} ngày làm việc \
         (khoản 2 Điều 34 Luật Hộ tịch 2014)."
    );
    if !reason.is_empty() {
        notice.push_str(" Nội dung cần xác minh: ");
        notice.push_str(reason);
    }
    notice
}

/// The number of the death extract. Derived from the dossier code, which is unique in
/// the province, so replaying a dossier's history issues the same number.
pub fn extract_number(dossier_code: &str) -> String {
    format!("KT-{dossier_code}")
}

/// The plugin as the host sees it.
pub struct DeathRegistration;

impl Guest for DeathRegistration {
    fn describe() -> ProcedureInfo {
        procedure_info()
    }

    fn check(submission: Submission) -> Vec<Finding> {
        check_submission(&submission, &motcua_sdk::settings::<Settings>())
    }

    fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> {
        decide_command(&dossier, &command)
    }
}

motcua_sdk::export!(DeathRegistration);

#[cfg(test)]
mod tests;
