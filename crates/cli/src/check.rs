//! `archway check IMAGE`: is the image really ready for a platform? The options map to
//! [`archway_check::Options`]; the report goes to stdout (human, or `--json`), progress
//! and errors to stderr, and the exit code is the verdict's: ready 0, warnings 0 (1 with
//! `--strict`), blocked 1, error 2.

use crate::registry_args::RegistryArgs;
use archway_arch::Platform;
use archway_check::{check, Options, SmokeMode};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// The reference forms and examples, for `archway check --help`.
pub const EXAMPLES: &str = "\
Image references (the transports of skopeo and podman):
  oci:DIR[:TAG|@DIGEST]            an OCI image layout (also oci-layout://DIR:TAG, as buildx writes it)
  oci-archive:FILE[:TAG]           a tar of an OCI layout
  docker-archive:FILE[:REF|:@N]    what `docker save` writes
  docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry; a bare name (debian:bookworm) means docker.io
  dir:ROOTFS                       an unpacked root file system (no manifest, no config)

Examples:
  archway check docker://docker.io/library/python:3.12-slim --platform linux/arm64
  archway check oci:./out:app --json > report.json        # CI: exit 1 if blocked
  archway check docker-archive:app.tar --strict            # warnings fail too
  archway check docker://127.0.0.1:5000/team/app:1 --tls-verify=false
  archway check dir:./rootfs --platform linux/arm64 --smoke-cmd '/bin/sh -c true'

Verdicts and exit codes: ready 0, warnings 0 (1 with --strict), blocked 1, error 2 (the image
itself is broken or unreachable). --json prints {\"image\", \"verdict\", \"platforms\": [{\"platform\",
\"verdict\", \"findings\": [{\"severity\", \"kind\", \"path\", \"message\", ...}], \"smoke\": {...}}]}.";

/// The options of `archway check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The image: oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, docker://REF, dir:ROOTFS.
    pub image: String,
    /// Check only these platforms (repeatable, or comma-separated; default: every platform
    /// the image has).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_delimiter = ',', value_parser = parse_platform)]
    pub platform: Vec<Platform>,
    /// Print the report as JSON (shape in the README).
    #[arg(long)]
    pub json: bool,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Also give the ELF census of each layer.
    #[arg(long)]
    pub layers: bool,
    /// Do not run the image's entrypoint (the smoke test).
    #[arg(long, conflicts_with = "smoke_cmd")]
    pub no_smoke: bool,
    /// Run this command instead of the entrypoint in the smoke test (words split as a
    /// shell would, without expansions: '/usr/bin/python3 --version').
    #[arg(long, value_name = "'ARGV'")]
    pub smoke_cmd: Option<String>,
    /// Seconds after which a smoke test still running counts as started.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    /// Where the static interpreters for foreign platforms are (archway-aarch64; default:
    /// beside this archway).
    #[arg(long, value_name = "DIR")]
    pub interpreter_dir: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// No progress bar on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    Platform::parse(s).map_err(|e| e.to_string())
}

/// Split a `--smoke-cmd` into words: blanks separate, single and double quotes group.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quote, mut started) = (None, false);
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("--smoke-cmd {text:?}: unterminated quote"));
    }
    if started {
        words.push(word);
    }
    if words.is_empty() {
        return Err("--smoke-cmd is empty".into());
    }
    Ok(words)
}

/// Run `archway check`; the exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let smoke = match (&args.smoke_cmd, args.no_smoke) {
        (_, true) => SmokeMode::Off,
        (Some(text), false) => match split_words(text) {
            Ok(words) => SmokeMode::Command(words),
            Err(e) => {
                eprintln!("archway check: {e}");
                return 2;
            }
        },
        (None, false) => SmokeMode::Entrypoint,
    };
    let registry = match args.registry.options() {
        Ok(registry) => registry,
        Err(e) => {
            eprintln!("archway check: {e}");
            return 2;
        }
    };
    let options = Options {
        platforms: args.platform.clone(),
        per_layer: args.layers,
        smoke,
        timeout: Duration::from_secs(args.timeout.max(1)),
        interpreter_dir: args
            .interpreter_dir
            .clone()
            .or_else(|| std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from))),
        registry,
        progress: !args.quiet && !args.json,
    };
    let report = check(&args.image, &options);
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    report.verdict.exit_code(args.strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke_commands_split_like_a_shell_without_expansions() {
        assert_eq!(split_words("/usr/bin/python3 --version").unwrap(), ["/usr/bin/python3", "--version"]);
        assert_eq!(split_words("sh -c 'echo hi there'").unwrap(), ["sh", "-c", "echo hi there"]);
        assert_eq!(split_words("a \"\" b").unwrap(), ["a", "", "b"]);
        assert!(split_words("sh -c 'x").is_err());
        assert!(split_words("  ").is_err());
    }
}
