//! Reading the JSON the host passes in: application forms, command payloads, settings.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::builders::{Findings, finding, refuse};
use crate::types::Refusal;

/// How many bad fields one form may report before the parser gives up; each retry
/// deserializes the whole form again, so this bounds the work a hostile form causes.
const MAX_FORM_PROBLEMS: usize = 32;

/// Parses an application form into `T`, reporting every field that has the wrong shape
/// as a blocking finding that points at it (`form.child.birth_date`,
/// `form.members[1].citizen_id`).
///
/// Serde stops at the first error, but a citizen should hear about every problem at
/// once. So on an error the offending field is removed and the form parsed again, until
/// it parses; give every struct in `T` `#[serde(default)]` so that a removed or absent
/// field falls back to its default, and check contents (non-empty, valid ID) afterwards
/// through the same [`Findings`], which hides repeated findings about one field.
///
/// Returns `None` only when the form is not a JSON object at all, or when `T` cannot
/// be built even after removing the bad fields.
pub fn parse_form<T: DeserializeOwned>(form_json: &str, findings: &mut Findings) -> Option<T> {
    let mut form: Value = match serde_json::from_str(form_json) {
        Ok(value) => value,
        Err(problem) => {
            findings.push(finding(
                "form",
                "invalid-json",
                format!("Tờ khai không phải JSON hợp lệ: {problem}."),
            ));
            return None;
        }
    };
    if !form.is_object() {
        findings.push(finding(
            "form",
            "invalid-type",
            "Tờ khai phải là một đối tượng JSON.",
        ));
        return None;
    }
    for _ in 0..MAX_FORM_PROBLEMS {
        let problem = match serde_path_to_error::deserialize::<_, T>(&form) {
            Ok(parsed) => return Some(parsed),
            Err(problem) => problem,
        };
        let segments: Vec<&serde_path_to_error::Segment> = problem.path().iter().collect();
        let mut target = String::from("form");
        for segment in &segments {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    target.push_str(&format!("[{index}]"));
                }
                serde_path_to_error::Segment::Map { key } => {
                    target.push('.');
                    target.push_str(key);
                }
                serde_path_to_error::Segment::Enum { variant } => {
                    target.push('.');
                    target.push_str(variant);
                }
                serde_path_to_error::Segment::Unknown => target.push_str(".?"),
            }
        }
        let detail = problem.inner().to_string();
        // A field without `#[serde(default)]` that is absent: serde reports it at the
        // parent, so point the finding at the field itself.
        if let Some(field) = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            findings.push(finding(
                format!("{target}.{field}"),
                "required",
                "Thiếu thông tin bắt buộc.",
            ));
        } else {
            findings.push(finding(
                target,
                "invalid-type",
                format!("Giá trị không đúng kiểu: {detail}."),
            ));
        }
        if !remove_field(&mut form, &segments) {
            return None;
        }
    }
    None
}

/// Removes the innermost object member on `path` (a list element cannot be removed
/// without renumbering its siblings, so the whole list goes). Returns false when there
/// is nothing left to remove, which ends the retries.
fn remove_field(form: &mut Value, path: &[&serde_path_to_error::Segment]) -> bool {
    let Some(last_key) = path
        .iter()
        .rposition(|segment| matches!(segment, serde_path_to_error::Segment::Map { .. }))
    else {
        return false;
    };
    let mut node = form;
    for segment in &path[..last_key] {
        let next = match segment {
            serde_path_to_error::Segment::Map { key } => node.get_mut(key.as_str()),
            serde_path_to_error::Segment::Seq { index } => node.get_mut(*index),
            _ => None,
        };
        match next {
            Some(child) => node = child,
            None => return false,
        }
    }
    let serde_path_to_error::Segment::Map { key } = path[last_key] else {
        return false;
    };
    node.as_object_mut()
        .and_then(|object| object.remove(key.as_str()))
        .is_some()
}

/// Parses a command payload, treating an empty text as `{}`.
///
/// A malformed payload is the client's mistake, so it becomes a refusal with code
/// `"invalid-payload"` that the host shows to the caller.
pub fn parse_payload<T: DeserializeOwned>(payload_json: &str) -> Result<T, Refusal> {
    let text = if payload_json.trim().is_empty() {
        "{}"
    } else {
        payload_json
    };
    serde_json::from_str(text).map_err(|problem| {
        refuse(
            "invalid-payload",
            format!("Dữ liệu kèm theo thao tác không hợp lệ: {problem}."),
        )
    })
}

/// Parses the unit's settings JSON, treating an empty text as `{}`.
///
/// Give `T` `#[serde(default)]` and a `Default` with the statutory values, so that a
/// unit that never set anything gets them; derive [`JsonSchema`](crate::JsonSchema) on
/// it and [`settings_schema_json`](crate::schema::settings_schema_json) declares the same
/// defaults to the host.
pub fn parse_settings<T: DeserializeOwned>(settings_json: &str) -> Result<T, serde_json::Error> {
    let text = if settings_json.trim().is_empty() {
        "{}"
    } else {
        settings_json
    };
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Form {
        name: String,
        person: Person,
        lines: Vec<String>,
        count: i64,
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Person {
        full_name: String,
        citizen_id: String,
    }

    #[derive(Deserialize, Debug)]
    struct Strict {
        #[allow(dead_code, reason = "only its absence matters")]
        needed: String,
    }

    fn targets(findings: &Findings) -> Vec<(String, String)> {
        findings
            .as_slice()
            .iter()
            .map(|f| (f.target.clone(), f.code.clone()))
            .collect()
    }

    #[test]
    fn a_good_form_parses_with_defaults_for_absent_fields() {
        let mut findings = Findings::new();
        let form: Form =
            parse_form(r#"{"name":"A","person":{"full_name":"B"}}"#, &mut findings).unwrap();
        assert_eq!(form.person.full_name, "B");
        assert_eq!(form.count, 0);
        assert!(findings.as_slice().is_empty());
    }

    #[test]
    fn every_badly_typed_field_is_reported_at_its_path() {
        let mut findings = Findings::new();
        let form: Form = parse_form(
            r#"{"name":5,"person":{"full_name":"B","citizen_id":7},"lines":["a",3],"count":"x"}"#,
            &mut findings,
        )
        .unwrap();
        // serde_json keeps object members sorted by key, so the order is alphabetical.
        assert_eq!(
            targets(&findings),
            [
                ("form.count".to_string(), "invalid-type".to_string()),
                ("form.lines[1]".to_string(), "invalid-type".to_string()),
                ("form.name".to_string(), "invalid-type".to_string()),
                (
                    "form.person.citizen_id".to_string(),
                    "invalid-type".to_string()
                ),
            ]
        );
        // The bad fields fell back to their defaults; the good ones survived.
        assert_eq!(form.person.full_name, "B");
        assert!(form.lines.is_empty());
        // A later content check on a reported field is not repeated.
        findings.require_text("form.name", &form.name, "tên");
        assert_eq!(findings.as_slice().len(), 4);
    }

    #[test]
    fn missing_fields_point_at_the_field() {
        let mut findings = Findings::new();
        assert!(parse_form::<Strict>("{}", &mut findings).is_none());
        assert_eq!(
            targets(&findings),
            [("form.needed".to_string(), "required".to_string())]
        );
    }

    #[test]
    fn a_form_that_is_not_an_object_is_one_finding() {
        for text in ["", "nope", "[1,2]", "null"] {
            let mut findings = Findings::new();
            assert!(parse_form::<Form>(text, &mut findings).is_none());
            assert_eq!(findings.as_slice().len(), 1, "{text:?}");
            assert_eq!(findings.as_slice()[0].target, "form");
        }
    }

    #[test]
    fn payloads_default_to_an_empty_object() {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Payload {
            receipt: String,
        }
        assert_eq!(parse_payload::<Payload>("").unwrap().receipt, "");
        assert_eq!(
            parse_payload::<Payload>(r#"{"receipt":"R1"}"#)
                .unwrap()
                .receipt,
            "R1"
        );
        assert_eq!(
            parse_payload::<Payload>("{").err().unwrap().code,
            "invalid-payload"
        );
    }

    #[test]
    fn settings_use_defaults_when_unset() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(default)]
        struct Settings {
            days: u32,
        }
        impl Default for Settings {
            fn default() -> Self {
                Settings { days: 60 }
            }
        }
        assert_eq!(
            parse_settings::<Settings>("{}").unwrap(),
            Settings { days: 60 }
        );
        assert_eq!(
            parse_settings::<Settings>("").unwrap(),
            Settings { days: 60 }
        );
        assert_eq!(
            parse_settings::<Settings>(r#"{"days":5}"#).unwrap(),
            Settings { days: 5 }
        );
        assert!(parse_settings::<Settings>(r#"{"days":-1}"#).is_err());
    }
}
