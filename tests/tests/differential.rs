//! The differential instruction tester: random A64 instruction sequences, per
//! encoding class, run under qemu-aarch64-static (the oracle), archway's interpreter
//! engine and archway's JIT engine; the final general registers, SP, NZCV, FPCR,
//! FPSR, vector registers and scratch memory must agree.
//!
//! # Running
//!
//! `cargo test -p archway-tests --release --test differential` runs a fixed-seed smoke
//! run (1,000 sequences) and then a run with a fresh seed (printed first) of
//! `ARCHWAY_DIFF_COUNT` sequences (default 20,000). Environment:
//!
//! - `ARCHWAY_DIFF_SEED=0x...`: only this seed (sequence `i` of a run has seed
//!   `seed + i`; a finding prints its own seed);
//! - `ARCHWAY_DIFF_COUNT=n`: sequences per run;
//! - `ARCHWAY_DIFF_CLASS=name`: only this class (a decoder table name, or `mixed`).
//!
//! A finding prints the line that replays it, e.g.
//! `ARCHWAY_DIFF_SEED=0x... ARCHWAY_DIFF_COUNT=1 ARCHWAY_DIFF_CLASS=ldst cargo test ...`:
//! the same instructions, initial registers and memory (addresses, and so ADR/BL
//! results, may differ as the sequence sits elsewhere in a smaller program).
//!
//! # How
//!
//! - [`gen`]: the classes are the decoder tables (`archway_a64::decode::tables`, the
//!   `translate` module an entry comes from) plus `mixed`. A sequence is 1..=8 words,
//!   each from a random entry of its class with random operand bits, fixed up by
//!   [`rules`]; words archway's translator rejects (SIGILL) are drawn again. Initial
//!   state: random X0..X30 (edge values, small numbers), NZCV, V0..V31 (random bits
//!   or lanes of interesting FP values: zeros, NaNs, infinities, denormals...), FPCR
//!   (RMode, sometimes FZ/DN/AHP), FPSR, TPIDR_EL0, SP, and 4 KiB of scratch memory.
//! - [`rules`]: the constraint policy, keyed by architectural encoding, so new
//!   decoder entries need no change here unless they need a new constraint: loads and
//!   stores use a reserved base register into the sequence's scratch buffer with
//!   offsets kept in range; branches go forward within the sequence; exception
//!   generation and register branches are excluded; MRS/MSR/SYS are limited to
//!   registers and operations both sides agree on.
//! - [`image`] (with [`asm`], [`record`]): 1,000 sequences make one static aarch64 ELF
//!   that loads each sequence's state, runs it, dumps the state, and finally writes
//!   all dumps and scratch memory to stdout.
//! - [`harness`]: the ELF runs under `qemu-aarch64-static -cpu neoverse-n1` and, in a
//!   child process (this binary with `--run-engine`), under each archway engine with
//!   the ELF mapped at its link address and a two-call system call shim.
//! - [`batch`]: compares the three dumps per sequence; a batch where a runner crashes
//!   is bisected to the sequences that crash alone; disagreements are shrunk.
//! - [`report`]: findings (replay line, instructions with entry names and
//!   disassembly, initial state, differing fields per runner) and coverage per class.
//!
//! Known legitimate differences between qemu's CPU and archway's are avoided by the
//! rules (see [`rules::QEMU_ONLY_FP_BITS`], `MRS_READABLE`), never by ignoring
//! differing results.

#[path = "differential/asm.rs"]
mod asm;
#[path = "differential/batch.rs"]
mod batch;
#[path = "differential/gen.rs"]
mod gen;
#[path = "differential/harness.rs"]
mod harness;
#[path = "differential/image.rs"]
mod image;
#[path = "differential/record.rs"]
mod record;
#[path = "differential/report.rs"]
mod report;
#[path = "differential/rng.rs"]
mod rng;
#[path = "differential/rules.rs"]
mod rules;

use batch::{Tester, BATCH};
use gen::{Catalog, Sequence};
use report::Problem;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

/// The smoke run's seed and size.
const SMOKE_SEED: u64 = 0x5eed_0000_a64d_1ff0;
const SMOKE_COUNT: usize = 1000;
const DEFAULT_COUNT: usize = 20_000;
/// Findings printed in full (the rest get one line each).
const PRINTED_IN_FULL: usize = 12;

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text}: not a number")))
}

fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    rng::Rng::new(now.as_nanos() as u64 ^ (std::process::id() as u64) << 32).next_u64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(harness::RUN_ENGINE_FLAG) {
        harness::run_engine_child(&args[2], Path::new(&args[3]));
    }
    if args.iter().any(|a| a == "--list") {
        println!("differential: test");
        return;
    }
    if let Err(e) = harness::check_qemu() {
        eprintln!("differential: {e}");
        std::process::exit(1);
    }
    let count = env_number("ARCHWAY_DIFF_COUNT").map_or(DEFAULT_COUNT, |n| n as usize);
    let class = std::env::var("ARCHWAY_DIFF_CLASS").ok();
    let runs = match env_number("ARCHWAY_DIFF_SEED") {
        Some(seed) => vec![(seed, count)],
        None => vec![(SMOKE_SEED, SMOKE_COUNT.min(count)), (fresh_seed(), count)],
    };
    let started = Instant::now();
    let catalog = Catalog::new();
    let mut tester = Tester::new(std::env::temp_dir().join(format!("archway-differential-{}", std::process::id())));
    self_check(&mut tester);
    let mut panics: BTreeSet<u32> = catalog.panics.iter().copied().collect();
    let mut total = 0;
    for (seed, count) in runs {
        let schedule = catalog.schedule(count, class.as_deref()).unwrap_or_else(|e| {
            eprintln!("differential: {e}");
            std::process::exit(1);
        });
        println!("differential: seed {seed:#018x}, {} sequences (ARCHWAY_DIFF_SEED replays)", schedule.len());
        for (b, chunk) in schedule.chunks(BATCH).enumerate() {
            let seqs: Vec<Sequence> = chunk
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let index = (b * BATCH + i) as u64;
                    Sequence::generate(&catalog, c, seed.wrapping_add(index))
                })
                .collect();
            panics.extend(seqs.iter().flat_map(|s| s.panics.iter().copied()));
            tester.run(&seqs.iter().collect::<Vec<_>>());
        }
        total += schedule.len();
    }
    tester.coverage.print(&catalog);
    let failed = finish(&catalog, &tester, &panics);
    println!(
        "differential: {total} sequences in {:.1}s, {} findings, {} translator panics",
        started.elapsed().as_secs_f64(),
        tester.findings.len(),
        panics.len()
    );
    if failed {
        std::process::exit(1);
    }
}

/// Run one empty sequence: if the harness itself does not work under a runner,
/// nothing else can be compared.
fn self_check(tester: &mut Tester) {
    let empty = Sequence::empty(SMOKE_SEED);
    tester.run(&[&empty]);
    if let Some(f) = tester.findings.first() {
        let why = match &f.problem {
            Problem::RunFailure(errors) => {
                errors.iter().map(|(r, e)| format!("{}: {e}", r.name())).collect::<Vec<_>>().join("; ")
            }
            Problem::Disagreement { diffs, .. } => {
                diffs.iter().map(|d| format!("{} {:?}", d.name, d.values)).collect::<Vec<_>>().join("; ")
            }
        };
        eprintln!("differential: the harness code itself fails (no sequence can be tested): {why}");
        std::process::exit(1);
    }
    tester.coverage = Default::default();
}

/// Print the findings; whether the test fails.
fn finish(catalog: &Catalog, tester: &Tester, panics: &BTreeSet<u32>) -> bool {
    for f in tester.findings.iter().take(PRINTED_IN_FULL) {
        report::print_finding(catalog, f);
    }
    if !tester.findings.is_empty() {
        eprintln!("differential: all findings:");
        for f in &tester.findings {
            eprintln!("  {}", report::summary_line(catalog, f));
        }
    }
    for &word in panics {
        eprintln!("differential: archway's translator panicked on {}", report::describe_word(word));
    }
    if tester.unexplained > 0 {
        eprintln!("differential: {} sequences in failing batches were not bisected", tester.unexplained);
    }
    !tester.findings.is_empty() || !panics.is_empty() || tester.unexplained > 0
}
