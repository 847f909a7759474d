//! The Ethereum JSON-RPC subset of one chain (`/chains/<chainId>`): the only module that sees
//! JSON-RPC wire types. Reads go to the state-fetcher, transactions to the txpool.
use alloy_consensus::{Transaction, TxEnvelope, TxReceipt};
use alloy_eips::eip2718::{Decodable2718, Typed2718};
use alloy_primitives::{Address, B256, Bytes, U64, U256, hex};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use opseq_executor::{BlockBuilder, CallError, CallRequest, NextBlock};
use opseq_interfaces::Edges;
use opseq_primitives::{ChainConfig, ChainId, ErrorClass, OpseqError, SealedBlock};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::reader::EdgeReader;

/// JSON-RPC error codes (as geth / anvil use them).
pub mod codes {
    /// Invalid params.
    pub const INVALID_PARAMS: i32 = -32602;
    /// Server error: the tx or call was refused (geth's -32000).
    pub const SERVER: i32 = -32000;
    /// Execution reverted (geth's 3).
    pub const REVERTED: i32 = 3;
    /// Internal error.
    pub const INTERNAL: i32 = -32603;
}

pub(crate) type RpcResult = Result<Value, ErrorObjectOwned>;

pub(crate) fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

/// A method without parameters refuses any, as geth's rpc package does (-32602 "too many
/// arguments, want at most 0"), before doing anything.
pub(crate) fn no_params(p: &Params<'_>) -> Result<(), ErrorObjectOwned> {
    match p.parse::<Option<Vec<Value>>>() {
        Ok(None) => Ok(()),
        Ok(Some(v)) if v.is_empty() => Ok(()),
        _ => Err(err(codes::INVALID_PARAMS, "too many arguments, want at most 0")),
    }
}

pub(crate) fn edge(e: OpseqError) -> ErrorObjectOwned {
    match e.class {
        ErrorClass::InvalidInput => err(codes::SERVER, e.message),
        ErrorClass::NotFound => err(codes::SERVER, e.message),
        ErrorClass::Transient => err(codes::SERVER, format!("temporarily unavailable: {}", e.message)),
        ErrorClass::Fatal => err(codes::INTERNAL, e.message),
    }
}

/// Per-chain RPC context.
#[derive(Debug)]
pub struct ChainRpc {
    miner: Option<actix::Addr<crate::BuilderSupervisor>>,
    config: ChainConfig,
    builder: BlockBuilder,
    edges: Edges,
    forkchoice: Arc<crate::engine::Forkchoice>,
}

/// A block tag or number.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tag {
    Latest,
    Pending,
    Earliest,
    Number(u64),
    /// A block by hash (a 32-byte hex string, or EIP-1898 `{"blockHash": …}`).
    Hash(B256),
    /// `safe`: on the L1 mock [`L1_SAFE_DISTANCE`] blocks behind the head, on an L2 the head.
    Safe,
    /// `finalized`: on the L1 mock [`L1_FINALIZED_DISTANCE`] blocks behind the head, on an L2
    /// the head.
    Finalized,
}

/// How far the L1 mock's `safe` label trails its head (op-test-sequencer's fakepos L1 builder:
/// `SafeDistance 10`); op-node and kona-node poll it.
pub const L1_SAFE_DISTANCE: u64 = 10;
/// How far the L1 mock's `finalized` label trails its head (fakepos: `FinalizedDistance 20`).
pub const L1_FINALIZED_DISTANCE: u64 = 20;

pub(crate) fn parse_tag(v: Option<Value>) -> Result<Tag, ErrorObjectOwned> {
    let v = match v {
        None | Some(Value::Null) => return Ok(Tag::Latest),
        Some(v) => v,
    };
    let s = match &v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            // EIP-1898: {"blockNumber": …} or {"blockHash": …, "requireCanonical"?: …}.
            match (o.get("blockNumber"), o.get("blockHash")) {
                (Some(Value::String(s)), None) => s.clone(),
                (None, Some(Value::String(s))) if s.len() == 66 => s.clone(),
                _ => {
                    return Err(err(
                        codes::INVALID_PARAMS,
                        "block parameter: expected {\"blockNumber\": …} or {\"blockHash\": …}",
                    ));
                }
            }
        }
        _ => return Err(err(codes::INVALID_PARAMS, format!("invalid block parameter {v}"))),
    };
    Ok(match s.as_str() {
        "latest" => Tag::Latest,
        "safe" => Tag::Safe,
        "finalized" => Tag::Finalized,
        "pending" => Tag::Pending,
        "earliest" => Tag::Earliest,
        h if h.len() == 66 => {
            Tag::Hash(h.parse().map_err(|_| err(codes::INVALID_PARAMS, format!("invalid block hash {h:?}")))?)
        }
        n => Tag::Number(n.strip_prefix("0x").and_then(|h| u64::from_str_radix(h, 16).ok()).ok_or_else(|| {
            err(codes::INVALID_PARAMS, format!("invalid block parameter {n:?}: expected a tag or a hex number"))
        })?),
    })
}

pub(crate) fn q(v: u64) -> Value {
    json!(format!("{v:#x}"))
}

fn q128(v: u128) -> Value {
    json!(format!("{v:#x}"))
}

/// A decoded transaction of either chain kind.
enum AnyTx {
    L1(TxEnvelope),
    L2(OpTxEnvelope),
}

impl AnyTx {
    fn decode(l2: bool, raw: &[u8]) -> Option<Self> {
        if l2 {
            OpTxEnvelope::decode_2718_exact(raw).ok().map(Self::L2)
        } else {
            TxEnvelope::decode_2718_exact(raw).ok().map(Self::L1)
        }
    }
    fn json(&self) -> Value {
        match self {
            Self::L1(t) => serde_json::to_value(t).unwrap_or_default(),
            Self::L2(t) => serde_json::to_value(t).unwrap_or_default(),
        }
    }
    fn to(&self) -> Option<Address> {
        match self {
            Self::L1(t) => t.to(),
            Self::L2(t) => t.to(),
        }
    }
    fn nonce(&self) -> u64 {
        match self {
            Self::L1(t) => t.nonce(),
            Self::L2(t) => t.nonce(),
        }
    }
    fn effective_gas_price(&self, base_fee: Option<u64>) -> u128 {
        match self {
            Self::L1(t) => t.effective_gas_price(base_fee),
            Self::L2(t) if t.is_deposit() => 0,
            Self::L2(t) => t.effective_gas_price(base_fee),
        }
    }
    fn ty(&self) -> u8 {
        match self {
            Self::L1(t) => t.ty(),
            Self::L2(t) => t.ty(),
        }
    }
}

/// A decoded receipt of either chain kind.
struct AnyReceipt {
    status: bool,
    cumulative_gas_used: u64,
    logs: Vec<alloy_primitives::Log>,
    bloom: alloy_primitives::Bloom,
    deposit: Option<(Option<u64>, Option<u64>)>,
}

impl AnyReceipt {
    fn decode(l2: bool, raw: &[u8]) -> Option<Self> {
        if l2 {
            let r = OpReceiptEnvelope::decode_2718_exact(raw).ok()?;
            let deposit = match &r {
                OpReceiptEnvelope::Deposit(d) => Some((d.receipt.deposit_nonce, d.receipt.deposit_receipt_version)),
                _ => None,
            };
            Some(Self {
                status: r.status(),
                cumulative_gas_used: r.cumulative_gas_used(),
                logs: r.logs().to_vec(),
                bloom: r.bloom(),
                deposit,
            })
        } else {
            let r = alloy_consensus::ReceiptEnvelope::decode_2718_exact(raw).ok()?;
            Some(Self {
                status: r.status(),
                cumulative_gas_used: r.cumulative_gas_used(),
                logs: r.logs().to_vec(),
                bloom: r.bloom(),
                deposit: None,
            })
        }
    }
}

impl ChainRpc {
    /// The RPC module of one chain.
    pub fn module(
        config: ChainConfig,
        edges: Edges,
        miner: Option<actix::Addr<crate::BuilderSupervisor>>,
    ) -> RpcModule<Arc<Self>> {
        Self::module_of(Self::new(config, edges, miner, Default::default()))
    }

    /// The per-chain context; `forkchoice`: the labels a consensus client sets through the engine
    /// API (an L2's `safe` and `finalized`).
    pub fn new(
        config: ChainConfig,
        edges: Edges,
        miner: Option<actix::Addr<crate::BuilderSupervisor>>,
        forkchoice: Arc<crate::engine::Forkchoice>,
    ) -> Arc<Self> {
        Arc::new(Self { builder: BlockBuilder::new(config.clone()), config, edges, miner, forkchoice })
    }

    /// The RPC module over a per-chain context.
    pub fn module_of(ctx: Arc<Self>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(ctx);
        macro_rules! method {
            ($name:literal, $f:ident) => {
                m.register_async_method($name, |p, c, _| async move { c.$f(p).await }).expect("unique method name");
            };
        }
        method!("eth_chainId", chain_id);
        method!("net_version", net_version);
        method!("web3_clientVersion", client_version);
        method!("eth_syncing", syncing);
        method!("eth_accounts", accounts);
        method!("eth_blockNumber", block_number);
        method!("eth_getBlockByNumber", block_by_number);
        method!("eth_getBlockByHash", block_by_hash);
        method!("eth_getTransactionByHash", tx_by_hash);
        method!("eth_getTransactionReceipt", receipt);
        method!("eth_getLogs", get_logs);
        method!("eth_getBlockReceipts", block_receipts);
        method!("eth_getBalance", balance);
        method!("eth_getTransactionCount", tx_count);
        method!("eth_getCode", code);
        method!("eth_getStorageAt", storage_at);
        method!("eth_getProof", get_proof);
        method!("eth_call", call);
        method!("eth_estimateGas", estimate_gas);
        method!("eth_gasPrice", gas_price);
        method!("eth_maxPriorityFeePerGas", max_priority_fee);
        method!("eth_blobBaseFee", blob_base_fee);
        method!("eth_feeHistory", fee_history);
        method!("eth_sendRawTransaction", send_raw);
        method!("txpool_status", txpool_status);
        method!("txpool_content", txpool_content);
        method!("txpool_contentFrom", txpool_content_from);
        method!("txpool_inspect", txpool_inspect);
        method!("anvil_dropTransaction", drop_transaction);
        method!("debug_dumpBlock", dump_block);
        method!("evm_mine", evm_mine);
        method!("anvil_mine", anvil_mine);
        method!("debug_getRawTransaction", raw_tx);
        method!("debug_getRawHeader", raw_header);
        method!("test_open", test_open);
        method!("test_includeRaw", test_include_raw);
        method!("test_includeByHash", test_include_by_hash);
        method!("test_includeFirst", test_include_first);
        method!("test_includeBest", test_include_best);
        method!("test_inspect", test_inspect);
        method!("test_seal", test_seal);
        method!("test_sealGroup", test_seal_group);
        method!("test_commit", test_commit);
        method!("test_cancel", test_cancel);
        method!("test_close", test_close);
        method!("test_jobs", test_jobs);
        method!("test_auto", test_auto);
        method!("test_setHead", test_set_head);
        method!("test_accessList", test_access_list);
        m
    }

    pub(crate) fn chain(&self) -> ChainId {
        self.config.chain_id
    }

    pub(crate) const fn config(&self) -> &ChainConfig {
        &self.config
    }

    pub(crate) const fn builder(&self) -> &BlockBuilder {
        &self.builder
    }

    pub(crate) const fn edges(&self) -> &Edges {
        &self.edges
    }

    pub(crate) fn is_l2(&self) -> bool {
        self.config.is_l2()
    }

    pub(crate) const fn miner(&self) -> Option<&actix::Addr<crate::BuilderSupervisor>> {
        self.miner.as_ref()
    }

    fn l2(&self) -> bool {
        self.config.is_l2()
    }

    async fn head_block(&self) -> Result<SealedBlock, ErrorObjectOwned> {
        let head = self.edges.state.head(self.chain()).await.map_err(edge)?;
        self.edges
            .state
            .block_by_number(self.chain(), head.number)
            .await
            .map_err(edge)?
            .ok_or_else(|| err(codes::INTERNAL, "head block missing"))
    }

    /// `safe` and `finalized` as block numbers on the L1 mock; on an L2 the blocks a consensus
    /// client set through the engine API, else the head; other tags as they are.
    async fn label(&self, tag: Tag) -> Result<Tag, ErrorObjectOwned> {
        let distance = match tag {
            Tag::Safe => L1_SAFE_DISTANCE,
            Tag::Finalized => L1_FINALIZED_DISTANCE,
            other => return Ok(other),
        };
        if self.config.is_l2() {
            let (safe, finalized) = self.forkchoice.labels(self.chain());
            let set = if matches!(tag, Tag::Safe) { safe } else { finalized };
            return Ok(set.map_or(Tag::Latest, |b| Tag::Hash(b.hash)));
        }
        let head = self.edges.state.head(self.chain()).await.map_err(edge)?;
        Ok(Tag::Number(head.number.saturating_sub(distance)))
    }

    pub(crate) async fn resolve(&self, tag: Tag) -> Result<Option<SealedBlock>, ErrorObjectOwned> {
        match self.label(tag).await? {
            Tag::Safe | Tag::Finalized => unreachable!("labels resolved"),
            Tag::Latest | Tag::Pending => Ok(Some(self.head_block().await?)),
            Tag::Earliest => self.edges.state.block_by_number(self.chain(), 0).await.map_err(edge),
            Tag::Number(n) => self.edges.state.block_by_number(self.chain(), n).await.map_err(edge),
            Tag::Hash(h) => self.edges.state.block_by_hash(self.chain(), h).await.map_err(edge),
        }
    }

    /// The block whose state a read names: `None` for the head (`latest`, `pending`, or a tag
    /// that resolves to the head), else the known block (any block the store keeps the change
    /// records to reach; past them the store's error says so). An unknown or future block is
    /// geth's "header not found".
    async fn state_at(&self, tag: Tag) -> Result<Option<SealedBlock>, ErrorObjectOwned> {
        if matches!(tag, Tag::Latest | Tag::Pending) {
            return Ok(None);
        }
        let block = self.resolve(tag).await?.ok_or_else(|| err(codes::SERVER, "header not found"))?;
        let head = self.edges.state.head(self.chain()).await.map_err(edge)?;
        Ok((block.hash != head.hash).then_some(block))
    }

    /// An account at the block `tag` names (the head's, or a past block's through its proof).
    async fn account_at(&self, tag: Tag, a: Address) -> Result<opseq_primitives::AccountState, ErrorObjectOwned> {
        match self.state_at(tag).await? {
            Some(block) => Ok(self.past_state(&block, a, vec![]).await?.0),
            None => self.account(a).await,
        }
    }

    /// An account and storage slots at a past block (through the store's proofs there).
    async fn past_state(
        &self,
        block: &SealedBlock,
        a: Address,
        slots: Vec<U256>,
    ) -> Result<(opseq_primitives::AccountState, Vec<U256>), ErrorObjectOwned> {
        let proof = self.edges.state.proof(self.chain(), a, slots, Some(block.hash)).await.map_err(edge)?;
        let acct = proof.account.unwrap_or(opseq_primitives::AccountState {
            code_hash: alloy_primitives::KECCAK256_EMPTY,
            ..Default::default()
        });
        Ok((acct, proof.storage.into_iter().map(|(_, v, _)| v).collect()))
    }

    async fn chain_id(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(q(self.chain()))
    }
    async fn net_version(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(json!(self.chain().to_string()))
    }
    async fn client_version(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(json!(concat!("op-sequencer/v", env!("CARGO_PKG_VERSION"))))
    }
    async fn syncing(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(json!(false))
    }
    async fn accounts(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(json!([]))
    }
    async fn block_number(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(q(self.edges.state.head(self.chain()).await.map_err(edge)?.number))
    }

    async fn block_by_number(&self, p: Params<'static>) -> RpcResult {
        let (tag, full): (Value, Option<bool>) = p.parse()?;
        let block = self.resolve(parse_tag(Some(tag))?).await?;
        Ok(block.map(|b| self.block_json(&b, full.unwrap_or(false))).unwrap_or(Value::Null))
    }

    async fn block_by_hash(&self, p: Params<'static>) -> RpcResult {
        let (hash, full): (B256, Option<bool>) = p.parse()?;
        let block = self.edges.state.block_by_hash(self.chain(), hash).await.map_err(edge)?;
        Ok(block.map(|b| self.block_json(&b, full.unwrap_or(false))).unwrap_or(Value::Null))
    }

    pub(crate) fn block_json(&self, b: &SealedBlock, full: bool) -> Value {
        let mut v = serde_json::to_value(&b.header).unwrap_or_default();
        let o = v.as_object_mut().expect("header is an object");
        o.insert("hash".into(), json!(b.hash));
        o.insert("size".into(), q(block_size(b)));
        o.insert("uncles".into(), json!([]));
        o.insert("withdrawals".into(), json!([]));
        let txs: Vec<Value> = if full {
            (0..b.transactions.len()).filter_map(|i| self.tx_json(b, i)).collect()
        } else {
            b.tx_hashes.iter().map(|h| json!(h)).collect()
        };
        o.insert("transactions".into(), Value::Array(txs));
        v
    }

    fn tx_json(&self, b: &SealedBlock, i: usize) -> Option<Value> {
        let tx = AnyTx::decode(self.l2(), &b.transactions[i])?;
        let mut v = tx.json();
        let o = v.as_object_mut()?;
        o.insert("hash".into(), json!(b.tx_hashes[i]));
        o.insert("blockHash".into(), json!(b.hash));
        o.insert("blockNumber".into(), q(b.header.number));
        o.insert("transactionIndex".into(), q(i as u64));
        o.insert("blockTimestamp".into(), q(b.header.timestamp));
        o.insert("from".into(), json!(b.senders[i]));
        o.insert("gasPrice".into(), q128(tx.effective_gas_price(b.header.base_fee_per_gas)));
        if let AnyTx::L2(OpTxEnvelope::Deposit(_)) = tx {
            // op-geth's deposit JSON has v/r/s zero but no yParity.
            o.remove("yParity");
        }
        if let AnyTx::L2(OpTxEnvelope::Deposit(_)) = tx
            && let Some(r) = b.receipts.get(i).and_then(|r| AnyReceipt::decode(true, r))
            && let Some((Some(n), version)) = r.deposit
        {
            o.insert("nonce".into(), q(n));
            if let Some(ver) = version {
                o.insert("depositReceiptVersion".into(), q(ver));
            }
        }
        Some(v)
    }

    pub(crate) async fn located(&self, hash: B256) -> Result<Option<(SealedBlock, usize)>, ErrorObjectOwned> {
        let Some(loc) = self.edges.state.tx_location(self.chain(), hash).await.map_err(edge)? else { return Ok(None) };
        let block = self.edges.state.block_by_number(self.chain(), loc.block_number).await.map_err(edge)?;
        Ok(block.filter(|b| b.tx_hashes.get(loc.index as usize) == Some(&hash)).map(|b| (b, loc.index as usize)))
    }

    async fn tx_by_hash(&self, p: Params<'static>) -> RpcResult {
        let (hash,): (B256,) = p.parse()?;
        if let Some((b, i)) = self.located(hash).await? {
            return Ok(self.tx_json(&b, i).unwrap_or(Value::Null));
        }
        // Pending: the pooled tx, without block fields (as geth).
        if let Some(tx) = self.edges.txs.get(self.chain(), hash).await.map_err(edge)?
            && let Some(any) = AnyTx::decode(self.l2(), &tx.raw)
        {
            let mut v = any.json();
            if let Some(o) = v.as_object_mut() {
                o.insert("hash".into(), json!(hash));
                o.insert("from".into(), json!(tx.sender));
                o.insert("blockHash".into(), Value::Null);
                o.insert("blockNumber".into(), Value::Null);
                o.insert("transactionIndex".into(), Value::Null);
                o.insert("gasPrice".into(), q128(tx.max_fee_per_gas));
            }
            return Ok(v);
        }
        Ok(Value::Null)
    }

    async fn receipt(&self, p: Params<'static>) -> RpcResult {
        let (hash,): (B256,) = p.parse()?;
        let Some((b, i)) = self.located(hash).await? else { return Ok(Value::Null) };
        let rs = self.decode_receipts(&b, i + 1)?;
        let (prev, log_offset) = rs[..i].iter().fold((0, 0), |(_, n), r| (r.cumulative_gas_used, n + r.logs.len()));
        let fees = self.block_fees(&b);
        self.receipt_json(&b, i, &rs[i], prev, log_offset, &fees)
    }

    /// `eth_getBlockReceipts`: every receipt of a block (null for an unknown block), decoding the
    /// block's receipts once.
    async fn block_receipts(&self, p: Params<'static>) -> RpcResult {
        let (tag,): (Value,) = p.parse()?;
        let block = match serde_json::from_value::<B256>(tag.clone()) {
            Ok(h) => self.edges.state.block_by_hash(self.chain(), h).await.map_err(edge)?,
            Err(_) => self.resolve(parse_tag(Some(tag))?).await?,
        };
        let Some(b) = block else { return Ok(Value::Null) };
        let rs = self.decode_receipts(&b, b.receipts.len())?;
        let (mut prev, mut log_offset) = (0, 0);
        let mut out = Vec::with_capacity(rs.len());
        let fees = self.block_fees(&b);
        for (i, r) in rs.iter().enumerate() {
            out.push(self.receipt_json(&b, i, r, prev, log_offset, &fees)?);
            prev = r.cumulative_gas_used;
            log_offset += r.logs.len();
        }
        Ok(Value::Array(out))
    }

    /// The first `n` receipts of a block, decoded.
    fn decode_receipts(&self, b: &SealedBlock, n: usize) -> Result<Vec<AnyReceipt>, ErrorObjectOwned> {
        b.receipts[..n]
            .iter()
            .map(|raw| {
                AnyReceipt::decode(self.l2(), raw).ok_or_else(|| err(codes::INTERNAL, "stored receipt undecodable"))
            })
            .collect()
    }

    /// The OP receipt fields' block-wide values (none on L1 chains).
    fn block_fees(&self, b: &SealedBlock) -> crate::op_receipt::BlockFees {
        let jovian = self.l2() && self.builder.is_jovian_at(b.header.timestamp);
        crate::op_receipt::BlockFees::of(if self.l2() { &b.transactions } else { &[] }, jovian)
    }

    /// A receipt's JSON; `prev` is the previous receipt's cumulative gas, `log_offset` the number
    /// of logs before it in the block, `fees` the block's OP receipt fields.
    fn receipt_json(
        &self,
        b: &SealedBlock,
        i: usize,
        r: &AnyReceipt,
        prev: u64,
        log_offset: usize,
        fees: &crate::op_receipt::BlockFees,
    ) -> RpcResult {
        let hash = b.tx_hashes[i];
        let tx = AnyTx::decode(self.l2(), &b.transactions[i])
            .ok_or_else(|| err(codes::INTERNAL, "stored tx undecodable"))?;
        let from = b.senders[i];
        let contract = tx.to().is_none().then(|| from.create(tx.nonce()));
        let logs: Vec<Value> =
            r.logs.iter().enumerate().map(|(j, l)| log_json(b, i, (log_offset + j) as u64, l)).collect();
        let mut v = json!({
            "transactionHash": hash,
            "transactionIndex": q(i as u64),
            "blockHash": b.hash,
            "blockNumber": q(b.header.number),
            "from": from,
            "to": tx.to(),
            "cumulativeGasUsed": q(r.cumulative_gas_used),
            "gasUsed": q(r.cumulative_gas_used - prev),
            "effectiveGasPrice": q128(tx.effective_gas_price(b.header.base_fee_per_gas)),
            "contractAddress": contract,
            "logs": logs,
            "logsBloom": r.bloom,
            "type": q(tx.ty() as u64),
            "status": if r.status { "0x1" } else { "0x0" },
        });
        fees.add(&b.transactions[i], v.as_object_mut().expect("object"));
        if let Some((nonce, version)) = r.deposit {
            let o = v.as_object_mut().expect("object");
            if let Some(n) = nonce {
                o.insert("depositNonce".into(), q(n));
            }
            if let Some(ver) = version {
                o.insert("depositReceiptVersion".into(), q(ver));
            }
        }
        Ok(v)
    }

    /// `eth_getLogs` over at most [`MAX_LOG_RANGE`] blocks: by `blockHash`, or `fromBlock`..`toBlock`
    /// (default latest), `address` (one or a list) and `topics` (positional; null = any, a list =
    /// any of).
    async fn get_logs(&self, p: Params<'static>) -> RpcResult {
        let (f,): (LogFilter,) = p.parse()?;
        self.logs_of(f).await
    }

    /// `eth_getLogs` of a filter object (what `eth_getFilterLogs` asks).
    pub(crate) async fn get_logs_of(&self, filter: Value) -> RpcResult {
        let f: LogFilter =
            serde_json::from_value(filter).map_err(|e| err(codes::INVALID_PARAMS, format!("invalid filter: {e}")))?;
        self.logs_of(f).await
    }

    async fn logs_of(&self, f: LogFilter) -> RpcResult {
        let blocks: Vec<SealedBlock> = match f.block_hash {
            Some(h) => {
                if f.from_block.is_some() || f.to_block.is_some() {
                    return Err(err(codes::INVALID_PARAMS, "blockHash cannot be combined with fromBlock/toBlock"));
                }
                vec![
                    self.edges
                        .state
                        .block_by_hash(self.chain(), h)
                        .await
                        .map_err(edge)?
                        .ok_or_else(|| err(codes::SERVER, format!("unknown block {h}")))?,
                ]
            }
            None => {
                let head = self.edges.state.head(self.chain()).await.map_err(edge)?.number;
                let num = |t: Tag| match t {
                    Tag::Latest | Tag::Pending | Tag::Safe | Tag::Finalized | Tag::Hash(_) => head,
                    Tag::Earliest => 0,
                    Tag::Number(n) => n,
                };
                let from = num(self.label(parse_tag(f.from_block.clone())?).await?);
                let to = num(self.label(parse_tag(f.to_block.clone())?).await?).min(head);
                if from > to {
                    return Ok(json!([]));
                }
                if to - from >= MAX_LOG_RANGE {
                    return Err(err(
                        codes::SERVER,
                        format!("query exceeds the max block range {MAX_LOG_RANGE}: {from}..={to}"),
                    ));
                }
                let mut v = Vec::new();
                for n in from..=to {
                    if let Some(b) = self.edges.state.block_by_number(self.chain(), n).await.map_err(edge)? {
                        v.push(b);
                    }
                }
                v
            }
        };
        let matcher = LogMatcher::new(f.address, f.topics)?;
        let mut out = Vec::new();
        for b in &blocks {
            out.extend(self.block_logs(b, &matcher, false)?);
        }
        Ok(Value::Array(out))
    }

    /// The logs of `b` that `matcher` takes, as `eth_getLogs` gives them (`removed` set as asked:
    /// true for the logs of a block a reorg took out, as subscriptions report them).
    pub(crate) fn block_logs(
        &self,
        b: &SealedBlock,
        matcher: &LogMatcher,
        removed: bool,
    ) -> Result<Vec<Value>, ErrorObjectOwned> {
        let mut out = Vec::new();
        let mut log_index = 0u64;
        for (i, r) in self.decode_receipts(b, b.receipts.len())?.iter().enumerate() {
            for l in &r.logs {
                if matcher.takes(l) {
                    let mut v = log_json(b, i, log_index, l);
                    v["removed"] = json!(removed);
                    out.push(v);
                }
                log_index += 1;
            }
        }
        Ok(out)
    }

    async fn account(&self, a: Address) -> Result<opseq_primitives::AccountState, ErrorObjectOwned> {
        Ok(self.edges.state.accounts(self.chain(), vec![a]).await.map_err(edge)?.pop().flatten().unwrap_or_default())
    }

    async fn balance(&self, p: Params<'static>) -> RpcResult {
        let (a, tag): (Address, Option<Value>) = p.parse()?;
        let acct = self.account_at(parse_tag(tag)?, a).await?;
        Ok(json!(format!("{:#x}", acct.balance)))
    }

    async fn tx_count(&self, p: Params<'static>) -> RpcResult {
        let (a, tag): (Address, Option<Value>) = p.parse()?;
        let tag = parse_tag(tag)?;
        let nonce = self.account_at(tag, a).await?.nonce;
        if let Tag::Pending = tag
            && let Some(n) = self.edges.txs.pending_nonce(self.chain(), a).await.map_err(edge)?
        {
            return Ok(q(n.max(nonce)));
        }
        Ok(q(nonce))
    }

    async fn code(&self, p: Params<'static>) -> RpcResult {
        let (a, tag): (Address, Option<Value>) = p.parse()?;
        let acct = self.account_at(parse_tag(tag)?, a).await?;
        let code = self.edges.state.code(self.chain(), acct.code_hash).await.map_err(edge)?.unwrap_or_default();
        Ok(json!(code))
    }

    async fn storage_at(&self, p: Params<'static>) -> RpcResult {
        let (a, slot, tag): (Address, U256, Option<Value>) = p.parse()?;
        let v = match self.state_at(parse_tag(tag)?).await? {
            Some(block) => self.past_state(&block, a, vec![slot]).await?.1.pop().unwrap_or_default(),
            None => {
                self.edges.state.storage(self.chain(), vec![(a, slot)]).await.map_err(edge)?.pop().unwrap_or_default()
            }
        };
        Ok(json!(B256::from(v)))
    }

    /// `eth_getProof` (EIP-1186) at any known block (by tag, number or hash): what op-proposer,
    /// bridges, and op-node (the SystemConfig's unsafe-signer slot, at L1 blocks) read.
    async fn get_proof(&self, p: Params<'static>) -> RpcResult {
        let (a, slots, tag): (Address, Vec<U256>, Option<Value>) = p.parse()?;
        if slots.len() > 1024 {
            return Err(err(codes::INVALID_PARAMS, "at most 1024 storage keys per proof (as geth)"));
        }
        let tag = parse_tag(tag)?;
        let at = match tag {
            Tag::Latest | Tag::Pending => None,
            _ => {
                let block = self.resolve(tag).await?.ok_or_else(|| err(codes::SERVER, "header not found"))?;
                let head = self.edges.state.head(self.chain()).await.map_err(edge)?;
                (block.hash != head.hash).then_some(block.hash)
            }
        };
        let proof = self.edges.state.proof(self.chain(), a, slots, at).await.map_err(edge)?;
        let acct = proof.account.unwrap_or_default();
        let empty = proof.account.is_none();
        Ok(json!({
            "address": a,
            "accountProof": proof.account_proof,
            "balance": format!("{:#x}", acct.balance),
            "codeHash": if empty { alloy_primitives::KECCAK256_EMPTY } else { acct.code_hash },
            "nonce": q(acct.nonce),
            "storageHash": proof.storage_root,
            "storageProof": proof.storage.iter().map(|(k, v, nodes)| json!({
                "key": B256::from(*k),
                "value": format!("{v:#x}"),
                "proof": nodes,
            })).collect::<Vec<_>>(),
        }))
    }

    async fn next_block(&self) -> Result<NextBlock, ErrorObjectOwned> {
        let head = self.head_block().await?;
        self.next_block_after(head).await
    }

    /// The block after `head` as a call sees it (its timestamp, base fee, L1 origin).
    async fn next_block_after(&self, head: SealedBlock) -> Result<NextBlock, ErrorObjectOwned> {
        let l1_origin = match (self.config.l1_chain_id, head.l1_origin) {
            (Some(l1), Some(o)) => self.edges.state.block_by_number(l1, o.number).await.map_err(edge)?.map(|b| {
                opseq_executor::L1Origin { header: b.header, hash: b.hash, sequence_number: 0, deposits: vec![] }
            }),
            _ => None,
        };
        Ok(NextBlock {
            timestamp: head.header.timestamp + self.config.block_time,
            parent: head.header,
            parent_hash: head.hash,
            l1_origin,
            overrides: Default::default(),
        })
    }

    pub(crate) async fn run_call<T: Send + 'static>(
        &self,
        p: Params<'static>,
        f: impl FnOnce(&BlockBuilder, &EdgeReader, &NextBlock, &CallRequest) -> Result<T, CallError> + Send + 'static,
    ) -> Result<T, ErrorObjectOwned> {
        let mut seq = p.sequence();
        let req: CallArgs = seq.next()?;
        let tag: Option<Value> = seq.optional_next()?;
        let at = self.state_at(parse_tag(tag)?).await?;
        let req = req.into_request()?;
        // At a past block: the head state under that block's overlay (the store's change records).
        let (next, reader) = match at {
            None => (
                self.next_block().await?,
                Arc::new(EdgeReader::new(
                    Arc::clone(&self.edges.state),
                    self.chain(),
                    tokio::runtime::Handle::current(),
                )),
            ),
            Some(block) => {
                let (reader, _) = crate::chain::reader_for(&self.edges, self.chain(), &block).await.map_err(edge)?;
                (self.next_block_after(block).await?, reader)
            }
        };
        let mut touch: Vec<Address> = req.from.into_iter().collect();
        touch.extend(req.to);
        reader.prefetch(touch).await.map_err(|e| err(codes::SERVER, e))?;
        let builder = self.builder.clone();
        tokio::task::spawn_blocking(move || f(&builder, &reader, &next, &req))
            .await
            .map_err(|e| err(codes::INTERNAL, e.to_string()))?
            .map_err(call_err)
    }

    async fn call(&self, p: Params<'static>) -> RpcResult {
        let r = self.run_call(p, |b, r, n, q| b.call(r, n, q)).await?;
        if r.success {
            Ok(json!(r.output))
        } else if let Some(h) = r.halt {
            Err(err(codes::SERVER, format!("execution halted: {h}")))
        } else {
            Err(revert_err(&r.output))
        }
    }

    async fn estimate_gas(&self, p: Params<'static>) -> RpcResult {
        Ok(q(self.run_call(p, |b, r, n, q| b.estimate_gas(r, n, q)).await?))
    }

    fn suggested_tip(&self) -> u128 {
        // L1 mock: 1 gwei (anvil's default); L2: 0.001 gwei, OP chains' usual tip.
        if self.l2() { 1_000_000 } else { 1_000_000_000 }
    }

    async fn gas_price(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        let head = self.head_block().await?;
        Ok(q128(self.builder.next_base_fee(&head.header) as u128 + self.suggested_tip()))
    }

    /// geth's `eth_blobBaseFee`: the blob base fee of the head's excess blob gas (Prague
    /// parameters on the L1 mock; an L2's excess blob gas is 0, so 1 wei). op-batcher prices its
    /// transactions with it.
    async fn blob_base_fee(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        let head = self.head_block().await?;
        let excess = head.header.excess_blob_gas.unwrap_or_default();
        Ok(q128(alloy_eips::eip7840::BlobParams::prague().calc_blob_fee(excess)))
    }

    async fn max_priority_fee(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        Ok(q128(self.suggested_tip()))
    }

    async fn fee_history(&self, p: Params<'static>) -> RpcResult {
        let (count, newest, percentiles): (Value, Value, Option<Vec<f64>>) = p.parse()?;
        let count = match &count {
            Value::Number(n) => n.as_u64().unwrap_or(0),
            Value::String(s) => s
                .strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .or_else(|| s.parse().ok())
                .unwrap_or(0),
            _ => 0,
        }
        .clamp(1, 1024);
        let newest = self
            .resolve(parse_tag(Some(newest))?)
            .await?
            .ok_or_else(|| err(codes::SERVER, "newest block not found"))?;
        let mut oldest = newest.header.number.saturating_sub(count - 1);
        // A forked chain holds no blocks below its fork block: the history starts there.
        while oldest < newest.header.number
            && self.edges.state.block_by_number(self.chain(), oldest).await.map_err(edge)?.is_none()
        {
            oldest += 1;
        }
        let mut base = Vec::new();
        let mut ratio = Vec::new();
        let mut reward = Vec::new();
        let mut blob_fee = Vec::new();
        let mut blob_ratio = Vec::new();
        let mut last = None;
        for n in oldest..=newest.header.number {
            let b = self
                .edges
                .state
                .block_by_number(self.chain(), n)
                .await
                .map_err(edge)?
                .ok_or_else(|| err(codes::INTERNAL, "block missing"))?;
            base.push(q(b.header.base_fee_per_gas.unwrap_or_default()));
            ratio.push(json!(b.header.gas_used as f64 / b.header.gas_limit.max(1) as f64));
            blob_fee.push(json!("0x1"));
            blob_ratio.push(json!(0.0));
            if let Some(ps) = &percentiles {
                reward.push(Value::Array(ps.iter().map(|_| q128(self.suggested_tip())).collect()));
            }
            last = Some(b);
        }
        let last = last.expect("at least one block");
        base.push(q(self.builder.next_base_fee(&last.header)));
        blob_fee.push(json!("0x1"));
        let mut v = json!({"oldestBlock": q(oldest), "baseFeePerGas": base, "gasUsedRatio": ratio, "baseFeePerBlobGas": blob_fee, "blobGasUsedRatio": blob_ratio});
        if percentiles.is_some() {
            v["reward"] = Value::Array(reward);
        }
        Ok(v)
    }

    #[tracing::instrument(name = "eth_sendRawTransaction", target = "opseq::builder::rpc", skip_all, fields(chain_id = self.chain()))]
    async fn send_raw(&self, p: Params<'static>) -> RpcResult {
        let (raw,): (String,) = p.parse()?;
        let bytes = hex::decode(raw.trim_start_matches("0x"))
            .map_err(|_| err(codes::INVALID_PARAMS, "invalid raw transaction: not hex"))?;
        let (hash, _) = self.edges.txs.submit(self.chain(), Bytes::from(bytes)).await.map_err(edge)?;
        Ok(json!(hash))
    }

    /// anvil's `anvil_mine(count?)`: builds `count` blocks (default 1) back to back.
    async fn anvil_mine(&self, p: Params<'static>) -> RpcResult {
        let count: Option<Value> = p.sequence().optional_next()?;
        let count = match count {
            None | Some(Value::Null) => 1,
            Some(Value::Number(n)) => {
                n.as_u64().ok_or_else(|| err(codes::INVALID_PARAMS, "block count must be a positive integer"))?
            }
            Some(Value::String(s)) => u64::from_str_radix(s.trim_start_matches("0x"), 16)
                .map_err(|_| err(codes::INVALID_PARAMS, format!("invalid block count {s:?}")))?,
            Some(other) => return Err(err(codes::INVALID_PARAMS, format!("invalid block count {other}"))),
        };
        if count > 1_000_000 {
            return Err(err(codes::INVALID_PARAMS, "at most 1,000,000 blocks per call"));
        }
        let miner = self.miner.as_ref().ok_or_else(|| err(codes::SERVER, "mining is not available in this process"))?;
        for _ in 0..count {
            miner
                .send(crate::Mine(self.chain()))
                .await
                .map_err(|_| err(codes::SERVER, "builder supervisor stopped"))?
                .map_err(edge)?;
        }
        Ok(Value::Null)
    }

    /// geth's `debug_getRawTransaction`: the EIP-2718 bytes of a mined or pooled tx.
    async fn raw_tx(&self, p: Params<'static>) -> RpcResult {
        let (hash,): (B256,) = p.parse()?;
        if let Some((b, i)) = self.located(hash).await? {
            return Ok(json!(b.transactions[i]));
        }
        Ok(self.edges.txs.get(self.chain(), hash).await.map_err(edge)?.map(|t| json!(t.raw)).unwrap_or(Value::Null))
    }

    /// geth's `debug_getRawHeader`: the RLP of a header.
    async fn raw_header(&self, p: Params<'static>) -> RpcResult {
        let (tag,): (Value,) = p.parse()?;
        let Some(b) = self.resolve(parse_tag(Some(tag))?).await? else { return Ok(Value::Null) };
        let mut out = Vec::new();
        alloy_rlp::Encodable::encode(&b.header, &mut out);
        Ok(json!(Bytes::from(out)))
    }

    /// anvil's `evm_mine`: builds one block now (with the pool's best txs), whatever the schedule.
    async fn evm_mine(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        let miner = self.miner.as_ref().ok_or_else(|| err(codes::SERVER, "mining is not available in this process"))?;
        let block = miner
            .send(crate::Mine(self.chain()))
            .await
            .map_err(|_| err(codes::SERVER, "builder supervisor stopped"))?
            .map_err(edge)?;
        tracing::debug!(target: "opseq::builder::rpc", chain_id = self.chain(), number = block.header.number, "evm_mine");
        Ok(json!("0x0"))
    }

    /// `eth_sendRawTransaction` calls of one JSON-RPC batch, submitted together (senders
    /// recovered in parallel, one journal write); returns one response object per call.
    pub(crate) async fn send_raw_batch(&self, calls: Vec<(Value, Value)>) -> Vec<Value> {
        let mut raws = Vec::with_capacity(calls.len());
        let mut out: Vec<Option<Value>> = vec![None; calls.len()];
        let mut slots = Vec::new();
        for (i, (id, params)) in calls.iter().enumerate() {
            let raw = params
                .as_array()
                .filter(|a| a.len() == 1)
                .and_then(|a| a[0].as_str())
                .and_then(|s| hex::decode(s.trim_start_matches("0x")).ok());
            match raw {
                Some(b) => {
                    slots.push(i);
                    raws.push(Bytes::from(b));
                }
                None => {
                    out[i] = Some(
                        json!({"jsonrpc": "2.0", "id": id, "error": {"code": codes::INVALID_PARAMS, "message": "invalid raw transaction: expected one hex string"}}),
                    );
                }
            }
        }
        let error_json = |id: &Value, e: ErrorObjectOwned| json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code(), "message": e.message()}});
        match self.edges.txs.submit_many(self.chain(), raws).await {
            Ok(results) => {
                for (i, r) in slots.into_iter().zip(results) {
                    let id = &calls[i].0;
                    out[i] = Some(match r {
                        Ok((hash, _)) => json!({"jsonrpc": "2.0", "id": id, "result": hash}),
                        Err(e) => error_json(id, edge(e)),
                    });
                }
            }
            Err(e) => {
                let e = edge(e);
                for i in slots {
                    out[i] = Some(error_json(&calls[i].0, e.clone()));
                }
            }
        }
        out.into_iter().map(Option::unwrap_or_default).collect()
    }

    fn pool_tx_json(&self, t: &opseq_primitives::PoolTx) -> Value {
        let mut v = AnyTx::decode(self.l2(), &t.raw).map(|d| d.json()).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("hash".into(), json!(t.hash));
            o.insert("from".into(), json!(t.sender));
            o.insert("blockHash".into(), Value::Null);
            o.insert("blockNumber".into(), Value::Null);
            o.insert("transactionIndex".into(), Value::Null);
        }
        v
    }

    /// geth's `txpool_content` layout: `{pending|queued: {sender: {nonce: tx}}}`.
    async fn pool_content(
        &self,
        from: Option<Address>,
        f: impl Fn(&Self, &opseq_primitives::PoolTx) -> Value,
    ) -> RpcResult {
        let content = self.edges.txs.content(self.chain()).await.map_err(edge)?;
        let mut pending = serde_json::Map::new();
        let mut queued = serde_json::Map::new();
        for (t, is_pending) in content.iter().filter(|(t, _)| from.is_none_or(|a| t.sender == a)) {
            let side = if *is_pending { &mut pending } else { &mut queued };
            let by_nonce = side.entry(t.sender.to_checksum(None)).or_insert_with(|| json!({}));
            by_nonce[t.nonce.to_string()] = f(self, t);
        }
        if from.is_some() {
            // contentFrom: one sender, so no sender level.
            let flat =
                |m: serde_json::Map<String, Value>| m.into_iter().next().map(|(_, v)| v).unwrap_or_else(|| json!({}));
            return Ok(json!({"pending": flat(pending), "queued": flat(queued)}));
        }
        Ok(json!({"pending": pending, "queued": queued}))
    }

    async fn txpool_content(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        self.pool_content(None, Self::pool_tx_json).await
    }

    async fn txpool_content_from(&self, p: Params<'static>) -> RpcResult {
        let (a,): (Address,) = p.parse()?;
        self.pool_content(Some(a), Self::pool_tx_json).await
    }

    /// geth's `txpool_inspect`: `"<to>: <value> wei + <gas> gas × <maxFee> wei"`.
    async fn txpool_inspect(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        self.pool_content(None, |me, t| {
            let tx = AnyTx::decode(me.l2(), &t.raw);
            let to = tx
                .as_ref()
                .and_then(AnyTx::to)
                .map(|a| a.to_checksum(None))
                .unwrap_or_else(|| "contract creation".into());
            let value = tx
                .as_ref()
                .map(|d| d.json()["value"].clone())
                .and_then(|v| v.as_str().and_then(|s| U256::from_str_radix(s.trim_start_matches("0x"), 16).ok()))
                .unwrap_or_default();
            json!(format!("{to}: {value} wei + {} gas × {} wei", t.gas_limit, t.max_fee_per_gas))
        })
        .await
    }

    /// anvil's `anvil_dropTransaction(hash)`: removes a pooled tx; null if it was not pooled.
    async fn drop_transaction(&self, p: Params<'static>) -> RpcResult {
        let (hash,): (B256,) = p.parse()?;
        let dropped = self.edges.txs.remove(self.chain(), hash).await.map_err(edge)?;
        Ok(if dropped { json!(hash) } else { Value::Null })
    }

    async fn txpool_status(&self, p: Params<'static>) -> RpcResult {
        no_params(&p)?;
        let s = self.edges.txs.status(self.chain()).await.map_err(edge)?;
        Ok(json!({"pending": q(s.pending), "queued": q(s.queued)}))
    }

    /// geth's `debug_dumpBlock` shape, at the head only: the state as stored, so a client can
    /// recompute the state root independently.
    async fn dump_block(&self, p: Params<'static>) -> RpcResult {
        let tag: Option<Value> = p.sequence().optional_next()?;
        let tag = parse_tag(tag)?;
        self.state_at(tag).await?;
        let head = self.head_block().await?;
        let accounts = self.edges.state.dump(self.chain()).await.map_err(edge)?;
        let mut map = serde_json::Map::new();
        for a in accounts {
            let storage: serde_json::Map<String, Value> =
                a.storage.iter().map(|(k, v)| (format!("{k:#066x}"), json!(format!("{:#x}", v)))).collect();
            map.insert(
                format!("{:#x}", a.address),
                json!({"balance": a.state.balance.to_string(), "nonce": a.state.nonce, "codeHash": a.state.code_hash, "code": a.code, "storage": storage}),
            );
        }
        Ok(json!({"root": head.header.state_root, "number": q(head.header.number), "hash": head.hash, "accounts": map}))
    }
}

/// A log's JSON: the `index`-th log of block `b`, emitted by its `i`-th transaction.
fn log_json(b: &SealedBlock, i: usize, index: u64, l: &alloy_primitives::Log) -> Value {
    json!({
        "address": l.address, "topics": l.topics(), "data": l.data.data,
        "blockNumber": q(b.header.number), "blockHash": b.hash, "blockTimestamp": q(b.header.timestamp),
        "transactionHash": b.tx_hashes[i], "transactionIndex": q(i as u64),
        "logIndex": q(index), "removed": false,
    })
}

fn call_err(e: CallError) -> ErrorObjectOwned {
    match e {
        CallError::Reverted(data) => revert_err(&data),
        CallError::Invalid(m) => err(codes::SERVER, m),
        CallError::Halted(m) => err(codes::SERVER, format!("execution halted: {m}")),
        CallError::State(m) => err(codes::SERVER, format!("temporarily unavailable: {m}")),
    }
}

fn revert_err(data: &Bytes) -> ErrorObjectOwned {
    // Error(string) → "execution reverted: <reason>" as geth.
    let reason = (data.len() >= 68 && data[..4] == [0x08, 0xc3, 0x79, 0xa0])
        .then(|| {
            let len = U256::from_be_slice(&data[36..68]).saturating_to::<usize>();
            data.get(68..68 + len).map(|s| String::from_utf8_lossy(s).into_owned())
        })
        .flatten();
    let msg = match reason {
        Some(r) => format!("execution reverted: {r}"),
        None => "execution reverted".into(),
    };
    ErrorObjectOwned::owned(codes::REVERTED, msg, Some(data.clone()))
}

/// Most blocks one `eth_getLogs` may scan.
pub const MAX_LOG_RANGE: u64 = 10_000;

/// The filter object of `eth_getLogs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFilter {
    from_block: Option<Value>,
    to_block: Option<Value>,
    block_hash: Option<B256>,
    address: Option<Value>,
    topics: Option<Vec<Option<Value>>>,
}

/// A block's size as geth reports it: the RLP length of the whole block (header, the txs list
/// whose typed txs are RLP strings of their EIP-2718 bytes, the empty uncles list and, with a
/// withdrawals root, the empty withdrawals list).
fn block_size(b: &SealedBlock) -> u64 {
    use alloy_rlp::length_of_length;
    let item = |t: &Bytes| match t.first() {
        Some(&first) if first >= 0xc0 => t.len(),
        _ => length_of_length(t.len()) + t.len(),
    };
    let txs: usize = b.transactions.iter().map(item).sum();
    let payload = alloy_rlp::Encodable::length(&b.header)
        + length_of_length(txs)
        + txs
        + 1
        + usize::from(b.header.withdrawals_root.is_some());
    (length_of_length(payload) + payload) as u64
}

/// A log filter's address and topic criteria (`eth_getLogs`, `eth_subscribe("logs")`).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogMatcher {
    addresses: Vec<Address>,
    topics: Vec<Vec<B256>>,
}

impl LogMatcher {
    /// From a filter's `address` (one or a list) and `topics` (positional; null = any, a list =
    /// any of).
    pub(crate) fn new(address: Option<Value>, topics: Option<Vec<Option<Value>>>) -> Result<Self, ErrorObjectOwned> {
        Ok(Self {
            addresses: one_or_many::<Address>(address)?,
            topics: topics.unwrap_or_default().into_iter().map(one_or_many::<B256>).collect::<Result<_, _>>()?,
        })
    }

    fn takes(&self, l: &alloy_primitives::Log) -> bool {
        (self.addresses.is_empty() || self.addresses.contains(&l.address))
            && self
                .topics
                .iter()
                .enumerate()
                .all(|(k, want)| want.is_empty() || l.topics().get(k).is_some_and(|t| want.contains(t)))
    }
}

/// A filter field that is absent/null (any), one value, or a list of values.
fn one_or_many<T: serde::de::DeserializeOwned>(v: impl Into<Option<Value>>) -> Result<Vec<T>, ErrorObjectOwned> {
    match v.into() {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|x| serde_json::from_value(x).map_err(|e| err(codes::INVALID_PARAMS, format!("invalid filter: {e}"))))
            .collect(),
        Some(x) => {
            Ok(vec![serde_json::from_value(x).map_err(|e| err(codes::INVALID_PARAMS, format!("invalid filter: {e}")))?])
        }
    }
}

/// The call object of `eth_call`/`eth_estimateGas`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallArgs {
    from: Option<Address>,
    to: Option<Address>,
    gas: Option<U64>,
    gas_price: Option<U256>,
    max_fee_per_gas: Option<U256>,
    max_priority_fee_per_gas: Option<U256>,
    value: Option<U256>,
    data: Option<Bytes>,
    input: Option<Bytes>,
}

impl CallArgs {
    fn into_request(self) -> Result<CallRequest, ErrorObjectOwned> {
        if let (Some(d), Some(i)) = (&self.data, &self.input)
            && d != i
        {
            return Err(err(codes::INVALID_PARAMS, "both \"data\" and \"input\" are set and differ"));
        }
        let fee = self.gas_price.or(self.max_fee_per_gas).map(|v| v.saturating_to::<u128>());
        Ok(CallRequest {
            from: self.from,
            to: self.to,
            gas: self.gas.map(|g| g.to::<u64>()),
            gas_price: fee,
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.map(|v| v.saturating_to::<u128>()),
            value: self.value,
            input: self.input.or(self.data).unwrap_or_default(),
        })
    }
}
