//! `eth_call` and `eth_estimateGas` on top of the head state.
use crate::{
    build::{BlockBuilder, NextBlock},
    db::{ReaderDb, StateReader},
};
use alloy_evm::{Evm, EvmFactory};
use alloy_op_evm::{OpEvmFactory, OpTx};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use op_revm::OpTransaction;
use revm::{
    context::TxEnv,
    context_interface::result::{ExecutionResult, HaltReasonTr},
    database::{CacheDB, WrapDatabaseRef},
};

/// A call request (the `eth_call` transaction object, decoded).
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    /// Caller (zero address if absent).
    pub from: Option<Address>,
    /// Callee; `None` deploys.
    pub to: Option<Address>,
    /// Gas limit (block gas limit if absent).
    pub gas: Option<u64>,
    /// Gas price (legacy) or max fee per gas.
    pub gas_price: Option<u128>,
    /// Max priority fee per gas.
    pub max_priority_fee_per_gas: Option<u128>,
    /// Value.
    pub value: Option<U256>,
    /// Calldata.
    pub input: Bytes,
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    /// Whether it succeeded.
    pub success: bool,
    /// Return data (or revert data).
    pub output: Bytes,
    /// Gas used.
    pub gas_used: u64,
    /// Halt reason, if it halted.
    pub halt: Option<String>,
}

/// A refusal in geth's words (`core/error.go`, and the details `state_transition.go` adds), so
/// ethers, viem and web3.py classify it as they do against geth; revm's text otherwise.
fn geth_words(from: Address, e: &revm::context::result::InvalidTransaction) -> String {
    use revm::context::result::InvalidTransaction as T;
    match e {
        T::LackOfFundForMaxFee { fee, balance } => {
            format!("insufficient funds for gas * price + value: address {from} have {balance} want {fee}")
        }
        T::NonceTooLow { tx, state } => format!("nonce too low: address {from}, tx: {tx} state: {state}"),
        T::NonceTooHigh { tx, state } => format!("nonce too high: address {from}, tx: {tx} state: {state}"),
        T::PriorityFeeGreaterThanMaxFee => "max priority fee per gas higher than max fee per gas".into(),
        T::GasPriceLessThanBasefee => "max fee per gas less than block base fee".into(),
        T::CallGasCostMoreThanGasLimit { initial_gas, gas_limit } => {
            format!("intrinsic gas too low: have {gas_limit}, want {initial_gas}")
        }
        T::CallerGasLimitMoreThanBlock => "exceeds block gas limit".into(),
        other => other.to_string(),
    }
}

/// A call as an OP transaction: no enveloped bytes, so no L1 fee (as op-geth's `eth_call`).
pub(crate) fn op_call_tx(tx: TxEnv) -> OpTx {
    OpTx(OpTransaction { base: tx, enveloped_tx: Some(Bytes::new()), deposit: Default::default() })
}

/// An OP EVM's refusal of a call from `from`, in geth's words where geth has them.
pub(crate) fn op_call_error<E: std::fmt::Display>(
    from: Address,
    e: revm::context::result::EVMError<E, alloy_op_evm::OpTxError>,
) -> CallError {
    match e {
        revm::context::result::EVMError::Transaction(alloy_op_evm::OpTxError(op_revm::OpTransactionError::Base(t))) => {
            CallError::Invalid(geth_words(from, &t))
        }
        other => CallError::Invalid(other.to_string()),
    }
}

/// A call could not be run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The transaction is invalid (e.g. insufficient funds for value).
    #[error("{0}")]
    Invalid(String),
    /// The call reverted.
    #[error("execution reverted")]
    Reverted(Bytes),
    /// The call halted (out of gas, invalid opcode …).
    #[error("{0}")]
    Halted(String),
    /// State could not be read.
    #[error("state unavailable: {0}")]
    State(String),
}

impl BlockBuilder {
    pub(crate) fn tx_env(&self, req: &CallRequest, nonce: u64, gas: u64) -> TxEnv {
        TxEnv::builder()
            .caller(req.from.unwrap_or_default())
            .gas_limit(gas)
            .gas_price(req.gas_price.unwrap_or_default())
            .gas_priority_fee(req.max_priority_fee_per_gas)
            .kind(req.to.map_or(TxKind::Create, TxKind::Call))
            .value(req.value.unwrap_or_default())
            .data(req.input.clone())
            .nonce(nonce)
            .chain_id(Some(self.config().chain_id))
            .build_fill()
    }

    /// Runs `req` on the head state as if in the next block, without committing anything.
    pub fn call<R: StateReader>(
        &self,
        reader: &R,
        next: &NextBlock,
        req: &CallRequest,
    ) -> Result<CallResult, CallError> {
        self.run(reader, next, req, self.call_gas_cap(req))
    }

    /// The gas a call may use: its own, at most the block gas limit.
    pub(crate) fn call_gas_cap(&self, req: &CallRequest) -> u64 {
        req.gas.unwrap_or(self.config().gas_limit).min(self.config().gas_limit)
    }

    /// A call's environment as `eth_call` runs it: the next block's header template (a zero base
    /// fee when the call names no gas price, as geth) and the tx at the caller's nonce with `gas`.
    pub(crate) fn call_env<R: StateReader>(
        &self,
        reader: &R,
        next: &NextBlock,
        req: &CallRequest,
        gas: u64,
    ) -> Result<(alloy_consensus::Header, TxEnv), CallError> {
        let from = req.from.unwrap_or_default();
        let nonce = reader.account(from).map_err(CallError::State)?.map(|a| a.nonce).unwrap_or_default();
        let mut template = self.input_for(next).template;
        if req.gas_price.is_none() {
            template.base_fee_per_gas = Some(0);
        }
        Ok((template, self.tx_env(req, nonce, gas)))
    }

    fn run<R: StateReader>(
        &self,
        reader: &R,
        next: &NextBlock,
        req: &CallRequest,
        gas: u64,
    ) -> Result<CallResult, CallError> {
        let from = req.from.unwrap_or_default();
        let (template, tx) = self.call_env(reader, next, req, gas)?;
        let db = CacheDB::new(WrapDatabaseRef(ReaderDb(reader)));
        if matches!(self.rules(), crate::Rules::L2(_)) {
            let env = self.op_env(&template);
            let mut evm = OpEvmFactory::<OpTx>::default().create_evm(db, env);
            let result = evm.transact(op_call_tx(tx)).map_err(|e| op_call_error(from, e))?;
            Ok(to_call_result(result.result))
        } else {
            let env = self.eth_env(&template);
            let mut evm = alloy_evm::eth::EthEvmFactory::default().create_evm(db, env);
            let result = evm.transact(tx).map_err(|e| match e {
                revm::context::result::EVMError::Transaction(t) => CallError::Invalid(geth_words(from, &t)),
                other => CallError::Invalid(other.to_string()),
            })?;
            Ok(to_call_result(result.result))
        }
    }

    /// The smallest gas limit with which `req` succeeds (binary search, as geth).
    pub fn estimate_gas<R: StateReader>(
        &self,
        reader: &R,
        next: &NextBlock,
        req: &CallRequest,
    ) -> Result<u64, CallError> {
        let cap = self.call_gas_cap(req);
        let first = self.run(reader, next, req, cap)?;
        if !first.success {
            return Err(match first.halt {
                Some(h) => CallError::Halted(h),
                None => CallError::Reverted(first.output),
            });
        }
        // Plain transfers to code-less accounts cost exactly the intrinsic gas.
        if req.input.is_empty()
            && let Some(to) = req.to
        {
            let code_hash = reader.account(to).map_err(CallError::State)?.map(|a| a.code_hash);
            if code_hash.is_none_or(|h| h == alloy_primitives::KECCAK256_EMPTY) {
                return Ok(21_000);
            }
        }
        let (mut lo, mut hi) = (first.gas_used.saturating_sub(1), cap);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            match self.run(reader, next, req, mid) {
                Ok(r) if r.success => hi = mid,
                Ok(_) | Err(CallError::Invalid(_)) => lo = mid,
                Err(e) => return Err(e),
            }
        }
        Ok(hi)
    }
}

fn to_call_result<H: HaltReasonTr>(r: ExecutionResult<H>) -> CallResult {
    match r {
        ExecutionResult::Success { output, gas, .. } => {
            CallResult { success: true, output: output.into_data(), gas_used: gas.tx_gas_used(), halt: None }
        }
        ExecutionResult::Revert { output, gas, .. } => {
            CallResult { success: false, output, gas_used: gas.tx_gas_used(), halt: None }
        }
        ExecutionResult::Halt { reason, gas, .. } => CallResult {
            success: false,
            output: Bytes::new(),
            gas_used: gas.tx_gas_used(),
            halt: Some(format!("{reason:?}")),
        },
    }
}
