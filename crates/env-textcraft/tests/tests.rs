//! The crate's one integration-test binary.

mod conformance;
mod contract;
mod data;
mod oracle;
