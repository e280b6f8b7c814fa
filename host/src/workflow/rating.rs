//! The citizen's rating of a returned dossier: once per dossier, recorded as an event
//! in the dossier's chain. The satisfaction indicator counts it.

use serde_json::json;

use super::{Caller, Result, Workflow, WorkflowError, check_text, deadlines};
use crate::clock::format_civil;
use crate::domain::{Role, Status};
use crate::store::{DossierRecord, NewEvent, StoreError};

/// The three levels of the national satisfaction survey.
pub const RATINGS: [&str; 3] = ["very-satisfied", "satisfied", "dissatisfied"];

/// Whether a rating counts as satisfied for the satisfaction indicator.
pub fn is_satisfied(rating: &str) -> bool {
    matches!(rating, "very-satisfied" | "satisfied")
}

impl Workflow {
    /// Records the citizen's rating of their returned dossier. Only the holder of the
    /// tracking secret may rate, only once, and only after the result was returned.
    pub async fn rate(
        &self,
        caller: &Caller,
        code: &str,
        rating: &str,
        comment: &str,
    ) -> Result<DossierRecord> {
        if !matches!(caller, Caller::Citizen { .. }) {
            return Err(WorkflowError::Forbidden(
                "only the citizen holding the dossier's tracking secret rates it".into(),
            ));
        }
        if !RATINGS.contains(&rating) {
            return Err(WorkflowError::BadRequest(format!(
                "rating `{}` is not one of {}",
                rating.escape_debug(),
                RATINGS.join(", ")
            )));
        }
        if comment.len() > 2000 {
            return Err(WorkflowError::BadRequest(
                "comment is over 2000 bytes".into(),
            ));
        }
        check_text("comment", comment, true)?;
        let (record, _build, actor) = self.dossier_for(caller, code).await?;
        if record.status != Status::Returned {
            return Err(WorkflowError::BadRequest(format!(
                "a dossier is rated once its result is returned; this one is {}",
                record.status.as_str()
            )));
        }
        if record.facts.rating.is_some() {
            return Err(WorkflowError::BadRequest(
                "this dossier has already been rated".into(),
            ));
        }
        let now = self.now();
        let mut update = deadlines::unchanged(&record, now);
        update.facts.rating = Some(rating.to_string());
        let event = NewEvent {
            at: format_civil(now),
            actor_id: actor.id.clone(),
            actor_role: Role::Citizen.as_str().into(),
            actor_unit: record.handling_unit.clone(),
            action: "rate".into(),
            from_step: Some(record.step.clone()),
            to_step: record.step.clone(),
            from_status: Some(record.status.code()),
            to_status: record.status.code(),
            note: comment.to_string(),
            payload_json: json!({ "rating": rating }).to_string(),
        };
        match self.store.apply_action(&record, &update, &event).await {
            Ok(head) => Ok(record.updated(update, head)),
            Err(StoreError::VersionConflict { .. }) => Err(WorkflowError::BadRequest(
                "this dossier has already been rated".into(),
            )),
            Err(error) => Err(error.into()),
        }
    }
}
