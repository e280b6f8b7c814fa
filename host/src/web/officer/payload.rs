//! The inputs an action's payload needs, and the posted values read back into the
//! payload the plugin expects.
//!
//! Builds of contract 0.1.0 describe no payload schema, so the console knows the
//! payloads by the SDK's conventions and the catalog's plugins (read from
//! `plugins/*/src/lib.rs` and the scenarios): a supplement request lists its items
//! (`motcua_sdk::documents::supplement_items`), an apology gives a new due date and a
//! reason (`motcua_sdk::builders::apology`), a payment its amount, way and receipt, an
//! inspection or a site visit its findings, and a marriage's signing whether both
//! parties are present. Every other action takes a note only.
//!
//! As with the filing form, an empty input is left out and a number that does not parse
//! is kept as text: the plugin's own refusal then says what is wrong, instead of the page
//! guessing.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::runtime::PluginBuild;

/// One input of an action's form, posted as `payload.<key>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub required: bool,
    pub kind: InputKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InputKind {
    Text,
    LongText,
    /// A whole number (amounts in đồng).
    Integer,
    /// A decimal number; a decimal comma is read as a point.
    Number,
    Date,
    /// A yes/no answer as a select of (value, label); the values are `true`/`false`.
    YesNo(&'static [(&'static str, &'static str)]),
    /// A supplement request's items, one per line.
    Items,
}

impl Input {
    /// The name the input is posted under.
    pub fn name(&self) -> String {
        format!("payload.{}", self.key)
    }
}

const PAID_HOW: &[(&str, &str)] = &[
    ("false", "Tại quầy hoặc chuyển khoản"),
    ("true", "Trực tuyến"),
];
const SITE_MATCHES: &[(&str, &str)] = &[
    ("true", "Đúng với hồ sơ"),
    ("false", "Không đúng với hồ sơ"),
];
const SITE_VERIFIED: &[(&str, &str)] = &[
    ("true", "Đã xác minh, đúng nội dung đăng ký"),
    ("false", "Không xác minh được"),
];
const BOTH_PRESENT: &[(&str, &str)] =
    &[("true", "Có mặt cả hai bên"), ("false", "Không đủ hai bên")];

/// The inputs `action` needs in `build`, beyond the note.
pub fn inputs(action: &str, build: &PluginBuild) -> Vec<Input> {
    let input = |key, label, hint, required, kind| Input {
        key,
        label,
        hint,
        required,
        kind,
    };
    match action {
        "request-supplement" => vec![input(
            "items",
            "Các mục cần bổ sung (mỗi dòng một mục)",
            Some(
                "Giấy tờ còn thiếu được tự động đưa vào yêu cầu. Để chỉ đúng một mục của tờ khai, \
                 ghi mục đó trước dấu hai chấm, ví dụ: form.address: Ghi rõ số nhà.",
            ),
            false,
            InputKind::Items,
        )],
        "record-payment" => vec![
            input(
                "amount_vnd",
                "Số tiền đã nộp (đồng)",
                Some("Để trống nếu đã nộp đủ số còn phải nộp."),
                false,
                InputKind::Integer,
            ),
            input(
                "online",
                "Hình thức nộp",
                None,
                true,
                InputKind::YesNo(PAID_HOW),
            ),
            input("receipt", "Số biên lai", None, true, InputKind::Text),
        ],
        "apologize" => vec![
            input(
                "new_due_date",
                "Ngày hẹn trả mới",
                None,
                true,
                InputKind::Date,
            ),
            input("reason", "Lý do chậm trễ", None, true, InputKind::LongText),
        ],
        "record-inspection" => vec![
            input(
                "area_m2_measured",
                "Diện tích đo đạc thực tế (m²)",
                None,
                true,
                InputKind::Number,
            ),
            input(
                "matches",
                "Kết quả đối chiếu thực địa",
                None,
                true,
                InputKind::YesNo(SITE_MATCHES),
            ),
            input(
                "report",
                "Biên bản kiểm tra",
                None,
                true,
                InputKind::LongText,
            ),
        ],
        "record-site-visit" => vec![
            input(
                "verified",
                "Kết quả xác minh địa điểm",
                None,
                true,
                InputKind::YesNo(SITE_VERIFIED),
            ),
            input(
                "report",
                "Biên bản xác minh",
                None,
                true,
                InputKind::LongText,
            ),
        ],
        // Marriage registration: the leader may record who is present at the signing;
        // left empty, the form's own answer counts.
        "sign" if build.info.form_schema["properties"]["both_present"].is_object() => {
            vec![input(
                "both_present",
                "Hai bên có mặt khi ký",
                Some("Để trống: theo tờ khai."),
                false,
                InputKind::YesNo(BOTH_PRESENT),
            )]
        }
        _ => Vec::new(),
    }
}

/// The payload from the posted values.
pub fn read(inputs: &[Input], posted: &HashMap<String, String>) -> Value {
    let mut payload = Map::new();
    for input in inputs {
        let Some(text) = posted
            .get(&input.name())
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
        else {
            continue;
        };
        let value = match input.kind {
            InputKind::Text | InputKind::LongText | InputKind::Date => json!(text),
            InputKind::Integer => {
                let digits: String = text.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
                digits
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| json!(text))
            }
            InputKind::Number => text
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| json!(text)),
            InputKind::YesNo(_) => match text {
                "true" => json!(true),
                "false" => json!(false),
                other => json!(other),
            },
            InputKind::Items => Value::Array(items(text)),
        };
        payload.insert(input.key.to_string(), value);
    }
    Value::Object(payload)
}

/// A supplement request's lines as `{target, message}` items: `form.x: message` points
/// at a field of the form (or `documents.x`, `applicant.x`); any other line is about
/// the dossier as a whole.
fn items(text: &str) -> Vec<Value> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let pointed = line.split_once(':').and_then(|(target, message)| {
                let target = target.trim();
                let message = message.trim();
                let is_path = ["form.", "documents.", "applicant."]
                    .iter()
                    .any(|root| target.starts_with(root))
                    && target
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
                (is_path && !message.is_empty()).then_some((target, message))
            });
            let (target, message) = pointed.unwrap_or(("dossier", line));
            json!({ "target": target, "message": message })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn kinds() -> Vec<Input> {
        let input = |key, kind| Input {
            key,
            label: "",
            hint: None,
            required: false,
            kind,
        };
        vec![
            input("items", InputKind::Items),
            input("amount_vnd", InputKind::Integer),
            input("online", InputKind::YesNo(PAID_HOW)),
            input("receipt", InputKind::Text),
            input("area_m2_measured", InputKind::Number),
        ]
    }

    #[test]
    fn posted_values_become_the_payload_the_plugins_read() {
        let payload = read(
            &kinds(),
            &posted(&[
                (
                    "payload.items",
                    "form.address: Ghi rõ số nhà\r\n\r\n  Bản chụp căn cước bị mờ \nfoo bar: baz",
                ),
                ("payload.amount_vnd", "100.000"),
                ("payload.online", "false"),
                ("payload.receipt", "  BL-0001 "),
                ("payload.area_m2_measured", "118,5"),
            ]),
        );
        assert_eq!(
            payload,
            json!({
                "items": [
                    { "target": "form.address", "message": "Ghi rõ số nhà" },
                    { "target": "dossier", "message": "Bản chụp căn cước bị mờ" },
                    { "target": "dossier", "message": "foo bar: baz" },
                ],
                "amount_vnd": 100000,
                "online": false,
                "receipt": "BL-0001",
                "area_m2_measured": 118.5,
            })
        );
    }

    #[test]
    fn empty_inputs_are_left_out_and_bad_numbers_kept_for_the_plugin_to_refuse() {
        let payload = read(
            &kinds(),
            &posted(&[
                ("payload.items", " \n "),
                ("payload.amount_vnd", "một trăm"),
                ("payload.online", ""),
                ("payload.area_m2_measured", "abc"),
            ]),
        );
        assert_eq!(
            payload,
            json!({ "amount_vnd": "một trăm", "area_m2_measured": "abc" })
        );
    }
}
