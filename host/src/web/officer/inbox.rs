//! The unit's inbox: the dossiers the caller's own unit handles, as the store's inbox
//! answers `GET /api/v1/units/{unit}/dossiers` for that unit's staff, with its filters
//! (status, overdue, due soon, procedure) and its two orders.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Choice, channel_name, choices, day, days_left, moment, step_name, unit_name};
use crate::api::AppState;
use crate::domain::Status;
use crate::runtime::PluginBuild;
use crate::store::{DueFilter, InboxCursor, InboxQuery};
use crate::web::session::{Nav, Staff, encode_component};
use crate::web::{PageError, render, status_name};
use crate::workflow::{WorkflowError, check_text, deadlines};

const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub(in crate::web) struct InboxParams {
    status: Option<String>,
    /// `overdue` or `soon`.
    due: Option<String>,
    procedure: Option<String>,
    /// `due` (earliest due date first, the default) or `received` (newest first).
    sort: Option<String>,
    /// Where the page starts: the `next` of the page before (keyset paging).
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    nav: Nav,
    unit: String,
    statuses: Vec<Choice>,
    dues: Vec<Choice>,
    procedures: Vec<Choice>,
    sorts: Vec<Choice>,
    rows: Vec<InboxLine>,
    total: i64,
    /// The first page, when this is a later one.
    first: Option<String>,
    next: Option<String>,
}

struct InboxLine {
    code: String,
    procedure: String,
    applicant: String,
    status: &'static str,
    step: String,
    received: String,
    due: String,
    left: String,
    left_class: &'static str,
    channel: String,
}

fn text_param(value: &Option<String>) -> &str {
    value.as_deref().map(str::trim).unwrap_or("")
}

/// The caller's unit's dossiers, filtered and sorted as the API's inbox does.
pub(in crate::web) async fn inbox(
    State(state): State<AppState>,
    staff: Staff,
    params: Result<Query<InboxParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let unit = staff.actor.unit.clone();
    let status_text = text_param(&params.status);
    let status = match status_text {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .and_then(Status::from_code)
                .or_else(|| Status::parse(text))
                .ok_or_else(|| PageError::bad_request("Trạng thái cần lọc không hợp lệ."))?,
        ),
    };
    let today = state.now().date();
    let calendar = state.runtime.calendar();
    let iso = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
    let due_text = text_param(&params.due);
    let due = match due_text {
        "" => None,
        "overdue" => Some(DueFilter::Overdue { today: iso(today) }),
        "soon" => Some(DueFilter::Soon {
            today: iso(today),
            until: iso(calendar.add_working_days(today, deadlines::DUE_SOON_WORKING_DAYS)),
        }),
        _ => return Err(PageError::bad_request("Bộ lọc thời hạn không hợp lệ.")),
    };
    let procedure_text = text_param(&params.procedure);
    check_text("procedure", procedure_text, false)?;
    let sort_text = match text_param(&params.sort) {
        "" | "due" => "due",
        "received" => "received",
        _ => return Err(PageError::bad_request("Cách sắp xếp không hợp lệ.")),
    };
    let after = match text_param(&params.after) {
        "" => None,
        token => Some(
            InboxCursor::decode(token)
                .filter(|cursor| cursor.fits(sort_text == "due"))
                .ok_or_else(|| PageError::bad_request("Trang cần xem không hợp lệ."))?,
        ),
    };
    let inbox = state
        .store
        .inbox(&InboxQuery {
            unit: unit.clone(),
            status,
            procedure: (!procedure_text.is_empty()).then(|| procedure_text.to_string()),
            due,
            sort_by_due: sort_text == "due",
            limit: PER_PAGE,
            after: after.clone(),
            offset: 0,
        })
        .await
        .map_err(WorkflowError::from)?;
    let (rows, total) = (inbox.rows, inbox.total);

    // The unit's procedures, by the national code dossiers count under.
    let offered: HashMap<String, Arc<PluginBuild>> = state
        .registry
        .offered(&unit)
        .into_iter()
        .map(|(binding, build)| (binding.procedure_code, build))
        .collect();
    let mut procedure_options: Vec<(String, String)> = offered
        .iter()
        .map(|(code, build)| (code.clone(), format!("{} ({code})", build.info.name)))
        .collect();
    procedure_options.sort_by(|a, b| a.1.cmp(&b.1));
    procedure_options.insert(0, (String::new(), "Tất cả thủ tục".into()));

    let rows = rows
        .into_iter()
        .map(|row| {
            let build = offered.get(&row.procedure_code).map(Arc::as_ref);
            let left = row
                .due_date
                .as_deref()
                .and_then(|due| NaiveDate::parse_from_str(due, "%Y-%m-%d").ok())
                .filter(|_| deadlines::clock_runs(row.status))
                .map(|due| calendar.working_days_between(today, due));
            let (left, left_class) = days_left(left);
            InboxLine {
                procedure: build
                    .map(|build| build.info.name.clone())
                    .unwrap_or_else(|| row.procedure_code.clone()),
                step: step_name(build, &row.step),
                applicant: row.applicant_name,
                status: status_name(row.status),
                received: moment(&row.submitted_at),
                due: match &row.due_date {
                    Some(due) if row.due_provisional => format!("{} (tạm tính)", day(due)),
                    Some(due) => day(due),
                    None => "—".into(),
                },
                left: if left.is_empty() { "—".into() } else { left },
                left_class,
                channel: channel_name(&row.channel).to_string(),
                code: row.code,
            }
        })
        .collect();

    let link = |after: Option<&InboxCursor>| {
        let mut query = format!(
            "/staff/inbox?status={}&due={}&procedure={}&sort={}",
            encode_component(status_text),
            encode_component(due_text),
            encode_component(procedure_text),
            sort_text
        );
        if let Some(cursor) = after {
            query.push_str(&format!("&after={}", cursor.encode()));
        }
        query
    };
    let mut statuses = vec![(String::new(), "Tất cả trạng thái".to_string())];
    statuses.extend(
        Status::ALL
            .iter()
            .map(|status| (status.code().to_string(), status_name(*status).to_string())),
    );
    let status_current = status.map(|s| s.code().to_string()).unwrap_or_default();
    let page_view = InboxPage {
        nav: staff.nav("inbox"),
        unit: unit_name(&state, &unit).await?,
        statuses: choices(statuses, &status_current),
        dues: choices(
            vec![
                (String::new(), "Tất cả".into()),
                ("overdue".into(), "Quá hạn".into()),
                (
                    "soon".into(),
                    format!(
                        "Sắp đến hạn (trong {} ngày làm việc)",
                        deadlines::DUE_SOON_WORKING_DAYS
                    ),
                ),
            ],
            due_text,
        ),
        procedures: choices(procedure_options, procedure_text),
        sorts: choices(
            vec![
                ("due".into(), "Hạn xử lý sớm nhất trước".into()),
                ("received".into(), "Nhận gần đây nhất trước".into()),
            ],
            sort_text,
        ),
        rows,
        total,
        first: after.is_some().then(|| link(None)),
        next: inbox.next.as_ref().map(|cursor| link(Some(cursor))),
    };
    Ok(render(&page_view))
}
