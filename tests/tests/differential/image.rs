//! The test program: one static, non-PIE aarch64 ELF running a batch of sequences.
//!
//! Code (R+X, at [`LOAD_ADDRESS`] + 0x1000), for each sequence: a prologue loading the
//! initial state from its record (X30 as the pointer, loaded last), the sequence
//! (between two `B .+4`, so it is translated as blocks of its own), and a dump
//! storing the final state to its output record (X0 saved in TPIDR_EL0 while X0
//! points at the record). After the last sequence, `write(1, ...)` of the
//! output and `exit_group(0)`.
//!
//! Data (R+W, 64 KiB aligned): initial records, then scratch buffers, then output
//! records (zero-filled, not in the file). The output the program writes is the
//! scratch buffers followed by the output records.

use crate::asm::{Asm, SP};
use crate::gen::Sequence;
use crate::record::{self, off, Regs};
use crate::rules::SCRATCH_BYTES;
use archway_guest_a64::features::sys_reg;

/// Where the image is linked (and mapped, by qemu and by the in-process runner).
pub const LOAD_ADDRESS: u64 = 0x40_0000;
const CODE_OFFSET: u64 = 0x1000;
const SEGMENT_ALIGN: u64 = 0x1_0000;

const NZCV: u32 = sys_reg(3, 3, 4, 2, 0);
const FPCR: u32 = sys_reg(3, 3, 4, 4, 0);
const FPSR: u32 = sys_reg(3, 3, 4, 4, 1);
const TPIDR_EL0: u32 = sys_reg(3, 3, 13, 0, 2);

const SYS_WRITE: u64 = 64;
const SYS_EXIT_GROUP: u64 = 94;

/// A built test program and where things are in it.
pub struct Image {
    pub elf: Vec<u8>,
    count: usize,
    scratch: u64,
}

/// One sequence's final state as a runner produced it.
pub struct Dump<'a> {
    pub regs: Regs,
    pub memory: &'a [u8],
}

impl Image {
    /// Lay out, assemble and link the program running `sequences` in order.
    pub fn build(sequences: &[&Sequence]) -> Image {
        let count = sequences.len();
        let code_start = LOAD_ADDRESS + CODE_OFFSET;
        // The code size does not depend on addresses: assemble once to measure it.
        let measure = assemble(sequences, code_start, code_start, code_start).words.len() as u64 * 4;
        let init = (code_start + measure + 4096).next_multiple_of(SEGMENT_ALIGN);
        let image = Image { elf: Vec::new(), count, scratch: init + (count * record::SIZE) as u64 };
        let code = assemble(sequences, code_start, init, image.scratch);
        assert_eq!(code.words.len() as u64 * 4, measure);

        let mut data = Vec::with_capacity(count * (record::SIZE + SCRATCH_BYTES));
        for (i, seq) in sequences.iter().enumerate() {
            data.extend(seq.initial_regs(image.scratch_address(i)).to_bytes());
        }
        for seq in sequences {
            data.extend(&seq.memory);
        }
        let code_bytes: Vec<u8> = code.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let elf = write_elf(
            code_start,
            &[
                Segment { vaddr: code_start, bytes: &code_bytes, memsz: code_bytes.len() as u64, flags: PF_R | PF_X },
                Segment {
                    vaddr: init,
                    bytes: &data,
                    memsz: (data.len() + count * record::SIZE) as u64,
                    flags: PF_R | PF_W,
                },
            ],
        );
        Image { elf, ..image }
    }

    /// Address of sequence `i`'s scratch buffer.
    pub fn scratch_address(&self, i: usize) -> u64 {
        self.scratch + (i * SCRATCH_BYTES) as u64
    }

    /// Bytes the program writes.
    fn output_len(&self) -> usize {
        self.count * (SCRATCH_BYTES + record::SIZE)
    }

    /// Split a runner's output into per-sequence dumps (`None`: wrong length).
    pub fn parse<'a>(&self, output: &'a [u8]) -> Option<Vec<Dump<'a>>> {
        if output.len() != self.output_len() {
            return None;
        }
        let (memory, records) = output.split_at(self.count * SCRATCH_BYTES);
        Some(
            (0..self.count)
                .map(|i| Dump {
                    regs: Regs::from_bytes(&records[i * record::SIZE..]),
                    memory: &memory[i * SCRATCH_BYTES..(i + 1) * SCRATCH_BYTES],
                })
                .collect(),
        )
    }
}

/// The harness code for `sequences` at `code_start`, with records at `init` (and
/// outputs after the scratch buffers at `scratch`).
fn assemble(sequences: &[&Sequence], code_start: u64, init: u64, scratch: u64) -> Asm {
    let count = sequences.len() as u64;
    let out = scratch + count * SCRATCH_BYTES as u64;
    let mut a = Asm::new(code_start);
    for (i, seq) in sequences.iter().enumerate() {
        prologue(&mut a, init + (i * record::SIZE) as u64);
        // The sequence gets blocks of its own: an engine that cannot compile the
        // harness code (vector loads, system registers) still compiles the sequence.
        a.end_block();
        for insn in &seq.insns {
            a.emit(insn.word);
        }
        a.end_block();
        dump(&mut a, out + (i * record::SIZE) as u64);
    }
    a.address(1, scratch);
    a.mov_imm(2, count * (SCRATCH_BYTES + record::SIZE) as u64);
    a.mov_imm(0, 1);
    a.mov_imm(8, SYS_WRITE);
    a.svc0();
    a.mov_imm(0, 0);
    a.mov_imm(8, SYS_EXIT_GROUP);
    a.svc0();
    a
}

/// Load every register from the record at `record`; X30 is the pointer, loaded last.
fn prologue(a: &mut Asm, record: u64) {
    a.address(30, record);
    for (sysreg, offset) in [(NZCV, off::NZCV), (FPCR, off::FPCR), (FPSR, off::FPSR), (TPIDR_EL0, off::TPIDR)] {
        a.ldr(0, 30, offset);
        a.msr(sysreg, 0);
    }
    a.ldr(0, 30, off::SP);
    a.add_imm(SP, 0, 0);
    a.clrex();
    for k in 0..16 {
        a.ldp_q(2 * k, 2 * k + 1, 30, off::V + 32 * k as usize);
    }
    for k in 0..15 {
        a.ldp(2 * k, 2 * k + 1, 30, off::X + 16 * k as usize);
    }
    a.ldr(30, 30, off::X + 30 * 8);
}

/// Store every register to the record at `record`, using TPIDR_EL0 to free X0.
fn dump(a: &mut Asm, record: u64) {
    a.msr(TPIDR_EL0, 0);
    a.address(0, record);
    for k in 0..15 {
        a.stp(2 * k + 1, 2 * k + 2, 0, off::X + 8 + 16 * k as usize);
    }
    a.mrs(1, TPIDR_EL0);
    a.str(1, 0, off::X);
    a.add_imm(1, SP, 0);
    a.str(1, 0, off::SP);
    for (sysreg, offset) in [(NZCV, off::NZCV), (FPCR, off::FPCR), (FPSR, off::FPSR)] {
        a.mrs(1, sysreg);
        a.str(1, 0, offset);
    }
    for k in 0..16 {
        a.stp_q(2 * k, 2 * k + 1, 0, off::V + 32 * k as usize);
    }
}

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// A PT_LOAD segment; its file offset is its address minus [`LOAD_ADDRESS`].
struct Segment<'a> {
    vaddr: u64,
    bytes: &'a [u8],
    memsz: u64,
    flags: u32,
}

/// A minimal ELF64 executable for AArch64: the header, program headers, segments.
fn write_elf(entry: u64, segments: &[Segment]) -> Vec<u8> {
    const EHDR_SIZE: u16 = 64;
    const PHDR_SIZE: u16 = 56;
    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF");
    elf.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, System V
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&entry.to_le_bytes());
    elf.extend_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [EHDR_SIZE, PHDR_SIZE, segments.len() as u16, 64, 0, 0] {
        elf.extend_from_slice(&half.to_le_bytes());
    }
    for s in segments {
        elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        elf.extend_from_slice(&s.flags.to_le_bytes());
        for word in [s.vaddr - LOAD_ADDRESS, s.vaddr, s.vaddr, s.bytes.len() as u64, s.memsz, SEGMENT_ALIGN] {
            elf.extend_from_slice(&word.to_le_bytes());
        }
    }
    for s in segments {
        elf.resize((s.vaddr - LOAD_ADDRESS) as usize, 0);
        elf.extend_from_slice(s.bytes);
    }
    elf
}
