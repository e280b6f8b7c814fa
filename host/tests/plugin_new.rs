//! A developer who has never seen motcua starts a plugin from the template: in a
//! scratch copy of the workspace, `motcua plugin new` creates the crate and adds it to
//! the workspace, `motcua plugin build` turns it into a component, and `motcua plugin
//! test` runs its scenarios green, as docs/writing-a-plugin.md says.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn motcua(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_new_plugin_builds_and_passes_its_scenarios() {
    let repo = repository();
    let scratch = tempfile::tempdir().unwrap();
    let workspace = scratch.path();
    // The workspace as a plugin developer has it, with only the SDK as a member.
    let manifest = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    let start = manifest.find("members = [").unwrap();
    let end = start + manifest[start..].find(']').unwrap() + 1;
    let manifest = format!(
        "{}members = [\n    \"plugins/sdk\",\n]{}",
        &manifest[..start],
        &manifest[end..]
    );
    let manifest = manifest.replace("default-members = [\"host\", \"tests\"]", "");
    std::fs::write(workspace.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(repo.join("Cargo.lock"), workspace.join("Cargo.lock")).unwrap();
    copy_dir(&repo.join("wit"), &workspace.join("wit"));
    copy_dir(&repo.join(".cargo"), &workspace.join(".cargo"));
    copy_dir(
        &repo.join("plugins/sdk/src"),
        &workspace.join("plugins/sdk/src"),
    );
    std::fs::copy(
        repo.join("plugins/sdk/Cargo.toml"),
        workspace.join("plugins/sdk/Cargo.toml"),
    )
    .unwrap();

    let output = motcua(&[
        "plugin",
        "new",
        "marital-status",
        "--workspace",
        workspace.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let crate_dir = workspace.join("plugins/marital-status");
    let cargo_toml = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains("name = \"marital-status\""),
        "{cargo_toml}"
    );
    let root = std::fs::read_to_string(workspace.join("Cargo.toml")).unwrap();
    assert!(
        root.contains("\"plugins/marital-status\""),
        "added to the workspace members:\n{root}"
    );
    // A second `new` with the same name, or a bad name, says what to fix.
    let again = motcua(&[
        "plugin",
        "new",
        "marital-status",
        "--workspace",
        workspace.to_str().unwrap(),
    ]);
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("already exists")
    );
    let bad = motcua(&[
        "plugin",
        "new",
        "Death_Registration",
        "--workspace",
        workspace.to_str().unwrap(),
    ]);
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("lower-case letters")
    );

    // Build with a target directory kept between runs, so CI compiles the guest
    // dependencies once.
    let target = repo.join("target").join("plugins-scratch");
    let output = motcua(&[
        "plugin",
        "build",
        crate_dir.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let component = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(component.ends_with("marital_status.wasm"), "{component}");

    let output = motcua(&[
        "plugin",
        "test",
        &component,
        crate_dir.join("scenarios").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("local.marital-status@1.0.0"), "{stdout}");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
    // The new crate describes itself, not the template's procedure.
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("description = \"A motcua procedure plugin: marital-status."),
        "{manifest}"
    );
    // Its native unit tests came with it.
    assert!(crate_dir.join("src/tests.rs").exists());
}
