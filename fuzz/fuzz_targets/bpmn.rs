//! Fuzzes BPMN compilation: any input must compile or be rejected with
//! well-formed diagnostics, never panic, hang or exhaust memory.
//!
//! Two modes, chosen by the first byte:
//! - even (`<`, whitespace): the whole input, if UTF-8, is a document for
//!   `baton_model::compile` (the corpus is seeded with real files: betsy, MIWG);
//! - odd: the rest drives structural edits of a valid seed document's tree
//!   (drop, duplicate, move and rename elements, point references elsewhere),
//!   which reaches the constraint checker and the compiler with well-formed
//!   but semantically odd models that byte mutations rarely produce.
//!
//! Seed (the corpus directory is not versioned), then run:
//! `mkdir -p corpus/bpmn && find ../../shared/corpus/betsy ../../shared/corpus/bpmn/bpmn-miwg-test-suite ../engine/model/tests/fixtures -name '*.bpmn*' -exec cp {} corpus/bpmn/ \;`
//! `cargo +nightly fuzz run bpmn -- -dict=bpmn.dict -timeout=10`

#![no_main]

use std::sync::OnceLock;

use baton_model::xml::{self, Attr, Element};
use baton_model::{Rejected, compile, compile_tree, constraints};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const SEEDS: &[&str] = &[
    include_str!("../../engine/model/tests/fixtures/vendor/camunda7-order.bpmn"),
    include_str!("../../engine/model/tests/fixtures/vendor/camunda7-claims.bpmn"),
    include_str!("../../engine/model/tests/fixtures/vendor/flowable-nightly-backup.bpmn20.xml"),
    include_str!("../../engine/model/tests/fixtures/vendor/bpmn-js-ticket.bpmn"),
];

/// BPMN element names an edit may rename an element to.
const NAMES: &[&str] = &[
    "process", "subProcess", "transaction", "adHocSubProcess", "callActivity", "task",
    "serviceTask", "userTask", "scriptTask", "sendTask", "receiveTask", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
    "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway", "sequenceFlow",
    "messageEventDefinition", "timerEventDefinition", "errorEventDefinition",
    "linkEventDefinition", "compensateEventDefinition", "signalEventDefinition",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "incoming", "outgoing",
    "association", "laneSet", "lane", "dataObject", "ioSpecification", "dataInput",
    "conditionExpression", "timeCycle", "eventDefinitionRef", "loopDataInputRef",
];
const ATTRS: &[&str] = &[
    "id", "sourceRef", "targetRef", "attachedToRef", "default", "messageRef", "errorRef",
    "signalRef", "calledElement", "activityRef", "cancelActivity", "triggeredByEvent",
    "isForCompensation", "isExecutable", "startQuantity", "name", "isInterrupting",
];

fn seeds() -> &'static [Element] {
    static TREES: OnceLock<Vec<Element>> = OnceLock::new();
    TREES.get_or_init(|| SEEDS.iter().map(|s| xml::parse(s).expect("seed parses")).collect())
}

fn check(result: std::result::Result<baton_model::Model, Rejected>) {
    if let Err(Rejected(diags)) = result {
        assert!(!diags.is_empty(), "rejected without a diagnostic");
        for d in &diags {
            assert!(!d.code.is_empty(), "diagnostic without a code: {d}");
            assert!(d.pos.line > 0, "diagnostic without a position: {d}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(src) = std::str::from_utf8(data) {
            check(compile(src));
        }
        return;
    }
    let mut u = Unstructured::new(rest);
    let Ok(i) = u.choose_index(seeds().len()) else {
        return;
    };
    let mut tree = seeds()[i].clone();
    let _ = edit(&mut tree, &mut u);
    let _ = constraints::check(&tree);
    check(compile_tree(&tree));
});

/// The ids in the tree, for pointing references at real elements.
fn ids(root: &Element) -> Vec<String> {
    let mut out = Vec::new();
    root.walk(&mut |e| out.extend(e.attr("id").map(str::to_owned)));
    out
}

fn count(root: &Element) -> usize {
    let mut n = 0;
    root.walk(&mut |_| n += 1);
    n
}

/// The `n`-th element in document order.
fn nth(root: &mut Element, mut n: usize) -> &mut Element {
    let mut el = root;
    loop {
        if n == 0 || el.children.is_empty() {
            return el;
        }
        n -= 1;
        let mut k = 0;
        while k + 1 < el.children.len() {
            let size = count(&el.children[k]);
            if n < size {
                break;
            }
            n -= size;
            k += 1;
        }
        el = &mut el.children[k];
    }
}

fn value(u: &mut Unstructured, ids: &[String]) -> Result<String> {
    Ok(if !ids.is_empty() && u.ratio(3, 4)? {
        let id = u.choose(ids)?.clone();
        if u.ratio(1, 8)? { format!("bpmn:{id}") } else { id }
    } else {
        u.arbitrary::<&str>()?.to_owned()
    })
}

fn edit(root: &mut Element, u: &mut Unstructured) -> Result<()> {
    let ids = ids(root);
    for _ in 0..u.int_in_range(1..=12)? {
        let n = count(root);
        let at = u.choose_index(n)?;
        match u.int_in_range(0..=7)? {
            0 => {
                let el = nth(root, at);
                if !el.children.is_empty() {
                    let k = u.choose_index(el.children.len())?;
                    el.children.remove(k);
                }
            }
            1 => {
                let el = nth(root, at);
                if !el.children.is_empty() {
                    let k = u.choose_index(el.children.len())?;
                    let copy = el.children[k].clone();
                    el.children.push(copy);
                }
            }
            2 => {
                let name = *u.choose(ATTRS)?;
                let v = value(u, &ids)?;
                let el = nth(root, at);
                el.attrs.retain(|a| !(a.ns.is_none() && a.name == name));
                el.attrs.push(Attr { ns: None, name: name.to_owned(), value: v });
            }
            3 => {
                let name = *u.choose(NAMES)?;
                nth(root, at).name = name.to_owned();
            }
            4 => {
                let el = nth(root, at);
                if !el.attrs.is_empty() {
                    let k = u.choose_index(el.attrs.len())?;
                    el.attrs.remove(k);
                }
            }
            5 => {
                let v = value(u, &ids)?;
                nth(root, at).text = v;
            }
            6 => {
                // Move a subtree under another element (never under itself: the
                // destination is chosen after the subtree is taken out).
                let el = nth(root, at);
                if el.children.is_empty() {
                    continue;
                }
                let k = u.choose_index(el.children.len())?;
                let moved = el.children.remove(k);
                let to = u.choose_index(count(root))?;
                nth(root, to).children.push(moved);
            }
            _ => {
                let el = nth(root, at);
                el.ns = None;
            }
        }
    }
    Ok(())
}
