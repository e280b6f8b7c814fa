//! Ready-made inputs for native unit tests of plugin rules.
//!
//! A plugin's `check` and `decide` rules are plain functions over contract records;
//! building those records by hand in every test buries what the test is about. These
//! constructors give plausible values that a test then changes field by field. They
//! are ordinary code (not `cfg(test)`) so other crates' tests can use them; a plugin
//! that never calls them pays nothing, since the linker drops them.

use crate::types::{
    Actor, Applicant, Channel, Command, Date, Datetime, Document, Dossier, Role, Status, Submission,
};

/// 08:30 on the given day.
pub fn at(year: i32, month: u8, day: u8) -> Datetime {
    Datetime {
        date: Date { year, month, day },
        hour: 8,
        minute: 30,
        second: 0,
    }
}

/// An applicant with a valid citizen ID and phone number.
pub fn applicant() -> Applicant {
    Applicant {
        full_name: "Nguyễn Thị Lan".into(),
        citizen_id: "025190000123".into(),
        phone: Some("0912345678".into()),
        email: None,
        address: Some("Phường Xuân Hòa, tỉnh Phú Thọ".into()),
    }
}

/// Metadata of an uploaded document of the given kind.
pub fn document(kind: &str) -> Document {
    Document {
        kind: kind.into(),
        name: format!("{kind}.pdf"),
        sha256: "0".repeat(64),
        size: 1024,
        digitized: true,
    }
}

/// An online submission of `form_json` with `documents`, filed on 2025-07-01.
pub fn submission(procedure_code: &str, form_json: &str, documents: Vec<Document>) -> Submission {
    Submission {
        procedure_code: procedure_code.into(),
        receiving_unit: "25.01".into(),
        handling_unit: "25.01".into(),
        channel: Channel::Online,
        applicant: applicant(),
        form_json: form_json.into(),
        documents,
        at: at(2025, 7, 1),
    }
}

/// A dossier in `step` (with the canonical `status` of that step), built from a
/// submission, with code `000.00.25.H42-250701-0001`.
pub fn dossier(submission: &Submission, step: &str, status: Status) -> Dossier {
    Dossier {
        code: "000.00.25.H42-250701-0001".into(),
        procedure_code: submission.procedure_code.clone(),
        receiving_unit: submission.receiving_unit.clone(),
        handling_unit: submission.handling_unit.clone(),
        channel: submission.channel,
        applicant: submission.applicant.clone(),
        form_json: submission.form_json.clone(),
        documents: submission.documents.clone(),
        step: step.into(),
        status,
        submitted_at: submission.at,
        received_at: None,
        due_date: None,
        supplement_count: 0,
        extension_count: 0,
        fees_requested_vnd: 0,
        fees_paid_vnd: 0,
        issued_result: None,
    }
}

/// A command to take `action` as someone in `role`, with an empty note and payload.
pub fn command(action: &str, role: Role) -> Command {
    Command {
        action: action.into(),
        actor: Actor {
            id: "user-1".into(),
            role,
            unit: "25.01".into(),
        },
        at: at(2025, 7, 2),
        note: String::new(),
        payload_json: "{}".into(),
    }
}
