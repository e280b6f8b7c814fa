//! Audit anchors and the reads the anchoring and the verifier need: the chain heads a
//! day moved, and every event in (dossier, seq) order, a page at a time.

use sqlx::Row;

use super::{Result, Store};
use crate::audit::EventRecord;

/// One signed anchor, as stored. See migrations/*/0005_audit_anchors.sql.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorRecord {
    pub day: String,
    pub since: Option<String>,
    pub cutoff: String,
    pub prev_digest: String,
    pub heads: i64,
    pub heads_json: String,
    pub heads_digest: String,
    pub digest: String,
    pub key_id: String,
    pub signature: String,
    pub made_at: String,
    pub made_by: String,
}

/// A dossier's last event before a cutoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub dossier_code: String,
    pub seq: i64,
    pub hash: String,
}

const ANCHOR_COLUMNS: &str = "day, since, cutoff, prev_digest, heads, heads_json, heads_digest, digest, key_id, \
     signature, made_at, made_by";

fn anchor_from_row(row: &sqlx::any::AnyRow) -> AnchorRecord {
    AnchorRecord {
        day: row.get(0),
        since: row.get(1),
        cutoff: row.get(2),
        prev_digest: row.get(3),
        heads: row.get(4),
        heads_json: row.get(5),
        heads_digest: row.get(6),
        digest: row.get(7),
        key_id: row.get(8),
        signature: row.get(9),
        made_at: row.get(10),
        made_by: row.get(11),
    }
}

impl Store {
    /// Every anchor, oldest day first.
    pub async fn audit_anchors(&self) -> Result<Vec<AnchorRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ANCHOR_COLUMNS} FROM audit_anchors ORDER BY day"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(anchor_from_row).collect())
    }

    /// The anchor of the latest day, if any.
    pub async fn latest_audit_anchor(&self) -> Result<Option<AnchorRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ANCHOR_COLUMNS} FROM audit_anchors ORDER BY day DESC LIMIT 1"
        )))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(anchor_from_row))
    }

    /// The anchor of `day`, if one was made.
    pub async fn audit_anchor(&self, day: &str) -> Result<Option<AnchorRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ANCHOR_COLUMNS} FROM audit_anchors WHERE day = $1"
        )))
        .bind(day)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(anchor_from_row))
    }

    /// Stores an anchor unless one for its day, or one following the same previous
    /// anchor, is there already (another host made it first). Returns whether this
    /// call stored it.
    pub async fn insert_audit_anchor(&self, anchor: &AnchorRecord) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO audit_anchors (day, since, cutoff, prev_digest, heads, heads_json, heads_digest, digest,
                 key_id, signature, made_at, made_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT DO NOTHING",
        )
        .bind(&anchor.day)
        .bind(&anchor.since)
        .bind(&anchor.cutoff)
        .bind(&anchor.prev_digest)
        .bind(anchor.heads)
        .bind(&anchor.heads_json)
        .bind(&anchor.heads_digest)
        .bind(&anchor.digest)
        .bind(&anchor.key_id)
        .bind(&anchor.signature)
        .bind(&anchor.made_at)
        .bind(&anchor.made_by)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// For every dossier with an event at or after `since` (any event when `None`)
    /// and before `cutoff`: its last event before `cutoff`. Sorted by dossier code.
    /// Times compare as stored text, which is civil RFC 3339 throughout.
    pub async fn chain_heads(&self, since: Option<&str>, cutoff: &str) -> Result<Vec<ChainHead>> {
        let rows = sqlx::query(
            "SELECT e.dossier_code, e.seq, e.hash FROM dossier_events e
             WHERE e.dossier_code IN (SELECT DISTINCT dossier_code FROM dossier_events
                                      WHERE at >= $2 AND at < $1)
               AND e.seq = (SELECT MAX(m.seq) FROM dossier_events m
                            WHERE m.dossier_code = e.dossier_code AND m.at < $1)",
        )
        .bind(cutoff)
        .bind(since.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut heads: Vec<ChainHead> = rows
            .into_iter()
            .map(|row| ChainHead {
                dossier_code: row.get(0),
                seq: row.get(1),
                hash: row.get(2),
            })
            .collect();
        heads.sort_by(|a, b| a.dossier_code.cmp(&b.dossier_code));
        Ok(heads)
    }

    /// Up to `limit` events after (`after` dossier code, seq), in (dossier code, seq)
    /// order: the verifier reads the whole trail this way without holding it all.
    pub async fn events_page(
        &self,
        after: Option<(&str, i64)>,
        limit: i64,
    ) -> Result<Vec<EventRecord>> {
        let (code, seq) = after.unwrap_or(("", 0));
        let rows = sqlx::query(concat!(
            "SELECT ",
            super::dossiers::event_columns!(),
            " FROM dossier_events
                 WHERE dossier_code > $1 OR (dossier_code = $1 AND seq > $2)
                 ORDER BY dossier_code, seq LIMIT $3"
        ))
        .bind(code)
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| super::dossiers::event_from_row(row))
            .collect()
    }
}
