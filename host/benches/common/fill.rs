//! Filling a bench database directly with SQL: a year (2025) of dossiers spread over
//! `communes` units, 12 procedures, the three channels and every status (most settled or
//! returned, some late, the open ones in the last weeks of the year), with their
//! `dossier_changes` rows (filing, receipt, and the latest status change). Shared by the
//! `reports` and `inbox` benches.

use sqlx::Executor;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The dossier counts to bench: `MOTCUA_BENCH_SIZES` (comma-separated), or `default`.
pub fn sizes_from_env(default: &str) -> Vec<i64> {
    std::env::var("MOTCUA_BENCH_SIZES")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|size| size.trim().parse().expect("MOTCUA_BENCH_SIZES: numbers"))
        .collect()
}

/// The backends to bench: `MOTCUA_BENCH_BACKENDS` (`sqlite,postgres` by default).
pub fn backends_from_env() -> Vec<Backend> {
    std::env::var("MOTCUA_BENCH_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|name| match name.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("MOTCUA_BENCH_BACKENDS: `{other}` is not sqlite or postgres"),
        })
        .collect()
}

/// A timestamp `days` days and `minutes` minutes after 1 January 2025 07:00, as stored.
fn ts(backend: Backend, days: &str, minutes: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "strftime('%Y-%m-%dT%H:%M:%S+07:00', '2025-01-01 07:00:00', '+' || ({days}) || ' days', '+' || ({minutes}) || ' minutes')"
        ),
        Backend::Postgres => format!(
            "to_char(TIMESTAMP '2025-01-01 07:00:00' + ({days}) * INTERVAL '1 day' + ({minutes}) * INTERVAL '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"')"
        ),
    }
}

/// The date `days` days after 1 January 2025, as stored.
fn day(backend: Backend, days: &str) -> String {
    match backend {
        Backend::Sqlite => format!("date('2025-01-01', '+' || ({days}) || ' days')"),
        Backend::Postgres => {
            format!("to_char(DATE '2025-01-01' + ({days})::int, 'YYYY-MM-DD')")
        }
    }
}

/// Fills the database with `count` dossiers spread over `communes` units, and their changes.
pub async fn fill(pool: &sqlx::AnyPool, backend: Backend, count: i64, communes: i64) {
    let mut statements = vec![
        "INSERT INTO units (code, name, parent, agency_id) VALUES ('phu-tho', 'Tỉnh Phú Thọ', NULL, '000.00.00.H43')".to_string(),
        "INSERT INTO plugin_builds (sha256, procedure_code, version, wit_version, size, bytes, info_json, published_by, published_at)
         VALUES ('bench', 'bench', '1.0.0', '0.1.0', 0, '', '{}', 'bench', '2025-01-01T00:00:00+07:00')".to_string(),
    ];
    for unit in 0..communes {
        statements.push(format!(
            "INSERT INTO units (code, name, parent, agency_id) VALUES ('c{unit}', 'Xã {unit}', 'phu-tho', '000.{unit}.19.H43')"
        ));
    }
    let numbers = match backend {
        Backend::Sqlite => format!(
            "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count}) SELECT i FROM n)"
        ),
        Backend::Postgres => {
            format!("(SELECT i FROM generate_series(0::bigint, {count} - 1) AS n(i))")
        }
    };
    // Derived per dossier: its day of the year, minute of the day, a percentile for the
    // status, the days it took to settle (0 to 6; due after 5: one in seven is late).
    let derived = format!(
        "SELECT i, i % 365 AS d, (i / 365) % 480 AS m, (i * 37 + i / 365) % 100 AS r,
                (i / 7) % 7 AS sd FROM {numbers} n"
    );
    let status = "CASE WHEN r < 3 THEN 3 WHEN r < 5 THEN 7 WHEN r < 7 THEN 8 WHEN r < 60 THEN 10
                       WHEN d < 340 OR r < 85 THEN 9 WHEN r < 90 THEN 5 WHEN r < 92 THEN 6 ELSE 4 END";
    let submitted = ts(backend, "d", "m");
    let received = ts(backend, "d", "m + 60");
    let settled = ts(backend, "d + sd", "m + 120");
    let next_day = ts(backend, "d + 1", "m");
    let due = day(backend, "d + 5");
    statements.push(format!(
        "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
             applicant_json, form_json, step, status, submitted_at, received_at, due_date, statutory_due_date,
             supplement_count, fees_requested_vnd, paid_online, settled_at, closed_at, processing_seconds,
             digitized, rating, tracking_secret_hash, version, updated_at, last_seq)
         SELECT 'B-' || i, '1.00' || (1000 + i % 12), 'bench', 'c' || (i % {communes}), 'c' || (i % {communes}),
                CASE WHEN i % 20 < 15 THEN 'online' WHEN i % 20 < 19 THEN 'in-person' ELSE 'postal' END,
                '{{\"full_name\":\"Nguyễn Văn An\",\"citizen_id\":\"025190001234\"}}', '{{}}', 'step', status,
                {submitted}, {received}, {due}, {due},
                CASE WHEN i % 50 = 0 THEN 2 WHEN i % 10 = 0 THEN 1 ELSE 0 END,
                CASE WHEN i % 3 = 0 THEN 100000 ELSE 0 END, i % 2,
                CASE WHEN status IN (9, 10) THEN {settled} END,
                CASE WHEN status IN (9, 10) THEN {settled} WHEN status IN (3, 7, 8) THEN {next_day} END,
                CASE WHEN status IN (9, 10) THEN sd * 86400 + 3600 END,
                CASE WHEN i % 10 = 0 THEN 0 ELSE 1 END,
                CASE WHEN status = 10 AND i % 4 = 0 THEN 'satisfied' WHEN status = 10 AND i % 4 = 1 THEN 'very-satisfied'
                     WHEN status = 10 AND i % 13 = 2 THEN 'dissatisfied' END,
                'x', 1,
                CASE WHEN status IN (9, 10) THEN {settled} WHEN status IN (3, 5, 6, 7, 8) THEN {next_day} ELSE {received} END,
                CASE WHEN status IN (3, 4) THEN 2 ELSE 3 END
         FROM (SELECT g.*, {status} AS status FROM ({derived}) g) s"
    ));
    // Filing, receipt (or refusal), and the latest status change.
    let change = |seq: i64, at: &str, from: &str, to: &str, facts: &str, filter: &str| {
        format!(
            "INSERT INTO dossier_changes (dossier_code, seq, at, submitted_at, handling_unit, agency_id, procedure_code,
                 channel, from_status, to_status, status_changed, statutory_due_date, due_date, supplement_count,
                 settled_at, closed_at, processing_seconds, fees_requested_vnd, paid_online, digitized, rating)
             SELECT d.code, {seq}, {at}, d.submitted_at, d.handling_unit, u.agency_id, d.procedure_code, d.channel, {from}, {to}, 1,
                    {facts}
             FROM dossiers d JOIN units u ON u.code = d.handling_unit {filter}"
        )
    };
    statements.push(change(
        1,
        "d.submitted_at",
        "NULL",
        "1",
        "NULL, NULL, 0, NULL, NULL, NULL, 0, 0, d.digitized, NULL",
        "",
    ));
    statements.push(change(
        2,
        "CASE WHEN d.status = 3 THEN d.closed_at ELSE d.received_at END",
        "1",
        "CASE WHEN d.status = 3 THEN 3 ELSE 4 END",
        "d.statutory_due_date, d.due_date, d.supplement_count, NULL,
         CASE WHEN d.status = 3 THEN d.closed_at END, NULL, d.fees_requested_vnd, 0, d.digitized, NULL",
        "",
    ));
    statements.push(change(
        3,
        "d.updated_at",
        "4",
        "d.status",
        "d.statutory_due_date, d.due_date, d.supplement_count, d.settled_at, d.closed_at, d.processing_seconds,
         d.fees_requested_vnd, d.paid_online, d.digitized, d.rating",
        "WHERE d.status NOT IN (3, 4)",
    ));
    statements.push("ANALYZE".to_string());
    for statement in statements {
        pool.execute(sqlx::AssertSqlSafe(statement))
            .await
            .expect("filling the bench database");
    }
    if backend == Backend::Postgres {
        // Set the visibility map, as autovacuum would on a live database, so plans may
        // read indexes alone.
        pool.execute("VACUUM ANALYZE").await.expect("vacuum");
    }
}
