//! The rollout loop with the local agent: token-exact trajectories, masks, log-probs, limits.

use candle_core::{DType, Device, Tensor};
use crossgym_env_core::{
    Characteristics, Env, EnvInfo, FnEnv, ParserFamily, Step, TaskId, TaskSplit,
};
use crossgym_policy::{
    ChatTemplate, FinishReason, LocalAgent, Message, RolloutLimits, SamplingParams, Tokenizer,
    next_token_logprobs, rollout_group,
};

use crate::common::{TensorValues, tiny};

/// A tiny env: the task is done when the reply contains the letter `e` (a random model hits
/// that now and then); the observation names the turn. Its state is the turn.
pub type LetterEnv = FnEnv<usize>;

pub fn letter_env() -> LetterEnv {
    let info = EnvInfo {
        name: "letter".into(),
        version: 0,
        instruction: "Write a reply with the letter e.".into(),
        acknowledgement: "Ok.".into(),
        parser: ParserFamily::ReactSingleLine,
        max_turns_train: 4,
        max_turns_eval: 4,
        characteristics: Characteristics::NONE,
    };
    let split = TaskSplit::seeded("letter", 4, 2, 2, 0).unwrap();
    FnEnv::new(
        info,
        4,
        split,
        |task| (0, format!("Task {task}: go.")),
        write_e,
    )
}

fn write_e(turn: &mut usize, reply: &str) -> Step {
    *turn += 1;
    if reply.contains('e') {
        Step::new("Done.", 1.0, true).with_success(true)
    } else {
        Step::new(format!("Turn {turn} failed, again."), 0.0, false)
    }
}

pub fn tokenizer() -> Tokenizer {
    let texts = [
        "Write a reply with the letter e. Ok. Task 0: go. Turn 1 failed, again. Done.",
        "system user assistant you are an agent",
    ];
    Tokenizer::train_bpe(texts.iter(), 300, &["<|im_start|>", "<|im_end|>"]).unwrap()
}

#[test]
fn trajectories_are_token_exact_with_masks_and_sampling_logprobs() {
    let model = tiny(false, DType::F32, 21);
    let tokenizer = tokenizer();
    let template = ChatTemplate::chatml(Some("You are an agent.".into()));
    let params = SamplingParams::with_temperature(1.0, 3);
    let mut agent = LocalAgent::new(
        &model.inference(),
        tokenizer.clone(),
        template.clone(),
        params,
    )
    .unwrap();
    let mut envs: Vec<LetterEnv> = (0..4).map(|_| letter_env()).collect();
    let limits = RolloutLimits {
        max_turns: 3,
        max_tokens_per_turn: 6,
        max_total_tokens: 400,
    };
    let group = rollout_group(&mut envs, TaskId(1), &mut agent, None, &limits).unwrap();
    assert_eq!(group.len(), 4);
    let im_end = tokenizer.im_end_id().unwrap();
    for t in &group {
        assert_eq!(t.tokens.len(), t.loss_mask.len());
        assert_eq!(t.tokens.len(), t.logprobs.len());
        assert!(t.turns() >= 1 && t.turns() <= 3);
        assert_eq!(t.finish == FinishReason::Done, t.steps.last().unwrap().done);
        let masked = t.loss_mask.iter().filter(|&&m| m == 1).count();
        assert_eq!(masked, t.generated_tokens);
        assert_eq!(
            t.steps.iter().map(|s| s.generated_tokens).sum::<usize>(),
            t.generated_tokens
        );
        // Before the first assistant token everything is template/env text.
        assert!(t.loss_mask[..t.prompt_len].iter().all(|&m| m == 0));
        assert_eq!(t.loss_mask[t.prompt_len], 1);
        // The prompt is exactly the rendered conversation start + first observation.
        let prompt = template.render(&t.messages[..3], true);
        assert_eq!(
            t.messages[0],
            Message::user("Write a reply with the letter e.")
        );
        assert_eq!(tokenizer.encode(&prompt).unwrap(), t.tokens[..t.prompt_len]);
        // Masked runs are the sampled replies, each closed by a sampled <|im_end|> unless capped.
        let mut runs: Vec<Vec<u32>> = Vec::new();
        for (i, (&tok, &m)) in t.tokens.iter().zip(&t.loss_mask).enumerate() {
            if m == 1 {
                if i == 0 || t.loss_mask[i - 1] == 0 {
                    runs.push(Vec::new());
                }
                runs.last_mut().unwrap().push(tok);
            } else {
                assert_eq!(t.logprobs[i], 0.0);
            }
        }
        assert_eq!(runs.len(), t.turns());
        for (run, step) in runs.iter().zip(&t.steps) {
            assert_eq!(run.len(), step.generated_tokens);
            assert_eq!(step.reply_truncated, run.last() != Some(&im_end));
            let body = if step.reply_truncated {
                &run[..]
            } else {
                &run[..run.len() - 1]
            };
            assert_eq!(tokenizer.decode(body, true).unwrap(), step.reply);
        }
        // The sampling log-probs are the model's (temperature 1): recompute teacher-forced.
        let ids = Tensor::new(t.tokens.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let lp = next_token_logprobs(&model.forward(&ids).unwrap(), &ids).unwrap();
        let lp = lp.values::<f32>();
        for i in 1..t.tokens.len() {
            if t.loss_mask[i] == 1 {
                assert!(
                    (lp[i - 1] - t.logprobs[i]).abs() < 1e-4,
                    "token {i}: {} vs {}",
                    lp[i - 1],
                    t.logprobs[i]
                );
            }
        }
    }
    // Same seed, same group.
    let mut agent = LocalAgent::new(&model.inference(), tokenizer, template, params).unwrap();
    let mut envs: Vec<LetterEnv> = (0..4).map(|_| letter_env()).collect();
    let again = rollout_group(&mut envs, TaskId(1), &mut agent, None, &limits).unwrap();
    assert_eq!(again, group);
}

#[test]
fn token_budget_and_turn_limits_end_rollouts() {
    let model = tiny(true, DType::F32, 22);
    let tokenizer = tokenizer();
    let template = ChatTemplate::chatml(None);
    let mut agent = LocalAgent::new(
        &model.inference(),
        tokenizer,
        template,
        SamplingParams::greedy(),
    )
    .unwrap();
    let mut envs: Vec<Box<dyn Env>> = vec![Box::new(letter_env()), Box::new(letter_env())];
    let limits = RolloutLimits {
        max_turns: 10,
        max_tokens_per_turn: 4,
        max_total_tokens: 12,
    };
    let group =
        rollout_group(&mut envs, TaskId(0), &mut agent, Some("Be brief."), &limits).unwrap();
    for t in &group {
        assert!(t.generated_tokens <= 12);
        assert!(t.steps.iter().all(|s| s.generated_tokens <= 4));
        if t.finish != FinishReason::Done {
            assert_eq!(t.finish, FinishReason::TokenBudget);
        }
        assert_eq!(t.messages[0], Message::system("Be brief."));
    }
    let limits = RolloutLimits {
        max_turns: 1,
        max_tokens_per_turn: 3,
        max_total_tokens: 100,
    };
    let group = rollout_group(&mut envs, TaskId(0), &mut agent, None, &limits).unwrap();
    for t in &group {
        assert_eq!(t.turns(), 1);
        assert!(matches!(
            t.finish,
            FinishReason::Done | FinishReason::MaxTurns
        ));
    }
}
