//! `op/vectors.json`: small OP consensus vectors, each checked against the code path op-sequencer
//! uses (our base fee, extraData, receipts root, deposit encodings), or against op-alloy where we
//! use op-alloy directly.
use alloy_consensus::{Header, Receipt, ReceiptWithBloom};
use alloy_eips::{
    eip1559::BaseFeeParams,
    eip2718::{Decodable2718, Encodable2718},
};
use alloy_hardforks::ForkCondition;
use alloy_op_hardforks::{OpChainHardforks, OpHardfork};
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, Log, LogData, U256, hex, keccak256};
use op_alloy_consensus::{
    L1InfoDepositSource, OpDepositReceipt, OpReceiptEnvelope, OpTxEnvelope, UpgradeDepositSource,
};
use opseq_executor::{BlockBuilder, Rules, holocene_extra_data, receipts_root};
use opseq_primitives::{ChainConfig, ChainKind};
use serde_json::Value;

type R = Result<(), String>;

fn b(v: &Value) -> Result<Bytes, String> {
    hex::decode(v.as_str().ok_or_else(|| format!("expected hex, got {v}"))?.trim_start_matches("0x"))
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

fn h(v: &Value) -> Result<B256, String> {
    v.as_str().ok_or_else(|| format!("expected a hash, got {v}"))?.parse().map_err(|e| format!("{e}"))
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, ours: T, want: T) -> R {
    if ours == want { Ok(()) } else { Err(format!("{what}: ours {ours:?}, expected {want:?}")) }
}

/// Runs every vector; returns (name, result) per vector.
pub fn run_vectors(v: &Value) -> Vec<(String, R)> {
    let mut out = Vec::new();
    for x in v["deposit_source_hashes"]["vectors"].as_array().into_iter().flatten() {
        out.push((format!("deposit_source_hashes/{}", x["kind"].as_str().unwrap_or("?")), source_hash(x)));
    }
    for x in v["deposit_receipt_rlp"].as_array().into_iter().flatten() {
        out.push((format!("deposit_receipt_rlp/{}", x["name"].as_str().unwrap_or("?")), deposit_receipt(x)));
    }
    for x in v["receipts_root"].as_array().into_iter().flatten() {
        out.push((format!("receipts_root/{}", x["name"].as_str().unwrap_or("?")), receipts(x)));
    }
    for x in v["extra_data"]["vectors"].as_array().into_iter().flatten() {
        out.push((format!("extra_data/{}", x["name"].as_str().unwrap_or("?")), extra_data(x)));
    }
    for (fork, cases) in
        [("holocene", &v["base_fee"]["holocene"]["cases"]), ("canyon", &v["base_fee"]["canyon"]["cases"])]
    {
        for (i, x) in cases.as_array().into_iter().flatten().enumerate() {
            out.push((format!("base_fee/{fork}/{i}"), base_fee(x)));
        }
    }
    for x in v["deposit_tx_hash"].as_array().into_iter().flatten() {
        out.push((format!("deposit_tx_hash/{}", x["name"].as_str().unwrap_or("?")), deposit_hash(x)));
    }
    out
}

fn source_hash(x: &Value) -> R {
    let want = h(&x["expectedSourceHash"])?;
    let ours = match x["kind"].as_str() {
        Some("upgrade_deposit") => {
            UpgradeDepositSource { intent: x["intent"].as_str().unwrap_or_default().to_string() }.source_hash()
        }
        Some("l1_info") => {
            L1InfoDepositSource::new(h(&x["l1BlockHash"])?, x["seqNumber"].as_u64().unwrap_or_default()).source_hash()
        }
        Some("after_force_include") => {
            // Domain 3 (Holocene after-force-include): keccak(u256(3) ‖ keccak(l1BlockHash ‖ u256(seq))).
            let mut inner = h(&x["l1BlockHash"])?.to_vec();
            inner.extend_from_slice(&U256::from(x["seqNumber"].as_u64().unwrap_or_default()).to_be_bytes::<32>());
            let mut outer = U256::from(3).to_be_bytes::<32>().to_vec();
            outer.extend_from_slice(keccak256(inner).as_slice());
            keccak256(outer)
        }
        other => return Err(format!("unknown kind {other:?}")),
    };
    eq("source hash", ours, want)
}

fn receipt_of(x: &Value) -> Result<OpReceiptEnvelope, String> {
    let logs = x["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let address: Address = l["address"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e}"))?;
            let topics = l["topics"].as_array().into_iter().flatten().map(h).collect::<Result<Vec<_>, _>>()?;
            Ok(Log { address, data: LogData::new_unchecked(topics, b(&l["data"])?) })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let receipt = Receipt {
        status: (x["status"].as_u64() == Some(1)).into(),
        cumulative_gas_used: x["cumulativeGasUsed"].as_u64().unwrap_or_default(),
        logs,
    };
    let bloom: Bloom = match x.get("logsBloom").and_then(Value::as_str) {
        Some(s) => Bloom::from_slice(&hex::decode(s.trim_start_matches("0x")).map_err(|e| e.to_string())?),
        None => receipt.bloom_slow(),
    };
    Ok(match x["txType"].as_u64().unwrap_or(126) {
        126 => OpReceiptEnvelope::Deposit(ReceiptWithBloom {
            receipt: OpDepositReceipt {
                inner: receipt,
                deposit_nonce: x["depositNonce"].as_u64(),
                deposit_receipt_version: x["depositReceiptVersion"].as_u64(),
            },
            logs_bloom: bloom,
        }),
        0 => OpReceiptEnvelope::Legacy(ReceiptWithBloom { receipt, logs_bloom: bloom }),
        1 => OpReceiptEnvelope::Eip2930(ReceiptWithBloom { receipt, logs_bloom: bloom }),
        2 => OpReceiptEnvelope::Eip1559(ReceiptWithBloom { receipt, logs_bloom: bloom }),
        t => return Err(format!("receipt type {t} not in the vectors' scope")),
    })
}

fn deposit_receipt(x: &Value) -> R {
    let mut x = x.clone();
    x["txType"] = 126.into();
    let enc = receipt_of(&x)?.encoded_2718();
    // The vector is the receipt body without the 0x7e type byte.
    eq("deposit receipt encoding", Bytes::from(enc[1..].to_vec()), b(&x["rlp"])?)?;
    let decoded = OpReceiptEnvelope::decode_2718_exact(&enc).map_err(|e| e.to_string())?;
    eq("round trip", decoded.encoded_2718(), enc)
}

fn receipts(x: &Value) -> R {
    let rs =
        x["receipts"].as_array().ok_or("receipts missing")?.iter().map(receipt_of).collect::<Result<Vec<_>, _>>()?;
    match &x["expectedReceiptsRoot"] {
        Value::String(_) => eq("receipts root", receipts_root(&rs), h(&x["expectedReceiptsRoot"])?),
        Value::Object(m) => {
            eq("Canyon receipts root (with deposit nonce)", receipts_root(&rs), h(&m["canyon_with_depositNonce"])?)?;
            // Regolith to Canyon: the root is taken without the deposit nonce.
            let stripped: Vec<_> = rs
                .into_iter()
                .map(|r| match r {
                    OpReceiptEnvelope::Deposit(mut d) => {
                        d.receipt.deposit_nonce = None;
                        d.receipt.deposit_receipt_version = None;
                        OpReceiptEnvelope::Deposit(d)
                    }
                    other => other,
                })
                .collect();
            eq(
                "Regolith receipts root (without deposit nonce)",
                receipts_root(&stripped),
                h(&m["regolith_without_depositNonce"])?,
            )
        }
        other => Err(format!("unexpected expectedReceiptsRoot {other}")),
    }
}

fn extra_data(x: &Value) -> R {
    if let Some(err) = x.get("expectError").and_then(Value::as_str) {
        let name = x["name"].as_str().unwrap_or_default();
        let r = match name {
            "test_encode_holocene_invalid_length" => {
                op_alloy_consensus::decode_holocene_extra_data(&holocene_extra_data(8, 8)[..8]).map(|_| ())
            }
            "test_decode_holocene_invalid_length" => {
                op_alloy_consensus::decode_holocene_extra_data(&[0u8; 17]).map(|_| ())
            }
            "test_decode_jovian_invalid_length" => op_alloy_consensus::decode_jovian_extra_data(&[0u8; 8]).map(|_| ()),
            other => return Err(format!("unknown error vector {other}")),
        };
        return match r {
            Err(e) if format!("{e:?}").contains(err) => Ok(()),
            other => Err(format!("expected {err}, got {other:?}")),
        };
    }
    let params = B64::from_slice(&b(&x["eip1559Params"])?);
    let d = &x["defaultBaseFeeParams"];
    let defaults = BaseFeeParams::new(
        d["maxChangeDenominator"].as_u64().unwrap_or_default() as u128,
        d["elasticityMultiplier"].as_u64().unwrap_or_default() as u128,
    );
    let want = b(&x["expectedExtraData"])?;
    match x["fork"].as_str() {
        Some("holocene") => {
            // Ours: what the sequencer writes (all-zero params mean the chain defaults).
            let (den, el) = (
                u32::from_be_bytes(params[..4].try_into().expect("4")),
                u32::from_be_bytes(params[4..].try_into().expect("4")),
            );
            let (den, el) = if den == 0 && el == 0 {
                (defaults.max_change_denominator as u32, defaults.elasticity_multiplier as u32)
            } else {
                (den, el)
            };
            eq("Holocene extraData", holocene_extra_data(den, el), want)
        }
        Some("jovian") => {
            let ours = op_alloy_consensus::encode_jovian_extra_data(
                params,
                defaults,
                x["minBaseFee"].as_u64().unwrap_or_default(),
            )
            .map_err(|e| format!("{e:?}"))?;
            eq("Jovian extraData", ours, want)
        }
        other => Err(format!("unknown fork {other:?}")),
    }
}

fn base_fee(x: &Value) -> R {
    // Canyon at t = 1000 on this schedule; Holocene params come from the parent's extraData.
    let forks = OpChainHardforks::new([
        (OpHardfork::Bedrock, ForkCondition::Block(0)),
        (OpHardfork::Regolith, ForkCondition::Timestamp(0)),
        (OpHardfork::Canyon, ForkCondition::Timestamp(1000)),
    ]);
    let post_canyon = x.get("postCanyon").and_then(Value::as_bool).unwrap_or(true);
    let config = ChainConfig {
        chain_id: 10,
        kind: ChainKind::L2,
        block_time: 2,
        gas_limit: 30_000_000,
        genesis_timestamp: 0,
        l1_chain_id: None,
        extra_accounts: 0,
        system_config: None,
        interop: None,
        settled_l2s: vec![],
        jovian_time: None,
        alloc: Default::default(),
    };
    let builder = BlockBuilder::with_rules(config, Rules::L2(forks));
    let parent = Header {
        timestamp: if post_canyon { 2000 } else { 0 },
        gas_limit: x["parentGasLimit"].as_u64().unwrap_or_default(),
        gas_used: x["parentGasUsed"].as_u64().unwrap_or_default(),
        base_fee_per_gas: x["parentBaseFee"].as_u64(),
        extra_data: x.get("parentExtraData").map(b).transpose()?.unwrap_or_default(),
        ..Default::default()
    };
    eq("next base fee", builder.next_base_fee(&parent), x["expectedBaseFee"].as_u64().unwrap_or_default())
}

fn deposit_hash(x: &Value) -> R {
    let tx = OpTxEnvelope::decode_2718_exact(&b(&x["rawTransaction"])?).map_err(|e| e.to_string())?;
    eq("deposit tx hash", tx.tx_hash(), h(&x["expectedHash"])?)
}
