//! Reading events and their event definitions (catching triggers, throwing results).

use super::Compiler;
use crate::model::{El, Kind, Throw, Timer, Trigger};
use crate::xml;

impl<'a> Compiler<'a> {
    /// The event definitions of an event: its own children plus `eventDefinitionRef`s.
    fn definitions(&mut self, x: &'a xml::Element) -> Vec<&'a xml::Element> {
        let mut defs = Vec::new();
        for c in x.bpmn_children() {
            if c.name.ends_with("EventDefinition") {
                defs.push(c);
            } else if c.name == "eventDefinitionRef" {
                let r = c.trimmed_text();
                let def = self.local_id(c, r).and_then(|id| self.event_defs.get(id));
                match def.copied() {
                    Some(d) => defs.push(d),
                    None => self.err(
                        "REF",
                        c,
                        format!("eventDefinitionRef `{r}` names no event definition"),
                    ),
                }
            }
        }
        defs
    }

    pub(super) fn event_kind(&mut self, el: El, x: &'a xml::Element) -> Option<Kind> {
        let defs = self.definitions(x);
        let parallel_multiple = x.attr("parallelMultiple") == Some("true");
        let before = self.diags.len();
        let kind = match x.name.as_str() {
            "startEvent" => Kind::StartEvent {
                triggers: self.triggers(x, &defs),
                interrupting: x.attr("isInterrupting") != Some("false"),
                parallel_multiple,
            },
            "intermediateCatchEvent" => {
                let triggers = self.triggers(x, &defs);
                if defs.is_empty() {
                    self.err(
                        "EXT.115",
                        x,
                        "an intermediate catch event needs an event definition",
                    );
                }
                Kind::CatchEvent {
                    triggers,
                    parallel_multiple,
                }
            }
            "boundaryEvent" => {
                let Some(r) = x.attr("attachedToRef") else {
                    self.err("XSD", x, "boundary event has no attachedToRef");
                    return None;
                };
                let Some(target) = self.element_ref(x, r) else {
                    self.err("REF", x, format!("attachedToRef `{r}` does not exist"));
                    return None;
                };
                if !self.model.element(target).is_activity() {
                    self.err("REF", x, format!("attachedToRef `{r}` is not an activity"));
                    return None;
                }
                self.model.elements[target.0 as usize].boundaries.push(el);
                let triggers = self.triggers(x, &defs);
                if defs.is_empty() {
                    self.err("EXT.094", x, "a boundary event needs an event definition");
                }
                Kind::Boundary {
                    attached_to: target,
                    triggers,
                    interrupting: x.attr("cancelActivity") != Some("false"),
                    parallel_multiple,
                }
            }
            "endEvent" => Kind::EndEvent {
                results: self.throws(x, &defs),
            },
            "intermediateThrowEvent" => Kind::ThrowEvent {
                results: self.throws(x, &defs),
            },
            other => {
                self.err("unsupported", x, format!("<{other}> cannot be executed"));
                return None;
            }
        };
        (self.diags.len() == before).then_some(kind)
    }

    fn triggers(&mut self, x: &xml::Element, defs: &[&xml::Element]) -> Vec<Trigger> {
        let mut out = Vec::new();
        for d in defs {
            let t = match d.name.as_str() {
                "timerEventDefinition" => self.timer(x, d).map(Trigger::Timer),
                "messageEventDefinition" => self
                    .named_ref(d, "messageRef", "message", Self::message)
                    .map(Trigger::Message),
                "signalEventDefinition" => self
                    .named_ref(d, "signalRef", "signal", Self::signal)
                    .map(Trigger::Signal),
                "conditionalEventDefinition" => {
                    let c = d
                        .bpmn_child("condition")
                        .map(|c| c.trimmed_text())
                        .unwrap_or("");
                    if c.is_empty() {
                        self.err("EXT.123", x, "a conditional event needs a condition");
                        None
                    } else {
                        self.expr_text(x, "condition", c).map(Trigger::Conditional)
                    }
                }
                "errorEventDefinition" => self
                    .opt_ref(d, "errorRef", Self::error_ref)
                    .map(Trigger::Error),
                "escalationEventDefinition" => self
                    .opt_ref(d, "escalationRef", Self::escalation)
                    .map(Trigger::Escalation),
                "compensateEventDefinition" => Some(Trigger::Compensation),
                "cancelEventDefinition" => Some(Trigger::Cancel),
                "linkEventDefinition" => Some(Trigger::Link(link_name(d))),
                other => {
                    self.err("unsupported", x, format!("<{other}> cannot be caught here"));
                    None
                }
            };
            out.extend(t);
        }
        out
    }

    fn throws(&mut self, x: &xml::Element, defs: &[&xml::Element]) -> Vec<Throw> {
        let mut out = Vec::new();
        for d in defs {
            let t = match d.name.as_str() {
                "terminateEventDefinition" => Some(Throw::Terminate),
                "errorEventDefinition" => self
                    .opt_ref(d, "errorRef", Self::error_ref)
                    .map(Throw::Error),
                "escalationEventDefinition" => self
                    .opt_ref(d, "escalationRef", Self::escalation)
                    .map(Throw::Escalation),
                "messageEventDefinition" => self
                    .opt_ref(d, "messageRef", Self::message)
                    .map(Throw::Message),
                "signalEventDefinition" => self
                    .opt_ref(d, "signalRef", Self::signal)
                    .map(Throw::Signal),
                "compensateEventDefinition" => {
                    let activity = match d.attr("activityRef") {
                        None => Some(None),
                        Some(r) => match self.element_ref(d, r) {
                            Some(a) => Some(Some(a)),
                            None => {
                                self.err("REF", d, format!("activityRef `{r}` does not exist"));
                                None
                            }
                        },
                    };
                    activity.map(|activity| Throw::Compensation {
                        activity,
                        wait: d.attr("waitForCompletion") != Some("false"),
                    })
                }
                "linkEventDefinition" => Some(Throw::Link(link_name(d))),
                "cancelEventDefinition" => Some(Throw::Cancel),
                other => {
                    self.err("unsupported", x, format!("<{other}> cannot be thrown here"));
                    None
                }
            };
            out.extend(t);
        }
        out
    }

    fn timer(&mut self, x: &xml::Element, d: &xml::Element) -> Option<Timer> {
        let mut found = None;
        for (child, make) in [
            ("timeDate", Timer::Date as fn(_) -> Timer),
            ("timeDuration", Timer::Duration),
            ("timeCycle", Timer::Cycle),
        ] {
            if let Some(c) = d.bpmn_child(child) {
                let text = c.trimmed_text();
                if text.is_empty() {
                    self.err("EXT.013", x, format!("<{child}> is empty"));
                    return None;
                }
                if found.is_some() {
                    self.err(
                        "EXT.012",
                        x,
                        "a timer may have only one of timeDate, timeDuration, timeCycle",
                    );
                    return None;
                }
                match baton_expr::parse_template(text) {
                    Ok(t) => found = Some(make(t)),
                    Err(e) => {
                        self.err("expression", x, format!("{child} `{text}`: {e}"));
                        return None;
                    }
                }
            }
        }
        if found.is_none() {
            self.err(
                "EXT.013",
                x,
                "a timer event needs timeDate, timeDuration or timeCycle",
            );
        }
        found
    }

    /// A required reference to a message or signal.
    fn named_ref(
        &mut self,
        d: &xml::Element,
        attr: &str,
        what: &str,
        find: fn(&Self, &xml::Element, &str) -> Option<u32>,
    ) -> Option<u32> {
        match d.attr(attr) {
            Some(r) => match find(self, d, r) {
                Some(i) => Some(i),
                None => {
                    self.err("REF", d, format!("{attr} `{r}` names no <{what}>"));
                    None
                }
            },
            None => {
                self.err(
                    "unsupported",
                    d,
                    format!("a catching {what} event without {attr} can never be triggered; name a <{what}>"),
                );
                None
            }
        }
    }

    /// An optional reference (errors, escalations, thrown messages and signals).
    fn opt_ref(
        &mut self,
        d: &xml::Element,
        attr: &str,
        find: fn(&Self, &xml::Element, &str) -> Option<u32>,
    ) -> Option<Option<u32>> {
        let Some(r) = d.attr(attr) else {
            return Some(None);
        };
        let found = find(self, d, r).or_else(|| {
            if attr == "errorRef" {
                self.error_by_code(r)
            } else {
                None
            }
        });
        if found.is_none() {
            self.err("REF", d, format!("{attr} `{r}` does not exist"));
        }
        found.map(Some)
    }
}

fn link_name(d: &xml::Element) -> String {
    d.attr("name")
        .or(d.attr("id"))
        .unwrap_or_default()
        .to_owned()
}
