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
pub fn http(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &str)>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some((content_type, body)) = body {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    if let Some((_, body)) = body {
        request.push_str(body);
    }
    stream.write_all(request.as_bytes()).unwrap();
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
