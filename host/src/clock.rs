//! The host's clock, in the province's civil time (UTC+7, no daylight saving).
//!
//! Plugins never read a clock: the engine reads this one and passes the time in
//! with each command. Tests and replays use [`Clock::manual`] to set the time.

use std::sync::{Arc, Mutex};

use chrono::{FixedOffset, NaiveDateTime, Utc};

/// UTC+7, Vietnam's civil time.
pub fn civil_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// RFC 3339 text of a civil time, as stored and served: `2026-02-13T09:30:00+07:00`.
pub fn format_civil(at: NaiveDateTime) -> String {
    format!("{}+07:00", at.format("%Y-%m-%dT%H:%M:%S"))
}

/// Parses RFC 3339 text (any offset) into civil time.
pub fn parse_civil(text: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&civil_offset()).naive_local())
}

#[derive(Clone)]
pub struct Clock {
    manual: Option<Arc<Mutex<NaiveDateTime>>>,
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `at` until [`Clock::set`] moves it.
    pub fn manual(at: NaiveDateTime) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a manual clock; the system clock ignores this.
    pub fn set(&self, at: NaiveDateTime) {
        if let Some(manual) = &self.manual {
            *manual.lock().expect("clock lock") = at;
        }
    }

    pub fn now(&self) -> NaiveDateTime {
        match &self.manual {
            Some(manual) => *manual.lock().expect("clock lock"),
            None => Utc::now().with_timezone(&civil_offset()).naive_local(),
        }
    }
}
