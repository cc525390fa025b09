//! The constraint checker against external corpora and per-rule fixtures.
//!
//! Corpora come from `BATON_CORPUS` (default: `shared/corpus` beside the repository).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use baton_model::Diagnostic;
use baton_model::constraints::check;
use baton_model::xml::parse;

fn corpus() -> PathBuf {
    std::env::var_os("BATON_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        },
        PathBuf::from,
    )
}

/// Parses and checks one file; `Err` carries a parse failure.
fn check_file(path: &Path) -> Result<Vec<Diagnostic>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = String::from_utf8_lossy(&bytes);
    let root = parse(&src).map_err(|e| e.to_string())?;
    Ok(check(&root))
}

/// A betsy test: name, model file, and whether every case expects only an error
/// (so rejecting the model at deploy time is the conformant outcome).
fn betsy_cases(kind: &str) -> Vec<(String, PathBuf, bool)> {
    let base = corpus().join("betsy");
    let Ok(text) = std::fs::read_to_string(base.join("cases.json")) else {
        return Vec::new();
    };
    let json: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let mut out = Vec::new();
    for t in json["tests"].as_array().into_iter().flatten() {
        if t["kind"] == kind {
            let name = t["name"].as_str().unwrap_or_default().to_owned();
            let path = t["bpmn_path"].as_str().unwrap_or_default();
            let only_error = t["cases"].as_array().into_iter().flatten().all(|c| {
                let trace = c["expected_trace"].as_array().cloned().unwrap_or_default();
                trace
                    .iter()
                    .any(|x| x == "ERROR" || x == "ERROR_deployment")
                    && trace
                        .iter()
                        .all(|x| x.as_str().is_some_and(|x| x.starts_with("ERROR")))
            });
            out.push((name, base.join(path), only_error));
        }
    }
    out
}

fn bpmn_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "bpmn" || x == "bpmn2") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn show(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("    {d}\n")).collect()
}

/// `EXT002` → `EXT.002`, `REF` → `REF`.
fn expected_code(path: &Path) -> String {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|f| f.to_str())
        .unwrap_or("");
    match folder.strip_prefix("EXT") {
        Some(n) => format!("EXT.{n}"),
        None => folder.to_owned(),
    }
}

#[test]
fn betsy_deployment_rejections_report_their_constraint() {
    let cases = betsy_cases("deployment_rejection");
    if cases.is_empty() {
        eprintln!(
            "betsy corpus not found under {}; skipped",
            corpus().display()
        );
        return;
    }
    let mut missed = Vec::new();
    for (name, path, _) in &cases {
        let want = expected_code(path);
        match check_file(path) {
            Ok(diags) if diags.iter().any(|d| d.code == want) => {
                if std::env::var_os("SHOW_DIAGNOSTICS").is_some() {
                    eprintln!("{name} ({want})\n{}", show(&diags));
                }
            }
            Ok(diags) => missed.push(format!("{name:<70} want {want:<8} got\n{}", show(&diags))),
            Err(e) => missed.push(format!("{name:<70} want {want:<8} parse error: {e}\n")),
        }
    }
    eprintln!(
        "betsy deployment rejections caught: {}/{}",
        cases.len() - missed.len(),
        cases.len()
    );
    assert!(
        missed.is_empty(),
        "{} cases without their constraint:\n{}",
        missed.len(),
        missed.concat()
    );
}

/// Execution models must pass, except those betsy itself expects to fail with an
/// error (e.g. `startQuantity="0"`), where rejection at deploy time is conformant.
#[test]
fn betsy_execution_models_are_clean() {
    let cases = betsy_cases("execution");
    let mut dirty = Vec::new();
    for (name, path, only_error) in &cases {
        match check_file(path) {
            Ok(diags) if diags.is_empty() => {}
            Ok(diags) if *only_error => {
                eprintln!("{name} expects an error; rejected with\n{}", show(&diags))
            }
            Ok(diags) => dirty.push(format!("{name}\n{}", show(&diags))),
            Err(e) => dirty.push(format!("{name}: parse error: {e}\n")),
        }
    }
    assert!(
        dirty.is_empty(),
        "false positives on betsy execution models:\n{}",
        dirty.concat()
    );
}

/// Genuine violations in MIWG reference models: (file or `*` for any, code, reason).
///
/// Several reference models are exported as executable (`isExecutable="true"`) by
/// modelling tools (ITP, Signavio, Camunda 8) without the execution details the
/// specification requires of executable processes.
const MIWG_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "*",
        "EXT.127",
        "executable process: a message event names no message (C.9.0)",
    ),
    (
        "*",
        "EXT.128",
        "executable process: message events name no operation (C.1.0, C.9.0, C.9.2)",
    ),
    (
        "*",
        "EXT.067",
        "executable (Camunda 8) process: a multi-instance activity takes its collection from a zeebe extension, not loopCardinality/loopDataInputRef (C.9.2)",
    ),
];

#[test]
fn miwg_reference_models_are_clean() {
    let files = bpmn_files(&corpus().join("bpmn/bpmn-miwg-test-suite"));
    let mut dirty = Vec::new();
    for path in &files {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        match check_file(path) {
            Ok(diags) => {
                let unexpected: Vec<Diagnostic> = diags
                    .into_iter()
                    .filter(|d| {
                        !MIWG_EXCEPTIONS
                            .iter()
                            .any(|(f, code, _)| (*f == "*" || *f == file) && d.code == *code)
                    })
                    .collect();
                if !unexpected.is_empty() {
                    dirty.push(format!("{}\n{}", path.display(), show(&unexpected)));
                }
            }
            Err(e) => dirty.push(format!("{}: parse error: {e}\n", path.display())),
        }
    }
    assert!(
        dirty.is_empty(),
        "false positives on MIWG reference models:\n{}",
        dirty.concat()
    );
}

#[test]
fn other_engines_models_never_panic() {
    let mut per_code: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    for dir in ["SpiffWorkflow", "bpmn-elements", "bpmn-engine"] {
        for path in bpmn_files(&corpus().join("bpmn").join(dir)) {
            files += 1;
            let Ok(diags) = check_file(&path) else {
                continue;
            };
            if std::env::var_os("SHOW_DIAGNOSTICS").is_some() && !diags.is_empty() {
                eprintln!("{}\n{}", path.display(), show(&diags));
            }
            for d in diags {
                *per_code.entry(d.code).or_default() += 1;
            }
        }
    }
    eprintln!("{files} models of other engines; diagnostics per code:");
    for (code, n) in &per_code {
        eprintln!("  {code:<8} {n}");
    }
}

// ---------------------------------------------------------------------------
// Per-rule fixtures: each case has a failing and a passing variant. The failing
// one must report the code; the passing one must be entirely clean.
// ---------------------------------------------------------------------------

const HEAD: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="http://example.com/t">"#;

/// A document with these top-level elements.
fn defs(body: &str) -> String {
    format!("{HEAD}{body}</definitions>")
}

/// A document with one process `P` holding `body`.
fn process(executable: bool, body: &str) -> String {
    defs(&format!(
        r#"<process id="P" isExecutable="{executable}">{body}</process>"#
    ))
}

/// Nodes `(tag, id, inner, attributes)` connected in a line by flows `f1`, `f2`, …
fn line(nodes: &[(&str, &str, &str, &str)]) -> String {
    line_named("f", nodes)
}

/// Like [`line`], with flows named `{prefix}1`, `{prefix}2`, …
fn line_named(prefix: &str, nodes: &[(&str, &str, &str, &str)]) -> String {
    let mut out = String::new();
    for (k, (tag, id, inner, attrs)) in nodes.iter().enumerate() {
        let incoming = if k > 0 {
            format!("<incoming>{prefix}{k}</incoming>")
        } else {
            String::new()
        };
        let outgoing = if k + 1 < nodes.len() {
            format!("<outgoing>{prefix}{}</outgoing>", k + 1)
        } else {
            String::new()
        };
        out.push_str(&format!(
            r#"<{tag} id="{id}" {attrs}>{incoming}{outgoing}{inner}</{tag}>"#
        ));
        if k > 0 {
            let from = nodes[k - 1].1;
            out.push_str(&format!(
                r#"<sequenceFlow id="{prefix}{k}" sourceRef="{from}" targetRef="{id}"/>"#
            ));
        }
    }
    out
}

/// start → (tag id inner attrs) → end, in an executable process.
fn around(tag: &str, inner: &str, attrs: &str) -> String {
    process(
        true,
        &line(&[
            ("startEvent", "s", "", ""),
            (tag, "x", inner, attrs),
            ("endEvent", "e", "", ""),
        ]),
    )
}

fn diagnose(xml: &str) -> Vec<Diagnostic> {
    check(&parse(xml).unwrap_or_else(|e| panic!("fixture does not parse: {e}\n{xml}")))
}

struct Case {
    code: &'static str,
    fail: String,
    pass: String,
}

fn case(code: &'static str, fail: String, pass: String) -> Case {
    Case { code, fail, pass }
}

const TIMER: &str = r#"<timerEventDefinition><timeDuration xsi:type="tFormalExpression">PT1M</timeDuration></timerEventDefinition>"#;
const MESSAGE_DEFS: &str = r#"<itemDefinition id="I" structureRef="String"/><message id="M" itemRef="I"/><interface id="IF"><operation id="OP"><inMessageRef>M</inMessageRef></operation></interface>"#;
const MESSAGE: &str = r#"<messageEventDefinition messageRef="M"><operationRef>OP</operationRef></messageEventDefinition>"#;

fn cases() -> Vec<Case> {
    let gateway = |tag: &str, dir: &str, extra_in: bool| {
        let mut b = String::from(r#"<startEvent id="s"><outgoing>a</outgoing></startEvent>"#);
        b += &format!(r#"<{tag} id="g" gatewayDirection="{dir}"><incoming>a</incoming>"#);
        if extra_in {
            b += "<incoming>a2</incoming>";
        }
        b += &format!(r#"<outgoing>b</outgoing><outgoing>c</outgoing></{tag}>"#);
        b += r#"<endEvent id="e1"><incoming>b</incoming></endEvent><endEvent id="e2"><incoming>c</incoming></endEvent>"#;
        b += r#"<sequenceFlow id="a" sourceRef="s" targetRef="g"/><sequenceFlow id="b" sourceRef="g" targetRef="e1"/><sequenceFlow id="c" sourceRef="g" targetRef="e2"/>"#;
        if extra_in {
            b += r#"<startEvent id="s2"><outgoing>a2</outgoing></startEvent><sequenceFlow id="a2" sourceRef="s2" targetRef="g"/>"#;
        }
        process(true, &b)
    };
    let boundary = |defs: &str, cancel: &str| {
        process(
            true,
            &(line(&[
                ("startEvent", "s", "", ""),
                ("task", "t", "", ""),
                ("endEvent", "e", "", ""),
            ]) + &format!(
                r#"<boundaryEvent id="b" attachedToRef="t" cancelActivity="{cancel}"><outgoing>fb</outgoing>{defs}</boundaryEvent>"#
            ) + r#"<endEvent id="e2"><incoming>fb</incoming></endEvent><sequenceFlow id="fb" sourceRef="b" targetRef="e2"/>"#),
        )
    };
    let event_sub = |start_inner: &str, interrupting: &str| {
        process(
            true,
            &(line(&[
                ("startEvent", "s", "", ""),
                ("task", "t", "", ""),
                ("endEvent", "e", "", ""),
            ]) + r#"<subProcess id="es" triggeredByEvent="true">"#
                + &line_named(
                    "ef",
                    &[
                        (
                            "startEvent",
                            "es_s",
                            start_inner,
                            &format!(r#"isInterrupting="{interrupting}""#),
                        ),
                        ("endEvent", "es_e", "", ""),
                    ],
                )
                + "</subProcess>"),
        )
    };
    let timer_value = |part: &str, value: &str| {
        around(
            "intermediateCatchEvent",
            &format!(
                r#"<timerEventDefinition><{part} xsi:type="tFormalExpression">{value}</{part}></timerEventDefinition>"#
            ),
            "",
        )
    };
    let mi = |inner: &str| {
        around(
            "task",
            &format!(
                "<multiInstanceLoopCharacteristics>{inner}</multiInstanceLoopCharacteristics>"
            ),
            "",
        )
    };
    let collab = |flow: &str, extra: &str| {
        defs(&format!(
            r#"{MESSAGE_DEFS}<collaboration id="C"><participant id="pa" processRef="P"/><participant id="pb"/>{flow}</collaboration><process id="P" isExecutable="true">{}</process>{extra}"#,
            line(&[
                ("startEvent", "s", "", ""),
                ("task", "t", "", ""),
                ("endEvent", "e", "", "")
            ])
        ))
    };
    vec![
        case("EXT.002", process(false, &line(&[("startEvent", "x", "", ""), ("endEvent", "x", "", "")])), process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]))),
        case("EXT.003", around("task", "", r#"name="no id""#).replace(r#"<task id="x" "#, "<task "), around("task", "", "")),
        case("EXT.004", around("task", r#"<documentation textFormat="plain">d</documentation>"#, ""), around("task", r#"<documentation textFormat="text/plain">d</documentation>"#, "")),
        case("EXT.006", process(false, r#"<startEvent id="s"><outgoing>f</outgoing></startEvent><textAnnotation id="a"/><sequenceFlow id="f" sourceRef="s" targetRef="a"/>"#), around("task", "", "")),
        case("EXT.010", process(false, r#"<textAnnotation id="a" textFormat="nonsense"/>"#), process(false, r#"<textAnnotation id="a" textFormat="text/plain"/>"#)),
        case("EXT.011", around("intermediateThrowEvent", r#"<escalationEventDefinition/>"#, ""), defs(&format!(r#"<escalation id="E" escalationCode="C"/>{}"#, around("intermediateThrowEvent", r#"<escalationEventDefinition escalationRef="E"/>"#, "").trim_start_matches(HEAD).trim_end_matches("</definitions>")))),
        case("EXT.012", around("task", "<standardLoopCharacteristics><loopCondition>more to do</loopCondition></standardLoopCharacteristics>", ""), around("task", r#"<standardLoopCharacteristics><loopCondition xsi:type="tFormalExpression">n &lt; 3</loopCondition></standardLoopCharacteristics>"#, "")),
        case("EXT.013", timer_value("timeDuration", ""), timer_value("timeDuration", "PT5M")),
        case("EXT.014", around("task", r#"<standardLoopCharacteristics><loopCondition xsi:type="tFormalExpression" language="%zz">a</loopCondition></standardLoopCharacteristics>"#, ""), around("task", r#"<standardLoopCharacteristics><loopCondition xsi:type="tFormalExpression" language="http://www.w3.org/1999/XPath">a</loopCondition></standardLoopCharacteristics>"#, "")),
        case("EXT.017", gateway("exclusiveGateway", "Converging", false), gateway("exclusiveGateway", "Diverging", false)),
        case("EXT.018", gateway("parallelGateway", "Diverging", true), gateway("parallelGateway", "Mixed", true)),
        case("EXT.019", gateway("inclusiveGateway", "Mixed", false), gateway("inclusiveGateway", "Unspecified", false)),
        case("EXT.020", defs(&format!(r#"<itemDefinition id="I" isCollection="true"/>{}"#, &process(false, r#"<dataObject id="d" itemSubjectRef="I"/>"#)[HEAD.len()..].trim_end_matches("</definitions>"))), defs(&format!(r#"<itemDefinition id="I" isCollection="true"/>{}"#, &process(false, r#"<dataObject id="d" itemSubjectRef="I" isCollection="true"/>"#)[HEAD.len()..].trim_end_matches("</definitions>")))),
        case("EXT.023", around("task", "", "").replacen("<incoming>f1</incoming>", "", 1), around("task", "", "")),
        case("EXT.024", around("task", "", "").replacen(r#"<sequenceFlow id="f1""#, r#"<sequenceFlow isImmediate="false" id="f1""#, 1), around("task", "", "")),
        case("EXT.025", around("task", "", "").replacen(r#"targetRef="e"/>"#, r#"targetRef="e"><conditionExpression xsi:type="tFormalExpression">ok</conditionExpression></sequenceFlow>"#, 1), around("task", "", "")),
        case("EXT.026", gateway("exclusiveGateway", "Diverging", false).replace(r#"<exclusiveGateway id="g""#, r#"<exclusiveGateway default="a" id="g""#), gateway("exclusiveGateway", "Diverging", false).replace(r#"<exclusiveGateway id="g""#, r#"<exclusiveGateway default="b" id="g""#)),
        case("EXT.028", defs(&format!("{}<process id=\"Q\">{}</process>", &process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]))[HEAD.len()..].trim_end_matches("</definitions>"), "")).replacen(r#"targetRef="e""#, r#"targetRef="q""#, 1).replacen(r#"<process id="Q">"#, r#"<process id="Q"><endEvent id="q"><incoming>f1</incoming></endEvent>"#, 1), process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]))),
        case("EXT.031", collab(r#"<messageFlow id="m" sourceRef="t" targetRef="pa"/>"#, ""), collab(r#"<messageFlow id="m" sourceRef="t" targetRef="pb"/>"#, "")),
        case("EXT.035", defs(r#"<process id="P" processType="Public" isExecutable="true"/>"#), defs(r#"<process id="P" processType="Public" isExecutable="false"/>"#)),
        case("EXT.037", around("task", "", r#"startQuantity="0""#), around("task", "", r#"startQuantity="2""#)),
        case("EXT.041", around("task", r#"<standardLoopCharacteristics/><multiInstanceLoopCharacteristics><loopCardinality xsi:type="tFormalExpression">2</loopCardinality></multiInstanceLoopCharacteristics>"#, ""), around("task", r#"<multiInstanceLoopCharacteristics><loopCardinality xsi:type="tFormalExpression">2</loopCardinality></multiInstanceLoopCharacteristics>"#, "")),
        case("EXT.057", event_sub(TIMER, "true").replacen(r#"<subProcess id="es" triggeredByEvent="true">"#, r#"<subProcess id="es" triggeredByEvent="true"><incoming>zz</incoming>"#, 1), event_sub(TIMER, "true")),
        case("EXT.058", event_sub(TIMER, "true").replacen(r#"<startEvent id="es_s""#, r#"<startEvent id="es_s2"><timerEventDefinition/></startEvent><startEvent id="es_s""#, 1), event_sub(TIMER, "true")),
        case("EXT.059", event_sub(r#"<errorEventDefinition/>"#, "false"), event_sub(r#"<errorEventDefinition/>"#, "true")),
        case("EXT.061", process(false, r#"<adHocSubProcess id="a"><dataObject id="d"/></adHocSubProcess>"#), process(false, r#"<adHocSubProcess id="a"><task id="t"/></adHocSubProcess>"#)),
        case("EXT.067", mi(""), mi(r#"<loopCardinality xsi:type="tFormalExpression">3</loopCardinality>"#)),
        case("EXT.071", mi(r#"<loopCardinality xsi:type="tFormalExpression">3</loopCardinality><completionCondition xsi:type="tFormalExpression">7</completionCondition>"#), mi(r#"<loopCardinality xsi:type="tFormalExpression">3</loopCardinality><completionCondition xsi:type="tFormalExpression">done</completionCondition>"#)),
        case("EXT.079", around("subProcess", r#"<ioSpecification><inputSet/><outputSet/></ioSpecification>"#, ""), around("subProcess", &line_named("sf", &[("startEvent", "ss", "", ""), ("endEvent", "se", "", "")]), "")),
        case("EXT.084", around("task", r#"<ioSpecification><dataInput id="di"/><inputSet/><outputSet/></ioSpecification>"#, ""), around("task", r#"<ioSpecification><dataInput id="di"/><inputSet><dataInputRefs>di</dataInputRefs></inputSet><outputSet/></ioSpecification>"#, "")),
        case("EXT.085", around("task", r#"<ioSpecification><dataInput id="di"/><dataInput id="dj"/><inputSet><dataInputRefs>di</dataInputRefs><optionalInputRefs>dj</optionalInputRefs></inputSet><inputSet><dataInputRefs>dj</dataInputRefs></inputSet><outputSet/></ioSpecification>"#, ""), around("task", r#"<ioSpecification><dataInput id="di"/><inputSet><dataInputRefs>di</dataInputRefs><optionalInputRefs>di</optionalInputRefs></inputSet><outputSet/></ioSpecification>"#, "")),
        case("EXT.096", process(false, r#"<startEvent id="s"><incoming>f</incoming><outgoing>g</outgoing></startEvent><task id="t"><incoming>g</incoming><outgoing>f</outgoing></task><sequenceFlow id="g" sourceRef="s" targetRef="t"/><sequenceFlow id="f" sourceRef="t" targetRef="s"/><endEvent id="e"/>"#), around("task", "", "")),
        case("EXT.097", process(false, &line(&[("task", "t", "", ""), ("endEvent", "e", "", "")])), process(false, &line(&[("startEvent", "s", "", ""), ("task", "t", "", ""), ("endEvent", "e", "", "")]))),
        case("EXT.098", process(true, &line(&[("startEvent", "s", r#"<errorEventDefinition/>"#, ""), ("endEvent", "e", "", "")])), process(true, &line(&[("startEvent", "s", TIMER, ""), ("endEvent", "e", "", "")]))),
        case("EXT.100", around("subProcess", &line_named("sf", &[("startEvent", "ss", TIMER, ""), ("endEvent", "se", "", "")]), ""), around("subProcess", &line_named("sf", &[("startEvent", "ss", "", ""), ("endEvent", "se", "", "")]), "")),
        case("EXT.102", collab(r#"<messageFlow id="m" sourceRef="s" targetRef="pb"/>"#, ""), collab(r#"<messageFlow id="m" sourceRef="t" targetRef="pb"/>"#, "")),
        case("EXT.104", process(false, r#"<startEvent id="s"><outgoing>f</outgoing></startEvent><endEvent id="e"><incoming>f</incoming><outgoing>f</outgoing></endEvent><sequenceFlow id="f" sourceRef="s" targetRef="e"/>"#), process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]))),
        case("EXT.106", process(true, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "<cancelEventDefinition/>", "")])), process(true, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "<terminateEventDefinition/>", "")]))),
        case("EXT.110", boundary("", "true"), boundary(TIMER, "true")),
        case("EXT.111", boundary("<cancelEventDefinition/>", "true"), boundary("<errorEventDefinition/>", "true")),
        case("EXT.113", boundary(TIMER, "false").replace("<outgoing>fb</outgoing>", ""), boundary(TIMER, "false")),
        case("EXT.115", process(false, &line(&[("intermediateThrowEvent", "i", "", ""), ("endEvent", "e", "", "")])), process(false, &line(&[("startEvent", "s", "", ""), ("intermediateThrowEvent", "i", "", ""), ("endEvent", "e", "", "")]))),
        case("EXT.122", around("intermediateCatchEvent", "<compensateEventDefinition/>", ""), around("intermediateCatchEvent", TIMER, "")),
        case("EXT.123", around("intermediateCatchEvent", "<conditionalEventDefinition><condition>when ready</condition></conditionalEventDefinition>", ""), around("intermediateCatchEvent", r#"<conditionalEventDefinition><condition xsi:type="tFormalExpression">ready</condition></conditionalEventDefinition>"#, "")),
        case("EXT.127", defs(&format!("{MESSAGE_DEFS}{}", &around("intermediateThrowEvent", "<messageEventDefinition><operationRef>OP</operationRef></messageEventDefinition>", "")[HEAD.len()..].trim_end_matches("</definitions>"))), defs(&format!("{MESSAGE_DEFS}{}", &around("intermediateThrowEvent", MESSAGE, "")[HEAD.len()..].trim_end_matches("</definitions>")))),
        case("EXT.128", defs(&format!("{MESSAGE_DEFS}{}", &around("intermediateThrowEvent", r#"<messageEventDefinition messageRef="M"/>"#, "")[HEAD.len()..].trim_end_matches("</definitions>"))), defs(&format!("{MESSAGE_DEFS}{}", &around("intermediateThrowEvent", MESSAGE, "")[HEAD.len()..].trim_end_matches("</definitions>")))),
        case("EXT.131", around("intermediateCatchEvent", r#"<timerEventDefinition><timeDuration xsi:type="tFormalExpression">PT1M</timeDuration><timeDate xsi:type="tFormalExpression">2024-01-01T00:00:00Z</timeDate></timerEventDefinition>"#, ""), around("intermediateCatchEvent", TIMER, "")),
        case("EXT.132", timer_value("timeDate", "2024-13-01"), timer_value("timeDate", "2024-12-01T10:30:00+01:00")),
        case("EXT.133", timer_value("timeCycle", "R3/soon"), timer_value("timeCycle", "R3/PT10M")),
        case("EXT.134", timer_value("timeDuration", "P1Q"), timer_value("timeDuration", "P1DT2H")),
        case("EXT.135", around("exclusiveGateway", "", ""), gateway("exclusiveGateway", "Diverging", false)),
        case("EXT.145", around("scriptTask", "<script>x</script>", r#"scriptFormat="?!""#), around("scriptTask", "<script>x</script>", r#"scriptFormat="text/x-groovy""#)),
        case("EXT.146", process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", TIMER, "")])), process(false, &line(&[("startEvent", "s", "", ""), ("endEvent", "e", "<terminateEventDefinition/>", "")]))),
        case("EXT.148", around("intermediateCatchEvent", "<errorEventDefinition/>", ""), around("intermediateCatchEvent", TIMER, "")),
        case("EXT.149", around("intermediateThrowEvent", TIMER, ""), around("intermediateThrowEvent", "<signalEventDefinition/>", "")),
        case("EXT.150", process(false, &(line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]) + r#"<task id="lonely"/>"#)), process(false, &(line(&[("startEvent", "s", "", ""), ("endEvent", "e", "", "")]) + r#"<task id="undo" isForCompensation="true"/>"#))),
        case("REF", around("task", "", "").replacen(r#"targetRef="e""#, r#"targetRef="nowhere""#, 1), around("task", "", "")),
        case("REF", around("task", "", r#"default="s""#), around("task", "", "")),
        case("XSD", process(false, r#"<sequenceFlow id="f"/>"#), process(false, "")),
    ]
}

#[test]
fn each_rule_rejects_its_violation_and_accepts_the_fix() {
    let mut problems = Vec::new();
    for c in cases() {
        let fail = diagnose(&c.fail);
        if !fail.iter().any(|d| d.code == c.code) {
            problems.push(format!(
                "{}: the failing fixture is not reported\n{}\n{}",
                c.code,
                c.fail,
                show(&fail)
            ));
        }
        let pass = diagnose(&c.pass);
        if !pass.is_empty() {
            problems.push(format!(
                "{}: the passing fixture is not clean\n{}\n{}",
                c.code,
                c.pass,
                show(&pass)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn diagnostics_name_the_element_and_position() {
    let xml = process(
        false,
        "\n<sequenceFlow id=\"f\" sourceRef=\"a\" targetRef=\"b\"/>",
    );
    let d = diagnose(&xml);
    let r = d
        .iter()
        .find(|d| d.code == "REF")
        .expect("dangling sourceRef reported");
    assert_eq!(r.element.as_deref(), Some("f"));
    assert_eq!(r.pos.line, 2);
    assert!(
        r.message.contains("`a`") && r.message.contains("does not exist"),
        "{}",
        r.message
    );
}

/// Arbitrary trees (not only what the parser produces) must never panic.
#[test]
fn odd_trees_never_panic() {
    use baton_model::xml::{Attr, BPMN_NS, Element};
    let bpmn = |name: &str, attrs: &[(&str, &str)], children: Vec<Element>, text: &str| Element {
        ns: Some(BPMN_NS.to_owned()),
        name: name.to_owned(),
        attrs: attrs
            .iter()
            .map(|(k, v)| Attr {
                ns: None,
                name: (*k).into(),
                value: (*v).into(),
            })
            .collect(),
        children,
        text: text.to_owned(),
        ..Element::default()
    };
    let mut deep = bpmn("task", &[("id", "t")], vec![], "");
    for i in 0..3000 {
        deep = bpmn(
            if i % 2 == 0 { "subProcess" } else { "process" },
            &[("id", "")],
            vec![deep],
            "",
        );
    }
    let odd = [
        Element::default(),
        bpmn("task", &[], vec![], ""),
        bpmn(
            "definitions",
            &[("id", ":"), ("targetNamespace", "")],
            vec![deep],
            "",
        ),
        bpmn(
            "definitions",
            &[],
            vec![
                bpmn(
                    "sequenceFlow",
                    &[("id", "f"), ("sourceRef", "f"), ("targetRef", ":::")],
                    vec![],
                    "",
                ),
                bpmn("incoming", &[], vec![], "f"),
                bpmn("eventDefinitionRef", &[], vec![], "x:y:z"),
                bpmn(
                    "timerEventDefinition",
                    &[],
                    vec![bpmn("timeCycle", &[], vec![], "R/R/R//P")],
                    "",
                ),
                bpmn(
                    "participantMultiplicity",
                    &[("minimum", "99999999999999999999")],
                    vec![],
                    "",
                ),
            ],
            "",
        ),
    ];
    for tree in &odd {
        let _ = check(tree);
    }
}
