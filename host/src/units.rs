//! Units as data the province manages: the province, its departments, wards and
//! communes, imported from a CSV file (`motcua units import`) or written one at a time
//! (`PUT /api/v1/units/{code}`).
//!
//! Both paths go through [`apply`]: every input is validated against the others and
//! against the database, *all* errors are collected (each naming its line and field),
//! and only a clean batch is compared with the database. Unchanged units cost nothing;
//! changed and new units, the bindings new units start with and one audit event per
//! unit are written in one store transaction. No SQL and no HTTP here.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::{Author, Level, ProcedureInfo, UnitKind};
use crate::store::{Binding, RegistryEvent, Store, StoreError, Unit, UnitChanges};

/// The header every unit file starts with, in this order.
pub const CSV_HEADER: [&str; 5] = ["code", "name", "kind", "agency_id", "parent"];

const MAX_CODE: usize = 64;
const MAX_NAME_BYTES: usize = 256;
const MAX_AGENCY_ID: usize = 32;

/// One problem with one field, on a line of a file (or in a request body: no line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, field {}: {}", self.field, self.message),
            None => write!(f, "field {}: {}", self.field, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnitsError {
    /// The input has errors; nothing was written.
    #[error("{}", render_errors(.0))]
    Invalid(Vec<FieldError>),
    /// Another request changed the same units meanwhile; nothing was written.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for UnitsError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => UnitsError::Conflict(message),
            other => UnitsError::Store(other),
        }
    }
}

fn render_errors(errors: &[FieldError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(
        "{} error(s), nothing was written:\n{}",
        errors.len(),
        lines.join("\n")
    )
}

/// One unit as given, before validation: a line of a file or a request body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitInput {
    pub line: Option<u64>,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub agency_id: String,
    /// Empty for the province.
    pub parent: String,
}

/// What writing one unit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// What an import did, as `motcua units import` prints it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} unchanged",
            self.created, self.updated, self.unchanged
        )
    }
}

/// A unit as the API and the audit show it.
pub fn unit_view(unit: &Unit) -> Value {
    json!({
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind.as_str(),
        "agency_id": unit.agency_id,
        "parent": unit.parent,
    })
}

// ---- the file ----------------------------------------------------------------------------

/// Reads a unit file: UTF-8 CSV (a byte-order mark is allowed), the header
/// `code,name,kind,agency_id,parent`, one unit a line; lines starting with `#` are
/// comments and blank lines are skipped. Fields are trimmed. Every line that cannot be
/// read is reported; nothing is validated yet.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<UnitInput>, UnitsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let mut errors = Vec::new();
    let mut inputs = Vec::new();
    let mut header_seen = false;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                // Reading from memory with flexible records fails only on a broken quote.
                let line = error
                    .position()
                    .map_or(0, |position| line_of(bytes, position.byte()));
                errors.push(FieldError {
                    line: Some(line),
                    field: "record".into(),
                    message: format!("cannot be read as CSV: {error}"),
                });
                break;
            }
        }
        let line = record
            .position()
            .map_or(0, |position| line_of(bytes, position.byte()));
        let mut fields = Vec::with_capacity(record.len());
        let mut readable = true;
        for (index, field) in record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(text) => fields.push(text.trim().to_string()),
                Err(_) => {
                    readable = false;
                    errors.push(FieldError {
                        line: Some(line),
                        field: CSV_HEADER.get(index).unwrap_or(&"record").to_string(),
                        message: "is not valid UTF-8; save the file as UTF-8".into(),
                    });
                }
            }
        }
        if !header_seen {
            header_seen = true;
            if readable && fields != CSV_HEADER {
                errors.push(FieldError {
                    line: Some(line),
                    field: "header".into(),
                    message: format!(
                        "the first line must be `{}`; found `{}`",
                        CSV_HEADER.join(","),
                        fields.join(",")
                    ),
                });
            }
            if !errors.is_empty() {
                // Without the header no column can be trusted; say only that.
                return Err(UnitsError::Invalid(errors));
            }
            continue;
        }
        if !readable {
            continue;
        }
        if fields.len() != CSV_HEADER.len() {
            let (field, message) = if fields.len() < CSV_HEADER.len() {
                (
                    CSV_HEADER[fields.len()],
                    format!(
                        "missing: the line has {} field(s), the header {} ({})",
                        fields.len(),
                        CSV_HEADER.len(),
                        CSV_HEADER.join(",")
                    ),
                )
            } else {
                (
                    "record",
                    format!(
                        "the line has {} fields, the header {} ({}); quote a name that holds a comma",
                        fields.len(),
                        CSV_HEADER.len(),
                        CSV_HEADER.join(",")
                    ),
                )
            };
            errors.push(FieldError {
                line: Some(line),
                field: field.into(),
                message,
            });
            continue;
        }
        let mut fields = fields.into_iter();
        let mut next = || fields.next().unwrap_or_default();
        inputs.push(UnitInput {
            line: Some(line),
            code: next(),
            name: next(),
            kind: next(),
            agency_id: next(),
            parent: next(),
        });
    }
    if !header_seen {
        errors.push(FieldError {
            line: Some(1),
            field: "header".into(),
            message: format!(
                "the file is empty; its first line must be `{}`",
                CSV_HEADER.join(",")
            ),
        });
    }
    if errors.is_empty() {
        Ok(inputs)
    } else {
        Err(UnitsError::Invalid(errors))
    }
}

/// The line a record starts on. The CSV reader reports where it started reading,
/// which is before any comment or blank lines it skipped on the way to the record.
fn line_of(bytes: &[u8], start: u64) -> u64 {
    let mut at = usize::try_from(start)
        .unwrap_or(bytes.len())
        .min(bytes.len());
    while at < bytes.len() {
        match bytes[at] {
            b'#' => {
                at = bytes[at..]
                    .iter()
                    .position(|&byte| byte == b'\n')
                    .map_or(bytes.len(), |newline| at + newline + 1);
            }
            b'\r' | b'\n' => at += 1,
            _ => break,
        }
    }
    1 + bytes[..at].iter().filter(|&&byte| byte == b'\n').count() as u64
}

// ---- validation ---------------------------------------------------------------------------

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_CODE
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_agency_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_AGENCY_ID
        && text
            .split('.')
            .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn kind_list() -> String {
    let kinds: Vec<&str> = UnitKind::ALL.iter().map(|kind| kind.as_str()).collect();
    kinds.join(", ")
}

/// Checks every input on its own, against the other inputs and against the units in
/// the database; returns the units to write, or every error found.
fn validate(inputs: &[UnitInput], existing: &[Unit]) -> Result<Vec<Unit>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |input: &UnitInput, field: &str, message: String| {
        errors.push(FieldError {
            line: input.line,
            field: field.to_string(),
            message,
        });
    };
    let in_database: HashMap<&str, &Unit> = existing
        .iter()
        .map(|unit| (unit.code.as_str(), unit))
        .collect();
    let database_province = existing.iter().find(|unit| unit.kind == UnitKind::Province);

    // Each input on its own.
    let mut kinds: Vec<Option<UnitKind>> = Vec::with_capacity(inputs.len());
    for input in inputs {
        if input.code.is_empty() {
            error(
                input,
                "code",
                "required: a unit code such as `xuan-hoa`".into(),
            );
        } else if !is_code(&input.code) {
            error(
                input,
                "code",
                format!(
                    "`{}` is not a unit code: use lower-case letters, digits and dashes, at most {MAX_CODE} (e.g. `xuan-hoa`)",
                    input.code.escape_debug()
                ),
            );
        }
        if input.name.is_empty() {
            error(
                input,
                "name",
                "required: the unit's name, e.g. `Phường Xuân Hòa`".into(),
            );
        } else if input.name.chars().any(char::is_control) {
            error(input, "name", "contains control characters".into());
        } else if input.name.len() > MAX_NAME_BYTES {
            error(
                input,
                "name",
                format!(
                    "is {} bytes long; at most {MAX_NAME_BYTES}",
                    input.name.len()
                ),
            );
        }
        let kind = UnitKind::parse(&input.kind);
        if kind.is_none() {
            let message = if input.kind.is_empty() {
                format!("required: one of {}", kind_list())
            } else {
                format!(
                    "`{}` is not a kind of unit; use one of {}",
                    input.kind.escape_debug(),
                    kind_list()
                )
            };
            error(input, "kind", message);
        }
        kinds.push(kind);
        if input.agency_id.is_empty() {
            error(
                input,
                "agency_id",
                "required: the agency e-ID used in dossier codes, e.g. `000.31.19.H43`".into(),
            );
        } else if !is_agency_id(&input.agency_id) {
            error(
                input,
                "agency_id",
                format!(
                    "`{}` is not an agency e-ID: groups of letters and digits joined by dots, at most {MAX_AGENCY_ID} characters (e.g. `000.31.19.H43`)",
                    input.agency_id.escape_debug()
                ),
            );
        }
    }

    // Against each other: a code and an agency e-ID appear once; one province.
    let mut first_code: HashMap<&str, &UnitInput> = HashMap::new();
    let mut first_agency: HashMap<&str, &UnitInput> = HashMap::new();
    let mut first_province: Option<&UnitInput> = None;
    let line_name = |input: &UnitInput| match input.line {
        Some(line) => format!("line {line}"),
        None => "another unit of this request".into(),
    };
    for (input, kind) in inputs.iter().zip(&kinds) {
        if !input.code.is_empty() {
            if let Some(first) = first_code.get(input.code.as_str()) {
                error(
                    input,
                    "code",
                    format!(
                        "`{}` is also on {}; each unit appears once",
                        input.code,
                        line_name(first)
                    ),
                );
            } else {
                first_code.insert(&input.code, input);
            }
        }
        if !input.agency_id.is_empty() {
            if let Some(first) = first_agency.get(input.agency_id.as_str()) {
                error(
                    input,
                    "agency_id",
                    format!(
                        "`{}` is also the agency e-ID of `{}` on {}; each unit has its own",
                        input.agency_id,
                        first.code,
                        line_name(first)
                    ),
                );
            } else {
                first_agency.insert(&input.agency_id, input);
            }
            // Dossier codes start with the agency e-ID: it names one unit only.
            if let Some(holder) = existing
                .iter()
                .find(|unit| unit.agency_id == input.agency_id && unit.code != input.code)
            {
                error(
                    input,
                    "agency_id",
                    format!(
                        "`{}` is the agency e-ID of unit `{}`; each unit has its own (to move it, first give `{}` another one)",
                        input.agency_id, holder.code, holder.code
                    ),
                );
            }
        }
        if *kind == Some(UnitKind::Province) {
            if let Some(first) = first_province {
                error(
                    input,
                    "kind",
                    format!(
                        "`{}` on {} is already the province; a database holds one province",
                        first.code,
                        line_name(first)
                    ),
                );
            } else {
                first_province = Some(input);
                if let Some(province) =
                    database_province.filter(|province| province.code != input.code)
                {
                    error(
                        input,
                        "kind",
                        format!(
                            "the province is `{}`; a database holds one province",
                            province.code
                        ),
                    );
                }
            }
        }
        // A unit keeps its level: its bindings and dossiers were made for it.
        if let (Some(kind), Some(stored)) = (kind, in_database.get(input.code.as_str())) {
            let same_level = stored.kind == *kind
                || (kind.handles() == Some(Level::Commune)
                    && stored.kind.handles() == Some(Level::Commune));
            if !same_level {
                error(
                    input,
                    "kind",
                    format!(
                        "`{}` is a {}; only a ward may become a commune and back (make a new unit with its own code instead)",
                        input.code,
                        stored.kind.as_str()
                    ),
                );
            }
        }
    }

    // Parents: the units of the request win over the database's.
    let mut known: HashMap<&str, Option<UnitKind>> = existing
        .iter()
        .map(|unit| (unit.code.as_str(), Some(unit.kind)))
        .collect();
    for (input, kind) in inputs.iter().zip(&kinds) {
        if first_code
            .get(input.code.as_str())
            .is_some_and(|first| std::ptr::eq(*first, input))
        {
            known.insert(&input.code, *kind);
        }
    }
    let province_code = first_province
        .map(|input| input.code.as_str())
        .or(database_province.map(|unit| unit.code.as_str()));
    for (input, kind) in inputs.iter().zip(&kinds) {
        let Some(kind) = kind else { continue };
        if *kind == UnitKind::Province {
            if !input.parent.is_empty() {
                error(
                    input,
                    "parent",
                    "the province has no parent; leave it empty".into(),
                );
            }
            continue;
        }
        let example = province_code.unwrap_or("phu-tho");
        if input.parent.is_empty() {
            error(
                input,
                "parent",
                format!(
                    "required: a {} belongs to the province (e.g. `{example}`)",
                    kind.as_str()
                ),
            );
            continue;
        }
        if input.parent == input.code {
            error(
                input,
                "parent",
                "a unit cannot be its own parent".to_string(),
            );
            continue;
        }
        match known.get(input.parent.as_str()) {
            None => error(
                input,
                "parent",
                format!(
                    "unknown parent `{}`: it is neither in the file nor in the database",
                    input.parent.escape_debug()
                ),
            ),
            // The parent's own line is wrong; that error is reported there.
            Some(None) => {}
            // Every other unit hangs from the province directly, so the units form a
            // tree of depth one and no chain of parents can loop.
            Some(Some(parent_kind)) if *parent_kind != UnitKind::Province => error(
                input,
                "parent",
                format!(
                    "`{}` is a {}; the parent of a {} is the province (e.g. `{example}`)",
                    input.parent,
                    parent_kind.as_str(),
                    kind.as_str()
                ),
            ),
            Some(Some(_)) => {}
        }
    }

    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(errors);
    }
    Ok(inputs
        .iter()
        .zip(kinds)
        .map(|(input, kind)| Unit {
            code: input.code.clone(),
            name: input.name.clone(),
            kind: kind.expect("validated"),
            parent: (!input.parent.is_empty()).then(|| input.parent.clone()),
            agency_id: input.agency_id.clone(),
            cutoff: in_database
                .get(input.code.as_str())
                .map_or_else(|| "15:00".to_string(), |unit| unit.cutoff.clone()),
        })
        .collect())
}

// ---- writing ------------------------------------------------------------------------------

/// Validates the inputs, compares them with the database and writes what changed in
/// one transaction. Returns each input's unit and what happened to it.
pub async fn apply(
    store: &Store,
    inputs: &[UnitInput],
    author: &Author,
    at: &str,
) -> Result<Vec<(Unit, Outcome)>, UnitsError> {
    let existing = store.units().await?;
    let units = validate(inputs, &existing).map_err(UnitsError::Invalid)?;
    let by_code: HashMap<&str, &Unit> = existing
        .iter()
        .map(|unit| (unit.code.as_str(), unit))
        .collect();
    let defaults = store.province_default_builds().await?;
    let mut levels = Vec::with_capacity(defaults.len());
    for (procedure, sha, info_json) in &defaults {
        let info: ProcedureInfo = serde_json::from_str(info_json).map_err(|error| {
            StoreError::Corrupt(format!("the described info of build {sha}: {error}"))
        })?;
        levels.push((procedure.clone(), sha.clone(), info.level));
    }

    let mut changes = UnitChanges {
        defaults_seen: defaults
            .iter()
            .map(|(procedure, sha, _)| (procedure.clone(), sha.clone()))
            .collect(),
        ..UnitChanges::default()
    };
    let mut outcomes = Vec::with_capacity(units.len());
    for unit in units {
        let event = |action: &str, before: Value, after: Value| RegistryEvent {
            at: at.to_string(),
            actor_id: author.id.clone(),
            actor_role: author.role.clone(),
            action: action.to_string(),
            procedure_code: None,
            unit: Some(unit.code.clone()),
            before,
            after,
        };
        match by_code.get(unit.code.as_str()) {
            Some(stored) if same_data(stored, &unit) => {
                outcomes.push((unit, Outcome::Unchanged));
            }
            Some(stored) => {
                changes
                    .events
                    .push(event("unit-update", unit_view(stored), unit_view(&unit)));
                changes.updated.push(((*stored).clone(), unit.clone()));
                outcomes.push((unit, Outcome::Updated));
            }
            None => {
                // A new unit offers at once what every unit of its kind offers by default.
                let bindings: Vec<Binding> = levels
                    .iter()
                    .filter(|(_, _, level)| unit.kind.handles() == Some(*level))
                    .map(|(procedure, sha, _)| Binding {
                        unit: unit.code.clone(),
                        procedure_code: procedure.clone(),
                        build_sha256: sha.clone(),
                        settings_json: "{}".into(),
                        enabled: true,
                        source: "default".into(),
                    })
                    .collect();
                let bound: Vec<Value> = bindings
                    .iter()
                    .map(|binding| json!({ "procedure": binding.procedure_code, "build": binding.build_sha256 }))
                    .collect();
                let mut after = unit_view(&unit);
                after["bindings"] = json!(bound);
                changes
                    .events
                    .push(event("unit-create", Value::Null, after));
                changes.bindings.extend(bindings);
                changes.created.push(unit.clone());
                outcomes.push((unit, Outcome::Created));
            }
        }
    }
    if changes.created.is_empty() && changes.updated.is_empty() {
        return Ok(outcomes);
    }
    // Parents first: the province before the units that hang from it.
    changes
        .created
        .sort_by_key(|unit| unit.kind != UnitKind::Province);
    store.apply_unit_changes(&changes).await?;
    Ok(outcomes)
}

fn same_data(a: &Unit, b: &Unit) -> bool {
    a.name == b.name && a.kind == b.kind && a.agency_id == b.agency_id && a.parent == b.parent
}

/// Imports a unit file (see [`parse_csv`]); a file with any error writes nothing.
pub async fn import_csv(
    store: &Store,
    bytes: &[u8],
    author: &Author,
    at: &str,
) -> Result<ImportSummary, UnitsError> {
    let inputs = parse_csv(bytes)?;
    let outcomes = apply(store, &inputs, author, at).await?;
    let mut summary = ImportSummary::default();
    for (_, outcome) in outcomes {
        match outcome {
            Outcome::Created => summary.created += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Unchanged => summary.unchanged += 1,
        }
    }
    Ok(summary)
}

/// Creates or changes one unit.
pub async fn put_unit(
    store: &Store,
    input: UnitInput,
    author: &Author,
    at: &str,
) -> Result<(Unit, Outcome), UnitsError> {
    let mut outcomes = apply(store, std::slice::from_ref(&input), author, at).await?;
    Ok(outcomes.pop().expect("one input, one outcome"))
}

/// The units as `motcua units list` prints them: one a line, aligned.
pub fn table(units: &[Unit]) -> String {
    let mut out = format!(
        "{:<26} {:<11} {:<16} {:<12} {}\n",
        "code", "kind", "agency_id", "parent", "name"
    );
    for unit in units {
        out.push_str(&format!(
            "{:<26} {:<11} {:<16} {:<12} {}\n",
            unit.code,
            unit.kind.as_str(),
            unit.agency_id,
            unit.parent.as_deref().unwrap_or("-"),
            unit.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(result: Result<Vec<UnitInput>, UnitsError>) -> Vec<FieldError> {
        match result {
            Err(UnitsError::Invalid(errors)) => errors,
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn lines_count_comments_blank_lines_and_quoted_newlines() {
        let file = "\u{feff}# Phú Thọ\ncode,name,kind,agency_id,parent\n# a comment\n\n\
                    phu-tho,Tỉnh Phú Thọ,province,000.00.00.H43,\n\
                    \"xuan-hoa\",\"Phường\nXuân Hòa\",ward,000.31.19.H43,phu-tho\n\
                    viet-tri,Phường Việt Trì,ward,000.30.19.H43,phu-tho\r\n";
        let inputs = parse_csv(file.as_bytes()).expect("parses");
        let lines: Vec<_> = inputs.iter().map(|input| input.line).collect();
        assert_eq!(lines, [Some(5), Some(6), Some(8)]);
        assert_eq!(inputs[0].parent, "");
        assert_eq!(inputs[2].parent, "phu-tho", "CRLF is trimmed");
    }

    #[test]
    fn a_wrong_header_is_the_only_error_reported() {
        let found = errors(parse_csv(b"code,name,kind\nx,y,z\n"));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "line 1, field header: the first line must be `code,name,kind,agency_id,parent`; found `code,name,kind`"
        );
        assert_eq!(errors(parse_csv(b""))[0].field, "header");
    }

    #[test]
    fn unreadable_lines_name_their_field() {
        let found = errors(parse_csv(
            b"code,name,kind,agency_id,parent\na,b\na,b,c,d,e,f\na,\xff,ward,1,p\n",
        ));
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(
            shown[0].starts_with("line 2, field kind: missing"),
            "{shown:?}"
        );
        assert!(shown[1].starts_with("line 3, field record: the line has 6 fields"));
        assert_eq!(
            shown[2],
            "line 4, field name: is not valid UTF-8; save the file as UTF-8"
        );
    }

    fn input(line: u64, fields: [&str; 5]) -> UnitInput {
        UnitInput {
            line: Some(line),
            code: fields[0].into(),
            name: fields[1].into(),
            kind: fields[2].into(),
            agency_id: fields[3].into(),
            parent: fields[4].into(),
        }
    }

    #[test]
    fn validation_collects_every_error_with_its_line_and_field() {
        let inputs = [
            input(
                2,
                ["phu-tho", "Tỉnh Phú Thọ", "province", "000.00.00.H43", ""],
            ),
            input(3, ["a", "", "town", "000.1.H43", "phu-tho"]),
            input(4, ["B", "Xã B", "commune", "000..H43", "phu-tho"]),
            input(5, ["c", "Xã C", "commune", "000.2.H43", "nowhere"]),
            input(6, ["a", "Xã A", "commune", "000.3.H43", "phu-tho"]),
            input(7, ["d", "Xã D", "commune", "000.3.H43", "c"]),
            input(8, ["e", "Tỉnh E", "province", "000.4.H43", ""]),
            input(9, ["f", "Xã F", "commune", "000.5.H43", "f"]),
            input(10, ["g", "Xã G", "commune", "000.6.H43", ""]),
        ];
        let found = validate(&inputs, &[]).expect_err("errors");
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        let expect = [
            "line 3, field name: required",
            "line 3, field kind: `town` is not a kind",
            "line 4, field code: `B` is not a unit code",
            "line 4, field agency_id: `000..H43` is not an agency e-ID",
            "line 5, field parent: unknown parent `nowhere`",
            "line 6, field code: `a` is also on line 3",
            "line 7, field agency_id: `000.3.H43` is also the agency e-ID of `a` on line 6",
            "line 7, field parent: `c` is a commune; the parent of a commune is the province",
            "line 8, field kind: `phu-tho` on line 2 is already the province",
            "line 9, field parent: a unit cannot be its own parent",
            "line 10, field parent: required",
        ];
        for prefix in expect {
            assert!(
                shown.iter().any(|line| line.starts_with(prefix)),
                "{prefix:?} not in {shown:#?}"
            );
        }
        assert_eq!(shown.len(), expect.len(), "{shown:#?}");
    }

    #[test]
    fn the_database_counts_for_parents_agency_ids_the_province_and_levels() {
        let stored = |code: &str, kind: UnitKind, agency: &str, parent: Option<&str>| Unit {
            code: code.into(),
            name: code.into(),
            kind,
            parent: parent.map(str::to_string),
            agency_id: agency.into(),
            cutoff: "16:00".into(),
        };
        let existing = [
            stored("phu-tho", UnitKind::Province, "000.00.00.H43", None),
            stored("xuan-hoa", UnitKind::Ward, "000.31.19.H43", Some("phu-tho")),
            stored(
                "so-tu-phap",
                UnitKind::Department,
                "000.00.01.H43",
                Some("phu-tho"),
            ),
        ];
        let inputs = [
            input(2, ["new", "Xã Mới", "commune", "000.31.19.H43", "phu-tho"]),
            input(3, ["other", "Tỉnh Khác", "province", "000.00.09.H43", ""]),
            input(
                4,
                [
                    "so-tu-phap",
                    "Sở Tư pháp",
                    "commune",
                    "000.00.01.H43",
                    "phu-tho",
                ],
            ),
        ];
        let found = validate(&inputs, &existing).expect_err("errors");
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:#?}");
        assert!(shown[0].contains("is the agency e-ID of unit `xuan-hoa`"));
        assert!(shown[1].contains("the province is `phu-tho`"));
        assert!(shown[2].contains("`so-tu-phap` is a department"));

        // A ward may become a commune; the parent may be in the database; the cut-off stays.
        let fine = [input(
            5,
            [
                "xuan-hoa",
                "Xã Xuân Hòa",
                "commune",
                "000.31.19.H43",
                "phu-tho",
            ],
        )];
        let units = validate(&fine, &existing).expect("valid");
        assert_eq!(units[0].kind, UnitKind::Commune);
        assert_eq!(units[0].cutoff, "16:00");
    }
}
