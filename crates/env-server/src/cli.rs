//! [`ServeArgs`]: the command-line options of a server, shared by `crossgym serve` and the
//! standalone `crossgym-env-server` binary.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_SESSIONS, EnvName, ServerConfig};

/// Serve one env over AgentGym's HTTP protocol.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct ServeArgs {
    /// The env (webshop, searchqa, textcraft, alfworld, babyai).
    #[arg(long)]
    pub env: EnvName,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Most live sessions; beyond it the least recently used one is evicted.
    #[arg(long, default_value_t = DEFAULT_MAX_SESSIONS)]
    pub max_sessions: usize,
    /// Seconds after which an idle session is evicted.
    #[arg(long, default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs())]
    pub idle_timeout: u64,
    /// Log one JSON line per request to stderr.
    #[arg(long)]
    pub log_requests: bool,
    /// Threads that run env steps (default: twice the cores, at least 4).
    #[arg(long, default_value_t = crate::default_step_threads())]
    pub step_threads: usize,
}

impl ServeArgs {
    /// The server these options describe.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            addr: SocketAddr::new(self.host, self.port),
            max_sessions: self.max_sessions,
            idle_timeout: Duration::from_secs(self.idle_timeout),
            log_requests: self.log_requests,
            step_threads: self.step_threads,
            ..ServerConfig::new(self.env)
        }
    }
}
