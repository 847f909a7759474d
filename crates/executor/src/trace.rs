//! geth's debug tracers (`callTracer`, `prestateTracer`, `4byteTracer`, `noopTracer`,
//! `flatCallTracer`, `muxTracer` and the default struct logger) over one transaction of a block,
//! with `revm-inspectors`' `DebugInspector`: the block's pre-execution system calls and its
//! earlier transactions run uninspected through the same block executor that built it, then the
//! transaction runs under the inspector (not committed).
use crate::{
    build::{BlockBuilder, BuildError, Rules},
    db::{ReaderDb, StateReader},
};
use alloy_consensus::Header;
use alloy_eips::eip2718::Decodable2718;
use alloy_evm::{
    Evm, EvmFactory, FromTxWithEncoded,
    block::{BlockExecutor, BlockExecutorFactory},
};
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutorFactory, OpEvmFactory, OpTx, block::receipt_builder::OpAlloyReceiptBuilder,
};
use alloy_primitives::{Address, Bytes};
use op_alloy_consensus::OpTxEnvelope;
use revm::database::CacheDB;
use revm_inspectors::tracing::DebugInspector;

use crate::{
    build::NextBlock,
    call::{CallError, CallRequest, op_call_error, op_call_tx},
};
pub use alloy_rpc_types_trace::geth::{GethDebugTracingOptions, GethTrace};

impl BlockBuilder {
    /// The trace of transaction `index` of the block with `header` and `txs` (EIP-2718 bytes
    /// and senders, in block order), read from `reader` (the state after the block's parent).
    pub fn trace_tx<R: StateReader>(
        &self,
        reader: R,
        header: &Header,
        txs: &[(Bytes, Address)],
        index: usize,
        opts: GethDebugTracingOptions,
    ) -> Result<GethTrace, BuildError> {
        let Rules::L2(forks) = self.rules() else {
            return Err(BuildError::InvalidBlock("tracing is served on OP Stack chains only for now".into()));
        };
        let inspector =
            DebugInspector::new(opts).map_err(|e| BuildError::InvalidBlock(format!("invalid tracing options: {e}")))?;
        let decode = |raw: &Bytes| {
            OpTxEnvelope::decode_2718_exact(raw)
                .map_err(|e| BuildError::InvalidBlock(format!("stored tx undecodable: {e}")))
        };
        let factory = OpBlockExecutorFactory::new(
            OpAlloyReceiptBuilder::default(),
            forks.clone(),
            OpEvmFactory::<OpTx>::default(),
        );
        let db = CacheDB::new(ReaderDb(reader));
        let mut evm = factory.evm_factory().create_evm_with_inspector(db, self.op_env(header), inspector);
        evm.disable_inspector();
        let ctx = OpBlockExecutionCtx {
            parent_hash: header.parent_hash,
            parent_beacon_block_root: header.parent_beacon_block_root,
            extra_data: header.extra_data.clone(),
        };
        let mut ex = factory.create_executor(evm, ctx);
        let exec = |e: alloy_evm::block::BlockExecutionError| BuildError::Execution(e.to_string());
        ex.apply_pre_execution_changes().map_err(exec)?;
        for (raw, sender) in &txs[..index] {
            let tx = decode(raw)?;
            let rec = alloy_consensus::transaction::Recovered::new_unchecked(tx, *sender);
            ex.execute_transaction(alloy_eips::eip2718::WithEncoded::new(raw.clone(), &rec)).map_err(exec)?;
        }
        let (raw, sender) = txs.get(index).ok_or_else(|| BuildError::InvalidBlock(format!("no tx {index}")))?;
        let tx_env = OpTx::from_encoded_tx(&decode(raw)?, *sender, raw.clone());
        let evm = ex.evm_mut();
        evm.enable_inspector();
        let result = evm.transact(tx_env.clone()).map_err(|e| BuildError::Execution(e.to_string()))?;
        let block_env = evm.block().clone();
        let (db, inspector, _) = evm.components_mut();
        inspector
            .get_result(None, &tx_env.0, &block_env, &result, db)
            .map_err(|e| BuildError::Execution(format!("tracing: {e}")))
    }

    /// The trace of `req` run as `eth_call` runs it (on `reader`, in the block after
    /// `next.parent`, a zero base fee without a gas price), nothing committed: `debug_traceCall`.
    pub fn trace_call<R: StateReader>(
        &self,
        reader: R,
        next: &NextBlock,
        req: &CallRequest,
        opts: GethDebugTracingOptions,
    ) -> Result<GethTrace, CallError> {
        if !matches!(self.rules(), Rules::L2(_)) {
            return Err(CallError::Invalid("tracing is served on OP Stack chains only for now".into()));
        }
        let inspector =
            DebugInspector::new(opts).map_err(|e| CallError::Invalid(format!("invalid tracing options: {e}")))?;
        let (template, tx) = self.call_env(&reader, next, req, self.call_gas_cap(req))?;
        let tx = op_call_tx(tx);
        let db = CacheDB::new(ReaderDb(reader));
        let mut evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(db, self.op_env(&template), inspector);
        let result = evm.transact(tx.clone()).map_err(|e| op_call_error(req.from.unwrap_or_default(), e))?;
        let block_env = evm.block().clone();
        let (db, inspector, _) = evm.components_mut();
        inspector
            .get_result(None, &tx.0, &block_env, &result, db)
            .map_err(|e| CallError::State(format!("tracing: {e}")))
    }
}
