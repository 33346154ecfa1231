//! Value types and SSA value handles.

/// The type of an IR value. Integers only: floating point work is done by helpers
/// and vector work by [`crate::Op::Vec`] (and helpers), both on the guest state, so
/// the IR stays small and every back end can emit all of it.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub enum Type {
    /// No value (stores, state writes, fences).
    Void,
    /// A boolean, the result of comparisons and condition tests.
    I1,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

impl Type {
    /// Width in bits (0 for `Void`).
    pub const fn bits(self) -> u32 {
        match self {
            Type::Void => 0,
            Type::I1 => 1,
            Type::I8 => 8,
            Type::I16 => 16,
            Type::I32 => 32,
            Type::I64 => 64,
        }
    }

    /// Width in bytes of a memory access of this type (I1 is not a memory type).
    pub const fn bytes(self) -> u32 {
        self.bits() / 8
    }

    /// Mask of the bits a value of this type occupies in a `u64`.
    pub const fn mask(self) -> u64 {
        match self {
            Type::Void => 0,
            Type::I64 => u64::MAX,
            t => (1u64 << t.bits()) - 1,
        }
    }

    /// The integer type with this many bytes, for memory accesses.
    pub const fn from_bytes(bytes: u32) -> Option<Type> {
        match bytes {
            1 => Some(Type::I8),
            2 => Some(Type::I16),
            4 => Some(Type::I32),
            8 => Some(Type::I64),
            _ => None,
        }
    }

    /// True for the types arithmetic works on (I8..I64).
    pub const fn is_int(self) -> bool {
        matches!(self, Type::I8 | Type::I16 | Type::I32 | Type::I64)
    }
}

/// An SSA value: the index of the instruction in its block that produced it.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

impl Value {
    /// The instruction index this value is the result of.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}
