//! Writing dossiers: filing (code allocation, the dossier, its documents, its first
//! event) and actions (the row under its version guard, new documents, the chained
//! event, the reportable facts), each as one write of `writer.rs`.
//!
//! Nothing here reads before writing except what the write needs: the next event is
//! chained to the head the caller read with the dossier (`last_seq`, `last_hash`), and
//! the version guard makes sure that head is still the dossier's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::Rng;
use sqlx::{AnyConnection, Row};

use super::dossiers::{DossierRecord, DossierUpdate, EventHead, NewDossier, NewEvent};
use super::{Backend, Result, Store, StoreError};
use crate::audit::{EventRecord, GENESIS};
use crate::domain::{Document, Status};

/// How many dossier-code numbers a PostgreSQL host reserves at once for a unit and day.
/// Reserving is one short transaction on the unit's sequence row; the filings that use
/// the numbers then never wait on that row. A host that stops leaves the rest of its
/// block unused: codes stay unique and increasing per host, not gap-free.
const CODE_BLOCK: i64 = 50;

/// Shards of each count row on PostgreSQL (see migration 0009): concurrent filings at one
/// unit update different rows of the same count.
const COUNT_SHARDS: i64 = 16;

/// Dossier-code numbers reserved by this host and not used yet, by (unit, day).
#[derive(Clone, Default)]
pub(super) struct CodeBlocks(Arc<Mutex<HashMap<(String, String), (i64, i64)>>>);

impl CodeBlocks {
    fn take(&self, unit: &str, day: &str) -> Option<i64> {
        let mut blocks = self.0.lock().expect("code blocks lock");
        let (next, last) = blocks.get_mut(&(unit.to_string(), day.to_string()))?;
        if *next > *last {
            return None;
        }
        let number = *next;
        *next += 1;
        Some(number)
    }

    fn put(&self, unit: &str, day: &str, first: i64, last: i64) {
        let mut blocks = self.0.lock().expect("code blocks lock");
        // Yesterday's blocks are of no further use.
        blocks.retain(|(_, block_day), _| block_day.as_str() >= day);
        blocks.insert((unit.to_string(), day.to_string()), (first, last));
    }
}

impl Store {
    /// Files a dossier: allocates its code from the receiving unit's daily sequence,
    /// writes the dossier, its documents and its first event in one transaction.
    pub async fn create_dossier(
        &self,
        agency_id: &str,
        day: chrono::NaiveDate,
        dossier: &NewDossier,
        event: &NewEvent,
    ) -> Result<String> {
        let day_text = day.format("%Y-%m-%d").to_string();
        let prefix = format!("{agency_id}-{}", day.format("%y%m%d"));
        let number = match self.backend {
            // SQLite's one writer takes the next number inside the filing's transaction.
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                self.reserved_number(&dossier.receiving_unit, &day_text)
                    .await?,
            ),
        };
        let input = Arc::new((dossier.clone(), event.clone(), prefix, day_text));
        let shard = self.count_shard();
        self.writer
            .write(move |connection| {
                let input = Arc::clone(&input);
                Box::pin(async move {
                    let (dossier, event, prefix, day_text) = &*input;
                    let number = match number {
                        Some(number) => number,
                        None => next_numbers(connection, &dossier.receiving_unit, day_text, 1).await?,
                    };
                    let code = format!("{prefix}-{number:04}");
                    let head = chain(&code, None, event);
                    sqlx::query(
                        "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
                             applicant_json, form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at,
                             settings_json, digitized, last_seq, last_hash)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $11, $13, $14, 1, $15)",
                    )
                    .bind(&code)
                    .bind(&dossier.procedure_code)
                    .bind(&dossier.build_sha256)
                    .bind(&dossier.receiving_unit)
                    .bind(&dossier.handling_unit)
                    .bind(dossier.channel.as_str())
                    .bind(serde_json::to_string(&dossier.applicant).expect("applicant serialises"))
                    .bind(dossier.form.to_string())
                    .bind(&dossier.step)
                    .bind(dossier.status.code())
                    .bind(&dossier.submitted_at)
                    .bind(&dossier.tracking_secret_hash)
                    .bind(&dossier.settings_json)
                    .bind(i64::from(dossier.digitized))
                    .bind(&head.hash)
                    .execute(&mut *connection)
                    .await?;
                    insert_documents(connection, &code, &dossier.documents, &dossier.submitted_at).await?;
                    insert_event(connection, &head).await?;
                    insert_change(connection, &code, head.seq, event).await?;
                    count(connection, &dossier.handling_unit, &dossier.procedure_code, dossier.status, shard, 1)
                        .await?;
                    Ok(code)
                })
            })
            .await
    }

    /// Applies an action's outcome if the dossier is still at the version `record` was
    /// read at, chaining the event to the head read with it. Returns the new head.
    pub async fn apply_action(
        &self,
        record: &DossierRecord,
        update: &DossierUpdate,
        event: &NewEvent,
    ) -> Result<EventHead> {
        let expected_version = record.version;
        let old_status = record.status;
        let input = Arc::new((
            record.code.clone(),
            (!record.head.hash.is_empty()).then(|| record.head.clone()),
            record.handling_unit.clone(),
            record.procedure_code.clone(),
            update.clone(),
            event.clone(),
        ));
        let shard = self.count_shard();
        self.writer
            .write(move |connection| {
                let input = Arc::clone(&input);
                Box::pin(async move {
                    let (code, previous, unit, procedure, update, event) = &*input;
                    let previous = match previous {
                        Some(head) => head.clone(),
                        // A head not kept on the row (written before it was): read it.
                        None => read_head(connection, code).await?,
                    };
                    let head = chain(code, Some(&previous), event);
                    let changed = update_row(connection, code, expected_version, update, &head).await?;
                    if changed == 0 {
                        return Err(StoreError::VersionConflict {
                            expected: expected_version,
                        });
                    }
                    insert_documents(connection, code, &update.new_documents, &update.updated_at).await?;
                    if let Some(file) = &update.stored_component {
                        sqlx::query(
                            "UPDATE dossier_documents SET digitized = 1, content_type = $1, stored_at = $2
                             WHERE dossier_code = $3 AND sha256 = $4",
                        )
                        .bind(&file.content_type)
                        .bind(&file.stored_at)
                        .bind(code)
                        .bind(&file.sha256)
                        .execute(&mut *connection)
                        .await?;
                    }
                    insert_event(connection, &head).await?;
                    insert_change(connection, code, head.seq, event).await?;
                    if old_status != update.status {
                        // Count rows are locked in status order whatever the direction of
                        // the change, so two writers moving dossiers 4 → 5 and 5 → 4 on
                        // PostgreSQL never wait on each other's rows in a cycle.
                        let mut moves = [(old_status, -1), (update.status, 1)];
                        moves.sort_by_key(|(status, _)| status.code());
                        for (status, delta) in moves {
                            count(connection, unit, procedure, status, shard, delta).await?;
                        }
                    }
                    Ok(EventHead {
                        seq: head.seq,
                        hash: head.hash,
                    })
                })
            })
            .await
    }

    /// The next number of the unit's sequence for the day from this host's reserved
    /// block, reserving a new block when it is used up.
    async fn reserved_number(&self, unit: &str, day: &str) -> Result<i64> {
        if let Some(number) = self.codes.take(unit, day) {
            return Ok(number);
        }
        let mut connection = self.pool.acquire().await?;
        let last = next_numbers(&mut connection, unit, day, CODE_BLOCK).await?;
        let first = last - CODE_BLOCK + 1;
        self.codes.put(unit, day, first + 1, last);
        Ok(first)
    }

    fn count_shard(&self) -> i64 {
        match self.backend {
            Backend::Sqlite => 0,
            Backend::Postgres => rand::rng().random_range(0..COUNT_SHARDS),
        }
    }
}

/// Advances the unit's daily sequence by `count`; returns the last number taken.
async fn next_numbers(
    connection: &mut AnyConnection,
    unit: &str,
    day: &str,
    count: i64,
) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO dossier_sequences (unit, day, last) VALUES ($1, $2, $3)
         ON CONFLICT (unit, day) DO UPDATE SET last = dossier_sequences.last + $3
         RETURNING last",
    )
    .bind(unit)
    .bind(day)
    .bind(count)
    .fetch_one(&mut *connection)
    .await?
    .get(0))
}

/// The dossier's latest event, read from the events table.
async fn read_head(connection: &mut AnyConnection, code: &str) -> Result<EventHead> {
    let row = sqlx::query(
        "SELECT seq, hash FROM dossier_events WHERE dossier_code = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(code)
    .fetch_optional(&mut *connection)
    .await?;
    Ok(match row {
        Some(row) => EventHead {
            seq: row.get(0),
            hash: row.get(1),
        },
        None => EventHead {
            seq: 0,
            hash: GENESIS.to_string(),
        },
    })
}

/// The event as it will be stored: numbered after `previous` and chained to its hash.
fn chain(code: &str, previous: Option<&EventHead>, event: &NewEvent) -> EventRecord {
    let (seq, prev_hash) = match previous {
        Some(head) => (head.seq + 1, head.hash.clone()),
        None => (1, GENESIS.to_string()),
    };
    let mut record = EventRecord {
        dossier_code: code.to_string(),
        seq,
        at: event.at.clone(),
        actor_id: event.actor_id.clone(),
        actor_role: event.actor_role.clone(),
        actor_unit: event.actor_unit.clone(),
        action: event.action.clone(),
        from_step: event.from_step.clone(),
        to_step: event.to_step.clone(),
        from_status: event.from_status,
        to_status: event.to_status,
        note: event.note.clone(),
        payload_json: event.payload_json.clone(),
        prev_hash,
        hash: String::new(),
    };
    record.hash = record.compute_hash();
    record
}

async fn update_row(
    connection: &mut AnyConnection,
    code: &str,
    expected_version: i64,
    update: &DossierUpdate,
    head: &EventRecord,
) -> Result<u64> {
    let result_json = update
        .result
        .as_ref()
        .map(|result| serde_json::to_string(result).expect("result serialises"));
    Ok(sqlx::query(
        "UPDATE dossiers SET step = $1, status = $2, received_at = $3, clock_started_at = $4, due_date = $5,
             supplement_count = $6, extension_count = $7, fees_requested_vnd = $8, fees_paid_vnd = $9,
             paid_online = $10, result_json = $11, settled_at = $12, returned_at = $13, updated_at = $14,
             statutory_due_date = $17, due_provisional = $18, clock_base_day = $19, clock_days = $20,
             paused_days_left = $21, waiting_since = $22, waited_seconds = $23, closed_at = $24,
             processing_seconds = $25, digitized = $26, rating = $27,
             version = version + 1, last_seq = $28, last_hash = $29
         WHERE code = $15 AND version = $16",
    )
    .bind(&update.step)
    .bind(update.status.code())
    .bind(&update.received_at)
    .bind(&update.clock_started_at)
    .bind(&update.due_date)
    .bind(update.supplement_count)
    .bind(update.extension_count)
    .bind(update.fees_requested_vnd)
    .bind(update.fees_paid_vnd)
    .bind(i64::from(update.paid_online))
    .bind(&result_json)
    .bind(&update.settled_at)
    .bind(&update.returned_at)
    .bind(&update.updated_at)
    .bind(code)
    .bind(expected_version)
    .bind(&update.deadline.statutory_due_date)
    .bind(i64::from(update.deadline.provisional))
    .bind(&update.deadline.clock_base_day)
    .bind(update.deadline.clock_days)
    .bind(update.deadline.paused_days_left)
    .bind(&update.deadline.waiting_since)
    .bind(update.deadline.waited_seconds)
    .bind(&update.facts.closed_at)
    .bind(update.facts.processing_seconds)
    .bind(i64::from(update.facts.digitized))
    .bind(&update.facts.rating)
    .bind(head.seq)
    .bind(&head.hash)
    .execute(&mut *connection)
    .await?
    .rows_affected())
}

/// Inserts the documents in one statement (one round trip, whatever their number).
async fn insert_documents(
    connection: &mut AnyConnection,
    code: &str,
    documents: &[Document],
    at: &str,
) -> Result<()> {
    if documents.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..documents.len())
        .map(|index| {
            let first = index * 9 + 1;
            let places: Vec<String> = (first..first + 9).map(|n| format!("${n}")).collect();
            format!("({})", places.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO dossier_documents (dossier_code, kind, name, sha256, size, digitized, added_at,
                                        content_type, stored_at)
         VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for document in documents {
        query = query
            .bind(code)
            .bind(&document.kind)
            .bind(&document.name)
            .bind(&document.sha256)
            .bind(i64::try_from(document.size).unwrap_or(i64::MAX))
            .bind(i64::from(document.digitized))
            .bind(at)
            .bind(&document.content_type)
            // A component declared with a file the dossier already holds is stored from now.
            .bind(document.digitized.then_some(at));
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// Appends the chained event. Runs after the dossier row was written under its version
/// guard, so concurrent writers of one dossier serialise on that row and the chain never
/// forks (and the `(dossier_code, seq)` key refuses a fork in any case).
async fn insert_event(connection: &mut AnyConnection, record: &EventRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO dossier_events (dossier_code, seq, at, actor_id, actor_role, actor_unit, action, from_step, to_step,
             from_status, to_status, note, payload_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&record.dossier_code)
    .bind(record.seq)
    .bind(&record.at)
    .bind(&record.actor_id)
    .bind(&record.actor_role)
    .bind(&record.actor_unit)
    .bind(&record.action)
    .bind(&record.from_step)
    .bind(&record.to_step)
    .bind(record.from_status)
    .bind(record.to_status)
    .bind(&record.note)
    .bind(&record.payload_json)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Records the reportable facts of the dossier as the event at `seq` left them: a copy
/// of the dossier row just written, so the projection can never disagree with it.
async fn insert_change(
    connection: &mut AnyConnection,
    code: &str,
    seq: i64,
    event: &NewEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dossier_changes (dossier_code, seq, at, handling_unit, agency_id, procedure_code, channel,
             from_status, to_status, status_changed, statutory_due_date, due_date, supplement_count, settled_at,
             closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating)
         SELECT d.code, $2, $3, d.handling_unit, u.agency_id, d.procedure_code, d.channel,
                $4, d.status, $5, d.statutory_due_date, d.due_date, d.supplement_count, d.settled_at,
                d.closed_at, d.processing_seconds, d.fees_requested_vnd, d.paid_online, d.digitized, d.rating
         FROM dossiers d JOIN units u ON u.code = d.handling_unit
         WHERE d.code = $1",
    )
    .bind(code)
    .bind(seq)
    .bind(&event.at)
    .bind(event.from_status)
    .bind(i64::from(event.from_status != Some(event.to_status)))
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Moves one dossier into (`delta` 1) or out of (-1) a count of `dossier_counts`.
async fn count(
    connection: &mut AnyConnection,
    unit: &str,
    procedure: &str,
    status: Status,
    shard: i64,
    delta: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (handling_unit, procedure_code, status, shard) DO UPDATE SET n = dossier_counts.n + $5",
    )
    .bind(unit)
    .bind(procedure)
    .bind(status.code())
    .bind(shard)
    .bind(delta)
    .execute(&mut *connection)
    .await?;
    Ok(())
}
