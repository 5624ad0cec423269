//! The LLM-judge failure classifier: asks an OpenAI-compatible chat-completions endpoint (the
//! paper used GPT-5-mini) to pick one of the eight modes for a failed trajectory.

use std::time::Duration;

use crossgym_env_core::Episode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Classification, FailureClassifier, FailureMode};
use crate::{Result, StudyError};

/// Where and how to ask the judge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeConfig {
    /// Base URL of the API, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`;
    /// `/chat/completions` is appended.
    pub endpoint: String,
    /// Model name sent in the request.
    pub model: String,
    /// Bearer token, if the endpoint needs one (read it from the environment, never a file in
    /// the repository).
    #[serde(default, skip_serializing)]
    pub api_key: Option<String>,
    /// Request timeout in seconds.
    pub timeout_s: u64,
    /// The trajectory text is cut to this many characters (head and tail kept).
    pub max_chars: usize,
}

impl JudgeConfig {
    /// A config with a 120 s timeout and a 24 000-character trajectory budget.
    pub fn new(endpoint: &str, model: &str, api_key: Option<String>) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            api_key,
            timeout_s: 120,
            max_chars: 24_000,
        }
    }
}

/// The LLM-judge classifier (blocking HTTP, one request per episode).
#[derive(Debug)]
pub struct JudgeClassifier {
    config: JudgeConfig,
    agent: ureq::Agent,
}

impl JudgeClassifier {
    /// A judge for `config`.
    pub fn new(config: JudgeConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.timeout_s)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { config, agent }
    }

    fn error(&self, message: impl Into<String>) -> StudyError {
        StudyError::Judge {
            endpoint: self.config.endpoint.clone(),
            message: message.into(),
        }
    }
}

const SYSTEM: &str = "You analyse failed trajectories of LLM agents in text environments. \
Answer with one JSON object and nothing else: {\"mode\": \"<id>\", \"reason\": \"<one sentence>\"}.";

/// The user message the judge gets: the eight modes with definitions, then the trajectory.
pub fn judge_prompt(episode: &Episode, max_chars: usize) -> String {
    let mut prompt = String::from(
        "Classify the main cause of this failed trajectory as exactly one of these failure modes (use the id):\n",
    );
    for mode in FailureMode::ALL {
        prompt.push_str(&format!("- {}: {}\n", mode.id(), mode.definition()));
    }
    let mut trajectory = format!(
        "Environment: {}\nTask id: {}\nFinal reward: {}\n\n[observation 0]\n{}\n",
        episode.env,
        episode.task,
        episode.score(),
        episode.first_observation
    );
    for (i, turn) in episode.turns.iter().enumerate() {
        trajectory.push_str(&format!(
            "\n[agent {n}]\n{}\n\n[observation {n}] (reward {}, done {})\n{}\n",
            turn.reply,
            turn.step.reward,
            turn.step.done,
            turn.step.observation,
            n = i + 1
        ));
    }
    prompt.push_str("\nTrajectory:\n");
    prompt.push_str(&shorten(&trajectory, max_chars));
    prompt
}

/// Keeps the head and the tail of `text` within `max_chars` characters.
fn shorten(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_owned();
    }
    let keep = max_chars / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(count - keep).collect();
    format!(
        "{head}\n[… {} characters left out …]\n{tail}",
        count - 2 * keep
    )
}

/// Reads the judge's answer: a JSON object with `mode` (and optionally `reason`), possibly inside
/// a code fence or prose; failing that, the first mode id or name mentioned.
pub fn parse_judge_reply(content: &str) -> Option<Classification> {
    if let (Some(start), Some(end)) = (content.find('{'), content.rfind('}'))
        && start < end
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&content[start..=end])
        && let Some(mode) = value
            .get("mode")
            .and_then(|m| m.as_str())
            .and_then(FailureMode::parse)
    {
        let reason = value
            .get("reason")
            .and_then(|r| r.as_str())
            .unwrap_or("")
            .to_owned();
        return Some(Classification { mode, reason });
    }
    let lower = content.to_lowercase();
    FailureMode::ALL
        .into_iter()
        .filter_map(|mode| {
            let at = lower.find(mode.id()).or_else(|| lower.find(mode.name()))?;
            Some((at, mode))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, mode)| Classification {
            mode,
            reason: content.trim().to_owned(),
        })
}

impl FailureClassifier for JudgeClassifier {
    fn name(&self) -> String {
        format!("judge:{}", self.config.model)
    }

    fn classify(&self, episode: &Episode) -> Result<Classification> {
        let body = json!({
            "model": self.config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": judge_prompt(episode, self.config.max_chars)},
            ],
        });
        let url = format!("{}/chat/completions", self.config.endpoint);
        let mut request = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.config.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let mut response = request
            .send(body.to_string())
            .map_err(|e| self.error(format!("request failed: {e}")))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.error(format!("reading the response failed: {e}")))?;
        if !status.is_success() {
            return Err(self.error(format!("HTTP {status}: {}", shorten(&text, 500))));
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| self.error(format!("response is not JSON: {e}")))?;
        let content = value
            .pointer("/choices/0/message/content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| self.error("response has no choices[0].message.content"))?;
        parse_judge_reply(content).ok_or_else(|| {
            self.error(format!(
                "episode {} task {}: the answer names no failure mode: {}",
                episode.env,
                episode.task,
                shorten(content, 300)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossgym_env_core::{Step, TaskId, Turn};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    fn episode() -> Episode {
        Episode {
            env: "searchqa".into(),
            task: TaskId(7),
            first_observation: "Question: who wrote Hamlet?".into(),
            turns: vec![Turn {
                reply: "<answer>Marlowe</answer>".into(),
                step: Step::new("Sorry, your answer is incorrect.", 0.0, true),
            }],
        }
    }

    /// Serves one HTTP request with `status` and `body`; returns the request it saw.
    fn serve_once(status: &'static str, body: String) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            reader.get_mut().write_all(response.as_bytes()).unwrap();
            head + &String::from_utf8_lossy(&request_body)
        });
        (url, handle)
    }

    #[test]
    fn judge_posts_a_chat_completion_and_reads_the_mode() {
        let content = "```json\n{\"mode\": \"guessing_or_fabrication\", \"reason\": \"answered without searching\"}\n```";
        let body = json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
            .to_string();
        let (url, server) = serve_once("200 OK", body);
        let judge = JudgeClassifier::new(JudgeConfig::new(&url, "judge-model", Some("k3y".into())));
        let verdict = judge.classify(&episode()).unwrap();
        assert_eq!(verdict.mode, FailureMode::GuessingOrFabrication);
        assert_eq!(verdict.reason, "answered without searching");
        let request = server.join().unwrap();
        assert!(
            request.starts_with("POST /v1/chat/completions"),
            "{request}"
        );
        assert!(request.contains("Bearer k3y"));
        assert!(request.contains("\"model\":\"judge-model\""));
        assert!(request.contains("who wrote Hamlet"));
        assert_eq!(judge.name(), "judge:judge-model");
    }

    #[test]
    fn judge_reports_http_errors_and_unusable_answers() {
        let (url, server) = serve_once("500 Internal Server Error", "{\"error\": \"boom\"}".into());
        let err = JudgeClassifier::new(JudgeConfig::new(&url, "m", None))
            .classify(&episode())
            .unwrap_err()
            .to_string();
        assert!(err.contains("500") && err.contains(&url), "{err}");
        server.join().unwrap();
        let body = json!({"choices": [{"message": {"content": "no idea"}}]}).to_string();
        let (url, server) = serve_once("200 OK", body);
        let err = JudgeClassifier::new(JudgeConfig::new(&url, "m", None))
            .classify(&episode())
            .unwrap_err()
            .to_string();
        assert!(err.contains("names no failure mode"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn replies_parse_from_json_or_prose_and_prompts_are_bounded() {
        assert_eq!(
            parse_judge_reply("The cause is confirmation bias.")
                .unwrap()
                .mode,
            FailureMode::ConfirmationBias
        );
        assert_eq!(
            parse_judge_reply("{\"mode\": \"Action Execution Failure\"}")
                .unwrap()
                .mode,
            FailureMode::ActionExecutionFailure
        );
        assert!(parse_judge_reply("{}").is_none());
        let mut long = episode();
        long.first_observation = "x".repeat(100_000);
        let prompt = judge_prompt(&long, 2_000);
        assert!(prompt.len() < 6_000 && prompt.contains("characters left out"));
    }
}
