//! QName-valued references (`messageRef="tns:m"`, `structureRef="xsd:string"`,
//! `calledElement="other:p"`): which document they point into, decided by the
//! prefix's binding at the referring element.

use crate::xml::{BPMN_NS, Element};

/// Where a reference points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'v> {
    /// An element of this document, by id: the reference is unprefixed, or its
    /// prefix is bound to the definitions' `targetNamespace`.
    Local(&'v str),
    /// An element of an imported document: the prefix is bound to the namespace
    /// of an `<import>`. Not checked here.
    Imported { ns: &'v str, local: &'v str },
    /// The prefix is bound to a namespace that is neither this document's nor
    /// imported (an XML Schema type such as `xsd:string`, or a dangling reference).
    Foreign { ns: &'v str, local: &'v str },
    /// The prefix is not declared at the referring element.
    UnknownPrefix(&'v str),
}

/// The namespaces a document's references may point into.
#[derive(Debug, Clone, Default)]
pub struct Namespaces<'a> {
    /// `targetNamespace` of `<definitions>`.
    pub target: Option<&'a str>,
    /// `namespace` of every `<import>`.
    pub imports: Vec<&'a str>,
}

impl<'a> Namespaces<'a> {
    pub fn of(root: &'a Element) -> Self {
        Namespaces {
            target: root.attr("targetNamespace").map(str::trim),
            imports: root
                .children
                .iter()
                .filter(|c| c.is(BPMN_NS, "import"))
                .filter_map(|c| c.attr("namespace").map(str::trim))
                .collect(),
        }
    }

    /// Classifies the reference `value` written at element `at`.
    pub fn target<'v>(&self, at: &'v Element, value: &'v str) -> Target<'v> {
        let value = value.trim();
        let Some((prefix, local)) = split(value) else {
            // Unprefixed: the default namespace. Tools write local ids this way
            // whatever the default namespace is, unless it is an imported one.
            return match at.namespace_of("") {
                Some(ns) if Some(ns) != self.target && self.imports.contains(&ns) => {
                    Target::Imported { ns, local: value }
                }
                _ => Target::Local(value),
            };
        };
        match at.namespace_of(prefix) {
            None => Target::UnknownPrefix(prefix),
            Some(ns) if Some(ns) == self.target => Target::Local(local),
            Some(ns) if self.imports.contains(&ns) => Target::Imported { ns, local },
            Some(ns) => Target::Foreign { ns, local },
        }
    }

    /// The id a reference names in this document, if it points here at all.
    pub fn local<'v>(&self, at: &'v Element, value: &'v str) -> Option<&'v str> {
        match self.target(at, value) {
            Target::Local(id) => Some(id),
            _ => None,
        }
    }
}

/// `p:l` → `(p, l)` when the value is lexically a prefixed QName; anything else
/// (no colon, spaces, an expression such as `${a ? b : c}`) is not.
pub fn split(value: &str) -> Option<(&str, &str)> {
    let (prefix, local) = value.split_once(':')?;
    (is_ncname(prefix) && is_ncname(local)).then_some((prefix, local))
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn prefixes_resolve_at_the_referring_element() {
        let root = parse(
            r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:tns="urn:t" xmlns:o="urn:o" xmlns:x="urn:x" targetNamespace="urn:t">
                 <import namespace="urn:o" location="o.bpmn" importType="http://www.omg.org/spec/BPMN/20100524/MODEL"/>
                 <process id="p" xmlns:tns="urn:elsewhere"><task id="t"/></process>
               </definitions>"#,
        )
        .unwrap();
        let ns = Namespaces::of(&root);
        let p = &root.children[1];
        assert_eq!(ns.target(&root, "tns:m"), Target::Local("m"));
        assert_eq!(ns.target(&root, " m "), Target::Local("m"));
        assert_eq!(
            ns.target(&root, "o:p"),
            Target::Imported {
                ns: "urn:o",
                local: "p"
            }
        );
        assert_eq!(
            ns.target(&root, "x:p"),
            Target::Foreign {
                ns: "urn:x",
                local: "p"
            }
        );
        assert_eq!(ns.target(&root, "zz:p"), Target::UnknownPrefix("zz"));
        // Redeclared inside the process: no longer the target namespace.
        assert_eq!(
            ns.target(&p.children[0], "tns:m"),
            Target::Foreign {
                ns: "urn:elsewhere",
                local: "m"
            }
        );
        // Not QNames at all.
        assert_eq!(
            ns.target(&root, "${a ? b : c}"),
            Target::Local("${a ? b : c}")
        );
        assert_eq!(ns.target(&root, "a:b:c"), Target::Local("a:b:c"));
    }
}
