//! What the tests that run the `motcua` binary share: starting it, a free port,
//! stopping a server as a service manager would, and a plain HTTP/1.1 request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `motcua` binary of this build, logging warnings only.
pub fn motcua() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_motcua"));
    command.env("RUST_LOG", "warn");
    command
}

/// A loopback address no one listens on now.
pub fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Stops a server with SIGTERM, as a service manager would, and checks that it shut
/// down cleanly within 20 s.
#[allow(dead_code)]
pub fn stop(mut child: Child) {
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

/// One HTTP/1.1 request over loopback; returns (status, body).
#[allow(dead_code)]
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &str)>,
) -> (u16, String) {
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    if let Some((content_type, _)) = body {
        headers.push(("Content-Type", content_type.to_string()));
    }
    let body = body.map_or(&b""[..], |(_, body)| body.as_bytes());
    let (status, _, body) =
        http_raw(address, method, path, &headers, body).expect("the server answers");
    (status, body)
}

/// One HTTP/1.1 request with any headers and a raw body; returns (status, head in
/// lowercase, body), or `None` when the connection fails or is cut before an answer
/// (a server that died under it).
#[allow(dead_code)]
pub fn http_raw(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_ascii_lowercase(), body.to_string()))
}

/// The PostgreSQL server the tests use (`MOTCUA_TEST_POSTGRES_URL`, else the local one).
#[allow(dead_code)]
pub fn postgres_admin_url() -> String {
    std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Runs one administrative statement (CREATE or DROP DATABASE) on that server.
#[allow(dead_code)]
pub fn postgres_admin(statement: String) {
    use sqlx::{Connection, Executor};
    let admin = postgres_admin_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL at {admin} is required: {error}"));
        connection
            .execute(sqlx::AssertSqlSafe(statement.clone()))
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
        connection.close().await.ok();
    });
}
