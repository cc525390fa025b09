//! Tokens moving: arriving at elements (joins), entering them, and leaving
//! along outgoing sequence flows (exclusive, inclusive and parallel splits).

use baton_model::{El, Fl, Gateway, Kind, Throw, Trigger};

use super::{Op, Run};
use crate::protocol::HistoryKind;
use crate::state::{ExecId, Join, RetryAs, Wait};

impl Run<'_> {
    pub(super) fn arrive(&mut self, scope: ExecId, el: El, via: Option<Fl>) {
        let e = self.m.element(el);
        let joining = match &e.kind {
            Kind::Gateway(Gateway::Parallel | Gateway::Inclusive | Gateway::Complex { .. }) => {
                e.incoming.len() > 1
            }
            _ => e.start_quantity > 1,
        };
        if !joining {
            self.enter(scope, el);
            return;
        }
        let slots = if matches!(e.kind, Kind::Gateway(_)) {
            e.incoming.len()
        } else {
            1
        };
        let slot = if slots == 1 {
            0
        } else {
            via.and_then(|f| e.incoming.iter().position(|x| *x == f))
                .unwrap_or(0)
        };
        let j = match self
            .st
            .joins
            .iter()
            .position(|j| j.scope == scope && j.element == el)
        {
            Some(j) => j,
            None => {
                self.st.joins.push(Join {
                    scope,
                    element: el,
                    counts: vec![0; slots],
                    fired: false,
                    seen: vec![false; slots],
                });
                self.st.joins.len() - 1
            }
        };
        let join = &mut self.st.joins[j];
        match &e.kind {
            Kind::Gateway(Gateway::Parallel) => {
                join.counts[slot] += 1;
                if join.counts.iter().all(|c| *c > 0) {
                    join.counts.iter_mut().for_each(|c| *c -= 1);
                    self.drop_empty_join(j);
                    self.enter(scope, el);
                }
            }
            Kind::Gateway(Gateway::Complex { .. }) if join.fired => {
                // Absorb the rest of this round's tokens.
                join.seen[slot] = true;
                if join.seen.iter().all(|s| *s) {
                    join.fired = false;
                    join.seen.iter_mut().for_each(|s| *s = false);
                }
                self.history(0, el, HistoryKind::Passed);
                self.drop_empty_join(j);
            }
            Kind::Gateway(_) => {
                // Inclusive and complex joins are decided in `evaluate_joins`,
                // once no token is in flight.
                join.counts[slot] += 1;
            }
            _ => {
                join.counts[0] += 1;
                if join.counts[0] >= e.start_quantity {
                    join.counts[0] -= e.start_quantity;
                    self.drop_empty_join(j);
                    self.enter(scope, el);
                }
            }
        }
    }

    fn drop_empty_join(&mut self, j: usize) {
        let join = &self.st.joins[j];
        if join.counts.iter().all(|c| *c == 0) && !join.fired {
            self.st.joins.swap_remove(j);
        }
    }

    /// Run an element's behaviour once its token(s) have arrived.
    pub(super) fn enter(&mut self, scope: ExecId, el: El) {
        let m = self.m;
        let e = m.element(el);
        match &e.kind {
            Kind::StartEvent { .. }
            | Kind::Gateway(
                Gateway::Exclusive
                | Gateway::Parallel
                | Gateway::Inclusive
                | Gateway::Complex { .. },
            ) => {
                let id = self.new_id();
                self.history(id, el, HistoryKind::Passed);
                self.leave(scope, el, id);
            }
            Kind::Gateway(Gateway::EventBased) => self.event_gateway(scope, el),
            Kind::EndEvent { results } => {
                let id = self.new_id();
                self.history(id, el, HistoryKind::Passed);
                if results.is_empty() {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                for r in results {
                    self.throw_result(scope, el, id, r, true);
                }
            }
            Kind::ThrowEvent { results } => {
                let id = self.new_id();
                self.history(id, el, HistoryKind::Passed);
                let mut continues = true;
                for r in results {
                    continues &= self.throw_result(scope, el, id, r, false);
                }
                if continues && !results.iter().any(|r| matches!(r, Throw::Link(_))) {
                    self.leave(scope, el, id);
                }
            }
            Kind::CatchEvent { triggers, .. } => {
                if triggers.iter().any(|t| matches!(t, Trigger::Link(_))) {
                    let id = self.new_id();
                    self.history(id, el, HistoryKind::Passed);
                    self.leave(scope, el, id);
                } else {
                    let id = self.new_id();
                    self.push_exec(id, el, Some(scope), Wait::Event);
                    self.history(id, el, HistoryKind::Started);
                    self.subscribe_all(id, el);
                }
            }
            Kind::Boundary { .. } => {
                // Reached only through its trigger; a flow into it is invalid BPMN.
                let id = self.new_id();
                self.history(id, el, HistoryKind::Passed);
                self.leave(scope, el, id);
            }
            Kind::Process => {}
            Kind::Task(_) | Kind::SubProcess { .. } | Kind::CallActivity(_) => {
                self.start_activity(scope, el);
            }
        }
    }

    /// Send tokens along the outgoing flows `el` selects. `id` is the
    /// element instance leaving (for incidents).
    pub(super) fn leave(&mut self, scope: ExecId, el: El, id: ExecId) {
        let m = self.m;
        let e = m.element(el);
        let chosen: Result<Vec<Fl>, String> = match &e.kind {
            Kind::Gateway(Gateway::Exclusive) => self.exclusive(scope, el),
            Kind::Gateway(Gateway::Inclusive | Gateway::Complex { .. }) => {
                self.inclusive(scope, el, true)
            }
            Kind::Gateway(_) => Ok(e.outgoing.clone()),
            _ => self.inclusive(scope, el, false),
        };
        match chosen {
            Ok(flows) => {
                if flows.is_empty() {
                    self.queue.push_back(Op::CheckScope(scope));
                }
                let n = if matches!(e.kind, Kind::Gateway(_)) {
                    1
                } else {
                    e.completion_quantity
                };
                for f in flows {
                    for _ in 0..n {
                        self.queue.push_back(Op::Arrive {
                            scope,
                            el: m.flow(f).target,
                            via: Some(f),
                        });
                    }
                }
            }
            Err(message) => self.incident(scope, el, id, message, RetryAs::Leave),
        }
    }

    /// A flow without a condition always holds.
    fn flow_holds(&self, scope: ExecId, f: Fl) -> Result<bool, String> {
        match &self.m.flow(f).condition {
            None => Ok(true),
            Some(c) => self
                .eval_bool(scope, c)
                .map_err(|err| format!("condition of flow `{}`: {err}", self.m.flow(f).id)),
        }
    }

    fn exclusive(&mut self, scope: ExecId, el: El) -> Result<Vec<Fl>, String> {
        let e = self.m.element(el);
        for &f in &e.outgoing {
            if Some(f) == e.default_flow {
                continue;
            }
            if self.flow_holds(scope, f)? {
                return Ok(vec![f]);
            }
        }
        match e.default_flow {
            Some(d) => Ok(vec![d]),
            None => Err(format!(
                "exclusive gateway `{}`: no outgoing condition is true and there is no default flow",
                e.id
            )),
        }
    }

    /// Every flow whose condition holds (flows without one always); the
    /// default flow when none with a condition does. `gateway` makes "no way
    /// out" an error (for activities it just ends the token).
    fn inclusive(&mut self, scope: ExecId, el: El, gateway: bool) -> Result<Vec<Fl>, String> {
        let e = self.m.element(el);
        let mut out = Vec::with_capacity(e.outgoing.len());
        for &f in &e.outgoing {
            if Some(f) == e.default_flow {
                continue;
            }
            if self.flow_holds(scope, f)? {
                out.push(f);
            }
        }
        if out.is_empty() {
            if let Some(d) = e.default_flow {
                out.push(d);
            } else if gateway && !e.outgoing.is_empty() {
                return Err(format!(
                    "gateway `{}`: no outgoing condition is true and there is no default flow",
                    e.id
                ));
            }
        }
        Ok(out)
    }

    /// Put a stuck token in front of an operator.
    pub(super) fn incident(
        &mut self,
        scope: ExecId,
        el: El,
        id: ExecId,
        message: String,
        retry: RetryAs,
    ) {
        if self.st.exec(id).is_none() {
            self.push_exec(id, el, Some(scope), Wait::Scope);
        }
        if let Some(x) = self.st.exec_mut(id) {
            x.wait = Wait::Incident {
                message: message.clone(),
                retry,
            };
        }
        self.history(
            id,
            el,
            HistoryKind::Failed {
                message: message.clone(),
            },
        );
        self.out.actions.push(crate::protocol::Action::Incident {
            exec: id,
            element: el,
            message,
        });
    }

    /// Decide inclusive and complex joins once nothing is in flight. Returns
    /// whether any fired.
    pub(super) fn evaluate_joins(&mut self) -> bool {
        let mut fired = false;
        let mut i = 0;
        while i < self.st.joins.len() {
            let j = &self.st.joins[i];
            let (scope, el) = (j.scope, j.element);
            let is_incl = matches!(self.m.element(el).kind, Kind::Gateway(Gateway::Inclusive));
            let is_complex = matches!(
                self.m.element(el).kind,
                Kind::Gateway(Gateway::Complex { .. })
            );
            if !(is_incl || is_complex) || j.counts.iter().all(|c| *c == 0) {
                i += 1;
                continue;
            }
            if is_complex
                && !j.fired
                && let Some(go) = self.complex_activation(i)
            {
                {
                    if go {
                        let j = &mut self.st.joins[i];
                        let n = j.counts.len();
                        for k in 0..n {
                            if j.counts[k] > 0 {
                                j.counts[k] -= 1;
                                j.seen[k] = true;
                            }
                        }
                        j.fired = !j.seen.iter().all(|s| *s);
                        if !j.fired {
                            j.seen.iter_mut().for_each(|s| *s = false);
                        }
                        self.drop_empty_join(i);
                        self.enter(scope, el);
                        return true;
                    }
                    i += 1;
                    continue;
                }
            }
            if self.inclusive_ready(i) {
                let j = &mut self.st.joins[i];
                j.counts.iter_mut().for_each(|c| *c = c.saturating_sub(1));
                self.drop_empty_join(i);
                self.enter(scope, el);
                fired = true;
                break;
            }
            i += 1;
        }
        fired
    }

    /// `Some(true)`: the activation condition holds; `Some(false)`: it does not;
    /// `None`: no condition (behave as an inclusive join).
    fn complex_activation(&mut self, i: usize) -> Option<bool> {
        let j = &self.st.joins[i];
        let Kind::Gateway(Gateway::Complex {
            activation: Some(cond),
        }) = &self.m.element(j.element).kind
        else {
            return None;
        };
        let count = j.counts.iter().filter(|c| **c > 0).count();
        let scope = j.scope;
        let mut extra = serde_json::Map::new();
        extra.insert("activationCount".into(), count.into());
        Some(self.eval_bool_with(scope, cond, &extra).unwrap_or(false))
    }

    /// The inclusive join rule: every incoming flow without a token has no
    /// token upstream of it in the same scope.
    fn inclusive_ready(&self, i: usize) -> bool {
        let j = &self.st.joins[i];
        let e = self.m.element(j.element);
        for (k, &f) in e.incoming.iter().enumerate() {
            if j.counts[k] > 0 {
                continue;
            }
            let Some(up) = self.m.upstream.get(&f) else {
                continue;
            };
            let blocked = self
                .st
                .execs
                .iter()
                .any(|x| x.parent == Some(j.scope) && up.contains(x.element))
                || self.st.joins.iter().enumerate().any(|(o, other)| {
                    o != i
                        && other.scope == j.scope
                        && other.counts.iter().any(|c| *c > 0)
                        && up.contains(other.element)
                });
            if blocked {
                return false;
            }
        }
        true
    }
}
