//! Passwords and console sessions of staff accounts. Only a password's argon2id hash
//! and a session cookie's sha256 are stored.

use sqlx::Row;

use super::RegistryEvent;
use super::accounts::actor_from_row;
use super::registry::insert_registry_event;
use super::{ActorRecord, Result, Store, StoreError};

/// What a sign-in needs to know about an account.
#[derive(Clone, Debug)]
pub struct SignInRecord {
    pub account: ActorRecord,
    pub password_hash: Option<String>,
    pub failed_sign_ins: i64,
    pub locked_until: Option<String>,
}

/// A session as stored, with its account.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub account: ActorRecord,
    pub csrf_token: String,
    pub expires_at: String,
}

/// The account's columns, in the order `actor_from_row` reads them.
macro_rules! actor_columns {
    () => {
        "a.id, a.unit, a.role, a.name, a.created_at, a.expires_at, a.revoked_at"
    };
}

impl Store {
    /// The account named `id` with its password hash and failure count.
    pub async fn sign_in_record(&self, id: &str) -> Result<Option<SignInRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            actor_columns!(),
            ", a.password_hash, a.failed_sign_ins, a.sign_in_locked_until
             FROM actors a WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| SignInRecord {
            account: actor_from_row(&row),
            password_hash: row.get(7),
            failed_sign_ins: row.get(8),
            locked_until: row.get(9),
        }))
    }

    /// Sets an account's password hash, audited, and ends its open sessions: a changed
    /// password signs everyone out.
    pub async fn set_password_hash(
        &self,
        id: &str,
        password_hash: &str,
        event: &RegistryEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE actors SET password_hash = $1, failed_sign_ins = 0, sign_in_locked_until = NULL
             WHERE id = $2",
        )
        .bind(password_hash)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("account `{id}`")));
        }
        sqlx::query("DELETE FROM console_sessions WHERE actor_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a failed sign-in: one more consecutive failure, and the lock it earns.
    /// Returns the new count.
    pub async fn record_failed_sign_in(&self, id: &str, locked_until: Option<&str>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE actors SET failed_sign_ins = failed_sign_ins + 1, sign_in_locked_until = $1
             WHERE id = $2",
        )
        .bind(locked_until)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let count: i64 = sqlx::query("SELECT failed_sign_ins FROM actors WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        tx.commit().await?;
        Ok(count)
    }

    /// A successful sign-in: the failures are forgotten and the session is stored.
    /// Sessions that ended before `now` are cleared on the way.
    pub async fn open_session(
        &self,
        token_hash: &str,
        actor_id: &str,
        csrf_token: &str,
        created_at: &str,
        expires_at: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE actors SET failed_sign_ins = 0, sign_in_locked_until = NULL WHERE id = $1",
        )
        .bind(actor_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, actor_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(actor_id)
        .bind(csrf_token)
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session a cookie's sha256 names, with its account (revoked and expired
    /// accounts included: the caller decides).
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            actor_columns!(),
            ", s.csrf_token, s.expires_at
             FROM console_sessions s JOIN actors a ON a.id = s.actor_id
             WHERE s.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| SessionRecord {
            account: actor_from_row(&row),
            csrf_token: row.get(7),
            expires_at: row.get(8),
        }))
    }

    /// Ends a session (signing out); ending one that is gone is not an error.
    pub async fn close_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
