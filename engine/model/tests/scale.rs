//! Large documents: every pass stays (near) linear in the document's size.
//!
//! Stress runs next to the fuzzer found quadratic passes that took minutes on
//! 1–2 MB documents: a column counted from the line start for every element of a
//! minified (single-line) file, start events each scanning all their siblings,
//! `<incoming>` lists searched once per flow, data input lists searched once per
//! data input, and the cycle search allocating model-sized tables per scope.
//! These shapes must compile (or be rejected) promptly; at this size the old
//! passes took tens of seconds in a debug build.

use baton_model::compile;

const N: usize = 6000;

fn doc(body: &str) -> String {
    format!(
        r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="urn:t"><process id="P" isExecutable="true">{body}</process></definitions>"#
    )
}

fn rejected_with(src: &str, code: &str) {
    let diags = compile(src).expect_err("rejected").0;
    assert!(diags.iter().any(|d| d.code == code), "{}", diags.len());
}

#[test]
fn many_start_events_on_one_line() {
    let body: String = (0..N)
        .map(|i| format!(r#"<startEvent id="s{i}"/>"#))
        .collect();
    rejected_with(&doc(&body), "EXT.101");
}

#[test]
fn many_sibling_sub_processes() {
    let body: String = (0..N)
        .map(|i| format!(r#"<subProcess id="s{i}"/>"#))
        .collect();
    compile(&doc(&body)).expect("empty sub-processes start implicitly and end at once");
}

#[test]
fn gateway_with_many_listed_incoming_flows() {
    let mut body = String::from(r#"<parallelGateway id="g">"#);
    body.extend((0..N).map(|i| format!("<incoming>f{i}</incoming>")));
    body.push_str("</parallelGateway>");
    body.extend((0..N).map(|i| {
        format!(r#"<task id="t{i}"><outgoing>f{i}</outgoing></task><sequenceFlow id="f{i}" sourceRef="t{i}" targetRef="g"/>"#)
    }));
    compile(&doc(&body)).expect("a wide join compiles");
}

#[test]
fn many_data_inputs() {
    let mut body = String::from(r#"<task id="t"><ioSpecification>"#);
    body.extend((0..N).map(|i| format!(r#"<dataInput id="d{i}"/>"#)));
    body.push_str("<inputSet>");
    body.extend((0..N).map(|i| format!("<dataInputRefs>d{i}</dataInputRefs>")));
    body.push_str("</inputSet><outputSet/></ioSpecification></task>");
    compile(&doc(&body)).expect("a task with many inputs compiles");
}

#[test]
fn a_long_cycle_and_many_links() {
    // One big strongly connected component, and many link pairs in one scope.
    let mut body =
        String::from(r#"<startEvent id="s"/><sequenceFlow id="fs" sourceRef="s" targetRef="t0"/>"#);
    body.extend((0..N).map(|i| {
        let next = (i + 1) % N;
        format!(
            r#"<userTask id="t{i}"/><sequenceFlow id="c{i}" sourceRef="t{i}" targetRef="t{next}"/>"#
        )
    }));
    body.extend((0..N / 2).map(|i| {
        format!(r#"<intermediateThrowEvent id="lt{i}"><linkEventDefinition name="L{i}"/></intermediateThrowEvent><intermediateCatchEvent id="lc{i}"><linkEventDefinition name="L{i}"/></intermediateCatchEvent>"#)
    }));
    // Not caring which rules fire: only that it finishes.
    let _ = compile(&doc(&body));
}
