//! The sequencer's own persisted state: per chain, whether automatic sequencing is on and at
//! which interval. op-node keeps the same thing in its admin-state file (`--rpc.admin-state`,
//! `{"sequencerStarted": …}`) so that a restarted sequencer does not start or stop on its own;
//! this is that file, one entry per chain.
//!
//! The last head is not kept here: the chain store commits every block durably before the
//! builder hears back (ARCHITECTURE.md rule 5), and a restarted builder reads its head from
//! there, so there is one source of truth for what was committed.
use opseq_primitives::{ChainId, OpseqError};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

/// One chain's automatic sequencing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoMode {
    /// Whether blocks are built on the schedule.
    pub active: bool,
    /// The interval chosen with `test_auto`, when not the chain's block time.
    pub interval_ms: Option<u64>,
}

impl AutoMode {
    /// The interval as a duration.
    pub fn interval(&self) -> Option<Duration> {
        self.interval_ms.map(Duration::from_millis)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    chains: BTreeMap<ChainId, AutoMode>,
}

/// The persisted sequencer state (in memory only without a path).
#[derive(Debug, Default)]
pub struct SequencerState {
    path: Option<PathBuf>,
    file: Mutex<File>,
}

impl SequencerState {
    /// The file's name in a data directory.
    pub const FILE_NAME: &'static str = "sequencer-state.json";

    /// Reads the state at `path` (none yet is an empty state). A file that does not parse is
    /// an error: starting or stopping sequencing on a guess is what this file exists to avoid.
    pub fn open(path: &Path) -> Result<Self, OpseqError> {
        let file = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| OpseqError::invalid(format!("{} is not a sequencer state file: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(OpseqError::fatal(format!("reading {}: {e}", path.display()))),
        };
        Ok(Self { path: Some(path.to_path_buf()), file: Mutex::new(file) })
    }

    /// A state that is not persisted (tests, embedded uses without a data directory).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The persisted mode of `chain`, if one was ever set.
    pub fn get(&self, chain: ChainId) -> Option<AutoMode> {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).chains.get(&chain).copied()
    }

    /// Records `mode` for `chain`; durable when this returns (written to a temporary file,
    /// synced, renamed over the old one, directory synced). On error nothing changed.
    pub fn set(&self, chain: ChainId, mode: AutoMode) -> Result<(), OpseqError> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let old = file.chains.insert(chain, mode);
        if let Err(e) = self.write(&file) {
            match old {
                Some(o) => file.chains.insert(chain, o),
                None => file.chains.remove(&chain),
            };
            return Err(e);
        }
        Ok(())
    }

    fn write(&self, file: &File) -> Result<(), OpseqError> {
        let Some(path) = &self.path else { return Ok(()) };
        let io = |e: std::io::Error| OpseqError::transient(format!("writing {}: {e}", path.display()));
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&serde_json::to_vec_pretty(file).map_err(|e| OpseqError::fatal(e.to_string()))?).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_survive_a_reopen_and_a_bad_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SequencerState::FILE_NAME);
        let s = SequencerState::open(&path).unwrap();
        assert_eq!(s.get(901), None);
        s.set(901, AutoMode { active: false, interval_ms: None }).unwrap();
        s.set(902, AutoMode { active: true, interval_ms: Some(250) }).unwrap();
        let again = SequencerState::open(&path).unwrap();
        assert_eq!(again.get(901), Some(AutoMode { active: false, interval_ms: None }));
        assert_eq!(again.get(902).unwrap().interval(), Some(Duration::from_millis(250)));
        std::fs::write(&path, b"{\"chains\": 1}").unwrap();
        let e = SequencerState::open(&path).unwrap_err();
        assert!(e.to_string().contains("not a sequencer state file"), "{e}");
    }

    #[test]
    fn a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename fails.
        let path = dir.path().join("state");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), b"").unwrap();
        let s = SequencerState { path: Some(path), file: Mutex::default() };
        assert!(s.set(901, AutoMode { active: true, interval_ms: None }).is_err());
        assert_eq!(s.get(901), None);
    }
}
