//! The real OP Stack around op-sequencer (issue 16): op-geth imports our blocks through op-node's
//! sequencer API, op-batcher posts them to the L1 mock, and a second op-node + op-geth pair that
//! sees nothing but L1 derives the same chain. The programs are optimism v1.19.0's op-node and
//! op-batcher and op-geth v1.101702.3-rc.2, built from the Go module proxy by
//! `scripts/install-test-peers.sh`; without Go the tests say so and skip.
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use opseq_e2e::{
    KEY0, KEY1, Proc, compile_contracts, deposits,
    deposits::{Deposit, DepositCall},
    dev, free_port, hex_u64,
    opstack::{KonaNode, OpBatcher, OpGeth, OpNode, go_peer, wait_for},
    sign_eip1559, sign_transfer,
};
use serde_json::json;
use std::{path::Path, time::Duration};

const L2: u64 = 901;
const GWEI: u128 = 1_000_000_000;
/// Dev account 2 (anvil's third key).
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// Skips (printing why) unless the Go peers are installed.
fn peers_or_skip() -> bool {
    for name in ["geth", "op-node", "op-batcher"] {
        if let Err(why) = go_peer(name) {
            eprintln!("SKIP: {why}");
            return false;
        }
    }
    true
}

fn hash_at(node: &Proc, chain: u64, n: u64) -> eyre::Result<String> {
    let b = node.rpc(chain, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))?;
    Ok(b["hash"].as_str().unwrap_or_default().to_string())
}

fn nonce(node: &Proc, chain: u64, key: &str) -> eyre::Result<u64> {
    let signer: alloy_signer_local::PrivateKeySigner = key.parse()?;
    opseq_e2e::hex_u64(&node.rpc(chain, "eth_getTransactionCount", json!([signer.address(), "pending"]))?)
}

fn send(node: &Proc, chain: u64, raw: &str) -> eyre::Result<()> {
    node.rpc(chain, "eth_sendRawTransaction", json!([raw]))?;
    Ok(())
}

/// Who the ETH deposit credits on L2 (a fresh address), and who the token deposit pays.
const DEPOSIT_RECIPIENT: Address = Address::repeat_byte(0xd1);
const TOKEN_RECIPIENT: Address = Address::repeat_byte(0xd2);
const ETHER: u128 = 1_000_000_000_000_000_000;

/// What `build_chain` made: the head, and the two L1 deposits (1 ETH minted to
/// `DEPOSIT_RECIPIENT`; a call of the token's `transfer` to `TOKEN_RECIPIENT`).
struct Built {
    head: u64,
    eth_deposit: Deposit,
    call_deposit: Deposit,
}

/// An L2 built for the OP tools: transfers in most blocks, a contract deployed and called, L1
/// origins advancing with the L1 mock (which must be mining), two user deposits made on L1 with
/// `cast send` to the portal (ETH, and a call of the contract), and one reorg made with the test
/// API.
fn build_chain(node: &Proc, chain: u64, blocks: u64) -> eyre::Result<Built> {
    let key0: alloy_signer_local::PrivateKeySigner = KEY0.parse()?;
    let dead = "0x000000000000000000000000000000000000dEaD";
    let mut token = None;
    let mut reorged = false;
    let (mut eth_deposit, mut call_deposit) = (None, None);
    while node.head(chain)? < blocks {
        let head = node.head(chain)?;
        if head == 20 && eth_deposit.is_none() {
            let ether = U256::from(ETHER);
            let call = DepositCall { to: DEPOSIT_RECIPIENT, mint: ether, value: ether, gas: 100_000, data: &[] };
            eth_deposit = Some(deposits::deposit(&node.url(900), chain, KEY0, &call)?);
        }
        if let Some(t) = token.filter(|_| head == 30 && call_deposit.is_none()) {
            let data = transfer_call(TOKEN_RECIPIENT, 5)?;
            let call = DepositCall { to: t, mint: U256::ZERO, value: U256::ZERO, gas: 200_000, data: &data };
            call_deposit = Some(deposits::deposit(&node.url(900), chain, KEY0, &call)?);
        }
        match head % 5 {
            0 | 1 | 3 => {
                send(node, chain, &sign_transfer(KEY0, chain, nonce(node, chain, KEY0)?, dead, 1, 21_000, 10 * GWEI)?)?
            }
            2 => {
                let n = nonce(node, chain, KEY1)?;
                send(node, chain, &sign_transfer(KEY1, chain, n, dead, 7, 21_000, 10 * GWEI)?)?;
                send(node, chain, &sign_transfer(KEY1, chain, n + 1, dead, 8, 21_000, 10 * GWEI)?)?;
            }
            _ => {}
        }
        if head == 10 {
            // A contract: the token of opseq_e2e (ERC20-like transfer, storage and a log).
            let n = nonce(node, chain, KEY0)?;
            let init = Bytes::from(hex::decode(opseq_e2e::TOKEN_INIT)?);
            send(node, chain, &sign_eip1559(&key0, chain, n, TxKind::Create, U256::ZERO, init, 200_000, 10 * GWEI)?)?;
            token = Some(key0.address().create(n));
        }
        if let Some(t) = token.filter(|_| head > 11 && head % 7 == 0) {
            let input = transfer_call(Address::repeat_byte(0x42), head)?;
            let n = nonce(node, chain, KEY0)?;
            send(
                node,
                chain,
                &sign_eip1559(&key0, chain, n, TxKind::Call(t), U256::ZERO, input.into(), 100_000, 10 * GWEI)?,
            )?;
        }
        node.rpc(chain, "evm_mine", json!([]))?;
        if head == 60 && !reorged {
            // A reorg through the test API: a sibling of the head's parent's child, with a tx of
            // its own, replaces the last two blocks.
            reorged = true;
            let parent = hash_at(node, chain, head - 1)?;
            let job =
                node.control(chain, "test_open", json!([{"parent": parent}]))?["jobId"].as_str().unwrap().to_string();
            // From dev account 2, which sends nothing else: nonce 0 in any state.
            node.control(
                chain,
                "test_includeRaw",
                json!([job, sign_transfer(KEY2, chain, 0, dead, 9, 21_000, 10 * GWEI)?]),
            )?;
            let sealed = node.control(chain, "test_seal", json!([job]))?;
            eyre::ensure!(
                !sealed["reorgedOut"].as_array().map(Vec::is_empty).unwrap_or(true),
                "the sibling reorged nothing out: {sealed}"
            );
        }
    }
    Ok(Built {
        head: node.head(chain)?,
        eth_deposit: eth_deposit.ok_or_else(|| eyre::eyre!("no ETH deposit made"))?,
        call_deposit: call_deposit.ok_or_else(|| eyre::eyre!("no contract-call deposit made"))?,
    })
}

/// The token's `transfer(to, amount)` calldata.
fn transfer_call(to: Address, amount: u64) -> eyre::Result<Vec<u8>> {
    let mut input = hex::decode("a9059cbb")?;
    input.extend_from_slice(&[0u8; 12]);
    input.extend_from_slice(to.as_slice());
    input.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    Ok(input)
}

/// Both deposits sit in `url`'s chain as the OP specs place them: right after the L1-info
/// deposit of the first block (sequence number 0) of the epoch whose origin holds them; the ETH
/// one minted 1 ETH and paid it to the recipient, the call one ran the token's `transfer` (one log).
/// Returns the blocks they landed in.
fn deposits_landed(url: &str, built: &Built, who: &str) -> eyre::Result<(u64, u64)> {
    let mut at = Vec::new();
    for d in [&built.eth_deposit, &built.call_deposit] {
        let landed = deposits::find(url, d.source_hash, built.head)?.ok_or_else(|| {
            eyre::eyre!("{who}: the deposit of L1 block {} is not in blocks 0..={}", d.l1_block, built.head)
        })?;
        eyre::ensure!(
            landed.index == 1 && landed.sequence_number == 0 && landed.l1_origin == d.l1_block,
            "{who}: deposit of L1 block {} at index {} of L2 block {} (sequence number {}, origin {})",
            d.l1_block,
            landed.index,
            landed.block,
            landed.sequence_number,
            landed.l1_origin
        );
        let receipt = opseq_e2e::opstack::call(url, "eth_getTransactionReceipt", json!([landed.tx["hash"]]))?;
        eyre::ensure!(receipt["status"] == "0x1", "{who}: deposit failed on L2: {receipt}");
        at.push((landed, receipt));
    }
    let (eth, call) = (&at[0], &at[1]);
    eyre::ensure!(opseq_e2e::hex_u128(&eth.0.tx["mint"])? == ETHER, "{who}: mint {}", eth.0.tx["mint"]);
    let balance = deposits::balance(url, DEPOSIT_RECIPIENT)?;
    // The mint credits the depositor (dev account 0, not aliased: an EOA), whose L2 account then
    // sends the value: the fresh recipient holds exactly it.
    eyre::ensure!(balance == U256::from(ETHER), "{who}: the recipient has {balance} wei, 1 ETH expected");
    let logs = call.1["logs"].as_array().map(Vec::len).unwrap_or_default();
    eyre::ensure!(logs == 1, "{who}: the contract-call deposit logged {logs} events, the token's Transfer expected");
    Ok((eth.0.block, call.0.block))
}

/// The last lines our publisher logged (what a failed import needs).
fn publisher_log(node: &Proc) -> String {
    let text = std::fs::read_to_string(&node.log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("publisher")).collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// An `op-sequencer dev` (no auto mode) in `dir/seq`, exporting into `dir/export` and publishing
/// each of its `chains` into an op-node whose sequencer API gets a fresh port.
struct Sequencer {
    node: Proc,
    exported: std::path::PathBuf,
    jwt: std::path::PathBuf,
    ports: Vec<(u64, u16)>,
}

/// Starts a [`Sequencer`] with `extra` flags.
fn sequencer(dir: &Path, chains: &[u64], extra: &[&str]) -> eyre::Result<Sequencer> {
    let exported = dir.join("export");
    let ports: Vec<(u64, u16)> = chains.iter().map(|c| (*c, free_port())).collect();
    let publish = ports.iter().map(|(c, p)| format!("{c}=http://127.0.0.1:{p}")).collect::<Vec<_>>().join(",");
    let mut args = vec!["--no-auto", "--export.dir", exported.to_str().unwrap(), "--publish.op-node", &publish];
    args.extend_from_slice(extra);
    let node = dev(&dir.join("seq"), &args)?;
    Ok(Sequencer { node, exported, jwt: dir.join("seq/jwt.hex"), ports })
}

impl Sequencer {
    /// op-geth + op-node importing our `chain` (one it publishes), reading the L1 `l1`; files
    /// under `dir`.
    fn importer(&self, dir: &Path, chain: u64, l1: u64) -> eyre::Result<(OpGeth, OpNode)> {
        let port = self.ports.iter().find(|(c, _)| *c == chain).map(|(_, p)| *p);
        let port = port.ok_or_else(|| eyre::eyre!("chain {chain} is not published"))?;
        importer(dir, &self.node, &self.exported, chain, &self.node.url(l1), &self.jwt, port)
    }
}

/// An importing pair for the L2 `chain` of the export in `exported`: op-geth from its genesis
/// (checked to be ours), and an op-node with the sequencer API on `port` in front of it, reading
/// the L1 at `l1`. Files under `dir/geth`, `dir/node`.
fn importer(
    dir: &Path,
    node: &Proc,
    exported: &Path,
    chain: u64,
    l1: &str,
    jwt: &Path,
    port: u16,
) -> eyre::Result<(OpGeth, OpNode)> {
    let sub = exported.join(chain.to_string());
    let geth = OpGeth::start(&dir.join("geth"), &sub.join("genesis.json"), jwt)?;
    eyre::ensure!(geth.hash_at(0)? == Some(hash_at(node, chain, 0)?), "op-geth's genesis of {chain} is not ours");
    let rollup = sub.join("rollup.json");
    let op_node = OpNode::start(
        &dir.join("node"),
        port,
        l1,
        &geth.auth,
        jwt,
        &rollup,
        &exported.join("l1-chain-config.json"),
        true,
    )?;
    Ok((geth, op_node))
}

/// Waits until `op_node`'s unsafe head is our head of `chain`, then checks op-geth's chain is ours
/// at every height; returns the head. A failure shows op-node's and our publisher's logs.
fn imported(node: &Proc, chain: u64, op_node: &OpNode, geth: &OpGeth, what: &str) -> eyre::Result<u64> {
    let head = node.head(chain)?;
    let ours = hash_at(node, chain, head)?;
    wait_for(Duration::from_secs(120), what, || {
        let (n, h) = op_node.head("unsafe_l2")?;
        Ok((n == head && h == ours).then_some(()))
    })
    .map_err(|e| {
        e.wrap_err(format!(
            "chain {chain}'s op-node:\n{}\n\nour publisher:\n{}",
            op_node.peer.tail(),
            publisher_log(node)
        ))
    })?;
    same_chain(node, chain, geth, head)?;
    Ok(head)
}

/// Blocks `from..=to`: every receipt op-geth gives equals ours, key by key (the OP fields too:
/// `l1Fee`, `l1GasUsed`, the scalars, Jovian's DA footprint). Returns how many user-tx receipts
/// (those with the OP fields) were compared.
fn same_receipts(node: &Proc, chain: u64, geth: &OpGeth, from: u64, to: u64) -> eyre::Result<usize> {
    let mut n = 0;
    for b in from..=to {
        let theirs = opseq_e2e::opstack::call(&geth.http, "eth_getBlockReceipts", json!([format!("{b:#x}")]))?;
        let ours = node.rpc(chain, "eth_getBlockReceipts", json!([format!("{b:#x}")]))?;
        let (theirs, ours) =
            (theirs.as_array().cloned().unwrap_or_default(), ours.as_array().cloned().unwrap_or_default());
        eyre::ensure!(
            theirs.len() == ours.len(),
            "block {b}: {} receipts at op-geth, {} at ours",
            theirs.len(),
            ours.len()
        );
        for (t, o) in theirs.iter().zip(&ours) {
            let keys: std::collections::BTreeSet<&String> = t
                .as_object()
                .into_iter()
                .flatten()
                .chain(o.as_object().into_iter().flatten())
                .map(|(k, _)| k)
                .collect();
            for k in keys {
                eyre::ensure!(
                    t.get(k) == o.get(k),
                    "block {b} tx {}: {k} is {:?} at op-geth, {:?} at ours",
                    t["transactionIndex"],
                    t.get(k),
                    o.get(k)
                );
            }
            // Count the user-tx receipts, which carry the OP fields (op-geth's, equal to ours).
            n += usize::from(t.get("l1Fee").is_some());
        }
    }
    Ok(n)
}

/// Blocks `from..=to` with full transactions: op-geth's JSON equals ours key by key (header
/// fields, each tx's fields, deposit fields included). Returns the first difference.
fn same_block_json(node: &Proc, chain: u64, geth: &OpGeth, from: u64, to: u64) -> eyre::Result<()> {
    fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let (va, vb) =
                        (x.get(k).unwrap_or(&serde_json::Value::Null), y.get(k).unwrap_or(&serde_json::Value::Null));
                    diff(&format!("{path}.{k}"), va, vb, out);
                }
            }
            (serde_json::Value::Array(x), serde_json::Value::Array(y)) if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    diff(&format!("{path}[{i}]"), va, vb, out);
                }
            }
            _ if a != b => out.push(format!("{path}: op-geth {a}, ours {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for n in from..=to {
        let theirs = opseq_e2e::opstack::call(&geth.http, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]))?;
        let ours = node.rpc(chain, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]))?;
        diff(&format!("block {n}"), &theirs, &ours, &mut out);
    }
    eyre::ensure!(out.is_empty(), "{} differences:\n{}", out.len(), out[..out.len().min(30)].join("\n"));
    Ok(())
}

/// An op-sequencer on our genesis (`genesis_time`, `hardfork`) that only serves its engine API
/// (it never sequences): a verifier's execution client. Returns it and its engine port.
fn engine_only(dir: &Path, genesis_time: &str, hardfork: &str) -> eyre::Result<(Proc, u16)> {
    let port = free_port();
    let node = dev(
        dir,
        &[
            "--genesis.timestamp",
            genesis_time,
            "--l2.hardfork",
            hardfork,
            "--no-auto",
            "--authrpc.port",
            &port.to_string(),
        ],
    )?;
    Ok((node, port))
}

/// Waits until `safe_head` (a verifier's safe head) reaches our head `head` (hash `ours`); a
/// different block at our head fails at once.
fn derives(
    who: &str,
    timeout: Duration,
    head: u64,
    ours: &str,
    safe_head: impl Fn() -> eyre::Result<(u64, String)>,
) -> eyre::Result<()> {
    wait_for(timeout, &format!("{who}'s safe head to reach ours"), || {
        let (n, h) = safe_head()?;
        eyre::ensure!(n != head || h == ours, "{who} derived {h} at {n}, ours is {ours}");
        Ok((n >= head).then_some(()))
    })
}

/// Every height 0..=`head`: `other`'s L2 block is ours.
fn same_hashes(node: &Proc, other: &Proc, head: u64, what: &str) -> eyre::Result<()> {
    for n in 0..=head {
        eyre::ensure!(hash_at(other, L2, n)? == hash_at(node, L2, n)?, "block {n} {what} differs from ours");
    }
    Ok(())
}

/// op-geth's block `n` (header fields).
fn geth_block(geth: &OpGeth, n: u64) -> eyre::Result<serde_json::Value> {
    opseq_e2e::opstack::call(&geth.http, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
}

/// Every height from 0 to `head`: the peer's hash equals ours.
fn same_chain(node: &Proc, chain: u64, geth: &OpGeth, head: u64) -> eyre::Result<()> {
    for n in 0..=head {
        let ours = hash_at(node, chain, n)?;
        let theirs = geth.hash_at(n)?.unwrap_or_default();
        eyre::ensure!(ours == theirs, "block {n}: ours {ours}, op-geth's {theirs}");
    }
    Ok(())
}

fn export(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let sub = dir.join(L2.to_string());
    (sub.join("genesis.json"), sub.join("rollup.json"), dir.join("l1-chain-config.json"))
}

#[test]
fn op_geth_imports_our_jovian_blocks_through_op_node_and_verifiers_derive_them_from_l1() -> eyre::Result<()> {
    the_stack("jovian")
}

/// kona-node 1.0.0-rc.1 predates Jovian: it derives an Isthmus chain (with op-node's verifiers
/// beside it, on the same L1).
#[test]
fn on_an_isthmus_chain_kona_node_derives_what_op_node_derives() -> eyre::Result<()> {
    the_stack("isthmus")
}

/// The whole stack on an L2 following `hardfork`: op-geth importing 200 of our blocks through
/// op-node, op-batcher posting them, op-node + op-geth and op-node over another op-sequencer
/// deriving them from L1, and (Isthmus) kona-node over a third op-sequencer.
fn the_stack(hardfork: &str) -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir()?;
    // One genesis time for the sequencer and the op-sequencer that serves a verifier as its EL.
    let genesis_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs().to_string();
    let seq = sequencer(dir.path(), &[L2], &["--genesis.timestamp", &genesis_time, "--l2.hardfork", hardfork])?;
    let (node, exported, jwt) = (&seq.node, &seq.exported, &seq.jwt);
    let l1 = node.url(900);
    let (genesis, rollup, l1_config) = export(exported);

    // op-geth from our genesis file has our genesis block.
    let (geth, op_node) = seq.importer(&dir.path().join("a"), L2, 900)?;
    let boot = started.elapsed();

    // The L1 mock advances every second; the L2 is built as fast as the test sends.
    node.control(900, "test_auto", json!([true, 1000]))?;
    let t = std::time::Instant::now();
    let built = build_chain(node, L2, 200)?;
    let head = imported(node, L2, &op_node, &geth, "op-node's unsafe head to reach ours")?;
    assert_eq!(head, built.head);
    let ours = hash_at(node, L2, head)?;
    let import_time = t.elapsed();
    // The fork's header rules, as op-geth agreed (equal hashes): Jovian's version-1 extraData
    // and its DA footprint as blobGasUsed (non-zero with transactions), Isthmus's zero.
    let (mut with_footprint, mut extra_lens) = (0, std::collections::BTreeSet::new());
    for n in 1..=head {
        let b = geth_block(&geth, n)?;
        extra_lens.insert(b["extraData"].as_str().map(|x| (x.len() - 2) / 2).unwrap_or_default());
        with_footprint += u64::from(opseq_e2e::hex_u64(&b["blobGasUsed"])? > 0);
    }
    match hardfork {
        "jovian" => assert!(extra_lens == [17].into() && with_footprint > 100, "{extra_lens:?}, {with_footprint}"),
        _ => assert!(extra_lens == [9].into() && with_footprint == 0, "{extra_lens:?}, {with_footprint}"),
    }
    // Receipts as op-geth writes them, OP fields included.
    same_block_json(node, L2, &geth, 0, 40)?;
    let compared = same_receipts(node, L2, &geth, 1, 40)?;
    assert!(compared > 25, "{compared} user-tx receipts with OP fields compared");
    // The deposits: where the specs put them, in ours and in op-geth's chain alike.
    let landed = deposits_landed(&node.url(L2), &built, "op-sequencer")?;
    assert_eq!(deposits_landed(&geth.http, &built, "op-geth (import)")?, landed);
    // L1 origins moved: the head's L1-info deposit names an L1 block after genesis.
    let origin = op_node.status()?["unsafe_l2"]["l1origin"]["number"].as_u64().unwrap_or_default();
    assert!(origin > 0, "the L1 origin never changed");

    // op-batcher posts what op-geth has; a verifier that sees only L1 derives it.
    let t = std::time::Instant::now();
    let batcher = OpBatcher::start(
        &dir.path().join("batcher"),
        &exported.join("901/batcher.key"),
        &l1,
        &geth.http,
        &op_node.rpc,
    )?;
    let verifier_geth = OpGeth::start(&dir.path().join("geth-b"), &genesis, jwt)?;
    let verifier = OpNode::start(
        &dir.path().join("node-b"),
        free_port(),
        &l1,
        &verifier_geth.auth,
        jwt,
        &rollup,
        &l1_config,
        false,
    )?;
    // A second verifier whose execution client is another op-sequencer serving only its engine
    // API (it never sequences): op-node builds each derived block through it
    // (forkchoiceUpdated with attributes, getPayload, newPayload).
    let (el, el_port) = engine_only(&dir.path().join("el"), &genesis_time, hardfork)?;
    assert_eq!(hash_at(&el, L2, 0)?, hash_at(node, L2, 0)?, "the EL instance has our genesis");
    let el_verifier = OpNode::start(
        &dir.path().join("node-c"),
        free_port(),
        &l1,
        &format!("http://127.0.0.1:{el_port}/chains/{L2}"),
        &dir.path().join("el/jwt.hex"),
        &rollup,
        &l1_config,
        false,
    )?;
    // kona-node (independent consensus code, Rust) as a validator over a third op-sequencer that
    // only serves its engine API. kona-node 1.0.0-rc.1 starts deriving only once its engine has
    // synced (a forkchoice update answered VALID), which follows the first unsafe block it is
    // given: as a verifier gets one by gossip, it gets our block 1 by `admin_postUnsafePayload`.
    let kona = match opseq_e2e::opstack::kona_node() {
        Ok(_) if hardfork == "isthmus" => {
            let (el, port) = engine_only(&dir.path().join("kona-el"), &genesis_time, hardfork)?;
            let kona = KonaNode::start(
                &dir.path().join("kona"),
                L2,
                &l1,
                &format!("http://{}", node.http),
                &format!("http://127.0.0.1:{port}/chains/{L2}"),
                &dir.path().join("kona-el/jwt.hex"),
                &exported.join("901/rollup-kona.json"),
            )?;
            let envelope = opseq_e2e::opstack::envelope_of(node, L2, 1)?;
            opseq_e2e::opstack::call(&kona.rpc, "admin_postUnsafePayload", json!([envelope]))?;
            Some((kona, el))
        }
        Ok(_) => None,
        Err(why) => {
            eprintln!("SKIP (kona-node part): {why}");
            None
        }
    };
    derives("the verifier", Duration::from_secs(600), head, &ours, || verifier.head("safe_l2")).map_err(|e| {
        e.wrap_err(format!(
            "op-batcher:\n{}\n\nverifier op-node:\n{}\n\nsequencer's op-node:\n{}",
            batcher.peer.tail(),
            verifier.peer.tail(),
            op_node.peer.tail()
        ))
    })?;
    same_chain(node, L2, &verifier_geth, head)?;
    assert_eq!(deposits_landed(&verifier_geth.http, &built, "verifier op-geth")?, landed);
    let derived = t.elapsed();
    derives("op-node over op-sequencer", Duration::from_secs(300), head, &ours, || el_verifier.head("safe_l2"))
        .map_err(|e| e.wrap_err(format!("op-node over op-sequencer:\n{}", el_verifier.peer.tail())))?;
    same_hashes(node, &el, head, "built through our engine API")?;
    assert_eq!(deposits_landed(&el.url(L2), &built, "op-sequencer as the EL")?, landed);
    if let Some((kona, kona_el)) = &kona {
        let t = std::time::Instant::now();
        derives("kona-node", Duration::from_secs(600), head, &ours, || kona.head("safe_l2"))
            .map_err(|e| e.wrap_err(format!("kona-node:\n{}", kona.peer.tail())))?;
        same_hashes(node, kona_el, head, "derived by kona-node")?;
        assert_eq!(deposits_landed(&kona_el.url(L2), &built, "op-sequencer under kona-node")?, landed);
        eprintln!("kona-node: derived {head} blocks, {:.1}s after op-node's verifier", t.elapsed().as_secs_f64());
    }
    // The engine API's forkchoice labels are what the EL serves as safe.
    let safe = el.rpc(L2, "eth_getBlockByNumber", json!(["safe", false]))?;
    assert_eq!(safe["hash"].as_str(), Some(el_verifier.head("safe_l2")?.1.as_str()));
    eprintln!(
        "op-stack: start {:.1}s, {head} blocks imported in {:.1}s, derived from L1 in {:.1}s",
        boot.as_secs_f64(),
        import_time.as_secs_f64(),
        derived.as_secs_f64()
    );
    Ok(())
}

#[test]
fn a_deposit_whose_l1_block_a_reorg_removes_disappears_from_l2_and_from_op_geth() -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let seq = sequencer(dir.path(), &[L2], &[])?;
    let node = &seq.node;
    let (geth, op_node) = seq.importer(&dir.path().join("import"), L2, 900)?;
    let synced = |what: &str| imported(node, L2, &op_node, &geth, what);

    // L1 block 1 holds a deposit of 1 ETH (sent with cast, mined with evm_mine).
    let ether = U256::from(ETHER);
    let call = DepositCall { to: DEPOSIT_RECIPIENT, mint: ether, value: ether, gas: 100_000, data: &[] };
    let l1_tx = deposits::deposit_async(&node.url(900), L2, KEY0, &call)?;
    node.rpc(900, "evm_mine", json!([]))?;
    let receipt = node.rpc(900, "eth_getTransactionReceipt", json!([l1_tx]))?;
    let d = deposits::deposit_of(&receipt, opseq_primitives::optimism_portal(L2))?;
    assert_eq!(d.l1_block, 1);
    // The L2 reaches L1 block 1's time: the epoch's first block carries the deposit.
    let landed = wait_for(Duration::from_secs(60), "the deposit on L2", || {
        node.rpc(L2, "evm_mine", json!([]))?;
        deposits::find(&node.url(L2), d.source_hash, node.head(L2)?)
    })?;
    assert_eq!((landed.index, landed.sequence_number, landed.l1_origin), (1, 0, 1), "{landed:?}");
    for _ in 0..2 {
        node.rpc(L2, "evm_mine", json!([]))?;
    }
    let before = synced("op-node's unsafe head to reach ours (deposit included)")?;
    assert_eq!(deposits::balance(&geth.http, DEPOSIT_RECIPIENT)?, ether, "op-geth has the deposit");
    let l2_tx = landed.tx["hash"].clone();

    // A sibling of L1 block 1 without the deposit (the test API's reorg; the deposit tx, back in
    // the L1 pool, is dropped there as a user's replacement would), then one more L1 block.
    let l1_genesis = hash_at(node, 900, 0)?;
    let job = node.control(900, "test_open", json!([{"parent": l1_genesis}]))?["jobId"].as_str().unwrap().to_string();
    let sealed = node.control(900, "test_seal", json!([job]))?;
    assert!(!sealed["reorgedOut"].as_array().map(Vec::is_empty).unwrap_or(true), "no L1 reorg: {sealed}");
    node.rpc(900, "anvil_dropTransaction", json!([l1_tx]))?;
    node.rpc(900, "evm_mine", json!([]))?;
    assert!(node.rpc(900, "eth_getTransactionReceipt", json!([l1_tx]))?.is_null(), "the deposit is off L1");

    // The next L2 blocks rewind to an origin still canonical and build on the new L1: the deposit
    // is gone from our chain, and op-node moves op-geth's chain the same way.
    for _ in 0..4 {
        node.rpc(L2, "evm_mine", json!([]))?;
    }
    let after = synced("op-node's unsafe head to follow our L1-reorg rewind")?;
    assert!(deposits::find(&node.url(L2), d.source_hash, after)?.is_none(), "the deposit survived the L1 reorg");
    assert!(node.rpc(L2, "eth_getTransactionByHash", json!([l2_tx]))?.is_null());
    assert_eq!(deposits::balance(&node.url(L2), DEPOSIT_RECIPIENT)?, U256::ZERO);
    assert!(deposits::find(&geth.http, d.source_hash, after)?.is_none(), "op-geth kept the reorged deposit");
    assert_eq!(deposits::balance(&geth.http, DEPOSIT_RECIPIENT)?, U256::ZERO);
    assert_ne!(
        hash_at(node, L2, landed.block)?,
        landed.tx["blockHash"].as_str().unwrap_or_default(),
        "block {} kept",
        landed.block
    );
    eprintln!("L1 reorg: L2 head {before} before, {after} after; the deposit was in L2 block {}", landed.block);
    Ok(())
}

#[test]
fn a_devnet_file_of_another_shape_runs_under_op_node_with_its_alloc_across_jovian() -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    // A genesis a little in the past: op-node's sequencer API takes blocks near the wall clock.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    #[allow(non_snake_case)]
    let GENESIS = now - 30;
    // An L1 of id 1337 and three L2s: 10001 (1 s blocks, 30M gas, a contract from an alloc
    // file, Isthmus until Jovian activates at its block 6), 10002 without interop, 10003 interop
    // with 10001 only.
    let contract = "0x00000000000000000000000000000000000c0de5";
    std::fs::write(
        dir.path().join("alloc.json"),
        json!({contract: {"balance": "0x2a", "code": "0x602a60005260206000f3", "storage": {"0x01": "0x07"}}})
            .to_string(),
    )?;
    std::fs::write(
        dir.path().join("devnet.yaml"),
        format!(
            "genesisTimestamp: {genesis}\nl1: {{chainId: 1337, blockTime: 4}}\nl2s:\n  - {{chainId: 10001, blockTime: 1, gasLimit: 30000000, alloc: alloc.json, jovianTime: {jovian}}}\n  - {{chainId: 10002, interop: {{dependencySet: []}}}}\n  - {{chainId: 10003, interop: {{dependencySet: [10001, 10003]}}}}\n",
            genesis = GENESIS,
            jovian = GENESIS + 6
        ),
    )?;
    let seq = sequencer(dir.path(), &[10001], &["--devnet.config", dir.path().join("devnet.yaml").to_str().unwrap()])?;
    let node = &seq.node;
    for (chain, id) in [(1337u64, "0x539"), (10001, "0x2711"), (10002, "0x2712"), (10003, "0x2713")] {
        assert_eq!(node.rpc(chain, "eth_chainId", json!([]))?, id);
    }
    assert_eq!(node.rpc(10001, "eth_getCode", json!([contract, "latest"]))?, "0x602a60005260206000f3");
    // op-geth's genesis (alloc included) is ours.
    let (geth, op_node) = seq.importer(&dir.path().join("import"), 10001, 1337)?;
    let dead = "0x000000000000000000000000000000000000dEaD";
    for i in 0..12u64 {
        send(node, 10001, &sign_transfer(KEY0, 10001, i, dead, 1, 21_000, 10 * GWEI)?)?;
        node.rpc(10001, "evm_mine", json!([]))?;
        if i % 4 == 0 {
            node.rpc(1337, "evm_mine", json!([]))?;
        }
    }
    let head = imported(node, 10001, &op_node, &geth, "op-node's unsafe head to reach ours")?;
    // Jovian's activation block 6: Isthmus's L1-info deposit, the five upgrade deposits, no user
    // tx, Jovian's extraData; then Jovian's L1-info deposit; op-geth ran the upgrade with us.
    let block = |n: u64| node.rpc(10001, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]));
    let (five, six, seven) = (block(5)?, block(6)?, block(7)?);
    let selector = |b: &serde_json::Value| b["transactions"][0]["input"].as_str().unwrap_or_default()[..10].to_string();
    let extra_len = |b: &serde_json::Value| (b["extraData"].as_str().unwrap_or_default().len() - 2) / 2;
    assert_eq!((selector(&five), extra_len(&five)), ("0x098999be".into(), 9), "block 5 is Isthmus");
    assert_eq!((selector(&six), extra_len(&six)), ("0x098999be".into(), 17), "block 6 activates Jovian");
    let sources: Vec<&str> =
        six["transactions"].as_array().unwrap().iter().filter_map(|t| t["sourceHash"].as_str()).collect();
    assert_eq!(sources.len(), 6, "the L1-info deposit and five upgrade deposits, no user tx: {six}");
    assert_eq!((selector(&seven), extra_len(&seven)), ("0x3db6be2b".into(), 17), "block 7 is Jovian");
    // The GasPriceOracle behind its proxy is Jovian's, set: `isJovian()` (0x105d0b81) is true.
    let call = json!([{"to": "0x420000000000000000000000000000000000000F", "data": "0x105d0b81"}, "latest"]);
    for (who, url) in [("op-sequencer", node.url(10001)), ("op-geth", geth.http.clone())] {
        let r = opseq_e2e::opstack::call(&url, "eth_call", call.clone())?;
        assert_eq!(r.as_str().map(|x| x.ends_with('1')), Some(true), "{who}: isJovian() = {r}");
    }
    for n in 6..=head {
        let receipts = opseq_e2e::opstack::call(&geth.http, "eth_getBlockReceipts", json!([format!("{n:#x}")]))?;
        for r in receipts.as_array().into_iter().flatten() {
            assert_eq!(r["status"], "0x1", "op-geth: a failed tx in block {n}: {r}");
        }
    }
    // A verifier that sees only L1 derives the same chain across the activation.
    let batcher = OpBatcher::start(
        &dir.path().join("batcher"),
        &seq.exported.join("10001/batcher.key"),
        &node.url(1337),
        &geth.http,
        &op_node.rpc,
    )?;
    node.control(1337, "test_auto", json!([true, 1000]))?;
    let verifier_geth =
        OpGeth::start(&dir.path().join("verifier-geth"), &seq.exported.join("10001/genesis.json"), &seq.jwt)?;
    let verifier = OpNode::start(
        &dir.path().join("verifier-node"),
        free_port(),
        &node.url(1337),
        &verifier_geth.auth,
        &seq.jwt,
        &seq.exported.join("10001/rollup.json"),
        &seq.exported.join("l1-chain-config.json"),
        false,
    )?;
    let ours = hash_at(node, 10001, head)?;
    derives("the verifier", Duration::from_secs(300), head, &ours, || verifier.head("safe_l2")).map_err(|e| {
        e.wrap_err(format!("op-batcher:\n{}\n\nverifier:\n{}", batcher.peer.tail(), verifier.peer.tail()))
    })?;
    same_chain(node, 10001, &verifier_geth, head)?;
    let code = opseq_e2e::opstack::call(&geth.http, "eth_getStorageAt", json!([contract, "0x1", "latest"]))?;
    assert_eq!(code.as_str().map(|c| c.ends_with("07")), Some(true), "op-geth reads the alloc's storage: {code}");
    // 1 s blocks: the timestamps step by one.
    let one = node.rpc(10001, "eth_getBlockByNumber", json!(["0x1", false]))?;
    let two = node.rpc(10001, "eth_getBlockByNumber", json!(["0x2", false]))?;
    assert_eq!(opseq_e2e::hex_u64(&two["timestamp"])? - opseq_e2e::hex_u64(&one["timestamp"])?, 1);
    Ok(())
}

/// An authenticated engine-API call on `addr` (`/chains/<L2>`): (HTTP status, body).
fn engine(
    addr: &str,
    token: Option<&str>,
    method: &str,
    params: serde_json::Value,
) -> eyre::Result<(u16, serde_json::Value)> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let (status, text) = opseq_e2e::http_with("POST", addr, &format!("/chains/{L2}"), &headers, &body)?;
    Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))))
}

/// The engine-API payload (V4) of one of `node`'s blocks on the L2, and its header.
fn payload_of(node: &Proc, n: u64) -> eyre::Result<(serde_json::Value, alloy_consensus::Header)> {
    opseq_e2e::opstack::payload_of(node, L2, n)
}

/// `engine_newPayloadV4` params for `payload` under `header`'s beacon root.
fn new_payload_params(payload: &serde_json::Value, header: &alloy_consensus::Header) -> serde_json::Value {
    json!([payload, [], header.parent_beacon_block_root.unwrap_or_default(), []])
}

#[test]
fn the_engine_api_imports_our_blocks_and_refuses_bad_input_storing_nothing() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let genesis_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs().to_string();
    let seq = dev(&dir.path().join("seq"), &["--genesis.timestamp", &genesis_time, "--no-auto"])?;
    send(&seq, L2, &sign_transfer(KEY0, L2, 0, "0x000000000000000000000000000000000000dEaD", 5, 21_000, 10 * GWEI)?)?;
    seq.rpc(L2, "evm_mine", json!([]))?;
    let port = free_port();
    let el = dev(
        &dir.path().join("el"),
        &["--genesis.timestamp", &genesis_time, "--no-auto", "--authrpc.port", &port.to_string()],
    )?;
    let addr = format!("127.0.0.1:{port}");
    let token = el.token()?;
    let genesis = hash_at(&el, L2, 0)?;
    let unknown =
        |h: &str| -> eyre::Result<bool> { Ok(el.rpc(L2, "eth_getBlockByHash", json!([h, false]))?.is_null()) };
    let (payload, header) = payload_of(&seq, 1)?;
    let hash = payload["blockHash"].as_str().unwrap().to_string();

    // A wrong JWT, or none: HTTP 401 (geth's), nothing runs.
    let other = alloy_rpc_types_engine::JwtSecret::random();
    let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let forged = other.encode(&alloy_rpc_types_engine::Claims { iat, exp: None })?;
    for t in [Some(forged.as_str()), None] {
        let (status, _) = engine(&addr, t, "engine_newPayloadV4", new_payload_params(&payload, &header))?;
        assert_eq!(status, 401);
    }
    assert!(unknown(&hash)?, "a refused call stored the block");
    assert_eq!(engine(&addr, Some(&token), "engine_exchangeCapabilities", json!([[]]))?.0, 200);

    // A payload whose block hash is not its header's: INVALID, geth's words, nothing stored.
    let mut wrong = payload.clone();
    wrong["blockHash"] = json!(format!("0x{}", "11".repeat(32)));
    let (_, r) = engine(&addr, Some(&token), "engine_newPayloadV4", new_payload_params(&wrong, &header))?;
    assert_eq!(r["result"]["status"], "INVALID", "{r}");
    assert!(r["result"]["validationError"].as_str().unwrap_or_default().contains("blockhash mismatch"), "{r}");
    assert!(unknown(&format!("0x{}", "11".repeat(32)))? && unknown(&hash)?);

    // An unknown parent (the hash recomputed, so only the parent is wrong): SYNCING, nothing stored.
    let mut orphan_header = header.clone();
    orphan_header.parent_hash = alloy_primitives::B256::repeat_byte(0x22);
    let orphan_hash = orphan_header.hash_slow();
    let mut orphan = payload.clone();
    orphan["parentHash"] = json!(orphan_header.parent_hash);
    orphan["blockHash"] = json!(orphan_hash);
    let (_, r) = engine(&addr, Some(&token), "engine_newPayloadV4", new_payload_params(&orphan, &orphan_header))?;
    assert_eq!(r["result"]["status"], "SYNCING", "{r}");
    assert!(unknown(&orphan_hash.to_string())?);

    // A consistent header whose state root execution does not give: INVALID, the parent as the
    // latest valid block, nothing stored.
    let mut lying_header = header.clone();
    lying_header.state_root = alloy_primitives::B256::repeat_byte(0x33);
    let lying_hash = lying_header.hash_slow();
    let mut lying = payload.clone();
    lying["stateRoot"] = json!(lying_header.state_root);
    lying["blockHash"] = json!(lying_hash);
    let (_, r) = engine(&addr, Some(&token), "engine_newPayloadV4", new_payload_params(&lying, &lying_header))?;
    assert_eq!(r["result"]["status"], "INVALID", "{r}");
    assert_eq!(r["result"]["latestValidHash"].as_str(), Some(genesis.as_str()), "{r}");
    assert!(unknown(&lying_hash.to_string())?);
    assert_eq!(el.head(L2)?, 0);

    // The real block: VALID and known, canonical once a forkchoice update names it.
    let (_, r) = engine(&addr, Some(&token), "engine_newPayloadV4", new_payload_params(&payload, &header))?;
    assert_eq!(r["result"]["status"], "VALID", "{r}");
    assert!(!unknown(&hash)? && el.head(L2)? == 0, "kept, not canonical yet");
    let fc = json!({"headBlockHash": hash, "safeBlockHash": genesis, "finalizedBlockHash": genesis});
    let (_, r) = engine(&addr, Some(&token), "engine_forkchoiceUpdatedV3", json!([fc, null]))?;
    assert_eq!(r["result"]["payloadStatus"]["status"], "VALID", "{r}");
    assert_eq!(hash_at(&el, L2, 1)?, hash);
    assert_eq!(el.rpc(L2, "eth_getBlockByNumber", json!(["safe", false]))?["hash"].as_str(), Some(genesis.as_str()));

    // Attributes that cannot be built: -38003, the head stays; an unknown payload id: -38001; an
    // unknown head: SYNCING.
    let attrs = json!({
        "timestamp": payload["timestamp"], "prevRandao": payload["prevRandao"],
        "suggestedFeeRecipient": payload["feeRecipient"], "withdrawals": [],
        "parentBeaconBlockRoot": header.parent_beacon_block_root, "transactions": [], "noTxPool": true,
        "gasLimit": payload["gasLimit"], "eip1559Params": "0x000000fa00000006",
    });
    let fc_genesis = json!({"headBlockHash": genesis, "safeBlockHash": genesis, "finalizedBlockHash": genesis});
    let (_, r) = engine(&addr, Some(&token), "engine_forkchoiceUpdatedV3", json!([fc, attrs]))?;
    assert_eq!(r["error"]["code"], -38003, "{r}");
    assert_eq!(hash_at(&el, L2, 1)?, hash, "refused attributes moved nothing");
    let _ = fc_genesis;
    let (_, r) = engine(&addr, Some(&token), "engine_getPayloadV4", json!(["0x0102030405060708"]))?;
    assert_eq!(r["error"]["code"], -38001, "{r}");
    let ghost = json!({"headBlockHash": format!("0x{}", "44".repeat(32)), "safeBlockHash": genesis, "finalizedBlockHash": genesis});
    let (_, r) = engine(&addr, Some(&token), "engine_forkchoiceUpdatedV3", json!([ghost, null]))?;
    assert_eq!(r["result"]["payloadStatus"]["status"], "SYNCING", "{r}");
    assert_eq!(el.head(L2)?, 1);
    Ok(())
}

#[test]
fn interop_chains_with_same_timestamp_messages_are_imported_by_op_geth_through_op_node() -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let seq = sequencer(dir.path(), &[901, 902], &[])?;
    let node = &seq.node;
    let mut pairs = Vec::new();
    for chain in [901, 902] {
        let (geth, op_node) = seq.importer(&dir.path().join(chain.to_string()), chain, 900)?;
        pairs.push((chain, geth, op_node));
    }
    // Block 1 of each chain at one timestamp, each executing the other's message (901's X in
    // 902, 902's Y in 901), sealed as a group; then blocks of transfers on both.
    let pair = opseq_e2e::messages::exchange_at_one_timestamp(node, node)?;
    node.control(
        901,
        "test_sealGroup",
        json!([[{"chainId": "0x385", "jobId": pair.ja}, {"chainId": "0x386", "jobId": pair.jb}]]),
    )?;
    let dead = "0x000000000000000000000000000000000000dEaD";
    for i in 0..10u64 {
        for chain in [901u64, 902] {
            send(
                node,
                chain,
                &sign_transfer(KEY2, chain, nonce(node, chain, KEY2)?, dead, 1 + i as u128, 21_000, 10 * GWEI)?,
            )?;
            node.rpc(chain, "evm_mine", json!([]))?;
        }
    }
    for (chain, geth, op_node) in &pairs {
        imported(node, *chain, op_node, geth, "op-node's unsafe head to reach ours")?;
        let one = node.rpc(*chain, "eth_getBlockByNumber", json!(["0x1", false]))?;
        assert_eq!(one["transactions"].as_array().map(Vec::len), Some(3), "deposit, a message, an executing message");
    }
    Ok(())
}

#[test]
fn the_publisher_component_of_the_five_process_cluster_publishes_into_op_node() -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let genesis_time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs().to_string();
    let exported = dir.path().join("export");
    opseq_e2e::run(
        &opseq_e2e::binary(),
        &["export", "--genesis.timestamp", &genesis_time, "--out", exported.to_str().unwrap()],
    )?;
    let op_node_port = free_port();
    let target = format!("{L2}=http://127.0.0.1:{op_node_port}");
    std::fs::create_dir_all(dir.path().join("cluster"))?;
    let cluster = opseq_e2e::Cluster::start_env(
        &dir.path().join("cluster"),
        &[],
        &[
            ("OPSEQ_GENESIS_TIMESTAMP", genesis_time.as_str()),
            ("OPSEQ_NO_AUTO", "true"),
            ("OPSEQ_PUBLISH_OP_NODE", target.as_str()),
        ],
    )?;
    let node = cluster.builder();
    let jwt = dir.path().join("jwt.hex");
    std::fs::write(&jwt, "6d2c5b7a7a2c1f0e3d4c5b6a79888776655443322110ffeeddccbbaa99887766")?;
    // The cluster's genesis is the export's.
    let (geth, op_node) =
        importer(&dir.path().join("import"), node, &exported, L2, &node.url(900), &jwt, op_node_port)?;
    let dead = "0x000000000000000000000000000000000000dEaD";
    for i in 0..10u64 {
        send(node, L2, &sign_transfer(KEY0, L2, i, dead, 1, 21_000, 10 * GWEI)?)?;
        node.rpc(L2, "evm_mine", json!([]))?;
    }
    imported(node, L2, &op_node, &geth, "op-node's unsafe head to reach the cluster's").map(|_| ())
}

/// op-supernode (optimism v1.19.0, from the Go module proxy) follows 901 and 902 through
/// op-batcher and the L1 mock, with its own op-geth per chain, and marks the blocks of our sync
/// calls (each chain's block executing the other's log at one timestamp) safe across the
/// dependency set: its interop activity checks them as a verifier does (issue 17); a bundle
/// broken on purpose (a dropped leg) it finds invalid and replaces (deny list, rewind).
#[test]
fn op_supernode_marks_the_blocks_of_sync_calls_safe_across_the_dependency_set() -> eyre::Result<()> {
    if !peers_or_skip() {
        return Ok(());
    }
    let supernode = match go_peer("op-supernode") {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIP: {why}");
            return Ok(());
        }
    };
    let dir = tempfile::Builder::new().disable_cleanup(std::env::var("OPSEQ_KEEP_DIR").is_ok()).tempdir()?;
    eprintln!("op-supernode test in {}", dir.path().display());
    let seq = sequencer(dir.path(), &[901, 902], &[])?;
    let (node, exported, jwt) = (&seq.node, &seq.exported, &seq.jwt);
    let l1 = node.url(900);
    node.control(900, "test_auto", json!([true, 1000]))?;
    let mut pairs = Vec::new();
    for chain in [901u64, 902] {
        let (geth, op_node) = seq.importer(&dir.path().join(chain.to_string()), chain, 900)?;
        pairs.push((chain, geth, op_node));
    }
    // op-supernode: a virtual op-node per chain over an op-geth of its own; the dependency set
    // {901, 902}; interop active from the chains' genesis (our rollup files leave interopTime
    // out: op-node v1.19.0 alone does not run interop chains).
    let genesis_ts = hex_u64(&node.rpc(901, "eth_getBlockByNumber", json!(["0x0", false]))?["timestamp"])?;
    let depset = dir.path().join("depset.json");
    std::fs::write(&depset, r#"{"dependencies": {"901": {}, "902": {}}}"#)?;
    let mut vgeths = Vec::new();
    for chain in [901u64, 902] {
        vgeths.push(opseq_e2e::opstack::OpGeth::start(
            &dir.path().join(format!("vgeth-{chain}")),
            &exported.join(format!("{chain}/genesis.json")),
            jwt,
        )?);
    }
    let port = free_port();
    let mut args: Vec<String> = vec![
        "--l1".into(),
        l1.clone(),
        "--l1.beacon".into(),
        format!("http://{}", node.http),
        "--l1.http-poll-interval".into(),
        "500ms".into(),
        "--chains".into(),
        "901,902".into(),
        "--disable-p2p".into(),
        "--dependency-set".into(),
        depset.display().to_string(),
        "--interop.activation-timestamp".into(),
        genesis_ts.to_string(),
        "--rpc.addr".into(),
        "127.0.0.1".into(),
        "--rpc.port".into(),
        port.to_string(),
        "--data-dir".into(),
        dir.path().join("supernode").display().to_string(),
        "--vn.all.l2.jwt-secret".into(),
        jwt.display().to_string(),
        "--vn.all.rollup.l1-chain-config".into(),
        exported.join("l1-chain-config.json").display().to_string(),
        "--vn.all.verifier.l1-confs".into(),
        "0".into(),
        "--log.level".into(),
        "info".into(),
    ];
    for (chain, g) in [901u64, 902].iter().zip(&vgeths) {
        args.extend([format!("--vn.{chain}.l2"), g.auth.clone()]);
        args.extend([
            format!("--vn.{chain}.rollup.config"),
            exported.join(format!("{chain}/rollup.json")).display().to_string(),
        ]);
    }
    std::fs::create_dir_all(dir.path().join("supernode"))?;
    let mut sn = opseq_e2e::opstack::Peer::spawn("op-supernode", &supernode, &args, dir.path().join("supernode.log"))?;
    let rpc = format!("http://127.0.0.1:{port}");
    opseq_e2e::opstack::wait_for(Duration::from_secs(60), "op-supernode's RPC", || {
        sn.alive()?;
        Ok(opseq_e2e::opstack::call(&rpc, "supernode_syncStatus", json!([])).ok())
    })
    .map_err(|e| e.wrap_err(sn.tail()))?;
    let mut batchers = Vec::new();
    for (chain, geth, op_node) in &pairs {
        batchers.push(OpBatcher::start(
            &dir.path().join(format!("batcher-{chain}")),
            &exported.join(format!("{chain}/batcher.key")),
            &l1,
            &geth.http,
            &op_node.rpc,
        )?);
    }
    // The sync calls (web3.py): a counter on 902 incremented from 901, a balance read.
    let contracts = compile_contracts(dir.path())?;
    let out = opseq_e2e::sync_calls_script(node, &contracts, &["--only-good"])?;
    let sealed = out["sealed"].as_array().cloned().unwrap_or_default();
    assert_eq!(sealed.len(), 4, "{out}");
    // More blocks on both, so the batches close past the bundles.
    for _ in 0..3 {
        for chain in [901, 902] {
            node.rpc(chain, "evm_mine", json!([]))?;
        }
    }
    let last_ts = sealed
        .iter()
        .map(|b| {
            let n = &b["number"];
            let chain = b["chain"].as_u64().unwrap_or_default();
            node.rpc(chain, "eth_getBlockByNumber", json!([n, false])).and_then(|x| hex_u64(&x["timestamp"]))
        })
        .collect::<eyre::Result<Vec<u64>>>()?
        .into_iter()
        .max()
        .unwrap_or_default();
    eprintln!("op-supernode: sync calls made, waiting for safety");
    let t = std::time::Instant::now();
    opseq_e2e::opstack::wait_for(
        Duration::from_secs(600),
        "op-supernode's safe timestamp to pass the sync calls",
        || {
            sn.alive()?;
            let s = opseq_e2e::opstack::call(&rpc, "supernode_syncStatus", json!([]))?;
            Ok((s["safe_timestamp"].as_u64().unwrap_or_default() >= last_ts).then_some(()))
        },
    )
    .map_err(|e| e.wrap_err(format!("op-supernode:\n{}", sn.tail())))?;
    // Its chains are ours: the bundle blocks, hash for hash, not replaced; its interop activity
    // verified each of their timestamps (same-timestamp messages in both directions) and found
    // no invalid executing message.
    let log = std::fs::read_to_string(dir.path().join("supernode.log"))?;
    for b in &sealed {
        let chain = b["chain"].as_u64().unwrap_or_default();
        let g = &vgeths[(chain - 901) as usize];
        let n = hex_u64(&b["number"])?;
        assert_eq!(g.hash_at(n)?.as_deref(), b["hash"].as_str(), "op-supernode's chain {chain} at {n}");
        let ts = hex_u64(&node.rpc(chain, "eth_getBlockByNumber", json!([b["number"], false]))?["timestamp"])?;
        assert!(
            log.contains(&format!("msg=\"committed verified result\" activity=interop timestamp={ts}")),
            "op-supernode did not verify timestamp {ts}"
        );
    }
    assert!(!log.contains("invalid executing message"), "op-supernode found an invalid executing message");
    // A bundle broken on purpose (its leg on 902 dropped: 901's block executes a log 902's block
    // does not have). op-batcher posts it and op-supernode finds its message invalid, deny-lists
    // the block and rewinds 901 before it (its replacement); our next build on 901 replaces it
    // too.
    eprintln!("op-supernode: the good calls verified; now a broken bundle");
    let out = opseq_e2e::sync_calls_script(node, &contracts, &["--only-broken", "dropLeg"])?;
    let broken = out["broken"].as_array().cloned().unwrap_or_default();
    let bad = broken.iter().find(|b| b["chain"] == 901).ok_or_else(|| eyre::eyre!("no broken block: {out}"))?;
    let n = hex_u64(&bad["number"])?;
    opseq_e2e::opstack::wait_for(Duration::from_secs(120), "op-supernode to invalidate the broken block", || {
        sn.alive()?;
        // 902 builds on meanwhile (a build on 901 would replace the block before it is posted).
        node.rpc(902, "evm_mine", json!([]))?;
        std::thread::sleep(Duration::from_millis(500));
        let log = std::fs::read_to_string(dir.path().join("supernode.log"))?;
        Ok(log.contains("rewind completed after block invalidation").then_some(log))
    })
    .map_err(|e| e.wrap_err(format!("op-supernode:\n{}", sn.tail())))
    .and_then(|log| {
        let invalid = log.lines().find(|l| l.contains("invalid executing message")).unwrap_or_default();
        eyre::ensure!(invalid.contains("chain=901") && invalid.contains(&format!("block={n}")), "{invalid}");
        eyre::ensure!(log.contains(&format!("added block to deny list\" height={n}")), "not deny-listed");
        Ok(())
    })?;
    // Ours: the next build on 901 replaces it too.
    node.rpc(901, "evm_mine", json!([]))?;
    let ours = hash_at(node, 901, n)?;
    assert_ne!(Some(ours.as_str()), bad["hash"].as_str(), "our check replaced the broken block");
    eprintln!(
        "op-supernode: the sync calls' blocks safe across 901 and 902 {:.1}s after the calls",
        t.elapsed().as_secs_f64()
    );
    drop(batchers);
    Ok(())
}
