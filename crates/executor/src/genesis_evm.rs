//! Contracts set up at genesis by running their own code: a contract's deployment code runs as
//! its constructor at the address it will have, then calls (initializers, upgrade functions)
//! run against it, and the code and storage they leave go into the genesis alloc. Nothing is
//! transcribed from another genesis: what the contracts store is what their code stores.
use crate::spec::DEPOSITOR_ACCOUNT;
use alloy_evm::{Evm, EvmEnv, EvmFactory, eth::EthEvmFactory};
use alloy_primitives::{Address, Bytes, U256, keccak256};
use revm::{
    DatabaseCommit,
    context::result::ExecutionResult,
    database::{CacheDB, EmptyDB},
    state::{AccountInfo, Bytecode},
};

/// A contract's storage: (slot, value), sorted, zeros left out.
pub type Storage = Vec<(U256, U256)>;

type DevEvm =
    alloy_evm::EthEvm<CacheDB<EmptyDB>, revm::inspector::NoOpInspector, alloy_evm::precompiles::PrecompilesMap>;

/// An empty EVM (Ethereum rules, no base fee) in which genesis contracts are deployed and set up.
pub(crate) struct GenesisEvm {
    evm: DevEvm,
    /// The accounts placed or created, in order.
    placed: Vec<Address>,
}

impl GenesisEvm {
    /// An empty state; `block.timestamp` is `timestamp` and `block.number` 0 (the genesis block).
    pub(crate) fn new(timestamp: u64) -> Self {
        let mut env: EvmEnv = EvmEnv::default();
        env.block_env.timestamp = U256::from(timestamp);
        env.block_env.number = U256::ZERO;
        Self { evm: EthEvmFactory::default().create_evm(CacheDB::new(EmptyDB::default()), env), placed: Vec::new() }
    }

    /// Runs `init` (deployment code, constructor arguments appended) as the constructor of a
    /// contract at `address`: the runtime code it returns becomes the account's code (nonce 1,
    /// as after a CREATE) and what the constructor stored stays. Returns the runtime code.
    pub(crate) fn create_at(&mut self, address: Address, init: Bytes, what: &str) -> Bytes {
        self.set_code(address, init);
        let runtime = self.call(DEPOSITOR_ACCOUNT, address, Bytes::new(), what);
        self.set_code(address, runtime.clone());
        runtime
    }

    /// Puts `code` with `storage` at `address` (nonce 1), as a genesis alloc entry would.
    pub(crate) fn place(&mut self, address: Address, code: Bytes, storage: &[(U256, U256)]) {
        self.set_code(address, code);
        for (k, v) in storage {
            self.evm.db_mut().insert_account_storage(address, *k, *v).expect("in-memory");
        }
    }

    fn set_code(&mut self, address: Address, code: Bytes) {
        let info = AccountInfo {
            nonce: 1,
            code_hash: keccak256(&code),
            code: Some(Bytecode::new_raw(code)),
            ..Default::default()
        };
        self.evm.db_mut().insert_account_info(address, info);
        if !self.placed.contains(&address) {
            self.placed.push(address);
        }
    }

    /// Calls `to` from `from` with `data` and commits; panics (naming `what`) if it reverts: a
    /// genesis that cannot be set up is a bug, not an input error. Returns the output.
    pub(crate) fn call(&mut self, from: Address, to: Address, data: Bytes, what: &str) -> Bytes {
        let out = self.evm.transact_system_call(from, to, data).unwrap_or_else(|e| panic!("{what}: {e}"));
        let output = match &out.result {
            ExecutionResult::Success { output, .. } => output.data().clone(),
            other => panic!("{what} failed: {other:?}"),
        };
        self.evm.db_mut().commit(out.state);
        output
    }

    /// The code and storage `address` has now.
    pub(crate) fn account(&self, address: Address) -> (Bytes, Storage) {
        let account = self.evm.db().cache.accounts.get(&address);
        let code = account.and_then(|a| a.info.code.as_ref()).map(|c| c.original_bytes()).unwrap_or_default();
        let mut storage: Storage = account
            .map(|a| a.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        storage.sort_unstable();
        (code, storage)
    }

    /// Every account placed or created, with its code and storage, in the order they came.
    pub(crate) fn accounts(&self) -> Vec<(Address, Bytes, Storage)> {
        self.placed
            .iter()
            .map(|a| {
                let (code, storage) = self.account(*a);
                (*a, code, storage)
            })
            .collect()
    }
}
