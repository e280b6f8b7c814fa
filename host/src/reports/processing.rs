//! The processing-situation table provinces publish every month: per unit and
//! procedure, per unit, per procedure and for the province.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Period, PeriodView, Result, from_hundredths, percent_hundredths, ratio_hundredths};
use crate::calendar::Calendar;
use crate::store::{GroupCounts, Store};

/// One row of counts: how many dossiers the period had, and where each one stands at
/// the period's end. The columns from `settled` to `withdrawn` sort every dossier into
/// exactly one place, so they add up to `to_process`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Filed before the period and still open at its start.
    pub carried_over: i64,
    /// Filed in the period, by channel.
    pub received: Received,
    /// Carried over + received.
    pub to_process: i64,
    /// Settled (status 9 or 10) by the period's end, against the statutory due date.
    pub settled: Settled,
    /// Still in progress (status 1, 2 or 4) at the period's end.
    pub in_progress: InProgress,
    /// Waiting for the citizen's supplement (status 5).
    pub waiting_supplement: i64,
    /// Waiting for the citizen's payment (status 6).
    pub awaiting_payment: i64,
    /// Refused at intake (status 3).
    pub refused: i64,
    /// Processing stopped (status 8).
    pub stopped: i64,
    /// Withdrawn by the citizen (status 7).
    pub withdrawn: i64,
    /// (Settled late + in progress overdue) ÷ to process, in percent; null when there
    /// is nothing to process.
    pub late_rate_percent: Option<f64>,
    /// 100 − the late rate.
    pub on_time_rate_percent: Option<f64>,
    /// Average processing time of the settled dossiers, in days (waiting for a
    /// supplement or a payment excluded).
    pub average_processing_days: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Received {
    pub online: i64,
    pub in_person: i64,
    pub postal: i64,
    pub total: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Settled {
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    pub total: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InProgress {
    pub not_yet_due: i64,
    pub due_soon: i64,
    pub overdue: i64,
    pub total: i64,
}

/// The counts of one unit for one procedure.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupRow {
    pub unit: String,
    pub procedure: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitRow {
    pub unit: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProcedureRow {
    pub procedure: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProcessingReport {
    pub period: PeriodView,
    /// The unit the report is restricted to, or null for the whole province.
    pub unit: Option<String>,
    /// The procedure the report is restricted to, or null for all.
    pub procedure: Option<String>,
    /// Per unit and procedure, ordered by unit then procedure.
    pub rows: Vec<GroupRow>,
    /// Per unit (the sum of its rows).
    pub units: Vec<UnitRow>,
    /// Per procedure (the sum of its rows).
    pub procedures: Vec<ProcedureRow>,
    /// Everything in the report.
    pub total: Counts,
}

/// Adds one group's counts into a running total.
pub(crate) fn add(total: &mut GroupCounts, group: &GroupCounts) {
    total.carried_over += group.carried_over;
    total.received_online += group.received_online;
    total.received_in_person += group.received_in_person;
    total.received_postal += group.received_postal;
    total.settled_early += group.settled_early;
    total.settled_on_time += group.settled_on_time;
    total.settled_late += group.settled_late;
    total.not_yet_due += group.not_yet_due;
    total.due_soon += group.due_soon;
    total.overdue += group.overdue;
    total.waiting_supplement += group.waiting_supplement;
    total.awaiting_payment += group.awaiting_payment;
    total.refused += group.refused;
    total.stopped += group.stopped;
    total.withdrawn += group.withdrawn;
    total.processing_seconds += group.processing_seconds;
    total.digitized += group.digitized;
    total.fee_bearing += group.fee_bearing;
    total.paid_online += group.paid_online;
    total.rated += group.rated;
    total.satisfied += group.satisfied;
}

impl GroupCounts {
    pub fn received(&self) -> i64 {
        self.received_online + self.received_in_person + self.received_postal
    }

    pub fn to_process(&self) -> i64 {
        self.carried_over + self.received()
    }

    pub fn settled(&self) -> i64 {
        self.settled_early + self.settled_on_time + self.settled_late
    }

    /// Settled late plus in progress overdue: what the late rate counts.
    pub fn late(&self) -> i64 {
        self.settled_late + self.overdue
    }
}

impl Counts {
    pub fn from_group(group: &GroupCounts) -> Counts {
        let to_process = group.to_process();
        let late = percent_hundredths(group.late(), to_process);
        let settled = group.settled();
        Counts {
            carried_over: group.carried_over,
            received: Received {
                online: group.received_online,
                in_person: group.received_in_person,
                postal: group.received_postal,
                total: group.received(),
            },
            to_process,
            settled: Settled {
                early: group.settled_early,
                on_time: group.settled_on_time,
                late: group.settled_late,
                total: settled,
            },
            in_progress: InProgress {
                not_yet_due: group.not_yet_due,
                due_soon: group.due_soon,
                overdue: group.overdue,
                total: group.not_yet_due + group.due_soon + group.overdue,
            },
            waiting_supplement: group.waiting_supplement,
            awaiting_payment: group.awaiting_payment,
            refused: group.refused,
            stopped: group.stopped,
            withdrawn: group.withdrawn,
            late_rate_percent: late.map(from_hundredths),
            on_time_rate_percent: late.map(|late| from_hundredths(10_000 - late)),
            average_processing_days: ratio_hundredths(
                i128::from(group.processing_seconds),
                i128::from(settled) * 86_400,
            )
            .map(from_hundredths),
        }
    }

    /// Every dossier sorted into exactly one place: the places add up to `to_process`.
    pub fn places_add_up(&self) -> bool {
        self.settled.total
            + self.in_progress.total
            + self.waiting_supplement
            + self.awaiting_payment
            + self.refused
            + self.stopped
            + self.withdrawn
            == self.to_process
    }
}

/// The processing report for the period, restricted to a unit and a procedure when given.
pub async fn processing(
    store: &Store,
    calendar: &Calendar,
    period: &Period,
    unit: Option<&str>,
    procedure: Option<&str>,
) -> Result<ProcessingReport> {
    if let Some(procedure) = procedure {
        super::check_code("procedure", procedure)?;
    }
    let groups = store
        .report_groups(&period.query(calendar, unit, procedure))
        .await?;
    let names: BTreeMap<String, String> = store
        .units()
        .await?
        .into_iter()
        .map(|unit| (unit.code, unit.name))
        .collect();
    let mut by_unit: BTreeMap<&str, GroupCounts> = BTreeMap::new();
    let mut by_procedure: BTreeMap<&str, GroupCounts> = BTreeMap::new();
    let mut total = GroupCounts::default();
    for group in &groups {
        add(by_unit.entry(&group.unit).or_default(), group);
        add(
            by_procedure.entry(&group.procedure_code).or_default(),
            group,
        );
        add(&mut total, group);
    }
    Ok(ProcessingReport {
        period: period.view(),
        unit: unit.map(str::to_string),
        procedure: procedure.map(str::to_string),
        rows: groups
            .iter()
            .map(|group| GroupRow {
                unit: group.unit.clone(),
                procedure: group.procedure_code.clone(),
                counts: Counts::from_group(group),
            })
            .collect(),
        units: by_unit
            .iter()
            .map(|(unit, counts)| UnitRow {
                unit: unit.to_string(),
                name: names.get(*unit).cloned().unwrap_or_default(),
                counts: Counts::from_group(counts),
            })
            .collect(),
        procedures: by_procedure
            .iter()
            .map(|(procedure, counts)| ProcedureRow {
                procedure: procedure.to_string(),
                counts: Counts::from_group(counts),
            })
            .collect(),
        total: Counts::from_group(&total),
    })
}
