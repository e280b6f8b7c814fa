//! `motcua-load scale`: one deployment at the size of the country (issue 11, part 7).
//!
//! 3,321 commune-level units in 34 provinces imported with `motcua units import`, the
//! catalog published and rolled out to every unit of its level through the registry's
//! API, 100 distinct builds of the scale fixture published beside it, then: the time
//! from the process's start to `/readyz` 200 with an empty compiled cache and with a
//! filled one, resident memory after start and after load, the CPU an idle host spends,
//! and, with 1,000,000 dossiers (200,000 of them at one ward), what a unit's
//! procedures and the big ward's inbox pages cost over HTTP. The same code runs at a
//! tiny size in `load/tests/scale.rs`. See BENCHMARKS.md and docs/decisions/0024-scale.md.
//!
//! ```sh
//! cargo build --release --workspace --locked
//! target/release/motcua-load scale                          # SQLite, the country's size
//! target/release/motcua-load scale --backends postgres --json scale.json
//! ```

mod fill;
mod measure;
mod setup;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use measure::{Host, HostDirs, Latency, Memory};

#[derive(clap::Args)]
pub struct ScaleArgs {
    /// sqlite, postgres, or both.
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    backends: Vec<String>,
    /// Provinces (one department each, standing for the province's level).
    #[arg(long, default_value_t = 34)]
    provinces: usize,
    /// Commune-level units (wards and communes), dealt round the provinces.
    #[arg(long, default_value_t = 3_321)]
    units: usize,
    /// Distinct builds of the scale fixture published beside the catalog.
    #[arg(long, default_value_t = 100)]
    builds: usize,
    /// Dossiers filled before the queries are measured.
    #[arg(long, default_value_t = 1_000_000)]
    dossiers: i64,
    /// How many of them the big ward (`xa-0`) holds.
    #[arg(long, default_value_t = 200_000)]
    big_ward: i64,
    /// Starts with an empty compiled cache.
    #[arg(long, default_value_t = 3)]
    cold_runs: usize,
    /// Starts with the cache filled.
    #[arg(long, default_value_t = 5)]
    warm_runs: usize,
    /// Requests of each kind measured.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Units besides the big ward whose inbox total is checked against the fill.
    #[arg(long, default_value_t = 20)]
    inbox_units: usize,
    /// Seconds the idle host's CPU time is watched (0: not measured).
    #[arg(long, default_value_t = 60)]
    idle_seconds: u64,
    #[command(flatten)]
    servers: crate::Servers,
    /// Where the components built from `plugins/` are (default: where the host's build
    /// script left them for the motcua crate this tool was built with).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Where the SQLite file, caches and logs go (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write every figure here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What one backend's run found.
#[derive(Debug, Default, serde::Serialize)]
pub struct Figures {
    pub backend: String,
    pub provinces: usize,
    pub units: usize,
    pub builds_published: usize,
    pub dossiers: i64,
    pub big_ward: i64,
    pub import_units: String,
    pub import_units_seconds: f64,
    pub publish_catalog_seconds: f64,
    pub publish_builds_seconds: f64,
    pub cold_start_seconds: Vec<f64>,
    pub warm_start_seconds: Vec<f64>,
    pub memory_after_cold_start: Memory,
    pub memory_after_start: Memory,
    pub memory_after_load: Memory,
    pub fill_seconds: f64,
    pub recount_seconds: f64,
    pub idle_cpu_ms_per_second: f64,
    pub idle_seconds: u64,
    pub latencies: Vec<Latency>,
    pub metrics_bytes: usize,
    pub metrics_ms: Vec<f64>,
    pub checks: Checks,
}

/// What the run checked, for the test and the reader.
#[derive(Debug, Default, serde::Serialize)]
pub struct Checks {
    /// The commune-level and province-level procedures of the catalog.
    pub commune_procedures: Vec<String>,
    pub province_procedures: Vec<String>,
    /// Units asked for their procedures, and those offering their level's catalog.
    pub units_checked: usize,
    pub units_offering_catalog: usize,
    /// Every start reached `/readyz` 200.
    pub starts: usize,
    /// Inbox totals of the units checked, and what the fill put there.
    pub inbox_units_checked: usize,
    pub inbox_total: i64,
    pub inbox_expected: i64,
    pub big_ward_total: i64,
    /// Dossiers `/metrics` counts, and dossiers filled.
    pub metrics_dossiers: i64,
    pub filled: i64,
}

impl Checks {
    fn failures(&self, figures: &Figures) -> Vec<String> {
        let mut failures = Vec::new();
        if self.units_offering_catalog != self.units_checked || self.units_checked == 0 {
            failures.push(format!(
                "{} of {} units offer their level's catalog",
                self.units_offering_catalog, self.units_checked
            ));
        }
        if self.inbox_total != self.inbox_expected {
            failures.push(format!(
                "inbox totals {} where the fill put {}",
                self.inbox_total, self.inbox_expected
            ));
        }
        if self.metrics_dossiers != self.filled {
            failures.push(format!(
                "/metrics counts {} dossiers where {} were filled",
                self.metrics_dossiers, self.filled
            ));
        }
        if self.big_ward_total != figures.big_ward.min(figures.dossiers) {
            failures.push(format!(
                "the big ward's inbox counts {} dossiers",
                self.big_ward_total
            ));
        }
        failures
    }
}

pub async fn scale(args: ScaleArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let binary = args.servers.binary()?;
    let plugins = args
        .plugins
        .clone()
        .unwrap_or_else(|| PathBuf::from(motcua::bundled::BUILT_PLUGINS_DIR));
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for backend in &args.backends {
        let dir = match &args.dir {
            Some(dir) => tempfile::tempdir_in(dir)?,
            None => tempfile::tempdir()?,
        };
        let (database, dropped) = database(backend, dir.path(), &args.servers.postgres).await?;
        let figures = run_backend(&args, backend, &binary, &plugins, dir.path(), &database).await;
        if let Some(name) = dropped {
            drop_database(&args.servers.postgres, &name).await?;
        }
        let figures = figures?;
        print(&figures);
        failures.extend(
            figures
                .checks
                .failures(&figures)
                .into_iter()
                .map(|failure| format!("{backend}: {failure}")),
        );
        all.push(figures);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&all)?)?;
    }
    if !failures.is_empty() {
        bail!("checks failed:\n{}", failures.join("\n"));
    }
    Ok(())
}

/// A fresh database: a file in `dir`, or a new PostgreSQL database `scale_<pid>`.
async fn database(
    backend: &str,
    dir: &Path,
    admin: &str,
) -> anyhow::Result<(String, Option<String>)> {
    use sqlx::Connection;
    match backend {
        "sqlite" => Ok((format!("sqlite://{}", dir.join("scale.db").display()), None)),
        "postgres" => {
            let name = format!("scale_{}", std::process::id());
            let mut connection = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut connection)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut connection)
                .await?;
            let (prefix, _) = admin
                .rsplit_once('/')
                .context("the PostgreSQL URL names a database")?;
            Ok((format!("{prefix}/{name}"), Some(name)))
        }
        other => bail!("backend `{other}` is not sqlite or postgres"),
    }
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut connection)
    .await?;
    Ok(())
}

/// A small deterministic generator (no dependency for a shuffle).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

/// The procedures a unit offers: (code, level).
fn offered(view: &Value) -> BTreeSet<(String, String)> {
    view["procedures"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    (
                        item["binding"]["procedure"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        item["level"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn run_backend(
    args: &ScaleArgs,
    backend: &str,
    binary: &Path,
    plugins: &Path,
    dir: &Path,
    database: &str,
) -> anyhow::Result<Figures> {
    let http = reqwest::Client::new();
    let dirs = HostDirs {
        cache: dir.join("cache"),
        documents: dir.join("documents"),
        logs: dir.join("logs"),
    };
    let mut figures = Figures {
        backend: backend.to_string(),
        provinces: args.provinces,
        units: args.units,
        dossiers: args.dossiers,
        big_ward: args.big_ward,
        idle_seconds: args.idle_seconds,
        ..Figures::default()
    };
    let say = |what: &str| eprintln!("[scale {backend}] {what}");

    // The deployment, through motcua's own paths.
    let (_admin, publisher) = setup::init(binary, database)?;
    let started = Instant::now();
    figures.import_units = setup::import_units(
        binary,
        database,
        dir,
        &setup::units_csv(args.provinces, args.units),
    )?;
    figures.import_units_seconds = started.elapsed().as_secs_f64();
    say(&format!(
        "units imported in {:.1} s: {}",
        figures.import_units_seconds, figures.import_units
    ));
    let host = measure::start(binary, database, &dirs).await?;
    let started = Instant::now();
    let catalog = setup::publish_catalog(&http, &host.base, &publisher, plugins).await?;
    figures.publish_catalog_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let stamped =
        setup::publish_stamped(&http, &host.base, &publisher, plugins, args.builds).await?;
    figures.publish_builds_seconds = started.elapsed().as_secs_f64();
    figures.builds_published = catalog.len() + stamped.len();
    say(&format!(
        "{} catalog builds published and rolled out in {:.1} s, {} stamped builds in {:.1} s",
        catalog.len(),
        figures.publish_catalog_seconds,
        stamped.len(),
        figures.publish_builds_seconds
    ));

    // Every unit offers its level's catalog.
    let catalog_codes: BTreeSet<String> = catalog
        .iter()
        .filter(|build| !build.variant)
        .map(|build| build.procedure.clone())
        .collect();
    let mut levels: Vec<(String, String)> = Vec::new();
    for unit in [setup::commune_code(0), setup::department_code(0)] {
        let (_, view, _) = measure::timed_get(
            &http,
            &format!("{}/api/v1/procedures?unit={unit}", host.base),
            None,
        )
        .await?;
        levels.extend(
            offered(&view)
                .into_iter()
                .filter(|(code, _)| catalog_codes.contains(code)),
        );
    }
    let by_level = |level: &str| -> BTreeSet<String> {
        levels
            .iter()
            .filter(|(_, l)| l == level)
            .map(|(code, _)| code.clone())
            .collect()
    };
    let commune_set = by_level("commune");
    let province_set = by_level("province");
    figures.checks.commune_procedures = commune_set.iter().cloned().collect();
    figures.checks.province_procedures = province_set.iter().cloned().collect();
    if commune_set.len() + province_set.len() != catalog_codes.len() {
        bail!(
            "the catalog's procedures {catalog_codes:?} are not all offered: commune {commune_set:?}, province {province_set:?}"
        );
    }
    let units: Vec<(String, &BTreeSet<String>)> = (0..args.provinces)
        .map(|p| (setup::department_code(p), &province_set))
        .chain((0..args.units).map(|n| (setup::commune_code(n), &commune_set)))
        .collect();
    let mut samples = Vec::new();
    for (unit, expected) in &units {
        let (ms, view, _) = measure::timed_get(
            &http,
            &format!("{}/api/v1/procedures?unit={unit}", host.base),
            None,
        )
        .await?;
        samples.push(ms);
        let codes: BTreeSet<String> = offered(&view).into_iter().map(|(code, _)| code).collect();
        figures.checks.units_checked += 1;
        if expected.is_subset(&codes) {
            figures.checks.units_offering_catalog += 1;
        }
    }
    figures.latencies.push(Latency::of(
        "procedures of every unit (no dossiers)",
        samples,
    ));
    say(&format!(
        "{} of {} units offer their level's catalog",
        figures.checks.units_offering_catalog, figures.checks.units_checked
    ));
    drop(host);

    // Start times: the compiled cache emptied, then kept.
    for run in 0..args.cold_runs {
        let _ = std::fs::remove_dir_all(&dirs.cache);
        let host = measure::start(binary, database, &dirs).await?;
        if run == 0 {
            figures.memory_after_cold_start = measure::memory(host.child.id())?;
        }
        figures.cold_start_seconds.push(host.ready_seconds);
        figures.checks.starts += 1;
    }
    for _ in 0..args.warm_runs {
        let host = measure::start(binary, database, &dirs).await?;
        figures.warm_start_seconds.push(host.ready_seconds);
        figures.checks.starts += 1;
    }
    say(&format!(
        "starts: cold {:?} s, warm {:?} s",
        figures.cold_start_seconds, figures.warm_start_seconds
    ));

    // The dossiers, and the officers who read the inboxes.
    let mut inbox_units = vec![0usize];
    let mut lcg = Lcg(0x5eed);
    let others = args.units.saturating_sub(1);
    if others <= args.inbox_units {
        inbox_units.extend(1..args.units);
    } else {
        while inbox_units.len() < args.inbox_units + 1 {
            let n = 1 + lcg.below(others);
            if !inbox_units.contains(&n) {
                inbox_units.push(n);
            }
        }
    }
    let mut officers = Vec::new();
    for &n in &inbox_units {
        let unit = setup::commune_code(n);
        officers.push((n, setup::token(binary, database, &unit, "officer")?));
    }
    let procedures = commune_set
        .iter()
        .filter_map(|code| {
            catalog
                .iter()
                .find(|build| &build.procedure == code && !build.variant)
                .map(|build| fill::Filed {
                    procedure: code.clone(),
                    sha256: build.sha256.clone(),
                })
        })
        .collect::<Vec<_>>();
    let (inserted, recounted) = fill::fill(
        database,
        args.dossiers,
        args.big_ward,
        args.units,
        &procedures,
    )
    .await?;
    figures.fill_seconds = inserted;
    figures.recount_seconds = recounted;
    figures.checks.filled = args.dossiers;
    say(&format!(
        "{} dossiers filled in {inserted:.1} s, counted in {recounted:.1} s",
        args.dossiers
    ));

    let host = measure::start(binary, database, &dirs).await?;
    figures.checks.starts += 1;
    figures.memory_after_start = measure::memory(host.child.id())?;
    figures.idle_cpu_ms_per_second = measure::idle_cpu(host.child.id(), args.idle_seconds).await?;
    say(&format!(
        "idle: {:.2} ms of CPU a second over {} s",
        figures.idle_cpu_ms_per_second, args.idle_seconds
    ));
    serve_figures(args, &http, &host, &officers, &mut figures, &mut lcg).await?;
    figures.memory_after_load = measure::memory(host.child.id())?;
    Ok(figures)
}

/// Procedures and inbox queries over HTTP against the filled database, the inbox
/// totals against the fill, and a `/metrics` scrape.
async fn serve_figures(
    args: &ScaleArgs,
    http: &reqwest::Client,
    host: &Host,
    officers: &[(usize, String)],
    figures: &mut Figures,
    lcg: &mut Lcg,
) -> anyhow::Result<()> {
    let base = &host.base;
    let mut samples = Vec::new();
    for _ in 0..args.requests {
        let unit = setup::commune_code(lcg.below(args.units));
        let (ms, _, _) =
            measure::timed_get(http, &format!("{base}/api/v1/procedures?unit={unit}"), None)
                .await?;
        samples.push(ms);
    }
    figures
        .latencies
        .push(Latency::of("procedures of a random unit", samples));

    let big = setup::commune_code(0);
    let officer = officers
        .iter()
        .find(|(n, _)| *n == 0)
        .map(|(_, token)| token.as_str())
        .context("the big ward's officer")?;
    let inbox = format!("{base}/api/v1/units/{big}/dossiers");
    for (what, query) in [
        ("big ward: inbox first page", ""),
        ("big ward: status processing (4)", "?status=4"),
        ("big ward: status returned (10)", "?status=10"),
        ("big ward: due=overdue", "?due=overdue"),
        ("big ward: sort=due", "?sort=due"),
        ("big ward: procedure filter", "?procedure=__FIRST__"),
    ] {
        let query = query.replace(
            "__FIRST__",
            figures
                .checks
                .commune_procedures
                .first()
                .map_or("", String::as_str),
        );
        let mut samples = Vec::new();
        for _ in 0..args.requests {
            let (ms, _, _) =
                measure::timed_get(http, &format!("{inbox}{query}"), Some(officer)).await?;
            samples.push(ms);
        }
        figures.latencies.push(Latency::of(what, samples));
    }
    // Paging on with `next` from the first page, ever deeper.
    let (_, first, _) = measure::timed_get(http, &inbox, Some(officer)).await?;
    figures.checks.big_ward_total = first["total"].as_i64().unwrap_or(-1);
    let mut next = first["next"].as_str().map(str::to_string);
    let mut samples = Vec::new();
    while let Some(token) = next.take() {
        if samples.len() >= args.requests {
            break;
        }
        let (ms, page, _) =
            measure::timed_get(http, &format!("{inbox}?after={token}"), Some(officer)).await?;
        samples.push(ms);
        next = page["next"].as_str().map(str::to_string);
    }
    figures.latencies.push(Latency::of(
        "big ward: after= continuation (pages 2, 3, …)",
        samples,
    ));

    // Inbox totals against the fill.
    for (n, token) in officers {
        let unit = setup::commune_code(*n);
        let (_, page, _) = measure::timed_get(
            http,
            &format!("{base}/api/v1/units/{unit}/dossiers"),
            Some(token),
        )
        .await?;
        figures.checks.inbox_units_checked += 1;
        figures.checks.inbox_total += page["total"].as_i64().unwrap_or(-1);
        figures.checks.inbox_expected +=
            fill::expected(*n, args.dossiers, args.big_ward, args.units);
    }

    // One scrape of /metrics (left as it is; reported).
    for _ in 0..3 {
        let started = Instant::now();
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        figures
            .metrics_ms
            .push(started.elapsed().as_secs_f64() * 1000.0);
        figures.metrics_bytes = text.len();
        figures.checks.metrics_dossiers = text
            .lines()
            .filter(|line| line.starts_with("motcua_dossiers{"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as i64;
    }
    Ok(())
}

fn print(figures: &Figures) {
    let (cold, cold_max) = measure::median_max(&figures.cold_start_seconds);
    let (warm, warm_max) = measure::median_max(&figures.warm_start_seconds);
    let (metrics, metrics_max) = measure::median_max(&figures.metrics_ms);
    println!(
        "## {}: {} units in {} provinces, {} builds, {} dossiers ({} at the big ward)\n",
        figures.backend,
        figures.units,
        figures.provinces,
        figures.builds_published,
        figures.dossiers,
        figures.big_ward
    );
    println!("| what | figure |");
    println!("|---|---|");
    println!(
        "| units import | {:.1} s ({}) |",
        figures.import_units_seconds, figures.import_units
    );
    println!(
        "| publish + roll out the catalog / publish the stamped builds | {:.1} s / {:.1} s |",
        figures.publish_catalog_seconds, figures.publish_builds_seconds
    );
    println!(
        "| cold start to /readyz (median, max of {}) | {cold:.2} s, {cold_max:.2} s |",
        figures.cold_start_seconds.len()
    );
    println!(
        "| warm start to /readyz (median, max of {}) | {warm:.2} s, {warm_max:.2} s |",
        figures.warm_start_seconds.len()
    );
    for (what, memory) in [
        ("after a cold start", figures.memory_after_cold_start),
        (
            "after a warm start, dossiers filled",
            figures.memory_after_start,
        ),
        ("after the queries", figures.memory_after_load),
    ] {
        println!(
            "| resident memory {what} (VmRSS, VmHWM) | {:.0} MiB, {:.0} MiB |",
            memory.rss_mib, memory.hwm_mib
        );
    }
    println!(
        "| fill / recount | {:.1} s / {:.1} s |",
        figures.fill_seconds, figures.recount_seconds
    );
    println!(
        "| idle CPU over {} s | {:.2} ms a second |",
        figures.idle_seconds, figures.idle_cpu_ms_per_second
    );
    println!(
        "| /metrics scrape (median, max of {}) | {metrics:.0} ms, {metrics_max:.0} ms, {} bytes |",
        figures.metrics_ms.len(),
        figures.metrics_bytes
    );
    println!("\n| request | n | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    for latency in &figures.latencies {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} |",
            latency.what, latency.requests, latency.p50_ms, latency.p99_ms, latency.max_ms
        );
    }
    println!("\nchecks: {:?}\n", figures.checks);
}
