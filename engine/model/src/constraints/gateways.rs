//! Gateway rules: direction (EXT.017–019), fan-in/out (EXT.135) and the event-based
//! gateway configuration (EXT.136–142).

use super::index::{Doc, GATEWAYS, Sink};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for g in 0..doc.nodes.len() {
        if doc.el(g).ns.as_deref() != Some(crate::xml::BPMN_NS) {
            continue;
        }
        direction(s, g);
    }
    for g in doc.all(GATEWAYS) {
        let (ins, outs) = (doc.incoming(g), doc.outgoing(g));
        if ins < 2 && outs < 2 {
            s.report("EXT.135", g, format!("{} has {ins} incoming and {outs} outgoing sequence flows; a gateway must have several incoming or several outgoing flows", doc.label(g)));
        }
    }
    for g in doc.all(&["eventBasedGateway"]) {
        event_gateway(s, g);
    }
}

fn direction(s: &mut Sink, g: usize) {
    let doc = s.doc;
    let Some(dir) = doc.attr(g, "gatewayDirection") else {
        return;
    };
    let (ins, outs) = (doc.incoming(g), doc.outgoing(g));
    let who = doc.label(g);
    match dir {
        "Converging" if outs > 1 => s.report("EXT.017", g, format!("{who} is converging but has {outs} outgoing sequence flows; at most one is allowed")),
        "Diverging" if ins > 1 => s.report("EXT.018", g, format!("{who} is diverging but has {ins} incoming sequence flows; at most one is allowed")),
        "Mixed" if ins < 2 || outs < 2 => s.report("EXT.019", g, format!("{who} is mixed but has {ins} incoming and {outs} outgoing sequence flows; it needs several of both")),
        _ => {}
    }
}

/// Sequence flows leaving `g`: those it lists plus those naming it as source.
fn leaving(doc: &Doc, g: usize) -> Vec<usize> {
    let mut out: Vec<usize> = doc
        .ref_texts(g, "outgoing")
        .into_iter()
        .filter(|&f| doc.kind(f) == "sequenceFlow")
        .chain(doc.pointing("sequenceFlow", "sourceRef", g).iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

const EVENT_GATEWAY_TRIGGERS: &[&str] = &[
    "messageEventDefinition",
    "signalEventDefinition",
    "timerEventDefinition",
    "conditionalEventDefinition",
];

fn event_gateway(s: &mut Sink, g: usize) {
    let doc = s.doc;
    let who = doc.label(g);
    let outs = doc.outgoing(g);
    if outs < 2 {
        s.report("EXT.136", g, format!("{who} has {outs} outgoing sequence flows; an event-based gateway needs at least two"));
    }
    if doc.flag(g, "instantiate", false) && doc.incoming(g) > 0 {
        s.report(
            "EXT.142",
            g,
            format!("{who} instantiates the process, so it must not have incoming sequence flows"),
        );
    }
    let mut receive_task = false;
    let mut message_event = false;
    for f in leaving(doc, g) {
        if doc.kid(f, "conditionExpression").is_some() {
            s.report(
                "EXT.137",
                f,
                format!(
                    "{} leaves the event-based gateway `{}` and must not have a condition",
                    doc.label(f),
                    doc.id(g).unwrap_or("")
                ),
            );
        }
        let Some(t) = doc.ref_attr(f, "targetRef") else {
            continue;
        };
        let defs = doc.event_defs(t);
        let valid = match doc.kind(t) {
            "receiveTask" => {
                receive_task = true;
                true
            }
            "intermediateCatchEvent" => {
                message_event |= defs.iter().any(|(k, _)| *k == "messageEventDefinition");
                !defs.is_empty() && defs.iter().all(|(k, _)| EVENT_GATEWAY_TRIGGERS.contains(k))
            }
            _ => false,
        };
        if !valid {
            s.report("EXT.138", f, format!("{} leads from the event-based gateway `{}` to {}; only receive tasks and message, signal, timer or conditional catch events may follow it", doc.label(f), doc.id(g).unwrap_or(""), doc.label(t)));
        }
        let ins = doc.incoming(t);
        if ins > 1 {
            s.report("EXT.141", t, format!("{} follows the event-based gateway `{}` and must have no other incoming sequence flow (it has {ins})", doc.label(t), doc.id(g).unwrap_or("")));
        }
        if doc.kind(t) == "receiveTask"
            && !doc.pointing("boundaryEvent", "attachedToRef", t).is_empty()
        {
            s.report(
                "EXT.140",
                t,
                format!(
                    "{} follows an event-based gateway and must not have boundary events attached",
                    doc.label(t)
                ),
            );
        }
    }
    if receive_task && message_event {
        s.report("EXT.139", g, format!("{who} is followed by both receive tasks and message catch events; use one or the other"));
    }
}
