//! A flat, parent-linked view of the XML tree with an id index: the queries every rule needs.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::Diagnostic;
use crate::qname::{Namespaces, Target};
use crate::xml::{BPMN_NS, Element, XSI_NS};

/// OMG namespaces whose `id` attributes are XML IDs (model and diagram interchange).
const ID_NAMESPACES: &[&str] = &[
    BPMN_NS,
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
];

pub(super) const SUBPROCESSES: &[&str] = &["subProcess", "transaction", "adHocSubProcess"];
pub(super) const ACTIVITIES: &[&str] = &[
    "task",
    "sendTask",
    "receiveTask",
    "serviceTask",
    "userTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
];
pub(super) const GATEWAYS: &[&str] = &[
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "complexGateway",
    "eventBasedGateway",
];
pub(super) const EVENTS: &[&str] = &[
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "implicitThrowEvent",
];
pub(super) const CHOREOGRAPHY_ACTIVITIES: &[&str] =
    &["choreographyTask", "subChoreography", "callChoreography"];
pub(super) const ARTIFACTS: &[&str] = &["association", "group", "textAnnotation"];
pub(super) const EVENT_DEFINITIONS: &[&str] = &[
    "messageEventDefinition",
    "timerEventDefinition",
    "escalationEventDefinition",
    "conditionalEventDefinition",
    "linkEventDefinition",
    "errorEventDefinition",
    "cancelEventDefinition",
    "compensateEventDefinition",
    "signalEventDefinition",
    "terminateEventDefinition",
];
/// Containers whose children form one "process level".
pub(super) const LEVELS: &[&str] = &["process", "subProcess", "transaction", "adHocSubProcess"];

pub(super) struct Node<'a> {
    pub el: &'a Element,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
}

/// The document: every element in document order, with parents and an id index.
pub(super) struct Doc<'a> {
    pub nodes: Vec<Node<'a>>,
    /// First BPMN element carrying each id.
    ids: HashMap<&'a str, usize>,
    /// Elements (any OMG namespace) whose id was already taken: (node, first holder).
    pub duplicates: Vec<(usize, usize)>,
    /// `targetNamespace` and imported namespaces, for QName references.
    pub names: Namespaces<'a>,
    /// Written by a vendor modeler: the compatibility readings apply (see `constraints`).
    pub vendor: bool,
    /// Elements pointing at an id through one of the [`BACK_REFS`] attributes.
    back: HashMap<(&'static str, &'static str, &'a str), Vec<usize>>,
    /// `(parent, kind)` for every BPMN child: "has a child of this kind" in O(1).
    kinds: HashSet<(usize, &'a str)>,
    /// `(parent, kind, id)` for every BPMN child whose text refers to `id` in this
    /// document (`<incoming>f1</incoming>`): "lists this id" in O(1).
    listed: HashSet<(usize, &'a str, &'a str)>,
}

/// `(element, attribute)` references indexed backwards, for "who points at me" queries.
const BACK_REFS: &[(&str, &str)] = &[
    ("sequenceFlow", "sourceRef"),
    ("sequenceFlow", "targetRef"),
    ("boundaryEvent", "attachedToRef"),
    ("association", "sourceRef"),
];

impl<'a> Doc<'a> {
    pub fn new(root: &'a Element) -> Self {
        let mut nodes: Vec<Node<'a>> = Vec::new();
        let mut stack: Vec<(&'a Element, Option<usize>)> = vec![(root, None)];
        while let Some((el, parent)) = stack.pop() {
            let i = nodes.len();
            nodes.push(Node {
                el,
                parent,
                children: Vec::new(),
            });
            if let Some(p) = parent.and_then(|p| nodes.get_mut(p)) {
                p.children.push(i);
            }
            for c in el.children.iter().rev() {
                stack.push((c, Some(i)));
            }
        }
        let mut ids: HashMap<&'a str, usize> = HashMap::new();
        let mut any: HashMap<&'a str, usize> = HashMap::new();
        let mut duplicates = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            let in_omg =
                n.el.ns
                    .as_deref()
                    .is_some_and(|ns| ID_NAMESPACES.contains(&ns));
            let Some(id) = n.el.attr("id").map(str::trim).filter(|s| !s.is_empty()) else {
                continue;
            };
            if !in_omg {
                continue;
            }
            match any.get(id) {
                Some(&first) => duplicates.push((i, first)),
                None => {
                    any.insert(id, i);
                }
            }
            if n.el.ns.as_deref() == Some(BPMN_NS) {
                ids.entry(id).or_insert(i);
            }
        }
        let names = Namespaces::of(root);
        let mut back: HashMap<(&'static str, &'static str, &'a str), Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for &(kind, attr) in BACK_REFS {
                if n.el.is_bpmn(kind)
                    && let Some(id) = n.el.attr(attr).and_then(|v| names.local(n.el, v))
                {
                    back.entry((kind, attr, id)).or_default().push(i);
                }
            }
        }
        let mut kinds = HashSet::new();
        let mut listed = HashSet::new();
        for n in &nodes {
            let (Some(p), Some(BPMN_NS)) = (n.parent, n.el.ns.as_deref()) else {
                continue;
            };
            kinds.insert((p, n.el.name.as_str()));
            let text = n.el.text.trim();
            if n.children.is_empty()
                && !text.is_empty()
                && let Target::Local(id) = names.target(n.el, text)
            {
                listed.insert((p, n.el.name.as_str(), id));
            }
        }
        Doc {
            nodes,
            ids,
            duplicates,
            names,
            vendor: crate::vendor::is_vendor_authored(root),
            back,
            kinds,
            listed,
        }
    }

    /// Elements of `kind` whose `attr` names node `i` (see [`BACK_REFS`]).
    pub fn pointing(&self, kind: &'static str, attr: &'static str, i: usize) -> &[usize] {
        self.id(i)
            .and_then(|id| self.back.get(&(kind, attr, id)))
            .map_or(&[], Vec::as_slice)
    }

    pub fn el(&self, i: usize) -> &'a Element {
        self.nodes.get(i).map_or(self.root(), |n| n.el)
    }

    fn root(&self) -> &'a Element {
        // `new` always pushes the root first; this is only a total fallback.
        self.nodes.first().map(|n| n.el).unwrap_or_else(|| empty())
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        self.nodes.get(i).and_then(|n| n.parent)
    }

    pub fn children(&self, i: usize) -> &[usize] {
        self.nodes.get(i).map_or(&[], |n| n.children.as_slice())
    }

    /// The local name of a BPMN-namespace element, or "" for anything else.
    pub fn kind(&self, i: usize) -> &'a str {
        let el = self.el(i);
        if el.ns.as_deref() == Some(BPMN_NS) {
            el.name.as_str()
        } else {
            ""
        }
    }

    pub fn is(&self, i: usize, kinds: &[&str]) -> bool {
        let k = self.kind(i);
        !k.is_empty() && kinds.contains(&k)
    }

    pub fn id(&self, i: usize) -> Option<&'a str> {
        self.el(i)
            .attr("id")
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A readable handle for messages: the id, else the element name.
    pub fn label(&self, i: usize) -> String {
        match self.id(i) {
            Some(id) => format!("{} `{id}`", self.kind_or_name(i)),
            None => format!("<{}>", self.kind_or_name(i)),
        }
    }

    /// The nearest enclosing element with an id, for messages about parts without one
    /// (a condition, a timer, a loop characteristic).
    pub fn owner(&self, i: usize) -> String {
        self.ancestors(i)
            .find(|&a| self.id(a).is_some())
            .map_or_else(|| self.label(i), |a| self.label(a))
    }

    fn kind_or_name(&self, i: usize) -> &'a str {
        self.el(i).name.as_str()
    }

    pub fn attr(&self, i: usize, name: &str) -> Option<&'a str> {
        self.el(i).attr(name).map(str::trim)
    }

    pub fn attr_is(&self, i: usize, name: &str, value: &str) -> bool {
        self.attr(i, name) == Some(value)
    }

    /// A boolean attribute with its schema default.
    pub fn flag(&self, i: usize, name: &str, default: bool) -> bool {
        match self.attr(i, name) {
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            _ => default,
        }
    }

    /// Every BPMN element of one of these kinds, in document order.
    pub fn all(&self, kinds: &'static [&'static str]) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(move |&i| self.is(i, kinds))
    }

    /// BPMN children of node `i` of one of these kinds.
    pub fn kids<'s>(&'s self, i: usize, kinds: &'s [&'s str]) -> impl Iterator<Item = usize> + 's {
        self.children(i)
            .iter()
            .copied()
            .filter(move |&c| self.is(c, kinds))
    }

    pub fn kid(&self, i: usize, kind: &str) -> Option<usize> {
        self.children(i)
            .iter()
            .copied()
            .find(|&c| self.kind(c) == kind)
    }

    /// BPMN children named `kind` resolved as references (`<incoming>`, `<sourceRef>` …);
    /// entries that name nothing in this document are left out.
    pub fn ref_texts(&self, i: usize, kind: &str) -> Vec<usize> {
        self.children(i)
            .iter()
            .filter(|&&c| self.kind(c) == kind)
            .filter_map(|&c| self.ref_text(c))
            .collect()
    }

    /// Some BPMN child of `i` named `kind` refers to the id `id`.
    pub fn lists(&self, i: usize, kind: &str, id: &str) -> bool {
        self.listed.contains(&(i, kind, id))
    }

    /// Node `i` has a BPMN child of this kind.
    pub fn has_kid(&self, i: usize, kind: &str) -> bool {
        self.kinds.contains(&(i, kind))
    }

    /// Trimmed texts of the BPMN children named `kind` (reference lists such as `incoming`).
    pub fn texts(&self, i: usize, kind: &str) -> Vec<&'a str> {
        self.children(i)
            .iter()
            .filter(|&&c| self.kind(c) == kind)
            .map(|&c| self.el(c).text.trim())
            .collect()
    }

    pub fn ancestors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.parent(i), move |&p| self.parent(p))
    }

    /// The nearest ancestor of one of these kinds.
    pub fn up(&self, i: usize, kinds: &[&str]) -> Option<usize> {
        self.ancestors(i).find(|&a| self.is(a, kinds))
    }

    /// Inside a process marked `isExecutable="true"`.
    pub fn executable(&self, i: usize) -> bool {
        self.up(i, &["process"])
            .is_some_and(|p| self.flag(p, "isExecutable", false))
    }

    /// The node `i` when it is a process, else its enclosing process.
    pub fn process_of(&self, i: usize) -> Option<usize> {
        if self.kind(i) == "process" {
            Some(i)
        } else {
            self.up(i, &["process"])
        }
    }

    /// Where the reference `value`, written at node `at`, points.
    pub fn target<'v>(&self, at: usize, value: &'v str) -> Target<'v>
    where
        'a: 'v,
    {
        self.names.target(self.el(at), value)
    }

    /// Resolves an id or QName reference written at node `at` to a BPMN element
    /// of this document; references into other documents resolve to nothing.
    pub fn resolve(&self, at: usize, value: &str) -> Option<usize> {
        match self.target(at, value) {
            Target::Local(id) => self.ids.get(id).copied(),
            _ => None,
        }
    }

    /// Resolves the reference in attribute `attr` of node `i`.
    pub fn ref_attr(&self, i: usize, attr: &str) -> Option<usize> {
        self.attr(i, attr).and_then(|v| self.resolve(i, v))
    }

    /// Resolves the reference held in the text of node `i` (`<incoming>`, `<messageRef>`).
    pub fn ref_text(&self, i: usize) -> Option<usize> {
        self.resolve(i, self.el(i).text.trim())
    }

    /// The reference `value` written at node `at` names the id `id` of this document.
    pub fn names_id(&self, at: usize, value: &str, id: &str) -> bool {
        self.target(at, value) == Target::Local(id)
    }

    /// How many sequence flows enter node `i`: its `<incoming>` entries; in a
    /// vendor-authored document, where the flows are authoritative and the lists
    /// optional (Flowable writes none), also every flow whose `targetRef` names it.
    pub fn incoming(&self, i: usize) -> usize {
        self.flow_count(i, "incoming", "targetRef")
    }

    /// How many sequence flows leave node `i` (see [`Doc::incoming`]).
    pub fn outgoing(&self, i: usize) -> usize {
        self.flow_count(i, "outgoing", "sourceRef")
    }

    fn flow_count(&self, i: usize, list: &str, attr: &'static str) -> usize {
        let listed = self.texts(i, list).len();
        if !self.vendor {
            return listed;
        }
        let unlisted = self
            .pointing("sequenceFlow", attr, i)
            .iter()
            .filter(|&&f| self.id(f).is_none_or(|id| !self.lists(i, list, id)))
            .count();
        listed + unlisted
    }

    /// Event definitions of an event: its own children plus `eventDefinitionRef`s.
    pub fn event_defs(&self, i: usize) -> Vec<(&'a str, usize)> {
        let mut out = Vec::new();
        for &c in self.children(i) {
            let k = self.kind(c);
            if EVENT_DEFINITIONS.contains(&k) {
                out.push((k, c));
            } else if k == "eventDefinitionRef"
                && let Some(d) = self.ref_text(c)
                && self.is(d, EVENT_DEFINITIONS)
            {
                out.push((self.kind(d), d));
            }
        }
        out
    }

    pub fn has_def(&self, i: usize, kind: &str) -> bool {
        self.event_defs(i).iter().any(|(k, _)| *k == kind)
    }

    /// `isForCompensation="true"`.
    pub fn compensation(&self, i: usize) -> bool {
        self.flag(i, "isForCompensation", false)
    }

    pub fn event_subprocess(&self, i: usize) -> bool {
        self.kind(i) == "subProcess" && self.flag(i, "triggeredByEvent", false)
    }

    /// The `xsi:type` of an expression names `tFormalExpression` (any prefix).
    pub fn formal(&self, i: usize) -> bool {
        let el = self.el(i);
        el.name == "formalExpression"
            || el
                .attr_ns(XSI_NS, "type")
                .is_some_and(|t| local(t.trim()) == "tFormalExpression")
    }

    /// The item definition behind an item-aware element, following data object and
    /// data store references.
    pub fn item_of(&self, i: usize) -> Option<ItemRef<'a>> {
        match self.kind(i) {
            "dataObjectReference" => self
                .ref_attr(i, "dataObjectRef")
                .and_then(|d| self.item_ref(d))
                .or_else(|| self.item_ref(i)),
            "dataStoreReference" => self
                .ref_attr(i, "dataStoreRef")
                .and_then(|d| self.item_ref(d))
                .or_else(|| self.item_ref(i)),
            _ => self.item_ref(i),
        }
    }

    /// `itemSubjectRef` of node `i`, with the node it is written at.
    fn item_ref(&self, i: usize) -> Option<ItemRef<'a>> {
        self.attr(i, "itemSubjectRef").map(|r| ItemRef { at: i, r })
    }

    /// Two item definition references denote the same type: the same definition, or
    /// definitions with the same `structureRef` (compared by namespace and local name).
    pub fn same_item(&self, a: ItemRef, b: ItemRef) -> bool {
        let (ta, tb) = (self.target(a.at, a.r), self.target(b.at, b.r));
        if ta == tb {
            return true;
        }
        match (self.structure(a), self.structure(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// The `structureRef` of the item definition an item reference names, resolved
    /// to (namespace, local name) where its prefix is declared.
    pub fn structure(&self, item: ItemRef) -> Option<(Option<&'a str>, &'a str)> {
        let d = self.resolve(item.at, item.r)?;
        let s = self.attr(d, "structureRef")?;
        Some(match crate::qname::split(s) {
            Some((p, l)) => (self.el(d).namespace_of(p), l),
            None => (None, s),
        })
    }

    /// The node to blame: `i` if it has an id, else its nearest ancestor with one.
    pub fn blame(&self, i: usize) -> Option<&'a str> {
        std::iter::once(i)
            .chain(self.ancestors(i))
            .find_map(|a| self.id(a))
    }
}

/// A reference to an item definition (`itemSubjectRef`, `itemRef`, …) with the
/// node it is written at, which its prefix is resolved against.
#[derive(Clone, Copy)]
pub(super) struct ItemRef<'a> {
    pub at: usize,
    pub r: &'a str,
}

impl std::fmt::Display for ItemRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.r)
    }
}

/// The local part of a QName, lexically (`bpmn:tFormalExpression` → `tFormalExpression`).
pub(super) fn local(value: &str) -> &str {
    let v = value.trim();
    v.rsplit_once(':').map_or(v, |(_, l)| l)
}

/// "a timer trigger", "an error trigger" for an event definition kind.
pub(super) fn trigger_name(kind: &str) -> String {
    let short = kind.strip_suffix("EventDefinition").unwrap_or(kind);
    let article = if short.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {short} trigger")
}

fn empty() -> &'static Element {
    static EMPTY: std::sync::OnceLock<Element> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Element::default)
}

/// Collects diagnostics, blaming the nearest element with an id.
pub(super) struct Sink<'d, 'a> {
    pub doc: &'d Doc<'a>,
    pub out: Vec<Diagnostic>,
}

impl<'d, 'a> Sink<'d, 'a> {
    pub fn new(doc: &'d Doc<'a>) -> Self {
        Sink {
            doc,
            out: Vec::new(),
        }
    }

    pub fn report(&mut self, code: &str, i: usize, message: impl Into<String>) {
        let doc = self.doc;
        self.out
            .push(Diagnostic::new(code, doc.blame(i), doc.el(i).pos, message));
    }

    /// One fault that several catalogue entries describe: one diagnostic per code.
    pub fn report_all(&mut self, codes: &[&str], i: usize, message: &str) {
        for code in codes {
            self.report(code, i, message);
        }
    }
}
