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

use jsonschema::JsonType;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use crate::domain::{Finding, Severity};

/// A compiled schema, with the schema itself for the titles of its fields.
#[derive(Debug)]
pub struct Compiled {
    validator: jsonschema::Validator,
    schema: Value,
}

/// What is wrong at one place of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The place, as a finding names it: `form.child.birth_date`, `form.children[0].name`
    /// (the top's name, then a `.name` per object member and `[i]` per list item).
    pub target: String,
    /// The keywords broken there, first one first (`required`, `type`, `minimum`, ...).
    pub keywords: Vec<String>,
    /// One sentence per keyword, naming the place (for the API and the CLI).
    pub messages: Vec<String>,
    /// The same in Vietnamese, naming the field by its schema `title` (for people).
    pub said: Vec<String>,
    /// The title of the part of the value the place is in ("Người được khai sinh"),
    /// when it is nested in one: the applicant's and the child's names may share a title.
    pub part: Option<String>,
}

impl Violation {
    /// Everything wrong at the place, in Vietnamese, in one text for people:
    /// "Người được khai sinh: chưa nhập họ, chữ đệm và tên."
    pub fn sentence(&self) -> String {
        let said = self.said.join(" ");
        match &self.part {
            Some(part) => format!("{part}: {}", lower_first(&said)),
            None => said,
        }
    }
}

impl Compiled {
    /// Compiles `schema`; the error says what is wrong with it.
    pub fn new(schema: &Value) -> Result<Compiled, String> {
        jsonschema::options()
            // `format` is an assertion here, as a plugin author means it: a form's
            // `"format": "date"` refuses "31/02/2026". Formats it does not know pass.
            .should_validate_formats(true)
            .build(schema)
            .map(|validator| Compiled {
                validator,
                schema: schema.clone(),
            })
            .map_err(|error| error.to_string())
    }

    /// Every place of `value` (named `top`) that does not fit, in the order of the
    /// places. A missing member is reported at the member, an unexpected one at itself.
    pub fn violations(&self, value: &Value, top: &str) -> Vec<Violation> {
        let mut places: BTreeMap<String, Violation> = BTreeMap::new();
        for error in self.validator.iter_errors(value) {
            let mut target = top.to_string();
            let mut at = &self.schema;
            // The schemas of the objects and lists the place is inside, top first.
            let mut inside: Vec<&Value> = Vec::new();
            for segment in error.instance_path().iter() {
                inside.push(at);
                match segment {
                    LocationSegment::Property(name) => {
                        target.push('.');
                        target.push_str(&name);
                        at = &at["properties"][name.as_ref()];
                    }
                    LocationSegment::Index(index) => {
                        target.push_str(&format!("[{index}]"));
                        at = &at["items"];
                    }
                }
            }
            // A field is named by its schema's `title`; one without a title is "this value"
            // (a page shows the sentence next to the field), a missing one by its name.
            let field = at["title"]
                .as_str()
                .map_or_else(|| "Giá trị này".to_string(), str::to_string);
            // A nested field is said with the title of the part of the form it is in
            // ("Người được khai sinh: ..."): the applicant's and the child's names may
            // share a title. The top's own title (the form's) is not a part.
            let part_of = |enclosing: Option<&&Value>| {
                enclosing
                    .and_then(|schema| schema["title"].as_str())
                    .map(str::to_string)
            };
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_string);
                    let place = format!("{target}.{name}");
                    let missing = at["properties"][name.as_str()]["title"]
                        .as_str()
                        .map_or_else(|| format!("`{name}`"), str::to_string);
                    let message = format!("{place} is required");
                    let said = format!("Chưa nhập {}.", lower_first(&missing));
                    // The missing member is inside `at` itself, unless `at` is the top.
                    let part = part_of((!inside.is_empty()).then_some(&at));
                    add(&mut places, place, part, "required", message, said);
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for name in unexpected {
                        let place = format!("{target}.{name}");
                        let (message, said) = if top == "settings" {
                            (
                                format!("{place} is not a setting of this procedure"),
                                "Không phải là thông số của thủ tục này.".to_string(),
                            )
                        } else {
                            (
                                format!("{place} is not a field of this form"),
                                format!("Tờ khai không có mục `{name}`."),
                            )
                        };
                        add(
                            &mut places,
                            place,
                            None,
                            "additionalProperties",
                            message,
                            said,
                        );
                    }
                }
                kind => {
                    let message = error.masked_with(target.as_str()).to_string();
                    let part = part_of(inside.get(1..).and_then(<[_]>::last));
                    let said = vietnamese(kind, &field);
                    add(&mut places, target, part, kind.keyword(), message, said);
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
            .map(|violation| Finding {
                code: finding_code(&violation.keywords[0]).into(),
                message: violation.sentence(),
                target: violation.target,
                severity: Severity::Blocking,
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

/// A finding's code, by the keyword broken: the SDK's codes where it has one.
fn finding_code(keyword: &str) -> &'static str {
    match keyword {
        "required" => "required",
        "type" => "invalid-type",
        "additionalProperties" | "unevaluatedProperties" => "unknown-field",
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
            "out-of-range"
        }
        "minLength" | "minItems" | "minProperties" => "too-short",
        "maxLength" | "maxItems" | "maxProperties" => "too-long",
        "pattern" | "format" => "invalid-format",
        "enum" | "const" => "not-allowed",
        _ => "invalid",
    }
}

/// What is wrong with `field` (its title), in Vietnamese.
fn vietnamese(kind: &ValidationErrorKind, field: &str) -> String {
    use ValidationErrorKind as K;
    let number = |value: &Value| value.as_f64().map_or_else(|| value.to_string(), grouped);
    match kind {
        K::MinLength { limit: 1 } | K::MinItems { limit: 1 } => {
            format!("Chưa nhập {}.", lower_first(field))
        }
        K::MinLength { limit } => format!("{field} phải có ít nhất {limit} ký tự."),
        K::MaxLength { limit } => format!("{field} không được dài quá {limit} ký tự."),
        K::MinItems { limit } => format!("{field} phải có ít nhất {limit} mục."),
        K::MaxItems { limit } => format!("{field} không được quá {limit} mục."),
        K::Minimum { limit } => format!("{field} phải lớn hơn hoặc bằng {}.", number(limit)),
        K::Maximum { limit } => format!("{field} phải nhỏ hơn hoặc bằng {}.", number(limit)),
        K::ExclusiveMinimum { limit } => format!("{field} phải lớn hơn {}.", number(limit)),
        K::ExclusiveMaximum { limit } => format!("{field} phải nhỏ hơn {}.", number(limit)),
        K::Type { kind } => {
            let names: Vec<&str> = match kind {
                TypeKind::Single(one) => vec![type_name(*one)],
                TypeKind::Multiple(many) => many.iter().map(type_name).collect(),
            };
            format!("{field} phải là {}.", names.join(" hoặc "))
        }
        K::Enum { options } => {
            let listed: Vec<String> = options
                .as_array()
                .map(|options| {
                    options
                        .iter()
                        .map(|option| {
                            option
                                .as_str()
                                .map_or_else(|| option.to_string(), str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{field} phải là một trong các giá trị: {}.",
                listed.join(", ")
            )
        }
        K::Format { format } if format == "date" => {
            format!("{field} phải là một ngày có thật, dạng YYYY-MM-DD.")
        }
        K::Format { .. } | K::Pattern { .. } => format!("{field} không đúng định dạng."),
        _ => format!("{field} không hợp lệ."),
    }
}

/// A title inside a sentence: "Họ và tên" as "họ và tên".
fn lower_first(title: &str) -> String {
    let mut chars = title.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

fn type_name(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Integer => "số nguyên",
        JsonType::Number => "số",
        JsonType::Boolean => "có/không",
        JsonType::String => "chữ",
        JsonType::Object => "một nhóm thông tin",
        JsonType::Array => "một danh sách",
        JsonType::Null => "để trống",
    }
}

/// 100000 as "100.000", the Vietnamese way; fractions as they are.
fn grouped(value: f64) -> String {
    if value.fract() != 0.0 || value.abs() >= 1e15 {
        return value.to_string();
    }
    let digits = format!("{}", value.abs() as u64);
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push('.');
        }
        out.push(digit);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

fn add(
    places: &mut BTreeMap<String, Violation>,
    target: String,
    part: Option<String>,
    keyword: &str,
    message: String,
    said: String,
) {
    let place = places.entry(target.clone()).or_insert_with(|| Violation {
        target,
        keywords: Vec::new(),
        messages: Vec::new(),
        said: Vec::new(),
        part,
    });
    if !place.keywords.iter().any(|known| known == keyword) {
        place.keywords.push(keyword.to_string());
    }
    if !place.messages.contains(&message) {
        place.messages.push(message);
    }
    if !place.said.contains(&said) {
        place.said.push(said);
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
            schema.check_settings(
                &json!({ "registration_fee_vnd": 50000, "online_fee_exempt": true })
            ),
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
            "settings.colour is not a setting of this procedure",
        ] {
            assert!(
                errors.iter().any(|e| e == expected),
                "{expected}: {errors:?}"
            );
        }
        assert!(
            errors.iter().any(|e| e.starts_with("settings.mode ")),
            "{errors:?}"
        );
        assert!(settings_schema().check_settings(&json!([1])).is_err());
    }

    #[test]
    fn one_finding_per_field_of_a_form() {
        let form = Compiled::new(&json!({
            "type": "object",
            "required": ["child", "copies"],
            "properties": {
                "child": {
                    "title": "Người được khai sinh",
                    "type": "object",
                    "required": ["full_name", "birth_date"],
                    "properties": {
                        "full_name": { "title": "Họ, chữ đệm và tên", "type": "string", "minLength": 2, "maxLength": 100, "pattern": "^[^0-9]*$" },
                        "birth_date": { "title": "Ngày sinh", "type": "string", "format": "date" }
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
        // In Vietnamese, naming the field by its title (or its name when it has none).
        // Nested fields are said with the title of the part they are in.
        assert_eq!(
            findings[0].message,
            "Người được khai sinh: chưa nhập ngày sinh."
        );
        assert_eq!(
            findings[1].message,
            "Người được khai sinh: họ, chữ đệm và tên phải có ít nhất 2 ký tự. Họ, chữ đệm và tên không đúng định dạng."
        );
        assert_eq!(findings[2].message, "Chưa nhập `copies`.");
        assert!(findings.iter().all(|f| f.severity == Severity::Blocking));
        assert!(
            form.form_findings(
                &json!({ "child": { "full_name": "An", "birth_date": "2026-01-02" }, "copies": 2 })
            )
            .is_empty()
        );
        let out_of_range = form.form_findings(
            &json!({ "child": { "full_name": "An", "birth_date": "2026-02-31" }, "copies": 100000 }),
        );
        let said: Vec<&str> = out_of_range.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            said,
            [
                "Người được khai sinh: ngày sinh phải là một ngày có thật, dạng YYYY-MM-DD.",
                "Giá trị này phải nhỏ hơn hoặc bằng 10."
            ]
        );
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
        assert_eq!(
            targets,
            ["form.child", "form.children[0]", "documents.birth-proof"]
        );
    }

    #[test]
    fn a_schema_that_is_not_one_is_named() {
        let error = Compiled::new(&json!({ "type": "no-such-type" })).unwrap_err();
        assert!(!error.is_empty());
    }
}
