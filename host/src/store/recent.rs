//! The histories of the dossiers this host acted on last, so that the read on the next
//! action's path need not rebuild a history the host already holds (an officer works a
//! dossier in a run of actions: received, then paid, assessed, approved).
//!
//! An entry is used only when the dossier row's head (`last_seq`, `last_hash`), read in
//! the same statement, is the entry's last event: the hash chain then makes the entry
//! exactly the stored history (every event's hash covers the one before it, and events
//! are append-only). A dossier another host acted on since has another head, and its
//! history is read again. Nothing is ever invalidated, and no host needs to be told.
//!
//! Only the action's path reads or fills it. The views, the audit check and the replay
//! read the stored events: the audit and the replay exist to compare the store with
//! what it should hold.

use std::sync::{Arc, Mutex};

use hashlink::LruCache;

use crate::audit::EventRecord;

/// How many dossiers' histories a host keeps: those of the last ones its officers
/// worked on. A history is a few kilobytes (ten to twenty events).
const CAPACITY: usize = 2_048;

#[derive(Clone)]
pub(super) struct RecentHistories(Arc<Mutex<LruCache<String, Arc<Vec<EventRecord>>>>>);

impl Default for RecentHistories {
    fn default() -> Self {
        RecentHistories(Arc::new(Mutex::new(LruCache::new(CAPACITY))))
    }
}

impl RecentHistories {
    /// The history held for `code`, if any; its last event is the head it was held at.
    pub(super) fn get(&self, code: &str) -> Option<Arc<Vec<EventRecord>>> {
        let mut cache = self.0.lock().expect("recent histories lock");
        cache.get(code).cloned()
    }

    /// Keeps `history` as `code`'s, replacing what was held. An empty history, or one
    /// whose head is not chained (a row written before heads were kept), is not kept.
    pub(super) fn put(&self, code: &str, history: Arc<Vec<EventRecord>>) {
        if history.last().is_none_or(|head| head.hash.is_empty()) {
            return;
        }
        let mut cache = self.0.lock().expect("recent histories lock");
        cache.insert(code.to_string(), history);
    }
}
