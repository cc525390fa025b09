//! A small SQL text builder: per-dialect placeholders and bound values, and
//! the multi-row statements (INSERT, UPDATE … FROM VALUES, DELETE … IN) that
//! the commit path uses, chunked to stay under the bind-parameter limits.

use sea_orm::{DbBackend, Statement, Value};

/// The SQL dialect a [`crate::store::Store`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub(crate) fn backend(self) -> DbBackend {
        match self {
            Dialect::Sqlite => DbBackend::Sqlite,
            Dialect::Postgres => DbBackend::Postgres,
        }
    }

    /// The most bind parameters one statement may carry.
    fn max_params(self) -> usize {
        match self {
            Dialect::Sqlite => 32_766,
            Dialect::Postgres => 65_535,
        }
    }

    /// The name of the `i`-th (0-based) column of a `(VALUES …) AS v` table.
    fn values_column(self, i: usize) -> String {
        match self {
            // SQLite cannot alias a subquery's columns; it names them itself.
            Dialect::Sqlite => format!("column{}", i + 1),
            Dialect::Postgres => format!("c{i}"),
        }
    }
}

/// Most rows in one multi-row statement. Bigger statements save little and
/// cost more to prepare.
const MAX_ROWS: usize = 256;

/// SQL text with its bound values.
pub(crate) struct Sql {
    dialect: Dialect,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::with_capacity(256),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                use std::fmt::Write;
                let _ = write!(self.text, "${}", self.values.len());
            }
        }
        self
    }

    /// Append `(?, ?, …)` for `values`.
    pub(crate) fn bind_list<V: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Sql {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.dialect.backend(), self.text, self.values)
    }
}

/// The sizes of the statements that carry `n` rows of `cols` parameters each:
/// as many full chunks as needed, then the rest in descending powers of two.
/// Every table thus has only a handful of statement shapes, and the driver's
/// prepared-statement cache keeps hitting.
pub(crate) fn chunk_sizes(n: usize, cols: usize, dialect: Dialect) -> Vec<usize> {
    let fit = (dialect.max_params() / cols.max(1)).clamp(1, MAX_ROWS);
    let full = if fit.is_power_of_two() {
        fit
    } else {
        fit.next_power_of_two() / 2
    };
    let mut sizes = vec![full; n / full];
    let mut rest = n % full;
    while rest > 0 {
        let size = 1 << rest.ilog2();
        sizes.push(size);
        rest -= size;
    }
    sizes
}

/// Split `rows` into the chunks of [`chunk_sizes`].
pub(crate) fn chunks<T>(rows: &[T], cols: usize, dialect: Dialect) -> Vec<&[T]> {
    let mut rest = rows;
    chunk_sizes(rows.len(), cols, dialect)
        .into_iter()
        .map(|size| {
            let (head, tail) = rest.split_at(size);
            rest = tail;
            head
        })
        .collect()
}

/// A row type the commit inserts with multi-row `INSERT`s.
pub(crate) trait Insert {
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    /// Bind exactly `COLUMNS.len()` values, in `COLUMNS` order.
    fn bind_values(&self, out: &mut Vec<Value>);
}

impl<T: Insert> Insert for &T {
    const TABLE: &'static str = T::TABLE;
    const COLUMNS: &'static [&'static str] = T::COLUMNS;
    fn bind_values(&self, out: &mut Vec<Value>) {
        (**self).bind_values(out);
    }
}

/// `"a", "b", "c"`: a quoted column list.
pub(crate) fn column_list(columns: &[&str]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    quoted.join(", ")
}

/// `INSERT INTO table (…) VALUES (…), (…)` for one chunk of rows.
pub(crate) fn insert<T: Insert>(dialect: Dialect, rows: &[T]) -> Statement {
    let mut values = Vec::with_capacity(rows.len() * T::COLUMNS.len());
    for row in rows {
        row.bind_values(&mut values);
    }
    values_statement(
        dialect,
        &format!(
            "INSERT INTO \"{}\" ({}) VALUES ",
            T::TABLE,
            column_list(T::COLUMNS)
        ),
        T::COLUMNS.len(),
        values,
        "",
    )
}

/// `UPDATE table AS t SET set = v.set … FROM (VALUES …) AS v WHERE t.key =
/// v.key … [RETURNING t.id]`: many single-row updates in one statement. Each
/// row of `values` holds the key columns, then the set columns.
pub(crate) fn update_from_values(
    dialect: Dialect,
    table: &str,
    keys: &[&str],
    sets: &[&str],
    values: Vec<Value>,
    returning_id: bool,
) -> Statement {
    let v = |i: usize| format!("v.{}", dialect.values_column(i));
    let assignments: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(i, col)| format!("\"{col}\" = {}", v(keys.len() + i)))
        .collect();
    let head = format!(
        "UPDATE \"{table}\" AS t SET {} FROM (VALUES ",
        assignments.join(", ")
    );
    let alias = match dialect {
        Dialect::Sqlite => ") AS v".to_owned(),
        Dialect::Postgres => {
            let names: Vec<String> = (0..keys.len() + sets.len())
                .map(|i| dialect.values_column(i))
                .collect();
            format!(") AS v({})", names.join(", "))
        }
    };
    let conditions: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, col)| format!("t.\"{col}\" = {}", v(i)))
        .collect();
    let mut tail = format!("{alias} WHERE {}", conditions.join(" AND "));
    if returning_id {
        // Unqualified: SQLite allows only the updated table in RETURNING.
        tail.push_str(" RETURNING \"id\"");
    }
    values_statement(dialect, &head, keys.len() + sets.len(), values, &tail)
}

/// `DELETE FROM table WHERE id IN (…) [RETURNING id]`.
pub(crate) fn delete_ids(
    dialect: Dialect,
    table: &str,
    ids: &[String],
    returning_id: bool,
) -> Statement {
    let mut sql = Sql::new(dialect);
    sql.push(&format!("DELETE FROM \"{table}\" WHERE \"id\" IN "));
    sql.bind_list(ids.iter().cloned());
    if returning_id {
        sql.push(" RETURNING \"id\"");
    }
    sql.statement()
}

/// `head (…), (…) tail` with `cols` placeholders per row.
fn values_statement(
    dialect: Dialect,
    head: &str,
    cols: usize,
    values: Vec<Value>,
    tail: &str,
) -> Statement {
    let rows = values.len() / cols.max(1);
    let mut text = String::with_capacity(head.len() + tail.len() + rows * (cols * 6 + 4));
    text.push_str(head);
    match dialect {
        Dialect::Sqlite => {
            // Every row reads the same: build it once.
            let row = format!("({})", vec!["?"; cols].join(", "));
            text.push_str(&vec![row.as_str(); rows].join(", "));
        }
        Dialect::Postgres => {
            use std::fmt::Write;
            for row in 0..rows {
                text.push_str(if row == 0 { "(" } else { ", (" });
                for col in 0..cols {
                    let sep = if col == 0 { "" } else { ", " };
                    let _ = write!(text, "{sep}${}", row * cols + col + 1);
                }
                text.push(')');
            }
        }
    }
    text.push_str(tail);
    Statement::from_sql_and_values(dialect.backend(), text, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_full_then_powers_of_two() {
        assert_eq!(chunk_sizes(0, 7, Dialect::Sqlite), Vec::<usize>::new());
        assert_eq!(
            chunk_sizes(600, 7, Dialect::Sqlite),
            vec![256, 256, 64, 16, 8]
        );
        assert_eq!(chunk_sizes(3, 1, Dialect::Postgres), vec![2, 1]);
        // Wide rows: the parameter limit wins over MAX_ROWS.
        assert_eq!(
            chunk_sizes(300, 200, Dialect::Sqlite),
            vec![128, 128, 32, 8, 4]
        );
    }

    #[test]
    fn placeholders_per_dialect() {
        let values = || (0..4).map(|i: i64| Value::from(i)).collect();
        let sqlite = values_statement(Dialect::Sqlite, "V ", 2, values(), " T");
        assert_eq!(sqlite.sql, "V (?, ?), (?, ?) T");
        let pg = values_statement(Dialect::Postgres, "V ", 2, values(), " T");
        assert_eq!(pg.sql, "V ($1, $2), ($3, $4) T");
    }
}
