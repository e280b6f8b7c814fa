//! Deadline keeping: the clock a dossier's status starts, pauses and stops, the facts
//! the reports count, and the host's own sweeps.
//!
//! - Receiving a dossier starts the clock (`start-clock`): the due date is the receipt
//!   day (the next working day after the unit's cut-off) plus the statutory working days.
//! - A supplement request (status 5) stops it; completing the dossier restarts it from
//!   zero (the plugin starts the clock again).
//! - Waiting for the applicant's financial obligation (status 6) pauses it: leaving
//!   status 6 resumes it with the working days that were left.
//! - Time spent in status 5 or 6 is not processing time (`waited_seconds`).
//! - A dossier left at status 5 for 15 working days is closed by the host (status 8).
//! - A due date computed across a year whose holiday table is not loaded counts
//!   weekends only and is marked provisional; loading the table recomputes it, with an
//!   audit event.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::json;

use super::{Result, Workflow, WorkflowError, parse_date};
use crate::calendar::Calendar;
use crate::clock::{format_civil, parse_civil};
use crate::domain::Status;
use crate::store::{Deadline, DossierRecord, DossierUpdate, NewEvent, Store, StoreError};

/// Working days a dossier may wait for its supplement before the host closes it.
pub const SUPPLEMENT_WAIT_WORKING_DAYS: u32 = 15;

/// A running dossier is "due soon" when it is due today or within this many working days.
pub const DUE_SOON_WORKING_DAYS: u32 = 2;

/// The step of a dossier the host closed because its supplement never came. It is the
/// host's, not the plugin's: it has status 8 (processing stopped) and no actions.
pub const CLOSED_INCOMPLETE_STEP: &str = "closed-incomplete";
pub const CLOSED_INCOMPLETE_STEP_NAME: &str =
    "Dừng xử lý: không bổ sung hồ sơ trong 15 ngày làm việc";

/// The actor recorded on the host's own events.
pub const SYSTEM_ACTOR: &str = "system";

/// Statuses after which nothing more is processed (3, 7, 8, 9, 10).
pub fn is_final(status: Status) -> bool {
    matches!(
        status,
        Status::Refused
            | Status::WithdrawalRequested
            | Status::Stopped
            | Status::Settled
            | Status::Returned
    )
}

/// Statuses in which the clock runs and a dossier can be overdue.
pub fn clock_runs(status: Status) -> bool {
    matches!(status, Status::Received | Status::Processing)
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Starts the count of `days` working days at `now`, the unit's cut-off applied.
pub(crate) fn start_clock(
    calendar: &Calendar,
    update: &mut DossierUpdate,
    now: NaiveDateTime,
    cutoff: NaiveTime,
    days: u32,
) {
    let base = calendar.receipt_day(now, cutoff);
    let due = calendar.add_working_days(base, days);
    update.clock_started_at = Some(format_civil(now));
    update.due_date = Some(day_text(due));
    update.deadline.statutory_due_date = Some(day_text(due));
    update.deadline.clock_base_day = Some(day_text(base));
    update.deadline.clock_days = Some(i64::from(days));
    update.deadline.provisional = !calendar.covers_span(base, due);
    update.deadline.paused_days_left = None;
}

fn seconds_since(since: Option<&str>, now: NaiveDateTime) -> i64 {
    since
        .and_then(parse_civil)
        .map(|since| (now - since).num_seconds().max(0))
        .unwrap_or(0)
}

/// Follows a status change: waits begin and end, the payment pause stops and resumes
/// the clock, and the facts the reports count are brought up to date.
pub(crate) fn follow_status(
    calendar: &Calendar,
    record: &DossierRecord,
    update: &mut DossierUpdate,
    clock_started_now: bool,
    now: NaiveDateTime,
    cutoff: NaiveTime,
) {
    let (from, to) = (record.status, update.status);
    let waits = |status: Status| {
        matches!(
            status,
            Status::SupplementRequested | Status::AwaitingPayment
        )
    };
    if waits(from) && from != to {
        update.deadline.waited_seconds +=
            seconds_since(update.deadline.waiting_since.as_deref(), now);
        update.deadline.waiting_since = None;
        if from == Status::AwaitingPayment && !clock_started_now {
            if let Some(left) = update.deadline.paused_days_left.take() {
                // Paying resumes the clock with the working days that were left.
                let base = calendar.receipt_day(now, cutoff);
                let due = calendar.add_working_days(base, u32::try_from(left).unwrap_or(0));
                let moved_by_apology = record.extension_count > 0;
                update.deadline.statutory_due_date = Some(day_text(due));
                update.deadline.clock_base_day = Some(day_text(base));
                update.deadline.clock_days = Some(left);
                update.deadline.provisional = !calendar.covers_span(base, due);
                let apology_date = update.due_date.as_deref().and_then(parse_date);
                update.due_date = Some(day_text(match apology_date {
                    Some(promised) if moved_by_apology && promised > due => promised,
                    _ => due,
                }));
            }
        }
    }
    if waits(to) && from != to {
        update.deadline.waiting_since = Some(format_civil(now));
        if to == Status::AwaitingPayment {
            // Pausing: keep the working days that are left. A dossier already overdue
            // stays overdue; its due date does not move.
            update.deadline.paused_days_left = update
                .deadline
                .statutory_due_date
                .as_deref()
                .and_then(parse_date)
                .map(|due| calendar.working_days_between(now.date(), due))
                .filter(|left| *left >= 0);
        }
    }
    if is_final(to) && update.facts.closed_at.is_none() {
        update.facts.closed_at = Some(format_civil(now));
    }
    if record.settled_at.is_none() && update.settled_at.is_some() {
        let started = update
            .received_at
            .as_deref()
            .unwrap_or(&record.submitted_at)
            .to_string();
        update.facts.processing_seconds =
            Some((seconds_since(Some(&started), now) - update.deadline.waited_seconds).max(0));
    }
}

/// The update that leaves a dossier as it is, to be changed field by field.
pub(crate) fn unchanged(record: &DossierRecord, now: NaiveDateTime) -> DossierUpdate {
    DossierUpdate {
        step: record.step.clone(),
        status: record.status,
        received_at: record.received_at.clone(),
        clock_started_at: record.clock_started_at.clone(),
        due_date: record.due_date.clone(),
        supplement_count: record.supplement_count,
        extension_count: record.extension_count,
        fees_requested_vnd: record.fees_requested_vnd,
        fees_paid_vnd: record.fees_paid_vnd,
        paid_online: record.paid_online,
        result: record.result.clone(),
        settled_at: record.settled_at.clone(),
        returned_at: record.returned_at.clone(),
        updated_at: format_civil(now),
        new_documents: Vec::new(),
        stored_component: None,
        deadline: record.deadline.clone(),
        facts: record.facts.clone(),
    }
}

fn system_event(
    record: &DossierRecord,
    update: &DossierUpdate,
    now: NaiveDateTime,
    action: &str,
    note: String,
    payload: serde_json::Value,
) -> NewEvent {
    NewEvent {
        at: format_civil(now),
        actor_id: SYSTEM_ACTOR.into(),
        actor_role: SYSTEM_ACTOR.into(),
        actor_unit: record.handling_unit.clone(),
        action: action.into(),
        from_step: Some(record.step.clone()),
        to_step: update.step.clone(),
        from_status: Some(record.status.code()),
        to_status: update.status.code(),
        note,
        payload_json: payload.to_string(),
    }
}

/// The last day of the supplement wait that started on `day`: its 15th working day after.
pub fn supplement_deadline(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    let mut deadline = day;
    for _ in 0..SUPPLEMENT_WAIT_WORKING_DAYS {
        deadline = calendar.next_working_day(deadline);
    }
    deadline
}

/// The latest request day whose wait has fully run out before `today`.
fn latest_expired_request_day(calendar: &Calendar, today: NaiveDate) -> NaiveDate {
    let mut day = today.pred_opt().expect("date in range");
    while supplement_deadline(calendar, day) >= today {
        day = day.pred_opt().expect("date in range");
    }
    day
}

impl Workflow {
    /// Closes every dossier that has waited at status 5 for 15 working days without its
    /// supplement: status 8, the host's `closed-incomplete` step, the reason in the audit
    /// event. Safe to run at any time and on several hosts at once: each dossier is
    /// closed by a version compare-and-set, so exactly one run closes it and the others
    /// skip it. Returns the codes this run closed.
    pub async fn close_unsupplemented(&self) -> Result<Vec<String>> {
        let now = self.now();
        let calendar = self.runtime.calendar();
        let last_day = latest_expired_request_day(&calendar, now.date());
        let waiting_until = format!("{}T23:59:59+07:00", day_text(last_day));
        let mut closed = Vec::new();
        for code in self
            .store
            .waiting_since(Status::SupplementRequested, &waiting_until)
            .await?
        {
            let Some(record) = self.store.dossier(&code).await? else {
                continue;
            };
            let Some(since) = record
                .deadline
                .waiting_since
                .as_deref()
                .and_then(parse_civil)
            else {
                continue;
            };
            let deadline = supplement_deadline(&calendar, since.date());
            if record.status != Status::SupplementRequested || deadline >= now.date() {
                continue;
            }
            let mut update = unchanged(&record, now);
            update.step = CLOSED_INCOMPLETE_STEP.into();
            update.status = Status::Stopped;
            follow_status(
                &calendar,
                &record,
                &mut update,
                false,
                now,
                super::DEFAULT_CUTOFF,
            );
            let reason = format!(
                "Hồ sơ không được bổ sung trong {SUPPLEMENT_WAIT_WORKING_DAYS} ngày làm việc kể từ ngày {} (hạn cuối {}); hệ thống dừng xử lý.",
                since.date().format("%d/%m/%Y"),
                deadline.format("%d/%m/%Y"),
            );
            let event = system_event(
                &record,
                &update,
                now,
                "close-incomplete",
                reason.clone(),
                json!({
                    "reason": "supplement-not-received",
                    "supplement_requested_at": record.deadline.waiting_since,
                    "last_day": day_text(deadline),
                    "working_days": SUPPLEMENT_WAIT_WORKING_DAYS,
                    // The calendar the sweep counted with, for the replay (docs/decisions/0016).
                    "host": { "calendar": self.calendar_watch.fingerprint().await },
                }),
            );
            match self.store.apply_action(&record, &update, &event).await {
                Ok(_) => closed.push(record.code.clone()),
                // Another host closed it, or the citizen completed it, meanwhile.
                Err(StoreError::VersionConflict { .. }) => {}
                Err(error) => return Err(WorkflowError::from(error)),
            }
        }
        if !closed.is_empty() {
            tracing::info!(
                count = closed.len(),
                "closed dossiers whose supplement never came"
            );
        }
        Ok(closed)
    }
}

/// What a calendar change did to open dossiers' due dates.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Recomputed {
    /// (dossier code, old due date, new due date)
    pub changed: Vec<(String, Option<String>, String)>,
}

/// Recomputes the provisional due dates of running dossiers with the calendar now in
/// force, each change with its audit event in the dossier's chain. Firm due dates are
/// kept: they were promised on the appointment slip with a complete calendar.
pub async fn recompute_provisional(
    store: &Store,
    calendar: &Calendar,
    now: NaiveDateTime,
) -> std::result::Result<Recomputed, StoreError> {
    let mut recomputed = Recomputed::default();
    for code in store.provisional_due_dates().await? {
        // A concurrent action may change the dossier between the read and the write;
        // read it again and retry a few times.
        for _attempt in 0..3 {
            let Some(record) = store.dossier(&code).await? else {
                break;
            };
            if !record.deadline.provisional || !clock_runs(record.status) {
                break;
            }
            let Deadline {
                clock_base_day: Some(base),
                clock_days: Some(days),
                ..
            } = &record.deadline
            else {
                break;
            };
            let Some(base) = parse_date(base) else { break };
            let due = calendar.add_working_days(base, u32::try_from(*days).unwrap_or(0));
            let provisional = !calendar.covers_span(base, due);
            let mut update = unchanged(&record, now);
            update.deadline.statutory_due_date = Some(day_text(due));
            update.deadline.provisional = provisional;
            let promised = record.due_date.as_deref().and_then(parse_date);
            update.due_date = Some(day_text(match promised {
                Some(promised) if record.extension_count > 0 && promised > due => promised,
                _ => due,
            }));
            if update.due_date == record.due_date && provisional == record.deadline.provisional {
                break;
            }
            let event = system_event(
                &record,
                &update,
                now,
                "recompute-due-date",
                format!(
                    "Ngày hẹn trả tính lại theo lịch nghỉ lễ mới: {} → {}.",
                    record.due_date.as_deref().unwrap_or("-"),
                    update.due_date.as_deref().unwrap_or("-")
                ),
                json!({
                    "reason": "calendar-loaded",
                    "before": { "due_date": record.due_date, "provisional": true },
                    "after": { "due_date": update.due_date, "provisional": provisional },
                }),
            );
            match store.apply_action(&record, &update, &event).await {
                Ok(_) => {
                    recomputed.changed.push((
                        record.code.clone(),
                        record.due_date.clone(),
                        update.due_date.clone().unwrap_or_default(),
                    ));
                    break;
                }
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(error) => return Err(error),
            }
        }
    }
    Ok(recomputed)
}

/// Working days left until the due date (negative when overdue), for a running dossier.
pub fn working_days_left(
    calendar: &Calendar,
    record: &DossierRecord,
    today: NaiveDate,
) -> Option<i64> {
    if !clock_runs(record.status) {
        return None;
    }
    let due = record.due_date.as_deref().and_then(parse_date)?;
    Some(calendar.working_days_between(today, due))
}

/// Whether the clock is running, paused for a payment, or stopped.
pub fn clock_state(record: &DossierRecord) -> &'static str {
    match record.status {
        Status::Received | Status::Processing => "running",
        Status::AwaitingPayment => "paused",
        Status::SupplementRequested => "stopped-for-supplement",
        Status::Submitted => "not-started",
        _ => "stopped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn supplement_wait_is_fifteen_working_days() {
        let calendar = Calendar::shipped();
        // Requested Monday 2 March 2026: 15 working days later is Monday 23 March.
        assert_eq!(
            supplement_deadline(&calendar, date("2026-03-02")),
            date("2026-03-23")
        );
        // Across Tết 2026 (14-22 Feb off): requested Friday 6 Feb; working days 9-13
        // Feb (5), 23-27 Feb (10), 2-6 Mar (15).
        assert_eq!(
            supplement_deadline(&calendar, date("2026-02-06")),
            date("2026-03-06")
        );
        // On Tuesday 24 March the 2 March request has expired, a 3 March one has not.
        assert_eq!(
            latest_expired_request_day(&calendar, date("2026-03-24")),
            date("2026-03-02")
        );
    }
}
