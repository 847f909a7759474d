//! The L1 side of the bridge on the dev L1: the real OP contracts, deployed at genesis.
//!
//! For each settled L2 an `OptimismPortal2` (3.10.0) and a `SystemConfig` (2.3.0-beta.2) behind
//! OP `Proxy`s, and one `SuperchainConfig` (1.1.0) behind a proxy for the devnet: the bytecode is
//! the forge artifacts' `bytecode.object` of npm `@eth-optimism/contracts-bedrock@0.17.3`
//! (`forge-artifacts/<Name>.sol/<Name>.json`). Each implementation's constructor runs, then each
//! proxy is pointed at it with `upgradeToAndCall(impl, initialize(…))` from the proxy admin, as
//! the OP deploy scripts do; the storage is what the contracts' own code writes.
//!
//! Not deployed: the DisputeGameFactory (the portal names none, so withdrawals cannot be proven),
//! the L1CrossDomainMessenger and L1StandardBridge (the dev L2s have no messenger or bridge
//! predeploys to pair them with). Deposits are made through the portal directly
//! (`depositTransaction`, or plain ETH sent to it), as viem's `depositTransaction` does.
use crate::genesis::hex_code;
use crate::genesis_evm::{GenesisEvm, Storage};
use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::{SolCall, SolValue, sol};
use opseq_primitives::{SUPERCHAIN_CONFIG, SettledL2, optimism_portal, system_config};

sol! {
    struct ResourceConfig {
        uint32 maxResourceLimit;
        uint8 elasticityMultiplier;
        uint8 baseFeeMaxChangeDenominator;
        uint32 minimumBaseFee;
        uint32 systemTxMaxGas;
        uint128 maximumBaseFee;
    }
    struct Addresses {
        address l1CrossDomainMessenger;
        address l1ERC721Bridge;
        address l1StandardBridge;
        address disputeGameFactory;
        address optimismPortal;
        address optimismMintableERC20Factory;
        address gasPayingToken;
    }
    function upgradeToAndCall(address _implementation, bytes _data);
    function portalInitialize(address _disputeGameFactory, address _systemConfig, address _superchainConfig, uint32 _initialRespectedGameType);
    function systemConfigInitialize(address _owner, uint32 _basefeeScalar, uint32 _blobbasefeeScalar, bytes32 _batcherHash, uint64 _gasLimit, address _unsafeBlockSigner, ResourceConfig _config, address _batchInbox, Addresses _addresses);
    function superchainConfigInitialize(address _guardian, bool _paused);
}

/// OptimismPortal2 3.10.0's deployment code (contracts-bedrock 0.17.3).
const OPTIMISM_PORTAL2: &str = include_str!("bytecode/l1_optimism_portal2.hex");
/// SystemConfig 2.3.0-beta.2's deployment code (contracts-bedrock 0.17.3).
const SYSTEM_CONFIG: &str = include_str!("bytecode/l1_system_config.hex");
/// SuperchainConfig 1.1.0's deployment code (contracts-bedrock 0.17.3).
const SUPERCHAIN_CONFIG_CODE: &str = include_str!("bytecode/l1_superchain_config.hex");

/// The shared implementations (one of each for the devnet, as on the Superchain).
pub const PORTAL_IMPL: Address = address!("dd10000000000000000000000000000000000001");
/// The SystemConfig implementation.
pub const SYSTEM_CONFIG_IMPL: Address = address!("dd10000000000000000000000000000000000002");
/// The SuperchainConfig implementation.
pub const SUPERCHAIN_CONFIG_IMPL: Address = address!("dd10000000000000000000000000000000000003");

/// Seconds a proven withdrawal waits, and a resolved game waits (the portal's immutables; with
/// no dispute game factory nothing is proven on the dev L1, so they only answer getters).
const PROOF_MATURITY_DELAY: u64 = 12;
const DISPUTE_GAME_FINALITY_DELAY: u64 = 6;

/// The ResourceMetering config of OP deployments (op-deployer's defaults: 20M gas of deposits per
/// L1 block, elasticity 10, denominator 8, 1 gwei floor, 1M system-tx gas), the deposit gas
/// capped below the L2 gas limit for small-gas-limit L2s (SystemConfig requires
/// `maxResourceLimit + systemTxMaxGas <= gasLimit`).
fn resource_config(l2_gas_limit: u64) -> ResourceConfig {
    const SYSTEM_TX_MAX_GAS: u32 = 1_000_000;
    const ELASTICITY: u32 = 10;
    let room = l2_gas_limit.saturating_sub(u64::from(SYSTEM_TX_MAX_GAS)).min(20_000_000) as u32;
    ResourceConfig {
        maxResourceLimit: room - room % ELASTICITY,
        elasticityMultiplier: ELASTICITY as u8,
        baseFeeMaxChangeDenominator: 8,
        minimumBaseFee: 1_000_000_000,
        systemTxMaxGas: SYSTEM_TX_MAX_GAS,
        maximumBaseFee: u128::MAX,
    }
}

/// The SystemConfig's `MAX_GAS_LIMIT`, and a floor that leaves deposits some gas.
const MAX_CONTRACT_GAS_LIMIT: u64 = 200_000_000;
const MIN_CONTRACT_GAS_LIMIT: u64 = 2_000_000;

/// What an L2's SystemConfig is initialized with besides its addresses.
#[derive(Debug, Clone, Copy)]
pub struct SystemConfigValues {
    /// The owner, the proxies' admin and the guardian (dev account 0: its key is public).
    pub owner: Address,
    /// The unsafe block signer (op-node's p2p signer check).
    pub unsafe_block_signer: Address,
    /// Ecotone base-fee scalar.
    pub base_fee_scalar: u32,
    /// Ecotone blob-base-fee scalar.
    pub blob_base_fee_scalar: u32,
    /// The batcher (its address left-padded: the batcher hash).
    pub batcher_hash: B256,
}

/// The accounts (address, code, storage) of the L1 bridge for `l2s`: the SuperchainConfig, and
/// each L2's portal and SystemConfig, proxies and implementations. `values(l2)` gives an L2's
/// SystemConfig values. Panics if a contract reverts (a bug, never user input).
pub fn l1_bridge(
    timestamp: u64,
    l2s: &[SettledL2],
    values: impl Fn(&SettledL2) -> SystemConfigValues,
) -> Vec<(Address, Bytes, Storage)> {
    if l2s.is_empty() {
        return Vec::new();
    }
    let mut evm = GenesisEvm::new(timestamp);
    let admin = l2s.first().map(|l2| values(l2).owner).unwrap_or_default();
    let constructor = |code: &str, args: Bytes| [hex_code(code).as_ref(), args.as_ref()].concat().into();
    evm.create_at(SUPERCHAIN_CONFIG_IMPL, hex_code(SUPERCHAIN_CONFIG_CODE), "SuperchainConfig deployment");
    evm.create_at(SYSTEM_CONFIG_IMPL, hex_code(SYSTEM_CONFIG), "SystemConfig deployment");
    evm.create_at(
        PORTAL_IMPL,
        constructor(
            OPTIMISM_PORTAL2,
            (U256::from(PROOF_MATURITY_DELAY), U256::from(DISPUTE_GAME_FINALITY_DELAY)).abi_encode_params().into(),
        ),
        "OptimismPortal2 deployment",
    );
    // A proxy: the OP Proxy's code with its admin slot, as its constructor leaves it; then the
    // admin points it at `implementation` and initializes it in the same call.
    let proxy = |evm: &mut GenesisEvm, at: Address, implementation: Address, init: Vec<u8>, what: &str| {
        let admin_word = U256::from_be_slice(admin.as_slice());
        evm.place(
            at,
            crate::interop::PROXY_CODE.clone(),
            &[(U256::from_be_bytes(crate::interop::EIP1967_ADMIN_SLOT.0), admin_word)],
        );
        let call = upgradeToAndCallCall { _implementation: implementation, _data: init.into() }.abi_encode();
        evm.call(admin, at, call.into(), what);
    };
    let superchain = superchainConfigInitializeCall { _guardian: admin, _paused: false };
    proxy(
        &mut evm,
        SUPERCHAIN_CONFIG,
        SUPERCHAIN_CONFIG_IMPL,
        with_selector("initialize(address,bool)", superchain),
        "SuperchainConfig initialize",
    );
    for l2 in l2s {
        let v = values(l2);
        let portal = optimism_portal(l2.chain_id);
        let config = system_config(l2.chain_id);
        // The SystemConfig accepts L2 gas limits in [its minimum, 200M]: one outside is clamped
        // there (the L2 itself keeps its own; op-node reads the genesis gas limit from rollup.json).
        let gas_limit = l2.gas_limit.clamp(MIN_CONTRACT_GAS_LIMIT, MAX_CONTRACT_GAS_LIMIT);
        let init = systemConfigInitializeCall {
            _owner: v.owner,
            _basefeeScalar: v.base_fee_scalar,
            _blobbasefeeScalar: v.blob_base_fee_scalar,
            _batcherHash: v.batcher_hash,
            _gasLimit: gas_limit,
            _unsafeBlockSigner: v.unsafe_block_signer,
            _config: resource_config(gas_limit),
            _batchInbox: opseq_primitives::batch_inbox(l2.chain_id),
            _addresses: Addresses {
                l1CrossDomainMessenger: Address::ZERO,
                l1ERC721Bridge: Address::ZERO,
                l1StandardBridge: Address::ZERO,
                disputeGameFactory: Address::ZERO,
                optimismPortal: portal,
                optimismMintableERC20Factory: Address::ZERO,
                gasPayingToken: Address::ZERO,
            },
        };
        proxy(
            &mut evm,
            config,
            SYSTEM_CONFIG_IMPL,
            with_selector(
                "initialize(address,uint32,uint32,bytes32,uint64,address,(uint32,uint8,uint8,uint32,uint32,uint128),address,(address,address,address,address,address,address,address))",
                init,
            ),
            "SystemConfig initialize",
        );
        let init = portalInitializeCall {
            _disputeGameFactory: Address::ZERO,
            _systemConfig: config,
            _superchainConfig: SUPERCHAIN_CONFIG,
            _initialRespectedGameType: 0,
        };
        proxy(
            &mut evm,
            portal,
            PORTAL_IMPL,
            with_selector("initialize(address,address,address,uint32)", init),
            "OptimismPortal2 initialize",
        );
    }
    evm.accounts()
}

/// `call`'s arguments under the selector of `signature` (the `sol!` names above are renamed to
/// keep three `initialize`s apart).
fn with_selector(signature: &str, call: impl SolCall) -> Vec<u8> {
    let mut data = alloy_primitives::keccak256(signature.as_bytes())[..4].to_vec();
    data.extend_from_slice(&call.abi_encode()[4..]);
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    fn values() -> SystemConfigValues {
        SystemConfigValues {
            owner: opseq_primitives::DEV_ACCOUNTS[0].address,
            unsafe_block_signer: opseq_primitives::DEV_ACCOUNTS[9].address,
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            batcher_hash: B256::left_padding_from(Address::repeat_byte(0xba).as_slice()),
        }
    }

    #[test]
    fn the_portal_and_system_config_are_initialized_by_their_own_code() {
        let l2s = [
            SettledL2 { chain_id: 901, gas_limit: 60_000_000 },
            SettledL2 { chain_id: 902, gas_limit: 30_000_000 },
            // Outside what the SystemConfig accepts: clamped there, not refused.
            SettledL2 { chain_id: 903, gas_limit: 5_000 },
            SettledL2 { chain_id: 904, gas_limit: 1_000_000_000 },
        ];
        let accounts = l1_bridge(1_700_000_000, &l2s, |_| values());
        let storage = |a: Address| accounts.iter().find(|x| x.0 == a).map(|x| x.2.clone()).unwrap_or_default();
        let slot = |s: B256| U256::from_be_bytes(s.0);
        let word = |a: Address| U256::from_be_slice(a.as_slice());
        for l2 in [901, 902] {
            let config = storage(system_config(l2));
            // The unsafe-block-signer slot op-node and kona-node prove at start.
            assert!(
                config
                    .contains(&(slot(opseq_primitives::UNSAFE_BLOCK_SIGNER_SLOT), word(values().unsafe_block_signer)))
            );
            // The proxies point at the shared implementations.
            let impl_slot = slot(crate::interop::EIP1967_IMPLEMENTATION_SLOT);
            assert!(config.contains(&(impl_slot, word(SYSTEM_CONFIG_IMPL))));
            assert!(storage(optimism_portal(l2)).contains(&(impl_slot, word(PORTAL_IMPL))));
            // The batch inbox slot (keccak256("systemconfig.batchinbox") - 1) names the L2's inbox.
            let inbox_slot = U256::from_be_bytes(keccak256("systemconfig.batchinbox").0) - U256::from(1);
            assert!(config.contains(&(inbox_slot, word(opseq_primitives::batch_inbox(l2)))), "{config:?}");
        }
        // Chains differ where their values do (gas limit), nowhere else in kind.
        assert_ne!(storage(system_config(901)), storage(system_config(902)));
        assert!(l1_bridge(0, &[], |_| values()).is_empty());
    }

    #[test]
    fn a_small_gas_limit_gets_a_deposit_budget_that_fits() {
        assert_eq!(resource_config(5_000_000).maxResourceLimit, 4_000_000);
        assert_eq!(resource_config(MIN_CONTRACT_GAS_LIMIT).maxResourceLimit, 1_000_000);
        assert_eq!(resource_config(60_000_000).maxResourceLimit, 20_000_000);
    }
}
