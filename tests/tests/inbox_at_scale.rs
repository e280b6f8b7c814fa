//! A ward's inbox over a long history: every filter and order is read through an index
//! (no sort of the unit's rows, no scan of the table), totals come from the kept counts,
//! and paging on with `next` visits every dossier once, in order, on both backends.
//! (The cost at 1,000,000 dossiers is measured by `motcua-load scale`, see BENCHMARKS.md.)

use motcua::store::{DueFilter, InboxCursor, InboxQuery};
use motcua_e2e::{Backend, TestServer, on_both_backends};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

const OFFICER: &str = "demo-xuan-hoa-officer";
const HISTORY: i64 = 30_000;

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

/// Copies one filed dossier `HISTORY` times with SQL: mostly returned (status 10), some
/// received (2) and processing (4), a third without a due date, the rest due on dates
/// spread over 2026.
async fn seed_history(server: &TestServer, code: &str) {
    let columns = "code, procedure_code, build_sha256, receiving_unit, handling_unit, channel, applicant_json,
        form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at, due_date";
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {HISTORY})
         INSERT INTO dossiers ({columns})
         SELECT d.code || '-' || n.i, d.procedure_code, d.build_sha256, d.receiving_unit, d.handling_unit, d.channel,
                d.applicant_json, d.form_json, d.step,
                CASE WHEN n.i % 50 = 0 THEN 2 WHEN n.i % 50 = 1 THEN 4 ELSE 10 END,
                d.submitted_at, d.tracking_secret_hash, 1, d.updated_at,
                CASE WHEN n.i % 3 = 0 THEN NULL ELSE '2026-0' || (1 + n.i % 9) || '-1' || (n.i % 10) END
         FROM n, dossiers d WHERE d.code = '{code}'"
    );
    match server.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&server.database_url)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut connection)
                .await
                .unwrap();
            sqlx::query("ANALYZE")
                .execute(&mut connection)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&server.database_url)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut connection)
                .await
                .unwrap();
            sqlx::query("ANALYZE")
                .execute(&mut connection)
                .await
                .unwrap();
        }
    }
    server.state.store.rebuild_dossier_counts().await.unwrap();
}

fn queries() -> Vec<(String, InboxQuery)> {
    let mut queries = Vec::new();
    let statuses = [None, Some(2), Some(10)];
    let dues = [
        None,
        Some(DueFilter::Overdue {
            today: "2026-05-15".into(),
        }),
        Some(DueFilter::Soon {
            today: "2026-05-15".into(),
            until: "2026-05-29".into(),
        }),
    ];
    for status in statuses {
        for due in &dues {
            for sort_by_due in [false, true] {
                for after in [false, true] {
                    let query = InboxQuery {
                        unit: "xuan-hoa".into(),
                        status: status.and_then(motcua::domain::Status::from_code),
                        procedure: None,
                        due: due.clone(),
                        sort_by_due,
                        limit: 20,
                        after: after.then(|| {
                            if sort_by_due {
                                InboxCursor::Due {
                                    due_key: "2026-03-10".into(),
                                    submitted_at: "2026-03-02T09:00:00+07:00".into(),
                                    code: "x".into(),
                                }
                            } else {
                                InboxCursor::Submitted {
                                    submitted_at: "2026-03-02T09:00:00+07:00".into(),
                                    code: "x".into(),
                                }
                            }
                        }),
                        offset: 0,
                    };
                    let name = format!(
                        "status {status:?}, due {}, sort {}, after {after}",
                        match due {
                            None => "-",
                            Some(DueFilter::Overdue { .. }) => "overdue",
                            Some(DueFilter::Soon { .. }) => "soon",
                        },
                        if sort_by_due { "due" } else { "submitted" }
                    );
                    queries.push((name, query));
                }
            }
        }
    }
    queries
}

async fn every_inbox_page_is_read_through_an_index(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let filed = server.file(None, &filings()["household"]).await;
    seed_history(&server, &filed.code).await;

    for (name, query) in queries() {
        let (page, total) = server.state.store.inbox_plan(&query).await.unwrap();
        let page_text = page.join("\n");
        let total_text = total.join("\n");
        match backend {
            Backend::Sqlite => {
                assert!(
                    page_text.contains("USING INDEX dossiers_inbox_")
                        || page_text.contains("USING COVERING INDEX dossiers_inbox_"),
                    "{name}: the page is not read through an inbox index:\n{page_text}"
                );
                // Rows are sorted only under a due filter: the running dossiers alone.
                if query.due.is_none() {
                    assert!(
                        !page_text.contains("TEMP B-TREE"),
                        "{name}: the page sorts rows:\n{page_text}"
                    );
                }
            }
            Backend::Postgres => {
                assert!(
                    !page_text.contains("Seq Scan on dossiers"),
                    "{name}: the page scans the table:\n{page_text}"
                );
                if query.due.is_none() {
                    assert!(
                        !page_text.contains("Sort"),
                        "{name}: the page sorts rows:\n{page_text}"
                    );
                }
            }
        }
        if query.due.is_some() {
            // The due filters read the running dossiers alone, through an index whose
            // range holds nothing else.
            assert!(
                page_text.contains("dossiers_inbox_running")
                    || (query.status.is_some() && page_text.contains("dossiers_inbox_status")),
                "{name}: the page reads more than the running dossiers:\n{page_text}"
            );
        }
        if query.due.is_none() {
            assert!(
                total_text.contains("dossier_counts"),
                "{name}: the total does not come from the kept counts:\n{total_text}"
            );
        } else {
            // Counted through an index whose range holds running dossiers only.
            assert!(
                !total_text.contains("Seq Scan on dossiers")
                    && (total_text.contains("dossiers_inbox_running")
                        || (query.status.is_some()
                            && total_text.contains("dossiers_inbox_status"))),
                "{name}: the total does not count the running dossiers by an index:\n{total_text}"
            );
        }
    }
    server.finish().await;
}

/// Pages through the whole inbox with `next`, 200 at a time, and compares with the
/// database's own ordering and count.
async fn paging_on_visits_every_dossier_once_in_order(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let filed = server.file(None, &filings()["household"]).await;
    seed_history(&server, &filed.code).await;

    for (filter, sort, order) in [
        ("", "submitted", "submitted_at DESC, code DESC"),
        (
            "&status=2",
            "due",
            "COALESCE(due_date, '9999-12-31'), submitted_at, code",
        ),
        ("&status=10", "submitted", "submitted_at DESC, code DESC"),
    ] {
        let status_condition = match filter {
            "&status=2" => " AND status = 2",
            "&status=10" => " AND status = 10",
            _ => "",
        };
        let expected: Vec<String> = {
            let sql = format!(
                "SELECT code FROM dossiers WHERE handling_unit = 'xuan-hoa'{status_condition} ORDER BY {order}"
            );
            let rows: Vec<(String,)> = match backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&server.database_url)
                        .await
                        .unwrap();
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&server.database_url)
                        .await
                        .unwrap();
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                }
            };
            rows.into_iter().map(|(code,)| code).collect()
        };
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut path =
                format!("/api/v1/units/xuan-hoa/dossiers?per_page=200&sort={sort}{filter}");
            if let Some(token) = &next {
                path.push_str(&format!("&after={token}"));
            }
            let page = server.get(&path, Some(OFFICER)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert_eq!(
                page.body["total"].as_u64().unwrap() as usize,
                expected.len(),
                "{filter}: the total"
            );
            for item in page.body["items"].as_array().unwrap() {
                seen.push(item["code"].as_str().unwrap().to_string());
            }
            match page.body["next"].as_str() {
                Some(token) => next = Some(token.to_string()),
                None => break,
            }
        }
        assert_eq!(
            seen.len(),
            expected.len(),
            "{filter} {sort}: every dossier once"
        );
        assert!(seen == expected, "{filter} {sort}: in the database's order");
    }

    // A cursor of the other order, or not a cursor at all, is a bad query.
    let first = server
        .get("/api/v1/units/xuan-hoa/dossiers?per_page=5", Some(OFFICER))
        .await;
    let token = first.body["next"].as_str().unwrap();
    for path in [
        format!("/api/v1/units/xuan-hoa/dossiers?sort=due&after={token}"),
        "/api/v1/units/xuan-hoa/dossiers?after=zz".to_string(),
        format!("/api/v1/units/xuan-hoa/dossiers?page=2&after={token}"),
        "/api/v1/units/xuan-hoa/dossiers?page=600".to_string(),
    ] {
        let answer = server.get(&path, Some(OFFICER)).await;
        let problem = answer.problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["type"], "urn:motcua:problem:bad-query", "{path}");
    }
    server.finish().await;
}

on_both_backends!(
    every_inbox_page_is_read_through_an_index,
    paging_on_visits_every_dossier_once_in_order
);
