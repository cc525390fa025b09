//! Compensation: undoing completed activities of a scope, newest first,
//! through their compensation handlers (boundary-attached handlers,
//! compensation event sub-processes, or the handlers nested in a completed
//! sub-process).

use baton_model::{El, Kind, Trigger};

use super::{Op, Run};
use crate::state::{AfterCompensation, Compensable, ExecId, Wait};

impl Run<'_> {
    /// Start compensating in `scope` (all completed activities, or only
    /// `activity`). Returns whether handlers are running (the thrower waits).
    pub(super) fn compensate(
        &mut self,
        scope: ExecId,
        thrower: El,
        id: ExecId,
        activity: Option<El>,
        then: AfterCompensation,
    ) -> bool {
        let picked = |c: &Compensable| c.scope == scope && activity.is_none_or(|a| c.activity == a);
        let records: Vec<Compensable> = self
            .st
            .compensable
            .iter()
            .filter(|c| picked(c))
            .cloned()
            .collect();
        if records.is_empty() {
            return false;
        }
        self.st.compensable.retain(|c| !picked(c));
        self.push_exec(id, thrower, Some(scope), Wait::Compensating { then });
        for r in records.iter().rev() {
            self.run_compensation(id, r);
        }
        if self.children_of(id).is_empty() {
            self.remove_exec(id);
            return false;
        }
        true
    }

    fn run_compensation(&mut self, parent: ExecId, r: &Compensable) {
        let m = self.m;
        let e = m.element(r.activity);
        if let Some(h) = e.compensation_handler {
            self.run_activity(parent, h, None, 0, false);
            return;
        }
        for &es in &e.event_subprocesses {
            let start = m.element(es).children.iter().copied().find(|c| {
                matches!(&m.element(*c).kind, Kind::StartEvent { triggers, .. }
                    if triggers.iter().any(|t| matches!(t, Trigger::Compensation)))
            });
            if let Some(s) = start {
                // The event sub-process stands in for the completed
                // sub-process: what that one did is compensated from inside it.
                let id = self.start_event_sub(parent, es, s, serde_json::Map::new());
                for c in self.st.compensable.iter_mut().filter(|c| c.scope == r.exec) {
                    c.scope = id;
                }
                return;
            }
        }
        let nested: Vec<Compensable> = self
            .st
            .compensable
            .iter()
            .filter(|c| c.scope == r.exec)
            .cloned()
            .collect();
        self.st.compensable.retain(|c| c.scope != r.exec);
        for n in nested.iter().rev() {
            self.run_compensation(parent, n);
        }
    }

    /// A handler finished: when none are left, the thrower goes on.
    pub(super) fn compensation_step_done(&mut self, cexec: ExecId) {
        let Some(x) = self.st.exec(cexec) else { return };
        let Wait::Compensating { then } = x.wait.clone() else {
            return;
        };
        if self.st.execs.iter().any(|e| e.parent == Some(cexec)) {
            return;
        }
        let (el, scope) = (x.element, x.parent.unwrap_or(0));
        self.remove_exec(cexec);
        match then {
            AfterCompensation::Continue => self.leave(scope, el, cexec),
            AfterCompensation::End => self.queue.push_back(Op::CheckScope(scope)),
            AfterCompensation::CancelTransaction(tx) => self.after_cancel(tx),
        }
    }
}
