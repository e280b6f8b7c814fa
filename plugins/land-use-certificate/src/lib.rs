//! Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất lần
//! đầu (first-time land registration and issuance of the land use right certificate),
//! at province level, procedure [`CODE`].
//!
//! The rules follow Luật Đất đai 2024, Nghị định 101/2024/NĐ-CP (registration and
//! certificates), Nghị định 103/2024/NĐ-CP (land use fees) and Thông tư
//! 10/2024/TT-BTNMT (cadastral records and the certificate):
//!
//! - the dossier holds the application (Mẫu 04/ĐK), the papers on the land's origin (or
//!   the commune People's Committee's confirmation of its origin and of when its use
//!   began, for land without papers), the identity paper and, when there is one, the
//!   cadastral extract;
//! - the statutory time is at most 20 working days ([`WORKING_DAYS`]), restarted from
//!   zero after a supplement; the time the applicant takes to meet their financial
//!   obligations is not counted. The plugin declares that time as the
//!   `financial-obligation` step with the national status 6 (awaiting payment); how
//!   the clock treats it is the host's business, not the plugin's;
//! - a specialist inspects the parcel on site and records the measured area; when the
//!   land is residential and recognised without papers on its origin, a land use fee
//!   is owed: measured area × the provincial land price table's price × the rate, all
//!   unit settings ([`land_use_fee_vnd`]). This is a simplification of Nghị định
//!   103/2024/NĐ-CP, whose rates also depend on when the use began and on the
//!   residential land allocation limit; one configurable rate stands for them here;
//! - the registration fee (lệ phí cấp Giấy chứng nhận) is set by the provincial
//!   People's Council (Thông tư 85/2019/TT-BTC) and configured per unit.
//!
//! Provinces publish their own codes for this procedure in their catalogues of
//! administrative procedures; [`CODE`] is the one this plugin uses.
//!
//! The rules live in plain functions ([`procedure_info`], [`check_submission`],
//! [`decide_command`], [`land_use_fee_vnd`]) that take everything they need as
//! arguments, so they are unit-tested natively; the [`Guest`] implementation only adds
//! the host's settings.

use std::cell::LazyCell;

use motcua_sdk::prelude::*;
use serde::Deserialize;

/// The procedure code. Provinces publish their own codes for land procedures; this is
/// the one the plugin declares.
pub const CODE: &str = "1.012756";

/// Statutory processing time in working days (Nghị định 101/2024/NĐ-CP: at most 20
/// working days for first-time registration and issuance, not counting the time for
/// financial obligations).
pub const WORKING_DAYS: u32 = 20;

/// The land use purposes the form accepts.
pub const LAND_USE_PURPOSES: [&str; 3] = ["residential", "agricultural", "commercial"];

/// Land used without papers is recognised under Luật Đất đai 2024, Điều 138, only when
/// its use began before 1 July 2014; later use without papers gets a warning at filing.
pub const RECOGNITION_CUTOFF: Date = Date {
    year: 2014,
    month: 7,
    day: 1,
};

/// The kind of document that proves the land's origin by papers; a dossier without one
/// relies on the commune's confirmation, and its residential land owes the land use fee.
pub const LAND_ORIGIN_PAPERS: &str = "land-origin-papers";

/// The statutory processing time, as `describe` declares it and intake and a completed
/// supplement start the clock with.
pub fn processing_time() -> ProcessingTime {
    ProcessingTime::WorkingDays(WORKING_DAYS)
}

/// JSON Schema of the application form, derived from [`LandForm`].
pub fn form_schema() -> String {
    form_schema_json::<LandForm>()
}

/// JSON Schema of the per-unit settings, derived from [`Settings`].
pub fn settings_schema() -> String {
    settings_schema_json::<Settings>()
}

/// Per-unit settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The fee for issuing the certificate, in đồng, as the provincial People's Council
    /// set it. Zero means none is requested.
    #[schemars(range(min = 0))]
    pub registration_fee_vnd: u64,
    /// The price of residential land in the provincial land price table, in đồng per
    /// square metre.
    #[schemars(range(min = 0))]
    pub land_price_vnd_per_m2: u64,
    /// The land use fee, as a percentage of the land's price, for residential land
    /// recognised without papers on its origin (0 to 100).
    #[schemars(range(min = 0, max = 100))]
    pub residential_fee_rate_percent: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            registration_fee_vnd: 100_000,
            land_price_vnd_per_m2: 2_000_000,
            residential_fee_rate_percent: 50,
        }
    }
}

impl Settings {
    /// The land use fee rate, at most 100 %. The host validates settings against the
    /// schema, whose maximum is 100; this guards the computation if it ever did not.
    pub fn rate_percent(&self) -> u32 {
        self.residential_fee_rate_percent.min(100)
    }
}

// The application form. Every field defaults, so that a missing field is reported by
// the content checks rather than stopping the parse (see `parse_form`); its schema
// ([`form_schema`]) still requires every field. (Plain comments here: a doc comment
// would become the schema's description.)
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(
    title = "Đơn đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
)]
pub struct LandForm {
    #[schemars(title = "Thửa đất")]
    pub parcel: Parcel,
    #[schemars(title = "Người sử dụng đất")]
    pub owner: Owner,
}

/// The parcel as the applicant declares it.
//
// The numbers are `Option`s only so that a missing one is reported by the content
// checks; the schema describes them (`with`) as the required numbers they are.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Parcel {
    /// Number of the cadastral map sheet (tờ bản đồ số). Signed, so that a negative
    /// number is reported as such rather than as a type error.
    #[schemars(title = "Tờ bản đồ số", with = "i64", range(min = 1))]
    pub sheet_number: Option<i64>,
    /// Number of the parcel on that sheet (thửa đất số).
    #[schemars(title = "Thửa đất số", with = "i64", range(min = 1))]
    pub parcel_number: Option<i64>,
    /// Declared area in square metres; the site inspection measures the real one.
    #[schemars(title = "Diện tích (m²)", with = "f64", extend("exclusiveMinimum" = 0))]
    pub area_m2: Option<f64>,
    #[schemars(title = "Địa chỉ thửa đất", length(min = 1))]
    pub address: String,
    /// One of [`LAND_USE_PURPOSES`].
    #[schemars(title = "Mục đích sử dụng đất", extend("enum" = LAND_USE_PURPOSES))]
    pub land_use_purpose: String,
    /// When the use of the land began, `YYYY-MM-DD`.
    #[schemars(title = "Thời điểm bắt đầu sử dụng đất", extend("format" = "date"))]
    pub use_since: String,
}

/// The land user applying for the certificate.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Owner {
    #[schemars(title = "Họ, chữ đệm và tên", length(min = 1))]
    pub full_name: String,
    #[schemars(title = "Số định danh cá nhân", regex(pattern = r"^[0-9]{12}$"))]
    pub citizen_id: String,
}

/// The document components of the dossier.
pub fn documents() -> Vec<DocumentRequirement> {
    vec![
        requirement(
            "application",
            "Đơn đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        )
        .option(
            "registration-form",
            "Đơn đăng ký, cấp Giấy chứng nhận (Mẫu 04/ĐK)",
        ),
        requirement("land-origin", "Giấy tờ về nguồn gốc sử dụng đất")
            .option(LAND_ORIGIN_PAPERS, "Giấy tờ về quyền sử dụng đất")
            .option(
                "commune-confirmation",
                "Văn bản xác nhận của UBND cấp xã về nguồn gốc, thời điểm sử dụng đất",
            ),
        requirement("cadastral-map", "Mảnh trích đo bản đồ địa chính thửa đất")
            .option(
                "cadastral-extract",
                "Trích lục hoặc trích đo bản đồ địa chính thửa đất",
            )
            .optional(),
        requirement("identity", "Giấy tờ tùy thân của người sử dụng đất")
            .option("citizen-id-card", "Thẻ căn cước / căn cước công dân"),
    ]
}

/// The label of the late-dossier apology, offered in every processing step.
const APOLOGY: &str = "Xin lỗi và hẹn lại ngày trả kết quả";

/// The intake, less what `receive` decides (see [`received`], which needs the unit's
/// settings): a supplement is asked for before receipt, and completing it receives the
/// dossier at once.
fn intake() -> Intake<'static> {
    Intake::new(|_| documents()).after_supplement(Resume::Receive)
}

/// The workflow: steps, their canonical statuses, and who may take which action.
pub fn steps() -> Vec<StepSpec> {
    use Role::{Citizen, Leader, Officer, Specialist};
    let [submitted, supplement, refused] = intake().steps();
    vec![
        submitted,
        supplement,
        step("review", "Thẩm định hồ sơ", Status::Processing)
            .action(
                "schedule-site-inspection",
                "Lên lịch kiểm tra thực địa",
                &[Specialist],
            )
            .action("apologize", APOLOGY, &[Leader]),
        step("site-inspection", "Kiểm tra thực địa", Status::Processing)
            .action(
                "record-inspection",
                "Ghi nhận kết quả kiểm tra thực địa",
                &[Specialist],
            )
            .action("apologize", APOLOGY, &[Leader]),
        step(
            "financial-obligation",
            "Chờ thực hiện nghĩa vụ tài chính",
            Status::AwaitingPayment,
        )
        .action("record-payment", "Ghi nhận nộp tiền", &[Officer, Citizen]),
        step("approval", "Chờ phê duyệt", Status::Processing)
            .action("approve", "Ký cấp Giấy chứng nhận", &[Leader])
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
    let defaults = Settings::default();
    ProcedureInfo {
        code: CODE.into(),
        name: "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất lần đầu".into(),
        field: "land".into(),
        level: Level::Province,
        processing_time: processing_time(),
        fees: vec![
            fee(
                "registration",
                "Lệ phí cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
                defaults.registration_fee_vnd,
                "Mức thu do Hội đồng nhân dân cấp tỉnh quyết định (Thông tư 85/2019/TT-BTC); cấu hình theo \
                 đơn vị (registration_fee_vnd). Yêu cầu nộp khi tiếp nhận hồ sơ, nộp cùng nghĩa vụ tài chính.",
            ),
            scheduled_fee(
                "land-use-fee",
                "Tiền sử dụng đất",
                FeeSchedule::assessed(),
                "Chỉ đối với đất ở được công nhận mà không có giấy tờ về quyền sử dụng đất: diện tích đo đạc \
                 thực tế × giá đất trong bảng giá đất của tỉnh × tỷ lệ thu, làm tròn đến đồng (Nghị định \
                 103/2024/NĐ-CP; cấu hình land_price_vnd_per_m2, residential_fee_rate_percent). Xác định sau \
                 khi kiểm tra thực địa; thời gian thực hiện nghĩa vụ tài chính không tính vào thời hạn giải quyết.",
            ),
        ],
        documents: documents(),
        form_schema: form_schema(),
        settings_schema: settings_schema(),
        steps: steps(),
        initial_step: "submitted".into(),
        legal_basis: vec![
            "Luật Đất đai số 31/2024/QH15".into(),
            "Nghị định 101/2024/NĐ-CP quy định về điều tra cơ bản đất đai; đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất và Hệ thống thông tin đất đai".into(),
            "Nghị định 103/2024/NĐ-CP quy định về tiền sử dụng đất, tiền thuê đất".into(),
            "Thông tư 10/2024/TT-BTNMT quy định về hồ sơ địa chính, Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất".into(),
        ],
        plugin_version: env!("CARGO_PKG_VERSION").into(),
        variant_of: None,
    }
}

/// Every problem with a submission, all at once, each pointed at its field.
pub fn check_submission(submission: &Submission) -> Vec<Finding> {
    let mut findings = Findings::new();
    if let Some(form) = parse_form::<LandForm>(&submission.form_json, &mut findings) {
        check_form(
            &form,
            &submission.at.date,
            has_land_origin_papers(&submission.documents),
            &mut findings,
        );
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

fn check_form(form: &LandForm, submitted_on: &Date, has_papers: bool, findings: &mut Findings) {
    let parcel = &form.parcel;
    check_positive_number(
        "form.parcel.sheet_number",
        parcel.sheet_number,
        "số tờ bản đồ",
        findings,
    );
    check_positive_number(
        "form.parcel.parcel_number",
        parcel.parcel_number,
        "số thửa đất",
        findings,
    );
    match parcel.area_m2 {
        None => findings.block("form.parcel.area_m2", "required", "Chưa nhập diện tích."),
        Some(area) if area <= 0.0 => findings.block(
            "form.parcel.area_m2",
            "must-be-positive",
            "Diện tích thửa đất phải lớn hơn 0 m².",
        ),
        Some(_) => {}
    }
    findings.require_text("form.parcel.address", &parcel.address, "địa chỉ thửa đất");
    if findings.require_text(
        "form.parcel.land_use_purpose",
        &parcel.land_use_purpose,
        "mục đích sử dụng đất",
    ) && !LAND_USE_PURPOSES.contains(&parcel.land_use_purpose.as_str())
    {
        findings.block(
            "form.parcel.land_use_purpose",
            "invalid-value",
            format!(
                "Mục đích sử dụng đất phải là một trong: {}.",
                LAND_USE_PURPOSES.join(", ")
            ),
        );
    }
    if let Some(since) = findings.require_date(
        "form.parcel.use_since",
        &parcel.use_since,
        "thời điểm bắt đầu sử dụng đất",
    ) {
        if since > *submitted_on {
            findings.block(
                "form.parcel.use_since",
                "use-since-in-future",
                format!("Thời điểm bắt đầu sử dụng đất {since} sau ngày nộp hồ sơ {submitted_on}."),
            );
        } else if !has_papers && since >= RECOGNITION_CUTOFF {
            findings.warn(
                "form.parcel.use_since",
                "use-since-after-cutoff",
                format!(
                    "Đất sử dụng từ {since}, không có giấy tờ về quyền sử dụng đất: Điều 138 Luật Đất đai 2024 \
                     chỉ công nhận trường hợp sử dụng đất trước ngày {RECOGNITION_CUTOFF}; cơ quan thẩm định sẽ xem xét."
                ),
            );
        }
    }
    findings.require_text(
        "form.owner.full_name",
        &form.owner.full_name,
        "họ tên người sử dụng đất",
    );
    findings.check_citizen_id("form.owner.citizen_id", &form.owner.citizen_id);
}

fn check_positive_number(target: &str, value: Option<i64>, label: &str, findings: &mut Findings) {
    match value {
        None => findings.block(target, "required", format!("Chưa nhập {label}.")),
        Some(number) if number < 1 => findings.block(
            target,
            "must-be-positive",
            format!("{label} phải là số nguyên dương."),
        ),
        Some(_) => {}
    }
}

/// Whether the dossier proves the land's origin by papers (a document of kind
/// [`LAND_ORIGIN_PAPERS`]). A document filed under the requirement's own id,
/// `land-origin`, does not say which kind it is, so it does not count as papers.
pub fn has_land_origin_papers(documents: &[Document]) -> bool {
    documents
        .iter()
        .any(|document| document.kind == LAND_ORIGIN_PAPERS)
}

/// Whether the land use fee is owed: residential land recognised without papers on
/// its origin. Land with papers, and land for other purposes, owes none in this model.
pub fn land_use_fee_applies(form: &LandForm, documents: &[Document]) -> bool {
    form.parcel.land_use_purpose == "residential" && !has_land_origin_papers(documents)
}

/// The land use fee in đồng: `area_m2` × `price_vnd_per_m2` × `rate_percent` / 100,
/// rounded to the nearest đồng (halves up).
///
/// The area is taken to the hundredth of a square metre (cadastral measurements are
/// recorded to one decimal) and the rest is computed in integers, so the result does
/// not depend on floating-point error. `None` when the area is negative or not finite,
/// or the fee would not fit in a `u64`.
pub fn land_use_fee_vnd(area_m2: f64, price_vnd_per_m2: u64, rate_percent: u32) -> Option<u64> {
    if !area_m2.is_finite() || area_m2 < 0.0 {
        return None;
    }
    let hundredths = (area_m2 * 100.0).round();
    // 2^64 as a float: anything at or above it does not fit (the cast would saturate).
    if hundredths >= 18_446_744_073_709_551_616.0 {
        return None;
    }
    // In range and integral, so the cast is exact.
    let hundredths = hundredths as u128;
    // area/100 × price × rate/100 = hundredths × price × rate / 10 000.
    let product = hundredths
        .checked_mul(u128::from(price_vnd_per_m2))?
        .checked_mul(u128::from(rate_percent))?;
    let fee = product.checked_add(5_000)? / 10_000;
    u64::try_from(fee).ok()
}

/// The payload of `record-inspection`: every field is required.
#[derive(Debug, Deserialize)]
struct InspectionPayload {
    /// The area measured on site, in square metres.
    area_m2_measured: f64,
    /// Whether the parcel on the ground matches the dossier (boundaries, use, user).
    matches: bool,
    /// The specialist's inspection report.
    report: String,
}

/// The next step of a dossier, or why the command cannot be carried out.
///
/// Pure and deterministic: it reads only the snapshot, the command and, for the
/// actions that need them (intake and the inspection), the unit's settings, which it
/// asks for through `settings` only then.
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
    let note = command.note.trim();
    let decided = match (dossier.step.as_str(), command.action.as_str()) {
        ("review", "schedule-site-inspection") => decision("site-inspection", Status::Processing),
        ("site-inspection", "record-inspection") => {
            // The inspection writes its own note; the specialist's is appended to it.
            return record_inspection(dossier, &command.payload_json, note, || {
                Settings::clone(&settings)
            });
        }
        ("financial-obligation", "record-payment") => {
            record_payment(dossier, &command.payload_json)?
        }
        // The certificate is issued only once the financial obligations are met.
        ("approval", "approve") => {
            require_paid(dossier)?;
            decision("settled", Status::Settled).effect(Effect::IssueResult(ResultDocument {
                kind: "land-use-certificate".into(),
                name: "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"
                    .into(),
                number: certificate_number(&dossier.code),
                digitized: true,
            }))
        }
        ("approval", "send-back") => decision("review", Status::Processing),
        ("settled", "return-result") => decision("returned", Status::Returned),
        ("review" | "site-inspection" | "approval", "apologize") => {
            return apology(dossier, command);
        }
        (step, action) => return Err(unknown_action(step, action)),
    };
    Ok(decided.note(note))
}

/// Receiving the dossier, at the counter or when a supplement completes it: the
/// 20-working-day clock starts (again, from zero), and the registration fee is
/// requested unless it already was or the unit charges none.
fn received(dossier: &Dossier, settings: &Settings) -> Decision {
    let received =
        decision("review", Status::Processing).effect(Effect::StartClock(processing_time()));
    if settings.registration_fee_vnd == 0 || dossier.fees_requested_vnd > 0 {
        return received;
    }
    received.effect(Effect::RequestFee(FeeRequest {
        code: "registration".into(),
        amount_vnd: settings.registration_fee_vnd,
        reason: "Lệ phí cấp Giấy chứng nhận quyền sử dụng đất (Thông tư 85/2019/TT-BTC; mức thu do HĐND tỉnh quyết định)."
            .into(),
    }))
}

/// The specialist's record of the site inspection.
///
/// A parcel that does not match the dossier stops here (`inspection-mismatch`).
/// Otherwise the land use fee is computed from the measured area when it applies, and
/// the dossier goes to `financial-obligation` while anything is owed (the land use fee,
/// or a registration fee not yet paid), else straight to `approval`.
///
/// The snapshot carries only the total of fees requested, not each fee, so a second
/// inspection (after the leader sent the dossier back) must work out how much land use
/// fee was already asked for. Payments are recorded only in `financial-obligation`,
/// which a dossier leaves only when everything is paid, so no payment means no land use
/// fee was requested yet; after one, the land use fee requested is the total less the
/// unit's registration fee. Only the difference is requested, so the fee is never asked
/// for twice; a smaller second measurement asks for nothing more (refunds are outside
/// this procedure's contract).
fn record_inspection(
    dossier: &Dossier,
    payload_json: &str,
    officer_note: &str,
    settings: impl FnOnce() -> Settings,
) -> Result<Decision, Refusal> {
    let inspection: InspectionPayload = parse_payload(payload_json)?;
    let area = inspection.area_m2_measured;
    if !area.is_finite() || area <= 0.0 {
        return Err(refuse(
            "invalid-area",
            "Diện tích đo đạc thực tế (`area_m2_measured`) phải lớn hơn 0 m².",
        ));
    }
    let report = inspection.report.trim();
    if report.is_empty() {
        return Err(refuse(
            "report-required",
            "Phải ghi biên bản kiểm tra thực địa (`report`).",
        ));
    }
    if !inspection.matches {
        return Err(refuse(
            "inspection-mismatch",
            format!(
                "Hiện trạng thửa đất không khớp với hồ sơ (diện tích đo đạc {area} m²), chưa thể chuyển bước. Biên bản: {report}"
            ),
        ));
    }
    let settings = settings();
    let form = parse_form::<LandForm>(&dossier.form_json, &mut Findings::new()).unwrap_or_default();
    let land_use_fee = if land_use_fee_applies(&form, &dossier.documents) {
        land_use_fee_vnd(
            area,
            settings.land_price_vnd_per_m2,
            settings.rate_percent(),
        )
        .ok_or_else(|| {
            refuse(
                "fee-out-of-range",
                format!(
                    "Tiền sử dụng đất tính từ diện tích {area} m² vượt quá mức có thể ghi nhận."
                ),
            )
        })?
    } else {
        0
    };
    let already_requested = if dossier.fees_paid_vnd == 0 {
        0
    } else {
        dossier
            .fees_requested_vnd
            .saturating_sub(settings.registration_fee_vnd)
    };
    let to_request = land_use_fee.saturating_sub(already_requested);
    let owed = dossier
        .fees_requested_vnd
        .saturating_add(to_request)
        .saturating_sub(dossier.fees_paid_vnd);
    let mut note = format!(
        "Diện tích đo đạc thực tế: {area} m². Tiền sử dụng đất: {land_use_fee} đồng. Biên bản kiểm tra: {report}"
    );
    if !officer_note.is_empty() {
        note.push_str(" Ghi chú: ");
        note.push_str(officer_note);
    }
    if owed == 0 {
        return Ok(decision("approval", Status::Processing).note(note));
    }
    let mut decided = decision("financial-obligation", Status::AwaitingPayment);
    if to_request > 0 {
        decided = decided.effect(Effect::RequestFee(FeeRequest {
            code: "land-use-fee".into(),
            amount_vnd: to_request,
            reason: format!(
                "Tiền sử dụng đất (Nghị định 103/2024/NĐ-CP): {area} m² × {} đồng/m² × {}%.",
                settings.land_price_vnd_per_m2,
                settings.rate_percent()
            ),
        }));
    }
    Ok(decided.note(note))
}

/// A payment towards what the dossier owes, never more: it stays in
/// `financial-obligation` until everything requested is paid, then goes to `approval`.
fn record_payment(dossier: &Dossier, payload_json: &str) -> Result<Decision, Refusal> {
    let paid = read_payment(dossier, payload_json)?.refuse_overpayment()?;
    let next = if paid.settles() {
        decision("approval", Status::Processing)
    } else {
        decision("financial-obligation", Status::AwaitingPayment)
    };
    Ok(next.effect(paid.effect()))
}

/// The certificate number. Derived from the dossier code, which is unique in the
/// province, so replaying a dossier's history issues the same number.
pub fn certificate_number(dossier_code: &str) -> String {
    format!("GCN-{dossier_code}")
}

/// The plugin as the host sees it.
pub struct LandUseCertificate;

impl Guest for LandUseCertificate {
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

motcua_sdk::export!(LandUseCertificate);

#[cfg(test)]
mod tests;
