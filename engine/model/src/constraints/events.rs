//! Start, end and intermediate event rules: allowed triggers, sequence flow
//! attachment, message and escalation details (EXT.011, 095–107, 115–117, 122,
//! 127–128, 146, 148–149).

use std::collections::HashSet;

use super::index::{Doc, SUBPROCESSES, Sink, local, trigger_name};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    let referenced: HashSet<&str> = doc
        .all(&["eventDefinitionRef"])
        .map(|r| local(doc.el(r).text.trim()))
        .collect();
    let called: HashSet<usize> = doc
        .all(&["callActivity"])
        .filter_map(|c| doc.ref_attr(c, "calledElement"))
        .collect();
    for i in 0..doc.nodes.len() {
        match doc.kind(i) {
            "startEvent" => start(s, i),
            "endEvent" => end(s, i),
            "intermediateThrowEvent" => throw(s, i),
            "intermediateCatchEvent" => catch(s, i),
            "messageEventDefinition" if doc.executable(i) && !doc.vendor => message(s, i),
            "process" if called.contains(&i) => called_process(s, i),
            _ => {}
        }
        if doc.is(
            i,
            &["endEvent", "intermediateThrowEvent", "implicitThrowEvent"],
        ) {
            for &d in doc.children(i) {
                if doc.id(d).is_some_and(|id| referenced.contains(id))
                    && doc.is(d, super::index::EVENT_DEFINITIONS)
                {
                    s.report("EXT.095", d, format!("{} is defined inside the throw event {} and must not be reused through <eventDefinitionRef>", doc.label(d), doc.label(i)));
                }
            }
        }
    }
}

/// Triggers an event has, as a list of event definition kinds.
fn triggers<'a>(doc: &Doc<'a>, i: usize) -> Vec<&'a str> {
    doc.event_defs(i).into_iter().map(|(k, _)| k).collect()
}

/// Reports each trigger of `i` that is in `banned`.
fn forbid(s: &mut Sink, code: &str, i: usize, banned: &[&str], context: &str) {
    let doc = s.doc;
    for k in triggers(doc, i) {
        if banned.contains(&k) {
            s.report(
                code,
                i,
                format!(
                    "{} has {}, which is not allowed {context}",
                    doc.label(i),
                    trigger_name(k)
                ),
            );
        }
    }
}

fn has_incoming(doc: &Doc, i: usize) -> bool {
    doc.incoming(i) > 0
}

fn has_outgoing(doc: &Doc, i: usize) -> bool {
    doc.outgoing(i) > 0
}

/// Some sibling at the same process level is of this kind.
fn sibling(doc: &Doc, i: usize, kind: &str) -> bool {
    doc.parent(i).is_some_and(|p| doc.has_kid(p, kind))
}

fn targeted_by_flow(doc: &Doc, i: usize) -> bool {
    !doc.pointing("sequenceFlow", "targetRef", i).is_empty()
}

fn start(s: &mut Sink, i: usize) {
    let doc = s.doc;
    let who = doc.label(i);
    if has_incoming(doc, i) || targeted_by_flow(doc, i) {
        s.report(
            "EXT.096",
            i,
            format!("{who} has an incoming sequence flow; a start event must not"),
        );
    }
    if !has_outgoing(doc, i) {
        s.report("EXT.101", i, format!("{who} has no outgoing sequence flow"));
    }
    // Vendor engines end a token where no flow leaves (implicit end).
    if !sibling(doc, i, "endEvent") && !doc.vendor {
        s.report(
            "EXT.105",
            i,
            format!("{who} is used, so an end event must be present at the same process level"),
        );
    }
    let parent = doc.parent(i);
    match parent.map(|p| doc.kind(p)) {
        Some("process") => forbid(
            s,
            "EXT.098",
            i,
            &[
                "linkEventDefinition",
                "escalationEventDefinition",
                "errorEventDefinition",
                "cancelEventDefinition",
                "compensateEventDefinition",
                "terminateEventDefinition",
            ],
            "for the start event of a top-level process (only message, timer, conditional and signal)",
        ),
        Some(k)
            if SUBPROCESSES.contains(&k) && !parent.is_some_and(|p| doc.event_subprocess(p)) =>
        {
            for k in triggers(doc, i) {
                s.report(
                    "EXT.100",
                    i,
                    format!(
                        "{who} starts a sub-process and must not have a trigger, but has {}",
                        trigger_name(k)
                    ),
                );
            }
        }
        _ => {}
    }
}

fn end(s: &mut Sink, i: usize) {
    let doc = s.doc;
    let who = doc.label(i);
    if has_outgoing(doc, i) {
        s.report(
            "EXT.104",
            i,
            format!("{who} has an outgoing sequence flow; an end event must not"),
        );
    }
    if !has_incoming(doc, i) {
        s.report("EXT.107", i, format!("{who} has no incoming sequence flow"));
    }
    if !sibling(doc, i, "startEvent") {
        s.report(
            "EXT.097",
            i,
            format!("{who} is used, so a start event must be present at the same process level"),
        );
    }
    if doc.has_def(i, "cancelEventDefinition") && doc.up(i, &["transaction"]).is_none() {
        s.report(
            "EXT.106",
            i,
            format!("{who} is a cancel end event outside a transaction"),
        );
    }
    forbid(
        s,
        "EXT.146",
        i,
        &[
            "linkEventDefinition",
            "conditionalEventDefinition",
            "timerEventDefinition",
        ],
        "for an end event",
    );
    escalation(s, i);
}

fn throw(s: &mut Sink, i: usize) {
    let doc = s.doc;
    let who = doc.label(i);
    let link = doc.has_def(i, "linkEventDefinition");
    if !has_incoming(doc, i) {
        s.report("EXT.115", i, format!("{who} has no incoming sequence flow; an intermediate event must be the target of one"));
    }
    if !link && !has_outgoing(doc, i) && !doc.vendor {
        s.report("EXT.116", i, format!("{who} has no outgoing sequence flow; an intermediate event must be the source of one"));
    }
    if link && has_outgoing(doc, i) {
        s.report(
            "EXT.117",
            i,
            format!("{who} throws a link and must not have outgoing sequence flows"),
        );
    }
    forbid(
        s,
        "EXT.149",
        i,
        &[
            "timerEventDefinition",
            "errorEventDefinition",
            "cancelEventDefinition",
            "conditionalEventDefinition",
            "terminateEventDefinition",
        ],
        "for an intermediate throw event",
    );
    escalation(s, i);
}

fn catch(s: &mut Sink, i: usize) {
    let doc = s.doc;
    let who = doc.label(i);
    let link = doc.has_def(i, "linkEventDefinition");
    if !link && !has_incoming(doc, i) {
        s.report("EXT.115", i, format!("{who} has no incoming sequence flow; an intermediate event must be the target of one"));
    }
    if !has_outgoing(doc, i) && !doc.vendor {
        s.report("EXT.116", i, format!("{who} has no outgoing sequence flow; an intermediate event must be the source of one"));
    }
    if link && has_incoming(doc, i) {
        s.report(
            "EXT.117",
            i,
            format!("{who} catches a link and must not have incoming sequence flows"),
        );
    }
    if doc.event_defs(i).is_empty() {
        s.report(
            "EXT.148",
            i,
            format!("{who} has no event definition; an intermediate catch event needs a trigger"),
        );
    }
    forbid(
        s,
        "EXT.148",
        i,
        &[
            "escalationEventDefinition",
            "errorEventDefinition",
            "cancelEventDefinition",
            "compensateEventDefinition",
            "terminateEventDefinition",
        ],
        "for an intermediate catch event",
    );
    forbid(
        s,
        "EXT.122",
        i,
        &["compensateEventDefinition"],
        "for a catch event in the normal flow",
    );
}

/// Throwing an escalation from an executable process needs an escalation with a code.
fn escalation(s: &mut Sink, i: usize) {
    let doc = s.doc;
    if !doc.executable(i) {
        return;
    }
    for d in doc.kids(i, &["escalationEventDefinition"]) {
        let code = doc.attr(d, "escalationRef").map(|r| {
            doc.resolve(d, r)
                .and_then(|e| doc.attr(e, "escalationCode"))
                .filter(|c| !c.is_empty())
        });
        if !matches!(code, Some(Some(_))) {
            s.report("EXT.011", d, format!("{} throws an escalation without an escalation code; reference an <escalation> that has `escalationCode`", doc.label(i)));
        }
    }
}

fn message(s: &mut Sink, d: usize) {
    let doc = s.doc;
    let owner = doc.owner(d);
    if doc.attr(d, "messageRef").is_none() {
        s.report("EXT.127", d, format!("the message event definition of {owner} has no messageRef; an executable process must name the message"));
    }
    if doc.kid(d, "operationRef").is_none() {
        s.report("EXT.128", d, format!("the message event definition of {owner} has no <operationRef>; an executable process must name the operation"));
    }
}

/// A process started by a call activity needs a none start event (EXT.099).
fn called_process(s: &mut Sink, p: usize) {
    let doc = s.doc;
    let none_start = doc
        .kids(p, &["startEvent"])
        .any(|e| doc.event_defs(e).is_empty());
    // Vendor engines start a called process without start events at its
    // activities without incoming flows (implicit start).
    let implicit = doc.vendor && doc.kid(p, "startEvent").is_none();
    if !none_start && !implicit {
        s.report(
            "EXT.099",
            p,
            format!(
                "{} is called by a call activity but has no start event without a trigger",
                doc.label(p)
            ),
        );
    }
}
