//! The fixture manifest (fixtures/list.txt): which guest programs exist, their
//! arguments and environment, and how each must end. The format is documented at the
//! top of that file.

use crate::{workspace, Ending};
use std::path::PathBuf;

/// One guest test program.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub expect: Ending,
    /// Arguments after argv[0]; the word `{tmpdir}` stands for a fresh directory.
    pub args: Vec<Vec<u8>>,
    pub env: Vec<(Vec<u8>, Vec<u8>)>,
    /// False (`no-qemu` flag) where qemu-user gets the program wrong: the expected
    /// output then follows the real kernel, and only the qemu comparison is skipped.
    pub qemu: bool,
}

impl Fixture {
    pub fn binary(&self) -> PathBuf {
        workspace().join("fixtures/bin").join(&self.name)
    }

    pub fn expected_stdout(&self) -> Vec<u8> {
        let path = workspace().join("fixtures/expected").join(format!("{}.out", self.name));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// Signal numbers by name, for `signal NAME` lines.
const SIGNALS: &[(&str, i32)] =
    &[("SIGILL", 4), ("SIGTRAP", 5), ("SIGABRT", 6), ("SIGBUS", 7), ("SIGFPE", 8), ("SIGSEGV", 11)];

/// `%XX` decoding of a manifest word.
fn decode(word: &str) -> Vec<u8> {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape in {word}")));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn parse_expect(field: &str) -> Ending {
    let mut words = field.split_whitespace();
    match (words.next(), words.next()) {
        (Some("exit"), Some(n)) => Ending::Exited(n.parse().expect("exit status")),
        (Some("signal"), Some(name)) => Ending::Signaled(
            SIGNALS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown signal {name}")).1,
        ),
        _ => panic!("bad EXPECT field '{field}'"),
    }
}

/// The FLAGS words the manifest may use (`exec-aarch64` matters to fixtures/check.sh
/// only: the runners here give qemu a binfmt_misc entry).
const FLAGS: [&str; 2] = ["no-qemu", "exec-aarch64"];

/// Every fixture in the manifest.
pub fn load() -> Vec<Fixture> {
    let path = workspace().join("fixtures/list.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(matches!(fields.len(), 4 | 5), "manifest line needs 4 or 5 fields: {line}");
            let flags: Vec<&str> = fields.get(4).map_or(Vec::new(), |f| f.split_whitespace().collect());
            assert!(flags.iter().all(|f| FLAGS.contains(f)), "unknown FLAGS in {line}");
            Fixture {
                name: fields[0].to_string(),
                expect: parse_expect(fields[1]),
                args: fields[2].split_whitespace().map(decode).collect(),
                env: fields[3]
                    .split_whitespace()
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("bad ENV word {kv}"));
                        (decode(k), decode(v))
                    })
                    .collect(),
                qemu: !flags.contains(&"no-qemu"),
            }
        })
        .collect()
}
