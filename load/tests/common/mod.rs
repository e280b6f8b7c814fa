//! What the load tool's tests share.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `motcua-load`, once the `motcua` binary its commands start is built beside it
/// (`cargo test --workspace` builds both).
fn tool() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_motcua-load"));
    let motcua = exe.with_file_name("motcua");
    assert!(
        motcua.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace --locked`)",
        motcua.display()
    );
    exe
}

/// Runs `motcua-load <args> --json <dir>/figures.json`; panics with its output unless it
/// succeeds. Its standard output and the figures it wrote.
pub fn run_tool(args: &[&str], dir: &Path) -> (String, Value) {
    let json = dir.join("figures.json");
    let output = Command::new(tool())
        .args(args)
        .args(["--json", &json.to_string_lossy()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "motcua-load {} failed\n{stdout}\n{stderr}",
        args.join(" ")
    );
    let figures = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (stdout, figures)
}
