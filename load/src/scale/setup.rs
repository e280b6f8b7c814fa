//! Bringing a country-sized deployment up through motcua's own paths: `motcua migrate`,
//! `motcua init`, the units file through `motcua units import`, the catalog published
//! and rolled out to every unit through the registry's HTTP API, and the stamped
//! builds of the scale fixture published beside it.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The root unit: a database holds one province, so the country stands as the one
/// root and each real province as a department under it (units form a tree of depth
/// one, docs/decisions/0009).
pub const ROOT: &str = "viet-nam";

/// The catalog components the host's build script built (`plugins/`), by artifact
/// stem. Each is published; every one but the local variant is rolled out to every
/// unit of its level.
pub const CATALOG: &[&str] = &[
    "birth_registration",
    "business_household",
    "business_household_onsite",
    "death_registration",
    "marriage_registration",
    "land_use_certificate",
    "procedure_template",
];

/// The scale fixture (the template's code under the package version below) whose
/// version stamp is rewritten per build.
pub const STAMPED: &str = "fixture_scale_version";
const STAMP: &[u8] = b"1.0.0-scale.b0000";

/// The code of commune-level unit `n` (0-based); unit 0 is the big ward.
pub fn commune_code(n: usize) -> String {
    format!("xa-{n}")
}

/// The code of the department standing for province `p` (0-based).
pub fn department_code(p: usize) -> String {
    format!("so-{p}")
}

/// Runs the `motcua` command and returns its standard output.
pub fn motcua(binary: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .args(args)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "`motcua {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `motcua migrate` then `motcua init` with a publisher: returns the root's
/// administrator and publisher tokens.
pub fn init(binary: &Path, database: &str) -> anyhow::Result<(String, String)> {
    motcua(binary, &["migrate", "--database-url", database])?;
    let out = motcua(
        binary,
        &[
            "init",
            "--province",
            ROOT,
            "--name",
            "Việt Nam (scale test)",
            "--agency-id",
            "000.00.00.VN",
            "--publisher",
            "--database-url",
            database,
        ],
    )?;
    let token = |role: &str| {
        out.lines()
            .find(|line| line.split_whitespace().next() == Some(role))
            .and_then(|line| line.split_whitespace().last())
            .map(str::to_string)
            .with_context(|| format!("`motcua init` printed no {role} token:\n{out}"))
    };
    Ok((token("admin")?, token("publisher")?))
}

/// The units file: the root, one department per province, and `communes` wards and
/// communes dealt round the provinces (commune `n` belongs to province `n % provinces`,
/// which its name says: the tree is one level deep).
pub fn units_csv(provinces: usize, communes: usize) -> String {
    let mut csv = String::from("code,name,kind,agency_id,parent\n");
    csv.push_str(&format!(
        "{ROOT},Việt Nam (scale test),province,000.00.00.VN,\n"
    ));
    for p in 0..provinces {
        csv.push_str(&format!(
            "{},Sở Tư pháp tỉnh {:02},department,000.00.{p}.S,{ROOT}\n",
            department_code(p),
            p + 1
        ));
    }
    for n in 0..communes {
        let (kind, word) = if n % 3 == 0 {
            ("ward", "Phường")
        } else {
            ("commune", "Xã")
        };
        csv.push_str(&format!(
            "{},{word} {:04} (tỉnh {:02}),{kind},000.{n}.{}.X,{ROOT}\n",
            commune_code(n),
            n + 1,
            n % provinces + 1,
            n % provinces
        ));
    }
    csv
}

/// `motcua units import FILE`; returns what it printed (created, updated, unchanged).
pub fn import_units(
    binary: &Path,
    database: &str,
    dir: &Path,
    csv: &str,
) -> anyhow::Result<String> {
    let file = dir.join("units.csv");
    std::fs::write(&file, csv)?;
    let out = motcua(
        binary,
        &[
            "units",
            "import",
            &file.to_string_lossy(),
            "--database-url",
            database,
        ],
    )?;
    Ok(out.trim().to_string())
}

/// A staff account's token, made with `motcua token create`.
pub fn token(binary: &Path, database: &str, unit: &str, role: &str) -> anyhow::Result<String> {
    let out = motcua(
        binary,
        &[
            "token",
            "create",
            "--unit",
            unit,
            "--role",
            role,
            "--database-url",
            database,
        ],
    )?;
    Ok(out.trim().to_string())
}

/// One published build as the registry answered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Published {
    pub stem: String,
    pub sha256: String,
    pub procedure: String,
    pub version: String,
    pub variant: bool,
}

async fn publish(
    http: &reqwest::Client,
    base: &str,
    publisher: &str,
    stem: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Value> {
    let response = http
        .post(format!("{base}/api/v1/plugins"))
        .bearer_auth(publisher)
        .header("Content-Type", "application/wasm")
        .body(bytes)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        bail!("publishing {stem}: {status} {body}");
    }
    Ok(body)
}

/// Publishes every catalog component and rolls each procedure (not the local
/// variant) out to every unit of its level, through the registry's API.
pub async fn publish_catalog(
    http: &reqwest::Client,
    base: &str,
    publisher: &str,
    plugins: &Path,
) -> anyhow::Result<Vec<Published>> {
    let mut catalog = Vec::new();
    for stem in CATALOG {
        let path = plugins.join(format!("{stem}.wasm"));
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let view = publish(http, base, publisher, stem, bytes).await?;
        let procedure = view["procedure"].as_str().unwrap_or_default().to_string();
        catalog.push(Published {
            stem: stem.to_string(),
            sha256: view["sha256"].as_str().unwrap_or_default().to_string(),
            procedure,
            version: view["version"].as_str().unwrap_or_default().to_string(),
            variant: !view["variant_of"].is_null(),
        });
    }
    for build in catalog.iter().filter(|build| !build.variant) {
        let response = http
            .post(format!("{base}/api/v1/rollouts"))
            .bearer_auth(publisher)
            .json(
                &json!({ "procedure": build.procedure, "version": build.version, "units": "all" }),
            )
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "rolling out {} {}: {status} {}",
                build.procedure,
                build.version,
                response.text().await?
            );
        }
    }
    Ok(catalog)
}

/// The scale fixture with its version stamp's last four characters set to `n`.
pub fn stamped(component: &[u8], n: usize) -> anyhow::Result<Vec<u8>> {
    let at: Vec<usize> = component
        .windows(STAMP.len())
        .enumerate()
        .filter(|(_, window)| *window == STAMP)
        .map(|(at, _)| at)
        .collect();
    let [at] = at[..] else {
        bail!(
            "the scale fixture holds its version stamp {} times; once expected",
            at.len()
        );
    };
    if n > 9999 {
        bail!("at most 9,999 stamped builds");
    }
    let mut bytes = component.to_vec();
    let digits = format!("{n:04}");
    bytes[at + STAMP.len() - 4..at + STAMP.len()].copy_from_slice(digits.as_bytes());
    Ok(bytes)
}

/// Publishes `count` distinct builds of the scale fixture (versions
/// `1.0.0-scale.b0001`…); each has its own sha256, so every host compiles each.
pub async fn publish_stamped(
    http: &reqwest::Client,
    base: &str,
    publisher: &str,
    plugins: &Path,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let path = plugins.join(format!("{STAMPED}.wasm"));
    let component = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut shas = Vec::new();
    for n in 1..=count {
        let view = publish(http, base, publisher, STAMPED, stamped(&component, n)?).await?;
        if view["created"] != json!(true) {
            bail!("stamped build {n} was not new: {view}");
        }
        shas.push(view["sha256"].as_str().unwrap_or_default().to_string());
    }
    Ok(shas)
}
