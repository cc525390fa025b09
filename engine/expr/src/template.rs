//! `${...}` templates: literal text with embedded expressions, as found in
//! node properties, mail bodies and report cells.

use std::fmt;

use crate::Value;
use crate::ast::Node;
use crate::coerce::to_text;
use crate::error::{EvalError, ParseError};
use crate::eval::Ctx;
use crate::parser::parse_embedded;
use crate::scope::Scope;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Expr(Node),
}

/// A piece of an evaluated template: literal text or an expression's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece<'t> {
    Text(&'t str),
    Value(Value),
}

/// A parsed template: literal text with zero or more `${expr}` / `#{expr}` parts.
///
/// Escapes: `\${` and `\#{` stand for a literal `${` and `#{` (as in the EL
/// spec); a backslash anywhere else is literal text.
///
/// Rendering turns each value into text: strings as-is, `null` as the empty
/// string, numbers and booleans as JSON, arrays and objects as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    src: String,
    parts: Vec<Part>,
}

/// Parses a template.
pub fn parse_template(src: &str) -> Result<Template, ParseError> {
    Ok(Template {
        src: src.to_string(),
        parts: scan(src)?,
    })
}

/// Splits `src` into text and expression parts.
pub(crate) fn scan(src: &str) -> Result<Vec<Part>, ParseError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut pos = 0;
    while let Some(rest) = src.get(pos..).filter(|r| !r.is_empty()) {
        let Some(at) = rest.find(['$', '#', '\\']) else {
            text.push_str(rest);
            break;
        };
        let (before, special) = rest.split_at(at);
        text.push_str(before);
        pos += at;
        if special.starts_with("\\${") || special.starts_with("\\#{") {
            text.push_str(special.get(1..3).unwrap_or(""));
            pos += 3;
        } else if special.starts_with("${") || special.starts_with("#{") {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            let (node, end) = parse_embedded(src, pos)?;
            parts.push(Part::Expr(node));
            pos = end;
        } else {
            // A lone '$', '#' or '\' (all one byte).
            text.push_str(special.get(..1).unwrap_or(""));
            pos += 1;
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

pub(crate) fn render_parts(
    src: &str,
    parts: &[Part],
    scope: &dyn Scope,
) -> Result<String, EvalError> {
    render_with(src, parts, scope, false)
}

fn render_with(
    src: &str,
    parts: &[Part],
    scope: &dyn Scope,
    strict: bool,
) -> Result<String, EvalError> {
    let cx = Ctx { src, scope, strict };
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Expr(node) => {
                let v = cx.eval(node)?;
                out.push_str(&to_text(&v));
            }
        }
    }
    Ok(out)
}

pub(crate) fn roots_of(parts: &[Part]) -> Vec<String> {
    let mut out = Vec::new();
    for part in parts {
        if let Part::Expr(node) = part {
            node.collect_roots(&mut out);
        }
    }
    out
}

impl Template {
    /// The text with every expression replaced by its value's text.
    pub fn render(&self, scope: &dyn Scope) -> Result<String, EvalError> {
        render_parts(&self.src, &self.parts, scope)
    }

    /// Exactly one `${x}` and no literal text gives the typed value of `x`;
    /// anything else gives the rendered string.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match self.parts.as_slice() {
            [Part::Expr(node)] => Ctx {
                src: &self.src,
                scope,
                strict: false,
            }
            .eval(node)
            .map(|v| v.into_owned()),
            _ => self.render(scope).map(Value::String),
        }
    }

    /// [`Template::render`], strict: a member an object lacks (`${task1.nmae}`)
    /// is [`EvalError::UnknownProperty`], not an empty string. Node properties
    /// render this way.
    pub fn render_strict(&self, scope: &dyn Scope) -> Result<String, EvalError> {
        render_with(&self.src, &self.parts, scope, true)
    }

    /// [`Template::eval`], strict as [`Template::render_strict`].
    pub fn eval_strict(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match self.parts.as_slice() {
            [Part::Expr(_)] => {
                Ok(self
                    .pieces_strict(scope)?
                    .pop()
                    .map_or(Value::Null, |p| match p {
                        Piece::Value(v) => v,
                        Piece::Text(t) => Value::String(t.to_owned()),
                    }))
            }
            _ => self.render_strict(scope).map(Value::String),
        }
    }

    /// The literal text and the (strictly evaluated) values of the
    /// expressions, in order: for callers that must not splice values into
    /// text, such as SQL statements that bind them as parameters.
    pub fn pieces_strict(&self, scope: &dyn Scope) -> Result<Vec<Piece<'_>>, EvalError> {
        let cx = Ctx {
            src: &self.src,
            scope,
            strict: true,
        };
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => Ok(Piece::Text(t)),
                Part::Expr(node) => cx.eval(node).map(|v| Piece::Value(v.into_owned())),
            })
            .collect()
    }

    /// True when the template has no expressions (rendering never fails).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Root identifiers referenced, in order of first use.
    pub fn root_names(&self) -> Vec<String> {
        roots_of(&self.parts)
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.src
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.src)
    }
}
