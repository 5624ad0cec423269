//! Recipe files as read, before the loader's rules: Minecraft recipe JSON and the compact
//! tab-separated form embedded in the crate.
//!
//! A [`RawRecipe`] is one recipe file reduced to what TextCraft reads: its type, and for the two
//! crafting types the group, the result with its count, and the ingredients with their counts
//! (shaped: occurrences of each key symbol in the pattern, in the key's JSON order; shapeless:
//! duplicates merged). The loader's rules (block recipes, cycles, groups as tags, uncraftable
//! tags as items) are applied later by [`crate::RecipeBook`].

use std::fmt::Write as _;
use std::path::Path;

use crossgym_env_core::EnvError;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

use crate::NAME;

/// The recipe type TextCraft reads as shaped crafting.
pub const SHAPED: &str = "minecraft:crafting_shaped";
/// The recipe type TextCraft reads as shapeless crafting.
pub const SHAPELESS: &str = "minecraft:crafting_shapeless";

/// One recipe file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecipe {
    /// The file name, e.g. `acacia_planks.json`.
    pub file: String,
    /// The JSON `type`, e.g. `minecraft:crafting_shaped` or `minecraft:smelting`.
    pub recipe_type: String,
    /// The crafting content; `None` for every other recipe type (which TextCraft skips).
    pub crafting: Option<RawCrafting>,
}

/// The content of a shaped or shapeless crafting recipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawCrafting {
    /// The JSON `group`, without the `minecraft:` prefix the loader adds.
    pub group: Option<String>,
    /// The result item id.
    pub output: String,
    /// The result count (`1` when absent or zero, as the reference's `count or 1`).
    pub output_count: u32,
    /// The ingredients with their counts, in the reference's order.
    pub inputs: Vec<RawInput>,
}

/// One ingredient of a crafting recipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawInput {
    /// Whether the ingredient names a tag (`{"tag": …}`) rather than an item (`{"item": …}`).
    pub is_tag: bool,
    /// The item id or tag, e.g. `minecraft:oak_planks` or `minecraft:planks`.
    pub name: String,
    /// How many are needed.
    pub count: u32,
}

/// The top-level fields TextCraft reads; everything else in a file is ignored.
#[derive(Deserialize)]
struct RecipeJson {
    #[serde(rename = "type")]
    recipe_type: String,
    #[serde(default)]
    group: Option<Value>,
    #[serde(default)]
    pattern: Option<Vec<String>>,
    #[serde(default)]
    key: Option<OrderedMap>,
    #[serde(default)]
    ingredients: Option<Vec<Value>>,
    #[serde(default)]
    result: Option<Value>,
}

/// A JSON object with its key order kept (the reference iterates `key` in file order, and
/// serde_json's default map is sorted).
struct OrderedMap(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    // Python's json keeps the last of duplicate keys, at the first one's place.
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

/// Parses one recipe file's JSON text. `file` names the file in errors and in the result.
pub fn parse_recipe_json(file: &str, text: &str) -> Result<RawRecipe, EnvError> {
    let bad = |message: String| EnvError::data(NAME, file, message);
    let json: RecipeJson =
        serde_json::from_str(text).map_err(|error| bad(format!("invalid recipe JSON: {error}")))?;
    let shaped = json.recipe_type == SHAPED;
    if !shaped && json.recipe_type != SHAPELESS {
        return Ok(RawRecipe {
            file: file.to_owned(),
            recipe_type: json.recipe_type,
            crafting: None,
        });
    }
    let mut inputs: Vec<RawInput> = Vec::new();
    if shaped {
        let pattern = json
            .pattern
            .ok_or_else(|| bad("shaped recipe without `pattern`".into()))?;
        let key = json
            .key
            .ok_or_else(|| bad("shaped recipe without `key`".into()))?;
        for (symbol, ingredient) in key.0 {
            let (is_tag, name) = ingredient_name(&ingredient)
                .map_err(|message| bad(format!("key {symbol:?}: {message}")))?;
            let count: usize = pattern
                .iter()
                .map(|line| line.matches(symbol.as_str()).count())
                .sum();
            let count = u32::try_from(count)
                .map_err(|_| bad(format!("key {symbol:?}: count {count} too large")))?;
            inputs.push(RawInput {
                is_tag,
                name,
                count,
            });
        }
    } else {
        let ingredients = json
            .ingredients
            .ok_or_else(|| bad("shapeless recipe without `ingredients`".into()))?;
        for (index, ingredient) in ingredients.iter().enumerate() {
            let (is_tag, name) = ingredient_name(ingredient)
                .map_err(|message| bad(format!("ingredient {index}: {message}")))?;
            // Duplicates merge into the first one's place, taking the latest one's kind.
            match inputs.iter_mut().find(|input| input.name == name) {
                Some(input) => {
                    input.count += 1;
                    input.is_tag = is_tag;
                }
                None => inputs.push(RawInput {
                    is_tag,
                    name,
                    count: 1,
                }),
            }
        }
    }
    let (output, output_count) = match json.result {
        Some(Value::String(item)) => (item, 1),
        Some(Value::Object(result)) => {
            let item = match result.get("item") {
                Some(Value::String(item)) => item.clone(),
                _ => return Err(bad("`result` has no string `item`".into())),
            };
            let count = match result.get("count") {
                None | Some(Value::Null) => 1,
                Some(Value::Number(count)) => match count.as_u64() {
                    Some(0) => 1,
                    Some(count) => u32::try_from(count)
                        .map_err(|_| bad(format!("result count {count} too large")))?,
                    None => return Err(bad(format!("result count {count} is not a count"))),
                },
                Some(other) => return Err(bad(format!("result count {other} is not a number"))),
            };
            (item, count)
        }
        _ => return Err(bad("missing or malformed `result`".into())),
    };
    let group = match json.group {
        None => None,
        Some(Value::String(group)) => Some(group),
        Some(other) => return Err(bad(format!("`group` {other} is not a string"))),
    };
    Ok(RawRecipe {
        file: file.to_owned(),
        recipe_type: json.recipe_type,
        crafting: Some(RawCrafting {
            group,
            output,
            output_count,
            inputs,
        }),
    })
}

/// `(is_tag, name)` of an ingredient; a list means its first entry.
fn ingredient_name(ingredient: &Value) -> Result<(bool, String), String> {
    let ingredient = match ingredient {
        Value::Array(options) => options
            .first()
            .ok_or_else(|| "empty ingredient list".to_owned())?,
        other => other,
    };
    match (ingredient.get("item"), ingredient.get("tag")) {
        (Some(Value::String(item)), _) => Ok((false, item.clone())),
        (None, Some(Value::String(tag))) => Ok((true, tag.clone())),
        _ => Err(format!(
            "ingredient {ingredient} has no string `item` or `tag`"
        )),
    }
}

/// Reads every `*.json` file of a recipe directory in alphabetical (byte-wise) file order, the
/// order the reference's loader must see them in.
pub fn read_json_dir(dir: &Path) -> Result<Vec<RawRecipe>, EnvError> {
    let io = |path: &Path, source| EnvError::io(NAME, path.display().to_string(), source);
    let mut files: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|source| io(dir, source))? {
        let entry = entry.map_err(|source| io(dir, source))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            files.push(name);
        }
    }
    files.sort();
    files
        .iter()
        .map(|file| {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|source| io(&path, source))?;
            parse_recipe_json(file, &text)
        })
        .collect()
}

/// The header line of the compact form.
pub const COMPACT_HEADER: &str =
    "# crossgym-textcraft recipes v1: file, type[, group, output, count, inputs]";

/// Writes recipes in the compact form: one line per file, tab-separated; crafting lines add the
/// group (empty when none), the output id, its count and the inputs as `i:<id>*<n>` or
/// `t:<tag>*<n>` joined by `;`.
pub fn to_compact(recipes: &[RawRecipe]) -> Result<String, EnvError> {
    let mut out = String::new();
    out.push_str(COMPACT_HEADER);
    out.push('\n');
    for recipe in recipes {
        let check = |field: &str, text: &str| {
            if text.contains(['\t', '\n', '\r', ';', '*']) || text.starts_with('#') {
                Err(EnvError::data(
                    NAME,
                    &recipe.file,
                    format!("{field} {text:?} cannot be written in the compact form"),
                ))
            } else {
                Ok(())
            }
        };
        check("file name", &recipe.file)?;
        check("type", &recipe.recipe_type)?;
        let _ = write!(out, "{}\t{}", recipe.file, recipe.recipe_type);
        if let Some(crafting) = &recipe.crafting {
            let group = crafting.group.as_deref().unwrap_or("");
            check("group", group)?;
            check("output", &crafting.output)?;
            let _ = write!(
                out,
                "\t{group}\t{}\t{}\t",
                crafting.output, crafting.output_count
            );
            for (index, input) in crafting.inputs.iter().enumerate() {
                check("input", &input.name)?;
                let kind = if input.is_tag { 't' } else { 'i' };
                let sep = if index == 0 { "" } else { ";" };
                let _ = write!(out, "{sep}{kind}:{}*{}", input.name, input.count);
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// Reads the compact form written by [`to_compact`]. `source` names it in errors.
pub fn from_compact(source: &str, text: &str) -> Result<Vec<RawRecipe>, EnvError> {
    let mut recipes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| {
            EnvError::data(NAME, source, format!("line {}: {message}", index + 1))
        };
        let fields: Vec<&str> = line.split('\t').collect();
        let recipe = match fields.as_slice() {
            [file, recipe_type] if *recipe_type != SHAPED && *recipe_type != SHAPELESS => {
                RawRecipe {
                    file: (*file).to_owned(),
                    recipe_type: (*recipe_type).to_owned(),
                    crafting: None,
                }
            }
            [file, recipe_type, group, output, count, inputs]
                if *recipe_type == SHAPED || *recipe_type == SHAPELESS =>
            {
                let output_count = count
                    .parse()
                    .map_err(|_| bad(format!("output count {count:?} is not a count")))?;
                let inputs = inputs
                    .split(';')
                    .filter(|input| !input.is_empty())
                    .map(|input| {
                        parse_compact_input(input).ok_or_else(|| {
                            bad(format!(
                                "input {input:?} is not `i:<id>*<n>` or `t:<tag>*<n>`"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                RawRecipe {
                    file: (*file).to_owned(),
                    recipe_type: (*recipe_type).to_owned(),
                    crafting: Some(RawCrafting {
                        group: (!group.is_empty()).then(|| (*group).to_owned()),
                        output: (*output).to_owned(),
                        output_count,
                        inputs,
                    }),
                }
            }
            _ => {
                return Err(bad(format!(
                    "expected 2 fields (other types) or 6 (crafting), found {}",
                    fields.len()
                )));
            }
        };
        recipes.push(recipe);
    }
    Ok(recipes)
}

fn parse_compact_input(input: &str) -> Option<RawInput> {
    let (kind, rest) = input.split_once(':')?;
    let (name, count) = rest.rsplit_once('*')?;
    let is_tag = match kind {
        "i" => false,
        "t" => true,
        _ => return None,
    };
    Some(RawInput {
        is_tag,
        name: name.to_owned(),
        count: count.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_counts_symbols_in_key_order() {
        let text = r#"{"type":"minecraft:crafting_shaped","group":"banner",
            "pattern":["WWW","WWW"," | "],
            "key":{"|":{"item":"minecraft:stick"},"W":[{"tag":"minecraft:wool"},{"item":"x"}]},
            "result":{"item":"minecraft:white_banner"}}"#;
        let recipe = parse_recipe_json("white_banner.json", text).unwrap();
        let crafting = recipe.crafting.unwrap();
        assert_eq!(crafting.group.as_deref(), Some("banner"));
        assert_eq!(crafting.output_count, 1);
        let inputs: Vec<_> = crafting
            .inputs
            .iter()
            .map(|i| (i.is_tag, i.name.as_str(), i.count))
            .collect();
        assert_eq!(
            inputs,
            [(false, "minecraft:stick", 1), (true, "minecraft:wool", 6)]
        );
    }

    #[test]
    fn shapeless_merges_duplicates_and_defaults_count() {
        let text = r#"{"type":"minecraft:crafting_shapeless",
            "ingredients":[{"item":"a"},{"tag":"t"},{"item":"a"}],
            "result":{"item":"out","count":0}}"#;
        let crafting = parse_recipe_json("f.json", text).unwrap().crafting.unwrap();
        assert_eq!(crafting.output_count, 1);
        assert_eq!(crafting.inputs.len(), 2);
        assert_eq!(
            (crafting.inputs[0].name.as_str(), crafting.inputs[0].count),
            ("a", 2)
        );
    }

    #[test]
    fn other_types_are_kept_without_content() {
        let text = r#"{"type":"minecraft:smelting","ingredient":{"item":"a"},"result":"b"}"#;
        let recipe = parse_recipe_json("b.json", text).unwrap();
        assert_eq!(recipe.recipe_type, "minecraft:smelting");
        assert!(recipe.crafting.is_none());
    }

    #[test]
    fn bad_files_name_file_and_field() {
        let err = parse_recipe_json("x.json", r#"{"type":"minecraft:crafting_shaped"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json") && err.contains("pattern"), "{err}");
        let err = parse_recipe_json(
            "y.json",
            r#"{"type":"minecraft:crafting_shapeless","ingredients":[{"x":1}],"result":"a"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("y.json") && err.contains("ingredient 0"),
            "{err}"
        );
        assert!(parse_recipe_json("z.json", "not json").is_err());
    }

    #[test]
    fn compact_round_trips() {
        let recipes = vec![
            RawRecipe {
                file: "a.json".into(),
                recipe_type: "minecraft:smelting".into(),
                crafting: None,
            },
            RawRecipe {
                file: "b.json".into(),
                recipe_type: SHAPED.into(),
                crafting: Some(RawCrafting {
                    group: None,
                    output: "minecraft:b".into(),
                    output_count: 4,
                    inputs: vec![
                        RawInput {
                            is_tag: true,
                            name: "minecraft:logs".into(),
                            count: 1,
                        },
                        RawInput {
                            is_tag: false,
                            name: "minecraft:stick".into(),
                            count: 2,
                        },
                    ],
                }),
            },
        ];
        let text = to_compact(&recipes).unwrap();
        assert_eq!(from_compact("t", &text).unwrap(), recipes);
        let err = from_compact("mem", "a.json\tminecraft:crafting_shaped\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mem") && err.contains("line 1"), "{err}");
    }
}
