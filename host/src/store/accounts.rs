//! Staff accounts and their API tokens.

use sqlx::Row;

use super::{Result, Store};

#[derive(Clone, Debug)]
pub struct ActorRecord {
    pub id: String,
    pub unit: String,
    pub role: String,
    pub name: String,
}

impl Store {
    pub async fn insert_actor(
        &self,
        actor: &ActorRecord,
        token_hash: &str,
        created_at: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO actors (id, unit, role, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&actor.id)
            .bind(&actor.unit)
            .bind(&actor.role)
            .bind(&actor.name)
            .bind(token_hash)
            .bind(created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn actor_by_token_hash(&self, token_hash: &str) -> Result<Option<ActorRecord>> {
        let row = sqlx::query("SELECT id, unit, role, name FROM actors WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| ActorRecord {
            id: row.get(0),
            unit: row.get(1),
            role: row.get(2),
            name: row.get(3),
        }))
    }

    pub async fn actor_exists(&self, id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM actors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }
}
