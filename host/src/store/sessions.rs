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
}

/// What counting a sign-in attempt found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptClaim {
    /// Counted: this many consecutive failures, this attempt included.
    Counted(i64),
    /// The name is locked until then; the attempt was not counted.
    Locked(String),
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
            ", a.password_hash FROM actors a WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SignInRecord {
                account: actor_from_row(&row)?,
                password_hash: row.get(7),
            })
        })
        .transpose()
    }

    /// Sets an account's password hash, audited, and ends its open sessions: a changed
    /// password signs everyone out.
    pub async fn set_password_hash(
        &self,
        id: &str,
        password_hash: &str,
        name_hash: &str,
        event: &RegistryEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE actors SET password_hash = $1 WHERE id = $2")
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
        sqlx::query("DELETE FROM sign_in_attempts WHERE name_hash = $1")
            .bind(name_hash)
            .execute(&mut *tx)
            .await?;
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a sign-in attempt for the name whose sha256 is `name_hash`, before its
    /// password is checked, unless the name is locked at `now`; sets the lock the new
    /// count earns (`lock` gives its end) in the same transaction, so attempts racing
    /// this one find it. Rows quiet since `forget_before` are dropped on the way.
    pub async fn claim_sign_in_attempt(
        &self,
        name_hash: &str,
        now: &str,
        forget_before: &str,
        lock: impl Fn(i64) -> Option<String>,
    ) -> Result<AttemptClaim> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sign_in_attempts (name_hash, failures, locked_until, last_at)
             VALUES ($1, 0, NULL, $2) ON CONFLICT (name_hash) DO NOTHING",
        )
        .bind(name_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let counted = sqlx::query(
            "UPDATE sign_in_attempts SET failures = failures + 1, last_at = $2
             WHERE name_hash = $1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(name_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row =
            sqlx::query("SELECT failures, locked_until FROM sign_in_attempts WHERE name_hash = $1")
                .bind(name_hash)
                .fetch_one(&mut *tx)
                .await?;
        if counted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(AttemptClaim::Locked(
                row.get::<Option<String>, _>(1).unwrap_or_default(),
            ));
        }
        let failures: i64 = row.get(0);
        if let Some(until) = lock(failures) {
            sqlx::query("UPDATE sign_in_attempts SET locked_until = $1 WHERE name_hash = $2")
                .bind(&until)
                .bind(name_hash)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM sign_in_attempts WHERE last_at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptClaim::Counted(failures))
    }

    /// Forgets a name's failed attempts (after a successful sign-in).
    pub async fn clear_sign_in_attempts(&self, name_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE name_hash = $1")
            .bind(name_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a session. Sessions that ended before `created_at` are cleared on the way.
    pub async fn open_session(
        &self,
        token_hash: &str,
        actor_id: &str,
        csrf_token: &str,
        created_at: &str,
        expires_at: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
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
        row.map(|row| {
            Ok(SessionRecord {
                account: actor_from_row(&row)?,
                csrf_token: row.get(7),
                expires_at: row.get(8),
            })
        })
        .transpose()
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
