//! The CPython behaviours only WebShop's reference depends on: Flask's `tojson` and the `random`
//! module (MT19937). The string and number semantics every env shares (`repr`, `strip`,
//! whitespace, `isalnum`) are [`crossgym_env_core::py`], re-exported here so that this crate's
//! modules find every Python behaviour under `py::`.

pub use crossgym_env_core::py::{float_repr, is_alnum, is_space, str_repr, strip, tuple_repr};

/// A JSON string literal as Python's `json.dumps` writes it with `ensure_ascii=True`.
pub fn json_str_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Flask 2.1's `tojson` of a `{str: str}` dict: `json.dumps(sort_keys=True)` with
/// `ensure_ascii`, then `<`, `>`, `&`, `'` as `\u003c`, `\u003e`, `\u0026`, `\u0027`.
pub fn flask_tojson(map: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = map.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}: {}", json_str_ascii(k), json_str_ascii(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027")
}

/// CPython's `random.Random`: MT19937 seeded like `random.seed(int)`, with the methods the
/// reference calls (`random`, `uniform`, `_randbelow`, `sample(pop, 2)`, `shuffle`).
#[derive(Clone, Debug)]
pub struct PyRandom {
    state: Box<[u32; 624]>,
    index: usize,
}

impl PyRandom {
    /// `random.seed(seed)` for a non-negative integer seed (`init_by_array` of its 32-bit words).
    pub fn new(seed: u64) -> Self {
        let mut key: Vec<u32> = Vec::new();
        let mut rest = seed;
        while rest > 0 {
            key.push(rest as u32);
            rest >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        let mut rng = Self {
            state: Box::new([0; 624]),
            index: 624,
        };
        rng.init_by_array(&key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..624 {
            let prev = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = 624;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..624.max(key.len()) {
            let prev = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= 624 {
                self.state[0] = self.state[623];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..623 {
            let prev = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                self.state[0] = self.state[623];
                i = 1;
            }
        }
        self.state[0] = 0x8000_0000;
    }

    /// `genrand_uint32()`.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for k in 0..624 {
                let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % 624] & 0x7fff_ffff);
                let mut value = self.state[(k + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    value ^= 0x9908_b0df;
                }
                self.state[k] = value;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random.random()`: 53-bit float in `[0, 1)`.
    pub fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.uniform(a, b)`: `a + (b - a) * random()`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }

    /// `getrandbits(k)` for `1 <= k <= 32`.
    fn getrandbits(&mut self, k: u32) -> u32 {
        self.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)` (rejection sampling on `getrandbits(n.bit_length())`), `n >= 1`.
    pub fn randbelow(&mut self, n: usize) -> usize {
        if n <= 1 {
            // CPython's getrandbits(0) draws nothing and returns 0 (3.8 returns 0 for n=1 too).
            return 0;
        }
        let k = usize::BITS - n.leading_zeros();
        if k > 32 {
            // Larger populations never occur in the reference's use; fall back to two words.
            let high = self.next_u32() as u64;
            let low = self.next_u32() as u64;
            return (((high << 32) | low) % n as u64) as usize;
        }
        loop {
            let r = self.getrandbits(k) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// `random.sample(population, 2)` for a small population (the pool method).
    pub fn sample2<T: Clone>(&mut self, population: &[T]) -> Option<(T, T)> {
        let n = population.len();
        if n < 2 {
            return None;
        }
        let mut pool = population.to_vec();
        let mut out = Vec::with_capacity(2);
        for i in 0..2 {
            let j = self.randbelow(n - i);
            out.push(pool[j].clone());
            pool[j] = pool[n - i - 1].clone();
        }
        let second = out.pop()?;
        let first = out.pop()?;
        Some((first, second))
    }

    /// `random.shuffle(x)` (Python 3.8).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.randbelow(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_cpython() {
        // random.seed(0); random.random() == 0.8444218515250481
        let mut rng = PyRandom::new(0);
        assert_eq!(rng.random(), 0.8444218515250481);
        // random.seed(42); [random.random() for _ in range(2)]
        let mut rng = PyRandom::new(42);
        assert_eq!(rng.random(), 0.6394267984578837);
        assert_eq!(rng.random(), 0.025010755222666936);
    }

    #[test]
    fn tojson_sorts_and_escapes() {
        let map = vec![
            ("size".to_owned(), "50 count".to_owned()),
            ("flavor name".to_owned(), "crème brûlée".to_owned()),
        ];
        assert_eq!(
            flask_tojson(&map),
            r#"{"flavor name": "cr\u00e8me br\u00fbl\u00e9e", "size": "50 count"}"#
        );
        assert_eq!(flask_tojson(&[]), "{}");
    }
}
