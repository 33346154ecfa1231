//! Whole-register bitwise operations: AND, BIC, ORR, ORN, EOR, the bit selects BSL,
//! BIT and BIF, and NOT, RBIT and CNT (bytes). They ignore lane boundaries, so they
//! work on the register as one `u128`.

use super::lanes::{clear_from, cpu, Fields};
use archway_ir::Helper;

/// What a bitwise operation computes from `Vd`, `Vn` and `Vm`.
pub trait BitOp {
    fn apply(d: u128, n: u128, m: u128) -> u128;
}

macro_rules! bit_ops {
    ($($(#[$doc:meta])* $name:ident($d:pat, $n:pat, $m:pat) => $body:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl BitOp for $name {
            #[inline(always)]
            fn apply($d: u128, $n: u128, $m: u128) -> u128 {
                $body
            }
        }
    )*};
}

bit_ops! {
    And(_, n, m) => n & m;
    AndNot(_, n, m) => n & !m;
    Or(_, n, m) => n | m;
    OrNot(_, n, m) => n | !m;
    Xor(_, n, m) => n ^ m;
    /// BSL: bits of `n` where `d` is set, of `m` elsewhere.
    SelectByDestination(d, n, m) => m ^ ((m ^ n) & d);
    /// BIT: bits of `n` inserted where `m` is set.
    InsertIfTrue(d, n, m) => d ^ ((d ^ n) & m);
    /// BIF: bits of `n` inserted where `m` is clear.
    InsertIfFalse(d, n, m) => d ^ ((d ^ n) & !m);
    Not(_, n, _) => !n;
    /// RBIT: the bits of every byte reversed.
    ReverseBitsInBytes(_, n, _) => n.reverse_bits().swap_bytes();
    /// CNT: the number of set bits of every byte.
    CountBitsInBytes(_, n, _) => u128::from_le_bytes(n.to_le_bytes().map(|b| b.count_ones() as u8));
}

/// A helper that applies `O` to the register (its low half for 64-bit vectors).
pub const fn bitwise<O: BitOp>(name: &'static str) -> Helper {
    Helper { name, func: bitwise_entry::<O>, reads_state: true, writes_state: true }
}

unsafe extern "C" fn bitwise_entry<O: BitOp>(state: *mut u8, insn: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: translated code calls helpers with its live guest state.
    let s = unsafe { cpu(state) };
    let f = Fields::of(insn);
    s.set_vreg(f.d, O::apply(s.vreg(f.d), s.vreg(f.n), s.vreg(f.m)));
    clear_from(s, f.d, f.active_bytes(16));
    0
}

pub static AND: Helper = bitwise::<And>("AND");
pub static BIC: Helper = bitwise::<AndNot>("BIC");
pub static ORR: Helper = bitwise::<Or>("ORR");
pub static ORN: Helper = bitwise::<OrNot>("ORN");
pub static EOR: Helper = bitwise::<Xor>("EOR");
pub static BSL: Helper = bitwise::<SelectByDestination>("BSL");
pub static BIT: Helper = bitwise::<InsertIfTrue>("BIT");
pub static BIF: Helper = bitwise::<InsertIfFalse>("BIF");
pub static NOT: Helper = bitwise::<Not>("NOT");
pub static RBIT: Helper = bitwise::<ReverseBitsInBytes>("RBIT");
pub static CNT: Helper = bitwise::<CountBitsInBytes>("CNT");
