//! Every BPMN file of the external corpora (MIWG reference models, the test
//! models of SpiffWorkflow, bpmn-elements and bpmn-engine) goes through
//! `baton_model::compile`. Each must either compile or be rejected cleanly:
//! at least one diagnostic, each with a code, a real position (that of an
//! element of the document) and, when that element has an id, the id. A
//! panic fails the test with the file's name.
//!
//! `BATON_CORPUS` points at another corpus root; `CORPUS_VERBOSE=1` prints
//! every rejection. Prints a summary per suite and `corpus: N passed, N failed`.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use baton_model::xml::{self, BPMN_NS};
use baton_model::{Diagnostic, Rejected, compile};

fn corpus() -> PathBuf {
    std::env::var_os("BATON_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

const SUITES: &[&str] = &[
    "bpmn-miwg-test-suite",
    "SpiffWorkflow",
    "bpmn-elements",
    "bpmn-engine",
];

/// Notation the compiler must accept: it describes, but does not execute.
const NOTATION: &[&str] = &[
    "laneSet",
    "lane",
    "dataObject",
    "dataObjectReference",
    "dataStore",
    "dataStoreReference",
    "textAnnotation",
    "association",
    "group",
    "collaboration",
    "participant",
    "messageFlow",
    "conversation",
    "callConversation",
    "subConversation",
    "conversationLink",
    "dataInputAssociation",
    "dataOutputAssociation",
    "ioSpecification",
    "property",
];

/// `.bpmn` / `.bpmn2` / `.xml` files under `dir` whose text declares the BPMN model namespace.
fn bpmn_files(dir: &Path) -> Vec<(PathBuf, String)> {
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
            } else if p
                .extension()
                .is_some_and(|x| x == "bpmn" || x == "bpmn2" || x == "xml")
                && let Ok(bytes) = std::fs::read(&p)
            {
                let src = String::from_utf8_lossy(&bytes).into_owned();
                if src.contains(BPMN_NS) {
                    out.push((p, src));
                }
            }
        }
    }
    out.sort();
    out
}

enum Outcome {
    Compiled,
    Rejected(Vec<Diagnostic>),
    Failed(String),
}

/// Ids and names of every element, by start position.
fn elements_by_pos(src: &str) -> HashMap<(u32, u32), (String, Option<String>)> {
    let mut out = HashMap::new();
    if let Ok(root) = xml::parse(src) {
        root.walk(&mut |e| {
            out.insert(
                (e.pos.line, e.pos.col),
                (e.name.clone(), e.attr("id").map(str::to_owned)),
            );
        });
    }
    out
}

/// What is wrong with a rejection's diagnostics, if anything.
fn malformed(src: &str, diags: &[Diagnostic]) -> Option<String> {
    if diags.is_empty() {
        return Some("rejected without a diagnostic".into());
    }
    let at = elements_by_pos(src);
    for d in diags {
        if d.code.trim().is_empty() {
            return Some(format!("diagnostic without a code: {d}"));
        }
        if d.pos.line == 0 || d.pos.col == 0 {
            return Some(format!("diagnostic without a position: {d}"));
        }
        if d.code == "xml" && at.is_empty() {
            continue; // the document itself is not well-formed
        }
        match at.get(&(d.pos.line, d.pos.col)) {
            None => return Some(format!("diagnostic not at an element: {d}")),
            Some((_, Some(id))) if d.element.as_deref() != Some(id.trim()) => {
                return Some(format!(
                    "diagnostic at element `{id}` does not name it: {d}"
                ));
            }
            Some(_) => {}
        }
    }
    None
}

fn run(src: &str) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| compile(src))) {
        Ok(Ok(_)) => Outcome::Compiled,
        Ok(Err(Rejected(diags))) => match malformed(src, &diags) {
            Some(why) => Outcome::Failed(why),
            None => Outcome::Rejected(diags),
        },
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Outcome::Failed(format!("panicked: {msg}"))
        }
    }
}

fn short(diags: &[Diagnostic], n: usize) -> String {
    let mut s: Vec<String> = diags.iter().take(n).map(|d| format!("      {d}")).collect();
    if diags.len() > n {
        s.push(format!("      … {} more", diags.len() - n));
    }
    s.join("\n")
}

#[test]
fn corpus_models_compile_or_are_rejected_cleanly() {
    let base = corpus().join("bpmn");
    if !base.is_dir() {
        eprintln!("corpus not found under {}; skipped", base.display());
        return;
    }
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some();
    let (mut passed, mut failed) = (0usize, Vec::new());
    let mut notation_rejected = Vec::new();
    for suite in SUITES {
        let files = bpmn_files(&base.join(suite));
        let (mut compiled, mut rejected) = (0usize, 0usize);
        let mut codes: BTreeMap<String, usize> = BTreeMap::new();
        let mut lines = Vec::new();
        for (path, src) in &files {
            let name = path
                .strip_prefix(&base)
                .unwrap_or(path)
                .display()
                .to_string();
            match run(src) {
                Outcome::Compiled => {
                    compiled += 1;
                    passed += 1;
                    if *suite == "bpmn-miwg-test-suite" {
                        lines.push(format!("    compiled  {name}"));
                    }
                }
                Outcome::Rejected(diags) => {
                    rejected += 1;
                    passed += 1;
                    let mut seen: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
                    seen.sort_unstable();
                    seen.dedup();
                    for c in seen {
                        *codes.entry(c.to_owned()).or_default() += 1;
                    }
                    let at = elements_by_pos(src);
                    for d in diags.iter().filter(|d| d.code == "unsupported") {
                        if let Some((el, _)) = at.get(&(d.pos.line, d.pos.col))
                            && NOTATION.contains(&el.as_str())
                        {
                            notation_rejected.push(format!("{name}: {d}"));
                        }
                    }
                    if *suite == "bpmn-miwg-test-suite" || verbose {
                        lines.push(format!(
                            "    rejected  {name}\n{}",
                            short(&diags, if verbose { 50 } else { 4 })
                        ));
                    }
                }
                Outcome::Failed(why) => {
                    lines.push(format!("    FAILED    {name}: {why}"));
                    failed.push(format!("{name}: {why}"));
                }
            }
        }
        let mut top: Vec<(String, usize)> = codes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let top: Vec<String> = top
            .iter()
            .take(8)
            .map(|(c, n)| format!("{c}×{n}"))
            .collect();
        eprintln!(
            "{suite}: {} files, {compiled} compiled, {rejected} rejected; files per code: {}",
            files.len(),
            top.join(" ")
        );
        for l in lines {
            eprintln!("{l}");
        }
    }
    eprintln!("corpus: {passed} passed, {} failed", failed.len());
    assert!(failed.is_empty(), "corpus failures:\n{}", failed.join("\n"));
    assert!(
        notation_rejected.is_empty(),
        "notation-only elements rejected as unsupported:\n{}",
        notation_rejected.join("\n")
    );
}
