//! The session table: ids never reused, a cap with least-recently-used eviction, idle eviction,
//! and a memory of ids that are gone so an error can say why.
//!
//! The table lock is held only for lookups and bookkeeping; each session has its own mutex,
//! taken only in blocking code (see [`crate::app`]), so one slow step never blocks other
//! sessions.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many gone ids are remembered for error messages (older ones read as "not valid").
const GONE_MEMORY: usize = 4096;

/// Why a session id no longer answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// Freed by `/close`.
    Closed,
    /// Evicted to keep within `max_sessions`.
    EvictedCap,
    /// Evicted after the idle timeout.
    EvictedIdle,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<S> {
    /// A live session.
    Live(Arc<Mutex<S>>),
    /// An id that existed and is gone.
    Gone(Gone),
    /// An id never handed out (or gone too long ago to remember).
    Unknown,
}

/// Counters for tests and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Live sessions now.
    pub live: usize,
    /// Sessions created since start.
    pub created: u64,
    /// Sessions closed by `/close`.
    pub closed: u64,
    /// Sessions evicted by the cap.
    pub evicted_cap: u64,
    /// Sessions evicted by the idle timeout.
    pub evicted_idle: u64,
}

struct Slot<S> {
    state: Arc<Mutex<S>>,
    last_used: Instant,
}

struct Table<S> {
    next: u64,
    live: HashMap<u64, Slot<S>>,
    gone: HashMap<u64, Gone>,
    gone_order: VecDeque<u64>,
    stats: SessionStats,
}

/// Live sessions of one server, by id.
pub struct Sessions<S> {
    table: Mutex<Table<S>>,
    max_sessions: usize,
}

impl<S> std::fmt::Debug for Sessions<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("max_sessions", &self.max_sessions)
            .field("stats", &self.stats())
            .finish()
    }
}

impl<S> Table<S> {
    fn forget(&mut self, id: u64, why: Gone) {
        if self.live.remove(&id).is_none() {
            return;
        }
        match why {
            Gone::Closed => self.stats.closed += 1,
            Gone::EvictedCap => self.stats.evicted_cap += 1,
            Gone::EvictedIdle => self.stats.evicted_idle += 1,
        }
        self.gone.insert(id, why);
        self.gone_order.push_back(id);
        while self.gone_order.len() > GONE_MEMORY {
            if let Some(old) = self.gone_order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }
}

impl<S> Sessions<S> {
    /// An empty table holding at most `max_sessions` (at least 1) sessions.
    pub fn new(max_sessions: usize) -> Self {
        Self {
            table: Mutex::new(Table {
                next: 0,
                live: HashMap::new(),
                // Full size from the start: the memory of gone ids is bounded, and a server's
                // footprint should not creep up while it fills.
                gone: HashMap::with_capacity(GONE_MEMORY + 1),
                gone_order: VecDeque::with_capacity(GONE_MEMORY + 1),
                stats: SessionStats::default(),
            }),
            max_sessions: max_sessions.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table<S>> {
        // The table's invariants hold between statements, so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a session under a fresh id; evicts the least recently used ones beyond the cap.
    pub fn insert(&self, state: S) -> u64 {
        let mut table = self.lock();
        while table.live.len() >= self.max_sessions {
            let oldest = table
                .live
                .iter()
                .min_by_key(|(id, slot)| (slot.last_used, **id))
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => table.forget(id, Gone::EvictedCap),
                None => break,
            }
        }
        let id = table.next;
        table.next += 1;
        table.stats.created += 1;
        table.live.insert(
            id,
            Slot {
                state: Arc::new(Mutex::new(state)),
                last_used: Instant::now(),
            },
        );
        id
    }

    /// The session `id` (marking it used), or why there is none. Negative ids are unknown.
    pub fn get(&self, id: i64) -> Lookup<S> {
        let Ok(id) = u64::try_from(id) else {
            return Lookup::Unknown;
        };
        let mut table = self.lock();
        if let Some(slot) = table.live.get_mut(&id) {
            slot.last_used = Instant::now();
            return Lookup::Live(Arc::clone(&slot.state));
        }
        match table.gone.get(&id) {
            Some(why) => Lookup::Gone(*why),
            None => Lookup::Unknown,
        }
    }

    /// Frees the session `id`; false when it is not live.
    pub fn close(&self, id: i64) -> bool {
        let Ok(id) = u64::try_from(id) else {
            return false;
        };
        let mut table = self.lock();
        let live = table.live.contains_key(&id);
        table.forget(id, Gone::Closed);
        live
    }

    /// Evicts every session idle for at least `idle`; returns how many.
    pub fn sweep(&self, idle: Duration) -> usize {
        let now = Instant::now();
        let mut table = self.lock();
        let stale: Vec<u64> = table
            .live
            .iter()
            .filter(|(_, slot)| now.duration_since(slot.last_used) >= idle)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            table.forget(*id, Gone::EvictedIdle);
        }
        stale.len()
    }

    /// The live ids, ascending.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.lock().live.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The counters.
    pub fn stats(&self) -> SessionStats {
        let table = self.lock();
        SessionStats {
            live: table.live.len(),
            ..table.stats
        }
    }

    /// The cap.
    pub fn max_sessions(&self) -> usize {
        self.max_sessions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_and_the_cap_evicts_the_least_recently_used() {
        let sessions = Sessions::new(2);
        let a = sessions.insert('a');
        let b = sessions.insert('b');
        assert!(matches!(sessions.get(a as i64), Lookup::Live(_)));
        let c = sessions.insert('c');
        assert_eq!((a, b, c), (0, 1, 2));
        assert!(matches!(
            sessions.get(b as i64),
            Lookup::Gone(Gone::EvictedCap)
        ));
        assert!(sessions.close(a as i64));
        assert!(!sessions.close(a as i64));
        assert!(matches!(sessions.get(a as i64), Lookup::Gone(Gone::Closed)));
        assert_eq!(sessions.insert('d'), 3);
        assert!(matches!(sessions.get(99), Lookup::Unknown));
        assert!(matches!(sessions.get(-1), Lookup::Unknown));
        let stats = sessions.stats();
        assert_eq!(
            (stats.live, stats.created, stats.closed, stats.evicted_cap),
            (2, 4, 1, 1)
        );
    }

    #[test]
    fn sweep_evicts_idle_sessions_only() {
        let sessions = Sessions::new(8);
        let a = sessions.insert(());
        assert_eq!(sessions.sweep(Duration::from_secs(3600)), 0);
        assert_eq!(sessions.sweep(Duration::ZERO), 1);
        assert!(matches!(
            sessions.get(a as i64),
            Lookup::Gone(Gone::EvictedIdle)
        ));
        assert_eq!(sessions.stats().evicted_idle, 1);
    }
}
