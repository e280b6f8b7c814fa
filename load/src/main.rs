//! `motcua-load`: dossier actions and filings per second over HTTP, against the real
//! `motcua` server (the demo province, its real plugins, a fresh database) and against a
//! bare axum + sqlx server doing the same writes naively, in the same run, on SQLite and
//! PostgreSQL, at 1, 8 and 64 concurrent clients. See BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release --workspace --locked
//! target/release/motcua-load run                      # both backends, 1/8/64 clients, 10 s each
//! target/release/motcua-load run --backends sqlite --clients 64 --seconds 5
//! ```

mod bare;
mod cpu;
mod drive;
mod propagation;
mod scale;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use sqlx::Connection;

use drive::{Figures, Target, Work};

#[derive(Parser)]
#[command(
    name = "motcua-load",
    about = "Throughput of motcua and of a bare baseline over HTTP"
)]
enum Cli {
    /// Measure and print the table (Markdown), and optionally write the figures as JSON.
    Run(RunArgs),
    /// How long a rollout through one host takes to reach another on one PostgreSQL
    /// database: median and max over alternating rollouts and rollbacks.
    Propagation(propagation::PropagationArgs),
    /// One deployment at the size of the country: start times, memory, procedures and
    /// inbox queries over a million dossiers (BENCHMARKS.md, "A country-sized deployment").
    Scale(scale::ScaleArgs),
    /// Serve the bare baseline (started by `run`).
    Bare {
        #[arg(long)]
        database: String,
        #[arg(long)]
        listen: String,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// sqlite, postgres, or both.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// Concurrent clients of each phase.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    clients: Vec<usize>,
    /// filings, actions, or both.
    #[arg(long, value_delimiter = ',', default_value = "filings,actions")]
    work: Vec<String>,
    /// Seconds each phase is measured (after half a second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Measure each phase in this many slices, motcua's and the bare server's taken in
    /// turn, so that both see the same spells of a busy machine. 1 (the default):
    /// motcua's whole phase, then the bare server's.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    slices: u32,
    #[command(flatten)]
    servers: Servers,
    /// Also write every figure here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What every measuring command needs: the server to start and the PostgreSQL server.
#[derive(clap::Args)]
struct Servers {
    /// The motcua binary (default: beside this one).
    #[arg(long)]
    motcua: Option<PathBuf>,
    /// The PostgreSQL server; each run creates and drops its own databases.
    #[arg(
        long,
        env = "MOTCUA_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
}

impl Servers {
    /// The motcua binary to start, which must exist.
    fn binary(&self) -> anyhow::Result<PathBuf> {
        let binary = match &self.motcua {
            Some(path) => path.clone(),
            None => std::env::current_exe()?.with_file_name("motcua"),
        };
        if !binary.exists() {
            bail!(
                "{} does not exist: build it with `cargo build --release --workspace --locked`, or pass --motcua",
                binary.display()
            );
        }
        Ok(binary)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Bare { database, listen } => bare::serve(&database, &listen).await,
        Cli::Run(args) => run(args).await,
        Cli::Propagation(args) => propagation::propagation(args).await,
        Cli::Scale(args) => scale::scale(args).await,
    }
}

/// A server process, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_ready(base: &str, path: &str, child: &mut Child) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if let Some(status) = child.try_wait()? {
            bail!("the server at {base} exited with {status}");
        }
        if let Ok(response) = http.get(format!("{base}{path}")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the server at {base} did not become ready within 120 s")
}

/// `motcua demo` on `database`: the demo province seeded, its plugins deployed, no
/// per-address quotas (the load comes from one address), logs to a file.
async fn start_motcua(
    binary: &PathBuf,
    database: &str,
    dir: &std::path::Path,
) -> anyhow::Result<Server> {
    let port = free_port()?;
    let log = std::fs::File::create(dir.join(format!("motcua-{port}.log")))?;
    let mut child = Command::new(binary)
        .args([
            "demo",
            "--database-url",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--cache-dir", &dir.join("cache").to_string_lossy()])
        .args([
            "--filings-per-minute",
            "0",
            "--tracking-per-minute",
            "0",
            "--citizen-actions-per-minute",
            "0",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, "/readyz", &mut child).await?;
    Ok(Server { child, base })
}

async fn start_bare(database: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "bare",
            "--database",
            database,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base, "/healthz", &mut child).await?;
    Ok(Server { child, base })
}

/// A fresh database for one server: a file in `dir`, or a new PostgreSQL database
/// (dropped by `drop_databases`).
async fn fresh_database(
    backend: &str,
    name: &str,
    dir: &std::path::Path,
    admin: &str,
    created: &mut Vec<String>,
) -> anyhow::Result<String> {
    Ok(match backend {
        "sqlite" => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
        "postgres" => {
            let database = format!("motcua_load_{}_{name}", std::process::id());
            let mut admin_connection = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {database}"
            )))
            .execute(&mut admin_connection)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(&mut admin_connection)
                .await?;
            created.push(database.clone());
            let (prefix, _) = admin
                .rsplit_once('/')
                .context("the PostgreSQL URL names a database")?;
            format!("{prefix}/{database}")
        }
        other => bail!("backend `{other}` is not sqlite or postgres"),
    })
}

async fn drop_databases(admin: &str, created: &[String]) -> anyhow::Result<()> {
    let mut admin_connection = sqlx::PgConnection::connect(admin).await?;
    for database in created {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .execute(&mut admin_connection)
        .await?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Row {
    backend: String,
    work: &'static str,
    motcua: Figures,
    bare: Figures,
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let binary = args.servers.binary()?;
    let duration = Duration::from_secs(args.seconds);
    let mut rows = Vec::new();
    for backend in &args.backends {
        let dir = tempfile::tempdir()?;
        let mut created = Vec::new();
        let result: anyhow::Result<()> = async {
            let works = [(Work::Filings, "filings"), (Work::Actions, "actions")];
            for &(work, label) in works.iter().filter(|(_, label)| args.work.iter().any(|w| w == label)) {
                for &clients in &args.clients {
                    // A fresh database and server for each measurement, so that none
                    // starts with the rows of another.
                    let name = format!("{label}_{clients}");
                    let postgres = backend == "postgres";
                    // Both servers are up for the whole measurement; with one slice,
                    // motcua's phase runs first, then the bare server's.
                    let database = fresh_database(backend, &format!("m_{name}"), dir.path(), &args.servers.postgres, &mut created).await?;
                    let motcua_server = start_motcua(&binary, &database, dir.path()).await?;
                    let database = fresh_database(backend, &format!("b_{name}"), dir.path(), &args.servers.postgres, &mut created).await?;
                    let bare_server = start_bare(&database).await?;
                    let mut motcua = drive::Driver::new(&Target::Motcua { base: motcua_server.base.clone() }, work, clients, duration, motcua_server.child.id(), postgres).await;
                    let mut bare = drive::Driver::new(&Target::Bare { base: bare_server.base.clone() }, work, clients, duration, bare_server.child.id(), postgres).await;
                    let slice = duration / args.slices;
                    for turn in 0..args.slices {
                        // The first slice of each warms its server up; later ones give
                        // the clients a moment to get going again.
                        let warm_up = Duration::from_millis(if turn == 0 { 500 } else { 100 });
                        motcua.slice(warm_up, slice).await;
                        bare.slice(warm_up, slice).await;
                    }
                    drop((motcua_server, bare_server));
                    let (motcua, bare) = (motcua.figures(), bare.figures());
                    eprintln!(
                        "{backend} {label} x{clients}: motcua {:.0}/s p50 {:.1} ms p99 {:.1} ms ({} failed{}); bare {:.0}/s p50 {:.1} ms p99 {:.1} ms ({} failed{})",
                        motcua.per_second, motcua.p50_ms, motcua.p99_ms, motcua.failed,
                        motcua.first_failure.as_deref().map(|f| format!(": {f}")).unwrap_or_default(),
                        bare.per_second, bare.p50_ms, bare.p99_ms, bare.failed,
                        bare.first_failure.as_deref().map(|f| format!(": {f}")).unwrap_or_default(),
                    );
                    rows.push(Row { backend: backend.clone(), work: label, motcua, bare });
                }
            }
            Ok(())
        }
        .await;
        if !created.is_empty() {
            drop_databases(&args.servers.postgres, &created).await?;
        }
        result?;
    }
    println!(
        "| backend | work | clients | motcua /s | p50 ms | p99 ms | bare /s | p50 ms | p99 ms | motcua ÷ bare |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.2}× |",
            row.backend,
            row.work,
            row.motcua.clients,
            row.motcua.per_second,
            row.motcua.p50_ms,
            row.motcua.p99_ms,
            row.bare.per_second,
            row.bare.p50_ms,
            row.bare.p99_ms,
            row.motcua.per_second / row.bare.per_second,
        );
    }
    println!();
    println!(
        "CPU time per answered request (µs): the server's process, PostgreSQL's processes, and the clients'"
    );
    println!();
    println!(
        "| backend | work | clients | motcua server | database | server + database | bare server | database | server + database | cost, motcua ÷ bare | clients (motcua, bare) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let motcua = row.motcua.server_cpu_us + row.motcua.database_cpu_us;
        let bare = row.bare.server_cpu_us + row.bare.database_cpu_us;
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2}× | {:.0}, {:.0} |",
            row.backend,
            row.work,
            row.motcua.clients,
            row.motcua.server_cpu_us,
            row.motcua.database_cpu_us,
            motcua,
            row.bare.server_cpu_us,
            row.bare.database_cpu_us,
            bare,
            motcua / bare,
            row.motcua.client_cpu_us,
            row.bare.client_cpu_us,
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)?)?;
    }
    let failures: u64 = rows
        .iter()
        .map(|row| row.motcua.failed + row.bare.failed)
        .sum();
    if failures > 0 {
        bail!("{failures} requests failed (see above)");
    }
    Ok(())
}
