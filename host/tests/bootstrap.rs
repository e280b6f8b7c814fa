//! Bringing up a deployment without the demo: `motcua init` creates the province and
//! its first administrator with a random token printed once, refuses a second time
//! and changes nothing; the administrator manages staff over HTTP. A database holding
//! public demo tokens makes `motcua serve` warn at start and `/healthz` say so.

mod common;
use common::{free_port, motcua, postgres_admin, postgres_admin_url, stop};

use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A plain HTTP/1.1 request over loopback; returns (status, JSON body).
fn http(address: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let body = (!body.is_empty()).then_some(("application/json", body));
    let (status, body) = common::http(address, method, path, token, body);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let output = motcua().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        stderr,
    )
}

/// `motcua serve` on the database, until its port answers; stderr goes to a file.
fn serve(url: &str, log: &std::path::Path) -> (std::process::Child, String) {
    let address = free_port();
    let child = motcua()
        .args([
            "serve",
            "--listen",
            &address,
            "--database-url",
            url,
            "--cache-dir",
        ])
        .arg(log.with_extension("cache"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn motcua serve");
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, address)
}

#[test]
fn init_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("province.db").display());
    init_creates_the_province_and_its_first_admin_once(&url);
}

#[test]
fn init_on_postgres() {
    let admin = postgres_admin_url();
    let name = format!(
        "motcua_init_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    postgres_admin(format!("CREATE DATABASE {name}"));
    let base = admin.rsplit_once('/').expect("admin URL has a database").0;
    init_creates_the_province_and_its_first_admin_once(&format!("{base}/{name}"));
    postgres_admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

fn init_creates_the_province_and_its_first_admin_once(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let url = url.to_string();
    let init = [
        "init",
        "--province",
        "phu-tho",
        "--name",
        "Tỉnh Phú Thọ",
        "--agency-id",
        "000.00.00.H43",
        "--publisher",
        "--database-url",
        &url,
    ];
    let (ok, stdout, stderr) = run(&init);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("created the province `phu-tho`"),
        "{stdout}"
    );
    // One line per account: role, id, token; the tokens are random and differ.
    let tokens: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [role, _id, token] if token.starts_with("mct_") => {
                    Some((role.to_string(), token.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    let roles: Vec<&str> = tokens.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["admin", "publisher"], "{stdout}");
    assert_ne!(tokens[0].1, tokens[1].1);
    let admin = tokens[0].1.clone();
    let (_, listed, _) = run(&["token", "list", "--database-url", &url]);

    // A second init refuses, names the province, and changes nothing.
    let (ok, _, stderr) = run(&init);
    assert!(!ok);
    assert!(
        stderr.contains("already holds the province `phu-tho`"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&[
        "init",
        "--province",
        "ha-noi",
        "--name",
        "Thành phố Hà Nội",
        "--agency-id",
        "000.00.00.H26",
        "--database-url",
        &url,
    ]);
    assert!(!ok, "a database holds one province");
    assert!(stderr.contains("`phu-tho`"), "{stderr}");
    assert_eq!(
        run(&["token", "list", "--database-url", &url]).1,
        listed,
        "refused inits create no account"
    );

    // The demo refuses to add its public tokens to a real deployment, even one where
    // an admin named an account as the demo names its province admin.
    let (ok, _, stderr) = run(&[
        "token",
        "create",
        "--unit",
        "phu-tho",
        "--role",
        "admin",
        "--name",
        "phu-tho-admin",
        "--database-url",
        &url,
    ]);
    assert!(ok, "{stderr}");
    let (_, listed, _) = run(&["token", "list", "--database-url", &url]);
    let cache = dir.path().join("demo-cache").display().to_string();
    let (ok, _, stderr) = run(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--cache-dir",
        &cache,
    ]);
    assert!(!ok);
    assert!(stderr.contains("was not made by `motcua demo`"), "{stderr}");
    assert_eq!(run(&["token", "list", "--database-url", &url]).1, listed);

    // A real deployment: no demo tokens, no warning; the admin manages staff over HTTP.
    let log = dir.path().join("serve.log");
    let (child, address) = serve(&url, &log);
    let (status, health) = http(&address, "GET", "/healthz", None, "");
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["demo_tokens"]["present"], false, "{health}");
    let (status, body) = http(
        &address,
        "POST",
        "/api/v1/units/phu-tho/accounts",
        Some(&admin),
        r#"{"role": "admin", "name": "tran-van-binh"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let second_admin = body["token"].as_str().unwrap().to_string();
    let (status, body) = http(
        &address,
        "GET",
        "/api/v1/units/phu-tho/accounts",
        Some(&second_admin),
        "",
    );
    assert_eq!(status, 200, "{body}");
    // The admin and the publisher of `init`, the account named as the demo names its
    // admin, and the one just made.
    assert_eq!(body["accounts"].as_array().unwrap().len(), 4, "{body}");
    assert!(
        !body.to_string().contains("mct_"),
        "tokens are never listed"
    );
    stop(child);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains("DEMO TOKENS"), "{logged}");
}

#[test]
fn serve_warns_when_demo_tokens_are_present() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    // `motcua demo` seeds the demo accounts; stop it, then serve the same database.
    let address = free_port();
    let demo = motcua()
        .args(["demo", "--listen", &address, "--database-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "demo did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(demo);

    let log = dir.path().join("serve.log");
    let (child, address) = serve(&url, &log);
    let (status, health) = http(&address, "GET", "/healthz", None, "");
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["demo_tokens"]["present"], true, "{health}");
    // How many, never which: an account's id names its public token.
    // 2 at the province, 4 in each of the three communes and the department.
    assert_eq!(health["demo_tokens"]["accounts"], 18, "{health}");
    assert!(
        !health.to_string().contains("phu-tho-publisher"),
        "{health}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("ERROR") && logged.contains("PUBLIC DEMO TOKENS"),
        "{logged}"
    );

    // Revoking a demo account over HTTP takes it off the list at once.
    let (status, body) = http(
        &address,
        "POST",
        "/api/v1/accounts/phu-tho-publisher/revoke",
        Some("demo-phu-tho-admin"),
        "",
    );
    assert_eq!(status, 200, "{body}");
    let (_, health) = http(&address, "GET", "/healthz", None, "");
    assert_eq!(health["demo_tokens"]["accounts"], 17, "{health}");
    stop(child);
}
