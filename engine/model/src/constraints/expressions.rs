//! Expressions, timers and the lexical forms of attribute values: formal
//! expressions in executable processes, expression bodies, URIs, MIME types and
//! ISO 8601 timer values (EXT.004, 010, 012–014, 060, 071–072, 123, 131–134, 145).

use super::index::{Doc, Sink};
use super::lexical::{
    is_iso_cycle, is_iso_datetime, is_iso_duration, is_literal, is_mime, is_number, is_prose,
    is_quoted, is_uri,
};

/// Expression elements an executable process must give as formal expressions,
/// keyed by their parent.
const FORMAL_IN_EXECUTABLE: &[(&str, &str)] = &[
    ("adHocSubProcess", "completionCondition"),
    ("assignment", "from"),
    ("assignment", "to"),
    ("complexGateway", "activationCondition"),
    ("multiInstanceLoopCharacteristics", "loopCardinality"),
    ("multiInstanceLoopCharacteristics", "completionCondition"),
    ("standardLoopCharacteristics", "loopCondition"),
    ("timerEventDefinition", "timeDate"),
    ("timerEventDefinition", "timeDuration"),
    ("timerEventDefinition", "timeCycle"),
    ("sequenceFlow", "conditionExpression"),
];

/// Script languages named by their common short name rather than a MIME type.
const SCRIPT_LANGUAGES: &[&str] = &[
    "javascript",
    "js",
    "ecmascript",
    "groovy",
    "python",
    "jython",
    "ruby",
    "jruby",
    "juel",
    "feel",
    "lua",
    "mvel",
    "kotlin",
    "java",
    "bash",
    "sh",
    "shell",
    "powershell",
    "ps1",
    "bat",
    "cmd",
    "vbs",
    "sql",
    "rhai",
];

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for i in 0..doc.nodes.len() {
        let kind = doc.kind(i);
        if kind.is_empty() {
            continue;
        }
        lexical(s, i, kind);
        let parent = doc.parent(i).map_or("", |p| doc.kind(p));
        if FORMAL_IN_EXECUTABLE.contains(&(parent, kind)) && doc.executable(i) {
            formal(s, i, kind);
        }
        let body_required = doc.formal(i)
            || matches!(kind, "dataPath" | "messagePath" | "transformation")
            || (kind == "condition" && parent == "complexBehaviorDefinition");
        // An empty placeholder in a non-executable model harms nobody.
        let modelled = doc.process_of(i).is_some() && !doc.executable(i);
        if body_required && !modelled && doc.el(i).text.trim().is_empty() {
            let owner = doc.owner(i);
            s.report(
                "EXT.013",
                i,
                format!("the <{kind}> of {owner} is a formal expression without a body"),
            );
        }
        match (parent, kind) {
            ("multiInstanceLoopCharacteristics", "completionCondition") => boolean(s, i, "EXT.071"),
            ("complexBehaviorDefinition", "condition") => boolean(s, i, "EXT.072"),
            _ => {}
        }
        match kind {
            "conditionalEventDefinition" if doc.executable(i) => conditional(s, i),
            "timerEventDefinition" => timer(s, i),
            _ => {}
        }
    }
}

/// Attribute values with a prescribed lexical form.
fn lexical(s: &mut Sink, i: usize, kind: &str) {
    let doc = s.doc;
    let who = doc.label(i);
    if let Some(f) = doc.attr(i, "textFormat") {
        let code = if kind == "textAnnotation" {
            Some("EXT.010")
        } else if kind == "documentation" {
            Some("EXT.004")
        } else {
            None
        };
        if let Some(code) = code.filter(|_| !is_mime(f)) {
            s.report(
                code,
                i,
                format!(
                    "{who} has textFormat=\"{f}\", which is not a MIME type such as text/plain"
                ),
            );
        }
    }
    if let Some(f) = doc.attr(i, "scriptFormat") {
        let known = SCRIPT_LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(f));
        if !is_mime(f) && !known {
            s.report(
                "EXT.145",
                i,
                format!(
                    "{who} has scriptFormat=\"{f}\", which is not a MIME type such as text/x-groovy"
                ),
            );
        }
    }
    if let Some(l) = doc.attr(i, "language").filter(|l| !is_uri(l)) {
        s.report(
            "EXT.014",
            i,
            format!("{who} has language=\"{l}\", which is not a URI"),
        );
    }
    if kind == "transaction"
        && let Some(m) = doc.attr(i, "method").filter(|m| !is_uri(m))
    {
        let msg = format!("{who} has method=\"{m}\", which is not a URI (e.g. ##Compensate)");
        s.report("EXT.060", i, msg);
    }
    if kind == "definitions" {
        for attr in ["expressionLanguage", "typeLanguage"] {
            if let Some(v) = doc.attr(i, attr).filter(|v| !is_uri(v)) {
                s.report(
                    "XSD",
                    i,
                    format!("{who} has {attr}=\"{v}\", which is not a URI"),
                );
            }
        }
    }
}

/// In an executable process an expression must be formal (EXT.012). An untyped
/// sequence flow condition is accepted unless its body reads as prose: engines
/// universally evaluate untyped conditions in their default language.
fn formal(s: &mut Sink, e: usize, kind: &str) {
    let doc = s.doc;
    if doc.formal(e) {
        return;
    }
    // Vendor tools leave out `xsi:type` (Flowable's timers and loops); their
    // engines read every untyped expression in the default language.
    let untyped_ok = kind == "conditionExpression" || doc.vendor;
    if untyped_ok && !reads_as_prose(doc, doc.el(e).text.trim()) {
        return;
    }
    let owner = doc.owner(e);
    s.report("EXT.012", e, format!("the <{kind}> of {owner} is a natural-language expression in an executable process; give a formal expression (xsi:type=\"tFormalExpression\") or mark the process isExecutable=\"false\""));
}

/// Prose rather than an expression. In vendor documents, words that Baton's
/// expression language reads (`not done`, `a and b`) are an expression.
fn reads_as_prose(doc: &Doc, body: &str) -> bool {
    is_prose(body) && !(doc.vendor && baton_expr::parse(body).is_ok())
}

/// A condition that is a number or string literal cannot be a boolean.
fn boolean(s: &mut Sink, e: usize, code: &str) {
    let doc = s.doc;
    let body = doc.el(e).text.trim();
    if is_number(body) || is_quoted(body) {
        let owner = doc.owner(e);
        s.report(
            code,
            e,
            format!(
                "the <{}> of {owner} is `{body}`, which is not a boolean condition",
                doc.kind(e)
            ),
        );
    }
}

fn conditional(s: &mut Sink, d: usize) {
    let doc = s.doc;
    let owner = doc.owner(d);
    let ok = doc.kid(d, "condition").is_some_and(|c| {
        let body = doc.el(c).text.trim();
        (doc.formal(c) || (doc.vendor && !reads_as_prose(doc, body))) && !body.is_empty()
    });
    if !ok {
        s.report("EXT.123", d, format!("the conditional trigger of {owner} needs a formal <condition> expression in an executable process"));
    }
}

fn timer(s: &mut Sink, t: usize) {
    let doc: &Doc = s.doc;
    let owner = doc.owner(t);
    let parts: Vec<usize> = doc
        .kids(t, &["timeDate", "timeDuration", "timeCycle"])
        .collect();
    if parts.len() > 1 {
        s.report("EXT.131", t, format!("the timer of {owner} has {} of timeDate, timeDuration and timeCycle; use exactly one", parts.len()));
    }
    for p in parts {
        let body = doc.el(p).text.trim();
        // Only literal values can be judged; anything else is an expression to evaluate.
        if !is_literal(body) {
            continue;
        }
        let (ok, code, form) = match doc.kind(p) {
            "timeDate" => (
                is_iso_datetime(body),
                "EXT.132",
                "an ISO 8601 date and time",
            ),
            "timeDuration" => (is_iso_duration(body), "EXT.134", "an ISO 8601 duration"),
            _ => (
                is_iso_cycle(body),
                "EXT.133",
                "an ISO 8601 repeating interval",
            ),
        };
        if !ok {
            s.report(
                code,
                p,
                format!(
                    "the <{}> of {owner} is `{body}`, which is not {form}",
                    doc.kind(p)
                ),
            );
        }
    }
}
