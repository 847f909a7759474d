//! The test-sequencing API of one chain (`test_*` on `/chains/<chainId>`, JWT-protected): build
//! jobs, auto mode and head control, as JSON-RPC. Error codes follow op-test-sequencer's
//! (`seqtypes`) where it has one; the ones it lacks are ours, in the same range:
//!
//! | code   | meaning                                   |
//! |--------|-------------------------------------------|
//! | -38510 | unknown job                               |
//! | -38512 | job cancelled                             |
//! | -38513 | too many open jobs                        |
//! | -38520 | block not yet sealed (commit of open job) |
//! | -38521 | block already sealed (seal twice)         |
//! | -38522 | include after seal                        |
//! | -38523 | cancel after seal                         |
//! | -38541 | block already committed                   |
//! | -38570 | transaction refused (job unchanged)       |
//! | -32602 | invalid params (unknown parent, bad time) |
use crate::{
    ChainControl,
    jobs::{ControlError, Include, JobView, Op, OpenOpts, Reply, TxOutcome},
    rpc::{ChainRpc, RpcResult, codes, edge, err, q},
};
use alloy_primitives::{Address, B256, Bytes};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// A reply of another kind than the operation answers (a bug, reported as an internal error).
pub(crate) fn unexpected(reply: Reply) -> ErrorObjectOwned {
    err(codes::INTERNAL, format!("unexpected reply {reply:?}"))
}

/// The wire code of a control error.
pub(crate) fn control_error(e: ControlError) -> ErrorObjectOwned {
    let code = match &e {
        ControlError::UnknownJob(_) => -38510,
        ControlError::Cancelled(_) => -38512,
        ControlError::TooManyJobs(_) => -38513,
        ControlError::NotSealed(_) => -38520,
        ControlError::AlreadySealed(_) => -38521,
        ControlError::IncludeAfterSeal(_) => -38522,
        ControlError::CancelAfterSeal(_) => -38523,
        ControlError::AlreadyCommitted(_) => -38541,
        ControlError::Refused(_) => -38570,
        ControlError::Invalid(_) => codes::INVALID_PARAMS,
        ControlError::Edge(e) => return edge(e.clone()),
    };
    err(code, e.to_string())
}

/// `test_include*`'s options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IncludeParams {
    /// Include even a tx whose executing messages are invalid (to test verifiers).
    force: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OpenParams {
    parent: Option<B256>,
    l1_origin: Option<B256>,
    timestamp: Option<alloy_primitives::U64>,
    prev_randao: Option<B256>,
    parent_beacon_block_root: Option<B256>,
    fee_recipient: Option<alloy_primitives::Address>,
    extra_data: Option<alloy_primitives::Bytes>,
    gas_limit: Option<alloy_primitives::U64>,
}

/// An initiating message's identifier, with its payload or its hash (supersim's
/// `admin_getAccessListForIdentifier` shape).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccessListParams {
    origin: Address,
    block_number: alloy_primitives::U64,
    log_index: alloy_primitives::U64,
    timestamp: alloy_primitives::U64,
    chain_id: alloy_primitives::U256,
    payload: Option<Bytes>,
    msg_hash: Option<B256>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealParams {
    commit: Option<bool>,
}

/// Blocks back from each head `test_accessList(msgHash)` searches.
const BY_HASH_LOOKBACK: u64 = 4096;

fn job_id(p: &Params<'static>) -> Result<String, ErrorObjectOwned> {
    let mut seq = p.sequence();
    let id: String = seq.next().map_err(|_| err(codes::INVALID_PARAMS, "expected the job id as first parameter"))?;
    if id.len() > 100 {
        return Err(err(codes::INVALID_PARAMS, "job ids are at most 100 bytes"));
    }
    Ok(id)
}

impl ChainRpc {
    /// A control operation on this chain's builder.
    pub(crate) async fn control_raw(&self, op: Op) -> Result<Reply, ControlError> {
        let miner = self.miner().ok_or_else(|| {
            ControlError::Edge(opseq_primitives::OpseqError::not_found("building is not available in this process"))
        })?;
        miner
            .send(ChainControl(self.chain(), op, tracing::Span::current()))
            .await
            .map_err(|_| ControlError::Edge(opseq_primitives::OpseqError::transient("builder supervisor stopped")))?
    }

    pub(crate) async fn control(&self, op: Op) -> Result<Reply, ErrorObjectOwned> {
        self.control_raw(op).await.map_err(control_error)
    }

    /// The head's hash.
    pub(crate) async fn head_hash(&self) -> Result<B256, ErrorObjectOwned> {
        Ok(self.edges().state.head(self.chain()).await.map_err(edge)?.hash)
    }

    fn outcome_json(o: &TxOutcome) -> Value {
        json!({
            "hash": o.hash,
            "index": q(o.index),
            "status": if o.success { "0x1" } else { "0x0" },
            "gasUsed": q(o.gas_used),
            "logs": o.logs.iter().map(|l| json!({"address": l.address, "topics": l.topics(), "data": l.data.data})).collect::<Vec<_>>(),
            "executingMessages": o.messages.iter().map(crate::interop::check_json).collect::<Vec<_>>(),
        })
    }

    fn job_json(&self, j: &JobView) -> Value {
        json!({
            "jobId": j.id,
            "state": j.state.as_str(),
            "parent": {"hash": j.parent.hash, "number": q(j.parent.number)},
            "l1Origin": j.l1_origin.map(|o| json!({"hash": o.hash, "number": q(o.number)})),
            "number": q(j.header.number),
            "timestamp": q(j.header.timestamp),
            "gasLimit": q(j.header.gas_limit),
            "gasUsed": q(j.header.gas_used),
            "baseFeePerGas": j.header.base_fee_per_gas.map(q),
            "transactions": j.txs.iter().map(Self::outcome_json).collect::<Vec<_>>(),
            "block": j.block.as_ref().map(|b| self.block_json(b, false)),
        })
    }

    fn sealed_json(&self, r: Reply) -> RpcResult {
        match r {
            Reply::Sealed { block, committed, reorged_out } => Ok(json!({
                "block": self.block_json(&block, false),
                "committed": committed,
                "reorgedOut": reorged_out,
            })),
            other => Err(unexpected(other)),
        }
    }

    async fn include_one(&self, p: Params<'static>, what: fn(Value) -> Result<Include, String>) -> RpcResult {
        let id = job_id(&p)?;
        let mut seq = p.sequence();
        let _: String = seq.next()?;
        let arg: Value = seq.next()?;
        let opts: Option<IncludeParams> = seq.optional_next()?;
        let force = opts.and_then(|o| o.force).unwrap_or(false);
        let what = what(arg).map_err(|e| err(codes::INVALID_PARAMS, e))?;
        match self.control(Op::Include(id, what, force)).await? {
            Reply::Included { added, .. } => {
                added.first().map(Self::outcome_json).ok_or_else(|| err(codes::INTERNAL, "include added nothing"))
            }
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_open(&self, p: Params<'static>) -> RpcResult {
        let opts: Option<OpenParams> = if p.is_object() { Some(p.parse()?) } else { p.sequence().optional_next()? };
        let opts = opts.unwrap_or_default();
        let reply = self
            .control(Op::Open(OpenOpts {
                parent: opts.parent,
                l1_origin: opts.l1_origin,
                timestamp: opts.timestamp.map(|t| t.to::<u64>()),
                overrides: opseq_executor::HeaderOverrides {
                    prev_randao: opts.prev_randao,
                    parent_beacon_block_root: opts.parent_beacon_block_root,
                    fee_recipient: opts.fee_recipient,
                    extra_data: opts.extra_data,
                    gas_limit: opts.gas_limit.map(|g| g.to::<u64>()),
                },
            }))
            .await?;
        match reply {
            Reply::Job(j) => Ok(self.job_json(&j)),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_include_raw(&self, p: Params<'static>) -> RpcResult {
        self.include_one(p, |v| {
            serde_json::from_value::<Bytes>(v).map(Include::Raw).map_err(|e| format!("raw tx: expected hex bytes: {e}"))
        })
        .await
    }

    pub(crate) async fn test_include_by_hash(&self, p: Params<'static>) -> RpcResult {
        self.include_one(p, |v| {
            serde_json::from_value::<B256>(v).map(Include::Hash).map_err(|e| format!("tx hash: expected 32 bytes: {e}"))
        })
        .await
    }

    pub(crate) async fn test_include_first(&self, p: Params<'static>) -> RpcResult {
        self.include_one(p, |v| {
            serde_json::from_value::<Address>(v)
                .map(Include::First)
                .map_err(|e| format!("sender: expected an address: {e}"))
        })
        .await
    }

    pub(crate) async fn test_include_best(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let mut seq = p.sequence();
        let _: String = seq.next()?;
        let count: Option<alloy_primitives::U64> = seq.optional_next()?;
        let count = count.map(|c| c.to::<u64>()).unwrap_or(crate::chain::MAX_TXS_PER_BLOCK as u64);
        if count == 0 || count > crate::chain::MAX_TXS_PER_BLOCK as u64 {
            return Err(err(
                codes::INVALID_PARAMS,
                format!("count must be between 1 and {}", crate::chain::MAX_TXS_PER_BLOCK),
            ));
        }
        match self.control(Op::Include(id, Include::Best(count as usize), false)).await? {
            Reply::Included { added, refused, .. } => Ok(json!({
                "included": added.iter().map(Self::outcome_json).collect::<Vec<_>>(),
                "refused": refused.iter().map(|r| json!({"hash": r.hash, "reason": r.reason})).collect::<Vec<_>>(),
            })),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_inspect(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let _: (String,) = p.parse()?;
        match self.control(Op::Inspect(id)).await? {
            Reply::Job(j) => Ok(self.job_json(&j)),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_seal(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let mut seq = p.sequence();
        let _: String = seq.next()?;
        let opts: Option<SealParams> = seq.optional_next()?;
        let commit = opts.and_then(|o| o.commit).unwrap_or(true);
        let r = self.control(Op::Seal(id, commit)).await?;
        self.sealed_json(r)
    }

    /// `test_sealGroup([{chainId, jobId}, …])`: seals and commits open jobs of any chains built
    /// at one timestamp, each after the jobs whose logs it executes.
    pub(crate) async fn test_seal_group(&self, p: Params<'static>) -> RpcResult {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Item {
            chain_id: alloy_primitives::U64,
            job_id: String,
        }
        let mut seq = p.sequence();
        let items: Vec<Item> = seq.next()?;
        if items.is_empty() {
            return Err(err(codes::INVALID_PARAMS, "an empty group"));
        }
        let miner = self.miner().ok_or_else(|| err(codes::INTERNAL, "building is not available in this process"))?;
        let items = items.into_iter().map(|i| (i.chain_id.to::<u64>(), i.job_id)).collect();
        let sealed = miner
            .send(crate::SealGroup(items, tracing::Span::current()))
            .await
            .map_err(|_| err(codes::INTERNAL, "builder supervisor stopped"))?
            .map_err(control_error)?;
        let mut out = Vec::new();
        for (chain, job, reply) in sealed {
            let mut v = self.sealed_json(reply)?;
            v["chainId"] = json!(format!("{chain:#x}"));
            v["jobId"] = json!(job);
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    pub(crate) async fn test_commit(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let _: (String,) = p.parse()?;
        let r = self.control(Op::Commit(id)).await?;
        self.sealed_json(r)
    }

    pub(crate) async fn test_cancel(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let _: (String,) = p.parse()?;
        match self.control(Op::Cancel(id)).await? {
            Reply::Job(j) => Ok(self.job_json(&j)),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_close(&self, p: Params<'static>) -> RpcResult {
        let id = job_id(&p)?;
        let _: (String,) = p.parse()?;
        self.control(Op::Close(id)).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn test_jobs(&self, p: Params<'static>) -> RpcResult {
        crate::rpc::no_params(&p)?;
        match self.control(Op::Jobs).await? {
            Reply::Jobs(jobs) => Ok(Value::Array(jobs.iter().map(|j| self.job_json(j)).collect())),
            other => Err(unexpected(other)),
        }
    }

    pub(crate) async fn test_auto(&self, p: Params<'static>) -> RpcResult {
        let mut seq = p.sequence();
        // No arguments: report the current mode.
        let op = match seq.optional_next::<bool>()? {
            None => Op::AutoStatus,
            Some(active) => {
                let interval_ms: Option<u64> = seq.optional_next()?;
                if interval_ms.is_some_and(|ms| ms == 0 || ms > 3_600_000) {
                    return Err(err(codes::INVALID_PARAMS, "interval must be between 1 and 3600000 ms"));
                }
                Op::Auto(active, interval_ms.map(Duration::from_millis))
            }
        };
        match self.control(op).await? {
            Reply::Auto { active, interval } => {
                Ok(json!({"active": active, "intervalMs": interval.map(|d| d.as_millis() as u64)}))
            }
            other => Err(unexpected(other)),
        }
    }

    /// The CrossL2Inbox access list a tx must carry to execute the message with this
    /// identifier (lookup, chain-id extension when needed, checksum), as
    /// `{accessList: [{address, storageKeys}]}`.
    pub(crate) async fn test_access_list(&self, p: Params<'static>) -> RpcResult {
        let (v,): (Value,) = p.parse()?;
        if let Value::String(h) = &v {
            let hash: B256 = h.parse().map_err(|e| err(codes::INVALID_PARAMS, format!("bad message hash {h}: {e}")))?;
            return self.access_list_by_hash(hash).await;
        }
        let a: AccessListParams = serde_json::from_value(v).map_err(|e| {
            err(
                codes::INVALID_PARAMS,
                format!("expected an identifier with payload or msgHash, or a message hash: {e}"),
            )
        })?;
        let msg_hash = match (a.payload, a.msg_hash) {
            (Some(payload), None) => opseq_primitives::interop::message_hash(&payload),
            (None, Some(h)) => h,
            _ => return Err(err(codes::INVALID_PARAMS, "give exactly one of payload and msgHash")),
        };
        let log_index = u32::try_from(a.log_index.to::<u64>())
            .map_err(|_| err(codes::INVALID_PARAMS, "logIndex does not fit in 32 bits"))?;
        let id = opseq_primitives::interop::Identifier {
            origin: a.origin,
            block_number: a.block_number.to(),
            log_index,
            timestamp: a.timestamp.to(),
            chain_id: a.chain_id,
        };
        let keys = opseq_primitives::interop::access_list_keys(&id, msg_hash);
        Ok(json!({
            "accessList": [{"address": opseq_primitives::interop::CROSS_L2_INBOX, "storageKeys": keys}],
            "msgHash": msg_hash,
        }))
    }

    /// `test_accessList(msgHash)` (supersim's `admin_getAccessListByMsgHash`): the newest log of
    /// the dependency set's last [`BY_HASH_LOOKBACK`] blocks whose payload hashes to `hash`, its
    /// identifier and the access list to execute it with.
    async fn access_list_by_hash(&self, hash: B256) -> RpcResult {
        let chains = self.config().interop.as_ref().map(|i| i.dependency_set.clone()).unwrap_or_default();
        if chains.is_empty() {
            return Err(err(codes::INVALID_PARAMS, format!("chain {} has no interop", self.chain())));
        }
        let state = &self.edges().state;
        let mut found: Option<(u64, Value)> = None;
        for chain in chains {
            let head = state.head(chain).await.map_err(edge)?;
            for n in (head.number.saturating_sub(BY_HASH_LOOKBACK - 1)..=head.number).rev() {
                let Some(block) = state.block_by_number(chain, n).await.map_err(edge)? else { continue };
                if found.as_ref().is_some_and(|(ts, _)| *ts >= block.header.timestamp) {
                    break;
                }
                let logs = block.receipts.iter().flat_map(|r| crate::interop::receipt_logs(r));
                let hit = logs.enumerate().find(|(_, l)| {
                    let mut payload: Vec<u8> = l.topics().iter().flat_map(|t| t.0).collect();
                    payload.extend_from_slice(&l.data.data);
                    opseq_primitives::interop::message_hash(&payload) == hash
                });
                if let Some((i, log)) = hit {
                    let id = opseq_primitives::interop::Identifier {
                        origin: log.address,
                        block_number: n,
                        log_index: i as u32,
                        timestamp: block.header.timestamp,
                        chain_id: alloy_primitives::U256::from(chain),
                    };
                    let keys = opseq_primitives::interop::access_list_keys(&id, hash);
                    found = Some((
                        block.header.timestamp,
                        json!({
                            "accessList": [{"address": opseq_primitives::interop::CROSS_L2_INBOX, "storageKeys": keys}],
                            "msgHash": hash,
                            "identifier": {
                                "origin": id.origin,
                                "blockNumber": format!("{n:#x}"),
                                "logIndex": format!("{i:#x}"),
                                "timestamp": format!("{:#x}", id.timestamp),
                                "chainId": format!("{chain:#x}"),
                            },
                        }),
                    ));
                    break;
                }
            }
        }
        found.map(|(_, v)| v).ok_or_else(|| {
            err(
                codes::INVALID_PARAMS,
                format!("no log of the dependency set's last {BY_HASH_LOOKBACK} blocks has message hash {hash}"),
            )
        })
    }

    pub(crate) async fn test_set_head(&self, p: Params<'static>) -> RpcResult {
        let (hash,): (B256,) = p.parse()?;
        match self.control(Op::SetHead(hash)).await? {
            Reply::Reorged(removed) => Ok(json!({"reorgedOut": removed})),
            other => Err(unexpected(other)),
        }
    }
}
