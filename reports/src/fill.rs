//! One fill: evaluate every sheet, then write the package part by part —
//! rewritten sheets, workbook and styles streamed through, every other part
//! copied compressed, byte for byte.

use std::collections::HashMap;
use std::io::{BufWriter, Seek, Write};

use baton_expr::Scope;
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::Template;
use crate::error::ReportError;
use crate::eval::{EvalCtx, SheetFill, eval_sheet};
use crate::package::{Companion, open, part_reader};
use crate::rows::RowMap;
use crate::shift::Shift;
use crate::styles::AddedStyles;
use crate::workbook::{is_calc_chain_rel, is_override_of, rewrite_workbook, without};
use crate::{FillSummary, companion, sheet, styles};

/// Rewritten parts are deflated at this level: fast, about half the size of stored.
const LEVEL: i64 = 1;

pub(crate) fn fill<W: Write + Seek>(
    t: &Template,
    scope: &dyn Scope,
    out: W,
) -> Result<FillSummary, ReportError> {
    // 1. Evaluate: every placeholder's value, every list row's length.
    let mut ctx = EvalCtx {
        scope,
        styles: &t.styles,
        added: AddedStyles::new(&t.styles),
        date1904: t.book.date1904,
    };
    let mut fills: Vec<Option<SheetFill>> = Vec::with_capacity(t.sheets.len());
    for (part, scan) in t.book.sheets.iter().zip(&t.sheets) {
        fills.push(if scan.cells.is_empty() {
            None
        } else {
            Some(eval_sheet(&mut ctx, &part.name, scan)?)
        });
    }
    let added = ctx.added;
    let mut maps: HashMap<String, RowMap> = HashMap::new();
    for (part, fill) in t.book.sheets.iter().zip(&fills) {
        if let Some(f) = fill.as_ref().filter(|f| !f.map.is_identity()) {
            maps.insert(part.name.to_lowercase(), f.map.clone());
        }
    }
    let filled = fills.iter().any(Option::is_some);
    // Sheets to stream through: those with placeholders, and those whose
    // formulas name a sheet that grew.
    let rewrite: HashMap<&str, usize> = t
        .book
        .sheets
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            fills.get(*i).is_some_and(Option::is_some)
                || (!maps.is_empty() && t.sheets.get(*i).is_some_and(|s| s.names_sheets))
        })
        .map(|(i, p)| (p.part.as_str(), i))
        .collect();
    let drop_calc_chain = filled.then_some(t.book.calc_chain.as_deref()).flatten();
    // Drawings, comments and tables of sheets whose rows move; charts when any do.
    let mut companions: HashMap<&str, (Companion, &str)> = HashMap::new();
    for part in &t.book.sheets {
        if maps.contains_key(&part.name.to_lowercase()) {
            for (kind, name) in &part.companions {
                companions.insert(name.as_str(), (*kind, part.name.as_str()));
            }
        }
    }
    let charts: Vec<&str> = if maps.is_empty() {
        Vec::new()
    } else {
        t.book.charts.iter().map(String::as_str).collect()
    };

    // 2. Write.
    let mut zin = open(&t.bytes)?;
    let mut zout = ZipWriter::new(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(LEVEL));
    let identity = RowMap::default();
    let mut summary = FillSummary {
        sheets_filled: fills.iter().filter(|f| f.is_some()).count(),
        rows_added: fills.iter().flatten().map(|f| f.map.added()).sum(),
        ..FillSummary::default()
    };
    let names: Vec<String> = (0..zin.len())
        .map(|i| {
            zin.by_index_raw(i)
                .map_err(|e| ReportError::corrupt("(archive)", e))
                .and_then(|f| {
                    f.name()
                        .map(|n| n.into_owned())
                        .map_err(|e| ReportError::corrupt("(archive)", e))
                })
        })
        .collect::<Result<_, _>>()?;
    for (index, name) in names.iter().enumerate() {
        if Some(name.as_str()) == drop_calc_chain {
            continue;
        }
        if let Some(&i) = rewrite.get(name.as_str()) {
            let sheet_name = t.book.sheets.get(i).map_or("", |s| s.name.as_str());
            let shift = Shift::new(sheet_name, &maps, &identity);
            zout.start_file(name.as_str(), options)
                .map_err(ReportError::write)?;
            let mut rd = part_reader(&mut zin, name)?;
            let mut w = BufWriter::with_capacity(1 << 20, &mut zout);
            let stats = sheet::rewrite_sheet(
                &mut rd,
                &mut w,
                fills.get(i).and_then(Option::as_ref),
                &shift,
            )?;
            w.flush().map_err(ReportError::write)?;
            drop(w);
            summary.cells_filled += stats.cells;
            summary.truncated_cells += stats.truncated;
            continue;
        }
        // Companions are rewritten best-effort: one that does not parse is copied.
        let companion = if let Some(&(kind, sheet_name)) = companions.get(name.as_str()) {
            let shift = Shift::new(sheet_name, &maps, &identity);
            let mut buf = Vec::new();
            companion::rewrite(&mut part_reader(&mut zin, name)?, kind, &shift, &mut buf)
                .ok()
                .map(|()| buf)
        } else if charts.contains(&name.as_str()) {
            let shift = Shift::new("", &maps, &identity);
            let mut buf = Vec::new();
            companion::chart(&mut part_reader(&mut zin, name)?, &shift, &mut buf)
                .ok()
                .map(|()| buf)
        } else {
            None
        };
        let small: Option<Vec<u8>> = if companion.is_some() {
            companion
        } else if filled && *name == t.book.workbook {
            let shift = Shift::new("", &maps, &identity);
            let mut buf = Vec::new();
            rewrite_workbook(&mut part_reader(&mut zin, name)?, &shift, &mut buf)?;
            Some(buf)
        } else if !added.is_empty() && t.book.styles.as_deref() == Some(name.as_str()) {
            let mut buf = Vec::new();
            styles::rewrite(&mut part_reader(&mut zin, name)?, &added, &mut buf)?;
            Some(buf)
        } else if drop_calc_chain.is_some() && *name == t.book.workbook_rels {
            let mut buf = Vec::new();
            without(
                &mut part_reader(&mut zin, name)?,
                &mut buf,
                is_calc_chain_rel,
            )?;
            Some(buf)
        } else if let Some(chain) = drop_calc_chain.filter(|_| name == "[Content_Types].xml") {
            let mut buf = Vec::new();
            without(&mut part_reader(&mut zin, name)?, &mut buf, |e| {
                is_override_of(e, chain)
            })?;
            Some(buf)
        } else {
            None
        };
        match small {
            Some(bytes) => {
                zout.start_file(name.as_str(), options)
                    .map_err(ReportError::write)?;
                zout.write_all(&bytes).map_err(ReportError::write)?;
            }
            None => {
                let file = zin
                    .by_index_raw(index)
                    .map_err(|e| ReportError::corrupt(name, e))?;
                zout.raw_copy_file(file).map_err(ReportError::write)?;
            }
        }
    }
    zout.finish().map_err(ReportError::write)?;
    Ok(summary)
}
