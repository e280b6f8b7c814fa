use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

/// Submitted on 2025-07-01 (the testing submission's day); died 2025-06-25.
const GOOD_FORM: &str = r#"{
    "deceased": {"full_name": "Trần Văn Hùng", "citizen_id": "025145000789",
                 "birth_date": "1945-03-12", "death_date": "2025-06-25",
                 "death_place": "Bệnh viện Đa khoa tỉnh Phú Thọ", "cause": "Tuổi cao"},
    "declarant_relationship": "con"
}"#;

fn complete_documents() -> Vec<Document> {
    vec![document("death-notice"), document("citizen-id-card")]
}

fn targets_and_codes(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|f| (f.target.as_str(), f.code.as_str()))
        .collect()
}

fn check_form_text(form: &str) -> Vec<Finding> {
    check_submission(
        &submission(CODE, form, complete_documents()),
        &Settings::default(),
    )
}

#[test]
fn a_complete_submission_has_no_findings() {
    assert_eq!(check_form_text(GOOD_FORM), []);
}

#[test]
fn the_cause_of_death_is_optional() {
    let form = GOOD_FORM.replace(r#", "cause": "Tuổi cao""#, "");
    assert!(!form.contains("cause"));
    assert_eq!(check_form_text(&form), []);
    let form = GOOD_FORM.replace(r#""Tuổi cao""#, "null");
    assert_eq!(check_form_text(&form), []);
}

#[test]
fn every_problem_is_reported_at_its_field() {
    let form = r#"{
        "deceased": {"full_name": " ", "citizen_id": "02514500078",
                     "birth_date": "1945-02-29", "death_date": "2025-06-31",
                     "death_place": "", "cause": 5},
        "declarant_relationship": ""
    }"#;
    let mut filed = submission(CODE, form, vec![document("unrelated")]);
    filed.applicant.citizen_id = "abc".into();
    filed.applicant.phone = Some("12345".into());
    let findings = check_submission(&filed, &Settings::default());
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.deceased.cause", "invalid-type"),
            ("form.deceased.full_name", "required"),
            ("form.deceased.citizen_id", "invalid-citizen-id"),
            ("form.deceased.birth_date", "invalid-date"),
            ("form.deceased.death_date", "invalid-date"),
            ("form.deceased.death_place", "required"),
            ("form.declarant_relationship", "required"),
            ("applicant.citizen_id", "invalid-citizen-id"),
            ("applicant.phone", "invalid-phone"),
            ("documents.death-proof", "document-missing"),
            ("documents.declarant-id", "document-missing"),
        ]
    );
    assert!(findings.iter().all(Finding::is_blocking));
}

#[test]
fn a_missing_form_is_reported_field_by_field() {
    let findings = check_form_text("{}");
    let targets: Vec<_> = findings.iter().map(|f| f.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "form.deceased.full_name",
            "form.deceased.citizen_id",
            "form.deceased.birth_date",
            "form.deceased.death_date",
            "form.deceased.death_place",
            "form.declarant_relationship",
        ]
    );
    assert!(findings.iter().all(|f| f.code == "required"));
}

#[test]
fn a_form_of_the_wrong_shape_is_reported_where_it_is_wrong() {
    assert_eq!(
        targets_and_codes(&check_form_text("[]")),
        [("form", "invalid-type")]
    );
    let findings =
        check_form_text(r#"{"deceased": "Trần Văn Hùng", "declarant_relationship": "con"}"#);
    // The section is wrong as a whole: one finding, not one per field inside it.
    assert_eq!(
        targets_and_codes(&findings),
        [("form.deceased", "invalid-type")]
    );
}

#[test]
fn the_death_date_must_not_be_after_the_submission() {
    let findings = check_form_text(&GOOD_FORM.replace("2025-06-25", "2025-07-02"));
    assert_eq!(
        targets_and_codes(&findings),
        [("form.deceased.death_date", "death-date-in-future")]
    );
    // Died the day of submission: fine.
    assert_eq!(
        check_form_text(&GOOD_FORM.replace("2025-06-25", "2025-07-01")),
        []
    );
}

#[test]
fn the_death_date_must_not_be_before_the_birth() {
    let form = GOOD_FORM.replace("1945-03-12", "2025-06-26");
    assert_eq!(
        targets_and_codes(&check_form_text(&form)),
        [("form.deceased.death_date", "death-before-birth")]
    );
    // Born and died the same day: fine.
    let form = GOOD_FORM.replace("1945-03-12", "2025-06-25");
    assert_eq!(check_form_text(&form), []);
}

#[test]
fn a_birth_date_after_the_submission_is_blocking() {
    let form = GOOD_FORM.replace("1945-03-12", "2025-07-05");
    let findings = check_form_text(&form);
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.deceased.birth_date", "birth-date-in-future"),
            ("form.deceased.death_date", "death-before-birth"),
        ]
    );
}

#[test]
fn registration_after_fifteen_days_is_only_a_warning() {
    // Submitted 2025-07-01: 2025-06-16 is 15 days before, 2025-06-15 is 16.
    assert_eq!(
        check_form_text(&GOOD_FORM.replace("2025-06-25", "2025-06-16")),
        []
    );
    let findings = check_form_text(&GOOD_FORM.replace("2025-06-25", "2025-06-15"));
    assert_eq!(
        targets_and_codes(&findings),
        [("form.deceased.death_date", "late-registration")]
    );
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0].message.contains("sau 16 ngày"));
    // Across a leap day: 2024-02-15 to 2024-03-01 is 15 days.
    let mut filed = submission(
        CODE,
        &GOOD_FORM.replace("2025-06-25", "2024-02-15"),
        complete_documents(),
    );
    filed.at.date = Date {
        year: 2024,
        month: 3,
        day: 1,
    };
    assert_eq!(check_submission(&filed, &Settings::default()), []);
    filed.at.date.day = 2;
    assert_eq!(
        targets_and_codes(&check_submission(&filed, &Settings::default())),
        [("form.deceased.death_date", "late-registration")]
    );
}

#[test]
fn the_warning_follows_the_unit_setting() {
    let strict = Settings {
        late_registration_warning_days: 3,
    };
    let filed = submission(CODE, GOOD_FORM, complete_documents());
    assert_eq!(
        targets_and_codes(&check_submission(&filed, &strict)),
        [("form.deceased.death_date", "late-registration")]
    );
    // Zero is outside the schema; treated as one day rather than warning on the day itself.
    let zero = Settings {
        late_registration_warning_days: 0,
    };
    let same_day = submission(
        CODE,
        &GOOD_FORM.replace("2025-06-25", "2025-07-01"),
        complete_documents(),
    );
    assert_eq!(check_submission(&same_day, &zero), []);
}

#[test]
fn either_kind_of_death_proof_will_do() {
    for proof in ["death-notice", "death-confirmation", "death-proof"] {
        let filed = submission(
            CODE,
            GOOD_FORM,
            vec![document(proof), document("citizen-id-card")],
        );
        assert_eq!(
            check_submission(&filed, &Settings::default()),
            [],
            "{proof}"
        );
    }
}

#[test]
fn settings_default_to_the_statutory_fifteen_days() {
    assert_eq!(
        parse_settings::<Settings>("{}").unwrap(),
        Settings::default()
    );
    assert_eq!(Settings::default().late_registration_warning_days, 15);
    assert_eq!(
        parse_settings::<Settings>(r#"{"late_registration_warning_days":30}"#).unwrap(),
        Settings {
            late_registration_warning_days: 30
        }
    );
    // The type refuses what the schema refuses.
    assert!(parse_settings::<Settings>(r#"{"colour": 1}"#).is_err());
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
    // The default in the schema is the type's.
    assert_eq!(
        days["default"],
        Settings::default().late_registration_warning_days
    );
    assert!(days["description"].as_str().unwrap().contains("15 days"));
}

#[test]
fn the_form_schema_is_derived_from_the_form_type() {
    let text = form_schema();
    assert_eq!(procedure_info().form_schema, text);
    assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    assert!(!text.contains("\"default\""), "{text}");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["title"], "Tờ khai đăng ký khai tử");
    assert_eq!(
        schema["required"],
        serde_json::json!(["deceased", "declarant_relationship"])
    );
    let relationship = &schema["properties"]["declarant_relationship"];
    assert_eq!(relationship["type"], "string");
    assert_eq!(relationship["minLength"], 1);
    // Every field of the deceased is required but the cause, which may be null.
    let deceased = &schema["properties"]["deceased"];
    assert_eq!(deceased["type"], "object");
    assert_eq!(deceased["title"], "Người đã chết");
    assert_eq!(
        deceased["required"],
        serde_json::json!([
            "full_name",
            "citizen_id",
            "birth_date",
            "death_date",
            "death_place"
        ])
    );
    let field = |name: &str| &deceased["properties"][name];
    assert_eq!(field("full_name")["minLength"], 1);
    assert_eq!(field("citizen_id")["pattern"], "^[0-9]{12}$");
    assert_eq!(field("birth_date")["format"], "date");
    assert_eq!(field("death_date")["format"], "date");
    assert_eq!(field("death_place")["minLength"], 1);
    assert_eq!(
        field("cause")["type"],
        serde_json::json!(["string", "null"])
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

fn next(decided: &Decision) -> (&str, Status) {
    (decided.next_step.as_str(), decided.status)
}

#[test]
fn the_same_day_path_reaches_returned() {
    let received = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
    )
    .unwrap();
    assert_eq!(next(&received), ("review", Status::Processing));
    assert_eq!(
        received.effects,
        [Effect::StartClock(ProcessingTime::SameDay)]
    );
    let proposed = decide_command(
        &filed_dossier("review"),
        &command("submit-for-signing", Role::Specialist),
    )
    .unwrap();
    assert_eq!(next(&proposed), ("signing", Status::Processing));
    assert_eq!(proposed.effects, []);
    let signed = decide_command(&filed_dossier("signing"), &command("sign", Role::Leader)).unwrap();
    assert_eq!(next(&signed), ("settled", Status::Settled));
    assert_eq!(
        signed.effects,
        [Effect::IssueResult(ResultDocument {
            kind: "death-extract".into(),
            name: "Trích lục khai tử".into(),
            number: "KT-000.00.25.H42-250701-0001".into(),
            digitized: true,
        })]
    );
    let returned = decide_command(
        &filed_dossier("settled"),
        &command("return-result", Role::Officer),
    )
    .unwrap();
    assert_eq!(next(&returned), ("returned", Status::Returned));
}

#[test]
fn verification_restarts_the_clock_with_three_working_days_and_tells_the_applicant() {
    let mut order = command("verify", Role::Specialist);
    order.note = "Xác minh nơi chết với Công an xã".into();
    let verified = decide_command(&filed_dossier("review"), &order).unwrap();
    assert_eq!(next(&verified), ("verification", Status::Processing));
    let [Effect::StartClock(time), Effect::NotifyApplicant(notice)] = verified.effects.as_slice()
    else {
        panic!("{:?}", verified.effects)
    };
    assert_eq!(*time, ProcessingTime::WorkingDays(3));
    assert!(notice.contains("03 ngày làm việc"), "{notice}");
    assert!(
        notice.ends_with("Xác minh nơi chết với Công an xã"),
        "{notice}"
    );
    assert_eq!(verified.note, "Xác minh nơi chết với Công an xã");

    let without_reason = decide_command(
        &filed_dossier("review"),
        &command("verify", Role::Specialist),
    )
    .unwrap();
    let Effect::NotifyApplicant(notice) = &without_reason.effects[1] else {
        panic!()
    };
    assert!(!notice.contains("Nội dung cần xác minh"));

    let proposed = decide_command(
        &filed_dossier("verification"),
        &command("submit-for-signing", Role::Specialist),
    )
    .unwrap();
    assert_eq!(next(&proposed), ("signing", Status::Processing));
    // Verifying again from the verification step is not an action of that step.
    assert_eq!(
        decide_command(
            &filed_dossier("verification"),
            &command("verify", Role::Specialist)
        )
        .unwrap_err()
        .code,
        "unknown-action"
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
        ("submitted", "verify"),
        ("supplement", "receive"),
        ("signing", "verify"),
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
    assert_eq!(
        decide_command(&dossier, &order).unwrap_err().code,
        "note-required"
    );
    order.note = "  Người chết không cư trú tại xã  ".into();
    let decided = decide_command(&dossier, &order).unwrap();
    assert_eq!(next(&decided), ("refused", Status::Refused));
    assert_eq!(decided.note, "Người chết không cư trú tại xã");
}

#[test]
fn a_supplement_lists_every_missing_item_and_completes_only_when_complete() {
    let mut dossier = filed_dossier("submitted");
    dossier.documents = vec![document("citizen-id-card")];
    let mut order = command("request-supplement", Role::Officer);
    order.payload_json =
        r#"{"items":[{"target":"form.deceased.death_place","message":"Ghi rõ nơi chết"}]}"#.into();
    let requested = decide_command(&dossier, &order).unwrap();
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
        ["documents.death-proof", "form.deceased.death_place"]
    );

    dossier.step = "supplement".into();
    dossier.status = Status::SupplementRequested;
    let complete = command("complete-supplement", Role::Citizen);
    assert_eq!(
        decide_command(&dossier, &complete).unwrap_err().code,
        "still-incomplete"
    );
    dossier.documents.push(document("death-confirmation"));
    let completed = decide_command(&dossier, &complete).unwrap();
    // Back to intake: the officer receives it and the same-day clock starts then.
    assert_eq!(next(&completed), ("submitted", Status::Submitted));
    assert_eq!(completed.effects, []);
}

#[test]
fn a_supplement_of_nothing_is_refused() {
    assert_eq!(
        decide_command(
            &filed_dossier("submitted"),
            &command("request-supplement", Role::Officer)
        )
        .unwrap_err()
        .code,
        "nothing-missing"
    );
}

#[test]
fn sending_back_returns_to_review() {
    let decided = decide_command(
        &filed_dossier("signing"),
        &command("send-back", Role::Leader),
    )
    .unwrap();
    assert_eq!(next(&decided), ("review", Status::Processing));
}

#[test]
fn describe_is_consistent() {
    let info = procedure_info();
    assert_eq!(info.code, "1.000656");
    assert_eq!(info.field, "civil-status");
    assert_eq!(info.level, Level::Commune);
    assert_eq!(info.processing_time, ProcessingTime::SameDay);
    assert_eq!(info.plugin_version, "1.0.0");
    assert_eq!(info.variant_of, None);
    assert!(info.steps.iter().any(|s| s.id == info.initial_step));
    assert_eq!(info.fees.len(), 1);
    assert_eq!(info.fees[0].schedule, FeeSchedule::flat(0));
    assert!(info.fees[0].note.contains("Miễn lệ phí"));
    assert!(info.legal_basis.iter().any(|law| law.contains("Điều 33")));
    for schema in [&info.form_schema, &info.settings_schema] {
        serde_json::from_str::<serde_json::Value>(schema).expect("schema is JSON");
    }
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
    let ids: Vec<_> = info.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["death-proof", "declarant-id"]);
    assert!(info.documents.iter().all(|d| d.required));
}
