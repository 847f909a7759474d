#![doc = include_str!("../README.md")]

pub mod grpc;
mod local;

pub use local::{LocalStateSource, StateFetcher, StateWriter};
