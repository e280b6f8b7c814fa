//! The national sync feed on both backends, through the HTTP API: one reader pages
//! through it with a small page while several writers on two hosts file and act at the
//! same time; at the end every status change of the audit trail was read exactly once,
//! each dossier's changes in order, and the cursor never went back.
//!
//! On PostgreSQL transactions commit in another order than they take ids. To make sure
//! that happens during the test, a trigger (created on the test's own database) holds
//! the transactions of a few chosen status changes open for a moment after their row is
//! inserted, while the other writers commit rows with larger ids behind them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use motcua_e2e::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

const PROVINCE: &str = "demo-phu-tho-admin";
const WRITERS_PER_HOST: usize = 2;
const DOSSIERS_PER_WRITER: usize = 6;
const SLOW_DOSSIERS: usize = 4;

fn household(unit: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    let filings: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json");
    let mut body = filings["household"].clone();
    body["receiving_unit"] = json!(unit);
    body
}

/// (tx, id) of a cursor "TX.ID"; the test knows the format to check that it only grows.
fn position(cursor: &str) -> (i64, i64) {
    let (tx, id) = cursor.split_once('.').expect("cursor is TX.ID");
    (tx.parse().unwrap(), id.parse().unwrap())
}

/// Files household dossiers at `unit` and takes each through its whole life: filed (1),
/// received (4), paid and proposed (still 4: no status change), approved (9), returned
/// (10).
async fn writer(host: &TestServer, unit: &str) {
    let token = |role: &str| format!("demo-{unit}-{role}");
    for _ in 0..DOSSIERS_PER_WRITER {
        let filed = host.file(None, &household(unit)).await;
        host.act_ok(&token("officer"), &filed.code, "receive", json!({}))
            .await;
        let paid = host
            .act_as_citizen(
                &filed.secret,
                &filed.code,
                "record-payment",
                json!({ "online": true, "receipt": "VNPAY" }),
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
        host.act_ok(&token("specialist"), &filed.code, "propose", json!({}))
            .await;
        host.act_ok(&token("leader"), &filed.code, "approve", json!({}))
            .await;
        host.act_ok(&token("officer"), &filed.code, "return-result", json!({}))
            .await;
    }
}

/// Everything the reader saw, in the order it saw it.
#[derive(Default)]
struct Read {
    items: Vec<Value>,
    pages: usize,
}

/// Reads one page after `cursor`; checks the page's own invariants and returns its
/// `next`.
async fn read_page(server: &TestServer, cursor: &str, read: &mut Read) -> String {
    let response = server
        .get(
            &format!("/api/v1/sync/status-changes?after={cursor}&limit=5"),
            Some(PROVINCE),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let items = response.body["items"].as_array().expect("items").clone();
    let next = response.body["next"].as_str().expect("next").to_string();
    assert!(items.len() <= 5, "the page is larger than the limit");
    assert!(
        position(&next) >= position(cursor),
        "the cursor went back from {cursor} to {next}"
    );
    match items.last() {
        Some(last) => assert_eq!(last["cursor"], next.as_str(), "next is the last item's"),
        None => assert_eq!(next, cursor, "an empty page keeps the cursor"),
    }
    read.pages += 1;
    read.items.extend(items);
    next
}

async fn feed_reads_every_change_once_under_concurrent_writes(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let other = server.second_host().await;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&server.database_url)
        .await
        .expect("connect to the test database");

    // Dossiers whose receipt will commit slowly on PostgreSQL.
    let mut slow = Vec::new();
    for _ in 0..SLOW_DOSSIERS {
        slow.push(server.file(None, &household("thanh-ba")).await);
    }
    if backend == Backend::Postgres {
        for statement in [
            "CREATE TABLE test_slow_changes (dossier_code TEXT NOT NULL, seq BIGINT NOT NULL)",
            "CREATE FUNCTION test_slow_commit() RETURNS trigger AS $$
             BEGIN
                 IF EXISTS (SELECT 1 FROM test_slow_changes
                            WHERE dossier_code = NEW.dossier_code AND seq = NEW.seq) THEN
                     PERFORM pg_sleep(0.4);
                 END IF;
                 RETURN NULL;
             END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER test_slow_commit AFTER INSERT ON dossier_changes
             FOR EACH ROW EXECUTE FUNCTION test_slow_commit()",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect("slow-commit trigger");
        }
        for filed in &slow {
            sqlx::query("INSERT INTO test_slow_changes (dossier_code, seq) VALUES ($1, 2)")
                .bind(&filed.code)
                .execute(&pool)
                .await
                .expect("mark a slow change");
        }
    }

    let done = AtomicBool::new(false);
    let writers = async {
        tokio::join!(
            writer(&server, "xuan-hoa"),
            writer(&server, "viet-tri"),
            writer(&other, "xuan-hoa"),
            writer(&other, "viet-tri"),
            async {
                // The slow receipts, spread over the writers' run.
                for filed in &slow {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    other
                        .act_ok("demo-thanh-ba-officer", &filed.code, "receive", json!({}))
                        .await;
                }
            },
        );
        done.store(true, Ordering::SeqCst);
    };
    let reader = async {
        let mut read = Read::default();
        // "0.0" is before every change, as no cursor at all is.
        let mut cursor = "0.0".to_string();
        while !done.load(Ordering::SeqCst) {
            cursor = read_page(&server, &cursor, &mut read).await;
            tokio::task::yield_now().await;
        }
        (read, cursor)
    };
    let ((), (mut read, mut cursor)) = tokio::join!(writers, reader);
    let pages_while_writing = read.pages;

    // Every status change in the audit trail: the truth the feed must match.
    let expected: BTreeSet<(String, i64)> = sqlx::query(
        "SELECT dossier_code, seq FROM dossier_events
         WHERE from_status IS NULL OR from_status <> to_status",
    )
    .fetch_all(&pool)
    .await
    .expect("status changes")
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    let dossiers = WRITERS_PER_HOST * 2 * DOSSIERS_PER_WRITER;
    assert_eq!(
        expected.len(),
        dossiers * 4 + SLOW_DOSSIERS * 2,
        "filed, received, settled, returned each; the slow ones filed and received"
    );
    // Drain what is left now that the writers are done.
    let deadline = Instant::now() + Duration::from_secs(30);
    while read.items.len() < expected.len() {
        assert!(
            Instant::now() < deadline,
            "the feed stopped at {} of {} changes",
            read.items.len(),
            expected.len()
        );
        let before = read.items.len();
        cursor = read_page(&server, &cursor, &mut read).await;
        if read.items.len() == before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Nothing more comes.
    let end = read_page(&server, &cursor, &mut read).await;
    assert_eq!(end, cursor);

    let keys: Vec<(String, i64)> = read
        .items
        .iter()
        .map(|item| {
            (
                item["dossier_code"].as_str().unwrap().to_string(),
                item["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let unique: BTreeSet<(String, i64)> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "a change was read twice");
    assert_eq!(
        unique, expected,
        "the feed and the audit trail disagree on the status changes"
    );
    // The cursor only ever grew, and each dossier's changes came in their order.
    for pair in read.items.windows(2) {
        let (a, b) = (
            position(pair[0]["cursor"].as_str().unwrap()),
            position(pair[1]["cursor"].as_str().unwrap()),
        );
        assert!(a < b, "cursor went from {a:?} to {b:?}");
    }
    let mut last_seq: BTreeMap<&str, i64> = BTreeMap::new();
    for item in &read.items {
        let code = item["dossier_code"].as_str().unwrap();
        let seq = item["seq"].as_i64().unwrap();
        if let Some(previous) = last_seq.insert(code, seq) {
            assert!(previous < seq, "{code}: change {seq} read after {previous}");
        }
    }
    // The feed is the rows of dossier_changes that changed the status, nothing else.
    let stored: BTreeSet<(String, i64)> =
        sqlx::query("SELECT dossier_code, seq FROM dossier_changes WHERE status_changed = 1")
            .fetch_all(&pool)
            .await
            .expect("changes")
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
    assert_eq!(stored, expected);
    assert!(
        pages_while_writing > 10,
        "the reader read while the writers wrote ({pages_while_writing} pages)"
    );
    eprintln!(
        "[{backend:?}] {} changes read in {} pages, {pages_while_writing} while writing",
        read.items.len(),
        read.pages
    );

    pool.close().await;
    other.finish().await;
    server.finish().await;
}

/// What one change says, who may read the feed, and bad cursors and limits.
async fn feed_items_access_and_bad_queries(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let filed = server.file(None, &household("viet-tri")).await;
    server
        .act_ok("demo-viet-tri-officer", &filed.code, "receive", json!({}))
        .await;
    // Paying changes no status: not in the feed.
    server
        .act_as_citizen(
            &filed.secret,
            &filed.code,
            "record-payment",
            json!({ "online": true, "receipt": "VNPAY" }),
        )
        .await;
    // On PostgreSQL a change is served once every transaction older than it has ended,
    // in any database of the cluster (other tests write beside this one): the feed may
    // lag a moment, never skip. Read as a consumer does, until both changes are there.
    let mut page = server
        .get("/api/v1/sync/status-changes", Some(PROVINCE))
        .await;
    for _ in 0..100 {
        if page.body["items"]
            .as_array()
            .is_some_and(|items| items.len() >= 2)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        page = server
            .get("/api/v1/sync/status-changes", Some(PROVINCE))
            .await;
    }
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", page.body);
    let mut received = items[1].clone();
    let cursor = received.as_object_mut().unwrap().remove("cursor").unwrap();
    assert_eq!(
        received,
        json!({
            "status": { "code": 4, "name": "processing" },
            "previous_status": { "code": 1, "name": "submitted" },
            "dossier_code": filed.code,
            "seq": 2,
            "agency_id": "000.30.19.H43",
            "unit": "viet-tri",
            "procedure_code": "1.001612",
            "channel": "online",
            "at": "2026-03-02T09:00:00+07:00",
        })
    );
    assert_eq!(items[0]["previous_status"], Value::Null, "filing");
    assert_eq!(page.body["next"], cursor);
    // Read from the first item on: the second comes again, and nothing after it.
    let after_first = server
        .get(
            &format!(
                "/api/v1/sync/status-changes?after={}&limit=1",
                items[0]["cursor"].as_str().unwrap()
            ),
            Some("demo-phu-tho-publisher"),
        )
        .await;
    assert_eq!(after_first.body["items"][0]["seq"], 2);
    let empty = server
        .get(
            &format!(
                "/api/v1/sync/status-changes?after={}",
                cursor.as_str().unwrap()
            ),
            Some(PROVINCE),
        )
        .await;
    assert_eq!(empty.body["items"], json!([]));
    assert_eq!(empty.body["next"], cursor);

    for token in ["demo-viet-tri-officer", "demo-xuan-hoa-admin"] {
        server
            .get("/api/v1/sync/status-changes", Some(token))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    server
        .get("/api/v1/sync/status-changes", None)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    for query in [
        "after=abc",
        "after=12",
        "after=1.x",
        "after=-1.2",
        "after=1.2.3",
        "after=99999999999999999999.1",
        "limit=0",
        "limit=1001",
        "limit=ten",
        "since=1.2",
    ] {
        server
            .get(
                &format!("/api/v1/sync/status-changes?{query}"),
                Some(PROVINCE),
            )
            .await
            .problem(StatusCode::BAD_REQUEST);
    }
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    feed_reads_every_change_once_under_concurrent_writes,
    feed_items_access_and_bad_queries,
);
