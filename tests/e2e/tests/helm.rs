//! The Helm chart, rendered by the real Helm SDK and validated against the Kubernetes schemas
//! (tests/helm/check_chart.py, with the peers' venv: helm-python-sdk, kubernetes-validate).
use opseq_e2e::*;

#[test]
fn the_chart_renders_lints_and_validates_for_every_environment() -> eyre::Result<()> {
    let root = workspace();
    let out = python_at("tests/helm/check_chart.py", &[root.to_str().unwrap()])?;
    assert!(out.contains("0 failures"), "{out}");
    for env in ["values.yaml:", "values-devnet.yaml:", "values-production.yaml:", "values-interop.yaml:"] {
        assert!(out.lines().any(|l| l.starts_with("ok ") && l.contains(env)), "{env} not checked: {out}");
    }
    Ok(())
}
