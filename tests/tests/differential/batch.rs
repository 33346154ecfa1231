//! Running batches of sequences and turning the results into findings: a batch
//! whose runs all finish is compared sequence by sequence; a batch where a runner
//! fails (crash, signal, hang, short output) is bisected down to the sequences that
//! fail alone. Disagreeing sequences are shrunk to fewer instructions.

use crate::gen::Sequence;
use crate::harness::{self, RUNNERS};
use crate::image::{Dump, Image};
use crate::report::{self, Coverage, FieldDiff, Finding, Problem};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

/// Sequences per test program.
pub const BATCH: usize = 1000;
/// Findings after which failing batches are no longer bisected (nor disagreements shrunk).
const MAX_EXPLAINED: usize = 40;
/// Disagreements shrunk at most (each shrink runs the three runners a few times).
const MAX_SHRUNK: usize = 10;

/// Runs batches and collects findings and coverage.
pub struct Tester {
    dir: PathBuf,
    programs: usize,
    pub findings: Vec<Finding>,
    /// Sequences in failing batches left unexplained once [`MAX_EXPLAINED`] was reached.
    pub unexplained: usize,
    shrunk: usize,
    pub coverage: Coverage,
}

impl Tester {
    /// A tester writing its programs under `dir` (created, and removed on drop).
    pub fn new(dir: PathBuf) -> Tester {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Tester { dir, programs: 0, findings: Vec::new(), unexplained: 0, shrunk: 0, coverage: Coverage::default() }
    }

    /// Build the program for `seqs` and run it everywhere: the image, and per runner
    /// the dumps or what went wrong.
    fn execute(&mut self, seqs: &[&Sequence]) -> (Image, Vec<Result<Vec<u8>, String>>) {
        let image = Image::build(seqs);
        let path = self.dir.join(format!("program-{}.elf", self.programs));
        self.programs += 1;
        // Executable: qemu refuses to load a file without execute permission.
        let written = std::fs::write(&path, &image.elf)
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)));
        written.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let timeout = Duration::from_secs(30) + Duration::from_millis(20 * seqs.len() as u64);
        let results = harness::run_all(&path, timeout);
        let _ = std::fs::remove_file(&path);
        (image, results)
    }

    /// Run `seqs`, record coverage for the compared ones and findings for the rest.
    pub fn run(&mut self, seqs: &[&Sequence]) {
        let (image, results) = self.execute(seqs);
        let parsed: Vec<Result<Vec<Dump>, String>> = results
            .iter()
            .map(|r| match r {
                Ok(out) => image.parse(out).ok_or_else(|| format!("wrote {} bytes, not the whole dump", out.len())),
                Err(e) => Err(e.clone()),
            })
            .collect();
        if parsed.iter().all(Result::is_ok) {
            let dumps: Vec<&Vec<Dump>> = parsed.iter().map(|p| p.as_ref().unwrap()).collect();
            for (i, seq) in seqs.iter().enumerate() {
                self.coverage.add(seq);
                let diffs = report::compare(&dumps.iter().map(|d| &d[i]).collect::<Vec<_>>());
                if !diffs.is_empty() {
                    let minimal = self.shrink(seq);
                    let problem = Problem::Disagreement { diffs, minimal };
                    self.findings.push(Finding { seq: (*seq).clone(), scratch: image.scratch_address(i), problem });
                }
            }
        } else if seqs.len() == 1 {
            let errors = RUNNERS.iter().zip(parsed).filter_map(|(&r, p)| p.err().map(|e| (r, e))).collect();
            let problem = Problem::RunFailure(errors);
            self.findings.push(Finding { seq: seqs[0].clone(), scratch: image.scratch_address(0), problem });
        } else if self.findings.len() >= MAX_EXPLAINED {
            self.unexplained += seqs.len();
        } else {
            let (a, b) = seqs.split_at(seqs.len() / 2);
            self.run(a);
            self.run(b);
        }
    }

    /// Check the harness itself: `seq` (no instructions) must come back from every
    /// runner exactly as it went in (TPIDR_EL0 is not dumped).
    pub fn round_trip(&mut self, seq: &Sequence) -> Result<(), String> {
        let (image, results) = self.execute(&[seq]);
        let mut expected = seq.initial_regs(image.scratch_address(0));
        expected.tpidr = 0;
        for (runner, result) in RUNNERS.iter().zip(results) {
            let fail = |why: String| format!("{}: {why}", runner.name());
            let output = result.map_err(fail)?;
            let dump = image.parse(&output).and_then(|mut d| d.pop()).ok_or_else(|| fail("short output".into()))?;
            let wrong: Vec<String> = (expected.fields().into_iter().zip(dump.regs.fields()))
                .filter(|(e, d)| e != d)
                .map(|(e, d)| format!("{} is {} instead of {}", e.0, d.1, e.1))
                .collect();
            if !wrong.is_empty() || dump.memory != seq.memory {
                return Err(fail(format!(
                    "state not preserved: {wrong:?}, memory equal: {}",
                    dump.memory == seq.memory
                )));
            }
        }
        Ok(())
    }

    /// Whether `seq` run alone completes everywhere and disagrees: the differences.
    fn disagreement(&mut self, seq: &Sequence) -> Option<Vec<FieldDiff>> {
        let (image, results) = self.execute(&[seq]);
        let outputs: Vec<Vec<u8>> = results.into_iter().collect::<Result<_, _>>().ok()?;
        let dumps: Vec<Dump> = outputs.iter().map(|o| image.parse(o)?.pop()).collect::<Option<_>>()?;
        let diffs = report::compare(&dumps.iter().collect::<Vec<_>>());
        (!diffs.is_empty()).then_some(diffs)
    }

    /// Drop instructions from a disagreeing sequence while it still disagrees: the
    /// remaining words and their differences, if any instruction could be dropped.
    fn shrink(&mut self, seq: &Sequence) -> Option<(Vec<u32>, Vec<FieldDiff>)> {
        if seq.insns.len() < 2 || self.shrunk >= MAX_SHRUNK || self.findings.len() >= MAX_EXPLAINED {
            return None;
        }
        self.shrunk += 1;
        let mut current = seq.clone();
        let mut found = None;
        for i in (0..seq.insns.len()).rev() {
            if current.insns.len() == 1 {
                break;
            }
            let mut candidate = current.clone();
            candidate.insns.remove(i);
            if let Some(diffs) = self.disagreement(&candidate) {
                current = candidate;
                found = Some(diffs);
            }
        }
        found.map(|diffs| (current.insns.iter().map(|i| i.word).collect(), diffs))
    }
}

impl Drop for Tester {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
