//! Pure evaluation of the value-computing ops, shared by the interpreter and the
//! constant folder so that both give exactly the same results.

use crate::op::{BinOp, CmpOp, UnOp};
use crate::types::Type;

/// Sign-extend the `ty`-wide value `v` to i64.
pub fn sext(ty: Type, v: u64) -> i64 {
    let bits = ty.bits();
    if bits == 0 || bits >= 64 {
        return v as i64;
    }
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

/// `a op b` at width `ty` (operands zero-extended, result masked).
pub fn bin(op: BinOp, ty: Type, a: u64, b: u64) -> u64 {
    let w = ty.bits();
    let m = ty.mask();
    let shift = (b % w as u64) as u32;
    let r = match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::UMulHi => ((a as u128 * b as u128) >> w) as u64,
        BinOp::SMulHi => ((sext(ty, a) as i128 * sext(ty, b) as i128) >> w) as u64,
        BinOp::UDiv => a.checked_div(b).unwrap_or(0),
        BinOp::SDiv => {
            let (x, y) = (sext(ty, a), sext(ty, b));
            if y == 0 {
                0
            } else {
                x.wrapping_div(y) as u64
            }
        }
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::AndNot => a & !b,
        BinOp::Shl => a << shift,
        BinOp::LShr => a >> shift,
        BinOp::AShr => (sext(ty, a) >> shift) as u64,
        BinOp::RotR => {
            if shift == 0 {
                a
            } else {
                (a >> shift) | (a << (w - shift))
            }
        }
    };
    r & m
}

/// `op a` at width `ty`.
pub fn un(op: UnOp, ty: Type, a: u64) -> u64 {
    let w = ty.bits();
    let m = ty.mask();
    let r = match op {
        UnOp::Not => !a,
        UnOp::Neg => a.wrapping_neg(),
        UnOp::Clz => clz(ty, a),
        UnOp::Cls => {
            let t = ((a >> 1) ^ a) & (m >> 1);
            clz(ty, t) - 1
        }
        UnOp::Rbit => a.reverse_bits() >> (64 - w),
        UnOp::Bswap => a.swap_bytes() >> (64 - w),
        UnOp::Popcnt => (a & m).count_ones() as u64,
    };
    r & m
}

fn clz(ty: Type, a: u64) -> u64 {
    let w = ty.bits();
    let a = a & ty.mask();
    if a == 0 {
        w as u64
    } else {
        (a.leading_zeros() - (64 - w)) as u64
    }
}

/// `a op b` at width `ty`, as 0 or 1.
pub fn cmp(op: CmpOp, ty: Type, a: u64, b: u64) -> u64 {
    let r = match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Ult => a < b,
        CmpOp::Ule => a <= b,
        CmpOp::Slt => sext(ty, a) < sext(ty, b),
        CmpOp::Sle => sext(ty, a) <= sext(ty, b),
    };
    r as u64
}

const N: u64 = 1 << 31;
const Z: u64 = 1 << 30;
const C: u64 = 1 << 29;
const V: u64 = 1 << 28;

/// NZCV of `a + b + carry` at width `ty`.
pub fn add_flags(ty: Type, a: u64, b: u64, carry: u64) -> u64 {
    let w = ty.bits();
    let m = ty.mask();
    let wide = a as u128 + b as u128 + (carry & 1) as u128;
    let res = (wide as u64) & m;
    let sign = 1u64 << (w - 1);
    let mut f = 0;
    if res & sign != 0 {
        f |= N;
    }
    if res == 0 {
        f |= Z;
    }
    if wide >> w != 0 {
        f |= C;
    }
    if (a ^ res) & (b ^ res) & sign != 0 {
        f |= V;
    }
    f
}

/// NZCV of `a - b` at width `ty` (C = no borrow).
pub fn sub_flags(ty: Type, a: u64, b: u64) -> u64 {
    add_flags(ty, a, !b & ty.mask(), 1)
}

/// NZCV with N and Z of `a`, C and V clear.
pub fn logic_flags(ty: Type, a: u64) -> u64 {
    let a = a & ty.mask();
    let mut f = 0;
    if a & (1u64 << (ty.bits() - 1)) != 0 {
        f |= N;
    }
    if a == 0 {
        f |= Z;
    }
    f
}

/// Whether AArch64 condition `cond` holds for packed `nzcv`, as 0 or 1.
pub fn cond_holds(cond: u8, nzcv: u64) -> u64 {
    let (n, z, c, v) = (nzcv & N != 0, nzcv & Z != 0, nzcv & C != 0, nzcv & V != 0);
    let base = match (cond >> 1) & 7 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    let invert = cond & 1 == 1 && cond & 0xf != 0xf;
    (base != invert) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_follows_aarch64() {
        assert_eq!(bin(BinOp::UDiv, Type::I64, 5, 0), 0);
        assert_eq!(bin(BinOp::SDiv, Type::I32, 0x8000_0000, 0xffff_ffff), 0x8000_0000);
        assert_eq!(bin(BinOp::SDiv, Type::I32, (-7i32) as u32 as u64, 2), (-3i32) as u32 as u64);
    }

    #[test]
    fn flags_match_hardware() {
        // cmp w0, w1 with 0 - 1: N, no carry (borrow).
        assert_eq!(sub_flags(Type::I32, 0, 1), N);
        // cmp x0, x0: Z and C.
        assert_eq!(sub_flags(Type::I64, 7, 7), Z | C);
        // adds w0, 0x7fffffff, 1: N and V.
        assert_eq!(add_flags(Type::I32, 0x7fff_ffff, 1, 0), N | V);
        // adds x0, -1, 1: Z and C.
        assert_eq!(add_flags(Type::I64, u64::MAX, 1, 0), Z | C);
    }

    #[test]
    fn conditions() {
        assert_eq!(cond_holds(0, Z), 1); // EQ
        assert_eq!(cond_holds(1, Z), 0); // NE
        assert_eq!(cond_holds(10, N | V), 1); // GE
        assert_eq!(cond_holds(11, N), 1); // LT
        assert_eq!(cond_holds(8, C), 1); // HI
        assert_eq!(cond_holds(8, C | Z), 0);
        assert_eq!(cond_holds(14, 0), 1); // AL
        assert_eq!(cond_holds(15, 0), 1); // NV behaves as AL
    }

    #[test]
    fn bit_counting() {
        assert_eq!(un(UnOp::Cls, Type::I32, 0), 31);
        assert_eq!(un(UnOp::Cls, Type::I32, 1), 30);
        assert_eq!(un(UnOp::Cls, Type::I64, u64::MAX), 63);
        assert_eq!(un(UnOp::Clz, Type::I32, 0), 32);
        assert_eq!(un(UnOp::Clz, Type::I16, 1), 15);
        assert_eq!(un(UnOp::Rbit, Type::I32, 1), 0x8000_0000);
        assert_eq!(un(UnOp::Bswap, Type::I32, 0x1122_3344), 0x4433_2211);
        assert_eq!(bin(BinOp::RotR, Type::I32, 1, 33), 0x8000_0000);
        assert_eq!(bin(BinOp::AShr, Type::I8, 0x80, 7), 0xff);
        assert_eq!(bin(BinOp::SMulHi, Type::I64, u64::MAX, u64::MAX), 0);
        assert_eq!(bin(BinOp::UMulHi, Type::I64, u64::MAX, u64::MAX), u64::MAX - 1);
    }
}
