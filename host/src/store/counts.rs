//! The counts a host's metrics read at each scrape.

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// Rollouts made, by procedure, for the metrics.
    pub async fn rollout_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT procedure_code, COUNT(*) FROM rollouts GROUP BY procedure_code")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
}
