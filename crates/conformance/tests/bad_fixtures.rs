//! Broken fixtures fail their own test with a clear reason, and the run goes on.
use std::path::Path;

#[test]
fn truncated_unknown_fork_and_inconsistent_pre_state_fail_clearly_and_the_run_goes_on() {
    let good = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/ethereum-tests/ValidBlocks/bcValidBlockTest/diff1024.json.gz");
    if !good.exists() {
        println!("skipped: {} not present (the fixtures live beside the repository)", good.display());
        return;
    }
    let v = opseq_conformance::read_json(&good).unwrap();
    let (name, test) = v.as_object().unwrap().iter().next().map(|(k, t)| (k.clone(), t.clone())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 1. Truncated JSON.
    let text = serde_json::to_string(&v).unwrap();
    std::fs::write(dir.path().join("a_truncated.json"), &text[..text.len() / 2]).unwrap();
    // 2. An unknown fork, 3. a pre-state that does not hash to the genesis root, 4. the good one.
    let mut unknown = test.clone();
    unknown["network"] = "Glamsterdam".into();
    let mut inconsistent = test.clone();
    let first = inconsistent["pre"].as_object().unwrap().keys().next().unwrap().clone();
    inconsistent["pre"][&first]["balance"] = "0x1234".into();
    let file = serde_json::json!({"unknown": unknown, "inconsistent": inconsistent, name.clone(): test});
    std::fs::write(dir.path().join("b_mixed.json"), file.to_string()).unwrap();

    let mut out = Vec::new();
    let summary = opseq_conformance::run(&[dir.path().to_path_buf()], true, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!((summary.passed, summary.failed), (1, 3), "{out}");
    assert!(out.contains("a_truncated.json: parsing"), "{out}");
    assert!(out.contains("unknown or unsupported fork \"Glamsterdam\""), "{out}");
    assert!(out.contains("inconsistent pre-state"), "{out}");
    assert_eq!(out.lines().last().unwrap(), "1 passed, 3 failed, 0 skipped");
}
