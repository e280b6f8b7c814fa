//! A unit's inbox: its dossiers filtered, ordered and paged so that a page costs the same
//! whatever the unit's history (migration 0009, docs/decisions/0022).
//!
//! Each order is served by an index (no sort of the unit's rows per request), pages
//! continue from the last row seen (keyset: `after`), and totals are read from the
//! counts kept with every write (`dossier_counts`) instead of counting rows. The due-date
//! filters (overdue, due soon) read only running dossiers, through a partial index: they
//! grow with the work in hand, not with history.
//!
//! The SQL is put together from fixed fragments by which filters are on; every value
//! is bound.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::domain::{Applicant, Status};

/// The sort key of dossiers by due date, those without one last (the same expression
/// as the indexes `dossiers_inbox_due` and `dossiers_inbox_status_due`).
const DUE_KEY: &str = "COALESCE(due_date, '9999-12-31')";
const NO_DUE_DATE: &str = "9999-12-31";

#[derive(Clone, Debug)]
pub struct InboxQuery {
    pub unit: String,
    pub status: Option<Status>,
    pub procedure: Option<String>,
    pub due: Option<DueFilter>,
    /// Earliest due date first (dossiers without one last) instead of newest first.
    pub sort_by_due: bool,
    pub limit: i64,
    /// Continue after this row (keyset paging); takes precedence over `offset`.
    pub after: Option<InboxCursor>,
    /// Rows to skip (page numbers); callers keep it small.
    pub offset: i64,
}

/// Dossiers whose clock runs (received or processing) by their due date.
#[derive(Clone, Debug)]
pub enum DueFilter {
    /// Due before `today` (YYYY-MM-DD).
    Overdue { today: String },
    /// Due from `today` to `until`, both included.
    Soon { today: String, until: String },
}

#[derive(Clone, Debug)]
pub struct InboxRow {
    pub code: String,
    pub procedure_code: String,
    pub step: String,
    pub status: Status,
    pub applicant_name: String,
    pub channel: String,
    pub submitted_at: String,
    pub due_date: Option<String>,
    pub version: i64,
    pub due_provisional: bool,
}

/// Where a page ends, in the order it was read: what the next page continues after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxCursor {
    /// Newest first.
    Submitted { submitted_at: String, code: String },
    /// Earliest due first.
    Due {
        due_key: String,
        submitted_at: String,
        code: String,
    },
}

impl InboxCursor {
    fn after(row: &InboxRow, sort_by_due: bool) -> InboxCursor {
        if sort_by_due {
            InboxCursor::Due {
                due_key: row.due_date.clone().unwrap_or_else(|| NO_DUE_DATE.into()),
                submitted_at: row.submitted_at.clone(),
                code: row.code.clone(),
            }
        } else {
            InboxCursor::Submitted {
                submitted_at: row.submitted_at.clone(),
                code: row.code.clone(),
            }
        }
    }

    /// The cursor as an opaque token for a URL (hex).
    pub fn encode(&self) -> String {
        let text = match self {
            InboxCursor::Submitted { submitted_at, code } => format!("s\n{submitted_at}\n{code}"),
            InboxCursor::Due {
                due_key,
                submitted_at,
                code,
            } => format!("d\n{due_key}\n{submitted_at}\n{code}"),
        };
        hex::encode(text)
    }

    /// A token made by `encode`; `None` for anything else.
    pub fn decode(token: &str) -> Option<InboxCursor> {
        let text = String::from_utf8(hex::decode(token).ok()?).ok()?;
        let parts: Vec<&str> = text.split('\n').collect();
        let sane = |part: &&str| !part.is_empty() && part.len() <= 64;
        if !parts.iter().skip(1).all(sane) {
            return None;
        }
        match parts.as_slice() {
            ["s", submitted_at, code] => Some(InboxCursor::Submitted {
                submitted_at: submitted_at.to_string(),
                code: code.to_string(),
            }),
            ["d", due_key, submitted_at, code] => Some(InboxCursor::Due {
                due_key: due_key.to_string(),
                submitted_at: submitted_at.to_string(),
                code: code.to_string(),
            }),
            _ => None,
        }
    }

    /// Whether the cursor was made for this order.
    pub fn fits(&self, sort_by_due: bool) -> bool {
        matches!(self, InboxCursor::Due { .. }) == sort_by_due
    }
}

/// One page of an inbox.
#[derive(Clone, Debug)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    /// Every dossier the filters match, on every page.
    pub total: i64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<InboxCursor>,
}

/// Values bound to the SQL being put together, numbered in order.
#[derive(Default)]
struct Binds(Vec<Bound>);

#[derive(Clone)]
enum Bound {
    Text(String),
    Integer(i64),
}

impl Binds {
    fn text(&mut self, value: &str) -> String {
        self.0.push(Bound::Text(value.to_string()));
        format!("${}", self.0.len())
    }

    fn integer(&mut self, value: i64) -> String {
        self.0.push(Bound::Integer(value));
        format!("${}", self.0.len())
    }

    fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for value in &self.0 {
            query = match value {
                Bound::Text(text) => query.bind(text.as_str()),
                Bound::Integer(integer) => query.bind(*integer),
            };
        }
        query
    }
}

/// The SQL of a page and of its total, with their bound values.
struct InboxSql {
    page: String,
    page_binds: Binds,
    total: String,
    total_binds: Binds,
}

fn inbox_sql(query: &InboxQuery) -> Result<InboxSql> {
    let mut binds = Binds::default();
    let mut conditions = vec![format!("handling_unit = {}", binds.text(&query.unit))];
    if let Some(status) = query.status {
        conditions.push(format!("status = {}", binds.integer(status.code())));
    }
    if let Some(procedure) = &query.procedure {
        conditions.push(format!("procedure_code = {}", binds.text(procedure)));
    }
    // The running dossiers, exactly as the partial index `dossiers_inbox_running` names them.
    match &query.due {
        None => {}
        Some(DueFilter::Overdue { today }) => conditions.push(format!(
            "status IN (2, 4) AND due_date < {}",
            binds.text(today)
        )),
        Some(DueFilter::Soon { today, until }) => conditions.push(format!(
            "status IN (2, 4) AND due_date >= {} AND due_date <= {}",
            binds.text(today),
            binds.text(until)
        )),
    }
    let total = if query.due.is_some() {
        format!(
            "SELECT COUNT(*) FROM dossiers WHERE {}",
            conditions.join(" AND ")
        )
    } else {
        // The same conditions name the same columns of `dossier_counts`.
        format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM dossier_counts WHERE {}",
            conditions.join(" AND ")
        )
    };
    let total_binds = Binds(binds.0.clone());

    // With a due filter every row has a due date: the running index's own column.
    let due_key = if query.due.is_some() {
        "due_date"
    } else {
        DUE_KEY
    };
    match &query.after {
        None => {}
        Some(InboxCursor::Submitted { submitted_at, code }) if !query.sort_by_due => {
            conditions.push(format!(
                "(submitted_at, code) < ({}, {})",
                binds.text(submitted_at),
                binds.text(code)
            ));
        }
        Some(InboxCursor::Due {
            due_key: key,
            submitted_at,
            code,
        }) if query.sort_by_due => {
            conditions.push(format!(
                "({due_key}, submitted_at, code) > ({}, {}, {})",
                binds.text(key),
                binds.text(submitted_at),
                binds.text(code)
            ));
        }
        Some(_) => {
            return Err(StoreError::Conflict(
                "the page cursor was made for another order".into(),
            ));
        }
    }
    let order = if query.sort_by_due {
        format!("{due_key}, submitted_at, code")
    } else {
        "submitted_at DESC, code DESC".to_string()
    };
    let limit = binds.integer(query.limit + 1);
    let offset = binds.integer(if query.after.is_some() {
        0
    } else {
        query.offset
    });
    let sql = format!(
            "SELECT code, procedure_code, step, status, applicant_json, channel, submitted_at, due_date, version,
                    due_provisional
             FROM dossiers WHERE {}
             ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            conditions.join(" AND ")
        );
    Ok(InboxSql {
        page: sql,
        page_binds: binds,
        total,
        total_binds,
    })
}

impl Store {
    /// One page of the unit's inbox.
    pub async fn inbox(&self, query: &InboxQuery) -> Result<InboxPage> {
        let sql = inbox_sql(query)?;
        let total: i64 = sql
            .total_binds
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql.total.clone())))
            .fetch_one(&self.pool)
            .await?
            .get(0);
        let rows = sql
            .page_binds
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql.page.clone())))
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let applicant: String = row.get(4);
            let applicant: Applicant = serde_json::from_str(&applicant)
                .map_err(|_| StoreError::Corrupt("applicant".into()))?;
            items.push(InboxRow {
                code: row.get(0),
                procedure_code: row.get(1),
                step: row.get(2),
                status: Status::from_code(row.get(3))
                    .ok_or_else(|| StoreError::Corrupt("status".into()))?,
                applicant_name: applicant.full_name,
                channel: row.get(5),
                submitted_at: row.get(6),
                due_date: row.get(7),
                version: row.get(8),
                due_provisional: row.get::<i64, _>(9) != 0,
            });
        }
        let more = items.len() as i64 > query.limit;
        items.truncate(query.limit.max(0) as usize);
        let next = if more {
            items
                .last()
                .map(|row| InboxCursor::after(row, query.sort_by_due))
        } else {
            None
        };
        Ok(InboxPage {
            rows: items,
            total,
            next,
        })
    }

    /// How the database runs the queries of an inbox page (`EXPLAIN QUERY PLAN` on
    /// SQLite, `EXPLAIN` on PostgreSQL), the page's then the total's, a line each:
    /// tests and the scale tooling check that every page is read through an index.
    pub async fn inbox_plan(&self, query: &InboxQuery) -> Result<(Vec<String>, Vec<String>)> {
        let sql = inbox_sql(query)?;
        let explain = match self.backend {
            super::Backend::Sqlite => "EXPLAIN QUERY PLAN",
            super::Backend::Postgres => "EXPLAIN",
        };
        let mut plans = Vec::new();
        for (text, binds) in [(&sql.page, &sql.page_binds), (&sql.total, &sql.total_binds)] {
            let rows = binds
                .bind(sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{explain} {text}"
                ))))
                .fetch_all(&self.pool)
                .await?;
            plans.push(
                rows.iter()
                    .map(|row| match self.backend {
                        // (id, parent, notused, detail)
                        super::Backend::Sqlite => row.get::<String, _>(3),
                        super::Backend::Postgres => row.get::<String, _>(0),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let total = plans.pop().unwrap_or_default();
        let page = plans.pop().unwrap_or_default();
        Ok((page, total))
    }

    /// Recounts `dossier_counts` from the dossiers themselves, in one transaction: for
    /// rows written behind the store's back (bulk loads, the scale tooling).
    pub async fn rebuild_dossier_counts(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM dossier_counts")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n)
             SELECT handling_unit, procedure_code, status, 0, COUNT(*) FROM dossiers
             GROUP BY handling_unit, procedure_code, status",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Dossiers by handling unit and status code, from the kept counts (the metrics).
    pub async fn dossier_counts(&self) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT handling_unit, status, CAST(SUM(n) AS BIGINT) FROM dossier_counts
             GROUP BY handling_unit, status HAVING SUM(n) <> 0",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }
}
