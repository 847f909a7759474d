//! Stateless validation at ingress.
use alloy_consensus::{Transaction, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::Bytes;
use op_alloy_consensus::OpTxEnvelope;
use opseq_primitives::{ChainConfig, OpseqError, PoolTx};

/// Largest accepted transaction (geth's `txMaxSize`, 4 × 32 KiB).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Decodes `raw` by the chain's rules, checks what needs no state and recovers the sender.
pub fn decode_and_recover(chain: &ChainConfig, raw: Bytes) -> Result<PoolTx, OpseqError> {
    if raw.len() > MAX_TX_SIZE {
        return Err(OpseqError::invalid(format!(
            "oversized data: transaction of {} bytes exceeds the {MAX_TX_SIZE}-byte limit",
            raw.len()
        )));
    }
    if raw.is_empty() {
        return Err(OpseqError::invalid("invalid transaction: empty input"));
    }
    let (hash, sender, tx_chain_id, nonce, gas_limit, max_fee, max_prio) = if chain.is_l2() {
        let tx = OpTxEnvelope::decode_2718_exact(&raw)
            .map_err(|e| OpseqError::invalid(format!("invalid transaction: failed to decode: {e}")))?;
        if tx.is_deposit() {
            return Err(OpseqError::invalid(
                "transaction type not supported: deposit transactions are derived from L1, not submitted",
            ));
        }
        let sender =
            tx.recover_signer().map_err(|_| OpseqError::invalid("invalid sender: signature does not recover"))?;
        (
            tx.tx_hash(),
            sender,
            tx.chain_id(),
            tx.nonce(),
            tx.gas_limit(),
            tx.max_fee_per_gas(),
            tx.max_priority_fee_per_gas().unwrap_or(tx.max_fee_per_gas()),
        )
    } else {
        let tx = TxEnvelope::decode_2718_exact(&raw)
            .map_err(|e| OpseqError::invalid(format!("invalid transaction: failed to decode: {e}")))?;
        if tx.is_eip4844() {
            return Err(OpseqError::invalid(
                "transaction type not supported: blob transactions need a sidecar, which the L1 mock does not take yet",
            ));
        }
        let sender =
            tx.recover_signer().map_err(|_| OpseqError::invalid("invalid sender: signature does not recover"))?;
        (
            *tx.tx_hash(),
            sender,
            tx.chain_id(),
            tx.nonce(),
            tx.gas_limit(),
            tx.max_fee_per_gas(),
            tx.max_priority_fee_per_gas().unwrap_or(tx.max_fee_per_gas()),
        )
    };
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
    Ok(PoolTx {
        chain_id: chain.chain_id,
        hash,
        sender,
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: max_prio,
        raw,
    })
}
