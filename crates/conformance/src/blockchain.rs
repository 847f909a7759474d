//! BlockchainTest fixtures (EEST and ethereum/tests).
use crate::mem::MemState;
use alloy_consensus::{Block, Header, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::{eip2718::Encodable2718, eip7840::BlobParams};
use alloy_hardforks::EthereumHardfork;
use alloy_primitives::{Address, B256, Bytes, U256, hex};
use alloy_rlp::Decodable;
use opseq_executor::{BlockBuilder, BlockInput, BuildError, Rules};
use opseq_primitives::{ChainConfig, ChainKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every block as expected.
    Pass,
    /// Why not.
    Fail(String),
    /// Why it was not run.
    Skip(String),
}

/// Runs every test of a blockchain-test file.
pub fn run_blockchain_file(json: &Value) -> Vec<(String, Outcome)> {
    let Some(tests) = json.as_object() else {
        return vec![("<file>".into(), Outcome::Fail("not a JSON object".into()))];
    };
    tests
        .iter()
        .map(|(name, t)| {
            let outcome = std::panic::catch_unwind(|| run_test(t)).unwrap_or_else(|_| Err("panicked".into()));
            (
                name.clone(),
                match outcome {
                    Ok(o) => o,
                    Err(e) => Outcome::Fail(e),
                },
            )
        })
        .collect()
}

fn hexbytes(v: &Value) -> Result<Bytes, String> {
    let s = v.as_str().ok_or_else(|| format!("expected a hex string, got {v}"))?;
    hex::decode(s.trim_start_matches("0x")).map(Bytes::from).map_err(|e| format!("bad hex {s:.20}: {e}"))
}

fn quantity(v: &Value) -> Result<U256, String> {
    let s = v.as_str().ok_or_else(|| format!("expected a quantity, got {v}"))?;
    U256::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("bad quantity {s}: {e}"))
}

fn rules(t: &Value) -> Result<Rules, String> {
    let network = t["network"].as_str().ok_or("no network")?;
    let (last, default_blob) = match network {
        "Cancun" => (EthereumHardfork::Cancun, BlobParams::cancun()),
        "Prague" => (EthereumHardfork::Prague, BlobParams::prague()),
        other => return Err(format!("unknown or unsupported fork {other:?} (Cancun and Prague are run)")),
    };
    // EEST carries the blob schedule; ethereum/tests use mainnet's.
    let mut blob = default_blob;
    if let Some(s) = t.get("config").and_then(|c| c.get("blobSchedule")).and_then(|b| b.get(network)) {
        blob.target_blob_count = quantity(&s["target"])?.to();
        blob.max_blob_count = quantity(&s["max"])?.to();
        blob.update_fraction = quantity(&s["baseFeeUpdateFraction"])?.to();
    }
    Ok(Rules::L1 { last, blob })
}

/// Classes of rejection, as EEST names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Transaction,
    Block,
}

fn run_test(t: &Value) -> Result<Outcome, String> {
    let rules = rules(t)?;
    let chain_id =
        t.get("config").and_then(|c| c.get("chainid")).map(quantity).transpose()?.map(|c| c.to::<u64>()).unwrap_or(1);
    let mut state = MemState::default();
    for (addr, acct) in t["pre"].as_object().ok_or("no pre-state")? {
        let address: Address = addr.parse().map_err(|e| format!("bad address {addr}: {e}"))?;
        let storage: BTreeMap<U256, U256> = acct["storage"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| Ok((quantity(&Value::String(k.clone()))?, quantity(v)?)))
                    .collect::<Result<_, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        state.insert(
            address,
            quantity(&acct["nonce"])?.to(),
            quantity(&acct["balance"])?,
            hexbytes(&acct["code"])?,
            storage,
        );
    }
    let genesis = Block::<TxEnvelope>::decode(&mut hexbytes(&t["genesisRLP"])?.as_ref())
        .map_err(|e| format!("genesis RLP: {e}"))?
        .header;
    if state.state_root() != genesis.state_root {
        return Err(format!(
            "inconsistent pre-state: its root {} is not the genesis stateRoot {}",
            state.state_root(),
            genesis.state_root
        ));
    }
    let config = ChainConfig {
        chain_id,
        kind: ChainKind::L1,
        block_time: 12,
        gas_limit: genesis.gas_limit,
        genesis_timestamp: genesis.timestamp,
        l1_chain_id: None,
        extra_accounts: 0,
        system_config: None,
        interop: None,
        settled_l2s: vec![],
        jovian_time: None,
        alloc: Default::default(),
    };
    let builder = BlockBuilder::with_rules(config, rules);
    let mut head = genesis;
    state.set_block_hash(head.number, head.hash_slow());
    for (i, b) in t["blocks"].as_array().ok_or("no blocks")?.iter().enumerate() {
        let expect: Option<Vec<Class>> = b.get("expectException").and_then(Value::as_str).map(|e| {
            e.split('|')
                .map(|x| if x.trim().starts_with("TransactionException") { Class::Transaction } else { Class::Block })
                .collect()
        });
        let result = apply_block(&builder, &mut state, &head, b);
        match (result, expect) {
            (Ok(header), None) => head = header,
            (Ok(_), Some(_)) => {
                return Ok(Outcome::Fail(format!(
                    "block {i}: accepted, but the fixture expects {}",
                    b["expectException"]
                )));
            }
            (Err((_, why)), None) => return Ok(Outcome::Fail(format!("block {i}: {why}"))),
            (Err((class, why)), Some(classes)) => {
                if !classes.contains(&class) {
                    return Ok(Outcome::Fail(format!(
                        "block {i}: rejected as a {class:?} problem ({why}), but the fixture expects {}",
                        b["expectException"]
                    )));
                }
            }
        }
    }
    let last: B256 =
        t["lastblockhash"].as_str().ok_or("no lastblockhash")?.parse().map_err(|e| format!("lastblockhash: {e}"))?;
    if head.hash_slow() != last {
        return Ok(Outcome::Fail(format!("chain ends at {}, the fixture at {last}", head.hash_slow())));
    }
    Ok(Outcome::Pass)
}

/// Checks and executes one block; on success applies it and returns its header.
fn apply_block(
    builder: &BlockBuilder,
    state: &mut MemState,
    parent: &Header,
    b: &Value,
) -> Result<Header, (Class, String)> {
    let block_err = |e: String| (Class::Block, e);
    let rlp = hexbytes(&b["rlp"]).map_err(block_err)?;
    let block = Block::<TxEnvelope>::decode(&mut rlp.as_ref()).map_err(|e| {
        // A readable header with an unreadable body means a transaction could not be decoded.
        let class = if header_decodes(&rlp) { Class::Transaction } else { Class::Block };
        (class, format!("undecodable block: {e}"))
    })?;
    let header = block.header.clone();
    builder.check_header(parent, &header).map_err(block_err)?;
    if !block.body.ommers.is_empty() {
        return Err(block_err("ommers after the merge".into()));
    }
    let mut txs = Vec::with_capacity(block.body.transactions.len());
    for tx in &block.body.transactions {
        let sender = tx.recover_signer().map_err(|e| (Class::Transaction, format!("invalid signature: {e}")))?;
        txs.push((Bytes::from(tx.encoded_2718()), sender));
    }
    let withdrawals = block.body.withdrawals.clone().map(|w| w.into_inner()).unwrap_or_default();
    let input = BlockInput { template: header.clone(), withdrawals, l1_origin: None };
    let executed = builder.execute_input(&*state, &input, txs, vec![], &mut |_| {}).map_err(|e| match e {
        BuildError::InvalidBlock(m) if m.starts_with("tx ") || m.starts_with("undecodable") => (Class::Transaction, m),
        other => (Class::Block, other.to_string()),
    })?;
    let mut next = state.clone();
    next.apply(&executed.diff);
    let (sealed, _) = builder.seal(executed, next.state_root(), None);
    if sealed.hash != header.hash_slow() {
        return Err(block_err(mismatch(&sealed.header, &header)));
    }
    *state = next;
    state.set_block_hash(header.number, sealed.hash);
    Ok(header)
}

fn mismatch(ours: &Header, theirs: &Header) -> String {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => {$(
            if ours.$f != theirs.$f {
                d.push(format!("{} ours {:?} theirs {:?}", stringify!($f), ours.$f, theirs.$f));
            }
        )*};
    }
    cmp!(
        state_root,
        receipts_root,
        transactions_root,
        logs_bloom,
        gas_used,
        blob_gas_used,
        requests_hash,
        withdrawals_root
    );
    if d.is_empty() {
        d.push("header differs".into());
    }
    format!("block hash differs: {}", d.join("; "))
}

/// Whether the block's RLP starts with a decodable header (the first item of the block list).
fn header_decodes(rlp: &[u8]) -> bool {
    let mut buf = rlp;
    match alloy_rlp::Header::decode(&mut buf) {
        Ok(h) if h.list => Header::decode(&mut buf).is_ok(),
        _ => false,
    }
}
