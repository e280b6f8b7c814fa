//! Applying a plugin's decision to a dossier: who may take an action at a step, the
//! dossier as the plugin sees it, and the decision checked against the build's declared
//! steps and turned into the dossier's new state. Pure functions: nothing here reads or
//! writes the store, so the server and the offline scenario harness share them.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{MAX_VND, MAX_WORKING_DAYS, Result, WorkflowError, deadlines, documents};
use crate::calendar::Calendar;
use crate::clock::{format_civil, parse_civil};
use crate::domain::{Decision, Document, DossierSnapshot, Effect, ResultDocument, Role, Status};
use crate::runtime::PluginBuild;
use crate::store::{DossierRecord, DossierUpdate, StoreError};

/// Adds an amount to a running total, refusing sums beyond any real fee.
fn add_vnd(total: i64, amount: u64) -> Option<i64> {
    i64::try_from(amount)
        .ok()
        .and_then(|amount| total.checked_add(amount))
        .filter(|sum| *sum <= MAX_VND)
}

/// Checks a decision against the steps the build declared and turns its effects into
/// the dossier's new state. Nothing is written here. The server and the offline
/// scenario harness both go through this one function.
pub fn apply_decision(
    calendar: &Calendar,
    record: &DossierRecord,
    build: &PluginBuild,
    decision: &Decision,
    cutoff: NaiveTime,
    now: NaiveDateTime,
    new_documents: Vec<Document>,
) -> Result<DossierUpdate> {
    let reject = |message: String| Err(WorkflowError::DecisionRejected(message));
    let Some(next) = build.info.step(&decision.next_step) else {
        return reject(format!(
            "next step `{}` is not declared by {}",
            decision.next_step,
            build.label()
        ));
    };
    if next.status != decision.status {
        return reject(format!(
            "step `{}` is declared with status {} but the decision says {}",
            next.id,
            next.status.as_str(),
            decision.status.as_str()
        ));
    }
    let mut update = deadlines::unchanged(record, now);
    update.step = next.id.clone();
    update.status = next.status;
    update.new_documents = new_documents;
    let mut clock_started = false;
    let mut supplement_requested = false;
    for effect in &decision.effects {
        match effect {
            Effect::StartClock { processing_time } => {
                if processing_time.working_days() > MAX_WORKING_DAYS {
                    return reject(format!(
                        "a processing time of {} working days is beyond any statutory time",
                        processing_time.working_days()
                    ));
                }
                // Starting, or restarting from zero after a supplement: the time
                // counts again from this moment.
                deadlines::start_clock(
                    calendar,
                    &mut update,
                    now,
                    cutoff,
                    processing_time.working_days(),
                );
                clock_started = true;
                if update.received_at.is_none() {
                    update.received_at = Some(format_civil(now));
                }
            }
            Effect::RequestSupplement { items } => {
                if items.is_empty() {
                    return reject("a supplement request must list the missing items".into());
                }
                supplement_requested = true;
                update.supplement_count += 1;
            }
            Effect::ExtendDue {
                new_due_date,
                reason,
            } => {
                if record.extension_count > 0 || update.extension_count > record.extension_count {
                    return reject(
                        "the due date may be extended (with an apology) only once per dossier"
                            .into(),
                    );
                }
                let Some(current) = record.due_date.as_deref().and_then(parse_date) else {
                    return reject("there is no due date to extend".into());
                };
                if *new_due_date <= current {
                    return reject(format!(
                        "the new due date {new_due_date} is not after the current one {current}"
                    ));
                }
                if now.date() >= current {
                    return reject(
                        "an apology must be issued at least one day before the due date".into(),
                    );
                }
                if reason.trim().is_empty() {
                    return reject("an extension needs a reason".into());
                }
                update.due_date = Some(new_due_date.format("%Y-%m-%d").to_string());
                update.extension_count += 1;
            }
            Effect::RequestFee {
                code, amount_vnd, ..
            } => {
                // A fee the build never declared is one the catalog never showed.
                if !build.info.fees.iter().any(|fee| fee.code == *code) {
                    let declared: Vec<&str> = build.info.fees.iter().map(|f| &*f.code).collect();
                    let label = build.label();
                    return reject(format!(
                        "fee `{code}` is not declared by {label} (it declares {declared:?})"
                    ));
                }
                let Some(total) = add_vnd(update.fees_requested_vnd, *amount_vnd) else {
                    return reject(format!("a fee of {amount_vnd} VND is beyond any fee"));
                };
                update.fees_requested_vnd = total;
            }
            Effect::RecordPayment {
                amount_vnd,
                online,
                receipt,
            } => {
                if *amount_vnd == 0 || receipt.trim().is_empty() {
                    return reject("a payment needs an amount and a receipt".into());
                }
                let Some(total) = add_vnd(update.fees_paid_vnd, *amount_vnd) else {
                    return reject(format!("a payment of {amount_vnd} VND is beyond any fee"));
                };
                update.fees_paid_vnd = total;
                update.paid_online |= *online;
            }
            Effect::IssueResult { result } => {
                // Whether a result has its file is the host's to say: a newly issued
                // result has none until the handling unit attaches it.
                update.result = Some(ResultDocument {
                    digitized: false,
                    file: None,
                    ..result.clone()
                });
            }
            Effect::NotifyApplicant { .. } => {}
        }
    }
    if next.status == Status::SupplementRequested && !supplement_requested {
        return reject(
            "moving to a supplement-requested step needs a request-supplement effect".into(),
        );
    }
    if supplement_requested && next.status != Status::SupplementRequested {
        return reject(
            "a supplement request must move the dossier to a supplement-requested step".into(),
        );
    }
    if next.status == Status::Settled && update.result.is_none() {
        return reject("a dossier cannot be settled without a result".into());
    }
    if matches!(next.status, Status::Processing | Status::Settled) && update.due_date.is_none() {
        return reject(
            "processing needs a due date: start the clock when the dossier is received".into(),
        );
    }
    if next.status == Status::Settled && update.settled_at.is_none() {
        update.settled_at = Some(format_civil(now));
    }
    if next.status == Status::Returned {
        if update.result.is_none() {
            return reject("there is no result to return".into());
        }
        update.returned_at = Some(format_civil(now));
    }
    deadlines::follow_status(calendar, record, &mut update, clock_started, now, cutoff);
    update.facts.digitized = documents::digitized(
        &build.info,
        record.documents.iter().chain(update.new_documents.iter()),
        update.result.as_ref(),
    );
    Ok(update)
}

/// Checks that `role` may take `action` in `step` of the build's declared workflow.
pub fn authorize_action(build: &PluginBuild, step: &str, action: &str, role: Role) -> Result<()> {
    if step == deadlines::CLOSED_INCOMPLETE_STEP && build.info.step(step).is_none() {
        // The host's own final step: nothing more can be done.
        return Err(WorkflowError::ActionNotAvailable {
            action: action.to_string(),
            step: step.to_string(),
        });
    }
    let spec = build.info.step(step).ok_or_else(|| {
        WorkflowError::Store(StoreError::Corrupt(format!(
            "dossier step `{step}` is not declared by its build"
        )))
    })?;
    let declared = spec
        .actions
        .iter()
        .find(|declared| declared.name == action)
        .ok_or_else(|| WorkflowError::ActionNotAvailable {
            action: action.to_string(),
            step: step.to_string(),
        })?;
    if !declared.roles.contains(&role) {
        return Err(WorkflowError::Forbidden(format!(
            "role `{}` may not take action `{action}` in step `{step}`",
            role.as_str()
        )));
    }
    Ok(())
}

/// The cut-off hour when a unit has none set.
pub const DEFAULT_CUTOFF: NaiveTime = NaiveTime::from_hms_opt(15, 0, 0).expect("valid time");

pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The plugin's view of a stored dossier.
pub fn snapshot(record: &DossierRecord) -> Result<DossierSnapshot> {
    let corrupt = |what: &str| {
        WorkflowError::Store(StoreError::Corrupt(format!(
            "dossier {}: {what}",
            record.code
        )))
    };
    Ok(DossierSnapshot {
        code: record.code.clone(),
        procedure_code: record.procedure_code.clone(),
        receiving_unit: record.receiving_unit.clone(),
        handling_unit: record.handling_unit.clone(),
        channel: record.channel,
        applicant: record.applicant.clone(),
        form: record.form.clone(),
        documents: record.documents.clone(),
        step: record.step.clone(),
        status: record.status,
        submitted_at: parse_civil(&record.submitted_at).ok_or_else(|| corrupt("submitted_at"))?,
        received_at: record
            .received_at
            .as_deref()
            .map(|t| parse_civil(t).ok_or_else(|| corrupt("received_at")))
            .transpose()?,
        due_date: record
            .due_date
            .as_deref()
            .map(|t| parse_date(t).ok_or_else(|| corrupt("due_date")))
            .transpose()?,
        supplement_count: u32::try_from(record.supplement_count).unwrap_or(u32::MAX),
        extension_count: u32::try_from(record.extension_count).unwrap_or(u32::MAX),
        fees_requested_vnd: u64::try_from(record.fees_requested_vnd).unwrap_or(0),
        fees_paid_vnd: u64::try_from(record.fees_paid_vnd).unwrap_or(0),
        result: record.result.clone(),
    })
}
