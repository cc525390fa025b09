//! xlsx report templates: an operator's workbook whose cells hold `${...}`
//! placeholders (`${collect.stdout}`, `${sql1.rows.NAME}`,
//! `${LWAMS_INIT_DATE}`), filled from a process instance's data.
//!
//! ```no_run
//! let template = baton_reports::Template::from_bytes(std::fs::read("report.xlsx")?)?;
//! let data = serde_json::json!({"sql1": {"rows": [{"NAME": "a"}, {"NAME": "b"}]}});
//! let out = std::fs::File::create("filled.xlsx")?;
//! template.fill(&data, out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How: the package, not a rebuilt workbook
//!
//! DESIGN.md names calamine to read and rust_xlsxwriter to write. That pair
//! cannot give the fidelity reports need. calamine 0.38 reads values,
//! formulas, cell styles, merges, defined names and pictures, but not column
//! widths, row heights, panes, print setup, conditional formats, data
//! validation, charts, comments or drawing positions; rust_xlsxwriter writes
//! only what it is told. A rebuild would lose whatever the reader missed, and
//! every template feature would need its own translation code. DESIGN.md
//! allows a fallback when fidelity cannot be reached; the one it names,
//! umya-spreadsheet, holds the whole workbook in memory as objects, brings a
//! second quick-xml and zip, and still only keeps what it models.
//!
//! So the filler edits the package itself. It opens the zip and copies every
//! part byte for byte (still compressed), except the worksheets that hold
//! placeholders, which it streams through quick-xml event by event — never a
//! DOM, so a sheet of a million cells costs a row of memory — and the few
//! other parts a fill must touch: `workbook.xml` (defined names move,
//! `fullCalcOnLoad` is set), `styles.xml` (only to add a date style), the calc
//! chain (dropped, with its relationship and content type), and, when rows
//! move, the drawings, comments, tables and charts that name them. Whatever
//! the template carries that this crate does not know about survives because
//! it is never parsed. calamine and rust_xlsxwriter serve the tests:
//! rust_xlsxwriter builds templates, calamine reads the results back.
//!
//! # Semantics
//!
//! - `${expr}` is required, `${?expr}` optional (missing → empty). A cell may
//!   hold several placeholders and text. `\${` is a literal `${`.
//! - Plain paths (`a.b[0].c`, any Unicode identifiers) are resolved here via
//!   [`baton_expr::Scope::lookup_ref`]; a name applied to an array applies to
//!   each item, so `${sql1.rows.NAME}` is the list of names. Anything else is
//!   a baton-expr expression evaluated strictly. An unknown name is an error
//!   naming the sheet, cell and placeholder.
//! - A cell that is exactly one placeholder is typed: number, boolean, empty
//!   for null, a date serial for ISO-8601 dates and date-times (the written
//!   wall time; an offset is ignored) with a date style added when the cell
//!   has none, else text. Text is written as an inline string; shared strings
//!   are untouched. Objects (and lists of objects or lists) are errors.
//! - A list expands its row downward, one row per item; several lists in a
//!   row go side by side; other cells of the row repeat; styles, height and
//!   merges inside the row are copied. Everything below moves down: cells,
//!   merges, formulas (also other sheets' references to this one), conditional
//!   formats, data validations, hyperlinks, auto-filters, frozen panes, row
//!   breaks, the dimension, defined names (print area, print titles), and the
//!   parts beside the sheet: drawing anchors (images, charts), comments and
//!   their boxes, tables. A range that ends on the list row grows over the
//!   generated rows (so do tables and chart series over it); a list row's own
//!   formulas follow each generated row. Formulas in rewritten sheets lose
//!   their cached values, the calc chain is dropped, and Excel recalculates on
//!   open (`fullCalcOnLoad`).
//!
//! Not handled (copied unchanged): placeholders outside cells (headers,
//! footers, text boxes, charts), rich-text runs inside a placeholder cell
//! (the filled text is plain), pivot tables, and form controls anchored in
//! the sheet XML.

mod cellref;
mod companion;
mod error;
mod eval;
mod fill;
mod formula;
mod package;
mod placeholder;
mod row;
mod rows;
mod scan;
mod sheet;
mod shift;
mod styles;
mod value;
mod workbook;
mod xml;

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

pub use error::ReportError;

use package::{Book, open, part_reader, placeholder_strings, read_book};
use placeholder::Piece;
use scan::{SheetScan, scan_sheet};
use styles::Styles;

/// A placeholder found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub sheet: String,
    /// `B3`.
    pub cell: String,
    /// The expression, without `${`, `?` and `}`.
    pub expression: String,
    /// Written `${?...}`: a missing value leaves the cell empty.
    pub optional: bool,
}

/// What a fill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FillSummary {
    /// Sheets that had placeholders.
    pub sheets_filled: usize,
    /// Placeholder cells written (a list cell counts once per row).
    pub cells_filled: u64,
    /// Rows added by lists.
    pub rows_added: u64,
    /// Cells whose text was cut to Excel's 32,767 characters.
    pub truncated_cells: u64,
}

/// A parsed report template. Cheap to fill many times.
pub struct Template {
    bytes: Vec<u8>,
    book: Book,
    styles: Styles,
    /// Per sheet of `book.sheets`.
    sheets: Vec<SheetScan>,
    placeholders: Vec<Placeholder>,
}

/// Shows the size, sheets and placeholders, not the package bytes.
impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("bytes", &self.bytes.len())
            .field("sheets", &self.sheet_names())
            .field("placeholders", &self.placeholders.len())
            .finish()
    }
}

impl Template {
    /// Reads a template: the package, its styles and every sheet's placeholders.
    /// Errors: not an xlsx, a damaged part, a placeholder that does not parse
    /// (naming sheet and cell).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Template, ReportError> {
        let mut zip = open(&bytes)?;
        let book = read_book(&mut zip)?;
        let strings = match &book.shared_strings {
            Some(part) => placeholder_strings(&mut zip, part)?,
            None => Default::default(),
        };
        let styles = match &book.styles {
            Some(part) => Styles::read(&mut part_reader(&mut zip, part)?)?,
            None => Styles::default(),
        };
        let mut sheets = Vec::with_capacity(book.sheets.len());
        let mut placeholders = Vec::new();
        for sheet in &book.sheets {
            let scan = scan_sheet(
                &mut part_reader(&mut zip, &sheet.part)?,
                &sheet.name,
                &strings,
            )?;
            for cell in &scan.cells {
                for piece in &cell.pieces {
                    if let Piece::Ph(ph) = piece {
                        placeholders.push(Placeholder {
                            sheet: sheet.name.clone(),
                            cell: cell.name(),
                            expression: ph.expression.clone(),
                            optional: ph.optional,
                        });
                    }
                }
            }
            sheets.push(scan);
        }
        drop(zip);
        Ok(Template {
            bytes,
            book,
            styles,
            sheets,
            placeholders,
        })
    }

    /// Every placeholder, sheet by sheet in workbook order, cells in sheet order.
    pub fn placeholders(&self) -> &[Placeholder] {
        &self.placeholders
    }

    /// The sheet names, in workbook order.
    pub fn sheet_names(&self) -> Vec<&str> {
        self.book.sheets.iter().map(|s| s.name.as_str()).collect()
    }

    /// Fills the template from `scope` and writes the workbook to `out`.
    /// Nothing is written when a placeholder fails (values are evaluated first).
    pub fn fill<W: Write + Seek>(
        &self,
        scope: &dyn baton_expr::Scope,
        out: W,
    ) -> Result<FillSummary, ReportError> {
        fill::fill(self, scope, out)
    }
}

/// Fills `template` with `data` (a JSON object whose members are the names
/// placeholders use) into `out`, atomically: it writes `OUT.tmp` beside `out`
/// and renames it; on any error nothing is left behind.
pub fn fill_file(template: &Path, data: &Path, out: &Path) -> Result<FillSummary, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let bytes = std::fs::read(template).map_err(io(template))?;
    let text = std::fs::read(data).map_err(io(data))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| ReportError::Data {
            path: data.to_path_buf(),
            message: e.to_string(),
        })?;
    let serde_json::Value::Object(scope) = value else {
        return Err(ReportError::Data {
            path: data.to_path_buf(),
            message: "must be a JSON object (its members are the placeholders' names)".to_string(),
        });
    };
    let template = Template::from_bytes(bytes)?;
    let tmp = tmp_path(out);
    let result = (|| {
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let summary = template.fill(&scope, &mut w)?;
        let file = w.into_inner().map_err(|e| ReportError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, out).map_err(io(out))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn tmp_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    out.with_file_name(name)
}
