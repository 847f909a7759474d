//! Transactions run after a block's prefix without being included: what a sync call's discovery
//! (the builder's `sync_calls`) learns of each leg on the open block it will land in. The block's
//! pre-execution system calls and its prefix run through the block executor that builds it, then
//! each transaction in turn on the state the previous ones left (committed to an in-memory
//! overlay, never to the chain), unsigned: at its sender's nonce, paying the block's base fee.
use crate::{
    build::{BlockBuilder, BuildError, Rules},
    call::op_call_tx,
    db::{ReaderDb, StateReader},
};
use alloy_consensus::Header;
use alloy_eips::{eip2718::Decodable2718, eip2930::AccessList};
use alloy_evm::{
    Evm, EvmFactory,
    block::{BlockExecutor, BlockExecutorFactory},
};
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutorFactory, OpEvmFactory, OpTx, block::receipt_builder::OpAlloyReceiptBuilder,
};
use alloy_primitives::{Address, Bytes, Log, TxKind, U256};
use op_alloy_consensus::OpTxEnvelope;
use revm::{Database, context::TxEnv, context_interface::result::ExecutionResult, database::CacheDB};

/// A transaction to simulate.
#[derive(Debug, Clone, Default)]
pub struct SimTx {
    /// Sender.
    pub from: Address,
    /// Callee.
    pub to: Address,
    /// Calldata.
    pub input: Bytes,
    /// Gas limit.
    pub gas: u64,
    /// Value.
    pub value: U256,
    /// EIP-2930 access list (a CrossL2Inbox entry makes its checksum slot warm).
    pub access_list: AccessList,
}

/// What a simulated transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOutcome {
    /// Whether it succeeded.
    pub success: bool,
    /// Return data, or revert data.
    pub output: Bytes,
    /// Gas used.
    pub gas_used: u64,
    /// Its logs (none when it failed).
    pub logs: Vec<Log>,
    /// The sender's nonce it ran at (what a signed copy must carry).
    pub nonce: u64,
}

impl BlockBuilder {
    /// Runs `txs` in order after the block with `header` and `prefix` (EIP-2718 bytes and
    /// senders, in block order, deposits first), read from `reader` (the state after the block's
    /// parent); each sees what the ones before it did.
    pub fn simulate<R: StateReader>(
        &self,
        reader: R,
        header: &Header,
        prefix: &[(Bytes, Address)],
        txs: &[SimTx],
    ) -> Result<Vec<SimOutcome>, BuildError> {
        let Rules::L2(forks) = self.rules() else {
            return Err(BuildError::InvalidBlock("simulation is served on OP Stack chains only".into()));
        };
        let factory = OpBlockExecutorFactory::new(
            OpAlloyReceiptBuilder::default(),
            forks.clone(),
            OpEvmFactory::<OpTx>::default(),
        );
        let evm = factory.evm_factory().create_evm(CacheDB::new(ReaderDb(reader)), self.op_env(header));
        let ctx = OpBlockExecutionCtx {
            parent_hash: header.parent_hash,
            parent_beacon_block_root: header.parent_beacon_block_root,
            extra_data: header.extra_data.clone(),
        };
        let mut ex = factory.create_executor(evm, ctx);
        let exec = |e: alloy_evm::block::BlockExecutionError| BuildError::Execution(e.to_string());
        ex.apply_pre_execution_changes().map_err(exec)?;
        for (raw, sender) in prefix {
            let tx = OpTxEnvelope::decode_2718_exact(raw)
                .map_err(|e| BuildError::InvalidBlock(format!("prefix tx undecodable: {e}")))?;
            let rec = alloy_consensus::transaction::Recovered::new_unchecked(tx, *sender);
            ex.execute_transaction(alloy_eips::eip2718::WithEncoded::new(raw.clone(), &rec)).map_err(exec)?;
        }
        let base_fee = u128::from(header.base_fee_per_gas.unwrap_or_default());
        let evm = ex.evm_mut();
        let mut out = Vec::with_capacity(txs.len());
        for t in txs {
            let nonce =
                evm.db_mut().basic(t.from).map_err(|e| BuildError::State(e.to_string()))?.map_or(0, |a| a.nonce);
            let tx = TxEnv::builder()
                .caller(t.from)
                .gas_limit(t.gas)
                .gas_price(base_fee)
                .gas_priority_fee(Some(0))
                .kind(TxKind::Call(t.to))
                .value(t.value)
                .data(t.input.clone())
                .nonce(nonce)
                .access_list(t.access_list.clone())
                .chain_id(Some(self.config().chain_id))
                .tx_type(Some(2))
                .build_fill();
            let result = evm
                .transact_commit(op_call_tx(tx))
                .map_err(|e| BuildError::InvalidBlock(format!("{} cannot run: {e}", t.from)))?;
            out.push(match result {
                ExecutionResult::Success { output, gas, logs, .. } => {
                    SimOutcome { success: true, output: output.into_data(), gas_used: gas.tx_gas_used(), logs, nonce }
                }
                ExecutionResult::Revert { output, gas, .. } => {
                    SimOutcome { success: false, output, gas_used: gas.tx_gas_used(), logs: vec![], nonce }
                }
                ExecutionResult::Halt { gas, .. } => SimOutcome {
                    success: false,
                    output: Bytes::new(),
                    gas_used: gas.tx_gas_used(),
                    logs: vec![],
                    nonce,
                },
            });
        }
        Ok(out)
    }
}
