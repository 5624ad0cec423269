//! [`WebShopEnv`]: the [`Env`] over a [`Catalogue`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crossgym_env_core::{
    Env, EnvError, EnvInfo, ParserFamily, Result, Step, TaskId, TaskSplit, paper, parse,
    running_episode,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::catalogue::{Catalogue, DEFAULT_PRICE_SEED, PriceSource};
use crate::loader::DataFiles;
use crate::session::Session;
use crate::synth;

/// AgentGym's ReAct `conversation_start` human message for WebShop.
pub const INSTRUCTION: &str = "You are web shopping.\nI will give you instructions about what to do.\nYou have to follow the instructions.\nEvery round I will give you an observation and a list of available actions, you have to respond an action based on the state and instruction.\nYou can use search action if search is available.\nYou can click one of the buttons in clickables.\nAn action should be of the following structure:\nsearch[keywords]\nclick[value]\nIf the action is not valid, perform nothing.\nKeywords in search are up to you, but the value in click must be a value in the list of available actions.\nRemember that your keywords in search should be carefully designed.\nYour response should use the following format:\n\nThought:\nI think ... \n\nAction: \nclick[something]";

/// AgentGym's assistant acknowledgement that follows [`INSTRUCTION`].
pub const ACKNOWLEDGEMENT: &str = "Ok.";

/// The env's registry name.
pub const NAME: &str = paper::WEBSHOP.name;

/// The behaviour version of [`WebShopEnv`] (see [`EnvInfo::version`]).
pub const VERSION: u32 = 0;

/// WebShop's [`EnvInfo`]: AgentGym's instruction and acknowledgement, the ReAct-last parser,
/// the paper's turn limits and Table-1 characteristics.
pub fn info() -> EnvInfo {
    paper::WEBSHOP.info(
        VERSION,
        INSTRUCTION,
        ACKNOWLEDGEMENT,
        ParserFamily::ReactLast,
    )
}

/// The split's seed.
pub const SPLIT_SEED: u64 = 20_260_601;

/// How to build the env.
#[derive(Clone, Debug, PartialEq)]
pub enum WebShopConfig {
    /// The synthetic catalogue of `num_products` products from `seed`.
    Synthetic {
        /// Number of products.
        num_products: usize,
        /// Generator seed.
        seed: u64,
    },
    /// The reference's files.
    Files(DataFiles),
}

impl Default for WebShopConfig {
    /// `$CROSSGYM_WEBSHOP_DATA` when set, else the default synthetic catalogue.
    fn default() -> Self {
        DataFiles::from_env().map_or(
            WebShopConfig::Synthetic {
                num_products: synth::DEFAULT_NUM_PRODUCTS,
                seed: synth::DEFAULT_SEED,
            },
            WebShopConfig::Files,
        )
    }
}

impl WebShopConfig {
    /// Builds the catalogue.
    pub fn catalogue(&self) -> Result<Catalogue> {
        let prices = PriceSource::Seeded(DEFAULT_PRICE_SEED);
        match self {
            WebShopConfig::Synthetic { num_products, seed } => {
                let synth = synth::generate(*num_products, *seed);
                Catalogue::build(
                    "synthetic catalogue",
                    &synth.products,
                    &synth.attributes,
                    &prices,
                    synth.nouns,
                )
            }
            WebShopConfig::Files(files) => files.load(&prices),
        }
    }
}

/// The WebShop environment: task `i` is goal `i` of the catalogue.
#[derive(Clone, Debug)]
pub struct WebShopEnv {
    info: EnvInfo,
    catalogue: Arc<Catalogue>,
    split: TaskSplit,
    session: Option<Session>,
    task: Option<TaskId>,
    done: bool,
}

impl WebShopEnv {
    /// The default env (see [`WebShopConfig::default`]).
    pub fn new() -> Result<Self> {
        Self::from_config(&WebShopConfig::default())
    }

    /// A synthetic env with `num_products` products (for tests and examples).
    pub fn small(num_products: usize) -> Result<Self> {
        Self::from_config(&WebShopConfig::Synthetic {
            num_products,
            seed: synth::DEFAULT_SEED,
        })
    }

    /// Builds the env from a configuration.
    pub fn from_config(config: &WebShopConfig) -> Result<Self> {
        Self::from_catalogue(Arc::new(config.catalogue()?))
    }

    /// An env over a shared catalogue (cheap to clone for parallel rollouts).
    pub fn from_catalogue(catalogue: Arc<Catalogue>) -> Result<Self> {
        let split = product_disjoint_split(&catalogue)?;
        Ok(Self {
            info: info(),
            catalogue,
            split,
            session: None,
            task: None,
            done: false,
        })
    }

    /// The catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The current session, if reset.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

/// A train/test split whose halves share no product: products are shuffled (seeded), whole
/// products go to test until it has 200 goals (the first 200 of them are kept, the rest of those
/// products' goals are in neither half), and train takes up to 3,930 goals of the other products.
/// Small catalogues get proportionally smaller halves.
fn product_disjoint_split(catalogue: &Catalogue) -> Result<TaskSplit> {
    let goals = catalogue.goals();
    let mut by_product: BTreeMap<&str, Vec<TaskId>> = BTreeMap::new();
    for (i, goal) in goals.iter().enumerate() {
        by_product.entry(&goal.asin).or_default().push(TaskId(i));
    }
    let mut products: Vec<&str> = by_product.keys().copied().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(SPLIT_SEED);
    products.shuffle(&mut rng);
    let webshop = paper::WEBSHOP;
    let total = goals.len();
    let wanted = webshop.train_tasks + webshop.test_tasks;
    let n_test = if total >= wanted {
        webshop.test_tasks
    } else {
        (total * webshop.test_tasks / wanted).max(1)
    };
    let mut test = Vec::new();
    let mut rest = products.iter();
    for product in rest.by_ref() {
        if test.len() >= n_test {
            break;
        }
        test.extend(by_product[product].iter().copied());
    }
    // `rest` skipped the product that ended the loop: it already went to test or was unused.
    let used: std::collections::HashSet<TaskId> = test.iter().copied().collect();
    test.truncate(n_test);
    let mut train: Vec<TaskId> = products
        .iter()
        .flat_map(|p| by_product[p].iter().copied())
        .filter(|id| !used.contains(id))
        .collect();
    train.shuffle(&mut rng);
    let n_train = if total >= wanted {
        webshop.train_tasks
    } else {
        train.len().min(total * webshop.train_tasks / wanted)
    };
    if train.len() < n_train {
        return Err(EnvError::Split {
            env: NAME.to_owned(),
            message: format!("only {} train goals left for {n_train}", train.len()),
        });
    }
    train.truncate(n_train);
    TaskSplit::new(NAME, total, train, test)
}

impl Env for WebShopEnv {
    fn info(&self) -> &EnvInfo {
        &self.info
    }

    fn num_tasks(&self) -> usize {
        self.catalogue.goals().len()
    }

    fn split(&self) -> &TaskSplit {
        &self.split
    }

    fn reset(&mut self, task: TaskId) -> Result<String> {
        self.check_task(task)?;
        let goal = self.catalogue.goals()[task.0].clone();
        let session = Session::new(goal, task.0);
        let observation = session.observation(&self.catalogue);
        self.session = Some(session);
        self.task = Some(task);
        self.done = false;
        Ok(observation)
    }

    fn step(&mut self, reply: &str) -> Result<Step> {
        let session = running_episode(&self.info.name, self.session.as_mut(), |_| {
            self.done.then(|| self.task.unwrap_or(TaskId(0)))
        })?;
        let action = parse::react_last_or_command(reply);
        let outcome = session.step(action, &self.catalogue, self.catalogue.index());
        self.done = outcome.done;
        // The reference counts a purchase as a success only at full reward.
        let mut step = Step::new(outcome.observation, outcome.reward, outcome.done)
            .with_action(action)
            .with_success(outcome.done && outcome.reward == 1.0)
            .with_detail("page", session.kind().name());
        if !outcome.valid {
            step = step.invalid();
        }
        if let Some(info) = outcome.reward_info {
            step = step
                .with_detail("r_type", info.r_type.to_string())
                .with_detail("r_att", info.r_att.to_string())
                .with_detail(
                    "r_option",
                    info.r_option.map_or("None".into(), |r| r.to_string()),
                )
                .with_detail("r_price", info.r_price.to_string())
                .with_detail("asin", session.asin().unwrap_or_default());
        }
        Ok(step)
    }
}
