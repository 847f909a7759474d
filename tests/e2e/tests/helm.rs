//! The Helm chart, rendered by the real Helm SDK and validated against the Kubernetes schemas
//! (tests/helm/check_chart.py, with the peers' venv: helm-python-sdk, kubernetes-validate).
use opseq_e2e::*;

#[test]
fn the_chart_renders_lints_and_validates_for_every_environment() -> eyre::Result<()> {
    let root = workspace();
    let out = python_at("tests/helm/check_chart.py", &[root.to_str().unwrap()])?;
    assert!(out.contains("0 failures"), "{out}");
    for env in [
        "values.yaml:",
        "values-devnet.yaml:",
        "values-production.yaml:",
        "values-interop.yaml:",
        "values-op-stack.yaml:",
    ] {
        assert!(out.lines().any(|l| l.starts_with("ok ") && l.contains(env)), "{env} not checked: {out}");
    }
    Ok(())
}

/// The devnet config the op-stack values carry inline is one op-sequencer takes: `export` of it
/// (what every component's `--devnet.config` reads from the ConfigMap) writes its chains.
#[test]
fn the_op_stack_values_devnet_config_is_a_valid_devnet_file() -> eyre::Result<()> {
    let values = std::fs::read_to_string(workspace().join("helm/op-sequencer/values-op-stack.yaml"))?;
    let dir = tempfile::tempdir()?;
    // The two block scalars of `chains:` (devnetConfig, devnetFiles."alloc.json"), as the
    // ConfigMap holds them: their lines without the chart's indentation.
    let block = |start: &str, indent: usize| -> String {
        let lines: Vec<&str> = values.lines().collect();
        let at = lines.iter().position(|l| l.trim_start().starts_with(start)).expect("key present");
        lines[at + 1..]
            .iter()
            .take_while(|l| l.len() > indent && l[..indent].trim().is_empty())
            .map(|l| &l[indent..])
            .collect::<Vec<_>>()
            .join("\n")
    };
    std::fs::write(dir.path().join("devnet.yaml"), block("devnetConfig:", 4))?;
    std::fs::write(dir.path().join("alloc.json"), block("alloc.json:", 6))?;
    let out = dir.path().join("export");
    run(
        &binary(),
        &[
            "export",
            "--devnet.config",
            dir.path().join("devnet.yaml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    )?;
    for f in ["l1-genesis.json", "10001/rollup.json", "10002/rollup.json"] {
        assert!(out.join(f).exists(), "{f} not exported");
    }
    let rollup: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("10002/rollup.json"))?)?;
    assert!(rollup["jovian_time"].is_null(), "10002 is Isthmus: {rollup}");
    Ok(())
}
