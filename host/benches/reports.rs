//! The province-wide reports over a year of dossiers, next to a plain count of the same
//! rows (a plain harness: each sample is up to seconds long).
//!
//! For each backend (SQLite in a temporary file, PostgreSQL in a fresh database on the
//! local server) and each size (100 000 and 1 000 000 dossiers), the bench fills the
//! database directly with SQL: dossiers spread over 2025 across 148 communes, 12
//! procedures, the three channels and every status (most settled or returned, some
//! late, the open ones in the last weeks of the year), with their `dossier_changes`
//! rows (filing, receipt, and the latest status change). Then it times, as of 15 January
//! 2026, the processing report and the indicators of the whole province for June 2025
//! and for the year 2025, and `SELECT COUNT(*) FROM dossiers` as the baseline. Each
//! figure is the median of 5 runs after one warm-up run.
//!
//! Run: `cargo bench -p motcua --bench reports`
//! (`MOTCUA_BENCH_SIZES=100000` and `MOTCUA_BENCH_BACKENDS=sqlite` narrow it down;
//! PostgreSQL is `MOTCUA_TEST_POSTGRES_URL`, by default postgres://postgres@127.0.0.1:5432/test;
//! `MOTCUA_BENCH_KEEP=1` keeps the databases to look at query plans.)

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use motcua::calendar::Calendar;
use motcua::reports::{Period, indicators, processing};
use motcua::store::Store;
use sqlx::{Connection, Executor, Row};

const SAMPLES: usize = 5;
const COMMUNES: i64 = 148;

#[path = "common/fill.rs"]
mod fill;
#[path = "common/timing.rs"]
mod timing;
use fill::{Backend, fill};

async fn time<F, Fut>(run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    timing::median_of(SAMPLES, run).await
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

async fn bench(backend: Backend, count: i64) {
    let dir = tempfile::tempdir().unwrap();
    let admin = std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let database = format!("motcua_bench_{}_{count}", std::process::id());
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("bench.db").display()),
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL for the bench");
            connection
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .await
                .unwrap();
            connection.close().await.ok();
            format!("{}/{database}", admin.rsplit_once('/').unwrap().0)
        }
    };
    let store = Store::connect(&url).await.expect("store");
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let start = Instant::now();
    fill(&pool, backend, count, COMMUNES).await;
    let filled = start.elapsed();
    let changes: i64 = sqlx::query("SELECT COUNT(*) FROM dossier_changes")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);

    let calendar = Calendar::shipped();
    let now = at("2026-01-15 09:00");
    let month = Period::parse(Some("2025-06-01"), Some("2025-06-30"), now).unwrap();
    let year = Period::parse(Some("2025-01-01"), Some("2025-12-31"), now).unwrap();

    let baseline = time(|| async {
        let rows: i64 = sqlx::query("SELECT COUNT(*) FROM dossiers")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, count);
    })
    .await;
    let mut figures = Vec::new();
    for (name, period) in [("June 2025", &month), ("year 2025", &year)] {
        let processing = time(|| async {
            let report = processing::processing(&store, &calendar, period, None, None)
                .await
                .unwrap();
            assert!(report.total.to_process > 0 && report.total.places_add_up());
        })
        .await;
        let indicators = time(|| async {
            let report = indicators::indicators(&store, &calendar, period, None)
                .await
                .unwrap();
            assert_eq!(report.units.len(), COMMUNES as usize);
        })
        .await;
        let report = processing::processing(&store, &calendar, period, None, None)
            .await
            .unwrap();
        figures.push((name, report.total.to_process, processing, indicators));
    }
    println!();
    println!(
        "{backend:?}, {count} dossiers, {changes} changes (filled in {:.1} s)",
        filled.as_secs_f64()
    );
    println!("  baseline SELECT COUNT(*) FROM dossiers: {}", ms(baseline));
    for (name, to_process, processing, indicators) in figures {
        let ratio = |d: Duration| d.as_secs_f64() / baseline.as_secs_f64();
        println!(
            "  {name} ({to_process} dossiers to process): processing {} ({:.1}× baseline), indicators {} ({:.1}× baseline)",
            ms(processing),
            ratio(processing),
            ms(indicators),
            ratio(indicators)
        );
    }
    pool.close().await;
    store.close().await;
    if std::env::var_os("MOTCUA_BENCH_KEEP").is_some() {
        // Kept for looking at query plans by hand.
        println!("  kept: {url}");
        let _ = dir.keep();
        return;
    }
    if backend == Backend::Postgres {
        if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
            let _ = connection
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                )))
                .await;
        }
    }
}

fn main() {
    // `cargo test --benches` runs benches with --test: nothing to check here then.
    if std::env::args().any(|arg| arg == "--test") {
        return;
    }
    let sizes = fill::sizes_from_env("100000,1000000");
    let backends = fill::backends_from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    sqlx::any::install_default_drivers();
    for backend in backends {
        for &size in &sizes {
            runtime.block_on(bench(backend, size));
        }
    }
}
