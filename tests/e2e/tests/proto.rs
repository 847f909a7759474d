//! The gRPC API under `proto/` passes buf's STANDARD lint rules and is buf-formatted (npm
//! `@bufbuild/buf`, installed by scripts/install-test-peers.sh).
use opseq_e2e::*;

#[test]
fn protos_pass_buf_lint_and_format() -> eyre::Result<()> {
    let buf = peers().join("bin/buf");
    let proto = workspace().join("proto");
    let out = std::process::Command::new(&buf).arg("lint").current_dir(&proto).output()?;
    assert!(
        out.status.success(),
        "buf lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out =
        std::process::Command::new(&buf).args(["format", "--diff", "--exit-code"]).current_dir(&proto).output()?;
    assert!(out.status.success(), "buf format: {}", String::from_utf8_lossy(&out.stdout));
    // The lint must see our files (an empty module passes every rule).
    let out = std::process::Command::new(&buf).args(["ls-files"]).current_dir(&proto).output()?;
    let files = String::from_utf8_lossy(&out.stdout);
    for f in ["state.proto", "txpool.proto", "signer.proto", "publisher.proto", "shred.proto", "common.proto"] {
        assert!(files.contains(f), "buf does not see {f}: {files}");
    }
    Ok(())
}
