//! `motcua documents verify` as provincial IT runs it, on SQLite and PostgreSQL: the
//! files are written through a running `motcua serve` (components uploaded by citizens
//! and officers, one file shared by two dossiers, an electronic result), then the
//! directory store is damaged behind motcua's back as a disk or an administrator could:
//! one object deleted, one overwritten. Clean, it exits 0; damaged, it exits 1 naming
//! each file and the dossiers holding it, in text and in JSON.

#[allow(dead_code)]
mod common;
use common::{free_port, motcua, postgres_admin, postgres_admin_url, stop};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database and the directory the documents go to; dropping it drops a
/// PostgreSQL database.
struct Province {
    url: String,
    dir: tempfile::TempDir,
    postgres_database: Option<String>,
}

impl Province {
    fn new(backend: Backend) -> Province {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Province {
                url: format!("sqlite://{}", dir.path().join("province.db").display()),
                dir,
                postgres_database: None,
            },
            Backend::Postgres => {
                let name = format!(
                    "motcua_documents_{}_{}",
                    std::process::id(),
                    chrono::Utc::now().timestamp_micros() % 1_000_000_000
                );
                postgres_admin(format!("CREATE DATABASE {name}"));
                let admin = postgres_admin_url();
                let base = admin.rsplit_once('/').expect("admin URL has a database").0;
                Province {
                    url: format!("{base}/{name}"),
                    dir,
                    postgres_database: Some(name),
                }
            }
        }
    }

    fn documents(&self) -> PathBuf {
        self.dir.path().join("documents")
    }

    /// Where the directory store keeps a file: `sha256/<first two digits>/<sha256>`.
    fn object(&self, sha256: &str) -> PathBuf {
        self.documents()
            .join("sha256")
            .join(&sha256[..2])
            .join(sha256)
    }

    /// Runs `motcua` in the province's directory, so nothing lands beside the tests.
    fn motcua(&self) -> std::process::Command {
        let mut command = motcua();
        command.current_dir(self.dir.path());
        command
    }

    /// `motcua documents verify` against the database and the directory store.
    fn verify(&self, json: bool) -> Output {
        let mut command = self.motcua();
        command.args([
            "documents",
            "verify",
            "--database-url",
            &self.url,
            "--documents-dir",
        ]);
        command.arg(self.documents());
        if json {
            command.arg("--json");
        }
        command.output().expect("run motcua documents verify")
    }

    /// Seeds the demo province with `motcua demo` and stops it.
    fn seed(&self) {
        let mut child = self
            .motcua()
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &self.url,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn motcua demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the demo printed that it is ready")
                .expect("line");
            if let Some(rest) = line.split("ready at http://").nth(1) {
                break rest.trim().to_string();
            }
        };
        // Keep reading the banner so the pipe never fills while it stops.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        // Serving requests: past the point where it listens for SIGTERM.
        let (status, body) = request(&address, "GET", "/healthz", &[], b"");
        assert_eq!(status, 200, "{body}");
        stop(child);
    }

    /// `motcua serve` with its documents in the province's directory.
    fn serve(&self) -> (Child, String) {
        let address = free_port();
        let child = self
            .motcua()
            .args(["serve", "--listen", &address, "--database-url", &self.url])
            .arg("--documents-dir")
            .arg(self.documents())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn motcua serve");
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(&address).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        (child, address)
    }
}

impl Drop for Province {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_database.take() {
            postgres_admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One HTTP/1.1 request with a binary body over loopback; returns (status, JSON body or
/// Null).
fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(body).expect("body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let end = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a response head");
    let status = String::from_utf8_lossy(&response[..end])
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let body = serde_json::from_slice(&response[end + 4..]).unwrap_or(Value::Null);
    (status, body)
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn pdf(label: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n% {label}\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
         2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
         trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// A JPEG (JFIF) head with `label` in a comment segment.
fn jpeg(label: &str) -> Vec<u8> {
    let mut out = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xfe,
    ];
    out.extend_from_slice(&((label.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A birth registration filed online by a citizen, declaring `files` as its components;
/// returns (code, tracking secret).
fn file_birth(address: &str, files: [&[u8]; 2]) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/_filings.json");
    let filings: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("filings")).expect("json");
    let mut body = filings["birth"].clone();
    // This server runs on the real clock: a child born last week.
    let born =
        (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive() - chrono::Duration::days(7);
    body["form"]["child"]["birth_date"] = json!(born.format("%Y-%m-%d").to_string());
    body["documents"] = json!([
        { "kind": "hospital-birth-certificate", "name": "Giấy chứng sinh",
          "sha256": sha256(files[0]), "size": files[0].len() },
        { "kind": "citizen-id-card", "name": "Căn cước công dân của mẹ",
          "sha256": sha256(files[1]), "size": files[1].len() },
    ]);
    let (status, filed) = request(
        address,
        "POST",
        "/api/v1/dossiers",
        &[("Content-Type", "application/json".into())],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{filed}");
    (
        filed["code"].as_str().expect("code").to_string(),
        filed["tracking_secret"]
            .as_str()
            .expect("secret")
            .to_string(),
    )
}

fn upload(address: &str, code: &str, who: (&'static str, String), bytes: &[u8]) -> Value {
    let (status, body) = request(
        address,
        "PUT",
        &format!("/api/v1/dossiers/{code}/documents/{}", sha256(bytes)),
        &[who, ("Content-Type", "application/octet-stream".into())],
        bytes,
    );
    assert_eq!(status, 201, "{body}");
    body
}

/// Takes an action as staff at the dossier's current version.
fn act(address: &str, code: &str, token: &str, action: &str) {
    let (status, view) = request(
        address,
        "GET",
        &format!("/api/v1/dossiers/{code}"),
        &[bearer(token)],
        b"",
    );
    assert_eq!(status, 200, "{view}");
    let version = view["version"].as_i64().expect("version");
    let (status, body) = request(
        address,
        "POST",
        &format!("/api/v1/dossiers/{code}/actions"),
        &[
            bearer(token),
            ("If-Match", format!("\"{version}\"")),
            ("Content-Type", "application/json".into()),
        ],
        json!({ "action": action, "payload": {} })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 200, "{action}: {body}");
}

fn verify_names_what_is_damaged(backend: Backend) {
    let province = Province::new(backend);
    province.seed();
    let (server, address) = province.serve();

    let first_certificate = pdf("Giấy chứng sinh — the first child");
    let second_certificate = pdf("Giấy chứng sinh — the second child");
    let mother_id = jpeg("Căn cước công dân của mẹ");
    let (first, first_secret) = file_birth(&address, [&first_certificate, &mother_id]);
    let (second, second_secret) = file_birth(&address, [&second_certificate, &mother_id]);
    upload(
        &address,
        &first,
        ("X-Tracking-Secret", first_secret),
        &first_certificate,
    );
    upload(
        &address,
        &first,
        bearer("demo-xuan-hoa-officer"),
        &mother_id,
    );
    upload(
        &address,
        &second,
        ("X-Tracking-Secret", second_secret),
        &second_certificate,
    );
    let shared = upload(
        &address,
        &second,
        bearer("demo-xuan-hoa-officer"),
        &mother_id,
    );
    assert_eq!(shared["already_stored"], true, "{shared}");
    // The first dossier is signed and its electronic result attached.
    act(&address, &first, "demo-xuan-hoa-officer", "receive");
    act(
        &address,
        &first,
        "demo-xuan-hoa-specialist",
        "submit-for-signing",
    );
    act(&address, &first, "demo-xuan-hoa-leader", "sign");
    let result = pdf(&format!("Giấy khai sinh KS-{first}"));
    let (status, body) = request(
        &address,
        "PUT",
        &format!("/api/v1/dossiers/{first}/result/{}", sha256(&result)),
        &[
            bearer("demo-xuan-hoa-leader"),
            ("Content-Type", "application/octet-stream".into()),
        ],
        &result,
    );
    assert_eq!(status, 201, "{body}");

    // A file in the store no dossier refers to: listed, harmless.
    let stray = pdf("a scan whose dossier was never filed");
    let stray_path = province.object(&sha256(&stray));
    std::fs::create_dir_all(stray_path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&stray_path, &stray).expect("write the stray file");

    // Clean: every referenced file reads back with its sha256.
    let clean = province.verify(false);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let clean = province.verify(true);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let report: Value = serde_json::from_slice(&clean.stdout).expect("JSON on stdout");
    assert_eq!(report["checked"], 4, "{report}");
    assert_eq!(report["ok"], 4, "{report}");
    assert_eq!(report["missing"], json!([]), "{report}");
    assert_eq!(report["corrupt"], json!([]), "{report}");
    assert_eq!(report["unreferenced"], json!([sha256(&stray)]), "{report}");

    // Behind motcua's back: the first certificate is deleted, the shared ID card
    // overwritten with other bytes of the same length.
    std::fs::remove_file(province.object(&sha256(&first_certificate))).expect("delete");
    let mut rotten = mother_id.clone();
    let last = rotten.len() - 3;
    rotten[last] ^= 0x20;
    std::fs::write(province.object(&sha256(&mother_id)), &rotten).expect("overwrite");

    let damaged = province.verify(false);
    assert_eq!(damaged.status.code(), Some(1), "{}", text(&damaged));
    let said = text(&damaged);
    for named in [
        sha256(&first_certificate),
        sha256(&mother_id),
        first.clone(),
        second.clone(),
    ] {
        assert!(said.contains(&named), "`{named}` is not named:\n{said}");
    }
    assert!(!said.contains("panicked"), "{said}");

    let damaged = province.verify(true);
    assert_eq!(damaged.status.code(), Some(1), "{}", text(&damaged));
    let report: Value = serde_json::from_slice(&damaged.stdout).expect("JSON on stdout");
    assert_eq!(report["checked"], 4, "{report}");
    assert_eq!(
        report["ok"], 2,
        "the second certificate and the result: {report}"
    );
    let held_by = |entry: &Value| -> Vec<String> {
        entry["held_by"]
            .as_array()
            .expect("held_by")
            .iter()
            .map(|holder| holder.as_str().expect("holder").to_string())
            .collect()
    };
    let missing = report["missing"].as_array().expect("missing");
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["sha256"], sha256(&first_certificate));
    assert!(missing[0]["detail"].as_str().is_some_and(|d| !d.is_empty()));
    let holders = held_by(&missing[0]);
    assert_eq!(holders.len(), 1, "{holders:?}");
    assert!(holders[0].contains(&first), "{holders:?}");
    let corrupt = report["corrupt"].as_array().expect("corrupt");
    assert_eq!(corrupt.len(), 1, "{report}");
    assert_eq!(corrupt[0]["sha256"], sha256(&mother_id));
    let holders = held_by(&corrupt[0]);
    assert_eq!(
        holders.len(),
        2,
        "both dossiers hold the ID card: {holders:?}"
    );
    assert!(
        holders.iter().any(|holder| holder.contains(&first)),
        "{holders:?}"
    );
    assert!(
        holders.iter().any(|holder| holder.contains(&second)),
        "{holders:?}"
    );

    // The running server refuses the damaged file by name rather than serve it.
    let (status, problem) = request(
        &address,
        "GET",
        &format!("/api/v1/dossiers/{second}/documents/{}", sha256(&mother_id)),
        &[bearer("demo-xuan-hoa-officer")],
        b"",
    );
    assert_eq!(status, 503, "{problem}");
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("document-corrupt")),
        "{problem}"
    );
    stop(server);
}

#[test]
fn verify_names_what_is_damaged_on_sqlite() {
    verify_names_what_is_damaged(Backend::Sqlite);
}

#[test]
fn verify_names_what_is_damaged_on_postgres() {
    verify_names_what_is_damaged(Backend::Postgres);
}
