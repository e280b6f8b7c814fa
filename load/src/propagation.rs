//! `motcua-load propagation`: how long a rollout made through one host takes to reach
//! another host on the same PostgreSQL database (issue 11; docs/decisions/0021).
//!
//! Host A (`motcua demo`) and host B (`motcua serve`) share a fresh database and the
//! compiled cache, with the default refresh poll. The business-household 1.1.0 build is
//! published through A; then, `--rounds` times, A rolls it out to Xuân Hòa or rolls the
//! rollout back, and the tool asks B for the build Xuân Hòa offers every few
//! milliseconds until B offers what A committed. Each round is timed to B's first answer
//! showing the change, from A's answer (the change is committed) and from the request
//! sent to A.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::{Server, drop_databases, free_port, fresh_database, start_motcua, wait_ready};

#[derive(clap::Args)]
pub struct PropagationArgs {
    /// Rollouts and rollbacks measured (alternating).
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    #[command(flatten)]
    servers: crate::Servers,
}

const PUBLISHER: &str = "Bearer demo-phu-tho-publisher";
const HOUSEHOLD: &str = "1.001612";

pub async fn propagation(args: PropagationArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let binary = args.servers.binary()?;
    let dir = tempfile::tempdir()?;
    let mut created = Vec::new();
    let database = fresh_database(
        "postgres",
        "propagation",
        dir.path(),
        &args.servers.postgres,
        &mut created,
    )
    .await?;
    let result = measure(&binary, &database, dir.path(), args.rounds).await;
    drop_databases(&args.servers.postgres, &created).await?;
    let times = result?;
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    for (label, mut series) in [
        (
            "from A's answer",
            times.iter().map(|t| t.0).collect::<Vec<_>>(),
        ),
        ("from the request to A", times.iter().map(|t| t.1).collect()),
    ] {
        series.sort();
        println!(
            "rollout propagation to host B {label}, {} rounds: median {:.1} ms, max {:.1} ms, min {:.1} ms",
            series.len(),
            ms(series[series.len() / 2]),
            ms(series[series.len() - 1]),
            ms(series[0]),
        );
    }
    Ok(())
}

async fn measure(
    binary: &Path,
    database: &str,
    dir: &Path,
    rounds: usize,
) -> anyhow::Result<Vec<(Duration, Duration)>> {
    let a = start_motcua(&binary.to_path_buf(), database, dir).await?;
    let b = start_serve(binary, database, dir).await?;
    let http = reqwest::Client::new();
    let component = motcua::bundled::built_plugin("business_household_1_1")
        .context("the business-household 1.1.0 component built by the host's build script")?;
    let published: Value = http
        .post(format!("{}/api/v1/plugins", a.base))
        .header("Authorization", PUBLISHER)
        .header("Content-Type", "application/wasm")
        .body(component)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let new_build = published["sha256"]
        .as_str()
        .context("published sha256")?
        .to_string();
    let old_build = offered(&http, &b.base).await?;
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (path, body, expected) = if round % 2 == 0 {
            (
                "/api/v1/rollouts",
                json!({ "procedure": HOUSEHOLD, "version": "1.1.0", "units": ["xuan-hoa"] }),
                &new_build,
            )
        } else {
            (
                "/api/v1/rollouts/rollback",
                json!({ "procedure": HOUSEHOLD }),
                &old_build,
            )
        };
        let sent = Instant::now();
        http.post(format!("{}{path}", a.base))
            .header("Authorization", PUBLISHER)
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        let committed = Instant::now();
        loop {
            if &offered(&http, &b.base).await? == expected {
                times.push((committed.elapsed(), sent.elapsed()));
                break;
            }
            if committed.elapsed() > Duration::from_secs(30) {
                bail!("host B did not follow round {round} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    drop(b);
    drop(a);
    Ok(times)
}

/// `motcua serve` as a second host on the same database and compiled cache.
async fn start_serve(binary: &Path, database: &str, dir: &Path) -> anyhow::Result<Server> {
    let port = free_port()?;
    let log = std::fs::File::create(dir.join(format!("motcua-{port}.log")))?;
    let mut child = std::process::Command::new(binary)
        .args([
            "serve",
            "--database-url",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--cache-dir", &dir.join("cache").to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, "/readyz", &mut child).await?;
    Ok(Server { child, base })
}

/// The build Xuân Hòa offers for business-household registration on a host.
async fn offered(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let catalog: Value = http
        .get(format!("{base}/api/v1/procedures?unit=xuan-hoa"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    catalog["procedures"]
        .as_array()
        .and_then(|procedures| {
            procedures
                .iter()
                .find(|p| p["binding"]["procedure"] == HOUSEHOLD)
        })
        .and_then(|p| p["build"]["sha256"].as_str())
        .map(str::to_string)
        .context("Xuân Hòa offers no business-household build")
}
