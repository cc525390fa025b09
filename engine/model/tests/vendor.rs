//! Vendor compatibility: exports of Camunda Modeler, Flowable and bpmn-js
//! compile unchanged, and each relaxed rule stays strict for plain documents.

use std::path::PathBuf;

use baton_model::{Kind, Model, TaskKind, Trigger, compile};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vendor")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compiles(name: &str) -> Model {
    compile(&fixture(name)).unwrap_or_else(|r| panic!("{name} is rejected:\n{r}"))
}

fn el<'m>(m: &'m Model, id: &str) -> &'m baton_model::Element {
    m.element(m.by_id(id).unwrap_or_else(|| panic!("no element `{id}`")))
}

#[test]
fn every_vendor_fixture_compiles() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    let failures: Vec<String> = names
        .iter()
        .filter_map(|n| compile(&fixture(n)).err().map(|r| format!("{n}:\n{r}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn camunda_export_keeps_its_extension_data() {
    let m = compiles("camunda7-order.bpmn");
    let check = el(&m, "Task_CheckStock");
    let ext = check.ext.as_ref().expect("extension data");
    assert_eq!(ext.node_type.as_deref(), Some("external"));
    assert_eq!(
        ext.props.get("sku").and_then(|v| v.as_str()),
        Some("${order.sku}")
    );
    assert_eq!(ext.props.get("retries").and_then(|v| v.as_str()), Some("3"));
    let pick = el(&m, "Task_Pick");
    match &pick.looping {
        Some(baton_model::Loop::Multi(mi)) => {
            assert!(mi.collection.is_some());
            assert_eq!(mi.element_variable.as_deref(), Some("item"));
        }
        other => panic!("expected multi-instance, got {other:?}"),
    }
    // Links paired by name, no <source>/<target>.
    assert!(
        matches!(&el(&m, "Event_FromBackorder").kind, Kind::CatchEvent { triggers, .. } if matches!(&triggers[..], [Trigger::Link(n)] if n == "shipping"))
    );
    // A call activity naming a process deployed on its own.
    assert!(matches!(
        el(&m, "Activity_Ship").kind,
        Kind::CallActivity(_)
    ));
}

#[test]
fn flowable_export_without_flow_lists_compiles() {
    let m = compiles("flowable-nightly-backup.bpmn20.xml");
    let dump = el(&m, "dumpDatabases");
    let ext = dump.ext.as_ref().expect("extension data");
    assert_eq!(ext.node_type.as_deref(), Some("shell"));
    assert_eq!(
        ext.props.get("command").and_then(|v| v.as_str()),
        Some("pg_dumpall -f /backup/${host}.sql")
    );
    assert_eq!(
        dump.outgoing.len(),
        1,
        "flows are authoritative without <outgoing>"
    );
    assert_eq!(
        el(&m, "upload")
            .ext
            .as_ref()
            .and_then(|x| x.node_type.as_deref()),
        Some("http")
    );
    assert_eq!(
        el(&m, "report")
            .ext
            .as_ref()
            .and_then(|x| x.node_type.as_deref()),
        Some("mail")
    );
    // `errorRef` naming an error code directly, as Flowable and Camunda 7 allow.
    let Kind::Boundary { triggers, .. } = &el(&m, "dumpFailed").kind else {
        panic!()
    };
    let [Trigger::Error(Some(e))] = triggers[..] else {
        panic!("{triggers:?}")
    };
    assert_eq!(m.errors[e as usize].code.as_deref(), Some("DUMP_FAILED"));
    assert!(matches!(
        el(&m, "alert").kind,
        Kind::Task(TaskKind::Service)
    ));
}

#[test]
fn flowable_tutorial_with_anonymous_flows_compiles() {
    let m = compiles("flowable-holiday-request.bpmn20.xml");
    let decision = el(&m, "decision");
    assert_eq!(decision.outgoing.len(), 2);
    assert!(
        decision
            .outgoing
            .iter()
            .all(|&f| m.flow(f).condition.is_some())
    );
    assert!(
        m.flows.iter().all(|f| !f.id.is_empty()),
        "anonymous flows get an id"
    );
}

#[test]
fn bpmn_js_and_zeebe_exports_compile() {
    let m = compiles("bpmn-js-ticket.bpmn");
    assert!(el(&m, "Activity_Log").outgoing.is_empty(), "implicit end");
    let m = compiles("zeebe-payment.bpmn");
    assert!(matches!(
        el(&m, "Event_Settled").kind,
        Kind::CatchEvent { .. }
    ));
}

// ---------------------------------------------------------------------------
// Each relaxation applies to vendor documents only.
// ---------------------------------------------------------------------------

const PLAIN: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="urn:t">"#;
const BY_TOOL: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="urn:t" exporter="Camunda Modeler">"#;

fn codes(head: &str, body: &str) -> Vec<String> {
    let src = format!("{head}{body}</definitions>");
    match compile(&src) {
        Ok(_) => Vec::new(),
        Err(r) => r.0.into_iter().map(|d| d.code).collect(),
    }
}

/// start → `middle` → end with complete flow lists, in an executable process.
fn around(middle_tag: &str, inner: &str, extra: &str) -> String {
    format!(
        r#"<process id="P" isExecutable="true"><startEvent id="s"><outgoing>f1</outgoing></startEvent><{middle_tag} id="x"><incoming>f1</incoming><outgoing>f2</outgoing>{inner}</{middle_tag}><endEvent id="e"><incoming>f2</incoming></endEvent><sequenceFlow id="f1" sourceRef="s" targetRef="x"/><sequenceFlow id="f2" sourceRef="x" targetRef="e"/>{extra}</process>"#
    )
}

#[test]
fn relaxations_apply_to_vendor_documents_only() {
    let cases: Vec<(&str, String)> = vec![
        // A message thrown by an implementation (camunda:class), no message named.
        ("EXT.127", around("intermediateThrowEvent", "<messageEventDefinition/>", "")),
        ("EXT.128", around("intermediateThrowEvent", r#"<messageEventDefinition messageRef="M"/>"#, "") + r#"<message id="M"/>"#),
        // Flow lists left out: the flows are authoritative.
        ("EXT.023", around("task", "", "").replace("<incoming>f1</incoming>", "")),
        // Links paired by name.
        (
            "EXT.124",
            r#"<process id="P" isExecutable="true"><startEvent id="s"><outgoing>f1</outgoing></startEvent><intermediateThrowEvent id="t"><incoming>f1</incoming><linkEventDefinition id="lt" name="L"/></intermediateThrowEvent><intermediateCatchEvent id="c"><outgoing>f2</outgoing><linkEventDefinition id="lc" name="L"/></intermediateCatchEvent><endEvent id="e"><incoming>f2</incoming></endEvent><sequenceFlow id="f1" sourceRef="s" targetRef="t"/><sequenceFlow id="f2" sourceRef="c" targetRef="e"/></process>"#.to_owned(),
        ),
        // A process deployed separately, called by key.
        ("REF", around("callActivity", "", "").replace(r#"<callActivity id="x">"#, r#"<callActivity id="x" calledElement="other-process">"#)),
        // An activity without outgoing flows ends its token.
        (
            "EXT.151",
            around("task", "", r#"<task id="y"><incoming>f3</incoming></task><sequenceFlow id="f3" sourceRef="x" targetRef="y"/>"#)
                .replace("<outgoing>f2</outgoing>", "<outgoing>f2</outgoing><outgoing>f3</outgoing>"),
        ),
        // Untyped expressions are in the default language (Flowable writes no xsi:type).
        ("EXT.012", around("task", "<standardLoopCharacteristics><loopCondition>not done</loopCondition></standardLoopCharacteristics>", "")),
        // Anonymous sequence flows.
        ("EXT.003", around("task", "", "").replace(r#"<sequenceFlow id="f2" "#, "<sequenceFlow ").replace("<outgoing>f2</outgoing>", "").replace("<incoming>f2</incoming>", "")),
        // `errorRef` naming an error code.
        ("REF", around("task", "", r#"<boundaryEvent id="b" attachedToRef="x"><outgoing>f9</outgoing><errorEventDefinition errorRef="E_CODE"/></boundaryEvent><endEvent id="e9"><incoming>f9</incoming></endEvent><sequenceFlow id="f9" sourceRef="b" targetRef="e9"/>"#)),
    ];
    let mut problems = Vec::new();
    for (code, body) in &cases {
        let plain = codes(PLAIN, body);
        if !plain.iter().any(|c| c == code) {
            problems.push(format!(
                "{code}: not reported for a plain document: {plain:?}\n{body}"
            ));
        }
        let vendor = codes(BY_TOOL, body);
        if !vendor.is_empty() {
            problems.push(format!(
                "{code}: vendor document rejected with {vendor:?}\n{body}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn vendor_namespaces_in_use_mark_a_document_not_declarations() {
    use baton_model::vendor::is_vendor_authored;
    use baton_model::xml::parse;
    let declared = parse(&format!("{PLAIN}</definitions>")).unwrap();
    assert!(!is_vendor_authored(&declared));
    let used = parse(&format!(
        r#"{PLAIN}<process id="P" camunda:historyTimeToLive="5"/></definitions>"#
    ))
    .unwrap();
    assert!(is_vendor_authored(&used));
    let flowable = parse(
        r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" exporter="Flowable Open Source Modeler"/>"#,
    )
    .unwrap();
    assert!(is_vendor_authored(&flowable));
}

#[test]
fn multi_instance_vendor_collection_counts_as_input_for_plain_documents_too() {
    let body = around(
        "task",
        r#"<multiInstanceLoopCharacteristics camunda:collection="${items}" camunda:elementVariable="item"/>"#,
        "",
    );
    // The attribute itself makes the document vendor-authored; check the rule directly.
    let root = baton_model::xml::parse(&format!("{PLAIN}{body}</definitions>")).unwrap();
    let diags = baton_model::constraints::check(&root);
    assert!(!diags.iter().any(|d| d.code == "EXT.067"), "{diags:?}");
}

#[test]
fn qname_prefixes_resolve_exactly() {
    let head = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:tns="urn:t" xmlns:other="urn:o" xmlns:x="urn:x" id="D" targetNamespace="urn:t"><import namespace="urn:o" location="o.bpmn" importType="http://www.omg.org/spec/BPMN/20100524/MODEL"/><message id="M"/>"#;
    let with = |r: &str| {
        around(
            "intermediateCatchEvent",
            &format!(r#"<messageEventDefinition messageRef="{r}"/>"#),
            "",
        )
    };
    // The target namespace: this document.
    assert!(
        codes(head, &with("tns:M")).iter().all(|c| c != "REF"),
        "{:?}",
        codes(head, &with("tns:M"))
    );
    assert!(codes(head, &with("tns:Missing")).iter().any(|c| c == "REF"));
    // An unknown prefix, and one bound to a namespace neither local nor imported.
    assert!(codes(head, &with("nope:M")).iter().any(|c| c == "REF"));
    assert!(codes(head, &with("x:M")).iter().any(|c| c == "REF"));
    // An imported namespace: not checked by the constraints.
    let root =
        baton_model::xml::parse(&format!("{head}{}</definitions>", with("other:M"))).unwrap();
    let diags = baton_model::constraints::check(&root);
    assert!(!diags.iter().any(|d| d.code == "REF"), "{diags:?}");
}
