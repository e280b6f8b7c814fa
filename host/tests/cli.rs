//! The `motcua` command as an operator uses it: migrate, demo (twice: idempotent),
//! token create, serve, and clear messages for mistakes; units imported from a file
//! and accounts created, listed and revoked, on SQLite and PostgreSQL.

mod common;
use common::stop;
use common::{free_port, motcua};

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A plain HTTP/1.1 GET over loopback; returns (status, body).
fn http_get(address: &str, path: &str, token: Option<&str>) -> (u16, String) {
    common::http(address, "GET", path, token, None)
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
        // The catalog's five commune-level procedures at every commune, and the
        // province-level one its counter receives for the department.
        assert_eq!(
            codes,
            [
                "1.000656", "1.000894", "1.001193", "1.001612", "1.012756", "2.000908"
            ],
            "run {run}"
        );
        let handled_by: Vec<&serde_json::Value> = procedures["procedures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["handled_by"])
            .collect();
        assert_eq!(handled_by[4], "so-nnmt", "run {run}");
        // Xuân Hòa offers the same six, and its local variant of 1.001612 to choose.
        let (status, body) = http_get(&address, "/api/v1/procedures?unit=xuan-hoa", None);
        assert_eq!(status, 200, "{body}");
        let at_xuan_hoa: serde_json::Value = serde_json::from_str(&body).unwrap();
        let listed = at_xuan_hoa["procedures"].as_array().unwrap();
        assert_eq!(listed.len(), 6, "run {run}: {body}");
        let household = listed.iter().find(|p| p["code"] == "1.001612").unwrap();
        assert_eq!(
            household["variants"][0]["code"], "1.001612/xuan-hoa-onsite",
            "run {run}"
        );
        assert!(
            handled_by
                .iter()
                .enumerate()
                .all(|(i, by)| i == 4 || by.is_null()),
            "run {run}: {handled_by:?}"
        );
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

/// A fresh PostgreSQL database on the test server (see motcua-e2e), and its name.
fn fresh_postgres_database() -> (String, String) {
    let admin = std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let name = format!(
        "motcua_cli_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    postgres_admin(&admin, &format!("CREATE DATABASE {name}"));
    let base = admin.rsplit_once('/').expect("admin URL has a database").0;
    (format!("{base}/{name}"), name)
}

fn postgres_admin(admin: &str, statement: &str) {
    use sqlx::{Connection, Executor};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut connection = sqlx::PgConnection::connect(admin)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL at {admin} is required: {error}"));
        connection
            .execute(sqlx::AssertSqlSafe(statement.to_string()))
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
        connection.close().await.ok();
    });
}

fn run_ok(args: &[&str]) -> String {
    let output = motcua().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "motcua {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn run_failing(args: &[&str]) -> String {
    let output = motcua().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success(), "motcua {args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The problem type of a JSON problem body.
fn problem_type(body: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    body["type"].as_str().unwrap_or_default().to_string()
}

/// Units imported from a file, accounts created with an expiry, listed and revoked at
/// the command line, and a running server refusing the revoked and the expired token.
fn units_and_accounts_from_the_command_line(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["migrate", "--database-url", url]);
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/examples/phu-tho-units.csv")
        .display()
        .to_string();
    let import = |file: &str| {
        let output = motcua()
            .args(["units", "import", file, "--database-url", url])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let list = || run_ok(&["units", "list", "--database-url", url]);
    let empty = list();

    // Every error is printed with its line and field; nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,name,kind,agency_id,parent\n\
         phu-tho,Tỉnh Phú Thọ,province,000.00.00.H43,\n\
         xuan-hoa,Phường Xuân Hòa,town,000.31.19.H43,phu-tho\n\
         viet-tri,,ward,000.30.19.H43,phu-tho\n\
         thanh-ba,Xã Thanh Ba,commune,000.32.19.H43,vinh-phuc\n\
         xuan-hoa,Phường Xuân Hòa,ward,000.33.19.H43,phu-tho\n",
    )
    .unwrap();
    let (ok, _, stderr) = import(bad.to_str().unwrap());
    assert!(!ok, "{stderr}");
    for expected in [
        "line 3, field kind: `town` is not a kind of unit",
        "line 4, field name: required",
        "line 5, field parent: unknown parent `vinh-phuc`",
        "line 6, field code: `xuan-hoa` is also on line 3",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from {stderr}"
        );
    }
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(list(), empty, "a file with errors writes nothing");

    // The sample imports, then changes nothing.
    let (ok, stdout, stderr) = import(&sample);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "18 created, 0 updated, 0 unchanged");
    let listed = list();
    let (ok, stdout, stderr) = import(&sample);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "0 created, 0 updated, 18 unchanged");
    assert_eq!(list(), listed);
    let department = listed
        .lines()
        .find(|line| line.starts_with("so-tu-phap "))
        .expect("so-tu-phap listed");
    assert!(
        department.contains("department") && department.contains("Sở Tư pháp"),
        "{department}"
    );

    // Accounts: an expiry in the past is refused; one far ahead, and none.
    let create = |extra: &[&str]| {
        let mut args = vec!["token", "create", "--database-url", url];
        args.extend_from_slice(extra);
        run_ok(&args).trim().to_string()
    };
    let stderr = run_failing(&[
        "token",
        "create",
        "--unit",
        "xuan-hoa",
        "--role",
        "officer",
        "--expires",
        "2001-01-01",
        "--database-url",
        url,
    ]);
    assert!(stderr.contains("not in the future"), "{stderr}");
    let officer = create(&[
        "--unit",
        "xuan-hoa",
        "--role",
        "officer",
        "--name",
        "counter-officer",
        "--expires",
        "2099-12-31",
    ]);
    let leader = create(&["--unit", "thanh-ba", "--role", "leader"]);
    let accounts = run_ok(&["token", "list", "--database-url", url]);
    let line = accounts
        .lines()
        .find(|line| line.starts_with("counter-officer "))
        .unwrap_or_else(|| panic!("listed: {accounts}"));
    assert!(
        line.contains("xuan-hoa")
            && line.contains("2100-01-01T00:00:00+07:00")
            && line.trim_end().ends_with("active"),
        "{line}"
    );
    assert!(!accounts.contains(&officer) && !accounts.contains(&leader));
    let only_thanh_ba = run_ok(&["token", "list", "--unit", "thanh-ba", "--database-url", url]);
    assert_eq!(only_thanh_ba.lines().count(), 2, "{only_thanh_ba}");

    // A running server refuses a token revoked at the command line from the next request.
    let address = free_port();
    let mut command = motcua();
    command.args(["serve", "--listen", &address, "--database-url", url]);
    command.args(["--cache-dir", dir.path().join("cache").to_str().unwrap()]);
    let (child, address, _) = start(command, Some(&address));
    let inbox = "/api/v1/units/xuan-hoa/dossiers";
    let (status, body) = http_get(&address, inbox, Some(&officer));
    assert_eq!(status, 200, "{body}");
    let revoked = run_ok(&["token", "revoke", "counter-officer", "--database-url", url]);
    assert!(revoked.contains("revoked `counter-officer`"), "{revoked}");
    let (status, body) = http_get(&address, inbox, Some(&officer));
    assert_eq!(status, 401, "{body}");
    assert_eq!(problem_type(&body), "urn:motcua:problem:token-revoked");
    let again = run_ok(&["token", "revoke", "counter-officer", "--database-url", url]);
    assert!(again.contains("already revoked"), "{again}");
    let stderr = run_failing(&["token", "revoke", "nobody", "--database-url", url]);
    assert!(stderr.contains("no account `nobody`"), "{stderr}");
    let accounts = run_ok(&["token", "list", "--unit", "xuan-hoa", "--database-url", url]);
    assert!(
        accounts.lines().any(
            |line| line.starts_with("counter-officer ") && line.trim_end().ends_with("revoked")
        ),
        "{accounts}"
    );

    // A token that expires in a moment works until then and is refused after.
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let brief = create(&[
        "--unit",
        "thanh-ba",
        "--role",
        "officer",
        "--expires",
        &expires,
    ]);
    let inbox = "/api/v1/units/thanh-ba/dossiers";
    let (status, body) = http_get(&address, inbox, Some(&brief));
    assert_eq!(status, 200, "{body}");
    std::thread::sleep(Duration::from_millis(3500));
    let (status, body) = http_get(&address, inbox, Some(&brief));
    assert_eq!(status, 401, "{body}");
    assert_eq!(problem_type(&body), "urn:motcua:problem:token-expired");
    let (status, body) = http_get(&address, inbox, Some(&leader));
    assert_eq!(status, 200, "other accounts keep working: {body}");
    stop(child);
}

#[test]
fn units_and_accounts_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("province.db").display());
    units_and_accounts_from_the_command_line(&url);
}

#[test]
fn units_and_accounts_on_postgres() {
    let (url, name) = fresh_postgres_database();
    units_and_accounts_from_the_command_line(&url);
    let admin = std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    postgres_admin(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
}
