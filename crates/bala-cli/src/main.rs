//! The `bala` command.

mod cli;
mod computed;
mod demo;
mod fhir;
mod immunization;
mod indicators;
mod progress;

use std::process::ExitCode;

/// The engine, importers and lists allocate many small strings and vectors;
/// mimalloc serves them markedly faster than glibc's allocator (ADR 0015).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
