//! What `motcua audit keygen|anchor|verify` do, as text for the terminal; `main.rs`
//! only parses the command line and sets the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use super::anchor::{AnchorKey, Anchored, AuditError, PublicKey, anchor_day, short_id};
use crate::store::Store;

/// Writes a new key pair; refuses to overwrite either file. The private key file is
/// created readable and writable by its owner only.
pub fn keygen(private_path: &Path, public_path: &Path) -> Result<String, AuditError> {
    let key = AnchorKey::generate();
    let public_pem = key.public().pem()?;
    let private_pem = key.private_pem()?;
    write_new(public_path, public_pem.as_bytes(), 0o644)?;
    if let Err(error) = write_new(private_path, private_pem.as_bytes(), 0o600) {
        // Leave no public key whose private half was never written.
        let _ = std::fs::remove_file(public_path);
        return Err(error);
    }
    Ok(format!(
        "wrote the private key to {} (keep it off the database server) and the public key to {}\n\
         key id {}\n",
        private_path.display(),
        public_path.display(),
        key.id()
    ))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AuditError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let failed = |error: std::io::Error| AuditError::Key {
        path: path.display().to_string(),
        reason: error.to_string(),
    };
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// Anchors `day` (YYYY-MM-DD; default: the day before `now`).
pub async fn anchor(
    store: &Store,
    key_file: &Path,
    day: Option<&str>,
    now: NaiveDateTime,
    made_by: &str,
) -> Result<String, AuditError> {
    let key = AnchorKey::read(key_file)?;
    let day = match day {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| AuditError::Refused(format!("`{text}` is not a day like 2026-02-13")))?,
        None => now.date().pred_opt().unwrap_or(now.date()),
    };
    Ok(match anchor_day(store, &key, day, now, made_by).await? {
        Anchored::Made(anchor) => format!(
            "anchored {}: {} chain head(s) since {}, signed with key {}, digest {}\n",
            anchor.day,
            anchor.heads,
            anchor.since.as_deref().unwrap_or("the first event"),
            short_id(&anchor.key_id),
            anchor.digest
        ),
        Anchored::Already(anchor) => format!(
            "{} is anchored already (by {} at {}, key {}); nothing changed\n",
            anchor.day,
            anchor.made_by,
            anchor.made_at,
            short_id(&anchor.key_id)
        ),
    })
}

/// The keys `verify` checks with: the public key files, or else the public half of
/// the private key file.
pub fn verifying_keys(
    public_files: &[PathBuf],
    private_file: Option<&Path>,
) -> Result<Vec<PublicKey>, AuditError> {
    if public_files.is_empty() {
        return Ok(match private_file {
            Some(path) => vec![AnchorKey::read(path)?.public()],
            None => Vec::new(),
        });
    }
    public_files
        .iter()
        .map(|path| PublicKey::read(path))
        .collect()
}
