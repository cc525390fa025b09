//! Vendor-authored documents: exports of Camunda Modeler, Flowable, Activiti,
//! bpmn-js or Baton's own editor. Such documents are meant to run unchanged, so
//! the constraint checker reads a few rules the way those tools do (see
//! [`crate::constraints`] for the list). The decision comes from the document
//! itself, never from outside, so the same file always gets the same verdict.

use crate::xml::Element;

/// Baton's extension namespace (`xmlns:baton="…"`).
pub const BATON_NS: &str = "http://baton.dev/schema/bpmn";
pub const FLOWABLE_NS: &str = "http://flowable.org/bpmn";
pub const ACTIVITI_NS: &str = "http://activiti.org/bpmn";
pub const CAMUNDA_NS: &str = "http://camunda.org/schema/1.0/bpmn";
/// Camunda 8 (Zeebe).
pub const ZEEBE_NS: &str = "http://camunda.org/schema/zeebe/1.0";

/// Extension namespaces whose use marks a document as vendor-authored.
pub const VENDOR_NAMESPACES: &[&str] = &[CAMUNDA_NS, FLOWABLE_NS, ACTIVITI_NS, BATON_NS, ZEEBE_NS];

/// `exporter` values (prefixes) of the tools whose exports are vendor-authored.
const EXPORTERS: &[&str] = &[
    "Camunda Modeler",
    "Camunda Web Modeler",
    "bpmn-js",
    "Flowable",
];

pub fn is_vendor_ns(ns: Option<&str>) -> bool {
    ns.is_some_and(|ns| VENDOR_NAMESPACES.contains(&ns))
}

/// True when an element or attribute anywhere in the document is in one of the
/// [`VENDOR_NAMESPACES`], or `<definitions exporter>` names one of the tools.
pub fn is_vendor_authored(root: &Element) -> bool {
    let exporter = root.attr("exporter").map_or("", str::trim);
    if EXPORTERS.iter().any(|e| exporter.starts_with(e)) {
        return true;
    }
    // Iterative: trees built by hand may be deeper than the parser allows.
    let mut stack = vec![root];
    while let Some(el) = stack.pop() {
        if is_vendor_ns(el.ns.as_deref()) || el.attrs.iter().any(|a| is_vendor_ns(a.ns.as_deref()))
        {
            return true;
        }
        stack.extend(el.children.iter());
    }
    false
}

/// The input collection a vendor gives a multi-instance activity in place of
/// `loopDataInputRef`: `camunda:collection` / `flowable:collection` /
/// `activiti:collection`, or Zeebe's `<zeebe:loopCharacteristics inputCollection>`.
pub fn mi_collection(mi: &Element) -> Option<&str> {
    vendor_attr(mi, "collection").or_else(|| zeebe_loop(mi, "inputCollection"))
}

/// The per-instance variable a vendor names for a multi-instance activity
/// (`camunda:elementVariable`, Zeebe's `inputElement`).
pub fn mi_element_variable(mi: &Element) -> Option<&str> {
    vendor_attr(mi, "elementVariable").or_else(|| zeebe_loop(mi, "inputElement"))
}

fn vendor_attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|a| a.name == name && is_vendor_ns(a.ns.as_deref()))
        .map(|a| a.value.as_str())
}

fn zeebe_loop<'e>(mi: &'e Element, attr: &str) -> Option<&'e str> {
    mi.bpmn_child("extensionElements")?
        .children
        .iter()
        .find(|c| c.is(ZEEBE_NS, "loopCharacteristics"))?
        .attr(attr)
}
