//! Validation of per-unit settings against the JSON Schema a plugin declares.
//!
//! Settings schemas are small and flat, so motcua implements the subset they use
//! rather than a whole JSON Schema engine: `type` (object, boolean, integer, number,
//! string, array, null, or a list of them), `properties`, `required`,
//! `additionalProperties: false`, `enum`, `minimum`, `maximum`, `minLength`,
//! `maxLength`, `pattern` is not supported and is ignored, `items`. Every error is
//! reported with the path of the value it is about.

use serde_json::Value;

/// Checks `value` against `schema`; returns every problem found.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(schema, value, "settings", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    let actual = type_name(value);
    actual == expected || (expected == "number" && actual == "integer")
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(expected) = schema.get("type") {
        let allowed: Vec<&str> = match expected {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|expected| type_matches(expected, value)) {
            errors.push(format!(
                "{path} must be {}, not {}",
                allowed.join(" or "),
                type_name(value)
            ));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!(
                "{path} must be one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    if let Some(number) = value.as_f64() {
        if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64) {
            if number < minimum {
                errors.push(format!("{path} must be at least {minimum}"));
            }
        }
        if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64) {
            if number > maximum {
                errors.push(format!("{path} must be at most {maximum}"));
            }
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|min| length < min)
        {
            errors.push(format!("{path} is too short"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|max| length > max)
        {
            errors.push(format!("{path} is too long"));
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (index, item) in array.iter().enumerate() {
            check(items, item, &format!("{path}[{index}]"), errors);
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                errors.push(format!("{path}.{name} is required"));
            }
        }
        for (name, item) in object {
            match properties.and_then(|properties| properties.get(name)) {
                Some(property) => check(property, item, &format!("{path}.{name}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}.{name} is not a setting of this procedure"));
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::json;

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "registration_fee_vnd": { "type": "integer", "minimum": 0 },
                "online_fee_exempt": { "type": "boolean" },
                "mode": { "enum": ["a", "b"] }
            },
            "additionalProperties": false
        })
    }

    #[test]
    fn accepts_fitting_settings() {
        assert_eq!(
            validate(
                &schema(),
                &json!({ "registration_fee_vnd": 50000, "online_fee_exempt": true })
            ),
            Ok(())
        );
        assert_eq!(validate(&schema(), &json!({})), Ok(()));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let errors = validate(&schema(), &json!({ "registration_fee_vnd": -1, "online_fee_exempt": "yes", "colour": 1, "mode": "c" }))
            .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e == "settings.registration_fee_vnd must be at least 0")
        );
        assert!(
            errors
                .iter()
                .any(|e| e == "settings.online_fee_exempt must be boolean, not string")
        );
        assert!(
            errors
                .iter()
                .any(|e| e == "settings.colour is not a setting of this procedure")
        );
        assert!(validate(&schema(), &json!([1])).is_err());
    }
}
