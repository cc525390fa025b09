//! BPMN 2.0 XML → validated, compiled, index-based [`Model`]. Pure: no I/O.
pub mod constraints;
pub mod diagnostic;
pub mod xml;

pub use diagnostic::{Diagnostic, Rejected};
