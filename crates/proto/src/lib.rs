#![doc = include_str!("../README.md")]

/// Generated code of the `opseq.v1` package.
#[allow(missing_docs, clippy::all, unreachable_pub, missing_debug_implementations)]
pub mod v1 {
    tonic::include_proto!("opseq.v1");
}

mod convert;
pub use convert::*;
