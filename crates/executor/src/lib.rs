#![doc = include_str!("../README.md")]

mod build;
mod call;
mod db;
mod deposits;
mod genesis;
mod genesis_evm;
pub mod interop;
pub mod jovian;
pub mod l1_bridge;
mod l1info;
mod rollup_fees;
mod signing;
pub mod simulate;
mod spec;
pub mod trace;
mod validate;

pub use build::{
    BlockBuilder, BlockInput, BuildError, Executed, HeaderOverrides, IncludedTx, L1Origin, NextBlock, RejectedTx,
    Rules, receipts_root,
};
pub use call::{CallError, CallRequest, CallResult};
pub use db::{ReaderDb, StateReader};
pub use deposits::{TRANSACTION_DEPOSITED, user_deposits};
pub use genesis::{BEACON_ROOTS_CODE, SYNC_CALLER_CODE, dev_batcher, genesis, holocene_extra_data};
pub use l1info::{L1InfoParams, L1InfoValues, l1_info_calldata, l1_info_deposit, parse_l1_info, parse_sequence_number};
pub use rollup_fees::{RollupFees, TxRollupFees};
pub use signing::{payload_envelope, payload_hash};
pub use spec::{
    BASE_FEE_PARAMS_L1, DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS, L1Spec, L2_BASE_FEE_PARAMS, L2_TO_L1_MESSAGE_PASSER,
    SEQUENCER_FEE_VAULT, dev_op_hardforks, op_hardforks,
};
