//! Executing and sealing a block.
use crate::{
    db::{ReaderDb, StateReader},
    genesis::l2_extra_data,
    l1info::{L1InfoParams, l1_info_deposit},
    signing::payload_hash,
    spec::{BASE_FEE_PARAMS_L1, DEPOSITOR_ACCOUNT, L1Spec, L2_BASE_FEE_PARAMS, SEQUENCER_FEE_VAULT, op_hardforks},
};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, Sealed, TxEnvelope, TxReceipt, transaction::Recovered};
use alloy_eips::eip4895::Withdrawal;
use alloy_eips::{
    eip1559::BaseFeeParams,
    eip2718::{Decodable2718, Encodable2718},
    eip7685::EMPTY_REQUESTS_HASH,
    eip7840::BlobParams,
};
use alloy_evm::{
    EvmEnv, EvmFactory,
    block::{BlockExecutionError, BlockExecutor, BlockExecutorFactory, BlockValidationError},
    eth::{EthBlockExecutionCtx, EthBlockExecutorFactory, EthEvmFactory, receipt_builder::AlloyReceiptBuilder},
};
use alloy_hardforks::{EthereumHardfork, EthereumHardforks};
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutorFactory, OpEvmFactory, OpTx, block::receipt_builder::OpAlloyReceiptBuilder,
};
use alloy_op_hardforks::{OpChainHardforks, OpHardforks};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use opseq_primitives::{AccountChange, AccountState, BlockRef, ChainConfig, ChainKind, SealedBlock, StateDiff};
use revm::database::{BundleState, State, states::bundle_state::BundleRetention};
use std::borrow::Cow;

/// An L1 block used as an L2 block's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Origin {
    /// Its header.
    pub header: Header,
    /// Its hash.
    pub hash: B256,
    /// Position of the L2 block in this epoch (0 for the epoch's first block).
    pub sequence_number: u64,
    /// The user deposits of this L1 block (its portal's `TransactionDeposited` logs): the epoch's
    /// first block (sequence number 0) carries them after the L1-info deposit.
    pub deposits: Vec<op_alloy_consensus::TxDeposit>,
}

/// What to build on.
#[derive(Debug, Clone)]
pub struct NextBlock {
    /// Parent header.
    pub parent: Header,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp of the new block.
    pub timestamp: u64,
    /// For L2 blocks, the L1 origin.
    pub l1_origin: Option<L1Origin>,
    /// Header fields chosen by the caller instead of ours (L1 rules only: on L2 they follow
    /// from the L1 origin and the protocol).
    pub overrides: HeaderOverrides,
}

/// Header fields a test chooses for an L1 block (e.g. to rebuild another node's block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderOverrides {
    /// `mixHash` / `prevRandao`.
    pub prev_randao: Option<B256>,
    /// `parentBeaconBlockRoot` (what the EIP-4788 system call stores).
    pub parent_beacon_block_root: Option<B256>,
    /// `miner` / fee recipient.
    pub fee_recipient: Option<Address>,
    /// `extraData` (at most 32 bytes).
    pub extra_data: Option<Bytes>,
    /// `gasLimit`.
    pub gas_limit: Option<u64>,
}

/// A transaction that went into the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedTx {
    /// Hash.
    pub hash: B256,
    /// Index in the block.
    pub index: u64,
    /// Whether it succeeded (receipt status).
    pub success: bool,
    /// Gas it used.
    pub gas_used: u64,
    /// Its logs.
    pub logs: Vec<Log>,
    /// Its EIP-2718 encoding.
    pub raw: Bytes,
}

/// A candidate that was not included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTx {
    /// Hash.
    pub hash: B256,
    /// Why.
    pub reason: String,
    /// Whether it can never be included on this chain (drop it) rather than not now (keep it).
    pub invalid: bool,
}

/// An executed, not yet sealed block: everything but the state root (and, on L2, the
/// `withdrawalsRoot`), which the state-fetcher computes from `diff`.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The header so far (state root and L2 withdrawals root unset).
    pub header: Header,
    /// EIP-2718 encoded transactions.
    pub transactions: Vec<Bytes>,
    /// Transaction hashes.
    pub tx_hashes: Vec<B256>,
    /// Senders.
    pub senders: Vec<Address>,
    /// EIP-2718 encoded receipts.
    pub receipts: Vec<Bytes>,
    /// Included transactions.
    pub included: Vec<IncludedTx>,
    /// Candidates that were left out.
    pub rejected: Vec<RejectedTx>,
    /// State changes.
    pub diff: StateDiff,
    /// L1 origin (L2).
    pub l1_origin: Option<BlockRef>,
    /// Typed L2 transactions, for the signing payload.
    op_txs: Vec<OpTxEnvelope>,
}

/// Building failed as a whole (not one transaction).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The state could not be read.
    #[error("state unavailable: {0}")]
    State(String),
    /// The EVM failed outside of a single transaction (system call, pre/post execution).
    #[error("block execution failed: {0}")]
    Execution(String),
    /// An L2 block needs an L1 origin.
    #[error("an L2 block needs an L1 origin")]
    MissingL1Origin,
    /// The block is invalid: a transaction it must contain, or a block-level check, failed.
    #[error("invalid block: {0}")]
    InvalidBlock(String),
}

/// The rules a chain follows.
#[derive(Debug, Clone)]
pub enum Rules {
    /// Ethereum L1: every fork up to `last` active from genesis, with its blob schedule.
    L1 {
        /// The newest active fork (Cancun or Prague).
        last: EthereumHardfork,
        /// Blob parameters of that fork.
        blob: BlobParams,
    },
    /// An OP Stack L2 with this fork schedule.
    L2(OpChainHardforks),
}

impl Rules {
    /// The dev rules of a chain: Prague L1 mock; an L2 through Isthmus, and Jovian from its
    /// `jovian_time`.
    pub fn dev(config: &ChainConfig) -> Self {
        match config.kind {
            ChainKind::L1 => Self::L1 { last: EthereumHardfork::Prague, blob: BlobParams::prague() },
            ChainKind::L2 => Self::L2(op_hardforks(config.jovian_time)),
        }
    }
}

/// Everything that fixes a block's environment: a template header (parent hash, number,
/// timestamp, beneficiary, gas limit, `mixHash`, base fee, extra data, parent beacon root, excess
/// blob gas), the L1 withdrawals, and the L2 L1 origin. Built from attributes when sequencing,
/// from the given header when checking someone else's block — one execution path for both.
#[derive(Debug, Clone)]
pub struct BlockInput {
    /// Template header; execution fills gas used, roots, bloom, blob gas and requests hash.
    pub template: Header,
    /// L1 withdrawals (Shanghai+), empty on L2.
    pub withdrawals: Vec<Withdrawal>,
    /// L2: the L1 origin.
    pub l1_origin: Option<BlockRef>,
}

/// Builds blocks of one chain.
#[derive(Debug, Clone)]
pub struct BlockBuilder {
    config: ChainConfig,
    rules: Rules,
    l1_info: L1InfoParams,
}

/// Outcome of offering one transaction to the executor.
enum Offer {
    Included,
    Rejected(RejectedTx),
}

fn classify(hash: B256, err: BlockExecutionError) -> Result<RejectedTx, BuildError> {
    match err {
        BlockExecutionError::Validation(BlockValidationError::InvalidTx { error, .. }) => {
            let reason = error.to_string();
            // A nonce above the account's may become valid later; everything else the tx
            // itself got wrong is final.
            let invalid = !reason.contains("nonce too high");
            Ok(RejectedTx { hash, reason, invalid })
        }
        BlockExecutionError::Validation(v) => {
            // Block-level limits (gas left, DA footprint): the tx may fit in a later block.
            Ok(RejectedTx { hash, reason: v.to_string(), invalid: false })
        }
        other => Err(BuildError::Execution(other.to_string())),
    }
}

impl BlockBuilder {
    /// A builder for a dev chain (`config.kind` picks the rules).
    pub fn new(config: ChainConfig) -> Self {
        let rules = Rules::dev(&config);
        let l1_info = L1InfoParams::for_chain(&config);
        Self { config, rules, l1_info }
    }

    /// A builder with explicit rules (conformance, other networks).
    pub fn with_rules(config: ChainConfig, rules: Rules) -> Self {
        let l1_info = L1InfoParams::for_chain(&config);
        Self { config, rules, l1_info }
    }

    /// The chain's configuration.
    pub const fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The chain's rules.
    pub const fn rules(&self) -> &Rules {
        &self.rules
    }

    fn is_l2(&self) -> bool {
        matches!(self.rules, Rules::L2(_))
    }

    /// The base fee of the block after `parent`.
    pub fn next_base_fee(&self, parent: &Header) -> u64 {
        let forks = match &self.rules {
            Rules::L2(forks) => forks,
            Rules::L1 { .. } => return parent.next_block_base_fee(BASE_FEE_PARAMS_L1).unwrap_or_default(),
        };
        let params = l2_params(parent, forks);
        if !forks.is_jovian_active_at_timestamp(parent.timestamp) {
            return parent.next_block_base_fee(params).unwrap_or_default();
        }
        // Jovian (OP specs `jovian/exec-engine.md`, op-geth `CalcBaseFee`): the parent's gas is
        // the larger of its gas used and its DA footprint (`blobGasUsed`), and the result is at
        // least the parent's minimum base fee.
        let metered = parent.gas_used.max(parent.blob_gas_used.unwrap_or_default());
        let min = op_alloy_consensus::decode_jovian_extra_data(&parent.extra_data).map(|(_, _, m)| m).unwrap_or(0);
        let base = alloy_eips::eip1559::calc_next_block_base_fee(
            metered,
            parent.gas_limit,
            parent.base_fee_per_gas.unwrap_or_default(),
            params,
        );
        base.max(min)
    }

    /// Whether the L2 follows Jovian rules at `timestamp`.
    pub fn is_jovian_at(&self, timestamp: u64) -> bool {
        matches!(&self.rules, Rules::L2(f) if f.is_jovian_active_at_timestamp(timestamp))
    }

    /// Whether a block at `timestamp` is Jovian's activation block: it follows Jovian, the block
    /// a block time earlier did not (op-node's `IsJovianActivationBlock`). It carries the upgrade
    /// deposits (`crate::jovian`) and still Isthmus's L1-info deposit.
    pub fn is_jovian_activation(&self, timestamp: u64) -> bool {
        self.is_jovian_at(timestamp)
            && timestamp.checked_sub(self.config.block_time).is_some_and(|before| !self.is_jovian_at(before))
    }

    /// Whether a block at `timestamp` follows Jovian and is not its activation block: its L1-info
    /// deposit is Jovian's.
    fn jovian_after_activation(&self, timestamp: u64) -> bool {
        self.is_jovian_at(timestamp) && !self.is_jovian_activation(timestamp)
    }

    /// The input of the block after `next.parent` when we sequence it.
    pub fn input_for(&self, next: &NextBlock) -> BlockInput {
        let p = &next.parent;
        let mut t = Header {
            parent_hash: next.parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            number: p.number + 1,
            gas_limit: self.config.gas_limit,
            timestamp: next.timestamp,
            base_fee_per_gas: Some(self.next_base_fee(p)),
            ..Default::default()
        };
        match &self.rules {
            Rules::L2(_) => {
                let origin = next.l1_origin.as_ref();
                t.beneficiary = SEQUENCER_FEE_VAULT;
                t.mix_hash = origin.map(|o| o.header.mix_hash).unwrap_or_default();
                t.parent_beacon_block_root =
                    Some(origin.and_then(|o| o.header.parent_beacon_block_root).unwrap_or_default());
                // Jovian: the parent's minimum base fee carries over (the system config's, at
                // genesis); it changes only through the L1 SystemConfig.
                let min_base_fee = op_alloy_consensus::decode_jovian_extra_data(&p.extra_data)
                    .map(|(_, _, min)| min)
                    .unwrap_or(self.l1_info.min_base_fee);
                t.extra_data = l2_extra_data(self.is_jovian_at(next.timestamp), min_base_fee);
                t.excess_blob_gas = Some(0);
            }
            Rules::L1 { blob, .. } => {
                let o = &next.overrides;
                t.mix_hash = o.prev_randao.unwrap_or_else(|| l1_randao(next.parent_hash));
                t.parent_beacon_block_root =
                    Some(o.parent_beacon_block_root.unwrap_or_else(|| l1_beacon_root(next.parent_hash)));
                t.excess_blob_gas = Some(p.next_block_excess_blob_gas(*blob).unwrap_or_default());
                t.beneficiary = o.fee_recipient.unwrap_or(t.beneficiary);
                t.extra_data = o.extra_data.clone().unwrap_or_default();
                t.gas_limit = o.gas_limit.unwrap_or(t.gas_limit);
            }
        }
        BlockInput {
            template: t,
            withdrawals: vec![],
            l1_origin: next.l1_origin.as_ref().map(|o| BlockRef { number: o.header.number, hash: o.hash }),
        }
    }

    /// The EVM environment of a block (also used for `eth_call`).
    pub(crate) fn op_env(&self, template: &Header) -> EvmEnv<op_revm::OpSpecId> {
        let Rules::L2(forks) = &self.rules else { unreachable!("op_env on an L1 chain") };
        alloy_op_evm::env::evm_env_for_op_block(template, forks, self.config.chain_id)
    }

    pub(crate) fn eth_env(&self, template: &Header) -> EvmEnv {
        let Rules::L1 { last, blob } = &self.rules else { unreachable!("eth_env on an L2 chain") };
        EvmEnv::for_eth_block(template, L1Spec::new(*last), self.config.chain_id, Some(*blob))
    }

    /// Sequences the block after `next.parent`: (on L2) the L1-info deposit, then `chosen` (txs
    /// already chosen for this block, which must all execute), then the candidates (included
    /// where valid, reported otherwise).
    pub fn execute<R: StateReader>(
        &self,
        reader: R,
        next: &NextBlock,
        chosen: Vec<(Bytes, Address)>,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        let input = self.input_for(next);
        let mut forced = match (&self.rules, &next.l1_origin) {
            (Rules::L2(_), Some(origin)) => {
                let jovian = self.jovian_after_activation(next.timestamp);
                let deposit =
                    l1_info_deposit(&origin.header, origin.hash, origin.sequence_number, &self.l1_info, jovian);
                let raw = OpTxEnvelope::Deposit(Sealed::new(deposit)).encoded_2718();
                let mut forced = vec![(Bytes::from(raw), DEPOSITOR_ACCOUNT)];
                if origin.sequence_number == 0 {
                    for d in &origin.deposits {
                        let from = d.from;
                        forced.push((Bytes::from(OpTxEnvelope::Deposit(Sealed::new(d.clone())).encoded_2718()), from));
                    }
                }
                forced
            }
            (Rules::L2(_), None) => return Err(BuildError::MissingL1Origin),
            _ => vec![],
        };
        // A network upgrade's activation block: its upgrade deposits (Jovian's before interop's,
        // in fork order), and no user transactions.
        let mut upgrades = Vec::new();
        if self.is_jovian_activation(next.timestamp) {
            upgrades.extend(crate::jovian::upgrade_deposits());
        }
        let interop = self.config.interop.as_ref().is_some_and(|i| {
            crate::interop::is_activation_block(
                i.activation,
                self.config.genesis_timestamp,
                next.parent.timestamp,
                next.timestamp,
            )
        });
        if interop {
            upgrades.extend(crate::interop::upgrade_deposits());
        }
        if !upgrades.is_empty() {
            for d in upgrades {
                let from = d.from;
                forced.push((Bytes::from(OpTxEnvelope::Deposit(Sealed::new(d)).encoded_2718()), from));
            }
            const NO_USER_TXS: &str = "a network upgrade's activation block takes no user transactions";
            if !chosen.is_empty() {
                return Err(BuildError::InvalidBlock(NO_USER_TXS.into()));
            }
            let mut out = self.execute_input(reader, &input, forced, vec![], on_included)?;
            out.rejected.extend(candidates.iter().map(|(raw, _)| RejectedTx {
                hash: keccak256(raw),
                reason: NO_USER_TXS.into(),
                invalid: false,
            }));
            return Ok(out);
        }
        forced.extend(chosen);
        self.execute_input(reader, &input, forced, candidates, on_included)
    }

    /// Executes a block from its input: `forced` transactions must all be valid (else the block
    /// is invalid), `candidates` are included where valid and reported otherwise.
    pub fn execute_input<R: StateReader>(
        &self,
        reader: R,
        input: &BlockInput,
        forced: Vec<(Bytes, Address)>,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        match &self.rules {
            Rules::L2(forks) => self.execute_l2(forks, reader, input, forced, candidates, on_included),
            Rules::L1 { last, .. } => self.execute_l1(*last, reader, input, forced, candidates, on_included),
        }
    }

    fn execute_l2<R: StateReader>(
        &self,
        forks: &OpChainHardforks,
        reader: R,
        input: &BlockInput,
        forced: Vec<(Bytes, Address)>,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        let t = &input.template;
        let env = self.op_env(t);
        let factory = OpBlockExecutorFactory::new(
            OpAlloyReceiptBuilder::default(),
            forks.clone(),
            OpEvmFactory::<OpTx>::default(),
        );
        let mut db = State::builder().with_database_ref(ReaderDb(reader)).with_bundle_update().build();
        let mut out = Accum::with_capacity(forced.len() + candidates.len());
        let (gas_used, da_footprint, receipts) = {
            let evm = factory.evm_factory().create_evm(&mut db, env);
            let ctx = OpBlockExecutionCtx {
                parent_hash: t.parent_hash,
                parent_beacon_block_root: t.parent_beacon_block_root,
                extra_data: t.extra_data.clone(),
            };
            let mut ex = factory.create_executor(evm, ctx);
            ex.apply_pre_execution_changes().map_err(exec_err)?;
            let all = forced.into_iter().map(|c| (c, true)).chain(candidates.into_iter().map(|c| (c, false)));
            for ((raw, sender), must) in all {
                let tx = match OpTxEnvelope::decode_2718_exact(&raw) {
                    Ok(tx) if must || !tx.is_deposit() => tx,
                    Ok(tx) => {
                        out.rejected.push(RejectedTx {
                            hash: tx.tx_hash(),
                            reason: "deposit transactions cannot be sequenced from the pool".into(),
                            invalid: true,
                        });
                        continue;
                    }
                    Err(e) => {
                        let r =
                            RejectedTx { hash: keccak256(&raw), reason: format!("undecodable: {e}"), invalid: true };
                        if must {
                            return Err(BuildError::InvalidBlock(r.reason));
                        }
                        out.rejected.push(r);
                        continue;
                    }
                };
                let hash = tx.tx_hash();
                let rec = Recovered::new_unchecked(tx, sender);
                let with_encoded = alloy_eips::eip2718::WithEncoded::new(raw.clone(), &rec);
                match offer(ex.execute_transaction(with_encoded), hash)? {
                    Offer::Included => {
                        let inc = out.push_included(hash, raw, sender, ex.receipts());
                        on_included(&inc);
                        out.op_txs.push(rec.into_inner());
                    }
                    Offer::Rejected(r) if must => {
                        return Err(BuildError::InvalidBlock(format!("tx {}: {}", r.hash, r.reason)));
                    }
                    Offer::Rejected(r) => out.rejected.push(r),
                }
            }
            let (_evm, result) = ex.finish().map_err(exec_err)?;
            // From Jovian, alloy-op-evm's executor counts the block's DA footprint here.
            (result.gas_used, result.blob_gas_used, result.receipts)
        };
        let ts = t.timestamp;
        let (mut header, diff) = join2(
            receipts.len() >= PARALLEL_ROOTS_TXS,
            || out.assemble(t, gas_used, &receipts),
            || bundle_to_diff(&mut db),
        );
        if forks.is_ecotone_active_at_timestamp(ts) {
            // Jovian: `blobGasUsed` is the DA footprint (OP specs `jovian/exec-engine.md`).
            header.blob_gas_used = Some(if forks.is_jovian_active_at_timestamp(ts) { da_footprint } else { 0 });
            header.excess_blob_gas = Some(0);
        }
        header.requests_hash = forks.is_isthmus_active_at_timestamp(ts).then_some(EMPTY_REQUESTS_HASH);
        header.withdrawals_root = forks.is_canyon_active_at_timestamp(ts).then_some(alloy_trie::EMPTY_ROOT_HASH);
        Ok(out.finish(header, diff, input.l1_origin))
    }

    fn execute_l1<R: StateReader>(
        &self,
        last: EthereumHardfork,
        reader: R,
        input: &BlockInput,
        forced: Vec<(Bytes, Address)>,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        let t = &input.template;
        let spec = L1Spec::new(last);
        let env = self.eth_env(t);
        let factory = EthBlockExecutorFactory::new(AlloyReceiptBuilder::default(), spec, EthEvmFactory::default());
        let mut db = State::builder().with_database_ref(ReaderDb(reader)).with_bundle_update().build();
        let n = forced.len() + candidates.len();
        let mut out = Accum::with_capacity(n);
        let result = {
            let evm = factory.evm_factory().create_evm(&mut db, env);
            let ctx = EthBlockExecutionCtx {
                parent_hash: t.parent_hash,
                parent_beacon_block_root: t.parent_beacon_block_root,
                ommers: &[],
                withdrawals: spec
                    .is_shanghai_active_at_timestamp(t.timestamp)
                    .then_some(Cow::Borrowed(input.withdrawals.as_slice())),
                extra_data: t.extra_data.clone(),
                tx_count_hint: Some(n),
                slot_number: None,
            };
            let mut ex = factory.create_executor(evm, ctx);
            ex.apply_pre_execution_changes().map_err(exec_err)?;
            let all = forced.into_iter().map(|c| (c, true)).chain(candidates.into_iter().map(|c| (c, false)));
            for ((raw, sender), must) in all {
                let tx = match TxEnvelope::decode_2718_exact(&raw) {
                    Ok(tx) => tx,
                    Err(e) => {
                        let r =
                            RejectedTx { hash: keccak256(&raw), reason: format!("undecodable: {e}"), invalid: true };
                        if must {
                            return Err(BuildError::InvalidBlock(r.reason));
                        }
                        out.rejected.push(r);
                        continue;
                    }
                };
                let hash = *tx.tx_hash();
                let rec = Recovered::new_unchecked(tx, sender);
                match offer(ex.execute_transaction(&rec), hash)? {
                    Offer::Included => {
                        let inc = out.push_included(hash, raw, sender, ex.receipts());
                        on_included(&inc);
                    }
                    Offer::Rejected(r) if must => {
                        return Err(BuildError::InvalidBlock(format!("tx {}: {}", r.hash, r.reason)));
                    }
                    Offer::Rejected(r) => out.rejected.push(r),
                }
            }
            let (_evm, result) = ex.finish().map_err(|e| match e {
                BlockExecutionError::Validation(v) => BuildError::InvalidBlock(v.to_string()),
                other => exec_err(other),
            })?;
            result
        };
        let (mut header, diff) = join2(
            result.receipts.len() >= PARALLEL_ROOTS_TXS,
            || out.assemble(t, result.gas_used, &result.receipts),
            || bundle_to_diff(&mut db),
        );
        if spec.is_shanghai_active_at_timestamp(t.timestamp) {
            header.withdrawals_root = Some(alloy_consensus::proofs::calculate_withdrawals_root(&input.withdrawals));
        }
        if spec.is_cancun_active_at_timestamp(t.timestamp) {
            header.blob_gas_used = Some(result.blob_gas_used);
        }
        if spec.is_prague_active_at_timestamp(t.timestamp) {
            header.requests_hash = Some(result.requests.requests_hash());
        }
        Ok(out.finish(header, diff, None))
    }

    /// Seals an executed block with the roots the state-fetcher computed. On Isthmus L2s,
    /// `withdrawals_root` is the L2ToL1MessagePasser storage root. Returns the block and, on L2,
    /// the OP p2p payload hash to sign.
    pub fn seal(
        &self,
        executed: Executed,
        state_root: B256,
        withdrawals_root: Option<B256>,
    ) -> (SealedBlock, Option<B256>) {
        let mut header = executed.header;
        header.state_root = state_root;
        if let Rules::L2(forks) = &self.rules
            && forks.is_isthmus_active_at_timestamp(header.timestamp)
        {
            header.withdrawals_root = Some(withdrawals_root.unwrap_or(alloy_trie::EMPTY_ROOT_HASH));
        }
        let hash = header.hash_slow();
        let to_sign = self.is_l2().then(|| payload_hash(hash, &header, &executed.op_txs));
        let block = SealedBlock {
            header,
            hash,
            transactions: executed.transactions,
            tx_hashes: executed.tx_hashes,
            senders: executed.senders,
            receipts: executed.receipts,
            l1_origin: executed.l1_origin,
            signature: None,
        };
        (block, to_sign)
    }

    /// Whether the L2 withdrawals root of a block at `timestamp` is the message-passer storage root.
    pub fn needs_message_passer_root(&self, timestamp: u64) -> bool {
        matches!(&self.rules, Rules::L2(f) if f.is_isthmus_active_at_timestamp(timestamp))
    }
}

fn offer(res: Result<alloy_evm::block::GasOutput, BlockExecutionError>, hash: B256) -> Result<Offer, BuildError> {
    match res {
        Ok(_) => Ok(Offer::Included),
        Err(e) => classify(hash, e).map(Offer::Rejected),
    }
}

fn exec_err(e: BlockExecutionError) -> BuildError {
    BuildError::Execution(e.to_string())
}

/// The receipts root: the ordered trie of the receipts' EIP-2718 encodings (on OP from Canyon
/// on, deposit receipts include their nonce and version).
pub fn receipts_root<R: Encodable2718>(receipts: &[R]) -> B256 {
    alloy_consensus::proofs::ordered_trie_root_with_encoder(receipts, |r, buf| r.encode_2718(buf))
}

/// The L2's EIP-1559 parameters for the block after `parent`, from the parent's Holocene
/// `extraData` (the pre-Holocene constants if it carries none).
fn l2_params(parent: &Header, forks: &OpChainHardforks) -> BaseFeeParams {
    // op-alloy returns (elasticity, denominator); Jovian's layout adds the minimum base fee.
    let decoded = op_alloy_consensus::decode_jovian_extra_data(&parent.extra_data)
        .map(|(e, d, _)| (e, d))
        .or_else(|_| op_alloy_consensus::decode_holocene_extra_data(&parent.extra_data));
    match decoded {
        Ok((elasticity, denominator)) if denominator != 0 && elasticity != 0 => {
            BaseFeeParams::new(denominator as u128, elasticity as u128)
        }
        // Before Holocene (or at its activation block) the chain's constants apply: OP's
        // denominator is 50 before Canyon and 250 from Canyon on, elasticity 6.
        _ if forks.is_canyon_active_at_timestamp(parent.timestamp) => L2_BASE_FEE_PARAMS,
        _ => crate::spec::L2_BASE_FEE_PARAMS_PRE_CANYON,
    }
}

/// The L1 mock's `prevRandao`: deterministic, derived from the parent hash.
fn l1_randao(parent_hash: B256) -> B256 {
    keccak256([parent_hash.as_slice(), b"randao"].concat())
}

/// The L1 mock's parent beacon block root: deterministic, derived from the parent hash (there is
/// no beacon chain in mock mode).
fn l1_beacon_root(parent_hash: B256) -> B256 {
    keccak256([parent_hash.as_slice(), b"beacon"].concat())
}

#[derive(Default)]
struct Accum {
    transactions: Vec<Bytes>,
    tx_hashes: Vec<B256>,
    senders: Vec<Address>,
    receipts: Vec<Bytes>,
    included: Vec<IncludedTx>,
    rejected: Vec<RejectedTx>,
    op_txs: Vec<OpTxEnvelope>,
}

impl Accum {
    fn with_capacity(n: usize) -> Self {
        Self {
            transactions: Vec::with_capacity(n),
            tx_hashes: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            receipts: Vec::with_capacity(n),
            included: Vec::with_capacity(n),
            rejected: Vec::new(),
            op_txs: Vec::with_capacity(n),
        }
    }

    /// The header from the template plus what execution produced (state root and L2
    /// withdrawals root come at sealing). Both roots are over the EIP-2718 bytes already at
    /// hand: the transactions as received (they decoded exactly, so they are canonical) and the
    /// receipts encoded once.
    fn assemble<Rc: TxReceipt<Log = Log> + Encodable2718>(
        &mut self,
        t: &Header,
        gas_used: u64,
        receipts: &[Rc],
    ) -> Header {
        self.receipts = receipts.iter().map(|r| Bytes::from(r.encoded_2718())).collect();
        let raw_root = |items: &[Bytes]| {
            alloy_consensus::proofs::ordered_trie_root_with_encoder(items, |b: &Bytes, buf| buf.extend_from_slice(b))
        };
        Header {
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            state_root: B256::ZERO,
            transactions_root: raw_root(&self.transactions),
            receipts_root: raw_root(&self.receipts),
            logs_bloom: receipts.iter().fold(Bloom::ZERO, |acc, r| acc | r.bloom()),
            difficulty: U256::ZERO,
            gas_used,
            nonce: Default::default(),
            withdrawals_root: None,
            blob_gas_used: None,
            requests_hash: None,
            ..t.clone()
        }
    }

    fn push_included<Rc: TxReceipt<Log = Log>>(
        &mut self,
        hash: B256,
        raw: Bytes,
        sender: Address,
        receipts: &[Rc],
    ) -> IncludedTx {
        let n = receipts.len();
        let r = &receipts[n - 1];
        let prev = if n >= 2 { receipts[n - 2].cumulative_gas_used() } else { 0 };
        let inc = IncludedTx {
            hash,
            index: (n - 1) as u64,
            success: r.status(),
            gas_used: r.cumulative_gas_used() - prev,
            logs: r.logs().to_vec(),
            raw: raw.clone(),
        };
        self.transactions.push(raw);
        self.tx_hashes.push(hash);
        self.senders.push(sender);
        self.included.push(inc.clone());
        inc
    }

    fn finish(self, header: Header, diff: StateDiff, l1_origin: Option<BlockRef>) -> Executed {
        Executed {
            header,
            transactions: self.transactions,
            tx_hashes: self.tx_hashes,
            senders: self.senders,
            receipts: self.receipts,
            included: self.included,
            rejected: self.rejected,
            diff,
            l1_origin,
            op_txs: self.op_txs,
        }
    }
}

/// From this many transactions the tx and receipt roots are computed on another thread while
/// the state changes are collected.
const PARALLEL_ROOTS_TXS: usize = 512;

/// `a()` and `b()`, `a` on another thread when `parallel`.
fn join2<A: Send, B>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        (a.join().expect("roots thread"), b)
    })
}

/// The block's state changes, from revm's bundle.
fn bundle_to_diff<DB: revm::database_interface::DatabaseRef>(
    db: &mut State<revm::database_interface::WrapDatabaseRef<DB>>,
) -> StateDiff {
    db.merge_transitions(BundleRetention::PlainState);
    let bundle: BundleState = db.take_bundle();
    let mut accounts: Vec<AccountChange> = bundle
        .state
        .iter()
        .map(|(address, acc)| {
            let wipe = acc.was_destroyed();
            let info =
                acc.info.as_ref().map(|i| AccountState { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash });
            let storage = acc
                .storage
                .iter()
                .filter(|(_, s)| wipe || s.is_changed())
                .map(|(k, s)| (*k, s.present_value))
                .collect();
            let code = acc.info.as_ref().and_then(|i| {
                bundle
                    .contracts
                    .get(&i.code_hash)
                    .map(|c| c.original_bytes())
                    .filter(|_| acc.original_info.as_ref().is_none_or(|o| o.code_hash != i.code_hash))
            });
            AccountChange { address: *address, info, wipe_storage: wipe, storage, code }
        })
        .collect();
    accounts.sort_by_key(|a| a.address);
    StateDiff { accounts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::{holocene_extra_data, jovian_extra_data};
    use opseq_primitives::DevnetConfig;

    #[test]
    fn l2_base_fee_follows_the_parents_holocene_params() {
        let dev = DevnetConfig::dev(6, 2, 0);
        let isthmus = ChainConfig { jovian_time: None, ..dev.chain(901).unwrap().clone() };
        let b = BlockBuilder::new(isthmus);
        let parent = |gas_used| Header {
            gas_limit: 60_000_000,
            gas_used,
            base_fee_per_gas: Some(1_000_000_000),
            extra_data: holocene_extra_data(250, 6),
            ..Default::default()
        };
        // Empty parent: down by 1/denominator. Full parent: up by (elasticity-1)/denominator.
        assert_eq!(b.next_base_fee(&parent(0)), 996_000_000);
        assert_eq!(b.next_base_fee(&parent(60_000_000)), 1_020_000_000);
        // Other params in the parent's extraData are what counts (Holocene).
        let mut p = parent(0);
        p.extra_data = holocene_extra_data(50, 2);
        assert_eq!(b.next_base_fee(&p), 980_000_000);
        // L1: Ethereum's 8 / 2.
        let l1 = BlockBuilder::new(dev.chain(900).unwrap().clone());
        assert_eq!(l1.next_base_fee(&Header { gas_limit: 30_000_000, ..parent(0) }), 875_000_000);
    }

    #[test]
    fn jovian_base_fee_meters_the_da_footprint_and_keeps_the_minimum() {
        let dev = DevnetConfig::dev(6, 2, 0);
        let b = BlockBuilder::new(dev.chain(901).unwrap().clone());
        let parent = |gas_used, blob_gas_used, min| Header {
            gas_limit: 60_000_000,
            gas_used,
            blob_gas_used: Some(blob_gas_used),
            base_fee_per_gas: Some(1_000_000_000),
            extra_data: jovian_extra_data(250, 6, min),
            ..Default::default()
        };
        // As Holocene when the DA footprint is below the gas used.
        assert_eq!(b.next_base_fee(&parent(0, 0, 0)), 996_000_000);
        // A DA footprint above the gas used is what the base fee follows: a full block of it.
        assert_eq!(b.next_base_fee(&parent(0, 60_000_000, 0)), 1_020_000_000);
        // The minimum base fee holds the fee up.
        assert_eq!(b.next_base_fee(&parent(0, 0, 999_000_000)), 999_000_000);
        assert_eq!(b.next_base_fee(&parent(60_000_000, 0, 999_000_000)), 1_020_000_000);
    }
}
