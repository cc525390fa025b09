//! Fills a report template from a JSON data file:
//!
//!     cargo run --release -p baton-reports --example fill -- TEMPLATE.xlsx DATA.json OUT.xlsx
//!
//! Prints what was filled and the elapsed time (reading, filling, writing).

use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [template, data, out] = args.as_slice() else {
        eprintln!("usage: fill TEMPLATE DATA.json OUT");
        std::process::exit(2);
    };
    let started = Instant::now();
    match baton_reports::fill_file(Path::new(template), Path::new(data), Path::new(out)) {
        Ok(s) => println!(
            "filled {} sheet(s), {} cells, {} rows added, {} cut to 32767 chars in {:.3} s",
            s.sheets_filled,
            s.cells_filled,
            s.rows_added,
            s.truncated_cells,
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
