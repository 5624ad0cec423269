//! An evaluation-only [`ChatAgent`] backed by an OpenAI-compatible chat-completions server
//! (vLLM, SGLang, llama.cpp's server), so big models served elsewhere run through the same
//! rollout loop. It sees text only: trajectories it produces carry no tokens or log-probs.
//!
//! Each request has a timeout and is retried with exponential backoff after a 429, a 5xx or a
//! connection error ([`RequestPolicy`]); other failures end the episode's evaluation with an
//! error naming the endpoint.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{AgentReply, ChatAgent, TokenRecord};
use crate::{Message, PolicyError, Result, SamplingParams};

/// How an [`OpenAiAgent`] waits for and retries a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestPolicy {
    /// Longest wait for one request, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Retries after a 429, a 5xx or a connection error (0: fail at the first).
    pub max_retries: u32,
    /// Wait before the first retry, doubled after each one up to `max_backoff`; a longer
    /// `Retry-After` (in seconds) from the server wins.
    pub initial_backoff: Duration,
    /// Longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for RequestPolicy {
    /// 5 minutes a request; 6 retries waiting 0.5, 1, 2, 4, 8, 16 s.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            max_retries: 6,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RequestPolicy {
    /// The wait before retry number `retry` (0-based), at least the server's `retry_after`.
    pub fn backoff_for(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        retry_after.map_or(doubled, |server| server.max(doubled))
    }
}

/// A failed try: whether another may succeed, the server's `Retry-After`, and what went wrong.
struct Failure {
    retryable: bool,
    retry_after: Option<Duration>,
    message: String,
}

/// The longest `Retry-After` honoured, so a confused server cannot stall an evaluation.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A chat-completions client holding the conversations of one group.
#[derive(Debug)]
pub struct OpenAiAgent {
    url: String,
    model: String,
    api_key: Option<String>,
    params: SamplingParams,
    policy: RequestPolicy,
    agent: ureq::Agent,
    conversations: Vec<Vec<Message>>,
    /// Per row: prompt tokens of the first request, and the latest prompt + completion count.
    usage: Vec<(Option<u64>, u64)>,
    calls: Vec<u64>,
}

impl OpenAiAgent {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8000/v1`; `/chat/completions` is
    /// appended) serving `model`. Row `i` of a group sends `seed + i` as its seed, per call
    /// offset by the call number, so repeated runs ask for the same samples.
    pub fn new(base_url: &str, model: &str, params: SamplingParams) -> Self {
        let policy = RequestPolicy::default();
        Self {
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_owned(),
            api_key: None,
            params,
            policy,
            agent: http_agent(policy.timeout),
            conversations: Vec::new(),
            usage: Vec::new(),
            calls: Vec::new(),
        }
    }

    /// Sends `Authorization: Bearer {key}`.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Waits and retries as `policy` says.
    #[must_use]
    pub fn with_request_policy(mut self, policy: RequestPolicy) -> Self {
        self.policy = policy;
        self.agent = http_agent(policy.timeout);
        self
    }

    fn remote(&self, message: impl Into<String>) -> PolicyError {
        PolicyError::Remote {
            url: self.url.clone(),
            message: message.into(),
        }
    }

    fn complete(&mut self, row: usize, max_tokens: usize) -> Result<AgentReply> {
        let messages: Vec<Value> = self.conversations[row]
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let seed = self
            .params
            .seed
            .wrapping_add(row as u64)
            .wrapping_add(self.calls[row].wrapping_mul(1_000_003));
        self.calls[row] += 1;
        let body = json!({
            "model": self.model,
            "messages": messages,
            "temperature": self.params.temperature,
            "top_p": self.params.top_p,
            "max_tokens": max_tokens,
            "seed": seed,
            "n": 1,
        });
        let text = self.post_with_retries(&body.to_string())?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| self.remote(format!("response is not JSON: {e}")))?;
        let choice = value
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| self.remote("response has no choices[0]"))?;
        let content = choice
            .pointer("/message/content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let truncated = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
        let completion = value
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if let Some(prompt) = value
            .pointer("/usage/prompt_tokens")
            .and_then(Value::as_u64)
        {
            let usage = &mut self.usage[row];
            usage.0.get_or_insert(prompt);
            usage.1 = prompt + completion;
        }
        Ok(AgentReply {
            text: content,
            generated_tokens: completion as usize,
            truncated,
        })
    }

    /// Posts `body`, retrying as the request policy allows; the answer's text on success.
    fn post_with_retries(&self, body: &str) -> Result<String> {
        let mut retry = 0;
        loop {
            match self.post_once(body) {
                Ok(text) => return Ok(text),
                Err(failure) if failure.retryable && retry < self.policy.max_retries => {
                    std::thread::sleep(self.policy.backoff_for(retry, failure.retry_after));
                    retry += 1;
                }
                Err(failure) => {
                    let tries = if failure.retryable {
                        format!(" (after {} tries)", retry + 1)
                    } else {
                        String::new()
                    };
                    return Err(self.remote(format!("{}{tries}", failure.message)));
                }
            }
        }
    }

    /// One try: the answer's text, or why it failed.
    fn post_once(&self, body: &str) -> std::result::Result<String, Failure> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let transport = |e: ureq::Error| Failure {
            retryable: true,
            retry_after: None,
            message: e.to_string(),
        };
        let mut response = request.send(body).map_err(transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s).min(MAX_RETRY_AFTER));
        let text = response.body_mut().read_to_string().map_err(transport)?;
        if status.is_success() {
            return Ok(text);
        }
        Err(Failure {
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after,
            message: format!("HTTP {status}: {text}"),
        })
    }
}

/// A blocking HTTP client that hands every status back and gives up on a request after `timeout`.
fn http_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

impl ChatAgent for OpenAiAgent {
    fn start(&mut self, n: usize, messages: &[Message]) -> Result<()> {
        self.conversations = vec![messages.to_vec(); n];
        self.usage = vec![(None, 0); n];
        self.calls = vec![0; n];
        Ok(())
    }

    fn add_user(&mut self, row: usize, text: &str) -> Result<()> {
        let conversation = self
            .conversations
            .get_mut(row)
            .ok_or_else(|| PolicyError::Config(format!("row {row} was not started")))?;
        conversation.push(Message::user(text));
        Ok(())
    }

    /// One request per row, in order (the server batches concurrent requests; a group here is
    /// sent sequentially).
    fn reply(&mut self, rows: &[usize], max_tokens: &[usize]) -> Result<Vec<AgentReply>> {
        let mut out = Vec::with_capacity(rows.len());
        for (&row, &cap) in rows.iter().zip(max_tokens) {
            if row >= self.conversations.len() {
                return Err(PolicyError::Config(format!("row {row} was not started")));
            }
            let reply = self.complete(row, cap)?;
            self.conversations[row].push(Message::assistant(reply.text.clone()));
            out.push(reply);
        }
        Ok(out)
    }

    /// From the server's `usage`: the latest prompt + completion tokens minus the first
    /// prompt's (observations after the last reply are not counted until the next request).
    fn response_tokens(&self, row: usize) -> usize {
        match self.usage.get(row) {
            Some((Some(first), latest)) => latest.saturating_sub(*first) as usize,
            _ => 0,
        }
    }

    fn token_record(&self, _row: usize) -> Option<TokenRecord> {
        None
    }
}
