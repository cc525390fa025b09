//! What changed between two versions of a BPMN document, element by element:
//! the elements (anything with an `id`) added, removed and changed, and for a
//! changed one which of its attributes and contents differ. Diagram
//! interchange (shapes, edges, labels) is only reported as "the layout
//! changed": moving a shape changes no behaviour.

use std::collections::{BTreeMap, BTreeSet};

use crate::xml::{self, Element, XmlError};

const BPMNDI: &[&str] = &[
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
];

/// An element as the diff names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Named {
    pub id: String,
    /// Its BPMN element name (`serviceTask`, `sequenceFlow`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
}

/// One element present in both versions whose content differs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub element: Named,
    /// What differs, one line each: `name: "Old" → "New"`, `+ property
    /// command = "ls"`, `- conditionExpression: ${a > 1}`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub added: Vec<Named>,
    pub removed: Vec<Named>,
    pub changed: Vec<Changed>,
    /// Shapes or edges of the diagram moved, appeared or went.
    pub layout_changed: bool,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// One element's own content: attributes (but its id) and every line of its
/// children that have no id of their own.
struct Facts {
    named: Named,
    attrs: BTreeMap<String, String>,
    body: BTreeSet<String>,
}

fn is_di(e: &Element) -> bool {
    e.ns.as_deref().is_some_and(|n| BPMNDI.contains(&n))
}

/// `prefix:name` for non-BPMN namespaces, so `baton:type` and `type` differ.
fn attr_name(a: &xml::Attr) -> String {
    match a.ns.as_deref() {
        None => a.name.clone(),
        Some(ns) => format!("{}:{}", short(ns), a.name),
    }
}

fn short(ns: &str) -> &str {
    match ns {
        "http://baton.dev/schema/bpmn" => "baton",
        "http://camunda.org/schema/1.0/bpmn" => "camunda",
        "http://flowable.org/bpmn" => "flowable",
        "http://activiti.org/bpmn" => "activiti",
        "http://www.w3.org/2001/XMLSchema-instance" => "xsi",
        other => other.rsplit('/').next().unwrap_or(other),
    }
}

/// Lines for the id-less content under `e` (`path attr=value`, `path: text`).
fn body_lines(e: &Element, path: &str, out: &mut BTreeSet<String>) {
    for c in &e.children {
        // A process element's diagram lives apart; a diagram element's own
        // bounds and waypoints are its content.
        if c.attr("id").is_some() || (is_di(c) && !is_di(e)) {
            continue;
        }
        let here = if path.is_empty() {
            c.name.clone()
        } else {
            format!("{path}/{}", c.name)
        };
        // `<baton:property name="x" value="y"/>` and its kin read best as one line.
        if let (Some(n), Some(v)) = (c.attr("name"), c.attr("value")) {
            out.insert(format!("{here} {n} = {v:?}"));
        } else {
            let mut attrs: Vec<String> = c
                .attrs
                .iter()
                .map(|a| format!("{}={:?}", attr_name(a), a.value))
                .collect();
            attrs.sort();
            let text = c.trimmed_text();
            match (attrs.is_empty(), text.is_empty()) {
                (true, true) => {}
                (false, true) => {
                    out.insert(format!("{here} {}", attrs.join(" ")));
                }
                (true, false) => {
                    out.insert(format!("{here}: {text}"));
                }
                (false, false) => {
                    out.insert(format!("{here} {}: {text}", attrs.join(" ")));
                }
            }
        }
        body_lines(c, &here, out);
    }
}

fn collect(root: &Element) -> (BTreeMap<String, Facts>, BTreeSet<String>) {
    let mut elements = BTreeMap::new();
    let mut layout = BTreeSet::new();
    root.walk(&mut |e| {
        let Some(id) = e.attr("id") else { return };
        if is_di(e) {
            let mut attrs: Vec<String> = e
                .attrs
                .iter()
                .map(|a| format!("{}={}", a.name, a.value))
                .collect();
            attrs.sort();
            let mut inner = BTreeSet::new();
            body_lines(e, "", &mut inner);
            layout.insert(format!(
                "{id} {} {}",
                attrs.join(" "),
                inner.into_iter().collect::<Vec<_>>().join(";")
            ));
            return;
        }
        let attrs = e
            .attrs
            .iter()
            .filter(|a| !(a.ns.is_none() && a.name == "id"))
            .map(|a| (attr_name(a), a.value.clone()))
            .collect();
        let mut body = BTreeSet::new();
        body_lines(e, "", &mut body);
        elements.insert(
            id.to_owned(),
            Facts {
                named: Named {
                    id: id.to_owned(),
                    kind: e.name.clone(),
                    name: e.attr("name").map(str::to_owned),
                },
                attrs,
                body,
            },
        );
    });
    // Diagram elements may carry their own DI children with ids: those
    // were walked too and landed in `layout`.
    (elements, layout)
}

/// The differences from document `old` to document `new`.
pub fn diff(old: &str, new: &str) -> Result<Diff, XmlError> {
    let (a, la) = collect(&xml::parse(old)?);
    let (b, lb) = collect(&xml::parse(new)?);
    let mut d = Diff {
        layout_changed: la != lb,
        ..Diff::default()
    };
    for (id, f) in &a {
        if !b.contains_key(id) {
            d.removed.push(f.named.clone());
        }
    }
    for (id, g) in &b {
        let Some(f) = a.get(id) else {
            d.added.push(g.named.clone());
            continue;
        };
        let mut changes = Vec::new();
        if f.named.kind != g.named.kind {
            changes.push(format!("type: {} → {}", f.named.kind, g.named.kind));
        }
        let keys: BTreeSet<&String> = f.attrs.keys().chain(g.attrs.keys()).collect();
        for k in keys {
            match (f.attrs.get(k), g.attrs.get(k)) {
                (Some(x), Some(y)) if x != y => changes.push(format!("{k}: {x:?} → {y:?}")),
                (Some(x), None) => changes.push(format!("- {k} = {x:?}")),
                (None, Some(y)) => changes.push(format!("+ {k} = {y:?}")),
                _ => {}
            }
        }
        changes.extend(f.body.difference(&g.body).map(|l| format!("- {l}")));
        changes.extend(g.body.difference(&f.body).map(|l| format!("+ {l}")));
        if !changes.is_empty() {
            d.changed.push(Changed {
                element: g.named.clone(),
                changes,
            });
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC""#;

    fn doc(task: &str, flows: &str, x: u32) -> String {
        format!(
            r#"<definitions {NS} id="d" targetNamespace="t"><process id="p" isExecutable="true">
            <startEvent id="s"/>{task}{flows}<endEvent id="e"/></process>
            <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
            <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="{x}" y="0" width="36" height="36"/></bpmndi:BPMNShape>
            </bpmndi:BPMNPlane></bpmndi:BPMNDiagram></definitions>"#
        )
    }

    const FLOWS: &str = r#"<sequenceFlow id="f1" sourceRef="s" targetRef="w"/><sequenceFlow id="f2" sourceRef="w" targetRef="e"/>"#;

    #[test]
    fn the_same_document_has_no_changes_and_layout_is_apart() {
        let t = r#"<serviceTask id="w" name="Work" baton:type="local-command"><extensionElements><baton:property name="command" value="ls"/></extensionElements></serviceTask>"#;
        let d = diff(&doc(t, FLOWS, 0), &doc(t, FLOWS, 0)).unwrap();
        assert!(d.is_empty() && !d.layout_changed, "{d:?}");
        let d = diff(&doc(t, FLOWS, 0), &doc(t, FLOWS, 100)).unwrap();
        assert!(d.is_empty() && d.layout_changed, "{d:?}");
    }

    #[test]
    fn names_properties_and_elements_that_changed() {
        let old = r#"<serviceTask id="w" name="Work" baton:type="local-command"><extensionElements><baton:property name="command" value="ls"/></extensionElements></serviceTask>"#;
        let new = r#"<serviceTask id="w" name="List" baton:type="local-command"><extensionElements><baton:property name="command" value="ls -la"/><baton:property name="timeout" value="30"/></extensionElements></serviceTask><task id="t2"/>"#;
        let flows2 = r#"<sequenceFlow id="f1" sourceRef="s" targetRef="w"/><sequenceFlow id="f3" sourceRef="w" targetRef="e"><conditionExpression>${ok}</conditionExpression></sequenceFlow>"#;
        let d = diff(&doc(old, FLOWS, 0), &doc(new, flows2, 0)).unwrap();
        let ids = |v: &[Named]| v.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.added), ["f3", "t2"]);
        assert_eq!(ids(&d.removed), ["f2"]);
        assert_eq!(d.changed.len(), 1, "{d:?}");
        let c = &d.changed[0];
        assert_eq!(
            (c.element.id.as_str(), c.element.name.as_deref()),
            ("w", Some("List"))
        );
        assert_eq!(
            c.changes,
            [
                "name: \"Work\" → \"List\"",
                "- extensionElements/property command = \"ls\"",
                "+ extensionElements/property command = \"ls -la\"",
                "+ extensionElements/property timeout = \"30\"",
            ]
        );
        assert!(!d.layout_changed);
    }

    #[test]
    fn a_document_that_does_not_parse_says_where() {
        let e = diff("<definitions", &doc("", FLOWS, 0)).unwrap_err();
        assert!(!e.to_string().is_empty());
    }
}
