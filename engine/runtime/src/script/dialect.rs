//! Script formats and the source-level pre-pass: rewriting common JavaScript
//! spellings into Rhai, and finding bare assignment targets (`x = …`) so they
//! can be declared before the run.
//!
//! The pass is lexical — a small scanner that skips strings and comments —
//! not a JavaScript parser. Rewrites keep the text's length where they can,
//! so Rhai's line:column positions still point into the user's script.

/// Which source language a script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Rhai,
    /// `javascript`, `js`, `ecmascript`: pre-passed, then run by Rhai.
    JavaScript,
}

impl Dialect {
    /// The dialect of a BPMN `scriptFormat` (case-insensitive, MIME types
    /// such as `application/javascript` included).
    pub fn of(format: &str) -> Option<Dialect> {
        let format = format.trim().to_ascii_lowercase();
        let name = format.rsplit('/').next().unwrap_or_default();
        match name {
            "rhai" | "x-rhai" => Some(Dialect::Rhai),
            "javascript" | "js" | "ecmascript" | "x-javascript" | "x-ecmascript" => {
                Some(Dialect::JavaScript)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    /// `"…"` or `` `…` ``: copied verbatim.
    Str,
    /// `'…'`: a char in Rhai, a string in JavaScript.
    Quoted,
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits `src` into tokens, dropping whitespace and comments. Unterminated
/// strings and comments run to the end: Rhai reports them properly later.
fn tokens(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let kind = match b {
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr(bytes, i, b'\n');
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = end_of_string(bytes, i);
                if b == b'\'' { Kind::Quoted } else { Kind::Str }
            }
            _ if b.is_ascii_digit() => {
                i = scan(bytes, i, |c| {
                    c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
                });
                Kind::Number
            }
            _ if is_ident_byte(b) => {
                i = scan(bytes, i, is_ident_byte);
                Kind::Ident
            }
            _ => {
                // One character, whole (multi-byte UTF-8 stays one token).
                i += src[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

fn scan(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

fn memchr(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map_or(bytes.len(), |p| from + p)
}

fn end_of_string(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Rewrites JavaScript spellings Rhai lacks. See the module docs of
/// [`crate::script`] for the list.
pub fn javascript_to_rhai(src: &str) -> String {
    let toks = tokens(src);
    let mut out = String::with_capacity(src.len() + 16);
    let mut copied = 0;
    let text = |t: &Token| &src[t.start..t.end];
    let punct = |i: usize, c: &str| {
        toks.get(i)
            .is_some_and(|t| t.kind == Kind::Punct && text(t) == c)
    };
    // Adjacent tokens with no gap form one operator (`===`, `++`).
    let glued = |i: usize| i > 0 && toks[i - 1].end == toks[i].start;
    let mut skip_to = 0;
    for (i, t) in toks.iter().enumerate() {
        if i < skip_to {
            continue;
        }
        let replacement: Option<String> = match (t.kind, text(t)) {
            (Kind::Ident, "var") => Some("let".into()),
            (Kind::Ident, w @ ("null" | "undefined")) if i == 0 || !punct(i - 1, ".") => {
                Some(format!("{:<1$}", "()", w.len()))
            }
            (Kind::Ident, "function") => Some(format!("{:<8}", "fn")),
            (Kind::Ident, "new") if toks.get(i + 1).is_some_and(|n| n.kind == Kind::Ident) => {
                Some("   ".into())
            }
            (Kind::Quoted, s) => Some(double_quoted(s)),
            (Kind::Punct, "=" | "!") if punct(i + 1, "=") && punct(i + 2, "=") => {
                if glued(i + 1) && glued(i + 2) {
                    skip_to = i + 3;
                    Some(format!("{}= ", text(t)))
                } else {
                    None
                }
            }
            (Kind::Punct, c @ ("+" | "-"))
                if punct(i + 1, c) && glued(i + 1) && is_postfix(&toks, src, i) =>
            {
                skip_to = i + 2;
                Some(format!("{c}=1"))
            }
            (Kind::Punct, "{") if starts_object(&toks, src, i) => Some("#{".into()),
            _ => None,
        };
        if let Some(replacement) = replacement {
            let end = if skip_to > i {
                toks[skip_to - 1].end
            } else {
                t.end
            };
            out.push_str(&src[copied..t.start]);
            out.push_str(&replacement);
            copied = end;
        }
    }
    out.push_str(&src[copied..]);
    out
}

/// `x++` / `a[i]--` as a statement: the operand ends right before the sign.
fn is_postfix(toks: &[Token], src: &str, i: usize) -> bool {
    i > 0 && toks[i - 1].end == toks[i].start && {
        let prev = &toks[i - 1];
        matches!(prev.kind, Kind::Ident) || matches!(&src[prev.start..prev.end], ")" | "]")
    }
}

/// In JavaScript a `{` where a value is expected is an object literal.
fn starts_object(toks: &[Token], src: &str, i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| &toks[p]) else {
        return false;
    };
    matches!(
        &src[prev.start..prev.end],
        "=" | "(" | "," | ":" | "[" | "return"
    )
}

/// `'it\'s "x"'` → `"it's \"x\""`.
fn double_quoted(single: &str) -> String {
    let inner = single.strip_prefix('\'').unwrap_or(single);
    let inner = inner.strip_suffix('\'').unwrap_or(inner);
    let mut out = String::with_capacity(single.len() + 2);
    out.push('"');
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\'') => out.push('\''),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Names assigned with a bare `name = …` that are not declared by a
/// `let`/`const` right there. Declaring them (as `()`) before the run lets
/// `x = 1` create a variable, as in JavaScript, instead of failing.
pub fn assigned_names(src: &str) -> Vec<String> {
    let toks = tokens(src);
    let text = |t: &Token| &src[t.start..t.end];
    let mut names: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Ident || matches!(text(t), "this" | "let" | "const") {
            continue;
        }
        let is_eq = |j: usize| {
            toks.get(j)
                .is_some_and(|n| n.kind == Kind::Punct && text(n) == "=")
        };
        // `=` but not `==` or `=>`.
        let assigns = is_eq(i + 1)
            && !toks
                .get(i + 2)
                .is_some_and(|n| n.start == toks[i + 1].end && matches!(text(n), "=" | ">"));
        let declared_or_member =
            i > 0 && matches!(text(&toks[i - 1]), "let" | "const" | "." | "::");
        if assigns && !declared_or_member && !names.iter().any(|n| n == text(t)) {
            names.push(text(t).to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let cases = [
            ("rhai", Some(Dialect::Rhai)),
            ("RHAI", Some(Dialect::Rhai)),
            ("javascript", Some(Dialect::JavaScript)),
            ("JavaScript", Some(Dialect::JavaScript)),
            ("js", Some(Dialect::JavaScript)),
            ("ECMAScript", Some(Dialect::JavaScript)),
            ("application/javascript", Some(Dialect::JavaScript)),
            ("", None),
            ("python", None),
            ("groovy", None),
            ("juel", None),
        ];
        for (format, expect) in cases {
            assert_eq!(Dialect::of(format), expect, "{format:?}");
        }
    }

    #[test]
    fn javascript_rewrites() {
        let cases = [
            ("var x = 1;", "let x = 1;"),
            ("x = null;", "x = ()  ;"),
            ("if (a === b && c !== d) {}", "if (a ==  b && c !=  d) {}"),
            ("x = 'it\\'s \"q\"';", r#"x = "it's \"q\"";"#),
            ("i++; a[0]--;", "i+=1; a[0]-=1;"),
            ("x = {a: {b: 1}, c: [{}]};", "x = #{a: #{b: 1}, c: [#{}]};"),
            ("if (x) { y = 1 }", "if (x) { y = 1 }"),
            ("x = #{a: 1};", "x = #{a: 1};"),
            (
                "function f(a) { return {v: a}; }",
                "fn       f(a) { return #{v: a}; }",
            ),
            ("throw new Error('no');", "throw     Error(\"no\");"),
            (
                "s = \"var null 'x'\"; // var null",
                "s = \"var null 'x'\"; // var null",
            ),
            ("o.null = 1;", "o.null = 1;"),
        ];
        for (js, rhai) in cases {
            assert_eq!(javascript_to_rhai(js), rhai, "{js}");
        }
    }

    #[test]
    fn assignment_targets() {
        let cases: [(&str, &[&str]); 6] = [
            ("x = 1; y = x;", &["x", "y"]),
            ("let a = 1; const B = 2; a = 3;", &["a"]),
            ("if a == b { c = 1 } else { d.e = 2 }", &["c"]),
            ("f = |x| x; g = \"h = 1\"; // k = 2", &["f", "g"]),
            ("switch x { 1 => y = 2 }", &["y"]),
            ("x += 1; x[0] = 1;", &[]),
        ];
        for (src, expect) in cases {
            assert_eq!(assigned_names(src), expect, "{src}");
        }
    }
}
