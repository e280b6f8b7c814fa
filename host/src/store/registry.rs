//! The plugin registry's tables: builds, bindings, province defaults, rollouts and
//! the registry's append-only audit.

use sqlx::Row;

use super::{Result, Store, StoreError};

#[derive(Clone, Debug)]
pub struct StoredBuild {
    pub sha256: String,
    /// The plugin's own code: the procedure code, or `<procedure>/<variant>` for a variant.
    pub procedure_code: String,
    pub variant_of: Option<String>,
    pub version: String,
    /// The contract version the build targets: "0.1.0", "0.2.0".
    pub wit_version: String,
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

/// Whose registry events to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventScope {
    /// The province's own events (publishing, rollouts) and every unit's under it.
    Province(String),
    /// One unit's events only.
    Unit(String),
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

impl Store {
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
             VALUES ($1, $2, $3, $10, $4, $5, $6, $7, $8, $9)",
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
        .bind(&build.wit_version)
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
            "SELECT sha256, procedure_code, version, size, bytes, info_json, published_by, published_at, variant_of, wit_version
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
                wit_version: row.get(9),
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

    /// How many registry events the store holds: every change hosts hold in memory
    /// (builds, bindings, defaults, units) is written with one in the same transaction
    /// and none is ever deleted, so this number moves whenever such a change commits,
    /// in whatever order concurrent ones commit. A refresh compares it with the one of
    /// its last read before rereading anything (`Registry::refresh`).
    pub async fn registry_changes(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM registry_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<i64, _>(0))
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

    /// Each procedure's province default with its build's described info (JSON), so a
    /// caller without a compiled registry (the CLI) knows each procedure's level.
    pub async fn province_default_builds(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT d.procedure_code, d.build_sha256, b.info_json
             FROM province_defaults d JOIN plugin_builds b ON b.sha256 = d.build_sha256
             ORDER BY d.procedure_code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
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
    /// Returns the rollout undone, or `None` when there is nothing to roll back; a
    /// conflict when the latest rollout is no longer `expected` (the one the caller
    /// checked), because another host rolled out or back meanwhile.
    pub async fn rollback(
        &self,
        procedure_code: &str,
        expected: i64,
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
        if id != expected {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "the latest rollout of {procedure_code} changed (#{expected} is now #{id}); try again"
            )));
        }
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
            // Units bound to this default after the rollout (units created since, or units
            // that left a variant for the default) are not in its list: they follow the
            // default back, as they would have followed it forward.
            let rollout_build: String = row.get(1);
            match previous["default"].as_str() {
                Some(sha) => {
                    sqlx::query(
                        "UPDATE bindings SET build_sha256 = $1
                         WHERE procedure_code = $2 AND build_sha256 = $3 AND source = 'default'",
                    )
                    .bind(sha)
                    .bind(procedure_code)
                    .bind(&rollout_build)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "DELETE FROM bindings
                         WHERE procedure_code = $1 AND build_sha256 = $2 AND source = 'default'",
                    )
                    .bind(procedure_code)
                    .bind(&rollout_build)
                    .execute(&mut *tx)
                    .await?;
                }
            }
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

    /// The latest rollout of a procedure that is not rolled back yet.
    pub async fn latest_rollout(&self, procedure_code: &str) -> Result<Option<RolloutRecord>> {
        Ok(self
            .rollouts(procedure_code)
            .await?
            .into_iter()
            .find(|rollout| rollout.rolled_back_at.is_none()))
    }

    /// What a rollout replaced, as kept for its rollback: the province default before
    /// it (`default`, `default_changed`) and each unit's binding before it (`units`,
    /// null for a unit that had none). `None` for an unknown rollout.
    pub async fn rollout_previous(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT previous_json FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            serde_json::from_str(&row.get::<String, _>(0))
                .map_err(|_| StoreError::Corrupt(format!("rollout {id}")))
        })
        .transpose()
    }

    /// A stored build's plugin code and version, without its bytes.
    pub async fn build_label(&self, sha256: &str) -> Result<Option<(String, String)>> {
        let row =
            sqlx::query("SELECT procedure_code, version FROM plugin_builds WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|row| (row.get(0), row.get(1))))
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

    /// The registry's audit trail, newest first: a province's (its province-wide events
    /// and those of every unit under it) or one unit's own events.
    pub async fn registry_events(
        &self,
        scope: &EventScope,
        limit: i64,
    ) -> Result<Vec<RegistryEvent>> {
        let (filter, code) = match scope {
            EventScope::Province(code) => (
                "unit IS NULL OR unit IN (SELECT code FROM units WHERE code = $2 OR parent = $2)",
                code,
            ),
            EventScope::Unit(code) => ("unit = $2", code),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT at, actor_id, actor_role, action, procedure_code, unit, before_json, after_json
             FROM registry_events WHERE {filter} ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .bind(code)
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
}

pub(super) async fn upsert_binding(
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

pub(super) async fn insert_registry_event(
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
    // Every change to what hosts hold in memory (the registry, units, the calendar) is
    // audited here, so this is where the other hosts are told: PostgreSQL delivers the
    // notification when the transaction commits, and not at all if it rolls back.
    // Accounts are read from the database on every request: nothing to tell.
    if !event.action.starts_with("account-")
        && tx.backend_name().to_ascii_lowercase().contains("postgres")
    {
        sqlx::query(concat!("NOTIFY ", "motcua_changes"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The PostgreSQL channel hosts listen on for each other's changes.
pub const CHANGES_CHANNEL: &str = "motcua_changes";
