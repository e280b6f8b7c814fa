//! The host's own domain types.
//!
//! Plugins speak WIT; the database speaks SQL; the API speaks JSON. Everything in
//! between speaks these types. `runtime::bindings` converts WIT values into them and
//! back, explicitly, so no generated type leaks past the runtime.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The ten national canonical statuses (sync codes 1..=10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Commune,
    Province,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Commune => "commune",
            Level::Province => "province",
        }
    }
}

/// What a unit is. The province sits at the root; its departments (*sở*) handle
/// province-level procedures, its wards (*phường*) and communes (*xã*) the
/// commune-level ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A fee or charge the applicant owes, with how its amount is computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Fee {
    pub code: String,
    pub name: String,
    /// The amount when it does not depend on the form; null when the schedule computes
    /// it from the form (quote it with `POST /api/v1/procedures/{code}/fees/quote`).
    pub amount_vnd: Option<u64>,
    pub schedule: crate::fees::FeeSchedule,
    pub note: String,
}

impl Fee {
    pub fn new(
        code: String,
        name: String,
        schedule: crate::fees::FeeSchedule,
        note: String,
    ) -> Fee {
        Fee {
            code,
            name,
            amount_vnd: schedule.fixed_amount(),
            schedule,
            note,
        }
    }
}

/// Descriptions stored before fee schedules existed hold only `amount_vnd`: they read
/// as a flat schedule of that amount.
impl<'de> Deserialize<'de> for Fee {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fee, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            code: String,
            name: String,
            #[serde(default)]
            amount_vnd: Option<u64>,
            #[serde(default)]
            schedule: Option<crate::fees::FeeSchedule>,
            note: String,
        }
        let stored = Stored::deserialize(deserializer)?;
        let schedule = match (stored.schedule, stored.amount_vnd) {
            (Some(schedule), _) => schedule,
            (None, Some(amount)) => crate::fees::FeeSchedule::flat(amount),
            (None, None) => {
                return Err(serde::de::Error::custom(
                    "a fee needs a schedule or an amount_vnd",
                ));
            }
        };
        Ok(Fee::new(stored.code, stored.name, schedule, stored.note))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentOption {
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentRequirement {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub options: Vec<DocumentOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionSpec {
    pub name: String,
    pub label: String,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepSpec {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub actions: Vec<ActionSpec>,
}

/// A procedure as its plugin describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcedureInfo {
    pub code: String,
    pub name: String,
    pub field: String,
    pub level: Level,
    pub processing_time: ProcessingTime,
    pub fees: Vec<Fee>,
    pub documents: Vec<DocumentRequirement>,
    /// JSON Schema of the application form, parsed.
    #[schema(value_type = Object)]
    pub form_schema: serde_json::Value,
    /// JSON Schema of the per-unit settings, parsed.
    #[schema(value_type = Object)]
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
        self.check_names()?;
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

impl ProcedureInfo {
    /// Every identifier the host stores, compares or puts in URLs (step ids, action
    /// names, document ids and kinds, fee codes) is a [`check_id`]; every text people
    /// read (names, labels, notes, legal basis) is a [`check_label`]. The first
    /// offender is named by its field, e.g. `steps[1].actions[0].name`.
    /// Every identifier the build declares is safe to store, match and put in a URL.
    /// Checked on every load: an identifier that is not is unusable, whenever it came.
    fn check_names(&self) -> Result<(), String> {
        check_id("initial_step", &self.initial_step)?;
        for (i, fee) in self.fees.iter().enumerate() {
            check_id(&format!("fees[{i}].code"), &fee.code)?;
            fee.schedule.validate(&format!("fees[{i}].schedule"))?;
        }
        for (i, document) in self.documents.iter().enumerate() {
            check_id(&format!("documents[{i}].id"), &document.id)?;
            for (j, option) in document.options.iter().enumerate() {
                check_id(&format!("documents[{i}].options[{j}].kind"), &option.kind)?;
            }
        }
        for (i, step) in self.steps.iter().enumerate() {
            check_id(&format!("steps[{i}].id"), &step.id)?;
            for (j, action) in step.actions.iter().enumerate() {
                check_id(&format!("steps[{i}].actions[{j}].name"), &action.name)?;
            }
        }
        Ok(())
    }

    /// Every name and label shows as what it says: no control or invisible characters.
    /// Checked when a build is published, not when a stored build is loaded: a build
    /// already serving dossiers stays loadable after an upgrade tightens this rule
    /// (its labels are only ever displayed).
    pub fn check_labels(&self) -> Result<(), String> {
        check_label("name", &self.name)?;
        check_label("field", &self.field)?;
        for (i, fee) in self.fees.iter().enumerate() {
            check_label(&format!("fees[{i}].name"), &fee.name)?;
            check_label(&format!("fees[{i}].note"), &fee.note)?;
            for quantity in fee.schedule.quantities() {
                check_label(&format!("fees[{i}].schedule unit"), &quantity.unit)?;
            }
            for (j, exemption) in fee.schedule.exemptions.iter().enumerate() {
                check_label(&format!("fees[{i}].schedule.exemptions[{j}]"), exemption)?;
            }
        }
        for (i, document) in self.documents.iter().enumerate() {
            check_label(&format!("documents[{i}].name"), &document.name)?;
            for (j, option) in document.options.iter().enumerate() {
                check_label(&format!("documents[{i}].options[{j}].name"), &option.name)?;
            }
        }
        for (i, step) in self.steps.iter().enumerate() {
            check_label(&format!("steps[{i}].name"), &step.name)?;
            for (j, action) in step.actions.iter().enumerate() {
                check_label(&format!("steps[{i}].actions[{j}].label"), &action.label)?;
            }
        }
        for (i, basis) in self.legal_basis.iter().enumerate() {
            check_label(&format!("legal_basis[{i}]"), basis)?;
        }
        Ok(())
    }
}

/// The longest identifier a plugin may declare.
pub const MAX_ID_BYTES: usize = 64;
/// The longest name or label a plugin may declare, in characters.
pub const MAX_LABEL_CHARS: usize = 1024;

/// An identifier: 1 to 64 ASCII letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit. Identifiers are matched byte for byte, stored, and appear in URLs
/// and CSV exports, so no character may look like another or like nothing.
pub fn check_id(field: &str, value: &str) -> Result<(), String> {
    let starts_well = value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let fine = starts_well
        && value.len() <= MAX_ID_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fine {
        return Ok(());
    }
    let offender = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
    let why = match offender {
        Some(c) => format!("has {}", describe_char(c)),
        None if value.is_empty() => "is empty".to_string(),
        None if value.len() > MAX_ID_BYTES => format!("is longer than {MAX_ID_BYTES} bytes"),
        None => "must start with a letter or a digit".to_string(),
    };
    Err(format!(
        "{field} `{}` {why}; identifiers are 1 to {MAX_ID_BYTES} ASCII letters, digits, `-`, `_` and `.`",
        value.escape_debug()
    ))
}

/// Text people read: any letters (Vietnamese with its diacritics, precomposed or
/// combining), digits, punctuation, symbols and the plain space, up to 1024
/// characters; never a control character, a format character (zero-width spaces and
/// joiners, bidirectional controls, the byte-order mark, soft hyphens), a line or
/// paragraph separator, a private-use or unassigned code point, a space other than
/// U+0020, or a character that renders as nothing (Hangul fillers, the braille blank,
/// the combining grapheme joiner, variation selectors).
pub fn check_label(field: &str, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_LABEL_CHARS {
        return Err(format!(
            "{field} is longer than {MAX_LABEL_CHARS} characters"
        ));
    }
    match value.chars().find(|c| invisible(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{field} `{}` has {}; names and labels may not hold control or invisible characters",
            value.escape_debug(),
            describe_char(c)
        )),
    }
}

/// Whether a character is a control, format, separator (other than the plain
/// space), private-use or unassigned code point, or one known to render as nothing.
fn invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    match c.general_category() {
        G::Control
        | G::Format
        | G::LineSeparator
        | G::ParagraphSeparator
        | G::PrivateUse
        | G::Surrogate
        | G::Unassigned => true,
        G::SpaceSeparator => c != ' ',
        _ => matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0100}'..='\u{E01EF}'
        ),
    }
}

/// `the character U+200B (format character)`, for messages.
fn describe_char(c: char) -> String {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    let kind = match c.general_category() {
        G::Control => "control character",
        _ if c.is_ascii() => "character outside the identifier set",
        G::Format => "invisible format character",
        G::LineSeparator | G::ParagraphSeparator => "line or paragraph separator",
        G::SpaceSeparator => "space other than U+0020",
        G::PrivateUse => "private-use character",
        G::Unassigned => "unassigned code point",
        _ if invisible(c) => "character that renders as nothing",
        _ => "non-ASCII character",
    };
    format!("the character U+{:04X} ({kind})", c as u32)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Metadata of one document component. `digitized` is the host's to say: true once
/// the component's file is stored (docs/decisions/0018-documents.md); what a client
/// sends in it is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub kind: String,
    pub name: String,
    pub sha256: String,
    pub size: u64,
    #[serde(default)]
    pub digitized: bool,
    /// The type recognised from the stored file's bytes; host-side only, plugins see
    /// the metadata of contract 0.1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// A file the host stored for a dossier, as recorded on the dossier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub stored_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Blocking,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultDocument {
    pub kind: String,
    pub name: String,
    pub number: String,
    /// True once the result's file is stored (the host's to say, like a component's).
    pub digitized: bool,
    /// The electronic result, once attached by the handling unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<StoredFile>,
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[cfg(test)]
mod tests {
    use super::{check_id, check_label};

    #[test]
    fn identifiers_are_a_safe_ascii_set() {
        for fine in ["submitted", "site-inspection", "fee_2", "v1.2", "1.001193"] {
            assert!(check_id("id", fine).is_ok(), "{fine}");
        }
        for (bad, why) in [
            ("", "is empty"),
            ("re\u{0}view", "U+0000 (control character)"),
            ("re\u{200B}view", "U+200B (invisible format character)"),
            ("review\u{202E}", "U+202E (invisible format character)"),
            ("xét-duyệt", "U+00E9 (non-ASCII character)"),
            ("two words", "U+0020 (character outside the identifier set)"),
            ("-leading", "must start with a letter or a digit"),
        ] {
            let error = check_id("steps[1].id", bad).unwrap_err();
            assert!(
                error.starts_with("steps[1].id") && error.contains(why),
                "{bad:?}: {error}"
            );
        }
        assert!(check_id("id", &"a".repeat(65)).is_err());
    }

    #[test]
    fn labels_take_vietnamese_but_nothing_invisible() {
        for fine in [
            "Tiếp nhận hồ sơ",
            "Nghị định 123/2015/NĐ-CP, Điều 4 (“bản sao”)",
            // Decomposed: a base letter and combining diacritics.
            "Tie\u{0302}\u{0301}p nha\u{0323}\u{0302}n",
            "",
        ] {
            assert!(check_label("label", fine).is_ok(), "{fine:?}");
        }
        for bad in [
            "Tiếp\u{200B}nhận",
            "Ký\u{202E}duyệt",
            "line\nbreak",
            "tab\there",
            "soft\u{00AD}hyphen",
            "bom\u{FEFF}",
            "nbsp\u{00A0}space",
            "hangul\u{3164}filler",
            "private\u{E000}use",
            "line\u{2028}separator",
            "variation\u{FE0F}",
        ] {
            let error = check_label("steps[0].actions[0].label", bad).unwrap_err();
            assert!(error.starts_with("steps[0].actions[0].label"), "{error}");
        }
        assert!(check_label("name", &"ă".repeat(1025)).is_err());
    }
}
