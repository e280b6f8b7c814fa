use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

const GOOD_FORM: &str = r#"{
    "child": {"full_name": "Nguyễn Minh An", "sex": "male", "birth_date": "2025-06-20",
              "birth_place": "Bệnh viện Đa khoa tỉnh Phú Thọ", "ethnicity": "Kinh", "nationality": "Việt Nam"},
    "mother": {"full_name": "Nguyễn Thị Lan", "citizen_id": "025190000123"},
    "father": {"full_name": "Trần Văn Bình", "citizen_id": "025188000456"},
    "applicant_relationship": "mẹ"
}"#;

fn complete_documents() -> Vec<Document> {
    vec![
        document("hospital-birth-certificate"),
        document("citizen-id-card"),
    ]
}

fn targets_and_codes(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.target.as_str(), f.code.as_str()))
        .collect()
}

#[test]
fn a_complete_submission_has_no_findings() {
    let findings = check_submission(
        &submission(CODE, GOOD_FORM, complete_documents()),
        &Settings::default(),
    );
    assert_eq!(findings, []);
}

#[test]
fn every_problem_is_reported_at_its_field() {
    let form = r#"{
        "child": {"full_name": "", "sex": "boy", "birth_date": "2025-02-30",
                  "birth_place": "x", "ethnicity": "Kinh", "nationality": "Việt Nam"},
        "mother": {"full_name": "Nguyễn Thị Lan", "citizen_id": "12345"},
        "father": {"full_name": "Trần Văn Bình", "citizen_id": 25188000456},
        "applicant_relationship": "mẹ"
    }"#;
    let mut filed = submission(CODE, form, vec![document("marriage-certificate")]);
    filed.applicant.citizen_id = "0251900001".into();
    filed.applicant.phone = Some("+84912345678".into());
    let findings = check_submission(&filed, &Settings::default());
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.father.citizen_id", "invalid-type"),
            ("form.child.full_name", "required"),
            ("form.child.sex", "invalid-value"),
            ("form.child.birth_date", "invalid-date"),
            ("form.mother.citizen_id", "invalid-citizen-id"),
            ("applicant.citizen_id", "invalid-citizen-id"),
            ("applicant.phone", "invalid-phone"),
            ("documents.birth-proof", "document-missing"),
            ("documents.parent-id", "document-missing"),
        ]
    );
    assert!(findings.iter().all(Finding::is_blocking));
}

#[test]
fn a_missing_form_section_is_reported_field_by_field() {
    let findings = check_submission(
        &submission(CODE, "{}", complete_documents()),
        &Settings::default(),
    );
    let targets: Vec<_> = findings.iter().map(|f| f.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "form.child.full_name",
            "form.child.sex",
            "form.child.birth_date",
            "form.child.birth_place",
            "form.child.ethnicity",
            "form.child.nationality",
            "form.mother.full_name",
            "form.mother.citizen_id",
            "form.applicant_relationship",
        ]
    );
}

#[test]
fn a_form_that_is_not_json_is_one_finding() {
    let findings = check_submission(
        &submission(CODE, "not json", complete_documents()),
        &Settings::default(),
    );
    assert_eq!(targets_and_codes(&findings), [("form", "invalid-json")]);
}

#[test]
fn birth_after_the_submission_day_is_blocking() {
    let form = GOOD_FORM.replace("2025-06-20", "2025-07-02");
    let findings = check_submission(
        &submission(CODE, &form, complete_documents()),
        &Settings::default(),
    );
    assert_eq!(
        targets_and_codes(&findings),
        [("form.child.birth_date", "birth-date-in-future")]
    );
    // Born on the day of submission is fine.
    let form = GOOD_FORM.replace("2025-06-20", "2025-07-01");
    assert_eq!(
        check_submission(
            &submission(CODE, &form, complete_documents()),
            &Settings::default()
        ),
        []
    );
}

#[test]
fn late_registration_is_only_a_warning_and_follows_the_setting() {
    // Submitted 2025-07-01; 2025-05-02 is 60 days earlier, 2025-05-01 is 61.
    let on_time = GOOD_FORM.replace("2025-06-20", "2025-05-02");
    assert_eq!(
        check_submission(
            &submission(CODE, &on_time, complete_documents()),
            &Settings::default()
        ),
        []
    );
    let late = GOOD_FORM.replace("2025-06-20", "2025-05-01");
    let findings = check_submission(
        &submission(CODE, &late, complete_documents()),
        &Settings::default(),
    );
    assert_eq!(
        targets_and_codes(&findings),
        [("form.child.birth_date", "late-registration")]
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    let strict = Settings {
        late_registration_warning_days: 5,
    };
    assert_eq!(
        check_submission(&submission(CODE, GOOD_FORM, complete_documents()), &strict).len(),
        1
    );
}

#[test]
fn settings_default_to_sixty_days() {
    assert_eq!(
        parse_settings::<Settings>("{}")
            .unwrap()
            .late_registration_warning_days,
        60
    );
    assert_eq!(
        parse_settings::<Settings>(r#"{"late_registration_warning_days":30}"#).unwrap(),
        Settings {
            late_registration_warning_days: 30
        }
    );
}

#[test]
fn the_father_may_be_absent() {
    let form = GOOD_FORM.replace(
        r#""father": {"full_name": "Trần Văn Bình", "citizen_id": "025188000456"},"#,
        r#""father": null,"#,
    );
    assert!(form.contains("null"));
    assert_eq!(
        check_submission(
            &submission(CODE, &form, complete_documents()),
            &Settings::default()
        ),
        []
    );
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
fn the_happy_path_reaches_returned() {
    let path = [
        ("submitted", "receive", Role::Officer, "review"),
        ("review", "submit-for-signing", Role::Specialist, "signing"),
        ("signing", "sign", Role::Leader, "settled"),
        ("settled", "return-result", Role::Officer, "returned"),
    ];
    for (step, action, role, next) in path {
        let decided = decide_command(&filed_dossier(step), &command(action, role)).unwrap();
        assert_eq!(decided.next_step, next, "{action}");
    }
    let received = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
    )
    .unwrap();
    assert_eq!(
        received.effects,
        [Effect::StartClock(ProcessingTime::SameDay)]
    );
    let signed = decide_command(&filed_dossier("signing"), &command("sign", Role::Leader)).unwrap();
    assert_eq!(
        signed.effects,
        [Effect::IssueResult(ResultDocument {
            kind: "birth-certificate".into(),
            name: "Giấy khai sinh".into(),
            number: "KS-000.00.25.H42-250701-0001".into(),
            digitized: true,
        })]
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
            if action.name == "request-supplement" {
                dossier.documents.clear();
            }
            let decided = decide_command(&dossier, &order)
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
        ("submitted", "sign"),
        ("refused", "receive"),
        ("returned", "return-result"),
        ("review", "nope"),
    ] {
        let refusal =
            decide_command(&filed_dossier(step), &command(action, Role::Leader)).unwrap_err();
        assert_eq!(refusal.code, "unknown-action", "{step}/{action}");
    }
}

#[test]
fn refusal_needs_a_reason() {
    let dossier = filed_dossier("submitted");
    let mut order = command("refuse", Role::Officer);
    order.note = "   ".into();
    assert_eq!(
        decide_command(&dossier, &order).unwrap_err().code,
        "note-required"
    );
    order.note = "Không thuộc thẩm quyền".into();
    let decided = decide_command(&dossier, &order).unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("refused", Status::Refused)
    );
    assert_eq!(decided.note, "Không thuộc thẩm quyền");
}

#[test]
fn supplement_lists_every_missing_item_once() {
    let mut dossier = filed_dossier("submitted");
    dossier.documents = vec![document("marriage-certificate")];
    let mut order = command("request-supplement", Role::Officer);
    order.payload_json =
        r#"{"items":[{"target":"form.child.birth_place","message":"Ghi rõ nơi sinh"}]}"#.into();
    let decided = decide_command(&dossier, &order).unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("supplement", Status::SupplementRequested)
    );
    let [Effect::RequestSupplement(items)] = decided.effects.as_slice() else {
        panic!(
            "expected one request-supplement effect: {:?}",
            decided.effects
        );
    };
    let targets: Vec<_> = items.iter().map(|item| item.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "documents.birth-proof",
            "documents.parent-id",
            "form.child.birth_place"
        ]
    );
}

#[test]
fn supplement_of_nothing_is_refused() {
    let refusal = decide_command(
        &filed_dossier("submitted"),
        &command("request-supplement", Role::Officer),
    )
    .unwrap_err();
    assert_eq!(refusal.code, "nothing-missing");
}

#[test]
fn completing_a_supplement_needs_the_documents() {
    let mut dossier = filed_dossier("supplement");
    dossier.documents = vec![document("citizen-id-card")];
    let order = command("complete-supplement", Role::Citizen);
    assert_eq!(
        decide_command(&dossier, &order).unwrap_err().code,
        "still-incomplete"
    );
    dossier.documents.push(document("witness-statement"));
    let decided = decide_command(&dossier, &order).unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("submitted", Status::Submitted)
    );
    assert_eq!(decided.effects, []);
}

#[test]
fn sending_back_returns_to_review() {
    let decided = decide_command(
        &filed_dossier("signing"),
        &command("send-back", Role::Leader),
    )
    .unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("review", Status::Processing)
    );
}

#[test]
fn describe_is_consistent() {
    let info = procedure_info();
    assert_eq!(info.code, "1.001193");
    assert_eq!(info.plugin_version, "1.0.0");
    assert!(info.steps.iter().any(|s| s.id == info.initial_step));
    assert_eq!(info.fees[0].schedule, FeeSchedule::flat(0));
    for schema in [&info.form_schema, &info.settings_schema] {
        serde_json::from_str::<serde_json::Value>(schema).expect("schema is JSON");
    }
    // Terminal steps offer nothing.
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

#[test]
fn the_form_schema_is_derived_from_the_form_type() {
    let schema: serde_json::Value = serde_json::from_str(&form_schema()).unwrap();
    assert_eq!(procedure_info().form_schema, form_schema());
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["title"], "Tờ khai đăng ký khai sinh");
    // Every field is required but the father, who may be unknown.
    assert_eq!(
        schema["required"],
        serde_json::json!(["child", "mother", "applicant_relationship"])
    );
    let child = &schema["properties"]["child"];
    assert_eq!(
        child["required"],
        serde_json::json!([
            "full_name",
            "sex",
            "birth_date",
            "birth_place",
            "ethnicity",
            "nationality"
        ])
    );
    assert_eq!(child["properties"]["sex"]["enum"], serde_json::json!(SEXES));
    assert_eq!(child["properties"]["full_name"]["minLength"], 1);
    assert_eq!(child["properties"]["birth_date"]["format"], "date");
    // Mother and father are the same parent; the father may also be null.
    let mother = &schema["properties"]["mother"];
    let father = &schema["properties"]["father"];
    assert_eq!(
        mother["required"],
        serde_json::json!(["full_name", "citizen_id"])
    );
    assert_eq!(mother["properties"], father["properties"]);
    assert_eq!(father["type"], serde_json::json!(["object", "null"]));
    assert_eq!(mother["properties"]["citizen_id"]["pattern"], "^[0-9]{12}$");
    // Self-contained: the host resolves no references.
    assert!(!form_schema().contains("$ref"));
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
    assert_eq!(
        properties.keys().collect::<Vec<_>>(),
        ["late_registration_warning_days"]
    );
    let days = &properties["late_registration_warning_days"];
    assert_eq!(days["type"], "integer");
    assert_eq!(days["minimum"], 1);
    assert_eq!(days["default"], 60);
    assert!(days["description"].as_str().unwrap().contains("60 days"));
    // The defaults in the schema are the type's.
    assert_eq!(
        parse_settings::<Settings>(r#"{"late_registration_warning_days": 60}"#).unwrap(),
        Settings::default()
    );
    // The type refuses what the schema refuses.
    assert!(parse_settings::<Settings>(r#"{"colour": 1}"#).is_err());
}
