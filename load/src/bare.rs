//! The baseline: a bare axum + sqlx server doing the writes of a dossier action and a
//! filing the naive way, one transaction per request on a pooled connection, with the
//! same database settings as motcua (SQLite in WAL with `synchronous = NORMAL` and a
//! busy timeout, 8 connections; PostgreSQL with 16).
//!
//! - `POST /dossiers` `{"unit": ..., "form": {...}}`: the unit's daily sequence row
//!   advanced, the dossier inserted, its first event chained to the genesis hash.
//! - `POST /dossiers/{code}/actions` with `If-Match: <version>` and `{"action": ...}`:
//!   the version checked, the row updated under it, the event chained to the last one.

use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Bare {
    pool: AnyPool,
    sqlite: bool,
}

/// Serves the baseline on `listen` over `database` until the process is stopped.
pub async fn serve(database: &str, listen: &str) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let sqlite = database.starts_with("sqlite:");
    let url = if sqlite && !database.contains("mode=") {
        format!("{database}?mode=rwc")
    } else {
        database.to_string()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 8 } else { 16 })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                }
                Ok(())
            })
        })
        .connect_with(AnyConnectOptions::from_str(&url)?)
        .await?;
    for statement in [
        "CREATE TABLE IF NOT EXISTS bare_sequences (unit TEXT NOT NULL, day TEXT NOT NULL, last BIGINT NOT NULL, PRIMARY KEY (unit, day))",
        "CREATE TABLE IF NOT EXISTS bare_dossiers (code TEXT PRIMARY KEY, unit TEXT NOT NULL, form_json TEXT NOT NULL,
             step TEXT NOT NULL, version BIGINT NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bare_events (dossier_code TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL,
             action TEXT NOT NULL, payload_json TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
             PRIMARY KEY (dossier_code, seq))",
    ] {
        sqlx::query(statement).execute(&pool).await?;
    }
    let state = Arc::new(Bare { pool, sqlite });
    let app = Router::new()
        .route("/dossiers", post(file))
        .route("/dossiers/{code}/actions", post(act))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

fn chain(prev_hash: &str, code: &str, seq: i64, at: &str, action: &str, payload: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [prev_hash, code, &seq.to_string(), at, action, payload] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn failed(error: impl std::fmt::Display) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
}

async fn begin(bare: &Bare) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    if bare.sqlite {
        bare.pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        bare.pool.begin().await
    }
}

async fn file(State(bare): State<Arc<Bare>>, Json(body): Json<Value>) -> Response {
    let unit = body["unit"].as_str().unwrap_or("unit").to_string();
    let form = body["form"].to_string();
    let now = chrono::Local::now();
    let at = now.to_rfc3339();
    let day = now.format("%Y-%m-%d").to_string();
    let result: Result<String, sqlx::Error> = async {
        let mut tx = begin(&bare).await?;
        let last: i64 = sqlx::query(
            "INSERT INTO bare_sequences (unit, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (unit, day) DO UPDATE SET last = bare_sequences.last + 1 RETURNING last",
        )
        .bind(&unit)
        .bind(&day)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let code = format!("{unit}-{}-{last:04}", now.format("%y%m%d"));
        sqlx::query(
            "INSERT INTO bare_dossiers (code, unit, form_json, step, version, updated_at) VALUES ($1, $2, $3, 'submitted', 1, $4)",
        )
        .bind(&code)
        .bind(&unit)
        .bind(&form)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let hash = chain(GENESIS, &code, 1, &at, "submit", &form);
        sqlx::query(
            "INSERT INTO bare_events (dossier_code, seq, at, action, payload_json, prev_hash, hash) VALUES ($1, 1, $2, 'submit', $3, $4, $5)",
        )
        .bind(&code)
        .bind(&at)
        .bind(&form)
        .bind(GENESIS)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(code)
    }
    .await;
    match result {
        Ok(code) => (
            StatusCode::CREATED,
            Json(json!({ "code": code, "version": 1 })),
        )
            .into_response(),
        Err(error) => failed(error),
    }
}

async fn act(
    State(bare): State<Arc<Bare>>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(expected) = headers
        .get("if-match")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim_matches('"').parse::<i64>().ok())
    else {
        return (StatusCode::PRECONDITION_REQUIRED, "If-Match").into_response();
    };
    let action = body["action"].as_str().unwrap_or("act").to_string();
    let payload = body["payload"].to_string();
    let at = chrono::Local::now().to_rfc3339();
    let result: Result<Option<i64>, sqlx::Error> = async {
        let mut tx = begin(&bare).await?;
        let current = sqlx::query("SELECT version FROM bare_dossiers WHERE code = $1")
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.get::<i64, _>(0));
        if current != Some(expected) {
            tx.rollback().await?;
            return Ok(None);
        }
        let last = sqlx::query(
            "SELECT seq, hash FROM bare_events WHERE dossier_code = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(&code)
        .fetch_one(&mut *tx)
        .await?;
        let (seq, prev): (i64, String) = (last.get::<i64, _>(0) + 1, last.get(1));
        let changed = sqlx::query(
            "UPDATE bare_dossiers SET step = $1, version = version + 1, updated_at = $2 WHERE code = $3 AND version = $4",
        )
        .bind(&action)
        .bind(&at)
        .bind(&code)
        .bind(expected)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let hash = chain(&prev, &code, seq, &at, &action, &payload);
        sqlx::query(
            "INSERT INTO bare_events (dossier_code, seq, at, action, payload_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&code)
        .bind(seq)
        .bind(&at)
        .bind(&action)
        .bind(&payload)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(expected + 1))
    }
    .await;
    match result {
        Ok(Some(version)) => Json(json!({ "code": code, "version": version })).into_response(),
        Ok(None) => (StatusCode::CONFLICT, "stale version").into_response(),
        Err(error) => failed(error),
    }
}
