//! sled behind a write-ahead log and a write buffer of our own.
//!
//! sled makes writes durable only by `flush`, which fsyncs (≈0.25 ms here), and applying a
//! batch costs it ≈6 µs per key (≈0.15 ms for a one-tx block, ≈230 ms for a 10k-tx one). So a
//! batch written through a [`DurableTree`] is appended to `<dir>/commit.wal` with one
//! `write(2)` and merged into the tree's in-memory buffer, which reads consult before sled; once
//! [`DurableTree::apply`] returns, the write is visible and survives a crash of the process (the
//! kernel holds it), and with [`SyncMode::Fsync`] [`DurableDb::sync`] also survives a crash of
//! the machine (`fdatasync`).
//!
//! A checkpoint thread, once a second, rotates the log to `commit.wal.old`, applies the buffers
//! to sled as one batch per tree, drops from them what sled now holds (unless a newer write
//! replaced it meanwhile), flushes sled and deletes the old log. Opening replays what is left,
//! in order: every record is a set of blind writes (insert or remove) and sled recovers a prefix
//! of what was applied to it, so replaying records sled already holds changes nothing. A torn
//! last record (a crash inside `write`) fails its checksum and is dropped: it was never
//! acknowledged.
//!
//! Why not a crate: sled has no "write but do not fsync" mode, and the embedded stores that do
//! (redb, fjall) would replace sled, which the design fixes.

use crate::StoreError;
use crate::nodes::GenCache;
use parking_lot::{Mutex, RwLock};
use sled::IVec;
use std::{
    collections::{BTreeMap, HashMap},
    fs::{File, OpenOptions},
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tracing::{info, warn};

const WAL: &str = "commit.wal";
const WAL_OLD: &str = "commit.wal.old";
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// The most writes handed to sled in one batch (checkpoints and replays).
const SLED_BATCH: usize = 512;
/// sled's page cache (its default is 1 GiB; reads of hot state stop at the commit log's buffer,
/// the read cache or the node cache first).
const SLED_CACHE: u64 = 128 << 20;

/// What a write survives once the store says it is durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// A crash of the process: each commit is in the kernel (one `write(2)`) before it is
    /// acknowledged. The default of `op-sequencer dev` (anvil keeps nothing; geth does not
    /// fsync each block either).
    #[default]
    Os,
    /// A crash of the machine: each commit is also `fdatasync`ed before it is acknowledged.
    Fsync,
}

impl std::str::FromStr for SyncMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "os" => Ok(Self::Os),
            "fsync" => Ok(Self::Fsync),
            other => Err(format!("unknown sync mode {other:?}: expected \"os\" or \"fsync\"")),
        }
    }
}

/// A set of blind writes applied atomically to one tree (the log's unit).
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<(IVec, Option<IVec>)>,
}

impl Batch {
    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<IVec>, value: impl Into<IVec>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl Into<IVec>) {
        self.ops.push((key.into(), None));
    }

    /// Appends `other`'s writes (after this batch's: a key both write ends with `other`'s).
    pub fn extend(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// `len u32 | crc32 u32 | payload`, payload = `name_len u16 | name | n u32 | ops`, an op =
    /// `tag u8 (0 remove, 1 insert) | klen u32 | key [| vlen u32 | value]`.
    fn encode(&self, tree: &[u8], out: &mut Vec<u8>) {
        let size: usize = self.ops.iter().map(|(k, v)| 9 + k.len() + v.as_ref().map_or(0, |v| v.len())).sum();
        out.reserve(14 + tree.len() + size);
        let start = out.len();
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(tree.len() as u16).to_le_bytes());
        out.extend_from_slice(tree);
        out.extend_from_slice(&(self.ops.len() as u32).to_le_bytes());
        for (k, v) in &self.ops {
            out.push(v.is_some() as u8);
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(k);
            if let Some(v) = v {
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v);
            }
        }
        let payload = &out[start + 8..];
        let (len, crc) = (payload.len() as u32, crc32fast::hash(payload));
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
        out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    }

    /// One record from the front of `buf`: (tree, batch, bytes used), or `None` if what is left is
    /// not a whole record with a good checksum.
    fn decode(buf: &[u8]) -> Option<(Vec<u8>, Self, usize)> {
        let u32_at = |b: &[u8], at: usize| b.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap()));
        let len = u32_at(buf, 0)? as usize;
        let crc = u32_at(buf, 4)?;
        let payload = buf.get(8..8 + len)?;
        if crc32fast::hash(payload) != crc {
            return None;
        }
        let name_len = u16::from_le_bytes(payload.get(0..2)?.try_into().ok()?) as usize;
        let name = payload.get(2..2 + name_len)?.to_vec();
        let mut at = 2 + name_len;
        let n = u32_at(payload, at)?;
        at += 4;
        let mut batch = Self::default();
        for _ in 0..n {
            let tag = *payload.get(at)?;
            let klen = u32_at(payload, at + 1)? as usize;
            let key = payload.get(at + 5..at + 5 + klen)?;
            at += 5 + klen;
            if tag == 1 {
                let vlen = u32_at(payload, at)? as usize;
                batch.insert(key, payload.get(at + 4..at + 4 + vlen)?);
                at += 4 + vlen;
            } else {
                batch.remove(key);
            }
        }
        Some((name, batch, 8 + len))
    }
}

#[derive(Debug)]
struct Log {
    dir: PathBuf,
    file: File,
    buf: Vec<u8>,
}

/// An opened tree, its buffer and its read cache.
type TreeAndBuffer = (sled::Tree, Arc<Buffer>, Arc<ReadCache>);

/// Values read from sled (`None`: absent), by key. Only keys not in the buffer are cached, under
/// the buffer's read lock; a key leaves the cache when a checkpoint takes it out of the buffer (the
/// buffer shadows the cache until then), so a cached value is always sled's current one.
type ReadCache = GenCache<IVec, Option<IVec>>;

/// Each tree's read cache budget (values and 64 bytes per entry).
const READ_CACHE_BYTES: usize = 32 << 20;
/// Bigger values (block records) are not cached.
const READ_CACHE_MAX_VALUE: usize = 4096;

/// A tree's writes not yet in sled: key → (the batch that wrote it, value or removal).
type Buffer = RwLock<BTreeMap<IVec, (u64, Option<IVec>)>>;

#[derive(Debug)]
struct Inner {
    db: sled::Db,
    /// Held while a batch is logged and buffered, and while a checkpoint takes the buffers; `None`
    /// inside for a temporary (in-memory) store.
    log: Mutex<Option<Log>>,
    sync: SyncMode,
    /// Every opened tree and its buffer.
    trees: Mutex<HashMap<Arc<[u8]>, TreeAndBuffer>>,
    /// Numbers batches (a buffer entry is dropped after a checkpoint only if still that batch's).
    seq: AtomicU64,
    /// One checkpoint at a time (each rotates the log).
    checkpointing: Mutex<()>,
}

/// A sled database whose writes go through the log (cheap to clone).
#[derive(Debug, Clone)]
pub struct DurableDb {
    inner: Arc<Inner>,
}

impl DurableDb {
    /// Opens (or creates) the database in `dir`, replays the log, and starts the checkpoints.
    pub fn open(dir: &Path, sync: SyncMode) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let db = sled::Config::new().path(dir).cache_capacity(SLED_CACHE).flush_every_ms(Some(200)).open()?;
        let mut replayed = 0;
        for name in [WAL_OLD, WAL] {
            replayed += replay(&db, &dir.join(name))?;
        }
        if replayed > 0 {
            db.flush()?;
            info!(target: "opseq::store", records = replayed, "replayed the commit log");
        }
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(dir.join(WAL))?;
        let _ = std::fs::remove_file(dir.join(WAL_OLD));
        sync_dir(dir)?;
        let log = Log { dir: dir.to_owned(), file, buf: Vec::new() };
        Self::start(db, Some(log), sync)
    }

    /// A throwaway in-memory database (tests): buffered and checkpointed like a real one, without
    /// the log.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::start(sled::Config::new().temporary(true).open()?, None, SyncMode::Os)
    }

    fn start(db: sled::Db, log: Option<Log>, sync: SyncMode) -> Result<Self, StoreError> {
        let inner = Arc::new(Inner {
            db,
            log: Mutex::new(log),
            sync,
            trees: Mutex::default(),
            seq: AtomicU64::new(0),
            checkpointing: Mutex::new(()),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new().name("opseq-store-checkpoint".into()).spawn(move || checkpoints(weak))?;
        Ok(Self { inner })
    }

    /// A tree of this database.
    pub fn open_tree(&self, name: &str) -> Result<DurableTree, StoreError> {
        let mut trees = self.inner.trees.lock();
        let (tree, buffer, cache) = match trees.get(name.as_bytes()) {
            Some(t) => t.clone(),
            None => {
                let t = (
                    self.inner.db.open_tree(name)?,
                    Arc::new(Buffer::default()),
                    Arc::new(ReadCache::new(READ_CACHE_BYTES)),
                );
                trees.insert(name.as_bytes().into(), t.clone());
                t
            }
        };
        Ok(DurableTree { tree, name: name.as_bytes().into(), db: self.clone(), buffer, cache })
    }

    /// Makes every applied batch durable to the [`SyncMode`]'s standard (a no-op for
    /// [`SyncMode::Os`]: applied batches are already in the kernel).
    pub fn sync(&self) -> Result<(), StoreError> {
        if self.inner.sync == SyncMode::Fsync
            && let Some(log) = &*self.inner.log.lock()
        {
            log.file.sync_data()?;
        }
        Ok(())
    }

    /// Moves the buffers into sled, flushes it and empties the log (done once a second in the
    /// background too).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        checkpoint(&self.inner)
    }
}

/// A tree whose batches are logged and buffered; sled gets them at the next checkpoint.
#[derive(Debug, Clone)]
pub struct DurableTree {
    tree: sled::Tree,
    name: Arc<[u8]>,
    db: DurableDb,
    buffer: Arc<Buffer>,
    cache: Arc<ReadCache>,
}

impl DurableTree {
    /// The value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        let key = key.as_ref();
        let buffer = self.buffer.read();
        if let Some((_, v)) = buffer.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.cache.get(key) {
            return Ok(v);
        }
        // Read and cached under the buffer's read lock: no checkpoint can move this key into
        // sled (and out of the cache) in between.
        let v = self.tree.get(key)?;
        if v.as_ref().is_none_or(|v| v.len() <= READ_CACHE_MAX_VALUE) {
            self.cache.extend([(IVec::from(key), v.clone())]);
        }
        drop(buffer);
        Ok(v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        Ok(self.get(key)?.is_some())
    }

    /// Every key starting with `prefix` and its value, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Vec<(IVec, IVec)>, StoreError> {
        let prefix = prefix.as_ref();
        let mut out = BTreeMap::new();
        // The buffer first, under its lock (sled may get these entries meanwhile: same values).
        let buffered: Vec<(IVec, Option<IVec>)> = self
            .buffer
            .read()
            .range::<[u8], _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, (_, v))| (k.clone(), v.clone()))
            .collect();
        for r in self.tree.scan_prefix(prefix) {
            let (k, v) = r?;
            out.insert(k, v);
        }
        for (k, v) in buffered {
            match v {
                Some(v) => out.insert(k, v),
                None => out.remove(&k),
            };
        }
        Ok(out.into_iter().collect())
    }

    /// Logs `batch` and makes it visible, atomically for readers. Empty batches write nothing.
    pub fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let inner = &self.db.inner;
        let t0 = std::time::Instant::now();
        let (mut te, mut tw) = (Default::default(), Default::default());
        let n = batch.ops.len();
        let mut log = inner.log.lock();
        if let Some(log) = &mut *log {
            log.buf.clear();
            batch.encode(&self.name, &mut log.buf);
            te = t0.elapsed();
            log.file.write_all(&log.buf)?;
            tw = t0.elapsed();
            // Kept for the next batch (a big block's 10+ MB faulted in again each time cost more
            // than encoding it), unless one outsized batch grew it past 64 MiB.
            if log.buf.capacity() > 64 << 20 {
                log.buf = Vec::new();
            }
        }
        // Buffered under the log's lock: a checkpoint takes exactly what the rotated log holds.
        let seq = inner.seq.fetch_add(1, Ordering::Relaxed);
        let mut buffer = self.buffer.write();
        let bytes = log.as_ref().map(|l| l.buf.len()).unwrap_or_default();
        for (k, v) in batch.ops {
            buffer.insert(k, (seq, v));
        }
        if n > 1000 {
            tracing::debug!(target: "opseq::timing", ops = n, bytes, encode = ?te, write = ?(tw - te), buffer = ?(t0.elapsed() - tw), "apply");
        }
        Ok(())
    }

    /// See [`DurableDb::sync`].
    pub fn sync(&self) -> Result<(), StoreError> {
        self.db.sync()
    }

    /// See [`DurableDb::checkpoint`].
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.db.checkpoint()
    }
}

/// A sled batch of blind writes (`None`: remove).
fn sled_batch<'a>(ops: impl Iterator<Item = (&'a IVec, &'a Option<IVec>)>) -> sled::Batch {
    let mut b = sled::Batch::default();
    for (k, v) in ops {
        match v {
            Some(v) => b.insert(k.clone(), v.clone()),
            None => b.remove(k.clone()),
        }
    }
    b
}

/// Applies the whole records of the log at `path`; returns how many.
fn replay(db: &sled::Db, path: &Path) -> Result<usize, StoreError> {
    let mut buf = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut buf)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let (mut at, mut n) = (0, 0);
    while let Some((name, batch, used)) = Batch::decode(&buf[at..]) {
        let tree = db.open_tree(name)?;
        // Bounded sled batches, as in a checkpoint; replaying again after a crash here is harmless.
        for chunk in batch.ops.chunks(SLED_BATCH) {
            tree.apply_batch(sled_batch(chunk.iter().map(|(k, v)| (k, v))))?;
        }
        at += used;
        n += 1;
    }
    if at < buf.len() {
        warn!(target: "opseq::store", log = %path.display(), dropped_bytes = buf.len() - at, "dropped a torn record at the end of the commit log (never acknowledged)");
    }
    Ok(n)
}

fn checkpoint(inner: &Inner) -> Result<(), StoreError> {
    type Taken = Vec<(sled::Tree, Arc<Buffer>, Arc<ReadCache>, Vec<(IVec, u64, Option<IVec>)>)>;
    let _one = inner.checkpointing.lock();
    let (dir, taken): (Option<PathBuf>, Taken) = {
        let mut log = inner.log.lock();
        let taken: Taken = inner
            .trees
            .lock()
            .values()
            .map(|(tree, b, cache)| {
                let entries = b.read().iter().map(|(k, (seq, v))| (k.clone(), *seq, v.clone())).collect();
                (tree.clone(), Arc::clone(b), Arc::clone(cache), entries)
            })
            .filter(|(_, _, _, entries): &(_, _, _, Vec<_>)| !entries.is_empty())
            .collect();
        if taken.is_empty() {
            return Ok(());
        }
        // Every record in the rotated file is in `taken` (apply logs and buffers under this lock).
        let dir = match &mut *log {
            Some(log) => {
                // A commit logged just before the rotation may not have reached its `sync` yet,
                // which would then sync the new file: with fsync durability, sync the old one now.
                if inner.sync == SyncMode::Fsync {
                    log.file.sync_data()?;
                }
                std::fs::rename(log.dir.join(WAL), log.dir.join(WAL_OLD))?;
                log.file = OpenOptions::new().create(true).write(true).truncate(true).open(log.dir.join(WAL))?;
                // The rotation reaches the disk before new commits go to the new file, for fsync
                // durability only: `os` promises survival of the process, not of the machine, and
                // this directory fsync, under the log's lock, waited for the filesystem's dirty
                // data (one-tx round trips after 100k blocks: p99 18.5 ms with it, see
                // docs/benchmarks.md).
                if inner.sync == SyncMode::Fsync {
                    sync_dir(&log.dir)?;
                }
                Some(log.dir.clone())
            }
            None => None,
        };
        (dir, taken)
    };
    for (tree, buffer, cache, entries) in taken {
        // In sled batches of bounded size: one batch of a million-account genesis took sled 8 s
        // and 2.6 GB. Atomicity is not needed here: readers see the buffer until the entries
        // leave it, and a crash replays the whole rotated log. Each batch leaves the buffer as
        // soon as sled has it, under a short write lock (removing two million entries under one
        // lock stalled every read and commit for seconds).
        for chunk in entries.chunks(SLED_BATCH) {
            tree.apply_batch(sled_batch(chunk.iter().map(|(k, _, v)| (k, v))))?;
            // sled answers for these now, unless a later batch wrote the key again.
            let mut buffer = buffer.write();
            for (k, seq, _) in chunk {
                if buffer.get(k).is_some_and(|(s, _)| s == seq) {
                    buffer.remove(k);
                }
            }
            // A value cached before the key was written is stale once the buffer stops
            // shadowing it.
            cache.forget(chunk.iter().map(|(k, _, _)| k.as_ref()));
        }
    }
    if let Some(dir) = dir {
        inner.db.flush()?;
        std::fs::remove_file(dir.join(WAL_OLD))?;
    }
    Ok(())
}

fn checkpoints(inner: Weak<Inner>) {
    loop {
        std::thread::sleep(CHECKPOINT_EVERY);
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = checkpoint(&inner) {
            warn!(target: "opseq::store", error = %e, "checkpoint failed (the commit log keeps the writes)");
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_dropped() {
        let mut b = Batch::default();
        b.insert(&b"k1"[..], &b"v1"[..]);
        b.remove(&b"k2"[..]);
        b.insert(&b""[..], vec![7u8; 300]);
        let mut buf = Vec::new();
        b.encode(b"chain/901", &mut buf);
        let whole = buf.len();
        b.encode(b"t", &mut buf);
        let (name, back, used) = Batch::decode(&buf).unwrap();
        assert_eq!((name.as_slice(), used), (&b"chain/901"[..], whole));
        assert_eq!(back.ops, b.ops);
        assert!(Batch::decode(&buf[used..buf.len() - 1]).is_none(), "a torn record");
        let mut flipped = buf[used..].to_vec();
        flipped[20] ^= 1;
        assert!(Batch::decode(&flipped).is_none(), "a bad checksum");
    }

    /// What a kill -9 leaves: the log written, sled's own buffers never flushed.
    #[test]
    fn writes_sled_never_flushed_are_replayed_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = DurableDb::open(dir.path(), SyncMode::Os).unwrap();
            let t = db.open_tree("a").unwrap();
            let mut b = Batch::default();
            b.insert(&b"x"[..], &b"1"[..]);
            b.insert(&b"y"[..], &b"2"[..]);
            t.apply(b).unwrap();
            let mut b = Batch::default();
            b.remove(&b"y"[..]);
            b.insert(&b"x"[..], &b"3"[..]);
            t.apply(b).unwrap();
            // Simulate the crash: copy the files as they are now (sled has not flushed).
            copy_dir(dir.path(), &dir.path().join("crashed"));
        }
        let crashed = dir.path().join("crashed");
        // A torn record at the end, as a crash inside write(2) would leave.
        let mut f = OpenOptions::new().append(true).open(crashed.join(WAL)).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let db = DurableDb::open(&crashed, SyncMode::Fsync).unwrap();
        let t = db.open_tree("a").unwrap();
        assert_eq!(t.get(b"x").unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(t.get(b"y").unwrap(), None);
        // A checkpoint empties the log; the data stays.
        db.checkpoint().unwrap();
        assert_eq!(std::fs::metadata(crashed.join(WAL)).unwrap().len(), 0);
        assert!(!crashed.join(WAL_OLD).exists());
        assert_eq!(t.get(b"x").unwrap().as_deref(), Some(&b"3"[..]));
    }

    /// Random writes, removals, prefix scans and checkpoints (some from another thread) against a
    /// plain map; then what a crash at the end leaves, replayed, against the same map.
    #[test]
    fn reads_match_a_model_through_checkpoints_and_a_replay() {
        let dir = tempfile::tempdir().unwrap();
        let mut model = BTreeMap::<Vec<u8>, Vec<u8>>::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        {
            let db = DurableDb::open(dir.path(), SyncMode::Os).unwrap();
            let t = db.open_tree("t").unwrap();
            let background = {
                let db = db.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        db.checkpoint().unwrap();
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            };
            for round in 0..400 {
                let mut b = Batch::default();
                for _ in 0..rnd(8) + 1 {
                    let k = vec![rnd(4) as u8, rnd(16) as u8];
                    if rnd(4) == 0 {
                        b.remove(k.clone());
                        model.remove(&k);
                    } else {
                        let v = vec![round as u8, rnd(256) as u8];
                        b.insert(k.clone(), v.clone());
                        model.insert(k, v);
                    }
                }
                t.apply(b).unwrap();
                // Every key, every round: values cached from sled must follow the writes through
                // the background checkpoints.
                for k in (0..4u8).flat_map(|a| (0..16u8).map(move |b| vec![a, b])) {
                    assert_eq!(
                        t.get(&k).unwrap().map(|v| v.to_vec()),
                        model.get(&k).cloned(),
                        "{k:?} in round {round}"
                    );
                }
                let p = [rnd(4) as u8];
                let scanned: Vec<_> =
                    t.scan_prefix(p).unwrap().into_iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                let expected: Vec<_> =
                    model.iter().filter(|(k, _)| k.starts_with(&p)).map(|(k, v)| (k.clone(), v.clone())).collect();
                assert_eq!(scanned, expected, "scan of {p:?} in round {round}");
                if round % 97 == 0 {
                    db.checkpoint().unwrap();
                }
            }
            background.join().unwrap();
            copy_dir(dir.path(), &dir.path().join("crashed"));
        }
        let db = DurableDb::open(&dir.path().join("crashed"), SyncMode::Os).unwrap();
        let t = db.open_tree("t").unwrap();
        let all: BTreeMap<_, _> =
            t.scan_prefix([]).unwrap().into_iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(all, model);
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_name() == "crashed" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
}
