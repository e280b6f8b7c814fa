//! `motcua user create|password`: staff accounts that sign in to the web console with a
//! password (docs/decisions/0020-console-sign-in.md). A password is read from standard
//! input (never from the command line, where other users of the machine see it) or,
//! when none is given, generated and printed once.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use motcua::accounts::{self, NewAccount};
use motcua::clock::Clock;
use motcua::domain::Author;
use motcua::sessions;
use motcua::store::Store;

use crate::DatabaseArgs;

#[derive(clap::Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account with a console password; prints its name and, when the
    /// password was generated, the password (shown this once).
    Create {
        #[arg(long)]
        unit: String,
        /// officer, specialist, leader, admin or publisher.
        #[arg(long)]
        role: String,
        /// The name the person signs in with (defaults to UNIT-ROLE-N).
        #[arg(long)]
        name: Option<String>,
        /// When the account stops working: a date (through that day) or an RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
        /// Read the password from the first line of standard input instead of
        /// generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set or replace an account's console password; its open sessions end.
    Password {
        /// The account's name, as `motcua token list` shows it.
        name: String,
        /// Read the password from the first line of standard input instead of
        /// generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("password (one line):");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!(
            "--password-stdin read an empty line; pipe the password in, or leave the flag out to have one generated"
        );
    }
    Ok(Some(password))
}

pub(crate) async fn run(command: UserCommand, author: &Author) -> anyhow::Result<()> {
    let now = Clock::system().now();
    match command {
        UserCommand::Create {
            unit,
            role,
            name,
            expires,
            password_stdin,
            database,
        } => {
            let given = read_password(password_stdin)?;
            let password = given.clone().unwrap_or_else(sessions::generate_password);
            let store = Store::connect(&database.database_url).await?;
            let account = NewAccount {
                unit,
                role,
                name,
                expires,
                password: Some(password.clone()),
            };
            let (record, _token) = accounts::create(&store, account, author, now).await?;
            println!("account: {}", record.id);
            if given.is_none() {
                println!("password: {password}");
            }
        }
        UserCommand::Password {
            name,
            password_stdin,
            database,
        } => {
            let given = read_password(password_stdin)?;
            let password = given.clone().unwrap_or_else(sessions::generate_password);
            let store = Store::connect(&database.database_url).await?;
            sessions::set_password(&store, &name, &password, author, now).await?;
            println!("account: {name}");
            if given.is_none() {
                println!("password: {password}");
            }
        }
    }
    Ok(())
}
