//! Leases on background work, so that one host at a time does it.

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
