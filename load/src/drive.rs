//! Clients: many concurrent loops of one kind of request for a fixed time, with every
//! answer's latency kept, and what the figures say.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

/// Which server a phase talks to, and how.
#[derive(Clone)]
pub enum Target {
    /// motcua's API with the demo province's officers' tokens.
    Motcua { base: String },
    /// The bare baseline (`bare.rs`).
    Bare { base: String },
}

/// The units the clients act at, round robin (the demo's communes), with their officers.
pub const UNITS: [(&str, &str); 3] = [
    ("xuan-hoa", "demo-xuan-hoa-officer"),
    ("viet-tri", "demo-viet-tri-officer"),
    ("thanh-ba", "demo-thanh-ba-officer"),
];

/// Actions on one dossier before a client moves to the next (a dossier's history stays
/// the length of a real one).
pub const ACTIONS_PER_DOSSIER: u32 = 10;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Figures {
    pub clients: usize,
    pub answered: u64,
    pub failed: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The first failure seen, for the report.
    pub first_failure: Option<String>,
    /// CPU time per answered request over the measured time, in µs (`cpu.rs`).
    pub server_cpu_us: f64,
    pub database_cpu_us: f64,
    pub client_cpu_us: f64,
}

fn filing_body(unit: &str) -> Value {
    json!({
        "procedure": "1.001612",
        "receiving_unit": unit,
        "channel": "in-person",
        "applicant": {
            "full_name": "Lê Văn Hùng",
            "citizen_id": "025085006789",
            "phone": "0987654321",
            "address": "Số 12 đường Hùng Vương, phường Xuân Hòa"
        },
        "form": {
            "business_name": "Hộ kinh doanh Tạp hóa Hùng Lan",
            "address": "Số 12 đường Hùng Vương, phường Xuân Hòa, tỉnh Phú Thọ",
            "business_lines": ["Bán lẻ lương thực, thực phẩm", "Bán lẻ đồ uống"],
            "capital_vnd": 150000000,
            "employees": 2,
            "members": []
        },
        "documents": [
            {"kind": "registration-request", "name": "Giấy đề nghị đăng ký hộ kinh doanh",
             "sha256": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "size": 64210, "digitized": true},
            {"kind": "citizen-id-card", "name": "Căn cước công dân chủ hộ",
             "sha256": "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef", "size": 91877, "digitized": true}
        ]
    })
}

/// One client's connection to a target.
struct Client {
    http: reqwest::Client,
    target: Target,
    unit: &'static str,
    token: &'static str,
}

impl Client {
    /// Files one dossier; its code and version.
    async fn file(&self) -> Result<(String, i64), String> {
        let request = match &self.target {
            Target::Motcua { base } => self
                .http
                .post(format!("{base}/api/v1/dossiers"))
                .bearer_auth(self.token)
                .json(&filing_body(self.unit)),
            Target::Bare { base } => self
                .http
                .post(format!("{base}/dossiers"))
                .json(&json!({ "unit": self.unit, "form": filing_body(self.unit)["form"] })),
        };
        let body: Answer = answer(request).await?;
        let code = body.code.ok_or("no code")?;
        Ok((code, 1))
    }

    /// One action on a dossier at `version`; the new version.
    async fn act(&self, code: &str, version: i64, first: bool) -> Result<i64, String> {
        let (action, payload) = if first {
            ("receive", json!({}))
        } else {
            (
                "record-payment",
                json!({ "amount_vnd": 1, "online": true, "receipt": "VNPAY-1" }),
            )
        };
        let body = json!({ "action": action, "payload": payload });
        let request = match &self.target {
            Target::Motcua { base } => self
                .http
                .post(format!("{base}/api/v1/dossiers/{code}/actions"))
                .bearer_auth(self.token),
            Target::Bare { base } => self.http.post(format!("{base}/dossiers/{code}/actions")),
        };
        let answer: Answer =
            answer(request.header("If-Match", version.to_string()).json(&body)).await?;
        answer.version.ok_or_else(|| "no version".to_string())
    }
}

/// What a client takes from an answer. The whole body is read and checked to be JSON,
/// but not built into a tree: the clients share the machine with the server, and
/// building motcua's dossier view (tens of fields and the history) into a `Value` cost
/// them twice the CPU per request that the bare server's two-field answer did.
#[derive(serde::Deserialize)]
struct Answer {
    code: Option<String>,
    version: Option<i64>,
}

async fn answer(request: reqwest::RequestBuilder) -> Result<Answer, String> {
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|error| error.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        ));
    }
    serde_json::from_slice(&bytes).map_err(|error| error.to_string())
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// What a phase does: file dossiers, or act on them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Filings,
    Actions,
}

/// Dossiers filed before an action phase so that its clients rarely stop to file one:
/// enough for each client to act at up to 2,000/s (and all of them at up to 10,000/s)
/// for the whole phase, filed by 16 clients at once, each at its client's unit.
async fn prefile(
    http: &reqwest::Client,
    target: &Target,
    clients: usize,
    duration: Duration,
) -> Vec<VecDeque<(String, i64, u32)>> {
    let per_client_rate = (10_000.0 / clients as f64).min(2_000.0);
    let per_client = (per_client_rate * (duration.as_secs_f64() + 1.0)
        / f64::from(ACTIONS_PER_DOSSIER))
    .ceil() as usize;
    let jobs: Vec<usize> = (0..clients)
        .flat_map(|index| std::iter::repeat_n(index, per_client))
        .collect();
    let filed = futures::stream::iter(jobs)
        .map(|index| {
            let (unit, token) = UNITS[index % UNITS.len()];
            let client = Client {
                http: http.clone(),
                target: target.clone(),
                unit,
                token,
            };
            async move { (index, client.file().await) }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let mut prepared = vec![VecDeque::new(); clients];
    for (index, result) in filed {
        if let Ok((code, version)) = result {
            prepared[index].push_back((code, version, 0));
        }
    }
    prepared
}

/// A client's dossiers after an action on `code` (its `done`-th): the same dossier
/// stays first until its actions are done. At the back of the queue it would wait
/// behind every other prefiled dossier, and a phase would see little but receipts.
fn acted(dossiers: &mut VecDeque<(String, i64, u32)>, code: String, version: i64, done: u32) {
    if done + 1 < ACTIONS_PER_DOSSIER {
        dossiers.push_front((code, version, done + 1));
    }
}

/// One server's clients for one kind of work, measured in one or more slices of time:
/// what each client has left to act on carries over from one slice to the next, and
/// the figures add up over the slices. Slices of two servers taken in turn see the
/// same spells of a busy machine (`motcua-load run --slices`).
pub struct Driver {
    target: Target,
    work: Work,
    clients: usize,
    server: u32,
    postgres: bool,
    http: reqwest::Client,
    dossiers: Vec<VecDeque<(String, i64, u32)>>,
    latencies: Vec<u32>,
    failed: u64,
    first_failure: Option<String>,
    seconds: f64,
    cpu: crate::cpu::Cpu,
}

impl Driver {
    /// The clients of `target`, with the dossiers an action phase of `duration` needs
    /// filed beforehand.
    pub async fn new(
        target: &Target,
        work: Work,
        clients: usize,
        duration: Duration,
        server: u32,
        postgres: bool,
    ) -> Driver {
        let http = http_client();
        let dossiers = match work {
            Work::Filings => vec![VecDeque::new(); clients],
            Work::Actions => prefile(&http, target, clients, duration).await,
        };
        Driver {
            target: target.clone(),
            work,
            clients,
            server,
            postgres,
            http,
            dossiers,
            latencies: Vec::new(),
            failed: 0,
            first_failure: None,
            seconds: 0.0,
            cpu: crate::cpu::Cpu::default(),
        }
    }

    /// Runs the clients for `warm_up` (not counted), then `duration` (counted), and
    /// returns when every client's last request has ended. A request counts when it
    /// began and ended inside the counted time.
    pub async fn slice(&mut self, warm_up: Duration, duration: Duration) {
        let started = Instant::now();
        let counted_from = started + warm_up;
        let until = counted_from + duration;
        let (server, postgres) = (self.server, self.postgres);
        let cpu = tokio::spawn(async move {
            tokio::time::sleep_until(counted_from.into()).await;
            let before = crate::cpu::now(server, postgres);
            tokio::time::sleep_until(until.into()).await;
            crate::cpu::now(server, postgres).since(before)
        });
        let work = self.work;
        let mut tasks = Vec::new();
        for index in 0..self.clients {
            let (unit, token) = match work {
                // Filings at one unit: the per-unit code sequence is the point.
                Work::Filings => UNITS[0],
                Work::Actions => UNITS[index % UNITS.len()],
            };
            let client = Client {
                http: self.http.clone(),
                target: self.target.clone(),
                unit,
                token,
            };
            let mut dossiers = std::mem::take(&mut self.dossiers[index]);
            tasks.push(tokio::spawn(async move {
                let mut latencies: Vec<u32> = Vec::new();
                let mut failed = 0u64;
                let mut first_failure = None;
                loop {
                    let now = Instant::now();
                    if now >= until {
                        break;
                    }
                    // Actions need a dossier: a new one is filed outside the timing.
                    if work == Work::Actions && dossiers.is_empty() {
                        match client.file().await {
                            Ok((code, version)) => dossiers.push_back((code, version, 0)),
                            Err(error) => {
                                failed += 1;
                                first_failure.get_or_insert(error);
                            }
                        }
                        continue;
                    }
                    let begun = Instant::now();
                    let result = match work {
                        Work::Filings => client.file().await.map(|_| ()),
                        Work::Actions => {
                            let (code, version, done) = dossiers.pop_front().expect("a dossier");
                            match client.act(&code, version, done == 0).await {
                                Ok(version) => {
                                    acted(&mut dossiers, code, version, done);
                                    Ok(())
                                }
                                Err(error) => Err(error),
                            }
                        }
                    };
                    let ended = Instant::now();
                    if begun < counted_from || ended > until {
                        continue;
                    }
                    match result {
                        Ok(()) => latencies
                            .push(u32::try_from((ended - begun).as_micros()).unwrap_or(u32::MAX)),
                        Err(error) => {
                            failed += 1;
                            first_failure.get_or_insert(error);
                        }
                    }
                }
                (dossiers, latencies, failed, first_failure)
            }));
        }
        for (index, task) in tasks.into_iter().enumerate() {
            let (dossiers, mut latencies, failed, first) = task.await.expect("client task");
            self.dossiers[index] = dossiers;
            self.latencies.append(&mut latencies);
            self.failed += failed;
            if self.first_failure.is_none() {
                self.first_failure = first;
            }
        }
        let cpu = cpu.await.expect("CPU meter");
        self.cpu.server += cpu.server;
        self.cpu.database += cpu.database;
        self.cpu.client += cpu.client;
        self.seconds += duration.as_secs_f64();
    }

    /// The figures over every slice so far.
    pub fn figures(&self) -> Figures {
        let mut latencies = self.latencies.clone();
        latencies.sort_unstable();
        let quantile = |q: f64| -> f64 {
            if latencies.is_empty() {
                return f64::NAN;
            }
            let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            f64::from(latencies[index]) / 1000.0
        };
        let per_request = |cpu_seconds: f64| cpu_seconds * 1e6 / latencies.len().max(1) as f64;
        Figures {
            server_cpu_us: per_request(self.cpu.server),
            database_cpu_us: per_request(self.cpu.database),
            client_cpu_us: per_request(self.cpu.client),
            clients: self.clients,
            answered: latencies.len() as u64,
            failed: self.failed,
            seconds: self.seconds,
            per_second: latencies.len() as f64 / self.seconds.max(f64::EPSILON),
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
            first_failure: self.first_failure.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each dossier gets its ten actions (a receipt, then payments) before the next.
    #[test]
    fn a_dossier_gets_all_its_actions_before_the_next() {
        let mut dossiers: VecDeque<(String, i64, u32)> = [("A", 1, 0), ("B", 1, 0)]
            .map(|(code, version, done)| (code.to_string(), version, done))
            .into();
        let mut order = Vec::new();
        while let Some((code, version, done)) = dossiers.pop_front() {
            order.push(format!("{code}{done}"));
            acted(&mut dossiers, code, version + 1, done);
        }
        let expected: Vec<String> = ["A", "B"]
            .iter()
            .flat_map(|code| (0..ACTIONS_PER_DOSSIER).map(move |done| format!("{code}{done}")))
            .collect();
        assert_eq!(order, expected);
    }
}
