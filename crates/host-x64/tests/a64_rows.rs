//! One golden case for every row of the A64 decoder table: an instruction word of that
//! row, its disassembly, the optimised IR it translates to (state fields by name) and the
//! x86_64 code the JIT makes of it, headed by its host instruction count (the whole
//! block's: the exit-request check and the exits to the next block included, about 8).
//! A row without a case fails the test, so a new row comes with its golden.
//!
//! The word of each row is found, not written by hand: the row's fixed bits, and for its
//! letters the first of a fixed sequence of pseudo-random fillings (seeded by the row's
//! name) that decodes to this row and translates to something other than UNDEFINED. A row
//! no filling reaches needs a word in [`EXAMPLES`]. Like `a64_golden`, a change shows up
//! as a diff of `tests/golden/a64_rows.txt`; `UPDATE_GOLDEN=1 cargo test -p
//! archway-host-x64 --test a64_rows` rewrites it.

use archway_guest_a64::decode::{entries, lookup, Entry};
use archway_guest_a64::translate::translate_block;
use archway_guest_a64::A64Frontend;
use archway_host_x64::{host_listing, HostFeatures};
use archway_ir::{Block, Frontend, Terminal};
use std::fmt::Write;
use support::check_golden;

mod support;

/// Guest code at this address.
const PC: u64 = 0x40_0000;
/// SIGILL: what an UNDEFINED instruction raises.
const SIGILL: i32 = 4;
/// Fillings tried per row.
const TRIES: u64 = 4096;

/// Words for rows the search does not reach, by row name.
const EXAMPLES: &[(&str, u32)] = &[];

fn translate(word: u32) -> Block {
    let fetch = |pc: u64| (pc == PC).then_some(word);
    let mut block = translate_block(PC, &fetch);
    archway_ir::passes::optimize(&mut block);
    block
}

fn undefined(block: &Block) -> bool {
    block.insts.is_empty() && block.terminal == Terminal::Trap { signal: SIGILL, pc: PC }
}

/// A word of `entry`'s row that translates (see the module docs).
fn example(entry: &'static Entry) -> Option<u32> {
    if let Some(&(_, word)) = EXAMPLES.iter().find(|(name, _)| *name == entry.name) {
        return Some(word);
    }
    let mut state =
        entry.name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (0..TRIES).find_map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let word = entry.pattern.value | (state as u32 & !entry.pattern.mask);
        let decodes_here = lookup(word).is_some_and(|found| core::ptr::eq(found, entry));
        (decodes_here && !undefined(&translate(word))).then_some(word)
    })
}

/// The instruction lines of a host listing (not its constant pool).
fn host_instructions(listing: &str) -> usize {
    listing
        .lines()
        .filter(|line| {
            line.trim_start()
                .split_once(": ")
                .is_some_and(|(at, text)| at.chars().all(|c| c.is_ascii_hexdigit()) && !text.starts_with(".byte"))
        })
        .count()
}

fn render() -> (String, Vec<&'static str>) {
    let frontend = A64Frontend;
    let mut out = String::new();
    let mut without_case = Vec::new();
    for entry in entries() {
        let Some(word) = example(entry) else {
            without_case.push(entry.name);
            continue;
        };
        let block = translate(word);
        archway_ir::verify::verify(&block).unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        let listing = host_listing(&block, HostFeatures::BASELINE);
        writeln!(
            out,
            "== {} ({} host instructions) ==\n  {word:08x}  {}",
            entry.name,
            host_instructions(&listing),
            frontend.disassemble(PC, word).trim_end()
        )
        .unwrap();
        write!(out, "{}--\n{listing}\n", block.named(&frontend)).unwrap();
    }
    (out, without_case)
}

#[test]
fn every_decoder_row_has_a_golden_case() {
    let (text, without_case) = render();
    assert!(without_case.is_empty(), "decoder rows without a golden case (add a word to EXAMPLES): {without_case:?}");
    check_golden("a64_rows.txt", &text);
}
