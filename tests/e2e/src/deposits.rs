//! User deposits made the way users make them: `cast send` to an L2's OptimismPortal2 on the L1
//! mock (`depositTransaction`), and where the deposit then sits on an L2 (any node's RPC).
use crate::{cast, hex_u64, opstack::call};
use alloy_primitives::{Address, B256, U256, hex, keccak256};
use eyre::{OptionExt, ensure};
use serde_json::{Value, json};

/// A deposit as L1 recorded it.
#[derive(Debug, Clone)]
pub struct Deposit {
    /// The L1 tx.
    pub l1_tx: String,
    /// The L1 block holding it.
    pub l1_block: u64,
    /// That block's hash.
    pub l1_block_hash: B256,
    /// The L2 deposit's source hash (OP specs, deposits: user-deposited, domain 0):
    /// keccak256(0 ‖ keccak256(l1BlockHash ‖ logIndex)), computed here from the receipt.
    pub source_hash: B256,
}

/// A `depositTransaction` call: L2 `to` (no contract creation), `mint` wei attached on L1,
/// `value` sent on L2, `gas` for the L2 call, calldata `data`.
#[derive(Debug, Clone, Copy)]
pub struct DepositCall<'a> {
    /// The L2 target.
    pub to: Address,
    /// Wei locked on L1, minted to the depositor on L2.
    pub mint: U256,
    /// Wei the L2 call sends.
    pub value: U256,
    /// The L2 call's gas limit.
    pub gas: u64,
    /// The L2 calldata.
    pub data: &'a [u8],
}

/// Calls `depositTransaction(to, value, gas, false, data)` on `l2`'s portal at the L1 `l1_url`
/// from `key` (`cast send`, which waits for the receipt: the L1 must be
/// mining).
pub fn deposit(l1_url: &str, l2: u64, key: &str, call: &DepositCall<'_>) -> eyre::Result<Deposit> {
    let args = deposit_args(l1_url, l2, key, call);
    let out = cast(&[&["send", "--json"], &args.iter().map(String::as_str).collect::<Vec<_>>()[..]].concat())?;
    deposit_of(&serde_json::from_str(&out)?, opseq_primitives::optimism_portal(l2))
}

/// As `deposit`, without waiting (`cast send --async`): the L1 tx hash.
pub fn deposit_async(l1_url: &str, l2: u64, key: &str, call: &DepositCall<'_>) -> eyre::Result<String> {
    let args = deposit_args(l1_url, l2, key, call);
    Ok(cast(&[&["send", "--async"], &args.iter().map(String::as_str).collect::<Vec<_>>()[..]].concat())?
        .trim()
        .to_string())
}

fn deposit_args(l1_url: &str, l2: u64, key: &str, call: &DepositCall<'_>) -> Vec<String> {
    let portal = opseq_primitives::optimism_portal(l2);
    [
        "--rpc-url",
        l1_url,
        "--private-key",
        key,
        &portal.to_string(),
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        &call.to.to_string(),
        &call.value.to_string(),
        &call.gas.to_string(),
        "false",
        &format!("0x{}", hex::encode(call.data)),
        "--value",
        &call.mint.to_string(),
    ]
    .map(str::to_string)
    .to_vec()
}

/// The deposit a portal call's L1 receipt records.
pub fn deposit_of(receipt: &Value, portal: Address) -> eyre::Result<Deposit> {
    ensure!(receipt["status"] == "0x1", "the portal call failed: {receipt}");
    let log = receipt["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["address"].as_str().and_then(|a| a.parse::<Address>().ok()) == Some(portal))
        .ok_or_eyre("no log from the portal")?;
    let l1_block_hash: B256 = serde_json::from_value(receipt["blockHash"].clone())?;
    let log_index = hex_u64(&log["logIndex"])?;
    let inner = keccak256([l1_block_hash.as_slice(), &U256::from(log_index).to_be_bytes::<32>()].concat());
    Ok(Deposit {
        l1_tx: receipt["transactionHash"].as_str().unwrap_or_default().to_string(),
        l1_block: hex_u64(&receipt["blockNumber"])?,
        l1_block_hash,
        source_hash: keccak256([B256::ZERO.as_slice(), inner.as_slice()].concat()),
    })
}

/// Where a deposit sits in an L2 block.
#[derive(Debug, Clone)]
pub struct Landed {
    /// The L2 block.
    pub block: u64,
    /// Its index there.
    pub index: u64,
    /// The tx (its `mint`, `from`, …).
    pub tx: Value,
    /// The block's L1-info deposit's sequence number and L1 block number.
    pub sequence_number: u64,
    /// The L1 origin's number.
    pub l1_origin: u64,
}

/// Finds the deposit with `source_hash` in blocks `0..=head` of the L2 served at `url`.
pub fn find(url: &str, source_hash: B256, head: u64) -> eyre::Result<Option<Landed>> {
    for n in 0..=head {
        let block = call(url, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]))?;
        let txs = block["transactions"].as_array().cloned().unwrap_or_default();
        let Some(index) =
            txs.iter().position(|t| t["sourceHash"].as_str().and_then(|h| h.parse::<B256>().ok()) == Some(source_hash))
        else {
            continue;
        };
        // The L1-info deposit (Ecotone/Isthmus calldata): selector (4) ‖ scalars (8) ‖ sequence
        // number (8) ‖ timestamp (8) ‖ number (8) ‖ …
        let input = txs.first().and_then(|t| t["input"].as_str()).ok_or_eyre("no L1-info deposit")?;
        let input = hex::decode(input)?;
        ensure!(input.len() >= 36, "L1-info calldata of {} bytes", input.len());
        let be = |r: std::ops::Range<usize>| u64::from_be_bytes(input[r].try_into().expect("8 bytes"));
        return Ok(Some(Landed {
            block: n,
            index: index as u64,
            tx: txs[index].clone(),
            sequence_number: be(12..20),
            l1_origin: be(28..36),
        }));
    }
    Ok(None)
}

/// `address`'s balance at `url`'s latest block.
pub fn balance(url: &str, address: Address) -> eyre::Result<U256> {
    Ok(serde_json::from_value(call(url, "eth_getBalance", json!([address, "latest"]))?)?)
}
