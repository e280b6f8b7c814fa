//! The verifier: recomputes every dossier's chain, checks every anchor's signature and
//! its link to the anchor before it, and compares every anchored head with the event
//! stored at that place in the chain.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::anchor::{
    AuditError, PublicKey, day_cutoff, parse_heads, sha256_hex, short_id, statement,
};
use super::{EventRecord, GENESIS, verify_chain};
use crate::store::Store;

/// How many events the verifier reads at a time.
const PAGE: i64 = 2000;

/// Something that no longer matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A dossier's events: the chain is broken, or an anchored event was changed or
    /// removed, or an event was added under a day already anchored.
    Dossier {
        code: String,
        seq: i64,
        what: String,
    },
    /// An anchor was changed, removed from between two others, or signed by a key the
    /// auditor did not give.
    Anchor { day: String, what: String },
}

/// A dossier's events newer than the last anchor: not covered by any signature yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unanchored {
    pub code: String,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// What the verifier found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub dossiers: usize,
    pub events: usize,
    pub anchors: usize,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    /// The ids of the keys the signatures were checked with; empty when none was given.
    pub key_ids: Vec<String>,
    pub problems: Vec<Problem>,
    pub unanchored: Vec<Unanchored>,
}

impl Report {
    /// No mismatch of any kind (signatures may not have been checked: see `key_ids`).
    pub fn consistent(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether every anchor's signature was checked.
    pub fn signatures_checked(&self) -> bool {
        self.anchors == 0 || !self.key_ids.is_empty()
    }

    /// The report as `motcua audit verify` prints it: one line per finding.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "checked {} dossier(s), {} event(s): every chain recomputed",
            self.dossiers, self.events
        );
        match (&self.first_day, &self.last_day) {
            (Some(first), Some(last)) => {
                let _ = writeln!(
                    out,
                    "{} anchor(s), {first} through {last}; {}",
                    self.anchors,
                    if self.key_ids.is_empty() {
                        "signatures NOT checked: no public key given".to_string()
                    } else {
                        let ids: Vec<&str> = self.key_ids.iter().map(|id| short_id(id)).collect();
                        format!("signatures checked with key(s) {}", ids.join(", "))
                    }
                );
            }
            _ => {
                let _ = writeln!(out, "no anchors yet: nothing is signed");
            }
        }
        for problem in &self.problems {
            match problem {
                Problem::Dossier { code, seq, what } => {
                    let _ = writeln!(out, "MISMATCH dossier {code} event {seq}: {what}");
                }
                Problem::Anchor { day, what } => {
                    let _ = writeln!(out, "MISMATCH anchor {day}: {what}");
                }
            }
        }
        for unanchored in &self.unanchored {
            let _ = writeln!(
                out,
                "not yet anchored: dossier {} events {}..{}",
                unanchored.code, unanchored.first_seq, unanchored.last_seq
            );
        }
        if !self.consistent() {
            let _ = writeln!(
                out,
                "FAILED: {} mismatch(es) in the audit trail",
                self.problems.len()
            );
        } else if !self.signatures_checked() {
            let _ = writeln!(
                out,
                "INCOMPLETE: the chains and anchored heads match, but without the public key \
                 the anchors themselves could have been rewritten"
            );
        } else {
            let _ = writeln!(
                out,
                "verified: every anchored event matches; {} dossier(s) have events after the last anchor",
                self.unanchored.len()
            );
        }
        out
    }
}

/// An anchored head, with the day of the anchor that named it.
struct Anchored {
    seq: i64,
    hash: String,
    day: String,
}

/// Checks the whole audit trail against the anchors, with `keys` (any of them may
/// have signed an anchor; none given leaves the signatures unchecked).
pub async fn verify(store: &Store, keys: &[PublicKey]) -> Result<Report, AuditError> {
    let mut report = Report {
        key_ids: keys.iter().map(|key| key.id().to_string()).collect(),
        ..Report::default()
    };
    let anchors = store.audit_anchors().await?;
    report.anchors = anchors.len();
    report.first_day = anchors.first().map(|anchor| anchor.day.clone());
    report.last_day = anchors.last().map(|anchor| anchor.day.clone());
    let last_cutoff = anchors.last().map(|anchor| anchor.cutoff.clone());

    let mut anchored: BTreeMap<String, Vec<Anchored>> = BTreeMap::new();
    let mut previous: Option<(String, String, String)> = None; // (day, digest, cutoff)
    for anchor in &anchors {
        let mut problem = |what: String| {
            report.problems.push(Problem::Anchor {
                day: anchor.day.clone(),
                what,
            })
        };
        let statement = statement(anchor);
        let digest = sha256_hex(statement.as_bytes());
        if digest != anchor.digest {
            problem("its fields do not match its digest: it was changed after it was made".into());
        }
        match keys.iter().find(|key| key.id() == anchor.key_id) {
            Some(key) if !key.verifies(&statement, &anchor.signature) => {
                problem("its signature does not verify: it was changed after it was signed".into())
            }
            None if !keys.is_empty() => problem(format!(
                "it is signed by key {}, which is not among the public keys given",
                short_id(&anchor.key_id)
            )),
            _ => {}
        }
        let (expected_prev, expected_since) = match &previous {
            Some((_, digest, cutoff)) => (digest.clone(), Some(cutoff.clone())),
            None => (GENESIS.to_string(), None),
        };
        if anchor.prev_digest != expected_prev {
            problem(match &previous {
                Some((day, _, _)) => format!(
                    "it does not follow the anchor of {day}: an anchor between them was removed, or one was changed"
                ),
                None => {
                    "it names a previous anchor that is not there: an earlier anchor was removed"
                        .into()
                }
            });
        }
        if anchor.since != expected_since {
            problem("its period does not start where the previous anchor's ends".into());
        }
        let cutoff = chrono::NaiveDate::parse_from_str(&anchor.day, "%Y-%m-%d")
            .ok()
            .map(day_cutoff);
        if cutoff.as_deref() != Some(anchor.cutoff.as_str()) {
            problem("its cutoff is not the end of its day".into());
        }
        if sha256_hex(anchor.heads_json.as_bytes()) != anchor.heads_digest {
            problem("its list of chain heads does not match the signed digest".into());
        }
        match parse_heads(&anchor.heads_json) {
            Some(heads) => {
                if heads.len() as i64 != anchor.heads {
                    problem("its number of chain heads does not match its list".into());
                }
                for head in heads {
                    anchored
                        .entry(head.dossier_code)
                        .or_default()
                        .push(Anchored {
                            seq: head.seq,
                            hash: head.hash,
                            day: anchor.day.clone(),
                        });
                }
            }
            None => problem("its list of chain heads is not readable".into()),
        }
        previous = Some((anchor.day.clone(), digest, anchor.cutoff.clone()));
    }

    // Every event, a dossier at a time.
    let mut dossier: Vec<EventRecord> = Vec::new();
    let mut after: Option<(String, i64)> = None;
    loop {
        let page = store
            .events_page(after.as_ref().map(|(c, s)| (c.as_str(), *s)), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.dossier_code.clone(), last.seq));
        for event in page {
            if dossier
                .first()
                .is_some_and(|first| first.dossier_code != event.dossier_code)
            {
                check_dossier(&dossier, &mut anchored, last_cutoff.as_deref(), &mut report);
                dossier.clear();
            }
            dossier.push(event);
        }
    }
    if !dossier.is_empty() {
        check_dossier(&dossier, &mut anchored, last_cutoff.as_deref(), &mut report);
    }
    // Anchored dossiers with no events left at all.
    for (code, heads) in anchored {
        if let Some(head) = heads.iter().max_by_key(|head| head.seq) {
            report.problems.push(Problem::Dossier {
                code,
                seq: head.seq,
                what: format!(
                    "the dossier's events are gone; the anchor of {} names event {}",
                    head.day, head.seq
                ),
            });
        }
    }
    Ok(report)
}

/// Checks one dossier's events (in seq order) against its chain and its anchored heads.
fn check_dossier(
    events: &[EventRecord],
    anchored: &mut BTreeMap<String, Vec<Anchored>>,
    last_cutoff: Option<&str>,
    report: &mut Report,
) {
    let code = events[0].dossier_code.clone();
    report.dossiers += 1;
    report.events += events.len();
    let mut problem = |seq: i64, what: String| {
        report.problems.push(Problem::Dossier {
            code: code.clone(),
            seq,
            what,
        })
    };
    if let Err(broken) = verify_chain(events) {
        let seq = match &broken {
            super::ChainBreak::Gap { seq, .. }
            | super::ChainBreak::Unlinked { seq }
            | super::ChainBreak::Altered { seq } => *seq,
        };
        problem(seq, broken.to_string());
    }
    let heads = anchored.remove(&code).unwrap_or_default();
    let mut covered = 0;
    for head in &heads {
        covered = covered.max(head.seq);
        match events.iter().find(|event| event.seq == head.seq) {
            None => problem(
                head.seq,
                format!("is missing; the anchor of {} names it", head.day),
            ),
            Some(event) if event.hash != head.hash => problem(
                head.seq,
                format!(
                    "does not match the anchor of {}: it, or an event before it, was changed after it was anchored",
                    head.day
                ),
            ),
            Some(_) => {}
        }
    }
    let newer: Vec<&EventRecord> = events.iter().filter(|event| event.seq > covered).collect();
    let mut pending = Vec::new();
    for event in newer {
        match last_cutoff {
            Some(cutoff) if event.at.as_str() < cutoff => problem(
                event.seq,
                format!(
                    "is dated {}, within a day already anchored, but no anchor covers it: it was added afterwards",
                    event.at
                ),
            ),
            _ => pending.push(event.seq),
        }
    }
    if let (Some(first), Some(last)) = (pending.first(), pending.last()) {
        report.unanchored.push(Unanchored {
            code: code.clone(),
            first_seq: *first,
            last_seq: *last,
        });
    }
}
