//! Errors that cross component edges, with their class.
use serde::{Deserialize, Serialize};

/// How a consumer should react to an error (ARCHITECTURE.md, rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorClass {
    /// Try again later: a dependency is unavailable or busy.
    Transient,
    /// The caller's input is wrong; nothing was changed.
    InvalidInput,
    /// The requested thing does not exist.
    NotFound,
    /// A bug or broken invariant: stop the affected chain actor.
    Fatal,
}

/// An error that crosses a component edge (in-process or gRPC) with its class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OpseqError {
    /// How to react.
    pub class: ErrorClass,
    /// What went wrong, for a human (no raw tx bytes or calldata).
    pub message: String,
}

impl OpseqError {
    /// An invalid-input error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::InvalidInput, message: message.into() }
    }
    /// A transient error.
    pub fn transient(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::Transient, message: message.into() }
    }
    /// A not-found error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::NotFound, message: message.into() }
    }
    /// A fatal error.
    #[cold]
    pub fn fatal(message: impl Into<String>) -> Self {
        Self { class: ErrorClass::Fatal, message: message.into() }
    }
    /// Whether retrying may help.
    pub const fn is_transient(&self) -> bool {
        matches!(self.class, ErrorClass::Transient)
    }
    /// Whether the thing asked for does not exist.
    pub const fn is_not_found(&self) -> bool {
        matches!(self.class, ErrorClass::NotFound)
    }
}
