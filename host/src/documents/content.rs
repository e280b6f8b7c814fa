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
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

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
    /// The directory of a directory store (for its leftover staging files).
    root: Option<std::path::PathBuf>,
    /// How long an upload may send nothing before it is abandoned.
    idle_timeout: Duration,
    /// Uploads in progress at once (each holds a few multipart parts in memory).
    uploads: Arc<Semaphore>,
    /// Reads in progress at once (each holds its file, checked whole before it is sent,
    /// until the last byte is handed to the connection).
    reads: Arc<Semaphore>,
}

/// Uploads in progress at once, per host; more wait up to [`SLOT_WAIT`].
pub const CONCURRENT_UPLOADS: usize = 16;
/// Reads in progress at once, per host.
pub const CONCURRENT_READS: usize = 32;
/// How long a transfer waits for its turn before it is answered 503 `busy`.
const SLOT_WAIT: Duration = Duration::from_secs(10);
/// The slowest an upload may be on average, after a grace period: a client that
/// trickles bytes to keep an upload slot is cut off.
const MIN_UPLOAD_BYTES_PER_SECOND: u64 = 32 * 1024;
const UPLOAD_GRACE: Duration = Duration::from_secs(30);
/// A read is handed to the connection in pieces of this size, its slot held until the
/// last one is taken.
const READ_PIECE: usize = 64 * 1024;

/// A checked file on its way to a client: its bytes and the read slot it holds until
/// they are all taken.
pub struct Fetched {
    pub bytes: Bytes,
    permit: OwnedSemaphorePermit,
}

impl Fetched {
    /// The bytes as a stream of pieces; the read slot is released after the last one.
    pub fn into_stream(
        self,
    ) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static {
        let Fetched { bytes, permit } = self;
        let pieces: Vec<Bytes> = (0..bytes.len())
            .step_by(READ_PIECE)
            .map(|start| bytes.slice(start..(start + READ_PIECE).min(bytes.len())))
            .collect();
        futures::stream::iter(pieces.into_iter().map(Ok)).chain(futures::stream::once(async move {
            drop(permit);
            Ok(Bytes::new())
        }))
    }
}

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub content_type: ContentType,
    /// The same content was already stored (by this dossier or another): it is still
    /// one object.
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
                    root: Some(dir.clone()),
                    idle_timeout: Duration::from_secs(30),
                    uploads: Arc::new(Semaphore::new(CONCURRENT_UPLOADS)),
                    reads: Arc::new(Semaphore::new(CONCURRENT_READS)),
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
                    root: None,
                    idle_timeout: Duration::from_secs(30),
                    uploads: Arc::new(Semaphore::new(CONCURRENT_UPLOADS)),
                    reads: Arc::new(Semaphore::new(CONCURRENT_READS)),
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
    /// checked and written again under the same name (so it is still stored once).
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
        let _turn = turn(&self.uploads).await?;
        let deadline = tokio::time::Instant::now()
            + UPLOAD_GRACE
            + Duration::from_secs(expected.size / MIN_UPLOAD_BYTES_PER_SECOND);
        let body = &mut body;
        // The first bytes decide the type before anything is written.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut pending: Vec<Bytes> = Vec::new();
        let mut ended = false;
        while head.len() < SNIFF_BYTES {
            match self.next_chunk(body, deadline).await? {
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
        // Content already stored is written again all the same, under the same name: the
        // checked bytes are the only bytes that address can hold, so an object damaged
        // behind the store's back is repaired by the next upload, and it is still one
        // object (completing replaces it atomically, on a directory and on S3).
        let already_stored = match self.objects.head(&location).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(error) => return Err(error.into()),
        };
        let upload = self.objects.put_multipart(&location).await?;
        let mut sink = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let outcome = self
            .stream_into(expected, limits, body, pending, ended, &mut sink, deadline)
            .await;
        match outcome {
            Ok(()) => {
                sink.finish().await?;
            }
            Err(error) => {
                if let Err(abort) = sink.abort().await {
                    tracing::warn!(%abort, "aborting a refused upload");
                }
                return Err(error);
            }
        }
        Ok(Stored {
            sha256: expected.sha256.clone(),
            size: expected.size,
            content_type,
            already_stored,
        })
    }

    /// Hashes, counts and writes the whole body (the chunks already read first);
    /// checks size and digest at the end.
    #[allow(clippy::too_many_arguments)]
    async fn stream_into(
        &self,
        expected: &Expected,
        limits: &DocumentLimits,
        body: &mut Body,
        pending: Vec<Bytes>,
        mut ended: bool,
        sink: &mut WriteMultipart,
        deadline: tokio::time::Instant,
    ) -> Result<(), ContentError> {
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        let mut queue = pending.into_iter();
        loop {
            let chunk = match queue.next() {
                Some(chunk) => chunk,
                None if ended => break,
                None => match self.next_chunk(body, deadline).await? {
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
            sink.wait_for_capacity(2).await?;
            sink.put(chunk);
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

    /// The next chunk of the body, within the idle timeout and the upload's deadline
    /// (the least average rate), so that a slow client is refused through the same
    /// path as any other refusal, which aborts the upload.
    async fn next_chunk(
        &self,
        body: &mut Body,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Bytes>, ContentError> {
        let idle = tokio::time::Instant::now() + self.idle_timeout;
        match tokio::time::timeout_at(idle.min(deadline), body.next()).await {
            Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
            Ok(Some(Err(error))) => Err(error),
            Ok(None) => Ok(None),
            Err(_) if deadline <= idle => Err(ContentError::TooSlow),
            Err(_) => Err(ContentError::Stalled {
                seconds: self.idle_timeout.as_secs(),
            }),
        }
    }

    /// The file stored under `sha256`, checked against it: `Missing` or `Corrupt`
    /// rather than wrong bytes.
    pub async fn get(&self, sha256: &str) -> Result<Bytes, ContentError> {
        Ok(self.fetch(sha256).await?.bytes)
    }

    /// Like [`ContentStore::get`], keeping the read slot until the bytes are sent.
    pub async fn fetch(&self, sha256: &str) -> Result<Fetched, ContentError> {
        let permit = match tokio::time::timeout(SLOT_WAIT, self.reads.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => {
                return Err(ContentError::Backend(
                    "the document store is shutting down".into(),
                ));
            }
            Err(_) => return Err(ContentError::Busy),
        };
        let bytes = self.read(sha256).await?;
        let checked = bytes.clone();
        let actual = tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&checked)))
            .await
            .map_err(|error| ContentError::Backend(format!("hashing a read: {error}")))?;
        if actual != sha256 {
            return Err(ContentError::Corrupt {
                sha256: sha256.to_string(),
                actual,
            });
        }
        Ok(Fetched { bytes, permit })
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

    /// Files a directory store's unfinished uploads left behind (`<sha256>#<n>`: an
    /// upload cut by a crash or a failed rename); never visible as content, safe to
    /// delete once no upload is running. Empty for S3.
    pub fn staging_leftovers(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if entry.file_name().to_string_lossy().contains('#') {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        if let Some(root) = &self.root {
            walk(root, &mut found);
        }
        found.sort();
        found
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

/// A slot of `slots`, or `Busy` after [`SLOT_WAIT`].
async fn turn(slots: &Semaphore) -> Result<SemaphorePermit<'_>, ContentError> {
    match tokio::time::timeout(SLOT_WAIT, slots.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(ContentError::Backend(
            "the document store is shutting down".into(),
        )),
        Err(_) => Err(ContentError::Busy),
    }
}
