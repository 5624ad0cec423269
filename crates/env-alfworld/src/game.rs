//! Loading ALFWorld games: `game.tw-pddl` files (JSON with `pddl_domain`, `grammar`,
//! `pddl_problem`, `walkthrough`) and bare PDDL problems, into a [`Game`].

use std::collections::HashMap;
use std::path::Path;

use crossgym_env_core::EnvError;

use crate::NAME;

use crate::goal::{Formula, Term};
use crate::names::demangle;
use crate::sexpr::{Sexpr, parse_all};
use crate::world::{Ent, Entity, Kind, Pred, State, World, set_insert};

/// One playable game: the world, its initial state, the goal and the task sentence.
#[derive(Clone, Debug)]
pub struct Game {
    /// Entities, names and static facts.
    pub world: World,
    /// The initial state.
    pub init: State,
    /// The goal (fast-downward's `check_goal` on the problem's `:goal`).
    pub goal: Formula,
    /// How many variable slots the goal needs.
    pub goal_slots: usize,
    /// The grammar's task line, e.g. `Your task is to: put a mug in cabinet.`
    pub task_line: String,
    /// The file's planner walkthrough, when it has one.
    pub walkthrough: Vec<String>,
}

impl Game {
    /// Reads a `game.tw-pddl` file.
    pub fn load(path: impl AsRef<Path>) -> Result<Game, EnvError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| EnvError::io(NAME, path.display().to_string(), source))?;
        Game::from_tw_pddl(&path.display().to_string(), &text)
    }

    /// Parses the text of a `game.tw-pddl` file; `label` names the file in errors.
    pub fn from_tw_pddl(label: &str, text: &str) -> Result<Game, EnvError> {
        let err = |message: String| EnvError::data(NAME, label, message);
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not a JSON game file: {e}")))?;
        let field = |name: &str| -> Result<&str, EnvError> {
            json.get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| err(format!("missing string field `{name}`")))
        };
        let domain = field("pddl_domain")?;
        check_domain(domain).map_err(|m| err(format!("pddl_domain: {m}")))?;
        let grammar = field("grammar")?;
        let task_line = task_line(grammar).map_err(|m| err(format!("grammar: {m}")))?;
        let problem = field("pddl_problem")?;
        let walkthrough = match json.get("walkthrough") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(value) => value
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| err("`walkthrough` must be a list of strings".into()))?,
        };
        let mut game = Game::from_problem(problem, task_line)
            .map_err(|m| err(format!("pddl_problem: {m}")))?;
        game.walkthrough = walkthrough;
        Ok(game)
    }

    /// Builds a game from a PDDL problem and the task line; errors name the offending form.
    pub fn from_problem(problem: &str, task_line: String) -> Result<Game, String> {
        let forms = parse_all(problem)?;
        let define = match forms.as_slice() {
            [define] if define.head() == Some("define") => define,
            _ => return Err("expected exactly one `(define (problem …) …)` form".into()),
        };
        let sections = define.list().unwrap_or_default();
        let section = |name: &str| {
            sections
                .iter()
                .find(|s| s.head() == Some(name))
                .and_then(Sexpr::list)
                .map(|items| &items[1..])
        };
        let objects = section(":objects").ok_or("no `(:objects …)` section")?;
        let init = section(":init").ok_or("no `(:init …)` section")?;
        let goal = section(":goal").ok_or("no `(:goal …)` section")?;

        let mut builder = Builder::new(objects)?;
        for fact in init {
            builder.add_fact(fact)?;
        }
        let goal_form = match goal {
            [form] => form,
            _ => return Err("`(:goal …)` must hold exactly one formula".into()),
        };
        let mut scope = Vec::new();
        let mut slots = 0usize;
        let goal = builder.formula(goal_form, &mut scope, &mut slots)?;
        let (world, init) = builder.finish();
        Ok(Game {
            world,
            init,
            goal,
            goal_slots: slots,
            task_line,
            walkthrough: Vec::new(),
        })
    }

    /// Whether the goal holds in `state`.
    pub fn goal_holds(&self, state: &State) -> bool {
        let mut bindings = vec![None; self.goal_slots];
        self.goal.eval(&self.world, state, &mut bindings)
    }
}

/// The engine implements alfworld 0.3.3's `alfred.pddl`; a game must name that domain.
fn check_domain(domain: &str) -> Result<(), String> {
    let forms = parse_all(domain)?;
    let name = forms
        .iter()
        .find(|f| f.head() == Some("define"))
        .and_then(|f| f.list())
        .and_then(|items| items.get(1))
        .filter(|f| f.head() == Some("domain"))
        .and_then(|f| f.list())
        .and_then(|items| items.get(1))
        .and_then(Sexpr::atom);
    match name {
        Some("alfred") => Ok(()),
        Some(other) => Err(format!(
            "domain `{other}` is not the ALFRED domain this engine implements"
        )),
        None => Err("no `(define (domain …) …)` form".into()),
    }
}

/// The `task` rule of the grammar: `Your task is to: {goal}.` (the game's goal text).
fn task_line(grammar: &str) -> Result<String, String> {
    let start = grammar
        .find("grammar :: \"\"\"")
        .ok_or("no top-level `grammar :: \"\"\"…\"\"\"` block")?
        + "grammar :: \"\"\"".len();
    let len = grammar[start..]
        .find("\"\"\"")
        .ok_or("unterminated grammar block")?;
    let rules: serde_json::Value = serde_json::from_str(&grammar[start..start + len])
        .map_err(|e| format!("grammar block is not JSON: {e}"))?;
    rules
        .get("task")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("rhs"))
        .and_then(|r| r.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "no `task` rule with an `rhs`".into())
}

struct Builder {
    world: World,
    state: State,
    by_id: HashMap<String, Ent>,
}

impl Builder {
    fn new(objects: &[Sexpr]) -> Result<Builder, String> {
        let mut declared: Vec<(String, Kind)> = Vec::new();
        let mut pending: Vec<String> = Vec::new();
        let mut items = objects.iter();
        while let Some(item) = items.next() {
            let atom = item
                .atom()
                .ok_or_else(|| format!("(:objects …) holds a list: {}", item.snippet()))?;
            if atom == "-" {
                let type_name = items
                    .next()
                    .and_then(Sexpr::atom)
                    .ok_or("(:objects …) ends with `-` and no type")?;
                let kind = Kind::from_pddl(type_name).ok_or_else(|| {
                    format!("(:objects …): unknown type `{type_name}` (ALFRED types are agent, location, receptacle, object, rtype, otype)")
                })?;
                declared.extend(pending.drain(..).map(|name| (name, kind)));
            } else {
                pending.push(atom.to_owned());
            }
        }
        if !pending.is_empty() {
            return Err(format!("(:objects …): `{}` has no type", pending.join(" ")));
        }
        let ids: Vec<String> = declared.iter().map(|(id, _)| id.clone()).collect();
        let names = demangle(&ids);
        let mut world = World::default();
        let mut per_kind: [Vec<Entity>; 6] = Default::default();
        for ((id, kind), name) in declared.into_iter().zip(names) {
            per_kind[kind as usize].push(Entity { id, name });
        }
        let mut by_id = HashMap::new();
        for kind in Kind::ALL {
            let list = &mut per_kind[kind as usize];
            list.sort_by(|a, b| a.id.cmp(&b.id));
            for (index, entity) in list.iter().enumerate() {
                let index =
                    u16::try_from(index).map_err(|_| "too many objects (max 65535 per type)")?;
                if by_id
                    .insert(entity.id.clone(), Ent { kind, index })
                    .is_some()
                {
                    return Err(format!("(:objects …) declares `{}` twice", entity.id));
                }
            }
        }
        world.entities = per_kind;
        if world.of(Kind::Agent).len() != 1 {
            return Err(format!(
                "(:objects …) must declare exactly one agent, found {}",
                world.of(Kind::Agent).len()
            ));
        }
        let (n_loc, n_rec, n_obj) = (
            world.of(Kind::Location).len(),
            world.of(Kind::Receptacle).len(),
            world.of(Kind::Object).len(),
        );
        let (n_rt, n_ot) = (world.of(Kind::RType).len(), world.of(Kind::OType).len());
        world.rec_locs = vec![Vec::new(); n_rec];
        world.loc_recs = vec![Vec::new(); n_loc];
        world.rec_openable = vec![false; n_rec];
        world.rec_types = vec![Vec::new(); n_rec];
        world.obj_types = vec![Vec::new(); n_obj];
        world.obj_flags = vec![0; n_obj];
        world.can_contain = vec![vec![false; n_ot]; n_rt];
        let find =
            |name: &str, kind: Kind| by_id.get(name).filter(|e| e.kind == kind).map(|e| e.index);
        world.sink_type = find("sinkbasintype", Kind::RType);
        world.microwave_type = find("microwavetype", Kind::RType);
        world.fridge_type = find("fridgetype", Kind::RType);
        world.knife_types = ["knifetype", "butterknifetype"]
            .iter()
            .filter_map(|n| find(n, Kind::OType))
            .collect();
        let state = State {
            agent_at: Vec::new(),
            held: Vec::new(),
            holds_any: false,
            in_recep: vec![Vec::new(); n_obj],
            obj_at: vec![Vec::new(); n_obj],
            not_in_recep: vec![Vec::new(); n_obj],
            opened: vec![false; n_rec],
            obj_state: vec![0; n_obj],
        };
        Ok(Builder {
            world,
            state,
            by_id,
        })
    }

    fn entity(&self, name: &str, form: &Sexpr) -> Result<Ent, String> {
        self.by_id.get(name).copied().ok_or_else(|| {
            format!(
                "line {}: `{name}` is not declared in (:objects …): {}",
                form.line(),
                form.snippet()
            )
        })
    }

    fn add_fact(&mut self, form: &Sexpr) -> Result<(), String> {
        let bad = |why: &str| format!("line {}: {why}: {}", form.line(), form.snippet());
        let items = form
            .list()
            .ok_or_else(|| bad("an init fact must be a list"))?;
        let head = items
            .first()
            .and_then(Sexpr::atom)
            .ok_or_else(|| bad("an init fact must start with a predicate name"))?;
        if head == "=" {
            // Numeric fluents (distance, total-cost) do not affect the text game.
            return Ok(());
        }
        let mut args = Vec::with_capacity(items.len() - 1);
        for item in &items[1..] {
            let name = item
                .atom()
                .ok_or_else(|| bad("fact arguments must be names"))?;
            args.push(self.entity(name, form)?);
        }
        let pred = Pred::from_name(head);
        if let Some(signature) = pred.signature()
            && (signature.len() != args.len()
                || signature.iter().zip(&args).any(|(kind, e)| *kind != e.kind))
        {
            let expected: Vec<&str> = signature.iter().map(|k| k.pddl()).collect();
            return Err(bad(&format!("`{head}` takes ({})", expected.join(", "))));
        }
        let a = |i: usize| args[i].index;
        let (w, s) = (&mut self.world, &mut self.state);
        match pred {
            Pred::AtLocation => set_insert(&mut s.agent_at, a(1)),
            Pred::ReceptacleAtLocation => {
                set_insert(&mut w.rec_locs[a(0) as usize], a(1));
                set_insert(&mut w.loc_recs[a(1) as usize], a(0));
            }
            Pred::ObjectAtLocation => set_insert(&mut s.obj_at[a(0) as usize], a(1)),
            Pred::Openable => w.rec_openable[a(0) as usize] = true,
            Pred::Opened => s.opened[a(0) as usize] = true,
            Pred::InReceptacle => set_insert(&mut s.in_recep[a(0) as usize], a(1)),
            Pred::ReceptacleType => set_insert(&mut w.rec_types[a(0) as usize], a(1)),
            Pred::ObjectType => set_insert(&mut w.obj_types[a(0) as usize], a(1)),
            Pred::CanContain => w.can_contain[a(0) as usize][a(1) as usize] = true,
            Pred::Holds => set_insert(&mut s.held, a(1)),
            Pred::HoldsAny => s.holds_any = true,
            Pred::ObjFlag(flag) => w.obj_flags[a(0) as usize] |= flag,
            Pred::ObjState(flag) => s.obj_state[a(0) as usize] |= flag,
            Pred::Other(name) => {
                w.other_facts.insert((name, args));
            }
        }
        Ok(())
    }

    fn formula(
        &self,
        form: &Sexpr,
        scope: &mut Vec<(String, usize, Kind)>,
        slots: &mut usize,
    ) -> Result<Formula, String> {
        let bad = |why: &str| format!("line {}: {why}: {}", form.line(), form.snippet());
        let items = form
            .list()
            .ok_or_else(|| bad("a goal formula must be a list"))?;
        let Some(head) = items.first().and_then(Sexpr::atom) else {
            return if items.is_empty() {
                Ok(Formula::True)
            } else {
                Err(bad("a goal formula must start with a name"))
            };
        };
        let args = &items[1..];
        Ok(match head {
            "and" | "or" => {
                let mut parts = Vec::with_capacity(args.len());
                for arg in args {
                    parts.push(self.formula(arg, scope, slots)?);
                }
                if head == "and" {
                    Formula::And(parts)
                } else {
                    Formula::Or(parts)
                }
            }
            "not" => match args {
                [inner] => Formula::Not(Box::new(self.formula(inner, scope, slots)?)),
                _ => return Err(bad("`not` takes one formula")),
            },
            "imply" => match args {
                [a, b] => Formula::Imply(
                    Box::new(self.formula(a, scope, slots)?),
                    Box::new(self.formula(b, scope, slots)?),
                ),
                _ => return Err(bad("`imply` takes two formulas")),
            },
            "exists" | "forall" => {
                let [vars, body] = args else {
                    return Err(bad(&format!(
                        "`{head}` takes a variable list and a formula"
                    )));
                };
                let vars = self.variables(vars, form, slots)?;
                let depth = scope.len();
                scope.extend(vars.iter().cloned());
                let body = self.formula(body, scope, slots);
                scope.truncate(depth);
                let body = body?;
                let vars: Vec<(usize, Kind)> = vars.into_iter().map(|(_, s, k)| (s, k)).collect();
                if head == "exists" {
                    Formula::exists(vars, body)
                } else {
                    Formula::Forall {
                        vars,
                        body: Box::new(body),
                    }
                }
            }
            "=" => match args {
                [a, b] => Formula::Eq(self.term(a, scope, form)?, self.term(b, scope, form)?),
                _ => return Err(bad("`=` takes two terms")),
            },
            name => {
                let mut terms = Vec::with_capacity(args.len());
                for arg in args {
                    terms.push(self.term(arg, scope, form)?);
                }
                Formula::Atom(Pred::from_name(name), terms)
            }
        })
    }

    fn variables(
        &self,
        list: &Sexpr,
        form: &Sexpr,
        slots: &mut usize,
    ) -> Result<Vec<(String, usize, Kind)>, String> {
        let bad = |why: String| format!("line {}: {why}: {}", form.line(), form.snippet());
        let items = list
            .list()
            .ok_or_else(|| bad("quantifier variables must be a list".into()))?;
        let mut out = Vec::new();
        let mut pending: Vec<String> = Vec::new();
        let mut iter = items.iter();
        while let Some(item) = iter.next() {
            let atom = item
                .atom()
                .ok_or_else(|| bad("quantifier variables must be names".into()))?;
            if atom == "-" {
                let type_name = iter
                    .next()
                    .and_then(Sexpr::atom)
                    .ok_or_else(|| bad("`-` without a type".into()))?;
                let kind = Kind::from_pddl(type_name.trim_end_matches(','))
                    .ok_or_else(|| bad(format!("unknown type `{type_name}`")))?;
                for name in pending.drain(..) {
                    out.push((name, *slots, kind));
                    *slots += 1;
                }
            } else if let Some(name) = atom.strip_prefix('?') {
                pending.push(name.trim_end_matches(',').to_owned());
            } else {
                return Err(bad(format!("`{atom}` is not a variable")));
            }
        }
        if !pending.is_empty() {
            return Err(bad(format!(
                "variables `{}` have no type",
                pending.join(" ")
            )));
        }
        Ok(out)
    }

    fn term(
        &self,
        item: &Sexpr,
        scope: &[(String, usize, Kind)],
        form: &Sexpr,
    ) -> Result<Term, String> {
        let atom = item.atom().ok_or_else(|| {
            format!(
                "line {}: an argument must be a name: {}",
                form.line(),
                form.snippet()
            )
        })?;
        if let Some(var) = atom.strip_prefix('?') {
            scope
                .iter()
                .rev()
                .find(|(name, _, _)| name == var)
                .map(|(_, slot, _)| Term::Var(*slot))
                .ok_or_else(|| {
                    format!(
                        "line {}: variable `?{var}` is not bound: {}",
                        form.line(),
                        form.snippet()
                    )
                })
        } else {
            Ok(Term::Const(self.entity(atom, form)?))
        }
    }

    fn finish(self) -> (World, State) {
        (self.world, self.state)
    }
}
