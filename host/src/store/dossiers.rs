//! Dossiers, their documents and their hash-chained events.

use sqlx::Row;

use super::{Result, Store, StoreError};

use crate::audit::{EventRecord, GENESIS};
use crate::domain::{Applicant, Channel, Document, ResultDocument, Status, StoredFile};

/// A dossier row with its documents.
#[derive(Clone, Debug)]
pub struct DossierRecord {
    pub code: String,
    pub procedure_code: String,
    pub build_sha256: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub step: String,
    pub status: Status,
    pub submitted_at: String,
    pub received_at: Option<String>,
    pub clock_started_at: Option<String>,
    pub due_date: Option<String>,
    pub supplement_count: i64,
    pub extension_count: i64,
    pub fees_requested_vnd: i64,
    pub fees_paid_vnd: i64,
    pub paid_online: bool,
    pub result: Option<ResultDocument>,
    pub settled_at: Option<String>,
    pub returned_at: Option<String>,
    pub tracking_secret_hash: String,
    pub version: i64,
    pub updated_at: String,
    pub documents: Vec<Document>,
    pub deadline: Deadline,
    pub facts: Facts,
    /// The unit's settings for the procedure when the dossier was filed (JSON); `None`
    /// for dossiers filed before settings were pinned.
    pub settings_json: Option<String>,
}

/// The deadline keeping of a dossier (see the time rules in ARCHITECTURE.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deadline {
    /// The due date the host computed in working days, before any apology.
    pub statutory_due_date: Option<String>,
    /// Whether a year the due date spans had no holiday table when it was computed.
    pub provisional: bool,
    /// The working day the current count started from (YYYY-MM-DD).
    pub clock_base_day: Option<String>,
    /// How many working days were counted from `clock_base_day`.
    pub clock_days: Option<i64>,
    /// Working days that were left when the clock stopped for a payment (status 6).
    pub paused_days_left: Option<i64>,
    /// When the dossier started waiting for the applicant (status 5 or 6).
    pub waiting_since: Option<String>,
    /// Time spent waiting for a supplement or a payment, in total.
    pub waited_seconds: i64,
}

/// The facts the reports count, beyond status and dates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// When the dossier reached a final status (refused, withdrawn, stopped, settled, returned).
    pub closed_at: Option<String>,
    /// Processing time: settled minus received minus waiting, once settled.
    pub processing_seconds: Option<i64>,
    /// Every component (at least one) digitized, and the result too once settled.
    pub digitized: bool,
    /// The citizen's rating of a returned dossier.
    pub rating: Option<String>,
}

/// The reportable facts of a dossier as one event left them (a `dossier_changes` row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedFacts {
    pub seq: i64,
    pub status: i64,
    pub statutory_due_date: Option<String>,
    pub due_date: Option<String>,
    pub supplement_count: i64,
    pub settled_at: Option<String>,
    pub closed_at: Option<String>,
    pub processing_seconds: Option<i64>,
    pub fees_requested_vnd: i64,
    pub paid_online: bool,
    pub digitized: bool,
    pub rating: Option<String>,
}

/// What filing writes: the dossier (its code is allocated inside the transaction).
#[derive(Clone, Debug)]
pub struct NewDossier {
    pub procedure_code: String,
    pub build_sha256: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub step: String,
    pub status: Status,
    pub submitted_at: String,
    pub tracking_secret_hash: String,
    pub documents: Vec<Document>,
    /// The unit's settings for the procedure, pinned with the build.
    pub settings_json: String,
    pub digitized: bool,
}

/// An audit event before it is chained (the store fills `seq`, `prev_hash`, `hash`).
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub at: String,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_unit: String,
    pub action: String,
    pub from_step: Option<String>,
    pub to_step: String,
    pub from_status: Option<i64>,
    pub to_status: i64,
    pub note: String,
    pub payload_json: String,
}

/// The mutable part of a dossier after an action.
#[derive(Clone, Debug)]
pub struct DossierUpdate {
    pub step: String,
    pub status: Status,
    pub received_at: Option<String>,
    pub clock_started_at: Option<String>,
    pub due_date: Option<String>,
    pub supplement_count: i64,
    pub extension_count: i64,
    pub fees_requested_vnd: i64,
    pub fees_paid_vnd: i64,
    pub paid_online: bool,
    pub result: Option<ResultDocument>,
    pub settled_at: Option<String>,
    pub returned_at: Option<String>,
    pub updated_at: String,
    pub new_documents: Vec<Document>,
    /// A component's file now stored: every declared component with its sha256 is
    /// marked digitized with the file's content type.
    pub stored_component: Option<StoredFile>,
    pub deadline: Deadline,
    pub facts: Facts,
}

#[derive(Clone, Debug)]
pub struct InboxQuery {
    pub unit: String,
    pub status: Option<Status>,
    pub procedure: Option<String>,
    pub due: Option<DueFilter>,
    /// Earliest due date first (dossiers without one last) instead of newest first.
    pub sort_by_due: bool,
    pub limit: i64,
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
        let mut tx = self.begin_write().await?;
        let day_text = day.format("%Y-%m-%d").to_string();
        let sequence: i64 = sqlx::query(
            "INSERT INTO dossier_sequences (unit, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (unit, day) DO UPDATE SET last = dossier_sequences.last + 1
             RETURNING last",
        )
        .bind(&dossier.receiving_unit)
        .bind(&day_text)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let code = format!("{agency_id}-{}-{sequence:04}", day.format("%y%m%d"));
        sqlx::query(
            "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
                 applicant_json, form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at,
                 settings_json, digitized, last_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $11, $13, $14, 1)",
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
        .execute(&mut *tx)
        .await?;
        insert_documents(&mut tx, &code, &dossier.documents, &dossier.submitted_at).await?;
        let seq = append_event(&mut tx, &code, event).await?;
        insert_change(&mut tx, &code, seq, event).await?;
        tx.commit().await?;
        Ok(code)
    }

    pub async fn dossier(&self, code: &str) -> Result<Option<DossierRecord>> {
        let Some(row) = sqlx::query(
            "SELECT code, procedure_code, build_sha256, receiving_unit, handling_unit, channel, applicant_json, form_json,
                    step, status, submitted_at, received_at, clock_started_at, due_date, supplement_count, extension_count,
                    fees_requested_vnd, fees_paid_vnd, paid_online, result_json, settled_at, returned_at,
                    tracking_secret_hash, version, updated_at, settings_json, statutory_due_date, due_provisional,
                    clock_base_day, clock_days, paused_days_left, waiting_since, waited_seconds, closed_at,
                    processing_seconds, digitized, rating
             FROM dossiers WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("dossier {code}: {what}"));
        let channel: String = row.get(5);
        let applicant: String = row.get(6);
        let form: String = row.get(7);
        let status: i64 = row.get(9);
        let result: Option<String> = row.get(19);
        let documents = sqlx::query(
            "SELECT kind, name, sha256, size, digitized, content_type FROM dossier_documents WHERE dossier_code = $1 ORDER BY id",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|row| Document {
            kind: row.get(0),
            name: row.get(1),
            sha256: row.get(2),
            size: row.get::<i64, _>(3).max(0) as u64,
            digitized: row.get::<i64, _>(4) != 0,
            content_type: row.get(5),
        })
        .collect();
        Ok(Some(DossierRecord {
            code: row.get(0),
            procedure_code: row.get(1),
            build_sha256: row.get(2),
            receiving_unit: row.get(3),
            handling_unit: row.get(4),
            channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel"))?,
            applicant: serde_json::from_str(&applicant).map_err(|_| corrupt("applicant"))?,
            form: serde_json::from_str(&form).map_err(|_| corrupt("form"))?,
            step: row.get(8),
            status: Status::from_code(status).ok_or_else(|| corrupt("status"))?,
            submitted_at: row.get(10),
            received_at: row.get(11),
            clock_started_at: row.get(12),
            due_date: row.get(13),
            supplement_count: row.get(14),
            extension_count: row.get(15),
            fees_requested_vnd: row.get(16),
            fees_paid_vnd: row.get(17),
            paid_online: row.get::<i64, _>(18) != 0,
            result: result
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|_| corrupt("result"))?,
            settled_at: row.get(20),
            returned_at: row.get(21),
            tracking_secret_hash: row.get(22),
            version: row.get(23),
            updated_at: row.get(24),
            documents,
            settings_json: row.get(25),
            deadline: Deadline {
                statutory_due_date: row.get(26),
                provisional: row.get::<i64, _>(27) != 0,
                clock_base_day: row.get(28),
                clock_days: row.get(29),
                paused_days_left: row.get(30),
                waiting_since: row.get(31),
                waited_seconds: row.get(32),
            },
            facts: Facts {
                closed_at: row.get(33),
                processing_seconds: row.get(34),
                digitized: row.get::<i64, _>(35) != 0,
                rating: row.get(36),
            },
        }))
    }

    /// Applies an action's outcome if the dossier is still at `expected_version`.
    /// Returns the new version.
    pub async fn apply_action(
        &self,
        code: &str,
        expected_version: i64,
        update: &DossierUpdate,
        event: &NewEvent,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let result_json = update
            .result
            .as_ref()
            .map(|result| serde_json::to_string(result).expect("result serialises"));
        let changed = sqlx::query(
            "UPDATE dossiers SET step = $1, status = $2, received_at = $3, clock_started_at = $4, due_date = $5,
                 supplement_count = $6, extension_count = $7, fees_requested_vnd = $8, fees_paid_vnd = $9,
                 paid_online = $10, result_json = $11, settled_at = $12, returned_at = $13, updated_at = $14,
                 statutory_due_date = $17, due_provisional = $18, clock_base_day = $19, clock_days = $20,
                 paused_days_left = $21, waiting_since = $22, waited_seconds = $23, closed_at = $24,
                 processing_seconds = $25, digitized = $26, rating = $27,
                 version = version + 1, last_seq = last_seq + 1
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
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Err(StoreError::VersionConflict {
                expected: expected_version,
            });
        }
        insert_documents(&mut tx, code, &update.new_documents, &update.updated_at).await?;
        if let Some(file) = &update.stored_component {
            sqlx::query(
                "UPDATE dossier_documents SET digitized = 1, content_type = $1, stored_at = $2
                 WHERE dossier_code = $3 AND sha256 = $4",
            )
            .bind(&file.content_type)
            .bind(&file.stored_at)
            .bind(code)
            .bind(&file.sha256)
            .execute(&mut *tx)
            .await?;
        }
        let seq = append_event(&mut tx, code, event).await?;
        insert_change(&mut tx, code, seq, event).await?;
        tx.commit().await?;
        Ok(expected_version + 1)
    }

    /// The reportable facts each event of a dossier recorded (`dossier_changes`), by
    /// event number, for the replay to compare with the dossier it rebuilds.
    pub async fn recorded_facts(&self, code: &str) -> Result<Vec<RecordedFacts>> {
        let rows = sqlx::query(
            "SELECT seq, to_status, statutory_due_date, due_date, supplement_count, settled_at, closed_at,
                    processing_seconds, fees_requested_vnd, paid_online, digitized, rating
             FROM dossier_changes WHERE dossier_code = $1 ORDER BY seq",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| RecordedFacts {
                seq: row.get(0),
                status: row.get(1),
                statutory_due_date: row.get(2),
                due_date: row.get(3),
                supplement_count: row.get(4),
                settled_at: row.get(5),
                closed_at: row.get(6),
                processing_seconds: row.get(7),
                fees_requested_vnd: row.get(8),
                paid_online: row.get::<i64, _>(9) != 0,
                digitized: row.get::<i64, _>(10) != 0,
                rating: row.get(11),
            })
            .collect())
    }

    /// What the pinned build's `describe` answered when it was published (JSON), for
    /// the replay to check that the build still describes itself the same way.
    pub async fn pinned_build_info(&self, sha256: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT info_json FROM plugin_builds WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    pub async fn events(&self, code: &str) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM dossier_events WHERE dossier_code = $1 ORDER BY seq"
        )))
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    /// The unit's inbox: dossiers it handles, newest first.
    pub async fn inbox(&self, query: &InboxQuery) -> Result<(Vec<InboxRow>, i64)> {
        let status = query.status.map(Status::code).unwrap_or(0);
        let procedure = query.procedure.clone().unwrap_or_default();
        // The filter is one fixed SQL text with every value bound; an unused bound
        // value ('' or 0) switches its condition off.
        let (from, until) = match &query.due {
            None => (String::new(), String::new()),
            Some(DueFilter::Overdue { today }) => (String::new(), today.clone()),
            Some(DueFilter::Soon { today, until }) => (today.clone(), until.clone()),
        };
        let overdue = matches!(query.due, Some(DueFilter::Overdue { .. }));
        let filter = "handling_unit = $1 AND ($2 = 0 OR status = $2) AND ($3 = '' OR procedure_code = $3)
             AND ($4 = 0 OR (status IN (2, 4) AND due_date IS NOT NULL
                 AND (($5 = 1 AND due_date < $7) OR ($5 = 0 AND due_date >= $6 AND due_date <= $7))))";
        let due_on = i64::from(query.due.is_some());
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM dossiers WHERE {filter}"
        )))
        .bind(&query.unit)
        .bind(status)
        .bind(&procedure)
        .bind(due_on)
        .bind(i64::from(overdue))
        .bind(&from)
        .bind(&until)
        .fetch_one(&self.pool)
        .await?
        .get(0);
        let order = if query.sort_by_due {
            "CASE WHEN due_date IS NULL THEN 1 ELSE 0 END, due_date, submitted_at, code"
        } else {
            "submitted_at DESC, code DESC"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT code, procedure_code, step, status, applicant_json, channel, submitted_at, due_date, version,
                    due_provisional
             FROM dossiers WHERE {filter}
             ORDER BY {order} LIMIT $8 OFFSET $9"
        )))
        .bind(&query.unit)
        .bind(status)
        .bind(&procedure)
        .bind(due_on)
        .bind(i64::from(overdue))
        .bind(&from)
        .bind(&until)
        .bind(query.limit)
        .bind(query.offset)
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
        Ok((items, total))
    }

    /// Dossiers at `status` that have waited since `until` or earlier (RFC 3339 text),
    /// oldest first.
    pub async fn waiting_since(&self, status: Status, until: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT code FROM dossiers WHERE status = $1 AND waiting_since IS NOT NULL AND waiting_since <= $2
             ORDER BY waiting_since, code",
        )
        .bind(status.code())
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// Running dossiers (received or processing) whose due date is provisional.
    pub async fn provisional_due_dates(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT code FROM dossiers WHERE due_provisional = 1 AND status IN (2, 4) ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// Counts rows in the tables a failed request must not touch; tests use it to show
    /// that nothing was half-written.
    pub async fn row_counts(&self) -> Result<(i64, i64, i64)> {
        let count = |table: &'static str| async move {
            let sql = match table {
                "dossiers" => "SELECT COUNT(*) FROM dossiers",
                "dossier_events" => "SELECT COUNT(*) FROM dossier_events",
                _ => "SELECT COUNT(*) FROM dossier_documents",
            };
            sqlx::query(sql)
                .fetch_one(&self.pool)
                .await
                .map(|row| row.get::<i64, _>(0))
        };
        Ok((
            count("dossiers").await?,
            count("dossier_events").await?,
            count("dossier_documents").await?,
        ))
    }
}

async fn insert_documents(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    code: &str,
    documents: &[Document],
    at: &str,
) -> Result<()> {
    for document in documents {
        sqlx::query(
            "INSERT INTO dossier_documents (dossier_code, kind, name, sha256, size, digitized, added_at,
                                            content_type, stored_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(code)
        .bind(&document.kind)
        .bind(&document.name)
        .bind(&document.sha256)
        .bind(i64::try_from(document.size).unwrap_or(i64::MAX))
        .bind(i64::from(document.digitized))
        .bind(at)
        .bind(&document.content_type)
        // A component declared with a file the dossier already holds is stored from now.
        .bind(document.digitized.then_some(at))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Appends an event to the dossier's chain. Runs inside the caller's transaction,
/// after the dossier row was written, so concurrent writers of one dossier serialise
/// on that row and the chain never forks.
async fn append_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    code: &str,
    event: &NewEvent,
) -> Result<i64> {
    let last = sqlx::query(
        "SELECT seq, hash FROM dossier_events WHERE dossier_code = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev_hash) = match last {
        Some(row) => (row.get::<i64, _>(0) + 1, row.get::<String, _>(1)),
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
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Records the reportable facts of the dossier as the event at `seq` left them: a copy
/// of the dossier row just written, so the projection can never disagree with it.
async fn insert_change(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The columns of an event, in the order `event_from_row` reads them.
pub(super) const EVENT_COLUMNS: &str = "dossier_code, seq, at, actor_id, actor_role, actor_unit, \
     action, from_step, to_step, from_status, to_status, note, payload_json, prev_hash, hash";

/// An event read with `EVENT_COLUMNS`.
pub(super) fn event_from_row(row: &sqlx::any::AnyRow) -> EventRecord {
    EventRecord {
        dossier_code: row.get(0),
        seq: row.get(1),
        at: row.get(2),
        actor_id: row.get(3),
        actor_role: row.get(4),
        actor_unit: row.get(5),
        action: row.get(6),
        from_step: row.get(7),
        to_step: row.get(8),
        from_status: row.get(9),
        to_status: row.get(10),
        note: row.get(11),
        payload_json: row.get(12),
        prev_hash: row.get(13),
        hash: row.get(14),
    }
}
