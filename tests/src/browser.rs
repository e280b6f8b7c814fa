//! A real headless Chromium for the web console's tests, driven over WebDriver.
//!
//! Each [`Browser`] starts its own `chromedriver` on a free loopback port with its own
//! new, empty Chromium profile, so any number of browsers run side by side in one test
//! binary. Dropping a browser ends its Chromium, stops its chromedriver and removes the
//! profile, also when the test panicked.
//!
//! Chromium and chromedriver come from Debian's packages (`chromium`, `chromium-driver`),
//! which `.ci/run` installs. Without them the browser tests fail; they never skip.
//!
//! The helpers panic with the page's address and an excerpt of its HTML when what a test
//! asks for is not there, so a failing browser test says what the browser saw.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Debian's chromedriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Chromium (package `chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The staff's desktop window, in CSS pixels.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A citizen's phone, in CSS pixels.
pub const PHONE: (u32, u32) = (390, 844);

/// How long `wait_for` and `submit` wait for the page before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// How long chromedriver may take to answer after it starts.
const DRIVER_STARTUP: Duration = Duration::from_secs(20);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(25);
/// How many characters of a page's HTML a failure shows.
const EXCERPT: usize = 2000;

/// Chromium's switches: headless, and quiet on a closed network (it must not try to
/// reach Google's services: such connections are refused and slow it down).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// One headless Chromium with its own chromedriver and profile.
pub struct Browser {
    client: Client,
    driver: Child,
    port: u16,
    session: String,
    /// The Chromium process chromedriver started, to end it if chromedriver cannot.
    chromium_pid: Option<u64>,
    closed: bool,
    /// The profile (`profile/`) and chromedriver's log; removed after both have ended.
    _work: tempfile::TempDir,
}

impl Browser {
    /// A browser with the staff's desktop window ([`DESKTOP`]).
    pub async fn start() -> Browser {
        Browser::launch(DESKTOP).await
    }

    /// A browser with a phone's window ([`PHONE`]), for the citizen's pages.
    pub async fn phone() -> Browser {
        Browser::launch(PHONE).await
    }

    /// A browser whose window is `width` × `height` CSS pixels.
    pub async fn launch((width, height): (u32, u32)) -> Browser {
        let chromedriver = require_chromedriver(Path::new(CHROMEDRIVER));
        let work = tempfile::Builder::new()
            .prefix("motcua-browser-")
            .tempdir()
            .expect("temporary directory for the browser");
        let log = work.path().join("chromedriver.log");
        let (mut driver, port) = spawn_driver(&chromedriver, &log).await;
        let profile = work.path().join("profile");
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": CHROMIUM_ARGS
                    .iter()
                    .map(|arg| arg.to_string())
                    .chain([
                        format!("--user-data-dir={}", profile.display()),
                        format!("--window-size={width},{height}"),
                    ])
                    .collect::<Vec<_>>(),
            }),
        );
        capabilities.insert(
            "timeouts".into(),
            json!({ "pageLoad": 30_000, "script": 10_000, "implicit": 0 }),
        );
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!(
                    "Chromium did not start under chromedriver: {error}\n{}",
                    log_tail(&log)
                );
            }
        };
        let chromium_pid = client
            .capabilities()
            .and_then(|capabilities| capabilities.get("goog:processID"))
            .and_then(Value::as_u64);
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("chromedriver gave the session an id");
        let browser = Browser {
            client,
            driver,
            port,
            session,
            chromium_pid,
            closed: false,
            _work: work,
        };
        browser.fit_viewport(width, height).await;
        browser
    }

    /// Sizes the window so that the page's viewport is `width` × `height` CSS pixels
    /// (headless Chromium draws no toolbar, but counts one in the window's size).
    async fn fit_viewport(&self, width: u32, height: u32) {
        let mut seen = Value::Null;
        for _ in 0..3 {
            seen = self
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await;
            let (Some(inner_width), Some(inner_height)) = (seen[0].as_i64(), seen[1].as_i64())
            else {
                break;
            };
            if (inner_width, inner_height) == (i64::from(width), i64::from(height)) {
                return;
            }
            let (outer_width, outer_height) = match self.client.get_window_size().await {
                Ok(size) => size,
                Err(error) => panic!("read the window's size: {error}"),
            };
            let fit = |outer: u64, inner: i64, wanted: u32| {
                let size = i64::try_from(outer).unwrap_or(i64::MAX) - inner + i64::from(wanted);
                u32::try_from(size.max(1)).unwrap_or(u32::MAX)
            };
            let result = self
                .client
                .set_window_size(
                    fit(outer_width, inner_width, width),
                    fit(outer_height, inner_height, height),
                )
                .await;
            if let Err(error) = result {
                panic!("size the window for a {width}×{height} page: {error}");
            }
        }
        panic!("the page's viewport should be {width}×{height}, and is {seen}");
    }

    /// The process ids of this browser's chromedriver and of its Chromium.
    pub fn processes(&self) -> (u32, Option<u64>) {
        (self.driver.id(), self.chromium_pid)
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        if let Err(error) = self.client.goto(url).await {
            panic!("open {url}: {error}\n{}", self.context().await);
        }
    }

    /// The element `css` selects on the page as it is now.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("no element {css:?}: {error}\n{}", self.context().await),
        }
    }

    /// Every element `css` selects on the page as it is now (perhaps none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        match self.client.find_all(Locator::Css(css)).await {
            Ok(elements) => elements,
            Err(error) => panic!("look for {css:?}: {error}\n{}", self.context().await),
        }
    }

    /// Waits until `css` selects an element, and returns it; fails after [`PATIENCE`]
    /// with the page's address and HTML.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            if Instant::now() >= deadline {
                panic!(
                    "waited {PATIENCE:?} for {css:?}, which never appeared\n{}",
                    self.context().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until an element `css` selects shows text containing `needle`; returns
    /// the element's text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if let Ok(text) = element.text().await
                        && text.contains(needle)
                    {
                        return text;
                    }
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "waited {PATIENCE:?} for {css:?} to show {needle:?}\n{}",
                    self.context().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Types `text` into the field `css` selects, in place of what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        if let Err(error) = field.clear().await {
            panic!("clear {css:?}: {error}\n{}", self.context().await);
        }
        if let Err(error) = field.send_keys(text).await {
            panic!("type into {css:?}: {error}\n{}", self.context().await);
        }
    }

    /// Chooses the option whose value is `value` in the `<select>` `css` selects.
    pub async fn select(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        if let Err(error) = field.select_by_value(value).await {
            panic!(
                "choose {value:?} in {css:?}: {error}\n{}",
                self.context().await
            );
        }
    }

    /// Clicks the element `css` selects, as a user's pointer would.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        if let Err(error) = element.click().await {
            panic!("click {css:?}: {error}\n{}", self.context().await);
        }
    }

    /// The text the element `css` selects shows.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        match element.text().await {
            Ok(text) => text,
            Err(error) => panic!("read {css:?}: {error}\n{}", self.context().await),
        }
    }

    /// Submits the form `css` selects as a user would, by clicking its submit button
    /// (or, for a form without one, as pressing Enter would), and waits until what the
    /// submission leads to has happened: the next page has loaded, or the page's own
    /// script took the submission. Fails at once if the browser refused to submit
    /// (fields its validation rejects), naming those fields.
    pub async fn submit(&self, css: &str) {
        let form = self.find(css).await;
        let form_arg = serde_json::to_value(&form).expect("element as a script argument");
        // A marker on this document: the next document will not have it. A listener on
        // the window sees the submit event after the page's own listeners have.
        let armed = self
            .client
            .execute(
                r#"const form = arguments[0];
                window.__motcuaSubmit = 'pending';
                window.addEventListener('submit', (event) => {
                    if (event.target === form) {
                        window.__motcuaSubmit = event.defaultPrevented ? 'prevented' : 'sent';
                    }
                });
                const button = form.querySelector(
                    'button:not([type]), button[type=submit], input[type=submit], input[type=image]');
                return button !== null;"#,
                vec![form_arg.clone()],
            )
            .await;
        let has_button = match armed {
            Ok(value) => value.as_bool().unwrap_or(false),
            Err(error) => panic!(
                "prepare to submit {css:?}: {error}\n{}",
                self.context().await
            ),
        };
        let pressed = if has_button {
            match form
                .find(Locator::Css(
                    "button:not([type]), button[type=submit], input[type=submit], input[type=image]",
                ))
                .await
            {
                Ok(button) => button.click().await,
                Err(error) => Err(error),
            }
        } else {
            self.client
                .execute("arguments[0].requestSubmit();", vec![form_arg.clone()])
                .await
                .map(|_| ())
        };
        if let Err(error) = pressed {
            panic!("submit {css:?}: {error}\n{}", self.context().await);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            // While the next page loads, scripts may fail to run: look again.
            let state = self
                .client
                .execute(
                    "return [window.__motcuaSubmit === undefined ? 'next' : window.__motcuaSubmit,
                             document.readyState];",
                    vec![],
                )
                .await
                .ok();
            let stage = state.as_ref().and_then(|state| state[0].as_str());
            let ready = state.as_ref().and_then(|state| state[1].as_str()) == Some("complete");
            match stage {
                Some("next") if ready => return,
                Some("prevented") => return,
                Some("pending") => {
                    let invalid = self.invalid_fields(&form_arg).await;
                    if !invalid.is_empty() {
                        panic!(
                            "the browser refused to submit {css:?}: {}\n{}",
                            invalid.join("; "),
                            self.context().await
                        );
                    }
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                let where_it_is = match stage {
                    Some("pending") => "the form never sent it",
                    Some("sent") => "the form sent it, and no next page has come",
                    Some("next") => "the next page is still loading",
                    _ => "the page does not answer",
                };
                panic!(
                    "submitted {css:?}, and after {PATIENCE:?} {where_it_is}\n{}",
                    self.context().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The fields of `form` its validation rejects, each with the browser's message.
    async fn invalid_fields(&self, form: &Value) -> Vec<String> {
        let found = self
            .client
            .execute(
                "return Array.from(arguments[0].elements)
                    .filter((field) => field.willValidate && !field.checkValidity())
                    .map((field) => (field.name || field.id || field.tagName) + ': '
                        + field.validationMessage);",
                vec![form.clone()],
            )
            .await;
        match found {
            Ok(Value::Array(fields)) => fields
                .iter()
                .filter_map(|field| field.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        }
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(error) => panic!("run a script: {error}\n{}", self.context().await),
        }
    }

    /// The address of the page now shown.
    pub async fn current_url(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(error) => panic!("read the page's address: {error}"),
        }
    }

    /// The page's HTML as it is now.
    pub async fn source(&self) -> String {
        match self.client.source().await {
            Ok(source) => source,
            Err(error) => panic!("read the page's HTML: {error}"),
        }
    }

    /// Saves what the window shows as `target/screenshots/<name>.png` (from the
    /// workspace's root) and returns the file's path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        assert!(
            !name.is_empty() && !name.contains(['/', '\\']) && name != "..",
            "a screenshot's name is a file name: {name:?}"
        );
        let png = match self.client.screenshot().await {
            Ok(png) => png,
            Err(error) => panic!("take the screenshot {name}: {error}"),
        };
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|error| panic!("create {}: {error}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
        path
    }

    /// Ends the browser: its Chromium quits, its chromedriver stops, its profile goes.
    pub async fn close(mut self) {
        let result = self.client.clone().close().await;
        self.closed = result.is_ok();
        if let Err(error) = result {
            panic!("close the browser: {error}");
        }
    }

    /// The page's address and the start of its HTML, for a failure's message.
    async fn context(&self) -> String {
        let url = match self.client.current_url().await {
            // A `data:` page's address is the whole page: its start is enough.
            Ok(url) => excerpt(url.as_str(), 200),
            Err(error) => format!("(unknown: {error})"),
        };
        // The body, where a page's content is (its head may be long with styles).
        let body = self
            .client
            .execute(
                "return document.body ? document.body.outerHTML : null;",
                vec![],
            )
            .await;
        let html = match body {
            Ok(Value::String(body)) => excerpt(&body, EXCERPT),
            _ => match self.client.source().await {
                Ok(source) => excerpt(&source, EXCERPT),
                Err(error) => format!("(unreadable: {error})"),
            },
        };
        format!("page: {url}\nHTML: {html}")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A browser dropped without `close` (a test that failed): end the session
        // here, synchronously, so Chromium quits before chromedriver is stopped.
        if !self.closed && end_session(self.port, &self.session).is_err() {
            if let Some(pid) = self.chromium_pid {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The chromedriver at `path`; fails the test, saying how to install it, if it is not
/// there.
pub fn require_chromedriver(path: &Path) -> PathBuf {
    if !path.is_file() {
        panic!(
            "the browser tests need Chromium and chromedriver, and {} is missing: \
             run `bash .ci/run`, or `apt-get install chromium chromium-driver`",
            path.display()
        );
    }
    path.to_path_buf()
}

/// Where screenshots go: `target/screenshots` at the workspace's root.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("screenshots")
}

/// Starts chromedriver on a free loopback port and waits until it answers. A port
/// taken between choosing and binding it makes chromedriver exit: try another.
async fn spawn_driver(chromedriver: &Path, log: &Path) -> (Child, u16) {
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", chromedriver.display()));
        match wait_until_ready(&mut driver, port).await {
            Ok(()) => return (driver, port),
            Err(why) => {
                let _ = driver.kill();
                let _ = driver.wait();
                last = why;
            }
        }
    }
    panic!("chromedriver did not start: {last}\n{}", log_tail(log));
}

/// Waits until the chromedriver `driver`, listening on `port`, says it is ready.
async fn wait_until_ready(driver: &mut Child, port: u16) -> Result<(), String> {
    let client = reqwest::Client::new();
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + DRIVER_STARTUP;
    loop {
        if let Ok(Some(exit)) = driver.try_wait() {
            return Err(format!("it exited ({exit})"));
        }
        // Another server may hold the port: only chromedriver's answer counts.
        if let Ok(response) = client.get(&status).send().await
            && let Ok(body) = response.json::<Value>().await
            && body["value"]["ready"] == true
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("no answer on port {port} after {DRIVER_STARTUP:?}"));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// Ends the WebDriver session `session` on the chromedriver at `port` (Chromium quits),
/// without an async runtime: this runs while a browser is dropped.
fn end_session(port: u16, session: &str) -> std::io::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver answers once Chromium has quit: the status line is enough.
    let mut head = Vec::new();
    let mut chunk = [0u8; 256];
    while !head.windows(2).any(|pair| pair == b"\r\n") {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&head).into_owned(),
        ))
    }
}

/// The last lines of chromedriver's log, for a failure's message.
fn log_tail(log: &Path) -> String {
    match std::fs::read_to_string(log) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(30);
            format!(
                "chromedriver's log ({}):\n{}",
                log.display(),
                lines[start..].join("\n")
            )
        }
        Err(error) => format!("no chromedriver log at {}: {error}", log.display()),
    }
}

/// The start of `text`, at most `length` characters.
fn excerpt(text: &str, length: usize) -> String {
    let mut chars = text.chars();
    let start: String = chars.by_ref().take(length).collect();
    if chars.next().is_some() {
        format!("{start}… ({} characters in all)", text.chars().count())
    } else {
        start
    }
}

/// Signs in on the console's sign-in page as a member of staff would, and waits for
/// the staff page it leads to (the header naming the account).
pub async fn sign_in(browser: &Browser, base: &str, account: &str, password: &str) {
    browser.goto(&format!("{base}/sign-in")).await;
    browser.fill("#name", account).await;
    browser.fill("#password", password).await;
    browser.submit("form.sign-in").await;
    browser.wait_for_text("#signed-in-as", account).await;
}

/// Signs out through the header's button, and waits for the sign-in page.
pub async fn sign_out(browser: &Browser) {
    browser.submit("form[action='/staff/sign-out']").await;
    browser.wait_for("form.sign-in").await;
}
