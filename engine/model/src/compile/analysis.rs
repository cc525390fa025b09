//! Whole-graph checks and analyses run after every element is read:
//! compensation handlers, link pairs, start conditions, inclusive-join
//! reachability and cycles that can never end.

use std::collections::{HashMap, HashSet};

use super::Compiler;
use crate::model::{Bits, El, Gateway, Kind, TaskKind, Throw, Trigger};
use crate::xml::{self, Pos};

impl<'a> Compiler<'a> {
    pub(super) fn finish(&mut self) {
        self.compensation_handlers(self.root);
        let scopes: Vec<El> = (0..self.model.elements.len() as u32)
            .map(El)
            .filter(|e| self.model.element(*e).is_scope())
            .collect();
        for s in scopes {
            self.check_scope(s);
        }
        self.upstream_sets();
    }

    /// `association` from a compensation boundary event to its handler.
    fn compensation_handlers(&mut self, x: &xml::Element) {
        for c in &x.children {
            if c.is_bpmn("association") {
                let (Some(s), Some(t)) = (c.attr("sourceRef"), c.attr("targetRef")) else {
                    continue;
                };
                let (Some(s), Some(t)) = (self.element_ref(c, s), self.element_ref(c, t)) else {
                    continue;
                };
                if let Kind::Boundary {
                    attached_to,
                    triggers,
                    ..
                } = &self.model.element(s).kind
                    && triggers.iter().any(|t| matches!(t, Trigger::Compensation))
                {
                    let a = *attached_to;
                    if !self.model.element(t).for_compensation {
                        let (id, pos) =
                            (self.model.element(t).id.clone(), self.model.element(t).pos);
                        self.err_at(
                            "EXT.026",
                            Some(&id),
                            pos,
                            "a compensation handler must be marked isForCompensation=\"true\"",
                        );
                    }
                    self.model.elements[a.0 as usize].compensation_handler = Some(t);
                }
            } else if !c.children.is_empty() {
                self.compensation_handlers(c);
            }
        }
    }

    fn check_scope(&mut self, scope: El) {
        let m = &self.model;
        let children = m.element(scope).children.clone();
        let mut problems: Vec<(String, Pos, String, &str)> = Vec::new();
        let mut has_start = false;
        let caught: HashSet<&str> = children
            .iter()
            .filter_map(|&c| match &m.element(c).kind {
                Kind::CatchEvent { triggers, .. } => Some(triggers),
                _ => None,
            })
            .flatten()
            .filter_map(|t| match t {
                Trigger::Link(n) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        for &c in &children {
            let e = m.element(c);
            match &e.kind {
                Kind::StartEvent { .. } => has_start = true,
                Kind::ThrowEvent { results } => {
                    for r in results {
                        if let Throw::Link(name) = r
                            && !caught.contains(name.as_str())
                        {
                            problems.push((e.id.clone(), e.pos, format!("link `{name}` has no catching link event in the same (sub-)process"), "EXT.098"));
                        }
                    }
                }
                _ => {}
            }
        }
        let is_event_sub = matches!(
            m.element(scope).kind,
            Kind::SubProcess {
                triggered_by_event: true,
                ..
            }
        );
        if is_event_sub {
            let starts: Vec<El> = children
                .iter()
                .copied()
                .filter(|c| matches!(m.element(*c).kind, Kind::StartEvent { .. }))
                .collect();
            let triggered = starts.len() == 1
                && matches!(&m.element(starts[0]).kind, Kind::StartEvent { triggers, .. } if !triggers.is_empty());
            if !triggered {
                let e = m.element(scope);
                problems.push((
                    e.id.clone(),
                    e.pos,
                    "an event sub-process needs exactly one start event with an event definition"
                        .into(),
                    "EXT.021",
                ));
            }
        }
        let is_ad_hoc = matches!(
            m.element(scope).kind,
            Kind::SubProcess {
                ad_hoc: Some(_),
                ..
            }
        );
        // An empty process is a black-box pool: there is nothing to start.
        if !has_start && !is_ad_hoc && !children.is_empty() {
            let implicit = children.iter().any(|&c| is_implicit_start(m, c));
            if !implicit {
                let e = m.element(scope);
                problems.push((
                    e.id.clone(),
                    e.pos,
                    "nothing can start here: no start event and no activity without incoming flows"
                        .into(),
                    "EXT.023",
                ));
            }
        }
        if let Some(p) = self.endless_cycle(&children) {
            let e = m.element(p);
            problems.push((e.id.clone(), e.pos, "this element is on a cycle that can never end: no flow leaves it and nothing on it waits".into(), "cycle"));
        }
        for (id, pos, msg, code) in problems {
            self.err_at(code, Some(&id), pos, msg);
        }
    }

    /// A strongly connected set of flow nodes with no way out and no wait state.
    ///
    /// Flows never leave their scope, so the search runs over the scope's own
    /// nodes, indexed locally: linear in the scope, whatever the model's size.
    fn endless_cycle(&self, nodes: &[El]) -> Option<El> {
        let m = &self.model;
        let local: HashMap<El, usize> = nodes.iter().enumerate().map(|(k, &e)| (e, k)).collect();
        // Tarjan's SCC, iterative to stay safe on large graphs.
        let n = nodes.len();
        let mut index = vec![u32::MAX; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut in_comp = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut counter = 0u32;
        for root in 0..n {
            if index[root] != u32::MAX {
                continue;
            }
            let mut work: Vec<(usize, usize)> = vec![(root, 0)];
            while let Some(&mut (v, ref mut next)) = work.last_mut() {
                if *next == 0 && index[v] == u32::MAX {
                    index[v] = counter;
                    low[v] = counter;
                    counter += 1;
                    stack.push(v);
                    on_stack[v] = true;
                }
                let out = &m.element(nodes[v]).outgoing;
                if *next < out.len() {
                    let target = m.flow(out[*next]).target;
                    *next += 1;
                    let Some(&w) = local.get(&target) else {
                        continue;
                    };
                    if index[w] == u32::MAX {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(p, _)) = work.last() {
                    low[p] = low[p].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        in_comp[w] = true;
                        comp.push(nodes[w]);
                        if w == v {
                            break;
                        }
                    }
                    let member = |e: El| local.get(&e).is_some_and(|&k| in_comp[k]);
                    if self.is_endless(&comp, member) {
                        return comp.into_iter().min();
                    }
                    for e in &comp {
                        in_comp[local[e]] = false;
                    }
                }
            }
        }
        None
    }

    fn is_endless(&self, comp: &[El], member: impl Fn(El) -> bool) -> bool {
        let m = &self.model;
        let cyclic = comp.len() > 1
            || m.element(comp[0])
                .outgoing
                .iter()
                .any(|f| m.flow(*f).target == comp[0]);
        if !cyclic {
            return false;
        }
        comp.iter().all(|&e| {
            let el = m.element(e);
            let exits = el.outgoing.iter().any(|f| !member(m.flow(*f).target));
            let conditional = el.outgoing.iter().any(|f| m.flow(*f).condition.is_some());
            let waits = match &el.kind {
                Kind::Task(t) => !matches!(t, TaskKind::Plain),
                Kind::CatchEvent { .. } | Kind::SubProcess { .. } | Kind::CallActivity(_) => true,
                Kind::Gateway(g) => matches!(
                    g,
                    Gateway::EventBased | Gateway::Parallel | Gateway::Complex { .. }
                ),
                _ => false,
            };
            !exits && !conditional && !waits && el.boundaries.is_empty() && el.looping.is_none()
        })
    }

    /// Reverse reachability for every incoming flow of inclusive and complex gateways.
    fn upstream_sets(&mut self) {
        let m = &self.model;
        let mut sets = Vec::new();
        for (i, e) in m.elements.iter().enumerate() {
            let g = El(i as u32);
            if !matches!(
                e.kind,
                Kind::Gateway(Gateway::Inclusive | Gateway::Complex { .. })
            ) {
                continue;
            }
            for &f in &e.incoming {
                let mut bits = Bits::with_capacity(m.elements.len());
                let mut todo = vec![m.flow(f).source];
                while let Some(x) = todo.pop() {
                    if x == g || !bits.insert(x) {
                        continue;
                    }
                    let xe = m.element(x);
                    todo.extend(xe.incoming.iter().map(|f| m.flow(*f).source));
                    if let Kind::Boundary { attached_to, .. } = xe.kind {
                        todo.push(attached_to);
                    }
                }
                sets.push((f, bits));
            }
        }
        self.model.upstream.extend(sets);
    }
}

/// An element that starts when its scope starts, absent a start event.
pub(crate) fn is_implicit_start(m: &crate::model::Model, c: El) -> bool {
    let e = m.element(c);
    e.incoming.is_empty()
        && !e.for_compensation
        && !matches!(&e.kind, Kind::Boundary { .. } | Kind::StartEvent { .. })
        && !matches!(&e.kind, Kind::CatchEvent { triggers, .. } if triggers.iter().any(|t| matches!(t, Trigger::Link(_))))
}
