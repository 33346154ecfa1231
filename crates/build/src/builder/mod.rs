//! `archway build`: a Dockerfile built for one or more platforms, without a daemon.
//!
//! The Dockerfile is parsed once and every platform planned ([`crate::plan`]) before any
//! step runs; the platforms then build at the same time, one thread each as far as
//! there are cores (the first to fail stops the others), each running the stages its
//! target needs in order ([`stage`]): `FROM` images are pulled
//! into the build's blob store ([`base`]), each filesystem step is found in the step
//! cache or run on a root made from the layers so far ([`root`]), `RUN` in private
//! namespaces through `archway_sandbox` (a foreign platform under archway's static
//! translator, no binfmt_misc entry), and each step's changes become one layer
//! ([`layers`]). The images (and an index over several platforms) are written to the
//! outputs at the end ([`output`]); progress goes to standard error ([`progress`]).
//! `COPY --from`, bind mounts and named contexts find their trees through [`sources`];
//! secrets and ssh agents reach a step through [`secret_mounts`]; a base's `ONBUILD`
//! triggers run first ([`triggers`]). Ctrl-C and `kill` cancel the build ([`interrupt`]).
//!
//! State lives in one directory (default `$XDG_CACHE_HOME/archway/build`): `store/`
//! (blobs by digest: pulled bases, built layers, configs, manifests), `steps/` (the step
//! cache), `cache-mounts/` (`RUN --mount=type=cache`), and `tmp/` (this build's roots,
//! removed at the end).

pub mod base;
pub mod interrupt;
pub mod layers;
pub mod output;
pub mod progress;
pub mod root;
pub mod secret_mounts;
pub mod sources;
pub mod stage;
pub mod triggers;

use crate::cache::{KeyBuilder, StepCache};
use crate::context::Context;
use crate::dockerfile::parse_bytes;
use crate::image_config::ImageConfig;
use crate::instructions::{stages, ArgDefinition, Stages};
use crate::named_contexts::{NamedContext, NamedContexts};
use crate::plan::{plan, Base, Plan};
use crate::secrets::Secrets;
use crate::shell::Lexer;
use crate::variables::{global_scope, platform_args, Assignments, BuildArgs};
use archway_arch::Platform;
use archway_image::write::{BlobStore, Compression, LayerOptions};
use archway_image::RegistryOptions;
use oci_spec::image::Descriptor;
use output::{Output, PlatformResult};
use progress::{Progress, ProgressMode};
use stage::{run_stage, StageResult, StageStart};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What to build and where to put it.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The build context directory.
    pub context: PathBuf,
    /// The Dockerfile (default `CONTEXT/Dockerfile`).
    pub dockerfile: PathBuf,
    /// The platforms (empty: the host's).
    pub platforms: Vec<Platform>,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    /// `-t` references.
    pub tags: Vec<String>,
    pub outputs: Vec<Output>,
    pub no_cache: bool,
    pub progress: ProgressMode,
    pub compression: Compression,
    /// Clamp times in the build's own layers and date the config (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<i64>,
    /// Where the static interpreters (`archway-aarch64`) are.
    pub interpreter_dir: Option<PathBuf>,
    pub registry: RegistryOptions,
    /// The build's state directory.
    pub state_dir: PathBuf,
    /// Write the top document's digest here (`--iidfile`).
    pub iidfile: Option<PathBuf>,
    /// `--build-context NAME=...`.
    pub named_contexts: NamedContexts,
    /// `--secret` and `--ssh`.
    pub secrets: Secrets,
}

/// What went wrong.
#[derive(Debug)]
pub enum BuildError {
    /// The Dockerfile does not parse, or an instruction is wrong: `Dockerfile:LINE: ...`.
    Dockerfile(String),
    /// A step failed.
    Step {
        line: usize,
        platform: String,
        message: String,
    },
    /// A `FROM` image could not be read.
    Base(String, String),
    /// A stage root could not be made.
    Root(PathBuf, String),
    Layer(String),
    Output(String),
    Io(PathBuf, String),
    /// SIGINT, SIGTERM or SIGHUP stopped the build.
    Interrupted,
    /// Stopped because another platform's build failed.
    Cancelled,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Dockerfile(message) => write!(f, "{message}"),
            BuildError::Step { line, platform, message } => write!(f, "Dockerfile:{line}: [{platform}] {message}"),
            BuildError::Base(reference, message) => write!(f, "FROM {reference}: {message}"),
            BuildError::Root(dir, message) => write!(f, "making the stage root {}: {message}", dir.display()),
            BuildError::Layer(message) => write!(f, "writing a layer: {message}"),
            BuildError::Output(message) => write!(f, "writing the output: {message}"),
            BuildError::Io(path, message) => write!(f, "{}: {message}", path.display()),
            BuildError::Interrupted => write!(f, "interrupted: the running step was stopped and nothing was written"),
            BuildError::Cancelled => write!(f, "cancelled: another platform's build failed"),
        }
    }
}

impl std::error::Error for BuildError {}

/// What every stage of the build shares.
pub struct Shared<'a> {
    pub blobs: &'a BlobStore,
    pub cache: &'a StepCache,
    pub context: &'a Context,
    pub escape: char,
    pub no_cache: bool,
    pub layer_options: LayerOptions,
    /// This build's scratch directory.
    pub work: PathBuf,
    /// The state directory.
    pub state: PathBuf,
    /// `created` of history entries and the config.
    pub created: Option<String>,
    /// Cancelled by Ctrl-C ([`interrupt`]): stops the running step.
    pub cancel: Option<archway_sandbox::Cancel>,
    /// `--build-context`s.
    pub named: &'a NamedContexts,
    pub registry: &'a RegistryOptions,
    pub secrets: &'a Secrets,
    /// Images resolved so far, by reference and platform ([`sources::image`]).
    pub images: Mutex<HashMap<String, base::BaseImage>>,
    /// Numbers the names [`Shared::scratch`] gives.
    scratch_names: AtomicUsize,
    interpreter_dir: Option<PathBuf>,
}

impl Shared<'_> {
    /// Whether the build was stopped (Ctrl-C, or another platform failed).
    pub fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(archway_sandbox::Cancel::is_cancelled)
    }

    /// A new path in the build's scratch directory, never handed out before (platforms
    /// build at the same time).
    pub fn scratch(&self, what: &str) -> PathBuf {
        self.work.join(format!("{what}-{}", self.scratch_names.fetch_add(1, Ordering::Relaxed)))
    }

    /// Stop every platform's running step and the steps not started.
    fn cancel_all(&self) {
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }

    /// The static interpreter for a foreign platform (`None` for the host's).
    pub fn interpreter_for(&self, platform: &Platform) -> Option<PathBuf> {
        let arch = platform.arch()?;
        if platform.normalize().architecture == Platform::host().normalize().architecture {
            return None;
        }
        let dir = self.interpreter_dir.clone()?;
        Some(dir.join(format!("archway-{}", arch.kernel)))
    }
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The digest of the top document (the index for several platforms).
    pub digest: String,
    /// Build arguments no `ARG` used.
    pub unused_build_args: Vec<String>,
}

/// Removes the build's scratch directory however the build ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run a build.
pub fn build(options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let text =
        std::fs::read(&options.dockerfile).map_err(|e| BuildError::Io(options.dockerfile.clone(), e.to_string()))?;
    let file_name = options.dockerfile.file_name().map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    let dockerfile = parse_bytes(&text).map_err(|e| BuildError::Dockerfile(e.located(&file_name)))?;
    let stages = stages(&dockerfile).map_err(|e| BuildError::Dockerfile(e.located(&file_name)))?;
    let context =
        Context::open(&options.context, None).map_err(|e| BuildError::Io(options.context.clone(), e.to_string()))?;
    let store_dir = options.state_dir.join("store");
    let blobs = BlobStore::new(&store_dir).map_err(|e| BuildError::Io(store_dir.clone(), e.to_string()))?;
    let cache = StepCache::new(&options.state_dir.join("steps"));
    let work = options.state_dir.join("tmp").join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| BuildError::Io(work.clone(), e.to_string()))?;
    let scratch = Scratch(work.clone());
    let created = options.source_date_epoch.map(rfc3339);
    let shared = Shared {
        blobs: &blobs,
        cache: &cache,
        context: &context,
        escape: dockerfile.escape,
        no_cache: options.no_cache,
        layer_options: LayerOptions {
            compression: options.compression,
            source_date_epoch: options.source_date_epoch,
            id_map: None,
        },
        work: work.clone(),
        state: options.state_dir.clone(),
        created,
        cancel: interrupt::token(),
        named: &options.named_contexts,
        registry: &options.registry,
        secrets: &options.secrets,
        images: Mutex::new(HashMap::new()),
        scratch_names: AtomicUsize::new(0),
        interpreter_dir: options.interpreter_dir.clone(),
    };
    let progress = Progress::new(options.progress);
    let platforms = if options.platforms.is_empty() { vec![Platform::host()] } else { options.platforms.clone() };
    let global_definitions: Vec<ArgDefinition> = stages.global_args.iter().flat_map(|s| s.command.clone()).collect();
    let lexer = Lexer::new(dockerfile.escape);
    // Every platform planned first: a Dockerfile error stops the build before any step.
    let mut jobs = Vec::new();
    for platform in &platforms {
        let mut build_args = BuildArgs::new(options.build_args.clone());
        let automatic = platform_args(platform, &Platform::host());
        let global = global_scope(&global_definitions, &mut build_args, &automatic, &lexer)
            .map_err(|e| BuildError::Dockerfile(format!("{file_name}: {e}")))?;
        let planned = plan(&stages, &global, options.target.as_deref(), platform, &lexer)
            .map_err(|e| BuildError::Dockerfile(format!("{file_name}:{}: {}", e.line, e.message)))?;
        jobs.push(Mutex::new(Some(PlatformJob { planned, global, build_args })));
    }
    let outcomes = run_concurrently(&shared, &jobs, |job| {
        build_platform(&shared, &stages, job, &progress, options.source_date_epoch)
    });
    if interrupt::interrupted() {
        return Err(BuildError::Interrupted);
    }
    let mut results = Vec::new();
    let mut unused = Vec::new();
    for outcome in outcomes {
        let (result, unused_args) = outcome?;
        results.push(result);
        unused.extend(unused_args);
    }
    let top = if results.len() == 1 { results[0].manifest.clone() } else { index(&blobs, &results)? };
    progress.note("#exporting to the outputs");
    output::write_outputs(&results, &top, &blobs, &work, &options.tags, &options.outputs, &options.registry)?;
    let digest = top.digest().to_string();
    if let Some(iidfile) = &options.iidfile {
        std::fs::write(iidfile, &digest).map_err(|e| BuildError::Io(iidfile.clone(), e.to_string()))?;
    }
    drop(scratch);
    unused.sort();
    unused.dedup();
    Ok(BuildReport { digest, unused_build_args: unused })
}

/// One platform's planned build.
struct PlatformJob {
    planned: Plan,
    global: Assignments,
    build_args: BuildArgs,
}

/// Run `job` for each entry of `jobs` on as many threads as there are cores (at most one
/// per job), results in the order of `jobs`. The first job to fail cancels the others'
/// running steps, and its error alone is returned.
fn run_concurrently<T: Send>(
    shared: &Shared,
    jobs: &[Mutex<Option<PlatformJob>>],
    job: impl Fn(PlatformJob) -> Result<T, BuildError> + Sync,
) -> Vec<Result<T, BuildError>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(jobs.len()).max(1);
    let next = AtomicUsize::new(0);
    let first_failure: Mutex<Option<usize>> = Mutex::new(None);
    let outcomes: Vec<Mutex<Option<Result<T, BuildError>>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(slot) = jobs.get(index) else { break };
                let Some(work) = lock(slot).take() else { continue };
                let outcome = if shared.cancelled() { Err(BuildError::Cancelled) } else { job(work) };
                if outcome.is_err() {
                    lock(&first_failure).get_or_insert(index);
                    shared.cancel_all();
                }
                *lock(&outcomes[index]) = Some(outcome);
            });
        }
    });
    let mut outcomes: Vec<Result<T, BuildError>> = outcomes
        .into_iter()
        .map(|outcome| outcome.into_inner().ok().flatten().unwrap_or(Err(BuildError::Cancelled)))
        .collect();
    let failed = lock(&first_failure).take();
    match failed {
        Some(index) => vec![std::mem::replace(&mut outcomes[index], Err(BuildError::Cancelled))],
        None => outcomes,
    }
}

/// A mutex's contents, also after a thread panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Build one platform's stages in order: its image, and the build arguments it left
/// unused.
fn build_platform(
    shared: &Shared,
    stages: &Stages,
    job: PlatformJob,
    progress: &Progress,
    epoch: Option<i64>,
) -> Result<(PlatformResult, Vec<String>), BuildError> {
    let PlatformJob { planned, global, mut build_args } = job;
    let mut finished: Vec<Option<StageResult>> = vec![None; stages.stages.len()];
    for stage in &planned.stages {
        if shared.cancelled() {
            return Err(BuildError::Cancelled);
        }
        let start = match &stage.base {
            Base::Scratch => StageStart {
                created: None,
                config: ImageConfig::default(),
                layers: Vec::new(),
                key: KeyBuilder::new("scratch").finish(),
            },
            Base::Stage(index) => {
                let earlier = finished[*index]
                    .as_ref()
                    .ok_or_else(|| BuildError::Dockerfile(format!("stage {index} was not built")))?;
                StageStart {
                    config: earlier.config.clone(),
                    layers: earlier.layers.clone(),
                    key: earlier.key.clone(),
                    created: earlier.created,
                }
            }
            Base::Image(name) => {
                let step =
                    progress.step(&format!("[{} {} internal] load metadata for {name}", stage.platform, stage.name));
                let start = match shared.named.get(name) {
                    Some(NamedContext::Directory(context)) => sources::directory_start(shared, name, context),
                    _ => sources::image(shared, name, &stage.platform).map(|pulled| {
                        let mut key = KeyBuilder::new(&pulled.manifest_digest);
                        key.field("platform", stage.platform.to_string().as_bytes());
                        StageStart { config: pulled.config, layers: pulled.layers, key: key.finish(), created: None }
                    }),
                };
                match start {
                    Ok(start) => {
                        step.done();
                        start
                    }
                    Err(e) => {
                        step.failed(&e.to_string());
                        return Err(e);
                    }
                }
            }
        };
        let mut start = start;
        let from_line = stages.stages[stage.index].line;
        let triggers = triggers::on_build_steps(&std::mem::take(&mut start.config.config.on_build), from_line)
            .map_err(|message| BuildError::Step { line: from_line, platform: stage.platform.to_string(), message })?;
        let steps = &stages.stages[stage.index].commands;
        let result = run_stage(shared, stage, &triggers, steps, start, &global, &mut build_args, &finished, progress);
        let result = result?;
        finished[stage.index] = Some(result);
    }
    let target = planned.stages.last().ok_or_else(|| BuildError::Dockerfile("no stage to build".to_owned()))?;
    let result =
        finished[target.index].take().ok_or_else(|| BuildError::Dockerfile("the target was not built".to_owned()))?;
    Ok((image(shared.blobs, result, epoch)?, build_args.unused()))
}

/// Write a stage result's config and manifest into the blob store.
fn image(blobs: &BlobStore, result: StageResult, epoch: Option<i64>) -> Result<PlatformResult, BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Output(e.to_string());
    let mut config = result.config;
    // SOURCE_DATE_EPOCH, else when the latest step first ran: a rebuild with nothing
    // changed gives the same image, as BuildKit's does.
    config.created = Some(rfc3339(epoch.or(result.created).unwrap_or_else(now)));
    let config_bytes = archway_image::write::canonical::to_canonical_json(&config).map_err(|e| failed(&e))?;
    let config_descriptor =
        blobs.put_bytes("application/vnd.oci.image.config.v1+json", &config_bytes).map_err(|e| failed(&e))?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": result.layers,
    });
    let manifest_bytes = archway_image::write::canonical::to_canonical_json(&manifest).map_err(|e| failed(&e))?;
    let mut manifest_descriptor =
        blobs.put_bytes("application/vnd.oci.image.manifest.v1+json", &manifest_bytes).map_err(|e| failed(&e))?;
    let platform = oci_spec::image::PlatformBuilder::default()
        .architecture(result.platform.architecture.as_str())
        .os(result.platform.os.as_str())
        .variant(result.platform.variant.clone())
        .build()
        .map_err(|e| failed(&e))?;
    let mut platform_value = serde_json::to_value(&platform).map_err(|e| failed(&e))?;
    if result.platform.variant.is_empty() {
        platform_value.as_object_mut().map(|o| o.remove("variant"));
    }
    manifest_descriptor.set_platform(serde_json::from_value(platform_value).ok());
    Ok(PlatformResult { manifest: manifest_descriptor, config: config_descriptor, layers: result.layers })
}

/// An OCI index over the platforms' manifests.
fn index(blobs: &BlobStore, results: &[PlatformResult]) -> Result<Descriptor, BuildError> {
    let failed = |e: &dyn std::fmt::Display| BuildError::Output(e.to_string());
    let manifests: Vec<&Descriptor> = results.iter().map(|r| &r.manifest).collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = archway_image::write::canonical::to_canonical_json(&index).map_err(|e| failed(&e))?;
    blobs.put_bytes("application/vnd.oci.image.index.v1+json", &bytes).map_err(|e| failed(&e))
}

/// Seconds since the epoch, now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Seconds since the epoch as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
pub fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The default state directory: `$XDG_CACHE_HOME/archway/build` or `~/.cache/archway/build`.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/tmp"))
        .join("archway/build")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
