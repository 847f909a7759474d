//! Synchronous cross-chain calls (issue 17) against `op-sequencer dev --no-auto`, driven by
//! web3.py (`tests/e2e/py/sync_calls.py`, a client no one here wrote): a counter on B
//! incremented from A and a token balance on B read from A, each returning B's value in A's tx
//! at one timestamp, B's state changed once, both blocks sealed as a group; calls both ways
//! (A→B, B→A, A→B) in one block pair with ordinary txs between them; a reverting callee
//! (A reverts with B's revert data, no relay on B); a caller on A rejecting a good result (B's
//! leg dropped); A's job cancelled after the bundle (B rolled back); pre-signed legs whose logs
//! form a cycle (refused, both jobs unchanged); one signed EIP-7702 intent (the sequencer sends
//! and pays, the callee sees the user; a replayed or expired intent refused); multi-hop A→B→C on
//! three L2s, and A→B→A refused. Then the chains build on, and every block the
//! script sealed must still be canonical: our own replacement check found nothing to replace
//! but the blocks of two bundles broken on purpose (a dropped leg, a skipped completion).
use opseq_e2e::*;
use serde_json::{Value, json};

#[test]
fn sync_calls_return_the_callees_value_in_one_timestamp() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let contracts = compile_contracts(dir.path())?;
    // The runtime code the node embeds is the repo's source, compiled afresh.
    let compiled: Value = serde_json::from_str(&std::fs::read_to_string(&contracts)?)?;
    for (name, file) in [("SyncCaller", "sync_caller.hex"), ("SyncAccount", "sync_account.hex")] {
        let embedded = std::fs::read_to_string(workspace().join("crates/executor/src/bytecode").join(file))?;
        assert_eq!(
            compiled[name]["deployedBytecode"].as_str(),
            Some(format!("0x{}", embedded.trim()).as_str()),
            "crates/executor/src/bytecode/{file} is not contracts/src/{name}.sol compiled: regenerate it (contracts/README.md)"
        );
    }
    // Three interop L2s (multi-hop calls), one block time.
    let devnet = dir.path().join("devnet.yaml");
    std::fs::write(&devnet, "l2s:\n  - chainId: 901\n  - chainId: 902\n  - chainId: 903\n")?;
    let node = dev(&dir.path().join("d"), &["--no-auto", "--devnet.config", devnet.to_str().unwrap()])?;
    let c = node.url(903);
    let out = sync_calls_script(&node, &contracts, &["--rpc-c", &c])?;
    eprintln!("sync calls: {}", out["report"]);
    let sealed = out["sealed"].as_array().cloned().unwrap_or_default();
    assert!(sealed.len() >= 12, "{out}");
    // Both chains build on (each block checks the executing messages of the blocks before it).
    for _ in 0..2 {
        for chain in [901, 902, 903] {
            node.rpc(chain, "evm_mine", json!([]))?;
        }
    }
    for b in &sealed {
        let chain = b["chain"].as_u64().unwrap();
        let now = node.rpc(chain, "eth_getBlockByNumber", json!([b["number"], false]))?;
        assert_eq!(now["hash"], b["hash"], "chain {chain}'s block {} was replaced", b["number"]);
    }
    // Replaced: exactly the blocks of the bundles broken on purpose (test_submitPrepared faults).
    let log = std::fs::read_to_string(&node.log)?;
    let replaced = out["replaced"].as_array().map_or(0, Vec::len);
    assert_eq!(replaced, 2, "{out}");
    assert_eq!(log.matches("replaced by a deposit-only block").count(), replaced, "only the broken bundles' blocks");
    Ok(())
}

/// Auto mode: calls prepared without jobs land at the next timestamp A and B both build, with
/// ordinary txs around them; with mixed block times (1 s and 2 s) they wait for a shared one.
#[test]
fn sync_calls_in_auto_mode_land_at_a_shared_timestamp() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let contracts = compile_contracts(dir.path())?;
    for (name, yaml) in [
        ("same", "l2s:\n  - chainId: 901\n  - chainId: 902\n"),
        ("mixed", "l2s:\n  - chainId: 901\n    blockTime: 1\n  - chainId: 902\n    blockTime: 2\n"),
    ] {
        let devnet = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&devnet, yaml)?;
        let data = dir.path().join(name);
        let node = dev(&data, &["--devnet.config", devnet.to_str().unwrap()])?;
        let jwt = data.join("jwt.hex");
        let out = python(
            "sync_calls_auto.py",
            &[
                "--rpc-a",
                &node.url(901),
                "--rpc-b",
                &node.url(902),
                "--contracts",
                contracts.to_str().unwrap(),
                "--key",
                KEY1,
                "--other-key",
                KEY0,
                "--jwt-secret",
                jwt.to_str().unwrap(),
            ],
        )?;
        eprintln!("auto mode ({name} block times): {}", out.lines().last().unwrap_or_default());
        let log = std::fs::read_to_string(&node.log)?;
        assert!(!log.contains("replaced by a deposit-only block"), "a block was replaced");
    }
    Ok(())
}
