//! `GET /metrics` on a serving host, on both backends: requests by route pattern (never
//! a dossier's own path), method and status; plugin calls by procedure, build, call and
//! outcome (a blocking finding counts as refused); and, read at the scrape, dossiers by
//! unit and status, rollouts per procedure, the instance slots, the database's round
//! trip and the groups PostgreSQL's actions were written in. The figures move with
//! what the test does.

use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, TestServer, metric_sample as sample, on_both_backends};
use serde_json::json;

async fn metrics_follow_the_work(backend: Backend) {
    let server = TestServer::start(backend, "2026-12-01 09:00").await;
    let filed = server.file(None, &filings()["birth"]).await;
    server
        .act_ok("demo-xuan-hoa-officer", &filed.code, "receive", json!({}))
        .await;
    let mut incomplete = filings()["birth"].clone();
    incomplete["applicant"]["citizen_id"] = json!("123");
    let refused = server.post("/api/v1/dossiers", None, &incomplete).await;
    assert_eq!(refused.status, 422);
    server.get("/no/such/page", None).await;
    let odd = reqwest::Method::from_bytes(b"FROBNICATE").unwrap();
    server
        .client
        .request(odd, format!("{}/no/such/page", server.base))
        .send()
        .await
        .unwrap();

    let text = server.scrape().await;
    let build = server.dossier("demo-xuan-hoa-officer", &filed.code).await["build"].clone();
    let label = format!(
        "{} {}",
        build["version"].as_str().unwrap(),
        &build["sha256"].as_str().unwrap()[..12]
    );
    for (series, expected) in [
        (
            r#"motcua_http_requests_total{route="/api/v1/dossiers",method="POST",status="201"}"#.to_string(),
            1.0,
        ),
        (
            r#"motcua_http_requests_total{route="/api/v1/dossiers",method="POST",status="422"}"#.to_string(),
            1.0,
        ),
        (
            r#"motcua_http_requests_total{route="/api/v1/dossiers/{code}/actions",method="POST",status="200"}"#.to_string(),
            1.0,
        ),
        (
            r#"motcua_http_requests_total{route="unmatched",method="GET",status="404"}"#.to_string(),
            1.0,
        ),
        (
            r#"motcua_http_requests_total{route="unmatched",method="other",status="404"}"#.to_string(),
            1.0,
        ),
        (
            format!(r#"motcua_plugin_calls_total{{procedure="1.001193",build="{label}",call="check",outcome="ok"}}"#),
            1.0,
        ),
        (
            format!(r#"motcua_plugin_calls_total{{procedure="1.001193",build="{label}",call="check",outcome="refused"}}"#),
            1.0,
        ),
        (
            format!(r#"motcua_plugin_calls_total{{procedure="1.001193",build="{label}",call="decide",outcome="ok"}}"#),
            1.0,
        ),
        (r#"motcua_dossiers{unit="xuan-hoa",status="processing"}"#.to_string(), 1.0),
        (r#"motcua_rollouts{procedure="1.001193"}"#.to_string(), 1.0),
        (r#"motcua_plugin_call_duration_seconds_count{procedure="1.001193",call="check"}"#.to_string(), 2.0),
        ("motcua_plugin_slots_in_use".to_string(), 0.0),
    ] {
        assert_eq!(sample(&text, &series), Some(expected), "{series} in\n{text}");
    }
    assert!(sample(&text, "motcua_plugin_slots").is_some_and(|slots| slots >= 1.0));
    assert!(sample(&text, "motcua_database_round_trip_seconds").is_some_and(|s| s > 0.0));
    assert!(!text.contains(&filed.code), "no series per dossier");
    assert!(!text.contains("FROBNICATE"), "no series per odd method");

    // The next scrape counts this one, and the dossier moved on.
    server
        .act_ok(
            "demo-xuan-hoa-specialist",
            &filed.code,
            "submit-for-signing",
            json!({}),
        )
        .await;
    let again = server.scrape().await;
    assert_eq!(
        sample(
            &again,
            r#"motcua_http_requests_total{route="/metrics",method="GET",status="200"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &again,
            &format!(
                r#"motcua_plugin_calls_total{{procedure="1.001193",build="{label}",call="decide",outcome="ok"}}"#
            )
        ),
        Some(2.0)
    );
    // PostgreSQL writes actions in groups (a lone action is a group of one); SQLite's
    // writer groups every write and reports none.
    let groups = if backend == Backend::Postgres {
        2.0
    } else {
        0.0
    };
    assert_eq!(sample(&again, "motcua_action_groups"), Some(groups));
    assert_eq!(sample(&again, "motcua_grouped_actions"), Some(groups));
    server.finish().await;
}

on_both_backends!(metrics_follow_the_work);
