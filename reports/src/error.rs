//! What went wrong and where: the part of the package, or the sheet, cell and
//! placeholder an operator has to fix.

use std::path::PathBuf;

/// An error reading a template, evaluating its placeholders or writing the
/// filled workbook. Messages name the sheet, cell and placeholder at fault.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The bytes are not an xlsx package (not a zip, or no workbook in it).
    #[error("not an xlsx workbook: {0}")]
    NotXlsx(String),
    /// A part of the package is damaged (bad XML, bad compressed data).
    #[error("corrupt xlsx: part '{part}': {message}")]
    Corrupt { part: String, message: String },
    /// A `${...}` that does not parse.
    #[error("sheet '{sheet}' cell {cell}: cannot parse placeholder `{placeholder}`: {message}")]
    Placeholder {
        sheet: String,
        cell: String,
        placeholder: String,
        message: String,
    },
    /// A name or member the data does not have (`${?...}` makes it empty instead).
    #[error("sheet '{sheet}' cell {cell}: `{placeholder}`: {message}")]
    Missing {
        sheet: String,
        cell: String,
        placeholder: String,
        message: String,
    },
    /// Any other evaluation failure (type error, division by zero, ...).
    #[error("sheet '{sheet}' cell {cell}: `{placeholder}`: {message}")]
    Eval {
        sheet: String,
        cell: String,
        placeholder: String,
        message: String,
    },
    /// A value that cannot go in a cell: an object, or a list of objects or lists.
    #[error("sheet '{sheet}' cell {cell}: `{placeholder}` {message}")]
    WrongShape {
        sheet: String,
        cell: String,
        placeholder: String,
        message: String,
    },
    /// Lists expanded the sheet past Excel's last row.
    #[error("sheet '{sheet}': lists expand the sheet to {rows} rows, more than Excel's 1048576")]
    TooManyRows { sheet: String, rows: u64 },
    /// The data file is not a JSON object.
    #[error("data '{}': {message}", path.display())]
    Data { path: PathBuf, message: String },
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing the output package.
    #[error("writing the filled workbook: {0}")]
    Write(String),
}

impl ReportError {
    pub(crate) fn corrupt(part: &str, message: impl std::fmt::Display) -> ReportError {
        ReportError::Corrupt {
            part: part.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn write(message: impl std::fmt::Display) -> ReportError {
        ReportError::Write(message.to_string())
    }
}
