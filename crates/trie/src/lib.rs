#![doc = include_str!("../README.md")]

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_rlp::{Encodable, Header as RlpHeader};
use alloy_trie::EMPTY_ROOT_HASH;
use std::collections::HashMap;

/// A node the trie needed was not in the witness.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    /// A hashed node is not in the node source.
    #[error("trie node {0} missing from the witness")]
    MissingNode(B256),
    /// A node does not decode.
    #[error("malformed trie node: {0}")]
    Malformed(String),
}

/// Where hashed nodes come from.
pub trait NodeSource {
    /// The node whose keccak256 is `hash`.
    fn node(&self, hash: &B256) -> Option<Bytes>;
}

impl NodeSource for HashMap<B256, Bytes> {
    fn node(&self, hash: &B256) -> Option<Bytes> {
        self.get(hash).cloned()
    }
}

impl<T: NodeSource + ?Sized> NodeSource for std::sync::Arc<T> {
    fn node(&self, hash: &B256) -> Option<Bytes> {
        (**self).node(hash)
    }
}

/// An empty node source (a trie built from scratch).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNodes;

impl NodeSource for NoNodes {
    fn node(&self, _: &B256) -> Option<Bytes> {
        None
    }
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Leaf(Vec<u8>, Vec<u8>),
    Extension(Vec<u8>, Box<Node>),
    Branch(Box<[Node; 16]>, Option<Vec<u8>>),
    /// Not resolved yet: only its hash is known.
    Hash(B256),
}

/// The RLP of a leaf node holding `value` at the nibble path `suffix` (what sits in a branch's
/// slot for a key whose other nibbles are `suffix`). A caller that knows a key's value can
/// rebuild the leaf a proof would show and check it against the hash its parent references.
pub fn leaf_node(suffix: &[u8], value: &[u8]) -> Vec<u8> {
    SparseTrie::<NoNodes>::encode(&Node::Leaf(suffix.to_vec(), value.to_vec()))
}

/// The node at a path whose subtrie holds exactly `entries` (their key nibbles below that path,
/// and values; all the same length), and the nodes it references by hash: what a caller that
/// believes it knows every key under a path can rebuild, keeping it only if it hashes to what the
/// parent references. `None` for no entries.
pub fn subtrie_node(entries: &[(Vec<u8>, Vec<u8>)]) -> Option<(Vec<u8>, Nodes)> {
    fn build(entries: &[(&[u8], &[u8])]) -> Node {
        if let [(k, v)] = entries {
            return Node::Leaf(k.to_vec(), v.to_vec());
        }
        let first = entries[0].0;
        let common = entries.iter().map(|(k, _)| k.iter().zip(first).take_while(|(a, b)| a == b).count()).min();
        match common.unwrap_or(0) {
            0 => {
                let mut children: [Node; 16] = std::array::from_fn(|_| Node::Empty);
                for (i, child) in children.iter_mut().enumerate() {
                    let under: Vec<(&[u8], &[u8])> = entries
                        .iter()
                        .filter(|(k, _)| k.first() == Some(&(i as u8)))
                        .map(|(k, v)| (&k[1..], *v))
                        .collect();
                    if !under.is_empty() {
                        *child = build(&under);
                    }
                }
                Node::Branch(Box::new(children), None)
            }
            n => {
                let rest: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (&k[n..], *v)).collect();
                Node::Extension(first[..n].to_vec(), Box::new(build(&rest)))
            }
        }
    }
    if entries.is_empty() {
        return None;
    }
    let mut sorted: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut nodes = Vec::new();
    let node = SparseTrie::<NoNodes>::encode_collect(&build(&sorted), &mut nodes);
    Some((node, nodes))
}

/// Content-addressed trie nodes: `keccak(node) → node`.
pub type Nodes = Vec<(B256, Vec<u8>)>;

/// The nibbles of a key.
pub fn key_nibbles(key: &[u8]) -> Vec<u8> {
    nibbles(key)
}

/// A sparse Merkle-Patricia trie (keys are byte strings; the caller hashes them for secure tries).
#[derive(Debug, Clone)]
pub struct SparseTrie<S> {
    root: Node,
    source: S,
}

fn nibbles(key: &[u8]) -> Vec<u8> {
    key.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Hex-prefix encoding (yellow paper appendix C).
fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2 } else { 0 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        for c in path[1..].chunks(2) {
            out.push((c[0] << 4) | c[1]);
        }
    } else {
        out.push(flag << 4);
        for c in path.chunks(2) {
            out.push((c[0] << 4) | c[1]);
        }
    }
    out
}

fn decode_hex_prefix(b: &[u8]) -> Result<(Vec<u8>, bool), TrieError> {
    let first = *b.first().ok_or_else(|| TrieError::Malformed("empty path".into()))?;
    let leaf = first & 0x20 != 0;
    let odd = first & 0x10 != 0;
    let mut path = Vec::new();
    if odd {
        path.push(first & 0x0f);
    }
    for x in &b[1..] {
        path.push(x >> 4);
        path.push(x & 0x0f);
    }
    Ok((path, leaf))
}

fn empty_children() -> Box<[Node; 16]> {
    Box::new(std::array::from_fn(|_| Node::Empty))
}

/// Splits an RLP list payload into its raw items.
fn list_items(mut buf: &[u8]) -> Result<Vec<&[u8]>, TrieError> {
    let h = RlpHeader::decode(&mut buf).map_err(|e| TrieError::Malformed(e.to_string()))?;
    if !h.list {
        return Err(TrieError::Malformed("node is not a list".into()));
    }
    let mut payload = &buf[..h.payload_length];
    let mut items = Vec::new();
    while !payload.is_empty() {
        let start = payload;
        let ih = RlpHeader::decode(&mut payload).map_err(|e| TrieError::Malformed(e.to_string()))?;
        let consumed = start.len() - payload.len() + ih.payload_length;
        items.push(&start[..consumed]);
        payload = &payload[ih.payload_length..];
    }
    Ok(items)
}

fn string_payload(mut item: &[u8]) -> Result<&[u8], TrieError> {
    let h = RlpHeader::decode(&mut item).map_err(|e| TrieError::Malformed(e.to_string()))?;
    if h.list {
        return Err(TrieError::Malformed("expected a string".into()));
    }
    Ok(&item[..h.payload_length])
}

/// Decodes a child reference: a 32-byte hash, an inlined node, or empty.
fn decode_ref(item: &[u8]) -> Result<Node, TrieError> {
    if item.first().is_some_and(|b| *b >= 0xc0) {
        return decode_node(item);
    }
    let p = string_payload(item)?;
    match p.len() {
        0 => Ok(Node::Empty),
        32 => Ok(Node::Hash(B256::from_slice(p))),
        n => Err(TrieError::Malformed(format!("child reference of {n} bytes"))),
    }
}

fn decode_node(raw: &[u8]) -> Result<Node, TrieError> {
    let items = list_items(raw)?;
    match items.len() {
        2 => {
            let (path, leaf) = decode_hex_prefix(string_payload(items[0])?)?;
            if leaf {
                Ok(Node::Leaf(path, string_payload(items[1])?.to_vec()))
            } else {
                Ok(Node::Extension(path, Box::new(decode_ref(items[1])?)))
            }
        }
        17 => {
            let mut children = empty_children();
            for (i, c) in items[..16].iter().enumerate() {
                children[i] = decode_ref(c)?;
            }
            let value = string_payload(items[16])?;
            Ok(Node::Branch(children, (!value.is_empty()).then(|| value.to_vec())))
        }
        n => Err(TrieError::Malformed(format!("node with {n} items"))),
    }
}

/// A branch node from its 16 child references and its value.
fn branch_node(mut refs: Vec<Vec<u8>>, value: Option<&[u8]>) -> Vec<u8> {
    let mut v = Vec::new();
    encode_string(value.unwrap_or_default(), &mut v);
    refs.push(v);
    encode_list(&refs)
}

/// How a parent refers to a node by its hash: the hash as an RLP string.
fn hash_reference(h: &B256) -> Vec<u8> {
    let mut v = Vec::with_capacity(33);
    encode_string(h.as_slice(), &mut v);
    v
}

fn encode_string(b: &[u8], out: &mut Vec<u8>) {
    b.encode(out);
}

fn encode_list(items: &[Vec<u8>]) -> Vec<u8> {
    let len: usize = items.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(len + 4);
    RlpHeader { list: true, payload_length: len }.encode(&mut out);
    for i in items {
        out.extend_from_slice(i);
    }
    out
}

impl<S: NodeSource> SparseTrie<S> {
    /// A trie with root `root`, resolving nodes from `source`.
    pub fn new(root: B256, source: S) -> Self {
        let root = if root == EMPTY_ROOT_HASH { Node::Empty } else { Node::Hash(root) };
        Self { root, source }
    }

    fn resolve(source: &S, node: &mut Node) -> Result<(), TrieError> {
        if let Node::Hash(h) = node {
            let raw = source.node(h).ok_or(TrieError::MissingNode(*h))?;
            *node = decode_node(&raw)?;
        }
        Ok(())
    }

    /// The value at `key`.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        self.get_path(&nibbles(key))
    }

    /// The value at the nibble path `path` (a key's nibbles; below the root of a trie split off
    /// by [`SparseTrie::split_root`], the nibbles after the first).
    pub fn get_path(&mut self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        let mut node = &mut self.root;
        let mut rest: &[u8] = path;
        loop {
            Self::resolve(&self.source, node)?;
            match node {
                Node::Empty => return Ok(None),
                Node::Leaf(p, v) => return Ok((p.as_slice() == rest).then(|| v.clone())),
                Node::Extension(p, child) => {
                    if !rest.starts_with(p) {
                        return Ok(None);
                    }
                    rest = &rest[p.len()..];
                    node = child;
                }
                Node::Branch(children, value) => {
                    let Some((first, tail)) = rest.split_first() else { return Ok(value.clone()) };
                    rest = tail;
                    node = &mut children[*first as usize];
                }
                Node::Hash(_) => unreachable!("resolved above"),
            }
        }
    }

    /// The EIP-1186 proof of `key`: the RLP of every node on its path from the root, as stored
    /// (a node shorter than 32 bytes sits inside its parent and is not listed on its own). Proves
    /// presence or absence alike.
    pub fn proof(&mut self, key: &[u8]) -> Result<Vec<Bytes>, TrieError> {
        let path = nibbles(key);
        let mut out = Vec::new();
        let mut node = &mut self.root;
        let mut rest: &[u8] = &path;
        let mut first = true;
        loop {
            Self::resolve(&self.source, node)?;
            if matches!(node, Node::Empty) {
                return Ok(out);
            }
            // Listed on its own when its parent refers to it by hash (32 bytes or longer).
            let encoded = Self::encode(node);
            if first || encoded.len() >= 32 {
                out.push(Bytes::from(encoded));
            }
            first = false;
            match node {
                Node::Empty | Node::Leaf(..) => return Ok(out),
                Node::Extension(p, child) => {
                    if !rest.starts_with(p) {
                        return Ok(out);
                    }
                    rest = &rest[p.len()..];
                    node = child;
                }
                Node::Branch(children, _) => {
                    let Some((first, tail)) = rest.split_first() else { return Ok(out) };
                    rest = tail;
                    node = &mut children[*first as usize];
                }
                Node::Hash(_) => unreachable!("resolved above"),
            }
        }
    }

    /// Where a node known only by `hash` hangs off the path to `key`: the nibble path of the
    /// branch slot that references it, if a branch on the way does. (A deletion that collapses
    /// a branch needs that sibling; a caller that cannot fetch nodes by hash can look for a key
    /// under that path instead.)
    pub fn sibling_path(&mut self, key: &[u8], hash: B256) -> Result<Option<Vec<u8>>, TrieError> {
        let path = nibbles(key);
        let mut node = &mut self.root;
        let mut done = 0;
        loop {
            Self::resolve(&self.source, node)?;
            match node {
                Node::Empty | Node::Leaf(..) | Node::Hash(_) => return Ok(None),
                Node::Extension(p, child) => {
                    if !path[done..].starts_with(p) {
                        return Ok(None);
                    }
                    done += p.len();
                    node = child;
                }
                Node::Branch(children, _) => {
                    if let Some(j) = children.iter().position(|c| matches!(c, Node::Hash(h) if *h == hash)) {
                        let mut at = path[..done].to_vec();
                        at.push(j as u8);
                        return Ok(Some(at));
                    }
                    let Some(first) = path.get(done) else { return Ok(None) };
                    done += 1;
                    node = &mut children[*first as usize];
                }
            }
        }
    }

    /// Sets `key` to `value` (an empty value deletes).
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Result<(), TrieError> {
        self.insert_path(&nibbles(key), value)
    }

    /// [`SparseTrie::insert`] at a nibble path (see [`SparseTrie::get_path`]).
    pub fn insert_path(&mut self, path: &[u8], value: Vec<u8>) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.remove_path(path);
        }
        let root = std::mem::replace(&mut self.root, Node::Empty);
        self.root = Self::insert_at(&self.source, root, path, value)?;
        Ok(())
    }

    fn insert_at(source: &S, mut node: Node, path: &[u8], value: Vec<u8>) -> Result<Node, TrieError> {
        Self::resolve(source, &mut node)?;
        Ok(match node {
            Node::Empty => Node::Leaf(path.to_vec(), value),
            Node::Leaf(p, v) => {
                if p == path {
                    return Ok(Node::Leaf(p, value));
                }
                let n = common_prefix(&p, path);
                let mut branch = Node::Branch(empty_children(), None);
                branch = Self::place(branch, &p[n..], Node::Leaf(Vec::new(), v));
                branch = Self::place(branch, &path[n..], Node::Leaf(Vec::new(), value));
                if n == 0 { branch } else { Node::Extension(path[..n].to_vec(), Box::new(branch)) }
            }
            Node::Extension(p, child) => {
                let n = common_prefix(&p, path);
                if n == p.len() {
                    return Ok(Node::Extension(p, Box::new(Self::insert_at(source, *child, &path[n..], value)?)));
                }
                let mut children = empty_children();
                let ext_rest = &p[n + 1..];
                children[p[n] as usize] =
                    if ext_rest.is_empty() { *child } else { Node::Extension(ext_rest.to_vec(), child) };
                let branch = Self::place(Node::Branch(children, None), &path[n..], Node::Leaf(Vec::new(), value));
                if n == 0 { branch } else { Node::Extension(path[..n].to_vec(), Box::new(branch)) }
            }
            Node::Branch(mut children, v) => {
                let Some((first, rest)) = path.split_first() else { return Ok(Node::Branch(children, Some(value))) };
                let i = *first as usize;
                let child = std::mem::replace(&mut children[i], Node::Empty);
                children[i] = Self::insert_at(source, child, rest, value)?;
                Node::Branch(children, v)
            }
            Node::Hash(_) => unreachable!("resolved above"),
        })
    }

    /// Puts a value-carrying leaf at `path` below a fresh branch (the branch's own value slot when
    /// the path ends here).
    fn place(branch: Node, path: &[u8], leaf: Node) -> Node {
        let Node::Branch(mut children, value) = branch else { unreachable!("placing into a branch") };
        let Node::Leaf(_, v) = leaf else { unreachable!("placing a leaf") };
        match path.split_first() {
            None => Node::Branch(children, Some(v)),
            Some((first, rest)) => {
                children[*first as usize] = Node::Leaf(rest.to_vec(), v);
                Node::Branch(children, value)
            }
        }
    }

    /// Deletes `key` (a missing key is not an error).
    pub fn remove(&mut self, key: &[u8]) -> Result<(), TrieError> {
        self.remove_path(&nibbles(key))
    }

    /// [`SparseTrie::remove`] at a nibble path (see [`SparseTrie::get_path`]).
    pub fn remove_path(&mut self, path: &[u8]) -> Result<(), TrieError> {
        let root = std::mem::replace(&mut self.root, Node::Empty);
        self.root = Self::remove_at(&self.source, root, path)?;
        Ok(())
    }

    /// Splits off the 16 subtries below a root that is a branch without a value (what a trie of
    /// hashed keys has once it holds more than a handful): each is a trie of its own, keyed by
    /// the nibbles after the first, to be updated apart (on other threads) and put back with
    /// [`SparseTrie::join_root`]. `None` (and the trie unchanged) for any other root.
    pub fn split_root(&mut self) -> Result<Option<Vec<Self>>, TrieError>
    where
        S: Clone,
    {
        Self::resolve(&self.source, &mut self.root)?;
        let Node::Branch(children, None) = &mut self.root else { return Ok(None) };
        Ok(Some(
            children
                .iter_mut()
                .map(|c| Self { root: std::mem::replace(c, Node::Empty), source: self.source.clone() })
                .collect(),
        ))
    }

    /// Puts back the subtries [`SparseTrie::split_root`] took (in order); a root left with one
    /// child collapses into it, as after a removal.
    pub fn join_root(&mut self, subtries: Vec<Self>) -> Result<(), TrieError> {
        let Node::Branch(children, None) = &mut self.root else {
            return Err(TrieError::Malformed("join_root on a trie that was not split".into()));
        };
        if subtries.len() != 16 {
            return Err(TrieError::Malformed(format!("join_root with {} subtries", subtries.len())));
        }
        for (c, t) in children.iter_mut().zip(subtries) {
            *c = t.root;
        }
        let live: Vec<usize> = (0..16).filter(|j| !matches!(children[*j], Node::Empty)).collect();
        match live.as_slice() {
            [] => self.root = Node::Empty,
            [j] => {
                let mut only = std::mem::replace(&mut children[*j], Node::Empty);
                Self::resolve(&self.source, &mut only)?;
                self.root = Self::join(vec![*j as u8], only);
            }
            _ => {}
        }
        Ok(())
    }

    fn remove_at(source: &S, mut node: Node, path: &[u8]) -> Result<Node, TrieError> {
        Self::resolve(source, &mut node)?;
        Ok(match node {
            Node::Empty => Node::Empty,
            Node::Leaf(p, v) => {
                if p == path {
                    Node::Empty
                } else {
                    Node::Leaf(p, v)
                }
            }
            Node::Extension(p, child) => {
                if !path.starts_with(&p) {
                    return Ok(Node::Extension(p, child));
                }
                let child = Self::remove_at(source, *child, &path[p.len()..])?;
                Self::join(p, child)
            }
            Node::Branch(mut children, mut value) => {
                match path.split_first() {
                    None => value = None,
                    Some((first, rest)) => {
                        let i = *first as usize;
                        let child = std::mem::replace(&mut children[i], Node::Empty);
                        children[i] = Self::remove_at(source, child, rest)?;
                    }
                }
                let live: Vec<usize> = (0..16).filter(|j| !matches!(children[*j], Node::Empty)).collect();
                if live.is_empty() {
                    return Ok(value.map_or(Node::Empty, |v| Node::Leaf(Vec::new(), v)));
                }
                if live.len() != 1 || value.is_some() {
                    return Ok(Node::Branch(children, value));
                }
                // One child left: the branch collapses into it (its node must be known).
                let j = live[0];
                let mut only = std::mem::replace(&mut children[j], Node::Empty);
                Self::resolve(source, &mut only)?;
                Self::join(vec![j as u8], only)
            }
            Node::Hash(_) => unreachable!("resolved above"),
        })
    }

    /// `prefix` followed by `child`, normalised (no extension to a leaf or extension).
    fn join(mut prefix: Vec<u8>, child: Node) -> Node {
        match child {
            Node::Empty => Node::Empty,
            Node::Leaf(p, v) => {
                prefix.extend(p);
                Node::Leaf(prefix, v)
            }
            Node::Extension(p, c) => {
                prefix.extend(p);
                Node::Extension(prefix, c)
            }
            other => Node::Extension(prefix, Box::new(other)),
        }
    }

    /// The root hash and every node the trie holds in memory (content-addressed: `keccak(node) →
    /// node`), for persisting what an update created. Nodes shorter than 32 bytes are inlined in
    /// their parent and not listed, except the root.
    pub fn root_with_nodes(&self) -> (B256, Vec<(B256, Vec<u8>)>) {
        let mut nodes = Vec::new();
        let root = match &self.root {
            Node::Empty => EMPTY_ROOT_HASH,
            Node::Hash(h) => *h,
            n => {
                let enc = Self::encode_collect(n, &mut nodes);
                Self::push_root(enc, &mut nodes)
            }
        };
        (root, nodes)
    }

    /// The root is always referenced by hash, whatever its size: hashes it and lists it last.
    fn push_root(enc: Vec<u8>, nodes: &mut Vec<(B256, Vec<u8>)>) -> B256 {
        let h = keccak256(&enc);
        nodes.push((h, enc));
        h
    }

    /// [`SparseTrie::root_with_nodes`], the root's 16 subtries encoded and hashed on two threads
    /// when the root is a branch (the same result).
    pub fn root_with_nodes_parallel(&self) -> (B256, Vec<(B256, Vec<u8>)>) {
        let Node::Branch(children, value) = &self.root else { return self.root_with_nodes() };
        let encode_half = |half: &[Node]| {
            let mut nodes = Vec::new();
            let refs: Vec<Vec<u8>> = half.iter().map(|c| Self::reference_collect(c, &mut nodes)).collect();
            (refs, nodes)
        };
        let ((mut refs, mut nodes), (refs_b, nodes_b)) = std::thread::scope(|s| {
            let b = s.spawn(|| encode_half(&children[8..]));
            let a = encode_half(&children[..8]);
            (a, b.join().expect("trie hashing thread"))
        });
        refs.extend(refs_b);
        nodes.extend(nodes_b);
        let root = Self::push_root(branch_node(refs, value.as_deref()), &mut nodes);
        (root, nodes)
    }

    /// How a parent refers to `c`: by hash (its node then goes to `out`), or inline when its
    /// encoding is shorter than 32 bytes.
    fn reference_collect(c: &Node, out: &mut Vec<(B256, Vec<u8>)>) -> Vec<u8> {
        match c {
            Node::Empty => vec![0x80],
            Node::Hash(h) => hash_reference(h),
            n => {
                let enc = Self::encode_collect(n, out);
                if enc.len() < 32 {
                    enc
                } else {
                    let h = keccak256(&enc);
                    out.push((h, enc));
                    hash_reference(&h)
                }
            }
        }
    }

    fn encode_collect(node: &Node, out: &mut Vec<(B256, Vec<u8>)>) -> Vec<u8> {
        match node {
            Node::Extension(p, c) => {
                let mut a = Vec::new();
                encode_string(&hex_prefix(p, false), &mut a);
                let r = Self::reference_collect(c, out);
                encode_list(&[a, r])
            }
            Node::Branch(children, value) => {
                branch_node(children.iter().map(|c| Self::reference_collect(c, out)).collect(), value.as_deref())
            }
            other => Self::encode(other),
        }
    }

    /// The root hash.
    pub fn root(&self) -> B256 {
        match &self.root {
            Node::Empty => EMPTY_ROOT_HASH,
            Node::Hash(h) => *h,
            n => keccak256(Self::encode(n)),
        }
    }

    fn encode(node: &Node) -> Vec<u8> {
        match node {
            Node::Empty => vec![0x80],
            Node::Hash(h) => hash_reference(h),
            Node::Leaf(p, v) => {
                let mut a = Vec::new();
                encode_string(&hex_prefix(p, true), &mut a);
                let mut b = Vec::new();
                encode_string(v, &mut b);
                encode_list(&[a, b])
            }
            Node::Extension(p, c) => {
                let mut a = Vec::new();
                encode_string(&hex_prefix(p, false), &mut a);
                encode_list(&[a, Self::reference(c)])
            }
            Node::Branch(children, value) => {
                branch_node(children.iter().map(Self::reference).collect(), value.as_deref())
            }
        }
    }

    /// How a parent refers to `node`: inline when its encoding is shorter than 32 bytes.
    fn reference(node: &Node) -> Vec<u8> {
        match node {
            Node::Empty => vec![0x80],
            Node::Hash(h) => hash_reference(h),
            n => {
                let enc = Self::encode(n);
                if enc.len() < 32 { enc } else { hash_reference(&keccak256(&enc)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_subtrie_rebuilt_from_all_its_keys_is_the_tries_own_node() {
        let entries: Vec<(B256, Vec<u8>)> =
            (0u64..300).map(|i| (keccak256(i.to_be_bytes()), vec![0xaa; 1 + (i % 40) as usize])).collect();
        let mut t = SparseTrie::new(EMPTY_ROOT_HASH, NoNodes);
        for (k, v) in &entries {
            t.insert(k.as_slice(), v.clone()).unwrap();
        }
        let (root, nodes) = t.root_with_nodes();
        let all: Vec<(Vec<u8>, Vec<u8>)> = entries.iter().map(|(k, v)| (nibbles(k.as_slice()), v.clone())).collect();
        assert_eq!(keccak256(subtrie_node(&all).unwrap().0), root);
        let known: std::collections::HashSet<B256> = nodes.iter().map(|(h, _)| *h).collect();
        for depth in 1..=2usize {
            for prefix in [vec![3u8; depth], vec![0xf; depth], all[7].0[..depth].to_vec()] {
                let under: Vec<(Vec<u8>, Vec<u8>)> = all
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| (k[depth..].to_vec(), v.clone()))
                    .collect();
                let (node, below) = subtrie_node(&under).unwrap();
                assert!(known.contains(&keccak256(&node)), "the node at {prefix:?}");
                assert!(below.iter().all(|(h, n)| known.contains(h) && keccak256(n) == *h));
                // Missing one key, it is another node.
                if under.len() > 1 {
                    let (short, _) = subtrie_node(&under[1..]).unwrap();
                    assert!(!known.contains(&keccak256(&short)));
                }
            }
        }
        assert!(subtrie_node(&[]).is_none());
    }

    use super::*;
    use alloy_primitives::{U256, hex};

    fn bytes_of(s: &serde_json::Value) -> Option<Vec<u8>> {
        let s = s.as_str()?;
        Some(match s.strip_prefix("0x") {
            Some(h) => hex::decode(h).unwrap(),
            None => s.as_bytes().to_vec(),
        })
    }

    /// ethereum/tests TrieTests (in ../shared/fixtures when present): roots after ordered inserts
    /// and deletions, plain and secure.
    #[test]
    fn ethereum_trie_tests() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/ethereum-tests/TrieTests");
        if !dir.exists() {
            println!("skipped: {} not present (the fixtures live beside the repository)", dir.display());
            return;
        }
        let mut checked = 0;
        for (file, secure) in [
            ("trietest.json", false),
            ("trietest_secureTrie.json", true),
            ("trieanyorder.json", false),
            ("trieanyorder_secureTrie.json", true),
            ("hex_encoded_securetrie_test.json", true),
        ] {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
            for (name, t) in v.as_object().unwrap() {
                let mut trie = SparseTrie::new(EMPTY_ROOT_HASH, NoNodes);
                let pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = match &t["in"] {
                    serde_json::Value::Array(a) => {
                        a.iter().map(|p| (bytes_of(&p[0]).unwrap(), bytes_of(&p[1]))).collect()
                    }
                    serde_json::Value::Object(m) => m
                        .iter()
                        .map(|(k, v)| (bytes_of(&serde_json::Value::String(k.clone())).unwrap(), bytes_of(v)))
                        .collect(),
                    _ => unreachable!(),
                };
                for (k, v) in pairs {
                    let k = if secure { keccak256(&k).to_vec() } else { k };
                    match v {
                        Some(v) if !v.is_empty() => trie.insert(&k, v).unwrap(),
                        _ => trie.remove(&k).unwrap(),
                    }
                }
                let want: B256 = t["root"].as_str().unwrap().parse().unwrap();
                assert_eq!(trie.root(), want, "{file} {name}");
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} trie tests ran");
    }

    #[test]
    fn updates_on_a_witness_match_a_full_rebuild() {
        // Build a trie, keep its nodes as a witness, then update a sparse copy and compare roots
        // with alloy-trie's HashBuilder over the final leaf set.
        let mut full = SparseTrie::new(EMPTY_ROOT_HASH, NoNodes);
        let mut leaves = std::collections::BTreeMap::new();
        for i in 0..200u64 {
            let k = keccak256(i.to_be_bytes());
            let mut v = Vec::new();
            U256::from(i + 1).encode(&mut v);
            full.insert(k.as_slice(), v.clone()).unwrap();
            leaves.insert(k, v);
        }
        let mut witness = HashMap::new();
        collect(&full.root, &mut witness);
        let mut sparse = SparseTrie::new(full.root(), witness);
        for i in (0..200u64).step_by(3) {
            let k = keccak256(i.to_be_bytes());
            sparse.remove(k.as_slice()).unwrap();
            leaves.remove(&k);
        }
        for i in 1000..1010u64 {
            let k = keccak256(i.to_be_bytes());
            sparse.insert(k.as_slice(), vec![0x2a]).unwrap();
            leaves.insert(k, vec![0x2a]);
        }
        let mut hb = alloy_trie::HashBuilder::default();
        for (k, v) in &leaves {
            hb.add_leaf(alloy_trie::Nibbles::unpack(k), v);
        }
        assert_eq!(sparse.root(), hb.root());
        assert_eq!(
            sparse.get(keccak256(1u64.to_be_bytes()).as_slice()).unwrap(),
            leaves.get(&keccak256(1u64.to_be_bytes())).cloned()
        );
    }

    /// A split root updated apart (subtries on two threads) and joined again gives the trie the
    /// same updates made in place give, node for node; hashing the halves on two threads gives
    /// the same root and nodes. Removals include emptying all but one child of the root (the
    /// join collapses it) and all of them.
    #[test]
    fn a_split_root_updated_apart_matches_updates_in_place() {
        let key = |i: u64| keccak256(i.to_be_bytes());
        let value = |i: u64| {
            let mut v = Vec::new();
            U256::from(i * 7 + 1).encode(&mut v);
            v
        };
        let mut base = SparseTrie::new(EMPTY_ROOT_HASH, NoNodes);
        for i in 0..300u64 {
            base.insert(key(i).as_slice(), value(i)).unwrap();
        }
        let mut witness = HashMap::new();
        collect(&base.root, &mut witness);
        let base_root = base.root();
        // (upserts as (key, value seed), removals)
        type Scenario = (Vec<(u64, u64)>, Vec<u64>);
        let scenarios: Vec<Scenario> = vec![
            (
                (0..300).step_by(2).map(|i| (i, i + 1000)).chain((300..400).map(|i| (i, i))).collect(),
                (1..300).step_by(7).collect(),
            ),
            (vec![], (0..300).filter(|i| key(*i)[0] >> 4 != 3).collect()),
            (vec![], (0..300).collect()),
        ];
        for (n, (upserts, removals)) in scenarios.into_iter().enumerate() {
            let mut in_place = SparseTrie::new(base_root, witness.clone());
            for (k, v) in &upserts {
                in_place.insert(key(*k).as_slice(), value(*v)).unwrap();
            }
            for k in &removals {
                in_place.remove(key(*k).as_slice()).unwrap();
            }
            let mut split = SparseTrie::new(base_root, witness.clone());
            let mut subtries = split.split_root().unwrap().expect("a branch root");
            let (low, high) = subtries.split_at_mut(8);
            std::thread::scope(|s| {
                for (offset, half) in [(0u8, low), (8u8, high)] {
                    let (upserts, removals) = (&upserts, &removals);
                    s.spawn(move || {
                        let mine = |k: &u64| {
                            let path = key_nibbles(key(*k).as_slice());
                            (path[0] >= offset && path[0] < offset + 8).then_some(path)
                        };
                        for (k, v) in upserts {
                            if let Some(path) = mine(k) {
                                half[(path[0] - offset) as usize].insert_path(&path[1..], value(*v)).unwrap();
                            }
                        }
                        for k in removals {
                            if let Some(path) = mine(k) {
                                half[(path[0] - offset) as usize].remove_path(&path[1..]).unwrap();
                            }
                        }
                    });
                }
            });
            split.join_root(subtries).unwrap();
            assert_eq!(split.root_with_nodes(), in_place.root_with_nodes(), "scenario {n}");
            assert_eq!(
                split.root_with_nodes_parallel(),
                in_place.root_with_nodes(),
                "scenario {n}, hashed on two threads"
            );
            for (k, _) in &upserts {
                let path = key_nibbles(key(*k).as_slice());
                assert_eq!(split.get_path(&path).unwrap(), in_place.get(key(*k).as_slice()).unwrap());
            }
        }
    }

    fn collect(node: &Node, out: &mut HashMap<B256, Bytes>) {
        let enc = SparseTrie::<NoNodes>::encode(node);
        out.insert(keccak256(&enc), enc.into());
        match node {
            Node::Extension(_, c) => collect(c, out),
            Node::Branch(ch, _) => ch.iter().for_each(|c| collect(c, out)),
            _ => {}
        }
    }

    /// Proof-only updates: the witness is the proofs (alloy-trie's `ProofRetainer`) of the keys a
    /// block writes, as `eth_getProof` would give them; inserts and updates, then deletions,
    /// must give the root of the final leaf set. A deletion that collapses a branch onto a
    /// sibling no proof showed is a `MissingNode` error (never a root); `sibling_path` says where
    /// it hangs, and the proof of a key under it (what the forked store fetches) resolves it.
    /// Sizes and values like a token's storage, 40 seeds.
    #[test]
    fn updates_over_proofs_of_the_touched_keys_only() {
        use alloy_trie::{HashBuilder, Nibbles, proof::ProofRetainer};
        let mut resolved = 0;
        for seed in 0..40u64 {
            let n = 6 + seed % 20;
            let mut before = std::collections::BTreeMap::new();
            for i in 0..n {
                let mut v = Vec::new();
                U256::from(1000 + i).encode(&mut v);
                before.insert(keccak256((seed * 1000 + i).to_be_bytes()), v);
            }
            let proof_of = |targets: &[B256]| -> (B256, HashMap<B256, Bytes>) {
                let retain = ProofRetainer::new(targets.iter().map(|k| Nibbles::unpack(k)).collect());
                let mut hb = HashBuilder::default().with_proof_retainer(retain);
                for (k, v) in &before {
                    hb.add_leaf(Nibbles::unpack(k), v);
                }
                let root = hb.root();
                (root, hb.take_proof_nodes().into_nodes_sorted().into_iter().map(|(_, n)| (keccak256(&n), n)).collect())
            };
            let keys: Vec<B256> = before.keys().copied().collect();
            let clears: Vec<B256> = keys.iter().step_by(3).copied().collect();
            let updates: Vec<B256> = keys.iter().skip(1).step_by(5).filter(|k| !clears.contains(k)).copied().collect();
            let inserts: Vec<B256> =
                (0..1 + seed % 7).map(|i| keccak256((seed * 1000 + 500 + i).to_be_bytes())).collect();
            let mut targets: Vec<B256> = clears.iter().chain(&updates).chain(&inserts).copied().collect();
            let mut after = before.clone();
            for k in updates.iter().chain(&inserts) {
                after.insert(*k, vec![0x2a]);
            }
            for k in &clears {
                after.remove(k);
            }
            let got = loop {
                let (root, witness) = proof_of(&targets);
                let mut sparse = SparseTrie::new(root, witness.clone());
                for k in updates.iter().chain(&inserts) {
                    sparse.insert(k.as_slice(), vec![0x2a]).unwrap();
                }
                let failed = clears.iter().find_map(|k| match sparse.remove(k.as_slice()) {
                    Ok(()) => None,
                    Err(TrieError::MissingNode(h)) => Some((*k, h)),
                    Err(e) => panic!("seed {seed}: {e}"),
                });
                let Some((k, h)) = failed else { break sparse.root() };
                let at = SparseTrie::new(root, witness).sibling_path(k.as_slice(), h).unwrap().expect("on the path");
                let under = *before.keys().find(|x| nibbles(x.as_slice()).starts_with(&at)).expect("a key under it");
                assert!(!targets.contains(&under), "seed {seed}: its proof was there already");
                targets.push(under);
                resolved += 1;
            };
            let mut want = HashBuilder::default();
            for (k, v) in &after {
                want.add_leaf(Nibbles::unpack(k), v);
            }
            assert_eq!(got, want.root(), "seed {seed}");
        }
        assert!(resolved >= 10, "only {resolved} collapses: the test no longer covers them");
    }

    /// Proofs of present and absent keys verify with alloy-trie's EIP-1186 verifier.
    #[test]
    fn proofs_verify_with_alloy_trie() {
        let mut full = SparseTrie::new(EMPTY_ROOT_HASH, NoNodes);
        for i in 0..300u64 {
            let mut v = Vec::new();
            U256::from(i + 1).encode(&mut v);
            full.insert(keccak256(i.to_be_bytes()).as_slice(), v).unwrap();
        }
        let mut witness = HashMap::new();
        collect(&full.root, &mut witness);
        let root = full.root();
        let mut t = SparseTrie::new(root, witness);
        for i in [0u64, 7, 299, 300, 1_000] {
            let k = keccak256(i.to_be_bytes());
            let proof = t.proof(k.as_slice()).unwrap();
            let want = t.get(k.as_slice()).unwrap();
            assert_eq!(want.is_some(), i < 300);
            alloy_trie::proof::verify_proof(root, alloy_trie::Nibbles::unpack(k), want, &proof)
                .unwrap_or_else(|e| panic!("key {i}: {e}"));
        }
    }

    #[test]
    fn a_missing_witness_node_is_an_error_not_a_wrong_root() {
        let mut t = SparseTrie::new(B256::repeat_byte(1), HashMap::new());
        assert_eq!(t.get(&[1]), Err(TrieError::MissingNode(B256::repeat_byte(1))));
    }
}
