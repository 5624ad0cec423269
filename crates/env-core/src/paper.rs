//! The five environments as the paper describes them (Table 1 characteristics, Table 5 task-set
//! sizes, training turn limits), so every env crate states the same facts.

use crate::{ActionList, Characteristics, EnvInfo, ParserFamily};

/// Test-time turn cap K of the paper's evaluation (§3).
pub const EVAL_MAX_TURNS: usize = 20;

/// One environment's row of the paper's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaperEnv {
    /// Our env name.
    pub name: &'static str,
    /// The paper's display name.
    pub display_name: &'static str,
    /// Train tasks (Table 5).
    pub train_tasks: usize,
    /// Test tasks (Table 5).
    pub test_tasks: usize,
    /// Training turn limit (Table 1).
    pub max_turns: usize,
    /// Table 1 characteristics.
    pub characteristics: Characteristics,
}

impl PaperEnv {
    /// The [`EnvInfo`] of this env: its name, training turn limit and characteristics from this
    /// row, the evaluation cap [`EVAL_MAX_TURNS`], and what only the env crate knows (behaviour
    /// version, the reference's instruction and acknowledgement, its reply parser).
    pub fn info(
        &self,
        version: u32,
        instruction: &str,
        acknowledgement: &str,
        parser: ParserFamily,
    ) -> EnvInfo {
        EnvInfo {
            name: self.name.to_owned(),
            version,
            instruction: instruction.to_owned(),
            acknowledgement: acknowledgement.to_owned(),
            parser,
            max_turns_train: self.max_turns,
            max_turns_eval: EVAL_MAX_TURNS,
            characteristics: self.characteristics,
        }
    }
}

/// WebShop.
pub const WEBSHOP: PaperEnv = PaperEnv {
    name: "webshop",
    display_name: "WebShop",
    train_tasks: 3930,
    test_tasks: 200,
    max_turns: 10,
    characteristics: Characteristics {
        dense_reward: true,
        strict_validation: false,
        action_list: ActionList::None,
        world_knowledge: true,
        structured_observation: true,
    },
};

/// SearchQA.
pub const SEARCHQA: PaperEnv = PaperEnv {
    name: "searchqa",
    display_name: "SearchQA",
    train_tasks: 4000,
    test_tasks: 400,
    max_turns: 5,
    characteristics: Characteristics {
        dense_reward: false,
        strict_validation: true,
        action_list: ActionList::None,
        world_knowledge: true,
        structured_observation: true,
    },
};

/// TextCraft.
pub const TEXTCRAFT: PaperEnv = PaperEnv {
    name: "textcraft",
    display_name: "TextCraft",
    train_tasks: 444,
    test_tasks: 100,
    max_turns: 15,
    characteristics: Characteristics {
        dense_reward: false,
        strict_validation: true,
        action_list: ActionList::None,
        world_knowledge: false,
        structured_observation: false,
    },
};

/// ALFWorld.
pub const ALFWORLD: PaperEnv = PaperEnv {
    name: "alfworld",
    display_name: "ALFWorld",
    train_tasks: 2420,
    test_tasks: 200,
    max_turns: 30,
    characteristics: Characteristics {
        dense_reward: false,
        strict_validation: true,
        action_list: ActionList::FirstTurnOnly,
        world_knowledge: false,
        structured_observation: false,
    },
};

/// BabyAI.
pub const BABYAI: PaperEnv = PaperEnv {
    name: "babyai",
    display_name: "BabyAI",
    train_tasks: 810,
    test_tasks: 90,
    max_turns: 10,
    characteristics: Characteristics {
        dense_reward: true,
        strict_validation: false,
        action_list: ActionList::EveryTurn,
        world_knowledge: false,
        structured_observation: false,
    },
};

/// All five, in the paper's column order.
pub const ALL: [PaperEnv; 5] = [WEBSHOP, SEARCHQA, TEXTCRAFT, ALFWORLD, BABYAI];

/// The paper's row for `name`, if it is one of the five.
pub fn by_name(name: &str) -> Option<&'static PaperEnv> {
    ALL.iter().find(|env| env.name == name)
}
