//! The `archway` command line: argument parsing, logging setup, and launching a
//! guest program. Shared by the `archway` binary and the per-guest interpreter
//! binaries (`archway-aarch64`) that binfmt_misc runs; `archway binfmt`, which
//! registers them; `archway check`, the image readiness check; `archway build`; and
//! `archway manifest`.
//!
//! Modules: [`launch`] (start a guest program), [`interpreter`] (the per-guest
//! interpreter binaries' entry), [`binfmt`], [`check`], [`build`], [`manifest`] (the
//! subcommands), [`registry_args`] (the registry flags they share), [`logging`].

pub mod binfmt;
pub mod build;
pub mod check;
pub mod interpreter;
pub mod launch;
pub mod logging;
pub mod manifest;
pub mod registry_args;
