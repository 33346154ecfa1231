//! The `archway` command line: argument parsing, logging setup, and launching a
//! guest program. Shared by the `archway` binary and the per-guest interpreter
//! binaries (`archway-aarch64`) that binfmt_misc runs, and `archway binfmt`,
//! which registers them.

pub mod binfmt;
pub mod interpreter;
pub mod launch;
pub mod logging;
