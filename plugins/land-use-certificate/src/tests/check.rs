//! `check`, the land use fee computation, and the derived schemas.

use super::*;

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
