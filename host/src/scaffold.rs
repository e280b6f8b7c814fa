//! `motcua plugin new` and `motcua plugin build`: starting a plugin from the template
//! and turning a plugin crate into a component the host accepts.
//!
//! The template lives in `plugins/template` as a real workspace crate (so CI builds it
//! and runs its scenarios); its files are compiled into the binary here, so `plugin new`
//! works from any checkout of the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The template's files: (path inside the crate, contents).
const TEMPLATE: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../plugins/template/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../plugins/template/src/lib.rs"),
    ),
    (
        "src/tests.rs",
        include_str!("../../plugins/template/src/tests.rs"),
    ),
    (
        "scenarios/01-normal-path.yaml",
        include_str!("../../plugins/template/scenarios/01-normal-path.yaml"),
    ),
    (
        "scenarios/02-supplement.yaml",
        include_str!("../../plugins/template/scenarios/02-supplement.yaml"),
    ),
    (
        "scenarios/03-refused.yaml",
        include_str!("../../plugins/template/scenarios/03-refused.yaml"),
    ),
    (
        "scenarios/04-form-problems.yaml",
        include_str!("../../plugins/template/scenarios/04-form-problems.yaml"),
    ),
];

const TEMPLATE_NAME: &str = "procedure-template";

/// The template's description in its Cargo.toml and the first paragraph of its crate
/// documentation: what `plugin new` rewrites, so a new crate does not describe itself
/// as the template's procedure.
const TEMPLATE_DESCRIPTION: &str = "description = \"A motcua procedure plugin: Cấp bản sao trích lục hộ tịch (copies of a civil-status extract).\"";
const TEMPLATE_SUMMARY: &str = "//! Cấp bản sao trích lục hộ tịch: issuing copies of a civil-status extract (birth,\n//! marriage or death) at commune level.\n";

/// The template's file `path` for a plugin called `name`.
fn instantiate(path: &str, contents: &str, name: &str) -> String {
    let snake = name.replace('-', "_");
    let text = match path {
        "Cargo.toml" => contents.replace(
            TEMPLATE_DESCRIPTION,
            &format!("description = \"A motcua procedure plugin: {name}. Say which procedure it implements.\""),
        ),
        "src/lib.rs" => contents.replace(
            TEMPLATE_SUMMARY,
            &format!(
                "//! {name}: say here which procedure this plugin implements, at which level, and\n//! its national code. Its rules start as the template's (copies of a civil-status\n//! extract) until you change them.\n"
            ),
        ),
        _ => contents.to_string(),
    };
    text.replace(TEMPLATE_NAME, name)
        .replace(&TEMPLATE_NAME.replace('-', "_"), &snake)
}

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The workspace root holding `dir`: the nearest ancestor whose Cargo.toml has a
/// `[workspace]` table.
pub fn workspace_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let start =
        std::fs::canonicalize(dir).with_context(|| format!("{} does not exist", dir.display()))?;
    for candidate in start.ancestors() {
        let manifest = candidate.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains("[workspace]")) {
            return Ok(candidate.to_path_buf());
        }
    }
    bail!(
        "{} is not inside a Cargo workspace; run this from the motcua repository",
        dir.display()
    )
}

/// Creates `plugins/<name>` from the template and adds it to the workspace members.
pub fn new_plugin(workspace: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "plugin name `{name}` must be lower-case letters, digits and dashes, starting with a letter (like death-registration)"
        );
    }
    let root = workspace_root(workspace)?;
    if !root.join("plugins").join("sdk").join("Cargo.toml").exists() {
        bail!(
            "{} has no plugins/sdk: run this in the motcua workspace",
            root.display()
        );
    }
    let crate_dir = root.join("plugins").join(name);
    if crate_dir.exists() {
        bail!(
            "{} already exists; choose another name",
            crate_dir.display()
        );
    }
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)?;
    let member = format!("\"plugins/{name}\"");
    let updated = add_member(&manifest, &member).with_context(|| {
        format!(
            "could not find the `members = [...]` list in {}",
            manifest_path.display()
        )
    })?;
    for (path, contents) in TEMPLATE {
        let target = crate_dir.join(path);
        std::fs::create_dir_all(target.parent().expect("template paths have a parent"))?;
        let text = instantiate(path, contents, name);
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    std::fs::write(&manifest_path, updated)?;
    Ok(crate_dir)
}

/// Adds a member to the workspace's `members = [ ... ]` list, keeping its layout.
fn add_member(manifest: &str, member: &str) -> Option<String> {
    let start = manifest.find("members = [")?;
    let end = start + manifest[start..].find(']')?;
    let list = &manifest[start..end];
    if list.contains(member) {
        return Some(manifest.to_string());
    }
    let insertion = if list.contains('\n') {
        format!("    {member},\n")
    } else {
        format!(", {member}")
    };
    let at = if list.contains('\n') {
        manifest[..end].rfind('\n').map(|i| i + 1).unwrap_or(end)
    } else {
        end
    };
    Some(format!(
        "{}{}{}",
        &manifest[..at],
        insertion,
        &manifest[at..]
    ))
}

/// Builds a plugin crate for wasm and wraps it into a component; returns its path.
pub fn build_plugin(crate_dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml"))
        .with_context(|| format!("{} has no Cargo.toml", crate_dir.display()))?;
    let package = manifest
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("name = \"")
                .and_then(|rest| rest.strip_suffix('"'))
        })
        .with_context(|| format!("no package name in {}/Cargo.toml", crate_dir.display()))?
        .to_string();
    let root = workspace_root(crate_dir)?;
    let target_dir = target_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target").join("plugins"));
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .output();
    if !status.is_ok_and(|output| output.status.success()) {
        tracing::warn!("could not check the {WASM_TARGET} target with rustup; building anyway");
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args([
            "build",
            "--profile",
            "plugin",
            "--target",
            WASM_TARGET,
            "-p",
            &package,
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo could not build {package} for {WASM_TARGET}; see its output above");
    }
    let stem = package.replace('-', "_");
    let core = target_dir
        .join(WASM_TARGET)
        .join("plugin")
        .join(format!("{stem}.wasm"));
    let module = std::fs::read(&core).with_context(|| format!("reading {}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .with_context(|| format!("wrapping {} into a component", core.display()))?;
    let out_dir = target_dir.join("components");
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join(format!("{stem}.wasm"));
    std::fs::write(&out, component)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::add_member;

    #[test]
    fn adds_a_member_to_a_multi_line_list() {
        let manifest = "[workspace]\nmembers = [\n    \"host\",\n    \"plugins/sdk\",\n]\n";
        let updated = add_member(manifest, "\"plugins/death\"").unwrap();
        assert_eq!(
            updated,
            "[workspace]\nmembers = [\n    \"host\",\n    \"plugins/sdk\",\n    \"plugins/death\",\n]\n"
        );
        assert_eq!(
            add_member(&updated, "\"plugins/death\"").unwrap(),
            updated,
            "idempotent"
        );
    }

    #[test]
    fn adds_a_member_to_a_one_line_list() {
        let updated = add_member("members = [\"plugins/sdk\"]\n", "\"plugins/x\"").unwrap();
        assert_eq!(updated, "members = [\"plugins/sdk\", \"plugins/x\"]\n");
    }

    #[test]
    fn a_new_plugin_names_and_describes_itself() {
        for (path, contents) in super::TEMPLATE {
            let text = super::instantiate(path, contents, "land-lease");
            assert!(!text.contains("procedure-template"), "{path}");
            assert!(!text.contains("procedure_template"), "{path}");
            match *path {
                "Cargo.toml" => {
                    assert!(text.contains("name = \"land-lease\""), "{text}");
                    assert!(
                        text.contains("description = \"A motcua procedure plugin: land-lease."),
                        "{text}"
                    );
                    assert!(!text.contains("civil-status extract"), "{text}");
                }
                "src/lib.rs" => {
                    assert!(
                        text.starts_with("//! land-lease: say here which procedure"),
                        "{text}"
                    );
                    assert!(text.contains("\"local.land-lease\""));
                }
                _ => {}
            }
        }
    }
}
