//! Data rules: collection flags, data object naming, data associations and
//! input/output sets (EXT.020, 076–077, 080, 082–093).

use std::collections::HashSet;

use super::index::{Doc, ItemRef, Sink, local};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    let input_refs = listed(doc, "dataInputRefs");
    let output_refs = listed(doc, "dataOutputRefs");
    for i in 0..doc.nodes.len() {
        match doc.kind(i) {
            "dataObject" => collection(s, i, &["EXT.020", "EXT.077"]),
            "dataInput" => {
                collection(s, i, &["EXT.020"]);
                if doc.id(i).is_some_and(|id| !input_refs.contains(&id)) {
                    s.report(
                        "EXT.084",
                        i,
                        format!("{} is not listed by any inputSet", doc.label(i)),
                    );
                }
            }
            "dataOutput" => {
                collection(s, i, &["EXT.020", "EXT.083"]);
                if doc.id(i).is_some_and(|id| !output_refs.contains(&id)) {
                    s.report(
                        "EXT.088",
                        i,
                        format!("{} is not listed by any outputSet", doc.label(i)),
                    );
                }
            }
            "dataObjectReference" => naming(s, i),
            "dataInputAssociation" | "dataOutputAssociation" => association(s, i),
            "inputSet" => {
                subset(s, i, "optionalInputRefs", "dataInputRefs", "EXT.085");
                subset(s, i, "whileExecutingInputRefs", "dataInputRefs", "EXT.086");
                mutual(s, i, "outputSetRefs", "inputSetRefs");
            }
            "outputSet" => {
                subset(s, i, "optionalOutputRefs", "dataOutputRefs", "EXT.089");
                subset(
                    s,
                    i,
                    "whileExecutingOutputRefs",
                    "dataOutputRefs",
                    "EXT.090",
                );
                mutual(s, i, "inputSetRefs", "outputSetRefs");
            }
            "intermediateThrowEvent" | "endEvent" | "implicitThrowEvent" => {
                event_data(s, i, "dataInput")
            }
            "startEvent" | "intermediateCatchEvent" | "boundaryEvent" => {
                event_data(s, i, "dataOutput")
            }
            _ => {}
        }
    }
}

/// Every id listed in elements of this kind anywhere in the document.
fn listed<'a>(doc: &Doc<'a>, kind: &'static str) -> HashSet<&'a str> {
    (0..doc.nodes.len())
        .filter(|&i| doc.kind(i) == kind)
        .map(|i| local(doc.el(i).text.trim()))
        .collect()
}

/// `isCollection` must agree with the referenced item definition.
fn collection(s: &mut Sink, i: usize, codes: &[&str]) {
    let doc = s.doc;
    let Some(item) = doc.ref_attr(i, "itemSubjectRef") else {
        return;
    };
    if doc.kind(item) != "itemDefinition" {
        return;
    }
    let own = doc.flag(i, "isCollection", false);
    let defined = doc.flag(item, "isCollection", false);
    if own != defined {
        let msg = format!(
            "{} has isCollection={own} but its item definition {} has isCollection={defined}; they must agree",
            doc.label(i),
            doc.label(item)
        );
        s.report_all(codes, i, &msg);
    }
}

/// A data object reference showing a state is named `Data Object Name [State]`.
fn naming(s: &mut Sink, r: usize) {
    let doc = s.doc;
    let Some(name) = doc.attr(r, "name") else {
        return;
    };
    let Some(state) = doc.kid(r, "dataState").and_then(|d| doc.attr(d, "name")) else {
        return;
    };
    let object = doc
        .ref_attr(r, "dataObjectRef")
        .and_then(|o| doc.attr(o, "name"));
    let ok = match object {
        Some(object) => name == format!("{object} [{state}]"),
        None => name.ends_with(&format!(" [{state}]")),
    };
    if !ok {
        let expected = format!("{} [{state}]", object.unwrap_or("<data object name>"));
        s.report(
            "EXT.076",
            r,
            format!(
                "{} is named `{name}`; a data object reference with a state is named `{expected}`",
                doc.label(r)
            ),
        );
    }
}

/// The element that owns data inputs/outputs `d`: its event, or the activity or
/// process whose ioSpecification declares it.
fn owner(doc: &Doc, d: usize) -> Option<usize> {
    let p = doc.parent(d)?;
    if doc.kind(p) == "ioSpecification" {
        doc.parent(p)
    } else {
        Some(p)
    }
}

fn association(s: &mut Sink, a: usize) {
    let doc = s.doc;
    let who = doc.label(a);
    let parent = doc.parent(a);
    let sources: Vec<usize> = doc.ref_texts(a, "sourceRef");
    let target = doc.kid(a, "targetRef").and_then(|t| doc.ref_text(t));
    if let Some(t) = target.filter(|&t| doc.kind(t) == "dataInput" && owner(doc, t) != parent) {
        s.report("EXT.080", a, format!("{who} writes to {}, a data input of another element; data inputs are only targets of their own element's input associations", doc.label(t)));
    }
    for &src in &sources {
        if doc.kind(src) == "dataOutput" && owner(doc, src) != parent {
            s.report("EXT.082", a, format!("{who} reads from {}, a data output of another element; data outputs are only sources of their own element's output associations", doc.label(src)));
        }
    }
    if doc.kid(a, "transformation").is_some() {
        return;
    }
    let count = doc.texts(a, "sourceRef").len();
    if count > 1 {
        s.report("EXT.092", a, format!("{who} has {count} sources but no transformation; without a transformation only one source is allowed"));
    }
    if let (&[src], Some(t)) = (sources.as_slice(), target)
        && let (Some(x), Some(y)) = (doc.item_of(src), doc.item_of(t))
        && !doc.same_item(x, y)
    {
        s.report("EXT.091", a, format!("{who} connects {} (item `{x}`) and {} (item `{y}`) of different types without a transformation", doc.label(src), doc.label(t)));
    }
}

/// Each `sub` entry of a set must also be one of its `all` entries.
fn subset(s: &mut Sink, set: usize, sub: &str, all: &str, code: &str) {
    let doc = s.doc;
    let listed: HashSet<&str> = doc.texts(set, all).into_iter().map(local).collect();
    for t in doc.texts(set, sub) {
        if !listed.contains(local(t)) {
            s.report(
                code,
                set,
                format!(
                    "{} lists `{t}` in <{sub}> but not in <{all}>",
                    doc.label(set)
                ),
            );
        }
    }
}

/// Input and output sets that reference each other must do so both ways (EXT.087).
fn mutual(s: &mut Sink, set: usize, forward: &str, back: &str) {
    let doc = s.doc;
    let Some(id) = doc.id(set) else { return };
    for other in doc.ref_texts(set, forward) {
        if !doc.is(other, &["inputSet", "outputSet"]) {
            continue;
        }
        if !doc.lists(other, back, id) {
            s.report("EXT.087", set, format!("{} references {} through <{forward}>, but that set does not reference it back through <{back}>", doc.label(set), doc.label(other)));
        }
    }
}

/// Data carried by events: one data input/output per event definition (EXT.093),
/// typed like the definition's payload (EXT.094).
fn event_data(s: &mut Sink, e: usize, data: &str) {
    let doc = s.doc;
    let items: Vec<usize> = doc.kids(e, std::slice::from_ref(&data)).collect();
    if items.is_empty() {
        return;
    }
    let defs = doc.event_defs(e).len();
    if items.len() != defs {
        s.report("EXT.093", e, format!("{} has {} <{data}> elements for {defs} event definitions; it needs one per event definition", doc.label(e), items.len()));
    }
    let carrying = [
        "messageEventDefinition",
        "errorEventDefinition",
        "escalationEventDefinition",
        "signalEventDefinition",
    ];
    let payloads: Vec<usize> = doc.kids(e, &carrying).collect();
    for (&d, &item) in payloads.iter().zip(&items) {
        let payload = match doc.kind(d) {
            "messageEventDefinition" => doc
                .ref_attr(d, "messageRef")
                .and_then(|m| doc.attr(m, "itemRef").map(|r| ItemRef { at: m, r })),
            kind => {
                let attr = match kind {
                    "errorEventDefinition" => "errorRef",
                    "escalationEventDefinition" => "escalationRef",
                    _ => "signalRef",
                };
                doc.ref_attr(d, attr)
                    .and_then(|x| doc.attr(x, "structureRef").map(|r| ItemRef { at: x, r }))
            }
        };
        let subject = doc
            .attr(item, "itemSubjectRef")
            .map(|r| ItemRef { at: item, r });
        if let (Some(p), Some(i)) = (payload, subject)
            && !doc.same_item(p, i)
        {
            let msg = format!(
                "{} has item `{i}`, but the payload of its event definition {} is `{p}`",
                doc.label(item),
                doc.label(d)
            );
            s.report("EXT.094", item, msg);
        }
    }
}
