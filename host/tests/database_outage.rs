//! PostgreSQL going away under a serving host, and coming back: the host reaches its
//! database through a TCP relay the test controls. While the relay is down (every
//! connection cut, new ones refused, as a restarting server would), requests answer 503
//! `database-unavailable` with `Retry-After`, never 500, and nothing is written; once
//! it is back, the same host process answers again by itself, without a restart.

mod common;
use common::{free_port, http_raw, motcua, postgres_admin, postgres_admin_url};

use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A TCP relay from a local port to PostgreSQL that can be taken down and brought up.
struct Relay {
    port: u16,
    upstream: String,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let relay = Relay {
            port: listener.local_addr().unwrap().port(),
            upstream: upstream.to_string(),
            up: Arc::new(AtomicBool::new(true)),
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: TcpListener) {
        let (up, connections, upstream) = (
            self.up.clone(),
            self.connections.clone(),
            self.upstream.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if !up.load(Ordering::SeqCst) {
                    // Taken down: the listening socket closes with this thread.
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut held = connections.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
    }

    /// As PostgreSQL stopping: every connection cut, the port closed.
    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag and closes the port.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for stream in self.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the relay's port stays open");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// As PostgreSQL started again on the same port.
    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("rebind the relay");
        self.serve(listener);
    }
}

fn get(address: &str, path: &str) -> (u16, String, Value) {
    let (status, head, body) = http_raw(
        address,
        "GET",
        path,
        &[("Authorization", "Bearer demo-xuan-hoa-officer".into())],
        b"",
    )
    .expect("the host answers");
    (
        status,
        head,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

#[test]
fn a_host_answers_503_while_postgresql_is_down_and_recovers_by_itself() {
    let admin = postgres_admin_url();
    let name = format!(
        "motcua_outage_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    postgres_admin(format!("CREATE DATABASE {name}"));
    let (base, _) = admin.rsplit_once('/').expect("admin URL has a database");
    let upstream = base
        .rsplit_once('@')
        .map_or(base, |(_, host)| host)
        .trim_start_matches("postgres://")
        .to_string();
    let relay = Relay::start(&upstream);
    let user = base
        .trim_start_matches("postgres://")
        .split_once('@')
        .map_or("postgres", |(user, _)| user);
    let url = format!("postgres://{user}@127.0.0.1:{}/{name}", relay.port);

    let dir = tempfile::tempdir().unwrap();
    let address = free_port();
    let mut server = motcua()
        .args(["demo", "--listen", &address, "--database-url", &url])
        .args(["--filings-per-minute", "0", "--cache-dir"])
        .arg(dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn motcua demo");
    let deadline = Instant::now() + Duration::from_secs(120);
    while http_raw(&address, "GET", "/healthz", &[], b"").is_none() {
        assert!(Instant::now() < deadline, "motcua demo did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _, inbox) = get(&address, "/api/v1/units/xuan-hoa/dossiers");
    assert_eq!(status, 200, "{inbox}");

    relay.down();
    for path in [
        "/api/v1/units/xuan-hoa/dossiers",
        "/api/v1/procedures?unit=xuan-hoa",
    ] {
        let (status, head, body) = get(&address, path);
        if path.starts_with("/api/v1/procedures") && status == 200 {
            // Served from the host's memory: it needs no database.
            continue;
        }
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(
            body["type"], "urn:motcua:problem:database-unavailable",
            "{body}"
        );
        assert!(head.contains("retry-after: 5"), "{head}");
    }
    let (status, _, body) = get(&address, "/readyz");
    assert_eq!(status, 503, "{body}");

    relay.up();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = get(&address, "/api/v1/units/xuan-hoa/dossiers");
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < deadline,
            "the host did not recover within 30 s of the database's return"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(get(&address, "/readyz").0, 200);
    server.kill().ok();
    server.wait().ok();
    postgres_admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
