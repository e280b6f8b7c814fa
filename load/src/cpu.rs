//! CPU time spent during a phase, read from `/proc` (Linux): the server's process, the
//! PostgreSQL server's (every process named `postgres`), and this tool's own (the
//! clients). On a machine whose few cores the server, the database and the clients
//! share, CPU time per request is steadier than requests per second: it does not move
//! with what else the machine happens to run, and it says which part costs what.

use std::sync::LazyLock;

/// CPU seconds, by whose they were.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub server: f64,
    pub database: f64,
    pub client: f64,
}

impl Cpu {
    /// What was spent from `earlier` to `self`.
    pub fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            server: self.server - earlier.server,
            database: self.database - earlier.database,
            client: self.client - earlier.client,
        }
    }
}

/// The clock ticks per second of `/proc/<pid>/stat` (USER_HZ).
static TICKS_PER_SECOND: LazyLock<f64> = LazyLock::new(|| {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
});

/// The process's name and its user + system CPU ticks, from `/proc/<pid>/stat`.
fn stat(pid: &str) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces; the fields after it are fixed.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 2..].split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((name, user + system))
}

/// The CPU time process `pid` has used so far (user + system), in seconds.
pub fn seconds(pid: u32) -> anyhow::Result<f64> {
    let (_, ticks) =
        stat(&pid.to_string()).ok_or_else(|| anyhow::anyhow!("cannot read /proc/{pid}/stat"))?;
    Ok(ticks as f64 / *TICKS_PER_SECOND)
}

/// The CPU seconds used so far by `server` (a process id), by the PostgreSQL server's
/// processes when `postgres`, and by this process. A PostgreSQL process that ended in
/// between is not counted; the servers keep their connections open through a phase.
pub fn now(server: u32, postgres: bool) -> Cpu {
    let seconds = |ticks: u64| ticks as f64 / *TICKS_PER_SECOND;
    let server = stat(&server.to_string()).map_or(0, |(_, ticks)| ticks);
    let client = stat("self").map_or(0, |(_, ticks)| ticks);
    let mut database = 0;
    if postgres && let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str() else { continue };
            if !pid.bytes().all(|byte| byte.is_ascii_digit()) {
                continue;
            }
            if let Some((name, ticks)) = stat(pid)
                && name == "postgres"
            {
                database += ticks;
            }
        }
    }
    Cpu {
        server: seconds(server),
        database: seconds(database),
        client: seconds(client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's CPU time is read, and grows with work done.
    #[test]
    fn counts_this_process() {
        let before = now(std::process::id(), false);
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let spent = now(std::process::id(), false).since(before);
        assert!(spent.server >= 0.2, "{spent:?}");
        assert!(spent.client >= 0.2, "{spent:?}");
        assert_eq!(spent.database, 0.0);
    }
}
