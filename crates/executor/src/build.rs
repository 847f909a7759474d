//! Executing and sealing a block.
use crate::{
    db::{ReaderDb, StateReader},
    genesis::holocene_extra_data,
    l1info::{L1InfoParams, l1_info_deposit},
    signing::payload_hash,
    spec::{
        BASE_FEE_PARAMS_L1, DEPOSITOR_ACCOUNT, L2_BASE_FEE_PARAMS, SEQUENCER_FEE_VAULT,
        dev_op_hardforks, l1_spec,
    },
};
use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, Header, Sealed, Transaction, TxEnvelope, TxReceipt,
    proofs::{calculate_receipt_root, calculate_transaction_root},
    transaction::{Recovered, SignerRecoverable},
};
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
use alloy_op_evm::{
    OpBlockExecutionCtx, OpBlockExecutorFactory, OpEvmFactory, OpTx,
    block::receipt_builder::OpAlloyReceiptBuilder,
};
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use opseq_primitives::{AccountChange, AccountState, BlockRef, ChainConfig, SealedBlock, StateDiff};
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
}

/// Decodes a raw transaction for the chain kind and returns (hash, nonce, sender); used by tools
/// that only need the common fields.
pub fn decode_tx_info(l2: bool, raw: &[u8]) -> Option<(B256, u64, Address)> {
    if l2 {
        let tx = OpTxEnvelope::decode_2718_exact(raw).ok()?;
        let sender = match &tx {
            OpTxEnvelope::Deposit(d) => d.from,
            other => other.recover_signer().ok()?,
        };
        Some((tx.tx_hash(), tx.nonce(), sender))
    } else {
        let tx = TxEnvelope::decode_2718_exact(raw).ok()?;
        Some((*tx.tx_hash(), tx.nonce(), tx.recover_signer().ok()?))
    }
}

/// Builds blocks of one chain.
#[derive(Debug, Clone)]
pub struct BlockBuilder {
    config: ChainConfig,
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
    /// A builder for `config`.
    pub fn new(config: ChainConfig) -> Self {
        Self { config, l1_info: L1InfoParams::default() }
    }

    /// The chain's configuration.
    pub const fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The base fee of the block after `parent`.
    pub fn next_base_fee(&self, parent: &Header) -> u64 {
        let params = if self.config.is_l2() { l2_params(parent) } else { BASE_FEE_PARAMS_L1 };
        parent.next_block_base_fee(params).unwrap_or_default()
    }

    /// The EVM environment of the block after `parent` (also used for `eth_call`).
    pub(crate) fn op_env(&self, next: &NextBlock, base_fee: u64) -> EvmEnv<op_revm::OpSpecId> {
        let prev_randao = next.l1_origin.as_ref().map(|o| o.header.mix_hash).unwrap_or_default();
        alloy_op_evm::env::evm_env_for_op_next_block(
            &next.parent,
            alloy_evm::eth::NextEvmEnvAttributes {
                timestamp: next.timestamp,
                suggested_fee_recipient: SEQUENCER_FEE_VAULT,
                prev_randao,
                gas_limit: self.config.gas_limit,
                slot_number: None,
            },
            base_fee,
            dev_op_hardforks(),
            self.config.chain_id,
        )
    }

    pub(crate) fn eth_env(&self, next: &NextBlock, base_fee: u64) -> EvmEnv {
        EvmEnv::for_eth_next_block(
            &next.parent,
            alloy_evm::eth::NextEvmEnvAttributes {
                timestamp: next.timestamp,
                suggested_fee_recipient: Address::ZERO,
                prev_randao: l1_randao(next.parent_hash),
                gas_limit: self.config.gas_limit,
                slot_number: None,
            },
            base_fee,
            l1_spec(),
            self.config.chain_id,
            Some(BlobParams::cancun()),
        )
    }

    /// Executes a block on `reader`'s state: system calls, (on L2) the L1-info deposit, then the
    /// candidates in order. Candidates that cannot be included are reported, not fatal.
    /// `on_included` sees every inclusion as it happens (the shred stream).
    pub fn execute<R: StateReader>(
        &self,
        reader: R,
        next: &NextBlock,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        if self.config.is_l2() {
            self.execute_l2(reader, next, candidates, on_included)
        } else {
            self.execute_l1(reader, next, candidates, on_included)
        }
    }

    fn execute_l2<R: StateReader>(
        &self,
        reader: R,
        next: &NextBlock,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        let origin = next.l1_origin.as_ref().ok_or(BuildError::MissingL1Origin)?;
        let base_fee = self.next_base_fee(&next.parent);
        let env = self.op_env(next, base_fee);
        let spec = dev_op_hardforks();
        let factory = OpBlockExecutorFactory::new(
            OpAlloyReceiptBuilder::default(),
            spec,
            OpEvmFactory::<OpTx>::default(),
        );
        let extra_data = holocene_extra_data(
            L2_BASE_FEE_PARAMS.max_change_denominator as u32,
            L2_BASE_FEE_PARAMS.elasticity_multiplier as u32,
        );
        let parent_beacon_block_root = origin.header.parent_beacon_block_root.unwrap_or_default();
        let mut db = State::builder().with_database_ref(ReaderDb(reader)).with_bundle_update().build();
        let mut out = Accum::default();
        let (gas_used, receipts) = {
            let evm = factory.evm_factory().create_evm(&mut db, env);
            let ctx = OpBlockExecutionCtx {
                parent_hash: next.parent_hash,
                parent_beacon_block_root: Some(parent_beacon_block_root),
                extra_data: extra_data.clone(),
            };
            let mut ex = factory.create_executor(evm, ctx);
            ex.apply_pre_execution_changes().map_err(exec_err)?;

            let deposit = l1_info_deposit(&origin.header, origin.hash, origin.sequence_number, &self.l1_info);
            let deposit = OpTxEnvelope::Deposit(Sealed::new(deposit));
            let rec = Recovered::new_unchecked(deposit.clone(), DEPOSITOR_ACCOUNT);
            ex.execute_transaction(&rec).map_err(exec_err)?;
            let inc = out.push_included(deposit.tx_hash(), deposit.encoded_2718().into(), DEPOSITOR_ACCOUNT, ex.receipts());
            on_included(&inc);
            out.op_txs.push(deposit);

            for (raw, sender) in candidates {
                let tx = match OpTxEnvelope::decode_2718_exact(&raw) {
                    Ok(tx) if !tx.is_deposit() => tx,
                    Ok(tx) => {
                        out.rejected.push(RejectedTx { hash: tx.tx_hash(), reason: "deposit transactions cannot be sequenced from the pool".into(), invalid: true });
                        continue;
                    }
                    Err(e) => {
                        out.rejected.push(RejectedTx { hash: keccak256(&raw), reason: format!("undecodable: {e}"), invalid: true });
                        continue;
                    }
                };
                let hash = tx.tx_hash();
                let rec = Recovered::new_unchecked(tx.clone(), sender);
                let with_encoded = alloy_eips::eip2718::WithEncoded::new(raw.clone(), &rec);
                match offer(ex.execute_transaction(with_encoded), hash)? {
                    Offer::Included => {
                        let inc = out.push_included(hash, raw, sender, ex.receipts());
                        on_included(&inc);
                        out.op_txs.push(tx);
                    }
                    Offer::Rejected(r) => out.rejected.push(r),
                }
            }
            let (_evm, result) = ex.finish().map_err(exec_err)?;
            (result.gas_used, result.receipts)
        };
        out.receipts = receipts.iter().map(|r| Bytes::from(r.encoded_2718())).collect();
        let receipts_root = calculate_receipt_root(&receipts);
        let logs_bloom = receipts.iter().fold(Bloom::ZERO, |acc, r| acc | r.bloom());
        let header = Header {
            parent_hash: next.parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: SEQUENCER_FEE_VAULT,
            state_root: B256::ZERO,
            transactions_root: calculate_transaction_root(&out.op_txs),
            receipts_root,
            logs_bloom,
            difficulty: U256::ZERO,
            number: next.parent.number + 1,
            gas_limit: self.config.gas_limit,
            gas_used,
            timestamp: next.timestamp,
            extra_data,
            mix_hash: origin.header.mix_hash,
            nonce: Default::default(),
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: None,
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(parent_beacon_block_root),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            block_access_list_hash: None,
            slot_number: None,
        };
        let diff = bundle_to_diff(&mut db);
        Ok(out.finish(header, diff, Some(BlockRef { number: origin.header.number, hash: origin.hash })))
    }

    fn execute_l1<R: StateReader>(
        &self,
        reader: R,
        next: &NextBlock,
        candidates: Vec<(Bytes, Address)>,
        on_included: &mut dyn FnMut(&IncludedTx),
    ) -> Result<Executed, BuildError> {
        let base_fee = self.next_base_fee(&next.parent);
        let env = self.eth_env(next, base_fee);
        let factory = EthBlockExecutorFactory::new(AlloyReceiptBuilder::default(), l1_spec(), EthEvmFactory::default());
        let beacon_root = l1_beacon_root(next.parent_hash);
        let excess_blob_gas = next.parent.next_block_excess_blob_gas(BlobParams::cancun()).unwrap_or_default();
        let mut db = State::builder().with_database_ref(ReaderDb(reader)).with_bundle_update().build();
        let mut out = Accum::default();
        let mut eth_txs: Vec<TxEnvelope> = Vec::new();
        let (gas_used, blob_gas_used, receipts) = {
            let evm = factory.evm_factory().create_evm(&mut db, env);
            let ctx = EthBlockExecutionCtx {
                parent_hash: next.parent_hash,
                parent_beacon_block_root: Some(beacon_root),
                ommers: &[],
                withdrawals: Some(Cow::Owned(vec![])),
                extra_data: Bytes::new(),
                tx_count_hint: Some(candidates.len()),
                slot_number: None,
            };
            let mut ex = factory.create_executor(evm, ctx);
            ex.apply_pre_execution_changes().map_err(exec_err)?;
            for (raw, sender) in candidates {
                let tx = match TxEnvelope::decode_2718_exact(&raw) {
                    Ok(tx) => tx,
                    Err(e) => {
                        out.rejected.push(RejectedTx { hash: keccak256(&raw), reason: format!("undecodable: {e}"), invalid: true });
                        continue;
                    }
                };
                let hash = *tx.tx_hash();
                let rec = Recovered::new_unchecked(tx.clone(), sender);
                match offer(ex.execute_transaction(&rec), hash)? {
                    Offer::Included => {
                        let inc = out.push_included(hash, raw, sender, ex.receipts());
                        on_included(&inc);
                        eth_txs.push(tx);
                    }
                    Offer::Rejected(r) => out.rejected.push(r),
                }
            }
            let (_evm, result) = ex.finish().map_err(exec_err)?;
            (result.gas_used, result.blob_gas_used, result.receipts)
        };
        out.receipts = receipts.iter().map(|r| Bytes::from(r.encoded_2718())).collect();
        let receipts_root = calculate_receipt_root(&receipts);
        let logs_bloom = receipts.iter().fold(Bloom::ZERO, |acc, r| acc | r.bloom());
        let header = Header {
            parent_hash: next.parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: Address::ZERO,
            state_root: B256::ZERO,
            transactions_root: calculate_transaction_root(&eth_txs),
            receipts_root,
            logs_bloom,
            difficulty: U256::ZERO,
            number: next.parent.number + 1,
            gas_limit: self.config.gas_limit,
            gas_used,
            timestamp: next.timestamp,
            extra_data: Bytes::new(),
            mix_hash: l1_randao(next.parent_hash),
            nonce: Default::default(),
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: Some(alloy_trie::EMPTY_ROOT_HASH),
            blob_gas_used: Some(blob_gas_used),
            excess_blob_gas: Some(excess_blob_gas),
            parent_beacon_block_root: Some(beacon_root),
            requests_hash: None,
            block_access_list_hash: None,
            slot_number: None,
        };
        let diff = bundle_to_diff(&mut db);
        Ok(out.finish(header, diff, None))
    }

    /// Seals an executed block with the roots the state-fetcher computed. On L2,
    /// `withdrawals_root` is the L2ToL1MessagePasser storage root (Isthmus). Returns the block
    /// and, on L2, the OP p2p payload hash to sign.
    pub fn seal(
        &self,
        executed: Executed,
        state_root: B256,
        withdrawals_root: Option<B256>,
    ) -> (SealedBlock, Option<B256>) {
        let mut header = executed.header;
        header.state_root = state_root;
        if self.config.is_l2() {
            header.withdrawals_root = Some(withdrawals_root.unwrap_or(alloy_trie::EMPTY_ROOT_HASH));
        }
        let hash = header.hash_slow();
        let to_sign = self.config.is_l2().then(|| payload_hash(hash, &header, &executed.op_txs));
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

/// The L2's EIP-1559 parameters for the block after `parent`, from the parent's Holocene
/// `extraData` (the pre-Holocene constants if it carries none).
fn l2_params(parent: &Header) -> BaseFeeParams {
    match op_alloy_consensus::decode_holocene_extra_data(&parent.extra_data) {
        Ok((d, e)) if d != 0 && e != 0 => BaseFeeParams::new(d as u128, e as u128),
        _ => L2_BASE_FEE_PARAMS,
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
    fn push_included<Rc: TxReceipt<Log = Log>>(&mut self, hash: B256, raw: Bytes, sender: Address, receipts: &[Rc]) -> IncludedTx {
        let n = receipts.len();
        let r = &receipts[n - 1];
        let prev = if n >= 2 { receipts[n - 2].cumulative_gas_used() } else { 0 };
        let inc = IncludedTx {
            hash,
            index: (n - 1) as u64,
            success: r.status(),
            gas_used: r.cumulative_gas_used() - prev,
            logs: r.logs().to_vec(),
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

/// The block's state changes, from revm's bundle.
fn bundle_to_diff<DB: revm::database_interface::DatabaseRef>(db: &mut State<revm::database_interface::WrapDatabaseRef<DB>>) -> StateDiff {
    db.merge_transitions(BundleRetention::PlainState);
    let bundle: BundleState = db.take_bundle();
    let mut accounts: Vec<AccountChange> = bundle
        .state
        .iter()
        .map(|(address, acc)| {
            let wipe = acc.was_destroyed();
            let info = acc.info.as_ref().map(|i| AccountState { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash });
            let storage = acc
                .storage
                .iter()
                .filter(|(_, s)| wipe || s.is_changed())
                .map(|(k, s)| (*k, s.present_value))
                .collect();
            let code = acc.info.as_ref().and_then(|i| {
                bundle.contracts.get(&i.code_hash).map(|c| c.original_bytes()).filter(|_| {
                    acc.original_info.as_ref().is_none_or(|o| o.code_hash != i.code_hash)
                })
            });
            AccountChange { address: *address, info, wipe_storage: wipe, storage, code }
        })
        .collect();
    accounts.sort_by_key(|a| a.address);
    StateDiff { accounts }
}
