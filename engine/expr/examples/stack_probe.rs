//! Measures the stack that parsing and evaluating the deepest accepted
//! expressions needs: `cargo run --example stack_probe`.

fn source(kind: &str, n: usize) -> String {
    match kind {
        "parens" => format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        "chain" => format!("1{}", " + 1".repeat(n)),
        "unary" => format!("{}true", "!".repeat(n)),
        "props" => format!("a{}", ".b".repeat(n)),
        "ternary" => format!("{}1", "true ? 1 : ".repeat(n)),
        "mixed" => format!(
            "{}1{}",
            "1 || 1 && 1 == 1 < 1 + 1 * (".repeat(n / 7),
            ")".repeat(n / 7)
        ),
        "lists" => format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        _ => format!("{}1{}", "'a'.concat(".repeat(n), ")".repeat(n)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, kind, stack] = args.as_slice() {
        let src = source(kind, 255);
        let stack: usize = stack.parse().unwrap();
        let t = std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                let e = baton_expr::parse(&src).expect("parses");
                let _ = e.eval(&serde_json::json!({"a": {}}));
            });
        t.unwrap().join().unwrap();
        return;
    }
    for kind in [
        "parens", "chain", "unary", "props", "ternary", "lists", "calls", "mixed",
    ] {
        let (mut lo, mut hi) = (16 * 1024, 32 * 1024 * 1024);
        while hi - lo > 4 * 1024 {
            let mid = (lo + hi) / 2;
            let ok = std::process::Command::new(&args[0])
                .args([kind, &mid.to_string()])
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap()
                .success();
            if ok { hi = mid } else { lo = mid }
        }
        println!("{kind}: {} KiB at depth 255", hi / 1024);
    }
}
