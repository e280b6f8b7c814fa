//! The holiday calendar as provincial IT runs it: `motcua calendar import` and `list`
//! on SQLite and PostgreSQL, and two real `motcua serve` processes on one PostgreSQL
//! database that put a newly loaded table in force within seconds, without a restart.
//! Three real hosts on one PostgreSQL database follow a rollout made on one of them
//! within a second, told by PostgreSQL, with their polling set to two minutes.

mod common;
use common::{free_port, http, http_raw, motcua};

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Weekday};
use sqlx::{Connection, Executor};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

/// The PostgreSQL server the tests use (see tests/src/lib.rs).
fn postgres_admin_url() -> String {
    std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// A fresh database for one test, and the server processes started on it; dropping it
/// stops the processes it started and drops a PostgreSQL database, even after a failure.
struct Province {
    url: String,
    dir: tempfile::TempDir,
    postgres_database: Option<String>,
    servers: Vec<Child>,
}

impl Province {
    fn sqlite() -> Province {
        let dir = tempfile::tempdir().unwrap();
        Province {
            url: format!("sqlite://{}", dir.path().join("province.db").display()),
            dir,
            postgres_database: None,
            servers: Vec::new(),
        }
    }

    fn postgres() -> Province {
        let name = format!(
            "motcua_hosts_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros() % 1_000_000_000
        );
        let admin = postgres_admin_url();
        block_on(async {
            let mut connection =
                sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|error| {
                        panic!("PostgreSQL at {admin} is required for the tests: {error}")
                    });
            connection
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            connection.close().await.ok();
        });
        let base = admin.rsplit_once('/').expect("admin URL has a database").0;
        Province {
            url: format!("{base}/{name}"),
            dir: tempfile::tempdir().unwrap(),
            postgres_database: Some(name),
            servers: Vec::new(),
        }
    }

    /// Starts `motcua serve` on this database, re-reading it every second; returns its
    /// address once /healthz answers.
    fn serve(&mut self) -> String {
        let cache = format!("cache-{}", self.servers.len());
        self.start("serve", "1", &cache)
    }

    /// Starts `motcua <command>` (serve or demo) on this database, polling for other
    /// hosts' changes every `refresh_seconds`, with the compiled cache `cache` in the
    /// test's directory; returns its address once /healthz answers.
    fn start(&mut self, command: &str, refresh_seconds: &str, cache: &str) -> String {
        let address = free_port();
        let child = motcua()
            .args([command, "--listen", &address, "--database-url", &self.url])
            .args(["--refresh-seconds", refresh_seconds, "--cache-dir"])
            .arg(self.dir.path().join(cache))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn motcua");
        self.servers.push(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        while http_ok(&address).is_none() {
            assert!(Instant::now() < deadline, "motcua {command} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        address
    }

    /// Stops every server with SIGTERM, as a service manager would, and checks that
    /// each one shut down cleanly.
    fn stop_servers(&mut self) {
        for child in self.servers.drain(..) {
            common::stop(child);
        }
    }

    fn calendar(&self, args: &[&str]) -> Output {
        motcua()
            .arg("calendar")
            .args(args)
            .args(["--database-url", &self.url])
            .output()
            .expect("run motcua calendar")
    }
}

impl Drop for Province {
    fn drop(&mut self) {
        for child in &mut self.servers {
            child.kill().ok();
            child.wait().ok();
        }
        if let Some(name) = self.postgres_database.take() {
            block_on(async {
                if let Ok(mut connection) = sqlx::PgConnection::connect(&postgres_admin_url()).await
                {
                    let _ = connection
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        }
    }
}

fn example_2027() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/vn-2027.csv")
}

/// A one-row table for `year`: its first weekday of January off.
fn table_for(year: i32) -> String {
    let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap();
    }
    format!("date,kind,name\n{day},holiday,Tết Dương lịch\n")
}

/// The civil year now (UTC+7), as the servers count it.
fn this_year() -> i32 {
    motcua::clock::Clock::system().now().year()
}

/// Import a bad table (every problem printed, nothing written), the example 2027 table
/// (loaded, with the shipped years seeded first), the same again (unchanged), a table
/// into the wrong year; then list.
fn calendar_cli(province: Province) {
    let bad = province.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "date,kind,name\n2027-01-01,holiday,Tết Dương lịch\n2027-01-02,holiday,A Saturday\n2027-01-05,holiday,\n",
    )
    .unwrap();
    let output = province.calendar(&["import", bad.to_str().unwrap()]);
    assert!(!output.status.success(), "{}", stdout(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains("line 3, field kind: 2027-01-02 is a Saturday"),
        "{errors}"
    );
    assert!(errors.contains("line 4, field name: "), "{errors}");
    assert!(
        errors.contains("2 problem(s); nothing was loaded"),
        "{errors}"
    );
    assert!(!errors.contains("panicked"), "{errors}");
    if province.postgres_database.is_none() {
        // Checked before the database is opened: not even the file is created.
        assert!(!province.dir.path().join("province.db").exists());
    }
    let output = province.calendar(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("no holiday table is loaded yet"),
        "{}",
        stdout(&output)
    );

    let example = example_2027();
    let output = province.calendar(&["import", example.to_str().unwrap(), "--by", "so-tt-tt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("2027: loaded 11 days"), "{printed}");
    assert!(printed.contains("the year had no table"), "{printed}");
    let output = province.calendar(&["import", example.to_str().unwrap(), "--year", "2027"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("2027: unchanged"),
        "{}",
        stdout(&output)
    );
    let output = province.calendar(&["import", example.to_str().unwrap(), "--year", "2028"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("field date: 2027-01-01 is not in 2028"),
        "{}",
        stderr(&output)
    );

    let output = province.calendar(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = stdout(&output);
    let rows: Vec<&str> = listed.lines().filter(|l| l.starts_with("20")).collect();
    assert_eq!(rows.len(), 3, "{listed}");
    assert!(
        rows[0].starts_with("2025") && rows[0].contains("motcua (shipped)"),
        "{listed}"
    );
    assert!(
        rows[1].starts_with("2026") && rows[1].contains("motcua (shipped)"),
        "{listed}"
    );
    assert!(
        rows[2].starts_with("2027") && rows[2].contains("11") && rows[2].ends_with("so-tt-tt"),
        "{listed}"
    );
}

#[test]
fn calendar_cli_on_sqlite() {
    calendar_cli(Province::sqlite());
}

#[test]
fn calendar_cli_on_postgres() {
    calendar_cli(Province::postgres());
}

/// Waits until `check` holds for host `address`'s /healthz calendar, for at most `limit`.
fn wait_for_health(
    address: &str,
    limit: Duration,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let (status, body) = http(address, "GET", "/healthz", None, None);
        assert_eq!(status, 200, "{body}");
        let calendar = json(&body)["calendar"].clone();
        if check(&calendar) {
            return calendar;
        }
        assert!(
            Instant::now() < deadline,
            "host {address} did not get there within {limit:?}: {calendar}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Two serving processes on one PostgreSQL database: a table imported from the command
/// line is in force on both within a few seconds, and so is a table replaced with a
/// PUT on host A, seen by host B.
#[test]
fn two_serving_hosts_pick_up_a_new_table_on_postgres() {
    let mut province = Province::postgres();
    // The first host seeds the demo province (units, accounts, plugins); the second
    // serves the same database.
    let address_a = free_port();
    let child = motcua()
        .args([
            "demo",
            "--listen",
            &address_a,
            "--database-url",
            &province.url,
        ])
        .args(["--refresh-seconds", "1", "--cache-dir"])
        .arg(province.dir.path().join("cache-demo"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn motcua demo");
    province.servers.push(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    while http_ok(&address_a).is_none() {
        assert!(Instant::now() < deadline, "motcua demo did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let address_b = province.serve();

    let next = this_year() + 1;
    let calendar = wait_for_health(&address_b, Duration::from_secs(5), |_| true);
    assert!(
        calendar["missing_years"]
            .as_array()
            .unwrap()
            .contains(&next.into()),
        "{calendar}"
    );

    // Provincial IT imports next year's table from the command line; neither host
    // loaded it, both put it in force within a few refreshes.
    let file = province.dir.path().join("next.csv");
    std::fs::write(&file, table_for(next)).unwrap();
    let output = province.calendar(&["import", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    for address in [&address_a, &address_b] {
        let calendar = wait_for_health(address, Duration::from_secs(5), |calendar| {
            calendar["loaded_years"]
                .as_array()
                .unwrap()
                .contains(&next.into())
        });
        assert!(
            !calendar["missing_years"]
                .as_array()
                .unwrap()
                .contains(&next.into()),
            "{calendar}"
        );
    }

    // A province admin loads the year after over HTTP on host A; host B follows.
    let later = next + 1;
    let (status, body) = http(
        &address_a,
        "PUT",
        &format!("/api/v1/calendar/{later}"),
        Some("demo-phu-tho-admin"),
        Some(("text/csv", &table_for(later))),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["changed"], true);
    let calendar = wait_for_health(&address_b, Duration::from_secs(5), |calendar| {
        calendar["loaded_years"]
            .as_array()
            .unwrap()
            .contains(&later.into())
    });
    assert_eq!(calendar["provisional_due_dates"], 0);
    // Both hosts list the same tables.
    let (_, listed_a) = http(&address_a, "GET", "/api/v1/calendar", None, None);
    let (_, listed_b) = http(&address_b, "GET", "/api/v1/calendar", None, None);
    assert_eq!(json(&listed_a), json(&listed_b));

    province.stop_servers();
}

/// A host that polls for other hosts' changes only every two minutes, so that anything
/// it learns sooner was told by PostgreSQL; all such hosts share one compiled cache
/// (shared storage in a real deployment).
fn slow_polling_host(province: &mut Province, command: &str) -> String {
    province.start(command, "120", "cache-shared")
}

/// The household build a unit offers on a host: (version, sha256).
fn offered_household(address: &str) -> (String, String) {
    let (status, body) = http(
        address,
        "GET",
        "/api/v1/procedures?unit=xuan-hoa",
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let procedures = json(&body)["procedures"].as_array().unwrap().clone();
    let household = procedures
        .iter()
        .find(|p| p["binding"]["procedure"] == "1.001612")
        .expect("household offered")
        .clone();
    (
        household["build"]["version"].as_str().unwrap().to_string(),
        household["build"]["sha256"].as_str().unwrap().to_string(),
    )
}

/// Three hosts on one PostgreSQL database, each polling every two minutes: a build
/// published and piloted through A is offered by B within a second (PostgreSQL tells
/// every host when the change commits), a dossier filed on B is pinned to it, and C
/// takes an action on it at once. B and C, started while A served, compile nothing the
/// shared compiled cache holds.
#[test]
fn three_hosts_follow_a_rollout_within_a_second_on_postgres() {
    let mut province = Province::postgres();
    let a = slow_polling_host(&mut province, "demo");
    let b = slow_polling_host(&mut province, "serve");
    let c = slow_polling_host(&mut province, "serve");
    assert_eq!(offered_household(&b).0, "1.0.0");

    let component = motcua::bundled::built_plugin("business_household_1_1").expect("built plugin");
    let (status, _, body) = http_raw(
        &a,
        "POST",
        "/api/v1/plugins",
        &[
            ("Authorization", "Bearer demo-phu-tho-publisher".into()),
            ("Content-Type", "application/wasm".into()),
        ],
        &component,
    )
    .expect("host A answers");
    assert!(status == 201 || status == 200, "{status} {body}");
    let sha256 = json(&body)["sha256"].as_str().unwrap().to_string();
    let rollout = r#"{"procedure":"1.001612","version":"1.1.0","units":["xuan-hoa"]}"#;
    let started = Instant::now();
    let (status, body) = http(
        &a,
        "POST",
        "/api/v1/rollouts",
        Some("demo-phu-tho-publisher"),
        Some(("application/json", rollout)),
    );
    assert_eq!(status, 201, "{body}");
    loop {
        if offered_household(&b).1 == sha256 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "host B still offers the old build a second after the rollout"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let followed = started.elapsed();

    // Filed on B under the new build; C acts on it at once.
    let filings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/_filings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut filing = filings["household"].clone();
    filing["receiving_unit"] = "xuan-hoa".into();
    let (status, body) = http(
        &b,
        "POST",
        "/api/v1/dossiers",
        None,
        Some(("application/json", &filing.to_string())),
    );
    assert_eq!(status, 201, "{body}");
    let code = json(&body)["code"].as_str().unwrap().to_string();
    let (status, body) = http(
        &c,
        "GET",
        &format!("/api/v1/dossiers/{code}"),
        Some("demo-xuan-hoa-officer"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let view = json(&body);
    assert_eq!(view["build"]["sha256"], sha256.as_str(), "{view}");
    let version = view["version"].as_i64().unwrap();
    let (status, _, body) = http_raw(
        &c,
        "POST",
        &format!("/api/v1/dossiers/{code}/actions"),
        &[
            ("Authorization", "Bearer demo-xuan-hoa-officer".into()),
            ("If-Match", version.to_string()),
            ("Content-Type", "application/json".into()),
        ],
        br#"{"action":"receive","note":"","payload":{}}"#,
    )
    .expect("host C answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["status"]["code"], 4, "{body}");
    // B and C started while A served, and B loaded the new build after A published
    // it: neither compiled anything the shared cache held.
    for host in [&b, &c] {
        let (status, text) = http(host, "GET", "/metrics", None, None);
        assert_eq!(status, 200);
        let sample = |how: &str| {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix(&format!("motcua_builds_loaded{{how=\"{how}\"}} "))
                })
                .and_then(|value| value.trim().parse::<i64>().ok())
                .unwrap_or_else(|| panic!("no builds_loaded {how} in {text}"))
        };
        assert_eq!(sample("compiled"), 0, "host {host} compiled: {text}");
        assert!(sample("cache-hit") >= 2, "host {host}: {text}");
    }
    eprintln!("host B followed the rollout in {followed:?}");
    province.stop_servers();
}

/// The address answers /healthz with 200.
fn http_ok(address: &str) -> Option<()> {
    TcpStream::connect(address).ok()?;
    (http(address, "GET", "/healthz", None, None).0 == 200).then_some(())
}
