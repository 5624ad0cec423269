//! Reading tensors back in tests, shared by the unit tests and the integration-test binary
//! (`tests/tests.rs` includes this file).

use candle_core::{Tensor, WithDType};

/// Reading a tensor back in a test (panics on a candle error).
pub trait TensorValues {
    /// Every element, flattened.
    fn values<T: WithDType>(&self) -> Vec<T>;
    /// The one element of a scalar tensor.
    fn scalar<T: WithDType>(&self) -> T;
}

impl TensorValues for Tensor {
    fn values<T: WithDType>(&self) -> Vec<T> {
        self.flatten_all().unwrap().to_vec1::<T>().unwrap()
    }
    fn scalar<T: WithDType>(&self) -> T {
        self.to_scalar::<T>().unwrap()
    }
}
