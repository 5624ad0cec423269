//! [`CausalLm`]: the trainable model: variables in a [`VarMap`] under HF names, a [`Decoder`]
//! over them, random init, and safetensors checkpoints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{parameter_shapes, shaped_tensor};
use crate::{Decoder, ModelConfig, PolicyError, Result};

/// A trainable causal language model of the Llama or Qwen2 family.
///
/// Every parameter is a [`Var`] in [`CausalLm::varmap`], named as in the HF checkpoint
/// (`model.layers.0.self_attn.q_proj.weight`, …), so an optimizer can take
/// `varmap().all_vars()` and [`CausalLm::save`] writes a checkpoint transformers and vLLM load.
/// [`CausalLm::forward`] records an autograd graph; [`CausalLm::inference`] gives a detached
/// [`Decoder`] over the same storage for sampling.
#[derive(Clone)]
pub struct CausalLm {
    varmap: VarMap,
    decoder: Decoder,
}

impl std::fmt::Debug for CausalLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CausalLm")
            .field("config", self.decoder.config())
            .field("parameters", &self.num_parameters())
            .finish()
    }
}

impl CausalLm {
    /// Wraps HF-named tensors (converted to `dtype` on `device`) as variables. Extra tensors
    /// (e.g. a redundant `lm_head.weight` of a tied model) are ignored; missing ones are an error.
    pub fn from_tensors(
        config: &ModelConfig,
        tensors: HashMap<String, Tensor>,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        let varmap = VarMap::new();
        let mut views = HashMap::new();
        {
            let mut data = varmap
                .data()
                .lock()
                .map_err(|_| PolicyError::Config("variable map lock poisoned".into()))?;
            for (name, shape) in parameter_shapes(config) {
                let t = shaped_tensor(&tensors, &name, &shape)?;
                let var = Var::from_tensor(&t.to_device(device)?.to_dtype(dtype)?)?;
                views.insert(name.clone(), var.as_tensor().clone());
                data.insert(name, var);
            }
        }
        let decoder = Decoder::from_tensors(config, &views)?;
        Ok(Self { varmap, decoder })
    }

    /// A freshly initialised model: linear and embedding weights from N(0, 0.02²) (the HF
    /// `initializer_range`), norms 1, biases 0, drawn from a seeded ChaCha8 stream in
    /// [`parameter_shapes`] order (the same seed gives the same weights on every machine).
    pub fn random(config: &ModelConfig, seed: u64, dtype: DType, device: &Device) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut tensors = HashMap::new();
        for (name, shape) in parameter_shapes(config) {
            let n: usize = shape.iter().product();
            let values: Vec<f64> = if name.ends_with("norm.weight") {
                vec![1.0; n]
            } else if name.ends_with(".bias") {
                vec![0.0; n]
            } else {
                (0..n).map(|_| 0.02 * standard_normal(&mut rng)).collect()
            };
            tensors.insert(name, Tensor::from_vec(values, shape, device)?);
        }
        Self::from_tensors(config, tensors, dtype, device)
    }

    /// Loads `config.json` and every `*.safetensors` file of a model directory (a checkpoint
    /// saved by [`CausalLm::save`], or a hub snapshot).
    pub fn load_dir(dir: impl AsRef<Path>, dtype: DType, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config = ModelConfig::from_file(dir.join("config.json"))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| PolicyError::io(dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(PolicyError::model(dir, "no *.safetensors file"));
        }
        let mut tensors = HashMap::new();
        for file in &files {
            let loaded = candle_core::safetensors::load(file, &Device::Cpu)
                .map_err(|e| PolicyError::model(file, e.to_string()))?;
            tensors.extend(loaded);
        }
        Self::from_tensors(&config, tensors, dtype, device)
            .map_err(|e| PolicyError::model(dir, e.to_string()))
    }

    /// Writes `model.safetensors` (HF names, the model's dtype) and `config.json` into `dir`
    /// (created if needed).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| PolicyError::io(dir, e))?;
        let tensors = self.named_tensors()?;
        let file = dir.join("model.safetensors");
        candle_core::safetensors::save(&tensors, &file)
            .map_err(|e| PolicyError::model(&file, e.to_string()))?;
        let mut config = self.config().clone();
        config.extra.insert(
            "torch_dtype".into(),
            serde_json::Value::String(dtype_name(self.dtype()).into()),
        );
        let path = dir.join("config.json");
        std::fs::write(&path, config.to_json()).map_err(|e| PolicyError::io(&path, e))
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        self.decoder.config()
    }

    /// The variables, by HF name (give `varmap().all_vars()` to an optimizer).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The variables sorted by name.
    pub fn named_vars(&self) -> Result<Vec<(String, Var)>> {
        let data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| PolicyError::Config("variable map lock poisoned".into()))?;
        let mut vars: Vec<(String, Var)> =
            data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(vars)
    }

    /// Detached copies of the current values by name (shared storage).
    pub fn named_tensors(&self) -> Result<HashMap<String, Tensor>> {
        Ok(self
            .named_vars()?
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().detach()))
            .collect())
    }

    /// Total number of parameters.
    pub fn num_parameters(&self) -> usize {
        self.varmap.all_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// The weights' dtype.
    pub fn dtype(&self) -> DType {
        self.decoder.dtype()
    }

    /// The weights' device.
    pub fn device(&self) -> &Device {
        self.decoder.device()
    }

    /// The arithmetic of the CPU f32 matrix products (see [`crate::matmul`]).
    pub fn matmul_backend(&self) -> crate::matmul::MatmulBackend {
        self.decoder.matmul_backend()
    }

    /// Runs the CPU f32 matrix products of this model (training and the decoders that
    /// [`CausalLm::inference`] hands out afterwards) on `backend`; f32 where the CPU lacks
    /// AMX-BF16. The default is [`crate::matmul::backend`] (`CROSSGYM_MATMUL`).
    pub fn set_matmul_backend(&mut self, backend: crate::matmul::MatmulBackend) {
        self.decoder = self.decoder.clone().with_matmul_backend(backend);
    }

    /// The decoder over the variables (its outputs record an autograd graph).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Logits `[B, T, vocab]` for every position of a right-padded batch `ids` `[B, T]`
    /// (see [`Decoder::forward`]); differentiable with respect to every variable.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.decoder.forward(ids)
    }

    /// A decoder over the same storage with no graph, for sampling: it sees optimizer updates
    /// at once and costs no copy.
    pub fn inference(&self) -> Decoder {
        self.decoder.detached()
    }

    /// An independent deep copy (e.g. a frozen reference model for a KL penalty).
    pub fn deep_copy(&self) -> Result<Self> {
        let tensors = self
            .named_tensors()?
            .into_iter()
            .map(|(k, t)| Ok((k, t.copy()?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Self::from_tensors(self.config(), tensors, self.dtype(), self.device())
    }

    /// The same model converted to `dtype` (new variables).
    pub fn to_dtype(&self, dtype: DType) -> Result<Self> {
        Self::from_tensors(self.config(), self.named_tensors()?, dtype, self.device())
    }
}

/// The HF `torch_dtype` name of a dtype.
fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F64 => "float64",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        _ => "float32",
    }
}

/// One draw from N(0, 1) by Box–Muller (portable, unlike library samplers whose algorithm may
/// change between versions).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
