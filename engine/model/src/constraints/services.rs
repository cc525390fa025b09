//! Data typing across operations, messages, called elements and multi-instance
//! loops (EXT.044–045, 048, 052, 063–065, 069–070).

use super::index::{Doc, ItemRef, Sink};

pub(super) fn check(s: &mut Sink) {
    let doc = s.doc;
    for i in 0..doc.nodes.len() {
        match doc.kind(i) {
            "serviceTask" => service(s, i),
            "sendTask" => message_task(s, i, "dataInput", "EXT.048"),
            "receiveTask" => message_task(s, i, "dataOutput", "EXT.052"),
            "callActivity" => call(s, i),
            "multiInstanceLoopCharacteristics" if doc.executable(i) => {
                loop_item(s, i, "loopDataOutputRef", "outputDataItem", "EXT.069");
                loop_item(s, i, "loopDataInputRef", "inputDataItem", "EXT.070");
            }
            _ => {}
        }
        if doc.kid(i, "supportedInterfaceRef").is_some() {
            bindings(s, i);
        }
    }
}

/// `dataInput`s or `dataOutput`s declared in the ioSpecification of `a`.
fn io<'a>(doc: &'a Doc, a: usize, kind: &'a str) -> impl Iterator<Item = usize> + 'a {
    doc.kids(a, &["ioSpecification"]).flat_map(move |io| {
        doc.children(io)
            .iter()
            .copied()
            .filter(move |&c| doc.kind(c) == kind)
    })
}

/// The item definition of an operation's in- or out-message.
fn message_item<'a>(doc: &Doc<'a>, operation: usize, which: &str) -> Option<ItemRef<'a>> {
    let c = doc.kid(operation, which)?;
    let m = doc.ref_text(c)?;
    doc.attr(m, "itemRef").map(|r| ItemRef { at: m, r })
}

fn item_subject<'a>(doc: &Doc<'a>, d: usize) -> Option<ItemRef<'a>> {
    doc.attr(d, "itemSubjectRef").map(|r| ItemRef { at: d, r })
}

fn service(s: &mut Sink, t: usize) {
    let doc = s.doc;
    let Some(op) = doc.ref_attr(t, "operationRef") else {
        return;
    };
    if doc.kind(op) != "operation" {
        return;
    }
    for (kind, which, code) in [
        ("dataInput", "inMessageRef", "EXT.044"),
        ("dataOutput", "outMessageRef", "EXT.045"),
    ] {
        let Some(expected) = message_item(doc, op, which) else {
            continue;
        };
        let typed: Vec<ItemRef> = io(doc, t, kind)
            .filter_map(|d| item_subject(doc, d))
            .collect();
        if !typed.is_empty() && !typed.iter().any(|&i| doc.same_item(i, expected)) {
            let names: Vec<&str> = typed.iter().map(|i| i.r).collect();
            s.report(code, t, format!("{}: its {kind} has item `{}`, but the operation's {which} carries `{expected}`", doc.label(t), names.join("`, `")));
        }
    }
}

fn message_task(s: &mut Sink, t: usize, kind: &str, code: &str) {
    let doc = s.doc;
    let Some(expected) = doc
        .ref_attr(t, "messageRef")
        .and_then(|m| doc.attr(m, "itemRef").map(|r| ItemRef { at: m, r }))
    else {
        return;
    };
    for d in io(doc, t, kind) {
        let ok = item_subject(doc, d).is_some_and(|i| doc.same_item(i, expected));
        if !ok {
            s.report(
                code,
                d,
                format!(
                    "{} of {} must carry the message's item `{expected}`",
                    doc.label(d),
                    doc.label(t)
                ),
            );
        }
    }
}

/// A call activity's ioSpecification mirrors the called element's (EXT.063).
fn call(s: &mut Sink, c: usize) {
    let doc = s.doc;
    let Some(called) = doc.ref_attr(c, "calledElement") else {
        return;
    };
    // Only two declared interfaces can be compared; a missing one is underspecified.
    if doc.kid(c, "ioSpecification").is_none() || doc.kid(called, "ioSpecification").is_none() {
        return;
    }
    let shape = |n: usize| -> [usize; 6] {
        let sets = |set: &str, refs: &str| -> (usize, usize) {
            let sets: Vec<usize> = doc
                .kids(n, &["ioSpecification"])
                .flat_map(|io| doc.kids(io, &[set]).collect::<Vec<_>>())
                .collect();
            let refs = sets.iter().map(|&x| doc.texts(x, refs).len()).sum();
            (sets.len(), refs)
        };
        let (ins, in_refs) = sets("inputSet", "dataInputRefs");
        let (outs, out_refs) = sets("outputSet", "dataOutputRefs");
        [
            io(doc, n, "dataInput").count(),
            io(doc, n, "dataOutput").count(),
            ins,
            outs,
            in_refs,
            out_refs,
        ]
    };
    let who = doc.label(c);
    let callee = doc.label(called);
    if shape(c) != shape(called) {
        s.report("EXT.063", c, format!("{who}: its ioSpecification (data inputs, outputs and sets) does not match that of the called {callee}"));
        return;
    }
    for kind in ["dataInput", "dataOutput"] {
        for (mine, theirs) in io(doc, c, kind).zip(io(doc, called, kind)) {
            if let (Some(x), Some(y)) = (item_subject(doc, mine), item_subject(doc, theirs))
                && !doc.same_item(x, y)
            {
                s.report("EXT.063", mine, format!("{who}: {} has item `{x}`, but the matching {kind} of the called {callee} has `{y}`", doc.label(mine)));
            }
        }
    }
}

/// A callable element exposed as a service binds its data to the operations (EXT.064, EXT.065).
fn bindings(s: &mut Sink, e: usize) {
    let doc = s.doc;
    let binds: Vec<usize> = doc.kids(e, &["ioBinding"]).collect();
    if binds.is_empty() {
        s.report(
            "EXT.064",
            e,
            format!(
                "{} supports an interface, so it needs at least one ioBinding",
                doc.label(e)
            ),
        );
    }
    for b in binds {
        let Some(op) = doc.ref_attr(b, "operationRef") else {
            continue;
        };
        for (attr, which) in [
            ("inputDataRef", "inMessageRef"),
            ("outputDataRef", "outMessageRef"),
        ] {
            let data = doc.ref_attr(b, attr).and_then(|d| item_subject(doc, d));
            if let (Some(d), Some(m)) = (data, message_item(doc, op, which))
                && !doc.same_item(d, m)
            {
                s.report(
                    "EXT.065",
                    b,
                    format!(
                        "{}: `{attr}` has item `{d}`, but the operation's {which} carries `{m}`",
                        doc.label(e)
                    ),
                );
            }
        }
    }
}

/// The per-instance data item is the scalar of the loop's collection (EXT.069, EXT.070).
fn loop_item(s: &mut Sink, m: usize, collection: &str, item: &str, code: &str) {
    let doc = s.doc;
    let (Some(c), Some(i)) = (doc.kid(m, collection), doc.kid(m, item)) else {
        return;
    };
    let Some(item_def) = item_subject(doc, i) else {
        return;
    };
    let who = doc.owner(m);
    if doc
        .resolve(i, item_def.r)
        .is_some_and(|d| doc.flag(d, "isCollection", false))
    {
        s.report(code, i, format!("{who}: <{item}> has the collection item `{item_def}`; it must be the scalar element type"));
        return;
    }
    let Some(loop_def) = doc.ref_text(c).and_then(|d| item_subject(doc, d)) else {
        return;
    };
    if !doc.same_item(loop_def, item_def) {
        s.report(code, i, format!("{who}: <{item}> has item `{item_def}`, which is not the element type of the loop collection `{loop_def}`"));
    }
}
