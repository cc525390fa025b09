//! Where root identifiers get their values: maps, JSON objects, closures,
//! and layers of scopes searched in order.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::Value;

/// Variable lookup. Root identifiers resolve through this.
pub trait Scope {
    /// The value of `name`, or `None` if the scope does not define it.
    fn lookup(&self, name: &str) -> Option<Value>;

    /// Like [`Scope::lookup`], borrowing when the scope stores the value, so
    /// that evaluating `a.b` does not clone all of `a`. Override it when you can.
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.lookup(name).map(Cow::Owned)
    }
}

impl Scope for serde_json::Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

impl<S: BuildHasher> Scope for HashMap<String, Value, S> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

impl Scope for BTreeMap<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

/// A JSON object's members are variables; any other value defines none.
impl Scope for Value {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.as_object().and_then(|m| m.get(name)).cloned()
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.as_object()
            .and_then(|m| m.get(name))
            .map(Cow::Borrowed)
    }
}

/// A closure `|name| -> Option<Value>` is a scope.
impl<F: Fn(&str) -> Option<Value>> Scope for F {
    fn lookup(&self, name: &str) -> Option<Value> {
        self(name)
    }
}

fn first_lookup<'s>(layers: &'s [&dyn Scope], name: &str) -> Option<Cow<'s, Value>> {
    layers.iter().find_map(|s| s.lookup_ref(name))
}

/// Layers: the first scope that defines a name wins (e.g. built-ins, node
/// outputs, process variables, globals).
impl Scope for &[&dyn Scope] {
    fn lookup(&self, name: &str) -> Option<Value> {
        first_lookup(self, name).map(Cow::into_owned)
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        first_lookup(self, name)
    }
}

/// Layers, as [`Scope`] for `&[&dyn Scope]`.
impl<const N: usize> Scope for [&dyn Scope; N] {
    fn lookup(&self, name: &str) -> Option<Value> {
        first_lookup(self, name).map(Cow::into_owned)
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        first_lookup(self, name)
    }
}

/// Layers, as [`Scope`] for `&[&dyn Scope]`.
impl Scope for Vec<&dyn Scope> {
    fn lookup(&self, name: &str) -> Option<Value> {
        first_lookup(self, name).map(Cow::into_owned)
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        first_lookup(self, name)
    }
}

/// The empty scope: every name is unknown.
impl Scope for () {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
}
