//! BPMN 2.0 specification constraints checked on the raw XML tree.
//!
//! Codes follow BPMNspector: `EXT.nnn` for the constraints the specification
//! states in its text (numbered as in Geiger, *BPMN 2.0 Process Model
//! Serialization Constraints*, 2013), `REF` for references that name a missing
//! element or one of the wrong type, `XSD` for schema-level faults. The checker
//! is total: it never panics and reports every violation it finds.
//!
//! Not checked: EXT.001 (imported files must exist — no I/O), EXT.005
//! (non-standard artifacts), and EXT.053 (`scriptFormat` required whenever a
//! script is present), which the engine's own conformance suite omits because
//! the engine supplies a default script language.
//!
//! Deliberate readings where the letter of a rule would reject sound models:
//! an untyped sequence flow condition counts as natural language (EXT.012) only
//! when it reads as prose; well-known script language names pass as
//! `scriptFormat` (EXT.145); empty expression bodies (EXT.013) and name-paired
//! links (EXT.124/125) are accepted in non-executable processes; call activity
//! interfaces (EXT.063) are compared only when both sides declare one; XML Schema
//! types (`xsd:string`) are accepted where an item definition is expected; a
//! vendor `collection` attribute (`camunda:`, `flowable:`, `activiti:collection`,
//! Zeebe's `inputCollection`) counts as a multi-instance input collection
//! (EXT.067) in every document.
//!
//! QName references are resolved exactly, with the prefix bindings in scope at
//! the referring element ([`crate::qname`]): a prefix bound to the definitions'
//! `targetNamespace` (or no prefix) refers into this document and must resolve; a
//! prefix bound to the namespace of an `<import>` is external and not checked (no
//! I/O); an undeclared prefix, or one bound to any other namespace, is `REF`.
//!
//! # Vendor-authored documents
//!
//! Processes exported from Camunda Modeler, Flowable or bpmn-js must run
//! unchanged, and those tools write some things the specification's letter
//! forbids. A document is *vendor-authored* ([`crate::vendor::is_vendor_authored`])
//! when an element or attribute anywhere in it is in the Camunda 7, Camunda 8
//! (Zeebe), Flowable, Activiti or Baton namespace (declaring the namespace is not
//! enough), or when `<definitions exporter>` starts with `Camunda Modeler`,
//! `Camunda Web Modeler`, `bpmn-js` or `Flowable`. The decision comes from the
//! document alone. For such documents, and only for them, these rules are read
//! the way the vendor engines read them; everything else stays strict (betsy's
//! deployment-must-fail files are plain BPMN and all stay rejected):
//!
//! - EXT.127 / EXT.128: message events may name no message or operation (the
//!   implementation, e.g. `camunda:class`, sends it);
//! - EXT.124 / EXT.125: link events are paired by name, without `<source>` /
//!   `<target>`;
//! - EXT.023: `<incoming>` / `<outgoing>` lists are optional and the sequence
//!   flows are authoritative; every rule counting a node's flows counts both;
//! - EXT.003: sequence flows may have no id (Flowable's own examples);
//! - REF on `calledElement`: a call activity may call a process deployed
//!   separately, by key (or by an expression);
//! - REF on `errorRef` of an error event definition: it may be the error code
//!   itself, with no `<error>` element;
//! - EXT.105, EXT.113, EXT.116, EXT.151: a node without outgoing flows ends its
//!   token (implicit end), and EXT.150: a node without incoming flows is simply
//!   never reached;
//! - EXT.099: a called process may start implicitly (no start event at all);
//! - EXT.012 / EXT.123: expressions without `xsi:type="tFormalExpression"` are
//!   formal expressions in the default language unless they read as prose
//!   (Flowable writes timers and loop conditions untyped).

mod activities;
mod boundary;
mod collab;
mod data;
mod events;
mod expressions;
mod flows;
mod gateways;
mod index;
mod lexical;
mod refs;
mod schema;
mod services;

use crate::diagnostic::Diagnostic;
use crate::xml::Element;

/// Checks a parsed `<definitions>` tree against the specification's constraints.
///
/// Returns every violation found, ordered by position; an empty list means the
/// document is valid as far as these rules can tell.
pub fn check(root: &Element) -> Vec<Diagnostic> {
    let doc = index::Doc::new(root);
    let mut sink = index::Sink::new(&doc);
    schema::check(&mut sink);
    refs::check(&mut sink);
    flows::check(&mut sink);
    gateways::check(&mut sink);
    events::check(&mut sink);
    boundary::check(&mut sink);
    activities::check(&mut sink);
    data::check(&mut sink);
    services::check(&mut sink);
    expressions::check(&mut sink);
    collab::check(&mut sink);
    let mut out = sink.out;
    out.sort_by(|a, b| (a.pos.line, a.pos.col, &a.code).cmp(&(b.pos.line, b.pos.col, &b.code)));
    out.dedup();
    out
}
