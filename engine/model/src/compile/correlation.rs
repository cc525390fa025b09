//! Message correlation keys: which value a message must carry to reach a
//! waiting element, and which value a thrown message carries.

use super::Compiler;
use crate::model::{El, Kind, TaskKind, Throw, Trigger};
use crate::xml::{self, BPMN_NS};

impl Compiler<'_> {
    /// `baton:correlationKey` (any vendor prefix) on the element, else the
    /// standard retrieval expression of its message.
    pub(super) fn correlation(&mut self, el: El, x: &xml::Element) {
        let own = x
            .attrs
            .iter()
            .find(|a| {
                a.name == "correlationKey" && a.ns.is_some() && a.ns.as_deref() != Some(BPMN_NS)
            })
            .map(|a| a.value.clone());
        let text = match own {
            Some(t) => Some(t),
            None => message_of(&self.model.elements[el.0 as usize].kind)
                .and_then(|m| self.retrieval(&self.model.messages[m as usize].id.clone())),
        };
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return;
        };
        match baton_expr::parse_template(&text) {
            Ok(t) => self.model.elements[el.0 as usize].correlation = Some(t),
            Err(e) => self.err("expression", x, format!("correlation key `{text}`: {e}")),
        }
    }

    /// `<correlationProperty><correlationPropertyRetrievalExpression messageRef="m">
    /// <messagePath>expr</messagePath>` → `${expr}`.
    fn retrieval(&self, message_id: &str) -> Option<String> {
        for cp in self.root.bpmn_children_named("correlationProperty") {
            for r in cp.bpmn_children_named("correlationPropertyRetrievalExpression") {
                if r.attr("messageRef").and_then(|v| self.local_id(r, v)) == Some(message_id) {
                    let path = r.bpmn_child("messagePath")?.trimmed_text();
                    if path.is_empty() {
                        return None;
                    }
                    return Some(if path.contains("${") {
                        path.to_owned()
                    } else {
                        format!("${{{path}}}")
                    });
                }
            }
        }
        None
    }
}

/// The message an element catches or throws, if any.
pub(crate) fn message_of(kind: &Kind) -> Option<u32> {
    match kind {
        Kind::StartEvent { triggers, .. }
        | Kind::CatchEvent { triggers, .. }
        | Kind::Boundary { triggers, .. } => triggers.iter().find_map(|t| match t {
            Trigger::Message(m) => Some(*m),
            _ => None,
        }),
        Kind::EndEvent { results } | Kind::ThrowEvent { results } => {
            results.iter().find_map(|r| match r {
                Throw::Message(m) => *m,
                _ => None,
            })
        }
        Kind::Task(TaskKind::Send { message } | TaskKind::Receive { message }) => *message,
        _ => None,
    }
}
