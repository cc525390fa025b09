//! The `baton` command line: validate, run and benchmark BPMN processes,
//! preview schedules, and serve the engine.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "baton",
    version,
    about = "Baton: a BPMN 2.0 workflow engine for IT operations"
)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check BPMN files: diagnostics with element id and line:column; non-zero exit on error.
    Validate(cli::validate::Args),
    /// Run one instance until it ends or waits; print its outcome and trace as JSON.
    Run(cli::run::Args),
    /// Deploy a file and start instances in a store, then exit (the server works them).
    Start(cli::serve::StartArgs),
    /// Count a store's instances by status, as JSON.
    Status(cli::serve::StatusArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        cmd: cli::bench::Cmd,
    },
    /// Report templates: fill one from a JSON file, list its placeholders.
    Report {
        #[command(subcommand)]
        cmd: cli::report::Cmd,
    },
    /// Schedules: preview, add, list, rm.
    Schedule {
        #[command(subcommand)]
        cmd: cli::schedule::Cmd,
    },
    /// Run the engine and its HTTP server (embedded SQLite by default).
    Serve(Box<cli::serve::Args>),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BATON_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args = match cli::config::layered(Args::command(), &argv) {
        Ok(cmd) => {
            let matches = cmd.get_matches_from(&argv);
            Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let res = match args.cmd {
        Cmd::Validate(a) => cli::validate::main(a),
        Cmd::Run(a) => cli::run::main(a),
        Cmd::Start(a) => cli::serve::start_main(a),
        Cmd::Status(a) => cli::serve::status_main(a),
        Cmd::Bench { cmd } => cli::bench::main(cmd),
        Cmd::Schedule { cmd } => cli::schedule::main(cmd),
        Cmd::Report { cmd } => cli::report::main(cmd),
        Cmd::Serve(a) => cli::serve::main(*a),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
