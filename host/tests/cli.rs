//! The `motcua` command as an operator uses it: migrate, demo (twice: idempotent),
//! token create, serve, and clear messages for mistakes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn motcua() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_motcua"));
    command.env("RUST_LOG", "warn");
    command
}

/// A plain HTTP/1.1 GET over loopback; returns (status, body).
fn http_get(address: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Starts a server command and waits for its "ready at http://ADDR" line (demo) or
/// for the port to answer (serve).
fn start(mut command: Command, address: Option<&str>) -> (Child, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn motcua");
    let mut printed = String::new();
    let address = match address {
        Some(address) => {
            let deadline = Instant::now() + Duration::from_secs(120);
            while TcpStream::connect(address).is_err() {
                assert!(Instant::now() < deadline, "server did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            address.to_string()
        }
        None => {
            let stdout = child.stdout.take().expect("stdout");
            let mut lines = BufReader::new(stdout).lines();
            let address = loop {
                let line = lines
                    .next()
                    .expect("demo printed its address")
                    .expect("line");
                printed.push_str(&line);
                printed.push('\n');
                if let Some(rest) = line.split("ready at http://").nth(1) {
                    break rest.trim().to_string();
                }
            };
            // Keep reading the rest of the banner so the pipe never fills.
            let rest = std::thread::spawn(move || {
                lines.map_while(Result::ok).collect::<Vec<_>>().join("\n")
            });
            std::thread::sleep(Duration::from_millis(200));
            drop(rest);
            address
        }
    };
    (child, address, printed)
}

fn stop(mut child: Child) {
    // Graceful shutdown on SIGTERM, as a service manager would stop it.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(
                status.success(),
                "server exited with {status} after SIGTERM"
            );
            return;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("server did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[test]
fn operator_workflow_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("province.db").display());

    // migrate creates the database.
    let output = motcua()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("province.db").exists());

    // A token for a unit that does not exist yet is a clear error, not a panic.
    let output = motcua()
        .args([
            "token",
            "create",
            "--unit",
            "xuan-hoa",
            "--role",
            "officer",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unit `xuan-hoa` does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    // demo seeds, prints tokens, serves; a second run on the same database is the same.
    for run in 0..2 {
        let mut command = motcua();
        command.args(["demo", "--listen", "127.0.0.1:0", "--database-url", &url]);
        let (child, address, banner) = start(command, None);
        assert!(banner.contains("Phú Thọ"), "run {run}: {banner}");
        let (status, body) = http_get(&address, "/healthz", None);
        assert_eq!(status, 200, "{body}");
        let (status, body) = http_get(&address, "/api/v1/procedures?unit=thanh-ba", None);
        assert_eq!(status, 200, "{body}");
        let procedures: serde_json::Value = serde_json::from_str(&body).unwrap();
        let codes: Vec<&str> = procedures["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["1.001193", "1.001612"], "run {run}");
        let (status, _) = http_get(
            &address,
            "/api/v1/units/xuan-hoa/dossiers",
            Some("demo-xuan-hoa-officer"),
        );
        assert_eq!(status, 200);
        stop(child);
    }

    // token create prints the token alone on stdout.
    let output = motcua()
        .args([
            "token",
            "create",
            "--unit",
            "thanh-ba",
            "--role",
            "leader",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert!(
        !token.contains('\n') && token.starts_with("mct_") && token.len() > 20,
        "{stdout:?}"
    );

    // A bad role is explained.
    let output = motcua()
        .args([
            "token",
            "create",
            "--unit",
            "thanh-ba",
            "--role",
            "mayor",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role `mayor`"));

    // serve with MOTCUA_* from the environment; the new token works, and only for its unit.
    let address = free_port();
    let mut command = motcua();
    command
        .arg("serve")
        .env("MOTCUA_LISTEN", &address)
        .env("MOTCUA_DATABASE_URL", &url);
    let (child, address, _) = start(command, Some(&address));
    let (status, body) = http_get(&address, "/api/v1/units/thanh-ba/dossiers", Some(token));
    assert_eq!(status, 200, "{body}");
    let (status, body) = http_get(&address, "/api/v1/units/xuan-hoa/dossiers", Some(token));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("urn:motcua:problem:forbidden"), "{body}");

    // Provincial IT publishes, pilots and rolls back from the command line.
    let server = format!("http://{address}");
    let plugin = |args: &[&str]| {
        motcua()
            .arg("plugin")
            .args(args)
            .args(["--server", &server, "--token", "demo-phu-tho-publisher"])
            .output()
            .unwrap()
    };
    let next = std::path::Path::new(motcua::bundled::BUILT_PLUGINS_DIR)
        .join("business_household_1_1.wasm");
    let output = plugin(&["publish", next.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"version\": \"1.1.0\""));
    let output = plugin(&[
        "rollout",
        "1.001612",
        "1.1.0",
        "--units",
        "xuan-hoa,viet-tri",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (_, body) = http_get(&address, "/api/v1/procedures?unit=viet-tri", None);
    assert!(body.contains("\"version\":\"1.1.0\""), "{body}");
    let output = plugin(&["rollout", "1.001612", "1.1.0", "--all"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (_, body) = http_get(&address, "/api/v1/procedures?unit=thanh-ba", None);
    assert!(body.contains("\"version\":\"1.1.0\""), "{body}");
    for _ in 0..2 {
        let output = plugin(&["rollback", "1.001612"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (_, body) = http_get(&address, "/api/v1/procedures?unit=viet-tri", None);
    assert!(
        !body.contains("\"version\":\"1.1.0\""),
        "rolled back: {body}"
    );
    // A file that is not a component is refused with the server's reason.
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"not wasm").unwrap();
    let output = plugin(&["publish", garbage.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("422") && stderr.contains("not a valid component"),
        "{stderr}"
    );
    stop(child);

    // A database URL that is neither SQLite nor PostgreSQL is explained.
    let output = motcua()
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("use sqlite://PATH or postgres://"));
}
