//! The content store: put a stream under its declared sha256 (checked before anything
//! becomes visible), get it back checked.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{ContentError, ContentType, DocumentLimits, Expected, StorageConfig, is_sha256};

/// A request body as the content store reads it: chunks, or why the stream broke.
pub type Body = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, ContentError>> + Send>>;

/// The bytes the content type is recognised from (enough for PDF, JPEG, PNG, TIFF,
/// WebP and the other types `infer` knows by their first bytes).
const SNIFF_BYTES: usize = 64;

/// Parts of a multipart upload (S3 wants at least 5 MiB for all but the last).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where content lives, addressed by sha256: `sha256/<first two digits>/<sha256>`.
#[derive(Clone)]
pub struct ContentStore {
    objects: Arc<dyn ObjectStore>,
    prefix: Path,
    label: String,
    /// How long an upload may send nothing before it is abandoned.
    idle_timeout: Duration,
    /// Transfers in progress at once: each holds up to a file (a read is checked whole
    /// before it is sent) or a few multipart parts in memory, so memory stays bounded
    /// whatever the number of connections; the others wait their turn.
    transfers: Arc<Semaphore>,
}

/// Transfers (uploads and reads) in progress at once, per host.
pub const DEFAULT_CONCURRENT_TRANSFERS: usize = 16;

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub content_type: ContentType,
    /// The same content was already stored (by this dossier or another): nothing was
    /// written.
    pub already_stored: bool,
}

impl std::fmt::Debug for ContentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentStore")
            .field("at", &self.label)
            .finish()
    }
}

impl ContentStore {
    /// Opens (and for a directory, creates) the store.
    pub fn open(config: &StorageConfig) -> Result<ContentStore, ContentError> {
        match config {
            StorageConfig::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|error| {
                    ContentError::Backend(format!(
                        "cannot create the document directory {}: {error}",
                        dir.display()
                    ))
                })?;
                // fsync before a file becomes visible: an acknowledged upload survives
                // a power cut.
                let local = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
                Ok(ContentStore {
                    objects: Arc::new(local),
                    prefix: Path::default(),
                    label: format!("directory {}", dir.display()),
                    idle_timeout: Duration::from_secs(30),
                    transfers: Arc::new(Semaphore::new(DEFAULT_CONCURRENT_TRANSFERS)),
                })
            }
            StorageConfig::S3(s3) => {
                let rest = s3.url.strip_prefix("s3://").ok_or_else(|| {
                    ContentError::Backend(format!(
                        "`{}` is not an S3 URL; write s3://bucket or s3://bucket/prefix",
                        s3.url
                    ))
                })?;
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(ContentError::Backend(format!(
                        "`{}` names no bucket; write s3://bucket or s3://bucket/prefix",
                        s3.url
                    )));
                }
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                if s3.allow_http {
                    builder = builder.with_allow_http(true);
                }
                let objects = builder.build()?;
                Ok(ContentStore {
                    objects: Arc::new(objects),
                    prefix: Path::from(prefix.trim_matches('/')),
                    label: format!("bucket {}", s3.url),
                    idle_timeout: Duration::from_secs(30),
                    transfers: Arc::new(Semaphore::new(DEFAULT_CONCURRENT_TRANSFERS)),
                })
            }
        }
    }

    /// Abandons an upload that sends nothing for `timeout`.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> ContentStore {
        self.idle_timeout = timeout;
        self
    }

    /// Where the store is, for logs and `motcua documents verify`.
    pub fn describe(&self) -> &str {
        &self.label
    }

    fn location(&self, sha256: &str) -> Path {
        let mut location = self.prefix.clone();
        for part in ["sha256", &sha256[..2], sha256] {
            location = location.join(part);
        }
        location
    }

    /// Stores `body` as the file `expected` declares. The content type is recognised
    /// from the first bytes and must be allowed by `limits`; the size and the sha256
    /// must be the declared ones. Nothing becomes visible unless every check holds: a
    /// refused, failed or interrupted upload is aborted, and a file already stored is
    /// read through and checked but not written again.
    ///
    /// Run it in its own task (`tokio::spawn`) when the body comes from a client: if
    /// the request is dropped, the upload still ends in an abort.
    pub async fn put(
        &self,
        expected: &Expected,
        limits: &DocumentLimits,
        mut body: Body,
    ) -> Result<Stored, ContentError> {
        if !is_sha256(&expected.sha256) {
            return Err(ContentError::Backend(format!(
                "`{}` is not a sha256 content address",
                expected.sha256
            )));
        }
        if expected.size > limits.max_file_bytes {
            return Err(ContentError::TooLarge {
                limit: limits.max_file_bytes,
            });
        }
        let _turn = self.turn().await?;
        // The first bytes decide the type before anything is written.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut pending: Vec<Bytes> = Vec::new();
        let mut ended = false;
        while head.len() < SNIFF_BYTES {
            match self.next_chunk(&mut body).await? {
                Some(chunk) => {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                    pending.push(chunk);
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        let content_type = match ContentType::sniff(&head) {
            Some(kind) if limits.allows(&kind) => kind,
            detected => {
                return Err(ContentError::UnsupportedType {
                    detected: detected.map(|kind| kind.to_string()),
                    allowed: limits.allowed_names(),
                });
            }
        };

        let location = self.location(&expected.sha256);
        let already_stored = match self.objects.head(&location).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(error) => return Err(error.into()),
        };
        let mut sink = if already_stored {
            None
        } else {
            let upload = self.objects.put_multipart(&location).await?;
            Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES))
        };
        let outcome = self
            .stream_into(expected, limits, &mut body, pending, ended, sink.as_mut())
            .await;
        match (outcome, sink) {
            (Ok(()), Some(sink)) => {
                sink.finish().await?;
            }
            (Ok(()), None) => {}
            (Err(error), Some(sink)) => {
                if let Err(abort) = sink.abort().await {
                    tracing::warn!(%abort, "aborting a refused upload");
                }
                return Err(error);
            }
            (Err(error), None) => return Err(error),
        }
        Ok(Stored {
            sha256: expected.sha256.clone(),
            size: expected.size,
            content_type,
            already_stored,
        })
    }

    /// Hashes and counts the whole body (the chunks already read first), writing it to
    /// `sink` when there is one; checks size and digest at the end.
    async fn stream_into(
        &self,
        expected: &Expected,
        limits: &DocumentLimits,
        body: &mut Body,
        pending: Vec<Bytes>,
        mut ended: bool,
        mut sink: Option<&mut WriteMultipart>,
    ) -> Result<(), ContentError> {
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        let mut queue = pending.into_iter();
        loop {
            let chunk = match queue.next() {
                Some(chunk) => chunk,
                None if ended => break,
                None => match self.next_chunk(body).await? {
                    Some(chunk) => chunk,
                    None => {
                        ended = true;
                        continue;
                    }
                },
            };
            received += chunk.len() as u64;
            if received > limits.max_file_bytes {
                return Err(ContentError::TooLarge {
                    limit: limits.max_file_bytes,
                });
            }
            if received > expected.size {
                return Err(ContentError::SizeMismatch {
                    declared: expected.size,
                    received,
                });
            }
            hasher.update(&chunk);
            if let Some(sink) = sink.as_deref_mut() {
                sink.wait_for_capacity(2).await?;
                sink.put(chunk);
            }
        }
        if received != expected.size {
            return Err(ContentError::SizeMismatch {
                declared: expected.size,
                received,
            });
        }
        let digest = hex::encode(hasher.finalize());
        if digest != expected.sha256 {
            return Err(ContentError::DigestMismatch {
                declared: expected.sha256.clone(),
                received: digest,
            });
        }
        Ok(())
    }

    async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ContentError> {
        self.transfers
            .acquire()
            .await
            .map_err(|_| ContentError::Backend("the document store is shutting down".into()))
    }

    async fn next_chunk(&self, body: &mut Body) -> Result<Option<Bytes>, ContentError> {
        match tokio::time::timeout(self.idle_timeout, body.next()).await {
            Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
            Ok(Some(Err(error))) => Err(error),
            Ok(None) => Ok(None),
            Err(_) => Err(ContentError::Stalled {
                seconds: self.idle_timeout.as_secs(),
            }),
        }
    }

    /// The file stored under `sha256`, checked against it: `Missing` or `Corrupt`
    /// rather than wrong bytes.
    pub async fn get(&self, sha256: &str) -> Result<Bytes, ContentError> {
        let _turn = self.turn().await?;
        let bytes = self.read(sha256).await?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(ContentError::Corrupt {
                sha256: sha256.to_string(),
                actual,
            });
        }
        Ok(bytes)
    }

    async fn read(&self, sha256: &str) -> Result<Bytes, ContentError> {
        if !is_sha256(sha256) {
            return Err(ContentError::Missing {
                sha256: sha256.to_string(),
            });
        }
        match self.objects.get(&self.location(sha256)).await {
            Ok(result) => Ok(result.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(ContentError::Missing {
                sha256: sha256.to_string(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether a file is stored under `sha256` (without reading it).
    pub async fn contains(&self, sha256: &str) -> Result<bool, ContentError> {
        match self.objects.head(&self.location(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Every content address stored, with its size (for `motcua documents verify`).
    pub async fn list(&self) -> Result<Vec<(String, u64)>, ContentError> {
        let root = self.prefix.clone().join("sha256");
        let mut listing = self.objects.list(Some(&root));
        let mut found = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if let Some(name) = meta.location.filename() {
                found.push((name.to_string(), meta.size));
            }
        }
        found.sort();
        Ok(found)
    }
}
