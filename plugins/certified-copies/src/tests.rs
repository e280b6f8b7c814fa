use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

fn form(pages: u32, copies: u32) -> String {
    format!(
        r#"{{"document_title": "Giấy khai sinh", "issued_by": "UBND phường Xuân Hòa", "pages": {pages}, "copies": {copies}}}"#
    )
}

fn complete_documents() -> Vec<Document> {
    vec![document("original-document"), document("citizen-id-card")]
}

fn requested_fee(pages: u32, copies: u32) -> Option<u64> {
    let filed = submission(CODE, &form(pages, copies), complete_documents());
    let decided = decide_command(
        &dossier(&filed, "submitted", Status::Submitted),
        &command("receive", Role::Officer),
    )
    .expect("receive is accepted");
    decided.effects.iter().find_map(|effect| match effect {
        Effect::RequestFee(request) => {
            assert_eq!(request.code, certification_fee().code);
            Some(request.amount_vnd)
        }
        _ => None,
    })
}

#[test]
fn receive_asks_for_the_tiered_fee_capped_per_copy() {
    assert_eq!(requested_fee(1, 1), Some(2_000));
    assert_eq!(requested_fee(2, 1), Some(4_000));
    assert_eq!(requested_fee(3, 1), Some(5_000));
    assert_eq!(requested_fee(198, 1), Some(200_000));
    assert_eq!(requested_fee(250, 1), Some(200_000));
    assert_eq!(requested_fee(3, 4), Some(20_000));
}

#[test]
fn the_declared_schedule_is_the_one_charged() {
    let info = procedure_info();
    assert_eq!(info.fees, vec![certification_fee()]);
    assert!(info.form_schema.contains("\"pages\""));
    assert!(info.form_schema.contains("\"copies\""));
}

#[test]
fn a_large_order_is_a_warning_at_the_unit_threshold() {
    let settings = Settings {
        large_order_copies: 5,
    };
    let findings = check_submission(
        &submission(CODE, &form(2, 6), complete_documents()),
        &settings,
    );
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].code, "large-order");
    assert!(!findings[0].is_blocking());
    assert_eq!(
        check_submission(
            &submission(CODE, &form(2, 5), complete_documents()),
            &settings
        ),
        []
    );
}

#[test]
fn a_missing_original_blocks() {
    let findings = check_submission(
        &submission(CODE, &form(1, 1), vec![document("citizen-id-card")]),
        &Settings::default(),
    );
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].target, "documents.original");
}

#[test]
fn certifying_waits_for_the_fee() {
    let filed = submission(CODE, &form(3, 1), complete_documents());
    let mut owing = dossier(&filed, "certifying", Status::Processing);
    owing.fees_requested_vnd = 5_000;
    let refused = decide_command(&owing, &command("certify", Role::Leader)).unwrap_err();
    assert_eq!(refused.code, "fee-unpaid");
    owing.fees_paid_vnd = 5_000;
    let certified = decide_command(&owing, &command("certify", Role::Leader)).unwrap();
    assert_eq!(certified.next_step, "settled");
}

#[test]
fn refusing_needs_a_reason() {
    let filed = submission(CODE, &form(1, 1), complete_documents());
    let refused = decide_command(
        &dossier(&filed, "submitted", Status::Submitted),
        &command("refuse", Role::Officer),
    )
    .unwrap_err();
    assert_eq!(refused.code, "note-required");
}
