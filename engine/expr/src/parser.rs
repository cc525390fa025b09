//! Recursive-descent parser with precedence climbing, following JUEL's
//! grammar and precedence. Depth is bounded so no input can exhaust the stack.

use crate::Value;
use crate::ast::{BinOp, Kind, MAX_DEPTH, Node, UnOp};
use crate::error::ParseError;
use crate::lexer::{Lexer, Tok, Token};

/// Parses `src` as one bare expression that must span the whole string.
pub(crate) fn parse_bare(src: &str) -> Result<Node, ParseError> {
    let parse = || {
        let mut p = Parser::new(src, 0)?;
        let node = p.expr()?;
        if p.tok.tok != Tok::Eof {
            return Err(p.unexpected("an operator or end of input"));
        }
        Ok(*node)
    };
    parse().map_err(|e: Box<ParseError>| *e)
}

/// Parses the expression of a `${...}` whose `$` (or `#`) is at byte `open` of
/// `src`. Returns the node and the byte offset just past the closing `}`.
pub(crate) fn parse_embedded(src: &str, open: usize) -> Result<(Node, usize), ParseError> {
    let parse = || {
        let mut p = Parser::new(src, open + 2)?;
        if p.tok.tok == Tok::RBrace {
            return Err(p.error_here("empty expression"));
        }
        let node = p.expr()?;
        match p.tok.tok {
            Tok::RBrace => Ok((*node, p.tok.end)),
            Tok::Eof => Err(Box::new(ParseError::at(
                src,
                open,
                "unterminated '${': missing '}'",
            ))),
            _ => Err(p.unexpected("an operator or '}'")),
        }
    };
    parse().map_err(|e: Box<ParseError>| *e)
}

/// Parser results are boxed, node and error alike, so that the temporaries
/// of each recursive call stay small: deep nesting must not need a big stack.
type P<T> = Result<T, Box<ParseError>>;
type N = Box<Node>;

struct Parser<'s> {
    src: &'s str,
    lex: Lexer<'s>,
    tok: Token,
    depth: u16,
}

/// Binding power of a binary operator token (higher binds tighter).
fn binary_op(tok: &Tok) -> Option<(u8, Option<BinOp>)> {
    Some(match tok {
        Tok::Or => (1, None),
        Tok::And => (2, None),
        Tok::Eq => (3, Some(BinOp::Eq)),
        Tok::Ne => (3, Some(BinOp::Ne)),
        Tok::Lt => (4, Some(BinOp::Lt)),
        Tok::Gt => (4, Some(BinOp::Gt)),
        Tok::Le => (4, Some(BinOp::Le)),
        Tok::Ge => (4, Some(BinOp::Ge)),
        Tok::Plus => (5, Some(BinOp::Add)),
        Tok::Minus => (5, Some(BinOp::Sub)),
        Tok::Mul => (6, Some(BinOp::Mul)),
        Tok::Div => (6, Some(BinOp::Div)),
        Tok::Mod => (6, Some(BinOp::Mod)),
        _ => return None,
    })
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, pos: usize) -> P<Self> {
        let mut lex = Lexer::new(src, pos);
        let tok = lex.next_token()?;
        Ok(Parser {
            src,
            lex,
            tok,
            depth: 0,
        })
    }

    fn bump(&mut self) -> P<Token> {
        let next = self.lex.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    #[cold]
    fn error_here(&self, message: impl Into<String>) -> Box<ParseError> {
        Box::new(ParseError::at(self.src, self.tok.start, message))
    }

    #[cold]
    fn unexpected(&self, expected: &str) -> Box<ParseError> {
        let found = match self.tok.tok {
            Tok::Eof => "end of input".to_string(),
            _ => format!(
                "'{}'",
                self.src.get(self.tok.start..self.tok.end).unwrap_or("")
            ),
        };
        self.error_here(format!("expected {expected}, found {found}"))
    }

    #[cold]
    fn too_deep(&self, offset: usize) -> Box<ParseError> {
        let message = format!("expression nested too deeply (more than {MAX_DEPTH} levels)");
        Box::new(ParseError::at(self.src, offset, message))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> P<Token> {
        if self.tok.tok == tok {
            self.bump()
        } else {
            Err(self.unexpected(what))
        }
    }

    fn node(&self, kind: Kind, start: usize, end: usize) -> P<N> {
        let node = Node::new(kind, start, end);
        if node.height > MAX_DEPTH {
            return Err(self.too_deep(start));
        }
        Ok(Box::new(node))
    }

    /// `Choice ::= Or ('?' Choice ':' Choice)?`. Every recursion of the
    /// parser passes through here, so this is where depth is counted.
    fn expr(&mut self) -> P<N> {
        self.enter()?;
        let mut node = self.binary(1)?;
        if self.tok.tok == Tok::Question {
            node = self.conditional(node)?;
        }
        self.depth -= 1;
        Ok(node)
    }

    /// Counts one level of parser recursion; each level will also be at least
    /// one level of tree height, so the same limit applies.
    fn enter(&mut self) -> P<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep(self.tok.start));
        }
        Ok(())
    }

    fn conditional(&mut self, cond: N) -> P<N> {
        self.bump()?;
        let then = self.expr()?;
        self.expect(Tok::Colon, "':' of the conditional")?;
        let other = self.expr()?;
        let (start, end) = (cond.start, other.end);
        self.node(Kind::Cond(cond, then, other), start, end)
    }

    fn binary(&mut self, min_bp: u8) -> P<N> {
        let mut lhs = self.unary()?;
        while let Some((bp, op)) = binary_op(&self.tok.tok) {
            if bp < min_bp {
                break;
            }
            let is_and = self.bump()?.tok == Tok::And;
            self.enter()?;
            let rhs = self.binary(bp + 1)?;
            self.depth -= 1;
            let (start, end) = (lhs.start, rhs.end);
            let kind = match op {
                Some(op) => Kind::Binary(op, lhs, rhs),
                None if is_and => Kind::And(lhs, rhs),
                None => Kind::Or(lhs, rhs),
            };
            lhs = self.node(kind, start, end)?;
        }
        Ok(lhs)
    }

    /// Prefix operators (read in a loop, not by recursion), then a postfix chain.
    fn unary(&mut self) -> P<N> {
        let mut ops = Vec::new();
        loop {
            let op = match self.tok.tok {
                Tok::Minus => UnOp::Neg,
                Tok::Not => UnOp::Not,
                Tok::Empty => UnOp::Empty,
                _ => break,
            };
            if ops.len() >= usize::from(MAX_DEPTH) {
                return Err(self.too_deep(self.tok.start));
            }
            ops.push((op, self.bump()?.start));
        }
        let mut node = self.postfix()?;
        while let Some((op, start)) = ops.pop() {
            let end = node.end;
            node = self.node(Kind::Unary(op, node), start, end)?;
        }
        Ok(node)
    }

    fn postfix(&mut self) -> P<N> {
        let mut node = self.primary()?;
        loop {
            node = match self.tok.tok {
                Tok::Dot => self.member(node)?,
                Tok::LBracket => self.index(node)?,
                Tok::LParen => return Err(self.not_a_function(&node)),
                _ => return Ok(node),
            }
        }
    }

    #[cold]
    fn not_a_function(&self, node: &Node) -> Box<ParseError> {
        self.error_here(format!(
            "'{}' is not a function; functions are not supported (call methods on values: x.m())",
            node.text(self.src)
        ))
    }

    /// `.name` or `.name(args)`; keywords are allowed as names after the dot.
    fn member(&mut self, base: N) -> P<N> {
        self.bump()?;
        let is_word = self
            .src
            .get(self.tok.start..)
            .and_then(|s| s.chars().next())
            .is_some_and(crate::lexer::is_ident_start);
        let is_literal = matches!(self.tok.tok, Tok::Int(_) | Tok::Float(_) | Tok::Str(_));
        if !is_word || is_literal {
            return Err(self.unexpected("a property name after '.'"));
        }
        let name_tok = self.bump()?;
        let name: Box<str> = self
            .src
            .get(name_tok.start..name_tok.end)
            .unwrap_or("")
            .into();
        let start = base.start;
        if self.tok.tok == Tok::LParen {
            let (args, end) = self.list(Tok::LParen, Tok::RParen, "')'")?;
            self.node(Kind::Call(base, name, args), start, end)
        } else {
            self.node(Kind::Prop(base, name), start, name_tok.end)
        }
    }

    /// `[expr]`; a literal string key becomes a property access.
    fn index(&mut self, base: N) -> P<N> {
        self.bump()?;
        let index = self.expr()?;
        let end = self.expect(Tok::RBracket, "']'")?.end;
        let start = base.start;
        let kind = match index.kind {
            Kind::Lit(Value::String(key)) => Kind::Prop(base, key.into()),
            _ => Kind::Index(base, index),
        };
        self.node(kind, start, end)
    }

    /// `open item (, item)* close`, returning the items and the end offset.
    fn list(&mut self, open: Tok, close: Tok, what: &str) -> P<(Vec<Node>, usize)> {
        self.expect(open, what)?;
        let mut items = Vec::new();
        if self.tok.tok != close {
            loop {
                items.push(*self.expr()?);
                if self.tok.tok != Tok::Comma {
                    break;
                }
                self.bump()?;
            }
        }
        if self.tok.tok != close {
            return Err(self.unexpected(&format!("',' or {what}")));
        }
        let end = self.bump()?.end;
        Ok((items, end))
    }

    fn primary(&mut self) -> P<N> {
        let (start, end) = (self.tok.start, self.tok.end);
        let kind = match &self.tok.tok {
            Tok::Int(i) => Kind::Lit(Value::from(*i)),
            Tok::Float(f) => Kind::Lit(Value::from(*f)),
            Tok::Str(s) => Kind::Lit(Value::String(s.clone())),
            Tok::True => Kind::Lit(Value::Bool(true)),
            Tok::False => Kind::Lit(Value::Bool(false)),
            Tok::Null => Kind::Lit(Value::Null),
            Tok::Ident => Kind::Var(self.src.get(start..end).unwrap_or("").into()),
            Tok::LParen => return self.parenthesized(),
            Tok::LBracket => {
                let (items, end) = self.list(Tok::LBracket, Tok::RBracket, "']'")?;
                return self.node(Kind::List(items), start, end);
            }
            _ => return Err(self.unexpected("a value")),
        };
        self.bump()?;
        self.node(kind, start, end)
    }

    fn parenthesized(&mut self) -> P<N> {
        let start = self.bump()?.start;
        let mut inner = self.expr()?;
        let close = self.expect(Tok::RParen, "')'")?;
        // Widen the span so error messages show the parentheses.
        inner.start = start;
        inner.end = close.end;
        Ok(inner)
    }
}
