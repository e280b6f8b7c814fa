//! The queries behind the processing report and the national indicators, and the
//! indicators' scoring table.
//!
//! Every figure is an aggregate computed in SQL over each dossier's facts *as of* the
//! period's end T: a dossier whose facts did not change after T is read straight from
//! `dossiers`; one whose facts did is read from its latest `dossier_changes` row at or
//! before T (an action writes a row only when it changes a fact, decision 0031). The
//! classification of each dossier (settled early / on time / late, in progress not yet
//! due / due soon / overdue, waiting, refused, stopped, withdrawn) is one CASE
//! expression, and every column of the report is a SUM over it, grouped by handling
//! unit and procedure. The dates it compares with are bound as parameters, computed by
//! the caller with the calendar.

use std::collections::BTreeMap;

use sqlx::Row;

use super::registry::insert_registry_event;
use super::{Backend, RegistryEvent, Result, Store, StoreError};

/// What to aggregate: the period and the filters.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    /// T, the moment the facts are read at: RFC 3339 civil time text.
    pub as_of: String,
    /// The start of the period's first day: RFC 3339 civil time text.
    pub period_start: String,
    /// T's date (YYYY-MM-DD): a running dossier due before it is overdue.
    pub as_of_date: String,
    /// The last date (YYYY-MM-DD) a running dossier counts as due soon.
    pub due_soon_until: String,
    /// Only this handling unit, when set.
    pub unit: Option<String>,
    /// Only this procedure, when set.
    pub procedure: Option<String>,
    /// The ratings that count as satisfied.
    pub satisfied_ratings: [String; 2],
}

/// The counts of one (handling unit, procedure) group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupCounts {
    pub unit: String,
    pub procedure_code: String,
    pub carried_over: i64,
    pub received_online: i64,
    pub received_in_person: i64,
    pub received_postal: i64,
    pub settled_early: i64,
    pub settled_on_time: i64,
    pub settled_late: i64,
    pub not_yet_due: i64,
    pub due_soon: i64,
    pub overdue: i64,
    pub waiting_supplement: i64,
    pub awaiting_payment: i64,
    pub refused: i64,
    pub stopped: i64,
    pub withdrawn: i64,
    /// Sum of `processing_seconds` over the settled dossiers.
    pub processing_seconds: i64,
    /// Dossiers whose components (and result, once settled) are all digitized.
    pub digitized: i64,
    /// Dossiers with a fee requested.
    pub fee_bearing: i64,
    /// Of those, dossiers paid (at least partly) online.
    pub paid_online: i64,
    /// Dossiers the citizen rated.
    pub rated: i64,
    /// Of those, rated satisfied or very satisfied.
    pub satisfied: i64,
}

/// An overdue dossier as of T, as the report reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverdueRow {
    pub unit: String,
    pub code: String,
    pub procedure_code: String,
    /// YYYY-MM-DD; none while the dossier has no due date yet.
    pub statutory_due_date: Option<String>,
    pub supplements: i64,
}

/// One row of the indicators' scoring table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringRow {
    pub indicator: String,
    pub group: String,
    pub target_percent: i64,
    pub points: i64,
}

/// The facts of every dossier that belongs to the period, as of T, in two branches a
/// dossier is in exactly one of. A dossier belongs when it was filed at or before T and
/// was not closed before the period started. `closed_at` is written once, when a
/// dossier first becomes final, so the current row's `closed_at` decides that for both
/// branches: a dossier closed after T was open at T, and one closed at or before T
/// carries the same time in its row as of T.
///
/// Parameters: $1 T, $2 the period's start, $5 unit ('' for all), $6 procedure ('' for all),
/// $7 1 when this query reads the changed dossiers (one partition of a split report
/// does), else 0. `units` restricts the unchanged branch to one partition's units.
///
/// Dossiers not changed after T: their row as it is. The report index
/// (`dossiers_report`, migration 0010) holds every column read here, in (unit,
/// procedure) order, so the groups are summed in one pass over it without sorting.
///
/// A dossier whose facts changed after T has a `dossier_changes` row after T (every
/// write of a dossier row that changes a fact writes one, at the row's `updated_at`;
/// one whose later writes changed no fact reads the same from its row), found through
/// `dossier_changes_by_at` (at, submitted_at, dossier_code), which also leaves out,
/// without reading a row, the changes of dossiers filed after T: for a month long past
/// those are most of the changes after it. `updated_at` itself is in no index: every
/// action changes it, and an action that changes no indexed column writes no index
/// entry (decision 0029). The changed dossiers are set aside the way each backend does
/// it best: SQLite builds the list once for `NOT IN`; PostgreSQL hashes it for an
/// anti-join (its `NOT IN` over a list too large for memory would scan the list for
/// every row).
fn facts_unchanged(backend: Backend, units: &str) -> String {
    let unchanged = match backend {
        Backend::Sqlite => {
            "d.code NOT IN (SELECT l.dossier_code FROM dossier_changes l
                            WHERE l.at > $1 AND l.submitted_at <= $1)"
        }
        Backend::Postgres => {
            "NOT EXISTS (SELECT 1 FROM dossier_changes l
                         WHERE l.dossier_code = d.code AND l.at > $1 AND l.submitted_at <= $1)"
        }
    };
    format!(
        "SELECT d.code AS code, d.handling_unit AS unit, d.procedure_code AS procedure_code,
                d.channel AS channel, d.status AS status, d.submitted_at AS submitted_at,
                d.statutory_due_date AS due, d.supplement_count AS supplements,
                COALESCE(d.settled_at, d.closed_at) AS settled_at,
                d.processing_seconds AS processing_seconds, d.fees_requested_vnd AS fees,
                d.paid_online AS paid_online, d.digitized AS digitized, d.rating AS rating
         FROM dossiers d
         WHERE d.submitted_at <= $1 AND {unchanged}
           AND (d.closed_at IS NULL OR d.closed_at >= $2)
           AND ($5 = '' OR d.handling_unit = $5) AND ($6 = '' OR d.procedure_code = $6)
           {units}"
    )
}

/// Dossiers changed after T: their latest `dossier_changes` row at or before T. The
/// dossiers are those with a change after T (`dossier_changes_by_at`), each read by
/// its key. Written as `IN`, not as a join with a `DISTINCT` list: given the join,
/// SQLite walked the whole `(dossier_code, seq)` index for the list's order, 18× slower
/// at 100,000 dossiers.
///
/// How the latest row is joined differs by backend. PostgreSQL cannot tell that few
/// dossiers both were filed before T and changed after it (the two dates go together),
/// and with a plain join it would hash every change ever recorded; a LATERAL lookup
/// takes one index probe per dossier. SQLite has no LATERAL and probes the index for
/// the correlated MAX by itself.
fn facts_changed(backend: Backend) -> String {
    let latest = match backend {
        Backend::Sqlite => {
            "JOIN dossier_changes c ON c.dossier_code = d.code
             AND c.seq = (SELECT MAX(l.seq) FROM dossier_changes l
                          WHERE l.dossier_code = d.code AND l.at <= $1)"
        }
        Backend::Postgres => {
            "CROSS JOIN LATERAL (SELECT * FROM dossier_changes l
                                 WHERE l.dossier_code = d.code AND l.at <= $1
                                 ORDER BY l.seq DESC LIMIT 1) c"
        }
    };
    format!(
        "SELECT d.code AS code, c.handling_unit AS unit, c.procedure_code AS procedure_code,
                c.channel AS channel, c.to_status AS status, d.submitted_at AS submitted_at,
                c.statutory_due_date AS due, c.supplement_count AS supplements,
                COALESCE(c.settled_at, c.closed_at) AS settled_at,
                c.processing_seconds AS processing_seconds, c.fees_requested_vnd AS fees,
                c.paid_online AS paid_online, c.digitized AS digitized, c.rating AS rating
         FROM dossiers d
         {latest}
         WHERE d.code IN (SELECT a.dossier_code FROM dossier_changes a
                          WHERE a.at > $1 AND a.submitted_at <= $1)
           AND d.submitted_at <= $1
           AND (d.closed_at IS NULL OR d.closed_at >= $2)
           AND ($5 = '' OR c.handling_unit = $5) AND ($6 = '' OR c.procedure_code = $6)
           AND $7 = 1"
    )
}

/// The bucket of a dossier as of T, from its status (one class per dossier):
///  1 settled early, 2 settled on time, 3 settled late (after the statutory due date,
///  or after more than one supplement request); 4 in progress not yet due (or no due
///  date yet), 5 due soon, 6 overdue (statutory due date before T's date, or more than
///  one supplement request); 13 refused, 15 waiting for a supplement, 16 awaiting
///  payment, 17 withdrawn, 18 stopped (10 + the status code).
///
/// Parameters: $3 T's date, $4 the last due-soon date.
const CLASS: &str = "
    CASE
      WHEN status IN (9, 10) THEN
        CASE WHEN supplements > 1 OR substr(settled_at, 1, 10) > due THEN 3
             WHEN substr(settled_at, 1, 10) < due THEN 1
             ELSE 2 END
      WHEN status IN (1, 2, 4) THEN
        CASE WHEN supplements > 1 OR due < $3 THEN 6
             WHEN due <= $4 THEN 5
             ELSE 4 END
      ELSE status + 10
    END";

impl Store {
    /// The report's counts per (handling unit, procedure), ordered by both.
    pub async fn report_groups(&self, query: &ReportQuery) -> Result<Vec<GroupCounts>> {
        let count = |condition: &str| format!("SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)");
        let columns = [
            count("submitted_at < $2"),
            count("submitted_at >= $2 AND channel = 'online'"),
            count("submitted_at >= $2 AND channel = 'in-person'"),
            count("submitted_at >= $2 AND channel = 'postal'"),
            count("bucket = 1"),
            count("bucket = 2"),
            count("bucket = 3"),
            count("bucket = 4"),
            count("bucket = 5"),
            count("bucket = 6"),
            count("bucket = 15"),
            count("bucket = 16"),
            count("bucket = 13"),
            count("bucket = 18"),
            count("bucket = 17"),
            // PostgreSQL sums BIGINT into NUMERIC; the cast brings it back to an integer.
            "CAST(SUM(CASE WHEN bucket IN (1, 2, 3) THEN COALESCE(processing_seconds, 0) ELSE 0 END) AS BIGINT)"
                .to_string(),
            count("digitized = 1"),
            count("fees > 0"),
            count("fees > 0 AND paid_online = 1"),
            count("rating IS NOT NULL"),
            count("rating IN ($8, $9)"),
        ]
        .join(",\n           ");
        // Each branch is summed on its own, so the larger one streams over its index in
        // group order; a dossier is in one branch only, and the two are added up here.
        //
        // The bucket is computed once per dossier in a subquery the planner must not
        // merge into the sums: merged, every `bucket = k` would evaluate the whole CASE
        // again, a dozen times per dossier. The fence differs by backend. SQLite keeps
        // a subquery with a LIMIT apart, and its ORDER BY, which the report index
        // already gives, lets the GROUP BY stream without a sort. PostgreSQL keeps a
        // subquery with an OFFSET apart and groups with a hash; an ORDER BY would make
        // it sort.
        let fence = match self.backend {
            Backend::Sqlite => "ORDER BY unit, procedure_code LIMIT -1",
            Backend::Postgres => "OFFSET 0",
        };
        let grouped = |facts: &str| {
            format!(
                "SELECT unit, procedure_code,
                        {columns}
                 FROM (SELECT f.*, {CLASS} AS bucket FROM ({facts}) f {fence}) classed
                 GROUP BY unit, procedure_code"
            )
        };
        // SQLite answers a query on one thread: a province-wide report is split by
        // handling unit into one query per core, each on its own connection, run at
        // once; the first also reads the (few) dossiers changed after T. PostgreSQL
        // runs its own parallel workers.
        let partitions = match (self.backend, &query.unit) {
            (Backend::Sqlite, None) => self.unit_partitions(report_partitions()).await?,
            _ => vec![Vec::new()],
        };
        let mut queries = tokio::task::JoinSet::new();
        for (index, units) in partitions.into_iter().enumerate() {
            // The units are bound from $10 on; an empty list means every unit.
            let in_list = if units.is_empty() {
                String::new()
            } else {
                let placeholders: Vec<String> =
                    (0..units.len()).map(|n| format!("${}", n + 10)).collect();
                format!("AND d.handling_unit IN ({})", placeholders.join(", "))
            };
            let sql = format!(
                "{}\n UNION ALL\n {}",
                grouped(&facts_unchanged(self.backend, &in_list)),
                grouped(&facts_changed(self.backend))
            );
            let (store, query) = (self.clone(), query.clone());
            queries.spawn(async move {
                let mut statement =
                    bind_report(sqlx::query(sqlx::AssertSqlSafe(sql)), &query, index == 0)
                        .bind(query.satisfied_ratings[0].clone())
                        .bind(query.satisfied_ratings[1].clone());
                for unit in units {
                    statement = statement.bind(unit);
                }
                statement.fetch_all(&store.pool).await
            });
        }
        let mut rows = Vec::new();
        while let Some(partition) = queries.join_next().await {
            rows.extend(partition.map_err(|error| {
                StoreError::Corrupt(format!("a report query stopped: {error}"))
            })??);
        }
        let mut groups: BTreeMap<(String, String), GroupCounts> = BTreeMap::new();
        for row in &rows {
            let unit: String = row.get(0);
            let procedure_code: String = row.get(1);
            let group = groups
                .entry((unit.clone(), procedure_code.clone()))
                .or_insert_with(|| GroupCounts {
                    unit,
                    procedure_code,
                    ..GroupCounts::default()
                });
            group.carried_over += row.get::<i64, _>(2);
            group.received_online += row.get::<i64, _>(3);
            group.received_in_person += row.get::<i64, _>(4);
            group.received_postal += row.get::<i64, _>(5);
            group.settled_early += row.get::<i64, _>(6);
            group.settled_on_time += row.get::<i64, _>(7);
            group.settled_late += row.get::<i64, _>(8);
            group.not_yet_due += row.get::<i64, _>(9);
            group.due_soon += row.get::<i64, _>(10);
            group.overdue += row.get::<i64, _>(11);
            group.waiting_supplement += row.get::<i64, _>(12);
            group.awaiting_payment += row.get::<i64, _>(13);
            group.refused += row.get::<i64, _>(14);
            group.stopped += row.get::<i64, _>(15);
            group.withdrawn += row.get::<i64, _>(16);
            group.processing_seconds += row.get::<i64, _>(17);
            group.digitized += row.get::<i64, _>(18);
            group.fee_bearing += row.get::<i64, _>(19);
            group.paid_online += row.get::<i64, _>(20);
            group.rated += row.get::<i64, _>(21);
            group.satisfied += row.get::<i64, _>(22);
        }
        Ok(groups.into_values().collect())
    }

    /// The codes of each unit's overdue dossiers as of T (in progress past the statutory
    /// due date, or after more than one supplement request), earliest due first, at most
    /// `per_unit` a unit: (unit, code) pairs ordered by unit.
    pub async fn overdue_codes(
        &self,
        query: &ReportQuery,
        per_unit: i64,
    ) -> Result<Vec<(String, String)>> {
        Ok(self
            .overdue_dossiers(query, per_unit)
            .await?
            .into_iter()
            .map(|row| (row.unit, row.code))
            .collect())
    }

    /// The same overdue dossiers as [`Store::overdue_codes`], with the facts the
    /// dashboard lists (procedure, statutory due date, supplement requests) as of T; only
    /// the query's unit when it has one.
    pub async fn overdue_dossiers(
        &self,
        query: &ReportQuery,
        per_unit: i64,
    ) -> Result<Vec<OverdueRow>> {
        // Each branch keeps only its overdue dossiers while it is scanned; only those few
        // are ranked.
        let overdue = |facts: &str| {
            format!(
                "SELECT unit, code, procedure_code, due, supplements
                 FROM (SELECT f.*, {CLASS} AS bucket FROM ({facts}) f) classed
                 WHERE bucket = 6"
            )
        };
        let sql = format!(
            "WITH overdue AS ({} UNION ALL {}),
             ranked AS (
                 SELECT unit, code, procedure_code, due, supplements,
                        ROW_NUMBER() OVER (PARTITION BY unit ORDER BY COALESCE(due, ''), code) AS n
                 FROM overdue)
             SELECT unit, code, procedure_code, due, supplements FROM ranked WHERE n <= $8
             ORDER BY unit, n",
            overdue(&facts_unchanged(self.backend, "")),
            overdue(&facts_changed(self.backend))
        );
        let rows = bind_report(sqlx::query(sqlx::AssertSqlSafe(sql)), query, true)
            .bind(per_unit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| OverdueRow {
                unit: row.get(0),
                code: row.get(1),
                procedure_code: row.get(2),
                statutory_due_date: row.get(3),
                supplements: row.get(4),
            })
            .collect())
    }

    /// The units split into `count` lists of about the same length, in code order; one
    /// empty list (every unit) when there is nothing to split.
    async fn unit_partitions(&self, count: usize) -> Result<Vec<Vec<String>>> {
        let codes: Vec<String> = sqlx::query("SELECT code FROM units ORDER BY code")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if count <= 1 || codes.len() < 2 {
            return Ok(vec![Vec::new()]);
        }
        let size = codes.len().div_ceil(count);
        Ok(codes.chunks(size).map(<[String]>::to_vec).collect())
    }

    /// The indicators' scoring table, in a fixed order.
    pub async fn scoring(&self) -> Result<Vec<ScoringRow>> {
        let rows = sqlx::query(
            "SELECT indicator, indicator_group, target_percent, points FROM indicator_targets
             ORDER BY indicator",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ScoringRow {
                indicator: row.get(0),
                group: row.get(1),
                target_percent: row.get(2),
                points: row.get(3),
            })
            .collect())
    }

    /// Replaces the scoring table's rows, with the registry event that audits the change,
    /// in one transaction.
    pub async fn set_scoring(&self, rows: &[ScoringRow], event: &RegistryEvent) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO indicator_targets (indicator, indicator_group, target_percent, points)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (indicator) DO UPDATE SET indicator_group = excluded.indicator_group,
                     target_percent = excluded.target_percent, points = excluded.points",
            )
            .bind(&row.indicator)
            .bind(&row.group)
            .bind(row.target_percent)
            .bind(row.points)
            .execute(&mut *tx)
            .await?;
        }
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// How many queries a province-wide report on SQLite is split into: one per core, at
/// most four (the pool keeps connections for other requests).
fn report_partitions() -> usize {
    std::thread::available_parallelism()
        .map(|cores| cores.get())
        .unwrap_or(1)
        .min(4)
}

/// Binds $1..$7, the parameters the report queries share.
fn bind_report<'q>(
    statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    query: &ReportQuery,
    reads_changed: bool,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    statement
        .bind(query.as_of.clone())
        .bind(query.period_start.clone())
        .bind(query.as_of_date.clone())
        .bind(query.due_soon_until.clone())
        .bind(query.unit.clone().unwrap_or_default())
        .bind(query.procedure.clone().unwrap_or_default())
        .bind(i64::from(reads_changed))
}
