//! Integration tests of the study harness: the paper's Table 3 deltas, the audit CLI, and a whole
//! plan on two (toy) envs from episodes to every table, plot and the HTML report.

mod audit_cli;
mod commands;
mod common;
mod config_ranges;
mod crash;
mod demos;
mod determinism;
mod end_to_end;
mod eval_resume;
mod export;
mod gpu;
mod llama_server;
mod paper_tables;
mod real_study;
mod remote_eval;
mod stream_eval;
mod toy;
