//! The demo province: Phú Thọ with two wards, a commune and a department, the
//! catalog's commune-level procedures deployed to each ward and commune, its
//! province-level procedure to the department, Xuân Hòa's local variant published, and
//! one demo account per role.
//!
//! Seeding creates only what is missing: running it again on the same database
//! changes nothing, and leaves whatever an admin changed since (a unit's cut-off, a
//! revoked demo account, rollouts, variants, settings) as the admin left it.
//! Demo tokens are fixed strings so the README's curl examples work as written;
//! a real deployment creates its tokens with `motcua token create`.

use std::collections::BTreeMap;

use crate::api::AppState;
use crate::bundled;
use crate::clock::format_civil;
use crate::domain::{Actor, Level, Role, UnitKind};
use crate::registry::Scope;
use crate::runtime::sha256_hex;
use crate::store::{ActorRecord, RegistryEvent, Unit};

pub struct DemoUnit {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: UnitKind,
    pub agency_id: &'static str,
}

pub const PROVINCE: DemoUnit = DemoUnit {
    code: "phu-tho",
    name: "Tỉnh Phú Thọ",
    kind: UnitKind::Province,
    agency_id: "000.00.00.H43",
};

pub const COMMUNES: [DemoUnit; 3] = [
    DemoUnit {
        code: "xuan-hoa",
        name: "Phường Xuân Hòa",
        kind: UnitKind::Ward,
        agency_id: "000.31.19.H43",
    },
    DemoUnit {
        code: "viet-tri",
        name: "Phường Việt Trì",
        kind: UnitKind::Ward,
        agency_id: "000.30.19.H43",
    },
    DemoUnit {
        code: "thanh-ba",
        name: "Xã Thanh Ba",
        kind: UnitKind::Commune,
        agency_id: "000.32.19.H43",
    },
];

/// The province's departments (sở), which handle the province-level procedures; the
/// wards' and communes' one-stop counters receive their dossiers too.
pub const DEPARTMENTS: [DemoUnit; 1] = [DemoUnit {
    code: "so-nnmt",
    name: "Sở Nông nghiệp và Môi trường",
    kind: UnitKind::Department,
    agency_id: "000.24.00.H43",
}];

const UNIT_ROLES: [Role; 4] = [Role::Officer, Role::Specialist, Role::Leader, Role::Admin];
const PROVINCE_ROLES: [Role; 2] = [Role::Publisher, Role::Admin];

/// The fixed demo token of a unit's role account.
pub fn demo_token(unit: &str, role: Role) -> String {
    crate::accounts::demo_token(unit, role.as_str())
}

pub struct Seeded {
    pub accounts: Vec<(String, Role, String)>,
    /// (code, name, plugin version, where it is offered).
    pub procedures: Vec<(String, String, String, String)>,
}

/// The console password of a demo account is its public demo token. Hashing is slow
/// by design, so each process hashes each once.
fn demo_password_hash(token: &str) -> anyhow::Result<String> {
    static HASHES: std::sync::Mutex<BTreeMap<String, String>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut hashes = HASHES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(hash) = hashes.get(token) {
        return Ok(hash.clone());
    }
    let hash = crate::sessions::hash_password(token)?;
    hashes.insert(token.to_string(), hash.clone());
    Ok(hash)
}

/// Seeds the demo province and deploys the bundled plugins.
pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let store = &state.store;
    let now = format_civil(state.now());
    // Public demo tokens must never be added to a real deployment: a database that
    // holds units seeds only if the demo made it, which only the demo's province admin
    // holding its public token shows (an admin may name an account anything, but its
    // token is random).
    let demo_admin = format!("{}-{}", PROVINCE.code, Role::Admin.as_str());
    let admin_hash = sha256_hex(demo_token(PROVINCE.code, Role::Admin).as_bytes());
    let made_by_demo = store
        .active_token_hashes()
        .await?
        .iter()
        .any(|(actor, hash)| actor.id == demo_admin && *hash == admin_hash);
    if !store.units().await?.is_empty() && !made_by_demo {
        anyhow::bail!(
            "this database already holds units and was not made by `motcua demo` (no active `{demo_admin}` account with the demo's token); the demo would add accounts with public tokens to it. Serve it with `motcua serve`, or give the demo a new database"
        );
    }
    // Only what is missing is created: a unit an admin has changed since (its name,
    // its cut-off) keeps the admin's values, and nothing is written without need.
    let province = Unit {
        code: PROVINCE.code.into(),
        name: PROVINCE.name.into(),
        kind: PROVINCE.kind,
        parent: None,
        agency_id: PROVINCE.agency_id.into(),
        cutoff: "15:00".into(),
    };
    let communes = COMMUNES.iter().chain(&DEPARTMENTS).map(|commune| Unit {
        code: commune.code.into(),
        name: commune.name.into(),
        kind: commune.kind,
        parent: Some(PROVINCE.code.into()),
        agency_id: commune.agency_id.into(),
        cutoff: "15:00".into(),
    });
    for unit in std::iter::once(province).chain(communes) {
        if store.unit(&unit.code).await?.is_none() {
            store.upsert_unit(&unit).await?;
        }
    }

    let mut accounts = Vec::new();
    let units = std::iter::once((PROVINCE.code, &PROVINCE_ROLES[..])).chain(
        COMMUNES
            .iter()
            .chain(&DEPARTMENTS)
            .map(|unit| (unit.code, &UNIT_ROLES[..])),
    );
    for (unit, roles) in units {
        for role in roles {
            let id = format!("{unit}-{}", role.as_str());
            let token = demo_token(unit, *role);
            if !store.actor_exists(&id).await? {
                let password_hash = demo_password_hash(&token)?;
                let actor = ActorRecord {
                    id: id.clone(),
                    unit: unit.into(),
                    role: role.as_str().into(),
                    name: id.clone(),
                    created_at: now.clone(),
                    expires_at: None,
                    revoked_at: None,
                };
                let event = RegistryEvent {
                    at: now.clone(),
                    actor_id: "demo-seed".into(),
                    actor_role: "operator".into(),
                    action: "account-create".into(),
                    procedure_code: None,
                    unit: Some(unit.into()),
                    before: serde_json::Value::Null,
                    after: crate::accounts::account_view(&actor),
                };
                store
                    .insert_actor(
                        &actor,
                        &sha256_hex(token.as_bytes()),
                        Some(&password_hash),
                        &event,
                    )
                    .await?;
            }
            accounts.push((unit.to_string(), *role, token));
        }
    }

    let publisher = Actor {
        id: format!("{}-publisher", PROVINCE.code),
        role: Role::Publisher,
        unit: PROVINCE.code.into(),
    };
    let mut procedures = Vec::new();
    // The catalog's commune-level procedures rolled out to every ward and commune, its
    // province-level procedure to the department, and Xuân Hòa's local variant
    // published for its admin to choose.
    for bytes in [
        bundled::BIRTH_REGISTRATION,
        bundled::BUSINESS_HOUSEHOLD,
        bundled::DEATH_REGISTRATION,
        bundled::MARRIAGE_REGISTRATION,
        bundled::CERTIFIED_COPIES,
        bundled::LAND_USE_CERTIFICATE,
        bundled::BUSINESS_HOUSEHOLD_ONSITE,
    ] {
        let (build, _) = state
            .registry
            .publish(bytes.to_vec(), &publisher, &now)
            .await?;
        // The first run makes the bundled build the province default everywhere; later
        // runs keep whatever rollouts, variants and settings happened since. A variant
        // is not rolled out: a unit's admin chooses it.
        if build.info.variant_of.is_none() && !state.store.has_rollouts(&build.info.code).await? {
            state
                .registry
                .rollout(
                    &build.info.code,
                    &build.sha256,
                    Scope::All,
                    &publisher,
                    &now,
                )
                .await?;
        }
        let offered = match (&build.info.variant_of, build.info.level) {
            (Some(_), _) => "a local variant: Xuân Hòa's admin may choose it",
            (None, Level::Province) => {
                "the department, received at every ward's and commune's counter too"
            }
            (None, Level::Commune) => "every ward and commune",
        }
        .to_string();
        procedures.push((
            build.info.code.clone(),
            build.info.name.clone(),
            build.info.plugin_version.clone(),
            offered,
        ));
    }
    Ok(Seeded {
        accounts,
        procedures,
    })
}
