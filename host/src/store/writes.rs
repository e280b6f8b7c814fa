//! Writing dossiers: filing (code allocation, the dossier, its documents, its first
//! event) and actions (the row under its version guard, new documents, the chained
//! event, the reportable facts), each as one plan of statements for `writer.rs`.
//!
//! Nothing here reads before writing except what the write needs: the next event is
//! chained to the head the caller read with the dossier (`last_seq`, `last_hash`), and
//! the version guard makes sure that head is still the dossier's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rand::Rng;
use serde_json::{Map, Value};
use sqlx::Row;

use super::batch::{GroupedAction, json_of};
use super::dossiers::{DossierRecord, DossierUpdate, EventHead, NewDossier, NewEvent};
use super::writer::{NEXT_NUMBERS, Param, Plan, Statement, bind};
use super::{Backend, Result, Store};
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
        let (reserved, number_of) = match self.backend {
            // SQLite's one writer takes the next number inside the filing's transaction.
            Backend::Sqlite => (None, Some((dossier.receiving_unit.clone(), day_text))),
            Backend::Postgres => (
                Some(
                    self.reserved_number(&dossier.receiving_unit, &day_text)
                        .await?,
                ),
                None,
            ),
        };
        let dossier = dossier.clone();
        let event = event.clone();
        let shard = self.count_shard();
        // PostgreSQL writes a filing in one statement (its number was reserved above).
        let single = self.backend == Backend::Postgres;
        let build = move |number: Option<i64>| {
            let number = reserved.or(number).unwrap_or_default();
            let code = format!("{prefix}-{number:04}");
            let head = chain(&code, None, &event);
            let mut statements = vec![Statement::new(
                "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
                     applicant_json, form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at,
                     settings_json, digitized, last_seq, last_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $11, $13, $14, 1, $15)",
                vec![
                    (&code).into(),
                    (&dossier.procedure_code).into(),
                    (&dossier.build_sha256).into(),
                    (&dossier.receiving_unit).into(),
                    (&dossier.handling_unit).into(),
                    dossier.channel.as_str().into(),
                    serde_json::to_string(&dossier.applicant)
                        .expect("applicant serialises")
                        .into(),
                    dossier.form.to_string().into(),
                    (&dossier.step).into(),
                    dossier.status.code().into(),
                    (&dossier.submitted_at).into(),
                    (&dossier.tracking_secret_hash).into(),
                    (&dossier.settings_json).into(),
                    dossier.digitized.into(),
                    (&head.hash).into(),
                ],
            )];
            let documents = insert_documents(&code, &dossier.documents, &dossier.submitted_at);
            let event_row = insert_event(&head);
            let counted = count(
                &dossier.handling_unit,
                &dossier.procedure_code,
                dossier.status,
                shard,
                1,
            );
            if single {
                let statement =
                    filing_in_one_statement(statements.remove(0), event_row, counted, documents);
                return (vec![statement], code);
            }
            statements.extend(documents);
            statements.push(event_row);
            statements.push(insert_change(&code, head.seq, &event));
            statements.push(counted);
            (statements, code)
        };
        self.writer
            .write(Plan {
                number_of,
                single,
                build: Box::new(build),
            })
            .await
    }

    /// Applies an action's outcome if the dossier is still at the version `record` was
    /// read at, chaining the event to the head read with it. Returns the event as
    /// stored (numbered and chained): the dossier's new head.
    pub async fn apply_action(
        &self,
        record: &DossierRecord,
        update: &DossierUpdate,
        event: &NewEvent,
    ) -> Result<EventRecord> {
        let previous = if record.head.hash.is_empty() {
            // A head not kept on the row (written before it was): read it. The version
            // guard below refuses the write if an event was added since.
            self.read_head(&record.code).await?
        } else {
            record.head.clone()
        };
        let head = chain(&record.code, Some(&previous), event);
        let code = record.code.clone();
        // Count rows are locked in status order whatever the direction of the change, so
        // two writers moving dossiers 4 → 5 and 5 → 4 on PostgreSQL never wait on each
        // other's rows in a cycle.
        let moves = (record.status != update.status).then(|| {
            let mut moves = [(record.status, -1), (update.status, 1)];
            moves.sort_by_key(|(status, _)| status.code());
            moves
        });
        let shard = self.count_shard();
        let params = row_params(&code, record.version, update, &head);
        let was = row_params(&code, record.version, &record.as_update(), &head);
        let changed: Vec<(&str, usize)> = ROW_COLUMNS
            .iter()
            .filter(|(_, number)| params[number - 1] != was[number - 1])
            .copied()
            .collect();
        // The facts as they stand stay the dossier's latest `dossier_changes` row when
        // the action changes none of them (decision 0031). A change of status is one
        // (and the counts are written with the facts on PostgreSQL).
        let facts_change = moves.is_some()
            || changed
                .iter()
                .any(|(column, _)| FACT_COLUMNS.contains(column));
        let one_statement = self.backend == Backend::Postgres
            && update.new_documents.is_empty()
            && update.stored_component.is_none();
        if one_statement {
            // Written with the other actions waiting on this host (`batch.rs`).
            let grouped = GroupedAction {
                code: code.clone(),
                expected_version: record.version,
                row: row_record(&params),
                event: event_record(&head),
                facts: facts_change.then(|| (shard, moves.map(|_| record.status.code()))),
                alone: action_in_one_statement(
                    params,
                    record.version,
                    &head,
                    event,
                    facts_change.then_some(moves),
                    shard,
                ),
            };
            self.writer.write_grouped(grouped).await?;
            return Ok(head);
        }
        let statements = {
            // SQLite sets only the columns that change (see `update_row`).
            let set = (self.backend == Backend::Sqlite).then_some(changed.as_slice());
            let mut statements = vec![update_row(params, record.version, set)];
            statements.extend(insert_documents(
                &code,
                &update.new_documents,
                &update.updated_at,
            ));
            if let Some(file) = &update.stored_component {
                statements.push(Statement::new(
                    "UPDATE dossier_documents SET digitized = 1, content_type = $1, stored_at = $2
                     WHERE dossier_code = $3 AND sha256 = $4",
                    vec![
                        (&file.content_type).into(),
                        (&file.stored_at).into(),
                        (&code).into(),
                        (&file.sha256).into(),
                    ],
                ));
            }
            statements.push(insert_event(&head));
            if facts_change {
                statements.push(insert_change(&code, head.seq, event));
            }
            for (status, delta) in moves.into_iter().flatten() {
                statements.push(count(
                    &record.handling_unit,
                    &record.procedure_code,
                    status,
                    shard,
                    delta,
                ));
            }
            statements
        };
        let answer = head;
        self.writer
            .write(Plan {
                number_of: None,
                single: false,
                build: Box::new(move |_| (statements.clone(), answer.clone())),
            })
            .await
    }

    /// The next number of the unit's sequence for the day from this host's reserved
    /// block, reserving a new block when it is used up.
    async fn reserved_number(&self, unit: &str, day: &str) -> Result<i64> {
        if let Some(number) = self.codes.take(unit, day) {
            return Ok(number);
        }
        let params = [unit.into(), day.into(), CODE_BLOCK.into()];
        let last: i64 = bind(sqlx::query(NEXT_NUMBERS), &params)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        let first = last - CODE_BLOCK + 1;
        self.codes.put(unit, day, first + 1, last);
        Ok(first)
    }

    /// The dossier's latest event, read from the events table.
    async fn read_head(&self, code: &str) -> Result<EventHead> {
        let row = sqlx::query(
            "SELECT seq, hash FROM dossier_events WHERE dossier_code = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
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

    fn count_shard(&self) -> i64 {
        match self.backend {
            Backend::Sqlite => 0,
            Backend::Postgres => rand::rng().random_range(0..COUNT_SHARDS),
        }
    }
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

/// The columns an action may set, with the number of their parameter in `update_row`'s
/// statements ($15 and $16 are the dossier's code and the version read, $28 and $29
/// the new chain head).
pub(super) const ROW_COLUMNS: [(&str, usize); 25] = [
    ("step", 1),
    ("status", 2),
    ("received_at", 3),
    ("clock_started_at", 4),
    ("due_date", 5),
    ("supplement_count", 6),
    ("extension_count", 7),
    ("fees_requested_vnd", 8),
    ("fees_paid_vnd", 9),
    ("paid_online", 10),
    ("result_json", 11),
    ("settled_at", 12),
    ("returned_at", 13),
    ("updated_at", 14),
    ("statutory_due_date", 17),
    ("due_provisional", 18),
    ("clock_base_day", 19),
    ("clock_days", 20),
    ("paused_days_left", 21),
    ("waiting_since", 22),
    ("waited_seconds", 23),
    ("closed_at", 24),
    ("processing_seconds", 25),
    ("digitized", 26),
    ("rating", 27),
];

/// The columns of `ROW_COLUMNS` that a dossier's reportable facts copy (the rest of
/// `WRITTEN_FACTS` no action changes): an action that changes none of them writes no
/// `dossier_changes` row, since the dossier's latest one already holds its facts.
const FACT_COLUMNS: [&str; 11] = [
    "status",
    "statutory_due_date",
    "due_date",
    "supplement_count",
    "settled_at",
    "closed_at",
    "processing_seconds",
    "fees_requested_vnd",
    "paid_online",
    "digitized",
    "rating",
];

/// The update that sets every column of `ROW_COLUMNS`.
static FULL_ROW_UPDATE: LazyLock<String> = LazyLock::new(|| update_sql(&ROW_COLUMNS));

fn update_sql(columns: &[(&str, usize)]) -> String {
    let mut sql = String::from("UPDATE dossiers SET ");
    for (column, number) in columns {
        sql.push_str(&format!("{column} = ${number}, "));
    }
    sql.push_str(
        "version = version + 1, last_seq = $28, last_hash = $29 WHERE code = $15 AND version = $16",
    );
    sql
}

/// The 29 parameters of `update_row`'s statements.
fn row_params(
    code: &str,
    expected_version: i64,
    update: &DossierUpdate,
    head: &EventRecord,
) -> Vec<Param> {
    let result_json = update
        .result
        .as_ref()
        .map(|result| serde_json::to_string(result).expect("result serialises"));
    vec![
        (&update.step).into(),
        update.status.code().into(),
        (&update.received_at).into(),
        (&update.clock_started_at).into(),
        (&update.due_date).into(),
        update.supplement_count.into(),
        update.extension_count.into(),
        update.fees_requested_vnd.into(),
        update.fees_paid_vnd.into(),
        update.paid_online.into(),
        result_json.into(),
        (&update.settled_at).into(),
        (&update.returned_at).into(),
        (&update.updated_at).into(),
        code.into(),
        expected_version.into(),
        (&update.deadline.statutory_due_date).into(),
        update.deadline.provisional.into(),
        (&update.deadline.clock_base_day).into(),
        update.deadline.clock_days.into(),
        update.deadline.paused_days_left.into(),
        (&update.deadline.waiting_since).into(),
        update.deadline.waited_seconds.into(),
        (&update.facts.closed_at).into(),
        update.facts.processing_seconds.into(),
        update.facts.digitized.into(),
        (&update.facts.rating).into(),
        head.seq.into(),
        (&head.hash).into(),
    ]
}

/// The dossier row as the action leaves it (`params`, from `row_params`), guarded by
/// the version it was read at.
///
/// With `set`, the columns whose value changes (SQLite), the update sets only those:
/// SQLite rewrites the entries of every index that holds a column named in `SET`,
/// changed or not, and the inbox and report indexes hold most of the row. A payment
/// after the first then touches no index (`updated_at` is in none, decision 0029).
/// PostgreSQL compares the values of the indexed columns itself: when none changed (a
/// payment after the first, a step inside one status) the new row version is a HOT
/// update on the same page and no index is written. It binds every parameter it is
/// given, so its statements set every column.
fn update_row(
    params: Vec<Param>,
    expected_version: i64,
    set: Option<&[(&str, usize)]>,
) -> Statement {
    let sql: Cow<'static, str> = match set {
        None => Cow::Borrowed(FULL_ROW_UPDATE.as_str()),
        Some(columns) => Cow::Owned(update_sql(columns)),
    };
    let mut statement = Statement::new(sql, params);
    statement.guards_version = Some(expected_version);
    statement
}

/// The dossier row as the action leaves it (`params`, from `row_params`), as a JSON
/// record of `dossiers` columns for a group of actions (`batch.rs`); its `version` is
/// the version read, which guards the write.
fn row_record(params: &[Param]) -> Map<String, Value> {
    let mut row: Map<String, Value> = ROW_COLUMNS
        .iter()
        .map(|(column, number)| (column.to_string(), json_of(&params[number - 1])))
        .collect();
    for (column, number) in [
        ("code", 15),
        ("version", 16),
        ("last_seq", 28),
        ("last_hash", 29),
    ] {
        row.insert(column.to_string(), json_of(&params[number - 1]));
    }
    row
}

/// The chained event as a JSON record of `dossier_events` columns, with the values
/// `insert_event` binds.
fn event_record(record: &EventRecord) -> Map<String, Value> {
    EVENT_COLUMNS
        .split(',')
        .map(str::trim)
        .zip(insert_event(record).params.iter().map(json_of))
        .map(|(column, value)| (column.to_string(), value))
        .collect()
}

/// PostgreSQL: an action without documents as one statement (data-modifying `WITH`):
/// the guarded row update, the chained event, and, with `facts` (the action changes a
/// reportable fact), the facts read from the row as updated and, with the status
/// moves, the counts; in one round trip and atomic without a transaction around it. A
/// stale version updates no row, so nothing else is written and the statement returns
/// no row.
fn action_in_one_statement(
    row_params: Vec<Param>,
    expected_version: i64,
    head: &EventRecord,
    event: &NewEvent,
    facts: Option<Option<[(Status, i64); 2]>>,
    shard: i64,
) -> Statement {
    let row = update_row(row_params, expected_version, None);
    let event_row = insert_event(head);
    let mut params = row.params;
    params.extend(event_row.params); // $30 ..= $44
    let mut sql = format!(
        "WITH u AS ({} RETURNING {WRITTEN_FACTS}),
         e AS (INSERT INTO dossier_events ({EVENT_COLUMNS})
               SELECT $30, $31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44 FROM u)",
        row.sql,
    );
    if let Some(moves) = facts {
        params.push((event.from_status != Some(event.to_status)).into()); // $45
        sql.push_str(&format!(
            ",
         c AS ({})",
            changes_written_by("u", 31, 32, "$39", 45)
        ));
        if let Some([(first, first_delta), (second, second_delta)]) = moves {
            params.extend([
                first.code().into(),  // $46
                first_delta.into(),   // $47
                second.code().into(), // $48
                second_delta.into(),  // $49
                shard.into(),         // $50
            ]);
            sql.push_str(
                ",
         n AS (INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n)
               SELECT u.handling_unit, u.procedure_code, m.status, $50, m.delta
               FROM u, (VALUES ($46, $47), ($48, $49)) AS m (status, delta)
               ORDER BY m.status
               ON CONFLICT (handling_unit, procedure_code, status, shard)
               DO UPDATE SET n = dossier_counts.n + EXCLUDED.n)",
            );
        }
    }
    sql.push_str("\n         SELECT code FROM u");
    Statement {
        sql: sql.into(),
        params,
        guards_version: Some(expected_version),
    }
}

/// The columns of a dossier row that its reportable facts copy (`dossier_changes`),
/// returned by the statement that wrote the row.
pub(super) const WRITTEN_FACTS: &str = "code, submitted_at, handling_unit, procedure_code, channel, status, statutory_due_date, due_date, \
     supplement_count, settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating";

/// The columns of an event, as `Store::events` reads them.
const EVENT_COLUMNS: &str = super::dossiers::event_columns!();

/// The insert of a dossier's reportable facts from `source`, the `WITH` query that
/// wrote its row and returned `WRITTEN_FACTS` (a statement does not see the rows it
/// writes itself), with the event's number, time and previous status as parameters.
fn changes_written_by(
    source: &str,
    seq: usize,
    at: usize,
    from_status: &str,
    changed: usize,
) -> String {
    format!(
        "INSERT INTO dossier_changes (dossier_code, seq, at, submitted_at, handling_unit, agency_id, procedure_code,
             channel, from_status, to_status, status_changed, statutory_due_date, due_date, supplement_count,
             settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating)
         SELECT {source}.code, ${seq}, ${at}, {source}.submitted_at, {source}.handling_unit, units.agency_id,
                {source}.procedure_code,
                {source}.channel, {from_status}, {source}.status, ${changed}, {source}.statutory_due_date,
                {source}.due_date, {source}.supplement_count, {source}.settled_at, {source}.closed_at,
                {source}.processing_seconds, {source}.fees_requested_vnd, {source}.paid_online, {source}.digitized,
                {source}.rating
         FROM {source} JOIN units ON units.code = {source}.handling_unit"
    )
}

/// `sql` with every `$n` made `$(n + offset)`, to place a statement's values after
/// another's in one statement.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(number) => out.push_str(&(number + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// PostgreSQL: a filing as one statement (data-modifying `WITH`): the dossier, its
/// first event, its reportable facts read from the row as inserted, its count and its
/// documents, in one round trip and atomic without a transaction around it.
fn filing_in_one_statement(
    dossier: Statement,
    event: Statement,
    counted: Statement,
    documents: Option<Statement>,
) -> Statement {
    let mut params = dossier.params;
    let event_at = params.len();
    let event_sql = renumber(&event.sql, event_at);
    params.extend(event.params);
    params.push(true.into());
    let changed = params.len();
    let count_sql = renumber(&counted.sql, params.len());
    params.extend(counted.params);
    let mut sql = format!(
        "WITH d AS ({} RETURNING {WRITTEN_FACTS}),
         e AS ({event_sql}),
         c AS ({}),
         n AS ({count_sql})",
        dossier.sql,
        // The event's `seq` and `at` are its second and third values.
        changes_written_by("d", event_at + 2, event_at + 3, "NULL", changed),
    );
    if let Some(documents) = documents {
        sql.push_str(&format!(
            ",\n         f AS ({})",
            renumber(&documents.sql, params.len())
        ));
        params.extend(documents.params);
    }
    sql.push_str("\n         SELECT code FROM d");
    Statement::new(sql, params)
}

/// Inserts the documents in one statement, whatever their number (none: no statement).
fn insert_documents(code: &str, documents: &[Document], at: &str) -> Option<Statement> {
    if documents.is_empty() {
        return None;
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
    let mut params = Vec::with_capacity(documents.len() * 9);
    for document in documents {
        params.extend([
            code.into(),
            (&document.kind).into(),
            (&document.name).into(),
            (&document.sha256).into(),
            i64::try_from(document.size).unwrap_or(i64::MAX).into(),
            document.digitized.into(),
            at.into(),
            (&document.content_type).into(),
            // A component declared with a file the dossier already holds is stored from now.
            document.digitized.then_some(at).into(),
        ]);
    }
    Some(Statement::new(sql, params))
}

/// Appends the chained event. Runs after the dossier row was written under its version
/// guard, so concurrent writers of one dossier serialise on that row and the chain never
/// forks (and the `(dossier_code, seq)` key refuses a fork in any case).
fn insert_event(record: &EventRecord) -> Statement {
    Statement::new(
        concat!(
            "INSERT INTO dossier_events (",
            super::dossiers::event_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        vec![
            (&record.dossier_code).into(),
            record.seq.into(),
            (&record.at).into(),
            (&record.actor_id).into(),
            (&record.actor_role).into(),
            (&record.actor_unit).into(),
            (&record.action).into(),
            (&record.from_step).into(),
            (&record.to_step).into(),
            record.from_status.into(),
            record.to_status.into(),
            (&record.note).into(),
            (&record.payload_json).into(),
            (&record.prev_hash).into(),
            (&record.hash).into(),
        ],
    )
}

/// Records the reportable facts of the dossier as the event at `seq` left them: a copy
/// of the dossier row just written, so the projection can never disagree with it.
fn insert_change(code: &str, seq: i64, event: &NewEvent) -> Statement {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH d AS (SELECT {WRITTEN_FACTS} FROM dossiers WHERE code = $1) {}",
            changes_written_by("d", 2, 3, "$4", 5)
        )
    });
    Statement::new(
        SQL.as_str(),
        vec![
            code.into(),
            seq.into(),
            (&event.at).into(),
            event.from_status.into(),
            (event.from_status != Some(event.to_status)).into(),
        ],
    )
}

/// Moves one dossier into (`delta` 1) or out of (-1) a count of `dossier_counts`.
fn count(unit: &str, procedure: &str, status: Status, shard: i64, delta: i64) -> Statement {
    Statement::new(
        "INSERT INTO dossier_counts (handling_unit, procedure_code, status, shard, n) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (handling_unit, procedure_code, status, shard) DO UPDATE SET n = dossier_counts.n + $5",
        vec![
            unit.into(),
            procedure.into(),
            status.code().into(),
            shard.into(),
            delta.into(),
        ],
    )
}
