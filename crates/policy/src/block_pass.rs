//! One decoder block's forward and backward pass on plain f32 buffers, for the training pass
//! ([`crate::train_pass`]) on CPU.
//!
//! Through candle's autograd a block is some forty graph nodes, each with its own output buffer,
//! its own thread dispatch and, in the backward pass, its own gradient buffers and additions. Here
//! a block is a fixed sequence of kernels over slices: RMSNorm, the q/k/v, output and MLP products
//! on the [`crate::matmul`] backend (bf16 AMX or f32), RoPE fused into the copy to and from the
//! `[B, heads, T, D]` layout of [`crate::flash`]'s attention, SwiGLU, and the residual adds. The
//! forward pass keeps what the backward pass reads ([`Saved`]); the backward pass writes the
//! gradient of every parameter of the block and returns the gradient of its input.
//!
//! The kernels are the ones the candle ops of the graph path run ([`crate::ops::rms_norm_rows`],
//! [`crate::swiglu`], [`crate::flash`]), so the two paths agree up to the order of float sums.

use std::ops::Deref;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Layout, Storage, Tensor};
use rayon::prelude::*;

use crate::flash::{Dims, attention_backward, attention_forward};
use crate::matmul::{MatRef, MatmulBackend, matmul_with};
use crate::model::{Block, Linear};
use crate::ops::{rms_norm_rows, rms_norm_rows_backward};
use crate::swiglu::{swiglu_backward, swiglu_forward};
use crate::{ModelConfig, PolicyError, Result};

/// Rows per rayon task of the row-wise copies.
const ROWS_PER_TASK: usize = 16;

/// The sizes of a pass: `batch` sequences of `len` positions, and the model's dimensions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PassShape {
    batch: usize,
    len: usize,
    hidden: usize,
    q_heads: usize,
    kv_heads: usize,
    head_dim: usize,
    eps: f64,
    scale: f64,
}

impl PassShape {
    /// The shape of a `[batch, len]` pass of a model with `config`.
    pub(crate) fn new(config: &ModelConfig, batch: usize, len: usize) -> Self {
        Self {
            batch,
            len,
            hidden: config.hidden_size,
            q_heads: config.num_attention_heads,
            kv_heads: config.kv_heads(),
            head_dim: config.head_dim(),
            eps: config.rms_norm_eps,
            scale: 1.0 / (config.head_dim() as f64).sqrt(),
        }
    }

    fn rows(&self) -> usize {
        self.batch * self.len
    }

    fn attention(&self) -> Dims {
        Dims::self_attention(
            self.batch,
            self.q_heads,
            self.kv_heads,
            self.len,
            self.head_dim,
        )
    }
}

/// The RoPE angles of positions `0..len`: `[len, head_dim / 2]` each.
pub(crate) struct Angles {
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl Angles {
    /// The first `len` rows of the model's cos/sin tables.
    pub(crate) fn new(cos: &Tensor, sin: &Tensor, len: usize) -> Result<Self> {
        let values = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(t.narrow(0, 0, len)?.flatten_all()?.to_vec1::<f32>()?)
        };
        Ok(Self {
            cos: values(cos)?,
            sin: values(sin)?,
        })
    }
}

/// What the backward pass of a block reads from its forward pass (besides the block input).
pub(crate) struct Saved {
    /// The attention input, `RMSNorm(x)` (rows).
    h1: Vec<f32>,
    /// q, k (after RoPE) and v, `[B, heads, T, D]`.
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// The attention output, `[B, Hq, T, D]`, and its row log-sum-exp.
    o: Vec<f32>,
    lse: Vec<f32>,
    /// The attention output as rows (the output projection's input).
    att: Vec<f32>,
    /// The residual stream after attention, and the MLP input `RMSNorm(x2)`.
    x2: Vec<f32>,
    h2: Vec<f32>,
    /// The MLP's gate and up projections and `silu(gate) · up`.
    gate: Vec<f32>,
    up: Vec<f32>,
    act: Vec<f32>,
}

/// A CPU f32 tensor's storage, held for reading.
struct Held<'t> {
    storage: Box<dyn Deref<Target = Storage> + 't>,
    layout: &'t Layout,
}

impl<'t> Held<'t> {
    fn new(t: &'t Tensor) -> Self {
        let (storage, layout) = t.storage_and_layout();
        Self {
            storage: Box::new(storage),
            layout,
        }
    }

    fn values(&self) -> Result<&[f32]> {
        let Storage::Cpu(CpuStorage::F32(data)) = &**self.storage else {
            return Err(PolicyError::Config(
                "the fused block pass needs CPU f32 weights".into(),
            ));
        };
        let (start, end) = self.layout.contiguous_offsets().ok_or_else(|| {
            PolicyError::Config("the fused block pass needs contiguous weights".into())
        })?;
        Ok(&data[start..end])
    }
}

/// A linear layer's storage, held for reading.
struct HeldLinear<'t> {
    weight: Held<'t>,
    bias: Option<Held<'t>>,
    out: usize,
    inp: usize,
}

impl<'t> HeldLinear<'t> {
    fn new(linear: &'t Linear) -> Result<Self> {
        let (out, inp) = linear.weight.dims2()?;
        Ok(Self {
            weight: Held::new(&linear.weight),
            bias: linear.bias.as_ref().map(Held::new),
            out,
            inp,
        })
    }

    fn view(&self) -> Result<Lin<'_>> {
        Ok(Lin {
            w: self.weight.values()?,
            b: self.bias.as_ref().map(Held::values).transpose()?,
            out: self.out,
            inp: self.inp,
        })
    }
}

/// A linear layer `y = x Wᵀ + b` over slices: `w` is `[out, inp]`.
#[derive(Clone, Copy)]
struct Lin<'a> {
    w: &'a [f32],
    b: Option<&'a [f32]>,
    out: usize,
    inp: usize,
}

impl Lin<'_> {
    fn forward(&self, x: &[f32], rows: usize, backend: MatmulBackend) -> Vec<f32> {
        let mut y = vec![0f32; rows * self.out];
        let w = MatRef::new(self.w, self.out, self.inp);
        matmul_with(
            backend,
            MatRef::new(x, rows, self.inp),
            w.t(),
            &mut y,
            self.out,
            false,
        );
        if let Some(b) = self.b {
            y.par_chunks_mut(self.out * ROWS_PER_TASK).for_each(|rows| {
                for row in rows.chunks_exact_mut(self.out) {
                    row.iter_mut().zip(b).for_each(|(y, b)| *y += b);
                }
            });
        }
        y
    }

    /// `dx (+)= dy W`.
    fn input_grad(
        &self,
        dy: &[f32],
        rows: usize,
        dx: &mut [f32],
        accumulate: bool,
        m: MatmulBackend,
    ) {
        let w = MatRef::new(self.w, self.out, self.inp);
        matmul_with(
            m,
            MatRef::new(dy, rows, self.out),
            w,
            dx,
            self.inp,
            accumulate,
        );
    }

    /// `(dW, db)`: `dyᵀ x` and the column sums of `dy` (when the layer has a bias).
    fn param_grads(
        &self,
        dy: &[f32],
        x: &[f32],
        rows: usize,
        m: MatmulBackend,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        let mut dw = vec![0f32; self.out * self.inp];
        let dyt = MatRef::new(dy, rows, self.out).t();
        matmul_with(
            m,
            dyt,
            MatRef::new(x, rows, self.inp),
            &mut dw,
            self.inp,
            false,
        );
        let db = self.b.map(|_| {
            let mut sum = vec![0f64; self.out];
            for row in dy.chunks_exact(self.out) {
                sum.iter_mut()
                    .zip(row)
                    .for_each(|(s, &g)| *s += f64::from(g));
            }
            sum.into_iter().map(|s| s as f32).collect()
        });
        (dw, db)
    }
}

/// A block's storage, held for reading during its forward or backward pass.
struct HeldBlock<'t> {
    input_norm: Held<'t>,
    post_norm: Held<'t>,
    linears: [HeldLinear<'t>; 7],
}

/// A block's weights as slices: q, k, v, o, gate, up, down.
struct Weights<'a> {
    input_norm: &'a [f32],
    post_norm: &'a [f32],
    q: Lin<'a>,
    k: Lin<'a>,
    v: Lin<'a>,
    o: Lin<'a>,
    gate: Lin<'a>,
    up: Lin<'a>,
    down: Lin<'a>,
}

impl<'t> HeldBlock<'t> {
    fn new(block: &'t Block) -> Result<Self> {
        Ok(Self {
            input_norm: Held::new(&block.input_norm),
            post_norm: Held::new(&block.post_norm),
            linears: [
                HeldLinear::new(&block.q)?,
                HeldLinear::new(&block.k)?,
                HeldLinear::new(&block.v)?,
                HeldLinear::new(&block.o)?,
                HeldLinear::new(&block.gate)?,
                HeldLinear::new(&block.up)?,
                HeldLinear::new(&block.down)?,
            ],
        })
    }

    fn weights(&self) -> Result<Weights<'_>> {
        let [q, k, v, o, gate, up, down] = &self.linears;
        Ok(Weights {
            input_norm: self.input_norm.values()?,
            post_norm: self.post_norm.values()?,
            q: q.view()?,
            k: k.view()?,
            v: v.view()?,
            o: o.view()?,
            gate: gate.view()?,
            up: up.view()?,
            down: down.view()?,
        })
    }
}

/// How rows move between the `[B·T, heads·D]` row layout and attention's `[B, heads, T, D]`, with
/// RoPE applied on the way (`sign` +1: rotate by the position's angle; −1: rotate back).
struct Heads<'a> {
    shape: PassShape,
    heads: usize,
    rope: Option<(&'a Angles, f32)>,
}

impl Heads<'_> {
    /// Rotates `v` (one head vector) in place.
    fn rotate(&self, v: &mut [f32], pos: usize) {
        let Some((angles, sign)) = self.rope else {
            return;
        };
        let half = v.len() / 2;
        let cos = &angles.cos[pos * half..(pos + 1) * half];
        let sin = &angles.sin[pos * half..(pos + 1) * half];
        let (x1, x2) = v.split_at_mut(half);
        for j in 0..half {
            let (a, b, s) = (x1[j], x2[j], sign * sin[j]);
            x1[j] = a * cos[j] - b * s;
            x2[j] = b * cos[j] + a * s;
        }
    }

    /// `[B, heads, T, D]` from columns `col0..col0 + heads·D` of the rows of `x` (`width` wide).
    fn gather(&self, x: &[f32], width: usize, col0: usize) -> Vec<f32> {
        let PassShape {
            len, head_dim: d, ..
        } = self.shape;
        let mut out = vec![0f32; self.shape.rows() * self.heads * d];
        out.par_chunks_mut(len * d)
            .enumerate()
            .for_each(|(bh, head)| {
                let (bi, h) = (bh / self.heads, bh % self.heads);
                for (pos, v) in head.chunks_exact_mut(d).enumerate() {
                    let at = (bi * len + pos) * width + col0 + h * d;
                    v.copy_from_slice(&x[at..at + d]);
                    self.rotate(v, pos);
                }
            });
        out
    }

    /// The rows `[B·T, heads·D]` of `x` (`[B, heads, T, D]`).
    fn scatter(&self, x: &[f32]) -> Vec<f32> {
        let PassShape {
            len, head_dim: d, ..
        } = self.shape;
        let width = self.heads * d;
        let mut out = vec![0f32; self.shape.rows() * width];
        out.par_chunks_mut(width)
            .enumerate()
            .for_each(|(row, out)| {
                let (bi, pos) = (row / len, row % len);
                for (h, v) in out.chunks_exact_mut(d).enumerate() {
                    let at = ((bi * self.heads + h) * len + pos) * d;
                    v.copy_from_slice(&x[at..at + d]);
                    self.rotate(v, pos);
                }
            });
        out
    }
}

/// `a + b`, elementwise.
fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = a.to_vec();
    add_into(&mut out, b);
    out
}

/// `a += b`, elementwise (also the rollout engine's residual add).
pub(crate) fn add_into(a: &mut [f32], b: &[f32]) {
    a.par_chunks_mut(4096)
        .zip(b.par_chunks(4096))
        .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b));
}

/// One block of the training pass: its forward and backward on plain buffers.
pub(crate) struct BlockPass<'a> {
    /// The block (its tensors are the model's variables).
    pub(crate) block: &'a Block,
    /// The sizes of the pass.
    pub(crate) shape: PassShape,
    /// RoPE angles of the positions.
    pub(crate) angles: &'a Angles,
    /// The matrix-product backend.
    pub(crate) backend: MatmulBackend,
}

impl<'a> BlockPass<'a> {
    fn heads(&self, heads: usize, sign: f32) -> Heads<'_> {
        Heads {
            shape: self.shape,
            heads,
            rope: Some((self.angles, sign)),
        }
    }

    fn plain_heads(&self, heads: usize) -> Heads<'_> {
        Heads {
            shape: self.shape,
            heads,
            rope: None,
        }
    }

    /// The block's output for the rows `x` (`[B·T, hidden]`), and what its backward pass reads.
    pub(crate) fn forward(&self, x: &[f32]) -> Result<(Vec<f32>, Saved)> {
        let held = HeldBlock::new(self.block)?;
        let w = held.weights()?;
        let s = self.shape;
        let (n, m) = (s.rows(), self.backend);
        let h1 = rms_norm_rows(x, w.input_norm, s.eps);
        let q = self
            .heads(s.q_heads, 1.0)
            .gather(&w.q.forward(&h1, n, m), w.q.out, 0);
        let k = self
            .heads(s.kv_heads, 1.0)
            .gather(&w.k.forward(&h1, n, m), w.k.out, 0);
        let v = self
            .plain_heads(s.kv_heads)
            .gather(&w.v.forward(&h1, n, m), w.v.out, 0);
        let (o, lse) = attention_forward(&q, &k, &v, s.attention(), s.scale, m);
        let att = self.plain_heads(s.q_heads).scatter(&o);
        let x2 = add(x, &w.o.forward(&att, n, m));
        let h2 = rms_norm_rows(&x2, w.post_norm, s.eps);
        let gate = w.gate.forward(&h2, n, m);
        let up = w.up.forward(&h2, n, m);
        let act = swiglu_forward(&gate, &up);
        let y = add(&x2, &w.down.forward(&act, n, m));
        let saved = Saved {
            h1,
            q,
            k,
            v,
            o,
            lse,
            att,
            x2,
            h2,
            gate,
            up,
            act,
        };
        Ok((y, saved))
    }

    /// The gradient of the block's input `x` for the gradient `dy` of its output; the gradients
    /// of the block's parameters go into `store` (keyed by the block's variables).
    pub(crate) fn backward(
        &self,
        x: &[f32],
        saved: Saved,
        dy: &[f32],
        store: &mut GradStore,
    ) -> Result<Vec<f32>> {
        let held = HeldBlock::new(self.block)?;
        let w = held.weights()?;
        let s = self.shape;
        let (n, m) = (s.rows(), self.backend);
        let mut grads: Vec<(&Tensor, Vec<f32>)> = Vec::with_capacity(16);
        let block = self.block;
        let mut param_grads = |linear: &'a Linear, lin: Lin<'_>, dy: &[f32], x: &[f32]| {
            let (dw, db) = lin.param_grads(dy, x, n, m);
            grads.push((&linear.weight, dw));
            if let (Some(bias), Some(db)) = (&linear.bias, db) {
                grads.push((bias, db));
            }
        };

        // MLP: y = x2 + down(silu(gate) · up), gate/up = (h2 W)ᵀ, h2 = RMSNorm(x2).
        let mut d_act = vec![0f32; n * w.down.inp];
        w.down.input_grad(dy, n, &mut d_act, false, m);
        param_grads(&block.down, w.down, dy, &saved.act);
        drop(saved.act);
        let (d_gate, d_up) = swiglu_backward(&saved.gate, &saved.up, &d_act);
        drop(d_act);
        let mut dh2 = vec![0f32; n * s.hidden];
        w.gate.input_grad(&d_gate, n, &mut dh2, false, m);
        w.up.input_grad(&d_up, n, &mut dh2, true, m);
        param_grads(&block.gate, w.gate, &d_gate, &saved.h2);
        param_grads(&block.up, w.up, &d_up, &saved.h2);
        drop((d_gate, d_up));
        let (mut dx2, d_post_norm) = rms_norm_rows_backward(&saved.x2, w.post_norm, &dh2, s.eps);
        add_into(&mut dx2, dy);

        // Attention: x2 = x + o(attention(rope(q), rope(k), v)), q/k/v from h1 = RMSNorm(x).
        let mut d_att = vec![0f32; n * w.o.inp];
        w.o.input_grad(&dx2, n, &mut d_att, false, m);
        param_grads(&block.o, w.o, &dx2, &saved.att);
        let d_o = self.plain_heads(s.q_heads).gather(&d_att, w.o.inp, 0);
        drop(d_att);
        let (dq, dk, dv) = attention_backward(
            &saved.q,
            &saved.k,
            &saved.v,
            &saved.o,
            &d_o,
            &saved.lse,
            s.attention(),
            s.scale,
            m,
        );
        let dq = self.heads(s.q_heads, -1.0).scatter(&dq);
        let dk = self.heads(s.kv_heads, -1.0).scatter(&dk);
        let dv = self.plain_heads(s.kv_heads).scatter(&dv);
        let mut dh1 = vec![0f32; n * s.hidden];
        w.q.input_grad(&dq, n, &mut dh1, false, m);
        w.k.input_grad(&dk, n, &mut dh1, true, m);
        w.v.input_grad(&dv, n, &mut dh1, true, m);
        param_grads(&block.q, w.q, &dq, &saved.h1);
        param_grads(&block.k, w.k, &dk, &saved.h1);
        param_grads(&block.v, w.v, &dv, &saved.h1);
        let (mut dx, d_input_norm) = rms_norm_rows_backward(x, w.input_norm, &dh1, s.eps);
        add_into(&mut dx, &dx2);

        grads.push((&block.post_norm, d_post_norm));
        grads.push((&block.input_norm, d_input_norm));
        drop(held);
        for (param, grad) in grads {
            let grad = Tensor::from_vec(grad, param.shape(), param.device())?;
            store.insert(param, grad);
        }
        Ok(dx)
    }
}
