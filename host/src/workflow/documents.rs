//! The files of a dossier (docs/decisions/0018-documents.md): components declared by
//! their metadata at filing or with an action, their files uploaded afterwards by the
//! citizen or the handling unit; the electronic result attached by the handling unit's
//! specialist or leader; reading them back checked; and the digitization fact.
//!
//! The content is stored first (checked against the declared sha256 and size, its type
//! recognised from its bytes), then the dossier records it in one audited transaction.
//! A failure between the two leaves content nobody refers to, never a dossier pointing
//! at a file that is not there.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::json;

use super::{Caller, Result, Workflow, WorkflowError, check_text, deadlines};
use crate::clock::format_civil;
use crate::documents::{Body, ContentError, DocumentLimits, Expected, Fetched, Stored, is_sha256};
use crate::domain::{Actor, Document, ProcedureInfo, ResultDocument, Role, Status, StoredFile};
use crate::store::{DossierRecord, DossierUpdate, NewEvent, StoreError};

const MAX_DOCUMENTS: usize = 64;

/// The event of a component's file stored (the host's, not a plugin's).
pub const ATTACH_DOCUMENT_ACTION: &str = "attach-document";
/// The event of the result's file attached.
pub const ATTACH_RESULT_ACTION: &str = "attach-result";

/// How often recording a stored file is tried again when another request changed the
/// dossier in between (a file does not depend on the dossier's state).
const RECORD_ATTEMPTS: usize = 8;

/// What an upload did.
#[derive(Clone, Debug)]
pub struct Attached {
    pub file: StoredFile,
    /// The components (their names) the file belongs to; empty for a result.
    pub components: Vec<String>,
    /// The same content was already in the store (from this dossier or another).
    pub already_stored: bool,
    /// False when this dossier already held this file: nothing changed.
    pub newly_attached: bool,
}

/// Why a file request was refused, beyond the content store's own reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRefusal {
    /// 404: the dossier declares no component with this sha256.
    NotDeclared,
    /// 404: declared, but its file was never uploaded.
    NotStored,
    /// 404: the result has no file attached.
    ResultFileMissing,
    /// 409: no result has been issued yet.
    NoResult,
    /// 409: another file is attached as the result.
    ResultFileAttached,
    /// 409: the citizen reads the result once the dossier is returned.
    ResultNotReady,
    /// 413: a declared file is over the per-file cap.
    DocumentTooLarge { limit: u64 },
    /// 413: the dossier's files would add up over the per-dossier cap.
    DossierTooLarge { limit: u64 },
    /// 422: one sha256 declared with two sizes.
    SizeConflict,
    /// 409: the result was issued again while its file was being uploaded.
    ResultChanged,
    /// 411: the result's file was sent without its length.
    LengthRequired,
    /// 503: the dossier kept changing while the file was recorded (the file is stored;
    /// sending it again records it).
    Contended,
}

impl FileRefusal {
    /// The problem type's last segment.
    pub fn name(&self) -> &'static str {
        match self {
            FileRefusal::NotDeclared => "document-not-declared",
            FileRefusal::NotStored => "document-not-stored",
            FileRefusal::ResultFileMissing => "result-file-missing",
            FileRefusal::NoResult => "no-result",
            FileRefusal::ResultFileAttached => "result-file-attached",
            FileRefusal::ResultNotReady => "result-not-ready",
            FileRefusal::DocumentTooLarge { .. } => "document-too-large",
            FileRefusal::DossierTooLarge { .. } => "dossier-documents-too-large",
            FileRefusal::SizeConflict => "document-size-conflict",
            FileRefusal::ResultChanged => "result-changed",
            FileRefusal::LengthRequired => "length-required",
            FileRefusal::Contended => "busy",
        }
    }
}

fn refuse<T>(refusal: FileRefusal, message: String) -> Result<T> {
    Err(WorkflowError::File { refusal, message })
}

/// A dossier is digitized when at least one component has its stored file, every
/// required component of the procedure has one (a declared component of one of the
/// requirement's kinds), and, once a result is issued, the result has its file.
pub(crate) fn digitized<'a>(
    info: &ProcedureInfo,
    documents: impl IntoIterator<Item = &'a Document>,
    result: Option<&ResultDocument>,
) -> bool {
    let stored: Vec<&Document> = documents
        .into_iter()
        .filter(|document| document.digitized)
        .collect();
    let required_met = info
        .documents
        .iter()
        .filter(|requirement| requirement.required)
        .all(|requirement| {
            stored.iter().any(|document| {
                requirement
                    .options
                    .iter()
                    .any(|option| option.kind == document.kind)
            })
        });
    let result_met = result.is_none_or(|result| result.file.is_some());
    !stored.is_empty() && required_met && result_met
}

/// Checks declared components and makes their file state the host's: a client's
/// `digitized` is dropped, and a component whose content this dossier already holds
/// (`held`) is digitized at once. The sha256 is normalised to lowercase. Each file must
/// fit the per-file cap and the dossier's distinct files the per-dossier cap.
pub(crate) fn declare(
    limits: &DocumentLimits,
    held: &[Document],
    result: Option<&ResultDocument>,
    documents: &mut [Document],
) -> Result<()> {
    if documents.len() > MAX_DOCUMENTS {
        return Err(WorkflowError::BadRequest(format!(
            "at most {MAX_DOCUMENTS} documents per request"
        )));
    }
    for (index, document) in documents.iter_mut().enumerate() {
        if document.kind.trim().is_empty() || document.kind.len() > 128 {
            return Err(WorkflowError::BadRequest(format!(
                "documents[{index}].kind must be 1 to 128 characters"
            )));
        }
        if document.name.trim().is_empty() || document.name.len() > 512 {
            return Err(WorkflowError::BadRequest(format!(
                "documents[{index}].name must be 1 to 512 characters"
            )));
        }
        if document.sha256.len() != 64 || !document.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(WorkflowError::BadRequest(format!(
                "documents[{index}].sha256 must be 64 hexadecimal digits"
            )));
        }
        check_text(&format!("documents[{index}].kind"), &document.kind, false)?;
        check_text(&format!("documents[{index}].name"), &document.name, false)?;
        if document.size == 0 {
            return Err(WorkflowError::BadRequest(format!(
                "documents[{index}].size must be positive"
            )));
        }
        if document.size > limits.max_file_bytes {
            return refuse(
                FileRefusal::DocumentTooLarge {
                    limit: limits.max_file_bytes,
                },
                format!(
                    "documents[{index}] is declared as {} bytes; one file may be at most {} bytes",
                    document.size, limits.max_file_bytes
                ),
            );
        }
    }
    for (index, document) in documents.iter().enumerate() {
        let sha256 = document.sha256.to_ascii_lowercase();
        let other = held.iter().chain(documents[..index].iter()).find(|other| {
            other.sha256.eq_ignore_ascii_case(&sha256) && other.size != document.size
        });
        if let Some(other) = other {
            return refuse(
                FileRefusal::SizeConflict,
                format!(
                    "documents[{index}] declares file {sha256} as {} bytes, but it is declared as {} bytes already",
                    document.size, other.size
                ),
            );
        }
    }
    as_declared(held, documents);
    within_dossier_cap(
        limits,
        total_bytes(held.iter().chain(documents.iter()), result, None),
    )
}

/// Makes the file state of newly declared components the host's: the sha256 in
/// lowercase, digitized only when this dossier already holds that file (`held`), with
/// its content type. Filing and actions do it; the replay does it again.
pub(crate) fn as_declared(held: &[Document], documents: &mut [Document]) {
    for document in documents.iter_mut() {
        document.sha256.make_ascii_lowercase();
        let holder = held
            .iter()
            .find(|other| other.sha256 == document.sha256 && other.digitized);
        document.digitized = holder.is_some();
        document.content_type = holder.and_then(|other| other.content_type.clone());
    }
}

/// The bytes of a dossier's distinct files: its components, its result's file and one
/// more file about to be attached.
fn total_bytes<'a>(
    documents: impl Iterator<Item = &'a Document>,
    result: Option<&ResultDocument>,
    extra: Option<(&str, u64)>,
) -> u64 {
    let mut files: BTreeMap<&str, u64> = documents
        .map(|document| (document.sha256.as_str(), document.size))
        .collect();
    if let Some(file) = result.and_then(|result| result.file.as_ref()) {
        files.insert(&file.sha256, file.size);
    }
    if let Some((sha256, size)) = extra {
        files.insert(sha256, size);
    }
    files.values().sum()
}

/// Refuses a dossier whose distinct files would add up over the per-dossier cap.
fn within_dossier_cap(limits: &DocumentLimits, total: u64) -> Result<()> {
    if total <= limits.max_dossier_bytes {
        return Ok(());
    }
    refuse(
        FileRefusal::DossierTooLarge {
            limit: limits.max_dossier_bytes,
        },
        format!(
            "the dossier's files would add up to {total} bytes; one dossier may hold at most {} bytes",
            limits.max_dossier_bytes
        ),
    )
}

fn stored_file(stored: &Stored, at: &str) -> StoredFile {
    StoredFile {
        sha256: stored.sha256.clone(),
        size: stored.size,
        content_type: stored.content_type.to_string(),
        stored_at: at.to_string(),
    }
}

impl Workflow {
    /// Stores the file of the components of dossier `code` declared with `sha256`. The
    /// citizen (tracking secret) or staff of the handling unit may.
    pub async fn attach_component(
        &self,
        caller: &Caller,
        code: &str,
        sha256: &str,
        body: Body,
    ) -> Result<Attached> {
        let (record, build, actor) = self.dossier_for(caller, code).await?;
        let sha256 = sha256.to_ascii_lowercase();
        let declared: Vec<&Document> = record
            .documents
            .iter()
            .filter(|document| is_sha256(&sha256) && document.sha256 == sha256)
            .collect();
        let Some(first) = declared.first() else {
            return refuse(
                FileRefusal::NotDeclared,
                format!("dossier {code} declares no component with sha256 {sha256}"),
            );
        };
        let components: Vec<String> = declared.iter().map(|d| d.name.clone()).collect();
        if let Some(held) = declared.iter().find(|document| document.digitized) {
            return Ok(Attached {
                file: StoredFile {
                    sha256: sha256.clone(),
                    size: held.size,
                    content_type: held.content_type.clone().unwrap_or_default(),
                    stored_at: String::new(),
                },
                components,
                already_stored: true,
                newly_attached: false,
            });
        }
        let expected = Expected {
            sha256: sha256.clone(),
            size: first.size,
        };
        let stored = self.store_content(expected, body).await?;
        let file = stored_file(&stored, &format_civil(self.now()));
        let payload = json!({ "sha256": file.sha256, "size": file.size,
                              "content_type": file.content_type, "components": components });
        let newly_attached = self
            .record_file(
                code,
                &actor,
                ATTACH_DOCUMENT_ACTION,
                payload,
                |record, now| {
                    if record
                        .documents
                        .iter()
                        .any(|document| document.sha256 == sha256 && document.digitized)
                    {
                        return Ok(None); // another request recorded the same file meanwhile
                    }
                    let mut update = deadlines::unchanged(record, now);
                    update.stored_component = Some(StoredFile {
                        stored_at: format_civil(now),
                        ..file.clone()
                    });
                    let documents: Vec<Document> = record
                        .documents
                        .iter()
                        .cloned()
                        .map(|mut document| {
                            document.digitized |= document.sha256 == sha256;
                            document
                        })
                        .collect();
                    update.facts.digitized =
                        digitized(&build.info, &documents, update.result.as_ref());
                    Ok(Some(update))
                },
            )
            .await?;
        Ok(Attached {
            file,
            components,
            already_stored: stored.already_stored,
            newly_attached,
        })
    }

    /// Attaches the electronic result's file: a specialist or leader of the handling
    /// unit, once a result is issued; one file per result.
    pub async fn attach_result(
        &self,
        caller: &Caller,
        code: &str,
        sha256: &str,
        size: Option<u64>,
        body: Body,
    ) -> Result<Attached> {
        let (record, build, actor) = self.dossier_for(caller, code).await?;
        if !matches!(caller, Caller::Staff(_))
            || !matches!(actor.role, Role::Specialist | Role::Leader)
        {
            return Err(WorkflowError::Forbidden(
                "the result's file is attached by a specialist or leader of the handling unit"
                    .into(),
            ));
        }
        let sha256 = sha256.to_ascii_lowercase();
        if !is_sha256(&sha256) {
            return Err(WorkflowError::BadRequest(format!(
                "`{}` is not a sha256 (64 hexadecimal digits)",
                sha256.escape_debug()
            )));
        }
        let Some(result) = record.result.clone() else {
            return refuse(
                FileRefusal::NoResult,
                format!("dossier {code} has no result yet; its file is attached once it is issued"),
            );
        };
        if let Some(file) = &result.file {
            if file.sha256 == sha256 {
                return Ok(Attached {
                    file: file.clone(),
                    components: Vec::new(),
                    already_stored: true,
                    newly_attached: false,
                });
            }
            return refuse(
                FileRefusal::ResultFileAttached,
                format!(
                    "dossier {code}'s result already has its file {}; a result's file is not replaced",
                    file.sha256
                ),
            );
        }
        let Some(size) = size else {
            return refuse(
                FileRefusal::LengthRequired,
                "send the result's file with its Content-Length".into(),
            );
        };
        let limits = &self.document_limits;
        if size <= limits.max_file_bytes {
            // (A file over the per-file cap is refused by the content store, as such.)
            within_dossier_cap(
                limits,
                total_bytes(record.documents.iter(), None, Some((&sha256, size))),
            )?;
        }
        let stored = self
            .store_content(
                Expected {
                    sha256: sha256.clone(),
                    size,
                },
                body,
            )
            .await?;
        let file = stored_file(&stored, &format_civil(self.now()));
        let payload = json!({ "sha256": file.sha256, "size": file.size,
                              "content_type": file.content_type });
        let newly_attached = self
            .record_file(code, &actor, ATTACH_RESULT_ACTION, payload, |record, now| {
                let Some(current) = record.result.clone() else {
                    return refuse(FileRefusal::NoResult, format!("dossier {code} has no result"));
                };
                if (&current.kind, &current.name, &current.number)
                    != (&result.kind, &result.name, &result.number)
                {
                    return refuse(
                        FileRefusal::ResultChanged,
                        format!(
                            "dossier {code}'s result was issued again ({}) while its file was uploaded; attach the new result's file",
                            current.number
                        ),
                    );
                }
                match &current.file {
                    Some(held) if held.sha256 == sha256 => return Ok(None),
                    Some(_) => {
                        return refuse(
                            FileRefusal::ResultFileAttached,
                            format!("dossier {code}'s result already has its file"),
                        );
                    }
                    None => {}
                }
                let mut update = deadlines::unchanged(record, now);
                update.result = Some(ResultDocument {
                    digitized: true,
                    file: Some(StoredFile {
                        stored_at: format_civil(now),
                        ..file.clone()
                    }),
                    ..current
                });
                update.facts.digitized =
                    digitized(&build.info, &record.documents, update.result.as_ref());
                Ok(Some(update))
            })
            .await?;
        Ok(Attached {
            file,
            components: Vec::new(),
            already_stored: stored.already_stored,
            newly_attached,
        })
    }

    /// A component's file, checked against its sha256: staff of the handling unit.
    pub async fn component_content(
        &self,
        caller: &Caller,
        code: &str,
        sha256: &str,
    ) -> Result<(Document, Fetched)> {
        let (record, _build, _actor) = self.dossier_for(caller, code).await?;
        if !matches!(caller, Caller::Staff(_)) {
            return Err(WorkflowError::Forbidden(
                "components are read by the handling unit's staff; the citizen reads the result"
                    .into(),
            ));
        }
        let sha256 = sha256.to_ascii_lowercase();
        let Some(document) = record
            .documents
            .iter()
            .filter(|document| document.sha256 == sha256)
            .max_by_key(|document| document.digitized)
            .cloned()
        else {
            return refuse(
                FileRefusal::NotDeclared,
                format!("dossier {code} declares no component with sha256 {sha256}"),
            );
        };
        if !document.digitized {
            return refuse(
                FileRefusal::NotStored,
                format!("the file of `{}` has not been uploaded yet", document.name),
            );
        }
        let fetched = self
            .documents
            .fetch(&sha256)
            .await
            .map_err(WorkflowError::Content)?;
        Ok((document, fetched))
    }

    /// The result's file: the citizen once the dossier is returned, staff of the
    /// handling unit once it is attached.
    pub async fn result_content(
        &self,
        caller: &Caller,
        code: &str,
    ) -> Result<(ResultDocument, StoredFile, Fetched)> {
        let (record, _build, _actor) = self.dossier_for(caller, code).await?;
        let Some(result) = record.result.clone() else {
            return refuse(
                FileRefusal::ResultFileMissing,
                format!("dossier {code} has no result"),
            );
        };
        if matches!(caller, Caller::Citizen { .. }) && record.status != Status::Returned {
            return refuse(
                FileRefusal::ResultNotReady,
                format!(
                    "the result of dossier {code} is ready to download once it is returned; it is {}",
                    record.status.as_str()
                ),
            );
        }
        let Some(file) = result.file.clone() else {
            return refuse(
                FileRefusal::ResultFileMissing,
                format!("the result of dossier {code} has no electronic file"),
            );
        };
        let fetched = self
            .documents
            .fetch(&file.sha256)
            .await
            .map_err(WorkflowError::Content)?;
        Ok((result, file, fetched))
    }

    /// Stores content in its own task, so that a client going away mid-upload still
    /// ends in the upload's abort rather than a dropped future.
    async fn store_content(&self, expected: Expected, body: Body) -> Result<Stored> {
        let content = self.documents.clone();
        let limits = self.document_limits.clone();
        tokio::spawn(async move { content.put(&expected, &limits, body).await })
            .await
            .map_err(|error| {
                WorkflowError::Content(ContentError::Backend(format!("upload task: {error}")))
            })?
            .map_err(WorkflowError::Content)
    }

    /// Records a stored file on dossier `code` in one audited transaction: `change`
    /// makes the update from the dossier as it now is (`None`: the file is already
    /// recorded), tried again when another request changed the dossier in between.
    /// True when this call recorded it.
    async fn record_file(
        &self,
        code: &str,
        actor: &Actor,
        action: &str,
        mut payload: serde_json::Value,
        change: impl Fn(&DossierRecord, NaiveDateTime) -> Result<Option<DossierUpdate>>,
    ) -> Result<bool> {
        // The facts the event writes are compared by the replay.
        payload["host"] = json!({});
        for _ in 0..RECORD_ATTEMPTS {
            let record = self.reload(code).await?;
            let now = self.now();
            let Some(update) = change(&record, now)? else {
                return Ok(false);
            };
            let event = file_event(&record, actor, action, format_civil(now), payload.clone());
            match self.store.apply_action(&record, &update, &event).await {
                Ok(_) => return Ok(true),
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        refuse(
            FileRefusal::Contended,
            format!("dossier {code} kept changing while a file was recorded; send it again"),
        )
    }

    async fn reload(&self, code: &str) -> Result<DossierRecord> {
        self.store
            .dossier(code)
            .await?
            .ok_or_else(|| WorkflowError::DossierNotFound(code.to_string()))
    }
}

fn file_event(
    record: &DossierRecord,
    actor: &Actor,
    action: &str,
    at: String,
    payload: serde_json::Value,
) -> NewEvent {
    NewEvent {
        at,
        actor_id: actor.id.clone(),
        actor_role: actor.role.as_str().into(),
        actor_unit: record.handling_unit.clone(),
        action: action.into(),
        from_step: Some(record.step.clone()),
        to_step: record.step.clone(),
        from_status: Some(record.status.code()),
        to_status: record.status.code(),
        note: String::new(),
        payload_json: payload.to_string(),
    }
}
