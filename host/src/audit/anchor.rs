//! Anchors: once a civil day, a signed statement of where every dossier's chain stood
//! at the day's end, made with an Ed25519 key the database does not hold.
//!
//! The first anchor covers every chain; each later one covers the chains that moved
//! since the anchor before it, so an anchor is as large as a day's work, not as the
//! whole trail. Every event is covered by the anchor of the day it was written in:
//! that anchor names its chain's head as of the day's end, and the head's hash covers
//! every event before it. Anchors chain too: each one names the digest of the one
//! before, so removing or changing an anchor breaks the link to the next.
//! See docs/decisions/0015-audit-anchors.md.

use std::fmt;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::GENESIS;
use crate::clock::format_civil;
use crate::store::{AnchorRecord, ChainHead, Store, StoreError};

/// Names the format of the signed statement; a later format gets a new name.
pub const STATEMENT_FORMAT: &str = "motcua-audit-anchor/1";

/// How long after midnight a day is anchored: writes that took their time before
/// midnight and commit a moment after it are then in the trail.
pub const GRACE: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error(
        "another host stored an anchor for another day after the same anchor at the same time; run again"
    )]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The private key anchors are signed with. Its `Debug` shows the key id only.
#[derive(Clone)]
pub struct AnchorKey {
    signing: SigningKey,
    id: String,
}

impl fmt::Debug for AnchorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnchorKey({})", short_id(&self.id))
    }
}

impl AnchorKey {
    /// A new random key, from the operating system's generator.
    pub fn generate() -> AnchorKey {
        use rand::TryRngCore;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut seed)
            .expect("the operating system's random generator works");
        AnchorKey::from_signing(SigningKey::from_bytes(&seed))
    }

    fn from_signing(signing: SigningKey) -> AnchorKey {
        let id = key_id(&signing.verifying_key());
        AnchorKey { signing, id }
    }

    /// Parses a PKCS#8 PEM private key (as `motcua audit keygen` or
    /// `openssl genpkey -algorithm ed25519` write it).
    pub fn from_pem(text: &str) -> Result<AnchorKey, String> {
        SigningKey::from_pkcs8_pem(text)
            .map(AnchorKey::from_signing)
            .map_err(|error| format!("not an Ed25519 private key in PKCS#8 PEM ({error})"))
    }

    /// Reads a private key file.
    pub fn read(path: &Path) -> Result<AnchorKey, AuditError> {
        let text = read_key_file(path)?;
        AnchorKey::from_pem(&text).map_err(|reason| key_error(path, reason))
    }

    /// The private key as PKCS#8 PEM, for `motcua audit keygen` to write.
    pub fn private_pem(&self) -> Result<String, AuditError> {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|error| AuditError::Key {
                path: "(new)".into(),
                reason: error.to_string(),
            })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.signing.verifying_key(),
            id: self.id.clone(),
        }
    }

    /// The sha256 of the raw public key, hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn sign(&self, statement: &str) -> String {
        hex::encode(self.signing.sign(statement.as_bytes()).to_bytes())
    }
}

/// A public key anchors are verified with.
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl PublicKey {
    /// Parses a SubjectPublicKeyInfo PEM public key.
    pub fn from_pem(text: &str) -> Result<PublicKey, String> {
        VerifyingKey::from_public_key_pem(text)
            .map(|key| PublicKey {
                id: key_id(&key),
                key,
            })
            .map_err(|error| format!("not an Ed25519 public key in PEM ({error})"))
    }

    /// Reads a public key file.
    pub fn read(path: &Path) -> Result<PublicKey, AuditError> {
        let text = read_key_file(path)?;
        PublicKey::from_pem(&text).map_err(|reason| key_error(path, reason))
    }

    pub fn pem(&self) -> Result<String, AuditError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|error| AuditError::Key {
                path: "(new)".into(),
                reason: error.to_string(),
            })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `signature` (hex) is this key's signature of `statement`.
    pub fn verifies(&self, statement: &str, signature: &str) -> bool {
        let Some(bytes) = hex::decode(signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        else {
            return false;
        };
        self.key
            .verify_strict(statement.as_bytes(), &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

fn read_key_file(path: &Path) -> Result<String, AuditError> {
    std::fs::read_to_string(path).map_err(|error| key_error(path, error.to_string()))
}

fn key_error(path: &Path, reason: String) -> AuditError {
    AuditError::Key {
        path: path.display().to_string(),
        reason,
    }
}

/// A key's id: the sha256 of its 32 raw public-key bytes, hex.
pub fn key_id(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())
}

/// The first 16 hex digits of a key id, as shown to people.
pub fn short_id(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The heads as stored and hashed: `[[code, seq, hash], ...]`, sorted by code.
pub fn heads_json(heads: &[ChainHead]) -> String {
    let rows: Vec<(&str, i64, &str)> = heads
        .iter()
        .map(|head| (head.dossier_code.as_str(), head.seq, head.hash.as_str()))
        .collect();
    serde_json::to_string(&rows).expect("strings and integers serialise")
}

/// Reads a stored heads list back; `None` when it is not one.
pub fn parse_heads(json: &str) -> Option<Vec<ChainHead>> {
    let rows: Vec<(String, i64, String)> = serde_json::from_str(json).ok()?;
    Some(
        rows.into_iter()
            .map(|(dossier_code, seq, hash)| ChainHead {
                dossier_code,
                seq,
                hash,
            })
            .collect(),
    )
}

/// The text an anchor's signature covers, and whose sha256 is its digest: every
/// field but the digest, the signature and who made it when.
pub fn statement(anchor: &AnchorRecord) -> String {
    serde_json::to_string(&(
        STATEMENT_FORMAT,
        &anchor.day,
        &anchor.since,
        &anchor.cutoff,
        &anchor.prev_digest,
        anchor.heads,
        &anchor.heads_digest,
        &anchor.key_id,
    ))
    .expect("strings and integers serialise")
}

/// Where a day's anchor stands: the start of the next civil day, as stored times read.
pub fn day_cutoff(day: NaiveDate) -> String {
    format_civil(day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN))
}

/// What anchoring a day did.
#[derive(Clone, Debug)]
pub enum Anchored {
    /// This call signed and stored the anchor.
    Made(AnchorRecord),
    /// The day was anchored already (by another host or an earlier run); nothing changed.
    Already(AnchorRecord),
}

impl Anchored {
    pub fn anchor(&self) -> &AnchorRecord {
        match self {
            Anchored::Made(anchor) | Anchored::Already(anchor) => anchor,
        }
    }
}

/// Anchors `day`: signs the heads of the chains that moved since the previous anchor
/// (every chain, for the first anchor) as they stood at the day's end, and stores it
/// unless another host did. Refuses a day that ended less than [`GRACE`] ago or is
/// before the latest anchor.
pub async fn anchor_day(
    store: &Store,
    key: &AnchorKey,
    day: NaiveDate,
    now: NaiveDateTime,
    made_by: &str,
) -> Result<Anchored, AuditError> {
    let ends = day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN);
    if now < ends + GRACE {
        return Err(AuditError::Refused(format!(
            "{day} has not ended yet, or ended less than {} minutes ago (civil time now is {}); \
             a day is anchored once it is over",
            GRACE.num_minutes(),
            format_civil(now)
        )));
    }
    let day_text = day.format("%Y-%m-%d").to_string();
    let latest = store.latest_audit_anchor().await?;
    if let Some(latest) = &latest {
        if latest.day == day_text {
            return Ok(Anchored::Already(latest.clone()));
        }
        if latest.day > day_text {
            return Err(AuditError::Refused(format!(
                "the audit trail is anchored through {} already; anchors are made in day order",
                latest.day
            )));
        }
    }
    let cutoff = day_cutoff(day);
    let since = latest.as_ref().map(|previous| previous.cutoff.clone());
    let heads = store.chain_heads(since.as_deref(), &cutoff).await?;
    let heads_json = heads_json(&heads);
    let mut anchor = AnchorRecord {
        day: day_text.clone(),
        since,
        cutoff,
        prev_digest: latest
            .map(|previous| previous.digest)
            .unwrap_or_else(|| GENESIS.to_string()),
        heads: heads.len() as i64,
        heads_digest: sha256_hex(heads_json.as_bytes()),
        heads_json,
        digest: String::new(),
        key_id: key.id().to_string(),
        signature: String::new(),
        made_at: format_civil(now),
        made_by: made_by.to_string(),
    };
    let statement = statement(&anchor);
    anchor.digest = sha256_hex(statement.as_bytes());
    anchor.signature = key.sign(&statement);
    if store.insert_audit_anchor(&anchor).await? {
        return Ok(Anchored::Made(anchor));
    }
    match store.audit_anchor(&day_text).await? {
        Some(theirs) => Ok(Anchored::Already(theirs)),
        None => Err(AuditError::Raced),
    }
}

/// What a serving host's anchoring task does each time it wakes: anchors yesterday once
/// it has been over for [`GRACE`], unless the trail is anchored through it already.
/// Safe on every host at once: exactly one of them stores the day's anchor.
pub async fn anchor_due(
    store: &Store,
    key: &AnchorKey,
    now: NaiveDateTime,
    made_by: &str,
) -> Result<Option<Anchored>, AuditError> {
    let today = now.date();
    if now < today.and_time(NaiveTime::MIN) + GRACE {
        return Ok(None);
    }
    let Some(yesterday) = today.pred_opt() else {
        return Ok(None);
    };
    let yesterday_text = yesterday.format("%Y-%m-%d").to_string();
    if let Some(latest) = store.latest_audit_anchor().await?
        && latest.day >= yesterday_text
    {
        return Ok(None);
    }
    anchor_day(store, key, yesterday, now, made_by)
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_and_sign() {
        let key = AnchorKey::generate();
        let again = AnchorKey::from_pem(&key.private_pem().unwrap()).unwrap();
        assert_eq!(again.id(), key.id());
        let public = PublicKey::from_pem(&key.public().pem().unwrap()).unwrap();
        assert_eq!(public.id(), key.id());
        let signature = key.sign("statement");
        assert!(public.verifies("statement", &signature));
        assert!(!public.verifies("statemenT", &signature));
        assert!(
            !AnchorKey::generate()
                .public()
                .verifies("statement", &signature)
        );
        assert!(!public.verifies("statement", "not hex"));
    }

    #[test]
    fn a_day_ends_at_the_next_civil_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        assert_eq!(day_cutoff(day), "2027-01-01T00:00:00+07:00");
    }

    #[test]
    fn heads_round_trip() {
        let heads = vec![ChainHead {
            dossier_code: "X-1".into(),
            seq: 3,
            hash: "ab".into(),
        }];
        assert_eq!(parse_heads(&heads_json(&heads)), Some(heads));
        assert_eq!(parse_heads("{}"), None);
    }
}
