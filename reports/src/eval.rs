//! Evaluating a sheet's placeholders before anything is written: every cell's
//! output for every row its template row becomes, and so how far each list
//! row expands (rows below it, and references to them, must move before the
//! sheet is streamed).

use std::collections::BTreeMap;

use baton_expr::{Scope, Value};

use crate::cellref::MAX_ROW;
use crate::error::ReportError;
use crate::placeholder::Piece;
use crate::rows::RowMap;
use crate::scan::{PhCell, SheetScan};
use crate::styles::{AddedStyles, Styles};
use crate::value::{Failure, Resolved, date_serial, push_text, resolve};

/// What a placeholder cell becomes in one row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// No value; the cell keeps its style.
    Empty,
    Number(serde_json::Number),
    Bool(bool),
    Text(String),
    /// A date serial number and the style to show it with.
    Date(f64, u32),
}

/// A placeholder cell's output in each row of its expanded row.
#[derive(Debug)]
pub(crate) enum CellFill {
    /// The same in every row (no list in the cell).
    Same(Out),
    /// One per item of the cell's longest list; rows past it are empty.
    PerRow(Vec<Out>),
}

impl CellFill {
    pub(crate) fn at(&self, i: usize) -> &Out {
        match self {
            CellFill::Same(o) => o,
            CellFill::PerRow(v) => v.get(i).unwrap_or(&Out::Empty),
        }
    }
}

/// A template row with placeholders: how many rows it becomes, and its cells.
#[derive(Debug)]
pub(crate) struct RowFill {
    pub(crate) n: u32,
    /// By column.
    pub(crate) cells: BTreeMap<u32, CellFill>,
}

/// A sheet's evaluated placeholders.
#[derive(Debug, Default)]
pub(crate) struct SheetFill {
    pub(crate) rows: BTreeMap<u32, RowFill>,
    pub(crate) map: RowMap,
}

/// Shared by all sheets of one fill.
pub(crate) struct EvalCtx<'a> {
    pub(crate) scope: &'a dyn Scope,
    pub(crate) styles: &'a Styles,
    pub(crate) added: AddedStyles,
    pub(crate) date1904: bool,
}

pub(crate) fn eval_sheet(
    ctx: &mut EvalCtx<'_>,
    sheet: &str,
    scan: &SheetScan,
) -> Result<SheetFill, ReportError> {
    let mut fill = SheetFill::default();
    for cell in &scan.cells {
        let (n, out) = eval_cell(ctx, sheet, cell)?;
        let row = fill.rows.entry(cell.row).or_insert_with(|| RowFill {
            n: 1,
            cells: BTreeMap::new(),
        });
        row.n = row.n.max(n);
        row.cells.entry(cell.col).or_insert(out);
    }
    fill.map = RowMap::new(fill.rows.iter().map(|(&r, f)| (r, f.n)).collect());
    let rows = u64::from(scan.last_row) + fill.map.added();
    if rows > u64::from(MAX_ROW) {
        return Err(ReportError::TooManyRows {
            sheet: sheet.to_string(),
            rows,
        });
    }
    Ok(fill)
}

/// One cell: the rows it needs (1, or its longest list) and its outputs.
fn eval_cell(
    ctx: &mut EvalCtx<'_>,
    sheet: &str,
    cell: &PhCell,
) -> Result<(u32, CellFill), ReportError> {
    let mut values = Vec::with_capacity(cell.pieces.len());
    for piece in &cell.pieces {
        let Piece::Ph(ph) = piece else {
            values.push(None);
            continue;
        };
        let located =
            |message: String| (sheet.to_string(), cell.name(), ph.source.clone(), message);
        let resolved = resolve(ph, ctx.scope).map_err(|f| match f {
            Failure::Missing(m) => {
                let (sheet, cell, placeholder, message) = located(m);
                ReportError::Missing {
                    sheet,
                    cell,
                    placeholder,
                    message,
                }
            }
            Failure::Eval(m) => {
                let (sheet, cell, placeholder, message) = located(m);
                ReportError::Eval {
                    sheet,
                    cell,
                    placeholder,
                    message,
                }
            }
            Failure::Shape(m) => {
                let (sheet, cell, placeholder, message) = located(m);
                ReportError::WrongShape {
                    sheet,
                    cell,
                    placeholder,
                    message,
                }
            }
        })?;
        values.push(Some(resolved));
    }
    let longest = values
        .iter()
        .filter_map(|v| match v {
            Some(Resolved::List(items)) => Some(items.len()),
            _ => None,
        })
        .max();
    let rows = u32::try_from(longest.unwrap_or(1).max(1)).unwrap_or(u32::MAX);
    // A cell that is exactly one placeholder keeps the value's type.
    if let [Some(v)] = values.as_mut_slice() {
        let v = std::mem::replace(v, Resolved::Scalar(Value::Null));
        let out = match v {
            Resolved::Scalar(v) => CellFill::Same(typed(ctx, cell.style, v)),
            Resolved::List(items) => CellFill::PerRow(
                items
                    .into_iter()
                    .map(|v| typed(ctx, cell.style, v))
                    .collect(),
            ),
        };
        return Ok((rows, out));
    }
    let render = |i: usize| {
        let mut s = String::new();
        for (piece, value) in cell.pieces.iter().zip(&values) {
            match (piece, value) {
                (Piece::Text(t), _) => s.push_str(t),
                (_, Some(Resolved::Scalar(v))) => push_text(&mut s, v),
                (_, Some(Resolved::List(items))) => {
                    if let Some(v) = items.get(i) {
                        push_text(&mut s, v);
                    }
                }
                (_, None) => {}
            }
        }
        if s.is_empty() {
            Out::Empty
        } else {
            Out::Text(s)
        }
    };
    let out = match longest {
        None => CellFill::Same(render(0)),
        Some(len) => CellFill::PerRow((0..len).map(render).collect()),
    };
    Ok((rows, out))
}

/// A scalar as a typed cell: numbers, booleans, dates (ISO-8601 strings),
/// text; null and "" leave the cell empty.
fn typed(ctx: &mut EvalCtx<'_>, style: u32, v: Value) -> Out {
    match v {
        Value::Null => Out::Empty,
        Value::Bool(b) => Out::Bool(b),
        Value::Number(n) => Out::Number(n),
        Value::String(s) if s.is_empty() => Out::Empty,
        Value::String(s) => match date_serial(&s, ctx.date1904) {
            Some((serial, with_time)) => {
                let xf = ctx.added.date_style(ctx.styles, style, with_time);
                Out::Date(serial, xf)
            }
            None => Out::Text(s),
        },
        // Shape checks keep arrays and objects out.
        other => Out::Text(other.to_string()),
    }
}
