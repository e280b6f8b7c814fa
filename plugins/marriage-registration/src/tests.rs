use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

/// Submitted on 2025-07-01 (the testing submission's day).
const GOOD_FORM: &str = r#"{
    "husband": {"full_name": "Trần Văn Bình", "citizen_id": "025198000456",
                "birth_date": "1998-04-10", "residence": "Phường Xuân Hòa, tỉnh Phú Thọ"},
    "wife": {"full_name": "Nguyễn Thị Lan", "citizen_id": "025100000123",
             "birth_date": "2000-09-02", "residence": "Phường Việt Trì, tỉnh Phú Thọ"},
    "both_present": true
}"#;

fn complete_documents() -> Vec<Document> {
    vec![
        document("marriage-declaration"),
        document("marital-status-confirmation"),
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
    check_submission(&submission(CODE, form, complete_documents()))
}

fn date(year: i32, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

#[test]
fn a_complete_submission_has_no_findings() {
    assert_eq!(check_form_text(GOOD_FORM), []);
}

#[test]
fn every_problem_is_reported_at_its_field() {
    let form = r#"{
        "husband": {"full_name": "", "citizen_id": "25198000456",
                    "birth_date": "1998-13-10", "residence": "x"},
        "wife": {"full_name": "Nguyễn Thị Lan", "citizen_id": 25100000123,
                 "birth_date": "2000/09/02", "residence": " "},
        "both_present": "yes"
    }"#;
    let mut filed = submission(CODE, form, vec![document("citizen-id-card")]);
    filed.applicant.citizen_id = "".into();
    let findings = check_submission(&filed);
    assert_eq!(
        targets_and_codes(&findings),
        [
            ("form.both_present", "invalid-type"),
            ("form.wife.citizen_id", "invalid-type"),
            ("form.husband.full_name", "required"),
            ("form.husband.citizen_id", "invalid-citizen-id"),
            ("form.husband.birth_date", "invalid-date"),
            ("form.wife.birth_date", "invalid-date"),
            ("form.wife.residence", "required"),
            ("applicant.citizen_id", "required"),
            ("documents.marriage-declaration", "document-missing"),
            ("documents.marital-status-confirmation", "document-missing"),
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
            "form.husband.full_name",
            "form.husband.citizen_id",
            "form.husband.birth_date",
            "form.husband.residence",
            "form.wife.full_name",
            "form.wife.citizen_id",
            "form.wife.birth_date",
            "form.wife.residence",
        ]
    );
    assert_eq!(
        targets_and_codes(&check_form_text("not json")),
        [("form", "invalid-json")]
    );
}

#[test]
fn the_two_parties_must_be_two_people() {
    let form = GOOD_FORM.replace("025100000123", "025198000456");
    assert_eq!(
        targets_and_codes(&check_form_text(&form)),
        [("form.wife.citizen_id", "same-citizen-id")]
    );
}

#[test]
fn full_years_count_by_calendar_date() {
    let born = date(2005, 7, 1);
    assert_eq!(full_years_on(&born, &date(2025, 6, 30)), 19);
    assert_eq!(full_years_on(&born, &date(2025, 7, 1)), 20);
    assert_eq!(full_years_on(&born, &date(2025, 12, 31)), 20);
    assert_eq!(full_years_on(&born, &date(2005, 7, 1)), 0);
    assert_eq!(full_years_on(&born, &date(2005, 6, 30)), -1);
    // The example of TTLT 01/2016: born 28/02/1996, 18 on 28/02/2014.
    assert_eq!(full_years_on(&date(1996, 2, 28), &date(2014, 2, 27)), 17);
    assert_eq!(full_years_on(&date(1996, 2, 28), &date(2014, 2, 28)), 18);
    // Born on a leap day: the birthday is 28 February in other years.
    let leap = date(2004, 2, 29);
    assert_eq!(anniversary(&leap, 18), date(2022, 2, 28));
    assert_eq!(anniversary(&leap, 20), date(2024, 2, 29));
    assert_eq!(full_years_on(&leap, &date(2022, 2, 27)), 17);
    assert_eq!(full_years_on(&leap, &date(2022, 2, 28)), 18);
    assert_eq!(full_years_on(&leap, &date(2024, 2, 28)), 19);
    assert_eq!(full_years_on(&leap, &date(2024, 2, 29)), 20);
}

#[test]
fn the_husband_must_be_twenty_full_years_old_on_the_day_of_submission() {
    // Submitted 2025-07-01.
    let twenty_today = GOOD_FORM.replace("1998-04-10", "2005-07-01");
    assert_eq!(check_form_text(&twenty_today), []);
    let twenty_tomorrow = GOOD_FORM.replace("1998-04-10", "2005-07-02");
    let findings = check_form_text(&twenty_tomorrow);
    assert_eq!(
        targets_and_codes(&findings),
        [("form.husband.birth_date", "under-age")]
    );
    assert!(
        findings[0].message.contains("mới 19 tuổi"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[0].message.contains("2025-07-02"),
        "{}",
        findings[0].message
    );
    // Old enough for a woman is not old enough for a man.
    let eighteen = GOOD_FORM.replace("1998-04-10", "2007-01-01");
    assert_eq!(
        targets_and_codes(&check_form_text(&eighteen)),
        [("form.husband.birth_date", "under-age")]
    );
}

#[test]
fn the_wife_must_be_eighteen_full_years_old_on_the_day_of_submission() {
    let eighteen_today = GOOD_FORM.replace("2000-09-02", "2007-07-01");
    assert_eq!(check_form_text(&eighteen_today), []);
    let eighteen_tomorrow = GOOD_FORM.replace("2000-09-02", "2007-07-02");
    assert_eq!(
        targets_and_codes(&check_form_text(&eighteen_tomorrow)),
        [("form.wife.birth_date", "under-age")]
    );
    // Both under age: both reported at once.
    let both = GOOD_FORM
        .replace("1998-04-10", "2010-01-01")
        .replace("2000-09-02", "2010-01-01");
    assert_eq!(
        targets_and_codes(&check_form_text(&both)),
        [
            ("form.husband.birth_date", "under-age"),
            ("form.wife.birth_date", "under-age"),
        ]
    );
}

#[test]
fn a_leap_day_birthday_comes_of_age_on_the_twenty_eighth_of_february() {
    let mut filed = submission(
        CODE,
        &GOOD_FORM.replace("2000-09-02", "2004-02-29"),
        complete_documents(),
    );
    filed.at.date = date(2022, 2, 27);
    filed.form_json = filed.form_json.replace("1998-04-10", "1990-01-01");
    assert_eq!(
        targets_and_codes(&check_submission(&filed)),
        [("form.wife.birth_date", "under-age")]
    );
    filed.at.date = date(2022, 2, 28);
    assert_eq!(check_submission(&filed), []);
}

#[test]
fn a_birth_date_after_the_submission_is_blocking() {
    let form = GOOD_FORM.replace("2000-09-02", "2025-07-02");
    assert_eq!(
        targets_and_codes(&check_form_text(&form)),
        [("form.wife.birth_date", "birth-date-in-future")]
    );
}

#[test]
fn settings_are_empty() {
    assert_eq!(parse_settings::<Settings>("{}").unwrap(), Settings {});
    assert!(parse_settings::<Settings>(r#"{"fee":1}"#).is_err());
}

#[test]
fn the_settings_schema_is_derived_from_the_settings_type() {
    let text = settings_schema();
    assert_eq!(procedure_info().settings_schema, text);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema.get("required").is_none());
    // Nothing to set: only "{}" is valid settings.
    assert!(
        schema
            .get("properties")
            .is_none_or(|properties| properties.as_object().unwrap().is_empty()),
        "{text}"
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
    assert_eq!(schema["title"], "Tờ khai đăng ký kết hôn");
    assert_eq!(
        schema["required"],
        serde_json::json!(["husband", "wife", "both_present"])
    );
    let properties = &schema["properties"];
    assert_eq!(properties["both_present"]["type"], "boolean");
    let husband = &properties["husband"];
    let wife = &properties["wife"];
    assert_eq!(husband["title"], "Bên nam");
    assert_eq!(wife["title"], "Bên nữ");
    // Both parties are the same kind of party, every field required.
    assert_eq!(husband["properties"], wife["properties"]);
    assert_eq!(husband["type"], "object");
    assert_eq!(
        husband["required"],
        serde_json::json!(["full_name", "citizen_id", "birth_date", "residence"])
    );
    assert_eq!(wife["required"], husband["required"]);
    let field = |name: &str| &husband["properties"][name];
    assert_eq!(field("full_name")["minLength"], 1);
    assert_eq!(field("citizen_id")["pattern"], "^[0-9]{12}$");
    assert_eq!(field("birth_date")["format"], "date");
    assert_eq!(field("residence")["minLength"], 1);
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
    let signed = decide_command(&filed_dossier("signing"), &command("sign", Role::Leader)).unwrap();
    assert_eq!(next(&signed), ("settled", Status::Settled));
    assert_eq!(
        signed.effects,
        [Effect::IssueResult(ResultDocument {
            kind: "marriage-certificate".into(),
            name: "Giấy chứng nhận kết hôn".into(),
            number: "KH-000.00.25.H42-250701-0001".into(),
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
fn verification_restarts_the_clock_with_five_working_days() {
    let mut order = command("verify", Role::Specialist);
    order.note = "Xác minh tình trạng hôn nhân của bên nam".into();
    let verified = decide_command(&filed_dossier("review"), &order).unwrap();
    assert_eq!(next(&verified), ("verification", Status::Processing));
    let [Effect::StartClock(time), Effect::NotifyApplicant(notice)] = verified.effects.as_slice()
    else {
        panic!("{:?}", verified.effects)
    };
    assert_eq!(*time, ProcessingTime::WorkingDays(5));
    assert!(notice.contains("05 ngày làm việc"), "{notice}");
    assert!(notice.ends_with("Xác minh tình trạng hôn nhân của bên nam"));
    let proposed = decide_command(
        &filed_dossier("verification"),
        &command("submit-for-signing", Role::Specialist),
    )
    .unwrap();
    assert_eq!(next(&proposed), ("signing", Status::Processing));
}

#[test]
fn signing_needs_both_parties_present() {
    let mut dossier = filed_dossier("signing");
    dossier.form_json = GOOD_FORM.replace(r#""both_present": true"#, r#""both_present": false"#);
    let mut sign = command("sign", Role::Leader);
    let refusal = decide_command(&dossier, &sign).unwrap_err();
    assert_eq!(refusal.code, "parties-absent");
    // The leader records at the signing that both have come.
    sign.payload_json = r#"{"both_present": true}"#.into();
    assert_eq!(
        next(&decide_command(&dossier, &sign).unwrap()),
        ("settled", Status::Settled)
    );
    // And the payload wins over the form the other way too.
    sign.payload_json = r#"{"both_present": false}"#.into();
    assert_eq!(
        decide_command(&filed_dossier("signing"), &sign)
            .unwrap_err()
            .code,
        "parties-absent"
    );
    // A form that says nothing means nobody said they are present.
    dossier.form_json = GOOD_FORM.replace(
        r#",
    "both_present": true"#,
        "",
    );
    assert!(!dossier.form_json.contains("both_present"));
    sign.payload_json = "{}".into();
    assert_eq!(
        decide_command(&dossier, &sign).unwrap_err().code,
        "parties-absent"
    );
    sign.payload_json = r#"{"both_present": "yes"}"#.into();
    assert_eq!(
        decide_command(&dossier, &sign).unwrap_err().code,
        "invalid-payload"
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
            if action.name == "apologize" {
                order.payload_json =
                    r#"{"new_due_date":"2026-04-30","reason":"Chờ kết quả xác minh"}"#.into();
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
        ("review", "sign"),
        ("verification", "verify"),
        ("refused", "receive"),
        ("returned", "return-result"),
        ("signing", "approve"),
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
    order.note = "Bên nam chưa đủ tuổi kết hôn".into();
    let decided = decide_command(&dossier, &order).unwrap();
    assert_eq!(next(&decided), ("refused", Status::Refused));
    assert_eq!(decided.note, "Bên nam chưa đủ tuổi kết hôn");
}

#[test]
fn a_supplement_lists_every_missing_item_and_completes_only_when_complete() {
    let mut dossier = filed_dossier("submitted");
    dossier.documents = vec![document("marriage-declaration")];
    let requested =
        decide_command(&dossier, &command("request-supplement", Role::Officer)).unwrap();
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
            "documents.marital-status-confirmation",
            "documents.identity"
        ]
    );

    dossier.step = "supplement".into();
    dossier.status = Status::SupplementRequested;
    let complete = command("complete-supplement", Role::Citizen);
    dossier.documents.push(document("citizen-id-card"));
    let refusal = decide_command(&dossier, &complete).unwrap_err();
    assert_eq!(refusal.code, "still-incomplete");
    assert!(
        refusal
            .message
            .contains("Giấy xác nhận tình trạng hôn nhân")
    );
    dossier
        .documents
        .push(document("marital-status-confirmation"));
    let completed = decide_command(&dossier, &complete).unwrap();
    assert_eq!(next(&completed), ("submitted", Status::Submitted));
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
    assert_eq!(info.code, "1.000894");
    assert_eq!(info.field, "civil-status");
    assert_eq!(info.level, Level::Commune);
    assert_eq!(info.processing_time, ProcessingTime::SameDay);
    assert_eq!(info.plugin_version, "1.0.0");
    assert!(info.steps.iter().any(|s| s.id == info.initial_step));
    assert_eq!(info.fees[0].schedule, FeeSchedule::flat(0));
    assert!(info.fees[0].note.contains("Thông tư 85/2019/TT-BTC"));
    assert!(info.legal_basis.iter().any(|law| law.contains("Điều 8")));
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
    assert_eq!(
        ids,
        [
            "marriage-declaration",
            "marital-status-confirmation",
            "identity"
        ]
    );
}

#[test]
fn a_late_dossier_gets_an_apology_with_a_new_date_and_a_reason() {
    let mut order = command("apologize", Role::Leader);
    order.payload_json =
        r#"{"new_due_date":"2026-03-20","reason":"Chờ kết quả xác minh tình trạng hôn nhân"}"#
            .into();
    let decided = decide_command(&filed_dossier("verification"), &order).unwrap();
    assert_eq!(
        (decided.next_step.as_str(), decided.status),
        ("verification", Status::Processing)
    );
    assert!(
        decided
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::ExtendDue(extension)
        if extension.new_due_date == Date { year: 2026, month: 3, day: 20 }))
    );
    order.payload_json = r#"{"new_due_date":"2026-03-20"}"#.into();
    assert_eq!(
        decide_command(&filed_dossier("verification"), &order)
            .unwrap_err()
            .code,
        "reason-required"
    );
    order.payload_json = r#"{"new_due_date":"20/03/2026","reason":"x"}"#.into();
    assert_eq!(
        decide_command(&filed_dossier("verification"), &order)
            .unwrap_err()
            .code,
        "invalid-payload"
    );
}
