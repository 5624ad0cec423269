//! Conformance with the reference outputs of SmolLM2-135M-Instruct (PyTorch/transformers on the
//! dequantized GGUF): tokenizer ids, chat-template strings, weights, greedy continuations, top-5
//! and teacher-forced log-probs.

use candle_core::{DType, Device, Tensor};
use crossgym_env_core::conformance::{Mismatch, Report};
use crossgym_policy::matmul::MatmulBackend;
use crossgym_policy::{
    ChatTemplate, Decoder, Message, Pretrained, Role, Tokenizer, greedy, next_token_logprobs,
};
use serde_json::Value;

use crate::common::{TensorValues, amx_or_skip, f64s, fixture_dir, reference, smollm2, u32s};

fn messages(v: &Value) -> Vec<Message> {
    v.as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let role = match m["role"].as_str().expect("role") {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => panic!("unknown role {other}"),
            };
            Message::new(role, m["content"].as_str().expect("content"))
        })
        .collect()
}

/// Checks one tokenizer against every id list of the reference.
fn check_tokenizer(tokenizer: &Tokenizer, template: &ChatTemplate, report: &mut Report) {
    let r = reference();
    for (i, case) in r["tokenizer"]["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
    {
        let text = case["text"].as_str().expect("text");
        let name = format!("tokenizer case {i} {text:?}");
        let ids = tokenizer.encode(text).expect("encode");
        let want = u32s(&case["ids"]);
        let decoded = tokenizer.decode(&ids, false).expect("decode");
        let result = if ids != want {
            Err(mismatch(name, "ids", want, ids))
        } else if decoded != case["decoded"].as_str().expect("decoded") {
            Err(mismatch(name, "decoded", &case["decoded"], decoded))
        } else {
            Ok(())
        };
        report.record(result);
    }
    for case in r["chat_template_cases"].as_array().expect("chat cases") {
        let name = format!("chat template case {}", case["name"]);
        let text = template.render(
            &messages(&case["messages"]),
            case["add_generation_prompt"].as_bool().expect("flag"),
        );
        report.record(rendered_as_recorded(
            tokenizer,
            name,
            &text,
            case,
            ("text", "ids"),
        ));
    }
    for (i, case) in greedy_cases(&r) {
        let name = format!("greedy case {i} prompt");
        let text = template.render(&messages(&case["messages"]), true);
        let fields = ("prompt_text", "prompt_ids");
        report.record(rendered_as_recorded(tokenizer, name, &text, case, fields));
    }
    for case in r["logits_checks"]["cases"]
        .as_array()
        .expect("logits cases")
    {
        let name = format!("logits case {}", case["name"]);
        let prompt = case["prompt_ids"].clone();
        let cont = u32s(&case["continuation_ids"]);
        let result = match case.get("prompt_text").and_then(Value::as_str) {
            Some(text) if tokenizer.encode(text).expect("encode") != u32s(&prompt) => {
                Err(mismatch(
                    name.clone(),
                    "prompt_ids",
                    u32s(&prompt),
                    tokenizer.encode(text),
                ))
            }
            _ => Ok(()),
        };
        report.record(result);
        if let Some(text) = case.get("continuation_text").and_then(Value::as_str) {
            let ids = tokenizer.encode(text).expect("encode");
            report.record(if ids == cont {
                Ok(())
            } else {
                Err(mismatch(name, "continuation_ids", cont, ids))
            });
        }
    }
}

/// Whether a rendered `text` and its token ids are the case's fields `text_field` and
/// `ids_field`.
fn rendered_as_recorded(
    tokenizer: &Tokenizer,
    name: String,
    text: &str,
    case: &Value,
    (text_field, ids_field): (&str, &str),
) -> Result<(), Mismatch> {
    let ids = tokenizer.encode(text).expect("encode");
    if text != case[text_field].as_str().expect("text field") {
        Err(mismatch(name, text_field, &case[text_field], text))
    } else if ids != u32s(&case[ids_field]) {
        Err(mismatch(name, ids_field, u32s(&case[ids_field]), ids))
    } else {
        Ok(())
    }
}

fn mismatch(
    episode: String,
    field: &str,
    expected: impl std::fmt::Debug,
    actual: impl std::fmt::Debug,
) -> Mismatch {
    Mismatch::new(
        episode,
        None,
        field,
        format!("{expected:?}"),
        format!("{actual:?}"),
    )
}

/// The reference's greedy-generation cases, numbered.
fn greedy_cases(r: &Value) -> impl Iterator<Item = (usize, &Value)> {
    r["greedy_generation"]["cases"]
        .as_array()
        .expect("greedy")
        .iter()
        .enumerate()
}

/// SmolLM2's decoder with the given matrix products.
fn decoder(model: &Pretrained, backend: MatmulBackend) -> Decoder {
    model.model.inference().with_matmul_backend(backend)
}

/// The decoder's logits of `input`, as f64.
fn forward_f64(decoder: &Decoder, input: &Tensor) -> Tensor {
    decoder
        .forward(input)
        .expect("forward")
        .to_dtype(DType::F64)
        .unwrap()
}

/// `row − log Σ exp(row)`, in f64.
fn log_softmax(row: &[f64]) -> Vec<f64> {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_z = max + row.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
    row.iter().map(|l| l - log_z).collect()
}

fn smollm2_template() -> ChatTemplate {
    let r = reference();
    ChatTemplate::from_jinja(r["tokenizer"]["chat_template"].as_str().expect("template"))
        .expect("ChatML template")
}

#[test]
fn reference_tokenizer_json_reproduces_every_id_list() {
    let tokenizer = Tokenizer::from_file(fixture_dir().join("smollm2_tokenizer.json"))
        .expect("fixture tokenizer");
    let template = smollm2_template();
    assert_eq!(
        template.default_system.as_deref(),
        Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    );
    let mut report = Report::new("smollm2_reference.json");
    check_tokenizer(&tokenizer, &template, &mut report);
    report.assert_ok();
}

#[test]
fn gguf_tokenizer_and_template_reproduce_every_id_list() {
    let Some(model) = smollm2() else { return };
    let mut report = Report::new("smollm2_reference.json");
    check_tokenizer(&model.tokenizer, &model.template, &mut report);
    report.assert_ok();
}

#[test]
fn gguf_weights_match_the_reference_checksums() {
    let Some(model) = smollm2() else { return };
    let r = reference();
    let tensors = model.model.named_tensors().expect("tensors");
    let mut report = Report::new("smollm2_reference.json");
    for w in r["weight_checks"]["tensors"].as_array().expect("tensors") {
        let name = w["hf_name"].as_str().expect("name").to_owned();
        let Some(t) = tensors.get(&name) else {
            report.record(Err(mismatch(name, "present", true, false)));
            continue;
        };
        let shape: Vec<usize> = u32s(&w["shape"]).into_iter().map(|x| x as usize).collect();
        let t64 = t.to_dtype(DType::F64).expect("f64");
        let sum = t64.sum_all().unwrap().scalar::<f64>();
        let sum_abs = t64.abs().unwrap().sum_all().unwrap().scalar::<f64>();
        let sum_sq = t64.sqr().unwrap().sum_all().unwrap().scalar::<f64>();
        // Row `i`'s first values (for a vector, its first element), as many as recorded.
        let row = |i: usize, n: usize| -> Vec<f64> {
            let flat = t64.flatten_all().unwrap();
            let width: usize = t.dims()[1..].iter().product::<usize>().max(1);
            let start = if t.dims().len() == 1 { 0 } else { i * width };
            flat.narrow(0, start, n).unwrap().to_vec1::<f64>().unwrap()
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        // serde_json parses decimals to within an ulp, not always to the nearest f64; the
        // recorded values are exact f32 values, so 1e-12 relative is "exact" here.
        let same = |field: &str, i: usize| -> bool {
            let want = f64s(&w[field]);
            let got = row(i, want.len());
            got.iter()
                .zip(&want)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs())
        };
        let result = if t.dims() != shape.as_slice() {
            Err(mismatch(name, "shape", shape, t.dims()))
        } else if !close(sum, w["sum"].as_f64().unwrap()) {
            Err(mismatch(name, "sum", &w["sum"], sum))
        } else if !close(sum_abs, w["sum_abs"].as_f64().unwrap()) {
            Err(mismatch(name, "sum_abs", &w["sum_abs"], sum_abs))
        } else if !close(sum_sq, w["sum_sq"].as_f64().unwrap()) {
            Err(mismatch(name, "sum_sq", &w["sum_sq"], sum_sq))
        } else if !same("first8_row0", 0) {
            Err(mismatch(name, "first8_row0", &w["first8_row0"], row(0, 8)))
        } else if t.dims().len() > 1 && !same("first8_row1", 1) {
            Err(mismatch(name, "first8_row1", &w["first8_row1"], row(1, 8)))
        } else {
            Ok(())
        };
        report.record(result);
    }
    report.assert_ok();
}

#[test]
fn greedy_continuations_match_the_reference_token_for_token() {
    let Some(model) = smollm2() else { return };
    let r = reference();
    let decoder = decoder(model, MatmulBackend::F32);
    let mut report = Report::new("smollm2_reference.json");
    for (i, case) in greedy_cases(&r) {
        let prompt = u32s(&case["prompt_ids"]);
        let want = u32s(&case["generated_ids"]);
        let got = greedy(&decoder, &prompt, want.len()).expect("generate");
        report.record(if got == want {
            Ok(())
        } else {
            Err(mismatch(
                format!("greedy case {i}"),
                "generated_ids",
                want,
                got,
            ))
        });
    }
    report.assert_ok();
}

#[test]
fn top5_and_teacher_forced_logprobs_within_1e3() {
    let Some(model) = smollm2() else { return };
    let r = reference();
    let mut report = Report::new("smollm2_reference.json");
    let (mut max_top5, mut max_tf, mut max_sum) = (0.0f64, 0.0f64, 0.0f64);
    for case in r["logits_checks"]["cases"].as_array().expect("cases") {
        let name = format!("logits case {}", case["name"]);
        let ids = u32s(&case["ids"]);
        let n_prompt = case["prompt_ids"].as_array().expect("prompt").len();
        let input = Tensor::new(ids.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let logits64 = forward_f64(&decoder(model, MatmulBackend::F32), &input);
        // Top-5 at the last prompt position.
        let last = logits64
            .get(0)
            .unwrap()
            .get(n_prompt - 1)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let lp = log_softmax(&last.values::<f64>());
        let mut order: Vec<usize> = (0..lp.len()).collect();
        order.sort_by(|a, b| lp[*b].total_cmp(&lp[*a]));
        let top5: Vec<u32> = order[..5].iter().map(|&i| i as u32).collect();
        let want_ids = u32s(&case["next_token_top5"]["ids"]);
        let want_lp = f64s(&case["next_token_top5"]["logprobs"]);
        let err = order[..5]
            .iter()
            .zip(&want_lp)
            .map(|(&i, w)| (lp[i] - w).abs())
            .fold(0.0, f64::max);
        max_top5 = max_top5.max(err);
        report.record(if top5 != want_ids {
            Err(mismatch(name.clone(), "top5 ids", want_ids, top5))
        } else if err > 1e-3 {
            Err(mismatch(
                name.clone(),
                "top5 logprobs (max abs err)",
                1e-3,
                err,
            ))
        } else {
            Ok(())
        });
        // Teacher-forced log-probs over the whole sequence.
        let tf = next_token_logprobs(&logits64, &input)
            .unwrap()
            .values::<f64>();
        let want = f64s(&case["token_logprobs"]);
        let err = tf
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        max_tf = max_tf.max(err);
        let sum: f64 = tf[n_prompt - 1..].iter().sum();
        let sum_err = (sum - case["continuation_logprob_sum"].as_f64().unwrap()).abs();
        max_sum = max_sum.max(sum_err);
        report.record(if tf.len() != want.len() {
            Err(mismatch(
                name,
                "token_logprobs length",
                want.len(),
                tf.len(),
            ))
        } else if err > 1e-3 {
            Err(mismatch(
                name,
                "teacher-forced logprobs (max abs err)",
                1e-3,
                err,
            ))
        } else if sum_err > 5e-3 {
            Err(mismatch(
                name,
                "continuation logprob sum",
                &case["continuation_logprob_sum"],
                sum,
            ))
        } else {
            Ok(())
        });
    }
    eprintln!(
        "SmolLM2 vs reference: max |Δ| top-5 log-prob {max_top5:.2e}, teacher-forced log-prob \
         {max_tf:.2e}, continuation sum {max_sum:.2e}"
    );
    report.assert_ok();
}

#[test]
fn local_agent_reproduces_the_reference_replies_token_for_token() {
    use crossgym_policy::{ChatAgent, LocalAgent, SamplingParams};
    let Some(model) = smollm2() else { return };
    let r = reference();
    let mut report = Report::new("smollm2_reference.json");
    let mut agent = LocalAgent::new(
        &decoder(model, MatmulBackend::F32),
        model.tokenizer.clone(),
        model.template.clone(),
        SamplingParams::greedy(),
    )
    .expect("agent");
    for (i, case) in greedy_cases(&r) {
        let name = format!("greedy case {i} through LocalAgent");
        agent.start(1, &messages(&case["messages"])).expect("start");
        let reply = agent.reply(&[0], &[32]).expect("reply").remove(0);
        let record = agent.token_record(0).expect("record");
        let prompt = u32s(&case["prompt_ids"]);
        let until_eos = u32s(&case["generated_ids_until_eos"]);
        let sampled: Vec<u32> = record
            .tokens
            .iter()
            .zip(&record.loss_mask)
            .filter(|(_, m)| **m == 1)
            .map(|(t, _)| *t)
            .collect();
        let result = if record.tokens[..record.prompt_len] != prompt[..] {
            Err(mismatch(
                name,
                "prompt tokens",
                prompt,
                &record.tokens[..record.prompt_len],
            ))
        } else if sampled[..until_eos.len()] != until_eos[..] {
            Err(mismatch(name, "reply tokens", until_eos, sampled))
        } else if reply.text != case["generated_text_until_eos"].as_str().expect("text") {
            Err(mismatch(
                name,
                "reply text",
                &case["generated_text_until_eos"],
                reply.text,
            ))
        } else {
            Ok(())
        };
        report.record(result);
    }
    report.assert_ok();
}

/// bf16 products on AMX (f32 accumulation): the greedy continuations of the fixture prompts
/// agree with the reference for at least their first 16 tokens, and the top-5 next-token
/// log-probs are within 0.05.
#[test]
fn bf16_matmuls_keep_greedy_prefixes_and_top5_logprobs_close() {
    if !amx_or_skip("bf16 fixture agreement") {
        return;
    }
    let Some(model) = smollm2() else { return };
    let r = reference();
    let decoder = decoder(model, MatmulBackend::Bf16Amx);
    let mut report = Report::new("smollm2_reference.json");
    for (i, case) in greedy_cases(&r) {
        let prompt = u32s(&case["prompt_ids"]);
        let want = u32s(&case["generated_ids"]);
        let n = want.len().min(16);
        let got = greedy(&decoder, &prompt, n).expect("generate");
        report.record(if got[..n] == want[..n] {
            Ok(())
        } else {
            Err(mismatch(
                format!("bf16 greedy case {i}"),
                "first 16 generated_ids",
                &want[..n],
                got,
            ))
        });
    }
    let mut worst = 0.0f64;
    for case in r["logits_checks"]["cases"].as_array().expect("cases") {
        let ids = u32s(&case["ids"]);
        let n_prompt = case["prompt_ids"].as_array().expect("prompt").len();
        let input = Tensor::new(&ids[..n_prompt], &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let row = forward_f64(&decoder, &input)
            .get(0)
            .unwrap()
            .get(n_prompt - 1)
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        let lp = log_softmax(&row);
        let want_ids = u32s(&case["next_token_top5"]["ids"]);
        let want_lp = f64s(&case["next_token_top5"]["logprobs"]);
        let err = want_ids
            .iter()
            .zip(&want_lp)
            .map(|(&id, w)| (lp[id as usize] - w).abs())
            .fold(0.0, f64::max);
        worst = worst.max(err);
        report.record(if err <= 0.05 {
            Ok(())
        } else {
            Err(mismatch(
                format!("bf16 logits case {}", case["name"]),
                "top5 logprobs (max abs err)",
                0.05,
                err,
            ))
        });
    }
    eprintln!("SmolLM2 bf16 vs reference: max |Δ| top-5 log-prob {worst:.2e}");
    report.assert_ok();
}
