//! Every plugin in the repository keeps scenario files next to it
//! (`plugins/<name>/scenarios/*.yaml`); they all run here through the offline harness,
//! and a wrong expectation makes `motcua plugin test` fail with a readable diff.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use motcua::calendar::Calendar;
use motcua::harness::{run_scenario, scenario_files};
use motcua::runtime::{Runtime, SandboxLimits};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The package name in a crate's Cargo.toml.
fn package_name(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("name = \"")
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_string)
        })
        .unwrap()
}

/// (plugin directory name, its scenarios directory)
fn plugins_with_scenarios() -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(workspace().join("plugins"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("scenarios").is_dir())
        .map(|dir| {
            (
                dir.file_name().unwrap().to_string_lossy().to_string(),
                dir.join("scenarios"),
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plugin_passes_its_scenarios() {
    let plugins = plugins_with_scenarios();
    let names: Vec<&str> = plugins.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "birth-registration",
        "business-household",
        "business-household-onsite",
        "death-registration",
        "marriage-registration",
        "land-use-certificate",
        "certified-copies",
        "template",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} keeps no scenarios: {names:?}"
        );
    }
    let runtime = Runtime::new(SandboxLimits::default(), Arc::new(Calendar::shipped())).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, dir) in plugins {
        let stem = package_name(&workspace().join("plugins").join(&name)).replace('-', "_");
        let bytes = motcua::bundled::built_plugin(&stem)
            .unwrap_or_else(|e| panic!("{name} ({stem}) not built: {e}"));
        let build = Arc::new(runtime.load(&bytes).unwrap());
        let files = scenario_files(&[dir]).unwrap();
        assert!(
            !files.is_empty(),
            "{name} has a scenarios folder without scenarios"
        );
        for file in files {
            ran += 1;
            let report = run_scenario(&runtime, &build, &file)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Some(divergence) = report.divergence {
                failures.push(format!("{}\n{divergence}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} scenarios diverged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_diff() {
    let scenario =
        workspace().join("plugins/business-household/scenarios/02-supplement-across-tet.yaml");
    let wrong = std::fs::read_to_string(&scenario)
        .unwrap()
        .replace("due_date: 2026-02-25", "due_date: 2026-02-24");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrong.yaml");
    std::fs::write(&path, wrong).unwrap();
    let plugin = Path::new(motcua::bundled::BUILT_PLUGINS_DIR).join("business_household.wasm");

    let output = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("step 3 `complete-supplement` as citizen at 2026-02-13 10:00"),
        "{stdout}"
    );
    assert!(
        stdout.contains("due_date\n      expected: 2026-02-24\n      actual:   2026-02-25"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");

    // The unchanged file passes, and says so.
    let output = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed, 0 failed"));

    // Settings the plugin does not know are refused, as the server would refuse them.
    let settings = std::fs::read_to_string(&scenario).unwrap().replacen(
        "name:",
        "settings: { registration_fee: 5 }\nname:",
        1,
    );
    std::fs::write(&path, settings).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("settings.registration_fee is not a setting"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    // A scenario file with a typo is a clear error, not a pass.
    std::fs::write(&path, "name: x\nsubmision: {}\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["plugin", "test"])
        .arg(&plugin)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("unknown field `submision`"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn coverage_names_the_steps_and_actions_no_scenario_exercised() {
    let plugin = Path::new(motcua::bundled::BUILT_PLUGINS_DIR).join("procedure_template.wasm");
    let scenarios = workspace().join("plugins/template/scenarios");
    let run = |paths: &[PathBuf]| {
        let output = Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["plugin", "test"])
            .arg(&plugin)
            .args(paths)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    // The normal path alone never asks for a supplement nor refuses at intake.
    let one = run(&[scenarios.join("01-normal-path.yaml")]);
    let coverage = one
        .lines()
        .skip_while(|line| !line.starts_with("coverage:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        coverage.starts_with("coverage: 4 of 6 steps reached"),
        "{one}"
    );
    assert!(
        coverage.contains("never reached: `supplement`, `refused`"),
        "{one}"
    );
    assert!(
        coverage.contains("`refuse` in `submitted`, `request-supplement` in `submitted`"),
        "{one}"
    );
    assert!(!coverage.contains("`receive` in `submitted`"), "{one}");
    // A refused action counts: the plugin's `issue` arm ran when it refused it unpaid.
    assert!(!coverage.contains("`issue` in `review`"), "{one}");

    // All the template's scenarios together reach what the first one did not.
    let all = run(&[scenarios]);
    assert!(
        !all.contains("`request-supplement` in `submitted`"),
        "{all}"
    );
    assert!(!all.contains("never reached"), "{all}");
}
