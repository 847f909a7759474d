//! User deposits: the OptimismPortal's `TransactionDeposited` logs of an L1 block, as the L2
//! deposit transactions derivation makes of them (OP specs `deposits.md`, "Deposit Contract" and
//! "Source hash computation").
use alloy_consensus::ReceiptEnvelope;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256, b256};
use op_alloy_consensus::{TxDeposit, UserDepositSource};

/// `TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData)`.
pub const TRANSACTION_DEPOSITED: B256 = b256!("b3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32");

/// The deposits `portal` emitted in the L1 block `block_hash` with these EIP-2718 receipts, in log
/// order. A log that does not decode is an error naming it (derivation would stop there too).
pub fn user_deposits(block_hash: B256, receipts: &[Bytes], portal: Address) -> Result<Vec<TxDeposit>, String> {
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, raw) in receipts.iter().enumerate() {
        let receipt =
            ReceiptEnvelope::decode_2718_exact(raw).map_err(|e| format!("L1 receipt {i} undecodable: {e}"))?;
        for log in receipt.logs() {
            if log.address == portal && log.topics().first() == Some(&TRANSACTION_DEPOSITED) {
                out.push(decode(block_hash, log_index, log).map_err(|e| format!("deposit log {log_index}: {e}"))?);
            }
            log_index += 1;
        }
    }
    Ok(out)
}

/// One `TransactionDeposited` log as a deposit tx: `opaqueData` = mint (32) ‖ value (32) ‖ gas
/// (8) ‖ isCreation (1) ‖ data, version 0 only.
fn decode(block_hash: B256, log_index: u64, log: &Log) -> Result<TxDeposit, String> {
    let topics = log.topics();
    if topics.len() != 4 {
        return Err(format!("expected 4 topics, got {}", topics.len()));
    }
    if !topics[3].is_zero() {
        return Err(format!("unsupported deposit version {}", topics[3]));
    }
    let from = Address::from_word(topics[1]);
    let to = Address::from_word(topics[2]);
    let data = &log.data.data;
    // ABI `bytes`: offset (32) = 0x20, length (32), the bytes, padded.
    let word = |at: usize| data.get(at..at + 32).map(U256::from_be_slice).ok_or("log data too short");
    if word(0)? != U256::from(32) {
        return Err("opaqueData offset is not 32".into());
    }
    let len: usize = word(32)?.try_into().map_err(|_| "opaqueData length too large")?;
    let opaque = data.get(64..64 + len).ok_or("opaqueData shorter than its length")?;
    if opaque.len() < 73 {
        return Err(format!("opaqueData of {} bytes, at least 73 expected", opaque.len()));
    }
    let mint = U256::from_be_slice(&opaque[..32]);
    let value = U256::from_be_slice(&opaque[32..64]);
    let gas_limit = u64::from_be_bytes(opaque[64..72].try_into().expect("8 bytes"));
    let is_creation = opaque[72] != 0;
    Ok(TxDeposit {
        source_hash: UserDepositSource::new(block_hash, log_index).source_hash(),
        from,
        to: if is_creation { TxKind::Create } else { TxKind::Call(to) },
        mint: mint.try_into().map_err(|_| "mint above 2^128")?,
        value,
        gas_limit,
        is_system_transaction: false,
        input: Bytes::copy_from_slice(&opaque[73..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Receipt, ReceiptWithBloom};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{LogData, address, keccak256};

    fn deposit_log(portal: Address, from: Address, to: Address, opaque: &[u8]) -> Log {
        let mut data = U256::from(32).to_be_bytes::<32>().to_vec();
        data.extend_from_slice(&U256::from(opaque.len()).to_be_bytes::<32>());
        data.extend_from_slice(opaque);
        data.resize(64 + opaque.len().div_ceil(32) * 32, 0);
        Log {
            address: portal,
            data: LogData::new_unchecked(
                vec![TRANSACTION_DEPOSITED, from.into_word(), to.into_word(), B256::ZERO],
                data.into(),
            ),
        }
    }

    #[test]
    fn the_event_topic_and_a_deposit_decode_as_the_specs_say() {
        assert_eq!(TRANSACTION_DEPOSITED, keccak256("TransactionDeposited(address,address,uint256,bytes)"));
        let portal = address!("4e59b44847b379578588920ca78fbf26c0b4956c");
        let (from, to) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let mut opaque = U256::from(5).to_be_bytes::<32>().to_vec(); // mint
        opaque.extend_from_slice(&U256::from(3).to_be_bytes::<32>()); // value
        opaque.extend_from_slice(&100_000u64.to_be_bytes()); // gas
        opaque.push(0); // not a creation
        opaque.extend_from_slice(&[0xab, 0xcd]);
        let other = Log { address: Address::repeat_byte(9), data: LogData::new_unchecked(vec![], Bytes::new()) };
        let receipt = ReceiptEnvelope::Eip1559(ReceiptWithBloom::from(Receipt {
            status: true.into(),
            cumulative_gas_used: 1,
            logs: vec![other, deposit_log(portal, from, to, &opaque)],
        }));
        let block = B256::repeat_byte(7);
        let got = user_deposits(block, &[receipt.encoded_2718().into()], portal).unwrap();
        assert_eq!(got.len(), 1);
        let d = &got[0];
        assert_eq!((d.from, d.to, d.mint, d.value, d.gas_limit), (from, TxKind::Call(to), 5, U256::from(3), 100_000));
        assert_eq!(d.input.as_ref(), &[0xab, 0xcd]);
        // The log is the block's second (index 1).
        assert_eq!(d.source_hash, UserDepositSource::new(block, 1).source_hash());
        // Another portal's logs are not deposits.
        assert!(user_deposits(block, &[receipt.encoded_2718().into()], Address::ZERO).unwrap().is_empty());
    }
}
