//! The `op-sequencer` binary as a library: the CLI and the wiring of each way to run it, so that
//! tests (and embedders) can parse and start exactly what the binary does.
#![doc = include_str!("../README.md")]

mod banner;
pub mod cli;
pub mod devnet_file;
pub mod genesis;
pub mod run;
