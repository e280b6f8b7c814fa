//! PostgreSQL: the short reads by key on the action path, read in groups
//! (docs/decisions/0032-postgres-actions-in-groups.md).
//!
//! Every action reads the caller's token and the dossier (`Store::fetch_one`): two
//! statements, each a round trip and a statement's set-up in the server. Here the reads
//! of one statement that wait at the same moment are made by one statement: their
//! values as a JSON array of records, and the statement run once per record beside it
//! (`LATERAL`), each answer row carrying the number of the read it answers. One task
//! per statement text takes every read waiting (up to [`MAX_GROUP`]); while one group
//! runs, the next gathers, and a lone read runs as its own statement.
//!
//! The reads of a group see one snapshot, as each would have seen one of its own. A
//! group that fails is read again read by read, each answered from its own statement.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::{mpsc, oneshot};

use super::batch::json_of;
use super::hot::HotPool;
use super::writer::{Param, bind};
use super::{Result, StoreError};

/// The most reads one statement makes.
const MAX_GROUP: usize = 64;

/// Reads waiting for one statement's task.
const QUEUE: usize = 1024;

struct Job {
    params: Vec<Param>,
    reply: oneshot::Sender<Result<Vec<AnyRow>>>,
}

/// The tasks, one per statement text and kind of each value (a number or text), started
/// on first use on the runtime that reads.
#[derive(Clone)]
pub(super) struct ReadGroups {
    pool: HotPool,
    tasks: Arc<Mutex<HashMap<(&'static str, String), mpsc::Sender<Job>>>>,
    /// Reads answered by a group's statement (not alone).
    grouped: Arc<AtomicU64>,
}

impl ReadGroups {
    pub(super) fn new(pool: HotPool) -> ReadGroups {
        ReadGroups {
            pool,
            tasks: Arc::default(),
            grouped: Arc::default(),
        }
    }

    #[cfg(test)]
    fn grouped(&self) -> u64 {
        self.grouped.load(Ordering::Relaxed)
    }

    /// The rows `sql` answers for `params`, read with the other reads of `sql` waiting.
    pub(super) async fn read(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<AnyRow>> {
        let kinds: String = params
            .iter()
            .map(|param| match param {
                Param::Int(_) => 'i',
                Param::Text(_) => 't',
            })
            .collect();
        let queue = {
            let mut tasks = self
                .tasks
                .lock()
                .expect("the read tasks' map is never poisoned");
            let queue = tasks.entry((sql, kinds.clone())).or_insert_with(|| {
                let (queue, receiver) = mpsc::channel(QUEUE);
                let task = read_groups(
                    self.pool.clone(),
                    sql,
                    kinds.clone(),
                    receiver,
                    Arc::clone(&self.grouped),
                );
                tokio::spawn(task);
                queue
            });
            if queue.is_closed() {
                // The task's runtime ended (a store used from a second runtime): start
                // it again on this one.
                let (fresh, receiver) = mpsc::channel(QUEUE);
                let task = read_groups(
                    self.pool.clone(),
                    sql,
                    kinds,
                    receiver,
                    Arc::clone(&self.grouped),
                );
                tokio::spawn(task);
                *queue = fresh;
            }
            queue.clone()
        };
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job { params, reply })
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?
    }
}

/// One statement's task: groups of waiting reads until the store is dropped.
async fn read_groups(
    pool: HotPool,
    sql: &'static str,
    kinds: String,
    mut receiver: mpsc::Receiver<Job>,
    answered: Arc<AtomicU64>,
) {
    let grouped = group_sql(sql, &kinds);
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = receiver.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if group.len() == 1 {
            let job = group.pop().expect("a group of one");
            let _ = job.reply.send(read_alone(&pool, sql, &job.params).await);
            continue;
        }
        match read_group(&pool, &grouped, &group).await {
            Ok(mut rows) => {
                answered.fetch_add(group.len() as u64, Ordering::Relaxed);
                for (index, job) in group.drain(..).enumerate() {
                    let _ = job.reply.send(Ok(rows.remove(&index).unwrap_or_default()));
                }
            }
            Err(error) => {
                tracing::debug!(%error, reads = group.len(), "a group of reads failed; reading each alone");
                for job in group.drain(..) {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        let _ = job.reply.send(read_alone(&pool, sql, &job.params).await);
                    });
                }
            }
        }
    }
}

async fn read_alone(pool: &HotPool, sql: &'static str, params: &[Param]) -> Result<Vec<AnyRow>> {
    pool.with(async |connection| {
        Ok(bind(sqlx::query(sql), params)
            .fetch_all(&mut *connection)
            .await?)
    })
    .await
}

/// The rows of a group by the number of the read they answer (the last column).
async fn read_group(
    pool: &HotPool,
    grouped: &str,
    group: &[Job],
) -> Result<HashMap<usize, Vec<AnyRow>>> {
    let records = Value::Array(
        group
            .iter()
            .enumerate()
            .map(|(index, job)| {
                let mut record = Map::new();
                record.insert("motcua_read".into(), (index as i64).into());
                for (number, param) in job.params.iter().enumerate() {
                    record.insert(format!("motcua_p{}", number + 1), json_of(param));
                }
                Value::Object(record)
            })
            .collect(),
    );
    let params = [Param::Text(Some(records.to_string()))];
    let rows = pool
        .with(async |connection| {
            Ok(bind(
                sqlx::query(sqlx::AssertSqlSafe(grouped.to_string())),
                &params,
            )
            .fetch_all(&mut *connection)
            .await?)
        })
        .await?;
    let mut by_read: HashMap<usize, Vec<AnyRow>> = HashMap::with_capacity(group.len());
    for row in rows {
        let last = row.len() - 1;
        let index: i64 = row.try_get(last)?;
        by_read.entry(index as usize).or_default().push(row);
    }
    Ok(by_read)
}

/// `sql` made into the statement of a group: `$1` the JSON array of the reads' records
/// (`motcua_read`, the read's number, and `motcua_p1`... its values), `sql` run for each
/// record with `$n` read from the record, and the read's number after its columns.
/// The columns of `sql` keep their positions, so a row decodes as it would alone.
fn group_sql(sql: &str, kinds: &str) -> String {
    let columns: Vec<String> = kinds
        .chars()
        .enumerate()
        .map(|(number, kind)| {
            let kind = if kind == 'i' { "BIGINT" } else { "TEXT" };
            format!("motcua_p{} {kind}", number + 1)
        })
        .collect();
    format!(
        "SELECT s.*, q.motcua_read FROM jsonb_to_recordset(CAST($1 AS jsonb)) AS q (motcua_read BIGINT, {}) \
         CROSS JOIN LATERAL ({}) AS s",
        columns.join(", "),
        from_records(sql),
    )
}

/// `sql` with every `$n` made `q.motcua_pn`.
fn from_records(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            out.push('$');
        } else {
            out.push_str("q.motcua_p");
            out.push_str(&rest[..digits]);
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Reads in groups on a real PostgreSQL server (`MOTCUA_TEST_POSTGRES_URL`, by default
/// the `test` database on 127.0.0.1:5432).
#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::time::Duration;

    use futures::future::join_all;
    use sqlx::any::AnyConnectOptions;

    use super::*;

    /// Many reads of one statement at once, each with its own values: each gets the
    /// rows for its values, a read that matches no row gets none, and some of them were
    /// read together.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_read_together_each_get_their_own_rows() {
        sqlx::any::install_default_drivers();
        let url = std::env::var("MOTCUA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let pool = HotPool::new(
            AnyConnectOptions::from_str(&url).expect("a PostgreSQL URL"),
            Duration::from_secs(10),
        );
        let reads = ReadGroups::new(pool);
        const SQL: &str = "SELECT CAST($1 AS BIGINT) * 2, CONCAT('read ', $2) WHERE $1 % 7 <> 0";
        let answers = join_all((1..=200_i64).map(|n| {
            let reads = reads.clone();
            async move {
                let rows = reads
                    .read(SQL, vec![n.into(), n.to_string().into()])
                    .await
                    .unwrap();
                (n, rows)
            }
        }))
        .await;
        for (n, rows) in answers {
            if n % 7 == 0 {
                assert!(rows.is_empty(), "read {n} matches no row");
                continue;
            }
            assert_eq!(rows.len(), 1, "read {n}");
            assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 2 * n);
            assert_eq!(
                rows[0].try_get::<String, _>(1).unwrap(),
                format!("read {n}")
            );
        }
        assert!(
            reads.grouped() > 0,
            "some of the 200 reads were read together"
        );
    }

    #[test]
    fn each_value_is_read_from_the_record() {
        assert_eq!(
            from_records("SELECT a FROM t WHERE k = $1 AND n = $12 AND c = '$'"),
            "SELECT a FROM t WHERE k = q.motcua_p1 AND n = q.motcua_p12 AND c = '$'"
        );
    }
}
