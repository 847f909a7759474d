//! Synchronous cross-chain calls (issue 17; `README.md` beside this file): a tx on chain A calls
//! a contract on chain B through `SyncCaller` and gets B's return data in the same tx, B's relay
//! of the call landing in B's block at the same timestamp; both blocks or neither.
//!
//! The `xchain_*` JSON-RPC methods on every interop chain's route (the route's chain is the
//! caller's), and `test_includeBundle`, the hook that builds bundles as given (broken ones too):
//!
//! | method | JWT | what |
//! |---|---|---|
//! | `xchain_simulateCall(call)` | no | discovery only: legs, result, gas, positions |
//! | `xchain_prepareCall(call)` | no | discovery, the sequencer's txs signed, the root unsigned |
//! | `xchain_submitPrepared({bundleId, signedRoot})` | yes | the bundle include of a prepared call |
//! | `xchain_sendCall({intent, signature, jobs?})` | yes | one signed intent of an account delegated to `SyncAccount` (EIP-7702): the sequencer sends and pays the root |
//! | `xchain_sendBundle({legs})` | yes | the bundle include of pre-signed legs |
//! | `xchain_getBundle(bundleId)` | no | a bundle's receipt |
//! | `test_includeBundle({legs, force?})` | yes | as `sendBundle`; `force` keeps a failing bundle |
//! | `test_submitPrepared({bundleId, signedRoot, faults})` | yes | a prepared call built broken on purpose (dropLeg, skipCompletion, invertLegOrder, corruptWitness), kept whatever the joint check says |
mod abi;
mod auto;
mod bundle;
mod plan;
mod status;

use crate::{
    ChainControl,
    jobs::{ControlError, Op, Reply},
    rpc::{ChainRpc, codes, err, q},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256, keccak256};
use alloy_signer::SignerSync;
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use opseq_executor::simulate::SimTx;
use opseq_primitives::{
    ChainId,
    interop::{SYNC_RELAYER, SYNC_RELAYER_KEY},
};
use plan::{Chains, Kind, Plan};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{collections::BTreeMap, sync::Arc, time::Instant};

/// A bundle that was refused or rolled back (job unchanged; ours, in the test API's range).
pub const BUNDLE_ABORTED: i32 = -38580;
/// How long a prepared call waits for its signed root.
const PREPARED_TTL: std::time::Duration = std::time::Duration::from_secs(120);
/// Receipts kept for `xchain_getBundle`.
const RECEIPTS_KEPT: usize = 4096;

/// The chains' builders, through the builder supervisor of this process.
struct Supervisor(actix::Addr<crate::BuilderSupervisor>);

#[async_trait::async_trait]
impl Chains for Supervisor {
    async fn control(&self, chain: ChainId, op: Op) -> Result<Reply, ControlError> {
        self.0
            .send(ChainControl(chain, op, tracing::Span::current()))
            .await
            .map_err(|_| ControlError::Edge(opseq_primitives::OpseqError::transient("builder supervisor stopped")))?
    }
}

/// A prepared call waiting for its signed root.
#[derive(Debug)]
struct Prepared {
    plan: Plan,
    /// The signed sequencer txs of each leg, with the root's place left empty.
    legs: Vec<bundle::SignedLeg>,
    root: TxEip1559,
    from: Address,
    expires: Instant,
    started: Instant,
    discovery_us: u128,
    /// The auto-mode group its jobs belong to.
    group: Option<Arc<auto::Group>>,
}

/// What every chain route's sync-call methods share.
#[derive(Debug, Default)]
pub struct SyncCallState {
    auto: Arc<auto::AutoGroups>,
    tracker: Arc<status::Tracker>,
    prepared: parking_lot::Mutex<BTreeMap<B256, Prepared>>,
    receipts: parking_lot::Mutex<(BTreeMap<B256, Value>, std::collections::VecDeque<B256>)>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Supervisor")
    }
}

/// The sync-call methods of one interop chain (the caller's).
#[derive(Debug)]
pub struct SyncCalls {
    chain: Arc<ChainRpc>,
    shared: Arc<SyncCallState>,
}

/// A call to make synchronously: the root tx's fields, and the open job of each chain it reaches.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallParams {
    from: Address,
    to: Address,
    #[serde(alias = "input")]
    data: Bytes,
    gas: Option<U64>,
    value: Option<U256>,
    /// Each chain's open job; none: auto mode (the next timestamp the chains all build).
    jobs: Option<BTreeMap<String, String>>,
}

/// A user's signed intent (`SyncAccount.execute`'s arguments but the signature).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Intent {
    /// The user's account (delegated to `SyncAccount`).
    from: Address,
    destination: U64,
    target: Address,
    data: Bytes,
    deadline: U64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendCallParams {
    intent: Intent,
    /// 65 bytes: the user's EIP-191 signature of `SyncAccount.intentDigest(…)`.
    signature: Bytes,
    jobs: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubmitParams {
    bundle_id: B256,
    signed_root: Bytes,
    /// `test_submitPrepared` only.
    faults: Option<Vec<Fault>>,
}

/// A deliberate break of a prepared bundle (`test_submitPrepared`), for verifier tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Fault {
    /// Only the calling chain's leg: its root executes a `RelayedMessage` no block has.
    DropLeg,
    /// Only the other chains' legs: their relays execute a `SentMessage` no block has.
    SkipCompletion,
    /// The calling chain's txs in reverse order (the root before the results it reads: it
    /// reverts, and the relays execute a message that was never sent).
    InvertLegOrder,
    /// The result handed to `SyncCaller` names the wrong log (its index + 1): the root's check
    /// fails, the relays are orphaned.
    CorruptWitness,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LegParams {
    chain_id: U64,
    job_id: String,
    txs: Vec<Bytes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BundleParams {
    legs: Vec<LegParams>,
    force: Option<bool>,
}

fn chain_key(k: &str) -> Result<ChainId, ErrorObjectOwned> {
    let parsed = match k.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => k.parse().ok(),
    };
    parsed.ok_or_else(|| err(codes::INVALID_PARAMS, format!("jobs: {k:?} is not a chain id")))
}

fn one<T: serde::de::DeserializeOwned>(p: &Params<'_>) -> Result<T, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let v: T = seq.next().map_err(|e| err(codes::INVALID_PARAMS, e.message().to_string()))?;
    if seq.optional_next::<Value>().map_err(|e| err(codes::INVALID_PARAMS, e.message().to_string()))?.is_some() {
        return Err(err(codes::INVALID_PARAMS, "too many arguments, want at most 1"));
    }
    Ok(v)
}

fn aborted(reason: impl Into<String>) -> ErrorObjectOwned {
    err(BUNDLE_ABORTED, reason.into())
}

impl SyncCalls {
    /// The methods, over `chain` (the calling chain), with the state every route shares.
    pub fn module(chain: Arc<ChainRpc>, shared: Arc<SyncCallState>) -> RpcModule<Arc<Self>> {
        let mut m = RpcModule::new(Arc::new(Self { chain, shared }));
        m.register_async_method("xchain_simulateCall", |p, c, _| async move { c.simulate(p).await }).expect("unique");
        m.register_async_method("xchain_prepareCall", |p, c, _| async move { c.prepare(p).await }).expect("unique");
        m.register_async_method("xchain_submitPrepared", |p, c, _| async move { c.submit(p, false).await })
            .expect("unique");
        m.register_async_method("test_submitPrepared", |p, c, _| async move { c.submit(p, true).await })
            .expect("unique");
        m.register_async_method("xchain_sendCall", |p, c, _| async move { c.send_call(p).await }).expect("unique");
        m.register_async_method("xchain_sendBundle", |p, c, _| async move { c.send_bundle(p, false).await })
            .expect("unique");
        m.register_async_method("test_includeBundle", |p, c, _| async move { c.send_bundle(p, true).await })
            .expect("unique");
        m.register_async_method("xchain_getBundle", |p, c, _| async move { c.get_bundle(p) }).expect("unique");
        m
    }

    fn chains(&self) -> Result<Supervisor, ErrorObjectOwned> {
        self.chain
            .miner()
            .cloned()
            .map(Supervisor)
            .ok_or_else(|| err(codes::SERVER, "building is not available in this process"))
    }

    /// Discovery of a call's legs (and the auto-mode group whose jobs it ran on).
    async fn discover(&self, c: &CallParams) -> Result<(Plan, u128, Option<Arc<auto::Group>>), ErrorObjectOwned> {
        let entered = Instant::now();
        let chain = self.chain.chain();
        let mut jobs = BTreeMap::new();
        let mut group = None;
        match &c.jobs {
            Some(given) => {
                for (k, v) in given {
                    jobs.insert(chain_key(k)?, v.clone());
                }
            }
            None => {
                let wanted = self.chain.config().interop.as_ref().map(|i| i.dependency_set.clone()).unwrap_or_default();
                let chains: Arc<dyn Chains> = Arc::new(self.chains()?);
                let (g, created) = self.shared.auto.group(&*chains, &wanted).await.map_err(aborted)?;
                if created {
                    let supervisor = self.chain.miner().cloned().expect("chains() checked");
                    self.shared.auto.seal_later(chains, supervisor, Arc::clone(&g));
                }
                jobs = g.jobs.clone();
                group = Some(g);
            }
        }
        // In a group, discovery runs on jobs the seal must not touch meanwhile; a group sealed
        // before discovery could start sends the call to the next one.
        let gate = match &group {
            Some(g) => {
                let gate = Arc::clone(&g.gate).read_owned().await;
                if *gate {
                    drop(gate);
                    return Box::pin(self.discover(c)).await;
                }
                Some(gate)
            }
            None => None,
        };
        if !jobs.contains_key(&chain) {
            return Err(err(codes::INVALID_PARAMS, format!("jobs: no open job of the calling chain {chain}")));
        }
        let root = SimTx {
            from: c.from,
            to: c.to,
            input: c.data.clone(),
            gas: c.gas.map_or(plan::ROOT_GAS, |g| g.to()),
            value: c.value.unwrap_or_default(),
            access_list: Default::default(),
        };
        let started = Instant::now();
        let wait_us = started.duration_since(entered).as_micros();
        let mut plan = plan::discover(&self.chains()?, &jobs, chain, root, c.gas.is_none()).await.map_err(aborted)?;
        plan.wait_us = wait_us;
        drop(gate);
        Ok((plan, started.elapsed().as_micros(), group))
    }

    async fn simulate(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let c: CallParams = one(&p)?;
        let (plan, us, _) = self.discover(&c).await?;
        Ok(plan_json(&plan, us))
    }

    /// `xchain_sendCall`: the intent's root sent and paid by the sequencer's relayer, to the
    /// user's own (delegated) account.
    async fn send_call(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let s: SendCallParams = one(&p)?;
        let chain = self.chain.chain();
        // The account must run SyncAccount's code (EIP-7702 delegation designator 0xef0100 ‖ it).
        let delegated =
            keccak256([&[0xef, 0x01, 0x00][..], opseq_primitives::interop::SYNC_ACCOUNT.as_slice()].concat());
        let account = self
            .chain
            .edges()
            .state
            .accounts(chain, vec![s.intent.from])
            .await
            .map_err(crate::rpc::edge)?
            .pop()
            .flatten();
        if account.is_none_or(|a| a.code_hash != delegated) {
            return Err(err(
                codes::INVALID_PARAMS,
                format!(
                    "account {} is not delegated to SyncAccount ({}) on chain {chain}: authorize it first (EIP-7702)",
                    s.intent.from,
                    opseq_primitives::interop::SYNC_ACCOUNT
                ),
            ));
        }
        if s.signature.len() != 65 {
            return Err(err(codes::INVALID_PARAMS, "signature: 65 bytes expected"));
        }
        let c = CallParams {
            from: SYNC_RELAYER,
            to: s.intent.from,
            data: abi::execute(
                U256::from(s.intent.destination.to::<u64>()),
                s.intent.target,
                s.intent.data.clone(),
                U256::from(s.intent.deadline.to::<u64>()),
                s.signature.clone(),
            ),
            gas: None,
            value: None,
            jobs: s.jobs,
        };
        let started = Instant::now();
        let (plan, us, group) = self.discover(&c).await?;
        // SyncAccount's own refusals, before anything was sent: nothing to include.
        if let Some(why) = (!plan.root.success).then(|| abi::intent_refusal(&plan.root.output)).flatten() {
            return Err(aborted(why));
        }
        let (legs, root) = sign_legs(&plan, true)?;
        let prepared = Prepared {
            plan,
            legs: legs.clone(),
            root,
            from: SYNC_RELAYER,
            expires: started,
            started,
            discovery_us: us,
            group,
        };
        let root_hash = prepared
            .legs
            .iter()
            .find(|l| l.chain == chain)
            .and_then(|l| {
                let i = prepared
                    .plan
                    .legs
                    .iter()
                    .find(|pl| pl.chain == chain)?
                    .steps
                    .iter()
                    .position(|s| s.kind == Kind::Root)?;
                l.txs.get(i).map(keccak256)
            })
            .unwrap_or_default();
        let id = keccak256([root_hash.as_slice(), &started.elapsed().as_nanos().to_be_bytes()].concat());
        self.include(id, legs, false, Some((&prepared, root_hash))).await
    }

    async fn prepare(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let c: CallParams = one(&p)?;
        let started = Instant::now();
        let (plan, us, group) = self.discover(&c).await?;
        let (legs, root) = sign_legs(&plan, false)?;
        let id = keccak256(
            [
                root.chain_id.to_be_bytes().as_slice(),
                c.from.as_slice(),
                &root.nonce.to_be_bytes(),
                &keccak256(&root.input).0,
                &started.elapsed().as_nanos().to_be_bytes(),
            ]
            .concat(),
        );
        let unsigned = json!({
            "type": "0x2",
            "chainId": q(root.chain_id),
            "nonce": q(root.nonce),
            "gas": q(root.gas_limit),
            "maxFeePerGas": format!("{:#x}", root.max_fee_per_gas),
            "maxPriorityFeePerGas": "0x0",
            "to": c.to,
            "value": format!("{:#x}", root.value),
            "input": root.input,
            "accessList": root.access_list,
        });
        let mut out = plan_json(&plan, us);
        out["bundleId"] = json!(id);
        out["unsignedRoot"] = unsigned;
        let now = Instant::now();
        // In auto mode the call must be submitted before its blocks are sealed.
        let expires = group.as_ref().map_or(now + PREPARED_TTL, |g| g.seal_at.min(now + PREPARED_TTL));
        out["expiresInMs"] = json!(expires.saturating_duration_since(now).as_millis() as u64);
        if let Some(g) = &group {
            out["timestamp"] = json!(q(g.timestamp));
        }
        let mut prepared = self.shared.prepared.lock();
        prepared.retain(|_, p| p.expires > now);
        prepared.insert(id, Prepared { plan, legs, root, from: c.from, expires, started, discovery_us: us, group });
        Ok(out)
    }

    async fn submit(&self, p: Params<'static>, test: bool) -> Result<Value, ErrorObjectOwned> {
        let s: SubmitParams = one(&p)?;
        if s.faults.is_some() != test {
            return Err(err(
                codes::INVALID_PARAMS,
                if test { "test_submitPrepared needs faults" } else { "faults is a test_submitPrepared option" },
            ));
        }
        let signed = op_alloy_consensus::OpTxEnvelope::decode_2718_exact(&s.signed_root)
            .map_err(|e| err(codes::INVALID_PARAMS, format!("signedRoot: undecodable transaction: {e}")))?;
        let sender = {
            use alloy_consensus::transaction::SignerRecoverable;
            signed
                .recover_signer()
                .map_err(|e| err(codes::INVALID_PARAMS, format!("signedRoot: invalid signature: {e}")))?
        };
        let prepared = {
            let mut all = self.shared.prepared.lock();
            let Some(p) = all.get(&s.bundle_id) else {
                return Err(err(codes::INVALID_PARAMS, format!("unknown or expired bundle {}", s.bundle_id)));
            };
            if p.expires <= Instant::now() {
                all.remove(&s.bundle_id);
                return Err(err(codes::INVALID_PARAMS, format!("bundle {} expired", s.bundle_id)));
            }
            if let Some(d) = root_differs(&p.root, p.from, &signed, sender) {
                return Err(err(codes::INVALID_PARAMS, format!("signedRoot differs from the prepared root: {d}")));
            }
            all.remove(&s.bundle_id).expect("found")
        };
        let mut legs = prepared.legs.clone();
        for l in &mut legs {
            for t in &mut l.txs {
                if t.is_empty() {
                    *t = s.signed_root.clone();
                }
            }
        }
        let root_hash = keccak256(&s.signed_root);
        let faults = s.faults.unwrap_or_default();
        if !faults.is_empty() {
            legs = broken(&prepared, legs, &faults)?;
        }
        self.include(s.bundle_id, legs, !faults.is_empty(), Some((&prepared, root_hash))).await
    }

    async fn send_bundle(&self, p: Params<'static>, test: bool) -> Result<Value, ErrorObjectOwned> {
        let b: BundleParams = one(&p)?;
        if b.force.is_some() && !test {
            return Err(err(codes::INVALID_PARAMS, "force is a test_includeBundle option"));
        }
        if b.legs.is_empty() {
            return Err(err(codes::INVALID_PARAMS, "a bundle needs at least one leg"));
        }
        let legs: Vec<bundle::SignedLeg> = b
            .legs
            .into_iter()
            .map(|l| bundle::SignedLeg { chain: l.chain_id.to(), job: l.job_id, txs: l.txs })
            .collect();
        let id = keccak256(legs.iter().flat_map(|l| l.txs.iter().flat_map(|t| keccak256(t).0)).collect::<Vec<u8>>());
        self.include(id, legs, b.force.unwrap_or(false), None).await
    }

    async fn include(
        &self,
        id: B256,
        legs: Vec<bundle::SignedLeg>,
        force: bool,
        prepared: Option<(&Prepared, B256)>,
    ) -> Result<Value, ErrorObjectOwned> {
        let shared = Arc::clone(&self.shared);
        let on_change: status::OnChange = Arc::new(move |id, status, reason| {
            if let Some(r) = shared.receipts.lock().0.get_mut(&id) {
                r["status"] = json!(status);
                if !reason.is_empty() {
                    r["abortReason"] = json!(reason);
                }
            }
        });
        self.shared.tracker.start(self.chain.edges(), on_change).await;
        let started = Instant::now();
        // In an auto-mode group: in every block of the group or in none.
        let group = prepared.and_then(|(p, _)| p.group.clone());
        let gate = match &group {
            Some(g) => Some(g.gate.read().await),
            None => None,
        };
        let r = if gate.as_ref().is_some_and(|sealed| **sealed) {
            Err("the blocks the call was prepared for were sealed: prepare it again".to_string())
        } else {
            bundle::include(&self.chains()?, &legs, force).await
        };
        drop(gate);
        let inclusion_us = started.elapsed().as_micros();
        let mut receipt = match &r {
            Ok((included, problems)) => {
                let blocks: serde_json::Map<String, Value> = included
                    .iter()
                    .map(|l| {
                        (
                            l.chain.to_string(),
                            json!({
                                "number": q(l.number),
                                "jobId": l.job,
                                "transactions": l.txs.iter().map(|t| json!({
                                    "hash": t.hash, "index": q(t.index), "status": if t.success { "0x1" } else { "0x0" },
                                    "gasUsed": q(t.gas_used),
                                })).collect::<Vec<_>>(),
                            }),
                        )
                    })
                    .collect();
                json!({
                    "bundleId": id,
                    "status": "committed",
                    "timestamp": included.first().map(|l| q(l.timestamp)),
                    "blocks": blocks,
                    "problems": problems,
                })
            }
            Err(reason) => json!({"bundleId": id, "status": "aborted", "abortReason": reason}),
        };
        let mut timings = json!({"inclusionUs": inclusion_us as u64});
        if let Some((p, root_hash)) = prepared {
            timings["discoveryUs"] = json!(p.discovery_us as u64);
            timings["waitUs"] = json!(p.plan.wait_us as u64);
            timings["sinceDiscoveryStartUs"] = json!(p.started.elapsed().as_micros() as u64);
            receipt["rootHash"] = json!(root_hash);
            receipt["result"] = json!({"success": p.plan.root.success, "returnData": result_data(&p.plan)});
        }
        receipt["timings"] = timings;
        {
            let mut kept = self.shared.receipts.lock();
            let (map, order) = &mut *kept;
            if map.insert(id, receipt.clone()).is_none() {
                order.push_back(id);
            }
            while order.len() > RECEIPTS_KEPT {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
        let chain = legs.first().map_or(self.chain.chain(), |l| l.chain);
        match &r {
            Ok((included, _)) => {
                let bl: Vec<opseq_primitives::BundleLeg> = included
                    .iter()
                    .map(|l| opseq_primitives::BundleLeg {
                        chain_id: l.chain,
                        block_number: l.number,
                        first_index: l.txs.first().map_or(0, |t| t.index),
                        tx_count: l.txs.len() as u64,
                    })
                    .collect();
                let ts = included.first().map_or(0, |l| l.timestamp);
                self.shared.tracker.announce(self.chain.edges(), id, chain, ts, bl, None).await;
            }
            Err(reason) => {
                self.shared.tracker.announce(self.chain.edges(), id, chain, 0, vec![], Some(reason.clone())).await;
            }
        }
        match r {
            Ok(_) => Ok(receipt),
            Err(reason) => Err(ErrorObjectOwned::owned(BUNDLE_ABORTED, reason, Some(receipt))),
        }
    }

    fn get_bundle(&self, p: Params<'static>) -> Result<Value, ErrorObjectOwned> {
        let id: B256 = one(&p)?;
        Ok(self.shared.receipts.lock().0.get(&id).cloned().unwrap_or(Value::Null))
    }
}

/// Each leg's txs signed by the relayer, the root's place left empty (`relayer_root`: signed too,
/// the intent mode), and the root's fields.
fn sign_legs(plan: &Plan, relayer_root: bool) -> Result<(Vec<bundle::SignedLeg>, TxEip1559), ErrorObjectOwned> {
    let relayer = alloy_signer_local::PrivateKeySigner::from_bytes(&SYNC_RELAYER_KEY)
        .map_err(|e| err(codes::INTERNAL, e.to_string()))?;
    let mut legs = vec![];
    let mut root = None;
    for leg in &plan.legs {
        let at = leg.at.ok_or_else(|| err(codes::INTERNAL, "a leg never ran"))?;
        let mut txs = vec![];
        for (s, o) in leg.steps.iter().zip(&leg.outcomes) {
            let tx = TxEip1559 {
                chain_id: leg.chain,
                nonce: o.nonce,
                gas_limit: s.tx.gas,
                // Twice the base fee, no tip: the sequencer's own txs (and the root's
                // suggestion) pay the base fee exactly.
                max_fee_per_gas: u128::from(at.base_fee) * 2,
                max_priority_fee_per_gas: 0,
                to: TxKind::Call(s.tx.to),
                value: s.tx.value,
                access_list: s.tx.access_list.clone(),
                input: s.tx.input.clone(),
            };
            if s.kind == Kind::Root {
                root = Some(tx.clone());
                if !relayer_root {
                    txs.push(Bytes::new());
                    continue;
                }
            }
            let sig = relayer.sign_hash_sync(&tx.signature_hash()).map_err(|e| err(codes::INTERNAL, e.to_string()))?;
            txs.push(TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into());
        }
        legs.push(bundle::SignedLeg { chain: leg.chain, job: leg.job.clone(), txs });
    }
    Ok((legs, root.ok_or_else(|| err(codes::INTERNAL, "no root"))?))
}

/// `legs` broken as `faults` say (the calling chain's leg first).
fn broken(
    prepared: &Prepared,
    mut legs: Vec<bundle::SignedLeg>,
    faults: &[Fault],
) -> Result<Vec<bundle::SignedLeg>, ErrorObjectOwned> {
    let root_chain = legs.first().map(|l| l.chain).unwrap_or_default();
    for f in faults {
        match f {
            Fault::DropLeg => legs.retain(|l| l.chain == root_chain),
            Fault::SkipCompletion => legs.retain(|l| l.chain != root_chain),
            Fault::InvertLegOrder => {
                if let Some(l) = legs.iter_mut().find(|l| l.chain == root_chain) {
                    l.txs.reverse();
                }
            }
            Fault::CorruptWitness => {
                let mut plan = prepared.plan.clone();
                let leg = plan
                    .legs
                    .iter_mut()
                    .find(|l| l.chain == root_chain)
                    .ok_or_else(|| err(codes::INTERNAL, "no root leg"))?;
                let i =
                    leg.steps.iter().position(|s| matches!(s.kind, Kind::Provide(..))).ok_or_else(|| {
                        err(codes::INVALID_PARAMS, "corruptWitness: the call has no result to corrupt")
                    })?;
                // provide(nonce, (origin, blockNumber, logIndex, …), …): logIndex is the fourth
                // word after the selector.
                let mut input = leg.steps[i].tx.input.to_vec();
                let at = 4 + 3 * 32 + 31;
                input[at] = input[at].wrapping_add(1);
                leg.steps[i].tx.input = input.into();
                let (signed, _) = sign_legs(&plan, false)?;
                let signed = signed.into_iter().find(|l| l.chain == root_chain).expect("root leg");
                if let Some(l) = legs.iter_mut().find(|l| l.chain == root_chain) {
                    l.txs[i] = signed.txs[i].clone();
                }
            }
        }
    }
    if legs.is_empty() {
        return Err(err(codes::INVALID_PARAMS, "the faults leave no leg"));
    }
    Ok(legs)
}

/// The callee's return data as the root returns it (`SyncCaller.call`'s bytes when the root
/// calls it directly; the root's own output otherwise).
fn result_data(plan: &Plan) -> Bytes {
    if plan.root.success {
        abi::call_return(&plan.root.output).unwrap_or_else(|| plan.root.output.clone())
    } else {
        plan.root.output.clone()
    }
}

/// What differs between the prepared root and the signed one, if anything.
fn root_differs(
    want: &TxEip1559,
    from: Address,
    got: &op_alloy_consensus::OpTxEnvelope,
    sender: Address,
) -> Option<String> {
    use alloy_consensus::Transaction;
    if sender != from {
        return Some(format!("signed by {sender}, prepared for {from}"));
    }
    let checks = [
        ("chainId", got.chain_id() == Some(want.chain_id)),
        ("nonce", got.nonce() == want.nonce),
        ("gas", got.gas_limit() == want.gas_limit),
        (
            "to",
            got.to()
                == Some(match want.to {
                    TxKind::Call(a) => a,
                    TxKind::Create => Address::ZERO,
                }),
        ),
        ("value", got.value() == want.value),
        ("input", got.input() == &want.input),
        ("accessList", got.access_list() == Some(&want.access_list)),
    ];
    checks.iter().find(|(_, ok)| !ok).map(|(f, _)| format!("{f} is not the prepared one"))
}

fn plan_json(plan: &Plan, discovery_us: u128) -> Value {
    let legs: Vec<Value> = plan
        .legs
        .iter()
        .map(|l| {
            let at = l.at.expect("every leg ran");
            let mut logs = at.logs;
            json!({
                "chainId": q(l.chain),
                "jobId": l.job,
                "blockNumber": q(at.number),
                "timestamp": q(at.timestamp),
                "firstTxIndex": q(at.txs as u64),
                "firstLogIndex": q(at.logs as u64),
                "txs": l.steps.iter().zip(&l.outcomes).map(|(s, o)| {
                    let first = logs;
                    logs += o.logs.len();
                    json!({
                        "kind": match s.kind { Kind::Root => "root", Kind::Provide(..) => "provide", Kind::Clear => "clear", Kind::Relay { .. } => "relay" },
                        "from": s.tx.from,
                        "to": s.tx.to,
                        "input": s.tx.input,
                        "gas": q(s.tx.gas),
                        "gasUsed": q(o.gas_used),
                        "status": if o.success { "0x1" } else { "0x0" },
                        "accessList": s.tx.access_list,
                        "firstLogIndex": q(first as u64),
                        "logs": o.logs.iter().map(|l| json!({"address": l.address, "topics": l.topics(), "data": l.data.data})).collect::<Vec<_>>(),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "result": {"success": plan.root.success, "returnData": result_data(plan), "gasUsed": q(plan.root.gas_used)},
        "legs": legs,
        "discovery": {"evmRuns": plan.runs, "hops": plan.hops, "wallUs": discovery_us as u64, "waitUs": plan.wait_us as u64},
    })
}
