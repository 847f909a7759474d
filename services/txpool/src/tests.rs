//! Pool behaviour, with the txpool's only dependency (the state) played by an in-memory
//! `StateSource` (the real one lives in another service, which this crate must not depend on).
use crate::{LocalTxSource, TxPoolActor};
use actix::Actor;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use async_trait::async_trait;
use opseq_interfaces::{AccountProof, CommitDiff, DumpAccount, EdgeResult, RootsOutcome, StateSource, TxSource};
use opseq_primitives::{
    AccountState, BlockRef, ChainId, DevnetConfig, SealedBlock, StateDiff, SubmitOutcome, TxLocation,
};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};

#[derive(Debug, Default)]
struct MemState(Mutex<HashMap<Address, AccountState>>);

#[async_trait]
impl StateSource for MemState {
    async fn head(&self, _: ChainId) -> EdgeResult<BlockRef> {
        Ok(BlockRef::default())
    }
    async fn block_by_number(&self, _: ChainId, _: u64) -> EdgeResult<Option<SealedBlock>> {
        Ok(None)
    }
    async fn block_by_hash(&self, _: ChainId, _: B256) -> EdgeResult<Option<SealedBlock>> {
        Ok(None)
    }
    async fn tx_location(&self, _: ChainId, _: B256) -> EdgeResult<Option<TxLocation>> {
        Ok(None)
    }
    async fn accounts(&self, _: ChainId, a: Vec<Address>) -> EdgeResult<Vec<Option<AccountState>>> {
        let m = self.0.lock();
        Ok(a.iter().map(|a| m.get(a).copied()).collect())
    }
    async fn storage(&self, _: ChainId, s: Vec<(Address, U256)>) -> EdgeResult<Vec<U256>> {
        Ok(vec![U256::ZERO; s.len()])
    }
    async fn code(&self, _: ChainId, _: B256) -> EdgeResult<Option<Bytes>> {
        Ok(None)
    }
    async fn proof(&self, _: ChainId, _: Address, _: Vec<U256>, _: Option<B256>) -> EdgeResult<AccountProof> {
        unimplemented!("not used by the pool")
    }
    async fn compute_roots(&self, _: ChainId, _: B256, _: StateDiff, _: Vec<Address>) -> EdgeResult<RootsOutcome> {
        unimplemented!("not used by the pool")
    }
    async fn commit(&self, _: ChainId, _: SealedBlock, _: CommitDiff) -> EdgeResult<Vec<B256>> {
        unimplemented!("not used by the pool")
    }
    async fn set_head(&self, _: ChainId, _: B256) -> EdgeResult<Vec<B256>> {
        unimplemented!("not used by the pool")
    }
    async fn keep(&self, _: ChainId, _: SealedBlock, _: StateDiff) -> EdgeResult<()> {
        unimplemented!("not used by the pool")
    }
    async fn overlay(&self, _: ChainId, _: B256) -> EdgeResult<opseq_interfaces::StateOverlay> {
        unimplemented!("not used by the pool")
    }
    async fn dump(&self, _: ChainId) -> EdgeResult<Vec<DumpAccount>> {
        unimplemented!("not used by the pool")
    }
}

const CHAIN: ChainId = 901;

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
}

fn tx(k: &PrivateKeySigner, nonce: u64, max_fee: u128, tip: u128) -> Bytes {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::repeat_byte(0xee)),
        value: U256::from(1),
        access_list: Default::default(),
        input: Default::default(),
    };
    let sig = k.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
}

fn setup(dir: &std::path::Path) -> (LocalTxSource, Arc<MemState>) {
    let devnet = DevnetConfig::dev(6, 2, 0);
    let state = Arc::new(MemState::default());
    for i in 1..=3 {
        state.0.lock().insert(
            key(i).address(),
            AccountState { nonce: 0, balance: U256::from(10u128.pow(20)), code_hash: KECCAK256_EMPTY },
        );
    }
    let actor = TxPoolActor::open(dir, &devnet, opseq_store::SyncMode::Fsync).unwrap().start();
    (LocalTxSource::new(actor, state.clone(), &devnet), state)
}

#[actix_rt::test]
async fn nonce_gaps_queue_and_best_yields_each_sender_in_order_by_tip() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, _) = setup(dir.path());
    let (a, b) = (key(1), key(2));
    assert_eq!(pool.submit(CHAIN, tx(&a, 1, 100, 5)).await.unwrap().1, SubmitOutcome::Queued);
    assert_eq!(pool.submit(CHAIN, tx(&a, 0, 100, 5)).await.unwrap().1, SubmitOutcome::Pending);
    assert_eq!(pool.submit(CHAIN, tx(&b, 0, 100, 9)).await.unwrap().1, SubmitOutcome::Pending);
    assert_eq!(pool.submit(CHAIN, tx(&b, 0, 100, 9)).await.unwrap().1, SubmitOutcome::AlreadyKnown);
    let st = pool.status(CHAIN).await.unwrap();
    assert_eq!((st.pending, st.queued), (3, 0));
    let best = pool.best(CHAIN, 10, 10).await.unwrap();
    let order: Vec<_> = best.iter().map(|t| (t.sender, t.nonce)).collect();
    assert_eq!(order, vec![(b.address(), 0), (a.address(), 0), (a.address(), 1)]);
    // A base fee the txs cannot pay yields nothing.
    assert!(pool.best(CHAIN, 1_000, 10).await.unwrap().is_empty());
    assert_eq!(pool.pending_nonce(CHAIN, a.address()).await.unwrap(), Some(2));
}

#[actix_rt::test]
async fn replacement_needs_a_ten_percent_bump() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, _) = setup(dir.path());
    let a = key(1);
    let (first, _) = pool.submit(CHAIN, tx(&a, 0, 100, 10)).await.unwrap();
    let e = pool.submit(CHAIN, tx(&a, 0, 109, 11)).await.unwrap_err();
    assert!(e.message.contains("underpriced"), "{e}");
    assert!(pool.get(CHAIN, first).await.unwrap().is_some(), "a refused replacement changes nothing");
    let (second, outcome) = pool.submit(CHAIN, tx(&a, 0, 110, 11)).await.unwrap();
    assert_eq!(outcome, SubmitOutcome::Replaced);
    assert!(pool.get(CHAIN, first).await.unwrap().is_none());
    assert!(pool.get(CHAIN, second).await.unwrap().is_some());
}

#[actix_rt::test]
async fn stateful_checks_and_mined_txs_leave() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, state) = setup(dir.path());
    let a = key(1);
    state.0.lock().get_mut(&a.address()).unwrap().nonce = 3;
    let e = pool.submit(CHAIN, tx(&a, 2, 100, 1)).await.unwrap_err();
    assert!(e.message.starts_with("nonce too low"), "{e}");
    let poor = key(9);
    let e = pool.submit(CHAIN, tx(&poor, 0, 100, 1)).await.unwrap_err();
    assert!(e.message.starts_with("insufficient funds"), "{e}");
    let (h, _) = pool.submit(CHAIN, tx(&a, 3, 100, 1)).await.unwrap();
    pool.on_block(CHAIN, vec![h], vec![]).await.unwrap();
    assert!(pool.get(CHAIN, h).await.unwrap().is_none());
    // A tx whose nonce the chain moved past is dropped when the pool is next read.
    let (h2, _) = pool.submit(CHAIN, tx(&a, 4, 100, 1)).await.unwrap();
    state.0.lock().get_mut(&a.address()).unwrap().nonce = 5;
    assert!(pool.best(CHAIN, 1, 10).await.unwrap().is_empty());
    assert!(pool.get(CHAIN, h2).await.unwrap().is_none());
}

#[actix_rt::test]
async fn the_journal_restores_accepted_txs() {
    let dir = tempfile::tempdir().unwrap();
    let h = {
        let (pool, _) = setup(dir.path());
        pool.submit(CHAIN, tx(&key(1), 0, 100, 1)).await.unwrap().0
    };
    // Give sled's file lock a moment to be released by the dropped actor.
    let mut tries = 0;
    let pool = loop {
        let devnet = DevnetConfig::dev(6, 2, 0);
        match TxPoolActor::open(dir.path(), &devnet, opseq_store::SyncMode::Os) {
            Ok(actor) => break LocalTxSource::new(actor.start(), Arc::new(MemState::default()), &devnet),
            Err(_) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(pool.get(CHAIN, h).await.unwrap().is_some());
}

#[actix_rt::test]
async fn a_full_pool_evicts_its_cheapest_tx_and_batches_answer_per_tx() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = DevnetConfig::dev(6, 2, 0);
    let state = Arc::new(MemState::default());
    for i in 1..=5 {
        state.0.lock().insert(
            key(i).address(),
            AccountState { nonce: 0, balance: U256::from(10u128.pow(20)), code_hash: KECCAK256_EMPTY },
        );
    }
    let pool = LocalTxSource::new(
        TxPoolActor::open(dir.path(), &devnet, opseq_store::SyncMode::Os).unwrap().with_limit(4).start(),
        state,
        &devnet,
    );
    // One batch: four accepted, a fifth with a tip below everyone's is refused, a bad one too.
    let results = pool
        .submit_many(
            CHAIN,
            vec![
                tx(&key(1), 0, 100, 5),
                tx(&key(1), 1, 100, 8),
                tx(&key(2), 0, 100, 9),
                tx(&key(3), 0, 100, 7),
                tx(&key(4), 0, 100, 1),
                Bytes::from_static(&[0x02, 0x01]),
            ],
        )
        .await
        .unwrap();
    assert!(results[..4].iter().all(Result::is_ok), "{results:?}");
    assert!(results[4].as_ref().unwrap_err().message.contains("txpool is full"), "{results:?}");
    assert!(results[5].as_ref().unwrap_err().message.contains("decode"), "{results:?}");
    // A better tip evicts the cheapest tx that is last in its sender's line: key 3's (7), not
    // key 1's nonce 0 (5), which would leave a gap before its nonce 1.
    let (h, _) = pool.submit(CHAIN, tx(&key(5), 0, 100, 8)).await.unwrap();
    let content = pool.content(CHAIN).await.unwrap();
    let senders: Vec<_> = content.iter().map(|(t, _)| t.sender).collect();
    assert_eq!(content.len(), 4);
    assert!(!senders.contains(&key(3).address()) && senders.contains(&key(5).address()), "{senders:?}");
    assert!(content.iter().all(|(_, pending)| *pending));
    // Dropping by hash.
    assert!(pool.remove(CHAIN, h).await.unwrap());
    assert!(!pool.remove(CHAIN, h).await.unwrap());
    assert!(pool.get(CHAIN, h).await.unwrap().is_none());
}

#[actix_rt::test]
async fn subscribers_see_every_add_and_removal_with_its_reason() {
    use futures::StreamExt;
    use opseq_primitives::{PoolEvent, RemovalReason};
    let dir = tempfile::tempdir().unwrap();
    let (pool, _) = setup(dir.path());
    let mut events = pool.subscribe().await.unwrap();
    let (a, b) = (key(1), key(2));
    let (queued, _) = pool.submit(CHAIN, tx(&a, 1, 100, 5)).await.unwrap();
    let (first, _) = pool.submit(CHAIN, tx(&a, 0, 100, 5)).await.unwrap();
    let (bumped, _) = pool.submit(CHAIN, tx(&a, 0, 200, 50)).await.unwrap();
    let (other, _) = pool.submit(CHAIN, tx(&b, 0, 100, 5)).await.unwrap();
    // A refused submission tells nobody anything.
    assert!(pool.submit(CHAIN, tx(&b, 0, 101, 5)).await.is_err());
    assert!(pool.remove(CHAIN, other).await.unwrap());
    pool.on_block(CHAIN, vec![bumped], vec![queued]).await.unwrap();
    let added = |hash, nonce, pending| PoolEvent::Added { chain_id: CHAIN, hash, sender: a.address(), nonce, pending };
    let removed = |hash, reason| PoolEvent::Removed { chain_id: CHAIN, hash, reason };
    let want = vec![
        added(queued, 1, false),
        added(first, 0, true),
        removed(first, RemovalReason::Replaced),
        added(bumped, 0, true),
        PoolEvent::Added { chain_id: CHAIN, hash: other, sender: b.address(), nonce: 0, pending: true },
        removed(other, RemovalReason::Dropped),
        removed(bumped, RemovalReason::Mined),
        removed(queued, RemovalReason::Invalid),
    ];
    let got: Vec<PoolEvent> = events.by_ref().take(want.len()).collect().await;
    assert_eq!(got, want);
}
