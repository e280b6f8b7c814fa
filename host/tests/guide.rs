//! Every command of docs/writing-a-plugin.md, run as written.
//!
//! The guide's `sh` blocks are read from the file itself and run with bash, one block at
//! a time and in order, in a copy of the repository as a plugin author clones it: the
//! first installs `motcua` with `cargo install --path host --locked` and starts a
//! plugin, the next builds and tests it, the last publishes and rolls it out on a
//! `motcua demo` served where the guide says (127.0.0.1:8080). Only the environment
//! differs from an author's shell: `cargo install` puts the binary in the copy, not in
//! `~/.cargo/bin`, and the copy keeps its `target/` between runs of the test suite, so
//! a second run builds nothing again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The guide's shell blocks, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The files an author's clone holds: those git tracks, and new ones not ignored.
fn clone_into(repo: &Path, copy: &Path) {
    let listed = Command::new("git")
        .current_dir(repo)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("git lists the repository's files");
    assert!(listed.status.success(), "git ls-files failed");
    // Everything but the build output is replaced, so the copy is the repository as it
    // is now and only `target/` carries over.
    if copy.exists() {
        for entry in std::fs::read_dir(copy).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() == "target" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                std::fs::remove_dir_all(entry.path()).unwrap();
            } else {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    }
    for file in listed.stdout.split(|byte| *byte == 0) {
        let Ok(file) = std::str::from_utf8(file) else {
            continue;
        };
        let from = repo.join(file);
        if file.is_empty() || !from.is_file() {
            continue;
        }
        let to = copy.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap_or_else(|error| panic!("copy {file}: {error}"));
    }
}

fn run_block(copy: &Path, install_root: &Path, block: &str) -> String {
    let path = format!(
        "{}:{}",
        install_root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .current_dir(copy)
        .args(["-euo", "pipefail", "-c", block])
        .env("PATH", path)
        .env("CARGO_INSTALL_ROOT", install_root)
        // `cargo install` builds in the copy's own target directory, kept between runs.
        .env("CARGO_TARGET_DIR", copy.join("target"))
        .env("RUST_LOG", "warn")
        .env_remove("MOTCUA_SERVER")
        .env_remove("MOTCUA_TOKEN")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "the guide's block failed:\n{block}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `motcua demo` from the installed binary, on a database in the copy, where the guide's
/// `MOTCUA_SERVER` points; stopped when dropped.
struct Demo(std::process::Child);

impl Demo {
    fn start(copy: &Path, install_root: &Path) -> Demo {
        let database = copy.join("target").join("guide-demo.db");
        let _ = std::fs::remove_file(&database);
        let child = Command::new(install_root.join("bin").join("motcua"))
            .current_dir(copy)
            .args([
                "demo",
                "--database-url",
                &format!("sqlite://{}", database.display()),
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start motcua demo");
        let demo = Demo(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if std::net::TcpStream::connect("127.0.0.1:8080").is_ok() {
                return demo;
            }
            assert!(
                Instant::now() < deadline,
                "motcua demo did not listen on 127.0.0.1:8080 (is another server there?)"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_plugin_guide_runs_as_written() {
    let repo = repository();
    let guide = std::fs::read_to_string(repo.join("docs/writing-a-plugin.md")).unwrap();
    let blocks = sh_blocks(&guide);
    assert!(
        blocks.len() >= 3,
        "the guide's install, build-and-test and publish blocks: {blocks:?}"
    );
    let copy = repo.join("target").join("guide").join("motcua");
    std::fs::create_dir_all(&copy).unwrap();
    clone_into(&repo, &copy);
    let install_root = copy.join("target").join("installed");
    let mut demo = None;
    for block in &blocks {
        if block.contains("MOTCUA_SERVER") && demo.is_none() {
            demo = Some(Demo::start(&copy, &install_root));
        }
        let stdout = run_block(&copy, &install_root, block);
        if block.contains("motcua plugin test") {
            assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
            assert!(stdout.contains("coverage:"), "{stdout}");
        }
        if block.contains("motcua plugin new") {
            let crate_dir = copy.join("plugins/marital-status");
            let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains("description = \"A motcua procedure plugin: marital-status."),
                "{manifest}"
            );
            assert!(crate_dir.join("src/tests.rs").exists());
        }
    }
    assert!(demo.is_some(), "the guide publishes on a running server");
    // The server's catalog holds the build the guide published.
    let catalog = http_get("127.0.0.1:8080", "/api/v1/plugins");
    assert!(catalog.contains("\"local.marital-status\""), "{catalog}");
}

/// A plain HTTP/1.1 GET, whole answer as text.
fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}
