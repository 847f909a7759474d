//! The RPC as clients no one here wrote see it (issue 22): refusals in geth's words, so cast (and
//! ethers, viem, web3.py, which match on geth's strings) classify them as against geth. The OP
//! receipt fields are checked key by key against op-geth's in `op_stack.rs`.
use opseq_e2e::{KEY0, cast, dev};

const DEAD: &str = "0x000000000000000000000000000000000000dEaD";

/// cast's error output of a command that must fail.
fn refused(args: &[&str]) -> String {
    match cast(args) {
        Ok(out) => panic!("cast {args:?} succeeded: {out}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn refusals_use_geths_words() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    let node = dev(dir.path(), &["--no-auto"])?;
    let url = node.url(901);
    // A tip above the fee cap: the pool refuses it (geth's ErrTipAboveFeeCap), and so does
    // estimation (cast estimates first when no gas limit is given).
    let tip_above_cap = ["--gas-price", "2gwei", "--priority-gas-price", "3gwei"];
    for with_limit in [true, false] {
        let mut args = vec!["send", "--async", "--rpc-url", &url, "--private-key", KEY0, DEAD, "--value", "1"];
        args.extend_from_slice(&tip_above_cap);
        if with_limit {
            args.extend_from_slice(&["--gas-limit", "21000"]);
        }
        let e = refused(&args);
        assert!(e.contains("max priority fee per gas higher than max fee per gas"), "{e}");
    }
    assert!(node.rpc(901, "txpool_status", serde_json::json!([]))?["pending"] == "0x0", "nothing pooled");
    // A sender without funds: geth's ErrInsufficientFunds, with its address/have/want details.
    let poor = "0x1111111111111111111111111111111111111111";
    let e = refused(&["estimate", "--rpc-url", &url, "--from", poor, "--gas-price", "1gwei", DEAD, "--value", "1"]);
    assert!(e.contains(&format!("insufficient funds for gas * price + value: address {poor} have 0 want")), "{e}");
    let e = refused(&["call", "--rpc-url", &url, "--from", poor, "--gas-price", "1gwei", DEAD, "--value", "1"]);
    assert!(e.contains("insufficient funds for gas * price + value"), "{e}");
    Ok(())
}
