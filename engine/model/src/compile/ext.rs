//! Extension data for node implementations: Baton's own attributes and
//! properties, and the Flowable / Activiti / Camunda 7 forms read as the same.

use serde_json::Value;

use super::Compiler;
use crate::model::Extension;
use crate::vendor::{ACTIVITI_NS, BATON_NS, CAMUNDA_NS, FLOWABLE_NS};
use crate::xml::{self, BPMN_NS};

fn is_vendor(ns: Option<&str>) -> bool {
    matches!(ns, Some(BATON_NS | FLOWABLE_NS | ACTIVITI_NS | CAMUNDA_NS))
}

impl<'a> Compiler<'a> {
    pub(super) fn extension(&mut self, x: &xml::Element) -> Option<Box<Extension>> {
        let mut ext = Extension::default();
        for a in &x.attrs {
            if a.ns.is_some()
                && a.ns.as_deref() != Some(BPMN_NS)
                && a.ns.as_deref() != Some(xml::XSI_NS)
            {
                if a.name == "type" && is_vendor(a.ns.as_deref()) {
                    ext.node_type = Some(a.value.clone());
                }
                ext.attrs
                    .insert(a.name.clone(), Value::String(a.value.clone()));
            }
        }
        if let Some(ee) = x.bpmn_child("extensionElements") {
            for c in &ee.children {
                collect_props(c, &mut ext);
            }
        }
        (ext != Extension::default()).then(|| Box::new(ext))
    }
}

/// Properties are any extension element with a `name`: its value comes from a
/// `value`, `stringValue` or `expression` attribute, a `string` / `expression`
/// child, or its own text. Containers (`camunda:inputOutput`, `baton:properties`)
/// are walked.
fn collect_props(c: &xml::Element, ext: &mut Extension) {
    // Camunda 7 connectors: `<camunda:connector><camunda:connectorId>http-connector`.
    if c.name == "connectorId" && c.ns.as_deref() == Some(CAMUNDA_NS) {
        ext.node_type = Some(c.text.trim().to_owned());
        return;
    }
    if let Some(name) = c.attr("name") {
        let value = c
            .attr("value")
            .or(c.attr("stringValue"))
            .or(c.attr("expression"))
            .map(|s| Value::String(s.to_owned()))
            .or_else(|| {
                c.children.iter().find_map(|k| match k.name.as_str() {
                    "string" | "expression" => Some(Value::String(k.text.trim().to_owned())),
                    "map" | "list" => Some(structured(k)),
                    _ => None,
                })
            })
            .unwrap_or_else(|| Value::String(c.text.trim().to_owned()));
        ext.props.insert(name.to_owned(), value);
        return;
    }
    for k in &c.children {
        collect_props(k, ext);
    }
}

/// Camunda's `<camunda:map>` (entries by `key`) and `<camunda:list>` (values)
/// as JSON; leaves are their text.
fn structured(x: &xml::Element) -> Value {
    let leaf = |k: &xml::Element| match k.children.first() {
        Some(inner) if matches!(inner.name.as_str(), "map" | "list") => structured(inner),
        _ => Value::String(k.text.trim().to_owned()),
    };
    if x.name == "map" {
        Value::Object(
            x.children
                .iter()
                .filter_map(|e| e.attr("key").map(|k| (k.to_owned(), leaf(e))))
                .collect(),
        )
    } else {
        Value::Array(x.children.iter().map(leaf).collect())
    }
}
