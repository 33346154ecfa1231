//! `archway build`: build a Dockerfile for one or more platforms without a daemon
//! ([`archway_build::builder`]); `--print-ast FILE` prints BuildKit's AST dump of a
//! Dockerfile instead; `archway build prune` empties the step cache. A Dockerfile error
//! is `Dockerfile:LINE: message` and exit 1; a failed step names its line and platform.
//! Run by a normal user, the build re-executes itself in a user namespace of its own.

use crate::registry_args::RegistryArgs;
use archway_arch::Platform;
use archway_build::builder::output::Output;
use archway_build::builder::progress::ProgressMode;
use archway_build::builder::{build, default_state_dir, BuildOptions};
use archway_build::cache::StepCache;
use archway_build::dockerfile::parse_bytes;
use archway_build::named_contexts::NamedContexts;
use archway_build::secrets::Secrets;
use archway_image::write::Compression;
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// Examples, for `archway build --help`.
pub const EXAMPLES: &str = "\
Examples:
  archway build --platform linux/amd64,linux/arm64 -t app:1 -o type=oci,dest=out .
  archway build --platform linux/arm64 -o type=docker,dest=app.tar -t app:1 .   # docker/podman load -i app.tar
  archway build --platform linux/amd64,linux/arm64 -t 127.0.0.1:5000/app:1 -o type=registry --tls-verify=false .
  archway build --build-arg VERSION=2 --target test -o type=oci,dest=out.tar .
  archway build --build-context base=oci-layout://layouts/base:1 --build-context src=../src .
  archway build --secret id=npmrc,src=$HOME/.npmrc --ssh default .   # RUN --mount=type=secret,id=npmrc / type=ssh
  archway build --print-ast Dockerfile     # the instructions as BuildKit's parser sees them
  archway build prune                      # empty the step cache

Foreign RUN steps run under archway's static translator (archway-aarch64 beside archway, or
--interpreter-dir): no binfmt_misc entry is needed. SOURCE_DATE_EPOCH (environment or
--build-arg) clamps the times in the build's own layers and dates the image.";

/// The options of `archway build`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BuildArgs {
    #[command(subcommand)]
    pub command: Option<BuildCommand>,
    /// The build context directory.
    pub context: Option<PathBuf>,
    /// The Dockerfile (default: CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Platforms to build (repeatable, or comma-separated; default: the host's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_delimiter = ',', value_parser = parse_platform)]
    pub platform: Vec<Platform>,
    /// Name the image (repeatable): its tag in an OCI layout, its RepoTags in a Docker
    /// archive, where type=registry pushes.
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tag: Vec<String>,
    /// Outputs: type=oci,dest=DIR|FILE.tar, type=docker,dest=FILE.tar, type=registry.
    #[arg(short = 'o', long = "output", value_name = "OUTPUT", value_parser = Output::parse)]
    pub output: Vec<Output>,
    /// Build this stage (default: the last).
    #[arg(long)]
    pub target: Option<String>,
    /// Set a build argument (NAME=VALUE, or NAME to take it from the environment).
    #[arg(long = "build-arg", value_name = "NAME[=VALUE]")]
    pub build_arg: Vec<String>,
    /// A named context (repeatable): NAME=DIR, NAME=docker-image://REF or
    /// NAME=oci-layout://DIR[:TAG|@DIGEST]; `FROM NAME`, `COPY --from=NAME` and
    /// `RUN --mount=from=NAME` then read it.
    #[arg(long = "build-context", value_name = "NAME=VALUE")]
    pub build_context: Vec<String>,
    /// A secret for `RUN --mount=type=secret` (repeatable): id=NAME[,src=FILE|,env=VAR].
    /// Never stored in an image or the cache.
    #[arg(long = "secret", value_name = "id=NAME[,src=FILE|,env=VAR]")]
    pub secret: Vec<String>,
    /// An SSH agent for `RUN --mount=type=ssh` (repeatable): default (SSH_AUTH_SOCK's) or
    /// ID=SOCKET.
    #[arg(long = "ssh", value_name = "default|ID=SOCKET")]
    pub ssh: Vec<String>,
    /// Run every step, ignoring the step cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Progress on standard error: plain (BuildKit's lines), tty (a live view; standard
    /// error must be a terminal), quiet (failures only), or auto (tty on a terminal, plain
    /// elsewhere; BUILDKIT_PROGRESS, when set, chooses instead, as in buildx).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "plain", "tty", "quiet"])]
    pub progress: String,
    /// Layer compression: gzip, zstd or uncompressed.
    #[arg(long, value_name = "KIND", default_value = "gzip", value_parser = ["gzip", "zstd", "uncompressed"])]
    pub compression: String,
    /// Write the image's (or the index's) digest to this file.
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Where the static interpreters are (default: beside this archway).
    #[arg(long, value_name = "DIR")]
    pub interpreter_dir: Option<PathBuf>,
    /// The build's state directory (default: $XDG_CACHE_HOME/archway/build).
    #[arg(long, value_name = "DIR", env = "ARCHWAY_BUILD_STATE")]
    pub state_dir: Option<PathBuf>,
    /// Parse this Dockerfile (`-` for standard input) and print BuildKit's AST dump.
    #[arg(long, value_name = "FILE")]
    pub print_ast: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Empty the step cache (and the cache mounts).
    Prune {
        /// The build's state directory (default: $XDG_CACHE_HOME/archway/build).
        #[arg(long, value_name = "DIR", env = "ARCHWAY_BUILD_STATE")]
        state_dir: Option<PathBuf>,
    },
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    Platform::parse(s).map_err(|e| e.to_string())
}

/// Set in the environment of the build re-executed inside a user namespace.
const IN_USER_NAMESPACE: &str = "ARCHWAY_BUILD_IN_USER_NAMESPACE";

/// A rootless build runs as root of a user namespace of its own, the caller mapped to 0
/// and the caller's subordinate ids (`/etc/subuid`, `/etc/subgid`, through newuidmap) to
/// 1 and up, as `podman unshare` does: base images keep their owners, and steps may
/// switch users. Without subordinate ids only the caller's id is mapped (a warning says
/// what that costs). `Some(exit code)` when the build ran in the namespace.
fn rootless_reexec() -> Option<i32> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 || std::env::var_os(IN_USER_NAMESPACE).is_some() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("archway build: cannot find this program to run it in a user namespace: {e}");
            return Some(2);
        }
    };
    let mut unshare = std::process::Command::new("unshare");
    unshare.args(["--user", "--map-root-user"]);
    if has_subordinate_ids() {
        unshare.arg("--map-auto");
    } else {
        eprintln!(
            "[Warning] no subordinate ids for this user in /etc/subuid and /etc/subgid: only your own id is mapped, so files of base images owned by other users become yours and steps cannot switch users (add a range, as for rootless podman)"
        );
    }
    unshare.arg("--").arg(exe).args(std::env::args_os().skip(1)).env(IN_USER_NAMESPACE, "1");
    match unshare.status() {
        Ok(status) => Some(status.code().unwrap_or(1)),
        Err(e) => {
            eprintln!("archway build: running unshare (util-linux) for a rootless build: {e}");
            Some(2)
        }
    }
}

/// Whether /etc/subuid and /etc/subgid have a range for the calling user (by name or id).
fn has_subordinate_ids() -> bool {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let name = std::fs::read_to_string("/etc/passwd").ok().and_then(|passwd| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.get(2) == Some(&uid.to_string().as_str())).then(|| fields[0].to_owned())
        })
    });
    let listed = |file: &str| {
        std::fs::read_to_string(file).is_ok_and(|text| {
            text.lines().any(|line| {
                let owner = line.split(':').next().unwrap_or_default();
                owner == uid.to_string() || Some(owner) == name.as_deref()
            })
        })
    };
    listed("/etc/subuid") && listed("/etc/subgid")
}

/// Run `archway build`; the process exit code.
pub fn run(args: &BuildArgs) -> i32 {
    if let Some(BuildCommand::Prune { state_dir }) = &args.command {
        let state = state_dir.clone().unwrap_or_else(default_state_dir);
        return match StepCache::new(&state.join("steps")).prune() {
            Ok(removed) => {
                let _ = std::fs::remove_dir_all(state.join("cache-mounts"));
                println!("removed {removed} cached steps from {}", state.display());
                0
            }
            Err(e) => {
                eprintln!("archway build prune: {}: {e}", state.display());
                2
            }
        };
    }
    if let Some(file) = &args.print_ast {
        return print_ast(file);
    }
    let Some(context) = &args.context else {
        eprintln!("archway build: a build context is needed (archway build [OPTIONS] DIR; see --help)");
        return 2;
    };
    if let Some(code) = rootless_reexec() {
        return code;
    }
    let options = match options(args, context) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("archway build: {message}");
            return 2;
        }
    };
    match build(&options) {
        Ok(report) => {
            if !report.unused_build_args.is_empty() {
                eprintln!(
                    "[Warning] One or more build-args [{}] were not consumed",
                    report.unused_build_args.join(" ")
                );
            }
            println!("{}", report.digest);
            0
        }
        Err(error) => {
            eprintln!("archway build: {error}");
            if matches!(error, archway_build::builder::BuildError::Interrupted) {
                130
            } else {
                1
            }
        }
    }
}

fn options(args: &BuildArgs, context: &Path) -> Result<BuildOptions, String> {
    let mut build_args = Vec::new();
    for arg in &args.build_arg {
        match arg.split_once('=') {
            Some((name, value)) => build_args.push((name.to_owned(), value.to_owned())),
            None => {
                if let Ok(value) = std::env::var(arg) {
                    build_args.push((arg.clone(), value));
                }
            }
        }
    }
    let epoch_text = build_args
        .iter()
        .rev()
        .find(|(name, _)| name == "SOURCE_DATE_EPOCH")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var("SOURCE_DATE_EPOCH").ok());
    let source_date_epoch = match epoch_text {
        Some(text) => {
            Some(text.parse::<i64>().map_err(|_| format!("SOURCE_DATE_EPOCH={text}: not a number of seconds"))?)
        }
        None => None,
    };
    let progress = ProgressMode::choose(
        &args.progress,
        std::env::var("BUILDKIT_PROGRESS").ok().as_deref(),
        std::io::stderr().is_terminal(),
    )?;
    let compression = match args.compression.as_str() {
        "zstd" => Compression::Zstd,
        "uncompressed" => Compression::None,
        _ => Compression::Gzip,
    };
    if args.output.is_empty() {
        eprintln!(
            "[Warning] No output specified: the result will only remain in the step cache (add -o type=oci,dest=DIR)"
        );
    }
    Ok(BuildOptions {
        context: context.to_path_buf(),
        dockerfile: args.file.clone().unwrap_or_else(|| context.join("Dockerfile")),
        platforms: args.platform.clone(),
        target: args.target.clone(),
        build_args,
        tags: args.tag.clone(),
        outputs: args.output.clone(),
        no_cache: args.no_cache,
        progress,
        compression,
        source_date_epoch,
        interpreter_dir: args
            .interpreter_dir
            .clone()
            .or_else(|| std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from))),
        registry: args.registry.options()?,
        state_dir: args.state_dir.clone().unwrap_or_else(default_state_dir),
        iidfile: args.iidfile.clone(),
        named_contexts: NamedContexts::parse(&args.build_context)?,
        secrets: Secrets::parse(&args.secret, &args.ssh)?,
    })
}

fn print_ast(file: &Path) -> i32 {
    let (name, bytes) = match read(file) {
        Ok(read) => read,
        Err(message) => {
            eprintln!("archway build: {message}");
            return 2;
        }
    };
    match parse_bytes(&bytes) {
        Ok(dockerfile) => {
            for warning in &dockerfile.warnings {
                eprintln!("[WARNING]: {name}:{}: {}", warning.line, warning.message);
            }
            print!("{}", dockerfile.dump());
            0
        }
        Err(error) => {
            eprintln!("archway build: {}", error.located(&name));
            1
        }
    }
}

/// The file's name for messages and its bytes.
fn read(file: &Path) -> Result<(String, Vec<u8>), String> {
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("reading standard input: {e}"))?;
        return Ok(("Dockerfile".to_owned(), bytes));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok((file.display().to_string(), bytes))
}
