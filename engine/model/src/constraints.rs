//! BPMN 2.0 specification constraints checked on the raw XML tree.
