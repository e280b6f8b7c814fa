//! Filling the dossiers of a country-sized deployment in bulk, with SQL (as the
//! benches' `host/benches/common/fill.rs` does): one `INSERT … SELECT` over a generated
//! series, then the kept counts recounted by the store itself
//! (`Store::rebuild_dossier_counts`), so the inbox totals and `/metrics` agree with
//! the rows. Only the fill goes behind the host's back; everything measured after it
//! goes through HTTP.
//!
//! Skew: dossiers `0..big` belong to the big ward (`xa-0`), the rest are dealt round
//! the other commune-level units. Each is filed under one of the commune-level
//! procedures' real builds, in 2025, with the statuses of a year's work (most settled,
//! some refused or withdrawn, the open ones processing). None waits for a supplement,
//! so the deadline sweep finds nothing to close while the figures are taken.

use std::time::Instant;

use anyhow::Context;
use sqlx::Executor;

/// A procedure dossiers are filed under: its code and the build they are pinned to.
#[derive(Clone, Debug)]
pub struct Filed {
    pub procedure: String,
    pub sha256: String,
}

/// How many dossiers commune `n` holds after `fill(…, count, big, communes)`.
pub fn expected(n: usize, count: i64, big: i64, communes: usize) -> i64 {
    let big = big.min(count);
    if n == 0 {
        return big;
    }
    if communes < 2 {
        return 0;
    }
    let rest = count - big;
    let others = (communes - 1) as i64;
    let slot = (n - 1) as i64;
    rest / others + i64::from(slot < rest % others)
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Fills `count` dossiers and recounts; returns the seconds the insert and the
/// recount took.
pub async fn fill(
    database: &str,
    count: i64,
    big: i64,
    communes: usize,
    procedures: &[Filed],
) -> anyhow::Result<(f64, f64)> {
    anyhow::ensure!(
        !procedures.is_empty(),
        "no commune-level procedure to file under"
    );
    anyhow::ensure!(
        communes >= 2 || count <= big,
        "one unit holds every dossier"
    );
    let postgres = database.starts_with("postgres");
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(database)
        .await
        .with_context(|| format!("opening {database}"))?;
    let big = big.min(count);
    let others = communes.saturating_sub(1).max(1);
    let numbers = if postgres {
        format!("(SELECT i FROM generate_series(0::bigint, {count} - 1) AS n(i))")
    } else {
        format!(
            "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count}) SELECT i FROM n)"
        )
    };
    let ts = |days: &str, minutes: &str| {
        if postgres {
            format!(
                "to_char(TIMESTAMP '2025-01-01 07:00:00' + ({days}) * INTERVAL '1 day' + ({minutes}) * INTERVAL '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"')"
            )
        } else {
            format!(
                "strftime('%Y-%m-%dT%H:%M:%S+07:00', '2025-01-01 07:00:00', '+' || ({days}) || ' days', '+' || ({minutes}) || ' minutes')"
            )
        }
    };
    let day = |days: &str| {
        if postgres {
            format!("to_char(DATE '2025-01-01' + ({days})::int, 'YYYY-MM-DD')")
        } else {
            format!("date('2025-01-01', '+' || ({days}) || ' days')")
        }
    };
    let k = procedures.len();
    let procedure = format!(
        "CASE i % {k} {} END",
        procedures
            .iter()
            .enumerate()
            .map(|(p, filed)| format!("WHEN {p} THEN {}", quoted(&filed.procedure)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let build = format!(
        "CASE i % {k} {} END",
        procedures
            .iter()
            .enumerate()
            .map(|(p, filed)| format!("WHEN {p} THEN {}", quoted(&filed.sha256)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    // Per dossier: its unit, its day of 2025, minute of the day, a percentile for the
    // status, and the days it took to settle (0 to 6; due after 5: one in seven late).
    let derived = format!(
        "SELECT i, CASE WHEN i < {big} THEN 0 ELSE 1 + (i - {big}) % {others} END AS u,
                i % 365 AS d, (i / 365) % 480 AS m, (i * 37 + i / 365) % 100 AS r, (i / 7) % 7 AS sd
         FROM {numbers} n"
    );
    let status = "CASE WHEN r < 3 THEN 3 WHEN r < 5 THEN 7 WHEN r < 7 THEN 8 WHEN r < 60 THEN 10
                       WHEN d < 340 OR r < 85 THEN 9 ELSE 4 END";
    let submitted = ts("d", "m");
    let received = ts("d", "m + 60");
    let settled = ts("d + sd", "m + 120");
    let next_day = ts("d + 1", "m");
    let due = day("d + 5");
    let insert = format!(
        "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
             applicant_json, form_json, step, status, submitted_at, received_at, due_date, statutory_due_date,
             supplement_count, fees_requested_vnd, paid_online, settled_at, closed_at, processing_seconds,
             digitized, rating, tracking_secret_hash, version, updated_at, last_seq)
         SELECT 'S-' || i, {procedure}, {build}, 'xa-' || u, 'xa-' || u,
                CASE WHEN i % 20 < 15 THEN 'online' WHEN i % 20 < 19 THEN 'in-person' ELSE 'postal' END,
                '{{\"full_name\":\"Nguyễn Văn An\",\"citizen_id\":\"025190001234\"}}', '{{}}',
                CASE WHEN status = 4 THEN 'processing' ELSE 'done' END, status,
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
                CASE WHEN status IN (9, 10) THEN {settled} WHEN status IN (3, 7, 8) THEN {next_day} ELSE {received} END,
                CASE WHEN status = 4 THEN 2 ELSE 3 END
         FROM (SELECT g.*, {status} AS status FROM ({derived}) g) s"
    );
    let started = Instant::now();
    pool.execute(sqlx::AssertSqlSafe(insert))
        .await
        .context("filling the dossiers")?;
    pool.execute(if postgres {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    })
    .await?;
    let inserted = started.elapsed().as_secs_f64();
    pool.close().await;
    let started = Instant::now();
    let store = motcua::store::Store::connect(database)
        .await
        .context("opening the store to recount")?;
    store.rebuild_dossier_counts().await?;
    store.close().await;
    Ok((inserted, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::expected;

    #[test]
    fn expected_counts_add_up() {
        for (count, big, communes) in [(2_000, 500, 40), (1_000_000, 200_000, 3_321), (10, 20, 3)] {
            let sum: i64 = (0..communes)
                .map(|n| expected(n, count, big, communes))
                .sum();
            assert_eq!(sum, count);
        }
    }
}
