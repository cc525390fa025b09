//! Collaborations, conversations and choreographies (EXT.027, 029–030, 032–033).

use super::index::Sink;

/// Elements a global conversation must not contain.
const NOT_IN_GLOBAL_CONVERSATION: &[&str] = &[
    "conversation",
    "subConversation",
    "callConversation",
    "conversationNode",
    "participantAssociation",
    "messageFlowAssociation",
    "conversationAssociation",
    "association",
    "group",
    "textAnnotation",
];

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for i in 0..doc.nodes.len() {
        match doc.kind(i) {
            "choreography" | "globalConversation" if doc.kid(i, "choreographyRef").is_some() => {
                s.report(
                    "EXT.027",
                    i,
                    format!(
                        "{} references a choreography; only collaborations may",
                        doc.label(i)
                    ),
                );
            }
            "participantMultiplicity" => multiplicity(s, i),
            "collaboration" => closed(s, i),
            _ => {}
        }
        if doc.kind(i) == "globalConversation" {
            for c in doc.kids(i, NOT_IN_GLOBAL_CONVERSATION) {
                s.report("EXT.032", c, format!("{} is inside the global conversation {}; it must not contain conversation nodes, associations or artifacts", doc.label(c), doc.label(i)));
            }
        }
    }
}

fn multiplicity(s: &mut Sink, m: usize) {
    let doc = s.doc;
    let who = doc.owner(m);
    let read = |attr: &str, default: i64| -> Option<i64> {
        match doc.attr(m, attr) {
            None => Some(default),
            Some(v) => v.parse().ok(),
        }
    };
    let (Some(min), Some(max)) = (read("minimum", 0), read("maximum", 1)) else {
        s.report(
            "XSD",
            m,
            format!("the multiplicity of {who} has a non-integer minimum or maximum"),
        );
        return;
    };
    if min < 0 {
        s.report(
            "EXT.029",
            m,
            format!("the multiplicity of {who} has minimum {min}; it must not be negative"),
        );
    }
    if max < 1 || max < min {
        s.report("EXT.030", m, format!("the multiplicity of {who} has maximum {max}; it must be at least 1 and at least the minimum {min}"));
    }
}

/// A collaboration and the choreography it references agree on `isClosed`.
fn closed(s: &mut Sink, c: usize) {
    let doc = s.doc;
    let mine = doc.flag(c, "isClosed", false);
    for ch in doc.ref_texts(c, "choreographyRef") {
        if doc.kind(ch) != "choreography" {
            continue;
        }
        let theirs = doc.flag(ch, "isClosed", false);
        if mine != theirs {
            s.report("EXT.033", c, format!("{} has isClosed={mine} but the choreography {} it references has isClosed={theirs}", doc.label(c), doc.label(ch)));
        }
    }
}
