//! Native unit tests of the rules: `cargo test -p procedure-template`. They call the
//! plugin's functions directly, with records from `motcua_sdk::testing`; the scenarios
//! in `scenarios/` test the same rules through the host's runtime.

use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

/// Filed on 2025-07-01 (the testing submission's day).
const FORM: &str = r#"{ "registration_kind": "birth", "registration_number": "123/2025",
    "registered_on": "2025-06-20", "copies": 3, "purpose": "Nhập học" }"#;

fn documents_filed() -> Vec<Document> {
    vec![document("request-form"), document("citizen-id-card")]
}

/// The filing as a dossier just submitted.
fn submitted() -> Dossier {
    dossier(
        &submission(CODE, FORM, documents_filed()),
        "submitted",
        Status::Submitted,
    )
}

/// The dossier in review, owing the fee for its three copies.
fn in_review() -> Dossier {
    let mut in_review = dossier(
        &submission(CODE, FORM, documents_filed()),
        "review",
        Status::Processing,
    );
    in_review.fees_requested_vnd = 24_000;
    in_review
}

fn targets(findings: &[Finding]) -> Vec<(&str, &str)> {
    findings
        .iter()
        .map(|finding| (finding.target.as_str(), finding.code.as_str()))
        .collect()
}

#[test]
fn a_complete_filing_has_no_findings() {
    let findings = check_submission(&submission(CODE, FORM, documents_filed()));
    assert_eq!(targets(&findings), []);
}

#[test]
fn every_missing_document_and_a_future_date_are_reported_at_once() {
    let form = FORM.replace("2025-06-20", "2025-07-02");
    let findings = check_submission(&submission(CODE, &form, vec![]));
    assert_eq!(
        targets(&findings),
        [
            ("form.registered_on", "date-in-future"),
            ("documents.request", "document-missing"),
            ("documents.identity", "document-missing"),
        ]
    );
}

#[test]
fn receiving_asks_the_fee_per_copy_and_a_waiver_asks_none() {
    let received = decide_command(
        &submitted(),
        &command("receive", Role::Officer),
        &Settings::default(),
    )
    .unwrap();
    assert_eq!(received.next_step, "review");
    assert!(received.effects.contains(&Effect::RequestFee(FeeRequest {
        code: "copy".into(),
        amount_vnd: 24_000,
        reason: "Phí cấp 3 bản sao trích lục".into(),
    })));

    let waived = decide_command(
        &submitted(),
        &command("receive", Role::Officer),
        &Settings {
            fee_per_copy_vnd: 0,
        },
    )
    .unwrap();
    assert!(
        !waived
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::RequestFee(_)))
    );
}

#[test]
fn the_copies_are_issued_only_when_paid() {
    let mut in_review = in_review();
    let issue = command("issue", Role::Specialist);
    let refusal = decide_command(&in_review, &issue, &Settings::default()).unwrap_err();
    assert_eq!(refusal.code, "fee-unpaid");

    in_review.fees_paid_vnd = 24_000;
    let issued = decide_command(&in_review, &issue, &Settings::default()).unwrap();
    assert_eq!(issued.next_step, "settled");
}

#[test]
fn a_payment_must_say_how_it_was_paid() {
    let in_review = in_review();
    let mut pay = command("record-payment", Role::Officer);
    pay.payload_json = r#"{ "receipt": "BL-1" }"#.into();
    let refusal = decide_command(&in_review, &pay, &Settings::default()).unwrap_err();
    assert_eq!(refusal.code, "payment-method-required");
}

#[test]
fn refusing_at_intake_needs_a_reason() {
    let refusal = decide_command(
        &submitted(),
        &command("refuse", Role::Officer),
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(refusal.code, "note-required");
}
