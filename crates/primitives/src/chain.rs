//! Chain configuration.
use crate::ChainId;
use serde::{Deserialize, Serialize};

/// Whether a chain follows L1 (Ethereum) or OP Stack L2 rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    /// An L1 chain built by the L1 mock (Cancun rules).
    L1,
    /// An OP Stack L2 chain (Jovian rules from genesis by default, Isthmus selectable).
    L2,
}

/// Static configuration of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// The chain id.
    pub chain_id: ChainId,
    /// L1 or L2 rules.
    pub kind: ChainKind,
    /// Seconds between blocks (also the timestamp step).
    pub block_time: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Genesis timestamp (unix seconds).
    pub genesis_timestamp: u64,
    /// For L2 chains, the L1 chain whose blocks are L1 origins.
    pub l1_chain_id: Option<ChainId>,
    /// Extra prefunded accounts at genesis, with keys `derived_dev_key(0..n)` (benchmarks,
    /// large-state tests).
    #[serde(default)]
    pub extra_accounts: u64,
    /// For L2 chains, the system-config values the L1-info deposit carries (scalars, batcher,
    /// operator fee); `None`: the dev defaults. A forked L2 keeps its upstream's.
    #[serde(default)]
    pub system_config: Option<SystemConfig>,
    /// For L2 chains with interop: whose messages they may execute, and for how long.
    #[serde(default)]
    pub interop: Option<InteropConfig>,
    /// For the L1 mock: the L2s that settle on it (each one's dev batcher is funded and its
    /// OptimismPortal and SystemConfig are deployed at genesis).
    #[serde(default)]
    pub settled_l2s: Vec<SettledL2>,
    /// Extra genesis accounts and contracts (a geth-style `alloc`): each replaces whatever the
    /// dev genesis has at its address.
    /// For L2 chains: when Jovian activates (unix seconds); `None`: Isthmus rules only. Jovian
    /// must be active from genesis (an activation after it, with its upgrade transactions, is
    /// not built).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jovian_time: Option<u64>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub alloc: std::collections::BTreeMap<alloy_primitives::Address, alloy_genesis::GenesisAccount>,
}

/// An L2 as the L1 mock's genesis needs it: its bridge contracts are initialized with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettledL2 {
    /// The L2's chain id (it names the portal, SystemConfig, batch inbox and batcher).
    pub chain_id: ChainId,
    /// The L2's block gas limit (the SystemConfig's `gasLimit`).
    pub gas_limit: u64,
}

/// An interop chain's messaging rules (OP specs `interop/dependency-set.md`, `messaging.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InteropConfig {
    /// The chains whose logs it may execute (itself included).
    pub dependency_set: Vec<ChainId>,
    /// Seconds after which an initiating message can no longer be executed (valid at exactly
    /// `init + window`).
    pub expiry_window: u64,
    /// When interop activates (unix seconds); at or before genesis: the predeploys are there
    /// from genesis, else the first block at or after it carries the upgrade deposits.
    #[serde(default)]
    pub activation: u64,
    /// Builder policy: keep committed blocks found to hold an invalid executing message (for
    /// tests of verifiers' replacement) instead of replacing them with deposit-only blocks.
    #[serde(default)]
    pub keep_invalid: bool,
}

/// The L1 system-config values an OP Stack L2's L1-info deposit carries (OP specs
/// `ecotone/l1-attributes.md`, `isthmus/l1-attributes.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemConfig {
    /// Ecotone base-fee scalar.
    pub base_fee_scalar: u32,
    /// Ecotone blob-base-fee scalar.
    pub blob_base_fee_scalar: u32,
    /// Batcher address, left-padded to 32 bytes.
    pub batcher_hash: alloy_primitives::B256,
    /// Isthmus operator-fee scalar.
    pub operator_fee_scalar: u32,
    /// Isthmus operator-fee constant.
    pub operator_fee_constant: u64,
    /// Jovian DA-footprint gas scalar (0: the protocol default, 400).
    #[serde(default)]
    pub da_footprint_gas_scalar: u16,
    /// Jovian minimum base fee (wei), carried in `extraData`.
    #[serde(default)]
    pub min_base_fee: u64,
}

impl ChainConfig {
    /// Whether this is an OP Stack L2 chain.
    pub fn is_l2(&self) -> bool {
        self.kind == ChainKind::L2
    }

    /// Whether this L2 follows Jovian rules at `timestamp`.
    pub fn is_jovian_at(&self, timestamp: u64) -> bool {
        self.is_l2() && self.jovian_time.is_some_and(|t| timestamp >= t)
    }
}

/// The chains of a devnet: one L1 mock and any number of L2s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevnetConfig {
    /// All chains, the L1 first.
    pub chains: Vec<ChainConfig>,
}

impl DevnetConfig {
    /// The default devnet: L1 mock 900 and L2s 901 and 902.
    pub fn dev(l1_block_time: u64, l2_block_time: u64, genesis_timestamp: u64) -> Self {
        let l1 = ChainConfig {
            chain_id: 900,
            kind: ChainKind::L1,
            block_time: l1_block_time,
            gas_limit: 36_000_000,
            genesis_timestamp,
            l1_chain_id: None,
            extra_accounts: 0,
            system_config: None,
            interop: None,
            settled_l2s: vec![],
            jovian_time: None,
            alloc: Default::default(),
        };
        let l2 = |chain_id| ChainConfig {
            chain_id,
            kind: ChainKind::L2,
            block_time: l2_block_time,
            gas_limit: 60_000_000,
            genesis_timestamp,
            l1_chain_id: Some(900),
            extra_accounts: 0,
            system_config: None,
            interop: Some(InteropConfig {
                dependency_set: vec![901, 902],
                expiry_window: crate::interop::EXPIRY_WINDOW,
                activation: 0,
                keep_invalid: false,
            }),
            settled_l2s: vec![],
            jovian_time: Some(0),
            alloc: Default::default(),
        };
        Self { chains: vec![l1, l2(901), l2(902)] }.settle()
    }

    /// Names each L1's settled L2s (`ChainConfig::settled_l2s`) from the L2s that name it as
    /// their L1.
    pub fn settle(mut self) -> Self {
        let l2s: Vec<(ChainId, SettledL2)> = self
            .chains
            .iter()
            .filter(|c| c.is_l2())
            .filter_map(|c| c.l1_chain_id.map(|l1| (l1, SettledL2 { chain_id: c.chain_id, gas_limit: c.gas_limit })))
            .collect();
        for chain in self.chains.iter_mut().filter(|c| !c.is_l2()) {
            chain.settled_l2s = l2s.iter().filter(|(l1, _)| *l1 == chain.chain_id).map(|(_, s)| *s).collect();
        }
        self
    }

    /// Looks a chain up by id.
    pub fn chain(&self, id: ChainId) -> Option<&ChainConfig> {
        self.chains.iter().find(|c| c.chain_id == id)
    }

    /// The chain ids, in order.
    pub fn chain_ids(&self) -> Vec<ChainId> {
        self.chains.iter().map(|c| c.chain_id).collect()
    }
}
