//! The rules of Đăng ký thành lập hộ kinh doanh (registering a household business) at
//! commune level, national procedure 1.001612.
//!
//! The rules follow Nghị định 168/2025/NĐ-CP on business registration, Luật Doanh
//! nghiệp 2020 and Thông tư 85/2019/TT-BTC on fees. The statutory time is 3 working
//! days ([`WORKING_DAYS`]), which restart from zero after a supplement; the
//! registration fee is set by the provincial People's Council and configured per unit,
//! which may also waive it for dossiers filed online.
//!
//! The rules live in plain functions ([`procedure_info`], [`check_submission`],
//! [`decide_command`]) that take everything they need as arguments, so they are
//! unit-tested natively (in `plugins/business-household`).
//!
//! This crate is a library and never a component: the plugin `business-household`
//! exports these rules as they are, and a local variant such as
//! `business-household-onsite` exports its own rules built on them. Keeping the
//! `export!` out of this crate is what lets both link it, even when cargo builds them
//! in one invocation (a cargo feature could not: one invocation unifies features).
//!
//! The `release-1-1` feature builds release 1.1.0 of the procedure, which differs in
//! one visible rule: 2 working days instead of 3. It exists so that a rollout from one
//! build of the procedure to another can be tested.

use std::cell::LazyCell;

use motcua_sdk::prelude::*;
use serde::Deserialize;

/// National procedure code.
pub const CODE: &str = "1.001612";

/// Statutory processing time, in working days.
#[cfg(not(feature = "release-1-1"))]
pub const WORKING_DAYS: u32 = 3;
/// Statutory processing time, in working days: release 1.1.0 shortens it to 2.
#[cfg(feature = "release-1-1")]
pub const WORKING_DAYS: u32 = 2;

/// The version `describe` reports: this package's, which is kept equal to the plugin
/// package `business-household`'s (its tests check), or 1.1.0 for `release-1-1`.
#[cfg(not(feature = "release-1-1"))]
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The version `describe` reports: the package's, or 1.1.0 for the `release-1-1` build.
#[cfg(feature = "release-1-1")]
pub const PLUGIN_VERSION: &str = "1.1.0";

/// The statutory processing time, as `describe` declares it and intake and a completed
/// supplement start the clock with.
pub fn processing_time() -> ProcessingTime {
    ProcessingTime::WorkingDays(WORKING_DAYS)
}

/// JSON Schema of the application form, derived from [`BusinessForm`].
pub fn form_schema() -> String {
    form_schema_json::<BusinessForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`].
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The registration fee the provincial People's Council set, in đồng. Zero means the
    /// unit charges nothing, and then no fee is requested at intake.
    #[schemars(range(min = 0))]
    pub registration_fee_vnd: u64,
    /// Waive the fee for dossiers filed online: then no fee is requested at intake for
    /// them, whatever `registration_fee_vnd` says.
    pub online_fee_exempt: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            registration_fee_vnd: 100_000,
            online_fee_exempt: false,
        }
    }
}

impl Settings {
    /// The fee to request at intake for a dossier that came in through `channel`; zero
    /// means none is requested.
    pub fn intake_fee_vnd(&self, channel: Channel) -> u64 {
        if self.online_fee_exempt && channel == Channel::Online {
            0
        } else {
            self.registration_fee_vnd
        }
    }
}

// The application form. Every field defaults, so that a missing field is reported by
// the content checks rather than stopping the parse (see `parse_form`); its schema
// ([`form_schema`]) still requires every field but `members`. (Plain comments here: a
// doc comment would become the schema's description.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(title = "Giấy đề nghị đăng ký hộ kinh doanh")]
pub struct BusinessForm {
    #[schemars(title = "Tên hộ kinh doanh", length(min = 1))]
    pub business_name: String,
    #[schemars(title = "Địa chỉ trụ sở hộ kinh doanh", length(min = 1))]
    pub address: String,
    #[schemars(
        title = "Ngành, nghề kinh doanh",
        length(min = 1),
        inner(length(min = 1))
    )]
    pub business_lines: Vec<String>,
    // Signed so that a negative amount is reported as such rather than as a type error.
    /// More than zero đồng.
    #[schemars(title = "Vốn kinh doanh (đồng)", range(min = 1))]
    pub capital_vnd: i64,
    #[schemars(title = "Số lượng lao động", range(min = 0))]
    pub employees: i64,
    /// Household members registering the business together; may be left out or empty.
    #[schemars(
        title = "Thành viên hộ gia đình tham gia đăng ký",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<Member>,
}

/// A household member taking part in the registration.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Member {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    #[schemars(title = "Số định danh cá nhân", regex(pattern = r"^[0-9]{12}$"))]
    pub citizen_id: String,
}

/// The document components of a dossier whose form lists `member_count` members: the
/// members' minutes are required only when more than one member registers.
pub fn documents(member_count: usize) -> Vec<DocumentRequirement> {
    vec![
        requirement("registration-request", "Giấy đề nghị đăng ký hộ kinh doanh")
            .option("registration-request", "Giấy đề nghị đăng ký hộ kinh doanh"),
        requirement("owner-id", "Giấy tờ pháp lý của cá nhân chủ hộ kinh doanh")
            .option("citizen-id-card", "Thẻ căn cước / căn cước công dân")
            .option("passport", "Hộ chiếu"),
        requirement(
            "members-minutes",
            "Biên bản họp thành viên hộ gia đình (khi có từ hai thành viên trở lên)",
        )
        .option("members-minutes", "Biên bản họp thành viên hộ gia đình")
        .required_if(member_count > 1),
    ]
}

/// The requirements for a dossier, read from its own form. The form was checked when it
/// was filed; if it no longer parses, the members are counted from whatever parses.
fn dossier_documents(dossier: &Dossier) -> Vec<DocumentRequirement> {
    let members = parse_form::<BusinessForm>(&dossier.form_json, &mut Findings::new())
        .map_or(0, |form| form.members.len());
    documents(members)
}

/// The intake, less what `receive` decides (see [`received`], which needs the unit's
/// settings): a specialist asks for supplements during review, and a completed
/// supplement returns there with the clock restarted from zero.
fn intake() -> Intake<'static> {
    Intake::new(dossier_documents)
        .supplement_from("review", Role::Specialist)
        .after_supplement(Resume::To(
            decision("review", Status::Processing).effect(Effect::StartClock(processing_time())),
        ))
}

/// What `receive` decides: the clock starts, and the unit's fee for the dossier's
/// channel is requested unless it is zero.
fn received(dossier: &Dossier, settings: &Settings) -> Decision {
    let received =
        decision("review", Status::Processing).effect(Effect::StartClock(processing_time()));
    let fee_vnd = settings.intake_fee_vnd(dossier.channel);
    if fee_vnd == 0 {
        received
    } else {
        received.effect(Effect::RequestFee(FeeRequest {
            code: "registration".into(),
            amount_vnd: fee_vnd,
            reason: "Lệ phí đăng ký hộ kinh doanh (Thông tư 85/2019/TT-BTC).".into(),
        }))
    }
}

/// The workflow: steps, their canonical statuses, and who may take which action.
pub fn steps() -> Vec<StepSpec> {
    use Role::{Citizen, Leader, Officer, Specialist};
    let intake = intake();
    let [submitted, supplement, refused] = intake.steps();
    vec![
        submitted.action("withdraw", WITHDRAW, &[Citizen]),
        intake
            .add_actions(step("review", "Thẩm định", Status::Processing))
            .action("record-payment", "Ghi nhận nộp lệ phí", &[Officer, Citizen])
            .action("propose", "Trình phê duyệt", &[Specialist])
            .action("withdraw", WITHDRAW, &[Citizen]),
        supplement.action("withdraw", WITHDRAW, &[Citizen]),
        step("approval", "Chờ phê duyệt", Status::Processing)
            .action("approve", "Cấp giấy chứng nhận", &[Leader])
            .action("send-back", "Trả lại để thẩm định lại", &[Leader]),
        step("settled", "Đã có kết quả", Status::Settled).action(
            "return-result",
            "Trả kết quả",
            &[Officer],
        ),
        refused,
        step("returned", "Đã trả kết quả", Status::Returned),
        step(
            "withdrawn",
            "Công dân đã rút hồ sơ",
            Status::WithdrawalRequested,
        ),
    ]
}

/// The citizen may withdraw the dossier until it goes to the leader for approval.
const WITHDRAW: &str = "Rút hồ sơ";

/// What `describe` returns.
pub fn procedure_info() -> ProcedureInfo {
    ProcedureInfo {
        code: CODE.into(),
        name: "Đăng ký thành lập hộ kinh doanh".into(),
        field: "business".into(),
        level: Level::Commune,
        processing_time: processing_time(),
        fees: vec![fee(
            "registration",
            "Lệ phí đăng ký hộ kinh doanh",
            Settings::default().registration_fee_vnd,
            "Thông tư 85/2019/TT-BTC; mức thu do Hội đồng nhân dân cấp tỉnh quyết định (cấu hình theo đơn vị).",
        )],
        documents: documents(0),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp".into(),
            "Luật Doanh nghiệp số 59/2020/QH14".into(),
            "Thông tư 85/2019/TT-BTC hướng dẫn về phí và lệ phí thuộc thẩm quyền quyết định của Hội đồng nhân dân tỉnh".into(),
        ],
        plugin_version: PLUGIN_VERSION.into(),
        variant_of: None,
    }
}

/// Every problem with a submission, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission) -> Vec<Finding> {
    let mut findings = Findings::new();
    let form = parse_form::<BusinessForm>(&submission.form_json, &mut findings);
    if let Some(form) = &form {
        check_form(form, &mut findings);
    }
    let applicant = &submission.applicant;
    findings.check_citizen_id("applicant.citizen_id", &applicant.citizen_id);
    if let Some(phone) = applicant.phone.as_deref().filter(|phone| !phone.is_empty()) {
        findings.check_phone("applicant.phone", phone);
    }
    let members = form.as_ref().map_or(0, |form| form.members.len());
    findings.extend(missing_document_findings(
        &documents(members),
        &submission.documents,
    ));
    findings.into_vec()
}

fn check_form(form: &BusinessForm, findings: &mut Findings) {
    findings.require_text(
        "form.business_name",
        &form.business_name,
        "tên hộ kinh doanh",
    );
    findings.require_text("form.address", &form.address, "địa chỉ trụ sở");
    if form.business_lines.is_empty() {
        findings.block(
            "form.business_lines",
            "required",
            "Chưa nhập ngành, nghề kinh doanh.",
        );
    }
    for (index, line) in form.business_lines.iter().enumerate() {
        findings.require_text(
            &format!("form.business_lines[{index}]"),
            line,
            "ngành, nghề kinh doanh",
        );
    }
    if form.capital_vnd <= 0 {
        findings.block(
            "form.capital_vnd",
            "must-be-positive",
            "Vốn kinh doanh phải lớn hơn 0 đồng.",
        );
    }
    if form.employees < 0 {
        findings.block(
            "form.employees",
            "must-not-be-negative",
            "Số lượng lao động không được âm.",
        );
    }
    for (index, member) in form.members.iter().enumerate() {
        findings.require_text(
            &format!("form.members[{index}].full_name"),
            &member.full_name,
            "họ tên thành viên",
        );
        findings.check_citizen_id(
            &format!("form.members[{index}].citizen_id"),
            &member.citizen_id,
        );
    }
}

/// The next step of a dossier, or why the command cannot be carried out.
///
/// Pure and deterministic: it reads only the snapshot, the command and, for intake,
/// the unit's settings, which it asks for through `settings` only then (most actions
/// do not need them, and each read is a call into the host).
pub fn decide_command(
    dossier: &Dossier,
    command: &Command,
    settings: impl FnOnce() -> Settings,
) -> Result<Decision, Refusal> {
    let settings = LazyCell::new(settings);
    let intake = intake().on_receive(|dossier| received(dossier, &settings));
    if let Some(decided) = intake.decide(dossier, command) {
        return decided;
    }
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "record-payment") => {
            let paid = read_payment(dossier, &command.payload_json)?;
            decision("review", Status::Processing).effect(paid.effect())
        }
        // A dossier is proposed for approval only once its fees are paid.
        ("review", "propose") => {
            require_paid(dossier)?;
            decision("approval", Status::Processing)
        }
        ("approval", "approve") => {
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "household-business-certificate".into(),
                name: "Giấy chứng nhận đăng ký hộ kinh doanh".into(),
                number: certificate_number(&dossier.code),
                digitized: true,
            }))
        }
        ("approval", "send-back") => decision("review", Status::Processing),
        ("submitted" | "review" | "supplement", "withdraw") => {
            decision("withdrawn", Status::WithdrawalRequested)
        }
        ("settled", "return-result") => decision("returned", Status::Returned),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(command.note.trim()))
}

/// The certificate number. Derived from the dossier code, which is unique in the
/// province, so replaying a dossier's history issues the same number.
pub fn certificate_number(dossier_code: &str) -> String {
    format!("HKD-{dossier_code}")
}
