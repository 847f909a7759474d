//! The bundled dev genesis.
use crate::genesis_evm::{GenesisEvm, Storage};
use crate::spec::{DEPOSITOR_ACCOUNT, L2_BASE_FEE_PARAMS, L2_TO_L1_MESSAGE_PASSER};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::{
    eip2935::HISTORY_STORAGE_ADDRESS, eip4788::BEACON_ROOTS_ADDRESS, eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
    eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, eip7685::EMPTY_REQUESTS_HASH,
};
use alloy_primitives::Address;
use alloy_primitives::{B64, B256, Bytes, KECCAK256_EMPTY, U256, bytes, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use opseq_primitives::{
    AccountChange, AccountState, ChainConfig, SealedBlock, StateDiff, derived_dev_key, dev_accounts,
};

/// The EIP-4788 beacon-roots contract's runtime code, as fixed by EIP-4788 (the same bytes are in
/// the OP Ecotone upgrade and the EEST Prague pre-state; `../shared/fixtures/op/predeploys.json`
/// has them with code hash 0xf57acd40…).
pub const BEACON_ROOTS_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
);

/// The EIP-2935 block-hash history contract's runtime code (EIP-2935; the same bytes are in the
/// EEST v5.4.0 Prague pre-state, `../shared/fixtures/eest/prague`).
pub const HISTORY_STORAGE_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
);

/// The EIP-7002 withdrawal-request predeploy's runtime code (EIP-7002; same source as above).
pub const WITHDRAWAL_REQUEST_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff146101f457600182026001905f5b5f82111560685781019083028483029004916001019190604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f457600154600101600155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f601437604c5fa0600101600355005b6003546002548082038060101160df575060105b5f5b8181146101835782810160030260040181604c02815460601b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffffffff00000000000000000000000000000000168252906010019060401c908160381c81600701538160301c81600601538160281c81600501538160201c81600401538160181c81600301538160101c81600201538160081c81600101535360010160e1565b910180921461019557906002556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff14156101cd57505f5b6001546002828201116101e25750505f6101e8565b01600290035b5f555f600155604c025ff35b5f5ffd"
);

/// The EIP-7251 consolidation-request predeploy's runtime code (EIP-7251; same source as above).
pub const CONSOLIDATION_REQUEST_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1461019a57600182026001905f5b5f82111560685781019083028483029004916001019190604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a57600154600101600155600354806004026004013381556001015f358155600101602035815560010160403590553360601b5f5260605f60143760745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b8181146101295782810160040260040181607402815460601b815260140181600101548152602001816002015481526020019060030154905260010160e9565b910180921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff141561017357505f5b6001546001828201116101885750505f61018e565b01600190035b5f555f6001556074025ff35b5f5ffd"
);

/// The GasPriceOracle's deployment (init) code of the Isthmus upgrade, as the OP specs publish it
/// (`specs/static/bytecode/isthmus-gas-price-oracle-deployment.txt` at
/// ethereum-optimism/specs@fd72cf7, also in `../shared/fixtures/op/bytecode/`).
const GAS_PRICE_ORACLE_DEPLOYMENT: &str = include_str!("bytecode/gas_price_oracle_isthmus_deployment.hex");

/// The Jovian upgrade's GasPriceOracle and L1Block deployment (init) codes, as the OP specs publish
/// them (`specs/static/bytecode/jovian-gas-price-oracle-deployment.txt` and
/// `jovian-l1-block-deployment.txt` at ethereum-optimism/specs@fd72cf7, also in
/// `../shared/fixtures/op/bytecode/`).
pub(crate) const GAS_PRICE_ORACLE_JOVIAN_DEPLOYMENT: &str =
    include_str!("bytecode/gas_price_oracle_jovian_deployment.hex");
pub(crate) const L1_BLOCK_JOVIAN_DEPLOYMENT: &str = include_str!("bytecode/l1_block_jovian_deployment.hex");
/// The Isthmus L1Block's deployment (`specs/static/bytecode/isthmus-l1-block-deployment.txt`):
/// its init prefix copies bytes 0x20..0x6ce, the runtime code, verbatim. With it, the L1-info
/// deposit really stores the L1 values and op-revm charges real L1 data fees.
const L1_BLOCK_ISTHMUS_DEPLOYMENT: &str = include_str!("bytecode/l1_block_isthmus_deployment.hex");

/// The L1Block and GasPriceOracle predeploys of an L2 following Isthmus (`jovian` false) or Jovian
/// from genesis, as OP chains have them: OP proxies (admin: the ProxyAdmin predeploy) in front of
/// implementations at their `0xc0d3…` addresses. The GasPriceOracle's implementation is what its
/// deployment returns, then `setEcotone()`, `setFjord()`, `setIsthmus()` (and `setJovian()`) are
/// called through the proxy by the depositor account, as the upgrade transactions do (each
/// requires the previous one): the flags are the contract's own, not transcribed. With it,
/// `getL1Fee`/`getL1FeeUpperBound` (what viem and ethers call) work. The proxies let the Jovian
/// upgrade deposits of a later activation replace both implementations (`crate::jovian`).
pub static FEE_PREDEPLOYS: std::sync::LazyLock<Vec<(Address, Bytes, Storage)>> =
    std::sync::LazyLock::new(|| fee_predeploys(false));
/// [`FEE_PREDEPLOYS`] of a Jovian-from-genesis L2.
pub static FEE_PREDEPLOYS_JOVIAN: std::sync::LazyLock<Vec<(Address, Bytes, Storage)>> =
    std::sync::LazyLock::new(|| fee_predeploys(true));

/// A predeploy's implementation address: `0xc0d3c0d3…` followed by the predeploy's last two bytes.
pub(crate) fn implementation_of(predeploy: Address) -> Address {
    let mut a = MESSAGE_PASSER_IMPL.0.0;
    a[18..].copy_from_slice(&predeploy.0[18..]);
    Address::from(a)
}

/// An OP predeploy proxy's storage: its admin (the ProxyAdmin predeploy) and implementation.
pub(crate) fn proxy_storage(implementation: Address) -> Storage {
    let slot = |s: B256| U256::from_be_bytes(s.0);
    let word = |a: Address| U256::from_be_slice(a.as_slice());
    let mut storage = vec![
        (slot(crate::interop::EIP1967_IMPLEMENTATION_SLOT), word(implementation)),
        (slot(crate::interop::EIP1967_ADMIN_SLOT), word(crate::interop::PROXY_ADMIN)),
    ];
    storage.sort_unstable();
    storage
}

fn fee_predeploys(jovian: bool) -> Vec<(Address, Bytes, Storage)> {
    let (l1_block, gpo) = (crate::spec::L1_BLOCK_ADDRESS, crate::spec::GAS_PRICE_ORACLE);
    let mut evm = GenesisEvm::new(0);
    for (proxy, init) in [
        (l1_block, if jovian { L1_BLOCK_JOVIAN_DEPLOYMENT } else { L1_BLOCK_ISTHMUS_DEPLOYMENT }),
        (gpo, if jovian { GAS_PRICE_ORACLE_JOVIAN_DEPLOYMENT } else { GAS_PRICE_ORACLE_DEPLOYMENT }),
    ] {
        let implementation = implementation_of(proxy);
        evm.create_at(implementation, hex_code(init), "fee predeploy deployment");
        evm.place(proxy, crate::interop::PROXY_CODE.clone(), &proxy_storage(implementation));
    }
    let upgrades: &[&str] = if jovian {
        &["setEcotone()", "setFjord()", "setIsthmus()", "setJovian()"]
    } else {
        &["setEcotone()", "setFjord()", "setIsthmus()"]
    };
    for f in upgrades {
        let selector = Bytes::copy_from_slice(&keccak256(f.as_bytes())[..4]);
        evm.call(DEPOSITOR_ACCOUNT, gpo, selector, f);
    }
    evm.accounts()
}

/// Bytes from a bytecode file's hex.
pub(crate) fn hex_code(hex: &str) -> Bytes {
    Bytes::from(alloy_primitives::hex::decode(hex.trim()).expect("valid hex"))
}

/// `SyncCaller`'s runtime code: `contracts/src/SyncCaller.sol` compiled by npm `solc` 0.8.30
/// (`contracts/compile.js`; `sync_calls.rs` checks it against a fresh compile).
pub static SYNC_CALLER_CODE: std::sync::LazyLock<Bytes> =
    std::sync::LazyLock::new(|| hex_code(include_str!("bytecode/sync_caller.hex")));
/// `SyncAccount`'s runtime code (`contracts/src/SyncAccount.sol`, compiled as `SyncCaller`).
pub static SYNC_ACCOUNT_CODE: std::sync::LazyLock<Bytes> =
    std::sync::LazyLock::new(|| hex_code(include_str!("bytecode/sync_account.hex")));

/// The interop messaging predeploys' deployment (init) codes, as the OP specs publish them
/// (`specs/static/bytecode/interop-cross-l2-inbox-deployment.txt` and
/// `interop-l2-to-l2-cross-domain-messenger-deployment.txt` at ethereum-optimism/specs@fd72cf7,
/// also in `../shared/fixtures/op/bytecode/`).
pub(crate) const CROSS_L2_INBOX_DEPLOYMENT: &str = include_str!("bytecode/cross_l2_inbox_interop_deployment.hex");
pub(crate) const L2_TO_L2_XDM_DEPLOYMENT: &str = include_str!("bytecode/l2_to_l2_xdm_interop_deployment.hex");

/// CrossL2Inbox (`0x4200…0022`) and L2ToL2CrossDomainMessenger (`0x4200…0023`) as the dev L2s
/// have them from genesis (interop active from genesis, as supersim preinstalls them): the code
/// and storage their deployments leave, run in the EVM at the predeploy addresses (without the
/// proxies the network upgrade puts in front of them).
pub static INTEROP_PREDEPLOYS: std::sync::LazyLock<Vec<(Address, Bytes, Storage)>> = std::sync::LazyLock::new(|| {
    let mut evm = GenesisEvm::new(0);
    for (address, init) in [
        (opseq_primitives::interop::CROSS_L2_INBOX, CROSS_L2_INBOX_DEPLOYMENT),
        (opseq_primitives::interop::L2_TO_L2_CROSS_DOMAIN_MESSENGER, L2_TO_L2_XDM_DEPLOYMENT),
    ] {
        evm.create_at(address, hex_code(init), "interop predeploy deployment");
    }
    evm.accounts()
});

/// The L2ToL1MessagePasser's implementation address (OP predeploys: `0xc0d3c0d3…` followed by the
/// predeploy's last two bytes).
const MESSAGE_PASSER_IMPL: Address = alloy_primitives::address!("c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d30016");

/// Each dev account's genesis balance: 10,000 ETH (as anvil).
const DEV_BALANCE: u128 = 10_000_000_000_000_000_000_000;
/// Genesis base fee: 1 gwei.
const GENESIS_BASE_FEE: u64 = 1_000_000_000;

/// The genesis block and state of a dev chain, with real roots.
pub fn genesis(config: &ChainConfig) -> (SealedBlock, StateDiff) {
    let mut accounts: Vec<AccountChange> = dev_accounts().iter().map(|a| funded(a.address)).collect();
    // Extra accounts (`--dev.accounts`), derived keys; their addresses cost a secp256k1 multiply
    // each, spread over the cores.
    // The L1 side of each settled L2: its dev batcher (op-batcher posts with its public key) is
    // funded, and its OptimismPortal2 and SystemConfig are deployed and initialized by their own
    // code (`l1_bridge`): the SystemConfig names the dev sequencer as the unsafe block signer
    // (op-node and kona-node prove that slot at start), the portal emits the L2's deposits.
    if !config.is_l2() {
        for l2 in &config.settled_l2s {
            accounts.push(funded(dev_batcher(l2.chain_id)));
        }
        let values = |l2: &opseq_primitives::SettledL2| {
            let p = crate::L1InfoParams::dev(l2.chain_id);
            crate::l1_bridge::SystemConfigValues {
                owner: opseq_primitives::DEV_ACCOUNTS[0].address,
                unsafe_block_signer: opseq_primitives::DEV_ACCOUNTS[9].address,
                base_fee_scalar: p.base_fee_scalar,
                blob_base_fee_scalar: p.blob_base_fee_scalar,
                batcher_hash: p.batcher_hash,
            }
        };
        accounts.extend(
            crate::l1_bridge::l1_bridge(config.genesis_timestamp, &config.settled_l2s, values)
                .into_iter()
                .map(|(address, code, storage)| contract(address, code, storage)),
        );
    }
    accounts.extend(extra_accounts(config.extra_accounts).into_iter().map(funded));
    // The system contracts (deployed with nonce 1, as by their EIPs' deployment transactions):
    // beacon roots everywhere, block-hash history everywhere (Prague L1, Isthmus L2), and the
    // EIP-7002/7251 request queues on the L1 (OP chains do not run them).
    let mut system = vec![(BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CODE), (HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE)];
    if config.is_l2() {
        let fee = if config.is_jovian_at(config.genesis_timestamp) { &FEE_PREDEPLOYS_JOVIAN } else { &FEE_PREDEPLOYS };
        // Interop from genesis: the contracts themselves; activating later: the proxies the
        // upgrade deposits will point at them (admin: the ProxyAdmin predeploy).
        let later = config.interop.as_ref().is_some_and(|i| i.activation > config.genesis_timestamp);
        let interop = INTEROP_PREDEPLOYS.iter().cloned().map(move |(address, code, storage)| {
            if later {
                let admin =
                    U256::from_be_slice(B256::left_padding_from(crate::interop::PROXY_ADMIN.as_slice()).as_slice());
                (
                    address,
                    crate::interop::PROXY_CODE.clone(),
                    vec![(U256::from_be_bytes(crate::interop::EIP1967_ADMIN_SLOT.0), admin)],
                )
            } else {
                (address, code, storage)
            }
        });
        // The L2ToL1MessagePasser predeploy as OP chains have it: an OP proxy (admin: the
        // ProxyAdmin, implementation: its 0xc0d3… address) whose storage root is the Isthmus
        // `withdrawalsRoot`. The root is never the empty-trie hash on an OP chain (op-node takes
        // that for "no withdrawals root"), and op-geth reads it from the genesis alloc. The
        // implementation's code is not deployed yet: calls to the passer do nothing.
        let message_passer =
            (L2_TO_L1_MESSAGE_PASSER, crate::interop::PROXY_CODE.clone(), proxy_storage(MESSAGE_PASSER_IMPL));
        // Interop chains: `SyncCaller` (its relayer in slot 0), the `SyncAccount` delegate, and
        // their relayer's funds.
        let sync_call = config.interop.is_some().then(|| {
            accounts.push(funded(opseq_primitives::interop::SYNC_RELAYER));
            let relayer = U256::from_be_slice(opseq_primitives::interop::SYNC_RELAYER.as_slice());
            [
                (opseq_primitives::interop::SYNC_CALLER, SYNC_CALLER_CODE.clone(), vec![(U256::ZERO, relayer)]),
                (opseq_primitives::interop::SYNC_ACCOUNT, SYNC_ACCOUNT_CODE.clone(), vec![]),
            ]
        });
        for (address, code, mut storage) in fee
            .iter()
            .cloned()
            .chain(std::iter::once(message_passer))
            .chain(interop)
            .chain(sync_call.into_iter().flatten())
        {
            storage.sort_unstable();
            accounts.push(contract(address, code, storage));
        }
    } else {
        system.push((WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_CODE));
        system.push((CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_CODE));
    }
    for (address, code) in system {
        accounts.push(AccountChange {
            address,
            info: Some(AccountState { nonce: 1, balance: U256::ZERO, code_hash: keccak256(&code) }),
            wipe_storage: false,
            storage: vec![],
            code: (!code.is_empty()).then_some(code),
        });
    }
    // The chain's `alloc`: each entry replaces what the dev genesis has at its address.
    for (address, a) in &config.alloc {
        accounts.retain(|x| x.address != *address);
        let code = a.code.clone().filter(|c| !c.is_empty());
        let mut storage: Vec<(U256, U256)> = a
            .storage
            .iter()
            .flatten()
            .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
            .filter(|(_, v)| !v.is_zero())
            .collect();
        storage.sort_unstable();
        accounts.push(AccountChange {
            address: *address,
            info: Some(AccountState {
                nonce: a.nonce.unwrap_or_default(),
                balance: a.balance,
                code_hash: code.as_ref().map(keccak256).unwrap_or(KECCAK256_EMPTY),
            }),
            wipe_storage: false,
            storage,
            code,
        });
    }
    accounts.sort_by_key(|a| a.address);
    let state_root = alloy_trie::root::state_root_unsorted(accounts.iter().map(|a| {
        let info = a.info.expect("genesis accounts exist");
        (
            keccak256(a.address),
            TrieAccount {
                nonce: info.nonce,
                balance: info.balance,
                storage_root: if a.storage.is_empty() {
                    EMPTY_ROOT_HASH
                } else {
                    alloy_trie::root::storage_root_unhashed(a.storage.iter().map(|(k, v)| (B256::from(*k), *v)))
                },
                code_hash: info.code_hash,
            },
        )
    }));
    let l2 = config.is_l2();
    // L2: the message passer's storage root (Isthmus); L1: the root of no withdrawals.
    let withdrawals_root = if l2 {
        accounts
            .iter()
            .find(|a| a.address == L2_TO_L1_MESSAGE_PASSER)
            .map(|a| alloy_trie::root::storage_root_unhashed(a.storage.iter().map(|(k, v)| (B256::from(*k), *v))))
            .unwrap_or(EMPTY_ROOT_HASH)
    } else {
        EMPTY_ROOT_HASH
    };
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
            l2_extra_data(
                config.is_jovian_at(config.genesis_timestamp),
                crate::L1InfoParams::for_chain(config).min_base_fee,
            )
        } else {
            Bytes::new()
        },
        // Each dev L2's genesis is its own (indexers and tools key chains by genesis hash): its
        // mixHash names the chain, keccak256("opseq-dev-l2" ‖ chainId as u64 BE). An L2's genesis
        // prevRandao is read by nothing (block 1's comes from its L1 origin); L1: zero.
        mix_hash: if l2 {
            keccak256([b"opseq-dev-l2".as_slice(), &config.chain_id.to_be_bytes()].concat())
        } else {
            B256::ZERO
        },
        nonce: B64::ZERO,
        base_fee_per_gas: Some(GENESIS_BASE_FEE),
        withdrawals_root: Some(withdrawals_root),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        // Both the Prague L1 and the Isthmus L2 carry a requests hash (empty at genesis).
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        block_access_list_hash: None,
        slot_number: None,
    };
    let block = SealedBlock::header_only(header);
    (block, StateDiff { accounts })
}

/// A genesis contract: `code` and `storage` at `address`, nonce 1 (as after its creation).
/// An account with the dev balance.
fn funded(address: Address) -> AccountChange {
    AccountChange {
        address,
        info: Some(AccountState { nonce: 0, balance: U256::from(DEV_BALANCE), code_hash: KECCAK256_EMPTY }),
        wipe_storage: false,
        storage: vec![],
        code: None,
    }
}

fn contract(address: Address, code: Bytes, storage: Storage) -> AccountChange {
    AccountChange {
        address,
        info: Some(AccountState { nonce: 1, balance: U256::ZERO, code_hash: keccak256(&code) }),
        wipe_storage: false,
        storage,
        code: Some(code),
    }
}

/// Addresses of the extra dev accounts `0..n` (keys from `derived_dev_key`). Each costs a
/// secp256k1 multiply (libsecp256k1: a third of k256's time here), spread over the cores; they are
/// kept for the process, so the chains of one devnet derive them once.
pub fn extra_accounts(n: u64) -> Vec<Address> {
    static DERIVED: std::sync::Mutex<Vec<Address>> = std::sync::Mutex::new(Vec::new());
    let mut derived = DERIVED.lock().unwrap_or_else(|e| e.into_inner());
    let have = derived.len() as u64;
    if have < n {
        let threads = std::thread::available_parallelism().map(|p| p.get() as u64).unwrap_or(1).max(1);
        let chunk = (n - have).div_ceil(threads).max(1);
        let more: Vec<Address> = std::thread::scope(|s| {
            let handles: Vec<_> = (have..n)
                .step_by(chunk as usize)
                .map(|start| {
                    s.spawn(move || {
                        let secp = secp256k1::Secp256k1::signing_only();
                        (start..(start + chunk).min(n))
                            .map(|i| {
                                let key = secp256k1::SecretKey::from_byte_array(derived_dev_key(i).0)
                                    .expect("a keccak output is a valid key");
                                let public = key.public_key(&secp).serialize_uncompressed();
                                Address::from_raw_public_key(&public[1..])
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("key derivation thread")).collect()
        });
        derived.extend(more);
    }
    derived[..n as usize].to_vec()
}

/// The address of an L2's dev batcher (`opseq_primitives::dev_batcher_key`).
pub fn dev_batcher(l2_chain_id: u64) -> Address {
    let secp = secp256k1::Secp256k1::signing_only();
    let key = secp256k1::SecretKey::from_byte_array(opseq_primitives::dev_batcher_key(l2_chain_id).0)
        .expect("a keccak output is a valid key");
    Address::from_raw_public_key(&key.public_key(&secp).serialize_uncompressed()[1..])
}

/// Holocene `extraData`: version 0 ‖ denominator (u32 BE) ‖ elasticity (u32 BE).
pub fn holocene_extra_data(denominator: u32, elasticity: u32) -> Bytes {
    let mut v = vec![0u8];
    v.extend_from_slice(&denominator.to_be_bytes());
    v.extend_from_slice(&elasticity.to_be_bytes());
    v.into()
}

/// Jovian `extraData` (version 1, 17 bytes): the Holocene parameters and the minimum base fee
/// (OP specs `jovian/exec-engine.md`).
pub fn jovian_extra_data(denominator: u32, elasticity: u32, min_base_fee: u64) -> Bytes {
    let mut v = holocene_extra_data(denominator, elasticity).to_vec();
    v[0] = 1;
    v.extend_from_slice(&min_base_fee.to_be_bytes());
    v.into()
}

/// The dev L2's `extraData` at `timestamp`: Jovian's with `min_base_fee`, else Holocene's.
pub fn l2_extra_data(jovian: bool, min_base_fee: u64) -> Bytes {
    let (d, e) = (L2_BASE_FEE_PARAMS.max_change_denominator as u32, L2_BASE_FEE_PARAMS.elasticity_multiplier as u32);
    if jovian { jovian_extra_data(d, e, min_base_fee) } else { holocene_extra_data(d, e) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opseq_primitives::DevnetConfig;

    /// (code, storage) of `address` among `accounts`.
    fn at(accounts: &[(Address, Bytes, Storage)], address: Address) -> (Bytes, Storage) {
        accounts.iter().find(|a| a.0 == address).map(|a| (a.1.clone(), a.2.clone())).unwrap_or_default()
    }

    #[test]
    fn the_fee_predeploys_are_proxies_in_front_of_their_deployments_upgraded_through_isthmus_or_jovian() {
        let gpo_impl = implementation_of(crate::spec::GAS_PRICE_ORACLE);
        assert_eq!(gpo_impl, alloy_primitives::address!("c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3c0d3000f"));
        let (code, _) = at(&FEE_PREDEPLOYS, gpo_impl);
        // The deployment's constructor returns 0x1c3c bytes of runtime code (its CODECOPY length).
        assert_eq!(code.len(), 0x1c3c);
        let init = alloy_primitives::hex::decode(GAS_PRICE_ORACLE_DEPLOYMENT.trim()).unwrap();
        assert_eq!(code.as_ref(), &init[0x20..0x20 + 0x1c3c]);
        // The Isthmus L1Block's runtime: bytes 0x20..0x6ce of its deployment.
        let (l1_block, _) = at(&FEE_PREDEPLOYS, implementation_of(crate::spec::L1_BLOCK_ADDRESS));
        let init = alloy_primitives::hex::decode(L1_BLOCK_ISTHMUS_DEPLOYMENT.trim()).unwrap();
        assert_eq!((l1_block.len(), l1_block.as_ref()), (0x6ae, &init[0x20..0x6ce]));
        // setEcotone/setFjord/setIsthmus left their flags in the proxy's storage, beside its
        // admin and implementation slots.
        let (proxy_code, storage) = at(&FEE_PREDEPLOYS, crate::spec::GAS_PRICE_ORACLE);
        assert_eq!(proxy_code, *crate::interop::PROXY_CODE);
        assert_eq!(storage.len(), 3, "{storage:?}");
        // The Jovian ones: other implementations, and setJovian took (it requires setIsthmus).
        let (_, jovian_storage) = at(&FEE_PREDEPLOYS_JOVIAN, crate::spec::GAS_PRICE_ORACLE);
        assert_ne!(at(&FEE_PREDEPLOYS_JOVIAN, gpo_impl).0, code);
        assert_ne!(jovian_storage, storage);
        let dev = DevnetConfig::dev(6, 2, 0);
        let (_, diff) = genesis(dev.chain(901).unwrap());
        assert!(diff.accounts.iter().any(|a| a.address == gpo_impl));
        let (_, l1) = genesis(dev.chain(900).unwrap());
        assert!(l1.accounts.iter().all(|a| a.address != crate::spec::GAS_PRICE_ORACLE));
    }

    #[test]
    fn beacon_roots_code_hash_is_the_eip_one() {
        assert_eq!(
            keccak256(&BEACON_ROOTS_CODE),
            alloy_primitives::b256!("f57acd40259872606d76197ef052f3d35588dadf919ee1f0e3cb9b62d3f4b02c")
        );
    }

    #[test]
    fn genesis_roots_are_real_and_every_chain_has_its_own_genesis() {
        let dev = DevnetConfig::dev(6, 2, 1_700_000_000);
        let (l1, _) = genesis(dev.chain(900).unwrap());
        let (l2, diff) = genesis(dev.chain(901).unwrap());
        assert_ne!(l1.header.state_root, EMPTY_ROOT_HASH);
        // The L1 also has the EIP-7002/7251 queues, the L2s the L1Block, GasPriceOracle,
        // CrossL2Inbox and L2ToL2CrossDomainMessenger predeploys.
        assert_ne!(l1.header.state_root, l2.header.state_root);
        // … and the fee predeploys' two implementations, and (interop) SyncCaller and its relayer.
        assert_eq!(diff.accounts.len(), 22);
        let sync = diff.accounts.iter().find(|a| a.address == opseq_primitives::interop::SYNC_CALLER).unwrap();
        assert_eq!(sync.code.as_ref(), Some(&*SYNC_CALLER_CODE));
        assert_eq!(
            sync.storage,
            vec![(U256::ZERO, U256::from_be_slice(opseq_primitives::interop::SYNC_RELAYER.as_slice()))]
        );
        assert_ne!(
            l2.header.withdrawals_root,
            Some(EMPTY_ROOT_HASH),
            "an OP chain's withdrawals root is the passer's storage root"
        );
        // Jovian by default: extraData version 1 with the minimum base fee; Isthmus: Holocene's.
        assert_eq!(op_alloy_consensus::decode_jovian_extra_data(&l2.header.extra_data).unwrap(), (6, 250, 0)); // (elasticity, denominator, min)
        let isthmus = opseq_primitives::ChainConfig { jovian_time: None, ..dev.chain(901).unwrap().clone() };
        let (l2_isthmus, isthmus_diff) = genesis(&isthmus);
        assert_eq!(op_alloy_consensus::decode_holocene_extra_data(&l2_isthmus.header.extra_data).unwrap(), (6, 250));
        let code_at = |d: &StateDiff, a| d.accounts.iter().find(|x| x.address == a).and_then(|x| x.code.clone());
        let impl_at = implementation_of(crate::spec::L1_BLOCK_ADDRESS);
        assert_ne!(code_at(&isthmus_diff, impl_at), code_at(&diff, impl_at), "Jovian's L1Block is another");
        assert_eq!(l2.header.requests_hash, Some(EMPTY_REQUESTS_HASH));
        // 901 and 902 have one state but not one genesis block.
        let (other, _) = genesis(dev.chain(902).unwrap());
        assert_eq!(other.header.state_root, l2.header.state_root);
        assert_ne!(other.hash, l2.hash);
    }

    #[test]
    fn extra_accounts_are_the_addresses_of_their_derived_keys() {
        // Derived by libsecp256k1 and memoised; checked against k256 (alloy's signer's curve).
        let first = extra_accounts(3);
        let more = extra_accounts(5);
        assert_eq!(&more[..3], &first[..]);
        for (i, address) in more.iter().enumerate() {
            let key = k256::ecdsa::SigningKey::from_slice(derived_dev_key(i as u64).as_slice()).unwrap();
            assert_eq!(*address, alloy_primitives::Address::from_private_key(&key), "account {i}");
        }
        assert_eq!(extra_accounts(2), first[..2]);
    }
}
