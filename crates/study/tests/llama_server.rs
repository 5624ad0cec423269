//! `crossgym eval --url` against a real OpenAI-compatible server that no one here wrote:
//! llama.cpp's server (PyPI wheel `xllamacpp`) serving the SmolLM2 GGUF on 127.0.0.1, with
//! several requests in flight. Skipped loudly where the wheel or the model cannot be fetched.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crossgym_env_server::loadgen::KillOnDrop;
use crossgym_policy::RequestPolicy;
use crossgym_study::commands::{EvalModel, EvalSettings, eval};
use crossgym_study::records::{EpisodeRecord, read_jsonl};

const HERE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/llama_server");

fn skipped(why: &str) {
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         SKIPPED: crossgym eval against llama.cpp's server: {why}\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
}

/// The venv python with xllamacpp installed (by `setup.sh`), or why not.
fn llama_python() -> Result<PathBuf, String> {
    let output = Command::new("bash")
        .arg(Path::new(HERE).join("setup.sh"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run setup.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!("setup.sh failed ({})", output.status));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

/// The server process, stopped when dropped.
struct Server {
    /// Held for its drop, which stops the process.
    _process: KillOnDrop,
    url: String,
}

fn start_server(python: &Path, gguf: &Path, parallel: usize) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(python)
        .arg(Path::new(HERE).join("serve.py"))
        .args(["--model", &gguf.display().to_string()])
        .args(["--port", &port.to_string()])
        .args(["--parallel", &parallel.to_string()])
        .args(["--ctx-per-slot", "2048"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve.py");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let server = Server {
        _process: KillOnDrop(child),
        url: format!("http://127.0.0.1:{port}/v1"),
    };
    assert!(line.starts_with("listening"), "serve.py said {line:?}");
    // The model is loaded before serve.py prints; wait until the port answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "llama.cpp's server did not open {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

#[test]
fn eval_plays_babyai_against_llama_cpp_with_requests_in_flight() {
    let python = match llama_python() {
        Ok(python) => python,
        Err(why) => return skipped(&why),
    };
    let gguf = match crossgym_policy::fetch::smollm2_gguf(&crate::gpu::model_cache()) {
        Ok(path) => path,
        Err(e) => return skipped(&format!("no SmolLM2 GGUF: {e}")),
    };
    let server = start_server(&python, &gguf, 4);
    let out =
        std::env::temp_dir().join(format!("crossgym-llama-eval-{}.jsonl", std::process::id()));
    std::fs::remove_file(&out).ok();
    let model = EvalModel::Remote {
        url: server.url.clone(),
        model: "smollm2".into(),
        api_key: None,
        requests: RequestPolicy::default(),
    };
    let mut cmd = crate::commands::small_eval(model, vec!["babyai".into()], out.clone());
    cmd.settings = EvalSettings {
        seed: 5,
        concurrency: 4,
        run: "served".into(),
        checkpoint: "1:5".parse().unwrap(),
        ..cmd.settings
    };
    let mut printed = Vec::new();
    eval(&cmd, &mut printed).unwrap();
    let text = String::from_utf8(printed).unwrap();
    assert!(text.contains("played 4 episodes"), "{text}");
    assert!(text.contains("\nbabyai | test | "), "{text}");
    let records: Vec<EpisodeRecord> = read_jsonl(&out).unwrap();
    assert_eq!(records.len(), 4);
    for record in &records {
        assert_eq!(
            (record.run.as_str(), record.checkpoint.to_string()),
            ("served", "1:5".into())
        );
        let episode = record.episode.as_ref().expect("episodes are kept");
        assert!(!episode.turns.is_empty(), "{record:?}");
        assert!(
            record.generated_tokens > 0,
            "the server's usage counts tokens: {record:?}"
        );
        assert!(
            episode.turns.iter().all(|t| !t.reply.is_empty()),
            "{record:?}"
        );
    }
    std::fs::remove_file(&out).ok();
}
