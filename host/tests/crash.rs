//! A crash under load, on SQLite and PostgreSQL: clients file birth registrations and
//! receive them against a real `motcua demo` process, which is killed with SIGKILL in
//! the middle of it, while provincial IT pilots and rolls back a build over and over.
//! Restarted on the same database, the host holds every dossier whose filing was
//! answered 201 and every action answered 200 with at least the state the answer
//! reported; every dossier's hash chain verifies; the registry is as its last committed
//! change left it; and new filings get new codes, none of them one already given out.

mod common;
use common::{free_port, http_raw, motcua, postgres_admin, postgres_admin_url};

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const OFFICER: &str = "demo-xuan-hoa-officer";

/// One request; `None` when the connection fails or is cut (the server died under
/// it): such a request was not answered.
fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Option<(u16, Value)> {
    let mut headers = headers.to_vec();
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json".into()));
    }
    let (status, _, body) = http_raw(address, method, path, &headers, body.as_bytes())?;
    Some((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {OFFICER}"))
}

fn start(command: &str, url: &str, dir: &Path, address: &str) -> Child {
    let child = motcua()
        .args([command, "--listen", address, "--database-url", url])
        // The load comes from one address: no per-address filing quota.
        .args(["--filings-per-minute", "0", "--cache-dir"])
        .arg(dir.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn motcua");
    let deadline = Instant::now() + Duration::from_secs(120);
    while request(address, "GET", "/healthz", &[], "").is_none_or(|(status, _)| status != 200) {
        assert!(Instant::now() < deadline, "motcua {command} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// What the clients were told before the crash.
#[derive(Default)]
struct Answered {
    /// Dossiers whose filing was answered 201.
    filed: Vec<String>,
    /// (code, status code, version) of each action answered 200.
    acted: Vec<(String, i64, i64)>,
}

fn birth() -> String {
    let filings: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/_filings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    filings["birth"].to_string()
}

/// A client filing and receiving dossiers until the server stops answering.
fn client(address: String, stop: Arc<AtomicBool>, answered: Arc<Mutex<Answered>>) {
    let body = birth();
    while !stop.load(Ordering::Relaxed) {
        let Some((status, filed)) = request(&address, "POST", "/api/v1/dossiers", &[], &body)
        else {
            return;
        };
        assert_eq!(status, 201, "{filed}");
        let code = filed["code"].as_str().unwrap().to_string();
        answered.lock().unwrap().filed.push(code.clone());
        let path = format!("/api/v1/dossiers/{code}");
        let Some((status, view)) = request(&address, "GET", &path, &[bearer()], "") else {
            return;
        };
        assert_eq!(status, 200, "{view}");
        let version = view["version"].as_i64().unwrap();
        let Some((status, acted)) = request(
            &address,
            "POST",
            &format!("{path}/actions"),
            &[bearer(), ("If-Match", version.to_string())],
            r#"{"action":"receive","note":"","payload":{}}"#,
        ) else {
            return;
        };
        assert_eq!(status, 200, "{acted}");
        answered.lock().unwrap().acted.push((
            code,
            acted["status"]["code"].as_i64().unwrap(),
            acted["version"].as_i64().unwrap(),
        ));
    }
}

const PUBLISHER: &str = "demo-phu-tho-publisher";

fn publisher() -> (&'static str, String) {
    ("Authorization", format!("Bearer {PUBLISHER}"))
}

/// Provincial IT piloting 1.1.0 of the household procedure at Xuân Hòa and rolling it
/// back, over and over, until the server stops answering; returns how many changes
/// were answered.
fn rollouts(address: String, stop: Arc<AtomicBool>) -> usize {
    let mut answered = 0;
    let pilot = r#"{"procedure":"1.001612","version":"1.1.0","units":["xuan-hoa"]}"#;
    let back = r#"{"procedure":"1.001612"}"#;
    while !stop.load(Ordering::Relaxed) {
        for (path, body, expected) in [
            ("/api/v1/rollouts", pilot, 201),
            ("/api/v1/rollouts/rollback", back, 200),
        ] {
            let Some((status, answer)) = request(&address, "POST", path, &[publisher()], body)
            else {
                return answered;
            };
            assert_eq!(status, expected, "{path}: {answer}");
            answered += 1;
        }
    }
    answered
}

/// The household build Xuân Hòa offers: its sha256.
fn offered_household(address: &str) -> String {
    let (status, body) =
        request(address, "GET", "/api/v1/procedures?unit=xuan-hoa", &[], "").expect("answered");
    assert_eq!(status, 200, "{body}");
    body["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["binding"]["procedure"] == "1.001612")
        .expect("household offered")["build"]["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

fn crash_and_recover(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let address = free_port();
    let mut server = start("demo", url, dir.path(), &address);
    let component = motcua::bundled::built_plugin("business_household_1_1").expect("built plugin");
    let (status, _, body) = http_raw(
        &address,
        "POST",
        "/api/v1/plugins",
        &[publisher(), ("Content-Type", "application/wasm".into())],
        &component,
    )
    .expect("answered");
    assert_eq!(status, 201, "{body}");
    let default_sha = offered_household(&address);

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(Mutex::new(Answered::default()));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (address, stop, answered) = (address.clone(), stop.clone(), answered.clone());
            std::thread::spawn(move || client(address, stop, answered))
        })
        .collect();
    let rollouts = {
        let (address, stop) = (address.clone(), stop.clone());
        std::thread::spawn(move || rollouts(address, stop))
    };
    // Let the load run, then kill the server mid-flight, without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.lock().unwrap().acted.len() < 40 {
        assert!(Instant::now() < deadline, "the load did not get going");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill().expect("SIGKILL");
    server.wait().ok();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("a client failed before the crash");
    }
    let changes = rollouts
        .join()
        .expect("the rollouts failed before the crash");
    assert!(changes > 0, "no rollout was made before the crash");
    let answered = Arc::try_unwrap(answered)
        .ok()
        .unwrap()
        .into_inner()
        .unwrap();

    // Restarted on the same database.
    let mut server = start("serve", url, dir.path(), &address);
    for code in &answered.filed {
        let path = format!("/api/v1/dossiers/{code}");
        let (status, view) = request(&address, "GET", &path, &[bearer()], "").expect("answered");
        assert_eq!(
            status, 200,
            "{code} answered 201 before the crash is gone: {view}"
        );
        let (status, audit) =
            request(&address, "GET", &format!("{path}/audit"), &[bearer()], "").expect("answered");
        assert_eq!(status, 200);
        assert_eq!(audit["valid"], true, "{code}: {audit}");
    }
    for (code, status_code, version) in &answered.acted {
        let path = format!("/api/v1/dossiers/{code}");
        let (_, view) = request(&address, "GET", &path, &[bearer()], "").expect("answered");
        assert!(
            view["version"].as_i64().unwrap() >= *version,
            "{code} was answered at version {version}, holds {view}"
        );
        assert_eq!(
            view["status"]["code"].as_i64().unwrap(),
            *status_code,
            "{code}"
        );
    }
    // Killed amid rollouts and rollbacks, the registry is as its last committed change
    // left it: Xuân Hòa offers 1.1.0 if the latest rollout stands, the default if it was
    // rolled back; every build loads.
    let (status, listed) = request(
        &address,
        "GET",
        "/api/v1/rollouts?procedure=1.001612",
        &[],
        "",
    )
    .expect("answered");
    assert_eq!(status, 200, "{listed}");
    let latest = listed["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|rollout| rollout["id"].as_i64().unwrap())
        .expect("rollouts were made")
        .clone();
    let offered = offered_household(&address);
    if latest["rolled_back_at"].is_null() && latest["units"] == serde_json::json!(["xuan-hoa"]) {
        assert_eq!(offered, latest["build"].as_str().unwrap(), "{latest}");
    } else {
        assert_eq!(offered, default_sha, "{latest}");
    }
    let (status, ready) = request(&address, "GET", "/readyz", &[], "").expect("answered");
    assert_eq!(status, 200, "{ready}");
    // New filings get codes never given out before.
    let given: HashSet<&String> = answered.filed.iter().collect();
    assert_eq!(given.len(), answered.filed.len(), "a code was given twice");
    for _ in 0..5 {
        let (status, filed) =
            request(&address, "POST", "/api/v1/dossiers", &[], &birth()).expect("answered");
        assert_eq!(status, 201, "{filed}");
        let code = filed["code"].as_str().unwrap().to_string();
        assert!(
            !given.contains(&code),
            "{code} was given out before the crash"
        );
    }
    eprintln!(
        "{} filings, {} actions and {changes} rollouts and rollbacks answered before the crash, all found",
        answered.filed.len(),
        answered.acted.len()
    );
    server.kill().ok();
    server.wait().ok();
}

#[test]
fn a_crash_under_load_loses_nothing_answered_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_and_recover(&format!(
        "sqlite://{}",
        dir.path().join("province.db").display()
    ));
}

#[test]
fn a_crash_under_load_loses_nothing_answered_on_postgres() {
    let admin = postgres_admin_url();
    let name = format!(
        "motcua_crash_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    postgres_admin(format!("CREATE DATABASE {name}"));
    let base = admin.rsplit_once('/').expect("admin URL has a database").0;
    crash_and_recover(&format!("{base}/{name}"));
    postgres_admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
