//! The standard intake (tiếp nhận hồ sơ): receiving a dossier, refusing it, asking for
//! a supplement and completing one.
//!
//! Every procedure starts the same way. A dossier is filed into the step `submitted`
//! (status submitted), where an officer may `receive` it or `refuse` it with a reason
//! (to the step `refused`, status refused). Missing documents are asked for with
//! `request-supplement`, which lists every gap at once and moves the dossier to the step
//! `supplement` (status supplement requested); there the citizen or an officer takes
//! `complete-supplement` once every required document is present.
//!
//! What differs between procedures is small, and is what [`Intake`]'s builder says:
//!
//! - the required documents, which may depend on the dossier's form ([`Intake::new`]);
//! - what `receive` decides: the next step, the clock, fees to request
//!   ([`Intake::on_receive`]);
//! - the step supplements are asked for from: `submitted`, before receipt, by an
//!   officer (the default), or a later step such as `review`, by a specialist
//!   ([`Intake::supplement_from`]);
//! - where a completed supplement takes the dossier ([`Resume`]).
//!
//! A plugin declares the intake's steps with [`Intake::steps`] (adding its own actions
//! to them if it has any) and lets [`Intake::decide`] answer the intake's actions
//! before its own `match`:
//!
//! ```ignore
//! fn intake() -> Intake<'static> {
//!     Intake::new(|_| documents()).on_receive(|_| {
//!         decision("review", Status::Processing)
//!             .effect(Effect::StartClock(ProcessingTime::SameDay))
//!     })
//! }
//!
//! pub fn steps() -> Vec<StepSpec> {
//!     let [submitted, supplement, refused] = intake().steps();
//!     vec![submitted, supplement, /* the plugin's own steps */ refused]
//! }
//!
//! pub fn decide_command(dossier: &Dossier, command: &Command) -> Result<Decision, Refusal> {
//!     if let Some(decided) = intake().decide(dossier, command) {
//!         return decided;
//!     }
//!     match (dossier.step.as_str(), command.action.as_str()) {
//!         /* the plugin's own actions */
//!         (step, action) => Err(unknown_action(step, action)),
//!     }
//! }
//! ```

use crate::builders::{decision, refuse, step};
use crate::documents::{require_complete, supplement_items};
use crate::types::{
    Command, Decision, DocumentRequirement, Dossier, Effect, Refusal, Role, Status, StepSpec,
};

/// The step a dossier is filed into, where it is received or refused.
const SUBMITTED: &str = "submitted";
/// The step a dossier waits in for its supplement.
const SUPPLEMENT: &str = "supplement";
/// The final step of a dossier refused at intake.
const REFUSED: &str = "refused";

/// Where completing a supplement takes the dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Back to `submitted` (status submitted), to be received like a new filing: for
    /// supplements asked for before receipt. The default.
    Submitted,
    /// Received at once: the decision [`Intake::on_receive`] makes for the dossier (the
    /// clock starts, fees are requested).
    Receive,
    /// This decision, for example back to `review` with the clock restarted from zero
    /// for a supplement asked for during review.
    To(Decision),
}

/// The required documents of a dossier, as [`Intake::new`] is given them.
type DocumentsOf<'a> = Box<dyn Fn(&Dossier) -> Vec<DocumentRequirement> + 'a>;
/// What receiving a dossier decides, as [`Intake::on_receive`] or
/// [`Intake::try_on_receive`] is given it.
type DecisionFor<'a> = Box<dyn Fn(&Dossier) -> Result<Decision, Refusal> + 'a>;

/// A procedure's intake: its steps for `describe` and its decisions for `decide`.
///
/// Built with [`Intake::new`] and the builder methods; see the [module](self) for the
/// workflow it stands for. The step ids, statuses, action names, labels and roles are
/// fixed:
///
/// | step | status | actions (roles) |
/// |---|---|---|
/// | `submitted` "Mới đăng ký" | submitted | `receive` "Tiếp nhận hồ sơ" (officer), `refuse` "Từ chối tiếp nhận" (officer), and `request-supplement` "Yêu cầu bổ sung hồ sơ" (officer) unless supplements are asked for from another step |
/// | `supplement` "Chờ bổ sung hồ sơ" | supplement requested | `complete-supplement` "Hoàn thành bổ sung" (citizen, officer) |
/// | `refused` "Từ chối tiếp nhận" | refused | none |
pub struct Intake<'a> {
    documents: DocumentsOf<'a>,
    receive: Option<DecisionFor<'a>>,
    supplement_from: String,
    supplement_role: Role,
    resume: Resume,
}

impl<'a> Intake<'a> {
    /// The standard intake of a procedure whose required documents `documents` gives
    /// for a dossier (the same list for every dossier, or one that depends on its form,
    /// for example minutes required only when several members register).
    ///
    /// `request-supplement` lists the documents missing from this list, and
    /// `complete-supplement` waits until none is. Supplements are asked for from
    /// `submitted` by an officer and completing one returns there ([`Resume::Submitted`]);
    /// `receive` is the plugin's own until [`Intake::on_receive`] says what it decides.
    pub fn new(documents: impl Fn(&Dossier) -> Vec<DocumentRequirement> + 'a) -> Self {
        Intake {
            documents: Box::new(documents),
            receive: None,
            supplement_from: SUBMITTED.into(),
            supplement_role: Role::Officer,
            resume: Resume::Submitted,
        }
    }

    /// What `receive` decides for a dossier in `submitted`: typically the first
    /// processing step, with [`Effect::StartClock`] and any [`Effect::RequestFee`].
    ///
    /// The closure runs only when a dossier is received (or, with [`Resume::Receive`],
    /// when a supplement completes), so it may read the unit's settings lazily. Without
    /// it, [`Intake::decide`] leaves `receive` to the plugin (it answers `None`), and
    /// `complete-supplement` too when it resumes with [`Resume::Receive`].
    #[must_use]
    pub fn on_receive(mut self, receive: impl Fn(&Dossier) -> Decision + 'a) -> Self {
        self.receive = Some(Box::new(move |dossier| Ok(receive(dossier))));
        self
    }

    /// Like [`Intake::on_receive`], for a receipt that may be refused: a fee whose amount
    /// the form must give ([`Fee::request`](crate::types::Fee::request)), say.
    #[must_use]
    pub fn try_on_receive(
        mut self,
        receive: impl Fn(&Dossier) -> Result<Decision, Refusal> + 'a,
    ) -> Self {
        self.receive = Some(Box::new(receive));
        self
    }

    /// Supplements are asked for from the plugin's step `step` by `role` instead of
    /// from `submitted` by an officer: for procedures whose specialist finds the gaps
    /// while examining a received dossier. Declare the action in that step with
    /// [`Intake::add_actions`].
    #[must_use]
    pub fn supplement_from(mut self, step: &str, role: Role) -> Self {
        self.supplement_from = step.into();
        self.supplement_role = role;
        self
    }

    /// Where a completed supplement takes the dossier (by default back to `submitted`).
    #[must_use]
    pub fn after_supplement(mut self, resume: Resume) -> Self {
        self.resume = resume;
        self
    }

    /// The intake's own steps for `describe`, in this order: `submitted`, `supplement`,
    /// `refused`, with their actions (see [`Intake`]).
    ///
    /// Place them among the plugin's steps as it likes, and add the plugin's own actions
    /// to them with [`StepSpec::action`] (a citizen's `withdraw`, say): an action added
    /// after the intake's is the plugin's to decide.
    pub fn steps(&self) -> [StepSpec; 3] {
        use Role::{Citizen, Officer};
        [
            self.add_actions(
                step(SUBMITTED, "Mới đăng ký", Status::Submitted)
                    .action("receive", "Tiếp nhận hồ sơ", &[Officer])
                    .action("refuse", "Từ chối tiếp nhận", &[Officer]),
            ),
            step(SUPPLEMENT, "Chờ bổ sung hồ sơ", Status::SupplementRequested).action(
                "complete-supplement",
                "Hoàn thành bổ sung",
                &[Citizen, Officer],
            ),
            step(REFUSED, "Từ chối tiếp nhận", Status::Refused),
        ]
    }

    /// Adds to `step` the intake actions it offers: `request-supplement` when it is the
    /// step supplements are asked for from ([`Intake::supplement_from`]). Any other step
    /// is returned as it is.
    ///
    /// [`Intake::steps`] does this for `submitted`; a plugin that asks for supplements
    /// from a step of its own passes that step through here.
    pub fn add_actions(&self, step: StepSpec) -> StepSpec {
        if step.id == self.supplement_from {
            step.action(
                "request-supplement",
                "Yêu cầu bổ sung hồ sơ",
                &[self.supplement_role],
            )
        } else {
            step
        }
    }

    /// The intake's answer to `command` on `dossier`, or `None` when the command is not
    /// an intake action in the dossier's step (the plugin's own `match` decides it then).
    ///
    /// - `receive` in `submitted`: the decision of [`Intake::on_receive`] (`None` without
    ///   one);
    /// - `refuse` in `submitted`: to `refused`; refused with code `"note-required"` when
    ///   the command's note gives no reason;
    /// - `request-supplement` in the step supplements are asked for from: to `supplement`
    ///   with [`Effect::RequestSupplement`] listing every missing document and the
    ///   officer's items ([`supplement_items`], which refuses `"nothing-missing"` and
    ///   `"invalid-payload"`);
    /// - `complete-supplement` in `supplement`: refused with `"still-incomplete"` while
    ///   a required document is missing ([`require_complete`]), else as [`Resume`] says.
    ///
    /// Every decision carries the command's note, trimmed.
    pub fn decide(
        &self,
        dossier: &Dossier,
        command: &Command,
    ) -> Option<Result<Decision, Refusal>> {
        let at = dossier.step.as_str();
        let note = command.note.trim();
        let decided = match command.action.as_str() {
            "receive" if at == SUBMITTED => self.receive.as_ref()?(dossier),
            "refuse" if at == SUBMITTED => {
                if note.is_empty() {
                    Err(refuse(
                        "note-required",
                        "Từ chối tiếp nhận phải ghi rõ lý do.",
                    ))
                } else {
                    Ok(decision(REFUSED, Status::Refused))
                }
            }
            "request-supplement" if at == self.supplement_from => supplement_items(
                &(self.documents)(dossier),
                &dossier.documents,
                &command.payload_json,
            )
            .map(|items| {
                decision(SUPPLEMENT, Status::SupplementRequested)
                    .effect(Effect::RequestSupplement(items))
            }),
            "complete-supplement" if at == SUPPLEMENT => {
                // Resuming by receiving needs `on_receive`; without it, the plugin decides.
                let receive = match &self.resume {
                    Resume::Receive => Some(self.receive.as_ref()?),
                    Resume::Submitted | Resume::To(_) => None,
                };
                require_complete(&(self.documents)(dossier), &dossier.documents).and_then(|()| {
                    match (&self.resume, receive) {
                        (Resume::Receive, Some(receive)) => receive(dossier),
                        (Resume::To(decided), _) => Ok(decided.clone()),
                        _ => Ok(decision(SUBMITTED, Status::Submitted)),
                    }
                })
            }
            _ => return None,
        };
        Some(decided.map(|decided| decided.note(note)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::requirement;
    use crate::testing::{command, document, dossier, submission};
    use crate::types::{ActionSpec, FeeRequest, ProcessingTime};

    fn documents() -> Vec<DocumentRequirement> {
        vec![
            requirement("request", "Tờ khai").option("request-form", "Tờ khai"),
            requirement("identity", "Giấy tờ tùy thân").option("citizen-id-card", "Thẻ căn cước"),
        ]
    }

    fn received() -> Decision {
        decision("review", Status::Processing).effect(Effect::StartClock(ProcessingTime::SameDay))
    }

    /// The intake of the civil-status procedures: supplements before receipt.
    fn standard() -> Intake<'static> {
        Intake::new(|_| documents()).on_receive(|_| received())
    }

    /// A dossier in `step` with the given documents.
    fn at(step: &str, status: Status, kinds: &[&str]) -> Dossier {
        let documents = kinds.iter().map(|kind| document(kind)).collect();
        dossier(&submission("1.000000", "{}", documents), step, status)
    }

    fn complete(step: &str, status: Status) -> Dossier {
        at(step, status, &["request-form", "citizen-id-card"])
    }

    fn actions(step: &StepSpec) -> Vec<(&str, &str, &[Role])> {
        step.actions
            .iter()
            .map(|ActionSpec { name, label, roles }| {
                (name.as_str(), label.as_str(), roles.as_slice())
            })
            .collect()
    }

    #[test]
    fn the_standard_steps() {
        use Role::{Citizen, Officer};
        let [submitted, supplement, refused] = standard().steps();
        assert_eq!(
            (
                submitted.id.as_str(),
                submitted.name.as_str(),
                submitted.status
            ),
            ("submitted", "Mới đăng ký", Status::Submitted)
        );
        assert_eq!(
            actions(&submitted),
            [
                ("receive", "Tiếp nhận hồ sơ", &[Officer][..]),
                ("refuse", "Từ chối tiếp nhận", &[Officer][..]),
                (
                    "request-supplement",
                    "Yêu cầu bổ sung hồ sơ",
                    &[Officer][..]
                ),
            ]
        );
        assert_eq!(
            (
                supplement.id.as_str(),
                supplement.name.as_str(),
                supplement.status
            ),
            (
                "supplement",
                "Chờ bổ sung hồ sơ",
                Status::SupplementRequested
            )
        );
        assert_eq!(
            actions(&supplement),
            [(
                "complete-supplement",
                "Hoàn thành bổ sung",
                &[Citizen, Officer][..]
            )]
        );
        assert_eq!(
            (refused.id.as_str(), refused.name.as_str(), refused.status),
            ("refused", "Từ chối tiếp nhận", Status::Refused)
        );
        assert!(refused.actions.is_empty());
        // No other step gains an action.
        let review = step("review", "Thẩm định", Status::Processing);
        assert_eq!(standard().add_actions(review.clone()), review);
    }

    #[test]
    fn supplements_from_review_are_declared_in_review() {
        let intake = standard().supplement_from("review", Role::Specialist);
        let [submitted, ..] = intake.steps();
        let names: Vec<&str> = submitted.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["receive", "refuse"]);
        let review = intake.add_actions(step("review", "Thẩm định", Status::Processing));
        assert_eq!(
            actions(&review),
            [(
                "request-supplement",
                "Yêu cầu bổ sung hồ sơ",
                &[Role::Specialist][..]
            )]
        );
    }

    #[test]
    fn other_actions_and_steps_are_left_to_the_plugin() {
        let intake = standard();
        for (step, action) in [
            ("review", "submit-for-signing"),
            ("review", "receive"),
            ("review", "refuse"),
            ("review", "request-supplement"),
            ("submitted", "complete-supplement"),
            ("supplement", "receive"),
            ("submitted", "withdraw"),
        ] {
            let mut order = command(action, Role::Officer);
            order.note = "lý do".into();
            assert_eq!(
                intake.decide(&at(step, Status::Processing, &[]), &order),
                None,
                "{step}/{action}"
            );
        }
        // Without `on_receive`, receiving is the plugin's too, and so is a completed
        // supplement that resumes by receiving, complete or not.
        let plugin_receives = Intake::new(|_| documents()).after_supplement(Resume::Receive);
        let submitted = complete("submitted", Status::Submitted);
        assert_eq!(
            plugin_receives.decide(&submitted, &command("receive", Role::Officer)),
            None
        );
        let complete_it = command("complete-supplement", Role::Citizen);
        for waiting in [
            complete("supplement", Status::SupplementRequested),
            at("supplement", Status::SupplementRequested, &[]),
        ] {
            assert_eq!(plugin_receives.decide(&waiting, &complete_it), None);
        }
    }

    #[test]
    fn receiving_makes_the_plugin_decision_with_the_note() {
        let mut order = command("receive", Role::Officer);
        order.note = "  Đã kiểm tra bản chính ".into();
        let decided = standard()
            .decide(&complete("submitted", Status::Submitted), &order)
            .unwrap()
            .unwrap();
        assert_eq!(decided, received().note("Đã kiểm tra bản chính"));
    }

    #[test]
    fn refusing_needs_a_reason() {
        let intake = standard();
        let dossier = complete("submitted", Status::Submitted);
        let mut order = command("refuse", Role::Officer);
        order.note = "   ".into();
        let refusal = intake.decide(&dossier, &order).unwrap().unwrap_err();
        assert_eq!(refusal.code, "note-required");
        assert_eq!(refusal.message, "Từ chối tiếp nhận phải ghi rõ lý do.");
        order.note = " Không thuộc thẩm quyền ".into();
        let decided = intake.decide(&dossier, &order).unwrap().unwrap();
        assert_eq!(
            decided,
            decision("refused", Status::Refused).note("Không thuộc thẩm quyền")
        );
    }

    #[test]
    fn a_supplement_request_lists_every_gap() {
        let intake = standard();
        let dossier = at("submitted", Status::Submitted, &["request-form"]);
        let mut order = command("request-supplement", Role::Officer);
        order.payload_json =
            r#"{"items":[{"target":"form.address","message":"Ghi rõ số nhà"}]}"#.into();
        let decided = intake.decide(&dossier, &order).unwrap().unwrap();
        assert_eq!(
            (decided.next_step.as_str(), decided.status),
            ("supplement", Status::SupplementRequested)
        );
        let [Effect::RequestSupplement(items)] = decided.effects.as_slice() else {
            panic!("{:?}", decided.effects)
        };
        let targets: Vec<&str> = items.iter().map(|item| item.target.as_str()).collect();
        assert_eq!(targets, ["documents.identity", "form.address"]);
        // Nothing to ask for: refused, so the clock is not stopped for nothing.
        let refusal = intake
            .decide(
                &complete("submitted", Status::Submitted),
                &command("request-supplement", Role::Officer),
            )
            .unwrap()
            .unwrap_err();
        assert_eq!(refusal.code, "nothing-missing");
    }

    #[test]
    fn completing_a_supplement_waits_for_every_document_and_resubmits() {
        let intake = standard();
        let complete_it = command("complete-supplement", Role::Citizen);
        let refusal = intake
            .decide(
                &at("supplement", Status::SupplementRequested, &["request-form"]),
                &complete_it,
            )
            .unwrap()
            .unwrap_err();
        assert_eq!(refusal.code, "still-incomplete");
        let decided = intake
            .decide(
                &complete("supplement", Status::SupplementRequested),
                &complete_it,
            )
            .unwrap()
            .unwrap();
        assert_eq!(decided, decision("submitted", Status::Submitted));
    }

    #[test]
    fn a_completed_supplement_can_be_received_or_go_to_a_given_step() {
        let restart = decision("review", Status::Processing)
            .effect(Effect::StartClock(ProcessingTime::WorkingDays(3)));
        let dossier = complete("supplement", Status::SupplementRequested);
        let complete_it = command("complete-supplement", Role::Officer);
        let to_review = standard().after_supplement(Resume::To(restart.clone()));
        assert_eq!(to_review.decide(&dossier, &complete_it), Some(Ok(restart)));
        let received_at_once = standard().after_supplement(Resume::Receive);
        assert_eq!(
            received_at_once.decide(&dossier, &complete_it),
            Some(Ok(received()))
        );
    }

    #[test]
    fn the_receive_decision_is_made_only_when_a_dossier_is_received() {
        // A plugin's receive decision may read the unit's settings, a call into the host.
        let intake = Intake::new(|_| documents())
            .on_receive(|_| panic!("receive decided"))
            .after_supplement(Resume::Receive);
        let mut refuse_it = command("refuse", Role::Officer);
        refuse_it.note = "lý do".into();
        let submitted = at("submitted", Status::Submitted, &[]);
        assert!(intake.decide(&submitted, &refuse_it).unwrap().is_ok());
        let ask = command("request-supplement", Role::Officer);
        assert!(intake.decide(&submitted, &ask).unwrap().is_ok());
        let waiting = at("supplement", Status::SupplementRequested, &[]);
        let complete_it = command("complete-supplement", Role::Citizen);
        assert_eq!(
            intake
                .decide(&waiting, &complete_it)
                .unwrap()
                .unwrap_err()
                .code,
            "still-incomplete"
        );
    }

    #[test]
    fn documents_and_receipt_may_depend_on_the_dossier() {
        // Minutes are required only when the form says there are several members, and
        // the fee is requested only for dossiers not filed online.
        let intake = Intake::new(|dossier: &Dossier| {
            let mut required = documents();
            if dossier.form_json.contains("members") {
                required.push(requirement("minutes", "Biên bản họp").option("minutes", "Biên bản"));
            }
            required
        })
        .on_receive(|dossier| {
            let received = received();
            if dossier.channel == crate::types::Channel::Online {
                received
            } else {
                received.effect(Effect::RequestFee(FeeRequest {
                    code: "registration".into(),
                    amount_vnd: 100_000,
                    reason: "Lệ phí".into(),
                }))
            }
        })
        .supplement_from("review", Role::Specialist)
        .after_supplement(Resume::Receive);
        let mut dossier = complete("review", Status::Processing);
        let ask = command("request-supplement", Role::Specialist);
        assert_eq!(
            intake.decide(&dossier, &ask).unwrap().unwrap_err().code,
            "nothing-missing"
        );
        dossier.form_json = r#"{"members": [1, 2]}"#.into();
        let decided = intake.decide(&dossier, &ask).unwrap().unwrap();
        let [Effect::RequestSupplement(items)] = decided.effects.as_slice() else {
            panic!("{:?}", decided.effects)
        };
        assert_eq!(items[0].target, "documents.minutes");
        // Supplements are no longer asked for in `submitted`.
        dossier.step = "submitted".into();
        assert_eq!(intake.decide(&dossier, &ask), None);

        dossier.step = "supplement".into();
        dossier.channel = crate::types::Channel::InPerson;
        let complete_it = command("complete-supplement", Role::Citizen);
        assert_eq!(
            intake
                .decide(&dossier, &complete_it)
                .unwrap()
                .unwrap_err()
                .code,
            "still-incomplete"
        );
        dossier.documents.push(document("minutes"));
        let decided = intake.decide(&dossier, &complete_it).unwrap().unwrap();
        assert_eq!(decided.next_step, "review");
        assert!(matches!(
            decided.effects.as_slice(),
            [Effect::StartClock(_), Effect::RequestFee(fee)] if fee.amount_vnd == 100_000
        ));
    }
}
