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
//! - [`gen`]: the classes are the decoder tables (`archway_guest_a64::decode::tables`, the
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
//! # Legitimate differences
//!
//! Where qemu's CPU and archway's legitimately differ, the rules keep the generator
//! away from the difference; results are never masked. qemu runs `-cpu neoverse-n1`,
//! whose DC ZVA block (64 bytes), CTR_EL0 and lack of pointer authentication match
//! archway (`max` zeroes 512 bytes and signs pointers in the PAC hints). Avoided:
//! - FPCR Len/Stride/FZ16 and FPSR's AArch32 NZCV, which qemu keeps and archway's
//!   AArch64-only CPU without FP16 does not: `MSR FPCR/FPSR` read a register without
//!   them ([`rules::QEMU_ONLY_FP_BITS`]);
//! - ID registers other than CTR_EL0/DCZID_EL0, CNTFRQ_EL0, CNTVCT_EL0 (not read);
//! - LDAPUR/STLUR (FEAT_LRCPC2, not in qemu's model nor archway's feature list);
//! - a store-exclusive of another size than its load-exclusive (CONSTRAINED
//!   UNPREDICTABLE): a sequence's exclusives share one form and size.
//!
//! No qemu bug has been found so far; one would be listed here with a reference and
//! avoided by a rule in the same way.

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
use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// The smoke run's seed and size.
const SMOKE_SEED: u64 = 0x5eed_0000_a64d_1ff0;
const SMOKE_COUNT: usize = 1000;
const DEFAULT_COUNT: usize = 20_000;
/// libtest flags whose value is the next argument (not a test name filter).
const LIBTEST_VALUE_FLAGS: &[&str] = &["--test-threads", "--skip", "--format", "--color", "--logfile", "-Z"];
/// Findings printed in full (the rest get one line each).
const PRINTED_IN_FULL: usize = 12;
/// Findings listed at all.
const LISTED: usize = 300;

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(harness::RUN_ENGINE_FLAG) {
        harness::run_engine_child(&args[1], Path::new(&args[2]));
    }
    // Enough of libtest's interface for `cargo test [filter]` and test listers.
    if args.iter().any(|a| a == "--list") {
        println!("differential: test");
        return ExitCode::SUCCESS;
    }
    let mut filters = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if LIBTEST_VALUE_FLAGS.contains(&word.as_str()) {
            words.next();
        } else if !word.starts_with('-') {
            filters.push(word);
        }
    }
    if !filters.is_empty() && !filters.iter().any(|f| "differential".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("differential: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole test; `Err` says why it failed.
fn run() -> Result<(), String> {
    harness::check_qemu()?;
    let count = env_number("ARCHWAY_DIFF_COUNT").map_or(DEFAULT_COUNT, |n| n as usize);
    let class = std::env::var("ARCHWAY_DIFF_CLASS").ok();
    let runs = match env_number("ARCHWAY_DIFF_SEED") {
        Some(seed) => vec![(seed, count)],
        None => vec![(SMOKE_SEED, SMOKE_COUNT.min(count)), (fresh_seed(), count)],
    };
    let started = Instant::now();
    let catalog = Catalog::new();
    let mut tester = Tester::new(std::env::temp_dir().join(format!("archway-differential-{}", std::process::id())));
    self_check(&mut tester)?;
    let mut panics: BTreeSet<u32> = catalog.panics.iter().copied().collect();
    let mut total = 0;
    for (seed, count) in runs {
        let schedule = catalog.schedule(count, class.as_deref())?;
        println!("differential: seed {seed:#018x}, {} sequences (ARCHWAY_DIFF_SEED replays)", schedule.len());
        for (b, chunk) in schedule.chunks(BATCH).enumerate() {
            let seqs: Vec<Sequence> = chunk
                .iter()
                .enumerate()
                .map(|(i, &c)| Sequence::generate(&catalog, c, seed.wrapping_add((b * BATCH + i) as u64)))
                .collect();
            panics.extend(seqs.iter().flat_map(|s| s.panics.iter().copied()));
            tester.run(&seqs.iter().collect::<Vec<_>>());
        }
        total += schedule.len();
    }
    tester.coverage.print(&catalog);
    print_findings(&catalog, &tester, &panics);
    let summary = format!(
        "{total} sequences in {:.1}s, {} findings, {} translator panics, {} sequences unexplained",
        started.elapsed().as_secs_f64(),
        tester.findings.len(),
        panics.len(),
        tester.unexplained
    );
    println!("differential: {summary}");
    let clean = tester.findings.is_empty() && panics.is_empty() && tester.unexplained == 0;
    if clean {
        Ok(())
    } else {
        Err(format!("FAILED: {summary}"))
    }
}

/// Run one empty sequence: if the harness itself does not preserve state under
/// every runner, nothing else can be compared.
fn self_check(tester: &mut Tester) -> Result<(), String> {
    let empty = Sequence::empty(SMOKE_SEED);
    tester.round_trip(&empty).map_err(|e| format!("the harness code itself fails, nothing can be tested: {e}"))
}

/// Print the findings: the first ones in full, then one line each.
fn print_findings(catalog: &Catalog, tester: &Tester, panics: &BTreeSet<u32>) {
    for f in tester.findings.iter().take(PRINTED_IN_FULL) {
        report::print_finding(catalog, f);
    }
    if !tester.findings.is_empty() {
        eprintln!("differential: findings:");
        for f in tester.findings.iter().take(LISTED) {
            eprintln!("  {}", report::summary_line(catalog, f));
        }
        if tester.findings.len() > LISTED {
            eprintln!("  ... and {} more", tester.findings.len() - LISTED);
        }
    }
    for &word in panics {
        eprintln!("differential: archway's translator panicked on {}", report::describe_word(word));
    }
    if tester.unexplained > 0 {
        eprintln!("differential: {} sequences in failing batches were not bisected", tester.unexplained);
    }
}
