//! Reference checks (REF): every `*Ref` attribute or element, `incoming`/`outgoing`,
//! `default`, `calledElement` … must name an existing element of an allowed type;
//! plus id uniqueness (EXT.002) and presence (EXT.003).

use super::index::{
    ACTIVITIES, CHOREOGRAPHY_ACTIVITIES, Doc, EVENT_DEFINITIONS, EVENTS, GATEWAYS, Sink,
};
use crate::qname::Target;

/// Which elements carry the reference.
enum On {
    Kinds(&'static [&'static str]),
    FlowNode,
    Any,
}

/// Which elements it may point to.
#[derive(Clone, Copy)]
enum To {
    Kinds(&'static [&'static str]),
    FlowNode,
    Activity,
    ItemAware,
    EventDef,
    Interaction,
    /// Existence only; the type is judged by a dedicated EXT rule.
    Any,
}

struct Ref {
    on: On,
    name: &'static str,
    attr: bool,
    /// A QName (may point into an imported document) rather than a local IDREF.
    qname: bool,
    to: To,
}

const fn a(on: On, name: &'static str, qname: bool, to: To) -> Ref {
    Ref {
        on,
        name,
        attr: true,
        qname,
        to,
    }
}
const fn e(on: On, name: &'static str, qname: bool, to: To) -> Ref {
    Ref {
        on,
        name,
        attr: false,
        qname,
        to,
    }
}
const fn k(kinds: &'static [&'static str]) -> On {
    On::Kinds(kinds)
}
const fn t(kinds: &'static [&'static str]) -> To {
    To::Kinds(kinds)
}

const ITEM: To = To::Kinds(&["itemDefinition"]);
const ITEM_AWARE: &[&str] = &[
    "property",
    "dataObject",
    "dataObjectReference",
    "dataStore",
    "dataStoreReference",
    "dataInput",
    "dataOutput",
    "inputDataItem",
    "outputDataItem",
];
const CALLABLE: &[&str] = &[
    "process",
    "globalTask",
    "globalUserTask",
    "globalManualTask",
    "globalScriptTask",
    "globalBusinessRuleTask",
];
const CONVERSATION_NODES: &[&str] = &["conversation", "subConversation", "callConversation"];
const RESOURCE_ROLES: &[&str] = &[
    "resourceRole",
    "performer",
    "humanPerformer",
    "potentialOwner",
];
const WITH_DEFAULT: &[&str] = &[
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
    "exclusiveGateway",
    "inclusiveGateway",
    "complexGateway",
];

const REFS: &[Ref] = &[
    a(
        k(&["association", "relationship"]),
        "sourceRef",
        true,
        To::Any,
    ),
    a(k(&["association"]), "targetRef", true, To::Any),
    a(
        k(&["group"]),
        "categoryValueRef",
        true,
        t(&["categoryValue"]),
    ),
    e(On::Any, "categoryValueRef", true, t(&["categoryValue"])),
    a(
        k(&["correlationPropertyRetrievalExpression"]),
        "messageRef",
        true,
        t(&["message"]),
    ),
    a(
        k(&["correlationSubscription"]),
        "correlationKeyRef",
        true,
        t(&["correlationKey"]),
    ),
    a(
        k(&["correlationPropertyBinding"]),
        "correlationPropertyRef",
        true,
        t(&["correlationProperty"]),
    ),
    e(
        k(&["correlationKey"]),
        "correlationPropertyRef",
        true,
        t(&["correlationProperty"]),
    ),
    a(
        k(&["correlationProperty", "resourceParameter"]),
        "type",
        true,
        ITEM,
    ),
    a(
        k(&["error", "escalation", "signal"]),
        "structureRef",
        true,
        ITEM,
    ),
    a(k(&["message"]), "itemRef", true, ITEM),
    a(On::Any, "evaluatesToTypeRef", true, ITEM),
    a(
        k(&["sequenceFlow", "messageFlow"]),
        "sourceRef",
        false,
        To::Any,
    ),
    a(
        k(&["sequenceFlow", "messageFlow"]),
        "targetRef",
        false,
        To::Any,
    ),
    a(k(&["messageFlow"]), "messageRef", true, t(&["message"])),
    e(On::FlowNode, "incoming", true, t(&["sequenceFlow"])),
    e(On::FlowNode, "outgoing", true, t(&["sequenceFlow"])),
    e(k(&["operation"]), "inMessageRef", true, t(&["message"])),
    e(k(&["operation"]), "outMessageRef", true, t(&["message"])),
    e(k(&["operation"]), "errorRef", true, t(&["error"])),
    e(
        k(&["collaboration", "choreography", "globalConversation"]),
        "choreographyRef",
        true,
        t(&["choreography"]),
    ),
    a(k(&["participant"]), "processRef", true, t(&["process"])),
    e(k(&["participant"]), "interfaceRef", true, t(&["interface"])),
    e(k(&["participant"]), "endPointRef", true, t(&["endPoint"])),
    e(
        k(&["partnerEntity", "partnerRole"]),
        "participantRef",
        true,
        t(&["participant"]),
    ),
    e(
        k(&["participantAssociation"]),
        "innerParticipantRef",
        true,
        t(&["participant"]),
    ),
    e(
        k(&["participantAssociation"]),
        "outerParticipantRef",
        true,
        t(&["participant"]),
    ),
    e(k(&["process"]), "supports", true, t(&["process"])),
    a(
        k(&["process"]),
        "definitionalCollaborationRef",
        true,
        t(&["collaboration"]),
    ),
    a(k(WITH_DEFAULT), "default", false, t(&["sequenceFlow"])),
    e(k(RESOURCE_ROLES), "resourceRef", true, t(&["resource"])),
    a(
        k(&["resourceParameterBinding"]),
        "parameterRef",
        true,
        t(&["resourceParameter"]),
    ),
    a(
        k(&["serviceTask", "sendTask", "receiveTask"]),
        "operationRef",
        true,
        t(&["operation"]),
    ),
    a(
        k(&["sendTask", "receiveTask"]),
        "messageRef",
        true,
        t(&["message"]),
    ),
    a(k(&["callActivity"]), "calledElement", true, t(CALLABLE)),
    e(
        k(CALLABLE),
        "supportedInterfaceRef",
        true,
        t(&["interface"]),
    ),
    a(k(&["ioBinding"]), "inputDataRef", false, t(&["dataInput"])),
    a(
        k(&["ioBinding"]),
        "outputDataRef",
        false,
        t(&["dataOutput"]),
    ),
    a(k(&["ioBinding"]), "operationRef", true, t(&["operation"])),
    e(
        k(&["multiInstanceLoopCharacteristics"]),
        "loopDataInputRef",
        true,
        To::ItemAware,
    ),
    e(
        k(&["multiInstanceLoopCharacteristics"]),
        "loopDataOutputRef",
        true,
        To::ItemAware,
    ),
    a(
        k(&["multiInstanceLoopCharacteristics"]),
        "oneBehaviorEventRef",
        true,
        To::EventDef,
    ),
    a(
        k(&["multiInstanceLoopCharacteristics"]),
        "noneBehaviorEventRef",
        true,
        To::EventDef,
    ),
    a(k(ITEM_AWARE), "itemSubjectRef", true, ITEM),
    a(
        k(&["dataObjectReference"]),
        "dataObjectRef",
        false,
        t(&["dataObject"]),
    ),
    a(
        k(&["dataStoreReference"]),
        "dataStoreRef",
        true,
        t(&["dataStore"]),
    ),
    e(k(&["inputSet"]), "dataInputRefs", false, t(&["dataInput"])),
    e(
        k(&["inputSet"]),
        "optionalInputRefs",
        false,
        t(&["dataInput"]),
    ),
    e(
        k(&["inputSet"]),
        "whileExecutingInputRefs",
        false,
        t(&["dataInput"]),
    ),
    e(k(&["inputSet"]), "outputSetRefs", false, t(&["outputSet"])),
    e(
        k(&["outputSet"]),
        "dataOutputRefs",
        false,
        t(&["dataOutput"]),
    ),
    e(
        k(&["outputSet"]),
        "optionalOutputRefs",
        false,
        t(&["dataOutput"]),
    ),
    e(
        k(&["outputSet"]),
        "whileExecutingOutputRefs",
        false,
        t(&["dataOutput"]),
    ),
    e(k(&["outputSet"]), "inputSetRefs", false, t(&["inputSet"])),
    e(
        k(&["dataInputAssociation", "dataOutputAssociation"]),
        "sourceRef",
        false,
        To::ItemAware,
    ),
    e(
        k(&["dataInputAssociation", "dataOutputAssociation"]),
        "targetRef",
        false,
        To::ItemAware,
    ),
    e(k(EVENTS), "eventDefinitionRef", true, To::EventDef),
    a(k(&["boundaryEvent"]), "attachedToRef", true, To::Activity),
    a(
        k(&["compensateEventDefinition"]),
        "activityRef",
        true,
        To::Activity,
    ),
    a(
        k(&["errorEventDefinition"]),
        "errorRef",
        true,
        t(&["error"]),
    ),
    a(
        k(&["escalationEventDefinition"]),
        "escalationRef",
        true,
        t(&["escalation"]),
    ),
    a(
        k(&["messageEventDefinition"]),
        "messageRef",
        true,
        t(&["message"]),
    ),
    e(
        k(&["messageEventDefinition"]),
        "operationRef",
        true,
        t(&["operation"]),
    ),
    a(
        k(&["signalEventDefinition"]),
        "signalRef",
        true,
        t(&["signal"]),
    ),
    e(
        k(&["linkEventDefinition"]),
        "source",
        true,
        t(&["linkEventDefinition"]),
    ),
    e(
        k(&["linkEventDefinition"]),
        "target",
        true,
        t(&["linkEventDefinition"]),
    ),
    a(k(&["lane"]), "partitionElementRef", true, To::Any),
    e(k(&["lane"]), "flowNodeRef", false, To::FlowNode),
    a(
        k(&[
            "choreographyTask",
            "subChoreography",
            "callChoreography",
            "globalChoreographyTask",
        ]),
        "initiatingParticipantRef",
        true,
        t(&["participant"]),
    ),
    e(
        k(&[
            "choreographyTask",
            "subChoreography",
            "callChoreography",
            "globalChoreographyTask",
            "conversation",
            "subConversation",
            "callConversation",
        ]),
        "participantRef",
        true,
        t(&["participant"]),
    ),
    e(
        k(&[
            "choreographyTask",
            "conversation",
            "subConversation",
            "callConversation",
        ]),
        "messageFlowRef",
        true,
        t(&["messageFlow"]),
    ),
    a(
        k(&["callChoreography"]),
        "calledChoreographyRef",
        true,
        t(&["choreography", "globalChoreographyTask"]),
    ),
    a(
        k(&["callConversation"]),
        "calledCollaborationRef",
        true,
        t(&["collaboration", "globalConversation"]),
    ),
    a(k(&["conversationLink"]), "sourceRef", true, To::Interaction),
    a(k(&["conversationLink"]), "targetRef", true, To::Interaction),
    a(
        k(&["conversationAssociation"]),
        "innerConversationNodeRef",
        true,
        t(CONVERSATION_NODES),
    ),
    a(
        k(&["conversationAssociation"]),
        "outerConversationNodeRef",
        true,
        t(CONVERSATION_NODES),
    ),
    a(
        k(&["messageFlowAssociation"]),
        "innerMessageFlowRef",
        true,
        t(&["messageFlow"]),
    ),
    a(
        k(&["messageFlowAssociation"]),
        "outerMessageFlowRef",
        true,
        t(&["messageFlow"]),
    ),
];

/// Elements that are referenced by others and so need an id (EXT.003).
const NEED_ID: &[&str] = &[
    "sequenceFlow",
    "messageFlow",
    "participant",
    "process",
    "message",
    "error",
    "escalation",
    "signal",
    "itemDefinition",
    "dataObject",
    "dataStore",
    "dataInput",
    "dataOutput",
    "interface",
    "operation",
    "correlationProperty",
    "resource",
    "categoryValue",
];

pub(super) fn is_flow_node(doc: &Doc, i: usize) -> bool {
    doc.is(i, ACTIVITIES)
        || doc.is(i, GATEWAYS)
        || doc.is(i, EVENTS)
        || doc.is(i, CHOREOGRAPHY_ACTIVITIES)
}

pub(super) fn is_interaction(doc: &Doc, i: usize) -> bool {
    doc.is(i, &["participant"])
        || doc.is(i, ACTIVITIES)
        || doc.is(i, EVENTS)
        || doc.is(i, CONVERSATION_NODES)
}

fn allowed(doc: &Doc, to: To, i: usize) -> bool {
    match to {
        To::Kinds(kinds) => doc.is(i, kinds),
        To::FlowNode => is_flow_node(doc, i),
        To::Activity => doc.is(i, ACTIVITIES),
        To::ItemAware => doc.is(i, ITEM_AWARE),
        To::EventDef => doc.is(i, EVENT_DEFINITIONS),
        To::Interaction => is_interaction(doc, i),
        To::Any => true,
    }
}

fn expected(to: To) -> String {
    match to {
        To::Kinds(kinds) => kinds.join(" or "),
        To::FlowNode => "a flow node".into(),
        To::Activity => "an activity".into(),
        To::ItemAware => {
            "an item-aware element (data object, data input/output, property, data store)".into()
        }
        To::EventDef => "an event definition".into(),
        To::Interaction => "a participant or conversation node".into(),
        To::Any => "an element".into(),
    }
}

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for &(dup, first) in &doc.duplicates {
        let id = doc.el(dup).attr("id").unwrap_or("").trim();
        let msg = format!(
            "id `{id}` is already used by <{}> at {}; ids must be unique in the document",
            doc.el(first).name,
            doc.el(first).pos
        );
        s.report("EXT.002", dup, msg);
    }
    for i in 0..doc.nodes.len() {
        let kind = doc.kind(i);
        if kind.is_empty() {
            continue;
        }
        // Vendor engines name anonymous sequence flows themselves (Flowable's own
        // examples leave their ids out).
        let anonymous_ok = doc.vendor && kind == "sequenceFlow";
        if doc.id(i).is_none() && (NEED_ID.contains(&kind) || is_flow_node(doc, i)) && !anonymous_ok
        {
            s.report(
                "EXT.003",
                i,
                format!("<{kind}> has no id, but it is an element that is referenced by others"),
            );
        }
        for r in REFS {
            let applies = match r.on {
                On::Kinds(kinds) => kinds.contains(&kind),
                On::FlowNode => is_flow_node(doc, i),
                On::Any => true,
            };
            if !applies {
                continue;
            }
            if r.attr {
                if let Some(v) = doc.el(i).attr(r.name) {
                    check_value(s, i, i, r, v);
                }
            } else {
                for &c in doc.children(i) {
                    if doc.kind(c) == r.name {
                        check_value(s, c, i, r, doc.el(c).text.as_str());
                    }
                }
            }
        }
    }
}

fn check_value(s: &mut Sink, at: usize, owner: usize, r: &Ref, value: &str) {
    let doc = s.doc;
    let v = value.trim();
    let who = doc.label(owner);
    if v.is_empty() {
        s.report(
            "REF",
            at,
            format!("{who}: `{}` is empty; it must name an element", r.name),
        );
        return;
    }
    // Item definitions are often given as the type itself: an XML Schema type
    // (`xsd:string`), or for errors, escalations and signals a `structureRef`
    // written like an item definition's.
    let item = matches!(r.to, To::Kinds(["itemDefinition"]));
    // A vendor's call activity may call a process deployed on its own, by key,
    // and a vendor's error event may give the error code itself as `errorRef`.
    let by_key = doc.vendor && r.name == "calledElement";
    let by_code = doc.vendor && r.name == "errorRef" && doc.kind(owner) == "errorEventDefinition";
    match doc.target(at, v) {
        Target::Local(_) => match doc.resolve(at, v) {
            Some(target) if allowed(doc, r.to, target) => {}
            Some(target) => {
                let msg = format!(
                    "{who}: `{}` points to `{v}`, which is a <{}>; expected {}",
                    r.name,
                    doc.el(target).name,
                    expected(r.to)
                );
                s.report("REF", at, msg);
            }
            None if by_key || by_code || (item && r.name == "structureRef") => {}
            None => {
                let msg = format!("{who}: `{}` points to `{v}`, which does not exist", r.name);
                s.report("REF", at, msg);
            }
        },
        // Another document's element: not checked (no I/O).
        Target::Imported { .. } if r.qname || by_key => {}
        Target::Imported { ns, .. } => {
            let msg = format!(
                "{who}: `{}` is `{v}`, an element of the imported namespace `{ns}`; it must name an element of this document",
                r.name
            );
            s.report("REF", at, msg);
        }
        Target::Foreign { .. } if item || by_key => {}
        Target::Foreign { ns, .. } => {
            let msg = format!(
                "{who}: `{}` is `{v}`, whose prefix is bound to `{ns}`, which is neither this document's targetNamespace nor imported",
                r.name
            );
            s.report("REF", at, msg);
        }
        Target::UnknownPrefix(_) if by_key => {}
        Target::UnknownPrefix(p) => {
            let msg = format!(
                "{who}: `{}` is `{v}`, but the prefix `{p}` is not declared",
                r.name
            );
            s.report("REF", at, msg);
        }
    }
}
