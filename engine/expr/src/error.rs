//! Errors: where a source failed to parse, and why an expression failed to evaluate.

/// A syntax error, located in the source text that was parsed.
///
/// `offset` is a byte offset into the source; `line` and `col` are 1-based, and
/// `col` counts characters (not bytes) from the start of the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    pub offset: usize,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl ParseError {
    /// Builds an error at byte `offset` of `src`, computing line and column.
    pub(crate) fn at(src: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(src.len());
        let before = src.get(..offset).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        ParseError {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
            message: message.into(),
        }
    }
}

/// Why evaluation failed. `expr` fields hold the source text of the
/// sub-expression at fault, so a message points at the part to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A root identifier that the scope does not define.
    #[error("unknown variable '{name}'")]
    UnknownVariable { name: String },
    /// In strict evaluation: a member the object does not have, or a member of null.
    #[error("in `{expr}`: unknown name '{property}'")]
    UnknownProperty { expr: String, property: String },
    /// A property read on a value that has no properties (a string, number or boolean).
    #[error("in `{expr}`: {ty} has no property '{property}'")]
    NotAProperty {
        expr: String,
        property: String,
        ty: &'static str,
    },
    /// An operand of the wrong type, or a string that does not coerce.
    #[error("in `{expr}`: {message}")]
    Type { expr: String, message: String },
    /// `/`, `div`, `%` or `mod` by zero.
    #[error("in `{expr}`: division by zero")]
    DivisionByZero { expr: String },
    /// Integer arithmetic left the i64 range, or float arithmetic left the finite range.
    #[error("in `{expr}`: arithmetic overflow")]
    Overflow { expr: String },
    /// A method the receiver's type does not have.
    #[error("in `{expr}`: {ty} has no method '{method}'")]
    UnknownMethod {
        expr: String,
        method: String,
        ty: &'static str,
    },
    /// A known method called with bad arguments (count, type, range).
    #[error("in `{expr}`: {method}(): {message}")]
    Method {
        expr: String,
        method: String,
        message: String,
    },
}
