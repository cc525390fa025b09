//! Reading flow nodes: activities, gateways, loops and their attributes.

use baton_expr::Expr;

use super::Compiler;
use crate::model::{
    AdHoc, CallTarget, El, Extension, Gateway, Kind, Loop, MiBehavior, MultiInstance, TaskKind,
};
use crate::qname::Target;
use crate::vendor;
use crate::xml;

const TASKS: &[&str] = &[
    "task",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "userTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
];
const EVENTS: &[&str] = &[
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
];
const GATEWAYS: &[&str] = &[
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
];

pub(crate) fn is_flow_node(name: &str) -> bool {
    TASKS.contains(&name)
        || EVENTS.contains(&name)
        || GATEWAYS.contains(&name)
        || matches!(
            name,
            "subProcess" | "transaction" | "adHocSubProcess" | "callActivity"
        )
}

impl<'a> Compiler<'a> {
    pub(super) fn fill_element(&mut self, el: El) {
        let x = self.xml_of[el.0 as usize].xml;
        self.current = Some(x);
        let kind = match x.name.as_str() {
            "process" => Kind::Process,
            "subProcess" | "transaction" | "adHocSubProcess" => self.sub_process(x),
            "callActivity" => match self.call_target(x) {
                Some(t) => Kind::CallActivity(t),
                None => return,
            },
            n if TASKS.contains(&n) => match self.task_kind(x) {
                Some(t) => Kind::Task(t),
                None => return,
            },
            "exclusiveGateway" => Kind::Gateway(Gateway::Exclusive),
            "parallelGateway" => Kind::Gateway(Gateway::Parallel),
            "inclusiveGateway" => Kind::Gateway(Gateway::Inclusive),
            "eventBasedGateway" => {
                if x.attr("eventGatewayType") == Some("Parallel") {
                    self.err(
                        "unsupported",
                        x,
                        "a parallel event-based gateway is not supported; use an exclusive one",
                    );
                }
                Kind::Gateway(Gateway::EventBased)
            }
            "complexGateway" => Kind::Gateway(Gateway::Complex {
                activation: self.expr_child(x, "activationCondition"),
            }),
            _ => match self.event_kind(el, x) {
                Some(k) => k,
                None => return,
            },
        };
        let e = &mut self.model.elements[el.0 as usize];
        e.kind = kind;
        if let Some(d) = x.attr("default") {
            match self
                .local_id(x, d)
                .and_then(|d| self.flow_index.get(d))
                .copied()
            {
                Some(f) if self.model.flows[f.0 as usize].source == el => {
                    self.model.elements[el.0 as usize].default_flow = Some(f);
                }
                _ => self.err(
                    "REF",
                    x,
                    format!("default flow `{d}` is not an outgoing sequence flow of this element"),
                ),
            }
        }
        self.quantities(el, x);
        if self.model.elements[el.0 as usize].is_activity() {
            self.model.elements[el.0 as usize].for_compensation =
                x.attr("isForCompensation") == Some("true");
            self.loop_characteristics(el, x);
        }
        let parent = self.model.elements[el.0 as usize].parent;
        if let Some(p) = parent {
            let is_event_sub = matches!(
                self.model.elements[el.0 as usize].kind,
                Kind::SubProcess {
                    triggered_by_event: true,
                    ..
                }
            );
            let pe = &mut self.model.elements[p.0 as usize];
            if is_event_sub {
                pe.event_subprocesses.push(el);
            } else {
                pe.children.push(el);
            }
        }
        let ext = self.extension(x);
        if let Some(t) = ext.as_deref().and_then(|e| self.call_process(x, e)) {
            self.model.elements[el.0 as usize].kind = Kind::CallActivity(t);
        }
        self.model.elements[el.0 as usize].ext = ext;
        self.correlation(el, x);
    }

    fn sub_process(&mut self, x: &xml::Element) -> Kind {
        let ad_hoc = (x.name == "adHocSubProcess").then(|| AdHoc {
            sequential: x.attr("ordering") == Some("Sequential"),
            completion: self.expr_child(x, "completionCondition"),
            cancel_remaining: x.attr("cancelRemainingInstances") != Some("false"),
        });
        Kind::SubProcess {
            triggered_by_event: x.attr("triggeredByEvent") == Some("true"),
            transaction: x.name == "transaction",
            ad_hoc,
        }
    }

    fn task_kind(&mut self, x: &xml::Element) -> Option<TaskKind> {
        Some(match x.name.as_str() {
            "task" | "manualTask" | "globalManualTask" => TaskKind::Plain,
            "serviceTask" | "globalTask" => TaskKind::Service,
            "businessRuleTask" | "globalBusinessRuleTask" => TaskKind::BusinessRule,
            "userTask" | "globalUserTask" => TaskKind::User,
            "scriptTask" | "globalScriptTask" => TaskKind::Script {
                format: x.attr("scriptFormat").map(str::to_owned),
                script: x
                    .bpmn_child("script")
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
            },
            "sendTask" => TaskKind::Send {
                message: self.message_attr(x)?,
            },
            "receiveTask" => TaskKind::Receive {
                message: self.message_attr(x)?,
            },
            other => {
                self.err("unsupported", x, format!("<{other}> cannot be executed"));
                return None;
            }
        })
    }

    fn message_attr(&mut self, x: &xml::Element) -> Option<Option<u32>> {
        match x.attr("messageRef") {
            None => Some(None),
            Some(r) => match self.message(x, r) {
                Some(m) => Some(Some(m)),
                None => {
                    self.err("REF", x, format!("messageRef `{r}` names no <message>"));
                    None
                }
            },
        }
    }

    fn call_target(&mut self, x: &xml::Element) -> Option<CallTarget> {
        let Some(called) = x
            .attr("calledElement")
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            self.err("XSD", x, "call activity has no calledElement");
            return None;
        };
        // A QName names a process by id: of this document, or of another one
        // (deployed separately, by key). Anything else is a key or a template.
        let key = match self.names.target(x, called) {
            Target::Local(id) => {
                if let Some(g) = self.global_tasks.get(id).copied() {
                    return self.task_kind(g).map(CallTarget::GlobalTask);
                }
                id
            }
            Target::Imported { local, .. } | Target::Foreign { local, .. } => local,
            Target::UnknownPrefix(_) => called,
        };
        match baton_expr::parse_template(key) {
            Ok(t) => Some(CallTarget::Process(t)),
            Err(e) => {
                self.err("expression", x, format!("calledElement `{called}`: {e}"));
                None
            }
        }
    }

    /// `<serviceTask baton:type="call-process">` with `processKey` (and
    /// `version`) is a call activity: the engine starts the child, waits for
    /// it and passes the `LWAMS_CALL_*` variables.
    fn call_process(&mut self, x: &xml::Element, ext: &Extension) -> Option<CallTarget> {
        if x.name != "serviceTask" || ext.node_type.as_deref() != Some("call-process") {
            return None;
        }
        let prop = |k: &str| {
            ext.props
                .get(k)
                .or(ext.attrs.get(k))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(key) = prop("processKey") else {
            self.err(
                "property",
                x,
                "call-process: property `processKey` is required",
            );
            return None;
        };
        let target = match prop("version") {
            None | Some("latest") => key.to_owned(),
            Some(v) if v.parse::<u32>().is_ok_and(|n| n >= 1) => format!("{key}:{v}"),
            Some(v) => {
                self.err(
                    "property",
                    x,
                    format!("call-process: `version` must be a number ≥ 1 or `latest`, not `{v}`"),
                );
                return None;
            }
        };
        if let Some(p) = prop("param")
            && let Err(e) = baton_expr::parse_template(p)
        {
            self.err("expression", x, format!("call-process `param`: {e}"));
            return None;
        }
        match baton_expr::parse_template(&target) {
            Ok(t) => Some(CallTarget::Process(t)),
            Err(e) => {
                self.err("expression", x, format!("call-process `processKey`: {e}"));
                None
            }
        }
    }

    fn quantities(&mut self, el: El, x: &xml::Element) {
        for (attr, start) in [("startQuantity", true), ("completionQuantity", false)] {
            let Some(v) = x.attr(attr) else { continue };
            match v.trim().parse::<u32>() {
                Ok(n) if n >= 1 => {
                    let e = &mut self.model.elements[el.0 as usize];
                    if start {
                        e.start_quantity = n;
                    } else {
                        e.completion_quantity = n;
                    }
                }
                _ => self.err(
                    "EXT.012",
                    x,
                    format!("{attr} must be an integer ≥ 1, found `{v}`"),
                ),
            }
        }
    }

    pub(super) fn expr_child(&mut self, x: &xml::Element, child: &str) -> Option<Expr> {
        let c = x.bpmn_child(child)?;
        self.expr_text(x, child, c.trimmed_text())
    }

    pub(super) fn expr_text(&mut self, x: &xml::Element, what: &str, text: &str) -> Option<Expr> {
        if text.is_empty() {
            return None;
        }
        match baton_expr::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                let hint = super::feel_hint(text);
                self.err("expression", x, format!("{what} `{text}`: {e}{hint}"));
                None
            }
        }
    }

    fn loop_characteristics(&mut self, el: El, x: &xml::Element) {
        let std = x.bpmn_child("standardLoopCharacteristics");
        let multi = x.bpmn_child("multiInstanceLoopCharacteristics");
        let looping = match (std, multi) {
            (Some(_), Some(_)) => {
                self.err(
                    "EXT.041",
                    x,
                    "an activity cannot have both standard and multi-instance loop characteristics",
                );
                return;
            }
            (Some(s), None) => {
                let maximum = match s.attr("loopMaximum") {
                    None => None,
                    Some(m) => match m.trim().parse::<u64>() {
                        Ok(n) => Some(n),
                        Err(_) => {
                            self.err(
                                "XSD",
                                s,
                                format!("loopMaximum must be a non-negative integer, found `{m}`"),
                            );
                            return;
                        }
                    },
                };
                Loop::Standard {
                    condition: self.expr_child(s, "loopCondition"),
                    test_before: s.attr("testBefore") == Some("true"),
                    maximum,
                }
            }
            (None, Some(m)) => Loop::Multi(Box::new(self.multi_instance(m))),
            (None, None) => return,
        };
        self.model.elements[el.0 as usize].looping = Some(looping);
    }

    fn multi_instance(&mut self, m: &xml::Element) -> MultiInstance {
        let collection = match (m.bpmn_child("loopDataInputRef"), vendor::mi_collection(m)) {
            (Some(r), _) => {
                let text = r.trimmed_text();
                let name = self.local_id(r, text).unwrap_or(text);
                self.expr_text(m, "loopDataInputRef", name)
            }
            (None, Some(c)) => self.expr_text(m, "collection", c),
            (None, None) => None,
        };
        let element_variable = m
            .bpmn_child("inputDataItem")
            .and_then(|i| i.attr("name").or(i.attr("id")))
            .or_else(|| vendor::mi_element_variable(m))
            .map(str::to_owned);
        let behavior_event = |c: &mut Self, attr: &str| -> Option<u32> {
            let r = m.attr(attr)?;
            let def = c
                .local_id(m, r)
                .and_then(|id| c.event_defs.get(id))
                .copied();
            match def.and_then(|d| c.signal(d, d.attr("signalRef")?)) {
                Some(s) => Some(s),
                None => {
                    c.err(
                        "REF",
                        m,
                        format!("{attr} `{r}` names no signal event definition"),
                    );
                    None
                }
            }
        };
        let behavior = match m.attr("behavior") {
            Some("None") => MiBehavior::None {
                signal: behavior_event(self, "noneBehaviorEventRef"),
            },
            Some("One") => MiBehavior::One {
                signal: behavior_event(self, "oneBehaviorEventRef"),
            },
            Some("Complex") => {
                self.err(
                    "unsupported",
                    m,
                    "multi-instance behavior `Complex` is not supported",
                );
                MiBehavior::All
            }
            _ => MiBehavior::All,
        };
        let cardinality = self.expr_child(m, "loopCardinality");
        let given = m.bpmn_child("loopCardinality").is_some()
            || m.bpmn_child("loopDataInputRef").is_some()
            || vendor::mi_collection(m).is_some();
        if !given {
            self.err(
                "EXT.012",
                m,
                "a multi-instance activity needs a loopCardinality or a collection (loopDataInputRef)",
            );
        }
        MultiInstance {
            sequential: m.attr("isSequential") == Some("true"),
            cardinality,
            collection,
            element_variable,
            completion: self.expr_child(m, "completionCondition"),
            behavior,
        }
    }
}
