//! An in-memory cache of state trie nodes in front of the tree.
//!
//! Nodes are content-addressed (the key is the node's keccak256) and never rewritten, so a cached
//! node can never be stale: the cache needs no invalidation, only a bound. A block's trie update
//! reads every node on the paths of the keys it touches; without the cache each read went through
//! the commit log's buffer and sled (≈ 1.5–2 µs, 40 ms of a 10k-transfer block's 50 ms update).
//! The nodes a commit writes go in too, so the next block finds its paths here.
//!
//! Two generations bound it: inserts and hits go to the young one; when the young one holds more
//! than half the budget it becomes the old one (the previous old one is dropped). A node read
//! from the old generation moves to the young one, so what blocks keep touching stays.

use alloy_primitives::{B256, Bytes};
use parking_lot::RwLock;
use std::collections::HashMap;

/// The default budget: about 256 MiB of node bytes (a million-account trie's upper levels and
/// the recent blocks' paths fit many times over).
pub const DEFAULT_NODE_CACHE_BYTES: usize = 256 << 20;

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<B256, Bytes>,
    young_bytes: usize,
    old: HashMap<B256, Bytes>,
}

/// A bounded cache of trie nodes by hash (see the module docs).
#[derive(Debug)]
pub(crate) struct NodeCache {
    budget: usize,
    inner: RwLock<Generations>,
}

impl Default for NodeCache {
    fn default() -> Self {
        Self::new(DEFAULT_NODE_CACHE_BYTES)
    }
}

impl NodeCache {
    pub(crate) fn new(budget: usize) -> Self {
        Self { budget, inner: RwLock::default() }
    }

    /// The node whose hash is `hash`, if cached.
    pub(crate) fn get(&self, hash: &B256) -> Option<Bytes> {
        let old = {
            let g = self.inner.read();
            if let Some(n) = g.young.get(hash) {
                return Some(n.clone());
            }
            g.old.get(hash)?.clone()
        };
        self.extend([(*hash, old.clone())]);
        Some(old)
    }

    /// Caches each node under its hash (its keccak256), under one lock.
    pub(crate) fn extend(&self, nodes: impl IntoIterator<Item = (B256, Bytes)>) {
        let mut g = self.inner.write();
        for (hash, node) in nodes {
            let len = node.len() + 64;
            if g.young.insert(hash, node).is_none() {
                g.young_bytes += len;
            }
            if g.young_bytes > self.budget / 2 {
                g.old = std::mem::take(&mut g.young);
                g.young_bytes = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_cache_keeps_what_is_read_and_forgets_the_rest() {
        // 72 bytes per entry as counted: the young generation turns over at its sixth entry.
        let cache = NodeCache::new(10 * 72);
        let h = |i: u8| B256::repeat_byte(i);
        let node = |i: u8| Bytes::from(vec![i; 8]);
        cache.extend((0..6).map(|i| (h(i), node(i))));
        assert!(cache.inner.read().young.is_empty(), "six entries turned the young generation over");
        // Read from the old generation: moved to the young one.
        assert_eq!(cache.get(&h(3)), Some(node(3)));
        cache.extend((6..11).map(|i| (h(i), node(i))));
        // The second turnover dropped the first generation but for the node read in between.
        for gone in [0, 1, 2, 4, 5] {
            assert_eq!(cache.get(&h(gone)), None, "node {gone}");
        }
        for kept in [3, 6, 10] {
            assert_eq!(cache.get(&h(kept)), Some(node(kept)), "node {kept}");
        }
    }
}
