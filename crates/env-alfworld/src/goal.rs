//! Goal formulas (PDDL `:goal`): parsed once, evaluated after every step.
//!
//! Quantifiers are evaluated by backtracking: an `exists` binds its variables one at a time and
//! checks each conjunct of its body as soon as all the variables it mentions are bound, so the
//! goal_library goals (`exists ?r ?o1 ?o2 …`) cost a few hundred atom checks, not a cube.

use std::collections::BTreeSet;

use crate::world::{Ent, Kind, Pred, State, World};

/// A term: a quantified variable (slot number) or a constant entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// The variable in this binding slot.
    Var(usize),
    /// A constant.
    Const(Ent),
}

/// A goal formula.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formula {
    /// Always true (`(and)`).
    True,
    /// A predicate applied to terms.
    Atom(Pred, Vec<Term>),
    /// `(= a b)`.
    Eq(Term, Term),
    /// `(not f)`.
    Not(Box<Formula>),
    /// `(and …)`.
    And(Vec<Formula>),
    /// `(or …)`.
    Or(Vec<Formula>),
    /// `(imply a b)`.
    Imply(Box<Formula>, Box<Formula>),
    /// `(exists (vars) body)`, compiled: `checks[0]` are the body's conjuncts that mention none
    /// of `vars`, `checks[i + 1]` those whose last-bound variable is `vars[i]`.
    Exists {
        /// The variables: binding slot and kind.
        vars: Vec<(usize, Kind)>,
        /// Conjuncts grouped by the depth at which they can be checked.
        checks: Vec<Vec<Formula>>,
    },
    /// `(forall (vars) body)`.
    Forall {
        /// The variables: binding slot and kind.
        vars: Vec<(usize, Kind)>,
        /// The body.
        body: Box<Formula>,
    },
}

impl Formula {
    /// Builds an `exists`, flattening nested `exists` chains and grouping conjuncts by depth.
    pub fn exists(vars: Vec<(usize, Kind)>, body: Formula) -> Formula {
        let (vars, conjuncts) = flatten_exists(vars, body);
        let mut checks = vec![Vec::new(); vars.len() + 1];
        for conjunct in conjuncts {
            let free = conjunct.free_vars();
            let depth = vars
                .iter()
                .rposition(|(slot, _)| free.contains(slot))
                .map_or(0, |at| at + 1);
            checks[depth].push(conjunct);
        }
        Formula::Exists { vars, checks }
    }

    /// The variable slots this formula mentions but does not bind.
    pub fn free_vars(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        self.collect_free(&mut out);
        out
    }

    fn collect_free(&self, out: &mut BTreeSet<usize>) {
        let term = |t: &Term, out: &mut BTreeSet<usize>| {
            if let Term::Var(slot) = t {
                out.insert(*slot);
            }
        };
        match self {
            Formula::True => {}
            Formula::Atom(_, terms) => terms.iter().for_each(|t| term(t, out)),
            Formula::Eq(a, b) => {
                term(a, out);
                term(b, out);
            }
            Formula::Not(f) => f.collect_free(out),
            Formula::And(fs) | Formula::Or(fs) => fs.iter().for_each(|f| f.collect_free(out)),
            Formula::Imply(a, b) => {
                a.collect_free(out);
                b.collect_free(out);
            }
            Formula::Exists { vars, checks } => {
                let mut inner = BTreeSet::new();
                checks
                    .iter()
                    .flatten()
                    .for_each(|f| f.collect_free(&mut inner));
                for (slot, _) in vars {
                    inner.remove(slot);
                }
                out.extend(inner);
            }
            Formula::Forall { vars, body } => {
                let mut inner = body.free_vars();
                for (slot, _) in vars {
                    inner.remove(slot);
                }
                out.extend(inner);
            }
        }
    }

    /// Evaluates the formula; `bindings` must have a slot for every variable.
    pub fn eval(&self, world: &World, state: &State, bindings: &mut [Option<Ent>]) -> bool {
        match self {
            Formula::True => true,
            Formula::Atom(pred, terms) => {
                let mut args = [Ent {
                    kind: Kind::Agent,
                    index: 0,
                }; 8];
                if terms.len() > args.len() {
                    return false;
                }
                for (slot, term) in args.iter_mut().zip(terms) {
                    match resolve(term, bindings) {
                        Some(ent) => *slot = ent,
                        None => return false,
                    }
                }
                state.holds(world, pred, &args[..terms.len()])
            }
            Formula::Eq(a, b) => {
                let (a, b) = (resolve(a, bindings), resolve(b, bindings));
                a.is_some() && a == b
            }
            Formula::Not(f) => !f.eval(world, state, bindings),
            Formula::And(fs) => fs.iter().all(|f| f.eval(world, state, bindings)),
            Formula::Or(fs) => fs.iter().any(|f| f.eval(world, state, bindings)),
            Formula::Imply(a, b) => {
                !a.eval(world, state, bindings) || b.eval(world, state, bindings)
            }
            Formula::Exists { vars, checks } => {
                checks[0].iter().all(|f| f.eval(world, state, bindings))
                    && exists_from(0, vars, checks, world, state, bindings)
            }
            Formula::Forall { vars, body } => forall_from(0, vars, body, world, state, bindings),
        }
    }
}

fn resolve(term: &Term, bindings: &[Option<Ent>]) -> Option<Ent> {
    match term {
        Term::Const(ent) => Some(*ent),
        Term::Var(slot) => bindings.get(*slot).copied().flatten(),
    }
}

fn exists_from(
    depth: usize,
    vars: &[(usize, Kind)],
    checks: &[Vec<Formula>],
    world: &World,
    state: &State,
    bindings: &mut [Option<Ent>],
) -> bool {
    let Some(&(slot, kind)) = vars.get(depth) else {
        return true;
    };
    let count = world.of(kind).len();
    let mut found = false;
    for index in 0..count {
        bindings[slot] = Some(Ent {
            kind,
            index: index as u16,
        });
        if checks[depth + 1]
            .iter()
            .all(|f| f.eval(world, state, bindings))
            && exists_from(depth + 1, vars, checks, world, state, bindings)
        {
            found = true;
            break;
        }
    }
    bindings[slot] = None;
    found
}

fn forall_from(
    depth: usize,
    vars: &[(usize, Kind)],
    body: &Formula,
    world: &World,
    state: &State,
    bindings: &mut [Option<Ent>],
) -> bool {
    let Some(&(slot, kind)) = vars.get(depth) else {
        return body.eval(world, state, bindings);
    };
    let mut all = true;
    for index in 0..world.of(kind).len() {
        bindings[slot] = Some(Ent {
            kind,
            index: index as u16,
        });
        if !forall_from(depth + 1, vars, body, world, state, bindings) {
            all = false;
            break;
        }
    }
    bindings[slot] = None;
    all
}

/// `exists a (exists b (and x y))` → variables `[a, b]`, conjuncts `[x, y]`.
fn flatten_exists(
    mut vars: Vec<(usize, Kind)>,
    body: Formula,
) -> (Vec<(usize, Kind)>, Vec<Formula>) {
    let mut conjuncts = Vec::new();
    let mut pending = vec![body];
    while let Some(formula) = pending.pop() {
        match formula {
            Formula::And(items) => pending.extend(items.into_iter().rev()),
            Formula::Exists {
                vars: inner,
                checks,
            } => {
                // Re-flatten an inner exists whose body is a plain conjunction.
                vars.extend(inner);
                pending.extend(checks.into_iter().flatten().rev());
            }
            other => conjuncts.push(other),
        }
    }
    (vars, conjuncts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_exists_is_flattened_and_grouped_by_depth() {
        let r = (0, Kind::Receptacle);
        let o = (1, Kind::Object);
        let atom = |pred: &str, slots: &[usize]| {
            Formula::Atom(
                Pred::from_name(pred),
                slots.iter().map(|s| Term::Var(*s)).collect(),
            )
        };
        let inner = Formula::exists(
            vec![o],
            Formula::And(vec![atom("inreceptacle", &[1, 0]), atom("ishot", &[1])]),
        );
        let outer = Formula::exists(vec![r], Formula::And(vec![atom("opened", &[0]), inner]));
        let Formula::Exists { vars, checks } = outer else {
            panic!("not an exists")
        };
        assert_eq!(vars, vec![r, o]);
        assert_eq!(checks[0].len(), 0);
        assert_eq!(checks[1].len(), 1);
        assert_eq!(checks[2].len(), 2);
    }
}
