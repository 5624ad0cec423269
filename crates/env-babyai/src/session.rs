//! One episode of AgentGym's BabyAI text interface (`BabyAI` + the server's payload): action
//! validation, primitive execution with the image-change check, rewards, score and `done`.

use crossgym_env_core::py;

use crate::text::{Rendering, render};
use crate::world::{Action, Image, World};

/// What the text interface answered to one action (the server's `/step` payload).
#[derive(Clone, Debug, PartialEq)]
pub struct TextStep {
    /// The observation, with the `\nAvailable actions: [...]` suffix.
    pub observation: String,
    /// `env.reward`: the last primitive's reward, or the stale value on steps that ran none.
    pub reward: f64,
    /// The episode score: the previous score plus `reward` (what the client reports).
    pub score: f64,
    /// Whether the episode ended (success worth more than 0.5).
    pub done: bool,
    /// Whether this step achieved the mission, whatever its discounted reward (a success worth
    /// 0.5 or less does not end the episode, but is a success all the same).
    pub success: bool,
    /// Whether the action was rejected (unknown, infeasible or empty).
    pub invalid: bool,
    /// How many primitives ran.
    pub primitives: usize,
}

/// The state of one text episode.
#[derive(Clone, Debug)]
pub struct TextSession {
    world: World,
    goal: String,
    rendering: Rendering,
    last_image: Image,
    reward: f64,
    score: f64,
    done: bool,
    success: bool,
}

/// The goal text: the mission with `then` → `and` and `after you` → `and`.
pub fn goal_text(mission: &str) -> String {
    mission.replace("then", "and").replace("after you", "and")
}

fn reset_image(world: &World) -> Image {
    let lifted = world
        .carrying
        .as_ref()
        .and_then(|obj| obj.cur_pos.map(|pos| (obj, pos)))
        .filter(|&(_, pos)| world.grid.contains(pos) && world.grid.get(pos).is_none());
    match lifted {
        Some((obj, pos)) => {
            let mut before = world.clone();
            before.grid.set(pos, Some(obj.clone()));
            before.carrying = None;
            before.image()
        }
        None => world.image(),
    }
}

impl TextSession {
    /// Starts a session on a world that was just reset.
    ///
    /// MiniGrid renders the reset observation before a level's own `reset` override runs, so
    /// an object the agent starts carrying (PutNextS7N4Carrying) still lies on the floor at its
    /// `cur_pos` in that first image, and the agent's cell shows nothing carried.
    pub fn new(world: World) -> TextSession {
        let image = reset_image(&world);
        let rendering = render(&world, &image);
        TextSession {
            goal: goal_text(&world.mission),
            world,
            rendering,
            last_image: image,
            reward: 0.0,
            score: 0.0,
            done: false,
            success: false,
        }
    }

    /// The reset observation: `Your goal: …\n<description>\nAvailable actions: [...]`.
    pub fn reset_observation(&self) -> String {
        format!(
            "Your goal: {}\n{}{}",
            self.goal,
            self.rendering.description,
            self.rendering.available_suffix()
        )
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The current rendering (description and available actions).
    pub fn rendering(&self) -> &Rendering {
        &self.rendering
    }

    /// The goal text shown to the agent.
    pub fn goal(&self) -> &str {
        &self.goal
    }

    /// Whether the episode is over.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The last step's reward (0 before the first step).
    pub fn reward(&self) -> f64 {
        self.reward
    }

    /// The score so far.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// Applies one action string as the server receives it (it lower-cases and strips it).
    pub fn step(&mut self, action: &str) -> TextStep {
        let action = py::strip(&action.to_lowercase()).to_owned();
        self.success = false;
        let (text, invalid, primitives) = self.apply(&action);
        self.score += self.reward;
        TextStep {
            observation: format!("{text}{}", self.rendering.available_suffix()),
            reward: self.reward,
            score: self.score,
            done: self.done,
            success: self.success,
            invalid,
            primitives,
        }
    }

    fn apply(&mut self, action: &str) -> (String, bool, usize) {
        if action.contains("check") {
            return (self.rendering.listing(), false, 0);
        }
        if action.is_empty() {
            return ("No change in state.".to_owned(), true, 0);
        }
        let Some(plan) = self.rendering.plan(action) else {
            let text = self
                .rendering
                .error(action)
                .unwrap_or("The action is not recognized. Please check valid actions.");
            return (text.to_owned(), true, 0);
        };
        if plan.is_empty() {
            return ("No change in state.".to_owned(), false, 0);
        }
        let plan: Vec<Action> = plan.to_vec();
        let mut outcome = None;
        let mut image = self.last_image;
        let mut executed = 0;
        for primitive in plan {
            outcome = Some(self.world.step(primitive));
            executed += 1;
            image = self.world.image();
            if image == self.last_image {
                break;
            }
            self.last_image = image;
        }
        let Some(outcome) = outcome else {
            return ("No change in state.".to_owned(), false, 0);
        };
        self.last_image = image;
        self.rendering = render(&self.world, &image);
        let mut text = self.rendering.description.clone();
        self.done = outcome.terminated;
        if self.done {
            text.push_str("\n The task is completed.");
        }
        self.reward = outcome.reward;
        // MiniGrid pays a positive reward exactly when the mission (or a goal square) is reached.
        self.success = outcome.terminated && outcome.reward > 0.0;
        if self.done && self.reward <= 0.5 {
            self.done = false;
        }
        (text, false, executed)
    }
}
