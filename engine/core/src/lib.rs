//! The sans-I/O BPMN state machine.
//!
//! [`step`]`(model, state, now, command, out)` applies one [`Command`] to an
//! [`InstanceState`] and appends [`Action`]s (effects for the runtime) and
//! [`HistoryEvent`]s to `out`. No I/O, no clock, no randomness: the same
//! commands always give the same state, so history can be replayed and the
//! core can run in the browser (it builds for `wasm32-unknown-unknown`).
mod protocol;
mod run;
mod state;

pub use protocol::{Action, Command, Failure, HistoryEvent, HistoryKind, Output, StepError};
pub use run::step;
pub use run::timer::{add_duration, due_date, parse_cycle, parse_date};
pub use state::{
    AfterCompensation, Compensable, Cycle, Exec, ExecId, InstanceState, Join, MultiState, RetryAs,
    Status, Sub, SubId, Wait,
};

/// Every variable visible from an execution (what its job receives).
pub use run::visible_vars;
