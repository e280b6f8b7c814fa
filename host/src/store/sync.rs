//! The national sync feed: every status change, in an order a reader can follow with a
//! cursor that never skips or repeats a change, even while other requests write.
//!
//! Every dossier event that changes a reportable fact (every change of status does)
//! writes one `dossier_changes` row in its own transaction; the feed reads the rows
//! that changed the status.
//! - SQLite has one writer at a time (write transactions begin IMMEDIATE), so ids are
//!   handed out in commit order and `tx` is always 0: the position is the id.
//! - On PostgreSQL ids are handed out when rows are inserted, and transactions commit
//!   in another order, so a reader that followed ids alone could pass an id whose row
//!   is not committed yet and never see it. Each row carries the id of its writing
//!   transaction (`tx`), and the feed serves only rows of transactions older than
//!   every transaction still running (the snapshot's xmin): those are all finished,
//!   and any transaction that writes later has a larger id. Rows come in (tx, id)
//!   order, and the position is the pair.

use sqlx::Row;

use super::{Backend, Result, Store};

/// A position in the feed: after the change with this (transaction, id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    pub tx: i64,
    pub id: i64,
}

/// One status change, as the national portal is sent it.
#[derive(Clone, Debug)]
pub struct StatusChange {
    pub position: FeedPosition,
    pub dossier_code: String,
    pub seq: i64,
    pub at: String,
    pub unit: String,
    pub agency_id: String,
    pub procedure_code: String,
    pub channel: String,
    pub from_status: Option<i64>,
    pub to_status: i64,
}

impl Store {
    /// Up to `limit` status changes after `after`, in feed order.
    pub async fn status_changes_after(
        &self,
        after: FeedPosition,
        limit: i64,
    ) -> Result<Vec<StatusChange>> {
        // The horizon is the one statement that differs by backend: PostgreSQL's
        // transaction ids (see the module's comment); SQLite needs none.
        let horizon = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT tx, id, dossier_code, seq, at, handling_unit, agency_id, procedure_code, channel,
                    from_status, to_status
             FROM dossier_changes
             WHERE status_changed = 1 AND (tx, id) > ($1, $2) {horizon}
             ORDER BY tx, id
             LIMIT $3"
        )))
        .bind(after.tx)
        .bind(after.id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| StatusChange {
                position: FeedPosition {
                    tx: row.get(0),
                    id: row.get(1),
                },
                dossier_code: row.get(2),
                seq: row.get(3),
                at: row.get(4),
                unit: row.get(5),
                agency_id: row.get(6),
                procedure_code: row.get(7),
                channel: row.get(8),
                from_status: row.get(9),
                to_status: row.get(10),
            })
            .collect())
    }
}
