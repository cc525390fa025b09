//! Script tasks end to end: a `JobInput` in, a `JobResult` out.

use std::time::{Duration, Instant};

use baton_core::Failure;
use baton_runtime::job::{JobInput, JobResult};
use baton_runtime::script::{Limits, ScriptEngine};
use serde_json::{Map, Value, json};

fn job(format: &str, script: &str, vars: Value) -> JobInput {
    let vars = match vars {
        Value::Object(map) => map,
        other => panic!("vars must be an object, got {other}"),
    };
    JobInput {
        id: "i1:1:1".into(),
        instance_id: "i1".into(),
        exec: 1,
        attempt: 1,
        element_id: "Task_1".into(),
        kind: format!("script:{format}"),
        script: Some(script.into()),
        props: Map::new(),
        attrs: Map::new(),
        vars,
        outputs: Map::new(),
        name: String::new(),
    }
}

fn run_with(engine: &ScriptEngine, format: &str, script: &str, vars: Value) -> JobResult {
    engine.run(&job(format, script, vars))
}

fn run(format: &str, script: &str, vars: Value) -> JobResult {
    run_with(&ScriptEngine::new(Limits::default()), format, script, vars)
}

/// The written variables, or a panic naming the script.
fn written(result: &JobResult, script: &str) -> Value {
    match result {
        JobResult::Done { vars, .. } => Value::Object(vars.clone()),
        JobResult::Failed(f) => panic!("{script:?} failed: {f:?}"),
    }
}

fn output(result: &JobResult, script: &str) -> Option<Value> {
    match result {
        JobResult::Done { output, .. } => output.clone(),
        JobResult::Failed(f) => panic!("{script:?} failed: {f:?}"),
    }
}

fn technical(result: &JobResult, script: &str) -> String {
    match result {
        JobResult::Failed(Failure::Technical { message }) => message.clone(),
        other => panic!("{script:?}: expected a technical failure, got {other:?}"),
    }
}

#[test]
fn every_json_type_reads_unchanged_and_is_not_written_back() {
    let vars = json!({
        "n": null, "b": true, "i": -42, "big": 9007199254740993_i64, "f": 2.5,
        "s": "héllo", "a": [1, "two", null, [3.5]], "o": {"k": {"deep": [false]}, "my-key": 1},
    });
    let script = "output([n, b, i, big, f, s, a, o, type_of(i), type_of(f), type_of(n)]);";
    let result = run("rhai", script, vars.clone());
    assert_eq!(written(&result, script), json!({}));
    let v = &vars;
    let expect = json!([
        v["n"], v["b"], v["i"], v["big"], v["f"], v["s"], v["a"], v["o"], "i64", "f64", "()"
    ]);
    assert_eq!(output(&result, script), Some(expect));
}

#[test]
fn variables_written_back() {
    let cases = [
        // (script, vars in, vars written)
        ("x = x + 1;", json!({"x": 1}), json!({"x": 2})),
        ("f = f * 2.0;", json!({"f": 1.5}), json!({"f": 3.0})),
        ("s += \"!\";", json!({"s": "a"}), json!({"s": "a!"})),
        ("b = !b;", json!({"b": true}), json!({"b": false})),
        ("a.push(3);", json!({"a": [1, 2]}), json!({"a": [1, 2, 3]})),
        (
            "o.k = #{ z: [] };",
            json!({"o": {}}),
            json!({"o": {"k": {"z": []}}}),
        ),
        ("n = ();", json!({"n": 1}), json!({"n": null})),
        ("n = 5;", json!({"n": null}), json!({"n": 5})),
        ("x = x;", json!({"x": {"a": 1}}), json!({})),
        ("let y = 3;", json!({}), json!({"y": 3})),
        ("let u;", json!({}), json!({})),
        ("let u = 1; u = ();", json!({}), json!({})),
        ("set(\"u\", ());", json!({}), json!({"u": null})),
        ("const C = \"c\";", json!({}), json!({"C": "c"})),
        ("z = 1;", json!({}), json!({"z": 1})),
        ("if false { w = 1 }", json!({}), json!({})),
        ("if true { q = 1 }", json!({}), json!({"q": 1})),
        ("{ let inner = 1; }", json!({}), json!({})),
        (
            "fn helper() { let h = 1; h } helper();",
            json!({}),
            json!({}),
        ),
        ("let x = x;", json!({"x": 1}), json!({})),
        ("let x = 5;", json!({"x": 1}), json!({"x": 5})),
        (
            "let i = 0; while i < 3 { i += 1; }",
            json!({}),
            json!({"i": 3}),
        ),
        ("let f = |x| x; let r = 0..3;", json!({}), json!({})),
        (
            "y = vars[\"my-var\"] + 1;",
            json!({"my-var": 1}),
            json!({"y": 2}),
        ),
        ("set(\"my-var\", 1);", json!({}), json!({"my-var": 1})),
        ("x = 2; set(\"x\", 3);", json!({"x": 0}), json!({"x": 3})),
        (
            "set(\"vars\", vars.len());",
            json!({"vars": 1, "a": 2}),
            json!({"vars": 2}),
        ),
        ("let c = 'c';", json!({}), json!({"c": "c"})),
    ];
    for (script, vars, expect) in cases {
        assert_eq!(
            written(&run("rhai", script, vars), script),
            expect,
            "{script}"
        );
    }
}

#[test]
fn outputs() {
    let cases = [
        ("output(#{a: 1});", Some(json!({"a": 1}))),
        ("output(());", Some(json!(null))),
        (
            "print(\"hi\"); print(1);",
            Some(json!({"log": ["hi", "1"]})),
        ),
        ("debug(\"d\");", Some(json!({"log": ["[debug 1:1] \"d\""]}))),
        ("1 + 2", Some(json!({"result": 3}))),
        ("x = 1;", None),
        (
            "console.log(\"a\", 1); 5",
            Some(json!({"log": ["a 1"], "result": 5})),
        ),
        ("print(\"x\"); output(7);", Some(json!(7))),
        ("return 4; output(5);", Some(json!({"result": 4}))),
        ("exit(6);", Some(json!({"result": 6}))),
    ];
    for (script, expect) in cases {
        assert_eq!(
            output(&run("rhai", script, json!({})), script),
            expect,
            "{script}"
        );
    }
}

#[test]
fn print_log_is_bounded() {
    let script = "for i in 0..5000 { print(i); }";
    let log = output(&run("rhai", script, json!({})), script).expect("log")["log"].clone();
    let lines = log.as_array().expect("array");
    assert_eq!(lines.len(), 1001);
    assert_eq!(lines[1000], json!("… log truncated"));
}

#[test]
fn bpmn_errors() {
    let cases = [
        (
            "throw_bpmn_error(\"E1\", \"bad input\");",
            "E1",
            "bad input",
        ),
        ("throw_bpmn_error(\"E0\");", "E0", ""),
        (
            "fn f() { throw_bpmn_error(\"E2\", \"deep\") } f();",
            "E2",
            "deep",
        ),
        (
            "try { throw_bpmn_error(\"E3\", \"x\") } catch (e) { throw e }",
            "E3",
            "x",
        ),
    ];
    for (script, code, message) in cases {
        let expect = JobResult::bpmn(code, message);
        assert_eq!(run("rhai", script, json!({})), expect, "{script}");
    }
    let caught =
        "try { throw_bpmn_error(\"E4\", \"m\") } catch (e) { output([e.code, e.message]) }";
    assert_eq!(
        output(&run("rhai", caught, json!({})), caught),
        Some(json!(["E4", "m"]))
    );
}

#[test]
fn technical_errors_name_the_position() {
    let cases = [
        // (script, substrings of the message)
        (
            "let a = 1;\nlet b = nope + 1;",
            &["Task_1", "at 2:9", "Variable not found: nope"][..],
        ),
        ("let a = 1;\n  throw \"boom\";", &["at 2:3", "boom"]),
        ("let x = 1 + \"a\" * 2;", &["at 1:", "Function not found"]),
        (
            "fn f(x) {\n  x.foo()\n}\nf(1);",
            &["at 2:5", "foo", "in `f` called at 4:1"],
        ),
        (
            "throw_bpmn_error(\"\", \"m\");",
            &["code must not be empty"],
        ),
        ("x = 1 +;", &["syntax error at 1:"]),
        (
            "let s = \"a\"; s.no_such_method();",
            &["Function not found: no_such_method"],
        ),
        ("vars = 1;", &["vars"]),
        ("vars.x = 1;", &["vars"]),
        ("set(\"r\", 0..3);", &["set(\"r\", …)", "no JSON form"]),
        ("output(|x| x);", &["output(…)", "no JSON form"]),
    ];
    for (script, parts) in cases {
        let message = technical(&run("rhai", script, json!({"x": 1})), script);
        for part in parts {
            assert!(
                message.contains(part),
                "{script:?}: {message:?} lacks {part:?}"
            );
        }
    }
}

#[test]
fn nothing_outside_the_sandbox_is_reachable() {
    let cases = [
        ("open(\"x\")", "Function not found: open"),
        (
            "read_file(\"/etc/passwd\")",
            "Function not found: read_file",
        ),
        ("env(\"HOME\")", "Function not found: env"),
        ("system(\"ls\")", "Function not found: system"),
        ("import \"std\" as s;", "syntax error"),
        ("eval(\"1\")", "syntax error"),
        ("sleep(1000)", "sleep is not available"),
        ("sleep(0.5)", "sleep is not available"),
    ];
    for (script, part) in cases {
        let message = technical(&run("rhai", script, json!({})), script);
        assert!(
            message.contains(part),
            "{script:?}: {message:?} lacks {part:?}"
        );
    }
}

#[test]
fn limits_stop_runaway_scripts() {
    let ops = Limits {
        max_operations: 10_000,
        max_time: Duration::from_secs(60),
        ..Limits::default()
    };
    let time = Limits {
        max_operations: 0,
        max_time: Duration::from_millis(50),
        ..Limits::default()
    };
    let small = Limits {
        max_string: 1000,
        max_array: 100,
        max_map: 100,
        ..Limits::default()
    };
    let cases = [
        (&ops, "loop { }", "operation limit (10000 operations)"),
        (&ops, "let i = 0; while true { i += 1; }", "operation limit"),
        (&time, "loop { }", "time limit (50ms)"),
        (&time, "let x = 0; loop { x += 1; }", "time limit"),
        (
            &small,
            "let s = \"x\"; loop { s += s; }",
            "Length of string exceeds the size limit",
        ),
        (
            &small,
            "let a = []; loop { a.push(1); }",
            "array/BLOB exceeds the size limit",
        ),
        (
            &small,
            "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; m.len(); }",
            "map exceeds the size limit",
        ),
        (
            &small,
            "let a = []; loop { a = [a]; }",
            "exceeds the size limit",
        ),
        (
            &Limits::default(),
            "fn f(n) { f(n + 1) } f(0)",
            "call depth limit (32 nested calls)",
        ),
    ];
    for (limits, script, part) in cases {
        let started = Instant::now();
        let message = technical(
            &run_with(
                &ScriptEngine::new(limits.clone()),
                "rhai",
                script,
                json!({}),
            ),
            script,
        );
        assert!(
            message.contains(part),
            "{script:?}: {message:?} lacks {part:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{script:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn huge_input_strings_are_refused_when_the_script_builds_on_them() {
    let small = ScriptEngine::new(Limits {
        max_string: 10,
        ..Limits::default()
    });
    let script = "s = s + \"!\";";
    let message = technical(
        &run_with(&small, "rhai", script, json!({"s": "0123456789"})),
        script,
    );
    assert!(message.contains("Length of string exceeds"), "{message}");
}

#[test]
fn javascript_snippets() {
    let cases = [
        (
            "var total = price * qty;",
            json!({"price": 2, "qty": 3}),
            json!({"total": 6}),
        ),
        (
            "if (amount > 1000) { approval = 'manager'; } else { approval = 'auto'; }",
            json!({"amount": 5000}),
            json!({"approval": "manager"}),
        ),
        (
            "var o = {name: 'x', tags: ['a'], n: {m: null}};",
            json!({}),
            json!({"o": {"name": "x", "tags": ["a"], "n": {"m": null}}}),
        ),
        ("x = null;", json!({"x": 1}), json!({"x": null})),
        (
            "if (a === 1 && b !== 2) { r = true; }",
            json!({"a": 1, "b": 3}),
            json!({"r": true}),
        ),
        ("var n = 0; n++; n++; n--;", json!({}), json!({"n": 1})),
        (
            "execution.setVariable('k', execution.getVariable('v') + 1);",
            json!({"v": 1}),
            json!({"k": 2}),
        ),
        (
            "var s = name.toUpperCase() + name.length;",
            json!({"name": "ab"}),
            json!({"s": "AB2"}),
        ),
        (
            "var t = ' x '.trim(); var i = 'abc'.indexOf('c'); var p = parseInt('42');",
            json!({}),
            json!({"t": "x", "i": 2, "p": 42}),
        ),
        (
            "function twice(v) { return v * 2; }\nresult = twice(21);",
            json!({}),
            json!({"result": 42}),
        ),
        (
            "// a comment with 'quotes'\nvar greeting = `hi ${who}`; /* var x = 1 */",
            json!({"who": "bo"}),
            json!({"greeting": "hi bo"}),
        ),
        (
            "let ok = items.length > 0 && items[0].id == 'a';",
            json!({"items": [{"id": "a"}]}),
            json!({"ok": true}),
        ),
    ];
    for format in ["javascript", "JavaScript", "js", "ecmascript"] {
        for (script, vars, expect) in &cases {
            let result = run(format, script, vars.clone());
            assert_eq!(written(&result, script), *expect, "{format}: {script}");
        }
    }
    let logged = "console.log('n =', 1);";
    assert_eq!(
        output(&run("js", logged, json!({})), logged),
        Some(json!({"log": ["n = 1"]}))
    );
    let thrown = "throw new Error('nope');";
    assert!(technical(&run("js", thrown, json!({})), thrown).contains("nope"));
}

#[test]
fn javascript_that_is_not_rhai_explains_why() {
    let cases = [
        "for (var i = 0; i < 3; i++) { }",
        "var x = a ? 1 : 2;",
        "x = 1\ny = 2",
        "var t = typeof x;",
    ];
    for script in cases {
        let message = technical(&run("javascript", script, json!({})), script);
        assert!(
            message.contains("Baton runs JavaScript-format scripts with Rhai"),
            "{message}"
        );
        assert!(message.contains("syntax error at "), "{message}");
    }
    let engine = ScriptEngine::new(Limits::default());
    let err = engine
        .compile("javascript", "x = 1\ny = 2")
        .expect_err("not Rhai");
    assert!(err.contains("at 2:1"), "{err}");
}

#[test]
fn formats_and_job_shapes() {
    let supported = [
        ("rhai", true),
        ("Rhai", true),
        ("javascript", true),
        ("JS", true),
        ("ecmascript", true),
    ];
    let unsupported = [
        ("", false),
        ("python", false),
        ("groovy", false),
        ("juel", false),
        ("ruby", false),
    ];
    for (format, expect) in supported.into_iter().chain(unsupported) {
        assert_eq!(ScriptEngine::supports(format), expect, "{format:?}");
    }
    let engine = ScriptEngine::new(Limits::default());
    let python = technical(&run("python", "x = 1", json!({})), "python");
    assert!(
        python.contains("unsupported script format 'python'"),
        "{python}"
    );
    assert!(engine.compile("groovy", "x = 1").is_err());
    let mut service = job("rhai", "x = 1;", json!({}));
    service.kind = "service".into();
    assert!(technical(&engine.run(&service), "service").contains("not a script task"));
    let mut empty = job("rhai", "", json!({}));
    assert_eq!(engine.run(&empty), JobResult::done());
    empty.script = None;
    assert!(technical(&engine.run(&empty), "none").contains("has no script"));
}

#[test]
fn odd_scripts_and_names_never_panic() {
    let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let scripts = [
        "",
        ";;;",
        "}{",
        "\"unterminated",
        "/* open",
        "fn",
        "let",
        "'ab'",
        "#{",
        "x.",
        "[1,2",
        "let x = 9223372036854775807 + 1;",
        "1 / 0",
        "let a = [1]; a[5]",
        "\u{0}",
        "ü = 1;",
        &deep,
    ];
    let vars =
        json!({"": 1, "if": 2, "a b": 3, "vars": 4, "console": 5, "_ok": 6, "x1": {"y": [1]}});
    let engine = ScriptEngine::new(Limits::default());
    for format in ["rhai", "javascript"] {
        for script in scripts {
            let _ = run_with(&engine, format, script, vars.clone());
        }
    }
    let names = "output([_ok, vars[\"\"], vars[\"a b\"], vars[\"console\"], vars.vars]);";
    assert_eq!(
        output(&run_with(&engine, "rhai", names, vars), names),
        Some(json!([6, 1, 3, 5, 4]))
    );
}

#[test]
fn one_engine_serves_concurrent_runs() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ScriptEngine>();
    let engine = ScriptEngine::new(Limits::default());
    std::thread::scope(|s| {
        for t in 0..4_i64 {
            let engine = &engine;
            s.spawn(move || {
                for i in 0..50_i64 {
                    let script = "print(n); y = n * 2; set(\"z\", n);";
                    let result = run_with(engine, "rhai", script, json!({"n": t * 1000 + i}));
                    let n = t * 1000 + i;
                    let expect = JobResult::Done {
                        output: Some(json!({"log": [n.to_string()]})),
                        vars: json!({"y": n * 2, "z": n})
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                    };
                    assert_eq!(result, expect);
                }
            });
        }
    });
}

#[test]
fn compiled_scripts_are_cached_and_runs_are_cheap() {
    let engine = ScriptEngine::new(Limits::default());
    let job = job("rhai", "x = 1 + 1;", json!({"a": 1, "b": "two"}));
    assert_eq!(written(&engine.run(&job), "x"), json!({"x": 2}));
    fn per_run(engine: &ScriptEngine, job: &JobInput) -> Duration {
        let runs = 2000;
        let started = Instant::now();
        for _ in 0..runs {
            let _ = engine.run(job);
        }
        started.elapsed() / runs
    }
    let stack = engine.stack_size() + (1 << 20);
    let (engine, job, roomy) = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let time = per_run(&engine, &job);
            (engine, job, time)
        })
        .expect("thread")
        .join()
        .expect("no panic");
    let small = per_run(&engine, &job);
    eprintln!(
        "`x = 1 + 1`, 2 variables, per run: {roomy:?} with stack_size(), {small:?} on a 2 MiB thread"
    );
    // Generous: catches a lost cache (re-parsing) or a per-run engine build,
    // not a slow machine.
    assert!(roomy < Duration::from_millis(2), "{roomy:?}");
}

#[test]
fn deeply_nested_values_do_not_overflow_a_small_thread_stack() {
    // ~1500 levels need more than 256 KiB of Rhai recursion; the engine
    // moves the run onto a large enough stack segment.
    let engine = ScriptEngine::new(Limits {
        max_time: Duration::from_secs(60),
        ..Limits::default()
    });
    let script = "let m = #{}; let i = 0; while i < 1500 { m = #{m: m}; i += 1 } let a = [m]; print(a.len()); i";
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || run_with(&engine, "rhai", script, json!({})))
        .expect("thread")
        .join()
        .expect("no panic");
    // `m` and `a` are deeper than JSON conversion allows, so they are skipped.
    assert_eq!(written(&result, script), json!({"i": 1500}));
}
