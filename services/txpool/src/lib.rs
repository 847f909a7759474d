#![doc = include_str!("../README.md")]

pub mod grpc;
mod pool;
mod validate;

pub use pool::{LocalTxSource, MAX_PER_CHAIN, TxPoolActor};
pub use validate::{MAX_TX_SIZE, decode_and_recover};

#[cfg(test)]
mod tests;
