//! The remote backend: a chain's state at a pinned block of another node, over its JSON-RPC
//! ([`BaseState`] for a forked [`opseq_store::ChainStore`]).
//!
//! Everything is batched (one JSON-RPC batch per read, up to [`BATCH`] calls each), cached for
//! the life of the process (the pinned block never changes), and what builds a state root is
//! verified: every `eth_getProof` answer must hash to its place under the pinned state root and
//! agree with what the node answered for the same account or slot before. Reads use
//! `eth_getAccountInfo` (reth, anvil) when the node has it, else `eth_getBalance` +
//! `eth_getTransactionCount` + `eth_getCode`; slots use `eth_getStorageAt`.
//!
//! Written here rather than taken from a crate: foundry's fork DB (the closest) reads one slot
//! per round trip and computes no roots; reth's remote providers are not on crates.io.
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use jsonrpsee::core::{client::ClientT, params::BatchRequestBuilder};
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use opseq_primitives::{AccountState, BlockRef, OpseqError, SealedBlock};
use opseq_store::BaseState;
use opseq_trie::SparseTrie;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};
use tracing::{debug, warn};

/// Most calls in one JSON-RPC batch.
pub const BATCH: usize = 500;
/// Batches sent at once for one read (the node may serve them on several cores).
pub const PARALLEL: usize = 4;
/// Attempts of a batch that failed in transport (the node is restarting, a connection dropped).
const ATTEMPTS: u32 = 3;

/// Another node's state at one block, read on demand.
#[derive(Debug)]
pub struct RemoteBase {
    url: String,
    client: HttpClient,
    /// Its own runtime: the store calls in from blocking threads.
    runtime: OwnRuntime,
    chain_id: u64,
    pinned: BlockRef,
    state_root: B256,
    account_info: AtomicBool,
    accounts: Mutex<HashMap<Address, Option<AccountState>>>,
    storage: Mutex<HashMap<(Address, U256), U256>>,
    codes: Mutex<HashMap<B256, Bytes>>,
    hashes: Mutex<HashMap<u64, B256>>,
}

/// One `eth_getProof` answer (EIP-1186).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    balance: U256,
    nonce: alloy_primitives::U64,
    code_hash: B256,
    storage_hash: B256,
    account_proof: Vec<Bytes>,
    storage_proof: Vec<StorageProof>,
}

#[derive(Debug, Deserialize)]
struct StorageProof {
    key: U256,
    value: U256,
    proof: Vec<Bytes>,
}

#[derive(Debug, Deserialize)]
struct AccountInfo {
    balance: U256,
    nonce: alloy_primitives::U64,
    code: Bytes,
}

fn upstream(url: &str, e: impl std::fmt::Display) -> String {
    format!("{url}: {e}")
}

/// A runtime owned by a client of a remote node, shut down in the background when dropped (a
/// runtime may not be dropped on an async thread).
#[derive(Debug)]
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for OwnRuntime {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("the runtime lives until drop")
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A JSON-RPC client with a runtime of its own, and the node's chain id.
fn client(url: &str, timeout: Duration) -> Result<(OwnRuntime, HttpClient, u64), OpseqError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("opseq-remote")
        .enable_all()
        .build()
        .map_err(|e| OpseqError::fatal(e.to_string()))?;
    let client = {
        let _rt = runtime.enter();
        HttpClientBuilder::default()
            .request_timeout(timeout)
            .max_request_size(64 << 20)
            .max_response_size(256 << 20)
            .build(url)
            .map_err(|e| OpseqError::invalid(format!("bad upstream URL {url}: {e}")))?
    };
    let chain_id: alloy_primitives::U64 = runtime
        .block_on(client.request("eth_chainId", jsonrpsee::rpc_params![]))
        .map_err(|e| OpseqError::transient(upstream(url, e)))?;
    Ok((OwnRuntime(Some(runtime)), client, chain_id.to()))
}

/// The block `tag` of the node (`None` if it has none), its header checked against the hash the
/// node reports; with `full`, the JSON of its transactions too.
fn block_at(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    url: &str,
    method: &str,
    at: Value,
    full: bool,
) -> Result<Option<(SealedBlock, Value)>, OpseqError> {
    let raw: Value = runtime
        .block_on(client.request(method, (at.clone(), full)))
        .map_err(|e| OpseqError::transient(upstream(url, e)))?;
    if raw.is_null() {
        return Ok(None);
    }
    let block = SealedBlock::header_only(header_from_rpc(&raw).map_err(|e| OpseqError::invalid(upstream(url, e)))?);
    if raw.get("hash").and_then(|h| h.as_str()).and_then(|h| h.parse::<B256>().ok()) != Some(block.hash) {
        return Err(OpseqError::invalid(format!(
            "{url}: block {at}'s header does not hash to the hash it reports (unsupported header fields?)"
        )));
    }
    Ok(Some((block, raw)))
}

/// The L1-info deposit an OP Stack L2 block starts with, from the block's JSON-RPC form (with
/// full transactions): the raw deposit (checked against the hash the node reports) and what its
/// calldata says.
fn l1_info_of(url: &str, raw: &Value) -> Result<(Bytes, B256, opseq_executor::L1InfoValues), OpseqError> {
    use alloy_eips::eip2718::Encodable2718;
    let bad = |what: &str| OpseqError::invalid(format!("{url}: not an OP Stack L2 block: {what}"));
    let first = raw.get("transactions").and_then(|t| t.get(0)).ok_or_else(|| bad("no transactions"))?;
    if first.get("type").and_then(Value::as_str) != Some("0x7e") {
        return Err(bad("its first transaction is not a deposit"));
    }
    let deposit: op_alloy_consensus::TxDeposit =
        serde_json::from_value(first.clone()).map_err(|e| bad(&format!("undecodable deposit: {e}")))?;
    let values = opseq_executor::parse_l1_info(&deposit.input).ok_or_else(|| bad("no L1-info calldata"))?;
    let encoded = op_alloy_consensus::OpTxEnvelope::Deposit(alloy_primitives::Sealed::new(deposit)).encoded_2718();
    let hash = keccak256(&encoded);
    if first.get("hash").and_then(Value::as_str).and_then(|h| h.parse::<B256>().ok()) != Some(hash) {
        return Err(bad("the L1-info deposit does not hash to the hash the node reports"));
    }
    Ok((encoded.into(), hash, values))
}

impl RemoteBase {
    /// Connects to `url` and pins `block` (its latest block if `None`). Returns the base and the
    /// pinned block (header only), which a forked chain starts from; for an OP Stack L2
    /// (`l2`), the block also holds its L1-info deposit, whose values are returned too.
    pub fn connect(
        url: &str,
        block: Option<u64>,
        timeout: Duration,
        l2: bool,
    ) -> Result<(Self, SealedBlock, Option<opseq_executor::L1InfoValues>), OpseqError> {
        let (runtime, client, chain_id) = client(url, timeout)?;
        let tag = block.map_or_else(|| "latest".to_string(), |n| format!("{n:#x}"));
        let (mut pinned, raw) = block_at(&runtime, &client, url, "eth_getBlockByNumber", json!(tag), l2)?
            .ok_or_else(|| OpseqError::invalid(format!("{url} has no block {tag}")))?;
        let l1_info = if l2 {
            use alloy_eips::eip2718::Encodable2718;
            let (deposit, hash, values) = l1_info_of(url, &raw)?;
            let receipt: Value = runtime
                .block_on(client.request("eth_getTransactionReceipt", (hash,)))
                .map_err(|e| OpseqError::transient(upstream(url, e)))?;
            let receipt: op_alloy_consensus::OpReceiptEnvelope = serde_json::from_value(receipt)
                .map_err(|e| OpseqError::invalid(upstream(url, format!("the L1-info deposit's receipt: {e}"))))?;
            pinned.transactions = vec![deposit];
            pinned.tx_hashes = vec![hash];
            pinned.senders = vec![opseq_executor::DEPOSITOR_ACCOUNT];
            pinned.receipts = vec![receipt.encoded_2718().into()];
            Some(values)
        } else {
            None
        };
        let (header, hash) = (&pinned.header, pinned.hash);
        let base = Self {
            url: url.to_string(),
            client,
            runtime,
            chain_id,
            pinned: BlockRef { number: header.number, hash },
            state_root: header.state_root,
            account_info: AtomicBool::new(true),
            accounts: Mutex::default(),
            storage: Mutex::default(),
            codes: Mutex::default(),
            hashes: Mutex::new(HashMap::from([(header.number, hash)])),
        };
        Ok((base, pinned, l1_info))
    }

    /// The upstream's chain id.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Connects on a thread of its own (callable from async code, where a runtime may not be
    /// started or dropped).
    #[allow(clippy::type_complexity)]
    pub fn connect_blocking(
        url: &str,
        block: Option<u64>,
        timeout: Duration,
        l2: bool,
    ) -> Result<(Self, SealedBlock, Option<opseq_executor::L1InfoValues>), OpseqError> {
        let url = url.to_string();
        std::thread::spawn(move || Self::connect(&url, block, timeout, l2))
            .join()
            .map_err(|_| OpseqError::fatal("the upstream probe panicked"))?
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    fn tag(&self) -> String {
        format!("{:#x}", self.pinned.number)
    }

    /// One batch, split into up to [`PARALLEL`] JSON-RPC batches (of at most [`BATCH`] calls)
    /// sent at once on separate connections; answers in order. Transport failures are retried;
    /// an error answer fails the whole batch with the node's message.
    fn batch(&self, method: &str, calls: Vec<Value>) -> Result<Vec<Value>, String> {
        let size = calls.len().div_ceil(PARALLEL).clamp(1, BATCH);
        let one = |chunk: &[Value]| {
            let chunk = chunk.to_vec();
            async move {
                let mut attempt = 0;
                loop {
                    let mut b = BatchRequestBuilder::new();
                    for params in &chunk {
                        let Value::Array(items) = params else { unreachable!("params are arrays") };
                        let mut p = jsonrpsee::core::params::ArrayParams::new();
                        for i in items {
                            p.insert(i).map_err(|e| e.to_string())?;
                        }
                        b.insert(method, p).map_err(|e| e.to_string())?;
                    }
                    match self.client.batch_request::<Value>(b).await {
                        Ok(r) => {
                            return r
                                .into_iter()
                                .map(|a| {
                                    a.map_err(|e| {
                                        upstream(&self.url, format!("{method}: {} (code {})", e.message(), e.code()))
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>();
                        }
                        Err(e) if attempt + 1 < ATTEMPTS && transient(&e) => {
                            attempt += 1;
                            warn!(target: "opseq::state::remote", url = %self.url, method, attempt, error = %e, "retrying");
                            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                        }
                        Err(e) => return Err(upstream(&self.url, format!("{method}: {e}"))),
                    }
                }
            }
        };
        let answers = self.rt().block_on(futures::future::join_all(calls.chunks(size).map(one)));
        let mut out = Vec::with_capacity(calls.len());
        for a in answers {
            out.extend(a?);
        }
        metrics::counter!("opseq_state_remote_calls_total", "method" => method.to_string())
            .increment(calls.len() as u64);
        Ok(out)
    }

    fn fetch_accounts(&self, addresses: &[Address]) -> Result<Vec<Option<AccountState>>, String> {
        let tag = self.tag();
        let parse = |e: serde_json::Error| upstream(&self.url, e);
        if self.account_info.load(Ordering::Relaxed) {
            let calls = addresses.iter().map(|a| json!([a, tag])).collect();
            match self.batch("eth_getAccountInfo", calls) {
                Ok(answers) => {
                    let mut out = Vec::with_capacity(answers.len());
                    for v in answers {
                        let i: AccountInfo = serde_json::from_value(v).map_err(parse)?;
                        out.push(self.account_of(i.balance, i.nonce.to(), i.code));
                    }
                    return Ok(out);
                }
                // "Method not found" (-32601): reth's and anvil's text, and geth's "does not exist/is
                // not available".
                Err(e)
                    if e.contains("not found")
                        || e.contains("not supported")
                        || e.contains("does not exist")
                        || e.contains("-32601") =>
                {
                    debug!(target: "opseq::state::remote", url = %self.url, "no eth_getAccountInfo: three calls per account");
                    self.account_info.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let balances = self.batch("eth_getBalance", addresses.iter().map(|a| json!([a, tag])).collect())?;
        let nonces = self.batch("eth_getTransactionCount", addresses.iter().map(|a| json!([a, tag])).collect())?;
        let codes = self.batch("eth_getCode", addresses.iter().map(|a| json!([a, tag])).collect())?;
        let mut out = Vec::with_capacity(addresses.len());
        for ((b, n), c) in balances.into_iter().zip(nonces).zip(codes) {
            let balance: U256 = serde_json::from_value(b).map_err(parse)?;
            let nonce: alloy_primitives::U64 = serde_json::from_value(n).map_err(parse)?;
            let code: Bytes = serde_json::from_value(c).map_err(parse)?;
            out.push(self.account_of(balance, nonce.to(), code));
        }
        Ok(out)
    }

    /// An account from its fields. These calls cannot tell an empty account from a missing one,
    /// so both read as an empty account, which the EVM treats alike since EIP-161 (a touch
    /// deletes it, and deleting a missing key changes no root); a proof of the account later
    /// records which it was (see `verify`), so a revert restores exactly what was there.
    fn account_of(&self, balance: U256, nonce: u64, code: Bytes) -> Option<AccountState> {
        let code_hash = if code.is_empty() { KECCAK256_EMPTY } else { keccak256(&code) };
        if !code.is_empty() {
            self.codes.lock().insert(code_hash, code);
        }
        Some(AccountState { nonce, balance, code_hash })
    }
}

fn transient(e: &jsonrpsee::core::client::Error) -> bool {
    use jsonrpsee::core::client::Error;
    matches!(e, Error::Transport(_) | Error::RequestTimeout | Error::RestartNeeded(_))
}

impl BaseState for RemoteBase {
    fn state_root(&self) -> B256 {
        self.state_root
    }

    fn accounts(&self, addresses: &[Address]) -> Result<Vec<Option<AccountState>>, String> {
        let mut missing: Vec<Address> = {
            let cache = self.accounts.lock();
            addresses.iter().filter(|a| !cache.contains_key(*a)).copied().collect()
        };
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let got = self.fetch_accounts(&missing)?;
            self.accounts.lock().extend(missing.into_iter().zip(got));
        }
        let cache = self.accounts.lock();
        Ok(addresses.iter().map(|a| cache[a]).collect())
    }

    fn storage(&self, slots: &[(Address, U256)]) -> Result<Vec<U256>, String> {
        let mut missing: Vec<(Address, U256)> = {
            let cache = self.storage.lock();
            slots.iter().filter(|k| !cache.contains_key(*k)).copied().collect()
        };
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let tag = self.tag();
            let calls = missing.iter().map(|(a, s)| json!([a, B256::from(*s), tag])).collect();
            let answers = self.batch("eth_getStorageAt", calls)?;
            let mut cache = self.storage.lock();
            for (k, v) in missing.into_iter().zip(answers) {
                cache.insert(k, serde_json::from_value::<U256>(v).map_err(|e| upstream(&self.url, e))?);
            }
        }
        let cache = self.storage.lock();
        Ok(slots.iter().map(|k| cache[k]).collect())
    }

    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        // Code is learned with its account (a hash alone cannot be asked for over RPC).
        Ok(self.codes.lock().get(&code_hash).cloned())
    }

    fn proofs(&self, keys: &[(Address, Vec<U256>)]) -> Result<Vec<Bytes>, String> {
        let tag = self.tag();
        let calls = keys
            .iter()
            .map(|(a, slots)| json!([a, slots.iter().map(|s| B256::from(*s)).collect::<Vec<_>>(), tag]))
            .collect();
        let answers = self.batch("eth_getProof", calls)?;
        let mut nodes = Vec::new();
        for ((address, _), v) in keys.iter().zip(answers) {
            let p: Proof = serde_json::from_value(v).map_err(|e| upstream(&self.url, e))?;
            self.verify(*address, &p)?;
            nodes.extend(p.account_proof);
            for s in p.storage_proof {
                nodes.extend(s.proof);
            }
        }
        Ok(nodes)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, String> {
        if number > self.pinned.number {
            return Ok(None);
        }
        if let Some(h) = self.hashes.lock().get(&number) {
            return Ok(Some(*h));
        }
        let v =
            self.batch("eth_getBlockByNumber", vec![json!([format!("{number:#x}"), false])])?.pop().unwrap_or_default();
        let h = v.get("hash").and_then(|h| h.as_str()).and_then(|h| h.parse::<B256>().ok());
        if let Some(h) = h {
            self.hashes.lock().insert(number, h);
        }
        Ok(h)
    }
}

impl RemoteBase {
    /// Checks one proof: its nodes lead from the pinned state root to the account it claims
    /// (and from the claimed storage root to each slot's value), and it agrees with what the
    /// node answered before for the same keys.
    fn verify(&self, address: Address, p: &Proof) -> Result<(), String> {
        let lie = |what: String| format!("{}: the proof of {address} does not verify: {what}", self.url);
        let nodes: HashMap<B256, Bytes> = p.account_proof.iter().map(|n| (keccak256(n), n.clone())).collect();
        let leaf = SparseTrie::new(self.state_root, nodes)
            .get(keccak256(address).as_slice())
            .map_err(|e| lie(e.to_string()))?;
        let proven = match leaf {
            Some(raw) => Some(TrieAccount::decode(&mut raw.as_slice()).map_err(|e| lie(e.to_string()))?),
            None => None,
        };
        let claimed = TrieAccount {
            nonce: p.nonce.to(),
            balance: p.balance,
            storage_root: if p.storage_hash.is_zero() { EMPTY_ROOT_HASH } else { p.storage_hash },
            code_hash: if p.code_hash.is_zero() { KECCAK256_EMPTY } else { p.code_hash },
        };
        let empty =
            TrieAccount { nonce: 0, balance: U256::ZERO, storage_root: EMPTY_ROOT_HASH, code_hash: KECCAK256_EMPTY };
        if proven.unwrap_or(empty) != claimed {
            return Err(lie(format!("the trie holds {proven:?}, the answer says {claimed:?}")));
        }
        {
            let mut cache = self.accounts.lock();
            if let Some(Some(read)) = cache.get(&address)
                && (read.nonce != claimed.nonce
                    || read.balance != claimed.balance
                    || read.code_hash != claimed.code_hash)
            {
                return Err(lie(format!("it says {claimed:?}, the node answered {read:?} for the same block before")));
            }
            // The proof settles whether an empty account exists.
            cache.insert(
                address,
                proven.map(|a| AccountState { nonce: a.nonce, balance: a.balance, code_hash: a.code_hash }),
            );
        }
        for s in &p.storage_proof {
            let nodes: HashMap<B256, Bytes> = s.proof.iter().map(|n| (keccak256(n), n.clone())).collect();
            let value = SparseTrie::new(claimed.storage_root, nodes)
                .get(keccak256(B256::from(s.key)).as_slice())
                .map_err(|e| lie(format!("slot {}: {e}", s.key)))?
                .map(|raw| U256::decode(&mut raw.as_slice()))
                .transpose()
                .map_err(|e| lie(format!("slot {}: {e}", s.key)))?
                .unwrap_or_default();
            if value != s.value {
                return Err(lie(format!("slot {} holds {value} in the trie, the answer says {}", s.key, s.value)));
            }
            if let Some(read) = self.storage.lock().get(&(address, s.key))
                && *read != value
            {
                return Err(lie(format!("slot {} is {value}, the node answered {read} before", s.key)));
            }
        }
        Ok(())
    }
}

/// An L1 chain read from another node (`--fork.l1-url`): the L1 origins of a forked L2. Headers
/// only, checked against the hashes the node reports; cached by hash (an L1 block's header never
/// changes; what is canonical at a height is asked each time).
#[derive(Debug)]
pub struct RemoteL1 {
    url: String,
    client: HttpClient,
    runtime: OwnRuntime,
    chain_id: u64,
    by_hash: Mutex<HashMap<B256, SealedBlock>>,
}

impl RemoteL1 {
    /// Connects to the L1 node at `url`.
    pub fn connect(url: &str, timeout: Duration) -> Result<Self, OpseqError> {
        let (runtime, client, chain_id) = client(url, timeout)?;
        Ok(Self { url: url.to_string(), client, runtime, chain_id, by_hash: Mutex::default() })
    }

    /// Connects on a thread of its own (see [`RemoteBase::connect_blocking`]).
    pub fn connect_blocking(url: &str, timeout: Duration) -> Result<Self, OpseqError> {
        let url = url.to_string();
        std::thread::spawn(move || Self::connect(&url, timeout))
            .join()
            .map_err(|_| OpseqError::fatal("the L1 probe panicked"))?
    }

    /// The L1's chain id.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn fetch(&self, method: &str, at: Value) -> Result<Option<SealedBlock>, OpseqError> {
        let rt = &self.runtime;
        let block = block_at(rt, &self.client, &self.url, method, at, false)?.map(|(b, _)| b);
        if let Some(b) = &block {
            self.by_hash.lock().insert(b.hash, b.clone());
        }
        Ok(block)
    }

    /// The latest block.
    pub fn head(&self) -> Result<BlockRef, OpseqError> {
        let b = self
            .fetch("eth_getBlockByNumber", json!("latest"))?
            .ok_or_else(|| OpseqError::transient(format!("{}: no latest block", self.url)))?;
        Ok(BlockRef { number: b.header.number, hash: b.hash })
    }

    /// The canonical block at `number` (header only).
    pub fn block_by_number(&self, number: u64) -> Result<Option<SealedBlock>, OpseqError> {
        self.fetch("eth_getBlockByNumber", json!(format!("{number:#x}")))
    }

    /// The block `hash` (header only).
    pub fn block_by_hash(&self, hash: B256) -> Result<Option<SealedBlock>, OpseqError> {
        if let Some(b) = self.by_hash.lock().get(&hash) {
            return Ok(Some(b.clone()));
        }
        self.fetch("eth_getBlockByHash", json!(hash))
    }
}

/// A header from its JSON-RPC form (alloy's serde names are the RPC's).
fn header_from_rpc(v: &Value) -> Result<Header, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("undecodable header: {e}"))
}
