//! Where the tests' document stores live: a directory in the test's temporary
//! directory, or a fresh bucket on the S3 test server (moto, started by
//! `tests/tools/s3-server.sh`), and raw access to what is stored there behind
//! motcua's back, for tests that damage or inspect the store.
//!
//! The raw helpers go to the files and the bucket directly (std::fs and plain S3 HTTP
//! requests; the test server does not check signatures), never through
//! `ContentStore`, so they see what a broken or interrupted store would leave.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use motcua::documents::{S3Config, StorageConfig};

/// Which kind of document store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    Directory,
    S3,
}

/// The S3 test server's endpoint: `MOTCUA_TEST_S3_ENDPOINT`, else the port the
/// server script uses (`MOTCUA_TEST_S3_PORT`, 9000) on loopback.
pub fn s3_endpoint() -> String {
    std::env::var("MOTCUA_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        let port = std::env::var("MOTCUA_TEST_S3_PORT").unwrap_or_else(|_| "9000".into());
        format!("http://127.0.0.1:{port}")
    })
}

/// The prefix inside each test bucket under which motcua stores its objects.
const PREFIX: &str = "motcua";

static BUCKETS: AtomicU32 = AtomicU32::new(0);

/// A document store for one test: `dir/documents`, or a new bucket of its own on the
/// S3 test server (the server is started if nothing answers).
pub async fn storage_config(storage: Storage, dir: &Path) -> StorageConfig {
    match storage {
        Storage::Directory => StorageConfig::Directory(dir.join("documents")),
        Storage::S3 => {
            let endpoint = s3_endpoint();
            ensure_s3_server(&endpoint).await;
            let bucket = format!(
                "motcua-test-{}-{}-{}",
                std::process::id(),
                BUCKETS.fetch_add(1, Ordering::Relaxed),
                chrono::Utc::now().timestamp_micros() % 1_000_000_000
            );
            let response = client()
                .put(format!("{endpoint}/{bucket}"))
                .send()
                .await
                .unwrap_or_else(|error| panic!("creating bucket {bucket} at {endpoint}: {error}"));
            assert!(
                response.status().is_success(),
                "creating bucket {bucket} at {endpoint}: {}",
                response.status()
            );
            StorageConfig::S3(S3Config {
                url: format!("s3://{bucket}/{PREFIX}"),
                endpoint: Some(endpoint),
                region: Some("us-east-1".into()),
                access_key_id: Some("test".into()),
                secret_access_key: Some("test".into()),
                allow_http: true,
            })
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

async fn s3_answers(endpoint: &str) -> bool {
    let Ok(response) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("HTTP client")
        .get(format!("{endpoint}/"))
        .send()
        .await
    else {
        return false;
    };
    response.status().is_success()
}

/// Starts the S3 test server with its script, once per test process, unless it
/// already answers; panics with the script's output if it cannot be started.
async fn ensure_s3_server(endpoint: &str) {
    if s3_answers(endpoint).await {
        return;
    }
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    let started = tokio::task::spawn_blocking(|| {
        STARTED
            .get_or_init(|| {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/s3-server.sh");
                let output = std::process::Command::new("bash")
                    .arg(&script)
                    .arg("start")
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|error| format!("running {}: {error}", script.display()))?;
                if output.status.success() {
                    Ok(())
                } else {
                    Err(format!(
                        "{} start failed ({}): {}{}",
                        script.display(),
                        output.status,
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ))
                }
            })
            .clone()
    })
    .await
    .expect("starting the S3 test server");
    if let Err(error) = started {
        panic!("the S3 test server is needed for this test: {error}");
    }
    for _ in 0..100 {
        if s3_answers(endpoint).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the S3 test server does not answer at {endpoint}");
}

/// The bucket, the endpoint and the key prefix of an S3 store.
fn bucket_of(config: &S3Config) -> (String, String, String) {
    let rest = config
        .url
        .strip_prefix("s3://")
        .expect("an s3:// URL made by storage_config");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let endpoint = config.endpoint.clone().unwrap_or_else(s3_endpoint);
    (
        endpoint,
        bucket.to_string(),
        prefix.trim_matches('/').to_string(),
    )
}

/// Where the store keeps the object with this sha256, relative to its root.
fn object_key(sha256: &str) -> String {
    format!("sha256/{}/{sha256}", &sha256[..2])
}

fn s3_url(config: &S3Config, relative: &str) -> String {
    let (endpoint, bucket, prefix) = bucket_of(config);
    if prefix.is_empty() {
        format!("{endpoint}/{bucket}/{relative}")
    } else {
        format!("{endpoint}/{bucket}/{prefix}/{relative}")
    }
}

/// Replaces the stored object's bytes behind the store's back (or creates it).
pub async fn overwrite_object(config: &StorageConfig, sha256: &str, bytes: &[u8]) {
    match config {
        StorageConfig::Directory(root) => {
            let path = root.join(object_key(sha256));
            std::fs::create_dir_all(path.parent().expect("object has a directory"))
                .expect("object directory");
            std::fs::write(&path, bytes)
                .unwrap_or_else(|error| panic!("overwriting {}: {error}", path.display()));
        }
        StorageConfig::S3(s3) => {
            let url = s3_url(s3, &object_key(sha256));
            let response = client()
                .put(&url)
                .body(bytes.to_vec())
                .send()
                .await
                .unwrap_or_else(|error| panic!("PUT {url}: {error}"));
            assert!(
                response.status().is_success(),
                "PUT {url}: {}",
                response.status()
            );
        }
    }
}

/// Deletes the stored object behind the store's back.
pub async fn delete_object(config: &StorageConfig, sha256: &str) {
    match config {
        StorageConfig::Directory(root) => {
            let path = root.join(object_key(sha256));
            std::fs::remove_file(&path)
                .unwrap_or_else(|error| panic!("deleting {}: {error}", path.display()));
        }
        StorageConfig::S3(s3) => {
            let url = s3_url(s3, &object_key(sha256));
            let response = client()
                .delete(&url)
                .send()
                .await
                .unwrap_or_else(|error| panic!("DELETE {url}: {error}"));
            assert!(
                response.status().is_success(),
                "DELETE {url}: {}",
                response.status()
            );
        }
    }
}

/// Everything under the store's root, relative to it and sorted: every file of a
/// directory store (staging files of unfinished uploads, `…#<n>`, included), every key
/// of a bucket's prefix and every multipart upload still pending there (as
/// `<key> (pending multipart upload)`). A store that holds nothing gives an empty list.
pub async fn raw_keys(config: &StorageConfig) -> Vec<String> {
    let mut keys = match config {
        StorageConfig::Directory(root) => {
            let mut files = Vec::new();
            if root.exists() {
                walk(root, root, &mut files);
            }
            files
        }
        StorageConfig::S3(s3) => {
            let mut keys = s3_list(s3, "list-type=2", "Contents").await;
            keys.extend(
                s3_list(s3, "uploads", "Upload")
                    .await
                    .into_iter()
                    .map(|key| format!("{key} (pending multipart upload)")),
            );
            keys
        }
    };
    keys.sort();
    keys
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|error| panic!("listing {}: {error}", dir.display()));
    for entry in entries {
        let path: PathBuf = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under the root");
            let parts: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
}

/// The keys (relative to the store's prefix) of the `element`s an S3 listing
/// (`query`: objects or multipart uploads) returns, following its pages.
async fn s3_list(config: &S3Config, query: &str, element: &str) -> Vec<String> {
    let (endpoint, bucket, prefix) = bucket_of(config);
    let key_prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let mut keys = Vec::new();
    let mut next: Option<(String, String)> = None;
    loop {
        let mut url = format!(
            "{endpoint}/{bucket}?{query}&prefix={}",
            percent_encode(&key_prefix)
        );
        if let Some((name, value)) = &next {
            url.push_str(&format!("&{name}={value}"));
        }
        let response = client()
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {url}: {error}"));
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        let xml = response.text().await.expect("listing body");
        for item in elements(&xml, element) {
            let key = elements(item, "Key")
                .first()
                .map(|key| xml_unescape(key))
                .unwrap_or_else(|| panic!("a <{element}> without a <Key> in {xml}"));
            keys.push(key.strip_prefix(&key_prefix).unwrap_or(&key).to_string());
        }
        if elements(&xml, "IsTruncated").first() != Some(&"true") {
            break;
        }
        next = match elements(&xml, "NextContinuationToken").first() {
            Some(token) => Some(("continuation-token".into(), percent_encode(token))),
            None => {
                let key = elements(&xml, "NextKeyMarker")
                    .first()
                    .map(|key| xml_unescape(key))
                    .expect("a truncated listing says where to go on");
                Some(("key-marker".into(), percent_encode(&key)))
            }
        };
    }
    keys
}

/// The contents of each `<name>…</name>` in `xml` (S3 listings: no attributes on
/// these elements, no nesting of one in itself).
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Real small files of the types motcua accepts and refuses, recognised from their
/// bytes as a browser or a scanner would send them.
pub mod samples {
    /// A one-page PDF showing `text`, with `padding` bytes of incompressible data in
    /// an unreferenced stream (to make it as large as a test needs).
    pub fn pdf(text: &str, padding: usize) -> Vec<u8> {
        let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
              /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_vec(),
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            )
            .into_bytes(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
        ];
        if padding > 0 {
            let mut object = format!("<< /Length {padding} >>\nstream\n").into_bytes();
            object.extend(noise(padding, text.len() as u64));
            object.extend_from_slice(b"\nendstream");
            objects.push(object);
        }
        let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", index + 1).into_bytes());
            out.extend_from_slice(object);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").into_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .into_bytes(),
        );
        out
    }

    /// Deterministic bytes that do not repeat (xorshift), `len` of them.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// An 8×8 red PNG.
    pub fn png() -> Vec<u8> {
        hex::decode(
            "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc000000154944\
             415478da633c21a7c1800d3031e00083530200d87c011e85add9440000000049454e44ae426082",
        )
        .expect("PNG hex")
    }

    /// An 8×8 red baseline JPEG (JFIF).
    pub fn jpeg() -> Vec<u8> {
        hex::decode(
            "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e12111013\
             18281a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f62676867\
             3e4d71797064785c656763ffdb0043011112121815182f1a1a2f63423842636363636363636363\
             636363636363636363636363636363636363636363636363636363636363636363636363636363\
             6363ffc00011080008000803012200021101031101ffc400150001010000000000000000000000\
             0000000005ffc40014100100000000000000000000000000000000ffc400150101010000000000\
             0000000000000000000406ffc40014110100000000000000000000000000000000ffda000c0301\
             0002110311003f0090008a87ffd9",
        )
        .expect("JPEG hex")
    }

    /// A 1×1 GIF: an image type motcua does not accept by default.
    pub fn gif() -> Vec<u8> {
        hex::decode("474946383761010001008000000000000000002c000000000100010000080400010404003b")
            .expect("GIF hex")
    }

    /// The sha256 of `bytes`, as 64 lowercase hex digits.
    pub fn sha256(bytes: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    }
}
