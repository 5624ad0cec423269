//! [`DeviceChoice`]: where the `crossgym` commands run their models (`--device cpu|cuda[:N]`),
//! parsed once on the command line and used wherever a model is loaded.
//!
//! On CUDA the weights are bf16 (what the paper's Qwen2.5 checkpoints are stored in, and half
//! the memory); on the CPU f32, which the fused CPU kernels of `crossgym-policy` expect.

use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device};
use crossgym_policy::{CausalLm, Pretrained};

use crate::{Result, StudyError};

/// A device named on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU (f32 weights).
    #[default]
    Cpu,
    /// CUDA GPU number N (bf16 weights); needs a binary built with the `cuda` feature.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("unknown device {text:?} (cpu, cuda or cuda:N)")),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceChoice {
    /// Whether this is a CUDA device.
    pub fn is_cuda(self) -> bool {
        matches!(self, Self::Cuda(_))
    }

    /// The dtype of model weights on this device: bf16 on CUDA, f32 on the CPU.
    pub fn dtype(self) -> DType {
        match self {
            Self::Cpu => DType::F32,
            Self::Cuda(_) => DType::BF16,
        }
    }

    /// Opens the device. CUDA fails at once, with the reason, when the binary was built without
    /// the `cuda` feature or the GPU cannot be opened.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(n) => Device::new_cuda(n).map_err(|e| {
                let hint = if cfg!(feature = "cuda") {
                    "is an NVIDIA GPU visible (nvidia-smi)?"
                } else {
                    "this crossgym was built without the `cuda` feature: build it with \
                     `cargo xtask build-cuda` (or `--features cuda`) for GPUs"
                };
                StudyError::invalid("--device", format!("cannot open {self}: {e}; {hint}"))
            }),
        }
    }

    /// `bundle` with its model on this device in this device's dtype (unchanged when it is
    /// there already).
    pub fn place(self, bundle: Pretrained) -> Result<Pretrained> {
        let device = self.open()?;
        let dtype = self.dtype();
        if bundle.model.device().same_device(&device) && bundle.model.dtype() == dtype {
            return Ok(bundle);
        }
        let model = CausalLm::from_tensors(
            bundle.model.config(),
            bundle.model.named_tensors()?,
            dtype,
            &device,
        )?;
        Ok(Pretrained { model, ..bundle })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_print() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("CUDA:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert!("metal".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(1).to_string(), "cuda:1");
        assert_eq!(DeviceChoice::Cpu.dtype(), DType::F32);
        assert_eq!(DeviceChoice::Cuda(0).dtype(), DType::BF16);
    }

    #[test]
    #[cfg(not(feature = "cuda"))]
    fn cuda_without_the_feature_fails_at_once_and_says_why() {
        let message = DeviceChoice::Cuda(0).open().unwrap_err().to_string();
        assert!(message.contains("cuda:0") && message.contains("without the `cuda` feature"));
    }
}
