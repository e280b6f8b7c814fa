use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

/// The plugin version and processing time this build must declare: 1.0.0 with 3
/// working days, or 1.1.0 with 2 for the `release-1-1` build.
#[cfg(not(feature = "release-1-1"))]
const RELEASE: (&str, u32) = ("1.0.0", 3);
#[cfg(feature = "release-1-1")]
const RELEASE: (&str, u32) = ("1.1.0", 2);

/// The processing time of this build.
const PROCESSING_TIME: ProcessingTime = ProcessingTime::WorkingDays(RELEASE.1);

const GOOD_FORM: &str = r#"{
    "business_name": "Hộ kinh doanh Phở Lan",
    "address": "Số 12, phường Xuân Hòa, tỉnh Phú Thọ",
    "business_lines": ["Nhà hàng và các dịch vụ ăn uống phục vụ lưu động"],
    "capital_vnd": 150000000,
    "employees": 2,
    "members": []
}"#;

fn complete_documents() -> Vec<Document> {
    vec![
        document("registration-request"),
        document("citizen-id-card"),
    ]
}

fn targets_and_codes(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.target.as_str(), f.code.as_str()))
        .collect()
}

fn no_settings() -> Settings {
    panic!("this action must not read the unit's settings")
}

#[test]
fn a_complete_submission_has_no_findings() {
    assert_eq!(
        check_submission(&submission(CODE, GOOD_FORM, complete_documents())),
        []
    );
}

#[test]
fn every_problem_is_reported_at_its_field() {
    let form = r#"{
        "business_name": " ", "address": "x",
        "business_lines": ["", "Bán lẻ"],
        "capital_vnd": 0, "employees": -1,
        "members": [{"full_name": "A", "citizen_id": "025190000123"}, {"full_name": "", "citizen_id": "1"}]
    }"#;
    let findings = check_submission(&submission(CODE, form, vec![document("passport")]));
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.business_name", "required"),
            ("form.business_lines[0]", "required"),
            ("form.capital_vnd", "must-be-positive"),
            ("form.employees", "must-not-be-negative"),
            ("form.members[1].full_name", "required"),
            ("form.members[1].citizen_id", "invalid-citizen-id"),
            ("documents.registration-request", "document-missing"),
            ("documents.members-minutes", "document-missing"),
        ]
    );
}

#[test]
fn wrong_types_and_missing_fields_are_all_reported() {
    let form = r#"{"business_lines": "Bán lẻ", "capital_vnd": 1.5}"#;
    let findings = check_submission(&submission(CODE, form, complete_documents()));
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.business_lines", "invalid-type"),
            ("form.capital_vnd", "invalid-type"),
            ("form.business_name", "required"),
            ("form.address", "required"),
        ]
    );
}

#[test]
fn members_minutes_are_required_only_for_several_members() {
    let one = GOOD_FORM.replace(
        r#""members": []"#,
        r#""members": [{"full_name": "A", "citizen_id": "025190000123"}]"#,
    );
    assert_eq!(
        check_submission(&submission(CODE, &one, complete_documents())),
        []
    );
    let two = GOOD_FORM.replace(
        r#""members": []"#,
        r#""members": [{"full_name": "A", "citizen_id": "025190000123"}, {"full_name": "B", "citizen_id": "025190000124"}]"#,
    );
    let findings = check_submission(&submission(CODE, &two, complete_documents()));
    assert_eq!(
        targets_and_codes(&findings),
        [("documents.members-minutes", "document-missing")]
    );
    let mut documents = complete_documents();
    documents.push(document("members-minutes"));
    assert_eq!(check_submission(&submission(CODE, &two, documents)), []);
}

fn filed_dossier(step: &str) -> Dossier {
    let status = steps().into_iter().find(|s| s.id == step).unwrap().status;
    dossier(
        &submission(CODE, GOOD_FORM, complete_documents()),
        step,
        status,
    )
}

#[test]
fn intake_starts_the_clock_and_requests_the_unit_fee() {
    let decided = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        Settings::default,
    )
    .unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("review", Status::Processing)
    );
    assert_eq!(decided.effects[0], Effect::StartClock(PROCESSING_TIME));
    let Effect::RequestFee(fee) = &decided.effects[1] else {
        panic!("{:?}", decided.effects)
    };
    assert_eq!(
        (fee.code.as_str(), fee.amount_vnd),
        ("registration", 100_000)
    );

    let local = || parse_settings::<Settings>(r#"{"registration_fee_vnd":50000}"#).unwrap();
    let decided = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        local,
    )
    .unwrap();
    assert!(matches!(&decided.effects[1], Effect::RequestFee(fee) if fee.amount_vnd == 50_000));

    let free = || Settings {
        registration_fee_vnd: 0,
        ..Settings::default()
    };
    let decided = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        free,
    )
    .unwrap();
    assert_eq!(decided.effects, [Effect::StartClock(PROCESSING_TIME)]);
}

#[test]
fn the_happy_path_reaches_returned() {
    let mut dossier = filed_dossier("review");
    dossier.fees_requested_vnd = 100_000;
    let mut pay = command("record-payment", Role::Citizen);
    pay.payload_json = r#"{"online": true, "receipt": "BL-0001"}"#.into();
    let paid = decide_command(&dossier, &pay, no_settings).unwrap();
    assert_eq!(paid.next_step, "review");
    assert_eq!(
        paid.effects,
        [Effect::RecordPayment(Payment {
            amount_vnd: 100_000,
            online: true,
            receipt: "BL-0001".into()
        })]
    );
    dossier.fees_paid_vnd = 100_000;
    let proposed =
        decide_command(&dossier, &command("propose", Role::Specialist), no_settings).unwrap();
    assert_eq!(
        (proposed.next_step.as_str(), proposed.status),
        ("approval", Status::Processing)
    );
    let approved = decide_command(
        &filed_dossier("approval"),
        &command("approve", Role::Leader),
        no_settings,
    )
    .unwrap();
    assert_eq!(
        (approved.next_step.as_str(), approved.status),
        ("settled", Status::Settled)
    );
    assert_eq!(
        approved.effects,
        [Effect::IssueResult(ResultDocument {
            kind: "household-business-certificate".into(),
            name: "Giấy chứng nhận đăng ký hộ kinh doanh".into(),
            number: "HKD-000.00.25.H42-250701-0001".into(),
            digitized: true,
        })]
    );
    let returned = decide_command(
        &filed_dossier("settled"),
        &command("return-result", Role::Officer),
        no_settings,
    )
    .unwrap();
    assert_eq!(
        (returned.next_step.as_str(), returned.status),
        ("returned", Status::Returned)
    );
}

#[test]
fn payment_needs_a_receipt_and_an_amount() {
    let mut dossier = filed_dossier("review");
    let mut pay = command("record-payment", Role::Officer);
    assert_eq!(
        decide_command(&dossier, &pay, no_settings)
            .unwrap_err()
            .code,
        "receipt-required"
    );
    pay.payload_json = r#"{"receipt": "BL-1"}"#.into();
    assert_eq!(
        decide_command(&dossier, &pay, no_settings)
            .unwrap_err()
            .code,
        "payment-method-required"
    );
    pay.payload_json = r#"{"receipt": "BL-1", "online": false}"#.into();
    assert_eq!(
        decide_command(&dossier, &pay, no_settings)
            .unwrap_err()
            .code,
        "invalid-amount"
    );
    pay.payload_json = r#"{"receipt": "BL-1", "amount_vnd": "lots"}"#.into();
    assert_eq!(
        decide_command(&dossier, &pay, no_settings)
            .unwrap_err()
            .code,
        "invalid-payload"
    );
    dossier.fees_requested_vnd = 100_000;
    pay.payload_json = r#"{"receipt": "BL-1", "online": false, "amount_vnd": 40000}"#.into();
    let decided = decide_command(&dossier, &pay, no_settings).unwrap();
    assert_eq!(
        decided.effects,
        [Effect::RecordPayment(Payment {
            amount_vnd: 40_000,
            online: false,
            receipt: "BL-1".into()
        })]
    );
}

#[test]
fn proposal_waits_for_the_fee() {
    let mut dossier = filed_dossier("review");
    dossier.fees_requested_vnd = 100_000;
    dossier.fees_paid_vnd = 40_000;
    let refusal =
        decide_command(&dossier, &command("propose", Role::Specialist), no_settings).unwrap_err();
    assert_eq!(refusal.code, "fee-unpaid");
}

#[test]
fn supplement_restarts_the_clock_only_when_complete() {
    let mut dossier = filed_dossier("review");
    dossier.form_json = GOOD_FORM.replace(
        r#""members": []"#,
        r#""members": [{"full_name": "A", "citizen_id": "025190000123"}, {"full_name": "B", "citizen_id": "025190000124"}]"#,
    );
    let requested = decide_command(
        &dossier,
        &command("request-supplement", Role::Specialist),
        no_settings,
    )
    .unwrap();
    assert_eq!(
        (requested.next_step.as_str(), requested.status),
        ("supplement", Status::SupplementRequested)
    );
    let [Effect::RequestSupplement(items)] = requested.effects.as_slice() else {
        panic!()
    };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].target, "documents.members-minutes");

    dossier.step = "supplement".into();
    dossier.status = Status::SupplementRequested;
    let complete = command("complete-supplement", Role::Citizen);
    assert_eq!(
        decide_command(&dossier, &complete, no_settings)
            .unwrap_err()
            .code,
        "still-incomplete"
    );
    dossier.documents.push(document("members-minutes"));
    let decided = decide_command(&dossier, &complete, no_settings).unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("review", Status::Processing)
    );
    assert_eq!(decided.effects, [Effect::StartClock(PROCESSING_TIME)]);
}

#[test]
fn supplement_of_nothing_is_refused() {
    let refusal = decide_command(
        &filed_dossier("review"),
        &command("request-supplement", Role::Specialist),
        no_settings,
    )
    .unwrap_err();
    assert_eq!(refusal.code, "nothing-missing");
}

#[test]
fn refusal_needs_a_reason() {
    let dossier = filed_dossier("submitted");
    let mut order = command("refuse", Role::Officer);
    assert_eq!(
        decide_command(&dossier, &order, no_settings)
            .unwrap_err()
            .code,
        "note-required"
    );
    order.note = "Trùng tên hộ kinh doanh".into();
    let decided = decide_command(&dossier, &order, no_settings).unwrap();
    assert_eq!(
        (
            decided.next_step.as_str(),
            decided.status,
            decided.note.as_str()
        ),
        ("refused", Status::Refused, "Trùng tên hộ kinh doanh")
    );
}

#[test]
fn every_declared_action_decides_into_a_declared_step_with_its_status() {
    let declared = steps();
    for step in &declared {
        for action in &step.actions {
            let mut dossier = filed_dossier(&step.id);
            let mut order = command(&action.name, action.roles[0]);
            order.note = "lý do".into();
            order.payload_json = r#"{"receipt":"BL-1","online":false,"amount_vnd":1}"#.into();
            if action.name == "request-supplement" {
                dossier.documents.clear();
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
        ("approval", "propose"),
        ("refused", "receive"),
        ("returned", "x"),
    ] {
        let refusal = decide_command(
            &filed_dossier(step),
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
    assert_eq!(
        (info.code.as_str(), info.plugin_version.as_str()),
        ("1.001612", RELEASE.0)
    );
    assert_eq!(info.variant_of, None);
    assert_eq!(info.processing_time, PROCESSING_TIME);
    assert_eq!(info.fees[0].schedule, FeeSchedule::flat(100_000));
    assert!(info.steps.iter().any(|s| s.id == info.initial_step));
    assert!(
        !info
            .documents
            .iter()
            .find(|d| d.id == "members-minutes")
            .unwrap()
            .required
    );
    for schema in [&info.form_schema, &info.settings_schema] {
        serde_json::from_str::<serde_json::Value>(schema).expect("schema is JSON");
    }
    assert_eq!(
        parse_settings::<Settings>("{}").unwrap(),
        Settings::default()
    );
}

#[test]
#[cfg(not(feature = "release-1-1"))]
fn the_default_build_is_release_1_0_with_3_working_days() {
    // The rules crate reports its own package version; it must be the plugin's.
    assert_eq!(PLUGIN_VERSION, env!("CARGO_PKG_VERSION"));
    assert_eq!(procedure_info().plugin_version, "1.0.0");
    assert_eq!(processing_time(), ProcessingTime::WorkingDays(3));
}

#[test]
#[cfg(feature = "release-1-1")]
fn release_1_1_is_version_1_1_0_with_2_working_days() {
    assert_eq!(procedure_info().plugin_version, "1.1.0");
    assert_eq!(
        procedure_info().processing_time,
        ProcessingTime::WorkingDays(2)
    );
    let received = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        Settings::default,
    )
    .unwrap();
    assert_eq!(
        received.effects[0],
        Effect::StartClock(ProcessingTime::WorkingDays(2))
    );
}

/// What `receive` requests from a dossier that came through `channel`, under `settings`.
fn intake_fee(channel: Channel, settings: Settings) -> Option<u64> {
    let mut dossier = filed_dossier("submitted");
    dossier.channel = channel;
    let decided =
        decide_command(&dossier, &command("receive", Role::Officer), || settings).unwrap();
    assert_eq!(decided.effects[0], Effect::StartClock(PROCESSING_TIME));
    match decided.effects.as_slice() {
        [_] => None,
        [_, Effect::RequestFee(fee)] => Some(fee.amount_vnd),
        other => panic!("{other:?}"),
    }
}

#[test]
fn online_dossiers_pay_no_fee_where_the_unit_exempts_them() {
    let exempt = parse_settings::<Settings>(r#"{"online_fee_exempt": true}"#).unwrap();
    assert_eq!(
        exempt,
        Settings {
            registration_fee_vnd: 100_000,
            online_fee_exempt: true
        }
    );
    assert_eq!(intake_fee(Channel::Online, exempt.clone()), None);
    assert_eq!(intake_fee(Channel::InPerson, exempt.clone()), Some(100_000));
    assert_eq!(intake_fee(Channel::Postal, exempt), Some(100_000));
    // Not exempt by default: online dossiers pay like any other.
    assert_eq!(
        intake_fee(Channel::Online, Settings::default()),
        Some(100_000)
    );
    let local = parse_settings::<Settings>(
        r#"{"registration_fee_vnd": 50000, "online_fee_exempt": false}"#,
    )
    .unwrap();
    assert_eq!(intake_fee(Channel::Online, local), Some(50_000));
}

#[test]
fn the_settings_schema_is_derived_from_the_settings_type() {
    let text = settings_schema();
    assert_eq!(procedure_info().settings_schema, text);
    assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema.get("required").is_none(), "every setting defaults");
    let properties = schema["properties"].as_object().unwrap();
    let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["online_fee_exempt", "registration_fee_vnd"]);
    assert_eq!(properties["registration_fee_vnd"]["type"], "integer");
    assert_eq!(properties["registration_fee_vnd"]["minimum"], 0);
    assert_eq!(properties["registration_fee_vnd"]["default"], 100_000);
    assert_eq!(properties["online_fee_exempt"]["type"], "boolean");
    assert_eq!(properties["online_fee_exempt"]["default"], false);
    // Every property has a default, and the defaults are the type's.
    let defaults: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(name, property)| (name.clone(), property["default"].clone()))
        .collect();
    assert_eq!(
        parse_settings::<Settings>(&serde_json::Value::Object(defaults).to_string()).unwrap(),
        Settings::default()
    );
    // The type refuses what the schema refuses.
    assert!(parse_settings::<Settings>(r#"{"colour": 1}"#).is_err());
}

#[test]
fn the_form_schema_is_derived_from_the_form_type() {
    let text = form_schema();
    assert_eq!(procedure_info().form_schema, text);
    assert!(!text.contains("$ref"), "{text}");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["title"], "Giấy đề nghị đăng ký hộ kinh doanh");
    // Every field is required but the members, who may be left out.
    assert_eq!(
        schema["required"],
        serde_json::json!([
            "business_name",
            "address",
            "business_lines",
            "capital_vnd",
            "employees"
        ])
    );
    let properties = &schema["properties"];
    assert_eq!(properties["business_name"]["minLength"], 1);
    assert_eq!(properties["business_lines"]["type"], "array");
    assert_eq!(properties["business_lines"]["minItems"], 1);
    assert_eq!(properties["business_lines"]["items"]["minLength"], 1);
    // Capital must be positive; employees may be zero.
    assert_eq!(properties["capital_vnd"]["type"], "integer");
    assert_eq!(properties["capital_vnd"]["minimum"], 1);
    assert_eq!(properties["employees"]["minimum"], 0);
    let member = &properties["members"]["items"];
    assert_eq!(
        member["required"],
        serde_json::json!(["full_name", "citizen_id"])
    );
    assert_eq!(member["properties"]["citizen_id"]["pattern"], "^[0-9]{12}$");
    // The serde defaults that let `parse_form` report every field are not the form's.
    assert!(!text.contains("\"default\""), "{text}");
}
