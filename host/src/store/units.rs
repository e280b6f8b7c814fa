//! Units (the province and its departments, wards and communes).

use sqlx::Row;

use super::columns::Columns;
use super::registry::{insert_registry_event, upsert_binding};
use super::{Binding, RegistryEvent};
use super::{Result, Store, StoreError};
use crate::domain::UnitKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<String>,
    pub agency_id: String,
    /// Cut-off hour as "HH:MM"; dossiers received later count from the next working day.
    pub cutoff: String,
}

/// A batch of unit changes computed by the units service, applied as one transaction.
#[derive(Clone, Debug, Default)]
pub struct UnitChanges {
    /// New units, parents before their children.
    pub created: Vec<Unit>,
    /// Changed units: (as they were read, as they become). The cut-off is not touched.
    pub updated: Vec<(Unit, Unit)>,
    /// The bindings new units start with.
    pub bindings: Vec<Binding>,
    /// One audit event per created or updated unit.
    pub events: Vec<RegistryEvent>,
    /// The province defaults (procedure, build) the bindings were computed from.
    pub defaults_seen: Vec<(String, String)>,
}

impl Store {
    /// Writes a unit as given (the demo seed); changes by people go through
    /// [`Store::apply_unit_changes`], which audits them.
    pub async fn upsert_unit(&self, unit: &Unit) -> Result<()> {
        sqlx::query(
            "INSERT INTO units (code, name, kind, parent, agency_id, cutoff) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 parent = excluded.parent, agency_id = excluded.agency_id, cutoff = excluded.cutoff",
        )
        .bind(&unit.code)
        .bind(&unit.name)
        .bind(unit.kind.as_str())
        .bind(&unit.parent)
        .bind(&unit.agency_id)
        .bind(&unit.cutoff)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Read at every filing (see `columns.rs` for where it runs).
    pub async fn unit(&self, code: &str) -> Result<Option<Unit>> {
        self.fetch_one(
            "SELECT code, name, kind, parent, agency_id, cutoff FROM units WHERE code = $1",
            &[code.into()],
            unit_from_row,
        )
        .await
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(
            "SELECT code, name, kind, parent, agency_id, cutoff FROM units ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| unit_from_row(row)).collect()
    }

    /// A unit's one-stop counter: the unit, and the departments (sở) of its province,
    /// whose province-level dossiers a ward's or commune's counter receives for them.
    /// `None` when there is no such unit.
    pub async fn counter(&self, code: &str) -> Result<Option<(Unit, Vec<Unit>)>> {
        let Some(unit) = self.unit(code).await? else {
            return Ok(None);
        };
        let Some(province) = &unit.parent else {
            return Ok(Some((unit, Vec::new())));
        };
        let rows = sqlx::query(
            "SELECT code, name, kind, parent, agency_id, cutoff FROM units
             WHERE kind = $1 AND parent = $2 ORDER BY code",
        )
        .bind(UnitKind::Department.as_str())
        .bind(province)
        .fetch_all(&self.pool)
        .await?;
        let departments = rows
            .iter()
            .map(|row| unit_from_row(row))
            .collect::<Result<_>>()?;
        Ok(Some((unit, departments)))
    }

    /// Creates and updates units, binds the new ones and writes their audit, all in one
    /// transaction. Every update is a compare-and-set on the unit as it was read, and
    /// the province defaults must still be the ones the bindings were computed from:
    /// a change by another request in between is a conflict and nothing is written.
    pub async fn apply_unit_changes(&self, changes: &UnitChanges) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let defaults: Vec<(String, String)> = sqlx::query(
            "SELECT procedure_code, build_sha256 FROM province_defaults ORDER BY procedure_code",
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
        let mut seen = changes.defaults_seen.clone();
        seen.sort();
        if defaults != seen {
            tx.rollback().await?;
            return Err(StoreError::Conflict(
                "the province defaults changed while the units were being checked; try again"
                    .into(),
            ));
        }
        for unit in &changes.created {
            let inserted = sqlx::query(
                "INSERT INTO units (code, name, kind, parent, agency_id) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&unit.code)
            .bind(&unit.name)
            .bind(unit.kind.as_str())
            .bind(&unit.parent)
            .bind(&unit.agency_id)
            .execute(&mut *tx)
            .await;
            if let Err(error) = inserted {
                tx.rollback().await?;
                return Err(unit_conflict(error, &unit.code));
            }
        }
        for (before, after) in &changes.updated {
            // An empty text stands for "no parent" so one statement compares both cases.
            let updated = sqlx::query(
                "UPDATE units SET name = $1, kind = $2, parent = $3, agency_id = $4
                 WHERE code = $5 AND name = $6 AND kind = $7 AND COALESCE(parent, '') = $8
                     AND agency_id = $9",
            )
            .bind(&after.name)
            .bind(after.kind.as_str())
            .bind(&after.parent)
            .bind(&after.agency_id)
            .bind(&before.code)
            .bind(&before.name)
            .bind(before.kind.as_str())
            .bind(before.parent.clone().unwrap_or_default())
            .bind(&before.agency_id)
            .execute(&mut *tx)
            .await;
            match updated {
                Ok(done) if done.rows_affected() == 1 => {}
                Ok(_) => {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(format!(
                        "unit `{}` was changed by another request while this change was being checked; try again",
                        before.code
                    )));
                }
                Err(error) => {
                    tx.rollback().await?;
                    return Err(unit_conflict(error, &before.code));
                }
            }
        }
        for binding in &changes.bindings {
            upsert_binding(&mut tx, binding).await?;
        }
        for event in &changes.events {
            insert_registry_event(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_unit_cutoff(
        &self,
        unit: &str,
        cutoff: &str,
        event: &RegistryEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE units SET cutoff = $1 WHERE code = $2")
            .bind(cutoff)
            .bind(unit)
            .execute(&mut *tx)
            .await?;
        insert_registry_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A unique violation while writing units means another request took the code or the
/// agency e-ID first; anything else is a database failure.
fn unit_conflict(error: sqlx::Error, code: &str) -> StoreError {
    match error {
        sqlx::Error::Database(database) if database.is_unique_violation() => {
            StoreError::Conflict(format!(
                "unit `{code}` or its agency e-ID was just written by another request; try again"
            ))
        }
        other => other.into(),
    }
}

fn unit_from_row(row: &dyn Columns) -> Result<Unit> {
    let code = row.text(0)?;
    let kind = row.text(2)?;
    Ok(Unit {
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unit `{code}` has kind `{kind}`")))?,
        code,
        name: row.text(1)?,
        parent: row.opt_text(3)?,
        agency_id: row.text(4)?,
        cutoff: row.text(5)?,
    })
}
