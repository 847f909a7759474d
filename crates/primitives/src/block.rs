//! Sealed blocks as stored and passed between components.
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

/// A block number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// A sealed block with everything needed to serve it: header, EIP-2718 encoded transactions,
/// their senders and EIP-2718 encoded receipts. The encoding of transactions and receipts is the
/// chain's own (Ethereum envelopes on L1, OP envelopes with deposits on L2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBlock {
    /// The header.
    pub header: Header,
    /// The header hash.
    pub hash: B256,
    /// EIP-2718 encoded transactions, in block order.
    pub transactions: Vec<Bytes>,
    /// Transaction hashes, in block order.
    pub tx_hashes: Vec<B256>,
    /// Recovered senders (for deposits: the `from` field), in block order.
    pub senders: Vec<Address>,
    /// EIP-2718 encoded receipts, in block order.
    pub receipts: Vec<Bytes>,
    /// For L2 blocks, the L1 origin (epoch).
    pub l1_origin: Option<BlockRef>,
    /// The sequencer's signature over the OP p2p block-signing hash (65 bytes), if signed.
    pub signature: Option<Bytes>,
}

impl SealedBlock {
    /// A block of `header` alone (no transactions): a genesis, or another node's block known by
    /// its header.
    pub fn header_only(header: Header) -> Self {
        Self {
            hash: header.hash_slow(),
            header,
            transactions: vec![],
            tx_hashes: vec![],
            senders: vec![],
            receipts: vec![],
            l1_origin: None,
            signature: None,
        }
    }

    /// The block's number and hash.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef { number: self.header.number, hash: self.hash }
    }
}

/// Where a transaction sits in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    /// Block number.
    pub block_number: u64,
    /// Index in the block.
    pub index: u64,
}
