//! JUEL-compatible expressions and `${...}` templates evaluated over JSON values.
//!
//! The language is the Java Unified Expression Language as Activiti, Flowable,
//! Camunda 7 and LWAMS users write it in BPMN conditions and node properties:
//! `${approved == true}`, `${count gt 3 and not empty name}`,
//! `${s.startsWith('ab') && s.length() == 4}`, `${nodeId.rows[0].name}`.
//!
//! The crate is pure: no I/O, clock, randomness or threads; parse once and
//! evaluate many times. No input makes it panic or overflow the stack: nesting
//! is limited to 256 levels and reported as a [`ParseError`].
//!
//! ```
//! use baton_expr::{parse, parse_template};
//! use serde_json::json;
//!
//! let vars = json!({"count": 5, "name": "bob", "rows": [{"id": "r0"}]});
//! assert!(parse("${count gt 3 and not empty name}")?.eval_bool(&vars)?);
//! assert_eq!(parse("rows[0].id")?.eval(&vars)?, json!("r0"));
//! assert_eq!(parse_template("Hi ${name}, ${count} new")?.render(&vars)?, "Hi bob, 5 new");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics (EL 3.0 §1.23 coercions, with these choices)
//!
//! - Unknown root variable: [`EvalError::UnknownVariable`], except under
//!   `empty`, where it reads as null (`empty x` is true). A missing member of
//!   an object, an array index out of range, and any property of null are null.
//! - Integers are i64; `+ - * %` on two integers stay integer and overflow is
//!   an [`EvalError::Overflow`] (not a silent wrap or float promotion). Any
//!   float operand makes the result a float. `/` and `div` always give a float
//!   (`6 / 3` is `2.0`), as in JUEL. Division or remainder by zero is
//!   [`EvalError::DivisionByZero`]; non-finite float results are `Overflow`
//!   (JSON has no Infinity or NaN).
//! - Strings that look like numbers coerce in arithmetic and comparisons with
//!   numbers; null is 0 in arithmetic.
//! - Extension: `+` concatenates as text when either side is a non-numeric
//!   string (including ""), e.g. `'a' + 1` is `"a1"`; JUEL would fail.
//!   `'1' + '2'` is still `3`.
//! - `==`: numbers by value (`1 == 1.0`, `'1' == 1`), booleans against strings
//!   by boolean coercion (`'true' == true`), arrays and objects structurally.
//! - Boolean coercion (`eval_bool`, `!`, `&&`, `||`, `?:`): null and "" are
//!   false, a string is true iff it is "true" in any case; numbers, arrays and
//!   objects are a [`EvalError::Type`] naming the type.
//! - Strings index by character (not UTF-16 unit); `matches`, `split` and
//!   `replaceAll` take Rust regex syntax (close to Java's for common patterns).
//! - Templates: `\${` escapes a literal `${`; null renders as "".
//!
//! # Limits
//!
//! Nesting (parentheses, operators, calls, property chains) is at most 256
//! levels deep, a [`ParseError`]. So that an expression cannot exhaust memory
//! or time, methods that build strings stop at 4 MiB, `split` at 2^20 parts,
//! and regex patterns at 64 KiB compiled; the regex engine runs in time
//! linear in the input (no catastrophic backtracking).

mod ast;
mod coerce;
mod error;
mod eval;
mod lexer;
mod methods;
mod parser;
mod scope;
mod template;

use std::fmt;

pub use error::{EvalError, ParseError};
pub use scope::Scope;
pub use template::{Piece, Template, parse_template};

use ast::Node;
use eval::Ctx;
use template::Part;

/// Values are JSON values.
pub type Value = serde_json::Value;

/// A parsed expression. Cheap to evaluate many times; keeps its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    src: String,
    body: Body,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    Expr(Node),
    /// Text mixed with `${...}`: the value is the rendered string.
    Template(Vec<Part>),
}

fn has_open(src: &str) -> bool {
    src.contains("${") || src.contains("#{")
}

/// Parses an expression: wrapped in `${...}` or `#{...}` (surrounding
/// whitespace allowed) or bare (`integerVariable < 2`). A source mixing text
/// and `${...}` (`abc ${x}`) is a template whose value is the rendered string.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let trimmed = src.trim_start();
    if !(trimmed.starts_with("${") || trimmed.starts_with("#{")) {
        match parser::parse_bare(src) {
            Ok(node) => return Ok(Expr::new(src, Body::Expr(node))),
            Err(e) if !has_open(src) => return Err(e),
            Err(_) => {}
        }
    }
    let mut parts = template::scan(src)?;
    let blank = |p: &Part| matches!(p, Part::Text(t) if t.trim().is_empty());
    let exprs = parts.iter().filter(|p| matches!(p, Part::Expr(_))).count();
    if exprs == 1 && parts.iter().all(|p| matches!(p, Part::Expr(_)) || blank(p)) {
        parts.retain(|p| matches!(p, Part::Expr(_)));
        if let Some(Part::Expr(node)) = parts.pop() {
            return Ok(Expr::new(src, Body::Expr(node)));
        }
    }
    Ok(Expr::new(src, Body::Template(parts)))
}

impl Expr {
    fn new(src: &str, body: Body) -> Expr {
        Expr {
            src: src.to_string(),
            body,
        }
    }

    /// Evaluates against `scope`.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match &self.body {
            Body::Expr(node) => self.ctx(scope).eval(node).map(|v| v.into_owned()),
            Body::Template(parts) => {
                template::render_parts(&self.src, parts, scope).map(Value::String)
            }
        }
    }

    /// Evaluates and coerces to boolean the JUEL way (null and "" are false,
    /// "true" in any case is true). Numbers, arrays and objects are an error
    /// naming the type.
    pub fn eval_bool(&self, scope: &dyn Scope) -> Result<bool, EvalError> {
        match &self.body {
            Body::Expr(node) => self.ctx(scope).eval_bool(node),
            // A rendered template is a string, which is true iff it says "true".
            Body::Template(parts) => {
                let text = template::render_parts(&self.src, parts, scope)?;
                Ok(text.eq_ignore_ascii_case("true"))
            }
        }
    }

    /// The source text as given to [`parse`].
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Root identifiers referenced, in order of first use, without duplicates.
    pub fn root_names(&self) -> Vec<String> {
        match &self.body {
            Body::Expr(node) => {
                let mut out = Vec::new();
                node.collect_roots(&mut out);
                out
            }
            Body::Template(parts) => template::roots_of(parts),
        }
    }

    fn ctx<'a>(&'a self, scope: &'a dyn Scope) -> Ctx<'a> {
        Ctx {
            src: &self.src,
            scope,
            strict: false,
        }
    }
}

/// Shows the source text.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.src)
    }
}

impl std::str::FromStr for Expr {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Serialized as its source text.
impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.src)
    }
}

/// Deserialized from source text, which must parse.
impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let src = String::deserialize(d)?;
        parse(&src).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.source())
    }
}

impl<'de> serde::Deserialize<'de> for Template {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let src = String::deserialize(d)?;
        parse_template(&src).map_err(serde::de::Error::custom)
    }
}
