//! `${...}` in cell text: split a cell into literal text and placeholders,
//! and compile each placeholder to a data path or a baton-expr expression.
//!
//! `${expr}` is required, `${?expr}` optional; `\${` is a literal `${`. Only
//! `${` opens a placeholder (`#{` in report text is just text). The closing
//! `}` is found by skipping quoted strings, so `${x == '}'}` works.

/// One piece of a cell's text.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    Ph(Ph),
}

/// A placeholder: where it came from and how to evaluate it.
#[derive(Debug, Clone)]
pub(crate) struct Ph {
    /// As written, `${?a.b}`.
    pub(crate) source: String,
    /// The expression without `${`, `?` and `}`.
    pub(crate) expression: String,
    pub(crate) optional: bool,
    pub(crate) eval: Eval,
}

/// How a placeholder is evaluated.
#[derive(Debug, Clone)]
pub(crate) enum Eval {
    /// A plain path `a.b[0].c`, resolved by the filler (arrays map).
    Path(Vec<Seg>),
    /// Anything else, through baton-expr (strict).
    Expr(Box<baton_expr::Template>),
}

/// A step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Name(String),
    Index(usize),
}

/// Whether text holds a placeholder at all (cheap pre-check).
pub(crate) fn has_placeholder(text: &str) -> bool {
    text.contains("${")
}

/// Splits cell text into pieces. `Err((placeholder, message))` when a
/// placeholder does not parse.
pub(crate) fn split(text: &str) -> Result<Vec<Piece>, (String, String)> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        let (before, from) = rest.split_at(at);
        if let Some(stripped) = before.strip_suffix('\\') {
            literal.push_str(stripped);
            literal.push_str("${");
            rest = from.get(2..).unwrap_or("");
            continue;
        }
        literal.push_str(before);
        let Some(close) = closing_brace(from) else {
            let shown: String = from.chars().take(60).collect();
            return Err((shown, "no closing `}`".to_string()));
        };
        let source = from.get(..=close).unwrap_or(from);
        let inner = from.get(2..close).unwrap_or("");
        let ph = compile(source, inner).map_err(|m| (source.to_string(), m))?;
        if !literal.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut literal)));
        }
        pieces.push(Piece::Ph(ph));
        rest = from.get(close + 1..).unwrap_or("");
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

/// Byte index of the `}` closing the `${` at the start of `s`.
fn closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 2;
    let mut depth = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'\'' | b'"' => {
                i += 1;
                while let Some(&d) = b.get(i) {
                    if d == b'\\' {
                        i += 1;
                    } else if d == c {
                        break;
                    }
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn compile(source: &str, inner: &str) -> Result<Ph, String> {
    let trimmed = inner.trim();
    let (optional, expression) = match trimmed.strip_prefix('?') {
        Some(e) => (true, e.trim()),
        None => (false, trimmed),
    };
    if expression.is_empty() {
        return Err("empty placeholder".to_string());
    }
    let eval = match parse_path(expression) {
        Some(path) => Eval::Path(path),
        None => {
            let tpl = baton_expr::parse_template(&format!("${{{expression}}}"))
                .map_err(|e| e.to_string())?;
            Eval::Expr(Box::new(tpl))
        }
    };
    Ok(Ph {
        source: source.to_string(),
        expression: expression.to_string(),
        optional,
        eval,
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// `a.b[0].c` or `a['x y']` → segments; `None` if the text is not a plain path
/// (operators, calls, literals): then baton-expr evaluates it. Identifiers may
/// be any Unicode letters (`${sql1.rows.名称}`).
pub(crate) fn parse_path(expr: &str) -> Option<Vec<Seg>> {
    const KEYWORDS: &[&str] = &[
        "true",
        "false",
        "null",
        "empty",
        "not",
        "and",
        "or",
        "div",
        "mod",
        "eq",
        "ne",
        "lt",
        "gt",
        "le",
        "ge",
        "instanceof",
    ];
    let mut segs = Vec::new();
    let mut chars = expr.char_indices().peekable();
    let ident = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| -> Option<String> {
        let mut s = String::new();
        match chars.next() {
            Some((_, c)) if is_ident_start(c) => s.push(c),
            _ => return None,
        }
        while let Some(&(_, c)) = chars.peek() {
            if !is_ident_char(c) {
                break;
            }
            s.push(c);
            chars.next();
        }
        Some(s)
    };
    let head = ident(&mut chars)?;
    if KEYWORDS.contains(&head.as_str()) {
        return None;
    }
    segs.push(Seg::Name(head));
    while let Some((_, c)) = chars.next() {
        match c {
            '.' => segs.push(Seg::Name(ident(&mut chars)?)),
            '[' => {
                let seg = match chars.peek().map(|&(_, c)| c)? {
                    q @ ('\'' | '"') => {
                        chars.next();
                        let mut s = String::new();
                        loop {
                            let (_, c) = chars.next()?;
                            if c == q {
                                break;
                            }
                            if c == '\\' {
                                s.push(chars.next()?.1);
                            } else {
                                s.push(c);
                            }
                        }
                        Seg::Name(s)
                    }
                    _ => {
                        let mut digits = String::new();
                        while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                            digits.push(d);
                            chars.next();
                        }
                        Seg::Index(digits.parse().ok()?)
                    }
                };
                if chars.next()?.1 != ']' {
                    return None;
                }
                segs.push(seg);
            }
            _ => return None,
        }
    }
    Some(segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pieces: &[Piece]) -> Vec<String> {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => format!("T:{t}"),
                Piece::Ph(ph) => {
                    format!("P:{}{}", if ph.optional { "?" } else { "" }, ph.expression)
                }
            })
            .collect()
    }

    #[test]
    fn splits_text_and_placeholders() {
        let p = split("Host ${h.name} (${?h.ip}) \\${x} ${a == '}' ? 1 : 2}").unwrap();
        assert_eq!(
            names(&p),
            [
                "T:Host ",
                "P:h.name",
                "T: (",
                "P:?h.ip",
                "T:) ${x} ",
                "P:a == '}' ? 1 : 2"
            ]
        );
        assert!(matches!(
            &p[1],
            Piece::Ph(Ph {
                eval: Eval::Path(_),
                ..
            })
        ));
        assert!(matches!(
            &p[5],
            Piece::Ph(Ph {
                eval: Eval::Expr(_),
                ..
            })
        ));
        assert!(split("${unclosed").is_err());
        assert!(split("${a +}").is_err());
        assert!(split("${}").is_err());
        assert!(split("${?}").is_err());
    }

    #[test]
    fn paths() {
        use Seg::*;
        assert_eq!(
            parse_path("sql1.rows[0]['a b'].名称"),
            Some(vec![
                Name("sql1".into()),
                Name("rows".into()),
                Index(0),
                Name("a b".into()),
                Name("名称".into())
            ])
        );
        assert_eq!(parse_path("a.b()"), None);
        assert_eq!(parse_path("a + 1"), None);
        assert_eq!(parse_path("true"), None);
        assert_eq!(parse_path("a."), None);
        assert_eq!(parse_path("a[x]"), None);
    }
}
