//! Prefunded dev accounts.
//!
//! These are the well-known keys of the `test test … junk` mnemonic that anvil, hardhat and supersim
//! print; every tool in the ecosystem already knows them, which is why we use them too. They are
//! public: never use them on a real network.
use alloy_primitives::{Address, B256, address, b256, keccak256};

/// One prefunded dev account.
#[derive(Debug, Clone, Copy)]
pub struct DevAccount {
    /// The account address.
    pub address: Address,
    /// Its secret key.
    pub key: B256,
}

/// The ten prefunded dev accounts (anvil's defaults, derivation path m/44'/60'/0'/0/i).
pub const DEV_ACCOUNTS: [DevAccount; 10] = [
    DevAccount {
        address: address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        key: b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    },
    DevAccount {
        address: address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        key: b256!("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    },
    DevAccount {
        address: address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        key: b256!("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    },
    DevAccount {
        address: address!("90F79bf6EB2c4f870365E785982E1f101E93b906"),
        key: b256!("7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    },
    DevAccount {
        address: address!("15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
        key: b256!("47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    },
    DevAccount {
        address: address!("9965507D1a55bcC2695C58ba16FB37d819B0A4dc"),
        key: b256!("8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    },
    DevAccount {
        address: address!("976EA74026E726554dB657fA54763abd0C3a0aa9"),
        key: b256!("92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    },
    DevAccount {
        address: address!("14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
        key: b256!("4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    },
    DevAccount {
        address: address!("23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"),
        key: b256!("dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    },
    DevAccount {
        address: address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720"),
        key: b256!("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
    },
];

/// The key the dev sequencer signs L2 blocks with (OP p2p block signing). It is the last dev
/// account's key, so it is public too.
pub const DEV_SEQUENCER_KEY: B256 = DEV_ACCOUNTS[9].key;

/// The prefunded dev accounts.
pub fn dev_accounts() -> &'static [DevAccount] {
    &DEV_ACCOUNTS
}

/// The key of the `i`-th extra dev account (`--dev.accounts`): keccak256("opseq-dev-account" ‖ i).
/// Public by construction: for benchmarks and tests only.
pub fn derived_dev_key(i: u64) -> B256 {
    let mut buf = b"opseq-dev-account".to_vec();
    buf.extend_from_slice(&i.to_be_bytes());
    keccak256(buf)
}

/// The key of an L2's dev batcher: keccak256("opseq-dev-batcher" ‖ chainId as u64 BE), public by
/// construction (one per L2, as op-batcher needs its own nonces). Its address is the
/// `batcherAddr` of the L2's exported `rollup.json` and the batcher its L1-info deposits carry;
/// it is funded on the L1 mock (`opseq_executor::dev_batcher` derives the address).
pub fn dev_batcher_key(l2_chain_id: u64) -> B256 {
    let mut buf = b"opseq-dev-batcher".to_vec();
    buf.extend_from_slice(&l2_chain_id.to_be_bytes());
    keccak256(buf)
}

/// `0xdd‖tag‖zeros‖chainId`: the dev L1's per-L2 contract addresses.
fn l1_contract(tag: u8, l2_chain_id: u64) -> Address {
    let mut a = [0u8; 20];
    a[0] = 0xdd;
    a[1] = tag;
    a[12..].copy_from_slice(&l2_chain_id.to_be_bytes());
    Address::from(a)
}

/// Where an L2's OptimismPortal (its proxy) sits on the L1 mock (one per L2, as on real
/// networks): `0xdd00…00‖chainId`, the `deposit_contract_address` of its exported rollup config;
/// its `TransactionDeposited` logs are that L2's user deposits.
pub fn optimism_portal(l2_chain_id: u64) -> Address {
    l1_contract(0x00, l2_chain_id)
}

/// Where an L2's SystemConfig (its proxy) sits on the L1 mock: `0xdd01…00‖chainId`, the
/// `l1_system_config_address` of its exported rollup config (op-node and kona-node read its
/// unsafe-block-signer slot and its config-update logs).
pub fn system_config(l2_chain_id: u64) -> Address {
    l1_contract(0x01, l2_chain_id)
}

/// Where the dev L1's SuperchainConfig (its proxy; the guardian and the pause switch of every
/// portal) sits: `0xdd02…00`.
pub const SUPERCHAIN_CONFIG: Address = address!("dd02000000000000000000000000000000000000");

/// The SystemConfig storage slot of the unsafe block signer: keccak256("systemconfig.unsafeblocksigner")
/// (OP contracts `SystemConfig.UNSAFE_BLOCK_SIGNER_SLOT`).
pub const UNSAFE_BLOCK_SIGNER_SLOT: B256 = b256!("65a7ed542fb37fe237fdfbdd70b31598523fe5b32879e307bae27a0bd9581c08");

/// The batch inbox of an L2 on the L1 mock: `0xff00…00‖chainId` (op-deployer's convention:
/// 0xff, zeros, the chain id in the low bytes).
pub fn batch_inbox(l2_chain_id: u64) -> Address {
    let mut a = [0u8; 20];
    a[0] = 0xff;
    a[12..].copy_from_slice(&l2_chain_id.to_be_bytes());
    Address::from(a)
}

#[cfg(test)]
mod batcher_tests {
    use super::*;

    #[test]
    fn dev_addresses_are_their_derivations() {
        assert_ne!(dev_batcher_key(901), dev_batcher_key(902));
        assert_eq!(dev_batcher_key(901), keccak256([b"opseq-dev-batcher".as_slice(), &901u64.to_be_bytes()].concat()));
        assert_eq!(UNSAFE_BLOCK_SIGNER_SLOT, keccak256(b"systemconfig.unsafeblocksigner"));
        assert_eq!(optimism_portal(902), address!("dd00000000000000000000000000000000000386"));
        assert_eq!(batch_inbox(901), address!("ff00000000000000000000000000000000000385"));
        assert_eq!(system_config(901), address!("dd01000000000000000000000000000000000385"));
    }
}
