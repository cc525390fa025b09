//! Property tests: whatever order parallel branches complete in, every join
//! fires exactly once, the instance completes once, and the final state is
//! the same.

use baton_core::{Action, Command, HistoryKind, InstanceState, Output, Status, step};
use baton_model::{Model, compile};
use proptest::prelude::*;
use serde_json::Map;

/// start → split → N service tasks (jobs) → join → end, with an inclusive
/// split/join pair around two of the branches.
fn model(branches: usize) -> Model {
    let mut tasks = String::new();
    for i in 0..branches {
        tasks.push_str(&format!(
            r#"<sequenceFlow id="s{i}" sourceRef="split" targetRef="t{i}"/>
               <serviceTask id="t{i}" baton:type="noop"/>
               <sequenceFlow id="j{i}" sourceRef="t{i}" targetRef="join"/>"#
        ));
    }
    let xml = format!(
        r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
              xmlns:baton="http://baton.dev/schema/bpmn" id="d" targetNamespace="t">
          <process id="p" isExecutable="true">
            <startEvent id="start"/>
            <sequenceFlow id="f0" sourceRef="start" targetRef="split"/>
            <parallelGateway id="split"/>
            {tasks}
            <sequenceFlow id="x0" sourceRef="split" targetRef="isplit"/>
            <inclusiveGateway id="isplit"/>
            <sequenceFlow id="x1" sourceRef="isplit" targetRef="ia"><conditionExpression>${{go == true}}</conditionExpression></sequenceFlow>
            <sequenceFlow id="x2" sourceRef="isplit" targetRef="ib"><conditionExpression>${{true}}</conditionExpression></sequenceFlow>
            <serviceTask id="ia" baton:type="noop"/>
            <serviceTask id="ib" baton:type="noop"/>
            <sequenceFlow id="x3" sourceRef="ia" targetRef="ijoin"/>
            <sequenceFlow id="x4" sourceRef="ib" targetRef="ijoin"/>
            <inclusiveGateway id="ijoin"/>
            <sequenceFlow id="x5" sourceRef="ijoin" targetRef="join"/>
            <parallelGateway id="join"/>
            <sequenceFlow id="f9" sourceRef="join" targetRef="end"/>
            <endEvent id="end"/>
          </process>
        </definitions>"#
    );
    compile(&xml).unwrap_or_else(|e| panic!("{e}"))
}

/// Run the instance, completing outstanding jobs in the order `pick` chooses.
fn run(m: &Model, go: bool, picks: &[usize]) -> (InstanceState, Vec<(String, HistoryKind)>) {
    let mut st = InstanceState::new(m.main_process().unwrap());
    let mut out = Output::default();
    let mut vars = Map::new();
    vars.insert("go".into(), go.into());
    step(
        m,
        &mut st,
        0,
        Command::Start { vars, start: None },
        &mut out,
    )
    .unwrap();
    let mut pending: Vec<u32> = Vec::new();
    let mut history = Vec::new();
    let mut k = 0;
    loop {
        for a in out.actions.drain(..) {
            if let Action::Dispatch { exec, .. } = a {
                pending.push(exec);
            }
        }
        history.extend(
            out.history
                .drain(..)
                .map(|h| (m.element(h.element).id.clone(), h.kind)),
        );
        if pending.is_empty() {
            break;
        }
        let i = picks.get(k).copied().unwrap_or(0) % pending.len();
        k += 1;
        let exec = pending.remove(i);
        step(
            m,
            &mut st,
            0,
            Command::JobCompleted {
                exec,
                output: None,
                vars: Map::new(),
            },
            &mut out,
        )
        .unwrap();
    }
    (st, history)
}

fn count(h: &[(String, HistoryKind)], el: &str) -> usize {
    h.iter()
        .filter(|(e, k)| e == el && *k == HistoryKind::Passed)
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn joins_fire_once_in_any_order(branches in 2usize..7, go: bool, picks in prop::collection::vec(0usize..16, 0..16)) {
        let m = model(branches);
        let (st, h) = run(&m, go, &picks);
        prop_assert_eq!(st.status, Status::Completed);
        prop_assert_eq!(count(&h, "join"), 1);
        prop_assert_eq!(count(&h, "ijoin"), 1);
        prop_assert_eq!(count(&h, "end"), 1);
        prop_assert!(st.execs.is_empty() && st.joins.is_empty() && st.subs.is_empty());
        // The same final variables whatever the order.
        let (reference, _) = run(&m, go, &[]);
        prop_assert_eq!(st.vars, reference.vars);
    }
}

#[test]
fn a_refused_command_changes_nothing() {
    let m = model(2);
    let mut st = InstanceState::new(m.main_process().unwrap());
    let mut out = Output::default();
    let mut vars = Map::new();
    vars.insert("go".into(), true.into());
    step(
        &m,
        &mut st,
        0,
        Command::Start { vars, start: None },
        &mut out,
    )
    .unwrap();
    assert_eq!(st.status, Status::Running);
    let before = st.clone();
    out.clear();
    for bad in [
        Command::JobCompleted {
            exec: 999,
            output: None,
            vars: Map::new(),
        },
        Command::TaskCompleted {
            exec: 3,
            vars: Map::new(),
        },
        Command::TimerFired { sub: 12345 },
        Command::Retry { exec: 3 },
        Command::Start {
            vars: Map::new(),
            start: None,
        },
    ] {
        assert!(
            step(&m, &mut st, 0, bad.clone(), &mut out).is_err(),
            "{bad:?} must be refused"
        );
        assert_eq!(st, before, "{bad:?} changed the state");
        assert!(
            out.actions.is_empty() && out.history.is_empty(),
            "{bad:?} produced output"
        );
    }
}
