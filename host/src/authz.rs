//! Who may manage what: the one authorisation rule for every administrative action
//! (publishing, rollouts and rollbacks, units, the calendar, scoring, a unit's
//! procedures and settings, accounts, the registry's audit).
//!
//! The rule: an account belongs to one unit. Staff of the province itself (the unit
//! without a parent) act on the province: every unit under it. Staff of a department,
//! ward or commune act on their own unit only. Within that reach, the role decides
//! what they may do. Dossier work (receive, sign, ...) is the workflow's: the plugin
//! declares which roles take each action, and the handling unit's staff take them.
//!
//! Pure: the caller looks up the units involved; no SQL and no HTTP here.

use crate::domain::{Actor, Role, UnitKind};
use crate::store::Unit;

/// What an administrative request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Publish builds, roll them out, roll them back: the province's publishers.
    Publish,
    /// Create and change units: the province's admins.
    ManageUnits,
    /// Load holiday tables: the province's admins.
    ManageCalendar,
    /// Set the indicators' scoring: the province's admins.
    ManageScoring,
    /// A unit's procedures, variants, settings and cut-off: the unit's admins and the
    /// province's.
    ConfigureUnit,
    /// List, create and revoke a unit's accounts: the unit's admins and the province's.
    ManageAccounts,
    /// Read the registry's audit: publishers and admins, within their reach.
    ReadRegistryAudit,
    /// Audit any dossier of the province (replay its history): the province's admins
    /// and leaders. A unit's own staff replay their unit's dossiers through the
    /// workflow's tenancy, as they read them.
    AuditDossiers,
}

impl Permission {
    fn roles(self) -> &'static [Role] {
        match self {
            Permission::Publish => &[Role::Publisher],
            Permission::ManageUnits
            | Permission::ManageCalendar
            | Permission::ManageScoring
            | Permission::ConfigureUnit
            | Permission::ManageAccounts => &[Role::Admin],
            Permission::ReadRegistryAudit => &[Role::Admin, Role::Publisher],
            Permission::AuditDossiers => &[Role::Admin, Role::Leader],
        }
    }

    /// Whether only the province's own staff hold it (whatever their role).
    fn province_only(self) -> bool {
        matches!(
            self,
            Permission::Publish
                | Permission::ManageUnits
                | Permission::ManageCalendar
                | Permission::ManageScoring
                | Permission::AuditDossiers
        )
    }

    fn refusal(self) -> &'static str {
        match self {
            Permission::Publish => {
                "only the province's publishers publish plugins and manage rollouts"
            }
            Permission::ManageUnits => "only the province's admins manage its units",
            Permission::ManageCalendar => "only the province's admins manage the calendar",
            Permission::ManageScoring => "only the province's admins set the scoring",
            Permission::ConfigureUnit => {
                "only an admin of the unit or of its province changes its procedures and settings"
            }
            Permission::ManageAccounts => {
                "only an admin of the unit or of its province manages its accounts"
            }
            Permission::ReadRegistryAudit => "publishers and admins read the registry's audit",
            Permission::AuditDossiers => {
                "only the province's admins and leaders audit every unit's dossiers"
            }
        }
    }
}

/// How far a granted caller reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The province with this code and every unit under it.
    Province(String),
    /// This unit only.
    Unit(String),
}

impl Reach {
    /// Whether `unit` lies within this reach.
    pub fn covers(&self, unit: &Unit) -> bool {
        match self {
            Reach::Province(province) => province_of(unit) == province,
            Reach::Unit(code) => &unit.code == code,
        }
    }
}

/// The caller, allowed, with their reach.
#[derive(Clone, Debug)]
pub struct Grant {
    pub actor: Actor,
    pub reach: Reach,
}

/// The code of the province a unit belongs to (itself for the province).
pub fn province_of(unit: &Unit) -> &str {
    match unit.kind {
        UnitKind::Province => &unit.code,
        _ => unit.parent.as_deref().unwrap_or(&unit.code),
    }
}

/// The one rule. `home` is the caller's unit as stored (`None`: their unit no longer
/// exists, which grants nothing). `target` is the unit acted on, for permissions that
/// act on one unit; province-wide actions pass `None` and act on the caller's
/// province. Refusals say what would be allowed.
pub fn authorize(
    actor: &Actor,
    home: Option<&Unit>,
    permission: Permission,
    target: Option<&Unit>,
) -> Result<Grant, String> {
    let refuse = || Err(permission.refusal().to_string());
    let Some(home) = home else {
        return refuse();
    };
    if !permission.roles().contains(&actor.role) || home.code != actor.unit {
        return refuse();
    }
    let reach = match home.kind {
        UnitKind::Province => Reach::Province(home.code.clone()),
        _ if permission.province_only() => return refuse(),
        _ => Reach::Unit(home.code.clone()),
    };
    if let Some(target) = target
        && !reach.covers(target)
    {
        return Err(format!(
            "{}; `{}` is outside your {}",
            permission.refusal(),
            target.code,
            match reach {
                Reach::Province(_) => "province",
                Reach::Unit(_) => "unit",
            }
        ));
    }
    Ok(Grant {
        actor: actor.clone(),
        reach,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: code.into(),
            kind,
            parent: parent.map(Into::into),
            agency_id: "x".into(),
            cutoff: "15:00".into(),
        }
    }

    fn actor(unit: &str, role: Role) -> Actor {
        Actor {
            id: format!("{unit}-{}", role.as_str()),
            role,
            unit: unit.into(),
        }
    }

    #[test]
    fn province_roles_act_on_their_province_and_commune_roles_on_their_unit() {
        let phu_tho = unit("phu-tho", UnitKind::Province, None);
        let ha_noi = unit("ha-noi", UnitKind::Province, None);
        let xuan_hoa = unit("xuan-hoa", UnitKind::Ward, Some("phu-tho"));
        let viet_tri = unit("viet-tri", UnitKind::Ward, Some("phu-tho"));
        let ba_dinh = unit("ba-dinh", UnitKind::Ward, Some("ha-noi"));
        let admin = actor("phu-tho", Role::Admin);
        let grant = authorize(
            &admin,
            Some(&phu_tho),
            Permission::ManageAccounts,
            Some(&xuan_hoa),
        )
        .unwrap();
        assert_eq!(grant.reach, Reach::Province("phu-tho".into()));
        assert!(
            authorize(
                &admin,
                Some(&phu_tho),
                Permission::ManageAccounts,
                Some(&ba_dinh)
            )
            .is_err()
        );
        let ward_admin = actor("xuan-hoa", Role::Admin);
        assert!(
            authorize(
                &ward_admin,
                Some(&xuan_hoa),
                Permission::ConfigureUnit,
                Some(&xuan_hoa)
            )
            .is_ok()
        );
        assert!(
            authorize(
                &ward_admin,
                Some(&xuan_hoa),
                Permission::ConfigureUnit,
                Some(&viet_tri)
            )
            .is_err()
        );
        assert!(authorize(&ward_admin, Some(&xuan_hoa), Permission::ManageUnits, None).is_err());
        let ward_publisher = actor("xuan-hoa", Role::Publisher);
        assert!(authorize(&ward_publisher, Some(&xuan_hoa), Permission::Publish, None).is_err());
        assert_eq!(
            authorize(
                &ward_publisher,
                Some(&xuan_hoa),
                Permission::ReadRegistryAudit,
                None
            )
            .unwrap()
            .reach,
            Reach::Unit("xuan-hoa".into())
        );
        let publisher = actor("phu-tho", Role::Publisher);
        assert!(authorize(&publisher, Some(&phu_tho), Permission::Publish, None).is_ok());
        assert!(authorize(&publisher, Some(&ha_noi), Permission::Publish, None).is_err());
        assert!(authorize(&publisher, None, Permission::Publish, None).is_err());
        assert!(authorize(&admin, Some(&phu_tho), Permission::Publish, None).is_err());
    }
}
