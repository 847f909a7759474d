//! The interop network upgrade (OP specs `interop/derivation.md` §Network Upgrade Transactions):
//! before activation the CrossL2Inbox and L2ToL2CrossDomainMessenger predeploys are proxies
//! without an implementation; the activation block (the first at or after the activation time)
//! carries, after the L1-info deposit, four upgrade deposits that deploy both implementations
//! and point the proxies at them, and no user transactions.
//!
//! Protocol constants, from the specs (deployers, implementation addresses and code hashes,
//! gas limits, source-hash intents); checked in the tests below by running the deployments.
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, b256};
use op_alloy_consensus::{TxDeposit, UpgradeDepositSource};
use opseq_primitives::interop::{CROSS_L2_INBOX, L2_TO_L2_CROSS_DOMAIN_MESSENGER};

/// The deployer of the CrossL2Inbox implementation (its nonce 0).
pub const CROSS_L2_INBOX_DEPLOYER: Address = address!("4220000000000000000000000000000000000000");
/// The deployer of the L2ToL2CrossDomainMessenger implementation (its nonce 0).
pub const L2_TO_L2_XDM_DEPLOYER: Address = address!("4220000000000000000000000000000000000001");
/// Where the CrossL2Inbox implementation lands.
pub const CROSS_L2_INBOX_IMPL: Address = address!("691300f512e48B463C2617b34Eef1A9f82EE7dBf");
/// Its code hash.
pub const CROSS_L2_INBOX_IMPL_CODE_HASH: B256 =
    b256!("0e7d028dd71bac22d1fb28966043c8d35c3232c78b7fb99fd1db112b5b60d9dd");
/// Where the L2ToL2CrossDomainMessenger implementation lands.
pub const L2_TO_L2_XDM_IMPL: Address = address!("0D0eDd0ebd0e94d218670a8De867Eb5C4d37cadD");
/// Its code hash.
pub const L2_TO_L2_XDM_IMPL_CODE_HASH: B256 = b256!("458925c90ec70736600bef3d6529643a0e7a0a848e62626d61314c057b4a71a9");
/// The L2 ProxyAdmin predeploy, the admin of every predeploy proxy.
pub const PROXY_ADMIN: Address = address!("4200000000000000000000000000000000000018");
/// EIP-1967 admin slot.
pub const EIP1967_ADMIN_SLOT: B256 = b256!("b53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103");
/// EIP-1967 implementation slot.
pub const EIP1967_IMPLEMENTATION_SLOT: B256 = b256!("360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc");

/// The OP predeploy `Proxy` (its runtime code as on OP Sepolia: `../shared/fixtures/op/predeploys.json`,
/// the L1Block proxy, recovered from kona's witnesses). `upgradeTo` may be called by the admin
/// or by the zero address, which the upgrade deposits use.
pub static PROXY_CODE: std::sync::LazyLock<Bytes> =
    std::sync::LazyLock::new(|| crate::genesis::hex_code(include_str!("bytecode/op_proxy.hex")));

/// An OP proxy's `upgradeTo(implementation)` calldata (the upgrade deposits' proxy updates).
pub(crate) fn upgrade_to(implementation: Address) -> Bytes {
    // upgradeTo(address)
    let mut data = vec![0x36, 0x59, 0xcf, 0xe6];
    data.extend_from_slice(B256::left_padding_from(implementation.as_slice()).as_slice());
    data.into()
}

fn source(intent: &str) -> B256 {
    UpgradeDepositSource { intent: intent.into() }.source_hash()
}

/// The four upgrade deposits of the interop activation block, in order.
pub fn upgrade_deposits() -> Vec<TxDeposit> {
    let init = crate::genesis::hex_code;
    vec![
        TxDeposit {
            source_hash: source("Interop: CrossL2Inbox Deployment"),
            from: CROSS_L2_INBOX_DEPLOYER,
            to: TxKind::Create,
            mint: 0,
            value: U256::ZERO,
            gas_limit: 420_000,
            is_system_transaction: false,
            input: init(crate::genesis::CROSS_L2_INBOX_DEPLOYMENT),
        },
        TxDeposit {
            source_hash: source("Interop: CrossL2Inbox Proxy Update"),
            from: Address::ZERO,
            to: TxKind::Call(CROSS_L2_INBOX),
            mint: 0,
            value: U256::ZERO,
            gas_limit: 50_000,
            is_system_transaction: false,
            input: upgrade_to(CROSS_L2_INBOX_IMPL),
        },
        TxDeposit {
            source_hash: source("Interop: L2ToL2CrossDomainMessenger Deployment"),
            from: L2_TO_L2_XDM_DEPLOYER,
            to: TxKind::Create,
            mint: 0,
            value: U256::ZERO,
            gas_limit: 1_100_000,
            is_system_transaction: false,
            input: init(crate::genesis::L2_TO_L2_XDM_DEPLOYMENT),
        },
        TxDeposit {
            source_hash: source("Interop: L2ToL2CrossDomainMessenger Proxy Update"),
            from: Address::ZERO,
            to: TxKind::Call(L2_TO_L2_CROSS_DOMAIN_MESSENGER),
            mint: 0,
            value: U256::ZERO,
            gas_limit: 50_000,
            is_system_transaction: false,
            input: upgrade_to(L2_TO_L2_XDM_IMPL),
        },
    ]
}

/// Whether the block after `parent_timestamp`, at `timestamp`, is the interop activation block
/// of a chain activating at `activation` (after its genesis at `genesis_timestamp`).
pub const fn is_activation_block(
    activation: u64,
    genesis_timestamp: u64,
    parent_timestamp: u64,
    timestamp: u64,
) -> bool {
    activation > genesis_timestamp && parent_timestamp < activation && timestamp >= activation
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    /// The spec's source hashes, and the deployments land where the spec says with the code it says.
    #[test]
    fn upgrade_deposits_are_the_specs() {
        let d = upgrade_deposits();
        assert_eq!(d[0].source_hash, b256!("6e5e214f73143df8fe6f6054a3ed7eb472d373376458a9c8aecdf23475beb616"));
        assert_eq!(d[1].source_hash, b256!("88c6b48354c367125a59792a93a7b60ad7cd66e516157dbba16558c68a46d3cb"));
        assert_eq!(d[2].source_hash, b256!("f5484697c7a9a791db32a3bf0763bf2ba686c77ae7d4c0a5ee8c222a92a8dcc2"));
        assert_eq!(d[3].source_hash, b256!("e54b4d06bbcc857f41ae00e89d820339ac5ce0034aac722c817b2873e03a7e68"));
        assert_eq!(CROSS_L2_INBOX_DEPLOYER.create(0), CROSS_L2_INBOX_IMPL);
        assert_eq!(L2_TO_L2_XDM_DEPLOYER.create(0), L2_TO_L2_XDM_IMPL);
        let inbox = crate::genesis::INTEROP_PREDEPLOYS.iter().find(|p| p.0 == CROSS_L2_INBOX).unwrap();
        assert_eq!(keccak256(&inbox.1), CROSS_L2_INBOX_IMPL_CODE_HASH);
        let xdm = crate::genesis::INTEROP_PREDEPLOYS.iter().find(|p| p.0 == L2_TO_L2_CROSS_DOMAIN_MESSENGER).unwrap();
        assert_eq!(keccak256(&xdm.1), L2_TO_L2_XDM_IMPL_CODE_HASH);
    }
}
