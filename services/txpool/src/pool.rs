//! The pool actor and the in-process `TxSource`.
use crate::validate::decode_and_recover;
use actix::{Actor, Addr, Context, Handler, Message};
use alloy_primitives::{Address, B256, Bytes, U256};
use async_trait::async_trait;
use futures::StreamExt;
use opseq_interfaces::{EdgeResult, StateSource, TxSource};
use opseq_primitives::{
    AccountState, ChainConfig, ChainId, DevnetConfig, OpseqError, PoolEvent, PoolStatus, PoolTx, RemovalReason,
    SubmitOutcome,
};
use opseq_store::{Batch, DurableDb, DurableTree, SyncMode};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::Arc,
};
use tracing::{debug, info, warn};

/// Per-sender transaction limit.
const MAX_PER_SENDER: usize = 64;
/// Per-chain limit unless configured (`--txpool.max-txs`).
pub const MAX_PER_CHAIN: usize = 200_000;

#[derive(Debug)]
struct ChainPool {
    by_hash: HashMap<B256, PoolTx>,
    by_sender: HashMap<Address, BTreeMap<u64, B256>>,
    /// Most txs pooled (global limit).
    limit: usize,
}

impl Default for ChainPool {
    fn default() -> Self {
        Self { by_hash: HashMap::new(), by_sender: HashMap::new(), limit: MAX_PER_CHAIN }
    }
}

impl ChainPool {
    /// Adds `tx`; returns the outcome, the same-nonce tx it replaced and the tx it evicted (a
    /// full pool makes room by dropping its cheapest tx, if `tx` pays more).
    fn insert(&mut self, tx: PoolTx) -> Result<(SubmitOutcome, Option<B256>, Option<B256>), OpseqError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Ok((SubmitOutcome::AlreadyKnown, None, None));
        }
        let nonces = self.by_sender.entry(tx.sender).or_default();
        let mut replaced = None;
        let mut evicted = None;
        if let Some(old_hash) = nonces.get(&tx.nonce) {
            let old = &self.by_hash[old_hash];
            // Replacement needs a 10% bump of both caps (geth's default price bump).
            let bumped = |new: u128, old: u128| new >= old + old / 10 && new > old;
            if !bumped(tx.max_fee_per_gas, old.max_fee_per_gas)
                || !bumped(tx.max_priority_fee_per_gas, old.max_priority_fee_per_gas)
            {
                return Err(OpseqError::invalid(
                    "replacement transaction underpriced: a same-nonce replacement needs a 10% higher fee cap and tip",
                ));
            }
            replaced = Some(*old_hash);
        } else if nonces.len() >= MAX_PER_SENDER {
            return Err(OpseqError::invalid(format!(
                "txpool is full: sender already has {MAX_PER_SENDER} transactions pooled"
            )));
        } else if self.by_hash.len() >= self.limit {
            // Evict the cheapest tx that is last in its sender's line (evicting from the middle
            // would open a nonce gap), if the newcomer pays a higher tip.
            let victim = self
                .by_sender
                .values()
                .filter_map(|n| n.values().next_back())
                .map(|h| &self.by_hash[h])
                .min_by_key(|t| (t.max_priority_fee_per_gas, t.max_fee_per_gas))
                .map(|t| (t.hash, t.max_priority_fee_per_gas, t.max_fee_per_gas));
            match victim {
                Some((h, tip, fee)) if (tx.max_priority_fee_per_gas, tx.max_fee_per_gas) > (tip, fee) => {
                    evicted = Some(h);
                }
                _ => {
                    self.by_sender.retain(|_, n| !n.is_empty());
                    return Err(OpseqError::transient(format!(
                        "txpool is full ({} txs) and this transaction tips no more than the cheapest pooled one",
                        self.limit
                    )));
                }
            }
        }
        if let Some(old) = replaced {
            self.by_hash.remove(&old);
        }
        if let Some(e) = evicted {
            self.remove(&e);
        }
        self.by_sender.entry(tx.sender).or_default().insert(tx.nonce, tx.hash);
        self.by_hash.insert(tx.hash, tx);
        let outcome = if replaced.is_some() { SubmitOutcome::Replaced } else { SubmitOutcome::Pending };
        Ok((outcome, replaced, evicted))
    }

    fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let tx = self.by_hash.remove(hash)?;
        if let Some(n) = self.by_sender.get_mut(&tx.sender) {
            n.remove(&tx.nonce);
            if n.is_empty() {
                self.by_sender.remove(&tx.sender);
            }
        }
        Some(tx)
    }
}

/// The pool actor: owns every chain's pool and the sled journal.
#[derive(Debug)]
pub struct TxPoolActor {
    pools: HashMap<ChainId, ChainPool>,
    journal: DurableTree,
    events: tokio::sync::broadcast::Sender<PoolEvent>,
}

/// Events a subscriber may fall behind by before it misses the oldest.
const EVENT_BUFFER: usize = 16_384;

impl Actor for TxPoolActor {
    type Context = Context<Self>;
}

impl TxPoolActor {
    /// Opens the journal at `datadir/txpool` and reloads every journaled tx.
    /// Accepted txs are durable to `sync`'s standard before they are acknowledged.
    pub fn open(datadir: &Path, devnet: &DevnetConfig, sync: SyncMode) -> Result<Self, OpseqError> {
        let journal = DurableDb::open(&datadir.join("txpool"), sync)
            .and_then(|db| db.open_tree("journal"))
            .map_err(|e| OpseqError::fatal(format!("opening the txpool journal: {e}")))?;
        let mut pools: HashMap<ChainId, ChainPool> =
            devnet.chain_ids().into_iter().map(|c| (c, ChainPool::default())).collect();
        let mut n = 0;
        let entries = journal.scan_prefix([]).map_err(|e| OpseqError::fatal(e.to_string()))?;
        for (_, v) in entries {
            match serde_json::from_slice::<PoolTx>(&v) {
                Ok(tx) => {
                    if let Some(p) = pools.get_mut(&tx.chain_id) {
                        let _ = p.insert(tx);
                        n += 1;
                    }
                }
                Err(e) => warn!(target: "opseq::txpool", error = %e, "skipping unreadable journal entry"),
            }
        }
        info!(target: "opseq::txpool", restored = n, "txpool journal loaded");
        Ok(Self { pools, journal, events: tokio::sync::broadcast::channel(EVENT_BUFFER).0 })
    }

    /// Caps every chain's pool at `limit` txs (default 20,000); a full pool evicts its cheapest.
    pub fn with_limit(mut self, limit: usize) -> Self {
        for p in self.pools.values_mut() {
            p.limit = limit;
        }
        self
    }

    fn pool(&mut self, chain: ChainId) -> Result<&mut ChainPool, OpseqError> {
        self.pools.get_mut(&chain).ok_or_else(|| OpseqError::not_found(format!("unknown chain {chain}")))
    }

    /// Tells subscribers (none listening is fine).
    fn emit(&self, event: PoolEvent) {
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(event);
        }
    }

    fn removed(&self, chain_id: ChainId, hash: B256, reason: RemovalReason) {
        self.emit(PoolEvent::Removed { chain_id, hash, reason });
    }

    /// A journaled tx's key: chain id ‖ hash.
    fn journal_key(chain: ChainId, hash: &B256) -> Vec<u8> {
        let mut k = chain.to_be_bytes().to_vec();
        k.extend_from_slice(hash.as_slice());
        k
    }
}

/// Add validated txs, each with its sender's state nonce; one journal write for all.
#[derive(Debug, Message)]
#[rtype(result = "Vec<EdgeResult<SubmitOutcome>>")]
struct AddMany(ChainId, Vec<(PoolTx, u64)>);

impl Handler<AddMany> for TxPoolActor {
    type Result = Vec<EdgeResult<SubmitOutcome>>;
    fn handle(&mut self, AddMany(chain, txs): AddMany, _: &mut Context<Self>) -> Self::Result {
        let listening = self.events.receiver_count() > 0;
        let Ok(pool) = self.pool(chain) else {
            return txs.iter().map(|_| Err(OpseqError::not_found(format!("unknown chain {chain}")))).collect();
        };
        let mut batch = Batch::default();
        let mut added = Vec::new();
        // Told to subscribers (if any) once journaled.
        let mut events: Vec<PoolEvent> = Vec::new();
        let removed = |hash, reason| PoolEvent::Removed { chain_id: chain, hash, reason };
        let mut out: Vec<EdgeResult<SubmitOutcome>> = Vec::with_capacity(txs.len());
        for (tx, state_nonce) in txs {
            let (key, value) = match serde_json::to_vec(&tx) {
                Ok(v) => (Self::journal_key(tx.chain_id, &tx.hash), v),
                Err(e) => {
                    out.push(Err(OpseqError::fatal(e.to_string())));
                    continue;
                }
            };
            let (hash, sender, nonce) = (tx.hash, tx.sender, tx.nonce);
            match pool.insert(tx) {
                Ok((SubmitOutcome::AlreadyKnown, ..)) => out.push(Ok(SubmitOutcome::AlreadyKnown)),
                Ok((mut outcome, replaced, evicted)) => {
                    batch.insert(key, value);
                    for old in replaced.iter().chain(&evicted) {
                        batch.remove(Self::journal_key(chain, old));
                    }
                    // Pending only if every nonce from the state nonce up to this one is present.
                    let nonces = &pool.by_sender[&sender];
                    let pending = (state_nonce..nonce).all(|n| nonces.contains_key(&n));
                    if outcome == SubmitOutcome::Pending && !pending {
                        outcome = SubmitOutcome::Queued;
                    }
                    if listening {
                        events.extend(replaced.map(|h| removed(h, RemovalReason::Replaced)));
                        events.extend(evicted.map(|h| removed(h, RemovalReason::Evicted)));
                        events.push(PoolEvent::Added { chain_id: chain, hash, sender, nonce, pending });
                    }
                    added.push((hash, out.len()));
                    out.push(Ok(outcome));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        if added.is_empty() {
            return out;
        }
        // Journal before answering: an accepted tx survives a crash (ARCHITECTURE.md rule 5).
        if let Err(e) = self.journal.apply(batch).and_then(|()| self.journal.sync()) {
            let pool = self.pools.get_mut(&chain).expect("checked above");
            for (hash, i) in added {
                pool.remove(&hash);
                out[i] = Err(OpseqError::transient(format!("txpool journal write failed: {e}")));
            }
            return out;
        }
        for e in events {
            self.emit(e);
        }
        metrics::counter!("opseq_txpool_accepted_total", "chain_id" => chain.to_string()).increment(added.len() as u64);
        let size = self.pools.get(&chain).map_or(0, |p| p.by_hash.len());
        metrics::gauge!("opseq_txpool_txs", "chain_id" => chain.to_string()).set(size as f64);
        debug!(target: "opseq::txpool", chain_id = chain, accepted = added.len(), "accepted");
        out
    }
}

/// Senders with pooled txs.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<Vec<Address>>")]
struct Senders(ChainId);

impl Handler<Senders> for TxPoolActor {
    type Result = EdgeResult<Vec<Address>>;
    fn handle(&mut self, m: Senders, _: &mut Context<Self>) -> Self::Result {
        Ok(self.pool(m.0)?.by_sender.keys().copied().collect())
    }
}

/// Best txs given the senders' state nonces; drops txs whose nonce is already used.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<Vec<PoolTx>>")]
struct Best {
    chain: ChainId,
    base_fee: u64,
    max: usize,
    nonces: HashMap<Address, u64>,
}

impl Handler<Best> for TxPoolActor {
    type Result = EdgeResult<Vec<PoolTx>>;
    fn handle(&mut self, m: Best, _: &mut Context<Self>) -> Self::Result {
        let chain = m.chain;
        let pool = self.pool(chain)?;
        // Drop stale txs (nonce below the state nonce): mined elsewhere or replaced on chain.
        let stale: Vec<B256> = pool
            .by_sender
            .iter()
            .flat_map(|(s, n)| {
                let state = m.nonces.get(s).copied().unwrap_or_default();
                n.range(..state).map(|(_, h)| *h).collect::<Vec<_>>()
            })
            .collect();
        for h in &stale {
            pool.remove(h);
        }
        // Each sender's executable run, then a merge by effective tip (each sender's in order).
        let mut runs: Vec<std::collections::VecDeque<PoolTx>> = pool
            .by_sender
            .iter()
            .map(|(s, n)| {
                let start = m.nonces.get(s).copied().unwrap_or_default();
                // The contiguous run from the state nonce, stopping at a gap or an underpriced tx.
                n.range(start..)
                    .zip(start..)
                    .take_while(|((nonce, h), want)| {
                        **nonce == *want && pool.by_hash[*h].effective_tip(m.base_fee).is_some()
                    })
                    .map(|((_, h), _)| pool.by_hash[h].clone())
                    .collect::<std::collections::VecDeque<_>>()
            })
            .filter(|r| !r.is_empty())
            .collect();
        // Merge the runs by effective tip with a heap of run heads: O(n log senders).
        let mut heap: std::collections::BinaryHeap<(u128, std::cmp::Reverse<B256>, usize)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.front().map(|t| (t.effective_tip(m.base_fee).unwrap_or_default(), std::cmp::Reverse(t.hash), i))
            })
            .collect();
        let mut out = Vec::new();
        while out.len() < m.max {
            let Some((_, _, i)) = heap.pop() else { break };
            out.push(runs[i].pop_front().expect("a heap entry has a front"));
            if let Some(t) = runs[i].front() {
                heap.push((t.effective_tip(m.base_fee).unwrap_or_default(), std::cmp::Reverse(t.hash), i));
            }
        }
        let mut stale_batch = Batch::default();
        for h in stale {
            stale_batch.remove(Self::journal_key(chain, &h));
            self.removed(chain, h, RemovalReason::NonceUsed);
        }
        if let Err(e) = self.journal.apply(stale_batch) {
            warn!(target: "opseq::txpool", error = %e, "could not drop stale txs from the journal (they are dropped again on reload)");
        }
        Ok(out)
    }
}

/// A block was committed.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<()>")]
struct Committed {
    chain: ChainId,
    included: Vec<B256>,
    invalid: Vec<B256>,
}

impl Handler<Committed> for TxPoolActor {
    type Result = EdgeResult<()>;
    fn handle(&mut self, m: Committed, _: &mut Context<Self>) -> Self::Result {
        let pool = self.pool(m.chain)?;
        let mut batch = Batch::default();
        let mut gone = Vec::new();
        let reasons = m.included.iter().map(|h| (h, RemovalReason::Mined));
        for (h, reason) in reasons.chain(m.invalid.iter().map(|h| (h, RemovalReason::Invalid))) {
            if pool.remove(h).is_some() {
                batch.remove(Self::journal_key(m.chain, h));
                gone.push((*h, reason));
            }
        }
        if !gone.is_empty() {
            self.journal.apply(batch).map_err(|e| OpseqError::transient(e.to_string()))?;
        }
        for (h, reason) in gone {
            self.removed(m.chain, h, reason);
        }
        let size = self.pools.get(&m.chain).map_or(0, |p| p.by_hash.len());
        metrics::gauge!("opseq_txpool_txs", "chain_id" => m.chain.to_string()).set(size as f64);
        Ok(())
    }
}

/// A receiver of every pool event from now on.
#[derive(Debug, Message)]
#[rtype(result = "tokio::sync::broadcast::Receiver<PoolEvent>")]
struct Subscribe;

impl Handler<Subscribe> for TxPoolActor {
    type Result = actix::MessageResult<Subscribe>;
    fn handle(&mut self, _: Subscribe, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(self.events.subscribe())
    }
}

/// Queries.
#[derive(Debug, Message)]
#[rtype(result = "EdgeResult<QueryAnswer>")]
enum Query {
    Get(ChainId, B256),
    SenderNonces(ChainId, Address),
    Status(ChainId, HashMap<Address, u64>),
    Content(ChainId, HashMap<Address, u64>),
    Drop(ChainId, B256),
}

#[derive(Debug)]
enum QueryAnswer {
    Tx(Option<PoolTx>),
    Nonces(Vec<u64>),
    Status(PoolStatus),
    Content(Vec<(PoolTx, bool)>),
    Dropped(bool),
}

impl Handler<Query> for TxPoolActor {
    type Result = EdgeResult<QueryAnswer>;
    fn handle(&mut self, q: Query, _: &mut Context<Self>) -> Self::Result {
        Ok(match q {
            Query::Get(c, h) => QueryAnswer::Tx(self.pool(c)?.by_hash.get(&h).cloned()),
            Query::SenderNonces(c, a) => QueryAnswer::Nonces(
                self.pool(c)?.by_sender.get(&a).map(|n| n.keys().copied().collect()).unwrap_or_default(),
            ),
            Query::Status(c, state) => {
                let pool = self.pool(c)?;
                let mut st = PoolStatus::default();
                for (s, n) in &pool.by_sender {
                    let mut next = state.get(s).copied().unwrap_or_default();
                    for nonce in n.keys() {
                        if *nonce == next {
                            st.pending += 1;
                            next += 1;
                        } else if *nonce > next {
                            st.queued += 1;
                        }
                    }
                }
                QueryAnswer::Status(st)
            }
            Query::Content(c, state) => {
                let pool = self.pool(c)?;
                let mut out = Vec::with_capacity(pool.by_hash.len());
                for (s, n) in &pool.by_sender {
                    let mut next = state.get(s).copied().unwrap_or_default();
                    for (nonce, h) in n.range(next..) {
                        let pending = *nonce == next;
                        if pending {
                            next += 1;
                        }
                        out.push((pool.by_hash[h].clone(), pending));
                    }
                }
                QueryAnswer::Content(out)
            }
            Query::Drop(c, h) => {
                let dropped = self.pool(c)?.remove(&h).is_some();
                if dropped {
                    let mut batch = Batch::default();
                    batch.remove(Self::journal_key(c, &h));
                    self.journal.apply(batch).map_err(|e| OpseqError::transient(e.to_string()))?;
                    self.removed(c, h, RemovalReason::Dropped);
                }
                QueryAnswer::Dropped(dropped)
            }
        })
    }
}

/// Decodes and recovers the senders of `raws`, spread over the cores (signature recovery is
/// most of ingest's CPU).
async fn recover_all(config: &ChainConfig, raws: Vec<Bytes>) -> EdgeResult<Vec<EdgeResult<(PoolTx, U256)>>> {
    const CHUNK: usize = 256;
    if raws.len() <= CHUNK {
        return Ok(raws.into_iter().map(|r| decode_and_recover(config, r)).collect());
    }
    let mut tasks = Vec::new();
    let mut raws = raws.into_iter().peekable();
    while raws.peek().is_some() {
        let chunk: Vec<Bytes> = raws.by_ref().take(CHUNK).collect();
        let config = config.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk.into_iter().map(|r| decode_and_recover(&config, r)).collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await.map_err(|e| OpseqError::fatal(format!("sender recovery panicked: {e}")))?);
    }
    Ok(out)
}

/// `TxSource` in-process: validation on the caller's task, pool state in the [`TxPoolActor`].
#[derive(Debug, Clone)]
pub struct LocalTxSource {
    pool: Addr<TxPoolActor>,
    state: Arc<dyn StateSource>,
    chains: Arc<HashMap<ChainId, ChainConfig>>,
    /// Chains whose state is read from a remote node: the recipients of accepted txs are read
    /// ahead, off the sender's path, so that building the block finds them cached.
    warm: Arc<std::collections::HashSet<ChainId>>,
}

impl LocalTxSource {
    /// Wraps a started pool actor.
    pub fn new(pool: Addr<TxPoolActor>, state: Arc<dyn StateSource>, devnet: &DevnetConfig) -> Self {
        Self {
            pool,
            state,
            chains: Arc::new(devnet.chains.iter().map(|c| (c.chain_id, c.clone())).collect()),
            warm: Arc::default(),
        }
    }

    /// Reads the recipients of accepted txs of `chains` ahead (chains on remote state).
    pub fn warm_recipients(mut self, chains: impl IntoIterator<Item = ChainId>) -> Self {
        self.warm = Arc::new(chains.into_iter().collect());
        self
    }

    async fn ask<M>(&self, m: M) -> EdgeResult<M::Result>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        TxPoolActor: Handler<M>,
    {
        self.pool.send(m).await.map_err(|_| OpseqError::transient("txpool actor stopped"))
    }

    async fn state_nonces(&self, chain: ChainId, senders: Vec<Address>) -> EdgeResult<HashMap<Address, u64>> {
        let accounts = self.state.accounts(chain, senders.clone()).await?;
        Ok(senders.into_iter().zip(accounts).map(|(s, a)| (s, a.map(|a| a.nonce).unwrap_or_default())).collect())
    }
}

#[async_trait]
impl TxSource for LocalTxSource {
    async fn submit(&self, chain: ChainId, raw: Bytes) -> EdgeResult<(B256, SubmitOutcome)> {
        self.submit_many(chain, vec![raw]).await?.pop().unwrap_or_else(|| Err(OpseqError::fatal("no outcome")))
    }

    async fn submit_many(
        &self,
        chain: ChainId,
        raws: Vec<Bytes>,
    ) -> EdgeResult<Vec<EdgeResult<(B256, SubmitOutcome)>>> {
        let config = self.chains.get(&chain).ok_or_else(|| OpseqError::not_found(format!("unknown chain {chain}")))?;
        let decoded = recover_all(config, raws).await?;
        // One state read for every sender of the batch.
        let mut senders: Vec<Address> = decoded.iter().filter_map(|d| d.as_ref().ok()).map(|(t, _)| t.sender).collect();
        senders.sort_unstable();
        senders.dedup();
        let accounts: HashMap<Address, AccountState> = if senders.is_empty() {
            HashMap::new()
        } else {
            let got = self.state.accounts(chain, senders.clone()).await?;
            senders.into_iter().zip(got).map(|(s, a)| (s, a.unwrap_or_default())).collect()
        };
        let mut out: Vec<EdgeResult<(B256, SubmitOutcome)>> = Vec::with_capacity(decoded.len());
        let mut to_add = Vec::new();
        let mut slots = Vec::new();
        for d in decoded {
            let checked = d.and_then(|(tx, value)| {
                let account = accounts.get(&tx.sender).copied().unwrap_or_default();
                if tx.nonce < account.nonce {
                    return Err(OpseqError::invalid(format!(
                        "nonce too low: next nonce {}, tx nonce {}",
                        account.nonce, tx.nonce
                    )));
                }
                let cost = U256::from(tx.gas_limit) * U256::from(tx.max_fee_per_gas) + value;
                if account.balance < cost {
                    return Err(OpseqError::invalid(format!(
                        "insufficient funds for gas * price + value: balance {}, tx cost {cost}, overshot {}",
                        account.balance,
                        cost - account.balance
                    )));
                }
                Ok((tx, account.nonce))
            });
            match checked {
                Ok((tx, nonce)) => {
                    slots.push((out.len(), tx.hash));
                    out.push(Err(OpseqError::fatal("unset")));
                    to_add.push((tx, nonce));
                }
                Err(e) => out.push(Err(e)),
            }
        }
        if self.warm.contains(&chain) && !to_add.is_empty() {
            let mut to: Vec<Address> = to_add.iter().filter_map(|(tx, _)| tx.recipient(config.is_l2())).collect();
            to.sort_unstable();
            to.dedup();
            let state = Arc::clone(&self.state);
            tokio::spawn(async move {
                if let Err(e) = state.accounts(chain, to).await {
                    debug!(target: "opseq::txpool", chain_id = chain, error = %e, "reading recipients ahead failed");
                }
            });
        }
        if !to_add.is_empty() {
            let outcomes = self.ask(AddMany(chain, to_add)).await?;
            for ((i, hash), o) in slots.into_iter().zip(outcomes) {
                out[i] = o.map(|o| (hash, o));
            }
        }
        Ok(out)
    }

    async fn content(&self, chain: ChainId) -> EdgeResult<Vec<(PoolTx, bool)>> {
        let senders = self.ask(Senders(chain)).await??;
        let nonces = self.state_nonces(chain, senders).await?;
        let QueryAnswer::Content(c) = self.ask(Query::Content(chain, nonces)).await?? else { unreachable!() };
        Ok(c)
    }

    async fn remove(&self, chain: ChainId, hash: B256) -> EdgeResult<bool> {
        let QueryAnswer::Dropped(d) = self.ask(Query::Drop(chain, hash)).await?? else { unreachable!() };
        Ok(d)
    }

    async fn best(&self, chain: ChainId, base_fee: u64, max: usize) -> EdgeResult<Vec<PoolTx>> {
        let senders = self.ask(Senders(chain)).await??;
        if senders.is_empty() {
            return Ok(vec![]);
        }
        let nonces = self.state_nonces(chain, senders).await?;
        self.ask(Best { chain, base_fee, max, nonces }).await?
    }

    async fn on_block(&self, chain: ChainId, included: Vec<B256>, invalid: Vec<B256>) -> EdgeResult<()> {
        self.ask(Committed { chain, included, invalid }).await?
    }

    async fn subscribe(&self) -> EdgeResult<futures::stream::BoxStream<'static, PoolEvent>> {
        let rx = self.ask(Subscribe).await?;
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        warn!(target: "opseq::txpool", missed = n, "a pool event subscriber fell behind");
                    }
                    Err(_) => return None,
                }
            }
        })
        .boxed())
    }

    async fn pending_nonce(&self, chain: ChainId, sender: Address) -> EdgeResult<Option<u64>> {
        let QueryAnswer::Nonces(nonces) = self.ask(Query::SenderNonces(chain, sender)).await?? else { unreachable!() };
        if nonces.is_empty() {
            return Ok(None);
        }
        let mut next = self.state_nonces(chain, vec![sender]).await?[&sender];
        for n in nonces {
            if n == next {
                next += 1;
            } else if n > next {
                break;
            }
        }
        Ok(Some(next))
    }

    async fn get(&self, chain: ChainId, hash: B256) -> EdgeResult<Option<PoolTx>> {
        let QueryAnswer::Tx(tx) = self.ask(Query::Get(chain, hash)).await?? else { unreachable!() };
        Ok(tx)
    }

    async fn status(&self, chain: ChainId) -> EdgeResult<PoolStatus> {
        let senders = self.ask(Senders(chain)).await??;
        let nonces = self.state_nonces(chain, senders).await?;
        let QueryAnswer::Status(s) = self.ask(Query::Status(chain, nonces)).await?? else { unreachable!() };
        Ok(s)
    }
}
