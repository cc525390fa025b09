//! Tokens of the JUEL expression language, read on demand so that an
//! expression embedded in a template stops at its closing `}`.

use crate::error::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Ident,
    True,
    False,
    Null,
    // Operators; word and symbol forms lex to the same token.
    And,
    Or,
    Not,
    Empty,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Plus,
    Minus,
    Mul,
    Div,
    Mod,
    // Punctuation.
    Dot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    RBrace,
    Comma,
    Question,
    Colon,
    Eof,
}

/// A token with its byte span in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

/// Words that are operators or literals and so cannot name a variable.
fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "true" => Tok::True,
        "false" => Tok::False,
        "null" => Tok::Null,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "empty" => Tok::Empty,
        "eq" => Tok::Eq,
        "ne" => Tok::Ne,
        "lt" => Tok::Lt,
        "gt" => Tok::Gt,
        "le" => Tok::Le,
        "ge" => Tok::Ge,
        "div" => Tok::Div,
        "mod" => Tok::Mod,
        _ => return None,
    })
}

pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

pub(crate) fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str, pos: usize) -> Self {
        Lexer { src, pos }
    }

    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, offset, message)
    }

    pub fn next_token(&mut self) -> Result<Token, ParseError> {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let tok = if c.is_ascii_digit()
            || (c == '.'
                && self
                    .rest()
                    .get(1..)
                    .is_some_and(|s| s.starts_with(|d: char| d.is_ascii_digit())))
        {
            self.number()?
        } else if c == '\'' || c == '"' {
            self.string(c)?
        } else if is_ident_start(c) {
            let len = self
                .rest()
                .find(|c: char| !is_ident_continue(c))
                .unwrap_or(self.rest().len());
            let word = &self.rest()[..len];
            self.pos += len;
            if word == "instanceof" {
                return Err(self.error(start, "'instanceof' is not supported"));
            }
            keyword(word).unwrap_or(Tok::Ident)
        } else {
            self.punct(c)?
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    fn punct(&mut self, c: char) -> Result<Tok, ParseError> {
        let two = self.rest().get(..2).unwrap_or("");
        let (tok, len) = match two {
            "==" => (Tok::Eq, 2),
            "!=" => (Tok::Ne, 2),
            "<=" => (Tok::Le, 2),
            ">=" => (Tok::Ge, 2),
            "&&" => (Tok::And, 2),
            "||" => (Tok::Or, 2),
            _ => match c {
                '<' => (Tok::Lt, 1),
                '>' => (Tok::Gt, 1),
                '!' => (Tok::Not, 1),
                '+' => (Tok::Plus, 1),
                '-' => (Tok::Minus, 1),
                '*' => (Tok::Mul, 1),
                '/' => (Tok::Div, 1),
                '%' => (Tok::Mod, 1),
                '.' => (Tok::Dot, 1),
                '[' => (Tok::LBracket, 1),
                ']' => (Tok::RBracket, 1),
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                '}' => (Tok::RBrace, 1),
                ',' => (Tok::Comma, 1),
                '?' => (Tok::Question, 1),
                ':' => (Tok::Colon, 1),
                '=' => {
                    return Err(
                        self.error(self.pos, "assignment is not supported; use '==' to compare")
                    );
                }
                '&' => return Err(self.error(self.pos, "unexpected '&'; use '&&' or 'and'")),
                '|' => return Err(self.error(self.pos, "unexpected '|'; use '||' or 'or'")),
                _ => return Err(self.error(self.pos, format!("unexpected character '{c}'"))),
            },
        };
        self.pos += len;
        Ok(tok)
    }

    /// `123`, `1.5`, `.5`, `1.`, `1e3`, `1.5E-3` (EL's literal forms).
    fn number(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let digits = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut end = digits(start);
        let mut float = false;
        if bytes.get(end) == Some(&b'.') {
            // `1.foo` is not a float followed by garbage: leave the dot alone.
            let after = self.src.get(end + 1..).and_then(|s| s.chars().next());
            if !after.is_some_and(is_ident_start) {
                float = true;
                end = digits(end + 1);
            }
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let mut exp = end + 1;
            if matches!(bytes.get(exp), Some(b'+' | b'-')) {
                exp += 1;
            }
            if bytes.get(exp).is_some_and(u8::is_ascii_digit) {
                float = true;
                end = digits(exp);
            }
        }
        let text = self.src.get(start..end).unwrap_or("");
        self.pos = end;
        if float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
                _ => Err(self.error(start, format!("number '{text}' is out of range"))),
            }
        } else {
            text.parse::<i64>()
                .map(Tok::Int)
                .map_err(|_| self.error(start, format!("integer '{text}' does not fit in 64 bits")))
        }
    }

    /// A quoted string. `\'`, `\"` and `\\` are escapes; any other backslash is
    /// kept as written, as JUEL does.
    fn string(&mut self, quote: char) -> Result<Tok, ParseError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.src.get(start + 1..).unwrap_or("").char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.clone().next() {
                    Some((_, e @ ('\'' | '"' | '\\'))) => {
                        out.push(e);
                        chars.next();
                    }
                    _ => out.push('\\'),
                },
                c if c == quote => {
                    self.pos = start + 1 + i + c.len_utf8();
                    return Ok(Tok::Str(out));
                }
                c => out.push(c),
            }
        }
        Err(self.error(start, "unterminated string literal"))
    }
}
