//! `motcua demo --log-format json`: every line on standard error is one JSON object, and
//! each answered request is a line carrying its request id (the client's, echoed in
//! `X-Request-Id`, or a new one), the route's pattern, the status, and, where they
//! apply, the unit, the dossier's code and the build.

mod common;
use common::{free_port, http_raw, motcua, stop};

use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One request; returns (status, head in lowercase, body).
fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut headers: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| (*name, value.to_string()))
        .collect();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json".into()));
    }
    http_raw(address, method, path, &headers, body.as_bytes()).expect("the server answers")
}

/// The `answered` line of the request with this id.
fn answered<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines
        .iter()
        .find(|line| line["message"] == "answered" && line["span"]["request_id"] == id)
        .unwrap_or_else(|| panic!("no answered line for {id} in {lines:#?}"))
}

#[test]
fn json_log_lines_carry_the_request_unit_dossier_and_build() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("province.db").display());
    let log = dir.path().join("server.log");
    let address = free_port();
    let child = motcua()
        .env("RUST_LOG", "info,sqlx=warn")
        .args(["--log-format", "json", "demo", "--listen", &address])
        .args(["--database-url", &url, "--cache-dir"])
        .arg(dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn motcua demo");
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "motcua demo did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    let filings: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/_filings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (status, head, body) = request(
        &address,
        "POST",
        "/api/v1/dossiers",
        &[("X-Request-Id", "filing-1")],
        &filings["birth"].to_string(),
    );
    assert_eq!(status, 201, "{body}");
    assert!(head.contains("x-request-id: filing-1"), "{head}");
    let code = serde_json::from_str::<Value>(&body).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, body) = request(
        &address,
        "GET",
        &format!("/api/v1/dossiers/{code}"),
        &[
            ("X-Request-Id", "read-2"),
            ("Authorization", "Bearer demo-xuan-hoa-officer"),
        ],
        "",
    );
    assert_eq!(status, 200, "{body}");
    // An id that is not a sane one is replaced, and the answer says by what.
    let (_, head, _) = request(
        &address,
        "GET",
        "/healthz",
        &[("X-Request-Id", "not a sane id")],
        "",
    );
    let given = head
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("an id in the answer")
        .trim()
        .to_string();
    assert_eq!(given.len(), 16, "{given}");
    stop(child);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(lines.len() >= 3, "{text}");

    let filing = answered(&lines, "filing-1");
    assert_eq!(filing["status"], 201);
    assert_eq!(filing["span"]["route"], "/api/v1/dossiers");
    assert_eq!(filing["span"]["unit"], "xuan-hoa");
    assert_eq!(filing["span"]["dossier"], code.as_str());
    assert!(
        filing["span"]["build"]
            .as_str()
            .is_some_and(|build| build.starts_with("1.001193 1.0.0 ")),
        "{filing}"
    );
    let read = answered(&lines, "read-2");
    assert_eq!(read["status"], 200);
    assert_eq!(read["span"]["route"], "/api/v1/dossiers/{code}");
    assert_eq!(read["span"]["dossier"], code.as_str());
    assert_eq!(read["span"]["unit"], "xuan-hoa");
    assert!(read["span"]["build"].is_string(), "{read}");
    let health = answered(&lines, &given);
    assert_eq!(health["span"]["route"], "/healthz");
    assert!(health["span"].get("dossier").is_none(), "{health}");
}
