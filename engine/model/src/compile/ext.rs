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
    if let Some(name) = c.attr("name") {
        let value = c
            .attr("value")
            .or(c.attr("stringValue"))
            .or(c.attr("expression"))
            .map(str::to_owned)
            .or_else(|| {
                c.children
                    .iter()
                    .find(|k| matches!(k.name.as_str(), "string" | "expression"))
                    .map(|k| k.text.trim().to_owned())
            })
            .unwrap_or_else(|| c.text.trim().to_owned());
        ext.props.insert(name.to_owned(), Value::String(value));
        return;
    }
    for k in &c.children {
        collect_props(k, ext);
    }
}
