//! `decide`: intake, inspection, payments, approval and the declared workflow.

use super::*;

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
        .map(|fee| (fee.code.as_str(), fee.amount("{}").ok()))
        .collect();
    // The levy is assessed after the site inspection: the catalog shows no amount.
    assert_eq!(
        fees,
        [("registration", Some(100_000)), ("land-use-fee", None)]
    );
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
