//! The store: the only part of motcua that knows SQL.
//!
//! One code path serves both backends through sqlx's `Any` driver: every statement
//! is written in the SQL common to SQLite and PostgreSQL with `$n` placeholders, and
//! values cross as text, integers and bytes. Each backend has its own migrations.
//! A dossier's state change, its new documents and its audit event are written in
//! one transaction, guarded by the dossier's version number.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

use crate::audit::{EventRecord, GENESIS};
use crate::domain::{Applicant, Channel, Document, ResultDocument, Status};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL `{0}` is not understood; use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error("the dossier changed since version {expected}; reload it and try again")]
    VersionConflict { expected: i64 },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub agency_id: String,
    /// Cut-off hour as "HH:MM"; dossiers received later count from the next working day.
    pub cutoff: String,
}

#[derive(Clone, Debug)]
pub struct StoredBuild {
    pub sha256: String,
    /// The plugin's own code: the procedure code, or `<procedure>/<variant>` for a variant.
    pub procedure_code: String,
    pub variant_of: Option<String>,
    pub version: String,
    pub size: i64,
    pub bytes: Vec<u8>,
    pub info_json: String,
    pub published_by: String,
    pub published_at: String,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub unit: String,
    /// The national procedure code (a variant binds under the procedure it varies).
    pub procedure_code: String,
    pub build_sha256: String,
    pub settings_json: String,
    pub enabled: bool,
    /// `default`, `pilot` or `variant`.
    pub source: String,
}

/// One registry change for the audit: who, when, what, before and after.
#[derive(Clone, Debug)]
pub struct RegistryEvent {
    pub at: String,
    pub actor_id: String,
    pub actor_role: String,
    pub action: String,
    pub procedure_code: Option<String>,
    pub unit: Option<String>,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

#[derive(Clone, Debug)]
pub struct RolloutRecord {
    pub id: i64,
    pub procedure_code: String,
    pub build_sha256: String,
    pub scope: String,
    pub units: Vec<String>,
    pub actor_id: String,
    pub at: String,
    pub rolled_back_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ActorRecord {
    pub id: String,
    pub unit: String,
    pub role: String,
    pub name: String,
}

/// A dossier row with its documents.
#[derive(Clone, Debug)]
pub struct DossierRecord {
    pub code: String,
    pub procedure_code: String,
    pub build_sha256: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub step: String,
    pub status: Status,
    pub submitted_at: String,
    pub received_at: Option<String>,
    pub clock_started_at: Option<String>,
    pub due_date: Option<String>,
    pub supplement_count: i64,
    pub extension_count: i64,
    pub fees_requested_vnd: i64,
    pub fees_paid_vnd: i64,
    pub paid_online: bool,
    pub result: Option<ResultDocument>,
    pub settled_at: Option<String>,
    pub returned_at: Option<String>,
    pub tracking_secret_hash: String,
    pub version: i64,
    pub updated_at: String,
    pub documents: Vec<Document>,
}

/// What filing writes: the dossier (its code is allocated inside the transaction).
#[derive(Clone, Debug)]
pub struct NewDossier {
    pub procedure_code: String,
    pub build_sha256: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub step: String,
    pub status: Status,
    pub submitted_at: String,
    pub tracking_secret_hash: String,
    pub documents: Vec<Document>,
}

/// An audit event before it is chained (the store fills `seq`, `prev_hash`, `hash`).
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub at: String,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_unit: String,
    pub action: String,
    pub from_step: Option<String>,
    pub to_step: String,
    pub from_status: Option<i64>,
    pub to_status: i64,
    pub note: String,
    pub payload_json: String,
}

/// The mutable part of a dossier after an action.
#[derive(Clone, Debug)]
pub struct DossierUpdate {
    pub step: String,
    pub status: Status,
    pub received_at: Option<String>,
    pub clock_started_at: Option<String>,
    pub due_date: Option<String>,
    pub supplement_count: i64,
    pub extension_count: i64,
    pub fees_requested_vnd: i64,
    pub fees_paid_vnd: i64,
    pub paid_online: bool,
    pub result: Option<ResultDocument>,
    pub settled_at: Option<String>,
    pub returned_at: Option<String>,
    pub updated_at: String,
    pub new_documents: Vec<Document>,
}

#[derive(Clone, Debug)]
pub struct InboxQuery {
    pub unit: String,
    pub status: Option<Status>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Clone, Debug)]
pub struct InboxRow {
    pub code: String,
    pub procedure_code: String,
    pub step: String,
    pub status: Status,
    pub applicant_name: String,
    pub channel: String,
    pub submitted_at: String,
    pub due_date: Option<String>,
    pub version: i64,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, creating (SQLite) and migrating the database as needed.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::BadUrl(url.clone()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; NORMAL sync is durable
                        // across application crashes and fast; foreign keys are off by default.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. SQLite takes the write lock up front so two writers
    /// never deadlock upgrading read locks; PostgreSQL locks rows as it goes.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    // ---- units -------------------------------------------------------------------

    pub async fn upsert_unit(&self, unit: &Unit) -> Result<()> {
        sqlx::query(
            "INSERT INTO units (code, name, parent, agency_id, cutoff) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent,
                 agency_id = excluded.agency_id, cutoff = excluded.cutoff",
        )
        .bind(&unit.code)
        .bind(&unit.name)
        .bind(&unit.parent)
        .bind(&unit.agency_id)
        .bind(&unit.cutoff)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn unit(&self, code: &str) -> Result<Option<Unit>> {
        let row =
            sqlx::query("SELECT code, name, parent, agency_id, cutoff FROM units WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(unit_from_row))
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows =
            sqlx::query("SELECT code, name, parent, agency_id, cutoff FROM units ORDER BY code")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(unit_from_row).collect())
    }

    // ---- plugin builds and bindings ---------------------------------------------------

    /// Stores a build; storing the same bytes again is a no-op. Other bytes under an
    /// existing (procedure, version) are a conflict: a version never names two builds.
    pub async fn insert_build(&self, build: &StoredBuild, event: &RegistryEvent) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(
            "SELECT sha256 FROM plugin_builds WHERE procedure_code = $1 AND version = $2",
        )
        .bind(&build.procedure_code)
        .bind(&build.version)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let sha: String = row.get(0);
            tx.rollback().await?;
            if sha == build.sha256 {
                return Ok(false);
            }
            return Err(StoreError::Conflict(format!(
                "{} {} is already published as build {sha}; publish a new version instead",
                build.procedure_code, build.version
            )));
        }
        let inserted = sqlx::query(
            "INSERT INTO plugin_builds (sha256, procedure_code, version, wit_version, size, bytes, info_json, published_by, published_at, variant_of)
             VALUES ($1, $2, $3, '0.1.0', $4, $5, $6, $7, $8, $9)",
        )
        .bind(&build.sha256)
        .bind(&build.procedure_code)
        .bind(&build.version)
        .bind(build.size)
        .bind(&build.bytes)
        .bind(&build.info_json)
        .bind(&build.published_by)
        .bind(&build.published_at)
        .bind(&build.variant_of)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                // Another host published the same version between our check and insert.
                tx.rollback().await?;
                return Err(StoreError::Conflict(format!(
                    "{} {} was just published by another request; publish again to see which build it is",
                    build.procedure_code, build.version
                )));
            }
            Err(error) => return Err(error.into()),
        }
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn builds(&self) -> Result<Vec<StoredBuild>> {
        let rows = sqlx::query(
            "SELECT sha256, procedure_code, version, size, bytes, info_json, published_by, published_at, variant_of
             FROM plugin_builds ORDER BY procedure_code, published_at",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| StoredBuild {
                sha256: row.get(0),
                procedure_code: row.get(1),
                version: row.get(2),
                size: row.get(3),
                bytes: row.get(4),
                info_json: row.get(5),
                published_by: row.get(6),
                published_at: row.get(7),
                variant_of: row.get(8),
            })
            .collect())
    }

    /// Writes one unit's binding and its audit event in one transaction.
    /// Who published each build and when, without the bytes: (sha256, by, at).
    pub async fn publications(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT sha256, published_by, published_at FROM plugin_builds ORDER BY procedure_code, published_at",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    /// The sha256 of every stored build (cheap: no bytes).
    pub async fn build_shas(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT sha256 FROM plugin_builds")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// One stored build's bytes.
    pub async fn build_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT bytes FROM plugin_builds WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.get(0)))
    }

    /// Whether a procedure was ever rolled out (rolled back or not).
    pub async fn has_rollouts(&self, procedure_code: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM rollouts WHERE procedure_code = $1 LIMIT 1")
                .bind(procedure_code)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    pub async fn set_binding(&self, binding: &Binding, event: &RegistryEvent) -> Result<()> {
        let mut tx = self.begin_write().await?;
        upsert_binding(&mut tx, binding).await?;
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn province_defaults(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT procedure_code, build_sha256 FROM province_defaults ORDER BY procedure_code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    /// Applies a rollout: the new bindings of the affected units and, for a rollout to
    /// all units, the new province default, with the previous state kept for rollback.
    pub async fn apply_rollout(
        &self,
        rollout: &RolloutRecord,
        bindings: &[Binding],
        new_default: Option<&str>,
        event: &RegistryEvent,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let previous_default: Option<String> =
            sqlx::query("SELECT build_sha256 FROM province_defaults WHERE procedure_code = $1")
                .bind(&rollout.procedure_code)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.get(0));
        let mut previous_units = serde_json::Map::new();
        for binding in bindings {
            let row = sqlx::query(
                "SELECT build_sha256, source, enabled FROM bindings WHERE unit = $1 AND procedure_code = $2",
            )
            .bind(&binding.unit)
            .bind(&binding.procedure_code)
            .fetch_optional(&mut *tx)
            .await?;
            let previous = row.map(|row| {
                serde_json::json!({
                    "build": row.get::<String, _>(0),
                    "source": row.get::<String, _>(1),
                    "enabled": row.get::<i64, _>(2) != 0,
                })
            });
            if previous
                .as_ref()
                .is_some_and(|row| row["source"] == "variant")
            {
                // A unit on a local variant keeps it, whatever the caller saw before.
                continue;
            }
            previous_units.insert(
                binding.unit.clone(),
                previous.unwrap_or(serde_json::Value::Null),
            );
            // Only the build and its source change: the unit's settings and whether it
            // offers the procedure stay the unit's own.
            sqlx::query(
                "INSERT INTO bindings (unit, procedure_code, build_sha256, settings_json, enabled, source)
                 VALUES ($1, $2, $3, '{}', 1, $4)
                 ON CONFLICT (unit, procedure_code) DO UPDATE SET build_sha256 = excluded.build_sha256,
                     source = excluded.source",
            )
            .bind(&binding.unit)
            .bind(&binding.procedure_code)
            .bind(&binding.build_sha256)
            .bind(&binding.source)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(sha) = new_default {
            sqlx::query(
                "INSERT INTO province_defaults (procedure_code, build_sha256) VALUES ($1, $2)
                 ON CONFLICT (procedure_code) DO UPDATE SET build_sha256 = excluded.build_sha256",
            )
            .bind(&rollout.procedure_code)
            .bind(sha)
            .execute(&mut *tx)
            .await?;
        }
        let previous = serde_json::json!({
            "default": previous_default,
            "default_changed": new_default.is_some(),
            "units": previous_units,
        });
        let id: i64 = sqlx::query(
            "INSERT INTO rollouts (procedure_code, build_sha256, scope, units_json, previous_json, actor_id, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&rollout.procedure_code)
        .bind(&rollout.build_sha256)
        .bind(&rollout.scope)
        .bind(serde_json::to_string(&rollout.units).expect("units serialise"))
        .bind(previous.to_string())
        .bind(&rollout.actor_id)
        .bind(&rollout.at)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let mut event = event.clone();
        event.before = previous;
        insert_registry_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Undoes the latest rollout of a procedure that is not undone yet: every unit it
    /// touched gets its previous binding back, and so does the province default.
    /// Returns the rollout undone, or `None` when there is nothing to roll back.
    pub async fn rollback(
        &self,
        procedure_code: &str,
        event: &RegistryEvent,
    ) -> Result<Option<RolloutRecord>> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, build_sha256, scope, units_json, previous_json, actor_id, at FROM rollouts
             WHERE procedure_code = $1 AND rolled_back_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(procedure_code)
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let id: i64 = row.get(0);
        let units_json: String = row.get(3);
        let previous_json: String = row.get(4);
        let previous: serde_json::Value = serde_json::from_str(&previous_json)
            .map_err(|_| StoreError::Corrupt(format!("rollout {id}")))?;
        if let Some(units) = previous["units"].as_object() {
            for (unit, before) in units {
                // Only a binding still as the rollout left it is restored: a unit that has
                // since chosen a variant keeps its choice, and settings and the enabled
                // flag stay the unit admin's.
                let rollout_build: String = row.get(1);
                if before.is_null() {
                    sqlx::query(
                        "DELETE FROM bindings WHERE unit = $1 AND procedure_code = $2 AND build_sha256 = $3 AND source <> 'variant'",
                    )
                    .bind(unit)
                    .bind(procedure_code)
                    .bind(&rollout_build)
                    .execute(&mut *tx)
                    .await?;
                    continue;
                }
                sqlx::query(
                    "UPDATE bindings SET build_sha256 = $1, source = $2
                     WHERE unit = $3 AND procedure_code = $4 AND build_sha256 = $5 AND source <> 'variant'",
                )
                .bind(before["build"].as_str().unwrap_or_default())
                .bind(before["source"].as_str().unwrap_or("default"))
                .bind(unit)
                .bind(procedure_code)
                .bind(&rollout_build)
                .execute(&mut *tx)
                .await?;
            }
        }
        if previous["default_changed"].as_bool() == Some(true) {
            match previous["default"].as_str() {
                Some(sha) => {
                    sqlx::query(
                        "UPDATE province_defaults SET build_sha256 = $1 WHERE procedure_code = $2",
                    )
                    .bind(sha)
                    .bind(procedure_code)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM province_defaults WHERE procedure_code = $1")
                        .bind(procedure_code)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let marked = sqlx::query(
            "UPDATE rollouts SET rolled_back_at = $1 WHERE id = $2 AND rolled_back_at IS NULL",
        )
        .bind(&event.at)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked != 1 {
            // Another host undid this rollout between our read and our write.
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "rollout {id} was rolled back concurrently; try again"
            )));
        }
        let record = RolloutRecord {
            id,
            procedure_code: procedure_code.to_string(),
            build_sha256: row.get(1),
            scope: row.get(2),
            units: serde_json::from_str(&units_json).unwrap_or_default(),
            actor_id: row.get(5),
            at: row.get(6),
            rolled_back_at: Some(event.at.clone()),
        };
        let mut event = event.clone();
        event.before = serde_json::json!({ "rollout": id, "build": record.build_sha256, "units": record.units });
        event.after = previous;
        insert_registry_event(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    pub async fn rollouts(&self, procedure_code: &str) -> Result<Vec<RolloutRecord>> {
        let rows = sqlx::query(
            "SELECT id, build_sha256, scope, units_json, actor_id, at, rolled_back_at FROM rollouts
             WHERE procedure_code = $1 ORDER BY id DESC",
        )
        .bind(procedure_code)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| RolloutRecord {
                id: row.get(0),
                procedure_code: procedure_code.to_string(),
                build_sha256: row.get(1),
                scope: row.get(2),
                units: serde_json::from_str(&row.get::<String, _>(3)).unwrap_or_default(),
                actor_id: row.get(4),
                at: row.get(5),
                rolled_back_at: row.get(6),
            })
            .collect())
    }

    /// The registry's audit trail, newest first.
    pub async fn registry_events(&self, limit: i64) -> Result<Vec<RegistryEvent>> {
        let rows = sqlx::query(
            "SELECT at, actor_id, actor_role, action, procedure_code, unit, before_json, after_json
             FROM registry_events ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| RegistryEvent {
                at: row.get(0),
                actor_id: row.get(1),
                actor_role: row.get(2),
                action: row.get(3),
                procedure_code: row.get(4),
                unit: row.get(5),
                before: serde_json::from_str(&row.get::<String, _>(6)).unwrap_or_default(),
                after: serde_json::from_str(&row.get::<String, _>(7)).unwrap_or_default(),
            })
            .collect())
    }

    /// Changes a unit's cut-off hour, with its audit event.
    pub async fn set_unit_cutoff(
        &self,
        unit: &str,
        cutoff: &str,
        event: &RegistryEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE units SET cutoff = $1 WHERE code = $2")
            .bind(cutoff)
            .bind(unit)
            .execute(&mut *tx)
            .await?;
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A secret the host generated for itself, created on first use.
    pub async fn host_secret(&self, name: &str) -> Result<String> {
        let candidate = {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        };
        sqlx::query(
            "INSERT INTO host_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&candidate)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query("SELECT value FROM host_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?
                .get(0),
        )
    }

    pub async fn bindings(&self) -> Result<Vec<Binding>> {
        let rows = sqlx::query(
            "SELECT unit, procedure_code, build_sha256, settings_json, enabled, source FROM bindings ORDER BY unit, procedure_code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Binding {
                unit: row.get(0),
                procedure_code: row.get(1),
                build_sha256: row.get(2),
                settings_json: row.get(3),
                enabled: row.get::<i64, _>(4) != 0,
                source: row.get(5),
            })
            .collect())
    }

    // ---- actors ------------------------------------------------------------------------

    pub async fn insert_actor(
        &self,
        actor: &ActorRecord,
        token_hash: &str,
        created_at: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO actors (id, unit, role, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&actor.id)
            .bind(&actor.unit)
            .bind(&actor.role)
            .bind(&actor.name)
            .bind(token_hash)
            .bind(created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn actor_by_token_hash(&self, token_hash: &str) -> Result<Option<ActorRecord>> {
        let row = sqlx::query("SELECT id, unit, role, name FROM actors WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| ActorRecord {
            id: row.get(0),
            unit: row.get(1),
            role: row.get(2),
            name: row.get(3),
        }))
    }

    pub async fn actor_exists(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM actors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    // ---- dossiers ----------------------------------------------------------------------

    /// Files a dossier: allocates its code from the receiving unit's daily sequence,
    /// writes the dossier, its documents and its first event in one transaction.
    pub async fn create_dossier(
        &self,
        agency_id: &str,
        day: chrono::NaiveDate,
        dossier: &NewDossier,
        event: &NewEvent,
    ) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let day_text = day.format("%Y-%m-%d").to_string();
        let sequence: i64 = sqlx::query(
            "INSERT INTO dossier_sequences (unit, day, last) VALUES ($1, $2, 1)
             ON CONFLICT (unit, day) DO UPDATE SET last = dossier_sequences.last + 1
             RETURNING last",
        )
        .bind(&dossier.receiving_unit)
        .bind(&day_text)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let code = format!("{agency_id}-{}-{sequence:04}", day.format("%y%m%d"));
        sqlx::query(
            "INSERT INTO dossiers (code, procedure_code, build_sha256, receiving_unit, handling_unit, channel,
                 applicant_json, form_json, step, status, submitted_at, tracking_secret_hash, version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $11)",
        )
        .bind(&code)
        .bind(&dossier.procedure_code)
        .bind(&dossier.build_sha256)
        .bind(&dossier.receiving_unit)
        .bind(&dossier.handling_unit)
        .bind(dossier.channel.as_str())
        .bind(serde_json::to_string(&dossier.applicant).expect("applicant serialises"))
        .bind(dossier.form.to_string())
        .bind(&dossier.step)
        .bind(dossier.status.code())
        .bind(&dossier.submitted_at)
        .bind(&dossier.tracking_secret_hash)
        .execute(&mut *tx)
        .await?;
        insert_documents(&mut tx, &code, &dossier.documents, &dossier.submitted_at).await?;
        append_event(&mut tx, &code, event).await?;
        tx.commit().await?;
        Ok(code)
    }

    pub async fn dossier(&self, code: &str) -> Result<Option<DossierRecord>> {
        let Some(row) = sqlx::query(
            "SELECT code, procedure_code, build_sha256, receiving_unit, handling_unit, channel, applicant_json, form_json,
                    step, status, submitted_at, received_at, clock_started_at, due_date, supplement_count, extension_count,
                    fees_requested_vnd, fees_paid_vnd, paid_online, result_json, settled_at, returned_at,
                    tracking_secret_hash, version, updated_at
             FROM dossiers WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("dossier {code}: {what}"));
        let channel: String = row.get(5);
        let applicant: String = row.get(6);
        let form: String = row.get(7);
        let status: i64 = row.get(9);
        let result: Option<String> = row.get(19);
        let documents = sqlx::query(
            "SELECT kind, name, sha256, size, digitized FROM dossier_documents WHERE dossier_code = $1 ORDER BY id",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|row| Document {
            kind: row.get(0),
            name: row.get(1),
            sha256: row.get(2),
            size: row.get::<i64, _>(3).max(0) as u64,
            digitized: row.get::<i64, _>(4) != 0,
        })
        .collect();
        Ok(Some(DossierRecord {
            code: row.get(0),
            procedure_code: row.get(1),
            build_sha256: row.get(2),
            receiving_unit: row.get(3),
            handling_unit: row.get(4),
            channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel"))?,
            applicant: serde_json::from_str(&applicant).map_err(|_| corrupt("applicant"))?,
            form: serde_json::from_str(&form).map_err(|_| corrupt("form"))?,
            step: row.get(8),
            status: Status::from_code(status).ok_or_else(|| corrupt("status"))?,
            submitted_at: row.get(10),
            received_at: row.get(11),
            clock_started_at: row.get(12),
            due_date: row.get(13),
            supplement_count: row.get(14),
            extension_count: row.get(15),
            fees_requested_vnd: row.get(16),
            fees_paid_vnd: row.get(17),
            paid_online: row.get::<i64, _>(18) != 0,
            result: result
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|_| corrupt("result"))?,
            settled_at: row.get(20),
            returned_at: row.get(21),
            tracking_secret_hash: row.get(22),
            version: row.get(23),
            updated_at: row.get(24),
            documents,
        }))
    }

    /// Applies an action's outcome if the dossier is still at `expected_version`.
    /// Returns the new version.
    pub async fn apply_action(
        &self,
        code: &str,
        expected_version: i64,
        update: &DossierUpdate,
        event: &NewEvent,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let result_json = update
            .result
            .as_ref()
            .map(|result| serde_json::to_string(result).expect("result serialises"));
        let changed = sqlx::query(
            "UPDATE dossiers SET step = $1, status = $2, received_at = $3, clock_started_at = $4, due_date = $5,
                 supplement_count = $6, extension_count = $7, fees_requested_vnd = $8, fees_paid_vnd = $9,
                 paid_online = $10, result_json = $11, settled_at = $12, returned_at = $13, updated_at = $14,
                 version = version + 1
             WHERE code = $15 AND version = $16",
        )
        .bind(&update.step)
        .bind(update.status.code())
        .bind(&update.received_at)
        .bind(&update.clock_started_at)
        .bind(&update.due_date)
        .bind(update.supplement_count)
        .bind(update.extension_count)
        .bind(update.fees_requested_vnd)
        .bind(update.fees_paid_vnd)
        .bind(i64::from(update.paid_online))
        .bind(&result_json)
        .bind(&update.settled_at)
        .bind(&update.returned_at)
        .bind(&update.updated_at)
        .bind(code)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Err(StoreError::VersionConflict {
                expected: expected_version,
            });
        }
        insert_documents(&mut tx, code, &update.new_documents, &update.updated_at).await?;
        append_event(&mut tx, code, event).await?;
        tx.commit().await?;
        Ok(expected_version + 1)
    }

    pub async fn events(&self, code: &str) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT dossier_code, seq, at, actor_id, actor_role, actor_unit, action, from_step, to_step, from_status,
                    to_status, note, payload_json, prev_hash, hash
             FROM dossier_events WHERE dossier_code = $1 ORDER BY seq",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| EventRecord {
                dossier_code: row.get(0),
                seq: row.get(1),
                at: row.get(2),
                actor_id: row.get(3),
                actor_role: row.get(4),
                actor_unit: row.get(5),
                action: row.get(6),
                from_step: row.get(7),
                to_step: row.get(8),
                from_status: row.get(9),
                to_status: row.get(10),
                note: row.get(11),
                payload_json: row.get(12),
                prev_hash: row.get(13),
                hash: row.get(14),
            })
            .collect())
    }

    /// The unit's inbox: dossiers it handles, newest first.
    pub async fn inbox(&self, query: &InboxQuery) -> Result<(Vec<InboxRow>, i64)> {
        let status = query.status.map(Status::code).unwrap_or(0);
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM dossiers WHERE handling_unit = $1 AND ($2 = 0 OR status = $2)",
        )
        .bind(&query.unit)
        .bind(status)
        .fetch_one(&self.pool)
        .await?
        .get(0);
        let rows = sqlx::query(
            "SELECT code, procedure_code, step, status, applicant_json, channel, submitted_at, due_date, version
             FROM dossiers WHERE handling_unit = $1 AND ($2 = 0 OR status = $2)
             ORDER BY submitted_at DESC, code DESC LIMIT $3 OFFSET $4",
        )
        .bind(&query.unit)
        .bind(status)
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let applicant: String = row.get(4);
            let applicant: Applicant = serde_json::from_str(&applicant)
                .map_err(|_| StoreError::Corrupt("applicant".into()))?;
            items.push(InboxRow {
                code: row.get(0),
                procedure_code: row.get(1),
                step: row.get(2),
                status: Status::from_code(row.get(3))
                    .ok_or_else(|| StoreError::Corrupt("status".into()))?,
                applicant_name: applicant.full_name,
                channel: row.get(5),
                submitted_at: row.get(6),
                due_date: row.get(7),
                version: row.get(8),
            });
        }
        Ok((items, total))
    }

    /// Counts rows in the tables a failed request must not touch; tests use it to show
    /// that nothing was half-written.
    pub async fn row_counts(&self) -> Result<(i64, i64, i64)> {
        let count = |table: &'static str| async move {
            let sql = match table {
                "dossiers" => "SELECT COUNT(*) FROM dossiers",
                "dossier_events" => "SELECT COUNT(*) FROM dossier_events",
                _ => "SELECT COUNT(*) FROM dossier_documents",
            };
            sqlx::query(sql)
                .fetch_one(&self.pool)
                .await
                .map(|row| row.get::<i64, _>(0))
        };
        Ok((
            count("dossiers").await?,
            count("dossier_events").await?,
            count("dossier_documents").await?,
        ))
    }
}

async fn upsert_binding(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    binding: &Binding,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO bindings (unit, procedure_code, build_sha256, settings_json, enabled, source) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (unit, procedure_code) DO UPDATE SET build_sha256 = excluded.build_sha256,
             settings_json = excluded.settings_json, enabled = excluded.enabled, source = excluded.source",
    )
    .bind(&binding.unit)
    .bind(&binding.procedure_code)
    .bind(&binding.build_sha256)
    .bind(&binding.settings_json)
    .bind(i64::from(binding.enabled))
    .bind(&binding.source)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_registry_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    event: &RegistryEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO registry_events (at, actor_id, actor_role, action, procedure_code, unit, before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&event.at)
    .bind(&event.actor_id)
    .bind(&event.actor_role)
    .bind(&event.action)
    .bind(&event.procedure_code)
    .bind(&event.unit)
    .bind(event.before.to_string())
    .bind(event.after.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn unit_from_row(row: &sqlx::any::AnyRow) -> Unit {
    Unit {
        code: row.get(0),
        name: row.get(1),
        parent: row.get(2),
        agency_id: row.get(3),
        cutoff: row.get(4),
    }
}

async fn insert_documents(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    code: &str,
    documents: &[Document],
    at: &str,
) -> Result<()> {
    for document in documents {
        sqlx::query(
            "INSERT INTO dossier_documents (dossier_code, kind, name, sha256, size, digitized, added_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code)
        .bind(&document.kind)
        .bind(&document.name)
        .bind(&document.sha256)
        .bind(i64::try_from(document.size).unwrap_or(i64::MAX))
        .bind(i64::from(document.digitized))
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Appends an event to the dossier's chain. Runs inside the caller's transaction,
/// after the dossier row was written, so concurrent writers of one dossier serialise
/// on that row and the chain never forks.
async fn append_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    code: &str,
    event: &NewEvent,
) -> Result<()> {
    let last = sqlx::query(
        "SELECT seq, hash FROM dossier_events WHERE dossier_code = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev_hash) = match last {
        Some(row) => (row.get::<i64, _>(0) + 1, row.get::<String, _>(1)),
        None => (1, GENESIS.to_string()),
    };
    let mut record = EventRecord {
        dossier_code: code.to_string(),
        seq,
        at: event.at.clone(),
        actor_id: event.actor_id.clone(),
        actor_role: event.actor_role.clone(),
        actor_unit: event.actor_unit.clone(),
        action: event.action.clone(),
        from_step: event.from_step.clone(),
        to_step: event.to_step.clone(),
        from_status: event.from_status,
        to_status: event.to_status,
        note: event.note.clone(),
        payload_json: event.payload_json.clone(),
        prev_hash,
        hash: String::new(),
    };
    record.hash = record.compute_hash();
    sqlx::query(
        "INSERT INTO dossier_events (dossier_code, seq, at, actor_id, actor_role, actor_unit, action, from_step, to_step,
             from_status, to_status, note, payload_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&record.dossier_code)
    .bind(record.seq)
    .bind(&record.at)
    .bind(&record.actor_id)
    .bind(&record.actor_role)
    .bind(&record.actor_unit)
    .bind(&record.action)
    .bind(&record.from_step)
    .bind(&record.to_step)
    .bind(record.from_status)
    .bind(record.to_status)
    .bind(&record.note)
    .bind(&record.payload_json)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
