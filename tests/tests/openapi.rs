//! `GET /api/v1/openapi.json` against the server it describes: an OpenAPI 3.1 document
//! whose every operation is served (a real request to each one reaches its handler, not
//! the `no such endpoint` fallback, and is answered with a status the document lists,
//! in a body its schema accepts); no method is served on a documented path that the
//! document does not list; and real answers (a dossier filed, read, tracked, acted on,
//! its files, the reports, the registry, problems) validate against the document's
//! schemas, which are shown to refuse an answer with a field added or missing.

use motcua_e2e::storage::samples::{self, sha256};
use motcua_e2e::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OFFICER: &str = "demo-xuan-hoa-officer";
const ADMIN: &str = "demo-phu-tho-admin";

fn filings() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/_filings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json")
}

/// The schema the document gives an answer of `status` with `content_type` to
/// `method path`, made a standalone JSON Schema (the document's components beside it,
/// so that its references resolve).
fn answer_schema(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
) -> Result<Value, String> {
    let operation = &doc["paths"][path][method.to_ascii_lowercase()];
    if !operation.is_object() {
        return Err(format!("{method} {path} is not in the document"));
    }
    let answer = &operation["responses"][status.to_string()];
    if !answer.is_object() {
        return Err(format!(
            "{method} {path} answered {status}, which the document does not list (it lists {:?})",
            operation["responses"]
                .as_object()
                .map(|answers| answers.keys().cloned().collect::<Vec<_>>())
        ));
    }
    let essence = |media: &str| media.split(';').next().unwrap_or("").trim().to_string();
    let content = answer["content"].as_object().cloned().unwrap_or_default();
    let schema = content
        .iter()
        .find(|(media, _)| essence(media) == essence(content_type))
        .map(|(_, media)| media["schema"].clone())
        .ok_or_else(|| {
            format!(
                "{method} {path} answered {status} as `{content_type}`; the document says {:?}",
                content.keys().collect::<Vec<_>>()
            )
        })?;
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    }))
}

/// Checks a JSON answer against the document: the status is listed, the content type
/// is one it gives, and the body fits that schema.
fn conforms(
    doc: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    content_type: &str,
    body: &Value,
) -> Result<(), String> {
    let schema = answer_schema(doc, method, path, status.as_u16(), content_type)?;
    if !content_type.starts_with("application/json")
        && !content_type.starts_with("application/problem+json")
    {
        return Ok(());
    }
    let validator = jsonschema::draft202012::new(&schema).map_err(|error| {
        format!("the schema of {method} {path} {status} does not compile: {error}")
    })?;
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {path} {status}: the body does not fit the document: {}\n{body:#}",
            errors.join("; ")
        ))
    }
}

/// Every (method, path template) the document lists.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut listed = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            if item.get(method).is_some() {
                listed.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    listed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described_and_every_answer_fits_its_description() {
    let server = TestServer::start(Backend::Sqlite, "2026-03-02 09:00").await;
    let fetched = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.content_type, "application/json");
    let doc = fetched.body.clone();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The document describes itself, by its own schema.
    conforms(
        &doc,
        "GET",
        "/api/v1/openapi.json",
        StatusCode::OK,
        "application/json",
        &doc,
    )
    .unwrap();

    // A dossier to point the paths at, with a stored file.
    let pdf = samples::pdf("giay chung sinh", 0);
    let mut birth = filings()["birth"].clone();
    birth["documents"][0]["sha256"] = json!(sha256(&pdf));
    birth["documents"][0]["size"] = json!(pdf.len());
    let filed = server.post("/api/v1/dossiers", None, &birth).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    conforms(
        &doc,
        "POST",
        "/api/v1/dossiers",
        filed.status,
        &filed.content_type,
        &filed.body,
    )
    .unwrap();
    let code = filed.body["code"].as_str().unwrap().to_string();
    let secret = filed.body["tracking_secret"].as_str().unwrap().to_string();
    let uploaded = server
        .put_bytes(
            &format!("/api/v1/dossiers/{code}/documents/{}", sha256(&pdf)),
            None,
            &[("x-tracking-secret", secret.clone())],
            &pdf,
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    conforms(
        &doc,
        "PUT",
        "/api/v1/dossiers/{code}/documents/{sha256}",
        uploaded.status,
        &uploaded.content_type,
        &uploaded.body,
    )
    .unwrap();

    // Real answers, each one a success, validated against the document.
    let filed_path = format!("/api/v1/dossiers/{code}");
    let version = server.version(OFFICER, &code).await;
    let successes: Vec<(
        Method,
        &str,
        String,
        Option<&str>,
        Vec<(&str, String)>,
        Option<Value>,
    )> = vec![
        (
            Method::GET,
            "/healthz",
            "/healthz".into(),
            None,
            vec![],
            None,
        ),
        (Method::GET, "/readyz", "/readyz".into(), None, vec![], None),
        (
            Method::GET,
            "/metrics",
            "/metrics".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}",
            filed_path.clone(),
            Some(OFFICER),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/track/{code}",
            format!("/api/v1/track/{code}?secret={secret}"),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}/audit",
            format!("{filed_path}/audit"),
            Some(OFFICER),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}/replay",
            format!("{filed_path}/replay"),
            Some(OFFICER),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}/documents/{sha256}",
            format!("{filed_path}/documents/{}", sha256(&pdf)),
            Some(OFFICER),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/units/{unit}/dossiers",
            "/api/v1/units/xuan-hoa/dossiers?sort=due".into(),
            Some(OFFICER),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/procedures",
            "/api/v1/procedures?unit=xuan-hoa".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/units",
            "/api/v1/units".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/units/{unit}",
            "/api/v1/units/xuan-hoa".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/units/{unit}/accounts",
            "/api/v1/units/xuan-hoa/accounts".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/plugins",
            "/api/v1/plugins".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/rollouts",
            "/api/v1/rollouts?procedure=1.001193".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/registry/events",
            "/api/v1/registry/events?limit=5".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/calendar",
            "/api/v1/calendar".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/calendar/{year}",
            "/api/v1/calendar/2026".into(),
            None,
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/reports/processing",
            "/api/v1/reports/processing?from=2026-03-01&to=2026-03-31".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/reports/indicators",
            "/api/v1/reports/indicators?from=2026-03-01&to=2026-03-31".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/reports/scoring",
            "/api/v1/reports/scoring".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::GET,
            "/api/v1/sync/status-changes",
            "/api/v1/sync/status-changes".into(),
            Some(ADMIN),
            vec![],
            None,
        ),
        (
            Method::PUT,
            "/api/v1/units/{unit}/settings",
            "/api/v1/units/xuan-hoa/settings".into(),
            Some(ADMIN),
            vec![],
            Some(json!({"cutoff": "16:30"})),
        ),
        (
            Method::POST,
            "/api/v1/dossiers/{code}/actions",
            format!("{filed_path}/actions"),
            Some(OFFICER),
            vec![("if-match", version.to_string())],
            Some(json!({"action": "receive"})),
        ),
    ];
    for (method, template, path, token, headers, body) in successes {
        let answer = server
            .request(
                method.clone(),
                &path,
                token,
                &headers,
                body.map(|body| body.to_string().into_bytes()),
            )
            .await;
        assert!(
            answer.status.is_success(),
            "{method} {path}: {} {}",
            answer.status,
            answer.body
        );
        conforms(
            &doc,
            method.as_str(),
            template,
            answer.status,
            &answer.content_type,
            &answer.body,
        )
        .unwrap();
    }

    // Problems fit the document too.
    let problems: Vec<(
        Method,
        &str,
        String,
        Option<&str>,
        Option<Value>,
        StatusCode,
    )> = vec![
        (
            Method::GET,
            "/api/v1/dossiers/{code}",
            "/api/v1/dossiers/000.31.19.H43-260302-9999".into(),
            Some(OFFICER),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}",
            filed_path.clone(),
            None,
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            Method::GET,
            "/api/v1/dossiers/{code}",
            filed_path.clone(),
            Some("demo-thanh-ba-officer"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/dossiers/{code}/actions",
            format!("{filed_path}/actions"),
            Some(OFFICER),
            Some(json!({"action": "receive"})),
            StatusCode::PRECONDITION_REQUIRED,
        ),
        (
            Method::POST,
            "/api/v1/dossiers",
            "/api/v1/dossiers".into(),
            None,
            Some(json!({"procedure": 1})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/api/v1/dossiers",
            "/api/v1/dossiers".into(),
            None,
            Some({
                let mut b = filings()["birth"].clone();
                b["form"] = json!({});
                b
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            "/api/v1/units/{unit}/dossiers",
            "/api/v1/units/xuan-hoa/dossiers?page=0".into(),
            Some(OFFICER),
            None,
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, template, path, token, body, status) in problems {
        let answer = server
            .request(
                method.clone(),
                &path,
                token,
                &[],
                body.map(|body| body.to_string().into_bytes()),
            )
            .await;
        answer.problem(status);
        conforms(
            &doc,
            method.as_str(),
            template,
            answer.status,
            &answer.content_type,
            &answer.body,
        )
        .unwrap();
    }

    // The schemas are not vacuous: an answer with a field more, or one less, is refused.
    let mut added = filed.body.clone();
    added["surprise"] = json!(1);
    assert!(
        conforms(
            &doc,
            "POST",
            "/api/v1/dossiers",
            StatusCode::CREATED,
            "application/json",
            &added
        )
        .is_err()
    );
    let mut dropped = server.dossier(OFFICER, &code).await;
    dropped.as_object_mut().unwrap().remove("due");
    assert!(
        conforms(
            &doc,
            "GET",
            "/api/v1/dossiers/{code}",
            StatusCode::OK,
            "application/json",
            &dropped
        )
        .is_err()
    );
    let mut retyped = server.track(&code, &secret).await.body;
    retyped["status"]["code"] = json!("one");
    assert!(
        conforms(
            &doc,
            "GET",
            "/api/v1/track/{code}",
            StatusCode::OK,
            "application/json",
            &retyped
        )
        .is_err()
    );

    // Every documented operation is served: a request reaches its handler (never the
    // fallback), is answered with a status the document lists, and fits it.
    let listed = operations(&doc);
    assert!(listed.len() >= 38, "{listed:?}");
    for (method, template) in &listed {
        assert!(
            template.starts_with("/api/v1/")
                || ["/healthz", "/readyz", "/metrics"].contains(&template.as_str()),
            "{template} is not an API path"
        );
        let path = template
            .replace("{code}", &code)
            .replace("{unit}", "xuan-hoa")
            .replace("{sha256}", &sha256(&pdf))
            .replace("{id}", "xuan-hoa-specialist")
            .replace("{year}", "2026");
        assert!(
            !path.contains('{'),
            "{template} has a parameter this test does not fill"
        );
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = matches!(method, Method::POST | Method::PUT).then(|| b"{}".to_vec());
        let answer = server
            .request(method.clone(), &path, Some(OFFICER), &[], body)
            .await;
        let fallback = answer.status == StatusCode::NOT_FOUND
            && answer.body["detail"]
                .as_str()
                .is_some_and(|detail| detail.starts_with("no such endpoint"));
        assert!(
            !fallback && answer.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not served: {} {}",
            answer.status,
            answer.body
        );
        assert!(
            !answer.status.is_server_error(),
            "{method} {path}: {} {}",
            answer.status,
            answer.body
        );
        conforms(
            &doc,
            method.as_str(),
            template,
            answer.status,
            &answer.content_type,
            &answer.body,
        )
        .unwrap();
    }

    // ...and on a documented path, a method the document does not list is not served.
    let mut paths: Vec<&String> = listed.iter().map(|(_, path)| path).collect();
    paths.dedup();
    for template in paths {
        let path = template
            .replace("{code}", &code)
            .replace("{unit}", "xuan-hoa")
            .replace("{sha256}", &sha256(&pdf))
            .replace("{id}", "xuan-hoa-specialist")
            .replace("{year}", "2026");
        for method in [
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::PATCH,
        ] {
            if listed
                .iter()
                .any(|(m, p)| p == template && m == method.as_str())
            {
                continue;
            }
            let answer = server
                .request(method.clone(), &path, Some(OFFICER), &[], None)
                .await;
            answer.problem(StatusCode::METHOD_NOT_ALLOWED);
        }
    }

    // The web console's pages are not API routes, and are not in the document.
    assert!(doc["paths"].get("/track").is_none() && doc["paths"].get("/sign-in").is_none());
    server.finish().await;
}
