//! The paper's numbers as data (Xi et al. 2026, "Can RL Improve Generalization of LLM Agents? An
//! Empirical Study", arXiv 2603.12011): Table 2 (difficulty), Table 3 (cross-environment),
//! Table 6 (two-stage), and Table 5's test-set sizes (from [`crossgym_env_core::paper`]).
//!
//! Values are copied as printed (percent avg@8), including cells that do not follow from the
//! others; [`crate::audit`] lists those. Env columns are indices into [`ENVS`] (the paper's
//! column order: WebShop, SearchQA, TextCraft, ALFWorld, BabyAI).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::plan::Regime;

#[rustfmt::skip]
mod tables;
pub use tables::*;

/// The five envs in the paper's column order (names, display names, Table 5 sizes).
pub const ENVS: [crossgym_env_core::paper::PaperEnv; 5] = crossgym_env_core::paper::ALL;

/// The column index of env `name` (our lower-case name or the paper's display name).
pub fn env_index(name: &str) -> Option<usize> {
    ENVS.iter()
        .position(|env| env.name == name || env.display_name.eq_ignore_ascii_case(name))
}

/// The paper's display name of env column `index` (`"?"` outside `0..5`).
pub fn display_name(index: usize) -> &'static str {
    ENVS.get(index).map_or("?", |env| env.display_name)
}

/// The base models of the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Model {
    /// Qwen2.5-3B-Instruct.
    #[serde(rename = "Qwen2.5-3B-Instruct")]
    Qwen3B,
    /// Qwen2.5-7B-Instruct.
    #[serde(rename = "Qwen2.5-7B-Instruct")]
    Qwen7B,
}

impl Model {
    /// Both models, smaller first.
    pub const ALL: [Model; 2] = [Model::Qwen3B, Model::Qwen7B];

    /// The Hugging Face name, e.g. `Qwen2.5-7B-Instruct`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Qwen3B => "Qwen2.5-3B-Instruct",
            Model::Qwen7B => "Qwen2.5-7B-Instruct",
        }
    }

    /// Table 2 for this model.
    pub fn table2(self) -> &'static [Table2Row; 6] {
        match self {
            Model::Qwen3B => &TABLE2_3B,
            Model::Qwen7B => &TABLE2_7B,
        }
    }

    /// Table 3 for this model.
    pub fn table3(self) -> &'static Table3 {
        match self {
            Model::Qwen3B => &TABLE3_3B,
            Model::Qwen7B => &TABLE3_7B,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One Table 2 cell: test avg@8 on the easy half, the hard half and the whole test set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EasyHardAll {
    /// avg@8 (percent) on the easy test tasks.
    pub easy: f64,
    /// avg@8 (percent) on the hard test tasks.
    pub hard: f64,
    /// avg@8 (percent) on all test tasks.
    pub all: f64,
}

const fn eha(easy: f64, hard: f64, all: f64) -> EasyHardAll {
    EasyHardAll { easy, hard, all }
}

/// One Table 2 row: a training regime and its cell per env.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table2Row {
    /// How the model was trained (the base model for [`Regime::Base`]).
    pub regime: Regime,
    /// One cell per env, in [`ENVS`] order.
    pub cells: [EasyHardAll; 5],
}

/// Table 3 for one model: the base row and one row per training env.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table3 {
    /// The base model's avg@8 (percent) per env.
    pub base: [f64; 5],
    /// One row per training env, in the paper's order.
    pub rows: [Table3Row; 5],
}

/// One Table 3 row: trained on one env, evaluated on all five, with the printed deltas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table3Row {
    /// The training env (index into [`ENVS`]).
    pub trained_on: usize,
    /// avg@8 (percent) per evaluation env.
    pub scores: [f64; 5],
    /// Printed ΔHeld-In.
    pub held_in: f64,
    /// Printed ΔHeld-Out.
    pub held_out: f64,
    /// Printed ΔOverall.
    pub overall: f64,
}

/// One Table 6 row: two-stage training, evaluated on all five envs after stage 2.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table6Row {
    /// The stage-1 env (index into [`ENVS`]).
    pub upstream: usize,
    /// The stage-2 env (index into [`ENVS`]).
    pub downstream: usize,
    /// avg@8 (percent) per evaluation env.
    pub scores: [f64; 5],
}

/// The one efficiency figure the paper states in numbers (§7, Figure 2): Qwen2.5-3B-Instruct on
/// BabyAI, base model → after U_easy training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EfficiencyExample {
    /// Mean interaction turns per episode (base, trained).
    pub turns: (f64, f64),
    /// Mean generated tokens per episode (base, trained).
    pub tokens: (f64, f64),
}

/// Figure 2's quoted example: 3B on BabyAI after U_easy, turns 10.76 → 4.19, tokens 624.58 → 160.60.
pub const FIGURE2_BABYAI_3B_UEASY: EfficiencyExample = EfficiencyExample {
    turns: (10.76, 4.19),
    tokens: (624.58, 160.60),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_every_env_once() {
        for model in Model::ALL {
            let mut trained: Vec<usize> =
                model.table3().rows.iter().map(|r| r.trained_on).collect();
            trained.sort_unstable();
            assert_eq!(trained, vec![0, 1, 2, 3, 4]);
        }
        let mut pairs: Vec<(usize, usize)> = TABLE6_7B
            .iter()
            .map(|r| (r.upstream, r.downstream))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), 20);
        assert!(pairs.iter().all(|(u, d)| u != d));
    }

    #[test]
    fn env_index_accepts_both_spellings() {
        assert_eq!(env_index("webshop"), Some(0));
        assert_eq!(env_index("ALFWorld"), Some(3));
        assert_eq!(env_index("nope"), None);
        assert_eq!(display_name(4), "BabyAI");
    }
}
