//! The Jovian network upgrade after genesis (OP specs `jovian/derivation.md` §Network Upgrade
//! Transactions; op-node v1.19.0 `rollup/derive/jovian_upgrade_transactions.go`): the activation
//! block (the first whose timestamp reaches the activation time) carries, after the L1-info
//! deposit (still Isthmus's), five upgrade deposits that deploy the Jovian L1Block and
//! GasPriceOracle, point their predeploy proxies at them and call `setJovian()`, and no user
//! transactions. Its own header already follows Jovian (version-1 `extraData`); blocks after it
//! carry Jovian's L1-info deposit.
//!
//! Protocol constants (deployers, gas limits, source-hash intents) from the specs; the deployment
//! bytecode is the specs' (`../shared/fixtures/op/bytecode/jovian-*-deployment.txt`, byte for byte
//! op-node's).
use crate::genesis::{GAS_PRICE_ORACLE_JOVIAN_DEPLOYMENT, L1_BLOCK_JOVIAN_DEPLOYMENT, hex_code};
use crate::interop::upgrade_to;
use crate::spec::{DEPOSITOR_ACCOUNT, GAS_PRICE_ORACLE, L1_BLOCK_ADDRESS};
use alloy_primitives::{Address, Bytes, TxKind, U256, address};
use op_alloy_consensus::{TxDeposit, UpgradeDepositSource};

/// The deployer of the Jovian L1Block (its nonce 0).
pub const L1_BLOCK_DEPLOYER: Address = address!("4210000000000000000000000000000000000006");
/// The deployer of the Jovian GasPriceOracle (its nonce 0).
pub const GAS_PRICE_ORACLE_DEPLOYER: Address = address!("4210000000000000000000000000000000000007");

fn deposit(intent: &str, from: Address, to: TxKind, gas_limit: u64, input: Bytes) -> TxDeposit {
    TxDeposit {
        source_hash: UpgradeDepositSource { intent: intent.into() }.source_hash(),
        from,
        to,
        mint: 0,
        value: U256::ZERO,
        gas_limit,
        is_system_transaction: false,
        input,
    }
}

/// The five upgrade deposits of the Jovian activation block, in order.
pub fn upgrade_deposits() -> Vec<TxDeposit> {
    let set_jovian = Bytes::copy_from_slice(&alloy_primitives::keccak256("setJovian()")[..4]);
    vec![
        deposit(
            "Jovian: L1 Block Deployment",
            L1_BLOCK_DEPLOYER,
            TxKind::Create,
            447_315,
            hex_code(L1_BLOCK_JOVIAN_DEPLOYMENT),
        ),
        deposit(
            "Jovian: L1 Block Proxy Update",
            Address::ZERO,
            TxKind::Call(L1_BLOCK_ADDRESS),
            50_000,
            upgrade_to(L1_BLOCK_DEPLOYER.create(0)),
        ),
        deposit(
            "Jovian: Gas Price Oracle Deployment",
            GAS_PRICE_ORACLE_DEPLOYER,
            TxKind::Create,
            1_750_714,
            hex_code(GAS_PRICE_ORACLE_JOVIAN_DEPLOYMENT),
        ),
        deposit(
            "Jovian: Gas Price Oracle Proxy Update",
            Address::ZERO,
            TxKind::Call(GAS_PRICE_ORACLE),
            50_000,
            upgrade_to(GAS_PRICE_ORACLE_DEPLOYER.create(0)),
        ),
        deposit(
            "Jovian: Gas Price Oracle Set Jovian",
            DEPOSITOR_ACCOUNT,
            TxKind::Call(GAS_PRICE_ORACLE),
            90_000,
            set_jovian,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    #[test]
    fn the_upgrade_deposits_are_the_specs_in_order() {
        let d = upgrade_deposits();
        assert_eq!(d.len(), 5);
        // Source hash: keccak256(bytes32(2) ‖ keccak256(intent)) (deposits.md, upgrade-deposited).
        let intent = alloy_primitives::keccak256("Jovian: L1 Block Deployment");
        let want = alloy_primitives::keccak256([B256::left_padding_from(&[2]).as_slice(), intent.as_slice()].concat());
        assert_eq!(d[0].source_hash, want);
        assert_eq!((d[1].to, d[3].to), (TxKind::Call(L1_BLOCK_ADDRESS), TxKind::Call(GAS_PRICE_ORACLE)));
        assert_eq!(&d[4].input[..], &[0xb3, 0xd7, 0x20, 0x79]);
        assert_eq!(d.iter().map(|t| t.gas_limit).sum::<u64>(), 447_315 + 50_000 + 1_750_714 + 50_000 + 90_000);
        // The proxies are pointed at the deployers' first contracts.
        assert_eq!(&d[1].input[16..], L1_BLOCK_DEPLOYER.create(0).as_slice());
    }
}
