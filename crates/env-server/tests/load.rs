//! A bounded load test (default suite) and a soak test (ignored; CI runs a short one).

use std::time::{Duration, Instant};

use crossgym_env_server::loadgen::run_load;
use crossgym_env_server::{EnvName, ServerConfig};

use crate::common::Running;

/// Loopback, concurrent clients, a fixed number of steps, zero errors, and every session freed.
#[test]
fn concurrent_clients_get_no_errors() {
    for (env, clients, steps) in [
        (EnvName::BabyAi, 16, 100),
        (EnvName::TextCraft, 16, 100),
        (EnvName::AlfWorld, 4, 20),
        (EnvName::WebShop, 4, 20),
        (EnvName::SearchQa, 4, 20),
    ] {
        let server = Running::env(env);
        let report = run_load(server.addr, env, clients, steps);
        assert_eq!(report.errors, 0, "{env}: {:?}", report.error_samples);
        assert_eq!(report.steps, (clients * steps) as u64, "{env}");
        let stats = server.stats.stats();
        assert_eq!(
            (stats.live, stats.closed),
            (0, clients as u64),
            "{env}: {stats:?}"
        );
        server.stop();
    }
}

/// Anonymous resident memory (heap, stacks): `RssAnon` of `/proc/self/status`. File-backed pages
/// (the binary's code, touched as new paths run) are left out: they are not a leak.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// Soak: rounds of load with more sessions than the cap (so the cap evicts) until the duration
/// is spent; RSS after the warm-up (a fifth of the time) must not grow by more than 5%, with
/// zero errors.
///
/// `CROSSGYM_SOAK_SECS=600 cargo test -p crossgym-env-server --release --test tests -- --ignored soak --nocapture`
/// (default 600 s; CI runs 30 s).
#[test]
#[ignore = "minutes; set CROSSGYM_SOAK_SECS and run with --ignored"]
fn soak_memory_stays_flat() {
    let secs: u64 = std::env::var("CROSSGYM_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let duration = Duration::from_secs(secs);
    for env in [EnvName::BabyAi, EnvName::TextCraft] {
        let max_sessions = 24;
        let server = Running::start(ServerConfig {
            max_sessions,
            ..ServerConfig::new(env)
        });
        // Leaked sessions: created and never closed, so the cap must evict them.
        let mut leaker =
            crossgym_env_server::loadgen::Client::connect(server.addr).expect("connect");
        let started = Instant::now();
        let per_env = duration / 2;
        // Warm-up: the first fifth of the time (allocator arenas, the tables' capacities and the
        // memory of gone ids fill up); RSS is then sampled after every round.
        let warm_up = per_env / 5;
        let mut rounds = 0u64;
        let mut steps = 0u64;
        let mut baseline = None;
        let mut peak = 0u64;
        let mut samples = Vec::new();
        while started.elapsed() < per_env || rounds < 4 {
            let report = run_load(server.addr, env, 16, 200);
            assert_eq!(report.errors, 0, "{env}: {:?}", report.error_samples);
            steps += report.steps;
            for _ in 0..16 {
                let created =
                    leaker.post("/create", if env == EnvName::TextCraft { "{}" } else { "" });
                assert!(created.is_ok_and(|r| r.status == 200));
            }
            rounds += 1;
            let rss = rss_kib().unwrap_or(0);
            if baseline.is_none() && started.elapsed() >= warm_up && rounds >= 3 {
                baseline = Some(rss);
            } else if baseline.is_some() {
                peak = peak.max(rss);
            }
            if rounds.is_power_of_two() {
                samples.push((rounds, rss));
            }
        }
        println!("soak {env}: RSS KiB by round {samples:?}");
        let stats = server.stats.stats();
        let baseline = baseline.unwrap_or(0);
        let growth = if baseline == 0 {
            0.0
        } else {
            peak as f64 / baseline as f64 - 1.0
        };
        println!(
            "soak {env}: {rounds} rounds, {steps} steps, {:.0} s, RSS after warm-up {baseline} KiB, peak {peak} KiB ({:+.2}%), sessions {stats:?}",
            started.elapsed().as_secs_f64(),
            growth * 100.0
        );
        assert!(stats.live <= max_sessions, "{stats:?}");
        assert!(
            stats.evicted_cap >= rounds * 16 - max_sessions as u64,
            "{stats:?}"
        );
        assert!(
            growth <= 0.05,
            "{env}: RSS grew {:.2}% after warm-up",
            growth * 100.0
        );
        server.stop();
    }
}
