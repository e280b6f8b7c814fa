//! The files of dossiers: the scanned or uploaded components and the electronic results.
//!
//! Content is addressed by its sha256, so the same file uploaded twice is stored once,
//! and every read is checked against its address: a missing or corrupt object is an
//! error that names it, never wrong bytes. One interface ([`ContentStore`]) over two
//! backends, both through the `object_store` crate: a directory on disk (the embedded
//! default, beside the SQLite file) and S3-compatible object storage for several hosts
//! (docs/decisions/0018-documents.md). The database keeps which dossier declared which
//! file; this module knows only bytes.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;

mod content;
pub mod verify;

pub use content::{Body, ContentStore, Fetched, Stored};

/// Where the content lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    /// A directory on this machine (created when missing). Several hosts may share it
    /// only if it is one shared filesystem.
    Directory(PathBuf),
    /// An S3-compatible bucket, `s3://bucket` or `s3://bucket/prefix`.
    S3(S3Config),
}

/// An S3-compatible bucket. Fields left `None` are read from the standard `AWS_*`
/// environment variables (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct S3Config {
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Plain HTTP to the endpoint (a test server or a private network).
    pub allow_http: bool,
}

impl StorageConfig {
    /// The directory store beside a SQLite database file (`./motcua.db` keeps its files
    /// in `./motcua-documents/`); for other databases, `./motcua-documents/`.
    pub fn beside_database(database_url: &str) -> StorageConfig {
        let file = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|path| !path.is_empty() && *path != ":memory:");
        let dir = match file {
            Some(path) => {
                let path = PathBuf::from(path);
                let stem = path
                    .file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "motcua".into());
                path.with_file_name(format!("{stem}-documents"))
            }
            None => PathBuf::from("motcua-documents"),
        };
        StorageConfig::Directory(dir)
    }
}

/// A content type motcua recognises from a file's first bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContentType(String);

impl ContentType {
    /// The type the content's first bytes show, if any known type matches.
    pub fn sniff(head: &[u8]) -> Option<ContentType> {
        infer::get(head).map(|kind| ContentType(kind.mime_type().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ContentType {
    type Err = String;

    /// A MIME type (`application/pdf`) or a short name (`pdf`, `jpeg`, `png`).
    fn from_str(text: &str) -> Result<ContentType, String> {
        let text = text.trim().to_ascii_lowercase();
        let mime = match text.as_str() {
            "pdf" => "application/pdf",
            "jpeg" | "jpg" => "image/jpeg",
            "png" => "image/png",
            "tiff" | "tif" => "image/tiff",
            "webp" => "image/webp",
            other => other,
        };
        if infer::is_mime_supported(mime) {
            Ok(ContentType(mime.to_string()))
        } else {
            Err(format!(
                "`{text}` is not a content type motcua recognises from a file's bytes; use a MIME type such as application/pdf, image/jpeg, image/png"
            ))
        }
    }
}

/// How large files may be and what they may be; one set per host (`motcua serve
/// --max-document-mib`, `--max-dossier-documents-mib`, `--document-types`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentLimits {
    /// The largest single file.
    pub max_file_bytes: u64,
    /// The most all of one dossier's files (components and result, each distinct file
    /// once) may add up to.
    pub max_dossier_bytes: u64,
    /// The content types accepted, recognised from the bytes, never from the name or
    /// the client's `Content-Type`.
    pub allowed_types: Vec<ContentType>,
}

pub const DEFAULT_MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
pub const DEFAULT_MAX_DOSSIER_BYTES: u64 = 100 * 1024 * 1024;

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_dossier_bytes: DEFAULT_MAX_DOSSIER_BYTES,
            allowed_types: ["application/pdf", "image/jpeg", "image/png"]
                .into_iter()
                .map(|mime| ContentType(mime.to_string()))
                .collect(),
        }
    }
}

impl DocumentLimits {
    pub fn allows(&self, content_type: &ContentType) -> bool {
        self.allowed_types.contains(content_type)
    }

    pub fn allowed_names(&self) -> Vec<String> {
        self.allowed_types
            .iter()
            .map(|kind| kind.as_str().to_string())
            .collect()
    }
}

/// What a stored file must be: its sha256 (64 lowercase hex digits) and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub sha256: String,
    pub size: u64,
}

/// Why content was not stored or not read. Every refusal of an upload leaves nothing
/// stored.
#[derive(Debug, Error)]
pub enum ContentError {
    #[error("the file is over {limit} bytes, the most this server accepts for one file")]
    TooLarge { limit: u64 },
    #[error("the file is {received} bytes but {declared} were declared")]
    SizeMismatch { declared: u64, received: u64 },
    #[error("the file's sha256 is {received} but {declared} was declared")]
    DigestMismatch { declared: String, received: String },
    #[error("{}; accepted: {}", match detected { Some(kind) => format!("the file is {kind}"), None => "the file's type is not recognised from its bytes".to_string() }, allowed.join(", "))]
    UnsupportedType {
        detected: Option<String>,
        allowed: Vec<String>,
    },
    #[error("the stored file {sha256} is missing from the document store")]
    Missing { sha256: String },
    #[error("the stored file {sha256} is corrupt: its content hashes to {actual}")]
    Corrupt { sha256: String, actual: String },
    #[error("the upload was cut short: {0}")]
    Interrupted(String),
    #[error("the upload stalled: no data for {seconds} seconds")]
    Stalled { seconds: u64 },
    #[error(
        "the upload is too slow: it did not finish in time at the least rate this server accepts"
    )]
    TooSlow,
    #[error("too many files are being transferred; try again in a few seconds")]
    Busy,
    #[error("document store: {0}")]
    Backend(String),
}

impl From<object_store::Error> for ContentError {
    fn from(error: object_store::Error) -> Self {
        ContentError::Backend(error.to_string())
    }
}

/// True for a well-formed content address.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_store_sits_beside_a_sqlite_file() {
        for (url, dir) in [
            ("sqlite://motcua.db", "motcua-documents"),
            (
                "sqlite:///var/lib/motcua/phu-tho.db?mode=rwc",
                "/var/lib/motcua/phu-tho-documents",
            ),
            ("sqlite::memory:", "motcua-documents"),
            ("postgres://motcua@db/motcua", "motcua-documents"),
        ] {
            assert_eq!(
                StorageConfig::beside_database(url),
                StorageConfig::Directory(PathBuf::from(dir)),
                "{url}"
            );
        }
    }

    #[test]
    fn content_types_are_named_by_mime_type_or_short_name() {
        for (text, mime) in [
            ("pdf", "application/pdf"),
            ("JPG", "image/jpeg"),
            (" image/png ", "image/png"),
        ] {
            assert_eq!(text.parse::<ContentType>().unwrap().as_str(), mime);
        }
        let error = "application/x-unknown".parse::<ContentType>().unwrap_err();
        assert!(error.contains("application/pdf"), "{error}");
    }

    #[test]
    fn types_are_recognised_from_bytes_not_names() {
        assert_eq!(
            ContentType::sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").map(|t| t.0),
            Some("application/pdf".to_string())
        );
        assert_eq!(
            ContentType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map(|t| t.0),
            Some("image/png".to_string())
        );
        assert_eq!(ContentType::sniff(b"just some text"), None);
    }
}
