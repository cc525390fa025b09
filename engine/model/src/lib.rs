//! BPMN 2.0 XML → validated, compiled, index-based [`Model`]. Pure: no I/O.
//!
//! [`compile`] parses the document ([`xml`]), checks the specification's
//! constraints ([`constraints`]), reads every element's semantics and rejects
//! whatever the engine cannot execute — each problem as a [`Diagnostic`] with
//! the element id and `line:column`. QName references resolve through the
//! namespace declarations in scope ([`qname`]); exports of Camunda, Flowable and
//! bpmn-js get the compatibility readings listed in [`constraints`] ([`vendor`]).
mod compile;
pub mod constraints;
pub mod diagnostic;
pub mod diff;
pub mod model;
pub mod qname;
pub mod vendor;
pub mod xml;

pub use compile::{compile, compile_tree};
pub use diagnostic::{Diagnostic, Rejected};
pub use model::*;
pub use vendor::{ACTIVITI_NS, BATON_NS, CAMUNDA_NS, FLOWABLE_NS, ZEEBE_NS};
