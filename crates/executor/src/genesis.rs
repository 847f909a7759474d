//! The bundled dev genesis.
use crate::spec::{L2_BASE_FEE_PARAMS, L2_TO_L1_MESSAGE_PASSER};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::{eip4788::BEACON_ROOTS_ADDRESS, eip7685::EMPTY_REQUESTS_HASH};
use alloy_primitives::{B64, B256, Bytes, KECCAK256_EMPTY, U256, bytes, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use opseq_primitives::{AccountChange, AccountState, ChainConfig, SealedBlock, StateDiff, dev_accounts};

/// The EIP-4788 beacon-roots contract's runtime code, as fixed by EIP-4788 (the same bytes are in
/// the OP Ecotone upgrade and the EEST Prague pre-state; `../shared/fixtures/op/predeploys.json`
/// has them with code hash 0xf57acd40…).
pub const BEACON_ROOTS_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
);

/// Each dev account's genesis balance: 10,000 ETH (as anvil).
const DEV_BALANCE: u128 = 10_000_000_000_000_000_000_000;
/// Genesis base fee: 1 gwei.
const GENESIS_BASE_FEE: u64 = 1_000_000_000;

/// The genesis block and state of a dev chain, with real roots.
pub fn genesis(config: &ChainConfig) -> (SealedBlock, StateDiff) {
    let mut accounts: Vec<AccountChange> = dev_accounts()
        .iter()
        .map(|a| AccountChange {
            address: a.address,
            info: Some(AccountState {
                nonce: 0,
                balance: U256::from(DEV_BALANCE),
                code_hash: KECCAK256_EMPTY,
            }),
            wipe_storage: false,
            storage: vec![],
            code: None,
        })
        .collect();
    accounts.push(AccountChange {
        address: BEACON_ROOTS_ADDRESS,
        info: Some(AccountState {
            nonce: 1,
            balance: U256::ZERO,
            code_hash: keccak256(&BEACON_ROOTS_CODE),
        }),
        wipe_storage: false,
        storage: vec![],
        code: Some(BEACON_ROOTS_CODE),
    });
    accounts.sort_by_key(|a| a.address);
    let state_root = alloy_trie::root::state_root_unsorted(accounts.iter().map(|a| {
        let info = a.info.expect("genesis accounts exist");
        (
            keccak256(a.address),
            TrieAccount {
                nonce: info.nonce,
                balance: info.balance,
                storage_root: EMPTY_ROOT_HASH,
                code_hash: info.code_hash,
            },
        )
    }));
    let l2 = config.is_l2();
    // The message passer has no storage at genesis: its storage root is the empty root.
    let _ = L2_TO_L1_MESSAGE_PASSER;
    let header = Header {
        parent_hash: B256::ZERO,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: Default::default(),
        state_root,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Default::default(),
        difficulty: U256::ZERO,
        number: 0,
        gas_limit: config.gas_limit,
        gas_used: 0,
        timestamp: config.genesis_timestamp,
        extra_data: if l2 {
            holocene_extra_data(L2_BASE_FEE_PARAMS.max_change_denominator as u32, L2_BASE_FEE_PARAMS.elasticity_multiplier as u32)
        } else {
            Bytes::new()
        },
        mix_hash: B256::ZERO,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(GENESIS_BASE_FEE),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: l2.then_some(EMPTY_REQUESTS_HASH),
        block_access_list_hash: None,
        slot_number: None,
    };
    let block = SealedBlock {
        hash: header.hash_slow(),
        header,
        transactions: vec![],
        tx_hashes: vec![],
        senders: vec![],
        receipts: vec![],
        l1_origin: None,
        signature: None,
    };
    (block, StateDiff { accounts })
}

/// Holocene `extraData`: version 0 ‖ denominator (u32 BE) ‖ elasticity (u32 BE).
pub fn holocene_extra_data(denominator: u32, elasticity: u32) -> Bytes {
    let mut v = vec![0u8];
    v.extend_from_slice(&denominator.to_be_bytes());
    v.extend_from_slice(&elasticity.to_be_bytes());
    v.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opseq_primitives::DevnetConfig;

    #[test]
    fn beacon_roots_code_hash_is_the_eip_one() {
        assert_eq!(
            keccak256(&BEACON_ROOTS_CODE),
            alloy_primitives::b256!("f57acd40259872606d76197ef052f3d35588dadf919ee1f0e3cb9b62d3f4b02c")
        );
    }

    #[test]
    fn genesis_roots_are_real_and_chains_differ_only_where_rules_do() {
        let dev = DevnetConfig::dev(6, 2, 1_700_000_000);
        let (l1, _) = genesis(dev.chain(900).unwrap());
        let (l2, diff) = genesis(dev.chain(901).unwrap());
        assert_ne!(l1.header.state_root, EMPTY_ROOT_HASH);
        assert_eq!(l1.header.state_root, l2.header.state_root);
        assert_eq!(diff.accounts.len(), 11);
        assert_eq!(op_alloy_consensus::decode_holocene_extra_data(&l2.header.extra_data).unwrap(), (6, 250)); // (elasticity, denominator)
        assert_eq!(l2.header.requests_hash, Some(EMPTY_REQUESTS_HASH));
    }
}
