//! What the scale test reads off a serving host: the time from the process's start to
//! `/readyz` 200, its resident memory and CPU time from `/proc`, and the latency of
//! HTTP requests, one client at a time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A `motcua serve` process, stopped when dropped.
pub struct Host {
    pub child: Child,
    pub base: String,
    /// From spawning the process to the first `/readyz` 200.
    pub ready_seconds: f64,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a host keeps its compiled builds, files and log.
pub struct HostDirs {
    pub cache: PathBuf,
    pub documents: PathBuf,
    pub logs: PathBuf,
}

/// Starts `motcua serve` on `database` and waits for `/readyz` 200 (polling every
/// 10 ms), timing it from the spawn. No per-address quotas (the load comes from one
/// address); the deadline sweep hourly, so it does not run while figures are taken.
pub async fn start(binary: &Path, database: &str, dirs: &HostDirs) -> anyhow::Result<Host> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    std::fs::create_dir_all(&dirs.logs)?;
    let log = std::fs::File::create(dirs.logs.join(format!("motcua-{port}.log")))?;
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let child = Command::new(binary)
        .args(["serve", "--database-url", database])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--cache-dir", &dirs.cache.to_string_lossy()])
        .args(["--documents-dir", &dirs.documents.to_string_lossy()])
        .args(["--sweep-seconds", "3600"])
        .args(["--filings-per-minute", "0", "--tracking-per-minute", "0"])
        .args(["--citizen-actions-per-minute", "0"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut host = Host {
        child,
        base,
        ready_seconds: 0.0,
    };
    while started.elapsed() < Duration::from_secs(600) {
        if let Some(status) = host.child.try_wait()? {
            bail!(
                "motcua serve exited with {status} before it was ready (log in {})",
                dirs.logs.display()
            );
        }
        if let Ok(response) = http.get(format!("{}/readyz", host.base)).send().await
            && response.status().is_success()
        {
            host.ready_seconds = started.elapsed().as_secs_f64();
            return Ok(host);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("motcua serve was not ready within 600 s")
}

/// Resident memory now and at its peak (VmRSS, VmHWM), in MiB.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Memory {
    pub rss_mib: f64,
    pub hwm_mib: f64,
}

pub fn memory(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    Ok(Memory {
        rss_mib: field("VmRSS:"),
        hwm_mib: field("VmHWM:"),
    })
}

/// CPU milliseconds a second the host spends while nobody calls it, over `seconds`.
pub async fn idle_cpu(pid: u32, seconds: u64) -> anyhow::Result<f64> {
    if seconds == 0 {
        return Ok(0.0);
    }
    let before = crate::cpu::seconds(pid)?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let used = crate::cpu::seconds(pid)? - before;
    Ok(used * 1000.0 / started.elapsed().as_secs_f64())
}

/// Latencies of one kind of request, in milliseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Latency {
    pub what: String,
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(what: &str, mut samples: Vec<f64>) -> Latency {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if samples.is_empty() {
                return 0.0;
            }
            let index = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[index]
        };
        Latency {
            what: what.to_string(),
            requests: samples.len(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: samples.last().copied().unwrap_or(0.0),
        }
    }
}

/// One GET, timed to the end of its body; fails on a non-2xx answer.
pub async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<(f64, serde_json::Value, usize)> {
    let started = Instant::now();
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        bail!("GET {url}: {status} {}", String::from_utf8_lossy(&body));
    }
    let size = body.len();
    let value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    Ok((ms, value, size))
}

/// Median and maximum.
pub fn median_max(samples: &[f64]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return (0.0, 0.0);
    }
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[n - 1])
}
