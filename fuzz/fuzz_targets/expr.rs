//! Fuzzes the expression language: any UTF-8 input must parse or fail
//! cleanly, and anything that parses must evaluate or fail cleanly.
//! Run: `cargo +nightly fuzz run expr -- -dict=expr.dict`

#![no_main]

use std::sync::OnceLock;

use baton_expr::{Value, parse, parse_template};
use libfuzzer_sys::fuzz_target;

fn scope() -> &'static Value {
    static SCOPE: OnceLock<Value> = OnceLock::new();
    SCOPE.get_or_init(|| {
        serde_json::json!({
            "a": {"b": "x", "c": [1, 2.5, "3", null, {"d": true}]},
            "s": "abc,def", "n": 42, "f": -1.5, "t": true, "nil": null,
            "list": [1, 2, 3], "obj": {"k": "v", "0": 0}, "e": "", "big": i64::MAX,
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = parse(src) {
        let _ = e.eval(scope());
        let _ = e.eval_bool(scope());
        let _ = e.root_names();
        assert_eq!(parse(e.source()).as_ref(), Ok(&e));
    }
    if let Ok(t) = parse_template(src) {
        let _ = t.render(scope());
        let _ = t.eval(scope());
        let _ = t.root_names();
    }
});
