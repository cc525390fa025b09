//! Catching: subscriptions for timers, messages, signals and conditions,
//! and what happens when one fires (boundary events, event sub-processes,
//! intermediate catch events, receive tasks, event-based gateways).

use baton_model::{El, Kind, TaskKind, Trigger};
use serde_json::{Map, Value};

use super::{Op, Run};
use crate::protocol::{Action, HistoryKind, StepError};
use crate::state::{ExecId, Sub, SubId, Wait};

impl Run<'_> {
    fn triggers_of(&self, el: El) -> &[Trigger] {
        match &self.m.element(el).kind {
            Kind::StartEvent { triggers, .. }
            | Kind::CatchEvent { triggers, .. }
            | Kind::Boundary { triggers, .. } => triggers,
            _ => &[],
        }
    }

    /// Subscribe every trigger of a catching element for the life of `owner`.
    pub(super) fn subscribe_all(&mut self, owner: ExecId, el: El) {
        for i in 0..self.triggers_of(el).len() {
            self.subscribe(owner, el, i as u16);
        }
    }

    pub(super) fn subscribe_boundaries(&mut self, owner: ExecId, activity: El) {
        for &b in &self.m.element(activity).boundaries {
            self.subscribe_all(owner, b);
        }
    }

    /// A receive task waits for its message.
    pub(super) fn subscribe_receive(&mut self, owner: ExecId, el: El) {
        if let Kind::Task(TaskKind::Receive { message }) = &self.m.element(el).kind {
            let name = message
                .map(|i| self.m.messages[i as usize].name.clone())
                .unwrap_or_default();
            let id = self.new_id();
            self.st.subs.push(Sub {
                id,
                owner,
                element: el,
                trigger: 0,
                fired: false,
                due: None,
                cycle: None,
            });
            let key = self.correlation_key(owner, el);
            self.out.actions.push(Action::SubscribeMessage {
                sub: id,
                element: el,
                name,
                key,
            });
        }
    }

    fn subscribe(&mut self, owner: ExecId, el: El, trigger: u16) {
        let t = self.triggers_of(el)[trigger as usize].clone();
        let mut sub = Sub {
            id: 0,
            owner,
            element: el,
            trigger,
            fired: false,
            due: None,
            cycle: None,
        };
        let action = match &t {
            Trigger::Timer(timer) => match self.timer_due(owner, timer) {
                Ok((due, cycle)) => {
                    sub.due = Some(due);
                    sub.cycle = cycle;
                    None
                }
                Err(msg) => {
                    let id = self.new_id();
                    let scope = self.parent_of(owner).unwrap_or(owner);
                    self.incident(
                        scope,
                        el,
                        id,
                        format!("timer: {msg}"),
                        crate::state::RetryAs::Enter,
                    );
                    return;
                }
            },
            Trigger::Message(i) => Some(self.m.messages[*i as usize].name.clone()),
            Trigger::Signal(_) | Trigger::Conditional(_) => None,
            // Errors, escalations, compensation and cancel are matched when thrown.
            _ => return,
        };
        sub.id = self.new_id();
        let id = sub.id;
        match &t {
            Trigger::Timer(_) => {
                let due = sub.due.unwrap_or(self.now);
                self.out.actions.push(Action::SetTimer {
                    sub: id,
                    element: el,
                    due,
                });
            }
            Trigger::Message(_) => {
                let name = action.unwrap_or_default();
                let key = self.correlation_key(owner, el);
                self.out.actions.push(Action::SubscribeMessage {
                    sub: id,
                    element: el,
                    name,
                    key,
                });
            }
            Trigger::Signal(i) => {
                let name = self.m.signals[*i as usize].name.clone();
                self.out.actions.push(Action::SubscribeSignal {
                    sub: id,
                    element: el,
                    name,
                });
            }
            _ => {}
        }
        self.st.subs.push(sub);
        if matches!(t, Trigger::Conditional(_)) {
            // Evaluated once the step settles (the condition may already hold).
            self.vars_changed = true;
        }
    }

    pub(super) fn unsubscribe_action(&mut self, s: &Sub) {
        match self.triggers_of(s.element).get(s.trigger as usize) {
            Some(Trigger::Timer(_)) => self.out.actions.push(Action::CancelTimer { sub: s.id }),
            Some(Trigger::Message(_) | Trigger::Signal(_)) => {
                self.out.actions.push(Action::Unsubscribe { sub: s.id })
            }
            None if matches!(
                self.m.element(s.element).kind,
                Kind::Task(TaskKind::Receive { .. })
            ) =>
            {
                self.out.actions.push(Action::Unsubscribe { sub: s.id })
            }
            _ => {}
        }
    }

    /// Remove every subscription owned by `owner`.
    pub(super) fn drop_subs_of(&mut self, owner: ExecId) {
        if !self.st.subs.iter().any(|s| s.owner == owner) {
            return;
        }
        let (gone, kept): (Vec<Sub>, Vec<Sub>) = std::mem::take(&mut self.st.subs)
            .into_iter()
            .partition(|s| s.owner == owner);
        self.st.subs = kept;
        for s in &gone {
            self.unsubscribe_action(s);
        }
    }

    fn remove_sub(&mut self, id: SubId) -> Option<Sub> {
        let i = self.st.subs.iter().position(|s| s.id == id)?;
        Some(self.st.subs.remove(i))
    }

    pub(super) fn event_gateway(&mut self, scope: ExecId, el: El) {
        let id = self.new_id();
        self.push_exec(id, el, Some(scope), Wait::Event);
        self.history(id, el, HistoryKind::Started);
        for &f in &self.m.element(el).outgoing {
            let target = self.m.flow(f).target;
            match &self.m.element(target).kind {
                Kind::Task(TaskKind::Receive { .. }) => self.subscribe_receive(id, target),
                _ => self.subscribe_all(id, target),
            }
        }
    }

    pub(super) fn timer_fired(&mut self, sub: SubId) -> Result<(), StepError> {
        let s = self.st.sub(sub).ok_or(StepError::NoSub(sub))?.clone();
        // Cycles stay subscribed until their repetitions run out.
        let repeat = s.cycle.filter(|c| c.left != Some(0));
        if let Some(c) = repeat {
            let due = s.due.unwrap_or(self.now) + c.every_ms;
            if let Some(x) = self.st.subs.iter_mut().find(|x| x.id == sub) {
                x.due = Some(due);
                x.cycle = Some(crate::state::Cycle {
                    left: c.left.map(|l| l - 1),
                    every_ms: c.every_ms,
                });
            }
            self.out.actions.push(Action::SetTimer {
                sub,
                element: s.element,
                due,
            });
        }
        self.fire(sub, Map::new(), repeat.is_some());
        Ok(())
    }

    pub(super) fn message_received(
        &mut self,
        sub: SubId,
        vars: Map<String, Value>,
    ) -> Result<(), StepError> {
        self.st.sub(sub).ok_or(StepError::NoSub(sub))?;
        self.fire(sub, vars, false);
        Ok(())
    }

    /// Deliver a signal to every matching subscription that exists now.
    /// `only` limits delivery to subscriptions owned by that execution.
    pub(super) fn signal(&mut self, name: &str, vars: Map<String, Value>, only: Option<ExecId>) {
        let m = self.m;
        let matching: Vec<SubId> = self
            .st
            .subs
            .iter()
            .filter(|s| only.is_none_or(|o| s.owner == o))
            .filter(|s| {
                matches!(self.triggers_of(s.element).get(s.trigger as usize),
                    Some(Trigger::Signal(i)) if m.signals[*i as usize].name == name)
            })
            .map(|s| s.id)
            .collect();
        for id in matching {
            if self.st.sub(id).is_some() {
                self.fire(id, vars.clone(), false);
            }
        }
    }

    /// Multi-instance behaviour events are thrown at the body's boundary
    /// events and never interrupt it.
    pub(super) fn behavior_signal(&mut self, body: ExecId, sig: u32) {
        let name = self.m.signals[sig as usize].name.clone();
        let matching: Vec<SubId> = self
            .st
            .subs
            .iter()
            .filter(|s| s.owner == body)
            .filter(|s| {
                matches!(self.triggers_of(s.element).get(s.trigger as usize),
                Some(Trigger::Signal(i)) if self.m.signals[*i as usize].name == name)
            })
            .map(|s| s.id)
            .collect();
        for id in matching {
            if let Some(s) = self.st.sub(id).cloned() {
                let parent = self.parent_of(body).unwrap_or(0);
                let bid = self.new_id();
                self.history(bid, s.element, HistoryKind::Passed);
                self.leave(parent, s.element, bid);
            }
        }
    }

    /// A subscription's trigger happened. `keep` leaves a cycling timer subscribed.
    pub(super) fn fire(&mut self, sub: SubId, vars: Map<String, Value>, keep: bool) {
        let Some(s) = self.st.sub(sub).cloned() else {
            return;
        };
        let el = s.element;
        let parallel = match &self.m.element(el).kind {
            Kind::Boundary {
                parallel_multiple, ..
            }
            | Kind::CatchEvent {
                parallel_multiple, ..
            }
            | Kind::StartEvent {
                parallel_multiple, ..
            } => *parallel_multiple,
            _ => false,
        };
        if parallel && self.triggers_of(el).len() > 1 {
            if let Some(x) = self.st.subs.iter_mut().find(|x| x.id == sub) {
                x.fired = true;
            }
            let all = self
                .st
                .subs
                .iter()
                .filter(|x| x.owner == s.owner && x.element == el)
                .all(|x| x.fired);
            if !all {
                return;
            }
        }
        let owner = s.owner;
        match &self.m.element(el).kind {
            Kind::Boundary { interrupting, .. } => {
                let interrupting = *interrupting;
                let parent = self.parent_of(owner).unwrap_or(0);
                if interrupting {
                    self.cancel_exec(owner);
                } else if !keep && !is_repeatable(self.triggers_of(el).get(s.trigger as usize)) {
                    self.remove_sub(sub);
                }
                let id = self.new_id();
                self.set_event_vars(parent, vars);
                self.history(id, el, HistoryKind::Passed);
                self.leave(parent, el, id);
            }
            Kind::StartEvent { interrupting, .. } => {
                // An event sub-process's start; `owner` is the enclosing scope.
                let es = self.m.element(el).parent.unwrap_or(el);
                if *interrupting {
                    self.cancel_children(owner);
                    self.drop_subs_of(owner);
                } else if !keep && !is_repeatable(self.triggers_of(el).get(s.trigger as usize)) {
                    self.remove_sub(sub);
                }
                let _ = self.start_event_sub(owner, es, el, vars);
            }
            Kind::CatchEvent { .. } if self.element_of(owner) == Some(el) => {
                let scope = self.parent_of(owner).unwrap_or(0);
                if !keep {
                    self.drop_subs_of(owner);
                    self.remove_exec(owner);
                    self.history(owner, el, HistoryKind::Completed);
                }
                self.set_event_vars(scope, vars);
                let id = if keep { self.new_id() } else { owner };
                self.leave(scope, el, id);
            }
            Kind::Task(TaskKind::Receive { .. }) if self.element_of(owner) == Some(el) => {
                self.set_vars(owner, vars);
                self.complete_activity(owner);
            }
            _ => {
                // A target of an event-based gateway: the gateway's choice is made.
                let Some(gw) = self.st.exec(owner).map(|g| g.element) else {
                    return;
                };
                let scope = self.parent_of(owner).unwrap_or(0);
                self.drop_subs_of(owner);
                self.remove_exec(owner);
                self.history(owner, gw, HistoryKind::Completed);
                self.set_event_vars(scope, vars);
                // A receive task here completes at once: its message has arrived.
                let id = self.new_id();
                self.history(id, el, HistoryKind::Passed);
                self.leave(scope, el, id);
            }
        }
    }

    pub(super) fn start_event_sub(
        &mut self,
        scope: ExecId,
        es: El,
        start: El,
        vars: Map<String, Value>,
    ) -> ExecId {
        let id = self.new_id();
        self.push_exec(id, es, Some(scope), Wait::Scope);
        if !vars.is_empty()
            && let Some(x) = self.st.exec_mut(id)
        {
            x.vars = Some(Box::new(vars));
        }
        self.history(id, es, HistoryKind::Started);
        self.start_scope(id, Some(start));
        id
    }

    fn set_event_vars(&mut self, scope: ExecId, vars: Map<String, Value>) {
        if !vars.is_empty() {
            self.set_vars(scope, vars);
        }
    }

    /// Fire conditional subscriptions whose condition became true. Returns
    /// whether any fired.
    pub(super) fn evaluate_conditions(&mut self) -> bool {
        if !self.vars_changed {
            return false;
        }
        self.vars_changed = false;
        let mut fire = Vec::new();
        let subs: Vec<(SubId, ExecId, El, u16, bool)> = self
            .st
            .subs
            .iter()
            .map(|s| (s.id, s.owner, s.element, s.trigger, s.fired))
            .collect();
        for (id, owner, el, trigger, was) in subs {
            let Some(Trigger::Conditional(c)) = self.triggers_of(el).get(trigger as usize) else {
                continue;
            };
            let c = c.clone();
            let now = self.eval_bool(owner, &c).unwrap_or(false);
            if let Some(x) = self.st.subs.iter_mut().find(|x| x.id == id) {
                x.fired = now;
            }
            if now && !was {
                fire.push(id);
            }
        }
        for id in &fire {
            if self.st.sub(*id).is_some() {
                self.fire(*id, Map::new(), false);
            }
        }
        if !fire.is_empty() {
            self.queue.push_back(Op::CheckScope(0));
        }
        !fire.is_empty()
    }
}

/// Non-interrupting message, signal and conditional events may fire again.
fn is_repeatable(t: Option<&Trigger>) -> bool {
    matches!(
        t,
        Some(Trigger::Message(_) | Trigger::Signal(_) | Trigger::Conditional(_))
    )
}
