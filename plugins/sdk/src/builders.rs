//! Builders for the records a plugin returns, so rules read as rules rather than as
//! struct literals.

use crate::types::{
    ActionSpec, Decision, DocumentOption, DocumentRequirement, Effect, Fee, Finding, Refusal, Role,
    Severity, Status, StepSpec,
};

/// A blocking finding: the dossier cannot be accepted until this is fixed.
///
/// `target` names what the finding is about, in the dotted form the host and the
/// citizen portal understand: `"form.child.birth_date"`, `"documents.birth-proof"`,
/// `"applicant.citizen_id"`. Turn it into a warning with [`Finding::warning`].
pub fn finding(
    target: impl Into<String>,
    code: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        target: target.into(),
        code: code.into(),
        message: message.into(),
        severity: Severity::Blocking,
    }
}

impl Finding {
    /// Makes the finding a warning: worth telling the applicant, but it does not stop
    /// the dossier.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Whether this finding stops the dossier from being accepted.
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Blocking
    }
}

/// Collects findings so that a `check` reports every problem at once, one per field.
///
/// Several rules often fail for the same cause: a field with the wrong JSON type is
/// reported by the form parser and then, because it fell back to its default, again by
/// "must not be empty". Telling the citizen twice about one field is noise, so a
/// blocking finding hides later findings about the same field or anything inside it
/// (`form.child` hides `form.child.full_name`), and vice versa.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    list: Vec<Finding>,
}

impl Findings {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a finding unless a blocking finding about the same field is already there.
    pub fn push(&mut self, finding: Finding) {
        let covered = self
            .list
            .iter()
            .any(|seen| seen.is_blocking() && targets_overlap(&seen.target, &finding.target));
        if !covered {
            self.list.push(finding);
        }
    }

    /// Adds a blocking finding built from its parts.
    pub fn block(
        &mut self,
        target: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(finding(target, code, message));
    }

    /// Adds a warning built from its parts.
    pub fn warn(
        &mut self,
        target: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(finding(target, code, message).warning());
    }

    /// Reports `code` `"required"` when a text field is empty or only spaces.
    ///
    /// Returns whether the field was filled in, so a caller can skip further checks.
    pub fn require_text(&mut self, target: &str, value: &str, label: &str) -> bool {
        let filled = !value.trim().is_empty();
        if !filled {
            self.block(target, "required", format!("Chưa nhập {label}."));
        }
        filled
    }

    /// Reports an invalid 12-digit citizen identity number (code `"invalid-citizen-id"`),
    /// or `"required"` when it is empty.
    pub fn check_citizen_id(&mut self, target: &str, value: &str) {
        if !self.require_text(target, value, "số định danh cá nhân") {
            return;
        }
        if let Err(problem) = crate::identity::check_citizen_id(value) {
            self.block(target, "invalid-citizen-id", problem.to_string());
        }
    }

    /// Reports an invalid Vietnamese phone number (code `"invalid-phone"`).
    pub fn check_phone(&mut self, target: &str, value: &str) {
        if !crate::identity::is_valid_phone(value) {
            self.block(
                target,
                "invalid-phone",
                "Số điện thoại phải gồm đúng 10 chữ số và bắt đầu bằng số 0.",
            );
        }
    }

    /// Parses a required `YYYY-MM-DD` date field, reporting `"required"` or
    /// `"invalid-date"`; returns the date when it is valid.
    pub fn require_date(
        &mut self,
        target: &str,
        value: &str,
        label: &str,
    ) -> Option<crate::types::Date> {
        if !self.require_text(target, value, label) {
            return None;
        }
        match crate::date::parse_date(value) {
            Ok(date) => Some(date),
            Err(problem) => {
                self.block(target, "invalid-date", format!("{label}: {problem}"));
                None
            }
        }
    }

    /// Whether any collected finding is blocking.
    pub fn has_blocking(&self) -> bool {
        self.list.iter().any(Finding::is_blocking)
    }

    /// The findings collected so far, in the order they were found.
    pub fn as_slice(&self) -> &[Finding] {
        &self.list
    }

    /// The findings, ready to return from `check`.
    pub fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

impl Extend<Finding> for Findings {
    fn extend<I: IntoIterator<Item = Finding>>(&mut self, findings: I) {
        for finding in findings {
            self.push(finding);
        }
    }
}

/// Whether one target is the other or lies inside it (`form.a` and `form.a.b` or
/// `form.a[0]`), respecting segment boundaries (`form.a` does not contain `form.ab`).
fn targets_overlap(first: &str, second: &str) -> bool {
    let (short, long) = if first.len() <= second.len() {
        (first, second)
    } else {
        (second, first)
    };
    match long.strip_prefix(short) {
        Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

/// A decision that moves the dossier to `next_step`, whose declared canonical status is
/// `status`. Add effects with [`Decision::effect`] and a note with [`Decision::note`].
///
/// The host rejects a decision whose status differs from the one `describe` declared
/// for the step, so keep the two in one place (a `match` on the step) where possible.
pub fn decision(next_step: impl Into<String>, status: Status) -> Decision {
    Decision {
        next_step: next_step.into(),
        status,
        effects: Vec::new(),
        note: String::new(),
    }
}

impl Decision {
    /// Adds an effect; effects are applied by the host in the order given.
    #[must_use]
    pub fn effect(mut self, effect: Effect) -> Self {
        self.effects.push(effect);
        self
    }

    /// Sets the note the host records with the event.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// A refusal of a command: nothing happens to the dossier, and the actor is told why.
///
/// `code` is machine-readable (`"unknown-action"`, `"still-incomplete"`); `message`
/// is for the person at the counter.
pub fn refuse(code: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        code: code.into(),
        message: message.into(),
    }
}

/// The refusal for an action that the dossier's current step does not offer (code
/// `"unknown-action"`): the catch-all arm of every `decide`.
pub fn unknown_action(step: &str, action: &str) -> Refusal {
    refuse(
        "unknown-action",
        format!("Thao tác `{action}` không có ở bước `{step}` của thủ tục này."),
    )
}

/// A workflow step for `describe`; add its actions with [`StepSpec::action`].
pub fn step(id: impl Into<String>, name: impl Into<String>, status: Status) -> StepSpec {
    StepSpec {
        id: id.into(),
        name: name.into(),
        status,
        actions: Vec::new(),
    }
}

impl StepSpec {
    /// Declares an action available in this step and the roles allowed to take it.
    #[must_use]
    pub fn action(mut self, name: &str, label: &str, roles: &[Role]) -> Self {
        self.actions.push(ActionSpec {
            name: name.into(),
            label: label.into(),
            roles: roles.to_vec(),
        });
        self
    }
}

/// A required document component for `describe`; add the kinds of document that satisfy
/// it with [`DocumentRequirement::option`], and make it optional with
/// [`DocumentRequirement::optional`] or [`DocumentRequirement::required_if`].
pub fn requirement(id: impl Into<String>, name: impl Into<String>) -> DocumentRequirement {
    DocumentRequirement {
        id: id.into(),
        name: name.into(),
        required: true,
        options: Vec::new(),
    }
}

impl DocumentRequirement {
    /// Adds a kind of document that satisfies this requirement.
    #[must_use]
    pub fn option(mut self, kind: &str, name: &str) -> Self {
        self.options.push(DocumentOption {
            kind: kind.into(),
            name: name.into(),
        });
        self
    }

    /// Marks the requirement as optional.
    #[must_use]
    pub fn optional(self) -> Self {
        self.required_if(false)
    }

    /// Makes the requirement required only when `condition` holds, for components that
    /// depend on the form (for example minutes needed only for several members).
    #[must_use]
    pub fn required_if(mut self, condition: bool) -> Self {
        self.required = condition;
        self
    }
}

/// A flat fee entry for `describe`: the same amount for every dossier. For an amount
/// that depends on the form (per page, per copy, tiers, a cap), declare a schedule
/// with [`crate::fees::scheduled_fee`].
pub fn fee(code: &str, name: &str, amount_vnd: u64, note: &str) -> Fee {
    crate::fees::scheduled_fee(
        code,
        name,
        crate::types::FeeSchedule::flat(amount_vnd),
        note,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProcessingTime;

    #[test]
    fn finding_is_blocking_until_made_a_warning() {
        let blocking = finding("form.x", "required", "Chưa nhập x.");
        assert!(blocking.is_blocking());
        let warning = blocking.warning();
        assert_eq!(warning.severity, Severity::Warning);
        assert_eq!(warning.target, "form.x");
    }

    #[test]
    fn findings_keep_one_blocking_finding_per_field() {
        let mut findings = Findings::new();
        findings.block("form.child", "invalid-type", "not an object");
        findings.block("form.child.full_name", "required", "hidden");
        findings.block("form.children", "required", "a different field");
        findings.block("form", "x", "the parent is hidden too");
        assert_eq!(findings.as_slice().len(), 2);
        assert_eq!(findings.as_slice()[1].target, "form.children");
    }

    #[test]
    fn a_warning_does_not_hide_a_blocking_finding() {
        let mut findings = Findings::new();
        findings.warn("form.a", "late", "late");
        findings.block("form.a", "invalid", "invalid");
        assert_eq!(findings.as_slice().len(), 2);
        assert!(findings.has_blocking());
    }

    #[test]
    fn findings_check_common_fields() {
        let mut findings = Findings::new();
        findings.check_citizen_id("applicant.citizen_id", "  ");
        findings.check_citizen_id("form.mother.citizen_id", "12345");
        findings.check_citizen_id("form.father.citizen_id", "001203004567");
        findings.check_phone("applicant.phone", "84912345678");
        assert!(
            findings
                .require_date("form.d", "2024-02-29", "ngày")
                .is_some()
        );
        assert!(
            findings
                .require_date("form.e", "2023-02-29", "ngày")
                .is_none()
        );
        let codes: Vec<_> = findings
            .as_slice()
            .iter()
            .map(|f| (f.target.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("applicant.citizen_id", "required"),
                ("form.mother.citizen_id", "invalid-citizen-id"),
                ("applicant.phone", "invalid-phone"),
                ("form.e", "invalid-date"),
            ]
        );
    }

    #[test]
    fn decision_collects_effects_in_order() {
        let decided = decision("review", Status::Processing)
            .effect(Effect::StartClock(ProcessingTime::SameDay))
            .effect(Effect::NotifyApplicant("ok".into()))
            .note("received");
        assert_eq!(decided.next_step, "review");
        assert_eq!(decided.effects.len(), 2);
        assert_eq!(
            decided.effects[0],
            Effect::StartClock(ProcessingTime::SameDay)
        );
        assert_eq!(decided.note, "received");
    }

    #[test]
    fn step_and_requirement_builders() {
        let submitted = step("submitted", "Mới đăng ký", Status::Submitted).action(
            "receive",
            "Tiếp nhận",
            &[Role::Officer],
        );
        assert_eq!(submitted.actions[0].roles, [Role::Officer]);
        let proof = requirement("birth-proof", "Giấy tờ chứng minh việc sinh")
            .option("hospital-birth-certificate", "Giấy chứng sinh");
        assert!(proof.required);
        assert!(!proof.clone().optional().required);
        assert!(proof.required_if(true).required);
        assert_eq!(refuse("c", "m").code, "c");
        assert_eq!(unknown_action("settled", "sign").code, "unknown-action");
    }
}

/// The apology for a dossier that will be late (thư xin lỗi và hẹn lại ngày trả kết quả,
/// Nghị định 61/2018/NĐ-CP, Điều 19): the dossier stays in its step with a new due date.
///
/// Reads the payload `{"new_due_date": "YYYY-MM-DD", "reason": "..."}`. The host accepts
/// it once per dossier, at least a day before the current due date, and only for a later
/// date; those are the host's checks, not the plugin's, because they hold for every
/// procedure alike.
pub fn apology(
    dossier: &crate::types::Dossier,
    command: &crate::types::Command,
) -> Result<Decision, Refusal> {
    #[derive(serde::Deserialize)]
    struct Payload {
        new_due_date: String,
        #[serde(default)]
        reason: String,
    }
    let payload: Payload = crate::json::parse_payload(&command.payload_json)?;
    let new_due_date = crate::date::parse_date(&payload.new_due_date).map_err(|problem| {
        refuse(
            "invalid-payload",
            format!("Ngày hẹn mới không hợp lệ: {problem}."),
        )
    })?;
    let reason = payload.reason.trim();
    if reason.is_empty() {
        return Err(refuse(
            "reason-required",
            "Thư xin lỗi phải nêu lý do chậm trễ.",
        ));
    }
    Ok(decision(dossier.step.clone(), dossier.status)
        .effect(Effect::ExtendDue(crate::types::Extension {
            new_due_date,
            reason: reason.into(),
        }))
        .effect(Effect::NotifyApplicant(format!(
            "Cơ quan xin lỗi vì hồ sơ chậm trả kết quả ({reason}); ngày hẹn trả mới: {}.",
            payload.new_due_date
        )))
        .note(reason))
}
