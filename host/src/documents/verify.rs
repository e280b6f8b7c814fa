//! `motcua documents verify`: every file the dossiers hold, read back and checked
//! against its sha256; what is missing or corrupt is named with the dossiers that hold
//! it, and stored content no dossier refers to is listed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ContentError, ContentStore};
use crate::store::{FileReference, Store, StoreError};

/// What the check found.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// Where the content was read from.
    pub store: String,
    /// Distinct files the dossiers refer to, all read.
    pub checked: usize,
    /// Of those, the ones whose content matched its sha256.
    pub ok: usize,
    pub missing: Vec<Damaged>,
    pub corrupt: Vec<Damaged>,
    /// Stored content no dossier refers to (an upload whose dossier update failed, or a
    /// store shared with another database): harmless, listed for the operator.
    pub unreferenced: Vec<String>,
    /// A directory store's leftovers of unfinished uploads (never content).
    pub staging_leftovers: Vec<String>,
}

/// A file that cannot be served, with every dossier that holds it.
#[derive(Debug, Serialize)]
pub struct Damaged {
    pub sha256: String,
    pub detail: String,
    /// `<dossier code>: <component name or "result">`.
    pub held_by: Vec<String>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

/// Reads every referenced file once.
pub async fn verify(store: &Store, content: &ContentStore) -> Result<VerifyReport, VerifyError> {
    let references = store.file_references().await?;
    let mut by_file: BTreeMap<String, Vec<FileReference>> = BTreeMap::new();
    for reference in references {
        by_file
            .entry(reference.sha256.clone())
            .or_default()
            .push(reference);
    }
    let mut report = VerifyReport {
        store: content.describe().to_string(),
        ..VerifyReport::default()
    };
    for (sha256, holders) in &by_file {
        report.checked += 1;
        let held_by = holders
            .iter()
            .map(|holder| format!("{}: {}", holder.dossier_code, holder.what))
            .collect();
        match content.get(sha256).await {
            Ok(_) => report.ok += 1,
            Err(error @ ContentError::Missing { .. }) => report.missing.push(Damaged {
                sha256: sha256.clone(),
                detail: error.to_string(),
                held_by,
            }),
            Err(error @ ContentError::Corrupt { .. }) => report.corrupt.push(Damaged {
                sha256: sha256.clone(),
                detail: error.to_string(),
                held_by,
            }),
            Err(error) => return Err(VerifyError::Content(error)),
        }
    }
    for (sha256, _size) in content.list().await.map_err(VerifyError::Content)? {
        if !by_file.contains_key(&sha256) {
            report.unreferenced.push(sha256);
        }
    }
    report.staging_leftovers = content
        .staging_leftovers()
        .into_iter()
        .map(|path| path.display().to_string())
        .collect();
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Content(ContentError),
}
