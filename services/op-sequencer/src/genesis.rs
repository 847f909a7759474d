//! A dev chain's genesis as a geth-style genesis file, so that an execution client (geth,
//! ethereumjs, reth) starts from the very block op-sequencer starts from.
use alloy_primitives::hex;
use opseq_primitives::ChainConfig;
use serde_json::{Map, Value, json};

/// The geth-style genesis of `chain` (L1 mock: Prague from genesis).
pub fn geth_genesis(chain: &ChainConfig) -> Value {
    let (block, diff) = opseq_executor::genesis(chain);
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
        "config": {
            "chainId": chain.chain_id,
            "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "berlinBlock": 0, "londonBlock": 0, "mergeNetsplitBlock": 0,
            "terminalTotalDifficulty": 0, "terminalTotalDifficultyPassed": true,
            "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0,
            "depositContractAddress": "0x00000000219ab540356cBB839Cbe05303d7705Fa",
            "blobSchedule": {
                "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3_338_477},
                "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5_007_716}
            }
        },
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
