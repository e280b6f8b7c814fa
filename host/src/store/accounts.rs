//! Staff accounts and their API tokens. Only a token's sha256 is stored.

use sqlx::Row;

use super::RegistryEvent;
use super::columns::Columns;
use super::registry::insert_registry_event;
use super::{Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRecord {
    pub id: String,
    pub unit: String,
    pub role: String,
    pub name: String,
    pub created_at: String,
    /// When the token stops working (RFC 3339, civil time); `None`: it does not expire.
    pub expires_at: Option<String>,
    /// When the account was revoked; a revoked token never works again.
    pub revoked_at: Option<String>,
}

/// What revoking an account did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    Revoked(ActorRecord),
    /// It was revoked before; nothing changed.
    AlreadyRevoked(ActorRecord),
}

impl Store {
    /// Creates an account with its audit event, in one transaction.
    pub async fn insert_actor(
        &self,
        actor: &ActorRecord,
        token_hash: &str,
        password_hash: Option<&str>,
        event: &RegistryEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO actors (id, unit, role, name, token_hash, created_at, expires_at, revoked_at, password_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&actor.id)
        .bind(&actor.unit)
        .bind(&actor.role)
        .bind(&actor.name)
        .bind(token_hash)
        .bind(&actor.created_at)
        .bind(&actor.expires_at)
        .bind(&actor.revoked_at)
        .bind(password_hash)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                return Err(StoreError::Conflict(format!(
                    "an account named `{}` already exists; choose another name",
                    actor.id
                )));
            }
            Err(error) => return Err(error.into()),
        }
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a token belongs to, revoked and expired ones included: the caller
    /// tells the person why their token no longer works.
    /// Read on every staff request (see `columns.rs` for where it runs).
    pub async fn actor_by_token_hash(&self, token_hash: &str) -> Result<Option<ActorRecord>> {
        self.fetch_one(
            "SELECT id, unit, role, name, created_at, expires_at, revoked_at FROM actors WHERE token_hash = $1",
            &[token_hash.into()],
            actor_from_row,
        )
        .await
    }

    pub async fn actor(&self, id: &str) -> Result<Option<ActorRecord>> {
        let row = sqlx::query(
            "SELECT id, unit, role, name, created_at, expires_at, revoked_at FROM actors WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|row| actor_from_row(row)).transpose()
    }

    /// Every account, or a unit's, by unit then id.
    pub async fn actors(&self, unit: Option<&str>) -> Result<Vec<ActorRecord>> {
        let rows =
            match unit {
                Some(unit) => sqlx::query(
                    "SELECT id, unit, role, name, created_at, expires_at, revoked_at FROM actors
                     WHERE unit = $1 ORDER BY unit, id",
                )
                .bind(unit)
                .fetch_all(&self.pool)
                .await?,
                None => sqlx::query(
                    "SELECT id, unit, role, name, created_at, expires_at, revoked_at FROM actors
                     ORDER BY unit, id",
                )
                .fetch_all(&self.pool)
                .await?,
            };
        rows.iter().map(|row| actor_from_row(row)).collect()
    }

    /// Every account that is not revoked, with its token's hash, for telling accounts
    /// with well-known tokens apart.
    pub async fn active_token_hashes(&self) -> Result<Vec<(ActorRecord, String)>> {
        let rows = sqlx::query(
            "SELECT id, unit, role, name, created_at, expires_at, revoked_at, token_hash FROM actors
             WHERE revoked_at IS NULL ORDER BY unit, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((actor_from_row(row)?, row.get(7))))
            .collect()
    }

    pub async fn actor_exists(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM actors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Revokes an account at `event.at`, with its audit event, in one transaction.
    /// Revoking twice changes nothing and writes no event.
    pub async fn revoke_actor(&self, id: &str, event: &RegistryEvent) -> Result<Revocation> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, unit, role, name, created_at, expires_at, revoked_at FROM actors WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("account `{id}`")));
        };
        let mut actor = actor_from_row(&row)?;
        if actor.revoked_at.is_some() {
            tx.rollback().await?;
            return Ok(Revocation::AlreadyRevoked(actor));
        }
        // The guard on `revoked_at` makes a concurrent second revocation a no-op.
        let revoked =
            sqlx::query("UPDATE actors SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(&event.at)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if revoked != 1 {
            tx.rollback().await?;
            return Ok(match self.actor(id).await? {
                Some(actor) => Revocation::AlreadyRevoked(actor),
                None => return Err(StoreError::NotFound(format!("account `{id}`"))),
            });
        }
        actor.revoked_at = Some(event.at.clone());
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Revocation::Revoked(actor))
    }
}

pub(super) fn actor_from_row(row: &dyn Columns) -> Result<ActorRecord> {
    Ok(ActorRecord {
        id: row.text(0)?,
        unit: row.text(1)?,
        role: row.text(2)?,
        name: row.text(3)?,
        created_at: row.text(4)?,
        expires_at: row.opt_text(5)?,
        revoked_at: row.opt_text(6)?,
    })
}
