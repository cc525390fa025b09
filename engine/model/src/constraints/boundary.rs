//! Boundary events, link events and event sub-processes (EXT.057–059, 110–114,
//! 118, 120, 124–126, 129–130, 143–144, 147).

use super::index::{ACTIVITIES, Doc, Sink, trigger_name};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for b in doc.all(&["boundaryEvent"]) {
        boundary(s, b);
    }
    for l in doc.all(&["linkEventDefinition"]) {
        link(s, l);
    }
    for p in doc.all(&["subProcess"]) {
        if doc.event_subprocess(p) {
            event_subprocess(s, p);
        }
    }
}

fn boundary(s: &mut Sink, b: usize) {
    let doc = s.doc;
    let who = doc.label(b);
    let defs: Vec<&str> = doc.event_defs(b).into_iter().map(|(k, _)| k).collect();
    let interrupting = doc.flag(b, "cancelActivity", true);
    if defs.is_empty() {
        let msg = format!("{who} has no event definition; a boundary event needs a trigger");
        s.report_all(&["EXT.110", "EXT.120", "EXT.130", "EXT.147"], b, &msg);
    }
    for k in &defs {
        let banned = match *k {
            "linkEventDefinition" | "terminateEventDefinition" => true,
            "errorEventDefinition" | "cancelEventDefinition" | "compensateEventDefinition" => {
                !interrupting
            }
            _ => false,
        };
        if banned {
            let mode = if interrupting {
                ""
            } else {
                "non-interrupting "
            };
            let msg = format!(
                "{who} is a {mode}boundary event with {}, which is not allowed there",
                trigger_name(k)
            );
            s.report_all(&["EXT.110", "EXT.147"], b, &msg);
        }
    }
    let attached = doc.ref_attr(b, "attachedToRef");
    if defs.contains(&"cancelEventDefinition")
        && attached.is_some_and(|a| doc.kind(a) != "transaction")
    {
        let msg = format!(
            "{who} is a cancel boundary event but is attached to a non-transaction activity"
        );
        s.report_all(&["EXT.111", "EXT.120"], b, &msg);
    }
    let incoming = doc.incoming(b) > 0 || !doc.pointing("sequenceFlow", "targetRef", b).is_empty();
    if incoming {
        s.report(
            "EXT.112",
            b,
            format!("{who} is the target of a sequence flow; a boundary event must not be"),
        );
    }
    let compensation = defs.contains(&"compensateEventDefinition");
    let outgoing = doc.outgoing(b) > 0;
    // A vendor's boundary event without outgoing flows ends its token (implicit end).
    if !outgoing && !compensation && !doc.vendor {
        s.report("EXT.113", b, format!("{who} has no outgoing sequence flow"));
    }
    if outgoing && compensation {
        s.report(
            "EXT.114",
            b,
            format!(
                "{who} is a compensation boundary event and must not have outgoing sequence flows"
            ),
        );
    }
    if compensation {
        compensation_handler(s, b);
    }
}

/// A compensation boundary event is associated with its compensation activity.
fn compensation_handler(s: &mut Sink, b: usize) {
    let doc = s.doc;
    let targets: Vec<usize> = doc
        .pointing("association", "sourceRef", b)
        .iter()
        .filter_map(|&a| doc.ref_attr(a, "targetRef"))
        .collect();
    if targets.is_empty() {
        s.report(
            "EXT.143",
            b,
            format!(
                "{} must be connected by an association to its compensation activity",
                doc.label(b)
            ),
        );
    } else if !targets
        .iter()
        .any(|&t| doc.is(t, ACTIVITIES) && doc.compensation(t))
    {
        s.report(
            "EXT.144",
            b,
            format!(
                "{} is associated with no activity marked isForCompensation=\"true\"",
                doc.label(b)
            ),
        );
    }
}

fn link(s: &mut Sink, l: usize) {
    let doc = s.doc;
    let Some(event) = doc.parent(l) else { return };
    let who = doc.label(event);
    let targets = doc.texts(l, "target");
    // Descriptive models and vendor tools pair links by name; explicit wiring is
    // what the specification asks of execution.
    let wired = doc.executable(l) && !doc.vendor;
    match doc.kind(event) {
        "intermediateCatchEvent" if wired && doc.texts(l, "source").is_empty() => {
            s.report(
                "EXT.124",
                l,
                format!("the link of {who} names no <source>; a catching link needs at least one"),
            );
        }
        "intermediateThrowEvent" if wired && targets.len() != 1 => {
            s.report("EXT.125", l, format!("the link of {who} names {} <target> elements; a throwing link needs exactly one", targets.len()));
        }
        _ => {}
    }
    let Some(id) = doc.id(l) else { return };
    for t in doc.kids(l, &["target"]) {
        let Some(target) = doc
            .ref_text(t)
            .filter(|&t| doc.kind(t) == "linkEventDefinition")
        else {
            continue;
        };
        let t = doc.el(t).text.trim();
        if !doc.lists(target, "source", id) {
            s.report(
                "EXT.118",
                l,
                format!("the link of {who} targets `{t}`, which does not list `{id}` as a source"),
            );
        }
        if doc.kind(event) == "intermediateThrowEvent"
            && doc.parent(target).and_then(|e| doc.parent(e)) != doc.parent(event)
        {
            s.report("EXT.126", l, format!("the link of {who} targets `{t}` at another process level; links only connect events of the same level"));
        }
    }
}

const EVENT_SUBPROCESS_BANNED: &[&str] = &[
    "linkEventDefinition",
    "cancelEventDefinition",
    "terminateEventDefinition",
];
const NON_INTERRUPTING_BANNED: &[&str] = &["compensateEventDefinition", "errorEventDefinition"];

fn event_subprocess(s: &mut Sink, p: usize) {
    let doc = s.doc;
    let who = doc.label(p);
    let connected = doc.incoming(p) > 0 || doc.outgoing(p) > 0;
    if connected {
        s.report("EXT.057", p, format!("{who} is an event sub-process and must not have incoming or outgoing sequence flows"));
    }
    let starts: Vec<usize> = doc.kids(p, &["startEvent"]).collect();
    if starts.len() != 1 {
        s.report(
            "EXT.058",
            p,
            format!(
                "{who} is an event sub-process with {} start events; it needs exactly one",
                starts.len()
            ),
        );
    }
    for e in starts {
        trigger(s, doc, e);
    }
}

fn trigger(s: &mut Sink, doc: &Doc, e: usize) {
    let who = doc.label(e);
    let defs = doc.event_defs(e);
    if defs.is_empty() {
        let msg = format!("{who} starts an event sub-process but has no trigger");
        s.report_all(&["EXT.059", "EXT.129"], e, &msg);
    }
    let interrupting = doc.flag(e, "isInterrupting", true);
    for (k, _) in defs {
        if EVENT_SUBPROCESS_BANNED.contains(&k)
            || (!interrupting && NON_INTERRUPTING_BANNED.contains(&k))
        {
            s.report(
                "EXT.059",
                e,
                format!(
                    "{who} starts an event sub-process with {}, which is not allowed there",
                    trigger_name(k)
                ),
            );
        }
    }
}
