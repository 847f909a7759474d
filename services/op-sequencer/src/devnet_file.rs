//! The devnet config file (`--devnet FILE`): a devnet of any shape. YAML (JSON is YAML too); the
//! format is documented in `docs/devnet.md` with an example in `deploy/devnet.example.yaml`.
//!
//! Unset values come from the flags (`--l1.block-time`, `--l2.block-time`, `--gas-limit`,
//! `--genesis.timestamp`, `--interop.*`); unknown keys are refused, so a typo never silently
//! falls back to a default.
use crate::cli::ChainArgs;
use alloy_primitives::Address;
use eyre::{WrapErr, bail, ensure, eyre};
use opseq_primitives::{ChainConfig, ChainId, ChainKind, DevnetConfig, InteropConfig};
use serde::Deserialize;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// The file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DevnetFile {
    /// Genesis time of every chain (unix seconds).
    genesis_timestamp: Option<u64>,
    /// The L1 mock.
    #[serde(default)]
    l1: L1Entry,
    /// The L2s; absent: 901 and 902, as without a file; `[]`: none (an L1 alone).
    l2s: Option<Vec<L2Entry>>,
    /// A geth-style alloc file loaded into every chain (each chain's own `alloc` after it).
    alloc: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct L1Entry {
    chain_id: Option<ChainId>,
    block_time: Option<u64>,
    gas_limit: Option<u64>,
    alloc: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct L2Entry {
    chain_id: ChainId,
    block_time: Option<u64>,
    gas_limit: Option<u64>,
    /// The L2's rules from genesis; absent: `--l2.hardfork`.
    hardfork: Option<Hardfork>,
    /// When Jovian activates (unix seconds): after genesis, an Isthmus chain whose activation
    /// block carries the upgrade deposits. Excludes `hardfork`.
    jovian_time: Option<u64>,
    /// Jovian's minimum base fee (wei) in the L2's system config.
    min_base_fee: Option<u64>,
    /// Jovian's DA-footprint gas scalar in the L2's system config (0: the default, 400).
    da_footprint_gas_scalar: Option<u16>,
    /// Interop; absent: with every L2 of the devnet; an empty dependency set: off.
    interop: Option<InteropEntry>,
    alloc: Option<PathBuf>,
}

/// The OP hardfork an L2 follows from genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Hardfork {
    Isthmus,
    Jovian,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InteropEntry {
    /// Chains whose messages it may execute (itself included); absent: every L2 of the devnet.
    dependency_set: Option<Vec<ChainId>>,
    /// Seconds an initiating message stays executable; absent: `--interop.expiry-window`.
    expiry_window: Option<u64>,
    /// Activation time (unix seconds); absent: `--interop.time`.
    activation: Option<u64>,
}

/// The devnet `path` describes, with unset values from `flags`; `now` is the genesis time when
/// neither the file nor `--genesis.timestamp` gives one.
pub fn load(path: &Path, flags: &ChainArgs, now: u64) -> eyre::Result<DevnetConfig> {
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading devnet file {}", path.display()))?;
    let file: DevnetFile = serde_yaml_ng::from_str(&text).map_err(|e| eyre!("devnet file {}: {e}", path.display()))?;
    build(file, path.parent().unwrap_or(Path::new(".")), flags, now)
        .wrap_err_with(|| format!("devnet file {}", path.display()))
}

fn build(file: DevnetFile, base: &Path, flags: &ChainArgs, now: u64) -> eyre::Result<DevnetConfig> {
    let defaults = DevnetConfig::dev(flags.l1_block_time, flags.l2_block_time, 0);
    let genesis_timestamp = file.genesis_timestamp.or(flags.genesis_timestamp).unwrap_or(now);
    let common = file.alloc.as_deref().map(|p| read_alloc(&base.join(p))).transpose()?.unwrap_or_default();
    let alloc = |own: Option<&PathBuf>| -> eyre::Result<_> {
        let mut all = common.clone();
        if let Some(p) = own {
            all.extend(read_alloc(&base.join(p))?);
        }
        Ok(all)
    };
    let gas_limit = |g: Option<u64>, default: u64, what: &str| -> eyre::Result<u64> {
        let g = g.or(flags.gas_limit).unwrap_or(default);
        ensure!(g >= 5000, "{what}: gasLimit {g} is below 5000");
        Ok(g)
    };
    let block_time = |t: Option<u64>, default: u64, what: &str| -> eyre::Result<u64> {
        let t = t.unwrap_or(default);
        ensure!(t >= 1, "{what}: blockTime must be at least 1 second");
        Ok(t)
    };
    let (l1_default, l2_default) = (&defaults.chains[0], &defaults.chains[1]);
    let l1_id = file.l1.chain_id.unwrap_or(l1_default.chain_id);
    let l1 = ChainConfig {
        chain_id: l1_id,
        block_time: block_time(file.l1.block_time, l1_default.block_time, "l1")?,
        gas_limit: gas_limit(file.l1.gas_limit, l1_default.gas_limit, "l1")?,
        genesis_timestamp,
        alloc: alloc(file.l1.alloc.as_ref())?,
        ..l1_default.clone()
    };
    let entries = match file.l2s {
        Some(l2s) => l2s,
        None => defaults
            .chains
            .iter()
            .filter(|c| c.is_l2())
            .map(|c| L2Entry {
                chain_id: c.chain_id,
                block_time: None,
                gas_limit: None,
                hardfork: None,
                jovian_time: None,
                min_base_fee: None,
                da_footprint_gas_scalar: None,
                interop: None,
                alloc: None,
            })
            .collect(),
    };
    let l2_ids: Vec<ChainId> = entries.iter().map(|e| e.chain_id).collect();
    let mut seen = vec![l1_id];
    for id in &l2_ids {
        ensure!(*id != 0, "chain id 0 is not a chain id");
        ensure!(!seen.contains(id), "chain id {id} is used twice");
        seen.push(*id);
    }
    let mut chains = vec![l1];
    for e in entries {
        let what = format!("l2 {}", e.chain_id);
        if e.hardfork.is_some() && e.jovian_time.is_some() {
            bail!("{what}: hardfork and jovianTime exclude each other (jovianTime: Isthmus until then)");
        }
        let jovian_time = match (e.hardfork, e.jovian_time) {
            (_, Some(t)) => Some(t),
            (Some(h), None) => (h == Hardfork::Jovian).then_some(0),
            (None, None) => flags.l2_jovian().then_some(0),
        };
        let jovian = jovian_time.is_some();
        if !jovian && (e.min_base_fee.is_some() || e.da_footprint_gas_scalar.is_some()) {
            bail!("{what}: minBaseFee and daFootprintGasScalar are Jovian's; this L2 follows Isthmus");
        }
        // The dev system config with the file's Jovian values.
        let system_config = (e.min_base_fee.is_some() || e.da_footprint_gas_scalar.is_some()).then(|| {
            let d = opseq_executor::L1InfoParams::dev(e.chain_id);
            opseq_primitives::SystemConfig {
                base_fee_scalar: d.base_fee_scalar,
                blob_base_fee_scalar: d.blob_base_fee_scalar,
                batcher_hash: d.batcher_hash,
                operator_fee_scalar: d.operator_fee_scalar,
                operator_fee_constant: d.operator_fee_constant,
                da_footprint_gas_scalar: e.da_footprint_gas_scalar.unwrap_or_default(),
                min_base_fee: e.min_base_fee.unwrap_or_default(),
            }
        });
        let interop = match e.interop {
            Some(InteropEntry { dependency_set: Some(set), .. }) if set.is_empty() => None,
            i => {
                let i = i.unwrap_or_default();
                let set = i.dependency_set.unwrap_or_else(|| l2_ids.clone());
                for d in &set {
                    ensure!(l2_ids.contains(d), "{what}: dependency set names {d}, not an L2 of this devnet");
                }
                ensure!(set.contains(&e.chain_id), "{what}: its dependency set must include itself");
                let expiry_window = i.expiry_window.unwrap_or(flags.interop_expiry_window);
                ensure!(expiry_window >= 1, "{what}: interop expiryWindow must be at least 1 second");
                Some(InteropConfig {
                    dependency_set: set,
                    expiry_window,
                    activation: i.activation.unwrap_or(flags.interop_time),
                    keep_invalid: flags.interop_keep_invalid,
                })
            }
        };
        chains.push(ChainConfig {
            chain_id: e.chain_id,
            kind: ChainKind::L2,
            block_time: block_time(e.block_time, l2_default.block_time, &what)?,
            gas_limit: gas_limit(e.gas_limit, l2_default.gas_limit, &what)?,
            genesis_timestamp,
            l1_chain_id: Some(l1_id),
            interop,
            jovian_time,
            system_config,
            alloc: alloc(e.alloc.as_ref())?,
            ..l2_default.clone()
        });
    }
    Ok(DevnetConfig { chains }.settle())
}

/// A geth-style alloc: `{"0x<address>": {"balance": …, "nonce": …, "code": …, "storage": {…}}}`,
/// or a whole geth genesis file (its `alloc` is taken).
fn read_alloc(path: &Path) -> eyre::Result<BTreeMap<Address, alloy_genesis::GenesisAccount>> {
    let text = std::fs::read_to_string(path).wrap_err_with(|| format!("reading alloc file {}", path.display()))?;
    let mut v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| eyre!("alloc file {}: {e}", path.display()))?;
    if let Some(inner) = v.get_mut("alloc") {
        v = inner.take();
    }
    serde_json::from_value(v).map_err(|e| eyre!("alloc file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn flags() -> ChainArgs {
        let crate::cli::Command::Dev(d) = crate::cli::Cli::parse_from(["op-sequencer", "dev"]).command else {
            unreachable!("dev parses as dev")
        };
        d.chains
    }

    fn parse(yaml: &str, dir: &Path) -> eyre::Result<DevnetConfig> {
        let path = dir.join("devnet.yaml");
        std::fs::write(&path, yaml)?;
        load(&path, &flags(), 1_700_000_000)
    }

    #[test]
    fn a_file_chooses_the_chains_and_the_rest_comes_from_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("alloc.json"),
            r#"{"0x00000000000000000000000000000000000000aa": {"balance": "0x10", "code": "0x6001", "storage": {"0x01": "0x02"}}}"#,
        )
        .unwrap();
        let d = parse(
            "genesisTimestamp: 1700000123\nl1: {chainId: 1337, blockTime: 12}\nl2s:\n  - {chainId: 10001, blockTime: 1, gasLimit: 30000000, alloc: alloc.json, minBaseFee: 1000}\n  - {chainId: 10002, hardfork: isthmus, interop: {dependencySet: []}}\n  - {chainId: 10003, interop: {dependencySet: [10001, 10003], expiryWindow: 60}}\n",
            dir.path(),
        )
        .unwrap();
        assert_eq!(d.chain_ids(), vec![1337, 10001, 10002, 10003]);
        let l1 = d.chain(1337).unwrap();
        assert_eq!((l1.block_time, l1.genesis_timestamp, l1.settled_l2s.len()), (12, 1_700_000_123, 3));
        let a = d.chain(10001).unwrap();
        assert_eq!((a.block_time, a.gas_limit, a.l1_chain_id), (1, 30_000_000, Some(1337)));
        assert_eq!(a.alloc.len(), 1);
        assert_eq!(a.interop.as_ref().unwrap().dependency_set, vec![10001, 10002, 10003]);
        assert!(d.chain(10002).unwrap().interop.is_none());
        // Jovian unless chosen otherwise; a minimum base fee lands in the genesis extraData.
        assert_eq!((a.jovian_time, d.chain(10002).unwrap().jovian_time), (Some(0), None));
        assert_eq!(
            parse("l2s: [{chainId: 901, jovianTime: 1700000500}]", dir.path()).unwrap().chains[1].jovian_time,
            Some(1_700_000_500)
        );
        let extra = opseq_executor::genesis(a).0.header.extra_data;
        assert_eq!(extra.len(), 17);
        assert_eq!(u64::from_be_bytes(extra[9..].try_into().unwrap()), 1000);
        let c = d.chain(10003).unwrap().interop.clone().unwrap();
        assert_eq!((c.dependency_set, c.expiry_window), (vec![10001, 10003], 60));
        // The alloc is in the genesis, and moves its state root.
        let with = opseq_executor::genesis(a).0.header.state_root;
        let without =
            opseq_executor::genesis(&ChainConfig { alloc: Default::default(), ..a.clone() }).0.header.state_root;
        assert_ne!(with, without);
        // No file section: the default devnet (901, 902 on 900).
        assert_eq!(parse("{}", dir.path()).unwrap().chain_ids(), vec![900, 901, 902]);
        assert_eq!(parse("l2s: []", dir.path()).unwrap().chain_ids(), vec![900]);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        for (yaml, says) in [
            ("l2s: [{chainId: 901}, {chainId: 901}]", "used twice"),
            ("l2s: [{chainId: 900}]", "used twice"),
            ("l2s: [{chainId: 901, blockTime: 0}]", "blockTime"),
            ("l2s: [{chainId: 901, gasLimit: 10}]", "below 5000"),
            ("l2s: [{chainId: 901, interop: {dependencySet: [902]}}]", "not an L2 of this devnet"),
            ("l2s: [{chainId: 901, interop: {dependencySet: [901, 902]}}, {chainId: 903}]", "not an L2"),
            ("l2s: [{chainId: 901, blocktime: 2}]", "unknown field"),
            ("l2s: [{chainId: 901, hardfork: bedrock}]", "unknown variant"),
            ("l2s: [{chainId: 901, hardfork: isthmus, minBaseFee: 1}]", "Jovian's"),
            ("l2s: [{chainId: 901, hardfork: jovian, jovianTime: 5}]", "exclude each other"),
            ("l2s: [{chainId: 901, alloc: missing.json}]", "missing.json"),
        ] {
            let e = format!("{:#}", parse(yaml, dir.path()).unwrap_err());
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }
}
