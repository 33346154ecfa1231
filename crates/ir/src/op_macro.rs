//! The `ir_ops!` macro, which turns the op table in [`crate::op`] into code, and the two
//! small functions the table's `valid` rules use ([`need`], [`run_rule`]).
//!
//! The table is the one place an op is described; see `ADDING_AN_OP.md` in this crate
//! for what remains to write by hand (interpreter, emitter, golden case).

use crate::types::Type;

/// A typing rule's verdict: `Ok` when `holds`, else `Err(why)`.
pub(crate) fn need(holds: bool, why: &'static str) -> Result<(), &'static str> {
    if holds {
        Ok(())
    } else {
        Err(why)
    }
}

/// Apply a table row's `valid` rule to the instruction type `ty` (a function rather than a
/// call of the closure in place, so that the closure's argument type is known).
pub(crate) fn run_rule(ty: Type, rule: impl FnOnce(Type) -> Result<(), &'static str>) -> Result<(), &'static str> {
    rule(ty)
}

/// Declares the IR op enum from a table with one row per op, and generates from the same
/// rows: the enum itself, `operands()` and `map_operands()` (operand iteration),
/// `has_side_effects()`, `Display` (the text form), the typing check the verifier runs
/// (`check_types()`), and the `BlockBuilder` methods.
///
/// The table looks like an enum whose variants carry extra columns:
///
/// ```text
/// /// Two-operand integer operations; both operands and the result have the same type.
/// Bin { op: BinOp, a: Value, b: Value } => {
///     text: "{op:?} {a}, {b}",
///     side_effects: false,
///     builder: bin -> type_of(a),
///     valid: |ty| need(ty.is_int() && a == ty && b == ty, "binary op operands must match the result type"),
/// },
/// ```
///
/// - **Fields** (`Name { field: Type, .. }`, or `Name(field: Type, ..)` for a tuple variant,
///   whose field names are used only by the other columns): a field spelled `Value` is an
///   operand; operands are read in field order. One last field spelled `Vec<Value>` holds a
///   variable number of operands after them. Any other field is plain data (a type, an
///   immediate, a sub-op kind) and must be `Copy`. At most three `Value` fields.
/// - **`text`**: the text form, a format string over the fields by name. An operand prints
///   as `v7`, a `Vec<Value>` as `v1, v2`, data through its own `Display`/`Debug`.
/// - **`side_effects`**: `true` when the op does something besides producing its value;
///   such ops are never removed by dead-code elimination.
/// - **`builder`** (optional): the name of the `BlockBuilder` method to generate, which takes
///   the fields in order, and the rule for the type of its result: `none` (no value, the
///   method returns nothing), `given` (the method takes `ty: Type` first), a fixed type such as
///   `I32`, or `type_of(field)` (the type of that operand).
/// - **`valid`**: the verifier's typing rule, `|ty| ...` returning `Result<(), &'static str>`
///   (usually through [`need`]). Inside it, `ty` is the instruction's type, an operand field
///   names its operand's `Type`, a `Vec<Value>` field is an iterator over its operands'
///   types, and a data field is its value. The verifier checks that operands are defined
///   before it applies the rule.
macro_rules! ir_ops {
    // ---- Reading the rows, one at a time, into a uniform shape for `@emit`. ----

    // All rows read.
    (@row $head:tt [$($done:tt)*]) => {
        $crate::op_macro::ir_ops!(@emit $head $($done)*);
    };
    // One row: its columns, then its fields (the field group is passed twice: once to
    // parse for the enum and the builder, once kept as tokens for `@classify`).
    (@row $head:tt [$($done:tt)*]
        $(#[$doc:meta])* $name:ident $fields:tt => {
            text: $text:literal,
            side_effects: $effects:literal,
            $(builder: $builder:ident -> $result:ident $(($result_of:ident))?,)?
            valid: $valid:expr $(,)?
        } $(, $($rest:tt)*)?
    ) => {
        $crate::op_macro::ir_ops!(@fields $head [$($done)*]
            [[$(#[$doc])*] $name $fields]
            [$text $effects [$($builder $result $(($result_of))?)?] $valid]
            $fields $($($rest)*)?);
    };
    // A struct variant: declaration `{ f: T, .. }`, pattern `{ f, .. }`.
    (@fields $head:tt [$($done:tt)*] [$($front:tt)*] [$($back:tt)*]
        { $($f:ident : $t:ty),* $(,)? } $($rest:tt)*
    ) => {
        $crate::op_macro::ir_ops!(@row $head
            [$($done)* [$($front)* { $(#[doc = "See the variant."] $f: $t),* } { $($f),* } ($($f: $t),*) $($back)*]]
            $($rest)*);
    };
    // A tuple variant: declaration `(T, ..)`, pattern `(f, ..)`.
    (@fields $head:tt [$($done:tt)*] [$($front:tt)*] [$($back:tt)*]
        ( $($f:ident : $t:ty),* $(,)? ) $($rest:tt)*
    ) => {
        $crate::op_macro::ir_ops!(@row $head
            [$($done)* [$($front)* ( $($t),* ) ( $($f),* ) ($($f: $t),*) $($back)*]]
            $($rest)*);
    };

    // ---- Sorting a row's fields into operands, variadic operands and data. ----
    // `@classify [CONTINUATION..] [operands] [variadic] [data] FIELDS` ends by invoking
    // `ir_ops!(CONTINUATION.. [operands] [variadic] [data])`.

    (@classify $k:tt $r:tt $v:tt $d:tt { $($fields:tt)* }) => {
        $crate::op_macro::ir_ops!(@classify $k $r $v $d [$($fields)*])
    };
    (@classify $k:tt $r:tt $v:tt $d:tt ( $($fields:tt)* )) => {
        $crate::op_macro::ir_ops!(@classify $k $r $v $d [$($fields)*])
    };
    (@classify [$($k:tt)*] $r:tt $v:tt $d:tt []) => {
        $crate::op_macro::ir_ops!($($k)* $r $v $d)
    };
    (@classify $k:tt [$($r:ident)*] [] $d:tt [$f:ident : Value $(, $($more:tt)*)?]) => {
        $crate::op_macro::ir_ops!(@classify $k [$($r)* $f] [] $d [$($($more)*)?])
    };
    (@classify $k:tt $r:tt [$v:ident] $d:tt [$f:ident : Value $($more:tt)*]) => {
        compile_error!(concat!("operand `", stringify!($f), "` must come before the `Vec<Value>` field"))
    };
    (@classify $k:tt $r:tt [] $d:tt [$f:ident : Vec<Value> $(, $($more:tt)*)?]) => {
        $crate::op_macro::ir_ops!(@classify $k $r [$f] $d [$($($more)*)?])
    };
    (@classify $k:tt $r:tt [$v:ident] $d:tt [$f:ident : Vec<Value> $($more:tt)*]) => {
        compile_error!(concat!("a second `Vec<Value>` field: `", stringify!($f), "`"))
    };
    (@classify $k:tt $r:tt $v:tt [$($d:ident)*] [$f:ident : $t:ty $(, $($more:tt)*)?]) => {
        $crate::op_macro::ir_ops!(@classify $k $r $v [$($d)* $f] [$($($more)*)?])
    };

    // `operands()`: up to three fixed operands, then the variadic ones.
    (@operands [$($r:ident)*] [$($v:ident)?] $d:tt) => {{
        let (fixed, count) = $crate::op_macro::ir_ops!(@pad $($r)*);
        (fixed, count, $crate::op_macro::ir_ops!(@variadic $($v)?))
    }};
    (@pad) => { ([$crate::types::Value(0); 3], 0) };
    (@pad $a:ident) => { ([*$a, $crate::types::Value(0), $crate::types::Value(0)], 1) };
    (@pad $a:ident $b:ident) => { ([*$a, *$b, $crate::types::Value(0)], 2) };
    (@pad $a:ident $b:ident $c:ident) => { ([*$a, *$b, *$c], 3) };
    (@pad $($r:ident)*) => {
        compile_error!(concat!("more than three `Value` fields:", $(" ", stringify!($r)),*, "; use a `Vec<Value>`"))
    };
    (@variadic) => { &[] };
    (@variadic $v:ident) => { $v.as_slice() };

    // `map_operands()`: rewrite each operand through `$f`.
    (@map $f:ident [$($r:ident)*] [$($v:ident)?] $d:tt) => {{
        $( *$r = $f(*$r); )*
        $( $v.iter_mut().for_each(|value| *value = $f(*value)); )?
    }};

    // `check_types()`: rebind operands to their types and data to its value.
    (@types $type_of:ident [$($r:ident)*] [$($v:ident)?] [$($d:ident)*]) => {
        $( let $r = $type_of(*$r); )*
        $( #[allow(unused_mut)] let mut $v = $v.iter().map(|value| $type_of(*value)); )?
        $( let $d = *$d; )*
    };

    // `Display`: a `Vec<Value>` prints as a list.
    (@text $r:tt [$($v:ident)?] $d:tt) => {
        $( let $v = $crate::display::ValueList($v); )?
    };

    // ---- Builder methods. ----

    (@builder [] $($row:tt)*) => {};
    (@builder [$method:ident none] $Op:ident $name:ident $pat:tt ($($param:tt)*)) => {
        #[doc = concat!("Append [`", stringify!($Op), "::", stringify!($name), "`] (no result).")]
        pub fn $method(&mut self, $($param)*) {
            self.push($crate::types::Type::Void, $Op::$name $pat);
        }
    };
    (@builder [$method:ident given] $Op:ident $name:ident $pat:tt ($($param:tt)*)) => {
        #[doc = concat!("Append [`", stringify!($Op), "::", stringify!($name), "`] with result type `ty`.")]
        pub fn $method(&mut self, ty: $crate::types::Type, $($param)*) -> $crate::types::Value {
            self.push(ty, $Op::$name $pat)
        }
    };
    (@builder [$method:ident type_of($of:ident)] $Op:ident $name:ident $pat:tt ($($param:tt)*)) => {
        #[doc = concat!(
            "Append [`", stringify!($Op), "::", stringify!($name), "`]; its type is `",
            stringify!($of), "`'s."
        )]
        pub fn $method(&mut self, $($param)*) -> $crate::types::Value {
            let ty = self.ty($of);
            self.push(ty, $Op::$name $pat)
        }
    };
    (@builder [$method:ident $fixed:ident] $Op:ident $name:ident $pat:tt ($($param:tt)*)) => {
        #[doc = concat!(
            "Append [`", stringify!($Op), "::", stringify!($name), "`], of type `", stringify!($fixed), "`."
        )]
        pub fn $method(&mut self, $($param)*) -> $crate::types::Value {
            self.push($crate::types::Type::$fixed, $Op::$name $pat)
        }
    };

    // ---- Everything, from the uniform rows. ----

    (@emit [$(#[$meta:meta])* $vis:vis enum $Op:ident]
        $([
            [$($doc:tt)*] $name:ident $raw:tt $decl:tt $pat:tt $params:tt
            $text:literal $effects:literal $builder:tt $valid:expr
        ])*
    ) => {
        $(#[$meta])*
        $vis enum $Op {
            $( $($doc)* $name $decl, )*
        }

        impl $Op {
            /// The values this op reads, in order (without allocating: the translator asks
            /// for every instruction's operands several times per block).
            #[allow(unused_variables)]
            pub fn operands(&self) -> impl Iterator<Item = $crate::types::Value> + '_ {
                let (fixed, count, variadic): ([$crate::types::Value; 3], usize, &[$crate::types::Value]) =
                    match self {
                        $( $Op::$name $pat => $crate::op_macro::ir_ops!(@classify [@operands] [] [] [] $raw), )*
                    };
                fixed.into_iter().take(count).chain(variadic.iter().copied())
            }

            /// Rewrite every operand through `f` (used by passes that replace values).
            #[allow(unused_variables)]
            pub fn map_operands(&mut self, mut f: impl FnMut($crate::types::Value) -> $crate::types::Value) {
                match self {
                    $( $Op::$name $pat => $crate::op_macro::ir_ops!(@classify [@map f] [] [] [] $raw), )*
                }
            }

            /// True when the op does something besides producing its value (memory, state,
            /// helpers). Such ops are never removed by DCE. Loads count: a dead load to a bad
            /// address must still fault, as it does on hardware.
            pub fn has_side_effects(&self) -> bool {
                match self {
                    $( $Op::$name { .. } => $effects, )*
                }
            }

            /// Whether the instruction type `ty` and the operand types (`type_of`) obey the op's
            /// typing rule; the operands must be defined values. `Err` says why not.
            #[allow(unused_variables)]
            pub(crate) fn check_types(
                &self,
                ty: $crate::types::Type,
                type_of: impl Fn($crate::types::Value) -> $crate::types::Type,
            ) -> Result<(), &'static str> {
                match self {
                    $( $Op::$name $pat => {
                        $crate::op_macro::ir_ops!(@classify [@types type_of] [] [] [] $raw);
                        $crate::op_macro::run_rule(ty, $valid)
                    } )*
                }
            }
        }

        impl core::fmt::Display for $Op {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self {
                    $( $Op::$name $pat => {
                        $crate::op_macro::ir_ops!(@classify [@text] [] [] [] $raw);
                        write!(f, $text)
                    } )*
                }
            }
        }

        impl $crate::block::BlockBuilder {
            $( $crate::op_macro::ir_ops!(@builder $builder $Op $name $pat $params); )*
        }
    };

    // ---- Entry: `ir_ops! { /// docs  #[derive(..)]  pub enum Op { ROWS } }`. ----

    ($(#[$meta:meta])* $vis:vis enum $Op:ident { $($rows:tt)* }) => {
        $crate::op_macro::ir_ops!(@row [$(#[$meta])* $vis enum $Op] [] $($rows)*);
    };
}

pub(crate) use ir_ops;
