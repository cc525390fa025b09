//! Activity rules: quantities, loops, resources, service/send/receive task data,
//! sub-process content and sequence flow coverage of a process level (EXT.024,
//! 035–043, 046–051, 054–056, 061–062, 067–068, 078–079, 150–151).

use super::index::{ACTIVITIES, CHOREOGRAPHY_ACTIVITIES, EVENTS, LEVELS, SUBPROCESSES, Sink};
use super::refs::is_flow_node;

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for i in 0..doc.nodes.len() {
        let kind = doc.kind(i);
        if ACTIVITIES.contains(&kind) {
            activity(s, i);
        }
        match kind {
            "sequenceFlow" if doc.executable(i) && doc.attr_is(i, "isImmediate", "false") => {
                s.report(
                    "EXT.024",
                    i,
                    format!(
                        "{} has isImmediate=\"false\", which an executable process must not use",
                        doc.label(i)
                    ),
                );
            }
            "process" => process(s, i),
            "resourceRole" | "performer" | "humanPerformer" | "potentialOwner" => {
                resource_role(s, i)
            }
            "multiInstanceLoopCharacteristics" => multi_instance(s, i),
            "property" => {
                let ok = doc.parent(i).is_some_and(|p| {
                    doc.is(p, &["process"]) || doc.is(p, ACTIVITIES) || doc.is(p, EVENTS)
                });
                if !ok {
                    s.report("EXT.078", i, format!("{} is placed in <{}>; properties belong to processes, activities and events only", doc.label(i), doc.parent(i).map_or("", |p| doc.el(p).name.as_str())));
                }
            }
            _ => {}
        }
        if LEVELS.contains(&kind) {
            coverage(s, i);
        }
    }
}

fn process(s: &mut Sink, p: usize) {
    let doc = s.doc;
    if doc.attr_is(p, "processType", "Public") && doc.flag(p, "isExecutable", false) {
        s.report(
            "EXT.035",
            p,
            format!(
                "{} is a public process and must not be executable",
                doc.label(p)
            ),
        );
    }
    for c in doc.kids(p, CHOREOGRAPHY_ACTIVITIES) {
        s.report("EXT.036", c, format!("{} is a choreography activity inside the process {}; processes must not contain choreography activities", doc.label(c), doc.label(p)));
    }
}

fn count(s: &Sink, i: usize, path: &[&str]) -> usize {
    let doc = s.doc;
    let mut level = vec![i];
    for step in path {
        level = level
            .iter()
            .flat_map(|&n| doc.kids(n, std::slice::from_ref(step)).collect::<Vec<_>>())
            .collect();
    }
    level.len()
}

fn activity(s: &mut Sink, a: usize) {
    let doc = s.doc;
    let who = doc.label(a);
    for (attr, code) in [
        ("startQuantity", "EXT.037"),
        ("completionQuantity", "EXT.038"),
    ] {
        let Some(v) = doc.attr(a, attr) else { continue };
        match v.parse::<i64>() {
            Ok(n) if n < 1 => s.report(
                code,
                a,
                format!("{who} has {attr}={n}; it must be at least 1"),
            ),
            Ok(_) => {}
            Err(_) => s.report(
                "XSD",
                a,
                format!("{who} has {attr}=\"{v}\", which is not an integer"),
            ),
        }
    }
    let loops = doc
        .kids(
            a,
            &[
                "standardLoopCharacteristics",
                "multiInstanceLoopCharacteristics",
            ],
        )
        .count();
    if loops > 1 {
        let msg = format!(
            "{who} has both a standard loop and a multi-instance marker; at most one loop characteristic is allowed"
        );
        s.report("EXT.041", a, &msg);
        if doc.is(a, SUBPROCESSES) {
            s.report("EXT.054", a, &msg);
        }
        if doc.kind(a) == "adHocSubProcess" {
            s.report("EXT.055", a, &msg);
        }
    }
    let io = |path: &[&str]| count(s, a, path);
    let (input_sets, output_sets) = (
        io(&["ioSpecification", "inputSet"]),
        io(&["ioSpecification", "outputSet"]),
    );
    let (inputs, outputs) = (
        io(&["ioSpecification", "dataInput"]),
        io(&["ioSpecification", "dataOutput"]),
    );
    let operation = doc.attr(a, "operationRef").is_some();
    let message = doc.attr(a, "messageRef").is_some();
    let mut rule = |ok: bool, code: &str, text: String| {
        if !ok {
            s.report(code, a, format!("{who} {text}"));
        }
    };
    match doc.kind(a) {
        "serviceTask" if operation => {
            rule(
                input_sets == 1,
                "EXT.042",
                format!(
                    "references an operation, so its ioSpecification needs exactly one inputSet (it has {input_sets})"
                ),
            );
            rule(
                output_sets <= 1,
                "EXT.043",
                format!(
                    "references an operation, so its ioSpecification may have at most one outputSet (it has {output_sets})"
                ),
            );
        }
        "sendTask" if message => {
            rule(
                input_sets <= 1,
                "EXT.046",
                format!(
                    "sends a message, so its ioSpecification may have at most one inputSet (it has {input_sets})"
                ),
            );
            rule(
                inputs <= 1,
                "EXT.047",
                format!(
                    "sends a message, so its ioSpecification may have at most one dataInput (it has {inputs})"
                ),
            );
        }
        "receiveTask" => {
            let instantiate = doc.flag(a, "instantiate", false);
            rule(
                !instantiate || doc.incoming(a) == 0,
                "EXT.049",
                "instantiates the process and must not have incoming sequence flows".into(),
            );
            if message {
                rule(
                    output_sets <= 1,
                    "EXT.050",
                    format!(
                        "receives a message, so its ioSpecification may have at most one outputSet (it has {output_sets})"
                    ),
                );
                rule(
                    outputs <= 1,
                    "EXT.051",
                    format!(
                        "receives a message, so its ioSpecification may have at most one dataOutput (it has {outputs})"
                    ),
                );
            }
        }
        _ => {}
    }
    if doc.is(a, SUBPROCESSES) {
        subprocess(s, a);
    }
}

fn subprocess(s: &mut Sink, p: usize) {
    let doc = s.doc;
    let who = doc.label(p);
    if doc.kid(p, "ioSpecification").is_some() {
        s.report(
            "EXT.079",
            p,
            format!("{who} is a sub-process and must not have an ioSpecification"),
        );
    }
    for c in doc.kids(p, CHOREOGRAPHY_ACTIVITIES) {
        let msg = format!(
            "{} is a choreography activity inside the sub-process {who}; sub-processes must not contain choreography activities",
            doc.label(c)
        );
        if doc.kind(p) == "adHocSubProcess" {
            s.report("EXT.062", c, &msg);
        }
        s.report("EXT.056", c, msg);
    }
    if doc.kind(p) == "adHocSubProcess" {
        if doc.kids(p, ACTIVITIES).next().is_none() {
            s.report(
                "EXT.061",
                p,
                format!("{who} is an ad-hoc sub-process without any activity"),
            );
        }
        for e in doc.kids(p, &["startEvent", "endEvent"]) {
            s.report("EXT.062", e, format!("{} is inside the ad-hoc sub-process {who}; start and end events are not allowed there", doc.label(e)));
        }
    }
}

fn resource_role(s: &mut Sink, r: usize) {
    let doc = s.doc;
    let who = doc.label(r);
    let resource = doc.kid(r, "resourceRef").is_some();
    if resource && doc.kid(r, "resourceAssignmentExpression").is_some() {
        s.report(
            "EXT.039",
            r,
            format!(
                "{who} uses both resourceRef and resourceAssignmentExpression; use one of them"
            ),
        );
    }
    if !resource && doc.kid(r, "resourceParameterBinding").is_some() {
        s.report(
            "EXT.040",
            r,
            format!("{who} binds resource parameters without a resourceRef"),
        );
    }
}

fn multi_instance(s: &mut Sink, m: usize) {
    let doc = s.doc;
    if !doc.executable(m) {
        return;
    }
    let owner = doc.parent(m);
    let who = owner.map_or_else(|| doc.label(m), |o| doc.label(o));
    let input = doc.kid(m, "loopDataInputRef");
    // A vendor's collection attribute is the input collection under another name.
    let vendor_input = crate::vendor::mi_collection(doc.el(m)).is_some();
    if doc.kid(m, "loopCardinality").is_none() && input.is_none() && !vendor_input {
        s.report("EXT.067", m, format!("{who} is multi-instance in an executable process but has neither loopCardinality nor loopDataInputRef"));
    }
    let (Some(input), Some(owner)) = (input, owner) else {
        return;
    };
    if doc.is(owner, SUBPROCESSES) {
        return;
    }
    let name = doc.el(input).text.trim();
    let declared = doc.kids(owner, &["ioSpecification"]).any(|io| {
        doc.kids(io, &["dataInput"])
            .any(|d| doc.id(d).is_some_and(|id| doc.names_id(input, name, id)))
    });
    if !declared {
        s.report("EXT.068", input, format!("{who}: loopDataInputRef `{name}` must name a dataInput of the activity's own ioSpecification"));
    }
}

/// With a start event, every flow node of the level needs an incoming flow; with an
/// end event, an outgoing one (EXT.150, EXT.151).
fn coverage(s: &mut Sink, level: usize) {
    let doc = s.doc;
    // Vendor engines end a token where no flow leaves and never reach a node
    // without incoming flows: both are legal there.
    if doc.vendor {
        return;
    }
    let has_start = doc.kid(level, "startEvent").is_some();
    let has_end = doc.kid(level, "endEvent").is_some();
    if !has_start && !has_end {
        return;
    }
    for &n in doc.children(level) {
        if !is_flow_node(doc, n) || doc.event_subprocess(n) || doc.compensation(n) {
            continue;
        }
        let kind = doc.kind(n);
        let link = doc.has_def(n, "linkEventDefinition");
        // Start/end events and boundary events have their own rules (EXT.101, 107, 112, 113).
        let exempt_in = matches!(kind, "startEvent" | "endEvent" | "boundaryEvent")
            || (kind == "intermediateCatchEvent" && link);
        if has_start && !exempt_in && doc.incoming(n) == 0 {
            s.report(
                "EXT.150",
                n,
                format!(
                    "{} has no incoming sequence flow although its level has a start event",
                    doc.label(n)
                ),
            );
        }
        let exempt_out = matches!(kind, "startEvent" | "endEvent" | "boundaryEvent")
            || (kind == "intermediateThrowEvent" && link);
        if has_end && !exempt_out && doc.outgoing(n) == 0 {
            s.report(
                "EXT.151",
                n,
                format!(
                    "{} has no outgoing sequence flow although its level has an end event",
                    doc.label(n)
                ),
            );
        }
    }
}
