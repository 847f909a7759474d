#![doc = include_str!("../README.md")]

mod blockchain;
mod kona;
mod mem;
mod vectors;

pub use blockchain::{Outcome, run_blockchain_file};
pub use mem::MemState;

use std::{
    io::Write,
    path::{Path, PathBuf},
};

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
    /// Tests skipped (each with a printed reason).
    pub skipped: usize,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            collect(&e.path(), out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Reads a fixture file (plain or gzip) as JSON.
pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes.as_slice()), &mut s)
            .map_err(|e| format!("gunzip {}: {e}", path.display()))?;
        s
    } else {
        bytes
    };
    serde_json::from_slice(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

/// Runs every fixture under `paths`, printing one line per file (and one per failing test when
/// `verbose`), then the summary line.
pub fn run(paths: &[PathBuf], verbose: bool, out: &mut dyn Write) -> std::io::Result<Summary> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut total = Summary::default();
    for f in files {
        let name = f.display().to_string();
        if !(name.ends_with(".json") || name.ends_with(".json.gz")) {
            continue;
        }
        let json = match read_json(&f) {
            Ok(j) => j,
            Err(e) => {
                total.failed += 1;
                writeln!(out, "FAIL {name}: {e}")?;
                continue;
            }
        };
        let Some(kind) = classify(&json) else {
            total.skipped += 1;
            writeln!(
                out,
                "SKIP {name}: not a blockchain-test file (trie and RLP vectors are checked by unit tests of opseq-trie, not by this command)"
            )?;
            continue;
        };
        match kind {
            Kind::Blockchain => {
                let results = run_blockchain_file(&json);
                let (mut p, mut fl, mut s) = (0, 0, 0);
                for (test, outcome) in &results {
                    match outcome {
                        Outcome::Pass => p += 1,
                        Outcome::Fail(why) => {
                            fl += 1;
                            if verbose {
                                writeln!(out, "  FAIL {test}: {why}")?;
                            }
                        }
                        Outcome::Skip(why) => {
                            s += 1;
                            writeln!(out, "  SKIP {test}: {why}")?;
                        }
                    }
                }
                total.passed += p;
                total.failed += fl;
                total.skipped += s;
                let tag = if fl > 0 { "FAIL" } else { "ok  " };
                writeln!(out, "{tag} {name}: {p} passed, {fl} failed, {s} skipped")?;
            }
            Kind::OpVectors => {
                let (mut p, mut fl) = (0, 0);
                for (v, r) in vectors::run_vectors(&json) {
                    match r {
                        Ok(()) => p += 1,
                        Err(e) => {
                            fl += 1;
                            writeln!(out, "  FAIL {v}: {e}")?;
                        }
                    }
                }
                total.passed += p;
                total.failed += fl;
                let tag = if fl > 0 { "FAIL" } else { "ok  " };
                writeln!(out, "{tag} {name}: {p} passed, {fl} failed, 0 skipped")?;
            }
            Kind::KonaOp => {
                match std::panic::catch_unwind(|| kona::run_kona(&json)).unwrap_or_else(|_| Err("panicked".into())) {
                    Ok(()) => {
                        total.passed += 1;
                        writeln!(out, "ok   {name}: 1 passed, 0 failed, 0 skipped")?;
                    }
                    Err(e) => {
                        total.failed += 1;
                        writeln!(out, "FAIL {name}: {e}")?;
                    }
                }
            }
        }
    }
    writeln!(out, "{} passed, {} failed, {} skipped", total.passed, total.failed, total.skipped)?;
    Ok(total)
}

enum Kind {
    Blockchain,
    OpVectors,
    KonaOp,
}

fn classify(v: &serde_json::Value) -> Option<Kind> {
    let obj = v.as_object()?;
    if obj.contains_key("preimages") && obj.contains_key("executing_payload") {
        return Some(Kind::KonaOp);
    }
    if obj.contains_key("deposit_source_hashes") && obj.contains_key("base_fee") {
        return Some(Kind::OpVectors);
    }
    let first = obj.values().next()?.as_object()?;
    (first.contains_key("blocks") && first.contains_key("pre")).then_some(Kind::Blockchain)
}
