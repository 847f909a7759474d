//! The `op-sequencer` binary: parse, then hand over to `run`.
use clap::Parser;

/// jemalloc, as reth: see the workspace Cargo.toml.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = op_sequencer::cli::Cli::parse();
    match op_sequencer::run::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
