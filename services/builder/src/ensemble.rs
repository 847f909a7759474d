//! op-test-sequencer's ensemble file (`--builders.config`, YAML or JSON): its names for builders
//! and sequencers, so that configurations written for op-test-sequencer (op-devstack, Kurtosis's
//! `builder_config.json`) address our routes unchanged.
//!
//! The schema is op-test-sequencer's (`work/config/static.go`), decoded strictly (unknown fields
//! are errors, as its `KnownFields(true)`); every entry is a one-of. We build blocks ourselves,
//! so builder endpoints, signer keys and committer/publisher RPCs are accepted and not used:
//! what we take from the file is which sequencer and builder names belong to which chain.
use opseq_primitives::ChainId;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    #[allow(dead_code)]
    endpoints: serde_yaml_ng::Value,
    #[serde(default)]
    builders: BTreeMap<String, BuilderEntry>,
    #[serde(default)]
    signers: BTreeMap<String, SignerEntry>,
    #[serde(default)]
    committers: BTreeMap<String, RpcEntry>,
    #[serde(default)]
    publishers: BTreeMap<String, RpcEntry>,
    #[serde(default)]
    sequencers: BTreeMap<String, SequencerEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StandardBuilder {
    #[serde(rename = "l1EL")]
    l1_el: Option<String>,
    #[serde(rename = "l2EL")]
    l2_el: Option<String>,
    #[serde(rename = "l2CL")]
    l2_cl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuilderEntry {
    standard: Option<StandardBuilder>,
    noop: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct LocalKey {
    #[serde(rename = "chainID")]
    chain_id: ChainId,
    path: Option<String>,
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerEntry {
    #[serde(rename = "local-key")]
    local_key: Option<LocalKey>,
    noop: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Rpc {
    rpc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RpcEntry {
    standard: Option<Rpc>,
    noop: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Full {
    #[serde(rename = "chainID")]
    chain_id: ChainId,
    builder: String,
    signer: Option<String>,
    committer: Option<String>,
    publisher: Option<String>,
    sequencer_conf_depth: Option<u64>,
    sequencer_enabled: Option<bool>,
    sequencer_stopped: Option<bool>,
    sequencer_max_safe_lag: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SequencerEntry {
    full: Option<Full>,
    noop: Option<serde_yaml_ng::Value>,
}

/// The names an ensemble file gives: (sequencer, builder, chain) per `full` sequencer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ensemble {
    /// (sequencer name, builder name, chain id).
    pub names: Vec<(String, String, ChainId)>,
}

fn one_of(kind: &str, name: &str, set: usize) -> Result<(), String> {
    match set {
        1 => Ok(()),
        0 => Err(format!("{kind} {name}: unknown kind (expected one entry, e.g. standard or noop)")),
        _ => Err(format!("{kind} {name}: more than one kind")),
    }
}

impl Ensemble {
    /// Parses an ensemble file's text (YAML, or JSON) against the chains we serve.
    pub fn parse(text: &str, chains: &[ChainId]) -> Result<Self, String> {
        let f: File = serde_yaml_ng::from_str(text).map_err(|e| format!("ensemble config: {e}"))?;
        for (n, b) in &f.builders {
            one_of("builder", n, usize::from(b.standard.is_some()) + usize::from(b.noop.is_some()))?;
        }
        for (n, s) in &f.signers {
            one_of("signer", n, usize::from(s.local_key.is_some()) + usize::from(s.noop.is_some()))?;
        }
        for (kind, map) in [("committer", &f.committers), ("publisher", &f.publishers)] {
            for (n, e) in map {
                one_of(kind, n, usize::from(e.standard.is_some()) + usize::from(e.noop.is_some()))?;
            }
        }
        let mut names = Vec::new();
        for (n, s) in &f.sequencers {
            one_of("sequencer", n, usize::from(s.full.is_some()) + usize::from(s.noop.is_some()))?;
            let Some(full) = &s.full else { continue };
            if !chains.contains(&full.chain_id) {
                return Err(format!("sequencer {n}: chain {} is not served (chains: {chains:?})", full.chain_id));
            }
            if !f.builders.contains_key(&full.builder) {
                return Err(format!("sequencer {n}: unknown builder {}", full.builder));
            }
            for (kind, r, map) in [
                ("signer", &full.signer, f.signers.keys().collect::<Vec<_>>()),
                ("committer", &full.committer, f.committers.keys().collect()),
                ("publisher", &full.publisher, f.publishers.keys().collect()),
            ] {
                if let Some(r) = r
                    && !map.contains(&r)
                {
                    return Err(format!("sequencer {n}: unknown {kind} {r}"));
                }
            }
            names.push((n.clone(), full.builder.clone(), full.chain_id));
        }
        Ok(Self { names })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
endpoints: []
builders:   { builder-901:  { standard: { l1EL: http://l1:8545, l2EL: http://el:8545, l2CL: http://cl:8547 } } }
signers:    { signer-901:   { local-key: { chainID: 901, raw: "0x01" } } }
committers: { committer-901: { standard: { rpc: http://cl:8547 } } }
publishers: { publisher-901: { standard: { rpc: http://cl:8547 } } }
sequencers: { test-seq-901: { full: { chainID: 901, builder: builder-901, signer: signer-901, committer: committer-901, publisher: publisher-901 } } }
"#;

    #[test]
    fn op_test_sequencer_yaml_and_kurtosis_json_give_the_names() {
        let e = Ensemble::parse(YAML, &[900, 901]).unwrap();
        assert_eq!(e.names, vec![("test-seq-901".into(), "builder-901".into(), 901)]);
        let json =
            r#"{"builders": {"b": {"noop": {}}}, "sequencers": {"s": {"full": {"chainID": 901, "builder": "b"}}}}"#;
        assert_eq!(Ensemble::parse(json, &[901]).unwrap().names, vec![("s".into(), "b".into(), 901)]);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let cases = [
            (YAML.replace("endpoints", "bogus"), "unknown field"),
            (YAML.replace("chainID: 901, builder", "chainID: 999, builder"), "not served"),
            (YAML.replace("builder: builder-901", "builder: nope"), "unknown builder"),
            (YAML.replace("signer: signer-901", "signer: nope"), "unknown signer"),
            (YAML.replace("{ full: {", "{ fullish: {"), "unknown field"),
            ("sequencers: { s: {} }".to_string(), "unknown kind"),
            ("builders: [".to_string(), "ensemble config"),
        ];
        for (text, want) in cases {
            let e = Ensemble::parse(&text, &[900, 901]).unwrap_err();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
