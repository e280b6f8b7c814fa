//! The API's edges on both backends: every bad input is a 4xx problem body and
//! writes nothing; the inbox is the unit's own, newest first, filtered and paged;
//! the audit table refuses edits.

use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::{Connection, Executor};

const OFFICER: &str = "demo-xuan-hoa-officer";

async fn bad_input_is_a_problem_and_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let birth = filings()["birth"].clone();
    let filed = server.file(None, &birth).await;
    let before = server.row_counts().await;

    let raw = |body: &str| Some(body.as_bytes().to_vec());
    let cases: Vec<(&str, Method, String, Option<&str>, Vec<(&str, String)>, Option<Vec<u8>>, StatusCode, &str)> = vec![
        ("malformed JSON", Method::POST, "/api/v1/dossiers".into(), None, vec![], raw("{\"procedure\": "), StatusCode::BAD_REQUEST, "malformed-json"),
        ("wrong type", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some(json!({"procedure": 1, "receiving_unit": "xuan-hoa", "channel": "online", "applicant": {}}).to_string().into_bytes()),
            StatusCode::BAD_REQUEST, "malformed-json"),
        ("unknown channel", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["channel"] = json!("fax"); b.to_string().into_bytes() }),
            StatusCode::BAD_REQUEST, "malformed-json"),
        ("unknown field", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["priority"] = json!("urgent"); b.to_string().into_bytes() }),
            StatusCode::BAD_REQUEST, "malformed-json"),
        ("bad document hash", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["documents"][0]["sha256"] = json!("xyz"); b.to_string().into_bytes() }),
            StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("empty applicant name", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["applicant"]["full_name"] = json!(" "); b.to_string().into_bytes() }),
            StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("oversized form", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["form"]["note"] = json!("x".repeat(1_100_000)); b.to_string().into_bytes() }),
            StatusCode::PAYLOAD_TOO_LARGE, "input-too-large"),
        ("invalid token", Method::GET, format!("/api/v1/dossiers/{}", filed.code), Some("mct_nope"), vec![], None,
            StatusCode::UNAUTHORIZED, "invalid-token"),
        ("no credentials", Method::GET, format!("/api/v1/dossiers/{}", filed.code), None, vec![], None,
            StatusCode::UNAUTHORIZED, "unauthenticated"),
        ("unknown dossier", Method::GET, "/api/v1/dossiers/000.31.19.H43-260302-9999".into(), Some(OFFICER), vec![], None,
            StatusCode::NOT_FOUND, "dossier-not-found"),
        ("missing If-Match", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), Some(OFFICER), vec![],
            Some(json!({"action": "receive"}).to_string().into_bytes()), StatusCode::PRECONDITION_REQUIRED, "version-required"),
        ("garbage If-Match", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), Some(OFFICER),
            vec![("if-match", "\"abc\"".to_string())],
            Some(json!({"action": "receive"}).to_string().into_bytes()), StatusCode::BAD_REQUEST, "bad-query"),
        ("unknown action", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), Some(OFFICER),
            vec![("if-match", "1".to_string())],
            Some(json!({"action": "teleport"}).to_string().into_bytes()), StatusCode::UNPROCESSABLE_ENTITY, "action-not-available"),
        ("payload not an object", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), Some(OFFICER),
            vec![("if-match", "1".to_string())],
            Some(json!({"action": "receive", "payload": [1, 2]}).to_string().into_bytes()), StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("action body malformed", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), Some(OFFICER),
            vec![("if-match", "1".to_string())], raw("not json"), StatusCode::BAD_REQUEST, "malformed-json"),
        ("wrong tracking secret", Method::GET, format!("/api/v1/track/{}?secret=00", filed.code), None, vec![], None,
            StatusCode::NOT_FOUND, "not-found"),
        ("inbox of unknown unit", Method::GET, "/api/v1/units/ha-noi/dossiers".into(), Some(OFFICER), vec![], None,
            StatusCode::NOT_FOUND, "not-found"),
        ("inbox of another unit", Method::GET, "/api/v1/units/xuan-hoa/dossiers".into(), Some("demo-thanh-ba-officer"), vec![], None,
            StatusCode::FORBIDDEN, "forbidden"),
        ("bad status filter", Method::GET, "/api/v1/units/xuan-hoa/dossiers?status=11".into(), Some(OFFICER), vec![], None,
            StatusCode::BAD_REQUEST, "bad-query"),
        ("bad page", Method::GET, "/api/v1/units/xuan-hoa/dossiers?page=0".into(), Some(OFFICER), vec![], None,
            StatusCode::BAD_REQUEST, "bad-query"),
        ("procedures without unit", Method::GET, "/api/v1/procedures".into(), None, vec![], None,
            StatusCode::BAD_REQUEST, "bad-query"),
        ("unknown route", Method::GET, "/api/v2/everything".into(), None, vec![], None, StatusCode::NOT_FOUND, "not-found"),
        ("wrong method", Method::DELETE, "/api/v1/dossiers".into(), None, vec![], None,
            StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        ("page is not a number", Method::GET, "/api/v1/units/xuan-hoa/dossiers?page=abc".into(), Some(OFFICER), vec![], None,
            StatusCode::BAD_REQUEST, "bad-query"),
        ("page beyond any inbox", Method::GET, "/api/v1/units/xuan-hoa/dossiers?page=9223372036854775807".into(), Some(OFFICER),
            vec![], None, StatusCode::BAD_REQUEST, "bad-query"),
        ("control characters in a code", Method::GET, "/api/v1/dossiers/%00".into(), Some(OFFICER), vec![], None,
            StatusCode::NOT_FOUND, "not-found"),
        ("control characters in a unit", Method::GET, "/api/v1/procedures?unit=%00".into(), None, vec![], None,
            StatusCode::NOT_FOUND, "not-found"),
        ("NUL in a name", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["applicant"]["full_name"] = json!("Lan\u{0}"); b.to_string().into_bytes() }),
            StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("NUL in a unit code", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["receiving_unit"] = json!("xuan\u{0}hoa"); b.to_string().into_bytes() }),
            StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("handled by the province itself", Method::POST, "/api/v1/dossiers".into(), None, vec![],
            Some({ let mut b = birth.clone(); b["handling_unit"] = json!("phu-tho"); b.to_string().into_bytes() }),
            StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        ("body over 2 MiB", Method::POST, "/api/v1/dossiers".into(), None, vec![], Some(vec![b' '; 3 << 20]),
            StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
        ("citizen asks for the officers' view", Method::GET, format!("/api/v1/dossiers/{}", filed.code), None,
            vec![("x-tracking-secret", filed.secret.clone())], None, StatusCode::FORBIDDEN, "forbidden"),
        ("citizen asks for the audit", Method::GET, format!("/api/v1/dossiers/{}/audit", filed.code), None,
            vec![("x-tracking-secret", filed.secret.clone())], None, StatusCode::FORBIDDEN, "forbidden"),
        ("wrong secret acts", Method::POST, format!("/api/v1/dossiers/{}/actions", filed.code), None,
            vec![("x-tracking-secret", "0123".to_string()), ("if-match", "1".to_string())],
            Some(json!({"action": "receive"}).to_string().into_bytes()), StatusCode::NOT_FOUND, "dossier-not-found"),
        ("no credentials, unknown code", Method::GET, "/api/v1/dossiers/000.31.19.H43-260302-9999".into(), None, vec![], None,
            StatusCode::UNAUTHORIZED, "unauthenticated"),
    ];
    for (name, method, path, token, headers, body, status, problem) in cases {
        let response = server.request(method, &path, token, &headers, body).await;
        let body = response.problem(status);
        assert_eq!(
            body["type"],
            format!("urn:motcua:problem:{problem}"),
            "[{backend:?}] {name}: {body}"
        );
        assert_eq!(
            server.row_counts().await,
            before,
            "[{backend:?}] {name}: wrote rows"
        );
    }
    // The dossier is untouched by all of the above.
    assert_eq!(server.version(OFFICER, &filed.code).await, 1);
    server.finish().await;
}

async fn inbox_is_newest_first_filtered_and_paged(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let birth = filings()["birth"].clone();
    let mut codes = Vec::new();
    for minute in 0..5 {
        server.set_time(&format!("2026-03-02 08:0{minute}"));
        codes.push(server.file(None, &birth).await.code);
    }
    // Sequence numbers follow the national pattern, per receiving unit and day.
    assert_eq!(codes[0], "000.31.19.H43-260302-0001");
    assert_eq!(codes[4], "000.31.19.H43-260302-0005");
    server.set_time("2026-03-02 09:00");
    server
        .act_ok(OFFICER, &codes[1], "receive", json!({}))
        .await;

    let page = server
        .get(
            "/api/v1/units/xuan-hoa/dossiers?per_page=2&page=1",
            Some(OFFICER),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["total"], 5);
    let listed: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [codes[4].as_str(), codes[3].as_str()]);
    let page3 = server
        .get(
            "/api/v1/units/xuan-hoa/dossiers?per_page=2&page=3",
            Some(OFFICER),
        )
        .await;
    assert_eq!(page3.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page3.body["items"][0]["code"], codes[0].as_str());

    for filter in ["4", "processing"] {
        let processing = server
            .get(
                &format!("/api/v1/units/xuan-hoa/dossiers?status={filter}"),
                Some(OFFICER),
            )
            .await;
        assert_eq!(processing.body["total"], 1, "{filter}");
        assert_eq!(processing.body["items"][0]["code"], codes[1].as_str());
    }
    let other = server
        .get(
            "/api/v1/units/thanh-ba/dossiers",
            Some("demo-thanh-ba-officer"),
        )
        .await;
    assert_eq!(
        other.body["total"], 0,
        "Thanh Ba's inbox holds none of Xuân Hòa's dossiers"
    );

    // What a unit offers comes from the plugins' describe.
    let offered = server.get("/api/v1/procedures?unit=xuan-hoa", None).await;
    let birth_info = offered.body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "1.001193")
        .unwrap()
        .clone();
    assert_eq!(birth_info["processing_time"]["kind"], "same-day");
    assert!(
        birth_info["legal_basis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("Hộ tịch"))
    );
    assert_eq!(birth_info["build"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(birth_info["variants"], json!([]));
    // The demo publishes Xuân Hòa's local variant of business-household registration:
    // offered to the unit's admin beside the province's build, not in use until chosen.
    let household = offered.body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "1.001612")
        .unwrap();
    let variants = household["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1, "{household}");
    assert_eq!(variants[0]["code"], "1.001612/xuan-hoa-onsite");
    assert_eq!(variants[0]["in_use"], false);
    assert_eq!(household["binding"]["source"], "default");
    server.finish().await;
}

async fn audit_rows_cannot_be_edited(backend: Backend) {
    let server = TestServer::start(backend, "2026-03-02 08:00").await;
    let filed = server.file(None, &filings()["birth"]).await;
    let update = format!(
        "UPDATE dossier_events SET note = 'edited' WHERE dossier_code = '{}'",
        filed.code
    );
    let delete = format!(
        "DELETE FROM dossier_events WHERE dossier_code = '{}'",
        filed.code
    );
    match backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&server.database_url)
                .await
                .unwrap();
            assert!(
                connection
                    .execute(sqlx::AssertSqlSafe(update))
                    .await
                    .is_err(),
                "update refused"
            );
            assert!(
                connection
                    .execute(sqlx::AssertSqlSafe(delete))
                    .await
                    .is_err(),
                "delete refused"
            );
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&server.database_url)
                .await
                .unwrap();
            assert!(
                connection
                    .execute(sqlx::AssertSqlSafe(update))
                    .await
                    .is_err(),
                "update refused"
            );
            assert!(
                connection
                    .execute(sqlx::AssertSqlSafe(delete))
                    .await
                    .is_err(),
                "delete refused"
            );
        }
    }
    let audit = server
        .get(
            &format!("/api/v1/dossiers/{}/audit", filed.code),
            Some(OFFICER),
        )
        .await;
    assert_eq!(audit.body["valid"], true);
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    bad_input_is_a_problem_and_writes_nothing,
    inbox_is_newest_first_filtered_and_paged,
    audit_rows_cannot_be_edited
);
