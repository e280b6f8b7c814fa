use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

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

fn filed_dossier(step: &str) -> Dossier {
    let status = steps().into_iter().find(|s| s.id == step).unwrap().status;
    dossier(
        &submission(CODE, GOOD_FORM, complete_documents()),
        step,
        status,
    )
}

fn no_settings() -> Settings {
    panic!("this action must not read the unit's settings")
}

fn site_visit(verified: bool) -> Command {
    let mut order = command("record-site-visit", Role::Specialist);
    order.payload_json =
        format!(r#"{{"verified": {verified}, "report": "Biên bản xác minh số 12"}}"#);
    order
}

fn step_and_status(decided: &Decision) -> (&str, Status) {
    (decided.next_step.as_str(), decided.status)
}

#[test]
fn describe_is_the_base_procedure_under_the_variant_identity() {
    let info = procedure_info();
    let base_info = base::procedure_info();
    assert_eq!(info.code, "1.001612/xuan-hoa-onsite");
    assert_eq!(info.variant_of.as_deref(), Some("1.001612"));
    assert_eq!(
        info.name,
        "Đăng ký thành lập hộ kinh doanh (Xuân Hòa: xác minh tại địa điểm kinh doanh)"
    );
    assert_eq!(info.plugin_version, "1.0.0");
    assert_eq!(info.processing_time, base_info.processing_time);
    assert_eq!(info.fees, base_info.fees);
    assert_eq!(info.documents, base_info.documents);
    assert_eq!(info.form_schema, base_info.form_schema);
    assert_eq!(info.legal_basis, base_info.legal_basis);
    assert_eq!(info.initial_step, "submitted");
    assert_eq!(info.steps, steps());
}

#[test]
fn site_visit_sits_between_review_and_approval() {
    let declared = steps();
    let ids: Vec<&str> = declared.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "submitted",
            "review",
            "supplement",
            "site-visit",
            "approval",
            "settled",
            "refused",
            "returned",
            "withdrawn"
        ]
    );
    let visit = &declared[3];
    assert_eq!(visit.status, Status::Processing);
    assert_eq!(visit.actions.len(), 1);
    assert_eq!(visit.actions[0].name, "record-site-visit");
    assert_eq!(visit.actions[0].roles, [Role::Specialist]);
    // Every other step is the base procedure's, unchanged.
    let mut without_visit = declared.clone();
    without_visit.remove(3);
    assert_eq!(without_visit, base::steps());
}

#[test]
fn settings_are_the_base_settings_plus_site_visit_required() {
    assert_eq!(
        parse_settings::<Settings>("{}").unwrap(),
        Settings {
            base: base::Settings::default(),
            site_visit_required: true,
        }
    );
    assert_eq!(
        parse_settings::<Settings>(
            r#"{"registration_fee_vnd": 50000, "online_fee_exempt": true, "site_visit_required": false}"#
        )
        .unwrap(),
        Settings {
            base: base::Settings {
                registration_fee_vnd: 50_000,
                online_fee_exempt: true,
            },
            site_visit_required: false,
        }
    );

    let schema: serde_json::Value = serde_json::from_str(&settings_schema()).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    let properties = schema["properties"].as_object().unwrap();
    let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "online_fee_exempt",
            "registration_fee_vnd",
            "site_visit_required"
        ]
    );
    assert_eq!(properties["site_visit_required"]["type"], "boolean");
    assert_eq!(properties["site_visit_required"]["default"], true);
    assert!(schema.get("required").is_none(), "every setting defaults");
    let text = settings_schema();
    assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
    // The base properties are the base schema's, as they are.
    let base_schema: serde_json::Value = serde_json::from_str(&base::settings_schema()).unwrap();
    for (name, property) in base_schema["properties"].as_object().unwrap() {
        assert_eq!(&properties[name], property, "{name}");
    }
    // Every property has a default, and the defaults are the type's.
    let defaults: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(name, property)| (name.clone(), property["default"].clone()))
        .collect();
    assert_eq!(
        parse_settings::<Settings>(&serde_json::Value::Object(defaults).to_string()).unwrap(),
        Settings::default()
    );
    assert_eq!(procedure_info().settings_schema, settings_schema());
}

#[test]
fn filing_follows_the_base_rules() {
    let good = submission(CODE, GOOD_FORM, complete_documents());
    assert_eq!(check_submission(&good), []);
    let bad = submission(CODE, r#"{"capital_vnd": 0}"#, vec![]);
    assert!(!check_submission(&bad).is_empty());
    assert_eq!(check_submission(&bad), base::check_submission(&bad));
}

#[test]
fn intake_uses_the_base_settings() {
    let local = || Settings {
        base: base::Settings {
            registration_fee_vnd: 50_000,
            online_fee_exempt: false,
        },
        site_visit_required: true,
    };
    let decided = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        local,
    )
    .unwrap();
    assert_eq!(step_and_status(&decided), ("review", Status::Processing));
    assert_eq!(
        decided.effects[0],
        Effect::StartClock(base::processing_time())
    );
    assert!(matches!(&decided.effects[1], Effect::RequestFee(fee) if fee.amount_vnd == 50_000));

    let exempt = || Settings {
        base: base::Settings {
            online_fee_exempt: true,
            ..base::Settings::default()
        },
        site_visit_required: true,
    };
    let decided = decide_command(
        &filed_dossier("submitted"),
        &command("receive", Role::Officer),
        exempt,
    )
    .unwrap();
    assert_eq!(
        decided.effects,
        [Effect::StartClock(base::processing_time())]
    );
}

#[test]
fn a_proposal_goes_to_the_site_visit_once_the_fee_is_paid() {
    let mut dossier = filed_dossier("review");
    dossier.fees_requested_vnd = 100_000;
    dossier.fees_paid_vnd = 40_000;
    let propose = command("propose", Role::Specialist);
    assert_eq!(
        decide_command(&dossier, &propose, Settings::default)
            .unwrap_err()
            .code,
        "fee-unpaid"
    );
    dossier.fees_paid_vnd = 100_000;
    let decided = decide_command(&dossier, &propose, Settings::default).unwrap();
    assert_eq!(
        step_and_status(&decided),
        ("site-visit", Status::Processing)
    );
    assert_eq!(decided.effects, []);
}

#[test]
fn without_the_site_visit_a_proposal_goes_straight_to_approval() {
    let not_required = || Settings {
        site_visit_required: false,
        ..Settings::default()
    };
    let decided = decide_command(
        &filed_dossier("review"),
        &command("propose", Role::Specialist),
        not_required,
    )
    .unwrap();
    assert_eq!(step_and_status(&decided), ("approval", Status::Processing));
    let mut unpaid = filed_dossier("review");
    unpaid.fees_requested_vnd = 100_000;
    assert_eq!(
        decide_command(&unpaid, &command("propose", Role::Specialist), not_required)
            .unwrap_err()
            .code,
        "fee-unpaid"
    );
}

#[test]
fn only_a_verified_site_goes_to_approval() {
    let dossier = filed_dossier("site-visit");
    let mut verified = site_visit(true);
    verified.note = " Đã xác minh ".into();
    let decided = decide_command(&dossier, &verified, no_settings).unwrap();
    assert_eq!(step_and_status(&decided), ("approval", Status::Processing));
    assert_eq!(decided.effects, []);
    assert_eq!(decided.note, "Đã xác minh");

    let refusal = decide_command(&dossier, &site_visit(false), no_settings).unwrap_err();
    assert_eq!(refusal.code, "site-not-verified");
    assert!(refusal.message.contains("Biên bản xác minh số 12"));
}

#[test]
fn the_site_visit_payload_needs_both_fields() {
    let dossier = filed_dossier("site-visit");
    for payload in [
        "{}",
        r#"{"verified": true}"#,
        r#"{"report": "x"}"#,
        r#"{"verified": "yes", "report": "x"}"#,
        r#"{"verified": true, "report": 1}"#,
    ] {
        let mut order = command("record-site-visit", Role::Specialist);
        order.payload_json = payload.into();
        assert_eq!(
            decide_command(&dossier, &order, no_settings)
                .unwrap_err()
                .code,
            "invalid-payload",
            "{payload}"
        );
    }
}

#[test]
fn send_back_returns_to_review_as_in_the_base() {
    let decided = decide_command(
        &filed_dossier("approval"),
        &command("send-back", Role::Leader),
        no_settings,
    )
    .unwrap();
    assert_eq!(step_and_status(&decided), ("review", Status::Processing));
}

#[test]
fn the_whole_path_reaches_returned() {
    let mut dossier = filed_dossier("submitted");
    let mut act = |order: Command| {
        let decided = decide_command(&dossier, &order, Settings::default)
            .unwrap_or_else(|refusal| panic!("{}: {}", order.action, refusal.code));
        for effect in &decided.effects {
            match effect {
                Effect::RequestFee(fee) => dossier.fees_requested_vnd += fee.amount_vnd,
                Effect::RecordPayment(payment) => dossier.fees_paid_vnd += payment.amount_vnd,
                _ => {}
            }
        }
        dossier.step = decided.next_step;
        dossier.status = decided.status;
        dossier.step.clone()
    };
    assert_eq!(act(command("receive", Role::Officer)), "review");
    let mut pay = command("record-payment", Role::Citizen);
    pay.payload_json = r#"{"online": true, "receipt": "BL-0001"}"#.into();
    assert_eq!(act(pay), "review");
    assert_eq!(act(command("propose", Role::Specialist)), "site-visit");
    assert_eq!(act(site_visit(true)), "approval");
    assert_eq!(act(command("send-back", Role::Leader)), "review");
    assert_eq!(act(command("propose", Role::Specialist)), "site-visit");
    assert_eq!(act(site_visit(true)), "approval");
    assert_eq!(act(command("approve", Role::Leader)), "settled");
    assert_eq!(act(command("return-result", Role::Officer)), "returned");
}

#[test]
fn every_declared_action_decides_into_a_declared_step_with_its_status() {
    let declared = steps();
    for step in &declared {
        for action in &step.actions {
            let mut dossier = filed_dossier(&step.id);
            let mut order = command(&action.name, action.roles[0]);
            order.note = "lý do".into();
            order.payload_json = if action.name == "record-site-visit" {
                r#"{"verified": true, "report": "Đúng địa chỉ"}"#.into()
            } else {
                r#"{"receipt":"BL-1","online":false,"amount_vnd":1}"#.into()
            };
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
        ("site-visit", "approve"),
        ("site-visit", "propose"),
        ("review", "record-site-visit"),
        ("approval", "record-site-visit"),
        ("submitted", "approve"),
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
