//! The shared harness: how a fuzz input is cut into parts, scratch files for loaders that read
//! paths, and the crates' own fixtures as seeds.

use std::path::{Path, PathBuf};

/// Separates the files of a multi-file input (a checkpoint's three files, a recipe folder).
///
/// Eight bytes that no seed contains, so a seed splits exactly into its files; the fuzzer keeps
/// the separator from the seeds and so learns to add and drop files.
pub const FILE_SEPARATOR: &[u8] = b"\x00\xffFUZZ\xfe\x00";

/// Separates replies in an env target's input: `0xFF` never occurs in UTF-8 text.
pub const REPLY_SEPARATOR: u8 = 0xFF;

/// The parts of `data` between [`FILE_SEPARATOR`]s (one part when there is none).
pub fn split_files(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, FILE_SEPARATOR) {
        parts.push(&rest[..at]);
        rest = &rest[at + FILE_SEPARATOR.len()..];
    }
    parts.push(rest);
    parts
}

/// Joins files with [`FILE_SEPARATOR`] (the inverse of [`split_files`]; for seeds).
pub fn join_files<B: AsRef<[u8]>>(files: &[B]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(FILE_SEPARATOR);
        }
        out.extend_from_slice(file.as_ref());
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A folder of scratch files for this process and `target` (under the temp dir, which
/// `cargo xtask fuzz` points into the run's output folder).
pub fn scratch_dir(target: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossgym-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

/// Writes `bytes` to `dir/name` and returns the path (for loaders whose entry point is a path).
pub fn scratch_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("the scratch dir is writable");
    path
}

/// The workspace root (the fixtures of every crate are read in place from there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/ sits in the workspace root")
        .to_path_buf()
}

/// Reads a file of the workspace (a crate's committed fixture or data) for a seed.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = workspace_root().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("seed file {}: {e}", path.display()))
}

/// The first `n` non-empty lines of a JSON Lines fixture, joined (a small seed from a big file).
pub fn fixture_lines(relative: &str, n: usize) -> Vec<u8> {
    let text = String::from_utf8(fixture(relative)).expect("fixtures are UTF-8");
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.truncate(n);
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

/// Reads a little-endian number from the front of an input, advancing it (missing bytes read 0).
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    /// What has not been read.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// The input as text, or `None` when it is not UTF-8 (every text loader reads files with
/// `read_to_string`, which rejects such bytes before any parsing).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_and_join_round_trip() {
        let files: [&[u8]; 3] = [b"a", b"", b"{\"x\": 1}"];
        let joined = join_files(&files);
        assert_eq!(split_files(&joined), files.to_vec());
        assert_eq!(split_files(b"plain"), vec![&b"plain"[..]]);
    }

    #[test]
    fn reader_reads_little_endian_then_zeros() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), 0x0201);
        assert_eq!(r.rest(), &[3]);
        assert_eq!(r.u16(), 3);
        assert_eq!(r.u8(), 0);
    }
}
