//! Schema-level faults (XSD): missing required attributes, elements in the wrong
//! place, malformed boolean and enumerated attribute values.

use super::index::{LEVELS, Sink};
use super::refs::is_flow_node;

const REQUIRED: &[(&str, &[&str])] = &[
    ("definitions", &["targetNamespace"]),
    ("import", &["namespace", "location", "importType"]),
    ("sequenceFlow", &["sourceRef", "targetRef"]),
    ("messageFlow", &["sourceRef", "targetRef"]),
    ("association", &["sourceRef", "targetRef"]),
    ("conversationLink", &["sourceRef", "targetRef"]),
    ("boundaryEvent", &["attachedToRef"]),
    ("linkEventDefinition", &["name"]),
    ("resourceParameterBinding", &["parameterRef"]),
    (
        "ioBinding",
        &["operationRef", "inputDataRef", "outputDataRef"],
    ),
    ("correlationPropertyRetrievalExpression", &["messageRef"]),
    ("correlationPropertyBinding", &["correlationPropertyRef"]),
    (
        "messageFlowAssociation",
        &["innerMessageFlowRef", "outerMessageFlowRef"],
    ),
    (
        "conversationAssociation",
        &["innerConversationNodeRef", "outerConversationNodeRef"],
    ),
];

/// What `<definitions>` may contain (root elements and friends).
const ROOT_ELEMENTS: &[&str] = &[
    "import",
    "extension",
    "relationship",
    "documentation",
    "extensionElements",
    "category",
    "collaboration",
    "correlationProperty",
    "dataStore",
    "endPoint",
    "error",
    "escalation",
    "eventDefinition",
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
    "globalBusinessRuleTask",
    "globalManualTask",
    "globalScriptTask",
    "globalTask",
    "globalUserTask",
    "interface",
    "itemDefinition",
    "message",
    "partnerEntity",
    "partnerRole",
    "process",
    "resource",
    "signal",
    "choreography",
    "globalConversation",
    "globalChoreographyTask",
    // Misplaced properties are reported by EXT.078.
    "property",
];

/// Containers of flow elements.
const FLOW_CONTAINERS: &[&str] = &[
    "process",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "choreography",
    "subChoreography",
];
const FLOW_ELEMENTS: &[&str] = &[
    "sequenceFlow",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
];

const BOOLEANS: &[&str] = &[
    "isExecutable",
    "isClosed",
    "isInterrupting",
    "cancelActivity",
    "parallelMultiple",
    "triggeredByEvent",
    "isForCompensation",
    "isCollection",
    "instantiate",
    "isSequential",
    "isImmediate",
    "waitForCompletion",
    "testBefore",
    "cancelRemainingInstances",
];

const ENUMS: &[(&str, &[&str])] = &[
    (
        "gatewayDirection",
        &["Unspecified", "Converging", "Diverging", "Mixed"],
    ),
    ("processType", &["None", "Public", "Private"]),
    ("associationDirection", &["None", "One", "Both"]),
    ("itemKind", &["Information", "Physical"]),
    ("eventGatewayType", &["Exclusive", "Parallel"]),
    ("ordering", &["Parallel", "Sequential"]),
    ("behavior", &["None", "One", "All", "Complex"]),
];

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    if !doc.is(0, &["definitions"]) {
        s.report(
            "XSD",
            0,
            format!(
                "the document element is <{}>; a BPMN 2.0 document starts with <definitions>",
                doc.el(0).name
            ),
        );
    }
    for i in 0..doc.nodes.len() {
        let kind = doc.kind(i);
        if kind.is_empty() {
            continue;
        }
        let who = doc.label(i);
        for &(k, attrs) in REQUIRED {
            if k != kind {
                continue;
            }
            for a in attrs {
                if doc.attr(i, a).is_none() {
                    s.report(
                        "XSD",
                        i,
                        format!("{who} lacks the required attribute `{a}`"),
                    );
                }
            }
        }
        for a in BOOLEANS {
            if let Some(v) = doc
                .attr(i, a)
                .filter(|v| !matches!(*v, "true" | "false" | "1" | "0"))
            {
                s.report(
                    "XSD",
                    i,
                    format!("{who} has {a}=\"{v}\"; expected true or false"),
                );
            }
        }
        for &(a, values) in ENUMS {
            if let Some(v) = doc.attr(i, a).filter(|v| !values.contains(v)) {
                s.report(
                    "XSD",
                    i,
                    format!(
                        "{who} has {a}=\"{v}\"; expected one of {}",
                        values.join(", ")
                    ),
                );
            }
        }
        let parent = doc.parent(i);
        let parent_kind = parent.map_or("", |p| doc.kind(p));
        if parent_kind == "definitions" && !ROOT_ELEMENTS.contains(&kind) {
            s.report(
                "XSD",
                i,
                format!("{who} is placed directly in <definitions>, where it is not allowed"),
            );
        } else if (is_flow_node(doc, i) || FLOW_ELEMENTS.contains(&kind))
            && parent_kind != "definitions"
            && !FLOW_CONTAINERS.contains(&parent_kind)
        {
            s.report("XSD", i, format!("{who} is placed in <{}>; flow elements belong in a process, sub-process or choreography", parent.map_or("", |p| doc.el(p).name.as_str())));
        }
        if matches!(kind, "incoming" | "outgoing") && !parent.is_some_and(|p| is_flow_node(doc, p))
        {
            s.report(
                "XSD",
                i,
                format!(
                    "<{kind}> is placed in <{}>; only flow nodes list incoming and outgoing flows",
                    parent.map_or("", |p| doc.el(p).name.as_str())
                ),
            );
        }
        if kind == "process" && parent.is_some_and(|p| LEVELS.contains(&doc.kind(p))) {
            s.report(
                "XSD",
                i,
                format!("{who} is nested in another process; use a sub-process or a call activity"),
            );
        }
    }
}
