//! The shapes of the answers the handlers build by hand (`json!`), for the OpenAPI
//! document. They are never built: each one describes, field by field, what its handler
//! writes. Most are closed (`additionalProperties: false`, from `deny_unknown_fields`),
//! so a field added to or dropped from a handler's answer without its shape here breaks
//! `tests/tests/openapi.rs` and the schemathesis run of `.ci/run`, which validate real
//! answers against these schemas. Types the handlers serialise as they are (the
//! reports, the replay, the domain's types) derive their schemas where they are defined.
#![allow(dead_code)]

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::StatusView;
use crate::domain::{Applicant, Channel, Finding, MissingItem, StoredFile};

// ---- dossiers ------------------------------------------------------------------------------

/// A dossier just filed: its code, where it stands, and the citizen's tracking secret
/// (shown this once).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filed {
    code: String,
    status: StatusView,
    /// The build's initial step.
    step: String,
    tracking_secret: String,
    /// `/api/v1/track/{code}?secret=...`
    tracking_url: String,
    /// Warnings only: blocking findings refuse the filing (422 `findings`).
    findings: Vec<Finding>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcedureRef {
    code: String,
    /// The build's name for it; null when the build is not loaded on this host.
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildRef {
    sha256: String,
    /// Null when the build is not loaded on this host.
    version: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepRef {
    id: String,
    /// The build's name for the step (or the host's closing step's).
    name: Option<String>,
}

/// The due date with what it takes to read it (docs/decisions/0011-deadline-keeping.md).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Due {
    /// The promised date (YYYY-MM-DD), moved once by an apology.
    date: Option<String>,
    /// The date lateness is judged against.
    statutory_date: Option<String>,
    /// Counted across a year with no holiday table.
    provisional: bool,
    clock: Clock,
    /// Negative when overdue; null while the clock does not run.
    working_days_left: Option<i64>,
    extended: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Clock {
    NotStarted,
    Running,
    Paused,
    StoppedForSupplement,
    Stopped,
}

/// A declared component, with where its stored file is read.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentView {
    kind: String,
    name: String,
    sha256: String,
    size: u64,
    /// True once its file is stored.
    digitized: bool,
    /// The type recognised from the stored file's bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    /// `/api/v1/dossiers/{code}/documents/{sha256}` once digitized.
    download: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fees {
    requested_vnd: i64,
    paid_vnd: i64,
    paid_online: bool,
}

/// The result the handling unit issued.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResultView {
    kind: String,
    name: String,
    number: String,
    digitized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<StoredFile>,
    /// `/api/v1/dossiers/{code}/result` once its file is attached.
    download: Option<String>,
}

/// One event of the dossier's hash-chained history.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Event {
    seq: i64,
    at: String,
    actor: HistoryActor,
    action: String,
    from_step: Option<String>,
    to_step: String,
    from_status: Option<i64>,
    to_status: i64,
    note: String,
    /// What the event recorded (the command's payload, the decision's effects).
    #[schema(value_type = Value)]
    payload: Value,
    prev_hash: String,
    hash: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryActor {
    id: String,
    role: String,
    unit: String,
}

/// An action the caller may take now.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AvailableAction {
    action: String,
    label: String,
}

/// The officers' view of a dossier; its `version` is also the `ETag`, and goes back as
/// `If-Match` with an action.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DossierView {
    code: String,
    procedure: ProcedureRef,
    build: BuildRef,
    receiving_unit: String,
    handling_unit: String,
    channel: Channel,
    applicant: Applicant,
    #[schema(value_type = Object)]
    form: Value,
    documents: Vec<DocumentView>,
    digitized: bool,
    step: StepRef,
    status: StatusView,
    submitted_at: String,
    received_at: Option<String>,
    clock_started_at: Option<String>,
    due_date: Option<String>,
    due: Due,
    supplement_count: i64,
    extension_count: i64,
    fees: Fees,
    result: Option<ResultView>,
    /// `very-satisfied`, `satisfied` or `dissatisfied`, once the citizen rated it.
    rating: Option<String>,
    settled_at: Option<String>,
    returned_at: Option<String>,
    version: i64,
    /// What the citizen is asked to supply, while the dossier waits for it (status 5).
    pending_supplement: Vec<MissingItem>,
    history: Vec<Event>,
    actions: Vec<AvailableAction>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackProcedure {
    code: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackFile {
    sha256: String,
    size: u64,
    content_type: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackResult {
    kind: String,
    name: String,
    file: Option<TrackFile>,
    /// Returned, with its electronic file.
    ready_to_download: bool,
    download: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackFees {
    requested_vnd: i64,
    paid_vnd: i64,
}

/// One status change, as the citizen sees it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackEvent {
    at: String,
    status: Option<StatusView>,
    step: String,
}

/// What the citizen sees of their dossier: no personal data, no internal notes.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrackView {
    code: String,
    procedure: TrackProcedure,
    handling_unit: String,
    status: StatusView,
    step: StepRef,
    submitted_at: String,
    received_at: Option<String>,
    due_date: Option<String>,
    due: Due,
    rating: Option<String>,
    result: Option<TrackResult>,
    fees: TrackFees,
    pending_supplement: Vec<MissingItem>,
    history: Vec<TrackEvent>,
    version: i64,
    actions: Vec<AvailableAction>,
}

/// The dossier after the action: the officers' view to staff, the tracking view to a
/// citizen.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum ActionAnswer {
    Staff(DossierView),
    Citizen(TrackView),
}

/// Whether the dossier's hash chain verifies: `head` when it does, `error` when not.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Audit {
    code: String,
    valid: bool,
    /// How many events the chain holds.
    events: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One page of a unit's inbox.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Inbox {
    unit: String,
    page: i64,
    per_page: i64,
    /// Dossiers matching the filters, on every page (kept counts, not a count of rows).
    total: i64,
    /// The token of the next page (`after=<next>`); null on the last page.
    next: Option<String>,
    items: Vec<InboxItem>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct InboxItem {
    code: String,
    procedure: String,
    step: String,
    status: StatusView,
    /// The applicant's name.
    applicant: String,
    channel: String,
    submitted_at: String,
    due_date: Option<String>,
    due_provisional: bool,
    /// Null while the clock does not run.
    working_days_left: Option<i64>,
    version: i64,
}

/// What a unit offers: each procedure as its plugin describes it, with the build in
/// force there, how the unit got it, and the unit's settings.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Offered {
    unit: String,
    procedures: Vec<OfferedProcedure>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct OfferedProcedure {
    #[serde(flatten)]
    info: crate::domain::ProcedureInfo,
    build: OfferedBuild,
    binding: OfferedBinding,
    #[schema(value_type = Value)]
    settings: Value,
    /// The local variants of the procedure published in the province, which the unit's
    /// admin may choose (`PUT /api/v1/units/{unit}/procedures/{code}` with `variant`).
    variants: Vec<OfferedVariant>,
    /// The department that handles a province-level procedure this counter receives
    /// (file with it as `handling_unit`); null for the unit's own procedures.
    handled_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferedVariant {
    /// The variant's code, `<procedure>/<variant name>`.
    code: String,
    name: String,
    version: String,
    sha256: String,
    /// Whether the unit uses this variant now.
    in_use: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferedBuild {
    sha256: String,
    version: String,
    /// The contract version the build targets: `0.1.0`, `0.2.0`.
    contract: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferedBinding {
    /// `default`, `pilot` or `variant`.
    source: String,
    province_default: bool,
    procedure: String,
}

// ---- documents -----------------------------------------------------------------------------

/// A file stored: 201 newly attached, 200 when the dossier already held it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Attached {
    sha256: String,
    size: u64,
    content_type: String,
    /// Staff only: the same content was already in the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    already_stored: Option<bool>,
    /// The components (their names) the file belongs to; absent for a result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<String>,
}

/// A file's bytes, as stored.
pub(crate) struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// Text: CSV tables and reports, OpenMetrics.
pub(crate) struct Text;

impl PartialSchema for Text {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::String).into()
    }
}

impl ToSchema for Text {}

/// An OpenAPI document.
pub(crate) struct OpenApiDocument;

impl PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("openapi", ObjectBuilder::new().schema_type(Type::String))
            .required("openapi")
            .into()
    }
}

impl ToSchema for OpenApiDocument {}

// ---- registry ------------------------------------------------------------------------------

/// A plugin build as the catalog shows it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Build {
    sha256: String,
    /// The plugin's code (a variant's is `<procedure>/<variant>`).
    plugin: String,
    /// The national procedure it counts under.
    procedure: String,
    variant_of: Option<String>,
    version: String,
    name: String,
    /// The component's size in bytes.
    size: u64,
}

/// A build published: 201 new, 200 the same bytes again.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Published {
    sha256: String,
    plugin: String,
    procedure: String,
    variant_of: Option<String>,
    version: String,
    /// The contract version the build targets: `0.1.0`, `0.2.0`.
    contract: String,
    name: String,
    size: u64,
    created: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    plugins: Vec<CatalogEntry>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogEntry {
    sha256: String,
    plugin: String,
    procedure: String,
    variant_of: Option<String>,
    version: String,
    /// The contract version the build targets: `0.1.0`, `0.2.0`.
    contract: String,
    name: String,
    size: u64,
    published_by: String,
    published_at: String,
    province_default: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolloutCreated {
    rollout: i64,
    /// The units the rollout moved.
    units: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolledBack {
    rolled_back: i64,
    /// The sha256 of the build the rollout had put in force.
    build: String,
    scope: String,
    units: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rollouts {
    procedure: String,
    rollouts: Vec<Rollout>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rollout {
    id: i64,
    build: String,
    /// `pilot` or `all`.
    scope: String,
    units: Vec<String>,
    by: String,
    at: String,
    rolled_back_at: Option<String>,
}

/// A unit's binding of a procedure after the change.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitProcedure {
    unit: String,
    procedure: String,
    enabled: bool,
    source: String,
    build: Option<Build>,
    #[schema(value_type = Value)]
    settings: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cutoff {
    unit: String,
    /// "HH:MM"
    cutoff: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryEvents {
    events: Vec<RegistryEvent>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryEvent {
    at: String,
    actor: RegistryActor,
    action: String,
    procedure: Option<String>,
    unit: Option<String>,
    #[schema(value_type = Value)]
    before: Value,
    #[schema(value_type = Value)]
    after: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryActor {
    id: String,
    role: String,
}

// ---- units and accounts --------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Unit {
    code: String,
    name: String,
    kind: crate::domain::UnitKind,
    /// The agency's e-ID, the first part of its dossiers' codes.
    agency_id: String,
    parent: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Units {
    units: Vec<Unit>,
}

/// The unit as now stored: 201 created, 200 updated or unchanged.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitWritten {
    code: String,
    name: String,
    kind: crate::domain::UnitKind,
    agency_id: String,
    parent: Option<String>,
    outcome: UnitOutcome,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UnitOutcome {
    Created,
    Updated,
    Unchanged,
}

/// A staff account; never its token.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Account {
    id: String,
    unit: String,
    role: crate::domain::Role,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    state: AccountState,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AccountState {
    Active,
    Expired,
    Revoked,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Accounts {
    unit: String,
    accounts: Vec<Account>,
}

/// The account created, with its token: shown this once, stored only as a hash.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountCreated {
    id: String,
    unit: String,
    role: crate::domain::Role,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    state: AccountState,
    token: String,
}

/// The account revoked; `already_revoked` when it was before this request.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountRevoked {
    id: String,
    unit: String,
    role: crate::domain::Role,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    state: AccountState,
    already_revoked: bool,
}

// ---- calendar ------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarYears {
    years: Vec<CalendarYear>,
    /// This year and next, when they have no table.
    missing_years: Vec<i32>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarYear {
    year: i32,
    /// Exception days in the table.
    days: i64,
    sha256: String,
    loaded_at: String,
    loaded_by: String,
}

/// One year's table.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarTable {
    year: i32,
    sha256: String,
    loaded_at: String,
    loaded_by: String,
    days: Vec<CalendarDay>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarDay {
    /// YYYY-MM-DD
    date: String,
    kind: DayKind,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DayKind {
    Holiday,
    Workday,
}

/// A table loaded; `changed` false when the year already had this very table.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarLoaded {
    year: i32,
    days: u64,
    sha256: String,
    changed: bool,
    /// The year's table before, if it had one.
    before: Option<CalendarBefore>,
    /// The provisional due dates the new table moved.
    recomputed: Vec<Recomputed>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarBefore {
    sha256: String,
    days: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Recomputed {
    code: String,
    before: Option<String>,
    after: String,
}

// ---- reports and sync ----------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scoring {
    indicators: Vec<crate::reports::indicators::ScoringEntry>,
    max_points: i64,
}

/// One page of the national sync feed; send `next` back as `after` for the next one.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Feed {
    items: Vec<FeedItem>,
    next: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedItem {
    /// This change's place in the feed ("TX.ID").
    cursor: String,
    status: Option<StatusView>,
    previous_status: Option<StatusView>,
    dossier_code: String,
    seq: i64,
    agency_id: String,
    unit: String,
    procedure_code: String,
    channel: String,
    at: String,
}

// ---- health --------------------------------------------------------------------------------

/// The host is alive and its database answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Health {
    /// `ok`
    status: String,
    calendar: crate::workflow::calendar::CalendarHealth,
    /// Null when they could not be counted.
    demo_tokens: Option<DemoTokens>,
}

/// Whether accounts still hold the public demo tokens; how many, never which.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoTokens {
    present: bool,
    accounts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

/// Every stored build loads on this host.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ready {
    /// `ready`
    status: String,
    /// `ok`
    database: String,
    /// Empty when ready.
    unavailable_builds: Vec<Value>,
}
