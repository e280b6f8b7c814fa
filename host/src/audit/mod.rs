//! The audit trail's hash chain.
//!
//! Each dossier's events form a chain: an event's hash covers the previous event's
//! hash and every field of the event, in a fixed order. Editing, removing or
//! reordering any event breaks every hash after it, which `verify_chain` reports.
//!
//! The chain alone has no key: whoever can write to the database can rewrite an event
//! and recompute the hashes after it. [`anchor`] signs each day's chain heads with a key
//! the database does not hold, and [`verify`] checks the trail against those anchors.

pub mod anchor;
pub mod commands;
pub mod verify;

pub use anchor::{AnchorKey, Anchored, AuditError, PublicKey, anchor_day, anchor_due};
pub use verify::{Problem, Report, verify};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of a dossier's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as stored and served. The fields are in the order of the store's
/// `event_columns!`: a dossier read with its history decodes each event from an array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub dossier_code: String,
    pub seq: i64,
    pub at: String,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_unit: String,
    pub action: String,
    pub from_step: Option<String>,
    pub to_step: String,
    pub from_status: Option<i64>,
    pub to_status: i64,
    pub note: String,
    pub payload_json: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRecord {
    /// The hash this event must carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::to_string(&(
            &self.dossier_code,
            self.seq,
            &self.at,
            &self.actor_id,
            &self.actor_role,
            &self.actor_unit,
            &self.action,
            &self.from_step,
            &self.to_step,
            self.from_status,
            self.to_status,
            &self.note,
            &self.payload_json,
        ))
        .expect("tuples of strings and integers serialise");
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(canonical.as_bytes());
        hex::encode(hasher.finalize())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainBreak {
    #[error("event {seq} should be number {expected} of the chain")]
    Gap { seq: i64, expected: i64 },
    #[error("event {seq} does not link to the event before it")]
    Unlinked { seq: i64 },
    #[error("event {seq} was altered: its hash does not match its content")]
    Altered { seq: i64 },
}

/// Checks a dossier's whole chain, in order. Returns the number of events verified.
pub fn verify_chain(events: &[EventRecord]) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_string();
    for (index, event) in events.iter().enumerate() {
        let expected = index as i64 + 1;
        if event.seq != expected {
            return Err(ChainBreak::Gap {
                seq: event.seq,
                expected,
            });
        }
        if event.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: event.seq });
        }
        if event.compute_hash() != event.hash {
            return Err(ChainBreak::Altered { seq: event.seq });
        }
        prev = event.hash.clone();
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<EventRecord> {
        let mut events = Vec::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let mut event = EventRecord {
                dossier_code: "X-260213-0001".into(),
                seq,
                at: "2026-02-13T09:00:00+07:00".into(),
                actor_id: "officer".into(),
                actor_role: "officer".into(),
                actor_unit: "xuan-hoa".into(),
                action: format!("action-{seq}"),
                from_step: None,
                to_step: "review".into(),
                from_status: None,
                to_status: 4,
                note: String::new(),
                payload_json: "{}".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            event.hash = event.compute_hash();
            prev = event.hash.clone();
            events.push(event);
        }
        events
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(4)), Ok(4));
    }

    #[test]
    fn edited_note_is_detected() {
        let mut events = chain(4);
        events[1].note = "changed".into();
        assert_eq!(verify_chain(&events), Err(ChainBreak::Altered { seq: 2 }));
    }

    #[test]
    fn removed_event_is_detected() {
        let mut events = chain(4);
        events.remove(2);
        assert_eq!(
            verify_chain(&events),
            Err(ChainBreak::Gap {
                seq: 4,
                expected: 3
            })
        );
    }
}
