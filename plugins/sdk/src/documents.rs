//! The document checklist: which required components (thành phần hồ sơ) a dossier lacks.
//!
//! The law asks the authority to list every missing item at once (one supplement
//! request, not a drip of them), so every function here reports all gaps together.

use crate::builders::{finding, refuse};
use crate::types::{Document, DocumentRequirement, Finding, MissingItem, Refusal};

/// Whether some document in `documents` satisfies `requirement`.
///
/// A document satisfies a requirement when its kind is one of the requirement's option
/// kinds. A document whose kind is the requirement's own id also counts: a counter
/// officer attaching a scan "as the birth proof" may not know which option it is, and
/// the requirement id cannot be mistaken for anything else.
pub fn is_satisfied(requirement: &DocumentRequirement, documents: &[Document]) -> bool {
    documents.iter().any(|document| {
        document.kind == requirement.id
            || requirement
                .options
                .iter()
                .any(|option| option.kind == document.kind)
    })
}

/// The required requirements that no document satisfies, in declaration order.
pub fn missing_requirements<'a>(
    requirements: &'a [DocumentRequirement],
    documents: &[Document],
) -> Vec<&'a DocumentRequirement> {
    requirements
        .iter()
        .filter(|requirement| requirement.required && !is_satisfied(requirement, documents))
        .collect()
}

/// The target naming a requirement in findings and missing items: `documents.<id>`.
pub fn document_target(requirement: &DocumentRequirement) -> String {
    format!("documents.{}", requirement.id)
}

/// A sentence telling the applicant what to add, naming the acceptable kinds.
pub fn missing_message(requirement: &DocumentRequirement) -> String {
    let options: Vec<&str> = requirement
        .options
        .iter()
        .map(|option| option.name.as_str())
        .collect();
    match options.as_slice() {
        [] => format!("Thiếu thành phần hồ sơ: {}.", requirement.name),
        [only] if *only == requirement.name => {
            format!("Thiếu thành phần hồ sơ: {}.", requirement.name)
        }
        _ => format!(
            "Thiếu thành phần hồ sơ: {} (một trong: {}).",
            requirement.name,
            options.join("; ")
        ),
    }
}

/// One blocking finding (code `"document-missing"`) per unmet required requirement.
pub fn missing_document_findings(
    requirements: &[DocumentRequirement],
    documents: &[Document],
) -> Vec<Finding> {
    missing_requirements(requirements, documents)
        .into_iter()
        .map(|requirement| {
            finding(
                document_target(requirement),
                "document-missing",
                missing_message(requirement),
            )
        })
        .collect()
}

/// One missing item per unmet required requirement, for a supplement request.
pub fn missing_document_items(
    requirements: &[DocumentRequirement],
    documents: &[Document],
) -> Vec<MissingItem> {
    missing_requirements(requirements, documents)
        .into_iter()
        .map(|requirement| MissingItem {
            target: document_target(requirement),
            message: missing_message(requirement),
        })
        .collect()
}

/// Refuses with `"still-incomplete"`, naming every missing component, unless all
/// required components are present: the guard of a "supplement completed" action.
pub fn require_complete(
    requirements: &[DocumentRequirement],
    documents: &[Document],
) -> Result<(), Refusal> {
    let missing = missing_requirements(requirements, documents);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing
        .iter()
        .map(|requirement| requirement.name.as_str())
        .collect();
    Err(refuse(
        "still-incomplete",
        format!("Hồ sơ vẫn còn thiếu: {}.", names.join("; ")),
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct SupplementPayload {
    items: Vec<SupplementPayloadItem>,
}

#[derive(serde::Deserialize)]
struct SupplementPayloadItem {
    target: String,
    message: String,
}

/// Everything a supplement request must list: the missing documents, then the items an
/// officer added in the command payload `{"items":[{"target":..,"message":..}]}`.
///
/// An officer's item about a document already listed is dropped, so the applicant reads
/// each gap once. Refuses with `"invalid-payload"` when the payload is malformed or an
/// item is blank, and with `"nothing-missing"` when there is nothing to ask for: a
/// supplement request stops the clock, and stopping it for nothing would hide delay.
pub fn supplement_items(
    requirements: &[DocumentRequirement],
    documents: &[Document],
    payload_json: &str,
) -> Result<Vec<MissingItem>, Refusal> {
    let payload: SupplementPayload = crate::json::parse_payload(payload_json)?;
    let mut items = missing_document_items(requirements, documents);
    for item in payload.items {
        if item.target.trim().is_empty() || item.message.trim().is_empty() {
            return Err(refuse(
                "invalid-payload",
                "Mỗi mục cần bổ sung phải có `target` và `message` không rỗng.",
            ));
        }
        if !items.iter().any(|listed| listed.target == item.target) {
            items.push(MissingItem {
                target: item.target,
                message: item.message,
            });
        }
    }
    if items.is_empty() {
        return Err(refuse(
            "nothing-missing",
            "Hồ sơ không thiếu thành phần nào và không có mục cần bổ sung; không thể yêu cầu bổ sung.",
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::requirement;

    fn requirements() -> Vec<DocumentRequirement> {
        vec![
            requirement("birth-proof", "Giấy tờ chứng minh việc sinh")
                .option("hospital-birth-certificate", "Giấy chứng sinh")
                .option("witness-statement", "Văn bản của người làm chứng"),
            requirement("parent-id", "Giấy tờ tùy thân").option("citizen-id-card", "Thẻ căn cước"),
            requirement("marriage-certificate", "Giấy chứng nhận kết hôn")
                .option("marriage-certificate", "Giấy chứng nhận kết hôn")
                .optional(),
        ]
    }

    fn document(kind: &str) -> Document {
        Document {
            kind: kind.into(),
            name: kind.into(),
            sha256: "0".repeat(64),
            size: 1,
            digitized: true,
        }
    }

    #[test]
    fn lists_every_missing_required_component() {
        let findings = missing_document_findings(&requirements(), &[]);
        let targets: Vec<_> = findings.iter().map(|f| f.target.as_str()).collect();
        assert_eq!(targets, ["documents.birth-proof", "documents.parent-id"]);
        assert!(
            findings
                .iter()
                .all(|f| f.code == "document-missing" && f.is_blocking())
        );
        assert!(findings[0].message.contains("Giấy chứng sinh; Văn bản"));
        assert_eq!(
            findings[1].message,
            "Thiếu thành phần hồ sơ: Giấy tờ tùy thân (một trong: Thẻ căn cước)."
        );
    }

    #[test]
    fn any_option_or_the_requirement_id_satisfies() {
        let documents = [document("witness-statement"), document("parent-id")];
        assert!(missing_requirements(&requirements(), &documents).is_empty());
        let documents = [document("unrelated"), document("citizen-id-card")];
        let missing = missing_document_items(&requirements(), &documents);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].target, "documents.birth-proof");
    }

    #[test]
    fn complete_only_when_every_required_component_is_there() {
        let refusal =
            require_complete(&requirements(), &[document("citizen-id-card")]).unwrap_err();
        assert_eq!(refusal.code, "still-incomplete");
        assert!(refusal.message.contains("Giấy tờ chứng minh việc sinh"));
        let complete = [
            document("hospital-birth-certificate"),
            document("citizen-id-card"),
        ];
        assert_eq!(require_complete(&requirements(), &complete), Ok(()));
    }

    #[test]
    fn supplement_combines_documents_and_officer_items() {
        let payload = r#"{"items":[
            {"target":"form.child.full_name","message":"Ghi rõ họ tên"},
            {"target":"documents.parent-id","message":"duplicate of a listed document"}
        ]}"#;
        let items =
            supplement_items(&requirements(), &[document("witness-statement")], payload).unwrap();
        let targets: Vec<_> = items.iter().map(|item| item.target.as_str()).collect();
        assert_eq!(targets, ["documents.parent-id", "form.child.full_name"]);
        assert!(items[0].message.starts_with("Thiếu thành phần hồ sơ"));
        let items = supplement_items(&requirements(), &[], "{}").unwrap();
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn supplement_refuses_when_nothing_is_missing_or_payload_is_bad() {
        let complete = [
            document("hospital-birth-certificate"),
            document("citizen-id-card"),
        ];
        assert_eq!(
            supplement_items(&requirements(), &complete, "")
                .unwrap_err()
                .code,
            "nothing-missing"
        );
        assert_eq!(
            supplement_items(
                &requirements(),
                &complete,
                r#"{"items":[{"target":"","message":"x"}]}"#
            )
            .unwrap_err()
            .code,
            "invalid-payload"
        );
        assert_eq!(
            supplement_items(&requirements(), &complete, "[1]")
                .unwrap_err()
                .code,
            "invalid-payload"
        );
        assert_eq!(
            supplement_items(&requirements(), &complete, r#"{"items":[{"target":"x"}]}"#)
                .unwrap_err()
                .code,
            "invalid-payload"
        );
    }
}
