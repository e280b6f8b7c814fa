//! Dossiers, their documents and their hash-chained events.

use std::sync::Arc;

use sqlx::Row;

use super::columns::Columns;
use super::recent::Held;
use super::{Backend, Result, Store, StoreError};

use crate::audit::EventRecord;
use crate::domain::{Applicant, Channel, Document, ResultDocument, Status, StoredFile};

/// The columns of an event, in the order `event_from_row` reads them.
macro_rules! event_columns {
    () => {
        "dossier_code, seq, at, actor_id, actor_role, actor_unit, action, from_step, to_step, \
         from_status, to_status, note, payload_json, prev_hash, hash"
    };
}
pub(super) use event_columns;

/// A dossier's documents as one JSON array of arrays, by insertion, in each dialect.
macro_rules! documents_json {
    (sqlite) => {
        "(SELECT json_group_array(json_array(kind, name, sha256, size, digitized, content_type) ORDER BY id)
          FROM dossier_documents WHERE dossier_code = dossiers.code)"
    };
    (postgres) => {
        "(SELECT json_agg(json_build_array(kind, name, sha256, size, digitized, content_type) ORDER BY id)::text
          FROM dossier_documents WHERE dossier_code = dossiers.code)"
    };
}

/// A dossier's events as one JSON array, in order, in each dialect: each event an array
/// of `event_columns!`, which is the order of [`EventRecord`]'s fields (serde reads a
/// struct from an array of its fields in order).
macro_rules! events_json {
    (sqlite) => {
        concat!(
            "(SELECT json_group_array(json_array(",
            event_columns!(),
            ") ORDER BY seq) FROM dossier_events WHERE dossier_code = dossiers.code)"
        )
    };
    (postgres) => {
        concat!(
            "(SELECT json_agg(json_build_array(",
            event_columns!(),
            ") ORDER BY seq)::text FROM dossier_events WHERE dossier_code = dossiers.code)"
        )
    };
}

/// The columns of a dossier row, in the order `dossier_from_row` reads them (40).
macro_rules! dossier_columns {
    () => {
        "code, procedure_code, build_sha256, receiving_unit, handling_unit, channel, applicant_json, form_json,
         step, status, submitted_at, received_at, clock_started_at, due_date, supplement_count, extension_count,
         fees_requested_vnd, fees_paid_vnd, paid_online, result_json, settled_at, returned_at,
         tracking_secret_hash, version, updated_at, settings_json, statutory_due_date, due_provisional,
         clock_base_day, clock_days, paused_days_left, waiting_since, waited_seconds, closed_at,
         processing_seconds, digitized, rating, last_seq, last_hash,
         (SELECT cutoff FROM units WHERE units.code = dossiers.handling_unit)"
    };
}

/// Which events a dossier read brings: none, those stored, or those stored unless this
/// host holds them already (`recent.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum History {
    None,
    Stored,
    Recent,
}

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
    /// The dossier's latest event, which the next one is chained to.
    pub head: EventHead,
    /// The handling unit's cut-off hour (HH:MM) as it was read with the dossier; `None`
    /// where the record was not read from the store.
    pub unit_cutoff: Option<String>,
    /// The dossier's events in order, where they were read with it
    /// (`Store::dossier_with_history`) and kept up to date by [`DossierRecord::updated`];
    /// `None` where they were not read. Shared with this host's recent copy
    /// (`recent.rs`) until an action appends to it.
    pub history: Option<Arc<Vec<EventRecord>>>,
}

/// The number and hash of a dossier's latest event (empty hash: not known).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventHead {
    pub seq: i64,
    pub hash: String,
}

impl DossierRecord {
    /// The row's changeable columns as an update that changes nothing: what
    /// `update_row` compares an update with.
    pub(super) fn as_update(&self) -> DossierUpdate {
        DossierUpdate {
            step: self.step.clone(),
            status: self.status,
            received_at: self.received_at.clone(),
            clock_started_at: self.clock_started_at.clone(),
            due_date: self.due_date.clone(),
            supplement_count: self.supplement_count,
            extension_count: self.extension_count,
            fees_requested_vnd: self.fees_requested_vnd,
            fees_paid_vnd: self.fees_paid_vnd,
            paid_online: self.paid_online,
            result: self.result.clone(),
            settled_at: self.settled_at.clone(),
            returned_at: self.returned_at.clone(),
            updated_at: self.updated_at.clone(),
            new_documents: Vec::new(),
            stored_component: None,
            deadline: self.deadline.clone(),
            facts: self.facts.clone(),
        }
    }

    /// The dossier as `update` leaves it, with `event` as its latest event: what the
    /// store holds after `Store::apply_action`, without reading it back.
    pub fn updated(mut self, update: DossierUpdate, event: EventRecord) -> DossierRecord {
        let head = EventHead {
            seq: event.seq,
            hash: event.hash.clone(),
        };
        if let Some(history) = &mut self.history {
            Arc::make_mut(history).push(event);
        }
        if let Some(file) = &update.stored_component {
            for document in &mut self.documents {
                if document.sha256 == file.sha256 {
                    document.digitized = true;
                    document.content_type = Some(file.content_type.clone());
                }
            }
        }
        self.documents.extend(update.new_documents);
        DossierRecord {
            step: update.step,
            status: update.status,
            received_at: update.received_at,
            clock_started_at: update.clock_started_at,
            due_date: update.due_date,
            supplement_count: update.supplement_count,
            extension_count: update.extension_count,
            fees_requested_vnd: update.fees_requested_vnd,
            fees_paid_vnd: update.fees_paid_vnd,
            paid_online: update.paid_online,
            result: update.result,
            settled_at: update.settled_at,
            returned_at: update.returned_at,
            version: self.version + 1,
            updated_at: update.updated_at,
            deadline: update.deadline,
            facts: update.facts,
            head,
            ..self
        }
    }
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

impl Store {
    /// A dossier with its documents, in one statement (the documents as a JSON array).
    pub async fn dossier(&self, code: &str) -> Result<Option<DossierRecord>> {
        self.read_dossier(code, History::None).await
    }

    /// A dossier with its documents and its events, in one statement, the events as
    /// stored: for the views, the audit check and the replay.
    pub async fn dossier_with_history(&self, code: &str) -> Result<Option<DossierRecord>> {
        self.read_dossier(code, History::Stored).await
    }

    /// A dossier with its documents and its events, in one statement: read on every
    /// action's path (see `columns.rs` for where it runs), whose answer shows the
    /// history with the new event appended, so that nothing is read after the write.
    /// Where this host holds the dossier's history up to the row's head, the statement
    /// does not rebuild it (`recent.rs`).
    pub async fn dossier_with_recent_history(&self, code: &str) -> Result<Option<DossierRecord>> {
        self.read_dossier(code, History::Recent).await
    }

    /// Keeps the record's history (after an action: with its new event) as this host's
    /// recent copy, for the next action on the dossier, with its documents when
    /// `documents_as_read`: the action that left the record changed none, so they are
    /// the ones read with the dossier, which are the stored ones (`recent.rs`).
    pub fn remember_history(&self, record: &DossierRecord, documents_as_read: bool) {
        if let Some(history) = &record.history {
            self.recent.put(
                &record.code,
                Held {
                    history: Arc::clone(history),
                    documents: documents_as_read.then(|| Arc::new(record.documents.clone())),
                },
            );
        }
    }

    async fn read_dossier(&self, code: &str, history: History) -> Result<Option<DossierRecord>> {
        // The subqueries aggregate to JSON arrays; PostgreSQL aggregates no rows to NULL,
        // SQLite to `[]`. With the history, $2 and $3 are the head of the copy this host
        // holds (none: -1 and ''): when the row's head is the same, the events are not
        // aggregated, nor the documents when the copy holds them ($4 = 1), and the last
        // column says so.
        let held = match history {
            History::Recent => self.recent.get(code),
            History::None | History::Stored => None,
        };
        let sql = match (self.backend, history) {
            (Backend::Sqlite, History::None) => concat!(
                "SELECT ",
                dossier_columns!(),
                ", ",
                documents_json!(sqlite),
                " FROM dossiers WHERE code = $1"
            ),
            (Backend::Sqlite, _) => concat!(
                "SELECT ",
                dossier_columns!(),
                ", CASE WHEN last_seq = $2 AND last_hash = $3 AND $4 = 1 THEN NULL ELSE ",
                documents_json!(sqlite),
                " END, CASE WHEN last_seq = $2 AND last_hash = $3 THEN NULL ELSE ",
                events_json!(sqlite),
                " END, CASE WHEN last_seq = $2 AND last_hash = $3 THEN 1 ELSE 0 END",
                " FROM dossiers WHERE code = $1"
            ),
            (Backend::Postgres, History::None) => concat!(
                "SELECT ",
                dossier_columns!(),
                ", ",
                documents_json!(postgres),
                " FROM dossiers WHERE code = $1"
            ),
            (Backend::Postgres, _) => concat!(
                "SELECT ",
                dossier_columns!(),
                ", CASE WHEN last_seq = $2 AND last_hash = $3 AND $4 = 1 THEN NULL ELSE ",
                documents_json!(postgres),
                " END, CASE WHEN last_seq = $2 AND last_hash = $3 THEN NULL ELSE ",
                events_json!(postgres),
                " END, CAST(CASE WHEN last_seq = $2 AND last_hash = $3 THEN 1 ELSE 0 END AS BIGINT)",
                " FROM dossiers WHERE code = $1"
            ),
        };
        let params = match history {
            History::None => vec![code.into()],
            History::Stored | History::Recent => {
                let (seq, hash) = held
                    .as_ref()
                    .and_then(|held| held.history.last())
                    .map_or((-1, ""), |head| (head.seq, head.hash.as_str()));
                let documents = held.as_ref().is_some_and(|held| held.documents.is_some());
                vec![
                    code.into(),
                    seq.into(),
                    hash.into(),
                    i64::from(documents).into(),
                ]
            }
        };
        self.fetch_one(sql, &params, |row| {
            let mut record = dossier_from_row(row)?;
            let corrupt = |what: &str, error: serde_json::Error| {
                StoreError::Corrupt(format!("dossier {code}: {what}: {error}"))
            };
            let current = history == History::Recent && row.flag(42)?;
            let held_documents = held.as_ref().and_then(|held| held.documents.as_ref());
            if let (true, Some(documents)) = (current, held_documents) {
                record.documents = documents.as_ref().clone();
            } else if let Some(json) = row.opt_text(40)? {
                let documents: Vec<(String, String, String, i64, i64, Option<String>)> =
                    serde_json::from_str(&json).map_err(|error| corrupt("documents", error))?;
                record.documents = documents
                    .into_iter()
                    .map(
                        |(kind, name, sha256, size, digitized, content_type)| Document {
                            kind,
                            name,
                            sha256,
                            size: size.max(0) as u64,
                            digitized: digitized != 0,
                            content_type,
                        },
                    )
                    .collect();
            }
            if history != History::None {
                record.history = Some(match (current, &held) {
                    (true, Some(held)) => Arc::clone(&held.history),
                    _ => Arc::new(match row.opt_text(41)? {
                        Some(json) => serde_json::from_str::<Vec<EventRecord>>(&json)
                            .map_err(|error| corrupt("events", error))?,
                        None => Vec::new(),
                    }),
                });
            }
            Ok(record)
        })
        .await
    }

    /// The reportable facts recorded for a dossier (`dossier_changes`: one row for each
    /// event that changed one, decision 0031), by event number, for the replay to
    /// compare with the dossier it rebuilds.
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

    /// A dossier's history, oldest first: read for every dossier view.
    pub async fn events(&self, code: &str) -> Result<Vec<EventRecord>> {
        self.fetch(
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM dossier_events WHERE dossier_code = $1 ORDER BY seq"
            ),
            &[code.into()],
            event_from_row,
        )
        .await
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

/// An event read with `event_columns!()`.
pub(super) fn event_from_row(row: &dyn Columns) -> Result<EventRecord> {
    Ok(EventRecord {
        dossier_code: row.text(0)?,
        seq: row.int(1)?,
        at: row.text(2)?,
        actor_id: row.text(3)?,
        actor_role: row.text(4)?,
        actor_unit: row.text(5)?,
        action: row.text(6)?,
        from_step: row.opt_text(7)?,
        to_step: row.text(8)?,
        from_status: row.opt_int(9)?,
        to_status: row.int(10)?,
        note: row.text(11)?,
        payload_json: row.text(12)?,
        prev_hash: row.text(13)?,
        hash: row.text(14)?,
    })
}

/// A dossier row as `Store::dossier` selects it, without its documents.
fn dossier_from_row(row: &dyn Columns) -> Result<DossierRecord> {
    let code = row.text(0)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("dossier {code}: {what}"));
    let channel = row.text(5)?;
    let status = row.int(9)?;
    let result = row.opt_text(19)?;
    Ok(DossierRecord {
        procedure_code: row.text(1)?,
        build_sha256: row.text(2)?,
        receiving_unit: row.text(3)?,
        handling_unit: row.text(4)?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel"))?,
        applicant: serde_json::from_str(&row.text(6)?).map_err(|_| corrupt("applicant"))?,
        form: serde_json::from_str(&row.text(7)?).map_err(|_| corrupt("form"))?,
        step: row.text(8)?,
        status: Status::from_code(status).ok_or_else(|| corrupt("status"))?,
        submitted_at: row.text(10)?,
        received_at: row.opt_text(11)?,
        clock_started_at: row.opt_text(12)?,
        due_date: row.opt_text(13)?,
        supplement_count: row.int(14)?,
        extension_count: row.int(15)?,
        fees_requested_vnd: row.int(16)?,
        fees_paid_vnd: row.int(17)?,
        paid_online: row.flag(18)?,
        result: result
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|_| corrupt("result"))?,
        settled_at: row.opt_text(20)?,
        returned_at: row.opt_text(21)?,
        tracking_secret_hash: row.text(22)?,
        version: row.int(23)?,
        updated_at: row.text(24)?,
        documents: Vec::new(),
        settings_json: row.opt_text(25)?,
        deadline: Deadline {
            statutory_due_date: row.opt_text(26)?,
            provisional: row.flag(27)?,
            clock_base_day: row.opt_text(28)?,
            clock_days: row.opt_int(29)?,
            paused_days_left: row.opt_int(30)?,
            waiting_since: row.opt_text(31)?,
            waited_seconds: row.int(32)?,
        },
        facts: Facts {
            closed_at: row.opt_text(33)?,
            processing_seconds: row.opt_int(34)?,
            digitized: row.flag(35)?,
            rating: row.opt_text(36)?,
        },
        head: EventHead {
            seq: row.int(37)?,
            hash: row.text(38)?,
        },
        unit_cutoff: row.opt_text(39)?,
        history: None,
        code,
    })
}
