//! Fork schedules and protocol constants of the dev chains.
use alloy_eips::eip1559::BaseFeeParams;
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_op_hardforks::{OpChainHardforks, OpHardfork};
use alloy_primitives::{Address, address};

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
pub const L2_BASE_FEE_PARAMS: BaseFeeParams =
    BaseFeeParams { max_change_denominator: 250, elasticity_multiplier: 6 };

/// The dev L2 fork schedule: every fork up to Isthmus active from genesis.
pub fn dev_op_hardforks() -> OpChainHardforks {
    OpChainHardforks::new([
        (OpHardfork::Bedrock, ForkCondition::Block(0)),
        (OpHardfork::Regolith, ForkCondition::Timestamp(0)),
        (OpHardfork::Canyon, ForkCondition::Timestamp(0)),
        (OpHardfork::Ecotone, ForkCondition::Timestamp(0)),
        (OpHardfork::Fjord, ForkCondition::Timestamp(0)),
        (OpHardfork::Granite, ForkCondition::Timestamp(0)),
        (OpHardfork::Holocene, ForkCondition::Timestamp(0)),
        (OpHardfork::Isthmus, ForkCondition::Timestamp(0)),
        (OpHardfork::Jovian, ForkCondition::Never),
    ])
}

/// The L1 mock's fork schedule: everything up to Cancun from genesis.
#[derive(Debug, Clone, Copy, Default)]
pub struct L1Spec;

/// The L1 mock's spec.
pub const fn l1_spec() -> L1Spec {
    L1Spec
}

impl EthereumHardforks for L1Spec {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        if fork <= EthereumHardfork::Paris {
            ForkCondition::Block(0)
        } else if fork <= EthereumHardfork::Cancun {
            ForkCondition::Timestamp(0)
        } else {
            ForkCondition::Never
        }
    }
}

impl alloy_evm::eth::spec::EthExecutorSpec for L1Spec {
    fn deposit_contract_address(&self) -> Option<Address> {
        None
    }
}
