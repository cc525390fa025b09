//! Sequence and message flow connection rules (EXT.006–009, 021–026, 028, 031,
//! 102–103, 108–109, 119, 152).

use super::index::{ACTIVITIES, ARTIFACTS, CHOREOGRAPHY_ACTIVITIES, Doc, Sink, local};
use super::refs::{is_flow_node, is_interaction};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for f in doc.all(&["sequenceFlow"]) {
        sequence_flow(s, f);
    }
    listed_flows(s);
    for m in doc.all(&["messageFlow"]) {
        message_flow(s, m);
    }
    for n in doc
        .all(super::index::ACTIVITIES)
        .chain(doc.all(super::index::GATEWAYS))
    {
        default_flow(s, n);
    }
}

fn endpoint(doc: &Doc, f: usize, attr: &str) -> Option<usize> {
    doc.ref_attr(f, attr)
}

fn sequence_flow(s: &mut Sink, f: usize) {
    let doc = s.doc;
    let fl = doc.label(f);
    let src = endpoint(doc, f, "sourceRef");
    let tgt = endpoint(doc, f, "targetRef");
    for (end, node, artifact_code, node_code) in [
        ("source", src, "EXT.007", "EXT.021"),
        ("target", tgt, "EXT.006", "EXT.022"),
    ] {
        let Some(n) = node else { continue };
        let what = doc.label(n);
        if doc.is(n, ARTIFACTS) {
            s.report(artifact_code, f, format!("{fl} has {what} as its {end}; an artifact must not be the {end} of a sequence flow"));
        } else if doc.event_subprocess(n) {
            s.report(node_code, f, format!("{fl} has the event sub-process {what} as its {end}; event sub-processes are started by their event, never by a sequence flow"));
        } else if doc.process_of(n).is_some()
            && (!is_flow_node(doc, n) || doc.is(n, CHOREOGRAPHY_ACTIVITIES))
        {
            s.report(node_code, f, format!("{fl} has {what} as its {end}; in a process only activities, gateways and events can be connected by sequence flows"));
        } else if !is_flow_node(doc, n) {
            s.report(
                "REF",
                f,
                format!("{fl} has {what} as its {end}; expected a flow node"),
            );
        }
    }
    // Vendor tools treat the flows as authoritative and the lists as optional.
    if let Some(id) = doc.id(f).filter(|_| !doc.vendor) {
        for (node, list, end) in [(tgt, "incoming", "target"), (src, "outgoing", "source")] {
            if let Some(n) = node.filter(|&n| is_flow_node(doc, n))
                && !doc.lists(n, list, id)
            {
                let msg = format!(
                    "{fl}: its {end} {} does not list it as <{list}>",
                    doc.label(n)
                );
                s.report("EXT.023", f, msg);
            }
        }
    }
    if let (Some(a), Some(b)) = (src, tgt)
        && doc.parent(a) != doc.parent(b)
    {
        let msg = format!(
            "{fl} connects {} and {}, which lie in different pools or process levels; a sequence flow must not cross the border of a pool or sub-process",
            doc.label(a),
            doc.label(b)
        );
        s.report_all(&["EXT.028", "EXT.152"], f, &msg);
    }
    if doc.kid(f, "conditionExpression").is_some()
        && let Some(a) = src.filter(|&a| doc.is(a, ACTIVITIES))
        && doc.outgoing(a) < 2
    {
        s.report("EXT.025", f, format!("{fl} is the only outgoing flow of {} but has a condition; an activity with a single outgoing flow must not make it conditional", doc.label(a)));
    }
}

/// `incoming`/`outgoing` entries must name flows that really end/start at the node (EXT.023).
fn listed_flows(s: &mut Sink) {
    let doc = s.doc;
    for n in 0..doc.nodes.len() {
        if !is_flow_node(doc, n) {
            continue;
        }
        let Some(id) = doc.id(n) else { continue };
        for (list, attr) in [("incoming", "targetRef"), ("outgoing", "sourceRef")] {
            for f in doc.ref_texts(n, list) {
                if doc.kind(f) != "sequenceFlow" {
                    continue;
                }
                if let Some(other) = doc.attr(f, attr).filter(|o| !doc.names_id(f, o, id)) {
                    s.report(
                        "EXT.023",
                        n,
                        format!(
                            "{} lists {} as <{list}>, but that flow's {attr} is `{other}`",
                            doc.label(n),
                            doc.label(f)
                        ),
                    );
                }
            }
        }
    }
}

fn default_flow(s: &mut Sink, n: usize) {
    let doc = s.doc;
    let Some(f) = doc.ref_attr(n, "default") else {
        return;
    };
    if doc.kind(f) != "sequenceFlow" {
        return;
    }
    let source = doc.attr(f, "sourceRef").map(local);
    if source != doc.id(n) {
        s.report(
            "EXT.026",
            n,
            format!(
                "{} names {} as its default flow, but that flow starts at `{}`",
                doc.label(n),
                doc.label(f),
                source.unwrap_or("")
            ),
        );
    }
}

/// The pool an interaction node belongs to: its process, or the participant itself.
fn pool<'a>(doc: &Doc<'a>, n: usize) -> Option<&'a str> {
    if doc.kind(n) == "participant" {
        return doc.attr(n, "processRef").map(local).or_else(|| doc.id(n));
    }
    doc.process_of(n).and_then(|p| doc.id(p))
}

fn message_flow(s: &mut Sink, m: usize) {
    let doc = s.doc;
    let ml = doc.label(m);
    let src = endpoint(doc, m, "sourceRef");
    let tgt = endpoint(doc, m, "targetRef");
    for (end, node, code) in [("source", src, "EXT.009"), ("target", tgt, "EXT.008")] {
        let Some(n) = node else { continue };
        if doc.is(n, ARTIFACTS) {
            s.report(
                code,
                m,
                format!(
                    "{ml} has {} as its {end}; an artifact must not be the {end} of a message flow",
                    doc.label(n)
                ),
            );
        } else if !is_interaction(doc, n) {
            s.report(
                "REF",
                m,
                format!(
                    "{ml} has {} as its {end}; expected a participant, activity or event",
                    doc.label(n)
                ),
            );
        }
    }
    let (Some(a), Some(b)) = (src, tgt) else {
        return;
    };
    if a == b || pool(doc, a).is_some_and(|p| pool(doc, b) == Some(p)) {
        s.report(
            "EXT.031",
            m,
            format!(
                "{ml} connects {} and {} in the same pool; message flows connect different pools",
                doc.label(a),
                doc.label(b)
            ),
        );
    }
    let message = |n: usize| doc.has_def(n, "messageEventDefinition");
    match doc.kind(a) {
        "startEvent" => s.report("EXT.102", m, format!("{ml} starts at the start event {}; a start event must not send messages", doc.label(a))),
        "endEvent" if !message(a) => s.report("EXT.109", m, format!("{ml} starts at the end event {}, which has no message event definition", doc.label(a))),
        "intermediateCatchEvent" if message(a) => s.report("EXT.119", m, format!("{ml} starts at the catching message event {}; a catch event must not be the source of a message flow", doc.label(a))),
        _ => {}
    }
    match doc.kind(b) {
        "endEvent" => s.report("EXT.108", m, format!("{ml} ends at the end event {}; an end event must not receive messages", doc.label(b))),
        "startEvent" if !message(b) => s.report("EXT.103", m, format!("{ml} ends at the start event {}, which has no message event definition", doc.label(b))),
        "intermediateThrowEvent" if message(b) => s.report("EXT.119", m, format!("{ml} ends at the throwing message event {}; a throw event must not be the target of a message flow", doc.label(b))),
        _ => {}
    }
}
