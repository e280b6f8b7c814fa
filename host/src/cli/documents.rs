//! The document store's flags (shared by `serve`, `demo` and `documents verify`) and
//! `motcua documents verify`.

use std::path::PathBuf;

use anyhow::Context;
use motcua::documents::{
    ContentStore, ContentType, DocumentLimits, S3Config, StorageConfig, verify::verify,
};
use motcua::store::Store;

use crate::DatabaseArgs;

/// Where the files of dossiers live (docs/decisions/0018-documents.md).
#[derive(clap::Args, Clone)]
pub(crate) struct StorageArgs {
    /// Directory of the document store (default: beside a SQLite database,
    /// `./motcua-documents` otherwise). Several hosts need S3 or one shared filesystem.
    #[arg(long, env = "MOTCUA_DOCUMENTS_DIR", conflicts_with = "s3_url")]
    pub(crate) documents_dir: Option<PathBuf>,
    /// An S3-compatible bucket for the document store, `s3://bucket[/prefix]`; the
    /// other S3 settings fall back to the standard AWS_* environment variables.
    #[arg(long, env = "MOTCUA_S3_URL")]
    pub(crate) s3_url: Option<String>,
    /// The S3 endpoint (for storage other than AWS), e.g. https://s3.example.vn.
    #[arg(long, env = "MOTCUA_S3_ENDPOINT")]
    pub(crate) s3_endpoint: Option<String>,
    #[arg(long, env = "MOTCUA_S3_REGION")]
    pub(crate) s3_region: Option<String>,
    #[arg(long, env = "MOTCUA_S3_ACCESS_KEY_ID")]
    pub(crate) s3_access_key_id: Option<String>,
    #[arg(long, env = "MOTCUA_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub(crate) s3_secret_access_key: Option<String>,
    /// Talk plain HTTP to the S3 endpoint (a private network only).
    #[arg(long, env = "MOTCUA_S3_ALLOW_HTTP")]
    pub(crate) s3_allow_http: bool,
}

impl StorageArgs {
    /// The store these flags name; `None` leaves the default beside the database.
    pub(crate) fn config(&self) -> Option<StorageConfig> {
        if let Some(url) = &self.s3_url {
            return Some(StorageConfig::S3(S3Config {
                url: url.clone(),
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
                allow_http: self.s3_allow_http,
            }));
        }
        self.documents_dir.clone().map(StorageConfig::Directory)
    }

    pub(crate) fn config_for(&self, database_url: &str) -> StorageConfig {
        self.config()
            .unwrap_or_else(|| StorageConfig::beside_database(database_url))
    }
}

/// How large and of what type uploaded files may be.
#[derive(clap::Args, Clone)]
pub(crate) struct DocumentLimitArgs {
    /// The largest file accepted, in MiB.
    #[arg(long, env = "MOTCUA_MAX_DOCUMENT_MIB", default_value_t = 20)]
    pub(crate) max_document_mib: u64,
    /// The most one dossier's files may add up to, in MiB.
    #[arg(long, env = "MOTCUA_MAX_DOSSIER_DOCUMENTS_MIB", default_value_t = 100)]
    pub(crate) max_dossier_documents_mib: u64,
    /// Content types accepted, recognised from the bytes (MIME types or pdf, jpeg, png).
    #[arg(
        long,
        env = "MOTCUA_DOCUMENT_TYPES",
        value_delimiter = ',',
        default_value = "application/pdf,image/jpeg,image/png"
    )]
    pub(crate) document_types: Vec<String>,
}

impl DocumentLimitArgs {
    pub(crate) fn limits(&self) -> anyhow::Result<DocumentLimits> {
        let allowed_types = self
            .document_types
            .iter()
            .map(|text| text.parse::<ContentType>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| anyhow::anyhow!("--document-types: {error}"))?;
        if allowed_types.is_empty() {
            anyhow::bail!("--document-types: name at least one type, e.g. application/pdf");
        }
        if self.max_document_mib == 0 || self.max_dossier_documents_mib == 0 {
            anyhow::bail!("--max-document-mib and --max-dossier-documents-mib must be at least 1");
        }
        Ok(DocumentLimits {
            max_file_bytes: self.max_document_mib.saturating_mul(1024 * 1024),
            max_dossier_bytes: self.max_dossier_documents_mib.saturating_mul(1024 * 1024),
            allowed_types,
        })
    }
}

#[derive(clap::Subcommand)]
pub(crate) enum DocumentsCommand {
    /// Read back every file the dossiers hold and check it against its sha256; exit 1
    /// naming what is missing or corrupt and the dossiers holding it.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        storage: StorageArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `documents` command; the process's exit code.
pub(crate) async fn run(command: DocumentsCommand) -> anyhow::Result<i32> {
    match command {
        DocumentsCommand::Verify {
            database,
            storage,
            json,
        } => {
            let url = &database.database_url;
            let store = Store::connect(url)
                .await
                .with_context(|| format!("opening the database at {url}"))?;
            let config = storage.config_for(url);
            let content = ContentStore::open(&config)
                .with_context(|| format!("opening the document store {config:?}"))?;
            let report = verify(&store, &content).await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{}: {} file(s) checked, {} ok, {} missing, {} corrupt, {} not referred to by any dossier",
                    report.store,
                    report.checked,
                    report.ok,
                    report.missing.len(),
                    report.corrupt.len(),
                    report.unreferenced.len()
                );
                for leftover in &report.staging_leftovers {
                    println!(
                        "leftover of an unfinished upload (safe to delete when no upload runs): {leftover}"
                    );
                }
                for (what, damaged) in [("MISSING", &report.missing), ("CORRUPT", &report.corrupt)]
                {
                    for file in damaged {
                        println!("{what} {}: {}", file.sha256, file.detail);
                        for holder in &file.held_by {
                            println!("    held by {holder}");
                        }
                    }
                }
            }
            Ok(if report.is_clean() { 0 } else { 1 })
        }
    }
}
