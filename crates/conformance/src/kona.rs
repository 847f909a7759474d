//! kona's OP block fixtures: a real L2 block rebuilt from its parent header, its payload
//! attributes and a witness of the parent state (keccak preimages), with the sequencer's executor.
use alloy_consensus::{Header, transaction::SignerRecoverable};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_hardforks::ForkCondition;
use alloy_op_hardforks::{OpChainHardforks, OpHardfork};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, hex, keccak256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use op_alloy_consensus::OpTxEnvelope;
use opseq_executor::{BlockBuilder, BlockInput, Rules, StateReader};
use opseq_primitives::{AccountState, ChainConfig, ChainKind, StateDiff};
use opseq_trie::SparseTrie;
use parking_lot::Mutex;
use serde_json::Value;
use std::{collections::HashMap, sync::Arc};

type Witness = Arc<HashMap<B256, Bytes>>;

/// The parent state, read through the witness.
#[derive(Debug)]
struct WitnessState {
    witness: Witness,
    accounts: Mutex<SparseTrie<Witness>>,
    storage: Mutex<HashMap<Address, SparseTrie<Witness>>>,
    parent: (u64, B256),
}

impl WitnessState {
    fn trie_account(&self, address: Address) -> Result<Option<TrieAccount>, String> {
        let raw = self.accounts.lock().get(keccak256(address).as_slice()).map_err(|e| e.to_string())?;
        raw.map(|r| TrieAccount::decode(&mut r.as_slice()).map_err(|e| format!("account {address}: {e}"))).transpose()
    }

    /// The post-state root after `diff`.
    fn root_after(&self, diff: &StateDiff) -> Result<B256, String> {
        let mut state = self.accounts.lock();
        for c in &diff.accounts {
            let key = keccak256(c.address);
            let Some(info) = c.info else {
                state.remove(key.as_slice()).map_err(|e| e.to_string())?;
                continue;
            };
            let old_root = match state.get(key.as_slice()).map_err(|e| e.to_string())? {
                Some(r) => TrieAccount::decode(&mut r.as_slice()).map_err(|e| e.to_string())?.storage_root,
                None => EMPTY_ROOT_HASH,
            };
            let storage_root = if c.storage.is_empty() && !c.wipe_storage {
                old_root
            } else {
                let start = if c.wipe_storage { EMPTY_ROOT_HASH } else { old_root };
                let mut st = self
                    .storage
                    .lock()
                    .remove(&c.address)
                    .filter(|_| !c.wipe_storage)
                    .unwrap_or_else(|| SparseTrie::new(start, Arc::clone(&self.witness)));
                for (slot, value) in &c.storage {
                    let k = keccak256(B256::from(*slot));
                    if value.is_zero() {
                        st.remove(k.as_slice()).map_err(|e| format!("storage of {}: {e}", c.address))?;
                    } else {
                        let mut v = Vec::new();
                        value.encode(&mut v);
                        st.insert(k.as_slice(), v).map_err(|e| e.to_string())?;
                    }
                }
                st.root()
            };
            let mut leaf = Vec::new();
            TrieAccount { nonce: info.nonce, balance: info.balance, storage_root, code_hash: info.code_hash }
                .encode(&mut leaf);
            state.insert(key.as_slice(), leaf).map_err(|e| e.to_string())?;
        }
        Ok(state.root())
    }
}

impl StateReader for WitnessState {
    fn account(&self, address: Address) -> Result<Option<AccountState>, String> {
        Ok(self.trie_account(address)?.map(|a| AccountState {
            nonce: a.nonce,
            balance: a.balance,
            code_hash: a.code_hash,
        }))
    }
    fn storage(&self, address: Address, slot: U256) -> Result<U256, String> {
        let mut tries = self.storage.lock();
        if let std::collections::hash_map::Entry::Vacant(e) = tries.entry(address) {
            let root = self.trie_account(address)?.map(|a| a.storage_root).unwrap_or(EMPTY_ROOT_HASH);
            e.insert(SparseTrie::new(root, Arc::clone(&self.witness)));
        }
        let raw = tries
            .get_mut(&address)
            .expect("inserted")
            .get(keccak256(B256::from(slot)).as_slice())
            .map_err(|e| e.to_string())?;
        raw.map(|r| U256::decode(&mut r.as_slice()).map_err(|e| e.to_string()))
            .transpose()
            .map(Option::unwrap_or_default)
    }
    fn code(&self, code_hash: B256) -> Result<Option<Bytes>, String> {
        if code_hash == KECCAK256_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        Ok(self.witness.get(&code_hash).cloned())
    }
    fn block_hash(&self, number: u64) -> Result<B256, String> {
        if number == self.parent.0 {
            return Ok(self.parent.1);
        }
        Err(format!("block hash {number} is not in the witness"))
    }
}

fn time(rc: &Value, key: &str) -> ForkCondition {
    match rc.get(key).and_then(Value::as_u64) {
        Some(t) => ForkCondition::Timestamp(t),
        None if key == "regolith_time" => ForkCondition::Timestamp(0),
        None => ForkCondition::Never,
    }
}

fn q(v: &Value) -> Result<u64, String> {
    let s = v.as_str().ok_or_else(|| format!("expected a quantity, got {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| e.to_string())
}

/// Rebuilds the fixture's block; `Ok(())` when our hash is the expected one.
pub fn run_kona(f: &Value) -> Result<(), String> {
    let rc = &f["rollup_config"];
    let forks = OpChainHardforks::new([
        (OpHardfork::Bedrock, ForkCondition::Block(0)),
        (OpHardfork::Regolith, time(rc, "regolith_time")),
        (OpHardfork::Canyon, time(rc, "canyon_time")),
        (OpHardfork::Ecotone, time(rc, "ecotone_time")),
        (OpHardfork::Fjord, time(rc, "fjord_time")),
        (OpHardfork::Granite, time(rc, "granite_time")),
        (OpHardfork::Holocene, time(rc, "holocene_time")),
        (OpHardfork::Isthmus, time(rc, "isthmus_time")),
        (OpHardfork::Jovian, time(rc, "jovian_time")),
    ]);
    let chain_id = rc["l2_chain_id"].as_u64().ok_or("rollup_config.l2_chain_id missing")?;
    let parent: Header =
        serde_json::from_value(f["parent_header"].clone()).map_err(|e| format!("parent_header: {e}"))?;
    let parent_hash = parent.hash_slow();
    let attrs = &f["executing_payload"];
    let expected: B256 =
        f["expected_block_hash"].as_str().ok_or("expected_block_hash missing")?.parse().map_err(|e| format!("{e}"))?;
    let mut witness = HashMap::new();
    for p in f["preimages"].as_array().ok_or("preimages missing")? {
        let b = Bytes::from(
            hex::decode(p.as_str().unwrap_or_default().trim_start_matches("0x")).map_err(|e| e.to_string())?,
        );
        witness.insert(keccak256(&b), b);
    }
    let witness = Arc::new(witness);
    let state = WitnessState {
        accounts: Mutex::new(SparseTrie::new(parent.state_root, Arc::clone(&witness))),
        storage: Mutex::default(),
        witness,
        parent: (parent.number, parent_hash),
    };
    let config = ChainConfig {
        chain_id,
        kind: ChainKind::L2,
        block_time: rc["block_time"].as_u64().unwrap_or(2),
        gas_limit: q(&attrs["gasLimit"])?,
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
    // Holocene: the attributes' EIP-1559 params become extraData (version 0 ‖ params).
    let params = hex::decode(attrs["eip1559Params"].as_str().unwrap_or_default().trim_start_matches("0x"))
        .map_err(|e| e.to_string())?;
    let mut extra = vec![0u8];
    extra.extend_from_slice(&params);
    let template = Header {
        parent_hash,
        number: parent.number + 1,
        timestamp: q(&attrs["timestamp"])?,
        beneficiary: attrs["suggestedFeeRecipient"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e}"))?,
        gas_limit: q(&attrs["gasLimit"])?,
        mix_hash: attrs["prevRandao"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e}"))?,
        base_fee_per_gas: Some(builder.next_base_fee(&parent)),
        extra_data: extra.into(),
        parent_beacon_block_root: attrs["parentBeaconBlockRoot"]
            .as_str()
            .map(|s| s.parse())
            .transpose()
            .map_err(|e| format!("{e}"))?,
        ..Default::default()
    };
    let mut txs = Vec::new();
    for t in attrs["transactions"].as_array().ok_or("transactions missing")? {
        let raw = Bytes::from(
            hex::decode(t.as_str().unwrap_or_default().trim_start_matches("0x")).map_err(|e| e.to_string())?,
        );
        let tx = OpTxEnvelope::decode_2718_exact(&raw).map_err(|e| format!("tx: {e}"))?;
        let sender = match &tx {
            OpTxEnvelope::Deposit(d) => d.from,
            other => other.recover_signer().map_err(|e| format!("tx {}: {e}", other.tx_hash()))?,
        };
        debug_assert_eq!(raw.as_ref(), tx.encoded_2718().as_slice());
        txs.push((raw, sender));
    }
    let input = BlockInput { template, withdrawals: vec![], l1_origin: None };
    let executed = builder.execute_input(&state, &input, txs, vec![], &mut |_| {}).map_err(|e| e.to_string())?;
    let root = state.root_after(&executed.diff)?;
    let storage_root = if builder.needs_message_passer_root(input.template.timestamp) {
        Some(
            state
                .trie_account(opseq_executor::L2_TO_L1_MESSAGE_PASSER)?
                .map(|a| a.storage_root)
                .unwrap_or(EMPTY_ROOT_HASH),
        )
    } else {
        None
    };
    let (sealed, _) = builder.seal(executed, root, storage_root);
    if sealed.hash != expected {
        return Err(format!(
            "block hash {} is not the expected {expected} (state root {}, receipts root {}, gas used {})",
            sealed.hash, sealed.header.state_root, sealed.header.receipts_root, sealed.header.gas_used
        ));
    }
    Ok(())
}
