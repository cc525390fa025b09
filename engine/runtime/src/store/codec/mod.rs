//! How each row type maps to its table: the column lists (one source for
//! INSERTs and SELECTs), the values bound, and the decoding of result rows.

mod process;
mod work;

use sea_orm::{DbErr, QueryResult};

pub(crate) use process::bind_instance_fields;

/// A type read back from a `SELECT <COLUMNS> …`, decoded by position.
pub(crate) trait Decode: Sized {
    const COLUMNS: &'static [&'static str];
    fn decode(row: &QueryResult) -> Result<Self, DbErr>;
}

/// `"a", "b"` — or `t."a", t."b"` when `prefix` is `t`.
pub(crate) fn select_list<T: Decode>(prefix: &str) -> String {
    let cols: Vec<String> = T::COLUMNS
        .iter()
        .map(|c| {
            if prefix.is_empty() {
                format!("\"{c}\"")
            } else {
                format!("{prefix}.\"{c}\"")
            }
        })
        .collect();
    cols.join(", ")
}

pub(crate) fn decode_all<T: Decode>(rows: &[QueryResult]) -> Result<Vec<T>, DbErr> {
    rows.iter().map(T::decode).collect()
}
