//! Diagnostics: what is wrong with a BPMN document, and exactly where.

use std::fmt;

use crate::xml::Pos;

/// One problem found while parsing, validating or compiling a definition.
///
/// `code` is stable and machine-readable (`xml`, `unsupported`, `reference`,
/// or a BPMN constraint id such as `EXT.023`); `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub code: String,
    /// The id of the element at fault, when it has one.
    pub element: Option<String>,
    pub pos: Pos,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        code: impl Into<String>,
        element: Option<&str>,
        pos: Pos,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code: code.into(),
            element: element.map(str::to_owned),
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(id) => write!(f, "{} [{}] `{}`: {}", self.pos, self.code, id, self.message),
            None => write!(f, "{} [{}]: {}", self.pos, self.code, self.message),
        }
    }
}

/// All diagnostics of a rejected document (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Rejected(pub Vec<Diagnostic>);

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
