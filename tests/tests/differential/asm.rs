//! The few A64 encodings the harness code is made of (64-bit forms only).

/// Register number 31 as a base or ADD operand: SP.
pub const SP: u32 = 31;

/// A64 code being assembled at a known address.
pub struct Asm {
    base: u64,
    pub words: Vec<u32>,
}

impl Asm {
    pub fn new(base: u64) -> Asm {
        Asm { base, words: Vec::new() }
    }

    /// Address of the next instruction.
    pub fn pc(&self) -> u64 {
        self.base + 4 * self.words.len() as u64
    }

    pub fn emit(&mut self, word: u32) {
        self.words.push(word);
    }

    /// `Xd = address` (ADRP + ADD; the address is within 4 GiB of the code).
    pub fn address(&mut self, rd: u32, address: u64) {
        let pages = (address >> 12) as i64 - (self.pc() >> 12) as i64;
        assert!(pages.unsigned_abs() < 1 << 20, "address out of ADRP range");
        let imm = pages as u32 & 0x1f_ffff;
        self.emit(0x9000_0000 | (imm & 3) << 29 | (imm >> 2) << 5 | rd);
        self.add_imm(rd, rd, (address & 0xfff) as u32);
    }

    /// `ADD Xd|SP, Xn|SP, #imm12`.
    pub fn add_imm(&mut self, rd: u32, rn: u32, imm12: u32) {
        assert!(imm12 < 1 << 12);
        self.emit(0x9100_0000 | imm12 << 10 | rn << 5 | rd);
    }

    /// `Xd = value` (MOVZ + MOVKs).
    pub fn mov_imm(&mut self, rd: u32, value: u64) {
        self.emit(0xd280_0000 | ((value & 0xffff) as u32) << 5 | rd);
        for hw in 1..4 {
            let chunk = ((value >> (16 * hw)) & 0xffff) as u32;
            if chunk != 0 {
                self.emit(0xf280_0000 | hw << 21 | chunk << 5 | rd);
            }
        }
    }

    /// `LDR Xt, [Xn, #offset]` (offset a multiple of 8).
    pub fn ldr(&mut self, rt: u32, rn: u32, offset: usize) {
        self.emit(0xf940_0000 | scaled(offset, 8, 12) << 10 | rn << 5 | rt);
    }

    /// `STR Xt, [Xn, #offset]`.
    pub fn str(&mut self, rt: u32, rn: u32, offset: usize) {
        self.emit(0xf900_0000 | scaled(offset, 8, 12) << 10 | rn << 5 | rt);
    }

    /// `LDP Xt, Xt2, [Xn, #offset]`.
    pub fn ldp(&mut self, rt: u32, rt2: u32, rn: u32, offset: usize) {
        self.emit(0xa940_0000 | scaled(offset, 8, 6) << 15 | rt2 << 10 | rn << 5 | rt);
    }

    /// `STP Xt, Xt2, [Xn, #offset]`.
    pub fn stp(&mut self, rt: u32, rt2: u32, rn: u32, offset: usize) {
        self.emit(0xa900_0000 | scaled(offset, 8, 6) << 15 | rt2 << 10 | rn << 5 | rt);
    }

    /// `LDP Qt, Qt2, [Xn, #offset]`.
    pub fn ldp_q(&mut self, rt: u32, rt2: u32, rn: u32, offset: usize) {
        self.emit(0xad40_0000 | scaled(offset, 16, 6) << 15 | rt2 << 10 | rn << 5 | rt);
    }

    /// `STP Qt, Qt2, [Xn, #offset]`.
    pub fn stp_q(&mut self, rt: u32, rt2: u32, rn: u32, offset: usize) {
        self.emit(0xad00_0000 | scaled(offset, 16, 6) << 15 | rt2 << 10 | rn << 5 | rt);
    }

    /// `MSR <sysreg>, Xt` (`sysreg` packed as `archway_guest_a64::features::sys_reg`).
    pub fn msr(&mut self, sysreg: u32, rt: u32) {
        self.emit(0xd500_0000 | sysreg << 5 | rt);
    }

    /// `MRS Xt, <sysreg>`.
    pub fn mrs(&mut self, rt: u32, sysreg: u32) {
        self.emit(0xd520_0000 | sysreg << 5 | rt);
    }

    /// `B` to the next instruction: ends the translator's block here.
    pub fn end_block(&mut self) {
        self.emit(0x1400_0001);
    }

    pub fn clrex(&mut self) {
        self.emit(0xd503_3f5f);
    }

    pub fn svc0(&mut self) {
        self.emit(0xd400_0001);
    }
}

/// `offset / scale`, checked to be exact and to fit `bits` (unsigned) bits.
fn scaled(offset: usize, scale: usize, bits: u32) -> u32 {
    assert!(offset.is_multiple_of(scale) && offset / scale < 1 << bits, "bad offset {offset}");
    (offset / scale) as u32
}
