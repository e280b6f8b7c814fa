//! A filing form generated from a plugin's form JSON Schema: titles, required fields,
//! enums, dates, patterns, nested objects and optional parts; and the posted fields read
//! back into the form's JSON. Field names are the paths the plugin's findings point to
//! (`form.child.full_name`), so a finding lands at its field.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// One field of the generated form.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The input's name: the finding target (`form.child.birth_date`).
    pub name: String,
    pub title: String,
    pub hint: Option<String>,
    pub required: bool,
    pub kind: FieldKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Text {
        pattern: Option<String>,
        min_length: Option<u64>,
        max_length: Option<u64>,
    },
    Date,
    Integer {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Number {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Boolean,
    Choice(Vec<String>),
    /// A group of fields; `optional` groups are declared with a checkbox
    /// (`<name>.present`) and left out (null) when it is not ticked.
    Group {
        fields: Vec<Field>,
        optional: bool,
    },
}

/// The fields of a form schema's top-level object, named under `prefix` (`form`).
pub fn fields(schema: &Value, prefix: &str) -> Vec<Field> {
    object_fields(schema, prefix)
}

fn object_fields(schema: &Value, prefix: &str) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(key, property)| field(key, property, prefix, required.contains(&key.as_str())))
        .collect()
}

/// The JSON types a schema allows (`"type": "string"` or `["object", "null"]`).
fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn field(key: &str, schema: &Value, prefix: &str, listed_required: bool) -> Field {
    let name = format!("{prefix}.{key}");
    let types = types(schema);
    let nullable = types.contains(&"null");
    let title = schema["title"].as_str().unwrap_or(key).to_string();
    let hint = schema["description"]
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_string);
    let number = |key: &str| schema[key].as_f64();
    let kind = if types.contains(&"object") || schema["properties"].is_object() {
        FieldKind::Group {
            fields: object_fields(schema, &name),
            optional: nullable || !listed_required,
        }
    } else if let Some(values) = schema["enum"].as_array() {
        FieldKind::Choice(
            values
                .iter()
                .filter_map(|value| value.as_str().map(str::to_string))
                .collect(),
        )
    } else if types.contains(&"boolean") {
        FieldKind::Boolean
    } else if types.contains(&"integer") {
        FieldKind::Integer {
            minimum: number("minimum"),
            maximum: number("maximum"),
        }
    } else if types.contains(&"number") {
        FieldKind::Number {
            minimum: number("minimum"),
            maximum: number("maximum"),
        }
    } else if schema["format"] == "date" {
        FieldKind::Date
    } else {
        FieldKind::Text {
            pattern: schema["pattern"].as_str().map(str::to_string),
            min_length: schema["minLength"].as_u64(),
            max_length: schema["maxLength"].as_u64(),
        }
    };
    Field {
        name,
        title,
        hint,
        required: listed_required && !nullable,
        kind,
    }
}

/// The form's JSON from posted values (`name → value`). An empty input is left out, so
/// a missing required field is the plugin's finding at that field, not a guess here;
/// a number that does not parse is kept as text for the same reason.
pub fn read(fields: &[Field], posted: &HashMap<String, String>) -> Value {
    let mut object = Map::new();
    for field in fields {
        let key = field
            .name
            .rsplit('.')
            .next()
            .unwrap_or(&field.name)
            .to_string();
        let value = posted.get(&field.name).map(|text| text.trim());
        let read = match &field.kind {
            FieldKind::Group { fields, optional } => {
                let present = !optional
                    || posted
                        .get(&format!("{}.present", field.name))
                        .is_some_and(|value| !value.is_empty());
                if present {
                    Some(read(fields, posted))
                } else {
                    None
                }
            }
            FieldKind::Boolean => Some(Value::Bool(value.is_some_and(|v| !v.is_empty()))),
            _ if value.is_none_or(str::is_empty) => None,
            FieldKind::Integer { .. } => value.map(|text| {
                text.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(text.to_string()))
            }),
            FieldKind::Number { .. } => value.map(|text| {
                text.replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(text.to_string()))
            }),
            _ => value.map(|text| Value::String(text.to_string())),
        };
        if let Some(read) = read {
            object.insert(key, read);
        }
    }
    Value::Object(object)
}

/// The posted values [`read`] turns back into `value`: a form prefilled from JSON (a
/// unit's current settings). A true boolean is a ticked box, a false one is left out
/// (an unticked box posts nothing); a group that `value` holds is declared present.
pub fn values(fields: &[Field], value: &Value) -> HashMap<String, String> {
    let mut posted = HashMap::new();
    fill(fields, value, &mut posted);
    posted
}

fn fill(fields: &[Field], value: &Value, posted: &mut HashMap<String, String>) {
    for field in fields {
        let key = field.name.rsplit('.').next().unwrap_or(&field.name);
        let Some(item) = value.get(key) else {
            continue;
        };
        match (&field.kind, item) {
            (FieldKind::Group { fields, .. }, Value::Object(_)) => {
                posted.insert(format!("{}.present", field.name), "on".into());
                fill(fields, item, posted);
            }
            (FieldKind::Group { .. }, _) | (_, Value::Null) => {}
            (FieldKind::Boolean, Value::Bool(true)) => {
                posted.insert(field.name.clone(), "on".into());
            }
            (FieldKind::Boolean, _) => {}
            (_, Value::String(text)) => {
                posted.insert(field.name.clone(), text.clone());
            }
            (_, other) => {
                posted.insert(field.name.clone(), other.to_string());
            }
        }
    }
}

/// Each field's `default` from the schema, by field name (`settings.fee`), for the
/// fields of [`fields`]`(schema, prefix)` that declare one.
pub fn defaults(schema: &Value, prefix: &str) -> HashMap<String, Value> {
    let mut found = HashMap::new();
    collect_defaults(schema, prefix, &mut found);
    found
}

fn collect_defaults(schema: &Value, prefix: &str, found: &mut HashMap<String, Value>) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (key, property) in properties {
        let name = format!("{prefix}.{key}");
        if let Some(default) = property.get("default") {
            found.insert(name.clone(), default.clone());
        }
        collect_defaults(property, &name, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["child", "relationship"],
            "properties": {
                "relationship": { "type": "string", "title": "Quan hệ", "minLength": 1 },
                "child": {
                    "type": "object", "title": "Người được khai sinh",
                    "required": ["sex", "birth_date"],
                    "properties": {
                        "sex": { "type": "string", "enum": ["male", "female"], "title": "Giới tính" },
                        "birth_date": { "type": "string", "format": "date", "title": "Ngày sinh" },
                        "weight_kg": { "type": "number", "minimum": 0 }
                    }
                },
                "father": {
                    "type": ["object", "null"], "title": "Người cha",
                    "required": ["citizen_id"],
                    "properties": { "citizen_id": { "type": "string", "pattern": "^[0-9]{12}$" } }
                },
                "copies": { "type": "integer", "minimum": 1 }
            }
        })
    }

    #[test]
    fn fields_follow_the_schema() {
        let fields = fields(&schema(), "form");
        let child = fields.iter().find(|f| f.name == "form.child").unwrap();
        let FieldKind::Group {
            fields: inner,
            optional,
        } = &child.kind
        else {
            panic!("child is a group")
        };
        assert!(!optional && child.required);
        let sex = inner.iter().find(|f| f.name == "form.child.sex").unwrap();
        assert_eq!(
            sex.kind,
            FieldKind::Choice(vec!["male".into(), "female".into()])
        );
        assert!(sex.required);
        let date = inner
            .iter()
            .find(|f| f.name == "form.child.birth_date")
            .unwrap();
        assert_eq!(date.kind, FieldKind::Date);
        let weight = inner
            .iter()
            .find(|f| f.name == "form.child.weight_kg")
            .unwrap();
        assert!(!weight.required);
        let father = fields.iter().find(|f| f.name == "form.father").unwrap();
        assert!(matches!(
            father.kind,
            FieldKind::Group { optional: true, .. }
        ));
        let FieldKind::Group { fields: inner, .. } = &father.kind else {
            unreachable!()
        };
        assert_eq!(
            inner[0].kind,
            FieldKind::Text {
                pattern: Some("^[0-9]{12}$".into()),
                min_length: None,
                max_length: None
            }
        );
    }

    #[test]
    fn json_becomes_posted_values_that_read_back_the_same() {
        let fields = fields(&schema(), "form");
        let value = json!({
            "relationship": "mẹ",
            "child": { "sex": "female", "weight_kg": 3.2 },
            "father": { "citizen_id": "025188004321" },
            "copies": 2
        });
        let posted = values(&fields, &value);
        assert_eq!(posted["form.copies"], "2");
        assert_eq!(posted["form.father.present"], "on");
        assert_eq!(read(&fields, &posted), value);
        let flags = json!({
            "type": "object",
            "properties": {
                "exempt": { "type": "boolean", "default": false },
                "fee": { "type": "integer", "minimum": 0, "default": 100000 }
            }
        });
        let flag_fields = super::fields(&flags, "settings");
        let on = values(&flag_fields, &json!({ "exempt": true, "fee": 0 }));
        assert_eq!(on.get("settings.exempt").map(String::as_str), Some("on"));
        assert_eq!(on.get("settings.fee").map(String::as_str), Some("0"));
        let off = values(&flag_fields, &json!({ "exempt": false }));
        assert!(!off.contains_key("settings.exempt") && !off.contains_key("settings.fee"));
        assert_eq!(
            defaults(&flags, "settings"),
            HashMap::from([
                ("settings.exempt".to_string(), json!(false)),
                ("settings.fee".to_string(), json!(100000))
            ])
        );
    }

    #[test]
    fn posted_values_become_the_form_json() {
        let fields = fields(&schema(), "form");
        let posted: HashMap<String, String> = [
            ("form.relationship", " mẹ "),
            ("form.child.sex", "female"),
            ("form.child.birth_date", ""),
            ("form.child.weight_kg", "3,2"),
            ("form.father.citizen_id", "025188004321"),
            ("form.copies", "hai"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            read(&fields, &posted),
            json!({
                "relationship": "mẹ",
                // Empty: left out, for the plugin to report at its field.
                "child": { "sex": "female", "weight_kg": 3.2 },
                // Not a number: kept as text, for the plugin to report.
                "copies": "hai"
            })
        );
        let mut with_father = posted.clone();
        with_father.insert("form.father.present".into(), "on".into());
        assert_eq!(
            read(&fields, &with_father)["father"],
            json!({ "citizen_id": "025188004321" })
        );
    }
}
