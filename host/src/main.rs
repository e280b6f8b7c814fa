//! The `motcua` command: serve the API, seed the demo province, migrate, manage units,
//! accounts and holiday tables, publish and roll out plugins.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use motcua::accounts::{self, NewAccount};
use motcua::app;
use motcua::clock::{Clock, format_civil};
use motcua::domain::Author;
use motcua::store::{Revocation, Store};
use motcua::units;

mod cli {
    pub(crate) mod documents;
    pub(crate) mod server;
    pub(crate) mod users;
}
use cli::server::{ServerArgs, bind, config, print_demo, warn_about_demo_tokens};

/// mimalloc instead of the C library's allocator: a request allocates and frees many
/// small buffers on whichever worker thread runs it, where glibc's allocator spent a
/// tenth of the machine's CPU merging and splitting free chunks (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "Administrative-procedure workflows as sandboxed WebAssembly plugins"
)]
struct Cli {
    /// How log lines are written to standard error: `text` for people, `json` (one
    /// object a line, with the request's id, unit, dossier and build where they apply)
    /// for a log collector.
    #[arg(
        long,
        global = true,
        env = "MOTCUA_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: CommandLine,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone)]
struct ClientArgs {
    /// The motcua server to talk to.
    #[arg(long, env = "MOTCUA_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// A publisher's token.
    #[arg(long, env = "MOTCUA_TOKEN")]
    token: String,
}

#[derive(clap::Args, Clone)]
struct DatabaseArgs {
    /// sqlite://PATH (created on first start) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "MOTCUA_DATABASE_URL",
        default_value = "sqlite://motcua.db"
    )]
    database_url: String,
}

#[derive(Subcommand)]
enum CommandLine {
    /// Serve the API.
    Serve(ServerArgs),
    /// Seed the demo province (idempotent), deploy the bundled plugins, print tokens, then serve.
    Demo(ServerArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DatabaseArgs),
    /// Bring up a new deployment: create the province and its first administrator,
    /// printing the administrator's random token once. Refuses when the database
    /// already holds a province.
    Init {
        /// The province's code, e.g. `phu-tho`.
        #[arg(long)]
        province: String,
        /// Its name, e.g. "Tỉnh Phú Thọ".
        #[arg(long)]
        name: String,
        /// Its agency e-ID, e.g. 000.00.00.H43.
        #[arg(long)]
        agency_id: String,
        /// The administrator's account name (default: <province>-admin-<8 hex>).
        #[arg(long)]
        admin_name: Option<String>,
        /// Also create a publisher account (publishes and rolls out plugins).
        #[arg(long)]
        publisher: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Staff accounts that sign in to the web console with a password.
    User {
        #[command(subcommand)]
        command: cli::users::UserCommand,
    },
    /// Manage accounts and their API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The province's holiday calendar, one table per year, in the database.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Manage the province's units (the province, departments, wards, communes).
    Units {
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// The processing report and the national indicators, read from the database.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Dossiers, read from the database: `replay` re-decides a dossier's history.
    Dossier {
        #[command(subcommand)]
        command: DossierCommand,
    },
    /// Publish, roll out and roll back procedure plugins on a running server.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Sign each day's audit-chain heads with a key the database does not hold, and
    /// check the audit trail against those signatures.
    Audit {
        #[command(subcommand)]
        command: motcua::audit::commands::AuditCommand,
    },
    /// Check the document store: every file the dossiers hold, read back against its sha256.
    Documents {
        #[command(subcommand)]
        command: cli::documents::DocumentsCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Publish a component (.wasm) to the province catalog.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Roll a published version out to pilot units (--units a,b) or to all units (--all).
    Rollout {
        procedure: String,
        version: String,
        #[arg(
            long,
            value_delimiter = ',',
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        units: Vec<String>,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Start a new procedure plugin from the template: plugins/NAME, added to the workspace.
    New {
        name: String,
        /// The workspace to create it in (default: the one holding the current directory).
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
    },
    /// Build a plugin crate for wasm32 and wrap it into a component the host accepts.
    Build {
        /// The plugin crate's directory, e.g. plugins/death-registration.
        dir: PathBuf,
        /// Cargo target directory (default: <workspace>/target/plugins).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Run scenario files against a plugin offline: the real runtime, limits and
    /// calendar, no server, no database. Exits non-zero when a scenario diverges.
    Test {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// Scenario files (.yaml), or directories holding them.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Undo the latest rollout of a procedure.
    Rollback {
        procedure: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(clap::Args, Clone)]
struct PeriodArgs {
    /// First day of the period (YYYY-MM-DD).
    #[arg(long)]
    from: String,
    /// Last day of the period, included (YYYY-MM-DD).
    #[arg(long)]
    to: String,
    /// Only this unit (default: the whole province).
    #[arg(long)]
    unit: Option<String>,
    /// json or csv.
    #[arg(long, default_value = "json")]
    format: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Subcommand)]
enum DossierCommand {
    /// Re-run every recorded command through the dossier's pinned build and show, event
    /// by event, whether each decision matches what was recorded. Exit status: 0 when
    /// everything matches, 1 on a mismatch, 2 when the replay could not run.
    Replay {
        /// The dossier's code.
        code: String,
        /// Print the replay as JSON (the API's shape) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The processing-situation table: per unit and procedure, per unit, per procedure, total.
    Processing {
        #[command(flatten)]
        period: PeriodArgs,
        /// Only this procedure (national code, e.g. 1.001612).
        #[arg(long)]
        procedure: Option<String>,
    },
    /// The national indicators per unit (Decision 766/QĐ-TTg), scored and ranked.
    Indicators {
        #[command(flatten)]
        period: PeriodArgs,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load one year's holiday table (CSV rows `date,kind,name`; `#` comments) into the
    /// database: checked whole, audited, provisional due dates recomputed. Serving
    /// hosts put it in force within their refresh interval.
    Import {
        /// The table, e.g. docs/examples/vn-2027.csv.
        file: PathBuf,
        /// The year the table is for (default: the year of its first row).
        #[arg(long)]
        year: Option<i32>,
        /// Who loads it, for the audit (default: cli:$USER).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the loaded years: days, sha256, who loaded them when; and missing years.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a unit and role; prints the token alone on stdout.
    Create {
        #[arg(long)]
        unit: String,
        /// officer, specialist, leader, admin or publisher.
        #[arg(long)]
        role: String,
        /// A name for the account (defaults to UNIT-ROLE-N).
        #[arg(long)]
        name: Option<String>,
        /// When the token stops working: a date (valid through that day, civil time)
        /// or an RFC 3339 time. Default: never.
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List accounts: id, unit, role, created, expires, state (never tokens).
    List {
        /// Only this unit's accounts.
        #[arg(long)]
        unit: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke an account: its token is refused on every host from the next request.
    Revoke {
        /// The account's id, as `motcua token list` shows it.
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Create and update units from a CSV file (code,name,kind,agency_id,parent);
    /// a file with any error changes nothing.
    Import {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the units.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,sqlx=warn".into())
    };
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        CommandLine::Plugin { command } => plugin_command(command).await,
        CommandLine::Calendar { command } => calendar_command(command).await,
        CommandLine::Report { command } => report_command(command).await,
        CommandLine::Dossier { command } => dossier_command(command).await,
        CommandLine::Documents { command } => {
            let code = cli::documents::run(command).await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        CommandLine::Audit { command } => {
            let code = motcua::audit::commands::run(command, &operator().id).await?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        CommandLine::Serve(args) => {
            let config = config(&args)?;
            let state = app::build_state(&config, Clock::system()).await?;
            warn_about_demo_tokens(&state.store).await?;
            let shutdown = app::shutdown_signal();
            let listener = bind(&args.listen).await?;
            app::serve(state, &config, listener, shutdown).await
        }
        CommandLine::Demo(args) => {
            let config = config(&args)?;
            let state = app::build_state(&config, Clock::system()).await?;
            let seeded = motcua::demo::seed(&state).await?;
            let shutdown = app::shutdown_signal();
            let listener = bind(&args.listen).await?;
            print_demo(&listener.local_addr()?.to_string(), &seeded);
            app::serve(state, &config, listener, shutdown).await
        }
        CommandLine::Migrate(args) => {
            Store::connect(&args.database_url)
                .await
                .context("migrating the database")?;
            eprintln!("database at {} is up to date", args.database_url);
            Ok(())
        }
        CommandLine::Token { command } => token_command(command).await,
        CommandLine::User { command } => cli::users::run(command, &operator()).await,
        CommandLine::Init {
            province,
            name,
            agency_id,
            admin_name,
            publisher,
            database,
        } => {
            let store = Store::connect(&database.database_url)
                .await
                .with_context(|| format!("opening the database at {}", database.database_url))?;
            let request = accounts::Bootstrap {
                code: province,
                name,
                agency_id,
                admin_name,
                publisher,
            };
            let done =
                accounts::bootstrap(&store, request, &operator(), Clock::system().now()).await;
            store.close().await;
            let done = done?;
            println!(
                "created the province `{}` ({}, agency e-ID {})",
                done.province.code, done.province.name, done.province.agency_id
            );
            for (account, token) in &done.accounts {
                println!("{:<10} {:<40} {token}", account.role, account.id);
            }
            println!(
                "each token is shown this once and stored only as its sha256; keep it safe, or revoke the account (`motcua token revoke ID`) and create another"
            );
            Ok(())
        }
        CommandLine::Units { command } => units_command(command).await,
    }
}

/// Who the audit names for changes made at the command line: the operator's login.
fn operator() -> Author {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Author {
        id: format!("cli:{login}"),
        role: "operator".into(),
    }
}

async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    let now = Clock::system().now();
    match command {
        TokenCommand::Create {
            unit,
            role,
            name,
            expires,
            database,
        } => {
            let store = Store::connect(&database.database_url).await?;
            let account = NewAccount {
                unit,
                role,
                name,
                expires,
                password: None,
            };
            let (_, token) = accounts::create(&store, account, &operator(), now).await?;
            println!("{token}");
        }
        TokenCommand::List { unit, database } => {
            let store = Store::connect(&database.database_url).await?;
            let listed = accounts::list(&store, unit.as_deref()).await?;
            print!("{}", accounts::table(&listed, now));
        }
        TokenCommand::Revoke { id, database } => {
            let store = Store::connect(&database.database_url).await?;
            match accounts::revoke(&store, &id, &operator(), now).await? {
                Revocation::Revoked(account) => println!(
                    "revoked `{}` ({} {}); its token is refused from now on",
                    account.id, account.unit, account.role
                ),
                Revocation::AlreadyRevoked(account) => println!(
                    "`{}` was already revoked at {}; nothing changed",
                    account.id,
                    account.revoked_at.unwrap_or_default()
                ),
            }
        }
    }
    Ok(())
}

async fn units_command(command: UnitsCommand) -> anyhow::Result<()> {
    match command {
        UnitsCommand::Import { file, database } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = Store::connect(&database.database_url).await?;
            let at = format_civil(Clock::system().now());
            let summary = units::import_csv(&store, &bytes, &operator(), &at)
                .await
                .with_context(|| format!("importing {}", file.display()))?;
            println!("{summary}");
        }
        UnitsCommand::List { database } => {
            let store = Store::connect(&database.database_url).await?;
            print!("{}", units::table(&store.units().await?));
        }
    }
    Ok(())
}

/// `motcua dossier replay`: the database directly, writing nothing.
async fn dossier_command(command: DossierCommand) -> anyhow::Result<()> {
    let DossierCommand::Replay {
        code,
        json,
        database,
    } = command;
    let outcome = async {
        let store = Store::connect(&database.database_url)
            .await
            .with_context(|| format!("opening the database at {}", database.database_url))?;
        let replay = motcua::workflow::replay::replay_from_store(
            &store,
            motcua::runtime::SandboxLimits::default(),
            &code,
        )
        .await;
        store.close().await;
        anyhow::Ok(replay?)
    }
    .await;
    let replay = match outcome {
        Ok(replay) => replay,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&replay)?);
    } else {
        print!("{}", replay.to_text());
    }
    if !replay.matches() {
        std::process::exit(1);
    }
    Ok(())
}

/// `motcua report ...`: the database directly, as the province sees it.
async fn report_command(command: ReportCommand) -> anyhow::Result<()> {
    use motcua::reports::{Format, ReportKind, ReportRequest};
    let (kind, period, procedure) = match command {
        ReportCommand::Processing { period, procedure } => {
            (ReportKind::Processing, period, procedure)
        }
        ReportCommand::Indicators { period } => (ReportKind::Indicators, period, None),
    };
    let format = Format::parse(Some(&period.format))?;
    let store = Store::connect(&period.database.database_url)
        .await
        .with_context(|| format!("opening the database at {}", period.database.database_url))?;
    let request = ReportRequest {
        kind,
        from: period.from,
        to: period.to,
        unit: period.unit,
        procedure,
        format,
    };
    // The calendar the province loaded, as the serving hosts use it.
    let (calendar, _) = motcua::workflow::calendar::read_calendar(&store)
        .await
        .context("reading the holiday calendar")?;
    let output =
        motcua::reports::run_report(&store, &calendar, &request, Clock::system().now()).await;
    store.close().await;
    print!("{}", output?);
    Ok(())
}

/// `motcua calendar import` and `motcua calendar list`, on the database directly.
async fn calendar_command(command: CalendarCommand) -> anyhow::Result<()> {
    use motcua::calendar::table::parse_table;
    use motcua::workflow::calendar::{Loader, import_table};
    match command {
        CalendarCommand::Import {
            file,
            year,
            by,
            database,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            // The table is checked before the database is opened: a bad table writes
            // nothing, not even a new database file.
            let table = match parse_table(&bytes, year) {
                Ok(table) => table,
                Err(errors) => {
                    for error in &errors {
                        eprintln!("{}: {error}", file.display());
                    }
                    anyhow::bail!(
                        "{} has {} problem(s); nothing was loaded",
                        file.display(),
                        errors.len()
                    );
                }
            };
            let store = Store::connect(&database.database_url)
                .await
                .with_context(|| format!("opening the database at {}", database.database_url))?;
            let by = by.unwrap_or_else(|| {
                let user = std::env::var("USER")
                    .or_else(|_| std::env::var("LOGNAME"))
                    .unwrap_or_else(|_| "unknown".into());
                format!("cli:{user}")
            });
            let loader = Loader {
                id: by,
                role: "operator".into(),
            };
            let loaded = import_table(&store, &table, &loader, Clock::system().now()).await?;
            store.close().await;
            if !loaded.changed {
                println!(
                    "{}: unchanged; this table ({} days, sha256 {}) is already loaded, nothing was written",
                    loaded.year, loaded.days, loaded.sha256
                );
                return Ok(());
            }
            let replaced = match &loaded.before {
                Some((sha, days)) => format!("replacing a table of {days} days (sha256 {sha})"),
                None => "the year had no table".to_string(),
            };
            println!(
                "{}: loaded {} days (sha256 {}), {replaced}",
                loaded.year, loaded.days, loaded.sha256
            );
            println!(
                "recomputed {} provisional due date(s)",
                loaded.recomputed.changed.len()
            );
            for (code, before, after) in &loaded.recomputed.changed {
                println!("  {code}  {} -> {after}", before.as_deref().unwrap_or("-"));
            }
            println!("serving hosts put it in force within their refresh interval");
            Ok(())
        }
        CalendarCommand::List { database } => {
            let store = Store::connect(&database.database_url)
                .await
                .with_context(|| format!("opening the database at {}", database.database_url))?;
            let years = store.calendar_years().await?;
            store.close().await;
            if years.is_empty() {
                println!(
                    "no holiday table is loaded yet; a server loads the shipped years when it starts"
                );
            } else {
                println!(
                    "{:<6}{:>5}  {:<64}  {:<25}  loaded by",
                    "year", "days", "sha256", "loaded at"
                );
                for year in &years {
                    println!(
                        "{:<6}{:>5}  {:<64}  {:<25}  {}",
                        year.year, year.days, year.sha256, year.loaded_at, year.loaded_by
                    );
                }
            }
            let loaded: Vec<i32> = years.iter().map(|year| year.year).collect();
            let missing: Vec<String> =
                motcua::calendar::missing_years(&loaded, Clock::system().now().date())
                    .iter()
                    .map(ToString::to_string)
                    .collect();
            if !missing.is_empty() {
                println!(
                    "missing: {} (due dates reaching into it count weekends only and are provisional)",
                    missing.join(", ")
                );
            }
            Ok(())
        }
    }
}

/// `motcua plugin test`: every scenario, a line each, the first divergence in full.
async fn test_plugin(plugin: &std::path::Path, scenarios: &[PathBuf]) -> anyhow::Result<()> {
    use motcua::calendar::Calendar;
    use motcua::runtime::{Runtime, SandboxLimits};
    let bytes = std::fs::read(plugin).with_context(|| format!("reading {}", plugin.display()))?;
    let runtime = Runtime::new(
        SandboxLimits::default(),
        std::sync::Arc::new(Calendar::shipped()),
    )?;
    let build = std::sync::Arc::new(
        runtime
            .load(&bytes)
            .with_context(|| format!("{} is not a usable procedure plugin", plugin.display()))?,
    );
    let files = motcua::harness::scenario_files(scenarios).context("listing scenario files")?;
    if files.is_empty() {
        anyhow::bail!("no scenario files (*.yaml) found in {scenarios:?}");
    }
    println!("{} — {} scenario file(s)", build.label(), files.len());
    let (mut passed, mut failed) = (0, 0);
    let mut reports = Vec::new();
    for file in &files {
        match motcua::harness::run_scenario(&runtime, &build, file).await {
            Ok(report) if report.divergence.is_none() => {
                passed += 1;
                println!(
                    "PASS {} — {} ({} steps)",
                    file.display(),
                    report.name,
                    report.steps
                );
                reports.push(report);
            }
            Ok(mut report) => {
                failed += 1;
                println!("FAIL {} — {}", file.display(), report.name);
                print!("{}", report.divergence.take().unwrap_or_default());
                reports.push(report);
            }
            Err(error) => {
                failed += 1;
                println!("FAIL {} — {error}", file.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    print_coverage(&build.info, &reports);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// What the scenarios left untested of the steps and actions the plugin declares.
fn print_coverage(
    info: &motcua::domain::ProcedureInfo,
    reports: &[motcua::harness::ScenarioReport],
) {
    let coverage = motcua::harness::coverage(info, reports);
    println!(
        "coverage: {} of {} steps reached, {} of {} actions decided",
        coverage.steps - coverage.unreached_steps.len(),
        coverage.steps,
        coverage.actions - coverage.untaken_actions.len(),
        coverage.actions
    );
    if !coverage.unreached_steps.is_empty() {
        println!(
            "  never reached: {}",
            coverage
                .unreached_steps
                .iter()
                .map(|step| format!("`{step}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !coverage.untaken_actions.is_empty() {
        println!(
            "  never decided: {}",
            coverage
                .untaken_actions
                .iter()
                .map(|(step, action)| format!("`{action}` in `{step}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Talks to a running server for `motcua plugin ...`.
async fn plugin_command(command: PluginCommand) -> anyhow::Result<()> {
    match &command {
        PluginCommand::Test { plugin, scenarios } => return test_plugin(plugin, scenarios).await,
        PluginCommand::New { name, workspace } => {
            let dir = motcua::scaffold::new_plugin(workspace, name)?;
            println!("created {} and added it to the workspace", dir.display());
            println!("next: motcua plugin build {}", dir.display());
            println!(
                "then: motcua plugin test <the .wasm it prints> {}",
                dir.join("scenarios").display()
            );
            return Ok(());
        }
        PluginCommand::Build { dir, target_dir } => {
            let component = motcua::scaffold::build_plugin(dir, target_dir.as_deref())?;
            println!("{}", component.display());
            return Ok(());
        }
        _ => {}
    }
    let client = reqwest::Client::new();
    let (client_args, request) = match &command {
        PluginCommand::Publish { file, client: args } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            (
                args,
                client
                    .post(format!("{}/api/v1/plugins", args.server))
                    .header("content-type", "application/wasm")
                    .body(bytes),
            )
        }
        PluginCommand::Rollout {
            procedure,
            version,
            units,
            all,
            client: args,
        } => {
            let scope = if *all {
                serde_json::json!("all")
            } else {
                serde_json::json!(units)
            };
            let body =
                serde_json::json!({ "procedure": procedure, "version": version, "units": scope });
            (
                args,
                client
                    .post(format!("{}/api/v1/rollouts", args.server))
                    .json(&body),
            )
        }
        PluginCommand::Rollback {
            procedure,
            client: args,
        } => {
            let body = serde_json::json!({ "procedure": procedure });
            (
                args,
                client
                    .post(format!("{}/api/v1/rollouts/rollback", args.server))
                    .json(&body),
            )
        }
        PluginCommand::Test { .. } | PluginCommand::New { .. } | PluginCommand::Build { .. } => {
            unreachable!("handled above")
        }
    };
    let response = request
        .bearer_auth(&client_args.token)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {}", client_args.server))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail");
        anyhow::bail!("the server refused ({status}): {detail}");
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
