//! PostgreSQL: actions written in groups, one statement and one commit for many
//! (docs/decisions/0032-postgres-actions-in-groups.md).
//!
//! An action without documents is one statement on PostgreSQL (`writes.rs`): the
//! guarded row update, the chained event, the facts and the counts. Run alone, each
//! pays a round trip, a statement's set-up in the server and a commit (a flush of the
//! write-ahead log). Here one task per host takes every action write waiting (up to
//! [`MAX_GROUP`], no two of one dossier) and writes them with [`GROUP_SQL`], a single
//! statement over three JSON arrays: the rows, the events, the facts. While one group
//! runs, the next gathers, so the groups grow with the load and a lone action is a
//! group of one.
//!
//! Each action keeps its own version guard: a stale one updates no row, so nothing else
//! of it is written and it alone is refused; the others of its group are written. The
//! statement is atomic, so a group that fails (a constraint, a lost connection) wrote
//! nothing, and each of its actions is then written alone with its own statement and
//! answered from that.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::hot::HotPool;
use super::writer::{Param, Statement, bind};
use super::{Result, StoreError};

/// The most actions one statement writes. Past a few dozen the statement is no cheaper
/// per action, and a long group delays its first caller.
pub(super) const MAX_GROUP: usize = 64;

/// Action writes waiting for the task; callers wait for room when it is full.
const QUEUE: usize = 1024;

/// One action's write, as the group statement takes it, and as the statement it is
/// written with alone when its group fails.
pub(super) struct GroupedAction {
    pub code: String,
    pub expected_version: i64,
    /// The dossier row as the action leaves it: a JSON object of `dossiers` columns
    /// (`version` is the version read, the guard).
    pub row: Map<String, Value>,
    /// The chained event: a JSON object of `dossier_events` columns.
    pub event: Map<String, Value>,
    /// When the action changes a reportable fact: the count shard, and the status the
    /// dossier leaves when it changes status.
    pub facts: Option<(i64, Option<i64>)>,
    /// The same write as one statement of its own.
    pub alone: Statement,
}

struct Job {
    action: GroupedAction,
    reply: oneshot::Sender<Result<()>>,
}

/// The handle of a host's group writer; the task ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Groups {
    queue: mpsc::Sender<Job>,
    written: Arc<Written>,
}

/// What the task has written since the host started.
#[derive(Default)]
struct Written {
    /// Statements run, a group of one included.
    groups: AtomicU64,
    /// Actions those statements were run for.
    actions: AtomicU64,
}

impl Groups {
    /// Starts the task on the current runtime.
    pub(super) fn start(pool: HotPool) -> Groups {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let written = Arc::new(Written::default());
        tokio::spawn(write_groups(pool, receiver, Arc::clone(&written)));
        Groups { queue, written }
    }

    /// The groups written since the host started, and the actions in them.
    pub(super) fn written(&self) -> (u64, u64) {
        (
            self.written.groups.load(Ordering::Relaxed),
            self.written.actions.load(Ordering::Relaxed),
        )
    }

    /// Writes `action` with the others waiting; answers once its group is committed,
    /// or refused as stale when the dossier is no longer at the version read.
    pub(super) async fn write(&self, action: GroupedAction) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { action, reply })
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?
    }
}

/// The task: groups of waiting actions until every handle is gone.
async fn write_groups(pool: HotPool, mut receiver: mpsc::Receiver<Job>, written: Arc<Written>) {
    let mut waiting: VecDeque<Job> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match receiver.recv().await {
                Some(job) => waiting.push_back(job),
                None => return,
            }
        }
        while waiting.len() < 2 * MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        // No two actions of one dossier in a group: the second waits for the next, where
        // its version guard sees the first's write.
        let mut group = Vec::with_capacity(MAX_GROUP.min(waiting.len()));
        let mut codes = HashSet::with_capacity(group.capacity());
        let mut later = VecDeque::new();
        for job in waiting.drain(..) {
            if group.len() < MAX_GROUP && codes.insert(job.action.code.clone()) {
                group.push(job);
            } else {
                later.push_back(job);
            }
        }
        waiting = later;
        written.groups.fetch_add(1, Ordering::Relaxed);
        written
            .actions
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        write_group(&pool, group).await;
    }
}

async fn write_group(pool: &HotPool, mut group: Vec<Job>) {
    if group.len() == 1 {
        let job = group.into_iter().next().expect("a group of one");
        let answer = write_alone(pool, &job.action).await;
        let _ = job.reply.send(answer);
        return;
    }
    // The update takes the rows in the order of the records: in the order of their
    // codes, two hosts' groups lock the dossiers they share in the same order, and
    // never wait on each other in a cycle.
    group.sort_by(|a, b| a.action.code.cmp(&b.action.code));
    let rows = Value::Array(
        group
            .iter()
            .map(|job| job.action.row.clone().into())
            .collect(),
    );
    let events = Value::Array(
        group
            .iter()
            .map(|job| job.action.event.clone().into())
            .collect(),
    );
    let facts = Value::Array(
        group
            .iter()
            .filter_map(|job| {
                let (shard, moved_from) = job.action.facts?;
                let mut fact = Map::new();
                fact.insert("code".into(), job.action.code.clone().into());
                fact.insert("shard".into(), shard.into());
                fact.insert("moved_from".into(), moved_from.into());
                Some(Value::Object(fact))
            })
            .collect(),
    );
    let params = [
        Param::Text(Some(rows.to_string())),
        Param::Text(Some(events.to_string())),
        Param::Text(Some(facts.to_string())),
    ];
    let written = pool
        .with(async |connection| {
            let rows = bind(sqlx::query(GROUP_SQL.as_str()), &params)
                .fetch_all(&mut *connection)
                .await?;
            rows.iter()
                .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
                .collect::<Result<HashSet<String>>>()
        })
        .await;
    match written {
        Ok(written) => {
            for job in group {
                let answer = if written.contains(&job.action.code) {
                    Ok(())
                } else {
                    Err(StoreError::VersionConflict {
                        expected: job.action.expected_version,
                    })
                };
                let _ = job.reply.send(answer);
            }
        }
        // Nothing of the group was written: each action on its own, side by side.
        Err(error) => {
            tracing::debug!(%error, actions = group.len(), "a group of actions failed; writing each alone");
            for job in group {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let answer = write_alone(&pool, &job.action).await;
                    let _ = job.reply.send(answer);
                });
            }
        }
    }
}

/// One action with its own statement.
async fn write_alone(pool: &HotPool, action: &GroupedAction) -> Result<()> {
    pool.with(async |connection| {
        let changed = bind(
            sqlx::query(sqlx::AssertSqlSafe(action.alone.sql.clone())),
            &action.alone.params,
        )
        .execute(&mut *connection)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::VersionConflict {
                expected: action.expected_version,
            });
        }
        Ok(())
    })
    .await
}

/// A statement's value as JSON, for the group's arrays.
pub(super) fn json_of(param: &Param) -> Value {
    match param {
        Param::Int(Some(value)) => Value::from(*value),
        Param::Text(Some(value)) => Value::from(value.as_str()),
        Param::Int(None) | Param::Text(None) => Value::Null,
    }
}

/// The group statement: `$1` the rows (`dossiers` records, `version` the version read),
/// `$2` the events (`dossier_events` records), `$3` the facts (`code`, `shard`,
/// `moved_from`). The records take their columns' types from the tables
/// (`jsonb_populate_recordset`). Returns the code of every dossier it wrote.
///
/// As the statement of one action (`writes.rs`): an event and facts are written only
/// for a row the guard let through, the facts are read from the row as written, and
/// the counts of the whole group are summed by row and locked in key order, so two
/// groups never wait on each other's count rows in a cycle, and no count row is
/// written twice in one statement.
pub(super) static GROUP_SQL: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = super::writes::ROW_COLUMNS
        .iter()
        .map(|(column, _)| format!("{column} = r.{column}"))
        .collect();
    let returning: Vec<String> = super::writes::WRITTEN_FACTS
        .split(", ")
        .map(|column| format!("d.{column}"))
        .collect();
    let events: Vec<String> = super::dossiers::event_columns!()
        .split(", ")
        .map(|column| format!("v.{}", column.trim()))
        .collect();
    format!(
        "WITH r AS (SELECT * FROM jsonb_populate_recordset(NULL::dossiers, CAST($1 AS jsonb))),
         v AS (SELECT * FROM jsonb_populate_recordset(NULL::dossier_events, CAST($2 AS jsonb))),
         f AS (SELECT * FROM jsonb_to_recordset(CAST($3 AS jsonb)) AS f (code TEXT, shard BIGINT, moved_from BIGINT)),
         u AS (UPDATE dossiers d SET {set}, version = d.version + 1, last_seq = r.last_seq, last_hash = r.last_hash
               FROM r WHERE d.code = r.code AND d.version = r.version
               RETURNING {returning}),
         e AS (INSERT INTO dossier_events ({event_columns})
               SELECT {events} FROM v JOIN u ON u.code = v.dossier_code),
         c AS (INSERT INTO dossier_changes (dossier_code, seq, at, submitted_at, handling_unit, agency_id, procedure_code,
                   channel, from_status, to_status, status_changed, statutory_due_date, due_date, supplement_count,
                   settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating)
               SELECT u.code, v.seq, v.at, u.submitted_at, u.handling_unit, units.agency_id, u.procedure_code,
                      u.channel, v.from_status, u.status,
                      CASE WHEN v.from_status IS DISTINCT FROM v.to_status THEN 1 ELSE 0 END,
                      u.statutory_due_date, u.due_date, u.supplement_count, u.settled_at, u.closed_at,
                      u.processing_seconds, u.fees_requested_vnd, u.paid_online, u.digitized, u.rating
               FROM f JOIN u ON u.code = f.code JOIN v ON v.dossier_code = f.code
                    JOIN units ON units.code = u.handling_unit),
         n AS (INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n)
               SELECT u.handling_unit, u.procedure_code, m.status, f.shard, CAST(SUM(m.delta) AS BIGINT)
               FROM f JOIN u ON u.code = f.code,
                    LATERAL (VALUES (f.moved_from, -1), (u.status, 1)) AS m (status, delta)
               WHERE f.moved_from IS NOT NULL
               GROUP BY u.handling_unit, u.procedure_code, m.status, f.shard
               ORDER BY u.handling_unit, u.procedure_code, m.status, f.shard
               ON CONFLICT (handling_unit, procedure_code, status, shard)
               DO UPDATE SET n = dossier_counts.n + EXCLUDED.n)
         SELECT code FROM u",
        set = set.join(", "),
        returning = returning.join(", "),
        event_columns = super::dossiers::event_columns!(),
        events = events.join(", "),
    )
});

/// How PostgreSQL runs [`GROUP_SQL`] on a connection of the action path's pool: the
/// plan it keeps for the statement (`EXPLAIN EXECUTE` of the statement prepared there),
/// a line each.
pub(super) async fn group_plan(pool: &HotPool) -> Result<Vec<String>> {
    pool.with(async |connection| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PREPARE motcua_group_plan (TEXT, TEXT, TEXT) AS {}",
            GROUP_SQL.as_str()
        )))
        .execute(&mut *connection)
        .await?;
        let lines = sqlx::raw_sql("EXPLAIN EXECUTE motcua_group_plan ('[]', '[]', '[]')")
            .fetch_all(&mut *connection)
            .await;
        sqlx::raw_sql("DEALLOCATE motcua_group_plan")
            .execute(&mut *connection)
            .await?;
        lines?
            .iter()
            .map(|row| row.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    })
    .await
}
