//! Units (the province and its communes, wards and departments).

use sqlx::Row;

use super::{Result, Store};

use super::RegistryEvent;
use super::registry::insert_registry_event;

#[derive(Clone, Debug)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub agency_id: String,
    /// Cut-off hour as "HH:MM"; dossiers received later count from the next working day.
    pub cutoff: String,
}

impl Store {
    pub async fn upsert_unit(&self, unit: &Unit) -> Result<()> {
        sqlx::query(
            "INSERT INTO units (code, name, parent, agency_id, cutoff) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent,
                 agency_id = excluded.agency_id, cutoff = excluded.cutoff",
        )
        .bind(&unit.code)
        .bind(&unit.name)
        .bind(&unit.parent)
        .bind(&unit.agency_id)
        .bind(&unit.cutoff)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn unit(&self, code: &str) -> Result<Option<Unit>> {
        let row =
            sqlx::query("SELECT code, name, parent, agency_id, cutoff FROM units WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(unit_from_row))
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows =
            sqlx::query("SELECT code, name, parent, agency_id, cutoff FROM units ORDER BY code")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(unit_from_row).collect())
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

fn unit_from_row(row: &sqlx::any::AnyRow) -> Unit {
    Unit {
        code: row.get(0),
        name: row.get(1),
        parent: row.get(2),
        agency_id: row.get(3),
        cutoff: row.get(4),
    }
}
