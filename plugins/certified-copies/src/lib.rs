//! Chứng thực bản sao từ bản chính (certified copies from an original) at commune
//! level, national procedure 2.000908.
//!
//! The rules follow Nghị định 23/2015/NĐ-CP (Điều 5, 7, 18, 20, 22) and the fee of
//! Thông tư 226/2016/TT-BTC: 2,000 đ a page for the first two pages, 1,000 đ a page
//! from the third, at most 200,000 đ a copy. The copies are certified the day the
//! request is received (the next working day after the cut-off hour).
//!
//! The fee is declared once, in [`certification_fee`]: `describe` publishes its schedule
//! and `receive` asks for the amount that schedule gives for the form, so the catalog's
//! quote and the fee requested cannot disagree.

use motcua_sdk::prelude::*;
use serde::Deserialize;

/// National procedure code (commune level).
pub const CODE: &str = "2.000908";

/// The copies of one request the law allows without agreeing a longer time in writing.
pub const DEFAULT_LARGE_ORDER_COPIES: u32 = 10;

/// The fee: 2,000 đ a page for pages 1 and 2, 1,000 đ a page from page 3, at most
/// 200,000 đ a copy, times the number of copies.
pub fn certification_fee() -> Fee {
    scheduled_fee(
        "certification",
        "Phí chứng thực bản sao từ bản chính",
        FeeSchedule::tiered("/pages", "trang")
            .tier(1, 2_000)
            .tier(3, 1_000)
            .cap_per_item(200_000)
            .items("/copies", "bản"),
        "Thông tư 226/2016/TT-BTC, Điều 4: 2.000 đồng/trang; từ trang thứ ba trở lên 1.000 đồng/trang, \
         tối đa 200.000 đồng/bản.",
    )
}

/// JSON Schema of the request form, derived from [`CopyForm`].
pub fn form_schema() -> String {
    form_schema_json::<CopyForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`].
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Above this many copies, `check` warns that the request is a large one, whose time
    /// the unit agrees with the applicant in writing (Nghị định 23/2015/NĐ-CP, Điều 7).
    #[schemars(range(min = 1))]
    pub large_order_copies: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            large_order_copies: DEFAULT_LARGE_ORDER_COPIES,
        }
    }
}

// The request form. Every limit is in the schema, which the host checks before `check`
// runs; `check` keeps the rules the schema cannot state. (Plain comments here: a doc
// comment would become the schema's description.)
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(title = "Yêu cầu chứng thực bản sao từ bản chính")]
pub struct CopyForm {
    #[schemars(title = "Tên giấy tờ, văn bản", length(min = 1, max = 200))]
    pub document_title: String,
    #[schemars(title = "Cơ quan, tổ chức cấp", length(min = 1, max = 200))]
    pub issued_by: String,
    #[schemars(title = "Số trang của bản chính", range(min = 1, max = 2000))]
    pub pages: u32,
    #[schemars(title = "Số bản sao cần chứng thực", range(min = 1, max = 200))]
    pub copies: u32,
}

/// The document components: the original itself, shown at the counter, and the
/// requester's identity paper.
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement("original", "Bản chính giấy tờ, văn bản cần chứng thực")
            .option("original-document", "Bản chính"),
        requirement(
            "requester-id",
            "Giấy tờ tùy thân của người yêu cầu chứng thực",
        )
        .option("citizen-id-card", "Thẻ căn cước / căn cước công dân"),
    ]
}

/// The standard intake: receiving asks for the fee its schedule gives for the form, and
/// starts the same-day clock.
pub fn intake() -> Intake<'static> {
    Intake::new(|_| documents()).try_on_receive(|dossier| {
        let received = decision("certifying", Status::Processing)
            .effect(Effect::StartClock(ProcessingTime::SameDay));
        let request = certification_fee().request(
            &dossier.form_json,
            "Phí chứng thực bản sao (Thông tư 226/2016/TT-BTC).",
        )?;
        Ok(match request {
            Some(request) => received.effect(Effect::RequestFee(request)),
            None => received,
        })
    })
}

/// The workflow: steps, their canonical statuses, and who may take which action.
pub fn steps() -> Vec<StepSpec> {
    use Role::{Citizen, Leader, Officer};
    let [submitted, supplement, refused] = intake().steps();
    vec![
        submitted,
        supplement,
        step("certifying", "Đối chiếu, chứng thực", Status::Processing)
            .action("record-payment", "Ghi nhận nộp phí", &[Officer, Citizen])
            .action("certify", "Ký chứng thực", &[Leader]),
        step("settled", "Đã chứng thực", Status::Settled).action(
            "return-result",
            "Trả bản sao",
            &[Officer],
        ),
        refused,
        step("returned", "Đã trả bản sao", Status::Returned),
    ]
}

/// What `describe` returns.
pub fn procedure_info() -> ProcedureInfo {
    ProcedureInfo {
        code: CODE.into(),
        name: "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam cấp hoặc chứng nhận".into(),
        field: "certification".into(),
        level: Level::Commune,
        processing_time: ProcessingTime::SameDay,
        fees: vec![certification_fee()],
        documents: documents(),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Nghị định 23/2015/NĐ-CP về cấp bản sao từ sổ gốc, chứng thực bản sao từ bản chính".into(),
            "Thông tư 01/2020/TT-BTP hướng dẫn Nghị định 23/2015/NĐ-CP".into(),
            "Thông tư 226/2016/TT-BTC quy định mức thu phí chứng thực".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// The rules the schema cannot state, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission, settings: &Settings) -> Vec<Finding> {
    let mut findings = Findings::new();
    if let Some(form) = parse_form::<CopyForm>(&submission.form_json, &mut findings) {
        let large = settings.large_order_copies.max(1);
        if form.copies > large {
            findings.warn(
                "form.copies",
                "large-order",
                format!(
                    "Yêu cầu {} bản sao, nhiều hơn {large} bản: thời hạn chứng thực được thỏa thuận bằng văn bản \
                     với người yêu cầu (Điều 7 Nghị định 23/2015/NĐ-CP).",
                    form.copies
                ),
            );
        }
    }
    findings.check_citizen_id("applicant.citizen_id", &submission.applicant.citizen_id);
    findings.extend(missing_document_findings(
        &documents(),
        &submission.documents,
    ));
    findings.into_vec()
}

/// The next step of a dossier, or why the command cannot be carried out.
///
/// Pure and deterministic: it reads only the snapshot and the command.
pub fn decide_command(dossier: &Dossier, command: &Command) -> Result<Decision, Refusal> {
    // Receiving, refusing (an altered, damaged or secret original is not certified:
    // Điều 22 Nghị định 23/2015/NĐ-CP, and the officer says which) and supplements.
    if let Some(decided) = intake().decide(dossier, command) {
        return decided;
    }
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("certifying", "record-payment") => {
            let paid = read_payment(dossier, &command.payload_json)?.refuse_overpayment()?;
            decision("certifying", Status::Processing).effect(paid.effect())
        }
        ("certifying", "certify") => {
            require_paid(dossier)?;
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "certified-copy".into(),
                name: "Bản sao được chứng thực từ bản chính".into(),
                number: certification_number(&dossier.code),
                digitized: false,
            }))
        }
        ("settled", "return-result") => decision("returned", Status::Returned),
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(command.note.trim()))
}

/// The number in the certification book (sổ chứng thực). Derived from the dossier code,
/// which is unique in the province, so replaying a dossier's history gives the same.
pub fn certification_number(dossier_code: &str) -> String {
    format!("CT-{dossier_code}")
}

/// The plugin as the host sees it.
pub struct CertifiedCopies;

impl Guest for CertifiedCopies {
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

motcua_sdk::export!(CertifiedCopies);

#[cfg(test)]
mod tests;
