//! Export for the OP Stack's own programs: each dev chain's genesis as a geth-style genesis file
//! (`geth init` of it gives the very block op-sequencer starts from: the L1 mock's for geth,
//! ethereumjs or reth; an L2's for op-geth), each L2's op-node `rollup.json`, and the L1 chain
//! config op-node needs for an L1 chain id it does not know (`--rollup.l1-chain-config`).
//!
//! Field names are op-geth's `params.ChainConfig` and op-node's `rollup.Config` (optimism
//! v1.19.0, op-geth v1.101702.3); op-node decodes the L1 chain config with unknown fields
//! disallowed, so only fields op-geth knows are written.
use alloy_primitives::{Address, B256, hex};
use eyre::WrapErr;
use opseq_executor::L2_BASE_FEE_PARAMS;
use opseq_primitives::{
    ChainConfig, ChainId, DevnetConfig, SealedBlock, StateDiff, batch_inbox, optimism_portal, system_config,
};
use serde_json::{Map, Value, json};
use std::path::Path;

/// OP's EIP-1559 parameters before Canyon: op-geth's `optimism.eip1559Denominator`.
const PRE_CANYON_DENOMINATOR: u64 = 50;

/// Each chain's genesis block and state, computed once (a big `--dev.accounts` genesis costs
/// seconds and gigabytes).
pub type Geneses = std::collections::BTreeMap<ChainId, (SealedBlock, StateDiff)>;

/// The genesis of every chain of `devnet`.
pub fn geneses(devnet: &DevnetConfig) -> Geneses {
    devnet.chains.iter().map(|c| (c.chain_id, opseq_executor::genesis(c))).collect()
}

/// The geth-style genesis of `chain`: the L1 mock with Prague from genesis, an L2 with every OP
/// fork through Isthmus (op-geth's `optimism` config).
pub fn geth_genesis(chain: &ChainConfig) -> Value {
    geth_genesis_of(chain, &opseq_executor::genesis(chain))
}

/// [`geth_genesis`] of an already computed genesis.
fn geth_genesis_of(chain: &ChainConfig, (block, diff): &(SealedBlock, StateDiff)) -> Value {
    let mut alloc = Map::new();
    for a in &diff.accounts {
        let Some(info) = a.info else { continue };
        let mut o = json!({"balance": format!("{:#x}", info.balance), "nonce": format!("{:#x}", info.nonce)});
        if let Some(code) = &a.code {
            o["code"] = json!(format!("0x{}", hex::encode(code)));
        }
        if !a.storage.is_empty() {
            o["storage"] = Value::Object(
                a.storage.iter().map(|(k, v)| (format!("{k:#066x}"), json!(format!("{:#066x}", v)))).collect(),
            );
        }
        alloc.insert(format!("{:#x}", a.address), o);
    }
    let h = &block.header;
    json!({
        "config": chain_config(chain),
        "nonce": "0x0",
        "timestamp": format!("{:#x}", h.timestamp),
        "extraData": format!("0x{}", hex::encode(&h.extra_data)),
        "gasLimit": format!("{:#x}", h.gas_limit),
        "difficulty": "0x0",
        "mixHash": h.mix_hash,
        "coinbase": h.beneficiary,
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": h.parent_hash,
        "baseFeePerGas": format!("{:#x}", h.base_fee_per_gas.unwrap_or_default()),
        "excessBlobGas": "0x0",
        "blobGasUsed": "0x0",
        "alloc": alloc,
        "_opSequencer": {"hash": block.hash, "stateRoot": h.state_root},
    })
}

/// op-geth's `params.ChainConfig` of `chain`.
pub fn chain_config(chain: &ChainConfig) -> Value {
    let mut c = json!({
        "chainId": chain.chain_id,
        "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
        "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
        "muirGlacierBlock": 0, "berlinBlock": 0, "londonBlock": 0, "arrowGlacierBlock": 0,
        "grayGlacierBlock": 0, "mergeNetsplitBlock": 0,
        "terminalTotalDifficulty": 0,
        "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0,
    });
    if chain.is_l2() {
        c["bedrockBlock"] = json!(0);
        for fork in
            ["regolithTime", "canyonTime", "ecotoneTime", "fjordTime", "graniteTime", "holoceneTime", "isthmusTime"]
        {
            c[fork] = json!(0);
        }
        if let Some(t) = chain.jovian_time {
            c["jovianTime"] = json!(t);
        }
        c["optimism"] = json!({
            "eip1559Elasticity": L2_BASE_FEE_PARAMS.elasticity_multiplier,
            "eip1559Denominator": PRE_CANYON_DENOMINATOR,
            "eip1559DenominatorCanyon": L2_BASE_FEE_PARAMS.max_change_denominator,
        });
    } else {
        c["depositContractAddress"] = json!("0x00000000219ab540356cBB839Cbe05303d7705Fa");
        c["blobSchedule"] = json!({
            "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3_338_477},
            "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5_007_716}
        });
    }
    c
}

/// op-node's `rollup.json` for the L2 `chain`: its genesis (from `geneses`) anchored at its L1
/// mock's genesis block, the system config its L1-info deposits carry, the forks through
/// Isthmus at genesis and Jovian from its `jovian_time`, and the dev L1 addresses (batch inbox, portal, SystemConfig).
pub fn rollup_config(chain: &ChainConfig, geneses: &Geneses) -> eyre::Result<Value> {
    eyre::ensure!(chain.is_l2(), "chain {} is not an L2", chain.chain_id);
    let l1_id = chain.l1_chain_id.ok_or_else(|| eyre::eyre!("chain {} has no L1", chain.chain_id))?;
    let (l1_genesis, _) = geneses.get(&l1_id).ok_or_else(|| {
        eyre::eyre!("chain {}'s L1 {l1_id} is not a dev chain (a forked L2 cannot be exported)", chain.chain_id)
    })?;
    let (l2_genesis, _) =
        geneses.get(&chain.chain_id).ok_or_else(|| eyre::eyre!("no genesis of chain {}", chain.chain_id))?;
    let p = opseq_executor::L1InfoParams::for_chain(chain);
    // Ecotone scalar: version 1 ‖ zeros ‖ blob-base-fee scalar (u32) ‖ base-fee scalar (u32).
    let mut scalar = [0u8; 32];
    scalar[0] = 1;
    scalar[24..28].copy_from_slice(&p.blob_base_fee_scalar.to_be_bytes());
    scalar[28..].copy_from_slice(&p.base_fee_scalar.to_be_bytes());
    // Holocene EIP-1559 params: denominator (u32) ‖ elasticity (u32), as in `extraData`.
    let mut eip1559 = [0u8; 8];
    eip1559[..4].copy_from_slice(&(L2_BASE_FEE_PARAMS.max_change_denominator as u32).to_be_bytes());
    eip1559[4..].copy_from_slice(&(L2_BASE_FEE_PARAMS.elasticity_multiplier as u32).to_be_bytes());
    // Isthmus operator fee: zeros ‖ scalar (u32) ‖ constant (u64).
    let mut operator_fee = [0u8; 32];
    operator_fee[20..24].copy_from_slice(&p.operator_fee_scalar.to_be_bytes());
    operator_fee[24..].copy_from_slice(&p.operator_fee_constant.to_be_bytes());
    let batcher = Address::from_slice(&p.batcher_hash[12..]);
    Ok(json!({
        "genesis": {
            "l1": {"hash": l1_genesis.hash, "number": 0},
            "l2": {"hash": l2_genesis.hash, "number": 0},
            "l2_time": chain.genesis_timestamp,
            "system_config": {
                "batcherAddr": batcher,
                "overhead": B256::ZERO,
                "scalar": B256::from(scalar),
                "gasLimit": chain.gas_limit,
                "eip1559Params": format!("0x{}", hex::encode(eip1559)),
                "operatorFeeParams": B256::from(operator_fee),
                "minBaseFee": p.min_base_fee,
                "daFootprintGasScalar": p.da_footprint_gas_scalar,
            }
        },
        "block_time": chain.block_time,
        "max_sequencer_drift": 600,
        "seq_window_size": 3600,
        "channel_timeout": 300,
        "l1_chain_id": l1_id,
        "l2_chain_id": chain.chain_id,
        "regolith_time": 0, "canyon_time": 0, "delta_time": 0, "ecotone_time": 0, "fjord_time": 0,
        "granite_time": 0, "holocene_time": 0, "isthmus_time": 0, "jovian_time": chain.jovian_time,
        "batch_inbox_address": batch_inbox(chain.chain_id),
        "deposit_contract_address": optimism_portal(chain.chain_id),
        "l1_system_config_address": system_config(chain.chain_id),
        "chain_op_config": {
            "eip1559Elasticity": L2_BASE_FEE_PARAMS.elasticity_multiplier,
            "eip1559Denominator": PRE_CANYON_DENOMINATOR,
            "eip1559DenominatorCanyon": L2_BASE_FEE_PARAMS.max_change_denominator,
        },
    }))
}

/// The rollup config as kona-node 1.0.0-rc.1 takes it (kona-genesis 0.4.5 refuses unknown keys):
/// without Jovian's system-config keys, with the `protocol_versions_address` it still requires.
pub fn kona_rollup_config(mut rollup: Value) -> Value {
    if let Some(sc) = rollup["genesis"]["system_config"].as_object_mut() {
        sc.remove("minBaseFee");
        sc.remove("daFootprintGasScalar");
    }
    rollup["protocol_versions_address"] = json!(Address::ZERO);
    rollup
}

/// Writes the export of `devnet` into `dir`: `l1-genesis.json` and `l1-chain-config.json` for
/// the L1 mock, and `<chainId>/genesis.json`, `<chainId>/rollup.json` and `<chainId>/batcher.key`
/// (the dev batcher's public key) for each L2. Returns the files written.
pub fn write(dir: &Path, devnet: &DevnetConfig, geneses: &Geneses) -> eyre::Result<Vec<std::path::PathBuf>> {
    fn put(path: std::path::PathBuf, bytes: Vec<u8>) -> eyre::Result<std::path::PathBuf> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).wrap_err_with(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).wrap_err_with(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
    let json = |v: &Value| serde_json::to_vec_pretty(v).map_err(eyre::Report::from);
    let mut written = Vec::new();
    for chain in &devnet.chains {
        let genesis =
            geneses.get(&chain.chain_id).ok_or_else(|| eyre::eyre!("no genesis of chain {}", chain.chain_id))?;
        if chain.is_l2() {
            let sub = dir.join(chain.chain_id.to_string());
            written.push(put(sub.join("genesis.json"), json(&geth_genesis_of(chain, genesis))?)?);
            let rollup = rollup_config(chain, geneses)?;
            written.push(put(sub.join("rollup.json"), json(&rollup)?)?);
            written.push(put(sub.join("rollup-kona.json"), json(&kona_rollup_config(rollup))?)?);
            // The dev batcher's (public) key, for op-batcher's `--private-key`.
            let key = format!("{:x}\n", opseq_primitives::dev_batcher_key(chain.chain_id));
            written.push(put(sub.join("batcher.key"), key.into_bytes())?);
        } else {
            written.push(put(dir.join("l1-genesis.json"), json(&geth_genesis_of(chain, genesis))?)?);
            written.push(put(dir.join("l1-chain-config.json"), json(&chain_config(chain))?)?);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_config_names_the_genesis_blocks_and_the_dev_batcher() {
        let devnet = DevnetConfig::dev(6, 2, 1_700_000_000);
        let l2 = devnet.chain(901).unwrap();
        let geneses = geneses(&devnet);
        let r = rollup_config(l2, &geneses).unwrap();
        let (l1g, _) = opseq_executor::genesis(devnet.chain(900).unwrap());
        let (l2g, _) = opseq_executor::genesis(l2);
        assert_eq!(r["genesis"]["l1"]["hash"], json!(l1g.hash));
        assert_eq!(r["genesis"]["l2"]["hash"], json!(l2g.hash));
        assert_eq!(r["genesis"]["l2_time"], json!(1_700_000_000u64));
        assert_eq!(r["genesis"]["system_config"]["batcherAddr"], json!(opseq_executor::dev_batcher(901)));
        assert_eq!(r["genesis"]["system_config"]["eip1559Params"], json!("0x000000fa00000006"));
        // 810949 = 0x000c5fc5, 1368 = 0x00000558.
        assert_eq!(
            r["genesis"]["system_config"]["scalar"],
            json!("0x010000000000000000000000000000000000000000000000000c5fc500000558")
        );
        assert_eq!(r["batch_inbox_address"], json!(batch_inbox(901)));
        assert!(rollup_config(devnet.chain(900).unwrap(), &geneses).is_err());
        // op-node refuses unknown fields in the L1 chain config: only op-geth's names.
        let c = chain_config(devnet.chain(900).unwrap());
        assert!(c.get("terminalTotalDifficultyPassed").is_none() && c.get("blobSchedule").is_some());
        assert!(chain_config(l2).get("optimism").is_some());
    }
}
