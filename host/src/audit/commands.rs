//! `motcua audit keygen|anchor|verify`: the subcommand's arguments and what each one
//! does, as text for the terminal; `main.rs` only sets the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};

use super::anchor::{AnchorKey, Anchored, AuditError, PublicKey, anchor_day, short_id};
use crate::clock::Clock;
use crate::store::Store;

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Write a new Ed25519 key pair: the private key, readable by its owner only, for
    /// the hosts or the cron job that anchor; the public key, for auditors.
    Keygen {
        /// Where to write the private key (PKCS#8 PEM); an existing file is refused.
        #[arg(long)]
        private_key: PathBuf,
        /// Where to write the public key (PEM); an existing file is refused.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Sign the heads of the audit chains as they stood at the end of a civil day
    /// (default: yesterday), for cron after 00:05. Anchoring a day twice, on any
    /// host, stores one anchor.
    Anchor {
        /// The day (YYYY-MM-DD); it must be over, and after the latest anchored day.
        #[arg(long)]
        day: Option<String>,
        /// The private key to sign with.
        #[arg(long, env = "MOTCUA_AUDIT_KEY_FILE")]
        audit_key_file: PathBuf,
        #[command(flatten)]
        database: Database,
    },
    /// Recompute every dossier's chain and check it against every anchor. Exits 1 on
    /// any mismatch, 2 when no public key was given to check the signatures with.
    Verify {
        /// A public key anchors may be signed with (repeat for keys used over time).
        #[arg(long = "public-key")]
        public_keys: Vec<PathBuf>,
        /// Without --public-key: check with the public half of this private key.
        #[arg(long, env = "MOTCUA_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        /// The day (YYYY-MM-DD) the anchors must reach, e.g. yesterday for a daily
        /// check: anchors that end earlier (the latest ones deleted, or anchoring
        /// stopped) fail the check, since the events after them are unprotected.
        #[arg(long)]
        anchored_through: Option<NaiveDate>,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(clap::Args, Clone)]
pub struct Database {
    /// sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        visible_alias = "database",
        env = "MOTCUA_DATABASE_URL",
        default_value = "sqlite://motcua.db"
    )]
    database_url: String,
}

impl Database {
    async fn open(&self) -> anyhow::Result<Store> {
        Store::connect(&self.database_url)
            .await
            .with_context(|| format!("opening the database at {}", self.database_url))
    }
}

/// Runs `motcua audit ...` on the database directly; returns the exit code: 0, or for
/// `verify` 1 on a mismatch and 2 when the signatures could not be checked.
pub async fn run(command: AuditCommand, operator: &str) -> anyhow::Result<i32> {
    match command {
        AuditCommand::Keygen {
            private_key,
            public_key,
        } => print!("{}", keygen(&private_key, &public_key)?),
        AuditCommand::Anchor {
            day,
            audit_key_file,
            database,
        } => {
            let store = database.open().await?;
            let now = Clock::system().now();
            let done = anchor(&store, &audit_key_file, day.as_deref(), now, operator).await;
            store.close().await;
            print!("{}", done?);
        }
        AuditCommand::Verify {
            public_keys,
            audit_key_file,
            anchored_through,
            database,
        } => {
            let keys = verifying_keys(&public_keys, audit_key_file.as_deref())?;
            let store = database.open().await?;
            let report = super::verify(&store, &keys).await;
            store.close().await;
            let report = report?;
            print!("{}", report.text());
            if !report.consistent() {
                return Ok(1);
            }
            if let Some(expected) = anchored_through {
                // Days are stored as YYYY-MM-DD, so they compare as text.
                let expected = expected.format("%Y-%m-%d").to_string();
                if report
                    .last_day
                    .as_deref()
                    .is_none_or(|last| last < expected.as_str())
                {
                    println!(
                        "FAILED: the anchors end at {}, before {expected}: the latest anchors \
                         were deleted or anchoring stopped, and the events since are not protected",
                        report.last_day.as_deref().unwrap_or("(no anchor)")
                    );
                    return Ok(1);
                }
            }
            if !report.signatures_checked() {
                return Ok(2);
            }
        }
    }
    Ok(0)
}

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
