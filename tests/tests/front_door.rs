//! The front door, over real sockets: a body is not read before its sender is known,
//! idle and slow clients are cut off, connections over the cap are shed with a 503,
//! the public routes have per-client quotas, and every refusal the framework makes is
//! a problem.

use std::time::Duration;

use motcua::api::{FrontDoor, RateQuota};
use motcua::runtime::SandboxLimits;
use motcua_e2e::raw::{PATIENCE, read_response};
use motcua_e2e::scenarios::filings;
use motcua_e2e::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OFFICER: &str = "demo-xuan-hoa-officer";
const ADMIN: &str = "demo-xuan-hoa-admin";
const PUBLISHER: &str = "demo-phu-tho-publisher";

/// How long a test waits for something the server must do before giving up on it:
/// a guard against hanging, far beyond the timeouts under test.

/// The memory test measures the process's RSS, which other tests in this binary would
/// move: it runs alone, the others share.
static EXCLUSIVE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn address(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Waits for the server to close the connection; returns what it sent before.
async fn closed_by_server<R: AsyncRead + Unpin>(stream: &mut R) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the server kept the connection open past {PATIENCE:?}"),
        }
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends the head of a 30 MiB upload and its first 64 KiB, as an anonymous client
/// would; returns the connection with the rest unsent.
async fn start_upload(address: &str, token: Option<&str>) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let authorization = token.map_or(String::new(), |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let head = format!(
        "POST /api/v1/plugins HTTP/1.1\r\nHost: motcua\r\nContent-Type: application/wasm\r\n\
         {authorization}Content-Length: {}\r\n\r\n",
        (30 << 20) + (64 << 10)
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
        .write_all(&vec![0u8; 64 << 10])
        .await
        .expect("first 64 KiB");
    stream
}

/// An anonymous 30 MiB upload is answered 401 after 64 KiB of it, and twenty of them
/// at once leave the server's memory where it was.
async fn uploads_are_refused_before_their_body(backend: Backend) {
    let _alone = EXCLUSIVE.write().await;
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let address = address(&server);

    for token in [None, Some("mct_not-a-token")] {
        let mut stream = start_upload(&address, token).await;
        let response = read_response(&mut stream)
            .await
            .expect("a 401 while the rest of the body is unsent");
        let slug = if token.is_some() {
            "invalid-token"
        } else {
            "unauthenticated"
        };
        response.problem(401, slug);
        assert!(response.head.contains("connection: close"), "{response:?}");
    }
    // A staff route other than the upload refuses an anonymous body the same way.
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    stream
        .write_all(
            b"PUT /api/v1/units/xuan-hoa/settings HTTP/1.1\r\nHost: motcua\r\n\
              Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
        )
        .await
        .expect("head");
    read_response(&mut stream)
        .await
        .expect("a 401 before the body")
        .problem(401, "unauthenticated");

    // Memory: warm up the path once more, then hold twenty uploads open at once.
    drop(start_upload(&address, None).await);
    let before = rss_kib();
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(start_upload(&address, None).await);
    }
    for stream in &mut open {
        read_response(stream)
            .await
            .expect("401")
            .problem(401, "unauthenticated");
    }
    let after = rss_kib();
    let grown = after.saturating_sub(before);
    eprintln!(
        "[{backend:?}] RSS before {before} KiB, after 20 refused 30 MiB uploads {after} KiB (+{grown} KiB)"
    );
    // Reading the bodies would cost 20 × 30 MiB = 600 MiB.
    assert!(
        grown < 16 << 10,
        "RSS grew by {grown} KiB over twenty refused uploads"
    );
    drop(open);
    server.finish().await;
}

fn tight() -> FrontDoor {
    FrontDoor {
        header_read_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..FrontDoor::without_quotas()
    }
}

/// Idle connections, a head that trickles in and a body that trickles in are all cut
/// off; the trickles send a byte well within every timeout, so only a clock on the
/// whole head or body stops them.
async fn idle_and_slow_clients_are_cut_off(backend: Backend) {
    let _shared = EXCLUSIVE.read().await;
    let server = TestServer::start_with_front_door(
        backend,
        "2026-03-02 09:00",
        SandboxLimits::default(),
        tight(),
    )
    .await;
    let address = address(&server);

    // A connection that never says anything.
    let mut silent = TcpStream::connect(&address).await.expect("connect");
    assert!(closed_by_server(&mut silent).await.is_empty());

    // A keep-alive connection that goes quiet after one request.
    let mut quiet = TcpStream::connect(&address).await.expect("connect");
    quiet
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: motcua\r\n\r\n")
        .await
        .expect("request");
    assert_eq!(read_response(&mut quiet).await.expect("health").status, 200);
    assert!(closed_by_server(&mut quiet).await.is_empty());

    // Slowloris: a header line every 200 ms, never the blank line.
    let slow = TcpStream::connect(&address).await.expect("connect");
    let (mut reader, mut writer) = slow.into_split();
    let trickle = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: motcua\r\n")
            .await;
        for _ in 0..150 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b"X-Slow: 1\r\n").await.is_err() {
                return;
            }
        }
    });
    let received = closed_by_server(&mut reader).await;
    assert!(
        !String::from_utf8_lossy(&received).contains(" 200 "),
        "a head that never ended was served"
    );
    trickle.abort();

    // A filing whose body trickles in a byte every 200 ms.
    let slow = TcpStream::connect(&address).await.expect("connect");
    let (mut reader, mut writer) = slow.into_split();
    let trickle = tokio::spawn(async move {
        let _ = writer
            .write_all(
                b"POST /api/v1/dossiers HTTP/1.1\r\nHost: motcua\r\n\
                  Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
            )
            .await;
        for _ in 0..150 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let response = read_response(&mut reader).await.expect("a 408");
    response.problem(408, "body-timeout");
    assert!(response.head.contains("connection: close"), "{response:?}");
    trickle.abort();

    // The server is as it was for everyone else.
    let health = server.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    server.finish().await;
}

/// Over the connection cap a new connection gets a 503 problem at once, and once the
/// idle connections go the server serves again.
async fn connections_over_the_cap_are_shed(backend: Backend) {
    let _shared = EXCLUSIVE.read().await;
    let front = FrontDoor {
        max_connections: 4,
        header_read_timeout: Duration::from_secs(60),
        ..FrontDoor::without_quotas()
    };
    let server = TestServer::start_with_front_door(
        backend,
        "2026-03-02 09:00",
        SandboxLimits::default(),
        front,
    )
    .await;
    let address = address(&server);
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&address).await.expect("connect"));
    }
    for _ in 0..3 {
        let mut extra = TcpStream::connect(&address).await.expect("connect");
        extra
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: motcua\r\n\r\n")
            .await
            .expect("request");
        let response = read_response(&mut extra).await.expect("a 503, not a stall");
        response.problem(503, "overloaded");
        assert!(response.head.contains("retry-after: 1"), "{response:?}");
        assert!(response.head.contains("connection: close"), "{response:?}");
    }
    drop(idle);
    // The closed connections give their places back as the server notices them.
    let mut served = None;
    for _ in 0..200 {
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: motcua\r\nConnection: close\r\n\r\n")
            .await
            .expect("request");
        let status = read_response(&mut stream).await.map(|raw| raw.status);
        if status == Some(200) {
            served = status;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(served, Some(200), "the server did not serve again");
    server.finish().await;
}

/// What `reqwest` saw: status, `Retry-After` and the JSON body.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = server
        .client
        .request(method, format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

fn assert_limited(what: &str, (status, retry_after, body): &(StatusCode, Option<u64>, Value)) {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{what}: {body}");
    assert_eq!(
        body["type"], "urn:motcua:problem:rate-limited",
        "{what}: {body}"
    );
    assert!(
        retry_after.is_some_and(|seconds| seconds >= 1),
        "{what}: Retry-After {retry_after:?}"
    );
}

/// Filing, tracking and citizen actions each have a per-client quota answered with
/// 429 and Retry-After; staff are not counted, and a client behind a trusted proxy is
/// counted apart from the proxy's other clients.
async fn public_routes_have_per_client_quotas(backend: Backend) {
    let _shared = EXCLUSIVE.read().await;
    let quota = |burst| {
        Some(RateQuota {
            per_minute: 1,
            burst,
        })
    };
    let front = FrontDoor {
        filing_quota: quota(2),
        tracking_quota: quota(3),
        citizen_action_quota: quota(2),
        trusted_proxies: vec!["127.0.0.1".parse().expect("address")],
        ..FrontDoor::default()
    };
    let server = TestServer::start_with_front_door(
        backend,
        "2026-03-02 09:00",
        SandboxLimits::default(),
        front,
    )
    .await;
    let birth = filings()["birth"].clone();
    let filed = server.file(None, &birth).await;
    server.file(None, &birth).await;
    let before = server.row_counts().await;
    let refused = send(&server, Method::POST, "/api/v1/dossiers", &[], Some(&birth)).await;
    assert_limited("third filing", &refused);
    assert_eq!(
        server.row_counts().await,
        before,
        "a refused filing wrote rows"
    );

    // An officer filing at the counter is not counted against the address.
    let mut counter = birth.clone();
    counter["channel"] = json!("in-person");
    let (status, _, body) = send(
        &server,
        Method::POST,
        "/api/v1/dossiers",
        &[("authorization", &format!("Bearer {OFFICER}"))],
        Some(&counter),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A guessed token is counted, and refused as a guess.
    let guessed = send(
        &server,
        Method::POST,
        "/api/v1/dossiers",
        &[("authorization", "Bearer mct_guess")],
        Some(&counter),
    )
    .await;
    assert_limited("guessed token", &guessed);

    // Another citizen behind the trusted proxy has a quota of their own.
    let (status, _, body) = send(
        &server,
        Method::POST,
        "/api/v1/dossiers",
        &[("x-forwarded-for", "198.51.100.7, 127.0.0.1")],
        Some(&birth),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Tracking: three, then 429.
    let track = format!("/api/v1/track/{}?secret={}", filed.code, filed.secret);
    for _ in 0..3 {
        let (status, _, body) = send(&server, Method::GET, &track, &[], None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_limited(
        "fourth tracking",
        &send(&server, Method::GET, &track, &[], None).await,
    );
    // HEAD runs the GET handler (a status is enough to guess a secret): counted too.
    let (status, retry_after, _) = send(&server, Method::HEAD, &track, &[], None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some());

    // Citizen actions and ratings share a quota of two.
    let secret = [("x-tracking-secret", filed.secret.as_str())];
    let rating = format!("/api/v1/dossiers/{}/rating", filed.code);
    let (status, _, body) = send(
        &server,
        Method::POST,
        &rating,
        &secret,
        Some(&json!({ "rating": "satisfied" })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not returned yet: {body}"
    );
    let actions = format!("/api/v1/dossiers/{}/actions", filed.code);
    let withdraw = json!({ "action": "withdraw" });
    let with_version = [secret[0], ("if-match", "\"1\"")];
    let (status, _, body) = send(
        &server,
        Method::POST,
        &actions,
        &with_version,
        Some(&withdraw),
    )
    .await;
    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_limited(
        "third citizen action",
        &send(
            &server,
            Method::POST,
            &actions,
            &with_version,
            Some(&withdraw),
        )
        .await,
    );
    assert_limited(
        "rating past the quota",
        &send(
            &server,
            Method::POST,
            &rating,
            &secret,
            Some(&json!({ "rating": "satisfied" })),
        )
        .await,
    );
    // Staff act on the same dossier from the same address, unlimited.
    let version = server.version(OFFICER, &filed.code).await;
    let response = server
        .act_at(
            Some(OFFICER),
            &[],
            &filed.code,
            version,
            "receive",
            "",
            json!({}),
        )
        .await;
    assert_ne!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        response.body
    );
    for _ in 0..5 {
        let inbox = server
            .get("/api/v1/units/xuan-hoa/dossiers", Some(OFFICER))
            .await;
        assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    }
    server.finish().await;
}

/// Each route's body limit, by declared length and by a chunked body that runs over,
/// and the framework's own refusals (URI, headers, a path that is not UTF-8): all
/// problems with the right status, nothing written.
async fn refusals_are_problems(backend: Backend) {
    let _shared = EXCLUSIVE.read().await;
    let server = TestServer::start(backend, "2026-03-02 09:00").await;
    let birth = filings()["birth"].clone();
    let filed = server.file(None, &birth).await;
    let before = server.row_counts().await;
    let plugin_input = SandboxLimits::default().max_input_bytes * 5 / 4;
    let small = FrontDoor::default().small_body_bytes;
    let rating = format!("/api/v1/dossiers/{}/rating", filed.code);
    let secret = vec![("x-tracking-secret", filed.secret.clone())];
    let wasm = vec![("content-type", "application/wasm".to_string())];
    let cases: Vec<(
        &str,
        &str,
        Option<&str>,
        Vec<(&str, String)>,
        usize,
        &str,
        usize,
    )> = vec![
        (
            "filing",
            "/api/v1/dossiers",
            None,
            vec![],
            plugin_input + 1,
            "body-too-large",
            plugin_input,
        ),
        (
            "rating",
            &rating,
            None,
            secret,
            small + 1,
            "body-too-large",
            small,
        ),
        (
            "rollout",
            "/api/v1/rollouts",
            Some(PUBLISHER),
            vec![],
            small + 1,
            "body-too-large",
            small,
        ),
        (
            "settings",
            "/api/v1/units/xuan-hoa/settings",
            Some(ADMIN),
            vec![],
            plugin_input + 1,
            "body-too-large",
            plugin_input,
        ),
        (
            "plugin",
            "/api/v1/plugins",
            Some(PUBLISHER),
            wasm,
            (8 << 20) + 1,
            "plugin-too-large",
            8 << 20,
        ),
    ];
    // A declared length over the limit is answered before any of the body is sent: the
    // client sends only the head and reads the refusal. (A client that pushes the whole
    // body anyway may find the connection reset under it once the refusal is sent,
    // as with any HTTP/1 server that will not read what it refused.)
    for (name, path, token, headers, size, slug, limit) in cases {
        let method = if path.ends_with("/settings") {
            "PUT"
        } else {
            "POST"
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: motcua\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if !headers.iter().any(|(name, _)| *name == "content-type") {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (header, value) in &headers {
            head.push_str(&format!("{header}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {size}\r\n\r\n"));
        let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("head");
        let response = read_response(&mut stream)
            .await
            .unwrap_or_else(|| panic!("{name}: a 413 before the body"));
        let body = response.problem(413, slug);
        assert_eq!(body["limit"], limit, "{name}: {body}");
    }

    // A citizen's action without the tracking secret (or any token) is refused before
    // its body is read.
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    let head = format!(
        "POST /api/v1/dossiers/{}/actions HTTP/1.1\r\nHost: motcua\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        filed.code
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let response = read_response(&mut stream)
        .await
        .expect("a 401 before the body");
    response.problem(401, "unauthenticated");

    // A chunked body has no length to refuse up front; it is cut off at the limit.
    let mut stream = TcpStream::connect(address(&server)).await.expect("connect");
    let head = format!(
        "POST /api/v1/rollouts HTTP/1.1\r\nHost: motcua\r\nAuthorization: Bearer {PUBLISHER}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("{:x}\r\n{}\r\n", 8192, " ".repeat(8192));
    for _ in 0..(small / 8192 + 1) {
        stream.write_all(chunk.as_bytes()).await.expect("chunk");
    }
    let response = read_response(&mut stream)
        .await
        .expect("a 413 for a chunked body over the limit");
    assert_eq!(response.problem(413, "body-too-large")["limit"], small);

    // The request head: a target over the limit, headers over the limit.
    let long = format!(
        "/api/v1/track/{}?secret={}",
        filed.code,
        "a".repeat(FrontDoor::default().max_uri_bytes)
    );
    let body = server.get(&long, None).await;
    assert_eq!(
        body.problem(StatusCode::URI_TOO_LONG)["type"],
        "urn:motcua:problem:uri-too-long"
    );
    let fat: Vec<(String, String)> = (0..20)
        .map(|i| (format!("x-padding-{i}"), "p".repeat(1024)))
        .collect();
    let fat: Vec<(&str, String)> = fat
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect();
    let body = server
        .request(Method::GET, "/healthz", None, &fat, None)
        .await;
    assert_eq!(
        body.problem(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)["type"],
        "urn:motcua:problem:headers-too-large"
    );

    // Path segments that are not UTF-8 once percent-decoded.
    for path in ["/api/v1/dossiers/%FF%FE", "/api/v1/dossiers/%C3%28/audit"] {
        let response = server.get(path, Some(OFFICER)).await;
        response.problem(StatusCode::BAD_REQUEST);
    }
    let response = server
        .request(
            Method::POST,
            "/api/v1/dossiers/%FF/rating",
            None,
            &[("x-tracking-secret", filed.secret.clone())],
            Some(json!({ "rating": "satisfied" }).to_string().into_bytes()),
        )
        .await;
    response.problem(StatusCode::BAD_REQUEST);

    // Anonymous bodies to staff routes are refused as unauthenticated.
    let response = server
        .put("/api/v1/reports/scoring", None, &json!({}))
        .await;
    response.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(server.row_counts().await, before, "a refusal wrote rows");
    server.finish().await;
}

motcua_e2e::on_both_backends!(
    uploads_are_refused_before_their_body,
    idle_and_slow_clients_are_cut_off,
    connections_over_the_cap_are_shed,
    public_routes_have_per_client_quotas,
    refusals_are_problems,
);
