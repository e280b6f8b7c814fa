//! Đăng ký kết hôn (marriage registration) between two Vietnamese citizens resident in
//! the country, at commune level, national procedure 1.000894.
//!
//! The rules follow Luật Hôn nhân và gia đình 2014 (Điều 8, the conditions of
//! marriage), Luật Hộ tịch 2014 (Điều 17–18) and Nghị định 123/2015/NĐ-CP:
//!
//! - the man must be at least 20 full years old and the woman at least 18 (Điều 8
//!   khoản 1 điểm a), counted by calendar date as [`full_years_on`] explains; both must
//!   marry voluntarily and neither may be married already (điểm b–d). The plugin checks
//!   the ages against the submission date; voluntariness and marital status are
//!   attested by the declaration and the marital status confirmation, which the
//!   specialist examines in review;
//! - the two parties file the declaration (Luật Hộ tịch, Điều 18 khoản 1) and must
//!   both be present when the marriage is registered and the certificate signed
//!   (Điều 18 khoản 2): `sign` refuses with `parties-absent` otherwise;
//! - the marriage is registered the day the dossier is received; when the conditions
//!   must be verified, within at most 5 working days (Điều 18 khoản 2). The
//!   specialist's `verify` action restarts the clock with [`VERIFICATION_DAYS`] working
//!   days and tells the applicants why;
//! - registration between citizens in the country is free of charge.
//!
//! The rules live in plain functions ([`procedure_info`], [`check_submission`],
//! [`decide_command`]) that take everything they need as arguments, so they are
//! unit-tested natively; the [`Guest`] implementation only wires them to the host.

use motcua_sdk::date::{days_in_month, is_valid_date};
use motcua_sdk::prelude::*;
use serde::Deserialize;

/// National procedure code.
pub const CODE: &str = "1.000894";

/// Working days the registration may take when the conditions of marriage must be
/// verified (Luật Hộ tịch 2014, Điều 18 khoản 2).
pub const VERIFICATION_DAYS: u32 = 5;

/// Minimum age of the man, in full years (Luật Hôn nhân và gia đình 2014, Điều 8).
pub const MIN_AGE_HUSBAND: i32 = 20;

/// Minimum age of the woman, in full years (Luật Hôn nhân và gia đình 2014, Điều 8).
pub const MIN_AGE_WIFE: i32 = 18;

/// JSON Schema of the application form (tờ khai đăng ký kết hôn), derived from
/// [`MarriageForm`].
pub fn form_schema() -> String {
    form_schema_json::<MarriageForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`]: nothing to set.
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings: none. Every rule of this procedure is statutory (the ages, the
/// time limits, the exemption from fees), so a unit has nothing to configure; the type
/// exists so that the schema and the plugin say so in the same way as other plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {}

// The application form (tờ khai đăng ký kết hôn). Every field defaults, so that a
// missing field is reported by the content checks rather than stopping the parse (see
// `parse_form`); its schema ([`form_schema`]) still requires every field. (Plain
// comments here: a doc comment would become the schema's description.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(title = "Tờ khai đăng ký kết hôn")]
pub struct MarriageForm {
    #[schemars(title = "Bên nam")]
    pub husband: Party,
    #[schemars(title = "Bên nữ")]
    pub wife: Party,
    /// Whether both parties will be (or are) present at the registration. `sign` can
    /// also be told so in its payload, since presence is a fact of the signing.
    #[schemars(title = "Hai bên nam, nữ có mặt khi đăng ký kết hôn")]
    pub both_present: bool,
}

/// One of the two people marrying.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Party {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    #[schemars(title = "Số định danh cá nhân", regex(pattern = r"^[0-9]{12}$"))]
    pub citizen_id: String,
    /// `YYYY-MM-DD`.
    #[schemars(title = "Ngày, tháng, năm sinh", extend("format" = "date"))]
    pub birth_date: String,
    #[schemars(title = "Nơi cư trú", length(min = 1))]
    pub residence: String,
}

/// The document components of the dossier.
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement("marriage-declaration", "Tờ khai đăng ký kết hôn")
            .option("marriage-declaration", "Tờ khai đăng ký kết hôn"),
        requirement(
            "marital-status-confirmation",
            "Giấy xác nhận tình trạng hôn nhân",
        )
        .option(
            "marital-status-confirmation",
            "Giấy xác nhận tình trạng hôn nhân",
        ),
        requirement("identity", "Giấy tờ tùy thân của hai bên nam, nữ")
            .option("citizen-id-card", "Thẻ căn cước / căn cước công dân"),
    ]
}

/// The label of the late-dossier apology, offered in every processing step.
const APOLOGY: &str = "Xin lỗi và hẹn lại ngày trả kết quả";

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
            .action("verify", "Xác minh điều kiện kết hôn", &[Specialist])
            .action("submit-for-signing", "Trình ký", &[Specialist])
            .action("apologize", APOLOGY, &[Leader]),
        step("verification", "Đang xác minh", Status::Processing)
            .action("submit-for-signing", "Trình ký", &[Specialist])
            .action("apologize", APOLOGY, &[Leader]),
        step("signing", "Chờ ký", Status::Processing)
            .action("sign", "Ký Giấy chứng nhận kết hôn", &[Leader])
            .action("send-back", "Trả lại để thẩm định lại", &[Leader])
            .action("apologize", APOLOGY, &[Leader]),
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
        name: "Đăng ký kết hôn".into(),
        field: "civil-status".into(),
        level: Level::Commune,
        processing_time: ProcessingTime::SameDay,
        fees: vec![fee(
            "registration",
            "Lệ phí đăng ký kết hôn",
            0,
            "Miễn lệ phí đăng ký kết hôn giữa công dân Việt Nam cư trú ở trong nước \
             (Nghị định 123/2015/NĐ-CP; Thông tư 85/2019/TT-BTC).",
        )],
        documents: documents(),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Luật Hôn nhân và gia đình số 52/2014/QH13, Điều 8 (điều kiện kết hôn)".into(),
            "Luật Hộ tịch số 60/2014/QH13, Điều 17 (thẩm quyền) và Điều 18 (thủ tục đăng ký kết hôn)".into(),
            "Nghị định 123/2015/NĐ-CP quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// The day someone born on `birth` turns `years` old: the same day and month `years`
/// later, or, for a 29 February birthday in a year without one, 28 February, the last
/// day of that month (the rule Bộ luật Dân sự 2015, Điều 148, applies to periods ending
/// in a month without the corresponding day). `birth` must be a real date.
pub fn anniversary(birth: &Date, years: i32) -> Date {
    let year = birth.year + years;
    Date {
        year,
        month: birth.month,
        day: birth.day.min(days_in_month(year, birth.month)),
    }
}

/// Full years of age on `on` of someone born on `birth` (negative when `on` is before
/// the birth).
///
/// A person has "đủ N tuổi" from their N-th birthday on, counted by day, month and
/// year of birth (the reading of Điều 8 in Thông tư liên tịch
/// 01/2016/TTLT-TANDTC-VKSNDTC-BTP, Điều 2): born on 28 February 1996, she is 18 full
/// years old on 28 February 2014 and not the day before. Both dates must be real dates.
pub fn full_years_on(birth: &Date, on: &Date) -> i32 {
    debug_assert!(is_valid_date(birth) && is_valid_date(on));
    let years = on.year - birth.year;
    if *on < anniversary(birth, years) {
        years - 1
    } else {
        years
    }
}

/// Every problem with a submission, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission) -> Vec<Finding> {
    let mut findings = Findings::new();
    if let Some(form) = parse_form::<MarriageForm>(&submission.form_json, &mut findings) {
        check_form(&form, &submission.at.date, &mut findings);
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

fn check_form(form: &MarriageForm, submitted_on: &Date, findings: &mut Findings) {
    check_party(
        "form.husband",
        &form.husband,
        "bên nam",
        MIN_AGE_HUSBAND,
        submitted_on,
        findings,
    );
    check_party(
        "form.wife",
        &form.wife,
        "bên nữ",
        MIN_AGE_WIFE,
        submitted_on,
        findings,
    );
    let (husband, wife) = (form.husband.citizen_id.trim(), form.wife.citizen_id.trim());
    if !husband.is_empty() && husband == wife {
        findings.block(
            "form.wife.citizen_id",
            "same-citizen-id",
            "Số định danh cá nhân của bên nữ trùng với của bên nam.",
        );
    }
}

fn check_party(
    target: &str,
    party: &Party,
    label: &str,
    min_age: i32,
    submitted_on: &Date,
    findings: &mut Findings,
) {
    findings.require_text(
        &format!("{target}.full_name"),
        &party.full_name,
        &format!("họ tên {label}"),
    );
    findings.check_citizen_id(&format!("{target}.citizen_id"), &party.citizen_id);
    let birth_target = format!("{target}.birth_date");
    if let Some(born) = findings.require_date(
        &birth_target,
        &party.birth_date,
        &format!("ngày sinh {label}"),
    ) {
        if born > *submitted_on {
            findings.block(
                &birth_target,
                "birth-date-in-future",
                format!("Ngày sinh {born} sau ngày nộp hồ sơ {submitted_on}."),
            );
        } else if full_years_on(&born, submitted_on) < min_age {
            findings.block(
                &birth_target,
                "under-age",
                format!(
                    "Điều kiện kết hôn: {label} phải từ đủ {min_age} tuổi trở lên (Điều 8 Luật Hôn nhân và gia đình 2014); \
                     tại ngày nộp hồ sơ {submitted_on} mới {} tuổi, đủ {min_age} tuổi vào ngày {}.",
                    full_years_on(&born, submitted_on),
                    anniversary(&born, min_age),
                ),
            );
        }
    }
    findings.require_text(
        &format!("{target}.residence"),
        &party.residence,
        &format!("nơi cư trú {label}"),
    );
}

/// The payload of `sign`: the leader may record whether both parties are present at
/// the signing; absent, the form's `both_present` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignPayload {
    both_present: Option<bool>,
}

/// Whether both parties are present for the signing: the `sign` payload when it says,
/// else the form the dossier was filed with.
fn parties_present(dossier: &Dossier, payload_json: &str) -> Result<bool, Refusal> {
    let payload: SignPayload = parse_payload(payload_json)?;
    Ok(payload.both_present.unwrap_or_else(|| {
        parse_form::<MarriageForm>(&dossier.form_json, &mut Findings::new())
            .is_some_and(|form| form.both_present)
    }))
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
            if !parties_present(dossier, &command.payload_json)? {
                return Err(refuse(
                    "parties-absent",
                    "Hai bên nam, nữ phải cùng có mặt khi đăng ký kết hôn và ký Giấy chứng nhận kết hôn \
                     (khoản 2 Điều 18 Luật Hộ tịch 2014).",
                ));
            }
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "marriage-certificate".into(),
                name: "Giấy chứng nhận kết hôn".into(),
                number: certificate_number(&dossier.code),
                digitized: true,
            }))
        }
        ("signing", "send-back") => decision("review", Status::Processing),
        ("settled", "return-result") => decision("returned", Status::Returned),
        ("review" | "verification" | "signing", "apologize") => return apology(dossier, command),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(note))
}

/// What the applicants are told when the conditions of marriage must be verified: the
/// new time limit, and the specialist's reason when one was given.
pub fn verification_notice(reason: &str) -> String {
    let mut notice = format!(
        "Điều kiện kết hôn cần được xác minh; thời hạn giải quyết được kéo dài không quá {VERIFICATION_DAYS:02} ngày làm việc \
         (khoản 2 Điều 18 Luật Hộ tịch 2014)."
    );
    if !reason.is_empty() {
        notice.push_str(" Nội dung cần xác minh: ");
        notice.push_str(reason);
    }
    notice
}

/// The certificate number. Derived from the dossier code, which is unique in the
/// province, so replaying a dossier's history issues the same number.
pub fn certificate_number(dossier_code: &str) -> String {
    format!("KH-{dossier_code}")
}

/// The plugin as the host sees it.
pub struct MarriageRegistration;

impl Guest for MarriageRegistration {
    fn describe() -> ProcedureInfo {
        procedure_info()
    }

    fn check(submission: Submission) -> Vec<Finding> {
        check_submission(&submission)
    }

    fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> {
        decide_command(&dossier, &command)
    }
}

motcua_sdk::export!(MarriageRegistration);

#[cfg(test)]
mod tests;
