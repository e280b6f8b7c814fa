//! Staff sign-in for the web console (docs/decisions/0020-console-sign-in.md):
//! passwords hashed with argon2id, consecutive failures throttled per account,
//! sessions whose cookie is stored only as its sha256, and the CSRF token every form
//! of a session posts back. Bearer tokens (`accounts.rs`) stay for machines.
//!
//! A session is looked up in the database on every request with its account, so a
//! revoked or expired account is signed out on every host at once. No HTTP here.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{Duration, NaiveDateTime};
use rand::{Rng, RngCore};
use serde_json::json;

use crate::accounts::{AccountState, AccountsError};
use crate::clock::{format_civil, parse_civil};
use crate::domain::{Actor, Author, Role};
use crate::runtime::sha256_hex;
use crate::store::{AttemptClaim, RegistryEvent, Store, StoreError};

/// How long a session lasts from sign-in: a working day and then some.
pub const SESSION_HOURS: i64 = 12;
/// Consecutive failures allowed before the account is locked for a while.
pub const FREE_FAILURES: i64 = 5;
/// The longest lock: the lock doubles with each failure past the free ones, up to this.
pub const MAX_LOCK_MINUTES: i64 = 60;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown account, no password set, or a wrong password: one answer for all, so
    /// the page does not tell which account names exist.
    #[error("the account name or the password is wrong")]
    Refused,
    /// Too many failures in a row; nothing is checked until then.
    #[error("too many failed sign-ins; the account is locked until {until}")]
    Locked { until: NaiveDateTime },
    /// The right password of an account that no longer works.
    #[error("account `{id}` is {state}; ask an admin of its unit")]
    Inactive { id: String, state: AccountState },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A session just opened: the cookie to give the browser (shown nowhere else).
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub actor: Actor,
    pub expires: NaiveDateTime,
}

/// A signed-in request's session.
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    /// The token each form of this session carries and each post must send back.
    pub csrf: String,
    pub cookie_hash: String,
}

fn argon2() -> Argon2<'static> {
    // argon2id, version 0x13, m = 19 MiB, t = 2, p = 1: the OWASP recommendation.
    Argon2::default()
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// Checks the password rules and hashes it (argon2id, a fresh salt), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountsError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(AccountsError::Invalid(format!(
            "a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters; this one has {chars}"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(AccountsError::Invalid(
            "a password has no control characters (tabs, line breaks)".into(),
        ));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| AccountsError::Invalid(format!("salt: {error}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AccountsError::Invalid(format!("hashing the password: {error}")))
}

/// [`hash_password`] on the blocking pool, for async callers.
pub async fn hash_password_blocking(password: String) -> Result<String, AccountsError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| AccountsError::Invalid(format!("hashing the password: {error}")))?
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash nobody's password matches, verified against when the account is unknown or
/// has no password, so a refusal takes as long whichever the reason.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_hex(16)).expect("a random password fits the rules"))
}

/// Verifies on the blocking pool: argon2id takes tens of milliseconds by design.
async fn verify_blocking(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &hash))
        .await
        .unwrap_or(false)
}

/// How long an account is locked after `failures` consecutive failures.
pub fn lock_after(failures: i64) -> Option<Duration> {
    (failures >= FREE_FAILURES).then(|| {
        let doublings = u32::try_from(failures - FREE_FAILURES)
            .unwrap_or(u32::MAX)
            .min(6);
        Duration::minutes((1i64 << doublings).min(MAX_LOCK_MINUTES))
    })
}

/// The key failed attempts are counted under: the name's sha256, for names of
/// accounts that exist and names that do not alike.
fn attempt_key(name: &str) -> String {
    sha256_hex(name.as_bytes())
}

/// Signs a member of staff in by account name and password: a session, or why not.
///
/// The attempt is counted before the password is checked, and the lock it earns is
/// set in the same transaction, so attempts racing each other cannot slip past a lock.
/// Names of accounts that do not exist are counted and locked the same way, and a
/// refused password costs the same argon2id verification either way, so neither the
/// answer nor its timing tells which names exist.
pub async fn sign_in(
    store: &Store,
    name: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<NewSession, SignInError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 {
        verify_blocking(password.to_string(), decoy_hash().to_string()).await;
        return Err(SignInError::Refused);
    }
    let key = attempt_key(name);
    let claim = store
        .claim_sign_in_attempt(
            &key,
            &format_civil(now),
            &format_civil(now - Duration::days(1)),
            |failures| lock_after(failures).map(|lock| format_civil(now + lock)),
        )
        .await?;
    let failures = match claim {
        AttemptClaim::Locked(until) => {
            return Err(SignInError::Locked {
                until: parse_civil(&until).unwrap_or(now),
            });
        }
        AttemptClaim::Counted(failures) => failures,
    };
    let record = store.sign_in_record(name).await?;
    let stored = record
        .as_ref()
        .and_then(|record| record.password_hash.clone());
    let hash = stored.clone().unwrap_or_else(|| decoy_hash().to_string());
    let matches = verify_blocking(password.to_string(), hash).await && stored.is_some();
    let Some(record) = record.filter(|_| matches) else {
        return Err(match lock_after(failures) {
            Some(lock) => SignInError::Locked { until: now + lock },
            None => SignInError::Refused,
        });
    };
    store.clear_sign_in_attempts(&key).await?;
    let account = record.account;
    match AccountState::of(&account, now) {
        AccountState::Active => {}
        state => {
            return Err(SignInError::Inactive {
                id: account.id,
                state,
            });
        }
    }
    let role = Role::parse(&account.role).ok_or(SignInError::Refused)?;
    let cookie = random_hex(32);
    let csrf = random_hex(32);
    let expires = now + Duration::hours(SESSION_HOURS);
    store
        .open_session(
            &sha256_hex(cookie.as_bytes()),
            &account.id,
            &csrf,
            &format_civil(now),
            &format_civil(expires),
        )
        .await?;
    Ok(NewSession {
        cookie,
        csrf,
        actor: Actor {
            id: account.id,
            role,
            unit: account.unit,
        },
        expires,
    })
}

/// The session a cookie stands for, if it is known, not past its end, and its account
/// is active at `now`.
pub async fn session(
    store: &Store,
    cookie: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, StoreError> {
    if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let cookie_hash = sha256_hex(cookie.as_bytes());
    let Some(record) = store.session(&cookie_hash).await? else {
        return Ok(None);
    };
    let ended = parse_civil(&record.expires_at).is_none_or(|expires| expires <= now);
    if ended || AccountState::of(&record.account, now) != AccountState::Active {
        return Ok(None);
    }
    let Some(role) = Role::parse(&record.account.role) else {
        return Ok(None);
    };
    Ok(Some(Session {
        actor: Actor {
            id: record.account.id,
            role,
            unit: record.account.unit,
        },
        csrf: record.csrf_token,
        cookie_hash,
    }))
}

/// Ends the session a cookie stands for, if any (signing in again in the same browser).
pub async fn close_cookie(store: &Store, cookie: &str) -> Result<(), StoreError> {
    store.close_session(&sha256_hex(cookie.as_bytes())).await
}

/// Signs out: the session ends on every host.
pub async fn sign_out(store: &Store, session: &Session) -> Result<(), StoreError> {
    store.close_session(&session.cookie_hash).await
}

/// Sets (or replaces) an account's password; its open sessions end. Audited
/// (`account-password`), without the hash.
pub async fn set_password(
    store: &Store,
    id: &str,
    password: &str,
    author: &Author,
    now: NaiveDateTime,
) -> Result<(), AccountsError> {
    let hash = hash_password_blocking(password.to_string()).await?;
    let Some(account) = store.actor(id).await? else {
        return Err(AccountsError::NotFound(format!(
            "no account `{}`; `motcua token list` shows them",
            id.escape_debug()
        )));
    };
    let event = RegistryEvent {
        at: format_civil(now),
        actor_id: author.id.clone(),
        actor_role: author.role.clone(),
        action: "account-password".into(),
        procedure_code: None,
        unit: Some(account.unit.clone()),
        before: serde_json::Value::Null,
        after: json!({ "id": account.id }),
    };
    store
        .set_password_hash(id, &hash, &attempt_key(id), &event)
        .await
        .map_err(AccountsError::from)
}

/// A fresh password for `motcua user create` when none is given: 20 characters from
/// an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_rules_hold() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify("correct horse battery", &hash));
        assert!(!verify("correct horse batterY", &hash));
        assert!(!verify("anything", "not a hash"));
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(257)).is_err());
        assert!(hash_password("tab\there ok?").is_err());
        assert_eq!(generate_password().len(), 20);
    }

    #[test]
    fn locks_double_after_the_free_failures_up_to_an_hour() {
        assert_eq!(lock_after(4), None);
        assert_eq!(lock_after(5), Some(Duration::minutes(1)));
        assert_eq!(lock_after(6), Some(Duration::minutes(2)));
        assert_eq!(lock_after(9), Some(Duration::minutes(16)));
        assert_eq!(lock_after(11), Some(Duration::minutes(60)));
        assert_eq!(lock_after(500), Some(Duration::minutes(60)));
    }
}
