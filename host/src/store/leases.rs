//! Leases on background work, so that one host at a time does it; and the counts a
//! host's metrics read at each scrape.

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// Takes or renews the lease `name` for `holder` until `until`, if it is free, held
    /// by `holder`, or ended at `now` (times as RFC 3339 UTC text, which sorts as time).
    /// Returns whether `holder` holds it now. One statement, so two hosts asking at once
    /// cannot both get it.
    pub async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: &str,
        until: &str,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "INSERT INTO background_leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE background_leases.holder = excluded.holder OR background_leases.until <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Gives a lease back (a host shutting down), so another takes it at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM background_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Dossiers by handling unit and status code, for the metrics.
    pub async fn dossier_counts(&self) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT handling_unit, status, COUNT(*) FROM dossiers GROUP BY handling_unit, status",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    /// Rollouts made, by procedure, for the metrics.
    pub async fn rollout_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT procedure_code, COUNT(*) FROM rollouts GROUP BY procedure_code")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
}
