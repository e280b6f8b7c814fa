//! What the reports' indexes cost an action (docs/decisions/0029): the columns every
//! action changes are in no index of `dossiers`, so an action that changes no indexed
//! column writes no index entry, and on PostgreSQL is a HOT update.

use motcua_e2e::{Backend, TestServer};
use serde_json::{Value, json};
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

fn household() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json");
    filings["household"].clone()
}

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

    let filed = server.file(None, &household()).await;
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
