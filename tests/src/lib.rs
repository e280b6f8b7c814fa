//! Test harness: starts the real motcua server on a free loopback port against a
//! fresh database (a new SQLite file, or a new PostgreSQL database on the local
//! server) with the real plugins built from `plugins/`, and talks to it over HTTP.

pub mod browser;
pub mod raw;
pub mod scenarios;
pub mod storage;

pub use storage::{Storage, delete_object, overwrite_object, raw_keys, storage_config};

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDateTime;
use motcua::api::{self, AppState, FrontDoor};
use motcua::app::{self, Config};
use motcua::clock::Clock;
use motcua::documents::StorageConfig;
use motcua::runtime::SandboxLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use; CI starts it (see .ci/run).
pub fn postgres_admin_url() -> String {
    std::env::var("MOTCUA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Clock,
    pub backend: Backend,
    pub database_url: String,
    /// Where this server (and its restarts and second hosts) keeps the files of
    /// dossiers: by default `documents/` in the test's temporary directory.
    pub storage: StorageConfig,
    _dir: tempfile::TempDir,
    postgres_database: Option<String>,
    server: tokio::task::JoinHandle<()>,
    /// The front door this server (and its restarts and second hosts) serve behind.
    pub front_door: FrontDoor,
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(Backend)`, in
/// modules `sqlite` and `postgres`, so every test reads as one scenario run twice.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::Backend::Postgres).await })*
        }
    };
}

/// Generates four `#[tokio::test]`s for each named `async fn(Backend, Storage)`, in
/// modules `sqlite_directory`, `sqlite_s3`, `postgres_directory` and `postgres_s3`:
/// every database with every kind of document store.
#[macro_export]
macro_rules! storages_and_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_directory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Backend::Sqlite, $crate::Storage::Directory).await
            })*
        }
        mod sqlite_s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Backend::Sqlite, $crate::Storage::S3).await
            })*
        }
        mod postgres_directory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Backend::Postgres, $crate::Storage::Directory).await
            })*
        }
        mod postgres_s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Backend::Postgres, $crate::Storage::S3).await
            })*
        }
    };
}

/// The demo province's publisher, as the registry sees them.
pub fn publisher() -> motcua::domain::Actor {
    motcua::domain::Actor {
        id: "phu-tho-publisher".into(),
        role: motcua::domain::Role::Publisher,
        unit: "phu-tho".into(),
    }
}

/// Parses "2026-02-13 09:00" as civil time.
pub fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time as YYYY-MM-DD HH:MM")
}

/// A fresh database URL for the backend, and the PostgreSQL database name to drop.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("motcua.db").display()),
            None,
        ),
        Backend::Postgres => {
            let name = format!(
                "motcua_e2e_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                chrono::Utc::now().timestamp_micros() % 1_000_000
            );
            let admin = postgres_admin_url();
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
            let base = admin
                .rsplit_once('/')
                .map(|(base, _)| base.to_string())
                .expect("admin URL has a database");
            (format!("{base}/{name}"), Some(name))
        }
    }
}

impl TestServer {
    /// Starts a server seeded with the demo province, its clock standing at `now`.
    pub async fn start(backend: Backend, now: &str) -> TestServer {
        TestServer::start_with(backend, now, SandboxLimits::default()).await
    }

    pub async fn start_with(backend: Backend, now: &str, limits: SandboxLimits) -> TestServer {
        TestServer::start_with_front_door(backend, now, limits, FrontDoor::without_quotas()).await
    }

    /// Starts a server behind `front_door` instead of the harness's (the defaults
    /// without rate quotas: the tests file hundreds of dossiers from one address).
    pub async fn start_with_front_door(
        backend: Backend,
        now: &str,
        limits: SandboxLimits,
        front_door: FrontDoor,
    ) -> TestServer {
        TestServer::launch(backend, Storage::Directory, now, limits, front_door).await
    }

    /// Starts a server (as `start` does) whose files of dossiers live in `storage`: a
    /// directory in the test's temporary directory, or a fresh bucket on the S3 test
    /// server.
    pub async fn start_with_storage(backend: Backend, storage: Storage, now: &str) -> TestServer {
        TestServer::launch(
            backend,
            storage,
            now,
            SandboxLimits::default(),
            FrontDoor::without_quotas(),
        )
        .await
    }

    async fn launch(
        backend: Backend,
        storage: Storage,
        now: &str,
        limits: SandboxLimits,
        front_door: FrontDoor,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, postgres_database) = fresh_database(backend, dir.path()).await;
        let storage = storage_config(storage, dir.path()).await;
        let clock = Clock::manual(at(now));
        let config = Config {
            limits,
            cache_dir: Some(dir.path().join("cache")),
            front_door: front_door.clone(),
            storage: Some(storage.clone()),
            ..Config::new(database_url.clone())
        };
        let state = app::build_state(&config, clock.clone())
            .await
            .expect("server state");
        motcua::demo::seed(&state)
            .await
            .expect("seed demo province");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = serve(listener, &state, &config);
        TestServer {
            base,
            client: http_client(),
            state,
            clock,
            backend,
            database_url,
            storage,
            _dir: dir,
            postgres_database,
            server,
            front_door,
        }
    }

    /// Stops this server and starts a new one on the same database and compiled-plugin
    /// cache, as an operator's restart would (the demo seed is not run again).
    pub async fn restart(mut self) -> TestServer {
        self.server.abort();
        let _ = (&mut self.server).await;
        self.state.store.close().await;
        let (base, state, server) = self.host_on_same_database("restart").await;
        TestServer {
            base,
            state,
            server,
            ..self
        }
    }

    /// Builds a host on this server's database and compiled-plugin cache and serves it
    /// on a new loopback port.
    async fn host_on_same_database(
        &self,
        why: &str,
    ) -> (String, AppState, tokio::task::JoinHandle<()>) {
        let config = Config {
            limits: self.state.runtime.limits().clone(),
            cache_dir: Some(self.cache_dir()),
            front_door: self.front_door.clone(),
            storage: Some(self.storage.clone()),
            ..Config::new(self.database_url.clone())
        };
        let state = app::build_state(&config, self.clock.clone())
            .await
            .unwrap_or_else(|error| panic!("server state ({why}): {error:#}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = serve(listener, &state, &config);
        (base, state, server)
    }

    /// Another host on the same database and compiled-plugin cache, as a second server
    /// process would be: its own state, registry and router, sharing the clock; nothing
    /// is seeded. `finish` on it stops it and leaves the database to the first.
    pub async fn second_host(&self) -> TestServer {
        let (base, state, server) = self.host_on_same_database("second host").await;
        TestServer {
            base,
            client: http_client(),
            state,
            clock: self.clock.clone(),
            backend: self.backend,
            database_url: self.database_url.clone(),
            storage: self.storage.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
            postgres_database: None,
            server,
            front_door: self.front_door.clone(),
        }
    }

    /// Publishes a bundled plugin and pilots it at `units`, as the province's publisher
    /// would, at civil time `at` (RFC 3339); returns the build's sha256.
    pub async fn pilot(&self, stem: &str, units: &[&str], at: &str) -> String {
        let (build, _) = self
            .state
            .registry
            .publish(plugin_bytes(stem), &publisher(), at)
            .await
            .unwrap_or_else(|error| panic!("publish {stem}: {error}"));
        self.state
            .registry
            .rollout(
                &build.info.code,
                &build.sha256,
                motcua::registry::Scope::Pilot(units.iter().map(|u| u.to_string()).collect()),
                &publisher(),
                at,
            )
            .await
            .unwrap_or_else(|error| panic!("pilot {stem} at {units:?}: {error}"));
        build.sha256.clone()
    }

    /// The directory of the compiled-plugin cache.
    pub fn cache_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("cache")
    }

    /// Posts raw bytes (a component) with a token.
    pub async fn post_bytes(&self, path: &str, token: &str, bytes: Vec<u8>) -> Response {
        self.request(
            reqwest::Method::POST,
            path,
            Some(token),
            &[("content-type", "application/wasm".to_string())],
            Some(bytes),
        )
        .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(
            reqwest::Method::PUT,
            path,
            token,
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub fn set_time(&self, now: &str) {
        self.clock.set(at(now));
    }

    /// Sends a request; returns status, content type and the JSON body (Null if none).
    /// A body is sent as JSON unless `headers` give another content type.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            let typed = headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
            if !typed {
                request = request.header("content-type", "application/json");
            }
            request = request.body(body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            content_type,
            body,
        }
    }

    /// `PUT`s a file's bytes (`application/octet-stream`) to `path`: a document's or a
    /// result's upload, by staff (`token`) or a citizen (`x-tracking-secret` in `headers`).
    pub async fn put_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, String)],
        bytes: &[u8],
    ) -> Response {
        let mut headers = headers.to_vec();
        headers.push(("content-type", "application/octet-stream".to_string()));
        self.request(
            reqwest::Method::PUT,
            path,
            token,
            &headers,
            Some(bytes.to_vec()),
        )
        .await
    }

    /// `GET /metrics` as text, checked to be OpenMetrics.
    pub async fn scrape(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
        response.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(reqwest::Method::GET, path, token, &[], None)
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(
            reqwest::Method::POST,
            path,
            token,
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Files a dossier; panics unless it is accepted.
    pub async fn file(&self, token: Option<&str>, body: &Value) -> Filed {
        let response = self.post("/api/v1/dossiers", token, body).await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "filing failed: {}",
            response.body
        );
        Filed {
            code: response.body["code"].as_str().expect("code").to_string(),
            secret: response.body["tracking_secret"]
                .as_str()
                .expect("secret")
                .to_string(),
        }
    }

    /// Takes an action as staff at the dossier's current version; returns the response.
    pub async fn act(
        &self,
        token: &str,
        code: &str,
        action: &str,
        note: &str,
        payload: Value,
    ) -> Response {
        let version = self.version(token, code).await;
        self.act_at(Some(token), &[], code, version, action, note, payload)
            .await
    }

    /// Takes an action as the citizen holding the tracking secret.
    pub async fn act_as_citizen(
        &self,
        secret: &str,
        code: &str,
        action: &str,
        payload: Value,
    ) -> Response {
        let version = self.track(code, secret).await.body["version"]
            .as_i64()
            .expect("version");
        self.act_at(
            None,
            &[("x-tracking-secret", secret.to_string())],
            code,
            version,
            action,
            "",
            payload,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn act_at(
        &self,
        token: Option<&str>,
        headers: &[(&str, String)],
        code: &str,
        version: i64,
        action: &str,
        note: &str,
        payload: Value,
    ) -> Response {
        let mut headers = headers.to_vec();
        headers.push(("if-match", format!("\"{version}\"")));
        let body = json!({ "action": action, "note": note, "payload": payload });
        self.request(
            reqwest::Method::POST,
            &format!("/api/v1/dossiers/{code}/actions"),
            token,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Takes an action and asserts it succeeded; returns the new dossier view.
    pub async fn act_ok(&self, token: &str, code: &str, action: &str, payload: Value) -> Value {
        let response = self.act(token, code, action, "", payload).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{action} on {code} failed: {}",
            response.body
        );
        response.body
    }

    pub async fn version(&self, token: &str, code: &str) -> i64 {
        let response = self
            .get(&format!("/api/v1/dossiers/{code}"), Some(token))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.body["version"].as_i64().expect("version")
    }

    pub async fn dossier(&self, token: &str, code: &str) -> Value {
        let response = self
            .get(&format!("/api/v1/dossiers/{code}"), Some(token))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.body
    }

    pub async fn track(&self, code: &str, secret: &str) -> Response {
        self.get(&format!("/api/v1/track/{code}?secret={secret}"), None)
            .await
    }

    /// Rows in the dossier tables: (dossiers, events, documents).
    pub async fn row_counts(&self) -> (i64, i64, i64) {
        self.state.store.row_counts().await.expect("row counts")
    }

    /// Stops the server and drops the test database.
    pub async fn finish(self) {
        self.server.abort();
        let _ = self.server.await;
        self.state.store.close().await;
        if let Some(name) = self.postgres_database {
            if let Ok(mut connection) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let _ = connection
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        }
    }
}

/// A client whose idle connections retire before the server's header-read timeout
/// closes them, so a request never races the server closing its connection.
/// The value of the sample in a scrape (`TestServer::scrape`) whose line starts with
/// `series` (name and labels).
pub fn metric_sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(4))
        .build()
        .expect("HTTP client")
}

/// Serves the API as `motcua serve` does (the same accept loop and front door) until
/// the returned task is aborted.
fn serve(
    listener: tokio::net::TcpListener,
    state: &AppState,
    config: &Config,
) -> tokio::task::JoinHandle<()> {
    let router = api::app(state.clone());
    let front_door = config.front_door.clone();
    let max_plugin_bytes = config.max_plugin_bytes;
    tokio::spawn(async move {
        let _ = api::serve_with(
            listener,
            router,
            &front_door,
            max_plugin_bytes,
            std::future::pending(),
        )
        .await;
    })
}

pub struct Filed {
    pub code: String,
    pub secret: String,
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Response {
    /// Asserts an RFC 9457 problem with this status; returns its body.
    pub fn problem(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "unexpected response: {}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "problem content type"
        );
        assert_eq!(
            self.body["status"].as_u64(),
            Some(u64::from(status.as_u16())),
            "problem status field"
        );
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:motcua:problem:")),
            "problem type"
        );
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "problem detail"
        );
        &self.body
    }
}

/// A component built from `plugins/` by the host's build script, by artifact stem.
pub fn plugin_bytes(stem: &str) -> Vec<u8> {
    motcua::bundled::built_plugin(stem)
        .unwrap_or_else(|error| panic!("plugin {stem} was not built: {error}"))
}

/// The same component with a custom section appended: other bytes, same code.
pub fn with_custom_section(mut component: Vec<u8>, name: &str, payload_len: usize) -> Vec<u8> {
    fn leb128(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut content = Vec::new();
    leb128(name.len(), &mut content);
    content.extend_from_slice(name.as_bytes());
    content.extend(std::iter::repeat_n(0u8, payload_len));
    component.push(0);
    leb128(content.len(), &mut component);
    component.extend_from_slice(&content);
    component
}

/// A realistic document's metadata.
pub fn document(kind: &str, name: &str) -> Value {
    use sha2::Digest;
    json!({
        "kind": kind,
        "name": name,
        "sha256": hex::encode(sha2::Sha256::digest(name.as_bytes())),
        "size": 48_213,
        "digitized": true,
    })
}
