use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

/// Residential land used since 1992, without papers (the commune confirms its origin);
/// filed on 2025-07-01 (the testing submission's day).
const GOOD_FORM: &str = r#"{
    "parcel": {"sheet_number": 12, "parcel_number": 345, "area_m2": 120.5,
               "address": "Khu 3, xã Thanh Ba, tỉnh Phú Thọ",
               "land_use_purpose": "residential", "use_since": "1992-05-01"},
    "owner": {"full_name": "Nguyễn Văn Nam", "citizen_id": "025170000321"}
}"#;

fn documents_without_papers() -> Vec<Document> {
    vec![
        document("registration-form"),
        document("commune-confirmation"),
        document("citizen-id-card"),
    ]
}

fn documents_with_papers() -> Vec<Document> {
    vec![
        document("registration-form"),
        document("land-origin-papers"),
        document("cadastral-extract"),
        document("citizen-id-card"),
    ]
}

fn targets_and_codes(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.target.as_str(), f.code.as_str()))
        .collect()
}

fn check_form_text(form: &str) -> Vec<Finding> {
    check_submission(&submission(CODE, form, documents_without_papers()))
}

fn no_settings() -> Settings {
    panic!("this action must not read the unit's settings")
}

#[test]
fn a_complete_submission_has_no_findings() {
    assert_eq!(check_form_text(GOOD_FORM), []);
    assert_eq!(
        check_submission(&submission(CODE, GOOD_FORM, documents_with_papers())),
        []
    );
}

#[test]
fn every_problem_is_reported_at_its_field() {
    let form = r#"{
        "parcel": {"sheet_number": "12", "parcel_number": 0, "area_m2": -3,
                   "address": "", "land_use_purpose": "forest", "use_since": "1992-02-30"},
        "owner": {"full_name": "", "citizen_id": "0251700003210"}
    }"#;
    let findings = check_submission(&submission(CODE, form, vec![document("cadastral-extract")]));
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.parcel.sheet_number", "invalid-type"),
            ("form.parcel.parcel_number", "must-be-positive"),
            ("form.parcel.area_m2", "must-be-positive"),
            ("form.parcel.address", "required"),
            ("form.parcel.land_use_purpose", "invalid-value"),
            ("form.parcel.use_since", "invalid-date"),
            ("form.owner.full_name", "required"),
            ("form.owner.citizen_id", "invalid-citizen-id"),
            ("documents.application", "document-missing"),
            ("documents.land-origin", "document-missing"),
            ("documents.identity", "document-missing"),
        ]
    );
    assert!(findings.iter().all(Finding::is_blocking));
}

#[test]
fn a_missing_form_is_reported_field_by_field() {
    let findings = check_form_text(r#"{"parcel": {}, "owner": {}}"#);
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.parcel.sheet_number", "required"),
            ("form.parcel.parcel_number", "required"),
            ("form.parcel.area_m2", "required"),
            ("form.parcel.address", "required"),
            ("form.parcel.land_use_purpose", "required"),
            ("form.parcel.use_since", "required"),
            ("form.owner.full_name", "required"),
            ("form.owner.citizen_id", "required"),
        ]
    );
    assert_eq!(
        targets_and_codes(&check_form_text(
            r#"{"parcel": "tờ 12 thửa 345", "owner": {"full_name": "A", "citizen_id": "025170000321"}}"#
        )),
        [("form.parcel", "invalid-type")]
    );
}

#[test]
fn every_purpose_of_the_list_is_accepted() {
    for purpose in LAND_USE_PURPOSES {
        let form = GOOD_FORM.replace("residential", purpose);
        assert_eq!(check_form_text(&form), [], "{purpose}");
    }
    // Case matters: the portal sends the codes, not labels.
    assert_eq!(
        targets_and_codes(&check_form_text(
            &GOOD_FORM.replace("residential", "Residential")
        )),
        [("form.parcel.land_use_purpose", "invalid-value")]
    );
}

#[test]
fn a_fractional_area_is_fine_and_zero_is_not() {
    assert_eq!(check_form_text(&GOOD_FORM.replace("120.5", "0.1")), []);
    assert_eq!(
        targets_and_codes(&check_form_text(&GOOD_FORM.replace("120.5", "0"))),
        [("form.parcel.area_m2", "must-be-positive")]
    );
}

#[test]
fn use_since_must_not_be_after_the_submission() {
    assert_eq!(
        targets_and_codes(&check_form_text(
            &GOOD_FORM.replace("1992-05-01", "2025-07-02")
        )),
        [("form.parcel.use_since", "use-since-in-future")]
    );
}

#[test]
fn use_since_the_recognition_cutoff_without_papers_is_a_warning() {
    assert_eq!(
        check_form_text(&GOOD_FORM.replace("1992-05-01", "2014-06-30")),
        []
    );
    let findings = check_form_text(&GOOD_FORM.replace("1992-05-01", "2014-07-01"));
    assert_eq!(
        targets_and_codes(&findings),
        [("form.parcel.use_since", "use-since-after-cutoff")]
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    // With papers on the land's origin, the date of first use does not matter.
    let form = GOOD_FORM.replace("1992-05-01", "2020-01-01");
    assert_eq!(
        check_submission(&submission(CODE, &form, documents_with_papers())),
        []
    );
}

#[test]
fn the_cadastral_extract_is_optional_and_either_origin_document_will_do() {
    let requirements = documents();
    let map = requirements
        .iter()
        .find(|r| r.id == "cadastral-map")
        .unwrap();
    assert!(!map.required);
    for origin in ["land-origin-papers", "commune-confirmation"] {
        let filed = submission(
            CODE,
            GOOD_FORM,
            vec![
                document("registration-form"),
                document(origin),
                document("citizen-id-card"),
            ],
        );
        assert_eq!(check_submission(&filed), [], "{origin}");
    }
}

#[test]
fn the_land_use_fee_is_area_times_price_times_rate_rounded_to_the_dong() {
    // The defaults: 2 000 000 đ/m² at 50 %.
    assert_eq!(land_use_fee_vnd(100.0, 2_000_000, 50), Some(100_000_000));
    assert_eq!(land_use_fee_vnd(120.5, 2_000_000, 50), Some(120_500_000));
    // Decimal areas are exact: 0.1 + 0.2 style float error does not leak into the fee.
    assert_eq!(land_use_fee_vnd(0.1 + 0.2, 1_000_000, 100), Some(300_000));
    assert_eq!(land_use_fee_vnd(33.33, 1_234_567, 37), Some(15_224_804));
    // Rounding to the nearest đồng, halves up.
    assert_eq!(land_use_fee_vnd(1.0, 3, 50), Some(2)); // 1.5
    assert_eq!(land_use_fee_vnd(1.0, 1, 50), Some(1)); // 0.5
    assert_eq!(land_use_fee_vnd(1.0, 1, 49), Some(0)); // 0.49
    assert_eq!(land_use_fee_vnd(0.01, 1, 50), Some(0)); // 0.005
    assert_eq!(land_use_fee_vnd(0.01, 100, 50), Some(1)); // 0.5
    // Nothing owed at a rate of zero, a price of zero or no area.
    assert_eq!(land_use_fee_vnd(100.0, 2_000_000, 0), Some(0));
    assert_eq!(land_use_fee_vnd(100.0, 0, 50), Some(0));
    assert_eq!(land_use_fee_vnd(0.0, 2_000_000, 50), Some(0));
    // Out of range.
    assert_eq!(land_use_fee_vnd(-1.0, 1, 50), None);
    assert_eq!(land_use_fee_vnd(f64::NAN, 1, 50), None);
    assert_eq!(land_use_fee_vnd(f64::INFINITY, 1, 50), None);
    assert_eq!(land_use_fee_vnd(1e18, 1, 100), None);
    assert_eq!(land_use_fee_vnd(1e6, u64::MAX, 100), None);
    // The largest fee that fits.
    assert_eq!(land_use_fee_vnd(1.0, u64::MAX, 100), Some(u64::MAX));
}

#[test]
fn settings_default_to_the_schema_defaults() {
    let defaults = parse_settings::<Settings>("{}").unwrap();
    assert_eq!(defaults, Settings::default());
    let text = settings_schema();
    assert_eq!(procedure_info().settings_schema, text);
    assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema.get("required").is_none(), "every setting defaults");
    let properties = schema["properties"].as_object().unwrap();
    let mut names: Vec<_> = properties.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "land_price_vnd_per_m2",
            "registration_fee_vnd",
            "residential_fee_rate_percent"
        ]
    );
    for (name, property) in properties {
        assert_eq!(property["type"], "integer", "{name}");
        assert_eq!(property["minimum"], 0, "{name}");
    }
    assert_eq!(properties["residential_fee_rate_percent"]["maximum"], 100);
    assert!(properties["registration_fee_vnd"].get("maximum").is_none());
    // The defaults in the schema are the type's.
    let property = |name: &str| schema["properties"][name]["default"].as_u64().unwrap();
    assert_eq!(
        property("registration_fee_vnd"),
        defaults.registration_fee_vnd
    );
    assert_eq!(
        property("land_price_vnd_per_m2"),
        defaults.land_price_vnd_per_m2
    );
    assert_eq!(
        property("residential_fee_rate_percent"),
        u64::from(defaults.residential_fee_rate_percent)
    );
    assert_eq!(
        parse_settings::<Settings>(r#"{"land_price_vnd_per_m2": 5000000}"#).unwrap(),
        Settings {
            land_price_vnd_per_m2: 5_000_000,
            ..Settings::default()
        }
    );
}

#[test]
fn the_form_schema_is_derived_from_the_form_type() {
    let text = form_schema();
    assert_eq!(procedure_info().form_schema, text);
    assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    assert!(!text.contains("\"default\""), "{text}");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert!(
        schema["title"]
            .as_str()
            .unwrap()
            .starts_with("Đơn đăng ký, cấp Giấy chứng nhận quyền sử dụng đất")
    );
    assert_eq!(schema["required"], serde_json::json!(["parcel", "owner"]));
    // Every field of the parcel is required, the numbers too, though the type holds
    // them as `Option`s so that a missing one is reported by `check`.
    let parcel = &schema["properties"]["parcel"];
    assert_eq!(parcel["title"], "Thửa đất");
    assert_eq!(
        parcel["required"],
        serde_json::json!([
            "sheet_number",
            "parcel_number",
            "area_m2",
            "address",
            "land_use_purpose",
            "use_since"
        ])
    );
    let field = |name: &str| &parcel["properties"][name];
    for number in ["sheet_number", "parcel_number"] {
        assert_eq!(field(number)["type"], "integer", "{number}");
        assert_eq!(field(number)["minimum"], 1, "{number}");
    }
    assert_eq!(field("area_m2")["type"], "number");
    assert_eq!(field("area_m2")["exclusiveMinimum"], 0);
    assert_eq!(field("address")["minLength"], 1);
    assert_eq!(field("land_use_purpose")["type"], "string");
    assert_eq!(
        field("land_use_purpose")["enum"],
        serde_json::json!(LAND_USE_PURPOSES)
    );
    assert_eq!(field("use_since")["format"], "date");
    let owner = &schema["properties"]["owner"];
    assert_eq!(owner["title"], "Người sử dụng đất");
    assert_eq!(
        owner["required"],
        serde_json::json!(["full_name", "citizen_id"])
    );
    assert_eq!(owner["properties"]["full_name"]["minLength"], 1);
    assert_eq!(owner["properties"]["citizen_id"]["pattern"], "^[0-9]{12}$");
}

fn filed_dossier(step: &str, documents: Vec<Document>) -> Dossier {
    let status = steps().into_iter().find(|s| s.id == step).unwrap().status;
    dossier(&submission(CODE, GOOD_FORM, documents), step, status)
}

fn next(decided: &Decision) -> (&str, Status) {
    (decided.next_step.as_str(), decided.status)
}

fn inspection(area: f64, matches: bool) -> Command {
    let mut order = command("record-inspection", Role::Specialist);
    order.payload_json = serde_json::json!({
        "area_m2_measured": area,
        "matches": matches,
        "report": "Ranh giới thửa đất ổn định, không tranh chấp."
    })
    .to_string();
    order
}

fn payment(amount: Option<u64>, receipt: &str) -> Command {
    let mut order = command("record-payment", Role::Citizen);
    let mut payload = serde_json::json!({ "online": true, "receipt": receipt });
    if let Some(amount) = amount {
        payload["amount_vnd"] = amount.into();
    }
    order.payload_json = payload.to_string();
    order
}

#[test]
fn intake_starts_twenty_working_days_and_requests_the_registration_fee() {
    let decided = decide_command(
        &filed_dossier("submitted", documents_without_papers()),
        &command("receive", Role::Officer),
        Settings::default,
    )
    .unwrap();
    assert_eq!(next(&decided), ("review", Status::Processing));
    assert_eq!(
        decided.effects,
        [
            Effect::StartClock(ProcessingTime::WorkingDays(20)),
            Effect::RequestFee(FeeRequest {
                code: "registration".into(),
                amount_vnd: 100_000,
                reason: decided_reason(&decided.effects[1]),
            }),
        ]
    );
    let free = || Settings {
        registration_fee_vnd: 0,
        ..Settings::default()
    };
    let decided = decide_command(
        &filed_dossier("submitted", documents_without_papers()),
        &command("receive", Role::Officer),
        free,
    )
    .unwrap();
    assert_eq!(
        decided.effects,
        [Effect::StartClock(ProcessingTime::WorkingDays(20))]
    );
}

fn decided_reason(effect: &Effect) -> String {
    match effect {
        Effect::RequestFee(request) => request.reason.clone(),
        other => panic!("not a fee request: {other:?}"),
    }
}

/// The whole path for residential land without papers: intake with the registration
/// fee, inspection with the land use fee, two payments, approval, return.
#[test]
fn the_path_without_papers_goes_through_the_financial_obligation() {
    let mut dossier = filed_dossier("site-inspection", documents_without_papers());
    dossier.fees_requested_vnd = 100_000;
    let inspected = decide_command(&dossier, &inspection(118.5, true), Settings::default).unwrap();
    assert_eq!(
        next(&inspected),
        ("financial-obligation", Status::AwaitingPayment)
    );
    let [Effect::RequestFee(fee)] = inspected.effects.as_slice() else {
        panic!("{:?}", inspected.effects)
    };
    // 118.5 m² × 2 000 000 × 50 % = 118 500 000 đồng.
    assert_eq!(
        (fee.code.as_str(), fee.amount_vnd),
        ("land-use-fee", 118_500_000)
    );
    assert!(
        inspected
            .note
            .contains("Diện tích đo đạc thực tế: 118.5 m²")
    );
    assert!(inspected.note.contains("118500000 đồng"));

    dossier.step = "financial-obligation".into();
    dossier.status = Status::AwaitingPayment;
    dossier.fees_requested_vnd = 118_600_000;
    let part = decide_command(&dossier, &payment(Some(100_000), "BL-1"), no_settings).unwrap();
    assert_eq!(
        next(&part),
        ("financial-obligation", Status::AwaitingPayment)
    );
    assert_eq!(
        part.effects,
        [Effect::RecordPayment(Payment {
            amount_vnd: 100_000,
            online: true,
            receipt: "BL-1".into()
        })]
    );
    dossier.fees_paid_vnd = 100_000;
    let rest = decide_command(&dossier, &payment(None, " KB-2 "), no_settings).unwrap();
    assert_eq!(next(&rest), ("approval", Status::Processing));
    assert_eq!(
        rest.effects,
        [Effect::RecordPayment(Payment {
            amount_vnd: 118_500_000,
            online: true,
            receipt: "KB-2".into()
        })]
    );

    let mut dossier = filed_dossier("approval", documents_without_papers());
    dossier.fees_requested_vnd = 118_600_000;
    dossier.fees_paid_vnd = 118_600_000;
    let approved =
        decide_command(&dossier, &command("approve", Role::Leader), no_settings).unwrap();
    assert_eq!(next(&approved), ("settled", Status::Settled));
    assert_eq!(
        approved.effects,
        [Effect::IssueResult(ResultDocument {
            kind: "land-use-certificate".into(),
            name: "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất".into(),
            number: "GCN-000.00.25.H42-250701-0001".into(),
            digitized: true,
        })]
    );
    let returned = decide_command(
        &filed_dossier("settled", documents_without_papers()),
        &command("return-result", Role::Officer),
        no_settings,
    )
    .unwrap();
    assert_eq!(next(&returned), ("returned", Status::Returned));
}

#[test]
fn land_with_papers_owes_no_land_use_fee() {
    // Nothing owed at all (no registration fee in this unit): straight to approval.
    let dossier = filed_dossier("site-inspection", documents_with_papers());
    let inspected = decide_command(&dossier, &inspection(120.0, true), || Settings {
        registration_fee_vnd: 0,
        ..Settings::default()
    })
    .unwrap();
    assert_eq!(next(&inspected), ("approval", Status::Processing));
    assert_eq!(inspected.effects, []);
    assert!(inspected.note.contains("120 m²"));
    assert!(inspected.note.contains("Tiền sử dụng đất: 0 đồng"));
    // The registration fee already paid: straight to approval too.
    let mut paid = filed_dossier("site-inspection", documents_with_papers());
    paid.fees_requested_vnd = 100_000;
    paid.fees_paid_vnd = 100_000;
    let inspected = decide_command(&paid, &inspection(120.0, true), Settings::default).unwrap();
    assert_eq!(next(&inspected), ("approval", Status::Processing));
    assert_eq!(inspected.effects, []);
}

#[test]
fn an_unpaid_registration_fee_alone_still_waits_for_payment() {
    let mut dossier = filed_dossier("site-inspection", documents_with_papers());
    dossier.fees_requested_vnd = 100_000;
    let inspected = decide_command(&dossier, &inspection(120.0, true), Settings::default).unwrap();
    assert_eq!(
        next(&inspected),
        ("financial-obligation", Status::AwaitingPayment)
    );
    // No new fee: only the registration fee is owed.
    assert_eq!(inspected.effects, []);
}

#[test]
fn only_residential_land_owes_the_land_use_fee() {
    for purpose in ["agricultural", "commercial"] {
        let mut dossier = filed_dossier("site-inspection", documents_without_papers());
        dossier.form_json = GOOD_FORM.replace("residential", purpose);
        let inspected = decide_command(&dossier, &inspection(120.0, true), || Settings {
            registration_fee_vnd: 0,
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            next(&inspected),
            ("approval", Status::Processing),
            "{purpose}"
        );
    }
}

#[test]
fn a_document_filed_under_the_requirement_id_is_not_taken_for_papers() {
    let mut dossier = filed_dossier(
        "site-inspection",
        vec![
            document("registration-form"),
            document("land-origin"),
            document("citizen-id-card"),
        ],
    );
    dossier.fees_requested_vnd = 100_000;
    let inspected = decide_command(&dossier, &inspection(10.0, true), Settings::default).unwrap();
    let [Effect::RequestFee(fee)] = inspected.effects.as_slice() else {
        panic!("{:?}", inspected.effects)
    };
    assert_eq!(fee.amount_vnd, 10_000_000);
}

#[test]
fn the_fee_follows_the_unit_price_and_rate() {
    let mut dossier = filed_dossier("site-inspection", documents_without_papers());
    dossier.fees_requested_vnd = 50_000;
    let local = || Settings {
        registration_fee_vnd: 50_000,
        land_price_vnd_per_m2: 1_250_000,
        residential_fee_rate_percent: 40,
    };
    let inspected = decide_command(&dossier, &inspection(80.25, true), local).unwrap();
    let [Effect::RequestFee(fee)] = inspected.effects.as_slice() else {
        panic!("{:?}", inspected.effects)
    };
    // 80.25 × 1 250 000 × 40 % = 40 125 000.
    assert_eq!(fee.amount_vnd, 40_125_000);
    assert!(
        fee.reason.contains("1250000 đồng/m² × 40%"),
        "{}",
        fee.reason
    );
    // A rate of zero: nothing to request, and with the registration fee unpaid the
    // dossier still waits for that.
    let zero = || Settings {
        residential_fee_rate_percent: 0,
        ..local()
    };
    // A rate above 100 % (outside the schema) counts as 100 %.
    let over = || Settings {
        residential_fee_rate_percent: 250,
        ..local()
    };
    let inspected = decide_command(&dossier, &inspection(80.25, true), over).unwrap();
    let [Effect::RequestFee(fee)] = inspected.effects.as_slice() else {
        panic!("{:?}", inspected.effects)
    };
    assert_eq!(fee.amount_vnd, 100_312_500);
    let inspected = decide_command(&dossier, &inspection(80.25, true), zero).unwrap();
    assert_eq!(
        next(&inspected),
        ("financial-obligation", Status::AwaitingPayment)
    );
    assert_eq!(inspected.effects, []);
}

#[test]
fn a_second_inspection_asks_only_for_what_was_not_yet_requested() {
    // First inspection measured 100 m²: 100 000 registration + 100 000 000 land use
    // fee, all paid; the leader sent the dossier back and it is inspected again.
    let mut dossier = filed_dossier("site-inspection", documents_without_papers());
    dossier.fees_requested_vnd = 100_100_000;
    dossier.fees_paid_vnd = 100_100_000;
    let same = decide_command(&dossier, &inspection(100.0, true), Settings::default).unwrap();
    assert_eq!(next(&same), ("approval", Status::Processing));
    assert_eq!(same.effects, []);
    let larger = decide_command(&dossier, &inspection(101.0, true), Settings::default).unwrap();
    assert_eq!(
        next(&larger),
        ("financial-obligation", Status::AwaitingPayment)
    );
    let [Effect::RequestFee(fee)] = larger.effects.as_slice() else {
        panic!("{:?}", larger.effects)
    };
    assert_eq!(fee.amount_vnd, 1_000_000);
    let smaller = decide_command(&dossier, &inspection(90.0, true), Settings::default).unwrap();
    assert_eq!(next(&smaller), ("approval", Status::Processing));
    assert_eq!(smaller.effects, []);
}

#[test]
fn the_inspection_is_refused_when_the_parcel_does_not_match_or_the_payload_is_bad() {
    let dossier = filed_dossier("site-inspection", documents_without_papers());
    let refusal = decide_command(&dossier, &inspection(150.0, false), no_settings).unwrap_err();
    assert_eq!(refusal.code, "inspection-mismatch");
    assert!(refusal.message.contains("150 m²"));
    for (payload, code) in [
        ("{}", "invalid-payload"),
        (
            r#"{"area_m2_measured": 100, "matches": true}"#,
            "invalid-payload",
        ),
        (
            r#"{"area_m2_measured": "100", "matches": true, "report": "x"}"#,
            "invalid-payload",
        ),
        (
            r#"{"area_m2_measured": 0, "matches": true, "report": "x"}"#,
            "invalid-area",
        ),
        (
            r#"{"area_m2_measured": -5, "matches": true, "report": "x"}"#,
            "invalid-area",
        ),
        (
            r#"{"area_m2_measured": 100, "matches": true, "report": "  "}"#,
            "report-required",
        ),
    ] {
        let mut order = command("record-inspection", Role::Specialist);
        order.payload_json = payload.into();
        assert_eq!(
            decide_command(&dossier, &order, no_settings)
                .unwrap_err()
                .code,
            code,
            "{payload}"
        );
    }
    let mut order = command("record-inspection", Role::Specialist);
    order.payload_json = r#"{"area_m2_measured": 1e300, "matches": true, "report": "x"}"#.into();
    assert_eq!(
        decide_command(&dossier, &order, Settings::default)
            .unwrap_err()
            .code,
        "fee-out-of-range"
    );
}

#[test]
fn the_specialist_note_follows_the_inspection_note() {
    let mut order = inspection(100.0, true);
    order.note = "Đã đối chiếu với bản đồ địa chính".into();
    let inspected = decide_command(
        &filed_dossier("site-inspection", documents_with_papers()),
        &order,
        || Settings {
            registration_fee_vnd: 0,
            ..Settings::default()
        },
    )
    .unwrap();
    assert!(
        inspected
            .note
            .starts_with("Diện tích đo đạc thực tế: 100 m². Tiền sử dụng đất: 0 đồng."),
        "{}",
        inspected.note
    );
    assert!(
        inspected
            .note
            .ends_with("Ghi chú: Đã đối chiếu với bản đồ địa chính")
    );
}

#[test]
fn payments_need_a_receipt_and_a_sensible_amount() {
    let mut dossier = filed_dossier("financial-obligation", documents_without_papers());
    dossier.fees_requested_vnd = 1_000_000;
    dossier.fees_paid_vnd = 400_000;
    let check = |order: &Command| {
        decide_command(&dossier, order, no_settings)
            .unwrap_err()
            .code
    };
    assert_eq!(check(&payment(Some(100), " ")), "receipt-required");
    assert_eq!(check(&payment(Some(0), "BL-1")), "invalid-amount");
    assert_eq!(check(&payment(Some(600_001), "BL-1")), "overpayment");
    let mut unsaid = command("record-payment", Role::Officer);
    unsaid.payload_json = r#"{"receipt": "BL-1", "amount_vnd": 100}"#.into();
    assert_eq!(check(&unsaid), "payment-method-required");
    let mut bad = command("record-payment", Role::Officer);
    bad.payload_json = r#"{"receipt": "BL-1", "amount_vnd": -1}"#.into();
    assert_eq!(check(&bad), "invalid-payload");
    // Exactly what is owed settles it.
    let paid = decide_command(&dossier, &payment(Some(600_000), "BL-1"), no_settings).unwrap();
    assert_eq!(next(&paid), ("approval", Status::Processing));
    // Nothing owed: nothing to record.
    dossier.fees_paid_vnd = 1_000_000;
    assert_eq!(
        decide_command(&dossier, &payment(None, "BL-1"), no_settings)
            .unwrap_err()
            .code,
        "invalid-amount"
    );
}

#[test]
fn approval_waits_for_every_fee() {
    let mut dossier = filed_dossier("approval", documents_without_papers());
    dossier.fees_requested_vnd = 100_000;
    dossier.fees_paid_vnd = 99_999;
    assert_eq!(
        decide_command(&dossier, &command("approve", Role::Leader), no_settings)
            .unwrap_err()
            .code,
        "fee-unpaid"
    );
}

#[test]
fn a_supplement_restarts_the_clock_when_complete() {
    let mut dossier = filed_dossier("submitted", vec![document("registration-form")]);
    let mut order = command("request-supplement", Role::Officer);
    order.payload_json =
        r#"{"items":[{"target":"form.parcel.address","message":"Ghi rõ địa chỉ thửa đất"}]}"#
            .into();
    let requested = decide_command(&dossier, &order, no_settings).unwrap();
    assert_eq!(
        next(&requested),
        ("supplement", Status::SupplementRequested)
    );
    let [Effect::RequestSupplement(items)] = requested.effects.as_slice() else {
        panic!("{:?}", requested.effects)
    };
    let targets: Vec<_> = items.iter().map(|item| item.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "documents.land-origin",
            "documents.identity",
            "form.parcel.address"
        ]
    );

    dossier.step = "supplement".into();
    dossier.status = Status::SupplementRequested;
    let complete = command("complete-supplement", Role::Citizen);
    assert_eq!(
        decide_command(&dossier, &complete, no_settings)
            .unwrap_err()
            .code,
        "still-incomplete"
    );
    dossier.documents = documents_without_papers();
    let completed = decide_command(&dossier, &complete, Settings::default).unwrap();
    // Straight to review: the clock starts from zero and the fee is requested now,
    // since the dossier was never received at the counter.
    assert_eq!(next(&completed), ("review", Status::Processing));
    assert_eq!(
        completed.effects[0],
        Effect::StartClock(ProcessingTime::WorkingDays(20))
    );
    assert!(matches!(&completed.effects[1], Effect::RequestFee(fee) if fee.amount_vnd == 100_000));
    // A fee already requested is not requested twice.
    dossier.fees_requested_vnd = 100_000;
    let completed = decide_command(&dossier, &complete, Settings::default).unwrap();
    assert_eq!(
        completed.effects,
        [Effect::StartClock(ProcessingTime::WorkingDays(20))]
    );
}

#[test]
fn refusal_at_intake_needs_a_reason() {
    let dossier = filed_dossier("submitted", documents_without_papers());
    let mut order = command("refuse", Role::Officer);
    assert_eq!(
        decide_command(&dossier, &order, no_settings)
            .unwrap_err()
            .code,
        "note-required"
    );
    order.note = "Thửa đất đang có tranh chấp".into();
    let decided = decide_command(&dossier, &order, no_settings).unwrap();
    assert_eq!(next(&decided), ("refused", Status::Refused));
    assert_eq!(decided.note, "Thửa đất đang có tranh chấp");
}

#[test]
fn review_schedules_the_inspection_and_approval_can_send_back() {
    let scheduled = decide_command(
        &filed_dossier("review", documents_without_papers()),
        &command("schedule-site-inspection", Role::Specialist),
        no_settings,
    )
    .unwrap();
    assert_eq!(next(&scheduled), ("site-inspection", Status::Processing));
    let sent_back = decide_command(
        &filed_dossier("approval", documents_without_papers()),
        &command("send-back", Role::Leader),
        no_settings,
    )
    .unwrap();
    assert_eq!(next(&sent_back), ("review", Status::Processing));
}

#[test]
fn every_declared_action_decides_into_a_declared_step_with_its_status() {
    let declared = steps();
    for step in &declared {
        for action in &step.actions {
            let mut dossier = filed_dossier(&step.id, documents_without_papers());
            let mut order = command(&action.name, action.roles[0]);
            order.note = "lý do".into();
            match action.name.as_str() {
                "request-supplement" => dossier.documents.clear(),
                "apologize" => {
                    order.payload_json =
                        r#"{"new_due_date":"2026-04-30","reason":"Chờ kết quả xác minh"}"#.into()
                }
                "record-inspection" => order = inspection(100.0, true),
                "record-payment" => {
                    dossier.fees_requested_vnd = 100_000;
                    order = payment(None, "BL-1");
                }
                _ => {}
            }
            let decided = decide_command(&dossier, &order, Settings::default)
                .unwrap_or_else(|refusal| panic!("{}/{}: {}", step.id, action.name, refusal.code));
            let target = declared
                .iter()
                .find(|s| s.id == decided.next_step)
                .expect("declared next step");
            assert_eq!(decided.status, target.status, "{}/{}", step.id, action.name);
        }
    }
}

#[test]
fn actions_outside_the_current_step_are_refused() {
    for (step, action) in [
        ("submitted", "approve"),
        ("review", "record-inspection"),
        ("site-inspection", "approve"),
        ("financial-obligation", "approve"),
        ("approval", "record-payment"),
        ("refused", "receive"),
        ("returned", "return-result"),
    ] {
        let refusal = decide_command(
            &filed_dossier(step, documents_without_papers()),
            &command(action, Role::Leader),
            no_settings,
        )
        .unwrap_err();
        assert_eq!(refusal.code, "unknown-action", "{step}/{action}");
    }
}

#[test]
fn describe_is_consistent() {
    let info = procedure_info();
    assert_eq!(info.code, "1.012756");
    assert_eq!(info.field, "land");
    assert_eq!(info.level, Level::Province);
    assert_eq!(info.processing_time, ProcessingTime::WorkingDays(20));
    assert_eq!(info.plugin_version, "1.0.0");
    assert!(info.steps.iter().any(|s| s.id == info.initial_step));
    let fees: Vec<_> = info
        .fees
        .iter()
        .map(|fee| (fee.code.as_str(), fee.amount_vnd))
        .collect();
    assert_eq!(fees, [("registration", 100_000), ("land-use-fee", 0)]);
    let obligation = info
        .steps
        .iter()
        .find(|s| s.id == "financial-obligation")
        .unwrap();
    assert_eq!(obligation.status, Status::AwaitingPayment);
    assert_eq!(info.legal_basis.len(), 4);
    for schema in [&info.form_schema, &info.settings_schema] {
        serde_json::from_str::<serde_json::Value>(schema).expect("schema is JSON");
    }
    let form_schema: serde_json::Value = serde_json::from_str(&info.form_schema).unwrap();
    assert_eq!(
        form_schema["properties"]["parcel"]["properties"]["land_use_purpose"]["enum"],
        serde_json::json!(LAND_USE_PURPOSES)
    );
    for terminal in ["refused", "returned"] {
        assert!(
            info.steps
                .iter()
                .find(|s| s.id == terminal)
                .unwrap()
                .actions
                .is_empty()
        );
    }
}
