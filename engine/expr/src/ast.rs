//! The parsed form of an expression: a tree of nodes, each knowing its span
//! in the source (for error messages) and its height (to bound recursion).

use crate::Value;

/// Deepest tree the parser builds. Evaluation recurses once per level, so this
/// bounds stack use for any input.
pub(crate) const MAX_DEPTH: u16 = 256;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Byte span in the source the expression was parsed from.
    pub start: usize,
    pub end: usize,
    /// 1 for a leaf; 1 + the tallest child otherwise.
    pub height: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Lit(Value),
    /// A root identifier, resolved through the scope.
    Var(Box<str>),
    /// `a.b`, or `a['b']` with a literal string key.
    Prop(Box<Node>, Box<str>),
    /// `a[expr]`.
    Index(Box<Node>, Box<Node>),
    /// `a.m(args)`.
    Call(Box<Node>, Box<str>, Vec<Node>),
    /// `[a, b, c]` (EL 3.0 list literal).
    List(Vec<Node>),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    /// Short-circuit `&&` / `and`.
    And(Box<Node>, Box<Node>),
    /// Short-circuit `||` / `or`.
    Or(Box<Node>, Box<Node>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Neg,
    Not,
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Node {
    pub fn new(kind: Kind, start: usize, end: usize) -> Node {
        let height = kind
            .children()
            .map(|c| c.height)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        Node {
            kind,
            start,
            end,
            height,
        }
    }

    /// Source text of this node, for error messages.
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        src.get(self.start..self.end).unwrap_or("").trim()
    }

    /// Adds the root identifiers used, in order of first use, without duplicates.
    pub fn collect_roots(&self, out: &mut Vec<String>) {
        if let Kind::Var(name) = &self.kind
            && !out.iter().any(|n| **n == **name)
        {
            out.push(name.to_string());
        }
        for child in self.kind.children() {
            child.collect_roots(out);
        }
    }
}

impl Kind {
    fn children(&self) -> impl Iterator<Item = &Node> {
        let (fixed, list): ([Option<&Node>; 3], &[Node]) = match self {
            Kind::Lit(_) | Kind::Var(_) => ([None, None, None], &[]),
            Kind::Prop(b, _) | Kind::Unary(_, b) => ([Some(b), None, None], &[]),
            Kind::Index(a, b) | Kind::Binary(_, a, b) | Kind::And(a, b) | Kind::Or(a, b) => {
                ([Some(a), Some(b), None], &[])
            }
            Kind::Cond(a, b, c) => ([Some(a), Some(b), Some(c)], &[]),
            Kind::Call(b, _, args) => ([Some(b), None, None], args),
            Kind::List(items) => ([None, None, None], items),
        };
        fixed.into_iter().flatten().chain(list)
    }
}
