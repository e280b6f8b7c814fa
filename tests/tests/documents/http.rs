//! Requests the tests send: uploads and downloads as a citizen or staff, the problems
//! they expect, what the dossier and the store hold, and raw sockets for the uploads a
//! well-behaved client would not send.

use std::time::Duration;

pub(crate) use motcua_e2e::raw::{PATIENCE, read_response};
use motcua_e2e::{Response, TestServer, raw_keys};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::OFFICER;
use crate::files::sha256;

/// How long a test waits for something the server must do before giving up on it: a
/// guard against hanging, far beyond what any step needs.

/// Who sends a request.
#[derive(Clone, Copy)]
pub(crate) enum Who<'a> {
    Staff(&'a str),
    Citizen(&'a str),
    Nobody,
}

impl Who<'_> {
    pub(crate) fn token(&self) -> Option<&str> {
        match self {
            Who::Staff(token) => Some(token),
            _ => None,
        }
    }

    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Who::Citizen(secret) => vec![("x-tracking-secret", secret.to_string())],
            _ => vec![],
        }
    }
}

pub(crate) fn document_path(code: &str, sha256: &str) -> String {
    format!("/api/v1/dossiers/{code}/documents/{sha256}")
}

/// Uploads `bytes` as the file declared under `sha256`.
pub(crate) async fn upload(
    server: &TestServer,
    code: &str,
    sha256: &str,
    who: Who<'_>,
    bytes: &[u8],
) -> Response {
    server
        .put_bytes(
            &document_path(code, sha256),
            who.token(),
            &who.headers(),
            bytes,
        )
        .await
}

/// Uploads the result file of a dossier.
pub(crate) async fn attach_result(
    server: &TestServer,
    code: &str,
    token: &str,
    bytes: &[u8],
) -> Response {
    server
        .put_bytes(
            &format!("/api/v1/dossiers/{code}/result/{}", sha256(bytes)),
            Some(token),
            &[],
            bytes,
        )
        .await
}

/// A download: the status, the headers that matter and the bytes.
#[derive(Debug)]
pub(crate) struct Downloaded {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) etag: String,
    pub(crate) disposition: String,
    pub(crate) bytes: Vec<u8>,
}

impl Downloaded {
    pub(crate) fn problem(&self, status: StatusCode, slug: &str) -> Value {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        let body: Value = serde_json::from_slice(&self.bytes).expect("a problem body");
        assert_problem_type(&body, slug);
        body
    }
}

pub(crate) async fn download(server: &TestServer, path: &str, who: Who<'_>) -> Downloaded {
    let mut request = server.client.get(format!("{}{path}", server.base));
    if let Some(token) = who.token() {
        request = request.bearer_auth(token);
    }
    for (name, value) in who.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request reaches the server");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (content_type, etag, disposition) = (
        header("content-type"),
        header("etag"),
        header("content-disposition"),
    );
    let status = response.status();
    let bytes = response.bytes().await.expect("body").to_vec();
    Downloaded {
        status,
        content_type,
        etag,
        disposition,
        bytes,
    }
}

pub(crate) fn assert_problem_type(body: &Value, slug: &str) {
    let kind = body["type"].as_str().unwrap_or("");
    assert!(
        kind.starts_with("urn:motcua:problem:") && kind.ends_with(slug),
        "expected the problem `{slug}`: {body}"
    );
}

/// Asserts a problem with this status and type; returns its body.
pub(crate) fn refused(response: &Response, status: StatusCode, slug: &str) -> Value {
    let body = response.problem(status).clone();
    assert_problem_type(&body, slug);
    body
}

/// The digitization indicator of the caller's unit for one day: [numerator, denominator].
pub(crate) async fn digitization(server: &TestServer, token: &str, day: &str) -> [i64; 2] {
    let response = server
        .get(
            &format!("/api/v1/reports/indicators?from={day}&to={day}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let indicator = response.body["units"][0]["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|indicator| indicator["indicator"] == "digitization")
        .expect("the digitization indicator")
        .clone();
    [
        indicator["numerator"].as_i64().expect("numerator"),
        indicator["denominator"].as_i64().expect("denominator"),
    ]
}

/// The dossier's version and its components' `digitized` flags.
pub(crate) async fn state_of(server: &TestServer, code: &str) -> (i64, Vec<bool>) {
    let view = server.dossier(OFFICER, code).await;
    let digitized = view["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|document| document["digitized"].as_bool().expect("digitized"))
        .collect();
    (view["version"].as_i64().expect("version"), digitized)
}

/// The events of the dossier's history with this action.
pub(crate) async fn events(server: &TestServer, code: &str, action: &str) -> Vec<Value> {
    server.dossier(OFFICER, code).await["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|event| event["action"] == action)
        .cloned()
        .collect()
}

/// Waits until the store holds exactly `expected` keys (in-flight aborts finish);
/// fails with what it holds after `PATIENCE`.
pub(crate) async fn settle_keys(server: &TestServer, expected: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let keys = raw_keys(&server.storage).await;
        if keys.len() == expected || tokio::time::Instant::now() > deadline {
            assert_eq!(keys.len(), expected, "keys in the store: {keys:?}");
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the store holds something (an upload under way); returns what.
pub(crate) async fn wait_for_keys(server: &TestServer) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let keys = raw_keys(&server.storage).await;
        if !keys.is_empty() {
            return keys;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing in the store after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---- raw sockets ---------------------------------------------------------------------

/// Opens a connection and sends a PUT's head as staff; `length` is the Content-Length
/// to announce, or `None` for a chunked body.
pub(crate) async fn put_head(
    server: &TestServer,
    path: &str,
    token: &str,
    length: Option<u64>,
) -> TcpStream {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let framing = match length {
        Some(length) => format!("Content-Length: {length}"),
        None => "Transfer-Encoding: chunked".to_string(),
    };
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: motcua\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\n{framing}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
}
