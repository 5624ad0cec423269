//! Integration tests: conformance against the reference fixtures, the env contract, the oracle,
//! and hostile replies.

mod common;
mod conformance;
mod env;
