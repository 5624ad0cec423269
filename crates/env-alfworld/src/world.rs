//! The ALFRED world: entities with their display names, the static facts, and the state that
//! actions change.

use std::collections::HashSet;

/// The six PDDL types of `alfred.pddl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `agent`.
    Agent,
    /// `location`.
    Location,
    /// `receptacle`.
    Receptacle,
    /// `object`.
    Object,
    /// `rtype` (receptacle types such as `CabinetType`).
    RType,
    /// `otype` (object types such as `AppleType`).
    OType,
}

impl Kind {
    /// The PDDL type name.
    pub fn pddl(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Location => "location",
            Kind::Receptacle => "receptacle",
            Kind::Object => "object",
            Kind::RType => "rtype",
            Kind::OType => "otype",
        }
    }

    /// The kind for a PDDL type name.
    pub fn from_pddl(name: &str) -> Option<Kind> {
        Some(match name {
            "agent" => Kind::Agent,
            "location" => Kind::Location,
            "receptacle" => Kind::Receptacle,
            "object" => Kind::Object,
            "rtype" => Kind::RType,
            "otype" => Kind::OType,
            _ => return None,
        })
    }

    /// All six, in a fixed order.
    pub const ALL: [Kind; 6] = [
        Kind::Agent,
        Kind::Location,
        Kind::Receptacle,
        Kind::Object,
        Kind::RType,
        Kind::OType,
    ];
}

/// A reference to one entity: its kind and its index among the entities of that kind (entities
/// of a kind are stored sorted by PDDL id, so index order is the reference's listing order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ent {
    /// The entity's type.
    pub kind: Kind,
    /// Its index among the entities of `kind`.
    pub index: u16,
}

/// One named entity of a game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// The PDDL id, lower-cased (`cabinet_bar__minus_01_dot_55_bar_…`).
    pub id: String,
    /// The demangled display name (`cabinet 4`).
    pub name: String,
}

/// Static per-object properties (bit flags).
pub mod obj_flag {
    /// `pickupable`.
    pub const PICKUPABLE: u8 = 1;
    /// `isReceptacleObject`.
    pub const RECEPTACLE_OBJECT: u8 = 2;
    /// `cleanable`.
    pub const CLEANABLE: u8 = 4;
    /// `heatable`.
    pub const HEATABLE: u8 = 8;
    /// `coolable`.
    pub const COOLABLE: u8 = 16;
    /// `toggleable`.
    pub const TOGGLEABLE: u8 = 32;
    /// `sliceable`.
    pub const SLICEABLE: u8 = 64;
}

/// Per-object state that actions change (bit flags).
pub mod obj_state {
    /// `isHot`.
    pub const HOT: u8 = 1;
    /// `isCool`.
    pub const COOL: u8 = 2;
    /// `isClean`.
    pub const CLEAN: u8 = 4;
    /// `isSliced`.
    pub const SLICED: u8 = 8;
    /// `isOn`.
    pub const ON: u8 = 16;
    /// `isToggled`.
    pub const TOGGLED: u8 = 32;
}

/// The predicates of `alfred.pddl` the engine models, plus any other (kept as static facts).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pred {
    /// `atLocation ?a ?l`.
    AtLocation,
    /// `receptacleAtLocation ?r ?l`.
    ReceptacleAtLocation,
    /// `objectAtLocation ?o ?l`.
    ObjectAtLocation,
    /// `openable ?r`.
    Openable,
    /// `opened ?r`.
    Opened,
    /// `inReceptacle ?o ?r`.
    InReceptacle,
    /// `receptacleType ?r ?rt`.
    ReceptacleType,
    /// `objectType ?o ?ot`.
    ObjectType,
    /// `canContain ?rt ?ot`.
    CanContain,
    /// `holds ?a ?o`.
    Holds,
    /// `holdsAny ?a`.
    HoldsAny,
    /// A static object flag (`pickupable`, `cleanable`, …).
    ObjFlag(u8),
    /// A dynamic object state (`isHot`, `isToggled`, …).
    ObjState(u8),
    /// Any other predicate; its facts never change.
    Other(String),
}

impl Pred {
    /// The predicate for a lower-cased PDDL name.
    pub fn from_name(name: &str) -> Pred {
        use obj_flag as f;
        use obj_state as s;
        match name {
            "atlocation" => Pred::AtLocation,
            "receptacleatlocation" => Pred::ReceptacleAtLocation,
            "objectatlocation" => Pred::ObjectAtLocation,
            "openable" => Pred::Openable,
            "opened" => Pred::Opened,
            "inreceptacle" => Pred::InReceptacle,
            "receptacletype" => Pred::ReceptacleType,
            "objecttype" => Pred::ObjectType,
            "cancontain" => Pred::CanContain,
            "holds" => Pred::Holds,
            "holdsany" => Pred::HoldsAny,
            "pickupable" => Pred::ObjFlag(f::PICKUPABLE),
            "isreceptacleobject" => Pred::ObjFlag(f::RECEPTACLE_OBJECT),
            "cleanable" => Pred::ObjFlag(f::CLEANABLE),
            "heatable" => Pred::ObjFlag(f::HEATABLE),
            "coolable" => Pred::ObjFlag(f::COOLABLE),
            "toggleable" => Pred::ObjFlag(f::TOGGLEABLE),
            "sliceable" => Pred::ObjFlag(f::SLICEABLE),
            "ishot" => Pred::ObjState(s::HOT),
            "iscool" => Pred::ObjState(s::COOL),
            "isclean" => Pred::ObjState(s::CLEAN),
            "issliced" => Pred::ObjState(s::SLICED),
            "ison" => Pred::ObjState(s::ON),
            "istoggled" => Pred::ObjState(s::TOGGLED),
            other => Pred::Other(other.to_owned()),
        }
    }

    /// The argument kinds the modelled predicates take (`None` for [`Pred::Other`]).
    pub fn signature(&self) -> Option<&'static [Kind]> {
        use Kind::*;
        Some(match self {
            Pred::AtLocation => &[Agent, Location],
            Pred::ReceptacleAtLocation => &[Receptacle, Location],
            Pred::ObjectAtLocation => &[Object, Location],
            Pred::Openable | Pred::Opened => &[Receptacle],
            Pred::InReceptacle => &[Object, Receptacle],
            Pred::ReceptacleType => &[Receptacle, RType],
            Pred::ObjectType => &[Object, OType],
            Pred::CanContain => &[RType, OType],
            Pred::Holds => &[Agent, Object],
            Pred::HoldsAny => &[Agent],
            Pred::ObjFlag(_) | Pred::ObjState(_) => &[Object],
            Pred::Other(_) => return None,
        })
    }
}

/// The static part of a game: entities, names and the facts no action changes.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Entities per kind, each sorted by id (index with `kind as usize`).
    pub entities: [Vec<Entity>; 6],
    /// `receptacleAtLocation`: the locations of each receptacle, ascending.
    pub rec_locs: Vec<Vec<u16>>,
    /// The receptacles at each location, ascending.
    pub loc_recs: Vec<Vec<u16>>,
    /// `openable` per receptacle.
    pub rec_openable: Vec<bool>,
    /// `receptacleType` per receptacle.
    pub rec_types: Vec<Vec<u16>>,
    /// `objectType` per object.
    pub obj_types: Vec<Vec<u16>>,
    /// Static [`obj_flag`]s per object.
    pub obj_flags: Vec<u8>,
    /// `canContain`, indexed `[rtype][otype]`.
    pub can_contain: Vec<Vec<bool>>,
    /// Facts of predicates the engine does not model (never changed by actions).
    pub other_facts: HashSet<(String, Vec<Ent>)>,
    /// The rtype `SinkBasinType`, if the game has it.
    pub sink_type: Option<u16>,
    /// The rtype `MicrowaveType`.
    pub microwave_type: Option<u16>,
    /// The rtype `FridgeType`.
    pub fridge_type: Option<u16>,
    /// The otypes `KnifeType` and `ButterKnifeType` present.
    pub knife_types: Vec<u16>,
}

impl World {
    /// The entities of one kind.
    pub fn of(&self, kind: Kind) -> &[Entity] {
        &self.entities[kind as usize]
    }

    /// The display name of an entity.
    pub fn name(&self, ent: Ent) -> &str {
        &self.entities[ent.kind as usize][ent.index as usize].name
    }

    /// Display name of receptacle `r`.
    pub fn rec_name(&self, r: u16) -> &str {
        &self.entities[Kind::Receptacle as usize][r as usize].name
    }

    /// Display name of object `o`.
    pub fn obj_name(&self, o: u16) -> &str {
        &self.entities[Kind::Object as usize][o as usize].name
    }

    /// Whether receptacle `r` has rtype `rt`.
    pub fn rec_is(&self, r: u16, rt: Option<u16>) -> bool {
        rt.is_some_and(|rt| self.rec_types[r as usize].contains(&rt))
    }

    /// Whether object `o` has a static flag.
    pub fn obj_has(&self, o: u16, flag: u8) -> bool {
        self.obj_flags[o as usize] & flag != 0
    }
}

/// The facts actions change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// `atLocation agent ?l` (the game has one agent).
    pub agent_at: Vec<u16>,
    /// `holds agent ?o`.
    pub held: Vec<u16>,
    /// `holdsAny agent`.
    pub holds_any: bool,
    /// `inReceptacle ?o ?r` per object, ascending.
    pub in_recep: Vec<Vec<u16>>,
    /// `objectAtLocation ?o ?l` per object, ascending.
    pub obj_at: Vec<Vec<u16>>,
    /// The negated facts `not_inreceptacle ?o ?r` that applied effects left behind, per object
    /// (TextWorld adds a negated effect atom as a fact; see quirk 8 in the crate docs).
    pub not_in_recep: Vec<Vec<u16>>,
    /// `opened ?r` per receptacle.
    pub opened: Vec<bool>,
    /// [`obj_state`] flags per object.
    pub obj_state: Vec<u8>,
}

/// Inserts `value` into an ascending vector if absent.
pub(crate) fn set_insert(set: &mut Vec<u16>, value: u16) {
    if let Err(at) = set.binary_search(&value) {
        set.insert(at, value);
    }
}

/// Removes `value` from an ascending vector if present.
pub(crate) fn set_remove(set: &mut Vec<u16>, value: u16) {
    if let Ok(at) = set.binary_search(&value) {
        set.remove(at);
    }
}

impl State {
    /// The agent's location (the first, if a game gave it several).
    pub fn location(&self) -> Option<u16> {
        self.agent_at.first().copied()
    }

    /// Whether object `o` has a dynamic state flag.
    pub fn obj_is(&self, o: u16, flag: u8) -> bool {
        self.obj_state[o as usize] & flag != 0
    }

    /// Whether a ground atom holds in this state of `world`.
    pub fn holds(&self, world: &World, pred: &Pred, args: &[Ent]) -> bool {
        let idx = |i: usize| args.get(i).map_or(usize::MAX, |e| e.index as usize);
        let arg = |i: usize| args.get(i).map_or(u16::MAX, |e| e.index);
        if let Some(signature) = pred.signature()
            && (signature.len() != args.len()
                || signature.iter().zip(args).any(|(kind, e)| *kind != e.kind))
        {
            return false;
        }
        match pred {
            Pred::AtLocation => idx(0) == 0 && self.agent_at.contains(&arg(1)),
            Pred::ReceptacleAtLocation => world.rec_locs[idx(0)].contains(&arg(1)),
            Pred::ObjectAtLocation => self.obj_at[idx(0)].contains(&arg(1)),
            Pred::Openable => world.rec_openable[idx(0)],
            Pred::Opened => self.opened[idx(0)],
            Pred::InReceptacle => self.in_recep[idx(0)].contains(&arg(1)),
            Pred::ReceptacleType => world.rec_types[idx(0)].contains(&arg(1)),
            Pred::ObjectType => world.obj_types[idx(0)].contains(&arg(1)),
            Pred::CanContain => world.can_contain[idx(0)][idx(1)],
            Pred::Holds => idx(0) == 0 && self.held.contains(&arg(1)),
            Pred::HoldsAny => idx(0) == 0 && self.holds_any,
            Pred::ObjFlag(flag) => world.obj_has(arg(0), *flag),
            Pred::ObjState(flag) => self.obj_is(arg(0), *flag),
            Pred::Other(name) => world.other_facts.contains(&(name.clone(), args.to_vec())),
        }
    }
}
