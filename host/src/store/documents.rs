//! Which stored files the dossiers refer to, for `motcua documents verify`.

use sqlx::Row;

use super::{Result, Store};
use crate::domain::ResultDocument;

/// A file a dossier holds: a component's or the result's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReference {
    pub sha256: String,
    pub size: u64,
    pub dossier_code: String,
    /// The component's name, or `result`.
    pub what: String,
}

impl Store {
    /// Every stored file every dossier refers to, by sha256 then dossier.
    pub async fn file_references(&self) -> Result<Vec<FileReference>> {
        let mut found: Vec<FileReference> = sqlx::query(
            "SELECT sha256, size, dossier_code, name FROM dossier_documents WHERE digitized = 1",
        )
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|row| FileReference {
            sha256: row.get(0),
            size: row.get::<i64, _>(1).max(0) as u64,
            dossier_code: row.get(2),
            what: row.get(3),
        })
        .collect();
        let results =
            sqlx::query("SELECT code, result_json FROM dossiers WHERE result_json IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        for row in results {
            let text: String = row.get(1);
            let Ok(result) = serde_json::from_str::<ResultDocument>(&text) else {
                continue;
            };
            if let Some(file) = result.file {
                found.push(FileReference {
                    sha256: file.sha256,
                    size: file.size,
                    dossier_code: row.get(0),
                    what: "result".into(),
                });
            }
        }
        found.sort_by(|a, b| (&a.sha256, &a.dossier_code).cmp(&(&b.sha256, &b.dossier_code)));
        Ok(found)
    }
}
