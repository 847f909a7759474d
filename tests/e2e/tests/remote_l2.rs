//! Forking an OP Stack L2 (issue 7): `op-sequencer dev --fork.url <L2> --fork.l2` builds OP
//! blocks on another node's L2 state, with its L1 origins read from an L1 node
//! (`--fork.l1-url`) or made by the local L1 mock.
//!
//! The upstream is another `op-sequencer dev` (its L2 901 and L1 mock 900 over JSON-RPC): no
//! op-geth can run here, and ours answers what a fork reads (`eth_getProof`, `eth_getStorageAt`,
//! blocks with their deposits). The oracle of the first test is that upstream itself: the same
//! block (parent, timestamp, L1 origin, txs) built by it and by the fork must be the same block,
//! hash for hash — state root, receipts root, withdrawals root, the L1-info deposit and all.
use opseq_e2e::*;
use serde_json::{Value, json};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";
const GWEI: u128 = 1_000_000_000;
const L1_BLOCK: &str = "0x4200000000000000000000000000000000000015";

/// Seals one block on `chain` of `node` with `raws`, opened with `open`; returns the block.
fn build(node: &Proc, chain: u64, open: Value, raws: &[String]) -> eyre::Result<Value> {
    let job = node.control(chain, "test_open", json!([open]))?["jobId"].clone();
    for raw in raws {
        let r = node.control(chain, "test_includeRaw", json!([job, raw]))?;
        assert_eq!(r["status"], "0x1", "{r}");
    }
    Ok(node.control(chain, "test_seal", json!([job]))?["block"].clone())
}

/// The sequence number in `block`'s L1-info deposit (calldata bytes 12..20).
fn sequence_number(node: &Proc, block: &Value) -> eyre::Result<u64> {
    let full = node.rpc(901, "eth_getBlockByNumber", json!([block["number"], true]))?;
    let input = full["transactions"][0]["input"].as_str().unwrap_or_default();
    eyre::ensure!(input.len() >= 42, "no L1-info calldata: {input}");
    Ok(u64::from_str_radix(&input[2 + 24..2 + 40], 16)?)
}

/// The upstream: L2 901 two blocks ahead of its genesis with a few transfers, and an L1 block
/// (timestamp genesis + 6) the next L2 block can take as a new origin.
fn upstream(dir: &std::path::Path) -> eyre::Result<Proc> {
    let up = dev(&dir.join("upstream"), &["--no-auto"])?;
    build(&up, 901, json!({}), &[sign_transfer(KEY0, 901, 0, DEAD, 1, 21_000, 10 * GWEI)?])?;
    build(&up, 901, json!({}), &[sign_transfer(KEY1, 901, 0, DEAD, 2, 21_000, 10 * GWEI)?])?;
    build(&up, 900, json!({}), &[])?;
    Ok(up)
}

#[test]
fn a_forked_l2_reading_its_l1_from_a_node_builds_the_upstreams_own_blocks() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let up = upstream(dir.path())?;
    let fork = dev(
        &dir.path().join("fork"),
        &["--fork.url", &up.url(901), "--fork.l2", "--fork.l1-url", &up.url(900), "--no-auto"],
    )?;
    assert_eq!(fork.rpc(901, "eth_chainId", json!([]))?, "0x385");
    assert_eq!(fork.head(901)?, up.head(901)?, "the fork continues from the upstream's head");

    // Block 3 opens a new epoch on L1 block 1 (both choose it by the same rule); block 4 stays
    // in it. Both nodes build both blocks from the same txs; they must be the same blocks. The
    // fork builds first: the upstream serves state at its head only, the fork block's.
    let blocks = [
        vec![
            sign_transfer(KEY0, 901, 1, DEAD, 3, 21_000, 10 * GWEI)?,
            sign_transfer(KEY1, 901, 1, DEAD, 4, 21_000, 10 * GWEI)?,
        ],
        vec![sign_transfer(KEY0, 901, 2, DEAD, 5, 21_000, 10 * GWEI)?],
    ];
    let ours: Vec<Value> = blocks.iter().map(|raws| build(&fork, 901, json!({}), raws)).collect::<eyre::Result<_>>()?;
    for (i, raws) in blocks.iter().enumerate() {
        let theirs = build(&up, 901, json!({}), raws)?;
        for f in ["stateRoot", "receiptsRoot", "withdrawalsRoot", "transactionsRoot", "baseFeePerGas", "gasUsed"] {
            assert_eq!(ours[i][f], theirs[f], "block {} {f}", 3 + i);
        }
        assert_eq!(ours[i]["hash"], theirs["hash"], "block {}: the same block", 3 + i);
    }
    // The L1-info deposit of block 3 carried L1 block 1, which the fork read from the upstream's L1.
    let l1_block_1 = up.rpc(900, "eth_getBlockByNumber", json!(["0x1", false]))?;
    let slot2 = fork.rpc(901, "eth_getStorageAt", json!([L1_BLOCK, "0x2", "latest"]))?;
    assert_eq!(slot2, l1_block_1["hash"], "L1Block.hash is the origin's");
    // The fork's node serves no L1 of its own: the L1 is the upstream's.
    let (code, _) = fork.control_err(900, "test_open", json!([]))?;
    assert_ne!(code, 0);
    Ok(())
}

#[test]
fn a_forked_l2_on_the_l1_mock_opens_an_epoch_on_the_mock() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let up = upstream(dir.path())?;
    let fork = dev(&dir.path().join("fork"), &["--fork.url", &up.url(901), "--fork.l2", "--no-auto"])?;
    let fork_head = up.head(901)?;
    assert_eq!(fork.head(901)?, fork_head);
    assert_eq!(fork.head(900)?, 0, "a fresh L1 mock");
    let mock_genesis = fork.rpc(900, "eth_getBlockByNumber", json!(["0x0", false]))?;
    let upstream_block = up.rpc(901, "eth_getBlockByNumber", json!([format!("{fork_head:#x}"), false]))?;
    assert_eq!(mock_genesis["timestamp"], upstream_block["timestamp"], "the mock starts at the fork block's time");

    let raw = sign_transfer(KEY0, 901, 1, DEAD, 7, 21_000, 10 * GWEI)?;
    let block = build(&fork, 901, json!({}), &[raw])?;
    assert_eq!(hex_u64(&block["number"])?, fork_head + 1);
    // A new epoch on the mock's genesis: the L1-info deposit (sequence number 0) and L1Block's
    // storage say so.
    let slot2 = fork.rpc(901, "eth_getStorageAt", json!([L1_BLOCK, "0x2", "latest"]))?;
    assert_eq!(slot2, mock_genesis["hash"], "L1Block.hash is the mock's genesis");
    assert_eq!(sequence_number(&fork, &block)?, 0, "the first block after the fork opens an epoch");
    // The transfer went through on the upstream's state (KEY0's nonce and balance from there),
    // and the fork's proofs verify against its sealed root with ethereum's Python trie.
    assert_eq!(fork.rpc(901, "eth_getTransactionCount", json!([ADDR0, "latest"]))?, "0x2");
    let out = python(
        "verify_proof.py",
        &["--rpc", &fork.url(901), "--account", ADDR0, "--account", DEAD, "--account", L1_BLOCK, "--slot", "0x2"],
    )?;
    assert!(out.contains("6 proofs verified"), "{out}");
    // The next block stays in the epoch (sequence number 1), on its own L1 origin.
    let next = build(&fork, 901, json!({}), &[])?;
    assert_eq!(sequence_number(&fork, &next)?, 1, "the next block stays in the epoch");
    Ok(())
}

const ADDR0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
