//! What the load tool's tests share.

use std::path::PathBuf;

/// `motcua-load`, and the `motcua` binary built beside it (`cargo test --workspace`
/// builds both), which its commands start.
pub fn binaries() -> (PathBuf, PathBuf) {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_motcua-load"));
    let motcua = exe.with_file_name("motcua");
    assert!(
        motcua.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace --locked`)",
        motcua.display()
    );
    (exe, motcua)
}
