//! The public API around evaluation: error positions, nesting limits, root
//! names, templates, scopes and trait impls.

use std::borrow::Cow;
use std::collections::HashMap;

use baton_expr::{EvalError, Expr, Scope, Template, Value, parse, parse_template};
use serde_json::json;

#[test]
fn parse_error_line_and_col_on_multi_line_input() {
    let src = "a &&\n  b +\n  * c";
    let err = parse(src).unwrap_err();
    assert_eq!((err.line, err.col), (3, 3), "{err}");
    assert_eq!(err.offset, src.find('*').unwrap());
    assert_eq!(err.to_string(), "3:3: expected a value, found '*'");
    // Columns count characters, not bytes.
    let err = parse("'é' +\n 'ü' ==").unwrap_err();
    assert_eq!((err.line, err.col), (2, 8), "{err}");
    // In a template, positions are in the template's text.
    let err = parse_template("line one\nvalue: ${a +}").unwrap_err();
    assert_eq!(err.to_string(), "2:13: expected a value, found '}'");
}

#[test]
fn nesting_is_limited_without_overflowing_the_stack() {
    let deep_parens = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    let long_chain = format!("1{}", " + 1".repeat(300));
    let deep_unary = format!("{}true", "!".repeat(300));
    let deep_props = format!("a{}", ".b".repeat(300));
    let deep_ternary = format!("{}1", "true ? 1 : ".repeat(300));
    let huge = "[".repeat(100_000);
    for src in [
        &deep_parens,
        &long_chain,
        &deep_unary,
        &deep_props,
        &deep_ternary,
        &huge,
    ] {
        let err = parse(src).unwrap_err();
        assert!(err.message.contains("nested too deeply"), "{err}");
    }
    // Up to the limit is fine.
    let ok = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(parse(&ok).unwrap().eval(&()).unwrap(), json!(1));
    let sum = format!("0{}", " + 1".repeat(250));
    assert_eq!(parse(&sum).unwrap().eval(&()).unwrap(), json!(250));
}

#[test]
fn root_names_lists_variables_once_in_order() {
    let e = parse("${a.b + c.d(e) + a + empty f + [g][0]}").unwrap();
    assert_eq!(e.root_names(), ["a", "c", "e", "f", "g"]);
    assert_eq!(
        parse("'x'.length() + 1").unwrap().root_names(),
        Vec::<String>::new()
    );
    let t = parse_template("${x} and #{y.z} and ${x}").unwrap();
    assert_eq!(t.root_names(), ["x", "y"]);
    assert_eq!(
        parse("Hi ${who}, ${n + 1}").unwrap().root_names(),
        ["who", "n"]
    );
}

#[test]
fn eval_bool_coerces_and_names_the_type_it_got() {
    let scope = json!({"n": 5, "s": "TRUE", "nil": null, "o": {}});
    let b = |src: &str| parse(src).unwrap().eval_bool(&scope);
    assert_eq!(b("${s}"), Ok(true));
    assert_eq!(b("${nil}"), Ok(false));
    assert_eq!(b("n > 3"), Ok(true));
    let err = b("${n}").unwrap_err();
    assert_eq!(err.to_string(), "in `n`: expected a boolean, got number 5");
    assert!(b("o").unwrap_err().to_string().contains("got object"));
    assert_eq!(
        b("${missing}"),
        Err(EvalError::UnknownVariable {
            name: "missing".into()
        })
    );
    // A template renders to a string, which coerces.
    assert_eq!(b("${s}${''}"), Ok(true));
}

#[test]
fn templates_render_and_eval() {
    let scope = json!({"name": "bob", "n": 3, "nil": null, "list": [1, "a"], "f": 0.5});
    let t = parse_template("Hi ${name}, you have #{n + 1} items${nil}. ${list} ${f}").unwrap();
    assert!(!t.is_literal());
    assert_eq!(
        t.render(&scope).unwrap(),
        r#"Hi bob, you have 4 items. [1,"a"] 0.5"#
    );
    assert_eq!(
        t.eval(&scope).unwrap(),
        json!(r#"Hi bob, you have 4 items. [1,"a"] 0.5"#)
    );
    // Exactly one expression and no text: the typed value.
    assert_eq!(
        parse_template("${list}").unwrap().eval(&scope).unwrap(),
        json!([1, "a"])
    );
    assert_eq!(
        parse_template("${nil}").unwrap().eval(&scope).unwrap(),
        Value::Null
    );
    // Any text around it makes it a string.
    assert_eq!(
        parse_template(" ${n}").unwrap().eval(&scope).unwrap(),
        json!(" 3")
    );
    // Escapes and lone specials.
    let lit = parse_template(r"price: 5$, \${n} and \#{n}, #tag, C:\dir").unwrap();
    assert!(lit.is_literal());
    assert_eq!(
        lit.render(&()).unwrap(),
        r"price: 5$, ${n} and #{n}, #tag, C:\dir"
    );
    assert_eq!(parse_template("").unwrap().render(&()).unwrap(), "");
    assert_eq!(t.source(), t.to_string());
    let err = parse_template("${name").unwrap_err();
    assert_eq!(err.to_string(), "1:1: unterminated '${': missing '}'");
}

#[test]
fn scopes_of_every_kind() {
    let e = parse("a + b").unwrap();
    let mut map = HashMap::new();
    map.insert("a".to_string(), json!(1));
    map.insert("b".to_string(), json!(2));
    assert_eq!(e.eval(&map).unwrap(), json!(3));
    let closure = |name: &str| (name.len() == 1).then(|| json!(10));
    assert_eq!(e.eval(&closure).unwrap(), json!(20));
    let obj = json!({"a": 5}).as_object().cloned().unwrap();
    let b_only = json!({"a": 100, "b": 7});
    let layers: [&dyn Scope; 2] = [&obj, &b_only];
    assert_eq!(e.eval(&layers).unwrap(), json!(12));
    let slice: &[&dyn Scope] = &layers;
    assert_eq!(parse("b").unwrap().eval(&slice).unwrap(), json!(7));
    assert_eq!(e.eval(&layers.to_vec()).unwrap(), json!(12));
    assert_eq!(e.eval(&()).unwrap_err().to_string(), "unknown variable 'a'");
    // A scope that can only give owned values still works through the default lookup_ref.
    struct Owned;
    impl Scope for Owned {
        fn lookup(&self, name: &str) -> Option<Value> {
            (name == "a").then(|| json!({"b": {"c": [1, 2]}}))
        }
    }
    assert_eq!(parse("a.b.c[1]").unwrap().eval(&Owned).unwrap(), json!(2));
    assert!(matches!(Owned.lookup_ref("a"), Some(Cow::Owned(_))));
}

#[test]
fn expr_is_a_plain_shareable_value() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + PartialEq + 'static>() {}
    assert_traits::<Expr>();
    assert_traits::<Template>();
    let e = parse("${count gt 3}").unwrap();
    assert_eq!(e.source(), "${count gt 3}");
    assert_eq!(e.to_string(), "${count gt 3}");
    assert_eq!(e.clone(), e);
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(json, r#""${count gt 3}""#);
    let back: Expr = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    assert!(serde_json::from_str::<Expr>(r#""1 +""#).is_err());
    let e: Expr = "x > 3".parse().unwrap();
    assert_eq!(e.eval(&json!({"x": 4})), Ok(json!(true)));
}

#[test]
fn errors_name_the_sub_expression() {
    let scope = json!({"order": {"total": "abc"}, "s": "x"});
    let err = parse("${order.total * 2 > 10}")
        .unwrap()
        .eval(&scope)
        .unwrap_err();
    assert_eq!(
        err,
        EvalError::Type {
            expr: "order.total * 2".into(),
            message: "expected a number, got string 'abc'".into()
        }
    );
    let err = parse("${s.size(1, 2)}").unwrap().eval(&scope).unwrap_err();
    assert_eq!(
        err.to_string(),
        "in `s.size(1, 2)`: size(): wrong number of arguments (2)"
    );
    let err = parse("(1 + (2 / (3 - 3)))")
        .unwrap()
        .eval(&scope)
        .unwrap_err();
    assert_eq!(err.to_string(), "in `(2 / (3 - 3))`: division by zero");
}

#[test]
fn deepest_accepted_expressions_fit_in_a_small_thread_stack() {
    let n = 255;
    let shapes = [
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1{}", "'a'.concat(".repeat(n), ")".repeat(n)),
        format!("{}true", "!".repeat(n)),
        format!("1{}", " + 1".repeat(n - 1)),
        format!("a{}", ".b".repeat(n - 1)),
        format!("{}1", "true ? 1 : ".repeat(n)),
        format!(
            "{}1{}",
            "1 || 1 && 1 == 1 < 1 + 1 * (".repeat(n / 7),
            ")".repeat(n / 7)
        ),
    ];
    // 2 MiB: the default for spawned threads and tokio workers, in a debug build.
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for src in &shapes {
                let e = parse(src).unwrap_or_else(|err| panic!("{err}"));
                let _ = e.eval(&json!({"a": {}}));
                let _ = e.root_names();
            }
        });
    worker.unwrap().join().unwrap();
}

#[test]
fn strict_templates_name_the_missing_member() {
    let vars = serde_json::json!({"task1": {"stdout": "ok", "empty": null}, "n": 3});
    let t = baton_expr::parse_template("${task1.stdout}/${task1.nmae}").unwrap();
    assert_eq!(t.render(&vars).unwrap(), "ok/");
    let err = t.render_strict(&vars).unwrap_err();
    assert_eq!(err.to_string(), "in `task1.nmae`: unknown name 'nmae'");
    let present_null = baton_expr::parse_template("${task1.empty}").unwrap();
    assert_eq!(
        present_null.eval_strict(&vars).unwrap(),
        serde_json::Value::Null
    );
    let of_null = baton_expr::parse_template("${task1.empty.x}").unwrap();
    assert!(of_null.render_strict(&vars).is_err());
    // `empty` keeps its lenient meaning.
    let e = baton_expr::parse_template("${empty task1.nope}").unwrap();
    assert_eq!(e.eval_strict(&vars).unwrap(), serde_json::Value::Bool(true));
    let p = baton_expr::parse_template("select * from t where id = ${n} and name = 'x'").unwrap();
    let pieces = p.pieces_strict(&vars).unwrap();
    assert_eq!(
        pieces,
        vec![
            baton_expr::Piece::Text("select * from t where id = "),
            baton_expr::Piece::Value(serde_json::json!(3)),
            baton_expr::Piece::Text(" and name = 'x'"),
        ]
    );
    assert_eq!(
        t.eval_strict(&vars).unwrap_err().to_string(),
        err.to_string()
    );
}
