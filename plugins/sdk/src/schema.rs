//! JSON Schemas of application forms and per-unit settings, derived from their Rust types.
//!
//! A plugin declares its form and its settings as serde structs and derives
//! [`JsonSchema`] on them; `describe` then answers with [`form_schema_json`] and
//! [`settings_schema_json`] of those types, so a schema can never drift from the type
//! that parses the JSON. Constraints that the type alone does not carry go in schemars
//! attributes next to the field, and doc comments become `description`s:
//!
//! ```
//! use motcua_sdk::prelude::*;
//! use serde::Deserialize;
//!
//! /// Per-unit settings.
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(default, deny_unknown_fields)]
//! struct Settings {
//!     /// Days after which a late filing is warned about.
//!     #[schemars(range(min = 1))]
//!     warning_days: u32,
//! }
//!
//! impl Default for Settings {
//!     fn default() -> Self {
//!         Settings { warning_days: 60 }
//!     }
//! }
//!
//! let schema: serde_json::Value =
//!     serde_json::from_str(&settings_schema_json::<Settings>()).unwrap();
//! assert_eq!(schema["additionalProperties"], false);
//! assert_eq!(schema["properties"]["warning_days"]["default"], 60);
//! assert_eq!(schema["properties"]["warning_days"]["minimum"], 1);
//! ```
//!
//! The derive is re-exported here and in the prelude, and finds schemars through the
//! prelude's `schemars`, so a plugin crate needs no schemars dependency of its own as
//! long as it has `use motcua_sdk::prelude::*;` in the module of the derived type.
//! Without the prelude, name the crate on the type:
//! `#[schemars(crate = "motcua_sdk::schemars")]`.
//!
//! # What the host does with them
//!
//! The host compiles both schemas when it loads the build, with a complete JSON Schema
//! engine (the `jsonschema` crate), and refuses a build whose schema does not compile.
//! It validates unit settings against the settings schema, and every filed form against
//! the form schema before it calls `check`, one finding per field that does not fit.
//! So schemars' `range`, `length`, `regex` and `extend("enum" = ...)` / `extend("format"
//! = "date")` attributes are enforced by the host: write a limit there once, and keep
//! only the rules a schema cannot express in the plugin. `title` and `description` are
//! for people and form renderers. Both functions inline every subschema (no `$ref`, no
//! `$defs`), which form renderers and the console's generated form read more easily.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

/// The JSON Schema of per-unit settings `T`, as compact JSON for `describe`'s
/// `settings-schema`.
///
/// It describes what serde accepts when it parses `T` (see [`parse_settings`] and
/// [`settings()`]): give `T` `#[serde(default)]` and a `Default` impl with the statutory
/// values, and every property is optional and carries its `default`; give it
/// `#[serde(deny_unknown_fields)]` and the schema has `additionalProperties: false`, so
/// the host refuses a setting the plugin does not know. Subschemas are inlined.
///
/// [`parse_settings`]: crate::json::parse_settings
/// [`settings()`]: crate::settings()
pub fn settings_schema_json<T: JsonSchema>() -> String {
    schema_json::<T>()
}

/// The JSON Schema of `T` as serde deserializes it, every subschema inlined, as compact
/// JSON. [`settings_schema_json`] is this function; use it directly for any other JSON
/// the host or a client should validate (a command payload, say).
pub fn schema_json<T: JsonSchema>() -> String {
    let schema = SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>();
    compact(&schema)
}

/// The schema as one line of JSON, keywords in schemars' reading order (`$schema`,
/// `title`, `description`, `type`, ... `properties`) rather than alphabetical.
fn compact(schema: &Schema) -> String {
    serde_json::to_string(schema).expect("a schema is plain JSON")
}

/// The JSON Schema of an application form `T`, as compact JSON for `describe`'s
/// `form-schema`.
///
/// A form struct has `#[serde(default)]` so that [`parse_form`] can report every bad
/// field at once, but those defaults are a parsing device, not values a citizen may
/// leave out. So this schema describes a *complete* form instead of what serde
/// tolerates:
///
/// - every field is `required`, except fields of type `Option<_>` and fields marked
///   optional with `#[schemars(skip_serializing_if = "...")]` (for instance
///   `"Vec::is_empty"` on a list the citizen may leave empty);
/// - it carries no `default` values.
///
/// Content rules the type does not show go in attributes: `#[schemars(length(min = 1))]`
/// for text that must not be blank, `range(min = ...)` for amounts, and
/// `extend("enum" = [...])` for a text field with fixed values. Subschemas are inlined.
///
/// [`parse_form`]: crate::json::parse_form
pub fn form_schema_json<T: JsonSchema>() -> String {
    let mut schema = SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        // schemars' serialize contract makes every field without `skip_serializing_if`
        // required, whatever its serde default.
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    if let Some(object) = schema.as_object_mut() {
        complete_form(object);
    }
    compact(&schema)
}

/// Drops `default`s, and takes the properties that accept `null` out of `required`, in
/// `object` and every subschema in it (inlined schemas nest only through these keywords).
fn complete_form(object: &mut Map<String, Value>) {
    for (keyword, value) in object.iter_mut() {
        let subschemas: Vec<&mut Value> = match (keyword.as_str(), value) {
            ("properties" | "$defs", Value::Object(map)) => map.values_mut().collect(),
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(list)) => {
                list.iter_mut().collect()
            }
            ("items" | "additionalProperties" | "not", one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        };
        for subschema in subschemas {
            if let Value::Object(inner) = subschema {
                complete_form(inner);
            }
        }
    }
    object.remove("default");
    let nullable: Vec<String> = object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, property)| accepts_null(property))
        .map(|(name, _)| name.clone())
        .collect();
    if let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|name| {
            !name
                .as_str()
                .is_some_and(|name| nullable.iter().any(|n| n == name))
        });
        if required.is_empty() {
            object.remove("required");
        }
    }
}

/// Whether a property's schema lets it be `null` (how schemars describes an `Option`).
fn accepts_null(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(one)) if one == "null" => return true,
        Some(Value::Array(many)) if many.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().any(accepts_null))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    fn parse(schema: &str) -> Value {
        serde_json::from_str(schema).expect("a schema is JSON")
    }

    /// Every `$ref` or `$defs` anywhere in `value`.
    fn references(value: &Value) -> usize {
        match value {
            Value::Object(object) => object
                .iter()
                .map(|(key, item)| usize::from(key == "$ref" || key == "$defs") + references(item))
                .sum(),
            Value::Array(items) => items.iter().map(references).sum(),
            _ => 0,
        }
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    struct Settings {
        /// Days before a warning.
        #[schemars(range(min = 1))]
        warning_days: u32,
        online_fee_exempt: bool,
        fee: Fee,
    }

    #[derive(Deserialize, JsonSchema, Default, serde::Serialize)]
    #[serde(default, deny_unknown_fields)]
    struct Fee {
        amount_vnd: u64,
    }

    impl Default for Settings {
        fn default() -> Self {
            Settings {
                warning_days: 60,
                online_fee_exempt: true,
                fee: Fee {
                    amount_vnd: 100_000,
                },
            }
        }
    }

    // `Settings` with one more field, and nothing else changed (a doc comment would
    // become a description).
    #[derive(Deserialize, JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    #[schemars(rename = "Settings")]
    struct SettingsPlusOne {
        /// Days before a warning.
        #[schemars(range(min = 1))]
        warning_days: u32,
        online_fee_exempt: bool,
        fee: Fee,
        /// Whether a site visit is needed.
        site_visit_required: bool,
    }

    impl Default for SettingsPlusOne {
        fn default() -> Self {
            let base = Settings::default();
            SettingsPlusOne {
                warning_days: base.warning_days,
                online_fee_exempt: base.online_fee_exempt,
                fee: base.fee,
                site_visit_required: false,
            }
        }
    }

    #[test]
    fn one_more_field_is_exactly_one_more_property() {
        let mut smaller = parse(&settings_schema_json::<Settings>());
        let mut larger = parse(&settings_schema_json::<SettingsPlusOne>());
        let added = larger["properties"]
            .as_object_mut()
            .unwrap()
            .remove("site_visit_required")
            .expect("the added field is a property");
        assert_eq!(
            added,
            json!({ "type": "boolean", "default": false, "description": "Whether a site visit is needed." })
        );
        // Without it, the schemas are the same, title included.
        assert_eq!(larger, smaller);
        // And the schema follows the type: drop a field from the type, and it is gone.
        smaller["properties"].as_object_mut().unwrap().remove("fee");
        assert_ne!(larger, smaller);
    }

    #[test]
    fn settings_defaults_are_the_default_impl() {
        let schema = parse(&settings_schema_json::<Settings>());
        let properties = &schema["properties"];
        assert_eq!(properties["warning_days"]["default"], 60);
        assert_eq!(properties["online_fee_exempt"]["default"], true);
        // A nested settings struct that is `Serialize` gets its default as a whole.
        assert_eq!(
            properties["fee"]["default"],
            json!({ "amount_vnd": 100_000 })
        );
        // With defaults, nothing is required: "{}" is valid settings.
        assert!(schema.get("required").is_none());
        // Attributes and doc comments reach the schema.
        assert_eq!(properties["warning_days"]["minimum"], 1);
        assert_eq!(properties["warning_days"]["type"], "integer");
        assert_eq!(
            properties["warning_days"]["description"],
            "Days before a warning."
        );
    }

    #[test]
    fn deny_unknown_fields_is_additional_properties_false() {
        let schema = parse(&settings_schema_json::<Settings>());
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["properties"]["fee"]["additionalProperties"], false);

        #[derive(Deserialize, JsonSchema, Default)]
        #[serde(default)]
        struct Lenient {
            days: u32,
        }
        assert!(
            parse(&settings_schema_json::<Lenient>())
                .get("additionalProperties")
                .is_none()
        );
    }

    #[test]
    fn settings_schemas_inline_everything() {
        let text = settings_schema_json::<Settings>();
        assert!(!text.contains("$ref") && !text.contains("$defs"), "{text}");
        let schema = parse(&text);
        assert_eq!(references(&schema), 0);
        assert_eq!(schema["properties"]["fee"]["type"], "object");
        assert_eq!(
            schema["properties"]["fee"]["properties"]["amount_vnd"]["minimum"],
            0
        );
        // Compact: one line, no padding.
        assert!(!text.contains('\n') && !text.contains(": "), "{text}");
    }

    // A form as plugins write them: everything defaults, for `parse_form`.
    #[derive(Deserialize, JsonSchema, Default)]
    #[serde(default)]
    #[schemars(title = "Tờ khai")]
    struct Form {
        #[schemars(title = "Họ tên", length(min = 1))]
        full_name: String,
        /// `"male"` or `"female"`.
        #[schemars(extend("enum" = ["male", "female"]))]
        sex: String,
        #[schemars(range(min = 1))]
        capital_vnd: i64,
        mother: Parent,
        father: Option<Parent>,
        #[schemars(skip_serializing_if = "Vec::is_empty")]
        members: Vec<Parent>,
    }

    #[derive(Deserialize, JsonSchema, Default)]
    #[serde(default)]
    struct Parent {
        #[schemars(length(min = 1))]
        full_name: String,
        #[schemars(regex(pattern = "^[0-9]{12}$"))]
        citizen_id: String,
    }

    #[test]
    fn form_schemas_describe_a_complete_form() {
        let text = form_schema_json::<Form>();
        let schema = parse(&text);
        assert_eq!(schema["title"], "Tờ khai");
        assert_eq!(
            schema["required"],
            json!(["full_name", "sex", "capital_vnd", "mother"])
        );
        let properties = &schema["properties"];
        assert_eq!(properties["full_name"]["minLength"], 1);
        assert_eq!(properties["full_name"]["title"], "Họ tên");
        assert_eq!(properties["sex"]["enum"], json!(["male", "female"]));
        assert_eq!(properties["capital_vnd"]["minimum"], 1);
        assert_eq!(
            properties["mother"]["required"],
            json!(["full_name", "citizen_id"])
        );
        assert_eq!(
            properties["mother"]["properties"]["citizen_id"]["pattern"],
            "^[0-9]{12}$"
        );
        // An optional parent is the same parent, or null.
        assert_eq!(properties["father"]["type"], json!(["object", "null"]));
        assert_eq!(
            properties["father"]["required"],
            properties["mother"]["required"]
        );
        assert_eq!(
            properties["members"]["items"]["required"],
            json!(["full_name", "citizen_id"])
        );
        // The serde defaults are for parsing, not for the citizen: none in the schema.
        assert!(!text.contains("\"default\""), "{text}");
        assert_eq!(references(&schema), 0);
    }

    #[test]
    fn form_schemas_follow_the_type() {
        #[derive(Deserialize, JsonSchema, Default)]
        #[serde(default)]
        #[schemars(rename = "Form")]
        struct Smaller {
            #[schemars(title = "Họ tên", length(min = 1))]
            full_name: String,
            /// `"male"` or `"female"`.
            #[schemars(extend("enum" = ["male", "female"]))]
            sex: String,
            #[schemars(range(min = 1))]
            capital_vnd: i64,
            mother: Parent,
            father: Option<Parent>,
        }
        let mut larger = parse(&form_schema_json::<Form>());
        let smaller = parse(&form_schema_json::<Smaller>());
        larger["properties"]
            .as_object_mut()
            .unwrap()
            .remove("members")
            .unwrap();
        larger["title"] = smaller["title"].clone();
        assert_eq!(larger, smaller);
    }
}
