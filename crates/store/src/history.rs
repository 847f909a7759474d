//! What reorgs need: per-block change records (the diff and its revert) in a compact binary
//! layout, and the composition of diffs into one.
use crate::StoreError;
use alloy_primitives::{Address, B256, Bytes, U256};
use opseq_primitives::{AccountChange, AccountState, StateDiff};
use std::collections::{BTreeMap, HashMap};

/// Diffs applied one after the other, folded into one: for every account the last `info`, and
/// its storage as the last value of each slot written; an account whose storage was wiped (or
/// that was deleted) on the way carries `wipe_storage` and the slots written after the wipe.
#[derive(Debug, Default)]
pub(crate) struct Composed {
    accounts: BTreeMap<Address, (AccountChange, HashMap<U256, U256>)>,
}

impl Composed {
    /// Applies `diff` after everything composed so far.
    pub(crate) fn push(&mut self, diff: &StateDiff) {
        for c in &diff.accounts {
            let (acc, slots) = self.accounts.entry(c.address).or_insert_with(|| {
                (
                    AccountChange { address: c.address, info: None, wipe_storage: false, storage: vec![], code: None },
                    HashMap::new(),
                )
            });
            acc.info = c.info;
            if c.wipe_storage || c.info.is_none() {
                acc.wipe_storage = true;
                slots.clear();
            }
            slots.extend(c.storage.iter().copied());
            if c.code.is_some() {
                acc.code.clone_from(&c.code);
            }
        }
    }

    /// The composed diff, accounts sorted by address, slots by key.
    pub(crate) fn finish(self) -> StateDiff {
        StateDiff {
            accounts: self
                .accounts
                .into_values()
                .map(|(mut acc, slots)| {
                    let mut storage: Vec<_> = slots.into_iter().collect();
                    storage.sort_unstable_by_key(|(k, _)| *k);
                    acc.storage = storage;
                    acc
                })
                .collect(),
        }
    }
}

const F_INFO: u8 = 1;
const F_WIPE: u8 = 2;
const F_CODE: u8 = 4;

/// `u32 n`, n × (`address ‖ flags ‖ [info 72] ‖ u32 m ‖ m × (slot ‖ value) ‖ [u32 len ‖ code]`).
pub(crate) fn encode_diff(d: &StateDiff, out: &mut Vec<u8>) {
    out.extend_from_slice(&(d.accounts.len() as u32).to_be_bytes());
    for c in &d.accounts {
        out.extend_from_slice(c.address.as_slice());
        let flags = if c.info.is_some() { F_INFO } else { 0 }
            | if c.wipe_storage { F_WIPE } else { 0 }
            | if c.code.is_some() { F_CODE } else { 0 };
        out.push(flags);
        if let Some(i) = &c.info {
            out.extend_from_slice(&i.nonce.to_be_bytes());
            out.extend_from_slice(&i.balance.to_be_bytes::<32>());
            out.extend_from_slice(i.code_hash.as_slice());
        }
        out.extend_from_slice(&(c.storage.len() as u32).to_be_bytes());
        for (k, v) in &c.storage {
            out.extend_from_slice(&k.to_be_bytes::<32>());
            out.extend_from_slice(&v.to_be_bytes::<32>());
        }
        if let Some(code) = &c.code {
            out.extend_from_slice(&(code.len() as u32).to_be_bytes());
            out.extend_from_slice(code);
        }
    }
}

/// Reads a diff written by [`encode_diff`], advancing `v`.
pub(crate) fn decode_diff(v: &mut &[u8]) -> Result<StateDiff, StoreError> {
    let n = u32_of(v)?;
    let mut accounts = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let address = Address::from_slice(take(v, 20)?);
        let flags = take(v, 1)?[0];
        let info = if flags & F_INFO != 0 {
            Some(AccountState {
                nonce: u64::from_be_bytes(take(v, 8)?.try_into().expect("8")),
                balance: U256::from_be_slice(take(v, 32)?),
                code_hash: B256::from_slice(take(v, 32)?),
            })
        } else {
            None
        };
        let m = u32_of(v)?;
        let mut storage = Vec::with_capacity(m.min(1 << 16));
        for _ in 0..m {
            storage.push((U256::from_be_slice(take(v, 32)?), U256::from_be_slice(take(v, 32)?)));
        }
        let code = if flags & F_CODE != 0 {
            let len = u32_of(v)?;
            Some(Bytes::copy_from_slice(take(v, len)?))
        } else {
            None
        };
        accounts.push(AccountChange { address, info, wipe_storage: flags & F_WIPE != 0, storage, code });
    }
    Ok(StateDiff { accounts })
}

pub(crate) fn take<'a>(v: &mut &'a [u8], n: usize) -> Result<&'a [u8], StoreError> {
    if v.len() < n {
        return Err(StoreError::Corrupt("truncated record".into()));
    }
    let (a, b) = v.split_at(n);
    *v = b;
    Ok(a)
}

pub(crate) fn u32_of(v: &mut &[u8]) -> Result<usize, StoreError> {
    Ok(u32::from_be_bytes(take(v, 4)?.try_into().expect("4")) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(a: u8, info: Option<u64>, wipe: bool, storage: &[(u64, u64)]) -> AccountChange {
        AccountChange {
            address: Address::repeat_byte(a),
            info: info.map(|b| AccountState { nonce: 1, balance: U256::from(b), code_hash: B256::repeat_byte(3) }),
            wipe_storage: wipe,
            storage: storage.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect(),
            code: (a == 2).then(|| Bytes::from_static(&[0x60, 0x00])),
        }
    }

    #[test]
    fn diffs_round_trip_and_truncation_is_an_error() {
        let d = StateDiff { accounts: vec![change(1, Some(5), false, &[(1, 2), (3, 0)]), change(2, None, true, &[])] };
        let mut out = Vec::new();
        encode_diff(&d, &mut out);
        assert_eq!(decode_diff(&mut out.as_slice()).unwrap(), d);
        assert!(decode_diff(&mut &out[..out.len() - 1]).is_err());
    }

    #[test]
    fn composition_keeps_the_last_write_and_wipes() {
        let mut c = Composed::default();
        c.push(&StateDiff { accounts: vec![change(1, Some(5), false, &[(1, 2), (3, 4)])] });
        c.push(&StateDiff { accounts: vec![change(1, Some(6), false, &[(1, 9)])] });
        let d = c.finish();
        assert_eq!(d.accounts, vec![change(1, Some(6), false, &[(1, 9), (3, 4)])]);
        let mut c = Composed::default();
        c.push(&StateDiff { accounts: vec![change(1, Some(5), false, &[(1, 2)])] });
        c.push(&StateDiff { accounts: vec![change(1, None, false, &[])] });
        c.push(&StateDiff { accounts: vec![change(1, Some(7), false, &[(8, 8)])] });
        assert_eq!(c.finish().accounts, vec![change(1, Some(7), true, &[(8, 8)])]);
    }
}
