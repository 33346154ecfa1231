//! The thin builder behind `archway build`: Dockerfiles read exactly as BuildKit reads
//! them, steps run per platform (foreign `RUN`s under archway's translator, as a
//! process), one layer per step, and OCI images and indexes written.
//!
//! - [`cache`]: the step cache: content-addressed keys per step and platform, mapped
//!   to the layers the steps made.
//! - [`confined`]: paths resolved inside a root directory as in a chroot.
//! - [`context`]: the build context: `.dockerignore`, and `COPY` sources resolved inside
//!   it (wildcards, symbolic links followed inside, nothing outside reachable).
//! - [`copy`]: `COPY`/`ADD` of local files into a stage's root, with Docker's rules for
//!   destinations, owners and modes, never writing outside the root.
//! - [`diff`]: what a step changed in a root directory, from snapshots of its metadata.
//! - [`dockerfile`]: the parser. Parser directives (`# syntax`, `# escape`, `# check`),
//!   line continuations, comments, heredocs, instruction flags, and each instruction's
//!   arguments split as BuildKit's parser splits them; [`dockerfile::Node::dump`] prints
//!   BuildKit's AST dump, which the conformance tests compare.
//! - [`image_config`]: the image configuration a stage builds up, instruction by
//!   instruction, with its history.
//! - [`instructions`]: the parsed instructions as stages of typed commands, with
//!   BuildKit's checks of flags, argument counts, `RUN --mount` values and `HEALTHCHECK`
//!   timings, each error naming its line.
//! - [`manifests`]: manifest lists for `archway manifest`: create, annotate, push, rm.
//! - [`named_contexts`]: `--build-context NAME=...`: images and directories that
//!   `FROM`, `COPY --from` and `RUN --mount=from=` name.
//! - [`plan`]: which stages a build of one platform runs, on what platform and base,
//!   and where their `--from`s point.
//! - [`secrets`]: `--secret` and `--ssh`: what the caller lends `RUN` steps.
//! - [`shell`]: word expansion and splitting (`$VAR`, `${VAR:-default}`, quotes,
//!   escapes) as BuildKit's shell lexer does them, for the instructions that expand
//!   variables.
//! - [`variables`]: build arguments and their scopes (global `ARG`s, a stage's `ARG`s,
//!   the automatic `TARGET*`/`BUILD*` platform arguments, `ENV` over `ARG`).
//!
//! - [`add`]: what `ADD` does beyond `COPY`: URLs downloaded, local tar archives
//!   extracted.
//! - [`builder`]: the build itself: stages per platform, steps from the cache or run
//!   (`RUN` in private namespaces through `archway_sandbox`, foreign ones under the
//!   static translator), one layer per step, images and indexes written to the outputs.
//!
//! It never links the translator: foreign steps run it as a process, so a translator
//! crash is a failed step, not a crashed builder.

pub mod add;
pub mod builder;
pub mod cache;
pub mod confined;
pub mod context;
pub mod copy;
pub mod diff;
pub mod dockerfile;
pub mod image_config;
pub mod instructions;
pub mod manifests;
pub mod named_contexts;
pub mod plan;
pub mod secrets;
pub mod shell;
pub mod variables;
