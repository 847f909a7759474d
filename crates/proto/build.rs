//! Generates the gRPC code from `proto/opseq/v1` with the protoc bundled in
//! `protoc-bin-vendored` (no system protoc needed; ../shared/reference/deps.md §7).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files: Vec<_> = ["common", "state", "txpool", "signer", "publisher", "shred"]
        .iter()
        .map(|f| root.join(format!("opseq/v1/{f}.proto")))
        .collect();
    tonic_prost_build::configure().compile_protos(&files, std::slice::from_ref(&root))?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
