//! What every contract version converts the same way.
//!
//! The contract versions differ in a few records (0.2.0 changed `fee`); the rest has the
//! same shape in each, but the generated Rust types are distinct per version. Each
//! version module invokes [`shared_conversions!`] after its `bindgen!`, so the
//! conversions below are compiled once per version against that version's `wit` types,
//! and adds the conversions of the records that differ (`fee_from_wit`).

/// The conversions between a contract version's generated types and `crate::domain`
/// that do not differ between versions, plus the host side of the imports (`log`,
/// `settings`, `calendar`), which delegate to [`super::super::PluginCtx`].
///
/// Expects in scope: the version's `wit` types module, its generated `motcua` module,
/// `Malformed`, `domain`, `PluginCtx`, and a `fee_from_wit` of its own.
macro_rules! shared_conversions {
    () => {
pub(crate) fn date_to_wit(date: NaiveDate) -> wit::Date {
    wit::Date {
        year: date.year(),
        month: date.month() as u8,
        day: date.day() as u8,
    }
}

pub(crate) fn date_from_wit(date: wit::Date) -> Result<NaiveDate, Malformed> {
    NaiveDate::from_ymd_opt(date.year, u32::from(date.month), u32::from(date.day)).ok_or_else(
        || {
            Malformed(format!(
                "{}-{}-{} is not a calendar date",
                date.year, date.month, date.day
            ))
        },
    )
}

pub(crate) fn datetime_to_wit(at: NaiveDateTime) -> wit::Datetime {
    wit::Datetime {
        date: date_to_wit(at.date()),
        hour: at.hour() as u8,
        minute: at.minute() as u8,
        second: at.second() as u8,
    }
}

fn status_from_wit(status: wit::Status) -> domain::Status {
    use domain::Status as S;
    match status {
        wit::Status::Submitted => S::Submitted,
        wit::Status::Received => S::Received,
        wit::Status::Refused => S::Refused,
        wit::Status::Processing => S::Processing,
        wit::Status::SupplementRequested => S::SupplementRequested,
        wit::Status::AwaitingPayment => S::AwaitingPayment,
        wit::Status::WithdrawalRequested => S::WithdrawalRequested,
        wit::Status::Stopped => S::Stopped,
        wit::Status::Settled => S::Settled,
        wit::Status::Returned => S::Returned,
    }
}

fn status_to_wit(status: domain::Status) -> wit::Status {
    use domain::Status as S;
    match status {
        S::Submitted => wit::Status::Submitted,
        S::Received => wit::Status::Received,
        S::Refused => wit::Status::Refused,
        S::Processing => wit::Status::Processing,
        S::SupplementRequested => wit::Status::SupplementRequested,
        S::AwaitingPayment => wit::Status::AwaitingPayment,
        S::WithdrawalRequested => wit::Status::WithdrawalRequested,
        S::Stopped => wit::Status::Stopped,
        S::Settled => wit::Status::Settled,
        S::Returned => wit::Status::Returned,
    }
}

fn role_from_wit(role: wit::Role) -> domain::Role {
    match role {
        wit::Role::Citizen => domain::Role::Citizen,
        wit::Role::Officer => domain::Role::Officer,
        wit::Role::Specialist => domain::Role::Specialist,
        wit::Role::Leader => domain::Role::Leader,
        wit::Role::Admin => domain::Role::Admin,
        wit::Role::Publisher => domain::Role::Publisher,
    }
}

fn role_to_wit(role: domain::Role) -> wit::Role {
    match role {
        domain::Role::Citizen => wit::Role::Citizen,
        domain::Role::Officer => wit::Role::Officer,
        domain::Role::Specialist => wit::Role::Specialist,
        domain::Role::Leader => wit::Role::Leader,
        domain::Role::Admin => wit::Role::Admin,
        domain::Role::Publisher => wit::Role::Publisher,
    }
}

fn channel_to_wit(channel: domain::Channel) -> wit::Channel {
    match channel {
        domain::Channel::Online => wit::Channel::Online,
        domain::Channel::InPerson => wit::Channel::InPerson,
        domain::Channel::Postal => wit::Channel::Postal,
    }
}

fn processing_time_from_wit(time: wit::ProcessingTime) -> domain::ProcessingTime {
    match time {
        wit::ProcessingTime::SameDay => domain::ProcessingTime::SameDay,
        wit::ProcessingTime::WorkingDays(days) => domain::ProcessingTime::WorkingDays(days),
    }
}

fn applicant_to_wit(applicant: &domain::Applicant) -> wit::Applicant {
    wit::Applicant {
        full_name: applicant.full_name.clone(),
        citizen_id: applicant.citizen_id.clone(),
        phone: applicant.phone.clone(),
        email: applicant.email.clone(),
        address: applicant.address.clone(),
    }
}

fn document_to_wit(document: &domain::Document) -> wit::Document {
    wit::Document {
        kind: document.kind.clone(),
        name: document.name.clone(),
        sha256: document.sha256.clone(),
        size: document.size,
        digitized: document.digitized,
    }
}

fn result_to_wit(result: &domain::ResultDocument) -> wit::ResultDocument {
    wit::ResultDocument {
        kind: result.kind.clone(),
        name: result.name.clone(),
        number: result.number.clone(),
        digitized: result.digitized,
    }
}

fn result_from_wit(result: wit::ResultDocument) -> domain::ResultDocument {
    domain::ResultDocument {
        kind: result.kind,
        name: result.name,
        number: result.number,
        digitized: result.digitized,
        // A plugin names a result; the file is the host's to attach.
        file: None,
    }
}

fn parse_json(what: &str, text: &str) -> Result<serde_json::Value, Malformed> {
    serde_json::from_str(text)
        .map_err(|error| Malformed(format!("{what} is not valid JSON: {error}")))
}

pub(crate) fn procedure_info_from_wit(
    info: wit::ProcedureInfo,
) -> Result<domain::ProcedureInfo, Malformed> {
    Ok(domain::ProcedureInfo {
        form_schema: parse_json("form-schema", &info.form_schema)?,
        settings_schema: parse_json("settings-schema", &info.settings_schema)?,
        code: info.code,
        name: info.name,
        field: info.field,
        level: match info.level {
            wit::Level::Commune => domain::Level::Commune,
            wit::Level::Province => domain::Level::Province,
        },
        processing_time: processing_time_from_wit(info.processing_time),
        fees: info
            .fees
            .into_iter()
            .map(fee_from_wit)
            .collect::<Result<_, _>>()?,
        documents: info
            .documents
            .into_iter()
            .map(|requirement| domain::DocumentRequirement {
                id: requirement.id,
                name: requirement.name,
                required: requirement.required,
                options: requirement
                    .options
                    .into_iter()
                    .map(|option| domain::DocumentOption {
                        kind: option.kind,
                        name: option.name,
                    })
                    .collect(),
            })
            .collect(),
        steps: info
            .steps
            .into_iter()
            .map(|step| domain::StepSpec {
                id: step.id,
                name: step.name,
                status: status_from_wit(step.status),
                actions: step
                    .actions
                    .into_iter()
                    .map(|action| domain::ActionSpec {
                        name: action.name,
                        label: action.label,
                        roles: action.roles.into_iter().map(role_from_wit).collect(),
                    })
                    .collect(),
            })
            .collect(),
        initial_step: info.initial_step,
        legal_basis: info.legal_basis,
        plugin_version: info.plugin_version,
        variant_of: info.variant_of,
    })
}

/// The bytes `check` hands the plugin beyond fixed-size fields, as the input cap
/// counts them: the form and the documents' metadata.
pub(crate) fn submission_size(input: &wit::Submission) -> usize {
    input.form_json.len() + documents_size(&input.documents)
}

/// The bytes `decide` hands the plugin beyond fixed-size fields: the form, the
/// documents' metadata, the command's payload and note.
pub(crate) fn decide_size(dossier: &wit::Dossier, command: &wit::Command) -> usize {
    dossier.form_json.len()
        + documents_size(&dossier.documents)
        + command.payload_json.len()
        + command.note.len()
}

fn documents_size(documents: &[wit::Document]) -> usize {
    documents
        .iter()
        .map(|d| d.kind.len() + d.name.len() + d.sha256.len() + 16)
        .sum()
}

pub(crate) fn submission_to_wit(submission: &domain::Submission) -> wit::Submission {
    wit::Submission {
        procedure_code: submission.procedure_code.clone(),
        receiving_unit: submission.receiving_unit.clone(),
        handling_unit: submission.handling_unit.clone(),
        channel: channel_to_wit(submission.channel),
        applicant: applicant_to_wit(&submission.applicant),
        form_json: submission.form.to_string(),
        documents: submission.documents.iter().map(document_to_wit).collect(),
        at: datetime_to_wit(submission.at),
    }
}

pub(crate) fn findings_from_wit(findings: Vec<wit::Finding>) -> Vec<domain::Finding> {
    findings
        .into_iter()
        .map(|finding| domain::Finding {
            target: finding.target,
            code: finding.code,
            message: finding.message,
            severity: match finding.severity {
                wit::Severity::Blocking => domain::Severity::Blocking,
                wit::Severity::Warning => domain::Severity::Warning,
            },
        })
        .collect()
}

pub(crate) fn dossier_to_wit(dossier: &domain::DossierSnapshot) -> wit::Dossier {
    wit::Dossier {
        code: dossier.code.clone(),
        procedure_code: dossier.procedure_code.clone(),
        receiving_unit: dossier.receiving_unit.clone(),
        handling_unit: dossier.handling_unit.clone(),
        channel: channel_to_wit(dossier.channel),
        applicant: applicant_to_wit(&dossier.applicant),
        form_json: dossier.form.to_string(),
        documents: dossier.documents.iter().map(document_to_wit).collect(),
        step: dossier.step.clone(),
        status: status_to_wit(dossier.status),
        submitted_at: datetime_to_wit(dossier.submitted_at),
        received_at: dossier.received_at.map(datetime_to_wit),
        due_date: dossier.due_date.map(date_to_wit),
        supplement_count: dossier.supplement_count,
        extension_count: dossier.extension_count,
        fees_requested_vnd: dossier.fees_requested_vnd,
        fees_paid_vnd: dossier.fees_paid_vnd,
        issued_result: dossier.result.as_ref().map(result_to_wit),
    }
}

pub(crate) fn command_to_wit(command: &domain::Command) -> wit::Command {
    wit::Command {
        action: command.action.clone(),
        actor: wit::Actor {
            id: command.actor.id.clone(),
            role: role_to_wit(command.actor.role),
            unit: command.actor.unit.clone(),
        },
        at: datetime_to_wit(command.at),
        note: command.note.clone(),
        payload_json: command.payload.to_string(),
    }
}

fn effect_from_wit(effect: wit::Effect) -> Result<domain::Effect, Malformed> {
    use domain::Effect as E;
    Ok(match effect {
        wit::Effect::StartClock(time) => E::StartClock {
            processing_time: processing_time_from_wit(time),
        },
        wit::Effect::RequestSupplement(items) => E::RequestSupplement {
            items: items
                .into_iter()
                .map(|item| domain::MissingItem {
                    target: item.target,
                    message: item.message,
                })
                .collect(),
        },
        wit::Effect::ExtendDue(extension) => E::ExtendDue {
            new_due_date: date_from_wit(extension.new_due_date)?,
            reason: extension.reason,
        },
        wit::Effect::RequestFee(fee) => E::RequestFee {
            code: fee.code,
            amount_vnd: fee.amount_vnd,
            reason: fee.reason,
        },
        wit::Effect::RecordPayment(payment) => E::RecordPayment {
            amount_vnd: payment.amount_vnd,
            online: payment.online,
            receipt: payment.receipt,
        },
        wit::Effect::IssueResult(result) => E::IssueResult {
            result: result_from_wit(result),
        },
        wit::Effect::NotifyApplicant(message) => E::NotifyApplicant { message },
    })
}

pub(crate) fn decision_from_wit(
    answer: Result<wit::Decision, wit::Refusal>,
) -> Result<Result<domain::Decision, domain::Refusal>, Malformed> {
    match answer {
        Ok(decision) => Ok(Ok(domain::Decision {
            next_step: decision.next_step,
            status: status_from_wit(decision.status),
            effects: decision
                .effects
                .into_iter()
                .map(effect_from_wit)
                .collect::<Result<_, _>>()?,
            note: decision.note,
        })),
        Err(refusal) => Ok(Err(domain::Refusal {
            code: refusal.code,
            message: refusal.message,
        })),
    }
}

impl self::motcua::procedure::types::Host for PluginCtx {}

impl self::motcua::procedure::log::Host for PluginCtx {
    fn log(
        &mut self,
        level: self::motcua::procedure::log::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use self::motcua::procedure::log::Level;
        self.log_line(
            match level {
                Level::Debug => tracing::Level::DEBUG,
                Level::Info => tracing::Level::INFO,
                Level::Warn => tracing::Level::WARN,
                Level::Error => tracing::Level::ERROR,
            },
            &message,
        );
        Ok(())
    }
}

impl self::motcua::procedure::settings::Host for PluginCtx {
    fn get(&mut self) -> wasmtime::Result<String> {
        Ok(self.settings_json().to_string())
    }
}

impl self::motcua::procedure::calendar::Host for PluginCtx {
    fn is_working_day(&mut self, day: wit::Date) -> wasmtime::Result<bool> {
        let day = calendar_date(date_from_wit(day), "calendar.is-working-day")?;
        Ok(self.calendar().is_working_day(day))
    }

    fn add_working_days(&mut self, start: wit::Date, days: u32) -> wasmtime::Result<wit::Date> {
        let start = calendar_date(date_from_wit(start), "calendar.add-working-days")?;
        if days > 3_650 {
            wasmtime::bail!(
                "calendar.add-working-days: {days} working days is beyond any statutory time"
            );
        }
        Ok(date_to_wit(self.calendar().add_working_days(start, days)))
    }
}
    };
}
