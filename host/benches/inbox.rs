//! A ward's inbox at 1,000 and at 1,000,000 dossiers of history (a plain harness).
//!
//! For each backend (SQLite in a temporary file, PostgreSQL in a fresh database on the
//! local server) and each size, the bench fills one ward with a year of dossiers
//! (`common/fill.rs`, all at unit `c0`), recounts the kept counts, and times one page of
//! 20 (with its total) below HTTP, through `Store::inbox`: newest first, earliest due
//! first, one status, the overdue filter, and a page far on (continuing after the
//! 8,000th row, or the middle of a smaller inbox: what `page=400` was). Next to them, the
//! baseline: counting the ward's rows (what every inbox page used to do for its total).
//! Each figure is the median of 21 runs after one warm-up run.
//!
//! Run: `cargo bench -p motcua --bench inbox`
//! (`MOTCUA_BENCH_SIZES`, `MOTCUA_BENCH_BACKENDS` and `MOTCUA_TEST_POSTGRES_URL` as for
//! the `reports` bench.)

use std::time::Duration;

use motcua::domain::Status;
use motcua::store::{DueFilter, InboxCursor, InboxQuery, Store};
use sqlx::{Connection, Executor, Row};

#[path = "common/fill.rs"]
mod fill;
#[path = "common/timing.rs"]
mod timing;
use fill::{Backend, fill};

const SAMPLES: usize = 21;

async fn time<F, Fut>(run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    timing::median_of(SAMPLES, run).await
}

fn query(status: Option<Status>, due: Option<DueFilter>, sort_by_due: bool) -> InboxQuery {
    InboxQuery {
        unit: "c0".into(),
        status,
        procedure: None,
        due,
        sort_by_due,
        limit: 20,
        after: None,
        offset: 0,
    }
}

/// (name, median) of each inbox query, and the baseline.
async fn measure(backend: Backend, count: i64) -> (Vec<(&'static str, Duration)>, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let admin = std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let database = format!("motcua_inbox_bench_{}_{count}", std::process::id());
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("bench.db").display()),
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
            connection
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .await
                .unwrap();
            format!("{}/{database}", admin.rsplit_once('/').unwrap().0)
        }
    };
    let store = Store::connect(&url).await.expect("store");
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    fill(&pool, backend, count, 1).await;
    store.rebuild_dossier_counts().await.unwrap();

    // The row a far page continues after.
    let far = (count / 2).min(8_000);
    let row = sqlx::query(
        "SELECT submitted_at, code FROM dossiers WHERE handling_unit = 'c0'
         ORDER BY submitted_at DESC, code DESC LIMIT 1 OFFSET $1",
    )
    .bind(far)
    .fetch_one(&pool)
    .await
    .unwrap();
    let cursor = InboxCursor::Submitted {
        submitted_at: row.get(0),
        code: row.get(1),
    };
    let overdue = DueFilter::Overdue {
        today: "2026-01-15".into(),
    };
    let cases: Vec<(&'static str, InboxQuery)> = vec![
        ("newest first", query(None, None, false)),
        ("earliest due first", query(None, None, true)),
        (
            "status 4, newest first",
            query(Some(Status::Processing), None, false),
        ),
        (
            "overdue, earliest due first",
            query(None, Some(overdue), true),
        ),
        (
            "a far page (after row 8,000)",
            InboxQuery {
                after: Some(cursor),
                ..query(None, None, false)
            },
        ),
    ];
    let mut figures = Vec::new();
    for (name, case) in cases {
        let median = time(|| async {
            let page = store.inbox(&case).await.unwrap();
            assert!(page.total >= 0);
        })
        .await;
        figures.push((name, median));
    }
    let baseline = time(|| async {
        let rows: i64 = sqlx::query("SELECT COUNT(*) FROM dossiers WHERE handling_unit = 'c0'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, count);
    })
    .await;
    pool.close().await;
    store.close().await;
    if backend == Backend::Postgres
        && let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await
    {
        let _ = connection
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
            )))
            .await;
    }
    (figures, baseline)
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn main() {
    if std::env::args().any(|arg| arg == "--test") {
        return;
    }
    let sizes = fill::sizes_from_env("1000,1000000");
    let backends = fill::backends_from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    sqlx::any::install_default_drivers();
    for backend in backends {
        let results: Vec<_> = sizes
            .iter()
            .map(|&size| runtime.block_on(measure(backend, size)))
            .collect();
        println!();
        print!("| {backend:?} |");
        for size in &sizes {
            print!(" {size} dossiers |");
        }
        println!(" largest ÷ smallest |");
        println!("|---|{}---|", "---|".repeat(sizes.len()));
        let rows = results[0].0.len();
        for index in 0..rows {
            print!("| {} |", results[0].0[index].0);
            for (figures, _) in &results {
                print!(" {} |", ms(figures[index].1));
            }
            let first = results[0].0[index].1.as_secs_f64();
            let last = results[results.len() - 1].0[index].1.as_secs_f64();
            println!(" {:.2}× |", last / first);
        }
        print!("| baseline: COUNT(*) of the ward's rows |");
        for (_, baseline) in &results {
            print!(" {} |", ms(*baseline));
        }
        let first = results[0].1.as_secs_f64();
        let last = results[results.len() - 1].1.as_secs_f64();
        println!(" {:.2}× |", last / first);
    }
}
