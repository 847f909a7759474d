//! Issue 7's proof-only trie test: the state root of an EEST block computed by a *forked* chain
//! store, which knows the pre-state only through proofs of the keys the block writes.
//!
//! For every single-block valid EEST test (Prague and Cancun) whose block deletes something (a
//! storage slot set to zero, or an account), the fixture's full `pre` state stands in for the
//! upstream node: it answers reads, and `eth_getProof`-style proofs made with alloy-trie's
//! `HashBuilder` + `ProofRetainer` for the requested keys only. The block's writes (its
//! `postState` against `pre`) go to `ChainStore::compute_roots` on the store forked from that
//! base; the root must be the block's `stateRoot`. Collapsed branches are resolved the way the
//! remote backend resolves them (a proof of a key found under the sibling's path).
use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::{HashBuilder, Nibbles, TrieAccount, proof::ProofRetainer};
use opseq_primitives::{AccountChange, AccountState, SealedBlock, StateDiff};
use opseq_store::{BaseState, Store};
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::Arc,
};

type Storage = BTreeMap<U256, U256>;

#[derive(Debug, Clone, PartialEq)]
struct Account {
    nonce: u64,
    balance: U256,
    code: Bytes,
    storage: Storage,
}

fn q(v: &Value) -> U256 {
    let s = v.as_str().unwrap_or("0x0");
    U256::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_default()
}

fn accounts_of(v: &Value) -> BTreeMap<Address, Account> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(a, x)| {
                    let storage = x["storage"]
                        .as_object()
                        .map(|s| s.iter().map(|(k, v)| (q(&Value::String(k.clone())), q(v))).collect())
                        .unwrap_or_default();
                    let code = alloy_primitives::hex::decode(x["code"].as_str().unwrap_or("0x")).unwrap_or_default();
                    (
                        a.parse().expect("address"),
                        Account { nonce: q(&x["nonce"]).to(), balance: q(&x["balance"]), code: code.into(), storage },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The fixture's pre-state as an upstream node: reads, and proofs of any keys.
#[derive(Debug)]
struct FixtureBase {
    root: B256,
    pre: BTreeMap<Address, Account>,
}

fn storage_root(s: &Storage) -> B256 {
    alloy_trie::root::storage_root_unhashed(s.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(*k), *v)))
}

fn code_hash(code: &Bytes) -> B256 {
    if code.is_empty() { KECCAK256_EMPTY } else { keccak256(code) }
}

/// Proof nodes for `targets` (hashed keys) in the trie of `leaves` (hashed key → RLP value).
fn proof(leaves: BTreeMap<B256, Vec<u8>>, targets: &[B256]) -> Vec<Bytes> {
    let retainer = ProofRetainer::new(targets.iter().map(|t| Nibbles::unpack(t)).collect());
    let mut hb = HashBuilder::default().with_proof_retainer(retainer);
    for (k, v) in &leaves {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    hb.root();
    hb.take_proof_nodes().into_nodes_sorted().into_iter().map(|(_, n)| n).collect()
}

impl BaseState for FixtureBase {
    fn state_root(&self) -> B256 {
        self.root
    }
    fn accounts(&self, addresses: &[Address]) -> Result<Vec<Option<AccountState>>, String> {
        Ok(addresses
            .iter()
            .map(|a| {
                self.pre.get(a).map(|x| AccountState {
                    nonce: x.nonce,
                    balance: x.balance,
                    code_hash: code_hash(&x.code),
                })
            })
            .collect())
    }
    fn storage(&self, slots: &[(Address, U256)]) -> Result<Vec<U256>, String> {
        Ok(slots
            .iter()
            .map(|(a, s)| self.pre.get(a).and_then(|x| x.storage.get(s)).copied().unwrap_or_default())
            .collect())
    }
    fn code(&self, hash: B256) -> Result<Option<Bytes>, String> {
        Ok(self.pre.values().find(|x| code_hash(&x.code) == hash).map(|x| x.code.clone()))
    }
    fn proofs(&self, keys: &[(Address, Vec<U256>)]) -> Result<Vec<Bytes>, String> {
        let leaves = self
            .pre
            .iter()
            .map(|(a, x)| {
                let mut v = Vec::new();
                TrieAccount {
                    nonce: x.nonce,
                    balance: x.balance,
                    storage_root: storage_root(&x.storage),
                    code_hash: code_hash(&x.code),
                }
                .encode(&mut v);
                (keccak256(a), v)
            })
            .collect();
        let mut out = proof(leaves, &keys.iter().map(|(a, _)| keccak256(a)).collect::<Vec<_>>());
        for (a, slots) in keys.iter().filter(|(_, s)| !s.is_empty()) {
            let Some(x) = self.pre.get(a) else { continue };
            let leaves = x
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| {
                    let mut e = Vec::new();
                    v.encode(&mut e);
                    (keccak256(B256::from(*k)), e)
                })
                .collect();
            out.extend(proof(leaves, &slots.iter().map(|s| keccak256(B256::from(*s))).collect::<Vec<_>>()));
        }
        Ok(out)
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, String> {
        Ok(None)
    }
}

/// The block's writes: every account whose post differs from its pre (with the slots that
/// differ, zeroed ones included), and every account gone.
fn diff_of(pre: &BTreeMap<Address, Account>, post: &BTreeMap<Address, Account>) -> StateDiff {
    let mut accounts = Vec::new();
    for (a, p) in post {
        let before = pre.get(a);
        if before == Some(p) {
            continue;
        }
        let old = before.map(|b| b.storage.clone()).unwrap_or_default();
        let keys: BTreeSet<U256> = old.keys().chain(p.storage.keys()).copied().collect();
        let storage = keys
            .into_iter()
            .filter(|k| old.get(k).copied().unwrap_or_default() != p.storage.get(k).copied().unwrap_or_default())
            .map(|k| (k, p.storage.get(&k).copied().unwrap_or_default()))
            .collect();
        let code = (before.map(|b| &b.code) != Some(&p.code)).then(|| p.code.clone());
        accounts.push(AccountChange {
            address: *a,
            info: Some(AccountState { nonce: p.nonce, balance: p.balance, code_hash: code_hash(&p.code) }),
            wipe_storage: false,
            storage,
            code,
        });
    }
    for a in pre.keys().filter(|a| !post.contains_key(*a)) {
        accounts.push(AccountChange { address: *a, info: None, wipe_storage: true, storage: vec![], code: None });
    }
    accounts.sort_by_key(|c| c.address);
    StateDiff { accounts }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
}

#[test]
fn forked_store_roots_from_proofs_of_the_touched_keys_equal_eest_block_roots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/eest");
    if !root.exists() {
        println!("skipped: {} not present (the fixtures live beside the repository)", root.display());
        return;
    }
    let mut paths = Vec::new();
    for set in ["prague", "cancun"] {
        files(&root.join(set), &mut paths);
    }
    let (mut checked, mut slot_deletions, mut account_deletions) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &paths {
        let json = opseq_conformance::read_json(path).expect("fixture reads");
        for (name, t) in json.as_object().into_iter().flatten() {
            let blocks = t["blocks"].as_array().cloned().unwrap_or_default();
            let post = &t["postState"];
            if blocks.len() != 1 || blocks[0].get("expectException").is_some() || !post.is_object() {
                continue;
            }
            let pre = accounts_of(&t["pre"]);
            let post = accounts_of(post);
            let diff = diff_of(&pre, &post);
            let deletes_slot = diff.accounts.iter().any(|c| c.storage.iter().any(|(_, v)| v.is_zero()));
            let deletes_account = diff.accounts.iter().any(|c| c.info.is_none());
            if !deletes_slot && !deletes_account {
                continue;
            }
            let rlp = alloy_primitives::hex::decode(t["genesisRLP"].as_str().unwrap_or_default()).expect("hex");
            let genesis = Block::<TxEnvelope>::decode(&mut rlp.as_slice()).expect("genesis").header;
            let want: B256 = blocks[0]["blockHeader"]["stateRoot"].as_str().expect("root").parse().expect("hash");
            let pinned = SealedBlock::header_only(genesis.clone());
            let store = Store::temporary(&[1]).expect("store");
            let chain = store.chain(1).expect("chain");
            chain.fork(Arc::new(FixtureBase { root: genesis.state_root, pre }), &pinned).expect("fork");
            match chain.compute_roots(genesis.state_root, &diff, &[]) {
                Ok((got, _)) if got == want => {}
                Ok((got, _)) => failures.push(format!("{name}: root {got}, the block's {want}")),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
            checked += 1;
            slot_deletions += usize::from(deletes_slot);
            account_deletions += usize::from(deletes_account);
        }
    }
    println!(
        "{checked} EEST blocks rebuilt from proofs: {slot_deletions} delete slots, {account_deletions} delete accounts; {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(slot_deletions >= 50 && account_deletions >= 5, "too few deletion cases found: {checked}");
}
