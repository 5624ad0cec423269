//! The output head fused with log-softmax, gather and entropy, in row chunks: per-token
//! log-probs and entropies straight from the final hidden states, without ever holding the
//! `[tokens, vocab]` logits (805 MB for 4,096 tokens of SmolLM2's 49,152-word vocabulary, and as
//! much again for their gradient).
//!
//! The forward pass computes `scale · h Wᵀ` for [`CHUNK_ROWS`] rows at a time and keeps only
//! two numbers per row; the backward pass recomputes each chunk's logits, turns them into
//! `dZ` ([`crate::ops::logprob_entropy_grad`]), and multiplies `dH = dZ W` and `dW += dZᵀ H`
//! through [`crate::matmul`]. CPU f32 only; elsewhere callers compute full logits.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::Result;
use std::sync::OnceLock;

use crate::matmul::{MatRef, MatmulBackend, PackedB, matmul_reusing, matmul_with, pack_for_reuse};
use crate::ops::{check_target, fused_op, logprob_entropy_grad, row_stats};

/// Rows whose logits are held at once (64 × 49,152 × 4 bytes = 12.6 MB for SmolLM2).
pub(crate) const CHUNK_ROWS: usize = 64;

/// Whether [`token_terms`] handles `hidden` (CPU f32).
pub(crate) fn supported(hidden: &Tensor) -> bool {
    hidden.device().is_cpu() && hidden.dtype() == DType::F32
}

/// `[N, 2]`: the log-prob of `targets[i]` (u32, `[N]`) and the entropy of the distribution
/// `softmax(scale · hidden[i] Wᵀ)`, for `hidden` `[N, H]` and `weight` `[V, H]`.
/// Differentiable in `hidden` and `weight`.
pub(crate) fn token_terms(
    hidden: &Tensor,
    weight: &Tensor,
    targets: &Tensor,
    scale: f64,
    backend: MatmulBackend,
) -> Result<Tensor> {
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    Ok(hidden.contiguous()?.apply_op3(
        &weight.contiguous()?,
        &targets,
        Head {
            scale,
            backend,
            packed_wt: OnceLock::new(),
        },
    )?)
}

struct Head {
    scale: f64,
    backend: MatmulBackend,
    /// `Wᵀ` packed once for every chunk's logits, in the forward pass and again in the backward
    /// pass (the weight does not change between them), where the backend packs (see
    /// [`pack_for_reuse`]).
    packed_wt: OnceLock<Option<PackedB>>,
}

/// `(N, H, V)` after checking the operands.
fn dims(h: &Layout, w: &Layout, t: &Layout) -> candle_core::Result<(usize, usize, usize)> {
    let (&[n, hd], &[v, hd2], &[nt]) = (h.dims(), w.dims(), t.dims()) else {
        candle_core::bail!(
            "fused-head: hidden {:?}, weight {:?}, targets {:?} must be [N, H], [V, H], [N]",
            h.dims(),
            w.dims(),
            t.dims()
        );
    };
    if hd != hd2 || n != nt {
        candle_core::bail!(
            "fused-head: hidden {:?}, weight {:?} and targets {:?} do not fit",
            h.dims(),
            w.dims(),
            t.dims()
        );
    }
    Ok((n, hd, v))
}

fn contiguous<'a, T: candle_core::WithDType>(
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<&'a [T]> {
    let (start, end) = l
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("fused-head: operands must be contiguous".into()))?;
    Ok(&s.as_slice::<T>()?[start..end])
}

impl Head {
    /// `scale · h[rows] Wᵀ` into `z` (`rows.len() × V`).
    fn logits(
        &self,
        h: &[f32],
        w: &[f32],
        hd: usize,
        v: usize,
        rows: std::ops::Range<usize>,
        z: &mut [f32],
    ) {
        let n = rows.len();
        let a = MatRef::new(&h[rows.start * hd..rows.end * hd], n, hd);
        let wt = MatRef::new(w, v, hd).t();
        let packed = self
            .packed_wt
            .get_or_init(|| pack_for_reuse(self.backend, wt));
        matmul_reusing(self.backend, a, wt, packed.as_ref(), z, v, false);
        let scale = self.scale as f32;
        if scale != 1.0 {
            z.par_iter_mut().for_each(|x| *x *= scale);
        }
    }
}

fused_op! {
    CustomOp3 for Head, "fused-head-logprob",
    fwd(self, s1 l1, s2 l2, s3 l3) {
        let (n, hd, v) = dims(l1, l2, l3)?;
        if s1.dtype() != DType::F32 || s2.dtype() != DType::F32 {
            candle_core::bail!("fused-head: f32 only, got {:?}", s1.dtype());
        }
        let (h, w) = (contiguous::<f32>(s1, l1)?, contiguous::<f32>(s2, l2)?);
        let targets = contiguous::<u32>(s3, l3)?;
        for &t in targets {
            check_target(t, v)?;
        }
        let mut out = vec![0f32; n * 2];
        let mut z = vec![0f32; CHUNK_ROWS.min(n) * v];
        for start in (0..n).step_by(CHUNK_ROWS) {
            let rows = start..(start + CHUNK_ROWS).min(n);
            let z = &mut z[..rows.len() * v];
            self.logits(h, w, hd, v, rows.clone(), z);
            out[rows.start * 2..rows.end * 2]
                .par_chunks_mut(2)
                .zip(z.par_chunks(v))
                .zip(&targets[rows])
                .for_each(|((o, z), &target)| {
                    let (max, ln_sum, mean_shifted) = row_stats(z);
                    o[0] = ((z[target as usize] - max) as f64 - ln_sum) as f32;
                    o[1] = (ln_sum - mean_shifted) as f32;
                });
        }
        Ok((CpuStorage::F32(out), Shape::from((n, 2))))
    }
    bwd(self, hidden, weight, targets, _res, grad) -> (Option<Tensor>, Option<Tensor>, Option<Tensor>) {
        let grad = grad.contiguous()?;
        let (dh, dw) = self.gradients(hidden, weight, targets, &grad)?;
        Ok((Some(dh), Some(dw), None))
    }
}

impl Head {
    /// `(dH, dW)` for the upstream gradient `grad` `[N, 2]`, read straight from the operands'
    /// storage (no copies of the weight).
    fn gradients(
        &self,
        hidden: &Tensor,
        weight: &Tensor,
        targets: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let (n, hd) = hidden.dims2()?;
        let v = weight.dim(0)?;
        let (hs, hl) = hidden.storage_and_layout();
        let (ws, wl) = weight.storage_and_layout();
        let (ts, tl) = targets.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let (
            candle_core::Storage::Cpu(hs),
            candle_core::Storage::Cpu(ws),
            candle_core::Storage::Cpu(ts),
            candle_core::Storage::Cpu(gs),
        ) = (&*hs, &*ws, &*ts, &*gs)
        else {
            candle_core::bail!("fused-head: CPU tensors only");
        };
        let (h, w) = (contiguous::<f32>(hs, hl)?, contiguous::<f32>(ws, wl)?);
        let (targets, g) = (contiguous::<u32>(ts, tl)?, contiguous::<f32>(gs, gl)?);
        let scale = self.scale as f32;
        let mut dh = vec![0f32; n * hd];
        let mut dw = vec![0f32; v * hd];
        let mut dz = vec![0f32; CHUNK_ROWS.min(n) * v];
        let w_view = MatRef::new(w, v, hd);
        let packed_w = pack_for_reuse(self.backend, w_view);
        let mut touched = false;
        for start in (0..n).step_by(CHUNK_ROWS) {
            let rows = start..(start + CHUNK_ROWS).min(n);
            if g[rows.start * 2..rows.end * 2].iter().all(|&x| x == 0.0) {
                continue;
            }
            let dz = &mut dz[..rows.len() * v];
            self.logits(h, w, hd, v, rows.clone(), dz);
            dz.par_chunks_mut(v).zip(rows.clone()).for_each(|(row, i)| {
                let z = row.to_vec();
                logprob_entropy_grad(&z, targets[i] as usize, g[2 * i], g[2 * i + 1], row);
                if scale != 1.0 {
                    row.iter_mut().for_each(|x| *x *= scale);
                }
            });
            let dz = MatRef::new(dz, rows.len(), v);
            let hc = MatRef::new(&h[rows.start * hd..rows.end * hd], rows.len(), hd);
            matmul_reusing(
                self.backend,
                dz,
                w_view,
                packed_w.as_ref(),
                &mut dh[rows.start * hd..rows.end * hd],
                hd,
                false,
            );
            matmul_with(self.backend, dz.t(), hc, &mut dw, hd, touched);
            touched = true;
        }
        let device = hidden.device();
        Ok((
            Tensor::from_vec(dh, (n, hd), device)?,
            Tensor::from_vec(dw, (v, hd), device)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{D, Device, Var};

    use super::*;
    use crate::test_util::{max_diff, values};

    /// Chunked head vs full logits → log-softmax (candle ops), values and both gradients, over
    /// row counts below, at and above a chunk, with a temperature.
    #[test]
    fn matches_full_logits_and_their_gradients() {
        let (hd, v) = (24, 301);
        for n in [1, 63, 64, 65, 150] {
            let h = Var::from_vec(values(n * hd, 1), (n, hd), &Device::Cpu).unwrap();
            let w = Var::from_vec(values(v * hd, 2), (v, hd), &Device::Cpu).unwrap();
            let targets: Vec<u32> = (0..n as u32).map(|i| (i * 37) % v as u32).collect();
            let targets = Tensor::new(targets.as_slice(), &Device::Cpu).unwrap();
            let g = Tensor::from_vec(values(n * 2, 3), (n, 2), &Device::Cpu).unwrap();
            let scale = 1.0 / 0.7;
            let ours = token_terms(
                h.as_tensor(),
                w.as_tensor(),
                &targets,
                scale,
                MatmulBackend::F32,
            )
            .unwrap();
            let logits =
                (h.as_tensor().matmul(&w.as_tensor().t().unwrap()).unwrap() * scale).unwrap();
            let log_p = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
            let lp = log_p.gather(&targets.unsqueeze(1).unwrap(), 1).unwrap();
            let ent = (log_p.exp().unwrap() * &log_p)
                .unwrap()
                .sum_keepdim(1)
                .unwrap()
                .neg()
                .unwrap();
            let theirs = Tensor::cat(&[lp, ent], 1).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-4, "n {n}");
            let ga = (ours * &g).unwrap().sum_all().unwrap().backward().unwrap();
            let gb = (theirs * &g)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for var in [&h, &w] {
                let d = max_diff(
                    ga.get(var.as_tensor()).unwrap(),
                    gb.get(var.as_tensor()).unwrap(),
                );
                assert!(d < 1e-4, "n {n}: gradient differs by {d}");
            }
        }
    }

    #[test]
    fn bad_targets_and_shapes_are_errors() {
        let h = Tensor::zeros((3, 4), DType::F32, &Device::Cpu).unwrap();
        let w = Tensor::zeros((5, 4), DType::F32, &Device::Cpu).unwrap();
        let out_of_vocab = Tensor::new(&[0u32, 5, 1], &Device::Cpu).unwrap();
        assert!(token_terms(&h, &w, &out_of_vocab, 1.0, MatmulBackend::F32).is_err());
        let short = Tensor::new(&[0u32, 1], &Device::Cpu).unwrap();
        assert!(token_terms(&h, &w, &short, 1.0, MatmulBackend::F32).is_err());
    }
}
