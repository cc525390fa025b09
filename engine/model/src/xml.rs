//! A small namespace-resolved XML tree with source positions.
//!
//! quick-xml gives events; BPMN compilation and constraint checks want a tree
//! they can walk in any order, with every element knowing its namespace URI
//! (never its prefix) and its `line:column` for diagnostics. The namespace
//! declarations in scope stay reachable from every element, because BPMN puts
//! QNames in attribute values and texts (`messageRef="tns:m"`), whose prefixes
//! only the declarations can resolve ([`Element::namespace_of`]).

use std::fmt;
use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// The BPMN 2.0 model namespace.
pub const BPMN_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
/// XML Schema instance namespace (`xsi:type`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace the `xml` prefix is bound to by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A position in the source document, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// An attribute with its resolved namespace (`None` for unprefixed attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

/// The namespace declarations in scope at an element: those of the nearest
/// declaring element, linked to the ones further out. Elements that declare
/// nothing share their parent's scope, so a document costs one link per
/// declaring element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// `(prefix, uri)` as declared; prefix `""` is the default namespace, and an
    /// empty uri undeclares it.
    pub decls: Vec<(String, String)>,
    pub outer: Option<Arc<Scope>>,
}

/// An element: resolved name, attributes, children and its text content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Concatenated text and CDATA directly inside this element.
    pub text: String,
    pub pos: Pos,
    /// Namespace declarations in scope, for QName-valued attributes and texts
    /// (`messageRef="tns:m"`, `structureRef="xsd:string"`). `None`: nothing declared.
    pub scope: Option<Arc<Scope>>,
}

impl Element {
    /// True when this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// True when this element is in the BPMN model namespace with the given name.
    pub fn is_bpmn(&self, name: &str) -> bool {
        self.is(BPMN_NS, name)
    }

    /// An unprefixed attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// A namespaced attribute's value.
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Children in the BPMN namespace.
    pub fn bpmn_children(&self) -> impl Iterator<Item = &Element> {
        self.children
            .iter()
            .filter(|c| c.ns.as_deref() == Some(BPMN_NS))
    }

    /// The first BPMN child with this local name.
    pub fn bpmn_child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is_bpmn(name))
    }

    /// All BPMN children with this local name.
    pub fn bpmn_children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is_bpmn(name))
    }

    /// The trimmed text of this element.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// The namespace a prefix is bound to at this element (`""`: the default
    /// namespace). `None` when the prefix is not declared.
    pub fn namespace_of(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        let mut scope = self.scope.as_deref();
        while let Some(s) = scope {
            if let Some((_, uri)) = s.decls.iter().rev().find(|(p, _)| p == prefix) {
                return (!uri.is_empty()).then_some(uri.as_str());
            }
            scope = s.outer.as_deref();
        }
        None
    }

    /// Depth-first walk over this element and all its descendants.
    pub fn walk(&self, f: &mut dyn FnMut(&Element)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// A document that is not well-formed XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: malformed XML: {message}")]
pub struct XmlError {
    pub pos: Pos,
    pub message: String,
}

/// Maps byte offsets to line:column.
struct LineIndex {
    starts: Vec<usize>,
    /// The last answer `(offset, column)`: the parser asks in increasing order,
    /// so a long line (minified XML) is counted once, not once per element.
    last: std::cell::Cell<(usize, usize)>,
}

impl LineIndex {
    fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            starts,
            last: std::cell::Cell::new((0, 0)),
        }
    }

    fn pos(&self, src: &str, offset: usize) -> Pos {
        let offset = offset.min(src.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let (last_offset, last_col) = self.last.get();
        let (from, base) = if (start..=offset).contains(&last_offset) {
            (last_offset, last_col)
        } else {
            (start, 0)
        };
        let col = base
            + src
                .get(from..offset)
                .map_or(offset - from, |s| s.chars().count());
        self.last.set((offset, col));
        Pos {
            line: line as u32,
            col: col as u32 + 1,
        }
    }
}

/// Nesting deeper than this is refused (a guard against stack exhaustion).
const MAX_DEPTH: usize = 512;

/// Parses a whole document and returns its root element.
pub fn parse(src: &str) -> Result<Element, XmlError> {
    let lines = LineIndex::new(src);
    let mut reader = NsReader::from_str(src);
    reader.config_mut().expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    // The namespace scope of each open element, aligned with `stack`.
    let mut scopes: Vec<Option<Arc<Scope>>> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let (ns, event) = match reader.read_resolved_event() {
            Ok(ok) => ok,
            Err(e) => {
                let at = reader.error_position() as usize;
                return Err(XmlError {
                    pos: lines.pos(src, at),
                    message: e.to_string(),
                });
            }
        };
        let err = |message: String| XmlError {
            pos: lines.pos(src, before),
            message,
        };
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                return Err(err(format!("unknown namespace prefix `{p}`")));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                // The element starts at the `<` after any leading whitespace.
                let start = src[before..].find('<').map_or(before, |i| before + i);
                let mut el = Element {
                    ns,
                    name: e.local_name().as_ref().to_owned(),
                    pos: lines.pos(src, start),
                    scope: scopes.last().cloned().flatten(),
                    ..Element::default()
                };
                let mut decls = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| err(format!("bad attribute: {e}")))?;
                    let key = a.key;
                    if let Some(prefix) = declared_prefix(key.as_ref()) {
                        let uri = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| err(format!("bad attribute value: {e}")))?;
                        decls.push((prefix.to_owned(), uri.into_owned()));
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(key);
                    let ans = match ans {
                        ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(p) => {
                            return Err(err(format!("unknown namespace prefix `{p}`")));
                        }
                    };
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| err(format!("bad attribute value: {e}")))?;
                    el.attrs.push(Attr {
                        ns: ans,
                        name: local.as_ref().to_owned(),
                        value: value.into_owned(),
                    });
                }
                if !decls.is_empty() {
                    el.scope = Some(Arc::new(Scope {
                        decls,
                        outer: el.scope.take(),
                    }));
                }
                if empty {
                    attach(&mut stack, &mut root, el, &err)?;
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return Err(err(format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    scopes.push(el.scope.clone());
                    stack.push(el);
                }
            }
            Event::End(_) => {
                scopes.pop();
                let el = stack
                    .pop()
                    .ok_or_else(|| err("unexpected end tag".into()))?;
                attach(&mut stack, &mut root, el, &err)?;
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(err("text outside the root element".into()));
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match &*r {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "apos" => "'".into(),
                        "quot" => "\"".into(),
                        other => return Err(err(format!("unknown entity `&{other};`"))),
                    },
                    Err(e) => return Err(err(format!("bad character reference: {e}"))),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&ch);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            pos: open.pos,
            message: format!("element <{}> is never closed", open.name),
        });
    }
    root.ok_or_else(|| XmlError {
        pos: Pos { line: 1, col: 1 },
        message: "no root element".into(),
    })
}

/// `xmlns` → `""`, `xmlns:p` → `p`; anything else is an ordinary attribute.
fn declared_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("xmlns")?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix(':')
    }
}

fn attach(
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
    err: &dyn Fn(String) -> XmlError,
) -> Result<(), XmlError> {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(el);
    } else if root.is_some() {
        return Err(err("more than one root element".into()));
    } else {
        *root = Some(el);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_namespaces_by_uri_and_positions() {
        let src = "<?xml version=\"1.0\"?>\n<x:definitions xmlns:x=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n  <x:process id=\"p\" name=\"a &amp; b\"><x:documentation>t&lt;1</x:documentation></x:process>\n</x:definitions>";
        let root = parse(src).unwrap();
        assert!(root.is_bpmn("definitions"));
        let p = root.bpmn_child("process").unwrap();
        assert_eq!(p.attr("name"), Some("a & b"));
        assert_eq!(p.pos, Pos { line: 3, col: 3 });
        assert_eq!(p.bpmn_child("documentation").unwrap().text, "t<1");
    }

    #[test]
    fn prefixes_in_values_resolve_through_the_declarations_in_scope() {
        let root = parse(
            r#"<a xmlns="urn:d" xmlns:p="urn:p"><b xmlns:p="urn:q" xmlns:r="urn:r"><c/></b><d xmlns=""/></a>"#,
        )
        .unwrap();
        let (b, d) = (&root.children[0], &root.children[1]);
        let c = &b.children[0];
        assert_eq!(root.namespace_of("p"), Some("urn:p"));
        assert_eq!(
            c.namespace_of("p"),
            Some("urn:q"),
            "the inner declaration shadows"
        );
        assert_eq!(c.namespace_of("r"), Some("urn:r"));
        assert_eq!(root.namespace_of("r"), None, "out of scope");
        assert_eq!(c.namespace_of(""), Some("urn:d"));
        assert_eq!(d.namespace_of(""), None, "undeclared default namespace");
        assert_eq!(d.namespace_of("xml"), Some(XML_NS));
        assert!(
            c.attrs.is_empty() && b.attrs.is_empty(),
            "declarations are not attributes"
        );
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        let root = parse("<a>é<b/>é<c/>\n  <d/><e/></a>").unwrap();
        let cols: Vec<(u32, u32)> = root
            .children
            .iter()
            .map(|c| (c.pos.line, c.pos.col))
            .collect();
        assert_eq!(cols, [(1, 5), (1, 10), (2, 3), (2, 7)]);
    }

    #[test]
    fn malformed_reports_position() {
        let e = parse("<a>\n<b></a>").unwrap_err();
        assert_eq!(e.pos.line, 2, "{e}");
        assert!(parse("").is_err());
        assert!(
            parse("<a xmlns:q='u'><z:b/></a>")
                .unwrap_err()
                .message
                .contains("prefix")
        );
    }
}
