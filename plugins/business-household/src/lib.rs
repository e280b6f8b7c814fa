//! Đăng ký thành lập hộ kinh doanh (registering a household business) at commune level,
//! national procedure 1.001612.
//!
//! The rules live in `business-household-rules` (re-exported here), which local
//! variants reuse; this crate exports them as the component, adding only the unit's
//! settings read through the host. Build it with `--features release-1-1` for release
//! 1.1.0 (2 working days instead of 3), a second build for rollout tests.

pub use business_household_rules::*;
use motcua_sdk::prelude::*;

/// The plugin as the host sees it.
pub struct BusinessHousehold;

impl Guest for BusinessHousehold {
    fn describe() -> ProcedureInfo {
        procedure_info()
    }

    fn check(submission: Submission) -> Vec<Finding> {
        check_submission(&submission)
    }

    fn decide(dossier: Dossier, command: Command) -> Result<Decision, Refusal> {
        decide_command(&dossier, &command, motcua_sdk::settings::<Settings>)
    }
}

motcua_sdk::export!(BusinessHousehold);

#[cfg(test)]
mod tests;
