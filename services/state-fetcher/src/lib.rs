#![doc = include_str!("../README.md")]

pub mod grpc;
mod local;
pub mod remote;

pub use local::{Fork, LocalStateSource, StateFetcher, StateWriter};
