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
//! An entry also holds the dossier's documents when the action that left it changed
//! none (decision 0030, "Later"): documents change only together with an event (a
//! filing, an action that adds one or stores a component's file), so the documents
//! read at the head before such an action are the stored ones at the head after it.
//! An action that did change them leaves no documents in the entry, and the next read
//! reads them.
//!
//! Only the action's path reads or fills it. The views, the audit check and the replay
//! read the stored events: the audit and the replay exist to compare the store with
//! what it should hold.

use std::sync::{Arc, Mutex};

use hashlink::LruCache;

use crate::audit::EventRecord;
use crate::domain::Document;

/// How many dossiers' histories a host keeps: those of the last ones its officers
/// worked on. A history is a few kilobytes (ten to twenty events).
const CAPACITY: usize = 2_048;

/// What a host holds of one dossier, as of the last event of `history`.
#[derive(Clone)]
pub(super) struct Held {
    pub history: Arc<Vec<EventRecord>>,
    /// The documents as of the same event, when known to be the stored ones.
    pub documents: Option<Arc<Vec<Document>>>,
}

#[derive(Clone)]
pub(super) struct RecentHistories(Arc<Mutex<LruCache<String, Held>>>);

impl Default for RecentHistories {
    fn default() -> Self {
        RecentHistories(Arc::new(Mutex::new(LruCache::new(CAPACITY))))
    }
}

impl RecentHistories {
    /// What is held for `code`, if anything; its history's last event is the head it
    /// was held at.
    pub(super) fn get(&self, code: &str) -> Option<Held> {
        let mut cache = self.0.lock().expect("recent histories lock");
        cache.get(code).cloned()
    }

    /// Keeps `held` as `code`'s, replacing what was held. An empty history, or one
    /// whose head is not chained (a row written before heads were kept), is not kept.
    pub(super) fn put(&self, code: &str, held: Held) {
        if held.history.last().is_none_or(|head| head.hash.is_empty()) {
            return;
        }
        let mut cache = self.0.lock().expect("recent histories lock");
        cache.insert(code.to_string(), held);
    }
}
