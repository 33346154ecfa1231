//! The `archway` command line: argument parsing, logging setup, and launching a
//! guest program. Shared by the `archway` binary and the per-guest interpreter
//! binaries (`archway-aarch64`) that binfmt_misc runs; `archway binfmt`, which
//! registers them; `archway check`, the image readiness check; `archway build`; and
//! `archway manifest`.

pub mod binfmt;
pub mod build;
pub mod check;
pub mod interpreter;
pub mod launch;
pub mod logging;
pub mod manifest;
pub mod registry_args;
