//! What a replay found, event by event, and how it reads in a terminal.

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Match,
    Mismatch,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Match => "match",
            Outcome::Mismatch => "mismatch",
        }
    }
}

/// What produced an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The host filed the dossier after the plugin's `check`.
    Filing,
    /// A command decided by the plugin.
    Decision,
    /// A step the host took by its own rules.
    HostStep,
}

/// One field whose recorded value differs from the replayed one.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Difference {
    pub field: String,
    #[schema(value_type = Value)]
    pub recorded: Value,
    #[schema(value_type = Value)]
    pub replayed: Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventActor {
    pub id: String,
    pub role: String,
    pub unit: String,
}

/// One event, recorded against replayed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayedEvent {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub actor: EventActor,
    pub kind: EventKind,
    pub outcome: Outcome,
    /// What was compared (field names), so a reader sees what a match covers.
    pub checked: Vec<String>,
    pub differences: Vec<Difference>,
    /// What the replay had to assume, or could not check.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReplayBuild {
    pub sha256: String,
    pub plugin: String,
    pub version: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChainState {
    pub valid: bool,
    pub error: Option<String>,
}

/// The replay of one dossier.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Replay {
    pub code: String,
    pub procedure_code: String,
    pub build: ReplayBuild,
    /// `pinned` (the unit's settings at filing) or `current` (a dossier filed before
    /// settings were pinned: the unit's settings now).
    pub settings: &'static str,
    /// The holiday calendar the replay used: the one in force now.
    pub calendar: String,
    /// The hash chain's own verdict, for reference; the replay's verdict is about
    /// decisions.
    pub chain: ChainState,
    pub events: Vec<ReplayedEvent>,
    /// The stored dossier against the one the replay rebuilt.
    pub final_state: Vec<Difference>,
    pub verdict: Outcome,
    pub decisions: usize,
    pub host_steps: usize,
    pub mismatches: usize,
}

impl Replay {
    pub fn matches(&self) -> bool {
        self.verdict == Outcome::Match
    }

    /// The replay as a table for the terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "dossier {}  procedure {}  build {}@{} (sha256 {})\nsettings: {}; calendar: {}; hash chain: {}\n\n",
            self.code,
            self.procedure_code,
            self.build.plugin,
            self.build.version,
            self.build.sha256,
            self.settings,
            if self.calendar.is_empty() {
                "no table loaded"
            } else {
                &self.calendar
            },
            match &self.chain.error {
                None => "intact".to_string(),
                Some(error) => format!("BROKEN ({error})"),
            }
        );
        out.push_str(&format!(
            "{:>4}  {:<26} {:<36} {:<10} {}\n",
            "seq", "action", "actor", "kind", "result"
        ));
        for event in &self.events {
            let kind = match event.kind {
                EventKind::Filing => "filing",
                EventKind::Decision => "decision",
                EventKind::HostStep => "host step",
            };
            out.push_str(&format!(
                "{:>4}  {:<26} {:<36} {:<10} {}\n",
                event.seq,
                event.action,
                format!("{} ({})", event.actor.id, event.actor.role),
                kind,
                event.outcome.as_str().to_uppercase(),
            ));
            for difference in &event.differences {
                out.push_str(&format!(
                    "      {}: recorded {}, replayed {}\n",
                    difference.field, difference.recorded, difference.replayed
                ));
            }
            for note in &event.notes {
                out.push_str(&format!("      note: {note}\n"));
            }
        }
        if !self.final_state.is_empty() {
            out.push_str("\nthe stored dossier differs from the replayed one:\n");
            for difference in &self.final_state {
                out.push_str(&format!(
                    "      {}: stored {}, replayed {}\n",
                    difference.field, difference.recorded, difference.replayed
                ));
            }
        }
        out.push_str(&format!(
            "\nverdict: {} ({} decision(s) re-decided, {} host step(s) checked, {} mismatch(es))\n",
            self.verdict.as_str().to_uppercase(),
            self.decisions,
            self.host_steps,
            self.mismatches
        ));
        out
    }
}
