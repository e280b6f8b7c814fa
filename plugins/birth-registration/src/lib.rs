//! Đăng ký khai sinh (birth registration) at commune level, national procedure 1.001193.
//!
//! The rules follow Luật Hộ tịch 2014 (Điều 16), Nghị định 123/2015/NĐ-CP and
//! Thông tư 04/2020/TT-BTP. The procedure is settled the day it is received, and
//! registration within 60 days of the birth is free of charge.
//!
//! The rules live in plain functions ([`procedure_info`], [`check_submission`],
//! [`decide_command`]) that take everything they need as arguments, so they are
//! unit-tested natively; the [`Guest`] implementation only adds the host's settings.

use motcua_sdk::date::days_between;
use motcua_sdk::prelude::*;
use serde::Deserialize;

/// National procedure code.
pub const CODE: &str = "1.001193";

/// The values `form.child.sex` may take.
pub const SEXES: [&str; 2] = ["male", "female"];

/// JSON Schema of the application form (tờ khai đăng ký khai sinh), derived from
/// [`BirthForm`].
pub fn form_schema() -> String {
    form_schema_json::<BirthForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`].
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Days after the birth beyond which `check` warns that the registration is late.
    /// The law gives parents 60 days (Luật Hộ tịch, Điều 15); a unit may warn earlier
    /// or later, but the warning never blocks, since late registration is still owed.
    #[schemars(range(min = 1))]
    pub late_registration_warning_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            late_registration_warning_days: 60,
        }
    }
}

// The application form. Every field defaults, so that a missing field is reported by
// the content checks rather than stopping the parse (see `parse_form`); its schema
// ([`form_schema`]) still requires every field but `father`. (Plain comments here: a
// doc comment would become the schema's description.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(title = "Tờ khai đăng ký khai sinh")]
pub struct BirthForm {
    #[schemars(title = "Người được khai sinh")]
    pub child: Child,
    #[schemars(title = "Người mẹ")]
    pub mother: Parent,
    /// Absent when paternity is not established at registration.
    #[schemars(title = "Người cha")]
    pub father: Option<Parent>,
    /// The applicant's relationship to the child ("mother", "grandfather", ...).
    #[schemars(
        title = "Quan hệ của người đi đăng ký với người được khai sinh",
        length(min = 1)
    )]
    pub applicant_relationship: String,
}

/// The person being registered.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Child {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    /// `"male"` or `"female"`.
    #[schemars(title = "Giới tính", extend("enum" = SEXES))]
    pub sex: String,
    /// `YYYY-MM-DD`.
    #[schemars(title = "Ngày, tháng, năm sinh", extend("format" = "date"))]
    pub birth_date: String,
    #[schemars(title = "Nơi sinh", length(min = 1))]
    pub birth_place: String,
    #[schemars(title = "Dân tộc", length(min = 1))]
    pub ethnicity: String,
    #[schemars(title = "Quốc tịch", length(min = 1))]
    pub nationality: String,
}

/// A parent as written on the form.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Parent {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    #[schemars(title = "Số định danh cá nhân", regex(pattern = r"^[0-9]{12}$"))]
    pub citizen_id: String,
}

/// The document components of the dossier.
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement("birth-proof", "Giấy tờ chứng minh việc sinh")
            .option("hospital-birth-certificate", "Giấy chứng sinh")
            .option(
                "witness-statement",
                "Văn bản của người làm chứng xác nhận việc sinh",
            ),
        requirement("parent-id", "Giấy tờ tùy thân của người đi đăng ký")
            .option("citizen-id-card", "Thẻ căn cước / căn cước công dân"),
        requirement("marriage-certificate", "Giấy chứng nhận kết hôn của cha mẹ")
            .option("marriage-certificate", "Giấy chứng nhận kết hôn")
            .optional(),
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
        step("review", "Thẩm định", Status::Processing).action(
            "submit-for-signing",
            "Trình ký",
            &[Specialist],
        ),
        step("signing", "Chờ ký", Status::Processing)
            .action("sign", "Ký giấy khai sinh", &[Leader])
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
        name: "Đăng ký khai sinh".into(),
        field: "civil-status".into(),
        level: Level::Commune,
        processing_time: ProcessingTime::SameDay,
        fees: vec![fee(
            "registration",
            "Lệ phí đăng ký khai sinh",
            0,
            "Miễn lệ phí đăng ký khai sinh đúng hạn (Điều 11 Luật Hộ tịch 2014; Thông tư 85/2019/TT-BTC).",
        )],
        documents: documents(),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Luật Hộ tịch số 60/2014/QH13, Điều 16".into(),
            "Nghị định 123/2015/NĐ-CP quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch".into(),
            "Thông tư 04/2020/TT-BTP quy định chi tiết thi hành Luật Hộ tịch".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// Every problem with a submission, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission, settings: &Settings) -> Vec<Finding> {
    let mut findings = Findings::new();
    if let Some(form) = parse_form::<BirthForm>(&submission.form_json, &mut findings) {
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

fn check_form(form: &BirthForm, submitted_on: &Date, settings: &Settings, findings: &mut Findings) {
    let child = &form.child;
    findings.require_text(
        "form.child.full_name",
        &child.full_name,
        "họ tên người được khai sinh",
    );
    if findings.require_text("form.child.sex", &child.sex, "giới tính")
        && !SEXES.contains(&child.sex.as_str())
    {
        findings.block(
            "form.child.sex",
            "invalid-value",
            "Giới tính phải là \"male\" hoặc \"female\".",
        );
    }
    if let Some(birth_date) =
        findings.require_date("form.child.birth_date", &child.birth_date, "ngày sinh")
    {
        let age_in_days = days_between(&birth_date, submitted_on);
        if age_in_days < 0 {
            findings.block(
                "form.child.birth_date",
                "birth-date-in-future",
                format!("Ngày sinh {birth_date} sau ngày nộp hồ sơ {submitted_on}."),
            );
        } else if age_in_days > i64::from(settings.late_registration_warning_days.max(1)) {
            findings.warn(
                "form.child.birth_date",
                "late-registration",
                format!(
                    "Đăng ký khai sinh sau {age_in_days} ngày kể từ ngày sinh, quá thời hạn {} ngày.",
                    settings.late_registration_warning_days.max(1)
                ),
            );
        }
    }
    findings.require_text("form.child.birth_place", &child.birth_place, "nơi sinh");
    findings.require_text("form.child.ethnicity", &child.ethnicity, "dân tộc");
    findings.require_text("form.child.nationality", &child.nationality, "quốc tịch");
    findings.require_text(
        "form.mother.full_name",
        &form.mother.full_name,
        "họ tên người mẹ",
    );
    findings.check_citizen_id("form.mother.citizen_id", &form.mother.citizen_id);
    if let Some(father) = &form.father {
        findings.require_text(
            "form.father.full_name",
            &father.full_name,
            "họ tên người cha",
        );
        findings.check_citizen_id("form.father.citizen_id", &father.citizen_id);
    }
    findings.require_text(
        "form.applicant_relationship",
        &form.applicant_relationship,
        "quan hệ với người được khai sinh",
    );
}

/// The next step of a dossier, or why the command cannot be carried out.
///
/// Pure and deterministic: it reads only the snapshot and the command.
pub fn decide_command(dossier: &Dossier, command: &Command) -> Result<Decision, Refusal> {
    if let Some(decided) = intake().decide(dossier, command) {
        return decided;
    }
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "submit-for-signing") => decision("signing", Status::Processing),
        ("signing", "sign") => {
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "birth-certificate".into(),
                name: "Giấy khai sinh".into(),
                number: certificate_number(&dossier.code),
                digitized: true,
            }))
        }
        ("signing", "send-back") => decision("review", Status::Processing),
        ("settled", "return-result") => decision("returned", Status::Returned),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(command.note.trim()))
}

/// The birth certificate number. Derived from the dossier code, which is unique in the
/// province, so replaying a dossier's history issues the same number.
pub fn certificate_number(dossier_code: &str) -> String {
    format!("KS-{dossier_code}")
}

/// The plugin as the host sees it.
pub struct BirthRegistration;

impl Guest for BirthRegistration {
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

motcua_sdk::export!(BirthRegistration);

#[cfg(test)]
mod tests;
