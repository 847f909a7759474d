//! Stateless validation at ingress.
use alloy_consensus::{Transaction, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, U256};
use op_alloy_consensus::OpTxEnvelope;
use opseq_primitives::{ChainConfig, OpseqError, PoolTx};

/// Largest accepted transaction (geth's `txMaxSize`, 4 × 32 KiB).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// The fields ingress checks, read once from whichever envelope the chain uses.
struct Fields {
    hash: B256,
    sender: Address,
    chain_id: Option<u64>,
    nonce: u64,
    gas_limit: u64,
    max_fee: u128,
    max_prio: u128,
    value: U256,
}

impl Fields {
    fn of<T: Transaction + SignerRecoverable>(tx: &T, hash: B256) -> Result<Self, OpseqError> {
        Ok(Self {
            hash,
            sender: tx
                .recover_signer()
                .map_err(|_| OpseqError::invalid("invalid sender: signature does not recover"))?,
            chain_id: tx.chain_id(),
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            max_fee: tx.max_fee_per_gas(),
            max_prio: tx.max_priority_fee_per_gas().unwrap_or(tx.max_fee_per_gas()),
            value: tx.value(),
        })
    }
}

/// The pool's minimum priority fee per gas (wei).
pub const MIN_TIP: u128 = 1;

/// Decodes `raw` by the chain's rules, checks what needs no state and recovers the sender;
/// returns the pool entry and the value the tx transfers (for the balance check).
pub fn decode_and_recover(chain: &ChainConfig, raw: Bytes) -> Result<(PoolTx, U256), OpseqError> {
    if raw.len() > MAX_TX_SIZE {
        return Err(OpseqError::invalid(format!(
            "oversized data: transaction of {} bytes exceeds the {MAX_TX_SIZE}-byte limit",
            raw.len()
        )));
    }
    if raw.is_empty() {
        return Err(OpseqError::invalid("invalid transaction: empty input"));
    }
    let decode_err = |e: alloy_eips::eip2718::Eip2718Error| {
        OpseqError::invalid(format!("invalid transaction: failed to decode: {e}"))
    };
    let fields = if chain.is_l2() {
        let tx = OpTxEnvelope::decode_2718_exact(&raw).map_err(decode_err)?;
        if tx.is_deposit() {
            return Err(OpseqError::invalid(
                "transaction type not supported: deposit transactions are derived from L1, not submitted",
            ));
        }
        Fields::of(&tx, tx.tx_hash())?
    } else {
        let tx = TxEnvelope::decode_2718_exact(&raw).map_err(decode_err)?;
        if tx.is_eip4844() {
            return Err(OpseqError::invalid(
                "transaction type not supported: blob transactions need a sidecar, which the L1 mock does not take yet",
            ));
        }
        Fields::of(&tx, *tx.tx_hash())?
    };
    let Fields { hash, sender, chain_id: tx_chain_id, nonce, gas_limit, max_fee, max_prio, value } = fields;
    match tx_chain_id {
        Some(id) if id != chain.chain_id => {
            return Err(OpseqError::invalid(format!(
                "invalid chain id: transaction is for chain {id}, this is chain {}",
                chain.chain_id
            )));
        }
        // Pre-EIP-155 legacy transactions replay across chains; geth refuses them over RPC too.
        None => return Err(OpseqError::invalid("only replay-protected (EIP-155) transactions allowed over RPC")),
        _ => {}
    }
    if gas_limit > chain.gas_limit {
        return Err(OpseqError::invalid(format!("exceeds block gas limit: gas {gas_limit} > {}", chain.gas_limit)));
    }
    if gas_limit < 21_000 {
        return Err(OpseqError::invalid(format!("intrinsic gas too low: gas {gas_limit} < 21000")));
    }
    // geth's `ErrTipAboveFeeCap`: a tip above the fee cap can never be paid.
    if max_prio > max_fee {
        return Err(OpseqError::invalid(format!(
            "max priority fee per gas higher than max fee per gas: tip {max_prio}, fee cap {max_fee}"
        )));
    }
    // geth's `--txpool.pricelimit` (default 1 wei): a tx that tips nothing is not pooled. The
    // EVM accepts it; the test API can force it in.
    if max_prio < MIN_TIP {
        return Err(OpseqError::invalid(format!(
            "transaction underpriced: gas tip cap {max_prio}, minimum needed {MIN_TIP}"
        )));
    }
    Ok((
        PoolTx {
            chain_id: chain.chain_id,
            hash,
            sender,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: max_prio,
            raw,
        },
        value,
    ))
}
