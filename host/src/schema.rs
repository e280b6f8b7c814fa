//! JSON Schema checks of what a plugin declares: a unit's settings against the build's
//! settings schema (whenever the registry binds settings to a build), and a filing's
//! form against the build's form schema (at filing, before the plugin's `check`).
//!
//! One maintained engine does both: the `jsonschema` crate, at the draft a schema names
//! in `$schema` (2020-12 when it names none). It fetches nothing: a schema refers only
//! to itself. A build's two schemas are compiled once, when the build is loaded
//! ([`crate::runtime::PluginBuild`]), and a schema that does not compile is a
//! malformed build. Problems are reported by the place in the value they are about,
//! one entry per place, so an applicant or an admin sees every problem at once.

use std::collections::BTreeMap;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use crate::domain::{Finding, Severity};

/// A compiled schema.
#[derive(Debug)]
pub struct Compiled(jsonschema::Validator);

/// What is wrong at one place of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The place, as a finding names it: `form.child.birth_date`, `form.children[0].name`
    /// (the top's name, then a `.name` per object member and `[i]` per list item).
    pub target: String,
    /// The keywords broken there, first one first (`required`, `type`, `minimum`, ...).
    pub keywords: Vec<String>,
    /// One sentence per keyword, naming the place.
    pub messages: Vec<String>,
}

impl Compiled {
    /// Compiles `schema`; the error says what is wrong with it.
    pub fn new(schema: &Value) -> Result<Compiled, String> {
        jsonschema::options()
            // `format` is an assertion here, as a plugin author means it: a form's
            // `"format": "date"` refuses "31/02/2026". Formats it does not know pass.
            .should_validate_formats(true)
            .build(schema)
            .map(Compiled)
            .map_err(|error| error.to_string())
    }

    /// Every place of `value` (named `top`) that does not fit, in the order of the
    /// places. A missing member is reported at the member, an unexpected one at itself.
    pub fn violations(&self, value: &Value, top: &str) -> Vec<Violation> {
        let mut places: BTreeMap<String, Violation> = BTreeMap::new();
        for error in self.0.iter_errors(value) {
            let mut target = top.to_string();
            for segment in error.instance_path().iter() {
                match segment {
                    LocationSegment::Property(name) => {
                        target.push('.');
                        target.push_str(&name);
                    }
                    LocationSegment::Index(index) => target.push_str(&format!("[{index}]")),
                }
            }
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_string);
                    let at = format!("{target}.{name}");
                    let message = format!("{at} is required");
                    add(&mut places, at, "required", message);
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for name in unexpected {
                        let at = format!("{target}.{name}");
                        let message = format!("{at} is not expected here");
                        add(&mut places, at, "additionalProperties", message);
                    }
                }
                kind => {
                    let message = error.masked_with(target.as_str()).to_string();
                    add(&mut places, target, kind.keyword(), message);
                }
            }
        }
        places.into_values().collect()
    }

    /// Checks settings: every problem as one sentence ("settings.fee_vnd is less than
    /// the minimum of 0").
    pub fn check_settings(&self, settings: &Value) -> Result<(), Vec<String>> {
        let problems: Vec<String> = self
            .violations(settings, "settings")
            .into_iter()
            .flat_map(|violation| violation.messages)
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Checks a filed form: one blocking finding per place that does not fit, with the
    /// codes plugins use for the same problems (`required`, `invalid-type`, ...).
    pub fn form_findings(&self, form: &Value) -> Vec<Finding> {
        self.violations(form, "form")
            .into_iter()
            .map(|violation| {
                let (code, lead) = finding_code(&violation.keywords[0]);
                Finding {
                    target: violation.target,
                    code: code.into(),
                    message: format!("{lead} ({}).", violation.messages.join("; ")),
                    severity: Severity::Blocking,
                }
            })
            .collect()
    }
}

/// The host's findings on a form's schema followed by the plugin's, less the plugin's
/// about a place the host already reported or a place inside it (a plugin that parses
/// a form tolerantly reports a mistyped field too): every problem of a filing at once, one per place.
pub fn with_plugin_findings(host: Vec<Finding>, plugin: Vec<Finding>) -> Vec<Finding> {
    let mut all = host;
    let reported = all.len();
    for finding in plugin {
        let covered = all[..reported].iter().any(|host| {
            finding.target == host.target
                || finding
                    .target
                    .strip_prefix(host.target.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        });
        if !covered {
            all.push(finding);
        }
    }
    all
}

/// A finding's code and the sentence an applicant reads, by the keyword broken.
fn finding_code(keyword: &str) -> (&'static str, &'static str) {
    match keyword {
        "required" => ("required", "Thiếu thông tin bắt buộc"),
        "type" => ("invalid-type", "Giá trị không đúng kiểu"),
        "additionalProperties" | "unevaluatedProperties" => {
            ("unknown-field", "Tờ khai không có trường này")
        }
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
            ("out-of-range", "Giá trị nằm ngoài giới hạn cho phép")
        }
        "minLength" | "minItems" | "minProperties" => ("too-short", "Giá trị quá ngắn"),
        "maxLength" | "maxItems" | "maxProperties" => ("too-long", "Giá trị quá dài"),
        "pattern" | "format" => ("invalid-format", "Giá trị không đúng định dạng"),
        "enum" | "const" => ("not-allowed", "Giá trị không thuộc các lựa chọn cho phép"),
        _ => ("invalid", "Giá trị không hợp lệ"),
    }
}

fn add(places: &mut BTreeMap<String, Violation>, target: String, keyword: &str, message: String) {
    let place = places
        .entry(target.clone())
        .or_insert_with(|| Violation {
            target,
            keywords: Vec::new(),
            messages: Vec::new(),
        });
    if !place.keywords.iter().any(|known| known == keyword) {
        place.keywords.push(keyword.to_string());
    }
    if !place.messages.contains(&message) {
        place.messages.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::Compiled;
    use crate::domain::Severity;
    use serde_json::json;

    fn settings_schema() -> Compiled {
        Compiled::new(&json!({
            "type": "object",
            "properties": {
                "registration_fee_vnd": { "type": "integer", "minimum": 0 },
                "online_fee_exempt": { "type": "boolean" },
                "mode": { "enum": ["a", "b"] }
            },
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn accepts_fitting_settings() {
        let schema = settings_schema();
        assert_eq!(
            schema.check_settings(&json!({ "registration_fee_vnd": 50000, "online_fee_exempt": true })),
            Ok(())
        );
        assert_eq!(schema.check_settings(&json!({})), Ok(()));
    }

    #[test]
    fn reports_every_settings_problem_with_its_path() {
        let errors = settings_schema()
            .check_settings(&json!({ "registration_fee_vnd": -1, "online_fee_exempt": "yes", "colour": 1, "mode": "c" }))
            .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        for expected in [
            "settings.registration_fee_vnd is less than the minimum of 0",
            r#"settings.online_fee_exempt is not of type "boolean""#,
            "settings.colour is not expected here",
        ] {
            assert!(errors.iter().any(|e| e == expected), "{expected}: {errors:?}");
        }
        assert!(errors.iter().any(|e| e.starts_with("settings.mode ")), "{errors:?}");
        assert!(settings_schema().check_settings(&json!([1])).is_err());
    }

    #[test]
    fn one_finding_per_field_of_a_form() {
        let form = Compiled::new(&json!({
            "type": "object",
            "required": ["child", "copies"],
            "properties": {
                "child": {
                    "type": "object",
                    "required": ["full_name", "birth_date"],
                    "properties": {
                        "full_name": { "type": "string", "minLength": 2, "maxLength": 100, "pattern": "^[^0-9]*$" },
                        "birth_date": { "type": "string", "format": "date" }
                    }
                },
                "copies": { "type": "integer", "minimum": 1, "maximum": 10 },
                "witnesses": { "type": "array", "items": { "type": "object", "required": ["name"] } }
            }
        }))
        .unwrap();
        let findings = form.form_findings(&json!({
            "child": { "full_name": "7" },
            "witnesses": [{ "name": "An" }, {}]
        }));
        let listed: Vec<(&str, &str)> = findings
            .iter()
            .map(|finding| (finding.target.as_str(), finding.code.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("form.child.birth_date", "required"),
                // Too short and a digit: one finding, both reasons in its message.
                ("form.child.full_name", "too-short"),
                ("form.copies", "required"),
                ("form.witnesses[1].name", "required"),
            ]
        );
        let name = &findings[1];
        assert!(name.message.contains("shorter than 2"), "{}", name.message);
        assert!(name.message.contains("does not match"), "{}", name.message);
        assert!(findings.iter().all(|f| f.severity == Severity::Blocking));
        assert!(form
            .form_findings(&json!({ "child": { "full_name": "An", "birth_date": "2026-01-02" }, "copies": 2 }))
            .is_empty());
    }

    #[test]
    fn the_plugin_adds_what_the_host_did_not_report() {
        let finding = |target: &str, code: &str| crate::domain::Finding {
            target: target.into(),
            code: code.into(),
            message: String::new(),
            severity: Severity::Blocking,
        };
        let merged = super::with_plugin_findings(
            vec![finding("form.child", "invalid-type")],
            vec![
                finding("form.child", "invalid-type"),
                finding("form.child.full_name", "required"),
                finding("form.children[0]", "required"),
                finding("documents.birth-proof", "document-missing"),
            ],
        );
        let targets: Vec<&str> = merged.iter().map(|f| f.target.as_str()).collect();
        assert_eq!(targets, ["form.child", "form.children[0]", "documents.birth-proof"]);
    }

    #[test]
    fn a_schema_that_is_not_one_is_named() {
        let error = Compiled::new(&json!({ "type": "no-such-type" })).unwrap_err();
        assert!(!error.is_empty());
    }
}
