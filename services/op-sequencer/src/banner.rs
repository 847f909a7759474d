//! The anvil-style start-up banner (printed on stdout: this is the binary's user interface).
use opseq_primitives::{DEV_SEQUENCER_KEY, DevnetConfig, dev_accounts};
use std::{fmt::Write, net::SocketAddr, path::Path};

pub(crate) fn banner(
    devnet: &DevnetConfig,
    http: SocketAddr,
    grpc: SocketAddr,
    datadir: &Path,
    jwt: &Path,
    sequencer: alloy_primitives::Address,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nop-sequencer v{} — dev mode (every component in one process)\n", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "Chains");
    let _ = writeln!(s, "==================");
    for c in &devnet.chains {
        let kind = if c.is_l2() {
            let fork = if c.is_jovian_at(c.genesis_timestamp) { "Jovian" } else { "Isthmus" };
            format!("OP Stack L2 ({fork}), L1 = {}", c.l1_chain_id.unwrap_or_default())
        } else {
            "L1 mock (Prague)".to_string()
        };
        let _ = writeln!(
            s,
            "{:>6}  http://{http}/chains/{:<6} {kind}, block time {} s",
            c.chain_id, c.chain_id, c.block_time
        );
    }
    let _ = writeln!(s, "\nAvailable Accounts (10,000 ETH on every chain)");
    let _ = writeln!(s, "==================");
    for (i, a) in dev_accounts().iter().enumerate() {
        let _ = writeln!(s, "({i}) {}", a.address);
    }
    let _ = writeln!(s, "\nPrivate Keys");
    let _ = writeln!(s, "==================");
    for (i, a) in dev_accounts().iter().enumerate() {
        let _ = writeln!(s, "({i}) {}", a.key);
    }
    let _ = writeln!(s, "\nSequencer (block signing) key: {DEV_SEQUENCER_KEY} ({sequencer})");
    let _ = writeln!(s, "JWT secret:   {}", jwt.display());
    let _ = writeln!(s, "Data dir:     {}", datadir.display());
    let _ = writeln!(s, "Shred stream: grpc://{grpc} (opseq.v1.ShredService)");
    let _ = writeln!(s, "Health:       http://{http}/healthz  http://{http}/readyz  http://{http}/metrics");
    let _ = writeln!(s, "\nListening on {http}");
    s
}
