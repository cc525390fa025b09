//! Property tests: no input makes parsing or evaluation panic, and a few
//! algebraic facts hold for arbitrary numbers.

use baton_expr::{EvalError, Value, parse, parse_template};
use proptest::prelude::*;
use serde_json::json;

const NAMES: &[&str] = &["a", "b", "s", "n", "list", "obj", "missing", "nil"];
const METHODS: &[&str] = &[
    "contains",
    "startsWith",
    "endsWith",
    "length",
    "isEmpty",
    "indexOf",
    "lastIndexOf",
    "substring",
    "toUpperCase",
    "toLowerCase",
    "trim",
    "equals",
    "equalsIgnoreCase",
    "matches",
    "replace",
    "split",
    "charAt",
    "concat",
    "size",
    "get",
    "containsKey",
    "keySet",
    "toString",
    "replaceAll",
    "nope",
];
const BINARY: &[&str] = &[
    "+", "-", "*", "/", "div", "%", "mod", "<", ">", "<=", ">=", "lt", "gt", "le", "ge", "==",
    "!=", "eq", "ne", "&&", "and", "||", "or",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-c0-9.,e ]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]|[0-2]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn scope() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(NAMES), json_value(), 0..8)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

/// Grammatical expressions over the whole language.
fn expr_source() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|i| i.to_string()),
        (0u32..1000).prop_map(|i| format!("{}.{}", i / 10, i % 10)),
        "[a-c0-9,. ]{0,5}".prop_map(|s| format!("'{s}'")),
        prop::sample::select(&["true", "false", "null", "''", "'.*'", "'('"][..])
            .prop_map(String::from),
        prop::sample::select(NAMES).prop_map(String::from),
    ];
    leaf.prop_recursive(6, 64, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(BINARY), inner.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (
                prop::sample::select(&["-", "!", "not ", "empty "][..]),
                inner.clone()
            )
                .prop_map(|(op, a)| format!("{op}{a}")),
            (inner.clone(), "[a-c]|empty|k").prop_map(|(a, p)| format!("{a}.{p}")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            (
                inner.clone(),
                prop::sample::select(METHODS),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(a, m, args)| format!("{a}.{m}({})", args.join(", "))),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            prop::collection::vec(inner, 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_any_string(src in any::<String>()) {
        let _ = parse(&src);
        let _ = parse_template(&src);
    }

    #[test]
    fn eval_never_panics_on_near_expressions(
        src in r#"[a-z0-9 .'"\\\[\](){}$#!<>=&|+*/%?:,-]{0,40}"#,
        vars in scope(),
    ) {
        if let Ok(e) = parse(&src) {
            let _ = e.eval(&vars);
            let _ = e.eval_bool(&vars);
            let _ = e.root_names();
            // Display is the source text, so it round-trips.
            prop_assert_eq!(parse(&e.to_string()), Ok(e.clone()));
        }
        if let Ok(t) = parse_template(&src) {
            let _ = t.render(&vars);
            let _ = t.eval(&vars);
        }
    }

    #[test]
    fn grammatical_expressions_parse_and_never_panic(src in expr_source(), vars in scope()) {
        let e = parse(&src).map_err(|err| TestCaseError::fail(format!("{src}: {err}")))?;
        let _ = e.eval(&vars);
        let _ = e.eval_bool(&vars);
        for name in e.root_names() {
            prop_assert!(NAMES.contains(&name.as_str()), "{}", name);
        }
        let wrapped = parse(&format!("${{{src}}}")).unwrap();
        prop_assert_eq!(wrapped.eval(&vars), e.eval(&vars));
    }

    #[test]
    fn integer_arithmetic_is_exact_or_overflows(a in any::<i64>(), b in any::<i64>()) {
        let vars = json!({"a": a, "b": b});
        for (op, want) in [("+", a.checked_add(b)), ("-", a.checked_sub(b)), ("*", a.checked_mul(b))] {
            let got = parse(&format!("a {op} b")).unwrap().eval(&vars);
            match want {
                Some(v) => prop_assert_eq!(got, Ok(json!(v))),
                None => prop_assert!(matches!(got, Err(EvalError::Overflow { .. })), "{:?}", got),
            }
        }
    }

    #[test]
    fn comparisons_are_consistent(a in any::<i64>(), b in -1e12f64..1e12) {
        let vars = json!({"a": a, "b": b});
        let t = |src: &str| parse(src).unwrap().eval_bool(&vars).unwrap();
        prop_assert_eq!(t("a < b"), !t("a >= b"));
        prop_assert_eq!(t("a gt b"), t("b lt a"));
        prop_assert_eq!(t("a == b"), t("a <= b") && t("a ge b"));
        prop_assert_eq!(t("a ne b"), !t("a eq b"));
    }

    #[test]
    fn strings_render_as_themselves(s in any::<String>()) {
        let vars = json!({"s": s});
        prop_assert_eq!(parse_template("${s}").unwrap().render(&vars).unwrap(), s.clone());
        prop_assert_eq!(parse_template("<${s}>").unwrap().render(&vars).unwrap(), format!("<{s}>"));
        prop_assert_eq!(parse("s.length()").unwrap().eval(&vars).unwrap(), json!(s.chars().count()));
    }
}
