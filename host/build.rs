//! Builds the guest plugins under `plugins/` for wasm32 and wraps each core module
//! into a component, so that `cargo run -p motcua -- demo` and every test find real,
//! current plugins without a separate step.
//!
//! The plugins are built by a nested `cargo` with its own target directory
//! (`target/plugins`), because the outer build holds the lock on `target/`.
//! Building for `wasm32-unknown-unknown` and wrapping with `wit-component` keeps the
//! plugins free of WASI imports: they import exactly what the contract grants.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every guest crate: a crate under `plugins/` or `plugins/fixtures/` whose library is a
/// `cdylib`. Found by looking, so a plugin made with `motcua plugin new` is built, and
/// its scenarios run, without editing this file. Returns (package name, artifact stem).
fn guest_crates(root: &Path) -> Vec<(String, String)> {
    let mut crates = Vec::new();
    for folder in [root.join("plugins"), root.join("plugins").join("fixtures")] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(manifest) = std::fs::read_to_string(entry.path().join("Cargo.toml")) else {
                continue;
            };
            if !manifest.contains("\"cdylib\"") {
                continue;
            }
            let name = manifest
                .lines()
                .find_map(|line| {
                    line.trim()
                        .strip_prefix("name = \"")
                        .and_then(|rest| rest.strip_suffix('"'))
                })
                .unwrap_or_else(|| panic!("{} has no package name", entry.path().display()));
            crates.push((name.to_string(), name.replace('-', "_")));
        }
    }
    crates.sort();
    crates
}

/// Builds made a second time with cargo features, each in a target directory of its
/// own so feature unification cannot mix them: (package, features, artifact stem, output stem).
const FEATURE_BUILDS: &[(&str, &str, &str, &str)] = &[(
    "business-household",
    "release-1-1",
    "business_household",
    "business_household_1_1",
)];

const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives inside the workspace")
        .to_path_buf();
    println!("cargo:rerun-if-changed={}", root.join("plugins").display());
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    // `sqlx::migrate!` embeds the migrations: a new one must rebuild the host.
    println!(
        "cargo:rerun-if-changed={}",
        root.join("migrations").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join(".cargo").join("config.toml").display()
    );

    let target_dir = root.join("target").join("plugins");
    ensure_wasm_target();

    let plugins = guest_crates(&root);
    let packages: Vec<&str> = plugins
        .iter()
        .map(|(package, _)| package.as_str())
        .collect();
    cargo_build(&root, &target_dir, &packages, None);

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("plugins");
    std::fs::create_dir_all(&out_dir).expect("create OUT_DIR/plugins");
    let artifacts = target_dir.join(WASM_TARGET).join("plugin");
    for (_, stem) in &plugins {
        let component = componentize(&artifacts.join(format!("{stem}.wasm")));
        std::fs::write(out_dir.join(format!("{stem}.wasm")), component).expect("write component");
    }
    for (package, features, stem, output) in FEATURE_BUILDS {
        let feature_dir = root.join("target").join(format!("plugins-{features}"));
        cargo_build(&root, &feature_dir, &[package], Some(features));
        let component = componentize(
            &feature_dir
                .join(WASM_TARGET)
                .join("plugin")
                .join(format!("{stem}.wasm")),
        );
        std::fs::write(out_dir.join(format!("{output}.wasm")), component).expect("write component");
    }
    println!("cargo:rustc-env=MOTCUA_BUILT_PLUGINS={}", out_dir.display());
}

/// Runs the nested cargo that builds guest crates.
fn cargo_build(root: &Path, target_dir: &Path, packages: &[&str], features: Option<&str>) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--profile", "plugin", "--target", WASM_TARGET])
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags meant for the host build must not leak into the guest build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    for package in packages {
        command.args(["-p", package]);
    }
    if let Some(features) = features {
        command.args(["--features", features]);
    }
    let status = command
        .status()
        .expect("could not run cargo to build the plugins");
    if !status.success() {
        panic!("building {packages:?} for {WASM_TARGET} failed ({status}); see the output above");
    }
}

/// Wraps a core module that carries wit-bindgen's component-type section into a component.
fn componentize(core_path: &Path) -> Vec<u8> {
    let module = std::fs::read(core_path)
        .unwrap_or_else(|error| panic!("read {}: {error}", core_path.display()));
    wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .unwrap_or_else(|error| panic!("wrap {} into a component: {error:#}", core_path.display()))
}

/// Installs the wasm32 target through rustup when it is missing, so a fresh machine
/// needs nothing beyond the toolchain.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    if libdir.is_some_and(|dir| dir.exists()) {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    if !matches!(status, Ok(status) if status.success()) {
        panic!("the {WASM_TARGET} target is missing and `rustup target add {WASM_TARGET}` failed");
    }
}
