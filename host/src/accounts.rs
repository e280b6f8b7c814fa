//! Staff accounts: creating one (with an optional expiry), listing them, revoking one,
//! and telling a request's token apart as active, expired, revoked or unknown.
//!
//! A token is looked up in the database on every request, never cached, so a
//! revocation or an expiry holds on every host at once. No SQL and no HTTP here.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use crate::clock::{format_civil, parse_civil};
use crate::domain::{Actor, Author, Role};
use crate::runtime::sha256_hex;
use crate::store::{ActorRecord, RegistryEvent, Revocation, Store, StoreError};

const MAX_ACCOUNT_NAME: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// Bad input: the message says what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountsError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => AccountsError::Conflict(message),
            other => AccountsError::Store(other),
        }
    }
}

/// Why a bearer token is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the token is not known")]
    Unknown,
    #[error("account `{id}` was revoked at {at}")]
    Revoked { id: String, at: String },
    #[error("account `{id}` expired at {at}")]
    Expired { id: String, at: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    Active,
    Expired,
    Revoked,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Expired => "expired",
            AccountState::Revoked => "revoked",
        }
    }

    /// An account's state at `now`. A revocation outranks an expiry; an expiry time
    /// that cannot be read counts as passed, so a damaged row never lets anyone in.
    pub fn of(account: &ActorRecord, now: NaiveDateTime) -> AccountState {
        if account.revoked_at.is_some() {
            return AccountState::Revoked;
        }
        match &account.expires_at {
            Some(expires) if parse_civil(expires).is_none_or(|expires| expires <= now) => {
                AccountState::Expired
            }
            _ => AccountState::Active,
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads an expiry: a bare date (`2026-12-31`) means valid through the end of that day
/// in civil time, so the account expires at the next midnight; otherwise an RFC 3339
/// time. An expiry that is not after `now` is refused.
pub fn parse_expiry(text: &str, now: NaiveDateTime) -> Result<NaiveDateTime, AccountsError> {
    let text = text.trim();
    let expires = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) => day
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .ok_or_else(|| AccountsError::Invalid(format!("the expiry {text} is out of range")))?,
        Err(_) => parse_civil(text).ok_or_else(|| {
            AccountsError::Invalid(format!(
                "the expiry `{}` is neither a date (2026-12-31) nor an RFC 3339 time (2026-12-31T17:00:00+07:00)",
                text.escape_debug()
            ))
        })?,
    };
    if expires <= now {
        return Err(AccountsError::Invalid(format!(
            "the expiry `{}` (until {}) is not in the future (it is now {}); give a later one",
            text.escape_debug(),
            format_civil(expires),
            format_civil(now)
        )));
    }
    Ok(expires)
}

/// What a new account needs.
#[derive(Clone, Debug, Default)]
pub struct NewAccount {
    pub unit: String,
    /// officer, specialist, leader, admin or publisher.
    pub role: String,
    /// The account's name, which is also its id (default: `<unit>-<role>-<8 hex>`).
    pub name: Option<String>,
    /// A date or an RFC 3339 time; see [`parse_expiry`].
    pub expires: Option<String>,
    /// A password for signing in to the console (`sessions::hash_password`'s rules);
    /// without one, the account signs in with its token only.
    pub password: Option<String>,
}

/// Creates an account and returns it with its token, which is shown once and stored
/// only as its sha256. Creation is audited (`account-create`).
pub async fn create(
    store: &Store,
    account: NewAccount,
    author: &Author,
    now: NaiveDateTime,
) -> Result<(ActorRecord, String), AccountsError> {
    let role = Role::parse(&account.role)
        .filter(|role| *role != Role::Citizen)
        .ok_or_else(|| {
            AccountsError::Invalid(format!(
                "unknown role `{}`; use officer, specialist, leader, admin or publisher",
                account.role.escape_debug()
            ))
        })?;
    let expires_at = account
        .expires
        .as_deref()
        .map(|text| parse_expiry(text, now))
        .transpose()?;
    let password_hash = match account.password {
        Some(password) => Some(crate::sessions::hash_password_blocking(password).await?),
        None => None,
    };
    if store.unit(&account.unit).await?.is_none() {
        return Err(AccountsError::Invalid(format!(
            "unit `{}` does not exist; import it first (`motcua units import`) or seed the demo (`motcua demo`)",
            account.unit.escape_debug()
        )));
    }
    let token = crate::workflow::new_token();
    let id = match account.name {
        Some(name) => {
            let name = name.trim().to_string();
            if name.is_empty()
                || name.len() > MAX_ACCOUNT_NAME
                || name.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(AccountsError::Invalid(format!(
                    "the account name `{}` must be 1 to {MAX_ACCOUNT_NAME} bytes without spaces or control characters",
                    name.escape_debug()
                )));
            }
            name
        }
        None => format!(
            "{}-{}-{}",
            account.unit,
            role.as_str(),
            &sha256_hex(token.as_bytes())[..8]
        ),
    };
    let record = ActorRecord {
        id: id.clone(),
        unit: account.unit.clone(),
        role: role.as_str().into(),
        name: id,
        created_at: format_civil(now),
        expires_at: expires_at.map(format_civil),
        revoked_at: None,
    };
    let event = RegistryEvent {
        at: record.created_at.clone(),
        actor_id: author.id.clone(),
        actor_role: author.role.clone(),
        action: "account-create".into(),
        procedure_code: None,
        unit: Some(record.unit.clone()),
        before: Value::Null,
        after: account_view(&record),
    };
    store
        .insert_actor(
            &record,
            &sha256_hex(token.as_bytes()),
            password_hash.as_deref(),
            &event,
        )
        .await?;
    Ok((record, token))
}

/// Publishers act for the province: an account with that role belongs to the province
/// itself, never to one of its units. The API and the console check this before
/// [`create`] (the command line may still make other accounts for tests and tooling).
pub async fn check_role_fits_unit(
    store: &Store,
    unit: &str,
    role: &str,
) -> Result<(), AccountsError> {
    if role != Role::Publisher.as_str() {
        return Ok(());
    }
    let is_province = store
        .unit(unit)
        .await?
        .is_some_and(|unit| unit.kind == crate::domain::UnitKind::Province);
    if is_province {
        Ok(())
    } else {
        Err(AccountsError::Invalid(format!(
            "publishers belong to the province; `{unit}` is not the province"
        )))
    }
}

/// Every account, or one unit's; never tokens or their hashes.
pub async fn list(store: &Store, unit: Option<&str>) -> Result<Vec<ActorRecord>, AccountsError> {
    Ok(store.actors(unit).await?)
}

/// Revokes an account: its token stops working on every host with the next request.
/// Revoking twice is not an error; the answer says it was already revoked.
pub async fn revoke(
    store: &Store,
    id: &str,
    author: &Author,
    now: NaiveDateTime,
) -> Result<Revocation, AccountsError> {
    let Some(account) = store.actor(id).await? else {
        return Err(AccountsError::NotFound(format!(
            "no account `{}`; `motcua token list` shows them",
            id.escape_debug()
        )));
    };
    let at = format_civil(now);
    let event = RegistryEvent {
        at: at.clone(),
        actor_id: author.id.clone(),
        actor_role: author.role.clone(),
        action: "account-revoke".into(),
        procedure_code: None,
        unit: Some(account.unit.clone()),
        before: account_view(&account),
        after: json!({ "id": account.id, "revoked_at": at }),
    };
    match store.revoke_actor(id, &event).await {
        Err(StoreError::NotFound(_)) => Err(AccountsError::NotFound(format!(
            "no account `{}`; `motcua token list` shows them",
            id.escape_debug()
        ))),
        other => Ok(other?),
    }
}

/// The actor a bearer token stands for, if the token is known, not revoked and not
/// expired at `now`.
pub async fn authenticate(
    store: &Store,
    token: &str,
    now: NaiveDateTime,
) -> Result<Actor, TokenRefusal> {
    let account = store
        .actor_by_token_hash(&sha256_hex(token.as_bytes()))
        .await?
        .ok_or(TokenRefusal::Unknown)?;
    match AccountState::of(&account, now) {
        AccountState::Revoked => Err(TokenRefusal::Revoked {
            id: account.id,
            at: account.revoked_at.unwrap_or_default(),
        }),
        AccountState::Expired => Err(TokenRefusal::Expired {
            id: account.id,
            at: account.expires_at.unwrap_or_default(),
        }),
        AccountState::Active => {
            let role = Role::parse(&account.role).ok_or(TokenRefusal::Unknown)?;
            Ok(Actor {
                id: account.id,
                role,
                unit: account.unit,
            })
        }
    }
}

/// What `motcua init` needs: the province and who administers it.
#[derive(Clone, Debug, Default)]
pub struct Bootstrap {
    pub code: String,
    pub name: String,
    pub agency_id: String,
    /// The first administrator's account name (default: `<code>-admin-<8 hex>`).
    pub admin_name: Option<String>,
    /// Also create a publisher account.
    pub publisher: bool,
}

/// What `motcua init` created: the province and its accounts with their tokens,
/// which exist nowhere else once printed.
pub struct Bootstrapped {
    pub province: crate::store::Unit,
    pub accounts: Vec<(ActorRecord, String)>,
}

/// Creates the province and its first administrator (and optionally a publisher) on a
/// database that has no province yet; refuses, changing nothing, when it has one. The
/// province and each account are audited like `units import` and `token create`.
pub async fn bootstrap(
    store: &Store,
    request: Bootstrap,
    author: &Author,
    now: NaiveDateTime,
) -> Result<Bootstrapped, AccountsError> {
    use crate::domain::UnitKind;
    use crate::units::{UnitInput, UnitsError, put_unit};
    if let Some(existing) = store
        .units()
        .await?
        .into_iter()
        .find(|unit| unit.kind == UnitKind::Province)
    {
        return Err(AccountsError::Conflict(format!(
            "this database already holds the province `{}` ({}); nothing was changed. Manage its accounts with `motcua token create|list|revoke`",
            existing.code, existing.name
        )));
    }
    let input = UnitInput {
        line: None,
        code: request.code.trim().to_string(),
        name: request.name.trim().to_string(),
        kind: UnitKind::Province.as_str().into(),
        agency_id: request.agency_id.trim().to_string(),
        parent: String::new(),
    };
    let (province, _) = put_unit(store, input, author, &format_civil(now))
        .await
        .map_err(|error| match error {
            UnitsError::Invalid(errors) => AccountsError::Invalid(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            UnitsError::Conflict(message) => AccountsError::Conflict(message),
            UnitsError::Store(error) => AccountsError::Store(error),
        })?;
    let mut accounts = Vec::new();
    let mut roles = vec![(Role::Admin, request.admin_name)];
    if request.publisher {
        roles.push((Role::Publisher, None));
    }
    for (role, name) in roles {
        let account = NewAccount {
            unit: province.code.clone(),
            role: role.as_str().into(),
            name,
            expires: None,
            password: None,
        };
        accounts.push(create(store, account, author, now).await?);
    }
    Ok(Bootstrapped { province, accounts })
}

/// The fixed, public token `motcua demo` gives a unit's account of a role.
pub fn demo_token(unit: &str, role: &str) -> String {
    format!("demo-{unit}-{role}")
}

/// Accounts that are not revoked and whose token is the public demo token of their
/// unit and role (`demo-<unit>-<role>`): anyone who read the README can use them.
/// Found by hashing each account's demo token and comparing it with the stored hash,
/// so accounts created with random tokens never match, whatever their name.
pub async fn demo_accounts(store: &Store) -> Result<Vec<ActorRecord>, StoreError> {
    Ok(store
        .active_token_hashes()
        .await?
        .into_iter()
        .filter(|(account, hash)| {
            *hash == sha256_hex(demo_token(&account.unit, &account.role).as_bytes())
        })
        .map(|(account, _)| account)
        .collect())
}

/// An account as the audit records it.
pub fn account_view(account: &ActorRecord) -> Value {
    json!({
        "id": account.id,
        "unit": account.unit,
        "role": account.role,
        "created_at": account.created_at,
        "expires_at": account.expires_at,
        "revoked_at": account.revoked_at,
    })
}

/// The accounts as `motcua token list` prints them: one a line, aligned, with their
/// state at `now`.
pub fn table(accounts: &[ActorRecord], now: NaiveDateTime) -> String {
    let mut out = format!(
        "{:<32} {:<14} {:<11} {:<26} {:<26} {}\n",
        "id", "unit", "role", "created", "expires", "state"
    );
    for account in accounts {
        out.push_str(&format!(
            "{:<32} {:<14} {:<11} {:<26} {:<26} {}\n",
            account.id,
            account.unit,
            account.role,
            account.created_at,
            account.expires_at.as_deref().unwrap_or("never"),
            AccountState::of(account, now)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_bare_date_is_valid_through_the_end_of_that_day() {
        let now = at("2026-03-02 09:00");
        assert_eq!(
            parse_expiry("2026-03-02", now).unwrap(),
            at("2026-03-03 00:00")
        );
        assert_eq!(
            parse_expiry("2026-03-02T10:00:00Z", now).unwrap(),
            at("2026-03-02 17:00"),
            "other offsets become civil time"
        );
        assert!(matches!(
            parse_expiry("2026-03-01", now),
            Err(AccountsError::Invalid(message)) if message.contains("not in the future")
        ));
        assert!(parse_expiry("2026-03-02T09:00:00+07:00", now).is_err());
        assert!(parse_expiry("next week", now).is_err());
    }

    #[test]
    fn revocation_outranks_expiry_and_unreadable_expiries_count_as_passed() {
        let mut account = ActorRecord {
            id: "a".into(),
            unit: "u".into(),
            role: "officer".into(),
            name: "a".into(),
            created_at: "2026-03-01T09:00:00+07:00".into(),
            expires_at: Some("2026-03-03T00:00:00+07:00".into()),
            revoked_at: None,
        };
        assert_eq!(
            AccountState::of(&account, at("2026-03-02 23:59")),
            AccountState::Active
        );
        assert_eq!(
            AccountState::of(&account, at("2026-03-03 00:00")),
            AccountState::Expired
        );
        account.revoked_at = Some("2026-03-02T10:00:00+07:00".into());
        assert_eq!(
            AccountState::of(&account, at("2026-03-03 00:00")),
            AccountState::Revoked
        );
        account.revoked_at = None;
        account.expires_at = Some("garbage".into());
        assert_eq!(
            AccountState::of(&account, at("2026-03-02 09:00")),
            AccountState::Expired
        );
    }
}
