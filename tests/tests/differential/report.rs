//! Comparing the runners' dumps, and printing findings and coverage.

use crate::gen::{Catalog, Sequence};
use crate::harness::{Runner, RUNNERS};
use crate::image::Dump;
use crate::record::Regs;
use crate::rules::{ALIGNED_BASE_OFFSET, BASE_OFFSET};
use archway_guest_a64::A64Frontend;
use archway_ir::Frontend;
use std::collections::BTreeMap;

/// One field on which the runners disagree, with each runner's value ([`RUNNERS`] order).
#[derive(Clone, Debug)]
pub struct FieldDiff {
    pub name: String,
    pub values: Vec<String>,
}

/// Memory chunks listed per disagreement at most.
const MEMORY_DIFFS_SHOWN: usize = 8;

/// The fields on which the dumps (in [`RUNNERS`] order) do not all agree.
pub fn compare(dumps: &[&Dump]) -> Vec<FieldDiff> {
    let fields: Vec<Vec<(String, String)>> = dumps.iter().map(|d| d.regs.fields()).collect();
    let mut diffs: Vec<FieldDiff> = (0..fields[0].len())
        .filter(|&i| fields.iter().any(|f| f[i].1 != fields[0][i].1))
        .map(|i| FieldDiff { name: fields[0][i].0.clone(), values: fields.iter().map(|f| f[i].1.clone()).collect() })
        .collect();
    let chunk = |d: &Dump, o: usize| u64::from_le_bytes(d.memory[o..o + 8].try_into().unwrap());
    let memory: Vec<FieldDiff> = (0..dumps[0].memory.len())
        .step_by(8)
        .filter(|&o| dumps.iter().any(|d| chunk(d, o) != chunk(dumps[0], o)))
        .map(|o| FieldDiff {
            name: format!("mem[scratch+{o:#05x}]"),
            values: dumps.iter().map(|d| format!("{:#018x}", chunk(d, o))).collect(),
        })
        .collect();
    let hidden = memory.len().saturating_sub(MEMORY_DIFFS_SHOWN);
    diffs.extend(memory.into_iter().take(MEMORY_DIFFS_SHOWN));
    if hidden > 0 {
        diffs.push(FieldDiff { name: format!("(+{hidden} more memory doublewords)"), values: Vec::new() });
    }
    diffs
}

/// What went wrong with one sequence.
pub enum Problem {
    /// The runners finished but disagree; `minimal` is the shortest prefix-preserving
    /// subsequence found that still disagrees, with its differences.
    Disagreement { diffs: Vec<FieldDiff>, minimal: Option<(Vec<u32>, Vec<FieldDiff>)> },
    /// At least one runner failed on this sequence alone.
    RunFailure(Vec<(Runner, String)>),
}

/// A sequence and what went wrong with it.
pub struct Finding {
    pub seq: Sequence,
    /// Where its scratch buffer was, to show X26/X28 as they were.
    pub scratch: u64,
    pub problem: Problem,
}

/// The command that replays one sequence.
pub fn replay_command(catalog: &Catalog, seq: &Sequence) -> String {
    format!(
        "ARCHWAY_DIFF_SEED={:#x} ARCHWAY_DIFF_COUNT=1 ARCHWAY_DIFF_CLASS={} \
         cargo test -p archway-tests --release --test differential",
        seq.seed, catalog.classes[seq.class].name
    )
}

/// A word with its decoder entry and disassembly.
pub fn describe_word(word: u32) -> String {
    let name = archway_guest_a64::decode::lookup(word).map_or("(no entry)", |e| e.name);
    format!("{word:08x}  {name:<24} {}", A64Frontend.disassemble(0, word))
}

fn print_regs(regs: &Regs) {
    let fields = regs.fields();
    for line in fields.chunks(4) {
        let cells: Vec<String> = line.iter().map(|(n, v)| format!("{n:>5}={v}")).collect();
        eprintln!("    {}", cells.join(" "));
    }
}

fn print_diffs(diffs: &[FieldDiff]) {
    let header: Vec<String> = RUNNERS.iter().map(|r| format!("{:<34}", r.name())).collect();
    eprintln!("    {:<22} {}", "field", header.join(" "));
    for d in diffs {
        let values: Vec<String> = d.values.iter().map(|v| format!("{v:<34}")).collect();
        eprintln!("    {:<22} {}", d.name, values.join(" "));
    }
}

/// One line naming a finding, for the summary.
pub fn summary_line(catalog: &Catalog, f: &Finding) -> String {
    let kind = match &f.problem {
        Problem::Disagreement { diffs, .. } => {
            let names: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).take(4).collect();
            // The runners that disagree with the oracle (the first) somewhere.
            let odd: Vec<&str> = (1..RUNNERS.len())
                .filter(|&r| diffs.iter().any(|d| d.values.get(r) != d.values.first()))
                .map(|r| RUNNERS[r].name())
                .collect();
            format!("{} differs in {}", odd.join("+"), names.join(","))
        }
        Problem::RunFailure(errors) => {
            let who: Vec<&str> = errors.iter().map(|(r, _)| r.name()).collect();
            format!("{} failed", who.join("+"))
        }
    };
    let names: Vec<&str> = f.seq.insns.iter().map(|i| catalog.name(i.entry)).collect();
    format!("seed {:#018x} {:<7} [{}] {kind}", f.seq.seed, catalog.classes[f.seq.class].name, names.join(" "))
}

/// Everything about a finding: replay command, instructions, initial state, differences.
pub fn print_finding(catalog: &Catalog, f: &Finding) {
    eprintln!("--- {}", summary_line(catalog, f));
    eprintln!("  replay: {}", replay_command(catalog, &f.seq));
    eprintln!("  instructions:");
    for insn in &f.seq.insns {
        eprintln!("    {}", describe_word(insn.word));
    }
    let init = f.seq.initial_regs(f.scratch);
    eprintln!(
        "  initial state (scratch = {:#x}, x28 = scratch+{BASE_OFFSET:#x}, x26 = scratch+{ALIGNED_BASE_OFFSET:#x}):",
        f.scratch
    );
    print_regs(&init);
    match &f.problem {
        Problem::Disagreement { diffs, minimal } => {
            eprintln!("  differences:");
            print_diffs(diffs);
            if let Some((words, diffs)) = minimal {
                eprintln!("  still differs with only:");
                for &word in words {
                    eprintln!("    {}", describe_word(word));
                }
                print_diffs(diffs);
            }
        }
        Problem::RunFailure(errors) => {
            for (runner, error) in errors {
                eprintln!("  {}: {error}", runner.name());
            }
        }
    }
}

/// Which entries and classes a run exercised.
#[derive(Default)]
pub struct Coverage {
    /// Sequences and instructions compared, per class of sequence.
    sequences: BTreeMap<usize, (usize, usize)>,
    /// Instructions compared, per entry id.
    entries: BTreeMap<usize, usize>,
}

impl Coverage {
    pub fn add(&mut self, seq: &Sequence) {
        let counts = self.sequences.entry(seq.class).or_default();
        counts.0 += 1;
        counts.1 += seq.insns.len();
        for insn in &seq.insns {
            *self.entries.entry(insn.entry).or_default() += 1;
        }
    }

    /// Print the per-class table and the entries never exercised, with why. The
    /// `mixed` row's entry columns count all classes.
    pub fn print(&self, catalog: &Catalog) {
        println!(
            "differential: coverage\n  {:<8} {:>7} {:>7} {:>9} {:>9} {:>12}",
            "class", "entries", "viable", "exercised", "sequences", "instructions"
        );
        for (c, class) in catalog.classes.iter().enumerate() {
            let exercised: Vec<usize> = if class.name == crate::gen::MIXED {
                self.entries.keys().copied().collect()
            } else {
                self.entries.keys().copied().filter(|&e| catalog.entries[e].class == c).collect()
            };
            println!(
                "  {:<8} {:>7} {:>7} {:>9} {:>9} {:>12}",
                class.name,
                class.entries.len(),
                class.viable.len(),
                exercised.len(),
                self.sequences.get(&c).map_or(0, |s| s.0),
                self.sequences.get(&c).map_or(0, |s| s.1),
            );
        }
        let mixed = catalog.classes.iter().position(|c| c.name == crate::gen::MIXED);
        let ran = |c: usize| self.sequences.contains_key(&c) || mixed.is_some_and(|m| self.sequences.contains_key(&m));
        for (id, e) in catalog.entries.iter().enumerate() {
            let why = match &e.unviable {
                Some(why) => why.as_str(),
                None if ran(e.class) && !self.entries.contains_key(&id) => "not drawn in this run",
                None => continue,
            };
            println!("  not exercised: {}/{}: {why}", catalog.classes[e.class].name, e.entry.name);
        }
    }
}
