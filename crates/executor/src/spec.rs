//! Fork schedules and protocol constants of the dev chains.
use alloy_eips::eip1559::BaseFeeParams;
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_op_hardforks::{OpChainHardforks, OpHardfork};
use alloy_primitives::{Address, address};

/// GasPriceOracle predeploy (OP specs, `predeploys.md`).
pub const GAS_PRICE_ORACLE: Address = address!("420000000000000000000000000000000000000F");
/// L1Block predeploy (OP specs, `predeploys.md`).
pub const L1_BLOCK_ADDRESS: Address = address!("4200000000000000000000000000000000000015");
/// L2ToL1MessagePasser predeploy; its storage root is the Isthmus `withdrawalsRoot`.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("4200000000000000000000000000000000000016");
/// SequencerFeeVault predeploy: the L2 `suggestedFeeRecipient`.
pub const SEQUENCER_FEE_VAULT: Address = address!("4200000000000000000000000000000000000011");
/// The depositor account that sends the L1-info deposit (OP specs, `deposits.md`).
pub const DEPOSITOR_ACCOUNT: Address = address!("DeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Ethereum's EIP-1559 parameters for the L1 mock.
pub const BASE_FEE_PARAMS_L1: BaseFeeParams = BaseFeeParams::ethereum();
/// The dev L2's EIP-1559 parameters (OP mainnet's since Canyon: denominator 250, elasticity 6),
/// written into Holocene `extraData`.
pub const L2_BASE_FEE_PARAMS: BaseFeeParams = BaseFeeParams { max_change_denominator: 250, elasticity_multiplier: 6 };

/// OP's EIP-1559 parameters before Canyon (denominator 50, elasticity 6).
pub const L2_BASE_FEE_PARAMS_PRE_CANYON: BaseFeeParams =
    BaseFeeParams { max_change_denominator: 50, elasticity_multiplier: 6 };

/// The dev L2 fork schedule: every fork up to Isthmus active from genesis, Jovian from
/// `jovian` (`None`: never).
pub fn op_hardforks(jovian: Option<u64>) -> OpChainHardforks {
    OpChainHardforks::new([
        (OpHardfork::Bedrock, ForkCondition::Block(0)),
        (OpHardfork::Regolith, ForkCondition::Timestamp(0)),
        (OpHardfork::Canyon, ForkCondition::Timestamp(0)),
        (OpHardfork::Ecotone, ForkCondition::Timestamp(0)),
        (OpHardfork::Fjord, ForkCondition::Timestamp(0)),
        (OpHardfork::Granite, ForkCondition::Timestamp(0)),
        (OpHardfork::Holocene, ForkCondition::Timestamp(0)),
        (OpHardfork::Isthmus, ForkCondition::Timestamp(0)),
        (OpHardfork::Jovian, jovian.map_or(ForkCondition::Never, ForkCondition::Timestamp)),
    ])
}

/// Isthmus-only rules (no Jovian): the fork schedule of conformance fixtures and of L2s that
/// select Isthmus.
pub fn dev_op_hardforks() -> OpChainHardforks {
    op_hardforks(None)
}

/// An L1 fork schedule: every fork up to `last` active from genesis.
#[derive(Debug, Clone, Copy)]
pub struct L1Spec {
    last: EthereumHardfork,
}

impl L1Spec {
    /// Forks up to `last` active from genesis.
    pub const fn new(last: EthereumHardfork) -> Self {
        Self { last }
    }
}

impl EthereumHardforks for L1Spec {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        if fork > self.last {
            ForkCondition::Never
        } else if fork <= EthereumHardfork::Paris {
            ForkCondition::Block(0)
        } else {
            ForkCondition::Timestamp(0)
        }
    }
}

impl alloy_evm::eth::spec::EthExecutorSpec for L1Spec {
    fn deposit_contract_address(&self) -> Option<Address> {
        // EIP-6110 deposits are read from the mainnet deposit contract's logs (as the EEST
        // fixtures expect); the dev L1 mock has no such contract, so it never finds any.
        Some(alloy_eips::eip6110::MAINNET_DEPOSIT_CONTRACT_ADDRESS)
    }
}
