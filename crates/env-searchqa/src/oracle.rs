//! A scripted oracle: search with the question's clue, answer with the best-supported title.
//!
//! "Best supported" is the title with the most passages among the top [`TOP_K`], ties broken by
//! the best rank. It uses the env's own engine, so its success rate is a ceiling for what one
//! search can reach on a task set, and a check that the questions are answerable.

use std::collections::HashMap;

use crossgym_env_core::{EnvError, Oracle, TaskId, run_episode_capped};

use crate::env::TOP_K;
use crate::generate::QUESTION_SUFFIX;
use crate::index::SearchIndex;
use crate::{Result, SearchQaEnv};

/// The query the oracle sends: the question without the generated suffix.
pub fn query_of(question: &str) -> &str {
    question
        .strip_suffix(QUESTION_SUFFIX)
        .unwrap_or(question)
        .trim()
}

/// The title the oracle answers for `query`, if the search finds anything.
pub fn best_title(index: &SearchIndex, query: &str) -> Result<Option<String>> {
    let hits = index.search(query, TOP_K)?;
    let mut support: HashMap<&str, (usize, usize)> = HashMap::new();
    for (rank, hit) in hits.iter().enumerate() {
        let entry = support.entry(hit.title()).or_insert((0, rank));
        entry.0 += 1;
    }
    Ok(support
        .into_iter()
        .max_by_key(|(_, (count, rank))| (*count, std::cmp::Reverse(*rank)))
        .map(|(title, _)| title.to_owned()))
}

/// Plays `task` with the oracle (one search, one answer); returns whether it answered correctly.
pub fn solve(env: &mut SearchQaEnv, task: TaskId) -> Result<bool> {
    let question = env.question(task)?.question.clone();
    let query = query_of(&question).to_owned();
    let answer = best_title(env.index(), &query)?.unwrap_or_default();
    let mut replies = [
        format!("<think>I will search.</think>\n<search>{query}</search>"),
        format!("<think>The passages point to it.</think>\n<answer>{answer}</answer>"),
    ]
    .into_iter();
    let episode = run_episode_capped(env, task, 2, |_| replies.next().unwrap_or_default())?;
    if episode.turns.len() != 2 {
        return Err(EnvError::task(
            crate::NAME,
            task,
            "oracle episode ended early",
        ));
    }
    Ok(episode.success())
}

impl Oracle for SearchQaEnv {
    /// One search with the question's clue ([`query_of`]), then the answer [`best_title`] finds,
    /// each with a short thought; `None` when the search finds nothing.
    fn demonstrate(
        &mut self,
        task: TaskId,
        _max_turns: usize,
    ) -> crossgym_env_core::Result<Option<Vec<String>>> {
        let question = self.question(task)?.question.clone();
        let query = query_of(&question).to_owned();
        let Some(answer) = best_title(self.index(), &query)? else {
            return Ok(None);
        };
        let hits = self.index().search(&query, TOP_K)?;
        let docs: Vec<String> = hits
            .iter()
            .enumerate()
            .filter(|(_, hit)| hit.title() == answer)
            .map(|(rank, _)| format!("Doc {}", rank + 1))
            .collect();
        let support = match docs.as_slice() {
            [only] => format!("{only} is about {answer} and fits the question"),
            _ => format!(
                "{} of the {} passages ({}) are about {answer}",
                docs.len(),
                hits.len(),
                docs.join(", ")
            ),
        };
        Ok(Some(vec![
            format!(
                "<think>I do not know this for sure, so I will search for the clue.</think>\n<search>{query}</search>"
            ),
            format!(
                "<think>{support}, so the answer is {answer}.</think>\n<answer>{answer}</answer>"
            ),
        ]))
    }
}
