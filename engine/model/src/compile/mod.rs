//! XML tree → [`Model`]: resolve references, read each element's semantics,
//! reject what the engine cannot execute, and run graph analyses.

mod analysis;
mod correlation;
mod events;
mod ext;
mod nodes;

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Rejected};
use crate::model::{El, Element, Fl, Flow, Kind, Model, Named};
use crate::qname::Namespaces;
use crate::xml::{self, BPMN_NS, Pos};

/// Parse, check constraints and compile a BPMN 2.0 document.
///
/// Nothing is half-accepted: any diagnostic rejects the whole document.
pub fn compile(src: &str) -> Result<Model, Rejected> {
    let root = xml::parse(src)
        .map_err(|e| Rejected(vec![Diagnostic::new("xml", None, e.pos, e.message)]))?;
    compile_tree(&root)
}

/// Compile an already parsed tree.
pub fn compile_tree(root: &xml::Element) -> Result<Model, Rejected> {
    if !root.is_bpmn("definitions") {
        return Err(Rejected(vec![Diagnostic::new(
            "xml",
            root.attr("id"),
            root.pos,
            format!(
                "the root element must be BPMN 2.0 <definitions> in namespace {BPMN_NS}, found <{}>{}",
                root.name,
                root.ns
                    .as_deref()
                    .map(|n| format!(" in {n}"))
                    .unwrap_or_default()
            ),
        )]));
    }
    let mut diags = crate::constraints::check(root);
    let mut c = Compiler::new(root);
    c.declare_globals();
    c.declare_processes();
    if c.diags.is_empty() {
        c.fill_processes();
    }
    if c.diags.is_empty() {
        c.finish();
    }
    diags.append(&mut c.diags);
    if !diags.is_empty() {
        diags.sort_by_key(|d| (d.pos.line, d.pos.col));
        diags.dedup();
        return Err(Rejected(diags));
    }
    Ok(c.model)
}

/// A reference to the XML element behind an [`El`] during compilation.
pub(crate) struct Pending<'a> {
    pub xml: &'a xml::Element,
}

pub(crate) struct Compiler<'a> {
    pub root: &'a xml::Element,
    /// For QName references: what is local, what imported.
    pub names: Namespaces<'a>,
    pub model: Model,
    pub diags: Vec<Diagnostic>,
    /// XML of every element, aligned with `model.elements`.
    pub xml_of: Vec<Pending<'a>>,
    /// XML of every flow, aligned with `model.flows`.
    pub flow_xml: Vec<&'a xml::Element>,
    pub flow_index: HashMap<String, Fl>,
    /// Top-level event definitions (for `eventDefinitionRef` and MI behaviour events).
    pub event_defs: HashMap<String, &'a xml::Element>,
    /// Top-level global tasks, for call activities.
    pub global_tasks: HashMap<String, &'a xml::Element>,
    /// The flow node or flow being compiled, blamed for faults in its parts.
    pub current: Option<&'a xml::Element>,
    /// Written by a vendor modeler (see [`crate::vendor`]).
    pub vendor: bool,
}

/// Children of a process or sub-process that are accepted without being flow
/// elements: notation with no execution semantics, and parts of the container
/// itself that [`Compiler::fill_element`] reads (a sub-process's flow lists,
/// loop characteristics and completion condition).
const INERT: &[&str] = &[
    "documentation",
    "extensionElements",
    "incoming",
    "outgoing",
    "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics",
    "completionCondition",
    "supports",
    "categoryValueRef",
    "laneSet",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "property",
    "textAnnotation",
    "association",
    "group",
    "ioSpecification",
    "dataInputAssociation",
    "dataOutputAssociation",
    "auditing",
    "monitoring",
    "categoryValue",
    "supportedInterfaceRef",
    "resourceRole",
    "performer",
    "humanPerformer",
    "potentialOwner",
    "correlationSubscription",
];

impl<'a> Compiler<'a> {
    fn new(root: &'a xml::Element) -> Self {
        Compiler {
            root,
            names: Namespaces::of(root),
            model: Model {
                id: root.attr("id").map(str::to_owned),
                processes: Vec::new(),
                elements: Vec::new(),
                flows: Vec::new(),
                messages: Vec::new(),
                signals: Vec::new(),
                errors: Vec::new(),
                escalations: Vec::new(),
                upstream: HashMap::new(),
                index: HashMap::new(),
            },
            diags: Vec::new(),
            xml_of: Vec::new(),
            flow_xml: Vec::new(),
            flow_index: HashMap::new(),
            event_defs: HashMap::new(),
            global_tasks: HashMap::new(),
            current: None,
            vendor: crate::vendor::is_vendor_authored(root),
        }
    }

    /// A problem at `el`, blamed on its id or, for parts without one (an event
    /// definition, loop characteristics), on the element being compiled.
    pub fn err(&mut self, code: &str, el: &xml::Element, message: impl Into<String>) {
        let id = el
            .attr("id")
            .or_else(|| self.current.and_then(|c| c.attr("id")));
        self.diags.push(Diagnostic::new(code, id, el.pos, message));
    }

    pub fn err_at(&mut self, code: &str, id: Option<&str>, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, id, pos, message));
    }

    /// Messages, signals, errors, escalations, global event definitions and tasks.
    fn declare_globals(&mut self) {
        for g in self.root.bpmn_children() {
            let id = g.attr("id").unwrap_or_default().to_owned();
            let name = g.attr("name").map(str::to_owned);
            let named = |code: Option<&str>| Named {
                name: name.clone().unwrap_or_else(|| id.clone()),
                id: id.clone(),
                code: code.map(str::to_owned),
            };
            match g.name.as_str() {
                "message" => self.model.messages.push(named(None)),
                "signal" => self.model.signals.push(named(None)),
                "error" => self.model.errors.push(named(g.attr("errorCode"))),
                "escalation" => self.model.escalations.push(named(g.attr("escalationCode"))),
                n if n.ends_with("EventDefinition") => {
                    self.event_defs.insert(id, g);
                }
                n if n.starts_with("global") && n.ends_with("Task") => {
                    self.global_tasks.insert(id, g);
                }
                "choreography" | "globalChoreographyTask" => {
                    self.err(
                        "unsupported",
                        g,
                        format!(
                            "<{}> is a choreography; Baton executes processes only",
                            g.name
                        ),
                    );
                }
                _ => {}
            }
        }
    }

    /// Allocate an [`El`] for every process and every flow node inside (recursively),
    /// and an [`Fl`] for every sequence flow, so references can be resolved in any order.
    fn declare_processes(&mut self) {
        let root = self.root;
        for p in root.bpmn_children_named("process") {
            let el = self.declare(p, None, Kind::Process);
            self.model.processes.push(el);
            self.declare_children(p, el);
        }
    }

    fn declare(&mut self, x: &'a xml::Element, parent: Option<El>, kind: Kind) -> El {
        let el = El(self.model.elements.len() as u32);
        let id = x.attr("id").unwrap_or_default().to_owned();
        if id.is_empty() {
            self.err("xml", x, format!("<{}> has no id", x.name));
        } else if self.model.index.insert(id.clone(), el).is_some() {
            self.err(
                "EXT.002",
                x,
                format!("the id `{id}` is used more than once"),
            );
        }
        self.model.elements.push(Element {
            id,
            name: x.attr("name").map(str::to_owned),
            pos: x.pos,
            parent,
            kind,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            default_flow: None,
            boundaries: Vec::new(),
            children: Vec::new(),
            event_subprocesses: Vec::new(),
            start_quantity: 1,
            completion_quantity: 1,
            looping: None,
            for_compensation: false,
            compensation_handler: None,
            ext: None,
            correlation: None,
        });
        self.xml_of.push(Pending { xml: x });
        el
    }

    fn declare_children(&mut self, scope_xml: &'a xml::Element, scope: El) {
        for x in &scope_xml.children {
            if x.ns.as_deref() != Some(BPMN_NS) {
                continue; // foreign extension content outside extensionElements: ignore
            }
            let name = x.name.as_str();
            if name == "sequenceFlow" {
                let fl = Fl(self.model.flows.len() as u32);
                // A missing id is EXT.003, except in vendor documents, whose
                // engines name anonymous flows themselves.
                let id = match x.attr("id").map(str::trim).filter(|s| !s.is_empty()) {
                    Some(id) => id.to_owned(),
                    None if self.vendor => format!("sequenceFlow@{}", x.pos),
                    None => String::new(),
                };
                if !id.is_empty()
                    && (self.flow_index.insert(id.clone(), fl).is_some()
                        || self.model.index.contains_key(&id))
                {
                    self.err(
                        "EXT.002",
                        x,
                        format!("the id `{id}` is used more than once"),
                    );
                }
                self.model.flows.push(Flow {
                    id,
                    source: El(u32::MAX),
                    target: El(u32::MAX),
                    condition: None,
                    pos: x.pos,
                });
                self.flow_xml.push(x);
            } else if nodes::is_flow_node(name) {
                // The kind is a placeholder until `fill_processes` reads the element.
                let el = self.declare(x, Some(scope), Kind::Process);
                if matches!(name, "subProcess" | "transaction" | "adHocSubProcess") {
                    self.declare_children(x, el);
                }
            } else if !INERT.contains(&name) {
                self.err(
                    "unsupported",
                    x,
                    format!(
                        "<{name}> is not executable by Baton (inside `{}`); remove it or replace it with a supported element",
                        scope_xml.attr("id").unwrap_or("?")
                    ),
                );
            }
        }
    }

    fn fill_processes(&mut self) {
        for i in 0..self.model.flows.len() {
            self.fill_flow(Fl(i as u32));
        }
        // Boundary events last: they check the kind of the activity they are
        // attached to, which may come later in the document.
        let boundary = |c: &Self, i: usize| c.xml_of[i].xml.is_bpmn("boundaryEvent");
        for i in 0..self.model.elements.len() {
            if !boundary(self, i) {
                self.fill_element(El(i as u32));
            }
        }
        for i in 0..self.model.elements.len() {
            if boundary(self, i) {
                self.fill_element(El(i as u32));
            }
        }
        self.current = None;
    }

    fn fill_flow(&mut self, fl: Fl) {
        let x = self.flow_xml[fl.0 as usize];
        self.current = Some(x);
        let resolve = |c: &mut Self, attr: &str| -> Option<El> {
            let Some(r) = x.attr(attr) else {
                c.err("XSD", x, format!("sequence flow has no {attr}"));
                return None;
            };
            match c.element_ref(x, r) {
                Some(e) if c.model.element(e).parent.is_some() => Some(e),
                _ => {
                    c.err(
                        "REF",
                        x,
                        format!("{attr} `{r}` is not a flow node of this process"),
                    );
                    None
                }
            }
        };
        let (Some(s), Some(t)) = (resolve(self, "sourceRef"), resolve(self, "targetRef")) else {
            return;
        };
        if self.model.element(s).parent != self.model.element(t).parent {
            self.err(
                "EXT.118",
                x,
                format!(
                    "sequence flow connects `{}` and `{}`, which are in different (sub-)processes",
                    self.model.element(s).id,
                    self.model.element(t).id
                ),
            );
        }
        let condition = x.bpmn_child("conditionExpression").and_then(|c| {
            let text = c.trimmed_text();
            if text.is_empty() {
                return None;
            }
            match baton_expr::parse(text) {
                Ok(e) => Some(e),
                Err(e) => {
                    let hint = feel_hint(text);
                    self.err("expression", x, format!("condition `{text}`: {e}{hint}"));
                    None
                }
            }
        });
        let flow = &mut self.model.flows[fl.0 as usize];
        flow.source = s;
        flow.target = t;
        flow.condition = condition;
        self.model.elements[s.0 as usize].outgoing.push(fl);
        self.model.elements[t.0 as usize].incoming.push(fl);
    }

    /// The id a reference written at `at` names in this document (`None` when it
    /// points into another document or its prefix is unknown).
    pub fn local_id<'v>(&self, at: &'v xml::Element, r: &'v str) -> Option<&'v str> {
        self.names.local(at, r)
    }

    /// The element a reference written at `at` names in this document.
    pub fn element_ref(&self, at: &xml::Element, r: &str) -> Option<El> {
        self.local_id(at, r).and_then(|id| self.model.by_id(id))
    }

    /// Named global lookups by reference, resolved at the referring element.
    pub fn message(&self, at: &xml::Element, r: &str) -> Option<u32> {
        find_named(&self.model.messages, self.local_id(at, r)?)
    }
    pub fn signal(&self, at: &xml::Element, r: &str) -> Option<u32> {
        find_named(&self.model.signals, self.local_id(at, r)?)
    }
    pub fn error_ref(&self, at: &xml::Element, r: &str) -> Option<u32> {
        find_named(&self.model.errors, self.local_id(at, r)?)
    }

    /// An `errorRef` that names no `<error>`: in a vendor document it is the
    /// error code itself (Camunda 7, Flowable and Activiti read it so).
    pub fn error_by_code(&mut self, r: &str) -> Option<u32> {
        let code = r.trim();
        if !self.vendor || code.is_empty() {
            return None;
        }
        if let Some(i) = self.model.errors.iter().position(|e| e.id == code) {
            return Some(i as u32);
        }
        self.model.errors.push(Named {
            id: code.to_owned(),
            name: code.to_owned(),
            code: Some(code.to_owned()),
        });
        Some(self.model.errors.len() as u32 - 1)
    }
    pub fn escalation(&self, at: &xml::Element, r: &str) -> Option<u32> {
        find_named(&self.model.escalations, self.local_id(at, r)?)
    }
}

/// Camunda 8 marks FEEL expressions with a leading `=`; say so rather than
/// leave the reader with a complaint about assignment.
pub(crate) fn feel_hint(text: &str) -> &'static str {
    if text.trim_start().starts_with('=') {
        " (a leading `=` marks a FEEL expression, as Camunda 8 writes them; Baton reads JUEL-style expressions)"
    } else {
        ""
    }
}

fn find_named(v: &[Named], id: &str) -> Option<u32> {
    v.iter().position(|n| n.id == id).map(|i| i as u32)
}
