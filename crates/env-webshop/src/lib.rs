//! WebShop for crossgym: shopping on a product catalogue through a search engine and pages
//! rendered as text, reimplemented from AgentGym's WebShop server.
//!
//! - [`WebShopEnv`]: the [`crossgym_env_core::Env`] (tasks = goals, reply → action with
//!   `react_last_or_command`, reward on `click[Buy Now]`).
//! - [`Catalogue`]: products, prices, title nouns, goals and the [`search::Bm25Index`]; built from
//!   the deterministic [`synth`] catalogue (the default) or the reference's files ([`loader`]).
//! - [`Session`]: the page state machine; [`reward`]: the reference reward; [`fuzz`]: thefuzz's
//!   `token_set_ratio`.
//!
//! The one design choice that shapes the rest: **byte-exact behaviour against recorded reference
//! output**. Search is a small Lucene-8 BM25 scorer of our own rather than tantivy, because the
//! reference's ranking (k1 0.9, b 0.4, one-byte lengths, Porter stems) decides which products
//! an agent sees; see the README for the measured agreement.
//!
//! # Example
//!
//! ```
//! use crossgym_env_core::{Env, Split};
//! use crossgym_env_webshop::{WebShopEnv, oracle};
//!
//! let mut env = WebShopEnv::small(200)?;
//! let task = env.tasks(Split::Test)[0];
//! let episode = oracle::play(&mut env, task)?;
//! assert_eq!(episode.score(), 1.0);
//! # Ok::<(), crossgym_env_core::EnvError>(())
//! ```

pub mod catalogue;
mod env;
pub mod fuzz;
pub mod goal;
pub mod loader;
pub mod oracle;
pub mod page;
pub mod product;
pub mod py;
pub mod reward;
pub mod search;
pub mod session;
pub mod synth;

pub use catalogue::{Catalogue, PriceSource};
pub use env::{
    ACKNOWLEDGEMENT, INSTRUCTION, NAME, SPLIT_SEED, VERSION, WebShopConfig, WebShopEnv, info,
};
pub use goal::Goal;
pub use product::Product;
pub use session::Session;
