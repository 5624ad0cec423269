//! [`ServerConfig`]: what one server serves and its resource bounds.

use std::net::SocketAddr;
use std::time::Duration;

use crate::EnvName;

/// The default session cap (`--max-sessions`).
pub const DEFAULT_MAX_SESSIONS: usize = 4096;

/// The default idle timeout (`--idle-timeout`): sessions untouched this long are evicted.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// One server: which env, where it listens, and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// The env served (one env per server, as AgentGym runs one server per env).
    pub env: EnvName,
    /// Listening address; port 0 picks a free port (the bound address is reported by
    /// [`crate::Server::local_addr`]).
    pub addr: SocketAddr,
    /// Most live sessions; creating one more evicts the least recently used.
    pub max_sessions: usize,
    /// Sessions idle this long are evicted by the background sweeper.
    pub idle_timeout: Duration,
    /// One JSON line per request on stderr (method, path, status, microseconds).
    pub log_requests: bool,
    /// Threads that run env steps (tokio's blocking pool in [`crate::run_until_signal`]): a
    /// fixed pool, so a burst of clients queues instead of adding threads (each new thread
    /// keeps its own allocator cache, which is what made memory creep up under load).
    pub step_threads: usize,
}

/// The default [`ServerConfig::step_threads`]: twice the cores, at least 4.
pub fn default_step_threads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
}

impl ServerConfig {
    /// The defaults for `env`: `127.0.0.1:0`, [`DEFAULT_MAX_SESSIONS`], [`DEFAULT_IDLE_TIMEOUT`],
    /// no request log, [`default_step_threads`].
    pub fn new(env: EnvName) -> Self {
        Self {
            env,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_sessions: DEFAULT_MAX_SESSIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            log_requests: false,
            step_threads: default_step_threads(),
        }
    }

    /// How often the sweeper looks for idle sessions: a tenth of the timeout, between 10 ms
    /// and 60 s.
    pub fn sweep_interval(&self) -> Duration {
        (self.idle_timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(60))
    }
}
