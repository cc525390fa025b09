//! Times parse-once/evaluate-many (best batch of 2,000) for typical conditions and prints JSON:
//! `cargo run --release -p baton-expr --example bench_eval`.

use std::hint::black_box;
use std::time::Instant;

use baton_expr::parse;
use serde_json::json;

fn main() {
    let rows: Vec<_> = (0..1000)
        .map(|i| json!({"name": format!("r{i}"), "n": i}))
        .collect();
    let scope = json!({
        "x": 5, "count": 7, "name": "bob", "approved": true, "s": "abcd",
        "nodeId": {"rows": rows},
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    let cases = [
        "x > 3",
        "${approved == true}",
        "${count gt 3 and not empty name}",
        "${s.startsWith('ab') && s.length() == 4}",
        "${nodeId.rows[999].name}",
        "Hello ${name}, you have ${count} items",
    ];
    let mut results = Vec::new();
    for src in cases {
        let e = parse(src).expect("parses");
        // The fastest of many short batches: robust to a busy machine.
        let batch = 2_000u32;
        let mut best = f64::INFINITY;
        for _ in 0..200 {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(e.eval(black_box(&scope)).ok());
            }
            best = best.min(start.elapsed().as_nanos() as f64 / f64::from(batch));
        }
        let ns = best;
        results.push(json!({"expr": src, "ns_per_eval": (ns * 10.0).round() / 10.0}));
    }
    let machine = json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    println!("{:#}", json!({"machine": machine, "results": results}));
}
