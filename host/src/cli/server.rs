//! `motcua serve` and `motcua demo`: the server's flags, the configuration they make,
//! and what the server says when it starts.

use std::path::PathBuf;

use anyhow::Context;
use motcua::accounts;
use motcua::app::Config;
use motcua::store::Store;
use tokio::net::TcpListener;

use crate::DatabaseArgs;
use crate::cli::documents::{DocumentLimitArgs, StorageArgs};

#[derive(clap::Args, Clone)]
pub(crate) struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "MOTCUA_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
    /// Directory for compiled plugin builds, private to the server's user (default:
    /// beside a SQLite database, else `./motcua-cache`).
    #[arg(long, env = "MOTCUA_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Seconds between rereads of what other hosts changed (registry, calendar).
    #[arg(long, env = "MOTCUA_REFRESH_SECONDS", default_value_t = 5)]
    pub(crate) refresh_seconds: u64,
    /// Seconds between runs of the deadline sweep.
    #[arg(long, env = "MOTCUA_SWEEP_SECONDS", default_value_t = 60)]
    pub(crate) sweep_seconds: u64,
    /// The private key (PKCS#8 PEM) this host signs each day's audit anchor with,
    /// shortly after midnight; without it the host makes no anchors.
    #[arg(long, env = "MOTCUA_AUDIT_KEY_FILE")]
    pub(crate) audit_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) front_door: FrontDoorArgs,
    #[command(flatten)]
    pub(crate) storage: StorageArgs,
    #[command(flatten)]
    pub(crate) document_limits: DocumentLimitArgs,
}

/// The main settings of the front door (docs/decisions/0012-front-door.md); the rest
/// keep the defaults of `motcua::api::FrontDoor`.
#[derive(clap::Args, Clone)]
pub(crate) struct FrontDoorArgs {
    /// Open connections at once; more are answered 503 and closed. Keep it below the
    /// process's open-file limit.
    #[arg(long, env = "MOTCUA_MAX_CONNECTIONS", default_value_t = 512)]
    pub(crate) max_connections: usize,
    /// Seconds a connection may take to send a request head, idle time included.
    #[arg(long, env = "MOTCUA_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    pub(crate) header_timeout_seconds: u64,
    /// Seconds a request body may take to arrive.
    #[arg(long, env = "MOTCUA_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub(crate) body_timeout_seconds: u64,
    /// Filings per minute per client address without a staff token (0: unlimited).
    #[arg(long, env = "MOTCUA_FILINGS_PER_MINUTE", default_value_t = 6)]
    pub(crate) filings_per_minute: u32,
    /// Tracking requests per minute per client address (0: unlimited).
    #[arg(long, env = "MOTCUA_TRACKING_PER_MINUTE", default_value_t = 60)]
    pub(crate) tracking_per_minute: u32,
    /// Citizen actions and ratings per minute per client address (0: unlimited).
    #[arg(long, env = "MOTCUA_CITIZEN_ACTIONS_PER_MINUTE", default_value_t = 30)]
    pub(crate) citizen_actions_per_minute: u32,
    /// Address of a reverse proxy whose X-Forwarded-For is believed (repeatable, or
    /// comma-separated in the environment). By default the client is the peer address.
    #[arg(
        long = "trusted-proxy",
        env = "MOTCUA_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
}

impl FrontDoorArgs {
    fn front_door(&self) -> motcua::api::FrontDoor {
        use motcua::api::{FrontDoor, RateQuota};
        let defaults = FrontDoor::default();
        // A changed rate keeps the default burst.
        let quota = |per_minute: u32, default: Option<RateQuota>| {
            (per_minute > 0).then(|| RateQuota {
                per_minute,
                burst: default.map_or(per_minute, |quota| quota.burst),
            })
        };
        FrontDoor {
            max_connections: self.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_seconds.max(1)),
            body_timeout: std::time::Duration::from_secs(self.body_timeout_seconds.max(1)),
            filing_quota: quota(self.filings_per_minute, defaults.filing_quota),
            tracking_quota: quota(self.tracking_per_minute, defaults.tracking_quota),
            citizen_action_quota: quota(
                self.citizen_actions_per_minute,
                defaults.citizen_action_quota,
            ),
            trusted_proxies: self.trusted_proxies.clone(),
            ..defaults
        }
    }
}

/// `motcua serve` is not the demo: accounts still holding a public demo token
/// (`demo-<unit>-<role>`, printed in the README) let anyone in. Say so loudly at start;
/// `/healthz` says it too for as long as they exist.
pub(crate) async fn warn_about_demo_tokens(store: &Store) -> anyhow::Result<()> {
    let demo = accounts::demo_accounts(store)
        .await
        .context("looking for accounts with demo tokens")?;
    if !demo.is_empty() {
        let ids: Vec<&str> = demo.iter().map(|account| account.id.as_str()).collect();
        tracing::error!(
            accounts = %ids.join(", "),
            "{} account(s) use the PUBLIC DEMO TOKENS printed in the README; anyone can act as them. Revoke them with `motcua token revoke ID` (or serve with `motcua demo` if this is a demo)",
            ids.len()
        );
    }
    Ok(())
}

pub(crate) fn config(args: &ServerArgs) -> anyhow::Result<Config> {
    let url = &args.database.database_url;
    let cache_dir = args
        .cache_dir
        .clone()
        .unwrap_or_else(|| match url.strip_prefix("sqlite://") {
            Some(path) => {
                PathBuf::from(format!("{}-cache", path.split('?').next().unwrap_or(path)))
            }
            None => PathBuf::from("motcua-cache"),
        });
    let audit_key = args
        .audit_key_file
        .as_deref()
        .map(motcua::audit::AnchorKey::read)
        .transpose()?;
    Ok(Config {
        cache_dir: Some(cache_dir),
        refresh_interval: std::time::Duration::from_secs(args.refresh_seconds.max(1)),
        sweep_interval: std::time::Duration::from_secs(args.sweep_seconds.max(1)),
        front_door: args.front_door.front_door(),
        audit_key,
        storage: Some(args.storage.config_for(url)),
        document_limits: args.document_limits.limits()?,
        ..Config::new(url.clone())
    })
}

pub(crate) async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
}

pub(crate) fn print_demo(address: &str, seeded: &motcua::demo::Seeded) {
    println!("motcua demo province Phú Thọ is ready at http://{address}");
    println!();
    println!("Procedures deployed:");
    for (code, name, version, offered) in &seeded.procedures {
        println!("  {code}  {name}  (plugin {version}) — {offered}");
    }
    println!();
    println!("Demo accounts: sign in to the console as ACCOUNT with the password TOKEN,");
    println!("or call the API with Authorization: Bearer TOKEN:");
    println!("  {:<22} {:<11} {:<34} TOKEN", "unit", "role", "ACCOUNT");
    for (unit, role, token) in &seeded.accounts {
        let account = format!("{unit}-{}", role.as_str());
        println!("  {unit:<22} {:<11} {account:<34} {token}", role.as_str());
    }
    println!();
    println!("The web console: http://{address}/ (citizens), http://{address}/sign-in (staff)");
    println!();
    println!("Try:");
    println!("  curl -s http://{address}/api/v1/procedures?unit=xuan-hoa");
    println!(
        "  curl -s -H 'Authorization: Bearer demo-xuan-hoa-officer' http://{address}/api/v1/units/xuan-hoa/dossiers"
    );
    println!("See README.md for filing and working a birth registration end to end.");
}
