//! `baton validate FILE…`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use baton_runtime::deploy::Deployment;
use baton_runtime::nodes::check;

#[derive(clap::Args)]
pub struct Args {
    /// BPMN 2.0 files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn main(a: Args) -> Result<ExitCode> {
    let registry = baton_nodes::Registry::with_defaults();
    let mut bad = 0;
    for f in &a.files {
        let xml = super::read(f)?;
        match Deployment::compile(None, 1, &xml, &|k, p| check(&registry, k, p)) {
            Ok(d) => {
                let procs: Vec<&str> = d
                    .model
                    .processes
                    .iter()
                    .map(|p| d.model.element(*p).id.as_str())
                    .collect();
                super::emit(format!(
                    "{}: ok ({} elements; processes: {})",
                    f.display(),
                    d.model.elements.len(),
                    procs.join(", ")
                ));
            }
            Err(rej) => {
                bad += 1;
                for d in &rej.0 {
                    super::emit(format!("{}:{d}", f.display()));
                }
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
