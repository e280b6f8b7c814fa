//! Throughput of the document content store on a 5 MB PDF: `put` (the upload path:
//! type sniffed, size counted, sha256 checked, written through `object_store`, fsynced
//! on a directory) and `get` (read back and checked against its sha256), on the
//! directory store and on the S3 test server (moto on loopback, started with
//! `tests/tools/s3-server.sh` when nothing answers; skipped with a note only if the
//! script fails). In the same run, on the same bytes: `std::fs::copy` of the file
//! (the baseline), a plain write followed by `fsync` (what a durable write costs on
//! this disk) and the sha256 of the bytes in memory (what the check costs).
//!
//! A plain harness: each figure is the median of the timed runs after one warm-up,
//! reported as MB/s (10^6 bytes per second) and as its time ÷ the copy's.
//!
//! Run: `cargo bench -p motcua --bench documents` (`-- --quick` for fewer runs).

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use motcua::documents::{Body, ContentStore, DocumentLimits, Expected, S3Config, StorageConfig};
use sha2::{Digest, Sha256};

const FILE_BYTES: usize = 5_000_000;
/// How the body reaches the store: chunks as an HTTP server hands them over.
const CHUNK_BYTES: usize = 64 * 1024;

/// A PDF of exactly `FILE_BYTES`: a real header and trailer around incompressible
/// data, different for each `seed` (so each upload is a new file, not a duplicate).
fn pdf(seed: u64) -> Bytes {
    let head =
        format!("%PDF-1.4\n%\u{e2}\u{e3}\u{cf}\u{d3}\n1 0 obj\n<< /Seed {seed} >>\nstream\n");
    let tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    let mut out = head.into_bytes();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
    while out.len() < FILE_BYTES - tail.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(FILE_BYTES - tail.len());
    out.extend_from_slice(tail);
    Bytes::from(out)
}

fn expected(bytes: &Bytes) -> Expected {
    Expected {
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
    }
}

fn body(bytes: &Bytes) -> Body {
    let chunks: Vec<Bytes> = (0..bytes.len())
        .step_by(CHUNK_BYTES)
        .map(|start| bytes.slice(start..(start + CHUNK_BYTES).min(bytes.len())))
        .collect();
    Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Times `runs` calls of `one(i)` after one warm-up call (i = 0); the median.
async fn time_async<F, Fut>(runs: usize, mut one: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    one(0).await;
    let mut times = Vec::with_capacity(runs);
    for i in 1..=runs {
        let started = Instant::now();
        one(i).await;
        times.push(started.elapsed());
    }
    median(times)
}

fn time_blocking(runs: usize, mut one: impl FnMut(usize)) -> Duration {
    one(0);
    let mut times = Vec::with_capacity(runs);
    for i in 1..=runs {
        let started = Instant::now();
        one(i);
        times.push(started.elapsed());
    }
    median(times)
}

/// `put` of a new file each run, `put` of a file already stored, `get`.
async fn measure_store(config: &StorageConfig, files: &[Bytes]) -> [Duration; 3] {
    let store = ContentStore::open(config).expect("open the store");
    let limits = DocumentLimits::default();
    let runs = files.len() - 1;
    let put = time_async(runs, |i| {
        let (store, limits, file) = (&store, &limits, &files[i]);
        async move {
            let stored = store
                .put(&expected(file), limits, body(file))
                .await
                .expect("put");
            assert!(!stored.already_stored);
        }
    })
    .await;
    let put_again = time_async(runs, |i| {
        let (store, limits, file) = (&store, &limits, &files[i]);
        async move {
            let stored = store
                .put(&expected(file), limits, body(file))
                .await
                .expect("put again");
            assert!(stored.already_stored);
        }
    })
    .await;
    let get = time_async(runs, |i| {
        let (store, file) = (&store, &files[i]);
        async move {
            let read = store.get(&expected(file).sha256).await.expect("get");
            assert_eq!(read.len(), file.len());
        }
    })
    .await;
    [put, put_again, get]
}

fn s3_endpoint() -> String {
    std::env::var("MOTCUA_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        let port = std::env::var("MOTCUA_TEST_S3_PORT").unwrap_or_else(|_| "9000".into());
        format!("http://127.0.0.1:{port}")
    })
}

/// A fresh bucket on the S3 test server, started with its script if needed; `Err`
/// says why there is none.
async fn s3_bucket() -> Result<StorageConfig, String> {
    let endpoint = s3_endpoint();
    let client = reqwest::Client::new();
    if client.get(format!("{endpoint}/")).send().await.is_err() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tools/s3-server.sh");
        let status = std::process::Command::new("bash")
            .arg(&script)
            .arg("start")
            .status()
            .map_err(|error| format!("running {}: {error}", script.display()))?;
        if !status.success() {
            return Err(format!("{} start failed ({status})", script.display()));
        }
    }
    let bucket = format!("motcua-bench-{}", std::process::id());
    let response = client
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .map_err(|error| format!("creating bucket {bucket} at {endpoint}: {error}"))?;
    if !response.status().is_success() {
        return Err(format!(
            "creating bucket {bucket} at {endpoint}: {}",
            response.status()
        ));
    }
    Ok(StorageConfig::S3(S3Config {
        url: format!("s3://{bucket}/bench"),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    }))
}

fn report(name: &str, time: Duration, copy: Duration) {
    println!(
        "| {name} | {:.1} ms | {:.0} MB/s | {:.2}× |",
        time.as_secs_f64() * 1e3,
        FILE_BYTES as f64 / time.as_secs_f64() / 1e6,
        time.as_secs_f64() / copy.as_secs_f64()
    );
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let runs = if quick { 5 } else { 15 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // One new file per run and one for the warm-up, for each store.
    let files: Vec<Bytes> = (0..=runs as u64).map(pdf).collect();
    let dir = tempfile::tempdir().expect("temp dir");

    // Baselines on the same disk: copy a file of the same bytes; write it and fsync.
    let source = dir.path().join("source.pdf");
    std::fs::write(&source, &files[0]).expect("source file");
    let copy = time_blocking(runs, |i| {
        let target = dir.path().join(format!("copy-{i}.pdf"));
        std::fs::copy(&source, &target).expect("copy");
    });
    let write_fsync = time_blocking(runs, |i| {
        use std::io::Write;
        let target = dir.path().join(format!("written-{i}.pdf"));
        let mut file = std::fs::File::create(&target).expect("create");
        file.write_all(&files[i]).expect("write");
        file.sync_all().expect("fsync");
    });

    // What the check costs: the sha256 of the bytes in memory.
    let hash = time_blocking(runs, |i| {
        std::hint::black_box(Sha256::digest(&files[i]));
    });

    let directory = StorageConfig::Directory(dir.path().join("documents"));
    let on_directory = runtime.block_on(measure_store(&directory, &files));
    let on_s3 = match runtime.block_on(s3_bucket()) {
        Ok(config) => Some(runtime.block_on(measure_store(&config, &files))),
        Err(why) => {
            println!("note: S3 skipped: {why}");
            None
        }
    };

    println!(
        "{} bytes (PDF), {runs} runs after a warm-up, medians; in {CHUNK_BYTES}-byte chunks",
        FILE_BYTES
    );
    println!("| operation | time | throughput | time ÷ copy's |");
    println!("|---|---|---|---|");
    report("`std::fs::copy` (baseline)", copy, copy);
    report("write + fsync", write_fsync, copy);
    report("sha256 in memory", hash, copy);
    let [put, put_again, get] = on_directory;
    report("directory: put (new file)", put, copy);
    report("directory: put (already stored)", put_again, copy);
    report("directory: get", get, copy);
    if let Some([put, put_again, get]) = on_s3 {
        report("S3 (moto): put (new file)", put, copy);
        report("S3 (moto): put (already stored)", put_again, copy);
        report("S3 (moto): get", get, copy);
    }
}
