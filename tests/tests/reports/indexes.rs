//! What the reports' indexes cost an action (docs/decisions/0029): the columns every
//! action changes are in no index of `dossiers`, so an action that changes no indexed
//! column writes no index entry, and on PostgreSQL is a HOT update.

use motcua::store;
use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, TestServer};
use serde_json::json;
use sqlx::{Connection, Row};

const OFFICER: &str = "demo-xuan-hoa-officer";

/// The columns of `dossiers` that every action, or every payment, sets to a new value.
const ALWAYS_CHANGED: [&str; 5] = [
    "updated_at",
    "version",
    "last_seq",
    "last_hash",
    "fees_paid_vnd",
];

/// The text of every index of `dossiers` (columns, expressions and partial-index
/// predicates), as the database describes it.
async fn index_definitions(server: &TestServer) -> Vec<String> {
    let sql = match server.backend {
        Backend::Sqlite => {
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dossiers'
             AND sql IS NOT NULL"
        }
        Backend::Postgres => "SELECT indexdef FROM pg_indexes WHERE tablename = 'dossiers'",
    };
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(&server.database_url)
        .await
        .unwrap();
    sqlx::query(sql)
        .fetch_all(&mut connection)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn names_column(definition: &str, column: &str) -> bool {
    definition
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == column)
}

/// PostgreSQL's own count of the updates of `dossiers`, and of those that were HOT,
/// once the server processes that made them have reported at least `updates` (they
/// report their counts within about ten seconds of going idle).
async fn updates_seen(server: &TestServer, updates: i64) -> (i64, i64) {
    let mut connection = sqlx::PgConnection::connect(&server.database_url)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // A fresh snapshot of the statistics at every read.
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(&mut connection)
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'dossiers'",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        let seen: (i64, i64) = (row.get(0), row.get(1));
        if seen.0 >= updates || std::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

pub async fn payments_after_the_first_write_no_index_entry(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;

    let definitions = index_definitions(&server).await;
    assert!(
        definitions.len() >= 8,
        "the inbox and report indexes are there: {definitions:#?}"
    );
    for definition in &definitions {
        for column in ALWAYS_CHANGED {
            assert!(
                !names_column(definition, column),
                "`{column}` changes with every action and must be in no index of dossiers: {definition}"
            );
        }
    }

    let filed = server.file(None, &filings()["household"]).await;
    server
        .act_ok(OFFICER, &filed.code, "receive", json!({}))
        .await;
    for receipt in ["VNPAY-1", "VNPAY-2", "VNPAY-3"] {
        let view = server
            .act_ok(
                OFFICER,
                &filed.code,
                "record-payment",
                json!({ "amount_vnd": 1, "online": true, "receipt": receipt }),
            )
            .await;
        assert_eq!(view["status"]["code"], 4, "{view}");
    }

    if backend == Backend::Postgres {
        let mut connection = sqlx::PgConnection::connect(&server.database_url)
            .await
            .unwrap();
        let options: Option<Vec<String>> =
            sqlx::query("SELECT reloptions FROM pg_class WHERE relname = 'dossiers'")
                .fetch_one(&mut connection)
                .await
                .unwrap()
                .get(0);
        assert_eq!(options, Some(vec!["fillfactor=50".to_string()]));

        // The receipt moves the status and the first online payment sets `paid_online`
        // (in the report index): two updates that write the indexes. The two payments
        // after it change no indexed column.
        let (updates, hot) = updates_seen(&server, 4).await;
        assert_eq!(updates, 4, "one update of the row per action");
        assert_eq!(hot, 2, "the payments after the first are HOT updates");
    }
    server.finish().await;
}

/// A database that already holds dossiers and their change history when migration 0010
/// runs (a province upgrading): the history is append-only, and the migration fills its
/// new `submitted_at` all the same, through the server's own start-up, and leaves the
/// history append-only afterwards.
pub async fn an_upgrade_fills_the_filing_time_of_earlier_changes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, postgres_database) = motcua_e2e::fresh_database(backend, dir.path()).await;
    let (store_backend, pool_url) = match backend {
        Backend::Sqlite => (store::Backend::Sqlite, format!("{url}?mode=rwc")),
        Backend::Postgres => (store::Backend::Postgres, url.clone()),
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&pool_url).await.unwrap();
    store::migrations(store_backend)
        .run_to(9, &pool)
        .await
        .expect("migrations up to 0009");
    let filed = "2026-01-05T09:00:00+07:00";
    sqlx::query("INSERT INTO units (code, name, agency_id) VALUES ('u', 'U', 'A1')")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO plugin_builds (sha256, procedure_code, version, wit_version, size, bytes,
             info_json, published_by, published_at)
         VALUES ('b', '1.001612', '1.0.0', '0.2.0', 1, $1, '{}', 'x', 'x')",
    )
    .bind(vec![0u8])
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit,
             channel, applicant_json, form_json, step, status, submitted_at, tracking_secret_hash,
             version, updated_at, last_seq, last_hash)
         VALUES ('D1', '1.001612', 'b', 'u', 'u', 'online', '{}', '{}', 'review', 4, $1, 'h', 2,
                 '2026-02-02T09:00:00+07:00', 2, 'x')",
    )
    .bind(filed)
    .execute(&pool)
    .await
    .unwrap();
    for (seq, at, status) in [(1, filed, 1), (2, "2026-02-02T09:00:00+07:00", 4)] {
        sqlx::query(
            "INSERT INTO dossier_changes (dossier_code, seq, at, handling_unit, agency_id,
                 procedure_code, channel, to_status, status_changed, supplement_count,
                 fees_requested_vnd, paid_online, digitized)
             VALUES ('D1', $1, $2, 'u', 'A1', '1.001612', 'online', $3, 1, 0, 0, 0, 0)",
        )
        .bind(seq)
        .bind(at)
        .bind(status)
        .execute(&pool)
        .await
        .unwrap();
    }

    let upgraded = store::Store::connect(&url)
        .await
        .expect("the server starts, migrating a database with a change history");
    let rows: Vec<(i64, String)> =
        sqlx::query("SELECT seq, submitted_at FROM dossier_changes ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
    assert_eq!(rows, [(1, filed.to_string()), (2, filed.to_string())]);
    let refused = sqlx::query("UPDATE dossier_changes SET at = at")
        .execute(&pool)
        .await
        .expect_err("the change history is append-only again");
    assert!(refused.to_string().contains("append-only"), "{refused}");

    upgraded.close().await;
    pool.close().await;
    if let Some(name) = postgres_database {
        let mut admin = sqlx::PgConnection::connect(&motcua_e2e::postgres_admin_url())
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}
