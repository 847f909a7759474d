//! Remote state (issue 7): `op-sequencer dev --fork.url` builds on anvil's state over JSON-RPC,
//! and the block it seals has the state root, receipts root and gas used that anvil itself
//! computes when it mines the same txs in the same order on the same parent.
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use opseq_e2e::*;
use serde_json::{Value, json};

const CHAIN: u64 = 31337;

fn signer(i: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&opseq_primitives::derived_dev_key(i)).expect("valid key")
}

fn token_transfer(to: Address, amount: U256) -> Bytes {
    let mut data = alloy_primitives::hex::decode("a9059cbb").expect("hex");
    data.extend_from_slice(B256::left_padding_from(to.as_slice()).as_slice());
    data.extend_from_slice(&amount.to_be_bytes::<32>());
    Bytes::from(data)
}

/// anvil with a state worth forking: funded senders and a token whose holders' balances live
/// in storage (slot = holder address).
///
/// No tx touches an empty or missing account: anvil does not apply EIP-161 (its in-memory
/// database keeps a touched empty account, and a zero-value call creates one; `eth_getProof`
/// after such a block proves it), while we delete them as geth does, so the roots would differ
/// by design. Account deletion is checked against EEST's roots instead (`opseq-store`).
struct Upstream {
    anvil: Anvil,
    token: Address,
}

fn upstream() -> eyre::Result<Upstream> {
    // Prague: our L1 rules; FIFO: anvil mines txs in the order they arrive, as we include them.
    let anvil = Anvil::start(&["--hardfork", "prague", "--order", "fifo", "--chain-id", &CHAIN.to_string()])?;
    let deployer: PrivateKeySigner = KEY0.parse()?;
    let deploy = sign_eip1559(
        &deployer,
        CHAIN,
        0,
        TxKind::Create,
        U256::ZERO,
        Bytes::from(alloy_primitives::hex::decode(TOKEN_INIT)?),
        200_000,
        100_000_000_000,
    )?;
    anvil.rpc("eth_sendRawTransaction", json!([deploy]))?;
    let token = deployer.address().create(0);
    for i in 0..40 {
        anvil.rpc("anvil_setBalance", json!([signer(i).address(), "0x3635c9adc5dea00000"]))?;
    }
    // Holders 0..200 hold 1000 + i tokens (senders 0..40 among them).
    for i in 0..200u64 {
        let slot = B256::left_padding_from(signer(i).address().as_slice());
        anvil.rpc("anvil_setStorageAt", json!([token, slot, B256::from(U256::from(1000 + i))]))?;
    }
    anvil.rpc("evm_mine", json!([]))?;
    anvil.rpc("evm_setAutomine", json!([false]))?;
    Ok(Upstream { anvil, token })
}

const FEE: u128 = 100_000_000_000;

/// Block 1, no slot cleared: ETH transfers to fresh accounts, token transfers into fresh slots
/// and into a held one, a sender with two txs.
fn first_block(up: &Upstream) -> eyre::Result<Vec<String>> {
    let mut out = Vec::new();
    for i in 20..26u64 {
        let to = Address::left_padding_from(&(0xf000 + i).to_be_bytes());
        out.push(sign_eip1559(
            &signer(i),
            CHAIN,
            0,
            TxKind::Call(to),
            U256::from(1_000 + i),
            Bytes::new(),
            21_000,
            FEE,
        )?);
    }
    for i in 6..12u64 {
        let to = if i < 9 { signer(11).address() } else { Address::left_padding_from(&(0xc000 + i).to_be_bytes()) };
        let part = token_transfer(to, U256::from(7));
        out.push(sign_eip1559(&signer(i), CHAIN, 0, TxKind::Call(up.token), U256::ZERO, part, 100_000, FEE)?);
    }
    let to = TxKind::Call(signer(20).address());
    out.push(sign_eip1559(&signer(30), CHAIN, 0, to, U256::from(5), Bytes::new(), 21_000, FEE)?);
    out.push(sign_eip1559(&signer(30), CHAIN, 1, to, U256::from(6), Bytes::new(), 21_000, FEE)?);
    Ok(out)
}

/// Block 2: holders 0..6 send their whole balance to fresh accounts (six slots cleared, some
/// collapsing a branch onto a sibling no proof of the touched keys shows).
fn second_block(up: &Upstream) -> eyre::Result<Vec<String>> {
    (0..6u64)
        .map(|i| {
            let to = Address::left_padding_from(&(0xb000 + i).to_be_bytes());
            let all = token_transfer(to, U256::from(1000 + i));
            sign_eip1559(&signer(i), CHAIN, 0, TxKind::Call(up.token), U256::ZERO, all, 100_000, FEE)
        })
        .collect()
}

/// The token's storage after both blocks (slot -> value), as the test built it.
fn final_storage() -> serde_json::Map<String, Value> {
    let mut m = std::collections::BTreeMap::new();
    for i in 0..200u64 {
        m.insert(U256::from_be_slice(signer(i).address().as_slice()), U256::from(1000 + i));
    }
    for i in 6..9u64 {
        *m.get_mut(&U256::from_be_slice(signer(i).address().as_slice())).unwrap() -= U256::from(7);
    }
    *m.get_mut(&U256::from_be_slice(signer(11).address().as_slice())).unwrap() += U256::from(21);
    for i in 9..12u64 {
        *m.get_mut(&U256::from_be_slice(signer(i).address().as_slice())).unwrap() -= U256::from(7);
        m.insert(
            U256::from_be_slice(Address::left_padding_from(&(0xc000 + i).to_be_bytes()).as_slice()),
            U256::from(7),
        );
    }
    for i in 0..6u64 {
        m.insert(U256::from_be_slice(signer(i).address().as_slice()), U256::ZERO);
        m.insert(
            U256::from_be_slice(Address::left_padding_from(&(0xb000 + i).to_be_bytes()).as_slice()),
            U256::from(1000 + i),
        );
    }
    m.into_iter().map(|(k, v)| (format!("{k:#x}"), json!(format!("{v:#x}")))).collect()
}

fn field<'a>(b: &'a Value, k: &str) -> &'a str {
    b[k].as_str().unwrap_or_default()
}

/// Builds `raws` as one block on both: anvil mines them (FIFO, automine off), then ours takes
/// exactly these txs in this order through the test API, with anvil's header inputs (timestamp,
/// prevRandao, beacon root, fee recipient, extra data, gas limit). Returns (ours, anvil's).
fn both(node: &Proc, up: &Upstream, raws: &[String]) -> eyre::Result<(Value, Value)> {
    let parent = up.anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))?;
    for raw in raws {
        up.anvil.rpc("eth_sendRawTransaction", json!([raw]))?;
    }
    up.anvil.rpc("evm_mine", json!([hex_u64(&parent["timestamp"])? + 12]))?;
    let theirs = up.anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))?;
    let open = json!({
        "timestamp": theirs["timestamp"],
        "prevRandao": theirs["mixHash"],
        "parentBeaconBlockRoot": theirs["parentBeaconBlockRoot"],
        "feeRecipient": theirs["miner"],
        "extraData": theirs["extraData"],
        "gasLimit": theirs["gasLimit"],
    });
    let job = node.control(CHAIN, "test_open", json!([open]))?["jobId"].clone();
    for raw in raws {
        let r = node.control(CHAIN, "test_includeRaw", json!([job, raw]))?;
        assert_eq!(r["status"], "0x1", "{r}");
    }
    let sealed = node.control(CHAIN, "test_seal", json!([job]))?;
    let ours = node.rpc(CHAIN, "eth_getBlockByNumber", json!(["latest", false]))?;
    assert_eq!(ours["hash"], sealed["block"]["hash"], "{sealed}");
    assert_eq!(theirs["transactions"], ours["transactions"], "same txs in the same order");
    for f in ["parentHash", "baseFeePerGas", "gasUsed", "receiptsRoot", "logsBloom", "transactionsRoot"] {
        assert_eq!(field(&theirs, f), field(&ours, f), "{f}");
    }
    Ok((ours, theirs))
}

#[test]
fn blocks_on_anvils_state_have_the_roots_of_the_same_blocks_mined_by_anvil() -> eyre::Result<()> {
    let up = upstream()?;
    let dir = tempfile::tempdir()?;
    let node = dev(&dir.path().join("fork"), &["--fork.url", &up.anvil.url(), "--no-auto"])?;
    let fork_head = up.anvil.rpc("eth_blockNumber", json!([]))?;
    assert_eq!(node.rpc(CHAIN, "eth_blockNumber", json!([]))?, fork_head, "we continue from anvil's head");

    // Block 1: the same block, hash for hash (state, receipts and tx roots, every header field).
    let (ours, theirs) = both(&node, &up, &first_block(&up)?)?;
    assert_eq!(field(&theirs, "stateRoot"), field(&ours, "stateRoot"), "block 1 stateRoot");
    assert_eq!(field(&theirs, "hash"), field(&ours, "hash"), "block 1 hash");

    // Block 2 clears slots. anvil keeps a zeroed slot in its storage trie (as RLP(0)), so its
    // root there is not Ethereum's: the oracle is anvil's root with the token's leaf corrected
    // by ethereum's Python trie, from the token's full final storage.
    let (ours, theirs) = both(&node, &up, &second_block(&up)?)?;
    let storage = dir.path().join("storage.json");
    std::fs::write(&storage, Value::Object(final_storage()).to_string())?;
    let out = python(
        "corrected_root.py",
        &["--anvil", &up.anvil.url(), "--account", &up.token.to_string(), "--storage", storage.to_str().unwrap()],
    )?;
    let oracle: Value = serde_json::from_str(out.lines().last().unwrap_or_default())?;
    assert_ne!(oracle["storageRoot"], oracle["anvilStorageHash"], "anvil still keeps zeroed slots: {oracle}");
    assert_eq!(field(&ours, "stateRoot"), field(&oracle, "stateRoot"), "block 2 stateRoot vs the spec's ({oracle})");
    assert_ne!(field(&theirs, "stateRoot"), field(&ours, "stateRoot"));

    // A cleared slot reads as zero (not as the fork block's value).
    let cleared = B256::left_padding_from(signer(0).address().as_slice());
    assert_eq!(
        node.rpc(CHAIN, "eth_getStorageAt", json!([up.token, cleared, "latest"]))?,
        json!(format!("0x{}", "0".repeat(64)))
    );
    Ok(())
}
