//! geth's `debug_traceTransaction(hash, opts?)`, `debug_traceBlockByNumber` /
//! `debug_traceBlockByHash(block, opts?)` and `debug_traceCall(call, block, opts?)` on L2 routes (what `cast run`, Hardhat and explorers
//! call): the tracers of `opseq_executor::trace` (callTracer, prestateTracer, 4byteTracer,
//! noopTracer, flatCallTracer, muxTracer, the default struct logger), each tx replayed on its
//! block's parent state (the store's overlay, so as far back as the reorg window).
use crate::rpc::{ChainRpc, codes, edge, err, parse_tag};
use alloy_primitives::{Address, B256, Bytes};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use opseq_executor::trace::GethDebugTracingOptions;
use opseq_primitives::SealedBlock;
use serde_json::{Value, json};
use std::sync::Arc;

/// The debug tracing methods of one chain.
#[derive(Debug)]
pub struct DebugTrace {
    chain: Arc<ChainRpc>,
}

impl DebugTrace {
    /// The methods, over `chain`.
    pub fn module(chain: Arc<ChainRpc>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(Arc::new(Self { chain }));
        m.register_async_method("debug_traceTransaction", |p, ctx, _| async move { ctx.trace_transaction(p).await })
            .expect("unique");
        m.register_async_method("debug_traceBlockByNumber", |p, ctx, _| async move { ctx.trace_block(p).await })
            .expect("unique");
        m.register_async_method("debug_traceCall", |p, ctx, _| async move { ctx.trace_call(p).await }).expect("unique");
        m.register_async_method("debug_traceBlockByHash", |p, ctx, _| async move { ctx.trace_block(p).await })
            .expect("unique");
        m
    }

    fn options(v: Option<Value>) -> Result<GethDebugTracingOptions, ErrorObjectOwned> {
        serde_json::from_value(v.unwrap_or(json!({})))
            .map_err(|e| err(codes::INVALID_PARAMS, format!("invalid tracing options: {e}")))
    }

    async fn trace_transaction(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let opts = Self::options(seq.optional_next()?)?;
        let (block, index) = self
            .chain
            .located(hash)
            .await?
            .ok_or_else(|| err(codes::SERVER, format!("transaction {hash} not found")))?;
        self.trace(block, vec![index], opts).await.map(|mut v| v.remove(0))
    }

    /// `debug_traceCall(call, block, opts?)`: the call as `eth_call` runs it, under the tracer.
    async fn trace_call(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let mut seq = p.sequence();
        let _call: Value = seq.next()?;
        let _block: Option<Value> = seq.optional_next()?;
        let opts = Self::options(seq.optional_next()?)?;
        let trace = self.chain.run_call(p, move |b, r, n, q| b.trace_call(r, n, q, opts)).await?;
        Ok(serde_json::to_value(trace).unwrap_or(Value::Null))
    }

    async fn trace_block(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let mut seq = p.sequence();
        let id: Value = seq.next()?;
        let opts = Self::options(seq.optional_next()?)?;
        let block = match serde_json::from_value::<B256>(id.clone()) {
            Ok(h) => self.chain.edges().state.block_by_hash(self.chain.chain(), h).await.map_err(edge)?,
            Err(_) => self.chain.resolve(parse_tag(Some(id))?).await?,
        }
        .ok_or_else(|| err(codes::SERVER, "block not found"))?;
        let hashes = block.tx_hashes.clone();
        let traces = self.trace(block, (0..hashes.len()).collect(), opts).await?;
        Ok(Value::Array(hashes.iter().zip(traces).map(|(h, t)| json!({"txHash": h, "result": t})).collect()))
    }

    /// Traces txs `indices` of `block`, each on the state before it.
    async fn trace(
        &self,
        block: SealedBlock,
        indices: Vec<usize>,
        opts: GethDebugTracingOptions,
    ) -> Result<Vec<Value>, ErrorObjectOwned> {
        let (edges, chain) = (self.chain.edges(), self.chain.chain());
        if block.header.number == 0 {
            return Ok(vec![]);
        }
        let parent = edges
            .state
            .block_by_hash(chain, block.header.parent_hash)
            .await
            .map_err(edge)?
            .ok_or_else(|| err(codes::SERVER, "the block's parent is unknown"))?;
        let (reader, _) = crate::chain::reader_for(edges, chain, &parent).await.map_err(edge)?;
        let builder = self.chain.builder().clone();
        tokio::task::spawn_blocking(move || {
            let txs: Vec<(Bytes, Address)> =
                block.transactions.iter().cloned().zip(block.senders.iter().copied()).collect();
            indices
                .into_iter()
                .map(|i| {
                    builder
                        .trace_tx(&*reader, &block.header, &txs, i, opts.clone())
                        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
                        .map_err(|e| err(codes::SERVER, e.to_string()))
                })
                .collect()
        })
        .await
        .map_err(|e| err(codes::INTERNAL, e.to_string()))?
    }
}
