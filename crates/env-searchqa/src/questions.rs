//! Questions and task sets: the reference's question layout (JSON lines
//! `{"question", "golden_answers"}`) and the train/test split over them.

use std::io::BufRead;
use std::path::Path;

use crossgym_env_core::py;
use crossgym_env_core::{TaskId, TaskSplit};
use serde::{Deserialize, Serialize};

use crate::jsonl::{for_each_record, line_error, open};
use crate::{NAME, Result};

/// One question with the answers that count as correct.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The question text as the agent sees it (stripped, ending with `?`).
    pub question: String,
    /// Every answer that counts as correct (compared after normalisation).
    pub golden_answers: Vec<String>,
}

impl Question {
    /// A question prepared as the reference's data script prepares them: stripped, with `?`
    /// appended when it does not end with one.
    pub fn new(question: &str, golden_answers: Vec<String>) -> Self {
        let mut question = py::strip(question).to_owned();
        if !question.ends_with('?') {
            question.push('?');
        }
        Self {
            question,
            golden_answers,
        }
    }
}

#[derive(Deserialize)]
struct QuestionLine {
    question: String,
    golden_answers: Vec<String>,
}

/// Reads questions in the reference's layout, one JSON object a line with at least
/// `"question"` (a non-empty string) and `"golden_answers"` (a non-empty list of strings); other
/// fields are ignored. Errors name `source` and the line.
pub fn read_jsonl(reader: impl BufRead, source: &str) -> Result<Vec<Question>> {
    let mut questions = Vec::new();
    let what = "question record {\"question\", \"golden_answers\"}";
    for_each_record(reader, source, what, |number, record: QuestionLine| {
        if py::strip(&record.question).is_empty() {
            return Err(line_error(source, number, "field \"question\" is empty"));
        }
        if record.golden_answers.is_empty() {
            return Err(line_error(
                source,
                number,
                "field \"golden_answers\" is empty",
            ));
        }
        questions.push(Question::new(&record.question, record.golden_answers));
        Ok(())
    })?;
    Ok(questions)
}

/// Reads a question file in the reference's layout.
pub fn load_jsonl(path: &Path) -> Result<Vec<Question>> {
    let (reader, source) = open(path)?;
    read_jsonl(reader, &source)
}

/// The questions of an env and its train/test split (task `i` is question `i`).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSet {
    questions: Vec<Question>,
    split: TaskSplit,
}

impl TaskSet {
    /// A task set with an explicit split (checked: ids in range, halves disjoint).
    pub fn new(questions: Vec<Question>, train: Vec<TaskId>, test: Vec<TaskId>) -> Result<Self> {
        let split = TaskSplit::new(NAME, questions.len(), train, test)?;
        Ok(Self { questions, split })
    }

    /// Train questions then test questions, as the reference keeps them in two files: tasks
    /// `0..train.len()` are train, the rest test.
    pub fn from_halves(train: Vec<Question>, test: Vec<Question>) -> Result<Self> {
        let n_train = train.len();
        let n_test = test.len();
        let mut questions = train;
        questions.extend(test);
        Self::new(
            questions,
            (0..n_train).map(TaskId).collect(),
            (n_train..n_train + n_test).map(TaskId).collect(),
        )
    }

    /// Loads the reference's layout: a train file and a test file of question JSON lines.
    pub fn load(train: &Path, test: &Path) -> Result<Self> {
        Self::from_halves(load_jsonl(train)?, load_jsonl(test)?)
    }

    /// Every question, by task id.
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// The question of `task`, if it exists.
    pub fn get(&self, task: TaskId) -> Option<&Question> {
        self.questions.get(task.0)
    }

    /// How many tasks there are.
    pub fn len(&self) -> usize {
        self.questions.len()
    }

    /// Whether there is no task.
    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    /// The train/test split.
    pub fn split(&self) -> &TaskSplit {
        &self.split
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_prepared_like_the_reference() {
        assert_eq!(
            Question::new(" who is it \n", vec![]).question,
            "who is it?"
        );
        assert_eq!(Question::new("who?", vec![]).question, "who?");
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let text = "{\"question\": \"q\", \"golden_answers\": [\"a\"]}\n{\"question\": \"q\"}\n";
        let message = read_jsonl(text.as_bytes(), "nq.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("nq.jsonl") && message.contains("line 2"),
            "{message}"
        );
        let text = "{\"question\": \" \", \"golden_answers\": [\"a\"]}";
        let message = read_jsonl(text.as_bytes(), "q").unwrap_err().to_string();
        assert!(
            message.contains("line 1: field \"question\" is empty"),
            "{message}"
        );
        let text = "{\"question\": \"q\", \"golden_answers\": []}";
        assert!(read_jsonl(text.as_bytes(), "q").is_err());
        assert!(read_jsonl("not json".as_bytes(), "q").is_err());
    }

    #[test]
    fn halves_become_a_split() {
        let q = |t: &str| Question::new(t, vec!["a".into()]);
        let set = TaskSet::from_halves(vec![q("a"), q("b")], vec![q("c")]).unwrap();
        assert_eq!(set.split().train(), &[TaskId(0), TaskId(1)]);
        assert_eq!(set.split().test(), &[TaskId(2)]);
        assert_eq!(set.get(TaskId(2)).unwrap().question, "c?");
    }
}
