//! The contract versions this host serves, side by side.
//!
//! One module per version ([`v0_1`], [`v0_2`]) is the only place that sees the types
//! generated from `wit/<version>`; each converts them explicitly into `crate::domain`
//! types, so a change of a contract shows up there as a compile error and nowhere else.
//! The conversions that do not differ between versions are written once, in
//! [`shared`], and compiled into each version module.
//!
//! A component says which version it targets through its imports (every plugin imports
//! the contract's `types` interface at least); [`Contract::of`] reads it, and the build
//! is linked and called through that version's bindings. The rest of the host sees only
//! [`Pre`], [`Instance`] and domain types.

#[macro_use]
mod shared;
pub mod v0_1;
pub mod v0_2;

use wasmtime::Engine;
use wasmtime::component::{Component, HasSelf, Linker};

use super::PluginCtx;
use crate::domain::{
    Command, Decision, DossierSnapshot, Finding, ProcedureInfo, Refusal, Submission,
};

/// A value a plugin produced that the host cannot accept.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// A contract version this host implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    V0_1,
    V0_2,
}

impl Contract {
    /// Every version, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// "0.2.0": as stored with a build and shown in the catalog.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// "motcua:procedure@0.2.0".
    pub fn package(self) -> String {
        format!("motcua:procedure@{}", self.version())
    }

    /// The imports a component of this version may have: the contract's interfaces,
    /// nothing else.
    pub fn granted_imports(self) -> [String; 4] {
        ["types", "log", "settings", "calendar"]
            .map(|interface| format!("motcua:procedure/{interface}@{}", self.version()))
    }

    /// The version of the contract a component targets, read from its imports; `None`
    /// when it imports none of the contract's interfaces.
    pub fn of(engine: &Engine, component: &Component) -> Option<Result<Contract, String>> {
        component
            .component_type()
            .imports(engine)
            .find_map(|(name, _)| {
                let (_, version) = name.strip_prefix("motcua:procedure/")?.split_once('@')?;
                Some(
                    Contract::ALL
                        .into_iter()
                        .find(|contract| contract.version() == version)
                        .ok_or_else(|| version.to_string()),
                )
            })
    }

    /// "motcua:procedure@0.1.0, motcua:procedure@0.2.0".
    pub fn supported() -> String {
        Contract::ALL.map(Contract::package).join(", ")
    }

    /// The submission in this contract version, and its size as the input cap counts it.
    pub fn check_input(self, submission: &Submission) -> (CheckInput, usize) {
        match self {
            Contract::V0_1 => {
                let input = v0_1::submission_to_wit(submission);
                let size = v0_1::submission_size(&input);
                (CheckInput::V0_1(input), size)
            }
            Contract::V0_2 => {
                let input = v0_2::submission_to_wit(submission);
                let size = v0_2::submission_size(&input);
                (CheckInput::V0_2(input), size)
            }
        }
    }

    /// The dossier and command in this contract version, and their size as the input
    /// cap counts it.
    pub fn decide_input(
        self,
        dossier: &DossierSnapshot,
        command: &Command,
    ) -> (DecideInput, usize) {
        match self {
            Contract::V0_1 => {
                let (dossier, command) =
                    (v0_1::dossier_to_wit(dossier), v0_1::command_to_wit(command));
                let size = v0_1::decide_size(&dossier, &command);
                (DecideInput::V0_1(dossier, command), size)
            }
            Contract::V0_2 => {
                let (dossier, command) =
                    (v0_2::dossier_to_wit(dossier), v0_2::command_to_wit(command));
                let size = v0_2::decide_size(&dossier, &command);
                (DecideInput::V0_2(dossier, command), size)
            }
        }
    }
}

/// The linkers of every version, built once per runtime.
pub struct Linkers {
    v0_1: Linker<PluginCtx>,
    v0_2: Linker<PluginCtx>,
}

impl Linkers {
    pub fn new(engine: &Engine) -> wasmtime::Result<Linkers> {
        let mut v0_1 = Linker::new(engine);
        v0_1::Procedure::add_to_linker::<PluginCtx, HasSelf<PluginCtx>>(&mut v0_1, |ctx| ctx)?;
        let mut v0_2 = Linker::new(engine);
        v0_2::Procedure::add_to_linker::<PluginCtx, HasSelf<PluginCtx>>(&mut v0_2, |ctx| ctx)?;
        Ok(Linkers { v0_1, v0_2 })
    }

    /// Links `component` against `contract`, ready to instantiate many times.
    pub fn prepare(&self, contract: Contract, component: &Component) -> Result<Pre, String> {
        let linker = match contract {
            Contract::V0_1 => &self.v0_1,
            Contract::V0_2 => &self.v0_2,
        };
        let instance_pre = linker.instantiate_pre(component).map_err(|error| {
            format!(
                "the component needs imports the contract {} does not grant: {error:#}",
                contract.package()
            )
        })?;
        let exported = |error: wasmtime::Error| {
            format!("the component does not export the procedure world: {error:#}")
        };
        Ok(match contract {
            Contract::V0_1 => Pre::V0_1(v0_1::ProcedurePre::new(instance_pre).map_err(exported)?),
            Contract::V0_2 => Pre::V0_2(v0_2::ProcedurePre::new(instance_pre).map_err(exported)?),
        })
    }
}

/// A linked build of some contract version.
pub enum Pre {
    V0_1(v0_1::ProcedurePre<PluginCtx>),
    V0_2(v0_2::ProcedurePre<PluginCtx>),
}

/// A fresh instance of a build.
pub enum Instance {
    V0_1(v0_1::Procedure),
    V0_2(v0_2::Procedure),
}

/// A submission converted for the build's contract (owned, so a call can move it to
/// the blocking pool).
pub enum CheckInput {
    V0_1(v0_1::wit::Submission),
    V0_2(v0_2::wit::Submission),
}

/// A dossier snapshot and a command converted for the build's contract.
pub enum DecideInput {
    V0_1(v0_1::wit::Dossier, v0_1::wit::Command),
    V0_2(v0_2::wit::Dossier, v0_2::wit::Command),
}

impl Pre {
    pub fn contract(&self) -> Contract {
        match self {
            Pre::V0_1(_) => Contract::V0_1,
            Pre::V0_2(_) => Contract::V0_2,
        }
    }

    pub fn engine(&self) -> &Engine {
        match self {
            Pre::V0_1(pre) => pre.engine(),
            Pre::V0_2(pre) => pre.engine(),
        }
    }

    pub fn instantiate(
        &self,
        store: &mut wasmtime::Store<PluginCtx>,
    ) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V0_1(pre) => Instance::V0_1(pre.instantiate(store)?),
            Pre::V0_2(pre) => Instance::V0_2(pre.instantiate(store)?),
        })
    }
}

/// An input converted for one contract handed to an instance of another: a host bug,
/// reported as a failed call rather than a panic.
fn mismatch() -> wasmtime::Error {
    wasmtime::format_err!("host error: a call's input was converted for another contract version")
}

impl Instance {
    pub fn contract(&self) -> Contract {
        match self {
            Instance::V0_1(_) => Contract::V0_1,
            Instance::V0_2(_) => Contract::V0_2,
        }
    }

    /// `describe`, converted; `Err(Malformed)` inside when the answer is unusable.
    pub fn describe(
        &self,
        store: &mut wasmtime::Store<PluginCtx>,
    ) -> wasmtime::Result<Result<ProcedureInfo, Malformed>> {
        Ok(match self {
            Instance::V0_1(procedure) => {
                v0_1::procedure_info_from_wit(procedure.call_describe(store)?)
            }
            Instance::V0_2(procedure) => {
                v0_2::procedure_info_from_wit(procedure.call_describe(store)?)
            }
        })
    }

    pub fn check(
        &self,
        store: &mut wasmtime::Store<PluginCtx>,
        input: &CheckInput,
    ) -> wasmtime::Result<Vec<Finding>> {
        Ok(match (self, input) {
            (Instance::V0_1(procedure), CheckInput::V0_1(input)) => {
                v0_1::findings_from_wit(procedure.call_check(store, input)?)
            }
            (Instance::V0_2(procedure), CheckInput::V0_2(input)) => {
                v0_2::findings_from_wit(procedure.call_check(store, input)?)
            }
            _ => return Err(mismatch()),
        })
    }

    pub fn decide(
        &self,
        store: &mut wasmtime::Store<PluginCtx>,
        input: &DecideInput,
    ) -> wasmtime::Result<Result<Result<Decision, Refusal>, Malformed>> {
        Ok(match (self, input) {
            (Instance::V0_1(procedure), DecideInput::V0_1(dossier, command)) => {
                v0_1::decision_from_wit(procedure.call_decide(store, dossier, command)?)
            }
            (Instance::V0_2(procedure), DecideInput::V0_2(dossier, command)) => {
                v0_2::decision_from_wit(procedure.call_decide(store, dossier, command)?)
            }
            _ => return Err(mismatch()),
        })
    }
}

/// A date a plugin handed to the calendar: a real day between 1900 and 2200.
fn calendar_date(
    date: Result<chrono::NaiveDate, Malformed>,
    function: &str,
) -> wasmtime::Result<chrono::NaiveDate> {
    let day = date.map_err(|error| wasmtime::format_err!("{function}: {error}"))?;
    if !(1900..=2200).contains(&chrono::Datelike::year(&day)) {
        wasmtime::bail!("{function}: {day} is outside the calendar (1900 to 2200)");
    }
    Ok(day)
}
