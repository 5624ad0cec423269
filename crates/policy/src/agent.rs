//! [`ChatAgent`]: what the rollout loop needs from a policy, and [`LocalAgent`], the candle one
//! that records every token.

use crate::inference::Session;
use crate::sampling::{Sampler, SamplingParams};
use crate::{ChatTemplate, Decoder, Message, PolicyError, Result, Role, Tokenizer};

/// One generated assistant turn.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentReply {
    /// The reply text given to the env (special tokens removed).
    pub text: String,
    /// How many tokens the policy generated for it (the closing `<|im_end|>` included when
    /// sampled).
    pub generated_tokens: usize,
    /// Whether the turn was cut by its token cap rather than ending on `<|im_end|>`.
    pub truncated: bool,
}

/// The token-level record of one conversation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenRecord {
    /// Every token: template, env text and sampled replies.
    pub tokens: Vec<u32>,
    /// 1 exactly on tokens the policy sampled (assistant text and its sampled `<|im_end|>`).
    pub loss_mask: Vec<u8>,
    /// The sampling log-prob of each token where the mask is 1, 0 elsewhere.
    pub logprobs: Vec<f32>,
    /// Tokens before the first assistant turn (the prompt).
    pub prompt_len: usize,
}

impl TokenRecord {
    /// Appends `ids` with loss-mask value `mask` and their sampling log-probs (0 without).
    pub(crate) fn push(&mut self, ids: &[u32], mask: u8, logprobs: Option<&[f64]>) {
        self.tokens.extend_from_slice(ids);
        self.loss_mask.extend(std::iter::repeat_n(mask, ids.len()));
        match logprobs {
            Some(lp) => self.logprobs.extend(lp.iter().map(|&l| l as f32)),
            None => self.logprobs.extend(std::iter::repeat_n(0.0, ids.len())),
        }
    }
}

/// The text of a generated reply (`stopped`: it ends on the sampled `<|im_end|>`) and the
/// template tokens that close its turn: `<|im_end|>` when it was cut by its cap, then a newline.
pub(crate) fn reply_closing(
    tokenizer: &Tokenizer,
    tokens: &[u32],
    stopped: bool,
    im_end: u32,
    newline: &[u32],
) -> Result<(String, Vec<u32>)> {
    let body = if stopped {
        &tokens[..tokens.len().saturating_sub(1)]
    } else {
        tokens
    };
    let text = tokenizer.decode(body, true)?;
    let mut closing = Vec::with_capacity(1 + newline.len());
    if !stopped {
        closing.push(im_end);
    }
    closing.extend_from_slice(newline);
    Ok((text, closing))
}

/// A policy that continues chat conversations, batched over the rows of a group.
///
/// Implemented by [`LocalAgent`] (candle, token-exact) and [`crate::OpenAiAgent`] (a remote
/// chat-completions server, text only, for evaluation).
pub trait ChatAgent {
    /// Starts `n` conversations that all open with `messages`.
    fn start(&mut self, n: usize, messages: &[Message]) -> Result<()>;
    /// Adds a user message (an env observation) to conversation `row`.
    fn add_user(&mut self, row: usize, text: &str) -> Result<()>;
    /// Writes the next assistant turn of each conversation in `rows`, at most `max_tokens[i]`
    /// tokens for `rows[i]`.
    fn reply(&mut self, rows: &[usize], max_tokens: &[usize]) -> Result<Vec<AgentReply>>;
    /// Tokens added to conversation `row` since its prompt (replies and observations), as far
    /// as the backend can count them.
    fn response_tokens(&self, row: usize) -> usize;
    /// The token record of conversation `row`; `None` for text-only backends.
    fn token_record(&self, row: usize) -> Option<TokenRecord>;
}

/// The candle policy: a KV-cached [`Session`] over a detached decoder, recording tokens,
/// loss mask and sampling log-probs of every conversation.
///
/// Sampled ids are kept as sampled (never decoded and re-encoded). A reply that ends on the
/// token cap is closed with a template `<|im_end|>` that is not sampled and gets mask 0.
#[derive(Debug)]
pub struct LocalAgent {
    decoder: Decoder,
    tokenizer: Tokenizer,
    template: ChatTemplate,
    params: SamplingParams,
    im_end: u32,
    newline: Vec<u32>,
    session: Option<Session>,
    samplers: Vec<Sampler>,
    records: Vec<TokenRecord>,
    /// Template tokens waiting to be run with the next batch step, per row.
    queued: Vec<Vec<u32>>,
}

impl LocalAgent {
    /// An agent over `decoder` (detached here; pass [`crate::CausalLm::inference`] or any
    /// decoder), with its tokenizer, template and sampling parameters. Row `i` of a group
    /// samples from ChaCha8 stream `i` of `params.seed`.
    pub fn new(
        decoder: &Decoder,
        tokenizer: Tokenizer,
        template: ChatTemplate,
        params: SamplingParams,
    ) -> Result<Self> {
        let im_end = tokenizer.im_end_id()?;
        let newline = tokenizer.encode("\n")?;
        Ok(Self {
            decoder: decoder.detached(),
            tokenizer,
            template,
            params,
            im_end,
            newline,
            session: None,
            samplers: Vec::new(),
            records: Vec::new(),
            queued: Vec::new(),
        })
    }

    /// Changes the sampling parameters for the next [`ChatAgent::start`].
    pub fn set_params(&mut self, params: SamplingParams) {
        self.params = params;
    }

    fn check_row(&self, row: usize) -> Result<()> {
        if row < self.records.len() {
            Ok(())
        } else {
            Err(PolicyError::Config(format!(
                "row {row} is outside the {} conversations started",
                self.records.len()
            )))
        }
    }
}

impl ChatAgent for LocalAgent {
    fn start(&mut self, n: usize, messages: &[Message]) -> Result<()> {
        let prompt = self
            .tokenizer
            .encode(&self.template.render(messages, false))?;
        self.session = Some(Session::new(&self.decoder, n)?);
        self.samplers = (0..n).map(|r| Sampler::for_row(self.params, r)).collect();
        self.records = vec![TokenRecord::default(); n];
        self.queued = vec![prompt.clone(); n];
        for r in 0..n {
            self.records[r].push(&prompt, 0, None);
        }
        Ok(())
    }

    fn add_user(&mut self, row: usize, text: &str) -> Result<()> {
        self.check_row(row)?;
        let ids = self
            .tokenizer
            .encode(&ChatTemplate::turn(Role::User, text))?;
        self.queued[row].extend_from_slice(&ids);
        self.records[row].push(&ids, 0, None);
        Ok(())
    }

    fn reply(&mut self, rows: &[usize], max_tokens: &[usize]) -> Result<Vec<AgentReply>> {
        for &r in rows {
            self.check_row(r)?;
        }
        let prompt = self.tokenizer.encode(&ChatTemplate::generation_prompt())?;
        for &r in rows {
            self.queued[r].extend_from_slice(&prompt);
            self.records[r].push(&prompt, 0, None);
            let record = &mut self.records[r];
            if record.prompt_len == 0 {
                record.prompt_len = record.tokens.len();
            }
        }
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| PolicyError::Config("reply called before start".into()))?;
        let chunks: Vec<Vec<u32>> = self.queued.iter_mut().map(std::mem::take).collect();
        session.append(&chunks)?;
        let mut samplers: Vec<Sampler> = rows.iter().map(|&r| self.samplers[r].clone()).collect();
        let generations = session.generate(rows, max_tokens, Some(self.im_end), &mut samplers)?;
        let mut replies = Vec::with_capacity(rows.len());
        for ((&r, sampler), g) in rows.iter().zip(samplers).zip(generations) {
            self.samplers[r] = sampler;
            self.records[r].push(&g.tokens, 1, Some(&g.logprobs));
            let (text, closing) = reply_closing(
                &self.tokenizer,
                &g.tokens,
                g.stopped,
                self.im_end,
                &self.newline,
            )?;
            self.queued[r].extend_from_slice(&closing);
            self.records[r].push(&closing, 0, None);
            replies.push(AgentReply {
                text,
                generated_tokens: g.tokens.len(),
                truncated: !g.stopped,
            });
        }
        Ok(replies)
    }

    fn response_tokens(&self, row: usize) -> usize {
        self.records
            .get(row)
            .filter(|r| r.prompt_len > 0)
            .map_or(0, |r| r.tokens.len() - r.prompt_len)
    }

    fn token_record(&self, row: usize) -> Option<TokenRecord> {
        self.records.get(row).cloned()
    }
}
