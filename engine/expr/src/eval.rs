//! Tree-walking evaluator. Values flow as `Cow` so that reading `a.b.c` out
//! of a scope borrows instead of cloning the objects on the way.

use std::borrow::Cow;

use crate::Value;
use crate::ast::{BinOp, Kind, Node, UnOp};
use crate::coerce::{self, Fault, describe, type_name};
use crate::error::EvalError;
use crate::methods::{self, MethodFault};
use crate::scope::Scope;

static NULL: Value = Value::Null;

pub(crate) type Out<'a> = Result<Cow<'a, Value>, EvalError>;

pub(crate) struct Ctx<'a> {
    pub src: &'a str,
    pub scope: &'a dyn Scope,
    /// A member an object does not have (or a member of null) is an error
    /// naming it, not null: node properties must not turn a typo into "".
    pub strict: bool,
}

impl<'a> Ctx<'a> {
    fn fault(&self, node: &Node, fault: Fault) -> EvalError {
        let expr = node.text(self.src).to_string();
        match fault {
            Fault::Type(message) => EvalError::Type { expr, message },
            Fault::DivisionByZero => EvalError::DivisionByZero { expr },
            Fault::Overflow => EvalError::Overflow { expr },
        }
    }

    fn owned(&self, node: &Node, r: Result<Value, Fault>) -> Out<'a> {
        r.map(Cow::Owned).map_err(|f| self.fault(node, f))
    }

    pub fn eval(&self, node: &'a Node) -> Out<'a> {
        self.eval_path(node, false)
    }

    pub fn eval_bool(&self, node: &'a Node) -> Result<bool, EvalError> {
        let v = self.eval_path(node, false)?;
        self.bool_of(node, &v)
    }

    fn bool_of(&self, node: &Node, v: &Value) -> Result<bool, EvalError> {
        coerce::to_bool(v).map_err(|f| self.fault(node, f))
    }

    /// `lenient`: an unknown root variable reads as null (under `empty`).
    ///
    /// This is the recursive step, so it only dispatches: each arm's work is
    /// in its own function to keep this frame (and deep recursion) small.
    fn eval_path(&self, node: &'a Node, lenient: bool) -> Out<'a> {
        match &node.kind {
            Kind::Lit(v) => Ok(Cow::Borrowed(v)),
            Kind::Var(name) => self.var(name, lenient),
            Kind::Prop(base, name) => self.prop_node(node, base, name, lenient),
            Kind::Index(base, index) => self.index_node(node, base, index, lenient),
            Kind::Call(base, method, args) => self.call(node, base, method, args),
            Kind::List(items) => self.list(items),
            Kind::Unary(op, operand) => self.unary(node, *op, operand),
            Kind::Binary(op, lhs, rhs) => self.binary_node(node, *op, lhs, rhs),
            Kind::And(lhs, rhs) => self.and_or(lhs, rhs, true),
            Kind::Or(lhs, rhs) => self.and_or(lhs, rhs, false),
            Kind::Cond(c, then, other) => self.cond(c, then, other),
        }
    }

    fn var(&self, name: &str, lenient: bool) -> Out<'a> {
        match self.scope.lookup_ref(name) {
            Some(v) => Ok(v),
            None if lenient => Ok(Cow::Borrowed(&NULL)),
            None => Err(EvalError::UnknownVariable {
                name: name.to_string(),
            }),
        }
    }

    fn prop_node(&self, node: &Node, base: &'a Node, name: &str, lenient: bool) -> Out<'a> {
        let b = self.eval_path(base, lenient)?;
        if self.strict && !lenient {
            let missing = match &*b {
                Value::Object(m) => !m.contains_key(name),
                Value::Null => true,
                _ => false,
            };
            if missing {
                return Err(EvalError::UnknownProperty {
                    expr: node.text(self.src).to_string(),
                    property: name.to_string(),
                });
            }
        }
        self.property(node, b, name)
    }

    fn index_node(&self, node: &Node, base: &'a Node, index: &'a Node, lenient: bool) -> Out<'a> {
        let b = self.eval_path(base, lenient)?;
        let i = self.eval(index)?;
        self.index(node, b, &i)
    }

    fn list(&self, items: &'a [Node]) -> Out<'a> {
        let items: Result<Vec<Value>, _> = items
            .iter()
            .map(|i| self.eval(i).map(Cow::into_owned))
            .collect();
        Ok(Cow::Owned(Value::Array(items?)))
    }

    fn binary_node(&self, node: &Node, op: BinOp, lhs: &'a Node, rhs: &'a Node) -> Out<'a> {
        let a = self.eval(lhs)?;
        let b = self.eval(rhs)?;
        self.binary(node, op, &a, &b)
    }

    /// Short-circuit `and` (`is_and`) or `or`.
    fn and_or(&self, lhs: &'a Node, rhs: &'a Node, is_and: bool) -> Out<'a> {
        let v = if self.eval_bool(lhs)? == is_and {
            self.eval_bool(rhs)?
        } else {
            !is_and
        };
        Ok(Cow::Owned(Value::Bool(v)))
    }

    fn cond(&self, c: &'a Node, then: &'a Node, other: &'a Node) -> Out<'a> {
        if self.eval_bool(c)? {
            self.eval(then)
        } else {
            self.eval(other)
        }
    }

    fn unary(&self, node: &Node, op: UnOp, operand: &'a Node) -> Out<'a> {
        match op {
            UnOp::Empty => self.empty(operand),
            UnOp::Not => self.not(operand),
            UnOp::Neg => self.negate(node, operand),
        }
    }

    fn empty(&self, operand: &'a Node) -> Out<'a> {
        let v = self.eval_path(operand, true)?;
        Ok(Cow::Owned(Value::Bool(coerce::is_empty(&v))))
    }

    fn not(&self, operand: &'a Node) -> Out<'a> {
        let b = self.eval_bool(operand)?;
        Ok(Cow::Owned(Value::Bool(!b)))
    }

    fn negate(&self, node: &Node, operand: &'a Node) -> Out<'a> {
        let v = self.eval_path(operand, false)?;
        self.owned(node, coerce::negate(&v))
    }

    fn binary(&self, node: &Node, op: BinOp, a: &Value, b: &Value) -> Out<'a> {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let r = match op {
            BinOp::Add => coerce::add(a, b),
            BinOp::Sub => coerce::arith(a, b, i64::checked_sub, |x, y| x - y),
            BinOp::Mul => coerce::arith(a, b, i64::checked_mul, |x, y| x * y),
            BinOp::Div => coerce::divide(a, b),
            BinOp::Mod => coerce::modulo(a, b),
            BinOp::Eq => coerce::equals(a, b).map(Value::Bool),
            BinOp::Ne => coerce::equals(a, b).map(|e| Value::Bool(!e)),
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => coerce::compare(a, b).map(|ord| {
                Value::Bool(match (op, ord) {
                    (_, None) => false,
                    (BinOp::Lt, Some(o)) => o == Less,
                    (BinOp::Gt, Some(o)) => o == Greater,
                    (BinOp::Le, Some(o)) => o != Greater,
                    (_, Some(o)) => o == Greater || o == Equal,
                })
            }),
        };
        self.owned(node, r)
    }

    /// `base.name`: a member of an object, null for a missing member or a null base.
    fn property(&self, node: &Node, base: Cow<'a, Value>, name: &str) -> Out<'a> {
        match base {
            Cow::Borrowed(Value::Object(m)) => Ok(Cow::Borrowed(m.get(name).unwrap_or(&NULL))),
            Cow::Owned(Value::Object(mut m)) => {
                Ok(Cow::Owned(m.remove(name).unwrap_or(Value::Null)))
            }
            Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Ok(Cow::Borrowed(&NULL)),
            // `list['1']` is parsed as a property; JUEL reads it as an index.
            Cow::Borrowed(Value::Array(_)) | Cow::Owned(Value::Array(_))
                if coerce::parse_num(name).is_some() =>
            {
                let key = Value::String(name.to_string());
                self.index(node, base, &key)
            }
            other => Err(EvalError::NotAProperty {
                expr: node.text(self.src).to_string(),
                property: name.to_string(),
                ty: type_name(&other),
            }),
        }
    }

    /// `base[index]`: arrays by integer position (out of range is null),
    /// objects by the index's text.
    fn index(&self, node: &Node, base: Cow<'a, Value>, index: &Value) -> Out<'a> {
        if index.is_null() || base.is_null() {
            return Ok(Cow::Borrowed(&NULL));
        }
        match &*base {
            Value::Array(items) => {
                let i = match index {
                    Value::Number(_) | Value::String(_) => coerce::to_num(index).ok(),
                    _ => None,
                };
                let Some(i) = i else {
                    return Err(self.fault(
                        node,
                        Fault::Type(format!(
                            "array index must be an integer, got {}",
                            describe(index)
                        )),
                    ));
                };
                let i = match i {
                    coerce::Num::Int(i) => i,
                    coerce::Num::Float(f) => f as i64,
                };
                let Some(i) = usize::try_from(i).ok().filter(|i| *i < items.len()) else {
                    return Ok(Cow::Borrowed(&NULL));
                };
                Ok(match base {
                    Cow::Borrowed(Value::Array(items)) => {
                        items.get(i).map_or(Cow::Borrowed(&NULL), Cow::Borrowed)
                    }
                    Cow::Owned(Value::Array(mut items)) => Cow::Owned(items.swap_remove(i)),
                    _ => Cow::Borrowed(&NULL),
                })
            }
            Value::Object(_) => match index {
                Value::Array(_) | Value::Object(_) => Err(self.fault(
                    node,
                    Fault::Type(format!(
                        "object key must be a string, got {}",
                        describe(index)
                    )),
                )),
                key => {
                    let key = coerce::to_text(key);
                    self.property(node, base, &key)
                }
            },
            other => Err(EvalError::NotAProperty {
                expr: node.text(self.src).to_string(),
                property: coerce::to_text(index).into_owned(),
                ty: type_name(other),
            }),
        }
    }

    fn call(&self, node: &Node, base: &'a Node, method: &str, args: &'a [Node]) -> Out<'a> {
        let recv = self.eval(base)?;
        let args: Vec<Cow<'a, Value>> = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<_, _>>()?;
        let expr = || node.text(self.src).to_string();
        match methods::call(&recv, method, &args) {
            Ok(v) => Ok(Cow::Owned(v)),
            Err(MethodFault::Unknown) => Err(EvalError::UnknownMethod {
                expr: expr(),
                method: method.to_string(),
                ty: type_name(&recv),
            }),
            Err(MethodFault::Bad(message)) => Err(EvalError::Method {
                expr: expr(),
                method: method.to_string(),
                message,
            }),
        }
    }
}
