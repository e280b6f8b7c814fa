//! The audit anchors as provincial IT and an auditor use them, on SQLite and
//! PostgreSQL: `motcua audit keygen`, `anchor` and `verify` run as processes against a
//! trail written through the real API, then the database is attacked as its
//! administrator could: triggers dropped, an event edited and its chain recomputed so
//! that the chain alone still verifies, an anchor rewritten to match.

#[allow(dead_code)]
mod common;
use common::motcua;

use std::path::PathBuf;
use std::process::Output;

use chrono::NaiveDateTime;
use motcua::app::{self, Config};
use motcua::audit::{self, EventRecord};
use motcua::clock::Clock;
use motcua::store::Store;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

fn civil(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM")
}

fn postgres_admin_url() -> String {
    std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

async fn postgres_admin(statement: String) {
    let admin = postgres_admin_url();
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {admin} is required: {error}"));
    connection
        .execute(sqlx::AssertSqlSafe(statement))
        .await
        .expect("admin statement");
    connection.close().await.ok();
}

/// A fresh database and a directory for keys; dropping it drops a PostgreSQL database.
struct Province {
    backend: Backend,
    url: String,
    dir: tempfile::TempDir,
    postgres_database: Option<String>,
}

impl Province {
    fn new(backend: Backend) -> Province {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Province {
                backend,
                url: format!("sqlite://{}", dir.path().join("province.db").display()),
                dir,
                postgres_database: None,
            },
            Backend::Postgres => {
                let name = format!(
                    "motcua_audit_{}_{}",
                    std::process::id(),
                    chrono::Utc::now().timestamp_micros() % 1_000_000_000
                );
                block_on(postgres_admin(format!("CREATE DATABASE {name}")));
                let base = postgres_admin_url()
                    .rsplit_once('/')
                    .expect("admin URL has a database")
                    .0
                    .to_string();
                Province {
                    backend,
                    url: format!("{base}/{name}"),
                    dir,
                    postgres_database: Some(name),
                }
            }
        }
    }

    /// `motcua audit keygen`: (private key, public key).
    fn key_pair(&self, name: &str) -> (PathBuf, PathBuf) {
        let private = self.dir.path().join(format!("{name}.pem"));
        let public = self.dir.path().join(format!("{name}.pub.pem"));
        let output = motcua()
            .args(["audit", "keygen", "--private-key"])
            .arg(&private)
            .arg("--public-key")
            .arg(&public)
            .output()
            .expect("run motcua");
        assert!(output.status.success(), "{}", text(&output));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the private key is readable by others");
        }
        (private, public)
    }

    fn audit(&self, args: &[&str]) -> Output {
        motcua()
            .arg("audit")
            .args(args)
            .args(["--database-url", &self.url])
            .env_remove("MOTCUA_AUDIT_KEY_FILE")
            .output()
            .expect("run motcua")
    }

    fn anchor(&self, day: &str, key: &std::path::Path) -> Output {
        let key = key.to_str().unwrap();
        self.audit(&["anchor", "--day", day, "--audit-key-file", key])
    }

    fn verify(&self, public: &std::path::Path) -> Output {
        self.audit(&["verify", "--public-key", public.to_str().unwrap()])
    }

    async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .expect("connect as the database administrator")
    }
}

impl Drop for Province {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_database.take() {
            let drop = postgres_admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            let _ = std::thread::spawn(move || block_on(drop)).join();
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

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A motcua host serving the province's database on loopback, its clock at `now`.
struct Host {
    base: String,
    state: motcua::api::AppState,
    server: tokio::task::JoinHandle<()>,
    client: reqwest::Client,
}

impl Host {
    async fn start(province: &Province, now: &str, seed: bool) -> Host {
        let config = Config {
            cache_dir: Some(province.dir.path().join("cache")),
            storage: Some(motcua::documents::StorageConfig::Directory(
                province.dir.path().join("documents"),
            )),
            ..Config::new(province.url.clone())
        };
        let state = app::build_state(&config, Clock::manual(civil(now)))
            .await
            .expect("server state");
        if seed {
            motcua::demo::seed(&state).await.expect("demo province");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = motcua::api::app(state.clone());
        let server = tokio::spawn(async move {
            let _ = motcua::api::serve(listener, router).await;
        });
        Host {
            base,
            state,
            server,
            client: reqwest::Client::new(),
        }
    }

    /// Files a household-business registration at Thanh Ba; returns its code.
    async fn file(&self) -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/scenarios/_filings.json"
        );
        let filings: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut body = filings["household"].clone();
        body["receiving_unit"] = json!("thanh-ba");
        let response = self
            .client
            .post(format!("{}/api/v1/dossiers", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "filing failed");
        let body: Value = response.json().await.unwrap();
        body["code"].as_str().expect("code").to_string()
    }

    /// Takes an action as Thanh Ba's `role`, at the dossier's current version.
    async fn act(&self, code: &str, role: &str, action: &str, note: &str) {
        let token = format!("demo-thanh-ba-{role}");
        let dossier: Value = self
            .client
            .get(format!("{}/api/v1/dossiers/{code}", self.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let version = dossier["version"].as_i64().expect("version");
        let response = self
            .client
            .post(format!("{}/api/v1/dossiers/{code}/actions", self.base))
            .bearer_auth(&token)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({ "action": action, "note": note, "payload": {} }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(
            status,
            200,
            "{action} on {code}: {}",
            response.text().await.unwrap()
        );
    }

    async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        self.state.store.close().await;
    }
}

/// The trail the tests attack: on Friday 13 February three dossiers filed at Thanh Ba,
/// two received; on Monday 16 the third received. Returns the three codes.
async fn write_trail(province: &Province) -> Vec<String> {
    let friday = Host::start(province, "2026-02-13 09:00", true).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(friday.file().await);
    }
    friday.act(&codes[0], "officer", "receive", "").await;
    friday
        .act(&codes[1], "officer", "receive", "received at the desk")
        .await;
    friday.stop().await;
    let monday = Host::start(province, "2026-02-16 10:00", false).await;
    monday.act(&codes[2], "officer", "receive", "").await;
    monday.stop().await;
    codes
}

/// Drops the append-only triggers of `table`, as a database administrator can.
async fn drop_triggers(province: &Province, pool: &sqlx::AnyPool, table: &str) {
    let statements = match province.backend {
        Backend::Sqlite => vec![
            format!("DROP TRIGGER {table}_no_update"),
            format!("DROP TRIGGER {table}_no_delete"),
        ],
        Backend::Postgres => vec![format!("DROP TRIGGER {table}_no_change ON {table}")],
    };
    for statement in statements {
        pool.execute(sqlx::AssertSqlSafe(statement))
            .await
            .expect("drop trigger");
    }
}

/// Rewrites the first event of `code` (its note and payload) and recomputes the hashes
/// of the whole chain, so the chain alone verifies again. Returns the new head hash.
async fn rewrite_history(province: &Province, code: &str) -> String {
    let pool = province.pool().await;
    drop_triggers(province, &pool, "dossier_events").await;
    let store = Store::connect(&province.url).await.unwrap();
    let mut events: Vec<EventRecord> = store.events(code).await.unwrap();
    events[0].note = "filed in person, no documents missing".into();
    events[0].payload_json = r#"{"waived":true}"#.into();
    let mut prev = audit::GENESIS.to_string();
    for event in &mut events {
        event.prev_hash = prev;
        event.hash = event.compute_hash();
        prev = event.hash.clone();
        sqlx::query(
            "UPDATE dossier_events SET note = $1, payload_json = $2, prev_hash = $3, hash = $4
             WHERE dossier_code = $5 AND seq = $6",
        )
        .bind(&event.note)
        .bind(&event.payload_json)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .bind(code)
        .bind(event.seq)
        .execute(&pool)
        .await
        .expect("rewrite an event");
    }
    let rewritten = store.events(code).await.unwrap();
    assert_eq!(
        audit::verify_chain(&rewritten),
        Ok(rewritten.len()),
        "the rewritten chain verifies on its own"
    );
    assert_eq!(rewritten[0].note, "filed in person, no documents missing");
    store.close().await;
    pool.close().await;
    prev
}

fn dossier_tampered_with_is_named_although_its_chain_was_recomputed(backend: Backend) {
    let province = Province::new(backend);
    let codes = block_on(write_trail(&province));
    let (private, public) = province.key_pair("province");

    // Cron after midnight, Friday's anchor: every chain, as it stood at Friday's end.
    let anchored = province.anchor("2026-02-13", &private);
    assert!(anchored.status.success(), "{}", text(&anchored));
    assert!(
        stdout(&anchored).contains("anchored 2026-02-13: 3 chain head(s) since the first event"),
        "{}",
        text(&anchored)
    );

    // Untouched: verified, and Monday's event is reported as not yet anchored.
    let clean = province.verify(&public);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let report = stdout(&clean);
    assert!(
        report.contains("checked 3 dossier(s), 6 event(s)"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "not yet anchored: dossier {} events 2..2",
            codes[2]
        )),
        "{report}"
    );
    assert!(!report.contains("MISMATCH"), "{report}");

    // A daily check names the day the anchors must reach: Friday's passes; expecting
    // Monday's (deleted, or never made) fails although nothing else is wrong.
    let public_key = public.to_str().unwrap();
    let through = |day: &str| {
        province.audit(&[
            "verify",
            "--public-key",
            public_key,
            "--anchored-through",
            day,
        ])
    };
    let reached = through("2026-02-13");
    assert_eq!(reached.status.code(), Some(0), "{}", text(&reached));
    let short = through("2026-02-16");
    assert_eq!(short.status.code(), Some(1), "{}", text(&short));
    assert!(
        stdout(&short).contains("FAILED: the anchors end at 2026-02-13, before 2026-02-16"),
        "{}",
        text(&short)
    );

    // The administrator rewrites the second dossier's filing and recomputes its chain.
    block_on(rewrite_history(&province, &codes[1]));
    let caught = province.verify(&public);
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught));
    let report = stdout(&caught);
    assert!(
        report.contains(&format!(
            "MISMATCH dossier {} event 2: does not match the anchor of 2026-02-13",
            codes[1]
        )),
        "{report}"
    );
    assert!(report.contains("FAILED: 1 mismatch(es)"), "{report}");
    for untouched in [&codes[0], &codes[2]] {
        assert!(
            !report.contains(&format!("MISMATCH dossier {untouched}")),
            "{report}"
        );
    }
}

fn rewritten_anchor_and_foreign_keys_are_refused(backend: Backend) {
    let province = Province::new(backend);
    let codes = block_on(write_trail(&province));
    let (private, public) = province.key_pair("province");
    let (_, stranger) = province.key_pair("stranger");
    let anchored = province.anchor("2026-02-16", &private);
    assert!(anchored.status.success(), "{}", text(&anchored));

    // A key that did not sign the anchors proves nothing.
    let foreign = province.verify(&stranger);
    assert_eq!(foreign.status.code(), Some(1), "{}", text(&foreign));
    assert!(
        stdout(&foreign).contains("MISMATCH anchor 2026-02-16: it is signed by key",)
            && stdout(&foreign).contains("which is not among the public keys given"),
        "{}",
        text(&foreign)
    );
    // No key at all: the chains and heads are checked, the answer is "incomplete".
    let keyless = province.audit(&["verify"]);
    assert_eq!(keyless.status.code(), Some(2), "{}", text(&keyless));
    assert!(
        stdout(&keyless).contains("INCOMPLETE"),
        "{}",
        text(&keyless)
    );

    // The administrator rewrites an event, recomputes its chain, and rewrites the anchor
    // to name the new head, its digests recomputed too: only the signature is left.
    let new_head = block_on(rewrite_history(&province, &codes[1]));
    block_on(async {
        let pool = province.pool().await;
        drop_triggers(&province, &pool, "audit_anchors").await;
        let store = Store::connect(&province.url).await.unwrap();
        let mut anchor = store
            .audit_anchor("2026-02-16")
            .await
            .unwrap()
            .expect("anchor");
        let mut heads = audit::anchor::parse_heads(&anchor.heads_json).unwrap();
        let head = heads
            .iter_mut()
            .find(|head| head.dossier_code == codes[1])
            .expect("the anchor names the dossier");
        head.hash = new_head;
        anchor.heads_json = audit::anchor::heads_json(&heads);
        anchor.heads_digest = audit::anchor::sha256_hex(anchor.heads_json.as_bytes());
        anchor.digest = audit::anchor::sha256_hex(audit::anchor::statement(&anchor).as_bytes());
        sqlx::query(
            "UPDATE audit_anchors SET heads_json = $1, heads_digest = $2, digest = $3 WHERE day = $4",
        )
        .bind(&anchor.heads_json)
        .bind(&anchor.heads_digest)
        .bind(&anchor.digest)
        .bind(&anchor.day)
        .execute(&pool)
        .await
        .expect("rewrite the anchor");
        store.close().await;
        pool.close().await;
    });
    let caught = province.verify(&public);
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught));
    let report = stdout(&caught);
    assert!(
        report.contains(
            "MISMATCH anchor 2026-02-16: its signature does not verify: it was changed after it was signed"
        ),
        "{report}"
    );
    assert!(
        !report.contains("MISMATCH dossier"),
        "the heads were made to match: {report}"
    );
}

fn a_day_is_anchored_once_however_many_hosts_anchor_it(backend: Backend) {
    let province = Province::new(backend);
    let (private, public) = province.key_pair("province");
    // A clean, empty database verifies.
    let migrated = motcua()
        .args(["migrate", "--database-url", &province.url])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{}", text(&migrated));
    let empty = province.verify(&public);
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty));
    assert!(
        stdout(&empty).contains("no anchors yet"),
        "{}",
        text(&empty)
    );

    block_on(write_trail(&province));

    // Two cron jobs anchor Friday at once: one anchor, both succeed.
    let spawn = || {
        motcua()
            .args([
                "audit",
                "anchor",
                "--day",
                "2026-02-13",
                "--database-url",
                &province.url,
            ])
            .arg("--audit-key-file")
            .arg(&private)
            .output()
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(spawn);
        let second = scope.spawn(spawn);
        (
            first.join().unwrap().unwrap(),
            second.join().unwrap().unwrap(),
        )
    });
    for output in [&first, &second] {
        assert!(output.status.success(), "{}", text(output));
    }
    let made = [&first, &second]
        .iter()
        .filter(|output| stdout(output).starts_with("anchored 2026-02-13"))
        .count();
    assert_eq!(made, 1, "{}\n{}", text(&first), text(&second));
    assert!(
        [&first, &second]
            .iter()
            .any(|output| stdout(output).contains("is anchored already")),
        "{}\n{}",
        text(&first),
        text(&second)
    );
    // A day is anchored only once it is over, and in order.
    let early = province.anchor("2999-01-01", &private);
    assert_eq!(early.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&early.stderr).contains("has not ended yet"));

    // Two serving hosts wake after midnight on Tuesday: Monday is anchored once.
    block_on(async {
        let key = motcua::audit::AnchorKey::read(&private).unwrap();
        let one = Host::start(&province, "2026-02-17 00:02", false).await;
        let two = Host::start(&province, "2026-02-17 00:02", false).await;
        let too_early = audit::anchor_due(&one.state.store, &key, one.state.clock.now(), "one")
            .await
            .unwrap();
        assert!(
            too_early.is_none(),
            "anchored within the grace after midnight"
        );
        let now = civil("2026-02-17 00:10");
        let (a, b) = tokio::join!(
            audit::anchor_due(&one.state.store, &key, now, "host one"),
            audit::anchor_due(&two.state.store, &key, now, "host two"),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let made: Vec<_> = outcomes
            .iter()
            .flatten()
            .filter(|outcome| matches!(outcome, audit::Anchored::Made(_)))
            .collect();
        assert_eq!(made.len(), 1, "{outcomes:?}");
        assert_eq!(made[0].anchor().day, "2026-02-16");
        assert_eq!(made[0].anchor().heads, 1, "Monday moved one chain");
        let anchors = one.state.store.audit_anchors().await.unwrap();
        assert_eq!(
            anchors.iter().map(|a| a.day.as_str()).collect::<Vec<_>>(),
            ["2026-02-13", "2026-02-16"]
        );
        // Later in the day there is nothing more to do.
        let later = audit::anchor_due(&two.state.store, &key, civil("2026-02-17 18:00"), "two")
            .await
            .unwrap();
        assert!(later.is_none());
        one.stop().await;
        two.stop().await;
    });
    let verified = province.verify(&public);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(
        stdout(&verified).contains("2 anchor(s), 2026-02-13 through 2026-02-16"),
        "{}",
        text(&verified)
    );
    assert!(
        !stdout(&verified).contains("not yet anchored"),
        "{}",
        text(&verified)
    );
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() { super::$name(super::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test]
            fn $name() { super::$name(super::Backend::Postgres) })*
        }
    };
}

on_both_backends!(
    dossier_tampered_with_is_named_although_its_chain_was_recomputed,
    rewritten_anchor_and_foreign_keys_are_refused,
    a_day_is_anchored_once_however_many_hosts_anchor_it,
);
