//! Native tests of the land-use certificate rules: `check` (the form, the documents,
//! the fee computation) and `decide` (the workflow, the fees, the inspection).

use super::*;
use motcua_sdk::testing::{command, document, dossier, submission};

mod check;
mod decide;

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
