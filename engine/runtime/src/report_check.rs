//! A report template's placeholders checked against a process whose report
//! nodes fill it: a placeholder's root name should be one of the process's
//! elements (`${collect.stdout}`), a built-in (`LWAMS_*`) or a global
//! variable. Anything else may be a process variable — known only at run
//! time — or a typo; the check says which placeholder and where, and leaves
//! the decision to the author. Optional placeholders (`${?…}`) are not
//! checked.

use std::collections::HashSet;

use baton_model::Model;
use serde_json::{Map, Value};

use crate::job::job_props;

/// Whether a report node of `model` names the template (by id or name).
pub fn fills_template(model: &Model, id: &str, name: &str) -> bool {
    model.job_kinds().into_iter().any(|(el, kind)| {
        kind == "report"
            && job_props(&model.elements[el.0 as usize])
                .get("template")
                .and_then(Value::as_str)
                .is_some_and(|t| t == id || t == name)
    })
}

/// One finding per placeholder (`placeholders`: `[{sheet, cell, expression,
/// optional}]`) whose root names nothing `process` knows of.
pub fn unknown_roots(
    process: &str,
    model: &Model,
    globals: &Map<String, Value>,
    placeholders: &Value,
) -> Vec<String> {
    let elements: HashSet<&str> = model.elements.iter().map(|e| e.id.as_str()).collect();
    let mut out = Vec::new();
    for p in placeholders.as_array().into_iter().flatten() {
        if p["optional"].as_bool() == Some(true) {
            continue;
        }
        let expression = p["expression"].as_str().unwrap_or_default();
        let Ok(expr) = baton_expr::parse(expression) else {
            continue;
        };
        for root in expr.root_names() {
            let known = root.starts_with("LWAMS_")
                || elements.contains(root.as_str())
                || globals.contains_key(&root);
            if !known {
                out.push(format!(
                    "{}!{} `${{{expression}}}`: `{root}` is no element of process `{process}` \
                     and no global variable (fine if it is a process variable)",
                    p["sheet"].as_str().unwrap_or("?"),
                    p["cell"].as_str().unwrap_or("?"),
                ));
            }
        }
    }
    out
}

/// The warnings for `template` (a row of `company`) against the latest
/// version of every deployed process of the company whose report nodes fill it.
pub async fn check_against_processes(
    store: &crate::store::Store,
    company: &str,
    template: &crate::store::ReportTemplateRow,
) -> crate::store::Result<Vec<String>> {
    use crate::tenancy::{bare, company_of};
    let globals = store.globals(company).await?;
    let mut latest = std::collections::BTreeMap::new();
    for d in store.list_definitions().await? {
        if company_of(&d.key) != company {
            continue;
        }
        let v = latest.entry(d.key.clone()).or_insert_with(|| d.clone());
        if d.version > v.version {
            *v = d;
        }
    }
    let mut out = Vec::new();
    for d in latest.into_values() {
        let Some(def) = store.definition(&d.id).await? else {
            continue;
        };
        let Ok(model) = baton_model::compile(&def.xml) else {
            continue;
        };
        if fills_template(&model, &template.id, &template.name) {
            out.extend(unknown_roots(
                bare(&d.key),
                &model,
                &globals,
                &template.placeholders,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const XML: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="collect"/>
    <serviceTask id="collect" baton:type="local-command"><extensionElements><baton:property name="command" value="uname"/></extensionElements></serviceTask>
    <sequenceFlow id="f2" sourceRef="collect" targetRef="rep"/>
    <serviceTask id="rep" baton:type="report"><extensionElements><baton:property name="template" value="daily"/></extensionElements></serviceTask>
    <sequenceFlow id="f3" sourceRef="rep" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;

    #[test]
    fn names_placeholders_that_match_nothing() {
        let model = baton_model::compile(XML).unwrap();
        assert!(fills_template(&model, "t1", "daily"));
        assert!(!fills_template(&model, "t2", "weekly"));
        let globals = json!({"site": "sh01"}).as_object().unwrap().clone();
        let placeholders = json!([
            {"sheet": "S", "cell": "A1", "expression": "collect.stdout", "optional": false},
            {"sheet": "S", "cell": "A2", "expression": "LWAMS_INIT_DATE", "optional": false},
            {"sheet": "S", "cell": "A3", "expression": "site", "optional": false},
            {"sheet": "S", "cell": "A4", "expression": "colect.stdout", "optional": false},
            {"sheet": "S", "cell": "A5", "expression": "maybe.x", "optional": true},
        ]);
        let found = unknown_roots("p", &model, &globals, &placeholders);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("S!A4 `${colect.stdout}`: `colect`"),
            "{}",
            found[0]
        );
    }
}
