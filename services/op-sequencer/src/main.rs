//! The `op-sequencer` binary: parse, then hand over to `run`.
use clap::Parser;

mod banner;
mod cli;
mod run;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match run::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
