//! Comparisons and the maximum/minimum family: `FPCompare` (FCMP, FCCMP),
//! `FPCompareEQ/GE/GT` (FCMxx, FACxx), `FPMax`, `FPMin`, `FPMaxNum`, `FPMinNum`.

use super::arith::process_nans;
use super::env::{flag, Env};
use super::format::{unpack, Fmt, Kind, Unpacked};
use core::cmp::Ordering;

/// Order two non-NaN operands by value (zeros of either sign are equal).
fn order(fmt: Fmt, x: &Unpacked, y: &Unpacked) -> Ordering {
    let key = |op: &Unpacked| {
        let magnitude = fmt.magnitude(op.bits) as i64;
        if op.sign {
            -magnitude
        } else {
            magnitude
        }
    };
    key(x).cmp(&key(y))
}

/// NZCV (in bits 3..0) of `FPCompare`: 0011 unordered, 0110 equal, 1000 less, 0010
/// greater. A signalling NaN always raises Invalid, a quiet one only when `signalling`
/// (FCMPE, FCCMPE).
pub fn compare(fmt: Fmt, a: u64, b: u64, signalling: bool, env: &mut Env) -> u32 {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if x.is_nan() || y.is_nan() {
        if signalling || x.kind == Kind::SNaN || y.kind == Kind::SNaN {
            env.raise(flag::IOC);
        }
        return 0b0011;
    }
    match order(fmt, &x, &y) {
        Ordering::Equal => 0b0110,
        Ordering::Less => 0b1000,
        Ordering::Greater => 0b0010,
    }
}

/// The conditions of the vector compare instructions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Condition {
    /// FCMEQ: quiet (only signalling NaNs raise Invalid).
    Eq,
    /// FCMGE: signalling.
    Ge,
    /// FCMGT: signalling.
    Gt,
}

/// `FPCompareEQ`/`FPCompareGE`/`FPCompareGT`: `a cond b`; false when unordered.
pub fn compare_cond(fmt: Fmt, cond: Condition, a: u64, b: u64, env: &mut Env) -> bool {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if x.is_nan() || y.is_nan() {
        if cond != Condition::Eq || x.kind == Kind::SNaN || y.kind == Kind::SNaN {
            env.raise(flag::IOC);
        }
        return false;
    }
    let ord = order(fmt, &x, &y);
    match cond {
        Condition::Eq => ord == Ordering::Equal,
        Condition::Ge => ord != Ordering::Less,
        Condition::Gt => ord == Ordering::Greater,
    }
}

/// `FPMax` (`max`) or `FPMin`: NaN operands propagate; `max(+0, -0)` is +0 and
/// `min(+0, -0)` is -0.
pub fn max_min(fmt: Fmt, a: u64, b: u64, max: bool, env: &mut Env) -> u64 {
    let x = unpack(fmt, a, env);
    let y = unpack(fmt, b, env);
    if let Some(nan) = process_nans(fmt, &[x, y], env) {
        return nan;
    }
    let wanted = if max { Ordering::Greater } else { Ordering::Less };
    let pick = if order(fmt, &x, &y) == wanted { x } else { y };
    if pick.is_zero() {
        fmt.zero(if max { x.sign && y.sign } else { x.sign || y.sign })
    } else {
        pick.bits
    }
}

/// `FPMaxNum`/`FPMinNum` (FMAXNM, FMINNM): a single quiet NaN operand loses to any
/// other value, as if it were the infinity on the far side.
pub fn max_min_num(fmt: Fmt, a: u64, b: u64, max: bool, env: &mut Env) -> u64 {
    let (a_quiet, b_quiet) = (fmt.is_quiet_nan(a), fmt.is_quiet_nan(b));
    let loser = fmt.infinity(max);
    let (a, b) = match (a_quiet, b_quiet) {
        (true, false) => (loser, b),
        (false, true) => (a, loser),
        _ => (a, b),
    };
    max_min(fmt, a, b, max, env)
}
