//! The ALFRED text engine: admissible commands, action effects and feedback texts of alfworld
//! 0.3.3 (`alfred.pddl` + `alfred.twl2`) as TextWorld's `PddlEnv` produces them.

use std::sync::Arc;

use crate::game::Game;
use crate::text::{join_indefinite, join_list};
use crate::world::{Kind, State, World, obj_flag as f, obj_state as s, set_insert, set_remove};

/// The feedback to any command that is not exactly an admissible one.
pub const NOTHING_HAPPENS: &str = "Nothing happens.";

/// One ground operator of `alfred.pddl` (the agent and the bound location are implicit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `look`.
    Look,
    /// `inventory`.
    Inventory,
    /// `examine {r}` (examineReceptacle).
    ExamineReceptacle(u16),
    /// `examine {o}` (examineObject; only the held object grounds, quirk 1).
    ExamineObject(u16),
    /// `go to {r}`: GotoLocation to location `to`, where `r` stands.
    Goto {
        /// Destination location.
        to: u16,
        /// The receptacle named in the command.
        r: u16,
    },
    /// `open {r}`.
    Open(u16),
    /// `close {r}`.
    Close(u16),
    /// `take {o} from {r}`.
    Take {
        /// Object.
        o: u16,
        /// Receptacle.
        r: u16,
    },
    /// `put {o} in/on {r}`.
    Put {
        /// Object.
        o: u16,
        /// Receptacle.
        r: u16,
    },
    /// `clean {o} with {r}`.
    Clean {
        /// Object.
        o: u16,
        /// Sink basin.
        r: u16,
    },
    /// `heat {o} with {r}`.
    Heat {
        /// Object.
        o: u16,
        /// Microwave.
        r: u16,
    },
    /// `cool {o} with {r}`.
    Cool {
        /// Object.
        o: u16,
        /// Fridge.
        r: u16,
    },
    /// `use {o}` (ToggleObject).
    Toggle {
        /// The toggleable object.
        o: u16,
        /// The receptacle it is in.
        r: u16,
    },
    /// `slice {co} with {ko}`.
    Slice {
        /// The object sliced.
        co: u16,
        /// The knife held.
        ko: u16,
    },
}

/// A game being played: the state, the admissible commands, and the feedback of each step.
#[derive(Clone, Debug)]
pub struct Engine {
    game: Arc<Game>,
    state: State,
    /// Admissible commands, sorted by string (Python's code-point order), deduplicated.
    commands: Vec<(String, Action)>,
}

impl Engine {
    /// Starts `game` in its initial state.
    pub fn new(game: Arc<Game>) -> Engine {
        let state = game.init.clone();
        let mut engine = Engine {
            game,
            state,
            commands: Vec::new(),
        };
        engine.refresh_commands();
        engine
    }

    /// The game.
    pub fn game(&self) -> &Game {
        &self.game
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The sorted admissible commands with their operators.
    pub fn commands(&self) -> &[(String, Action)] {
        &self.commands
    }

    /// The sorted admissible command strings.
    pub fn admissible(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|(c, _)| c.as_str())
    }

    /// Whether the goal holds now.
    pub fn won(&self) -> bool {
        self.game.goal_holds(&self.state)
    }

    /// The raw intro without the banner: the room description, `\n`, the task line
    /// (AgentGym's `"\n".join(raw.split("\n\n")[1:])`).
    pub fn intro(&self) -> String {
        let mut out = self.look_text(false);
        out.push('\n');
        out.push_str(&self.game.task_line);
        out
    }

    /// Runs one command (TextWorld's `step`: strip, exact lookup, apply) and returns the raw
    /// feedback, or `None` when the command is not admissible (`Nothing happens.`).
    pub fn execute(&mut self, command: &str) -> Option<String> {
        let command = crossgym_env_core::py::strip(command);
        let at = self
            .commands
            .binary_search_by(|(c, _)| c.as_str().cmp(command))
            .ok()?;
        let action = self.commands[at].1;
        Some(self.apply(action))
    }

    /// Applies an operator (assumed applicable) and returns its feedback.
    pub fn apply(&mut self, action: Action) -> String {
        let here = self.state.location();
        let st = &mut self.state;
        match action {
            Action::Look
            | Action::Inventory
            | Action::ExamineReceptacle(_)
            | Action::ExamineObject(_) => {}
            Action::Goto { to, .. } => {
                if let Some(from) = here {
                    set_remove(&mut st.agent_at, from);
                }
                set_insert(&mut st.agent_at, to);
            }
            Action::Open(r) => st.opened[r as usize] = true,
            Action::Close(r) => st.opened[r as usize] = false,
            Action::Take { o, r } => {
                set_remove(&mut st.in_recep[o as usize], r);
                set_insert(&mut st.not_in_recep[o as usize], r);
                set_insert(&mut st.held, o);
                st.holds_any = true;
                if let Some(l) = here {
                    set_remove(&mut st.obj_at[o as usize], l);
                }
            }
            Action::Put { o, r } => {
                set_insert(&mut st.in_recep[o as usize], r);
                set_remove(&mut st.not_in_recep[o as usize], r);
                if let Some(l) = here {
                    set_insert(&mut st.obj_at[o as usize], l);
                }
                set_remove(&mut st.held, o);
                st.holds_any = false;
            }
            Action::Clean { o, .. } => st.obj_state[o as usize] |= s::CLEAN,
            Action::Heat { o, .. } => {
                st.obj_state[o as usize] = (st.obj_state[o as usize] | s::HOT) & !s::COOL;
            }
            Action::Cool { o, .. } => {
                st.obj_state[o as usize] = (st.obj_state[o as usize] | s::COOL) & !s::HOT;
            }
            Action::Toggle { o, .. } => {
                st.obj_state[o as usize] ^= s::ON;
                st.obj_state[o as usize] |= s::TOGGLED;
            }
            Action::Slice { co, .. } => st.obj_state[co as usize] |= s::SLICED,
        }
        let feedback = self.feedback(action);
        if !matches!(
            action,
            Action::Look
                | Action::Inventory
                | Action::ExamineReceptacle(_)
                | Action::ExamineObject(_)
        ) {
            self.refresh_commands();
        }
        feedback
    }

    /// The feedback text of `action`, rendered in the current (post-effect) state.
    fn feedback(&self, action: Action) -> String {
        let w = &self.game.world;
        let mut out = String::with_capacity(96);
        match action {
            Action::Look => return self.look_text(true),
            Action::Inventory => {
                if self.state.holds_any {
                    out.push_str("You are carrying: ");
                    let names: Vec<&str> = self.state.held.iter().map(|&o| w.obj_name(o)).collect();
                    join_indefinite(&names, &mut out);
                    out.push('.');
                } else {
                    out.push_str("You are not carrying anything.");
                }
            }
            Action::ExamineReceptacle(r) => self.examine_receptacle(r, &mut out),
            Action::ExamineObject(o) => self.examine_object(o, &mut out),
            Action::Goto { to, r } => {
                push_all(
                    &mut out,
                    &[
                        "You arrive at ",
                        &w.of(Kind::Location)[to as usize].name,
                        ". ",
                    ],
                );
                self.examine_receptacle(r, &mut out);
            }
            Action::Open(r) => {
                push_all(&mut out, &["You open the ", w.rec_name(r), ". "]);
                self.examine_receptacle(r, &mut out);
            }
            Action::Close(r) => {
                push_all(&mut out, &["You close the ", w.rec_name(r), "."]);
            }
            Action::Take { o, r } => {
                push_all(
                    &mut out,
                    &[
                        "You pick up the ",
                        w.obj_name(o),
                        " from the ",
                        w.rec_name(r),
                        ".",
                    ],
                );
            }
            Action::Put { o, r } => {
                push_all(
                    &mut out,
                    &[
                        "You put the ",
                        w.obj_name(o),
                        " in/on the ",
                        w.rec_name(r),
                        ".",
                    ],
                );
            }
            Action::Clean { o, r } | Action::Heat { o, r } | Action::Cool { o, r } => {
                let verb = match action {
                    Action::Clean { .. } => "You clean the ",
                    Action::Heat { .. } => "You heat the ",
                    _ => "You cool the ",
                };
                push_all(
                    &mut out,
                    &[verb, w.obj_name(o), " using the ", w.rec_name(r), "."],
                );
            }
            Action::Toggle { o, .. } => {
                let toggleable = w.obj_has(o, f::TOGGLEABLE);
                out.push_str(if toggleable && self.state.obj_is(o, s::TOGGLED) {
                    "You turn on the "
                } else if toggleable {
                    "You turn off the "
                } else {
                    "You don't see any switch on the "
                });
                out.push_str(w.obj_name(o));
                out.push('.');
            }
            Action::Slice { co, ko } => {
                push_all(
                    &mut out,
                    &[
                        "You sliced the ",
                        w.obj_name(co),
                        " with the ",
                        w.obj_name(ko),
                        ".",
                    ],
                );
            }
        }
        out
    }

    fn examine_receptacle(&self, r: u16, out: &mut String) {
        let w = &self.game.world;
        let contents = || -> Vec<&str> {
            (0..self.state.in_recep.len() as u16)
                .filter(|&o| self.state.in_recep[o as usize].contains(&r))
                .map(|o| w.obj_name(o))
                .collect()
        };
        if w.rec_openable[r as usize] && self.state.opened[r as usize] {
            out.push_str("The ");
            out.push_str(w.rec_name(r));
            out.push_str(" is open. In it, you see ");
            join_indefinite(&contents(), out);
            out.push('.');
        } else if w.rec_openable[r as usize] {
            out.push_str("The ");
            out.push_str(w.rec_name(r));
            out.push_str(" is closed.");
        } else {
            out.push_str("On the ");
            out.push_str(w.rec_name(r));
            out.push_str(", you see ");
            join_indefinite(&contents(), out);
            out.push('.');
        }
    }

    fn examine_object(&self, o: u16, out: &mut String) {
        let w = &self.game.world;
        let name = w.obj_name(o);
        let is = |flag| self.state.obj_is(o, flag);
        if w.obj_has(o, f::RECEPTACLE_OBJECT) {
            let inner: Vec<&str> = (0..w.of(Kind::Object).len() as u16)
                .filter(|&o2| {
                    let ent = |i| crate::world::Ent {
                        kind: Kind::Object,
                        index: i,
                    };
                    w.other_facts
                        .contains(&("inreceptacleobject".to_owned(), vec![ent(o2), ent(o)]))
                })
                .map(|o2| w.obj_name(o2))
                .collect();
            out.push_str("This is a normal ");
            out.push_str(name);
            out.push_str(". In it, you see ");
            join_indefinite(&inner, out);
            out.push('.');
            return;
        }
        let (hot, cool, clean, sliced) = (is(s::HOT), is(s::COOL), is(s::CLEAN), is(s::SLICED));
        let text = if clean && hot && sliced {
            "This is a hot and clean sliced "
        } else if clean && cool && sliced {
            "This is a cool and clean sliced "
        } else if clean && sliced {
            "This is a clean sliced "
        } else if hot && sliced {
            "This is a hot sliced "
        } else if cool && sliced {
            "This is a cool sliced "
        } else if clean && hot {
            "This is a hot and clean "
        } else if clean && cool {
            "This is a cool and clean "
        } else if hot {
            "This is a hot "
        } else if clean {
            "This is a clean "
        } else if cool {
            "This is a cold "
        } else if w.obj_has(o, f::TOGGLEABLE) && is(s::TOGGLED) {
            out.push_str("This ");
            out.push_str(name);
            out.push_str(" is on.");
            return;
        } else if w.obj_has(o, f::SLICEABLE) && sliced {
            "This is a sliced "
        } else {
            "There's nothing special about "
        };
        out.push_str(text);
        out.push_str(name);
        out.push('.');
    }

    /// The `look` text; `bound` is false for the intro, where no location is bound and the
    /// fallback lists every receptacle of the room.
    fn look_text(&self, bound: bool) -> String {
        let w = &self.game.world;
        let mut out = String::with_capacity(256);
        let here = self.state.location();
        let facing: &[u16] = here.map_or(&[], |l| &w.loc_recs[l as usize]);
        if !facing.is_empty() {
            let l = here.unwrap_or_default();
            out.push_str("You are facing the ");
            let names: Vec<&str> = facing.iter().map(|&r| w.rec_name(r)).collect();
            join_list(&names, &mut out);
            out.push_str(". Next to it, you see ");
            // objectatlocation(o, l) & receptacleatlocation(r, l) & not_inreceptacle(o, r),
            // one item per matching (o, r), o-major.
            let mut floor = Vec::new();
            for (o, locs) in self.state.obj_at.iter().enumerate() {
                if locs.contains(&l) {
                    for r in facing {
                        if self.state.not_in_recep[o].contains(r) {
                            floor.push(w.obj_name(o as u16));
                        }
                    }
                }
            }
            join_indefinite(&floor, &mut out);
            out.push('.');
        } else {
            out.push_str("You are in the middle of a room. Looking quickly around you, you see ");
            let mut all = Vec::new();
            if !bound {
                for (r, locs) in w.rec_locs.iter().enumerate() {
                    for _ in locs {
                        all.push(w.rec_name(r as u16));
                    }
                }
            }
            join_indefinite(&all, &mut out);
            out.push('.');
        }
        out
    }

    /// Recomputes the admissible commands (fast-downward's applicable operators, templated,
    /// deduplicated and sorted).
    fn refresh_commands(&mut self) {
        let w: &World = &self.game.world;
        let st = &self.state;
        let mut out: Vec<(String, Action)> = Vec::with_capacity(48);
        out.push(("inventory".to_owned(), Action::Inventory));
        for &o in &st.held {
            out.push((
                format!("examine {}", w.obj_name(o)),
                Action::ExamineObject(o),
            ));
        }
        if let Some(l) = st.location() {
            out.push(("look".to_owned(), Action::Look));
            for (r, locs) in w.rec_locs.iter().enumerate() {
                let r = r as u16;
                for &to in locs {
                    if to != l {
                        out.push((format!("go to {}", w.rec_name(r)), Action::Goto { to, r }));
                    }
                }
            }
            let here = &w.loc_recs[l as usize];
            for &r in here {
                let name = w.rec_name(r);
                out.push((format!("examine {name}"), Action::ExamineReceptacle(r)));
                let openable = w.rec_openable[r as usize];
                let opened = st.opened[r as usize];
                if openable && !opened {
                    out.push((format!("open {name}"), Action::Open(r)));
                }
                if openable && opened {
                    out.push((format!("close {name}"), Action::Close(r)));
                }
                let accessible = !openable || opened;
                if accessible && !st.holds_any {
                    for (o, recs) in st.in_recep.iter().enumerate() {
                        let o = o as u16;
                        if recs.contains(&r) && w.obj_has(o, f::PICKUPABLE) {
                            out.push((
                                format!("take {} from {name}", w.obj_name(o)),
                                Action::Take { o, r },
                            ));
                        }
                    }
                }
                for &o in &st.held {
                    let oname = w.obj_name(o);
                    if accessible
                        && w.obj_types[o as usize].iter().any(|&ot| {
                            w.rec_types[r as usize]
                                .iter()
                                .any(|&rt| w.can_contain[rt as usize][ot as usize])
                        })
                    {
                        out.push((format!("put {oname} in/on {name}"), Action::Put { o, r }));
                    }
                    if w.obj_has(o, f::CLEANABLE) && w.rec_is(r, w.sink_type) {
                        out.push((format!("clean {oname} with {name}"), Action::Clean { o, r }));
                    }
                    if w.obj_has(o, f::HEATABLE) && w.rec_is(r, w.microwave_type) {
                        out.push((format!("heat {oname} with {name}"), Action::Heat { o, r }));
                    }
                    if w.obj_has(o, f::COOLABLE) && w.rec_is(r, w.fridge_type) {
                        out.push((format!("cool {oname} with {name}"), Action::Cool { o, r }));
                    }
                }
                for (o, recs) in st.in_recep.iter().enumerate() {
                    let o = o as u16;
                    if recs.contains(&r) && w.obj_has(o, f::TOGGLEABLE) {
                        out.push((format!("use {}", w.obj_name(o)), Action::Toggle { o, r }));
                    }
                }
            }
            for &ko in &st.held {
                if w.obj_types[ko as usize]
                    .iter()
                    .any(|t| w.knife_types.contains(t))
                {
                    for (co, locs) in st.obj_at.iter().enumerate() {
                        let co = co as u16;
                        if locs.contains(&l) && w.obj_has(co, f::SLICEABLE) {
                            out.push((
                                format!("slice {} with {}", w.obj_name(co), w.obj_name(ko)),
                                Action::Slice { co, ko },
                            ));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|later, earlier| later.0 == earlier.0);
        self.commands = out;
    }
}

/// Appends every part to `out`, in order.
fn push_all(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
}
