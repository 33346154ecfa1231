//! Build arguments and their scopes, as BuildKit and buildx define them.
//!
//! - The automatic platform arguments, `TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT
//!   BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT`, are set in the global scope (the
//!   `FROM` lines), and inside a stage only once the stage declares them (`ARG
//!   TARGETARCH`). The proxy variables (`HTTP_PROXY`...) need no declaration.
//! - A global `ARG` (before the first `FROM`) has its default, or the `--build-arg`
//!   value; it is visible in `FROM` lines, and in a stage only after an `ARG NAME` there,
//!   which then takes the global value unless it has a default of its own.
//! - A stage's `ARG NAME[=DEFAULT]` takes the `--build-arg` value if one is given, else
//!   its default (expanded with what is in scope), else the global one; declared without
//!   any value it stays unset.
//! - `ENV` wins over an `ARG` of the same name when words are expanded and in a `RUN`'s
//!   environment. `ARG` values reach `RUN` steps but never the image config.
//! - `--build-arg`s no `ARG` consumed are reported, as docker warns about them.

use crate::instructions::ArgDefinition;
use crate::shell::{Expansion, Lexer, ShellError};
use archway_arch::Platform;
use std::collections::BTreeSet;

/// Proxy variables usable without an `ARG`, as in docker.
const PROXY_ARGS: [&str; 8] =
    ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy"];

/// `NAME=value` pairs in definition order (later ones win on lookup).
pub type Assignments = Vec<(String, String)>;

/// The `--build-arg`s of a build, and which of them an `ARG` used.
#[derive(Debug, Clone, Default)]
pub struct BuildArgs {
    given: Assignments,
    used: BTreeSet<String>,
}

impl BuildArgs {
    /// `NAME=value` pairs from `--build-arg` (a later one for the same name wins).
    pub fn new(given: Assignments) -> BuildArgs {
        BuildArgs { given, used: BTreeSet::new() }
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let value = self.given.iter().rev().find(|(given, _)| given == name).map(|(_, v)| v.clone())?;
        self.used.insert(name.to_owned());
        Some(value)
    }

    /// The proxy variables given, which need no `ARG`.
    fn proxies(&mut self) -> Assignments {
        PROXY_ARGS.iter().filter_map(|name| Some(((*name).to_owned(), self.take(name)?))).collect()
    }

    /// Build arguments no `ARG` declared.
    pub fn unused(&self) -> Vec<String> {
        let names: BTreeSet<&String> = self.given.iter().map(|(name, _)| name).collect();
        names.into_iter().filter(|name| !self.used.contains(*name)).cloned().collect()
    }
}

/// The automatic platform arguments for a build of `target` on `build`.
pub fn platform_args(target: &Platform, build: &Platform) -> Assignments {
    let mut args = Vec::new();
    for (prefix, platform) in [("TARGET", target), ("BUILD", build)] {
        let platform = platform.normalize();
        args.push((format!("{prefix}PLATFORM"), platform.to_string()));
        args.push((format!("{prefix}OS"), platform.os.clone()));
        args.push((format!("{prefix}ARCH"), platform.architecture.clone()));
        args.push((format!("{prefix}VARIANT"), platform.variant.clone()));
    }
    args
}

/// The global scope: the automatic arguments, the proxies given, and the global `ARG`s
/// in order, each default expanded with those before it.
pub fn global_scope(
    definitions: &[ArgDefinition],
    build_args: &mut BuildArgs,
    automatic: &Assignments,
    lexer: &Lexer,
) -> Result<Assignments, ShellError> {
    let mut scope = automatic.clone();
    scope.extend(build_args.proxies());
    for definition in definitions {
        let value = match build_args.take(&definition.name) {
            Some(value) => Some(value),
            None => match &definition.default {
                Some(default) => Some(lexer.expand_word(default, &scope)?.word),
                None => None,
            },
        };
        if let Some(value) = value {
            scope.push((definition.name.clone(), value));
        }
    }
    Ok(scope)
}

/// The variables of one stage as the build goes through it.
#[derive(Debug, Clone, Default)]
pub struct StageScope {
    /// `ENV` values: the base image's, then the stage's own.
    pub env: Assignments,
    /// `ARG`s declared in the stage (and the proxies), with their values.
    pub args: Assignments,
}

impl StageScope {
    /// A stage starting from a base image with this environment.
    pub fn new(base_env: Assignments, build_args: &mut BuildArgs) -> StageScope {
        StageScope { env: base_env, args: build_args.proxies() }
    }

    /// What words are expanded with: the arguments, then `ENV` (which wins).
    pub fn expansion_env(&self) -> Assignments {
        self.args.iter().chain(&self.env).cloned().collect()
    }

    /// Expand one word with the stage's variables.
    pub fn expand(&self, lexer: &Lexer, word: &str) -> Result<Expansion, ShellError> {
        lexer.expand_word(word, &self.expansion_env())
    }

    /// `ARG NAME[=DEFAULT]` in this stage.
    pub fn declare(
        &mut self,
        definition: &ArgDefinition,
        global: &Assignments,
        build_args: &mut BuildArgs,
        lexer: &Lexer,
    ) -> Result<(), ShellError> {
        let value = match build_args.take(&definition.name) {
            Some(value) => Some(value),
            None => match &definition.default {
                Some(default) => Some(self.expand(lexer, default)?.word),
                None => global.iter().rev().find(|(name, _)| *name == definition.name).map(|(_, v)| v.clone()),
            },
        };
        self.args.retain(|(name, _)| *name != definition.name);
        if let Some(value) = value {
            self.args.push((definition.name.clone(), value));
        }
        Ok(())
    }

    /// `ENV NAME=VALUE`: replaces an earlier value of the name.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// The environment of a `RUN`: the arguments not shadowed by `ENV`, then `ENV`.
    pub fn run_env(&self) -> Assignments {
        let shadowed = |name: &String| self.env.iter().any(|(env, _)| env == name);
        self.args.iter().filter(|(name, _)| !shadowed(name)).chain(&self.env).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(name: &str, default: Option<&str>) -> ArgDefinition {
        ArgDefinition { name: name.into(), default: default.map(Into::into) }
    }

    fn lookup(assignments: &Assignments, name: &str) -> Option<String> {
        assignments.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn automatic_platform_arguments() {
        let args = platform_args(&Platform::parse("linux/arm64/v8").unwrap(), &Platform::parse("linux/amd64").unwrap());
        assert_eq!(lookup(&args, "TARGETPLATFORM").as_deref(), Some("linux/arm64"));
        assert_eq!(lookup(&args, "TARGETARCH").as_deref(), Some("arm64"));
        assert_eq!(lookup(&args, "TARGETVARIANT").as_deref(), Some(""));
        assert_eq!(lookup(&args, "BUILDPLATFORM").as_deref(), Some("linux/amd64"));
    }

    #[test]
    fn scopes_as_buildkit() {
        let lexer = Lexer::new('\\');
        let mut build_args = BuildArgs::new(vec![
            ("VERSION".into(), "2".into()),
            ("UNUSED".into(), "x".into()),
            ("HTTP_PROXY".into(), "http://proxy".into()),
        ]);
        let automatic = platform_args(&Platform::parse("linux/arm64").unwrap(), &Platform::host());
        let global = global_scope(
            &[arg("VERSION", Some("1")), arg("BASE", Some("debian:${VERSION}"))],
            &mut build_args,
            &automatic,
            &lexer,
        )
        .unwrap();
        assert_eq!(lookup(&global, "BASE").as_deref(), Some("debian:2"));
        let mut stage = StageScope::new(vec![("PATH".into(), "/bin".into())], &mut build_args);
        assert_eq!(stage.expand(&lexer, "${VERSION:-unset}").unwrap().word, "unset");
        stage.declare(&arg("VERSION", None), &global, &mut build_args, &lexer).unwrap();
        stage.declare(&arg("TARGETARCH", None), &automatic, &mut build_args, &lexer).unwrap();
        stage.declare(&arg("EMPTY", None), &global, &mut build_args, &lexer).unwrap();
        assert_eq!(stage.expand(&lexer, "$VERSION-$TARGETARCH-${EMPTY:-none}").unwrap().word, "2-arm64-none");
        stage.set_env("VERSION", "from-env");
        assert_eq!(stage.expand(&lexer, "$VERSION").unwrap().word, "from-env");
        let run_env = stage.run_env();
        assert_eq!(lookup(&run_env, "VERSION").as_deref(), Some("from-env"));
        assert_eq!(lookup(&run_env, "HTTP_PROXY").as_deref(), Some("http://proxy"));
        assert_eq!(build_args.unused(), ["UNUSED"]);
    }
}
