//! The host's own domain types.
//!
//! Plugins speak WIT; the database speaks SQL; the API speaks JSON. Everything in
//! between speaks these types. `runtime::bindings` converts WIT values into them and
//! back, explicitly, so no generated type leaks past the runtime.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The ten national canonical statuses (sync codes 1..=10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Submitted,
    Received,
    Refused,
    Processing,
    SupplementRequested,
    AwaitingPayment,
    WithdrawalRequested,
    Stopped,
    Settled,
    Returned,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Received,
        Status::Refused,
        Status::Processing,
        Status::SupplementRequested,
        Status::AwaitingPayment,
        Status::WithdrawalRequested,
        Status::Stopped,
        Status::Settled,
        Status::Returned,
    ];

    /// The national sync code.
    pub fn code(self) -> i64 {
        Status::ALL
            .iter()
            .position(|status| *status == self)
            .expect("status listed in ALL") as i64
            + 1
    }

    pub fn from_code(code: i64) -> Option<Status> {
        usize::try_from(code)
            .ok()
            .and_then(|code| code.checked_sub(1))
            .and_then(|index| Status::ALL.get(index).copied())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Received => "received",
            Status::Refused => "refused",
            Status::Processing => "processing",
            Status::SupplementRequested => "supplement-requested",
            Status::AwaitingPayment => "awaiting-payment",
            Status::WithdrawalRequested => "withdrawal-requested",
            Status::Stopped => "stopped",
            Status::Settled => "settled",
            Status::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Who acts. Officers belong to a unit; a citizen acts on their own dossier only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Citizen,
    Officer,
    Specialist,
    Leader,
    Admin,
    Publisher,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Citizen,
        Role::Officer,
        Role::Specialist,
        Role::Leader,
        Role::Admin,
        Role::Publisher,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Specialist => "specialist",
            Role::Leader => "leader",
            Role::Admin => "admin",
            Role::Publisher => "publisher",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Commune,
    Province,
}

/// What a unit is. The province sits at the root; its departments (*sở*) handle
/// province-level procedures, its wards (*phường*) and communes (*xã*) the
/// commune-level ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    Province,
    Department,
    Ward,
    Commune,
}

impl UnitKind {
    pub const ALL: [UnitKind; 4] = [
        UnitKind::Province,
        UnitKind::Department,
        UnitKind::Ward,
        UnitKind::Commune,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Province => "province",
            UnitKind::Department => "department",
            UnitKind::Ward => "ward",
            UnitKind::Commune => "commune",
        }
    }

    pub fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The level of procedures a unit of this kind handles: departments the
    /// province-level ones, wards and communes the commune-level ones, the province
    /// itself none (it publishes and administers).
    pub fn handles(self) -> Option<Level> {
        match self {
            UnitKind::Province => None,
            UnitKind::Department => Some(Level::Province),
            UnitKind::Ward | UnitKind::Commune => Some(Level::Commune),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Online,
    InPerson,
    Postal,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::InPerson => "in-person",
            Channel::Postal => "postal",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        [Channel::Online, Channel::InPerson, Channel::Postal]
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

/// Statutory processing time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "days")]
pub enum ProcessingTime {
    SameDay,
    WorkingDays(u32),
}

impl ProcessingTime {
    pub fn working_days(self) -> u32 {
        match self {
            ProcessingTime::SameDay => 0,
            ProcessingTime::WorkingDays(days) => days,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub code: String,
    pub name: String,
    pub amount_vnd: u64,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentOption {
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRequirement {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub options: Vec<DocumentOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub name: String,
    pub label: String,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSpec {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub actions: Vec<ActionSpec>,
}

/// A procedure as its plugin describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureInfo {
    pub code: String,
    pub name: String,
    pub field: String,
    pub level: Level,
    pub processing_time: ProcessingTime,
    pub fees: Vec<Fee>,
    pub documents: Vec<DocumentRequirement>,
    /// JSON Schema of the application form, parsed.
    pub form_schema: serde_json::Value,
    /// JSON Schema of the per-unit settings, parsed.
    pub settings_schema: serde_json::Value,
    pub steps: Vec<StepSpec>,
    pub initial_step: String,
    pub legal_basis: Vec<String>,
    pub plugin_version: String,
    pub variant_of: Option<String>,
}

impl ProcedureInfo {
    /// The national procedure code dossiers of this build count under: the code
    /// itself, or for a local variant the procedure it varies.
    pub fn procedure_code(&self) -> &str {
        self.variant_of.as_deref().unwrap_or(&self.code)
    }

    pub fn step(&self, id: &str) -> Option<&StepSpec> {
        self.steps.iter().find(|step| step.id == id)
    }

    /// Checks the description for internal consistency: a host must be able to trust
    /// every step it will later validate decisions against.
    pub fn validate(&self) -> Result<(), String> {
        if self.code.trim().is_empty() {
            return Err("procedure code is empty".into());
        }
        if self.steps.is_empty() {
            return Err("no steps declared".into());
        }
        let mut seen = std::collections::HashSet::new();
        for step in &self.steps {
            if !seen.insert(step.id.as_str()) {
                return Err(format!("step `{}` declared twice", step.id));
            }
        }
        if semver::Version::parse(&self.plugin_version).is_err() {
            return Err(format!(
                "plugin version `{}` is not a semantic version (like 1.2.0)",
                self.plugin_version
            ));
        }
        match &self.variant_of {
            None if self.code.contains('/') => {
                return Err(format!(
                    "`{}` looks like a variant's code but the plugin names no procedure it varies",
                    self.code
                ));
            }
            Some(base) => {
                let Some(suffix) = self.code.strip_prefix(&format!("{base}/")) else {
                    return Err(format!(
                        "a variant of {base} must be coded `{base}/<variant name>`, not `{}`",
                        self.code
                    ));
                };
                if suffix.is_empty()
                    || !suffix
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(format!(
                        "variant name `{suffix}` must be lower-case letters, digits and dashes"
                    ));
                }
            }
            None => {}
        }
        if !self
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'/'))
        {
            return Err(format!(
                "procedure code `{}` has characters other than letters, digits, `.`, `-`, `/`",
                self.code
            ));
        }
        match self.step(&self.initial_step) {
            None => {
                return Err(format!(
                    "initial step `{}` is not declared",
                    self.initial_step
                ));
            }
            Some(step) if step.status != Status::Submitted => {
                return Err(format!(
                    "initial step `{}` must have status submitted",
                    self.initial_step
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub full_name: String,
    pub citizen_id: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// Metadata of one document component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub kind: String,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    #[serde(default)]
    pub digitized: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Blocking,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub target: String,
    pub code: String,
    pub message: String,
    pub severity: Severity,
}

/// What an applicant files, as handed to `check`.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    pub procedure_code: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub documents: Vec<Document>,
    pub at: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDocument {
    pub kind: String,
    pub name: String,
    pub number: String,
    pub digitized: bool,
}

/// The dossier as a plugin sees it (and as the engine builds it from the store).
#[derive(Clone, Debug, PartialEq)]
pub struct DossierSnapshot {
    pub code: String,
    pub procedure_code: String,
    pub receiving_unit: String,
    pub handling_unit: String,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    pub documents: Vec<Document>,
    pub step: String,
    pub status: Status,
    pub submitted_at: NaiveDateTime,
    pub received_at: Option<NaiveDateTime>,
    pub due_date: Option<NaiveDate>,
    pub supplement_count: u32,
    pub extension_count: u32,
    pub fees_requested_vnd: u64,
    pub fees_paid_vnd: u64,
    pub result: Option<ResultDocument>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    pub unit: String,
}

/// Who changed province data, as the registry's audit records it: staff acting
/// through the API, or an operator at the command line (who has the database itself
/// and so no token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    pub role: String,
}

impl From<&Actor> for Author {
    fn from(actor: &Actor) -> Author {
        Author {
            id: actor.id.clone(),
            role: actor.role.as_str().to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub action: String,
    pub actor: Actor,
    pub at: NaiveDateTime,
    pub note: String,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingItem {
    pub target: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "effect")]
pub enum Effect {
    StartClock {
        processing_time: ProcessingTime,
    },
    RequestSupplement {
        items: Vec<MissingItem>,
    },
    ExtendDue {
        new_due_date: NaiveDate,
        reason: String,
    },
    RequestFee {
        code: String,
        amount_vnd: u64,
        reason: String,
    },
    RecordPayment {
        amount_vnd: u64,
        online: bool,
        receipt: String,
    },
    IssueResult {
        result: ResultDocument,
    },
    NotifyApplicant {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub next_step: String,
    pub status: Status,
    pub effects: Vec<Effect>,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}
