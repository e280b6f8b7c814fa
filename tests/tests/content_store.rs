//! The document content store on its own, on a directory and on the S3 test server:
//! what is put comes back byte for byte, the same file is stored once, and every
//! refused, failed or stalled upload leaves nothing behind — no object, no staging
//! file, no pending multipart upload. Damage done behind the store's back is reported
//! as such on read, never served. And a test server's files live in the store its
//! storage names, for its restarts and second hosts too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use motcua::documents::{
    Body, ContentError, ContentStore, ContentType, DocumentLimits, Expected, StorageConfig,
};
use motcua_e2e::storage::samples::{self, sha256};
use motcua_e2e::{
    Backend, Storage, TestServer, delete_object, overwrite_object, raw_keys, storage_config,
};

/// One test per kind of store for each named `async fn(Storage)`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod directory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(motcua_e2e::Storage::Directory).await })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(motcua_e2e::Storage::S3).await })*
        }
    };
}

on_both_stores!(
    put_then_get_returns_the_bytes,
    the_same_file_is_stored_once,
    a_declared_digest_or_size_that_does_not_match_stores_nothing,
    other_bytes_under_a_stored_files_digest_leave_it_untouched,
    a_type_not_allowed_is_refused_before_the_body_is_read,
    a_file_over_the_limit_is_refused,
    an_upload_cut_short_leaves_nothing,
    an_upload_that_stalls_is_refused_and_leaves_nothing,
    damage_behind_the_stores_back_is_reported_on_read,
    a_damaged_object_is_repaired_by_the_next_upload,
    list_shows_what_is_stored,
);

motcua_e2e::storages_and_backends!(
    a_servers_files_outlive_a_restart_and_are_shared_with_a_second_host
);

/// The store a test server runs on is the one its storage names, and the files it
/// holds are there for a restarted host and for a second host on the same database.
async fn a_servers_files_outlive_a_restart_and_are_shared_with_a_second_host(
    backend: Backend,
    storage: Storage,
) {
    let server = TestServer::start_with_storage(backend, storage, "2026-03-02 09:00").await;
    match (&server.storage, storage) {
        (StorageConfig::Directory(dir), Storage::Directory) => {
            assert!(
                dir.is_absolute(),
                "in the test's temporary directory: {dir:?}"
            )
        }
        (StorageConfig::S3(s3), Storage::S3) => assert!(s3.url.starts_with("s3://")),
        (config, storage) => panic!("{storage:?} started on {config:?}"),
    }
    let bytes = samples::pdf("Giay chung sinh", 10_000);
    let stored = server
        .state
        .documents
        .put(
            &expected(&bytes),
            &DocumentLimits::default(),
            body(&bytes, 4096),
        )
        .await
        .expect("put through the server's store");
    assert_eq!(
        raw_keys(&server.storage).await,
        vec![object_key(&stored.sha256)],
        "the server wrote to the configured store"
    );

    let second = server.second_host().await;
    assert_eq!(second.storage, server.storage);
    assert_eq!(
        second
            .state
            .documents
            .get(&stored.sha256)
            .await
            .expect("get")
            .as_ref(),
        &bytes[..]
    );
    second.finish().await;

    let server = server.restart().await;
    assert_eq!(
        server
            .state
            .documents
            .get(&stored.sha256)
            .await
            .expect("get")
            .as_ref(),
        &bytes[..]
    );
    server.finish().await;
}

/// A fresh store of the kind asked for, its configuration (for the raw helpers) and
/// the temporary directory that holds a directory store.
async fn fresh(storage: Storage) -> (ContentStore, StorageConfig, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = storage_config(storage, dir.path()).await;
    let store = ContentStore::open(&config).expect("open the content store");
    (store, config, dir)
}

fn expected(bytes: &[u8]) -> Expected {
    Expected {
        sha256: sha256(bytes),
        size: bytes.len() as u64,
    }
}

/// The body as a client would send it: chunks of `chunk` bytes.
fn body(bytes: &[u8], chunk: usize) -> Body {
    let chunks: Vec<Result<Vec<u8>, ContentError>> =
        bytes.chunks(chunk).map(|part| Ok(part.to_vec())).collect();
    Box::pin(futures::stream::iter(
        chunks.into_iter().map(|part| part.map(Into::into)),
    ))
}

/// A body of `bytes` in chunks that counts how many chunks the store pulled.
fn counted_body(bytes: &[u8], chunk: usize, pulled: Arc<AtomicUsize>) -> Body {
    let chunks: Vec<Vec<u8>> = bytes.chunks(chunk).map(<[u8]>::to_vec).collect();
    Box::pin(futures::stream::iter(chunks.into_iter().map(move |part| {
        pulled.fetch_add(1, Ordering::SeqCst);
        Ok(part.into())
    })))
}

fn object_key(sha256: &str) -> String {
    format!("sha256/{}/{sha256}", &sha256[..2])
}

async fn put_ok(store: &ContentStore, bytes: &[u8]) -> motcua::documents::Stored {
    store
        .put(
            &expected(bytes),
            &DocumentLimits::default(),
            body(bytes, 1000),
        )
        .await
        .unwrap_or_else(|error| panic!("put refused: {error}"))
}

async fn put_then_get_returns_the_bytes(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let files = [
        (samples::pdf("Giay khai sinh", 20_000), "application/pdf"),
        (samples::png(), "image/png"),
        (samples::jpeg(), "image/jpeg"),
    ];
    for (bytes, mime) in &files {
        let stored = put_ok(&store, bytes).await;
        assert_eq!(stored.sha256, sha256(bytes));
        assert_eq!(stored.size, bytes.len() as u64);
        assert_eq!(stored.content_type.as_str(), *mime);
        assert!(!stored.already_stored, "a new file is written");
        assert!(store.contains(&stored.sha256).await.expect("contains"));
        let read = store.get(&stored.sha256).await.expect("get");
        assert_eq!(read.as_ref(), bytes.as_slice(), "{mime} read back");
    }
    let mut keys: Vec<String> = files
        .iter()
        .map(|(bytes, _)| object_key(&sha256(bytes)))
        .collect();
    keys.sort();
    assert_eq!(
        raw_keys(&config).await,
        keys,
        "one object per file, at its address"
    );

    // A file never stored is Missing, not an error of the backend.
    let absent = sha256(b"never stored");
    assert!(!store.contains(&absent).await.expect("contains"));
    match store.get(&absent).await {
        Err(ContentError::Missing { sha256 }) => assert_eq!(sha256, absent),
        other => panic!("expected Missing, got {other:?}"),
    }
}

async fn the_same_file_is_stored_once(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let bytes = samples::pdf("Don de nghi", 5_000);
    let first = put_ok(&store, &bytes).await;
    assert!(!first.already_stored);
    // Uploaded again (by the same dossier or another), in other chunks.
    let second = store
        .put(
            &expected(&bytes),
            &DocumentLimits::default(),
            body(&bytes, 7),
        )
        .await
        .expect("the same file again");
    assert!(second.already_stored, "the second upload writes nothing");
    assert_eq!(second.sha256, first.sha256);
    assert_eq!(second.content_type, first.content_type);
    assert_eq!(raw_keys(&config).await, vec![object_key(&first.sha256)]);
    assert_eq!(
        store.get(&first.sha256).await.expect("get").as_ref(),
        &bytes[..]
    );
}

async fn a_declared_digest_or_size_that_does_not_match_stores_nothing(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let bytes = samples::pdf("To khai", 3_000);
    let limits = DocumentLimits::default();

    let wrong_digest = Expected {
        sha256: sha256(b"another file"),
        size: bytes.len() as u64,
    };
    match store.put(&wrong_digest, &limits, body(&bytes, 512)).await {
        Err(ContentError::DigestMismatch { declared, received }) => {
            assert_eq!(declared, wrong_digest.sha256);
            assert_eq!(received, sha256(&bytes));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(
        !store
            .contains(&wrong_digest.sha256)
            .await
            .expect("contains")
    );

    // Declared smaller than sent: refused as soon as the body runs past it.
    let too_small = Expected {
        size: bytes.len() as u64 - 1,
        ..expected(&bytes)
    };
    match store.put(&too_small, &limits, body(&bytes, 512)).await {
        Err(ContentError::SizeMismatch { declared, received }) => {
            assert_eq!(declared, too_small.size);
            assert!(received > declared);
        }
        other => panic!("expected SizeMismatch, got {other:?}"),
    }

    // Declared larger than sent: refused when the body ends.
    let too_large = Expected {
        size: bytes.len() as u64 + 10,
        ..expected(&bytes)
    };
    match store.put(&too_large, &limits, body(&bytes, 512)).await {
        Err(ContentError::SizeMismatch { declared, received }) => {
            assert_eq!(declared, too_large.size);
            assert_eq!(received, bytes.len() as u64);
        }
        other => panic!("expected SizeMismatch, got {other:?}"),
    }

    nothing_left(&store, &config, &bytes).await;
}

async fn other_bytes_under_a_stored_files_digest_leave_it_untouched(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let original = samples::pdf("Ban goc", 2_000);
    let stored = put_ok(&store, &original).await;
    // Someone declares the stored file's digest and size but sends other bytes.
    let forged = samples::pdf("Ban gia", 2_000);
    assert_eq!(forged.len(), original.len());
    match store
        .put(
            &expected(&original),
            &DocumentLimits::default(),
            body(&forged, 512),
        )
        .await
    {
        Err(ContentError::DigestMismatch { received, .. }) => {
            assert_eq!(received, sha256(&forged))
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert_eq!(
        store.get(&stored.sha256).await.expect("get").as_ref(),
        &original[..]
    );
    assert_eq!(raw_keys(&config).await, vec![object_key(&stored.sha256)]);
}

async fn a_type_not_allowed_is_refused_before_the_body_is_read(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let limits = DocumentLimits::default();

    // A GIF (a type the store knows, not one this host accepts), padded so its first
    // chunk fills the bytes the type is recognised from; the rest of the body must
    // never be pulled.
    let mut gif = samples::gif();
    gif.resize(4096, 0);
    let pulled = Arc::new(AtomicUsize::new(0));
    match store
        .put(
            &expected(&gif),
            &limits,
            counted_body(&gif, 256, pulled.clone()),
        )
        .await
    {
        Err(ContentError::UnsupportedType { detected, allowed }) => {
            assert_eq!(detected.as_deref(), Some("image/gif"));
            assert_eq!(allowed, ["application/pdf", "image/jpeg", "image/png"]);
        }
        other => panic!("expected UnsupportedType, got {other:?}"),
    }
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        1,
        "only the first chunk was read"
    );

    // Plain text is no type at all.
    let text = "Kính gửi: Ủy ban nhân dân phường Việt Trì. Tôi xin cấp bản sao trích lục."
        .repeat(4)
        .into_bytes();
    match store.put(&expected(&text), &limits, body(&text, 100)).await {
        Err(ContentError::UnsupportedType { detected, .. }) => assert_eq!(detected, None),
        other => panic!("expected UnsupportedType, got {other:?}"),
    }

    // A PNG on a host that accepts PDF only.
    let pdf_only = DocumentLimits {
        allowed_types: vec!["pdf".parse::<ContentType>().expect("pdf")],
        ..DocumentLimits::default()
    };
    let png = samples::png();
    match store.put(&expected(&png), &pdf_only, body(&png, 100)).await {
        Err(ContentError::UnsupportedType { detected, allowed }) => {
            assert_eq!(detected.as_deref(), Some("image/png"));
            assert_eq!(allowed, ["application/pdf"]);
        }
        other => panic!("expected UnsupportedType, got {other:?}"),
    }

    assert_eq!(
        raw_keys(&config).await,
        Vec::<String>::new(),
        "nothing written"
    );
}

async fn a_file_over_the_limit_is_refused(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let limits = DocumentLimits {
        max_file_bytes: 10_000,
        ..DocumentLimits::default()
    };
    let large = samples::pdf("Ban ve", 12_000);
    assert!(large.len() > 10_000);

    // Declared over the limit: refused without reading the body.
    let pulled = Arc::new(AtomicUsize::new(0));
    match store
        .put(
            &expected(&large),
            &limits,
            counted_body(&large, 1024, pulled.clone()),
        )
        .await
    {
        Err(ContentError::TooLarge { limit }) => assert_eq!(limit, 10_000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "the body was not read");

    // Declared at the limit, sent over it: refused once the body passes the limit.
    let understated = Expected {
        sha256: sha256(&large),
        size: 10_000,
    };
    let pulled = Arc::new(AtomicUsize::new(0));
    match store
        .put(
            &understated,
            &limits,
            counted_body(&large, 1024, pulled.clone()),
        )
        .await
    {
        Err(ContentError::TooLarge { limit }) => assert_eq!(limit, 10_000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        10,
        "reading stopped at the chunk that passed the limit"
    );

    // Exactly at the limit is accepted.
    let mut at_limit = samples::pdf("Vua du", 0);
    let padding = 10_000 - at_limit.len();
    at_limit = samples::pdf("Vua du", padding);
    let over_by = at_limit.len() - 10_000;
    at_limit = samples::pdf("Vua du", padding - over_by);
    assert_eq!(at_limit.len(), 10_000);
    put_ok_with(&store, &at_limit, &limits).await;
    assert_eq!(
        raw_keys(&config).await,
        vec![object_key(&sha256(&at_limit))]
    );
}

async fn put_ok_with(store: &ContentStore, bytes: &[u8], limits: &DocumentLimits) {
    store
        .put(&expected(bytes), limits, body(bytes, 1000))
        .await
        .unwrap_or_else(|error| panic!("put refused: {error}"));
}

/// Chunks of `bytes` until `cut_at` bytes were sent; then, after noting what the
/// store holds at that moment (raw keys and what `list` shows), the stream fails.
fn body_cut_short(
    bytes: Vec<u8>,
    cut_at: usize,
    store: ContentStore,
    config: StorageConfig,
    seen: Arc<Mutex<Option<(Vec<String>, Vec<(String, u64)>)>>>,
) -> Body {
    const CHUNK: usize = 64 * 1024;
    Box::pin(futures::stream::unfold(0usize, move |sent| {
        let bytes = bytes.clone();
        let store = store.clone();
        let config = config.clone();
        let seen = seen.clone();
        async move {
            if sent >= cut_at {
                if sent == usize::MAX {
                    return None;
                }
                let raw = raw_keys(&config).await;
                let listed = store.list().await.expect("list during the upload");
                *seen.lock().expect("seen") = Some((raw, listed));
                let error = ContentError::Interrupted("the client went away".into());
                return Some((Err(error), usize::MAX));
            }
            let end = (sent + CHUNK).min(cut_at);
            Some((Ok(bytes[sent..end].to_vec().into()), end))
        }
    }))
}

async fn an_upload_cut_short_leaves_nothing(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    // Over one part of a multipart upload (8 MiB), so a part is already written to
    // the bucket when the client goes away.
    let bytes = samples::pdf("Ho so dia chinh", 9 * 1024 * 1024);
    let seen = Arc::new(Mutex::new(None));
    let cut = body_cut_short(
        bytes.clone(),
        8 * 1024 * 1024 + 128 * 1024,
        store.clone(),
        config.clone(),
        seen.clone(),
    );
    match store
        .put(&expected(&bytes), &DocumentLimits::default(), cut)
        .await
    {
        Err(ContentError::Interrupted(reason)) => assert_eq!(reason, "the client went away"),
        other => panic!("expected Interrupted, got {other:?}"),
    }
    let (during, listed_during) = seen
        .lock()
        .expect("seen")
        .clone()
        .expect("the body reached its cut");
    // While it ran, the upload was staged (a staging file, or a pending multipart
    // upload) but not visible as a stored file.
    assert_eq!(during.len(), 1, "one upload in progress: {during:?}");
    assert_ne!(during[0], object_key(&sha256(&bytes)), "not yet an object");
    assert!(
        during[0].starts_with(&object_key(&sha256(&bytes))),
        "staged at its address: {during:?}"
    );
    assert_eq!(listed_during, Vec::new(), "a staged upload is not listed");

    nothing_left(&store, &config, &bytes).await;
}

async fn an_upload_that_stalls_is_refused_and_leaves_nothing(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let store = store.with_idle_timeout(Duration::from_millis(300));
    let bytes = samples::pdf("Cham tre", 50_000);
    // The first 20 000 bytes, then nothing more: a client that stopped sending.
    let head: Vec<Result<Vec<u8>, ContentError>> = bytes[..20_000]
        .chunks(4096)
        .map(|part| Ok(part.to_vec()))
        .collect();
    let stalled: Body = Box::pin(futures::StreamExt::chain(
        futures::stream::iter(head.into_iter().map(|part| part.map(Into::into))),
        futures::stream::pending(),
    ));
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        store.put(&expected(&bytes), &DocumentLimits::default(), stalled),
    )
    .await
    .expect("a stalled upload is abandoned, not waited on for ever");
    match outcome {
        Err(ContentError::Stalled { .. }) => {}
        other => panic!("expected Stalled, got {other:?}"),
    }
    nothing_left(&store, &config, &bytes).await;
}

async fn damage_behind_the_stores_back_is_reported_on_read(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let kept = samples::pdf("Quyet dinh", 4_000);
    let damaged = samples::png();
    let deleted = samples::jpeg();
    for bytes in [&kept, &damaged, &deleted] {
        put_ok(&store, bytes).await;
    }

    let mut tampered = damaged.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    overwrite_object(&config, &sha256(&damaged), &tampered).await;
    match store.get(&sha256(&damaged)).await {
        Err(ContentError::Corrupt {
            sha256: name,
            actual,
        }) => {
            assert_eq!(name, sha256(&damaged));
            assert_eq!(actual, sha256(&tampered));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }

    delete_object(&config, &sha256(&deleted)).await;
    match store.get(&sha256(&deleted)).await {
        Err(ContentError::Missing { sha256: name }) => assert_eq!(name, sha256(&deleted)),
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(!store.contains(&sha256(&deleted)).await.expect("contains"));

    // The untouched file still reads back.
    assert_eq!(
        store.get(&sha256(&kept)).await.expect("get").as_ref(),
        &kept[..]
    );
}

async fn a_damaged_object_is_repaired_by_the_next_upload(storage: Storage) {
    let (store, config, _dir) = fresh(storage).await;
    let truncated = samples::pdf("Trich luc", 30_000);
    let flipped = samples::pdf("Ban sao", 30_000);
    put_ok(&store, &truncated).await;
    put_ok(&store, &flipped).await;
    overwrite_object(&config, &sha256(&truncated), &truncated[..1_000]).await;
    // Same size, one byte changed: only reading the whole file tells.
    let mut tampered = flipped.clone();
    tampered[20_000] ^= 0x01;
    overwrite_object(&config, &sha256(&flipped), &tampered).await;
    for bytes in [&truncated, &flipped] {
        assert!(matches!(
            store.get(&sha256(bytes)).await,
            Err(ContentError::Corrupt { .. })
        ));
        // The right bytes uploaded again are written over the damaged object, which
        // stays one object under its address.
        let again = put_ok(&store, bytes).await;
        assert!(again.already_stored, "the address was already taken");
        assert_eq!(
            store.get(&sha256(bytes)).await.expect("get").as_ref(),
            &bytes[..]
        );
    }
    let mut keys = vec![
        object_key(&sha256(&truncated)),
        object_key(&sha256(&flipped)),
    ];
    keys.sort();
    assert_eq!(raw_keys(&config).await, keys);
}

async fn list_shows_what_is_stored(storage: Storage) {
    let (store, _config, _dir) = fresh(storage).await;
    assert_eq!(
        store.list().await.expect("list"),
        Vec::new(),
        "a new store is empty"
    );
    let files = [
        samples::pdf("Danh sach", 1_000),
        samples::png(),
        samples::jpeg(),
    ];
    for bytes in &files {
        put_ok(&store, bytes).await;
    }
    // Stored twice, listed once.
    put_ok(&store, &files[1]).await;
    let mut want: Vec<(String, u64)> = files
        .iter()
        .map(|bytes| (sha256(bytes), bytes.len() as u64))
        .collect();
    want.sort();
    assert_eq!(store.list().await.expect("list"), want);
}

/// No object, staging file or pending upload under the store, and `bytes` not stored.
async fn nothing_left(store: &ContentStore, config: &StorageConfig, bytes: &[u8]) {
    assert_eq!(
        raw_keys(config).await,
        Vec::<String>::new(),
        "something was left"
    );
    assert!(!store.contains(&sha256(bytes)).await.expect("contains"));
}
