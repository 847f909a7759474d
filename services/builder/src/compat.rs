//! op-test-sequencer's wire surface, over the same build jobs as the `test_*` API, so that
//! op-devstack and Kurtosis configurations can point at us:
//!
//! - `/` (JWT): `build_new(builderID, {parent, l1Origin?})`, `build_open`, `build_cancel`,
//!   `build_seal` (→ `{executionPayload, parentBeaconBlockRoot}`), `build_closeJob`;
//! - `/sequencers/<id>` (JWT): the `fullseq` step machine `sequencer_new/buildJob/includeTx/open/
//!   seal/sign/commit/publish/next/start/stop` (`prebuiltEnvelope` answers "not implemented");
//! - `/tx/<id>` (no auth): `eth_sendRawTransaction`, included into the sequencer's current job.
//!   Unlike op-test-sequencer (which returns null, and crashes with no job open) it returns the
//!   tx hash, and "unknown job" when no job is open.
//!
//! Names: builder `builder-<chainId>` and sequencer `sequencer-<chainId>` per chain, plus the
//! names of an op-test-sequencer ensemble file (`--builders.config`). Error codes and messages
//! are op-test-sequencer's (`seqtypes`). Our commit publishes too (the publisher component
//! does both), so `sequencer_publish` only records the step.
use crate::{
    jobs::{ControlError, Include, Op, OpenOpts, Reply},
    rpc::{ChainRpc, codes, err},
    test_api::{control_error, unexpected},
};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use opseq_primitives::{ChainId, SealedBlock};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{collections::BTreeMap, sync::Arc};

/// op-test-sequencer's `seqtypes` errors.
fn seq_error(code: i32) -> ErrorObjectOwned {
    let msg = match code {
        -38500 => "sequencer error",
        -38502 => "unknown builder",
        -38503 => "not implemented",
        -38510 => "unknown job",
        -38511 => "conflicting job",
        -38520 => "block not yet sealed",
        -38521 => "block already sealed",
        -38530 => "block not yet signed",
        -38531 => "block already signed",
        -38540 => "block not yet committed",
        -38541 => "block already committed",
        -38550 => "sequencer inactive",
        -38551 => "sequencer already active",
        _ => "sequencer error",
    };
    err(code, msg)
}

/// Our job errors in op-test-sequencer's codes.
fn compat_error(e: ControlError) -> ErrorObjectOwned {
    match e {
        ControlError::UnknownJob(_) | ControlError::Cancelled(_) => seq_error(-38510),
        ControlError::AlreadySealed(_) | ControlError::IncludeAfterSeal(_) | ControlError::CancelAfterSeal(_) => {
            seq_error(-38521)
        }
        ControlError::NotSealed(_) => seq_error(-38520),
        ControlError::AlreadyCommitted(_) => seq_error(-38541),
        other => control_error(other),
    }
}

/// `BuildOpts` as op-test-sequencer reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BuildOpts {
    parent: Option<B256>,
    l1_origin: Option<B256>,
}

impl BuildOpts {
    fn open(self) -> OpenOpts {
        // A zero parent means "the head" (op-test-sequencer's fakepos reads it so).
        OpenOpts {
            parent: self.parent.filter(|p| !p.is_zero()),
            l1_origin: self.l1_origin,
            timestamp: None,
            overrides: Default::default(),
        }
    }
}

/// The engine API envelope of a sealed block: `{executionPayload, parentBeaconBlockRoot}`, with
/// `withdrawalsRoot` in the payload from Isthmus (V4).
pub(crate) fn envelope_json(b: &SealedBlock, l2: bool) -> Value {
    serde_json::to_value(opseq_executor::payload_envelope(b, l2)).unwrap_or_default()
}

/// The `fullseq` state of one sequencer.
#[derive(Debug, Default)]
struct SeqState {
    job: Option<String>,
    sealed: bool,
    signed: bool,
    committed: bool,
}

/// One sequencer: a chain and its step state.
#[derive(Debug)]
pub(crate) struct Sequencer {
    chain: Arc<ChainRpc>,
    state: tokio::sync::Mutex<SeqState>,
}

type R = Result<Value, ErrorObjectOwned>;

impl Sequencer {
    async fn op(&self, op: Op) -> Result<Reply, ErrorObjectOwned> {
        self.chain.control_raw(op).await.map_err(compat_error)
    }

    async fn new_job(&self, st: &mut SeqState, opts: BuildOpts) -> Result<(), ErrorObjectOwned> {
        if st.sealed {
            return Err(seq_error(-38521));
        }
        if st.job.is_some() {
            return Err(seq_error(-38511));
        }
        match self.op(Op::Open(opts.open())).await? {
            Reply::Job(j) => st.job = Some(j.id),
            other => return Err(unexpected(other)),
        }
        Ok(())
    }

    async fn seal(&self, st: &mut SeqState) -> Result<(), ErrorObjectOwned> {
        if st.sealed {
            return Err(seq_error(-38521));
        }
        let job = st.job.clone().ok_or_else(|| seq_error(-38510))?;
        self.op(Op::Seal(job, false)).await?;
        st.sealed = true;
        Ok(())
    }

    fn sign(st: &mut SeqState) -> Result<(), ErrorObjectOwned> {
        // Blocks are signed when sealed (the signer component); this records the step.
        if st.signed {
            return Err(seq_error(-38531));
        }
        if !st.sealed {
            return Err(seq_error(-38520));
        }
        st.signed = true;
        Ok(())
    }

    async fn commit(&self, st: &mut SeqState) -> Result<(), ErrorObjectOwned> {
        if st.committed {
            return Err(seq_error(-38541));
        }
        if !st.signed {
            return Err(seq_error(-38530));
        }
        let job = st.job.clone().ok_or_else(|| seq_error(-38510))?;
        self.op(Op::Commit(job)).await?;
        st.committed = true;
        Ok(())
    }

    async fn call(&self, method: &str, p: Params<'static>) -> R {
        // The steps without parameters refuse any (geth's rpc package), before acting.
        if matches!(
            method,
            "sequencer_buildJob"
                | "sequencer_open"
                | "sequencer_seal"
                | "sequencer_sign"
                | "sequencer_commit"
                | "sequencer_publish"
                | "sequencer_next"
        ) {
            crate::rpc::no_params(&p)?;
        }
        let mut st = self.state.lock().await;
        match method {
            "sequencer_new" => {
                let opts: Option<BuildOpts> = p.sequence().optional_next()?;
                self.new_job(&mut st, opts.unwrap_or_default()).await?;
                Ok(Value::Null)
            }
            "sequencer_buildJob" => st.job.clone().map(Value::from).ok_or_else(|| seq_error(-38510)),
            "sequencer_includeTx" => {
                let (raw,): (Bytes,) = p.parse()?;
                let job = st.job.clone().ok_or_else(|| seq_error(-38510))?;
                if st.sealed {
                    return Err(seq_error(-38521));
                }
                self.op(Op::Include(job, Include::Raw(raw), false)).await?;
                Ok(Value::Null)
            }
            "sequencer_open" => {
                if st.sealed {
                    return Err(seq_error(-38521));
                }
                st.job.as_ref().map(|_| Value::Null).ok_or_else(|| seq_error(-38510))
            }
            "sequencer_seal" => self.seal(&mut st).await.map(|()| Value::Null),
            "sequencer_sign" => Self::sign(&mut st).map(|()| Value::Null),
            "sequencer_commit" => self.commit(&mut st).await.map(|()| Value::Null),
            "sequencer_publish" => {
                if !st.committed {
                    return Err(seq_error(-38540));
                }
                Ok(Value::Null)
            }
            "sequencer_next" => {
                // Each step ignores its "already done" error, as fullseq's Next does; then reset.
                if st.job.is_none() && !st.sealed {
                    self.new_job(&mut st, BuildOpts::default()).await?;
                }
                if !st.sealed {
                    self.seal(&mut st).await?;
                }
                if !st.signed {
                    Self::sign(&mut st)?;
                }
                if !st.committed {
                    self.commit(&mut st).await?;
                }
                *st = SeqState::default();
                Ok(Value::Null)
            }
            "sequencer_prebuiltEnvelope" => Err(seq_error(-38503)),
            "sequencer_start" => {
                let (head,): (B256,) = p.parse()?;
                if let Reply::Auto { active: true, .. } = self.op(Op::AutoStatus).await? {
                    return Err(seq_error(-38551));
                }
                let current = self.chain.head_hash().await?;
                if current != head {
                    // op-node's admin_startSequencer check, against reorgs during rotations.
                    return Err(err(
                        -38500,
                        format!("block hash does not match: head {current}, requested start on top of {head}"),
                    ));
                }
                self.op(Op::Auto(true, None)).await?;
                Ok(Value::Null)
            }
            "sequencer_stop" => {
                if let Reply::Auto { active: false, .. } = self.op(Op::AutoStatus).await? {
                    return Err(seq_error(-38550));
                }
                self.op(Op::Auto(false, None)).await?;
                Ok(json!(self.chain.head_hash().await?))
            }
            "eth_sendRawTransaction" => {
                let (raw,): (Bytes,) = p.parse()?;
                let job = st.job.clone().ok_or_else(|| seq_error(-38510))?;
                match self.op(Op::Include(job, Include::Raw(raw), false)).await? {
                    Reply::Included { added, .. } => Ok(added.first().map(|a| json!(a.hash)).unwrap_or(Value::Null)),
                    other => Err(unexpected(other)),
                }
            }
            other => Err(err(-32601, format!("the method {other} does not exist/is not available"))),
        }
    }
}

const SEQUENCER_METHODS: &[&str] = &[
    "sequencer_new",
    "sequencer_buildJob",
    "sequencer_includeTx",
    "sequencer_open",
    "sequencer_seal",
    "sequencer_sign",
    "sequencer_commit",
    "sequencer_publish",
    "sequencer_next",
    "sequencer_prebuiltEnvelope",
    "sequencer_start",
    "sequencer_stop",
];

/// What the root route's methods see.
#[derive(Debug)]
pub(crate) struct Builders {
    /// Builder name → chain.
    builders: BTreeMap<String, ChainId>,
    chains: BTreeMap<ChainId, Arc<ChainRpc>>,
}

/// A sequencer's modules: `sequencer_*`, and the unauthenticated `eth_sendRawTransaction`.
type SequencerModules = (RpcModule<Arc<Sequencer>>, RpcModule<Arc<Sequencer>>);

/// The op-test-sequencer routes.
#[derive(Debug, Clone)]
pub struct Compat {
    sequencers: Arc<BTreeMap<String, SequencerModules>>,
    root: RpcModule<Arc<Builders>>,
}

impl Compat {
    /// Routes for `chains`, named by `names` (sequencer name, builder name, chain).
    pub(crate) fn new(chains: BTreeMap<ChainId, Arc<ChainRpc>>, names: &[(String, String, ChainId)]) -> Self {
        let mut sequencers = BTreeMap::new();
        for (name, _, chain) in names {
            let Some(ctx) = chains.get(chain) else { continue };
            let seq = Arc::new(Sequencer { chain: Arc::clone(ctx), state: Default::default() });
            let mut m = RpcModule::new(Arc::clone(&seq));
            for method in SEQUENCER_METHODS {
                m.register_async_method(method, move |p, s, _| async move { s.call(method, p).await })
                    .expect("unique method name");
            }
            let mut tx = RpcModule::new(seq);
            tx.register_async_method("eth_sendRawTransaction", |p, s, _| async move {
                s.call("eth_sendRawTransaction", p).await
            })
            .expect("unique method name");
            sequencers.insert(name.clone(), (m, tx));
        }
        let builders = names.iter().map(|(_, b, c)| (b.clone(), *c)).collect();
        let mut root = RpcModule::new(Arc::new(Builders { builders, chains }));
        for method in ["build_new", "build_open", "build_cancel", "build_seal", "build_closeJob"] {
            root.register_async_method(method, move |p, c, _| async move { c.build(method, p).await })
                .expect("unique method name");
        }
        Self { sequencers: Arc::new(sequencers), root }
    }

    /// The root module (`build_*`).
    pub(crate) const fn root(&self) -> &RpcModule<Arc<Builders>> {
        &self.root
    }

    /// A sequencer's modules.
    pub(crate) fn sequencer(&self, name: &str) -> Option<&SequencerModules> {
        self.sequencers.get(name)
    }

    /// The served sequencer names.
    pub(crate) fn names(&self) -> Vec<String> {
        self.sequencers.keys().cloned().collect()
    }
}

impl Builders {
    /// The chain of a job id (`job-<chainId>-<n>`).
    fn chain_of_job(&self, id: &str) -> Result<&Arc<ChainRpc>, ErrorObjectOwned> {
        id.strip_prefix("job-")
            .and_then(|r| r.split('-').next())
            .and_then(|c| c.parse::<ChainId>().ok())
            .and_then(|c| self.chains.get(&c))
            .ok_or_else(|| seq_error(-38510))
    }

    async fn build(&self, method: &str, p: Params<'static>) -> R {
        let control = |ctx: &Arc<ChainRpc>, op| {
            let ctx = Arc::clone(ctx);
            async move { ctx.control_raw(op).await.map_err(compat_error) }
        };
        if method == "build_new" {
            let mut seq = p.sequence();
            let builder: String = seq.next()?;
            let opts: Option<BuildOpts> = seq.optional_next()?;
            let chain = self.builders.get(&builder).ok_or_else(|| seq_error(-38502))?;
            let ctx = self.chains.get(chain).ok_or_else(|| seq_error(-38502))?;
            return match control(ctx, Op::Open(opts.unwrap_or_default().open())).await? {
                Reply::Job(j) => Ok(json!(j.id)),
                other => Err(unexpected(other)),
            };
        }
        let (id,): (String,) = p.parse()?;
        if id.len() > 100 {
            return Err(err(codes::INVALID_PARAMS, "invalid ID: longer than 100 bytes"));
        }
        let ctx = self.chain_of_job(&id)?;
        match method {
            "build_open" => control(ctx, Op::Inspect(id)).await.map(|_| Value::Null),
            "build_cancel" => control(ctx, Op::Cancel(id)).await.map(|_| Value::Null),
            "build_closeJob" => control(ctx, Op::Close(id)).await.map(|_| Value::Null),
            "build_seal" => {
                // A job seals once; sealing again returns the same envelope (the job caches it).
                let block = match ctx.control_raw(Op::Seal(id.clone(), false)).await {
                    Ok(Reply::Sealed { block, .. }) => block,
                    Err(ControlError::AlreadySealed(_)) => match control(ctx, Op::Inspect(id)).await? {
                        Reply::Job(j) => j.block.ok_or_else(|| seq_error(-38520))?,
                        other => return Err(unexpected(other)),
                    },
                    Ok(other) => return Err(unexpected(other)),
                    Err(e) => return Err(compat_error(e)),
                };
                Ok(envelope_json(&block, ctx.is_l2()))
            }
            other => Err(err(-32601, format!("the method {other} does not exist/is not available"))),
        }
    }
}
