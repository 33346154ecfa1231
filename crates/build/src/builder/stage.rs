//! One stage of one platform, command by command: words expanded with the stage's
//! variables, metadata applied to the config, and every filesystem step (`RUN`, `COPY`,
//! `ADD`, `WORKDIR`) looked up in the step cache by its key and, on a miss, run on the
//! stage's root (made from the layers so far only then), its changes written as a layer
//! and remembered.

use crate::add;
use crate::builder::layers::write_layer;
use crate::builder::progress::{Progress, StepProgress};
use crate::builder::root::materialize;
use crate::builder::secret_mounts::lend;
use crate::builder::sources::{step_source, writable_copy};
use crate::builder::{now, BuildError, Shared};
use crate::cache::{tree_digest, CachedLayer, CachedStep, KeyBuilder};
use crate::context::sources::resolve as resolve_sources;
use crate::context::Source;
use crate::context::{glob, Ignore};
use crate::copy::{copy_sources, parse_chmod, write_inline, CopyOptions};
use crate::diff::Snapshot;
use crate::image_config::{join_workdir, with_shell, ImageConfig, StageConfig};
use crate::instructions::{parse_mount, Command, Mount, MountType, Network, Run, Sources, Step};
use crate::plan::{From, PlannedStage};
use crate::shell::Lexer;
use crate::variables::{Assignments, BuildArgs, StageScope};
use archway_arch::Platform;
use archway_sandbox::{BindMount, Ending, Request};
use oci_spec::image::Descriptor;
use std::path::{Path, PathBuf};

/// A finished stage: what a later stage or the output needs of it.
#[derive(Debug, Clone)]
pub struct StageResult {
    pub config: ImageConfig,
    pub layers: Vec<Descriptor>,
    pub key: String,
    /// The root directory, if a step made it (reused by `COPY --from` of this stage).
    pub root: Option<PathBuf>,
    pub platform: Platform,
    /// When the latest of its filesystem steps first ran (from the cache when cached).
    pub created: Option<i64>,
}

/// Where a stage starts.
pub struct StageStart {
    pub config: ImageConfig,
    pub layers: Vec<Descriptor>,
    pub key: String,
    /// When the base's latest step ran (a stage or named context built here).
    pub created: Option<i64>,
}

/// The state of the stage being run.
struct State<'a> {
    shared: &'a Shared<'a>,
    stage: &'a PlannedStage,
    config: StageConfig,
    scope: StageScope,
    layers: Vec<Descriptor>,
    key: String,
    root: Option<PathBuf>,
    lexer: Lexer,
    /// When the latest filesystem step so far first ran.
    created: Option<i64>,
}

/// Run `triggers` (the base's `ONBUILD`s) and `steps` of `stage` from `start`; `earlier`
/// holds the finished stages by index.
#[allow(clippy::too_many_arguments)]
pub fn run_stage(
    shared: &Shared,
    stage: &PlannedStage,
    triggers: &[Step<Command>],
    steps: &[Step<Command>],
    start: StageStart,
    global: &Assignments,
    build_args: &mut BuildArgs,
    earlier: &[Option<StageResult>],
    progress: &Progress,
) -> Result<StageResult, BuildError> {
    let config = StageConfig::from_base(start.config);
    let scope = StageScope::new(config.env(), build_args);
    let mut state = State {
        shared,
        stage,
        config,
        scope,
        layers: start.layers,
        key: start.key,
        root: None,
        lexer: Lexer::new(shared.escape),
        created: start.created,
    };
    // ONBUILD triggers first; they read nothing but the context (no position in `steps`).
    let all = triggers.iter().map(|step| (None, step)).chain(steps.iter().enumerate().map(|(i, s)| (Some(i), s)));
    for (position, step) in all {
        let name = match position {
            Some(position) => {
                format!("[{} {} {}/{}] {}", stage.platform, stage.name, position + 1, steps.len(), step.original)
            }
            None => format!("[{} {} ONBUILD] {}", stage.platform, stage.name, step.original),
        };
        let position = position.unwrap_or(usize::MAX);
        let line_error =
            |message: String| BuildError::Step { line: step.line, platform: stage.platform.to_string(), message };
        let mut command = step.command.clone();
        let scope_env = state.scope.expansion_env();
        let lexer = state.lexer;
        command
            .expand(&mut |word| lexer.expand_word(word, &scope_env).map(|e| e.word).map_err(|e| e.to_string()))
            .map_err(line_error)?;
        match &command {
            Command::Arg(definitions) => {
                for definition in definitions {
                    state
                        .scope
                        .declare(definition, global, build_args, &state.lexer)
                        .map_err(|e| line_error(e.to_string()))?;
                }
                let text: Vec<String> = definitions
                    .iter()
                    .map(|d| match &d.default {
                        Some(value) => format!("{}={value}", d.name),
                        None => d.name.clone(),
                    })
                    .collect();
                state.config.history(format!("ARG {}", text.join(" ")), false, shared.created.clone());
            }
            Command::Env(pairs) => {
                for pair in pairs {
                    state.scope.set_env(&pair.key, &pair.value);
                }
                let text = state.config.apply(&command).map_err(line_error)?;
                state.config.history(text.unwrap_or_default(), false, shared.created.clone());
            }
            Command::Workdir(_) | Command::Run(_) | Command::Copy(_) | Command::Add(_) => {
                if shared.cancelled() {
                    return Err(BuildError::Cancelled);
                }
                let mut progress_step = progress.step(&name);
                match state.filesystem_step(&command, position, earlier, &mut progress_step) {
                    Ok(cached) => {
                        if cached {
                            progress_step.cached();
                        } else {
                            progress_step.done();
                        }
                    }
                    Err(message) => {
                        progress_step.failed(&message);
                        return Err(line_error(message));
                    }
                }
            }
            _ => {
                if let Some(text) = state.config.apply(&command).map_err(line_error)? {
                    state.config.history(text, false, shared.created.clone());
                }
            }
        }
    }
    let mut config = state.config.image;
    config.architecture = stage.platform.architecture.clone();
    config.os = stage.platform.os.clone();
    config.variant = Some(stage.platform.variant.clone()).filter(|v| !v.is_empty());
    Ok(StageResult {
        config,
        layers: state.layers,
        key: state.key,
        root: state.root,
        platform: stage.platform.clone(),
        created: state.created,
    })
}

impl<'a> State<'a> {
    /// The root directory, made from the layers so far on first use.
    fn root(&mut self) -> Result<PathBuf, String> {
        if let Some(root) = &self.root {
            return Ok(root.clone());
        }
        let dir = self.shared.scratch(&format!(
            "root-{}-{}",
            self.stage.platform.to_string().replace('/', "-"),
            self.stage.index
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        materialize(self.shared.blobs, &self.layers, &dir).map_err(|e| e.to_string())?;
        self.root = Some(dir.clone());
        Ok(dir)
    }

    /// A `RUN`, `COPY`, `ADD` or `WORKDIR`: from the cache, or run; whether it was cached.
    fn filesystem_step(
        &mut self,
        command: &Command,
        position: usize,
        earlier: &[Option<StageResult>],
        progress: &mut StepProgress,
    ) -> Result<bool, String> {
        if let Command::Workdir(_) = command {
            self.config.apply(command)?;
        }
        let key = self.step_key(command, position, earlier)?;
        if !self.shared.no_cache {
            if let Some(cached) = self.shared.cache.get_usable(&key, self.shared.blobs) {
                // A cached step changes nothing on disk: a root made earlier is stale.
                if cached.layer.is_some() {
                    self.drop_root();
                }
                self.record(command, cached.layer.as_ref())?;
                self.key = key;
                self.created = self.created.max(cached.created);
                return Ok(true);
            }
        }
        let root = self.root()?;
        let before = Snapshot::take(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        self.execute(command, position, earlier, &root, progress)?;
        let after = Snapshot::take(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let layer = write_layer(&root, &before.changes(&after), self.shared.blobs, &self.shared.layer_options)
            .map_err(|e| e.to_string())?;
        let cached = layer.as_ref().map(CachedLayer::of);
        let created = Some(now());
        self.shared.cache.put(&key, &CachedStep { layer: cached.clone(), created }).map_err(|e| e.to_string())?;
        self.created = self.created.max(created);
        self.record(command, cached.as_ref())?;
        self.key = key;
        Ok(false)
    }

    fn drop_root(&mut self) {
        if let Some(root) = self.root.take() {
            let _ = std::fs::remove_dir_all(root);
        }
    }

    /// Add a step's layer (if any) and history entry.
    fn record(&mut self, command: &Command, layer: Option<&CachedLayer>) -> Result<(), String> {
        if let Some(layer) = layer {
            self.layers.push(layer.descriptor()?);
            self.config.image.rootfs.diff_ids.push(layer.diff_id.clone());
        }
        let text = match command {
            Command::Workdir(_) => format!("WORKDIR {}", self.config.workdir()),
            Command::Run(run) => format!("RUN {} # buildkit", self.run_argv(run).join(" ")),
            Command::Copy(copy) => {
                format!("COPY {} {} # buildkit", copy.sources.paths.join(" "), copy.sources.destination)
            }
            Command::Add(add) => format!("ADD {} {} # buildkit", add.sources.paths.join(" "), add.sources.destination),
            _ => String::new(),
        };
        self.config.history(text, layer.is_some(), self.shared.created.clone());
        Ok(())
    }

    /// The cache key of a filesystem step: the key so far, the platform, the command as
    /// it will run, what it sees of the stage (environment, directory, user), and the
    /// digests of what it reads.
    fn step_key(
        &mut self,
        command: &Command,
        position: usize,
        earlier: &[Option<StageResult>],
    ) -> Result<String, String> {
        let mut key = KeyBuilder::new(&self.key);
        key.field("platform", self.stage.platform.to_string().as_bytes());
        key.field("command", format!("{command:?}").as_bytes());
        key.field("workdir", self.config.workdir().as_bytes());
        key.field("user", self.config.image.config.user.as_bytes());
        key.field("shell", self.config.shell().join(" ").as_bytes());
        key.pairs("env", &self.scope.run_env());
        match command {
            Command::Copy(crate::instructions::Copy { sources, .. })
            | Command::Add(crate::instructions::Add { sources, .. }) => {
                let source = step_source(self.shared, self.source_of(position), earlier, &self.stage.platform)?;
                if let Some(identity) = source.identity() {
                    key.field("from", identity.as_bytes());
                } else {
                    let (tree, ignore) = source.tree(self.shared)?;
                    let mut paths = Vec::new();
                    for word in &sources.paths {
                        if add::is_url(word) {
                            let file = add::download(word, &self.shared.work.join("downloads"))?;
                            key.field("url", word.as_bytes());
                            key.field(
                                "download",
                                tree_digest(&self.shared.work, &[file]).map_err(|e| e.to_string())?.as_bytes(),
                            );
                            continue;
                        }
                        paths.extend(
                            resolve_sources(&tree, word, &ignore)
                                .map_err(|e| e.to_string())?
                                .into_iter()
                                .map(|s| s.path),
                        );
                    }
                    key.field("context", tree_digest(&tree, &paths).map_err(|e| e.to_string())?.as_bytes());
                }
            }
            Command::Run(run) => {
                for text in &run.mounts {
                    key.field("mount", text.as_bytes());
                }
                for (mount, from) in self.run_mounts(run, position)? {
                    if mount.kind != MountType::Bind {
                        continue;
                    }
                    let source = step_source(self.shared, from, earlier, &self.stage.platform)?;
                    match source.identity() {
                        Some(identity) => key.field("mount-from", identity.as_bytes()),
                        None => {
                            let (tree, _) = source.tree(self.shared)?;
                            let path = crate::copy::inside(&tree, mount.source.as_deref().unwrap_or("/"))
                                .map_err(|e| e.to_string())?;
                            key.field("mount-files", tree_digest(&tree, &[path]).map_err(|e| e.to_string())?.as_bytes())
                        }
                    };
                }
            }
            _ => {}
        }
        Ok(key.finish())
    }

    /// Where the `COPY --from` of the command at `position` reads (the context: `None`).
    fn source_of(&self, position: usize) -> Option<&'a From> {
        let stage: &'a PlannedStage = self.stage;
        stage.sources.iter().find(|(at, _)| *at == position).map(|(_, from)| from)
    }

    /// A `RUN`'s mounts (the command at `position`), their values expanded with the
    /// step's variables, each with the stage or image its `from=` names (the plan lists
    /// them in the mounts' order).
    fn run_mounts(&self, run: &Run, position: usize) -> Result<Vec<(Mount, Option<&'a From>)>, String> {
        let stage: &'a PlannedStage = self.stage;
        let mut froms = stage.sources.iter().filter(|(at, _)| *at == position).map(|(_, from)| from);
        let scope_env = self.scope.expansion_env();
        let mut mounts = Vec::new();
        for text in &run.mounts {
            let mount = parse_mount(text, &mut |value| {
                self.lexer.expand_word(value, &scope_env).map(|e| e.word).map_err(|e| e.to_string())
            })?;
            let from = if mount.from.is_some() { froms.next() } else { None };
            mounts.push((mount, from));
        }
        Ok(mounts)
    }

    fn run_argv(&self, run: &Run) -> Vec<String> {
        if run.command.shell_form {
            with_shell(&self.config.shell(), &run.command.args)
        } else {
            run.command.args.clone()
        }
    }

    /// Run the step on `root`.
    fn execute(
        &mut self,
        command: &Command,
        position: usize,
        earlier: &[Option<StageResult>],
        root: &Path,
        progress: &mut StepProgress,
    ) -> Result<(), String> {
        match command {
            Command::Workdir(_) => {
                let dir = crate::copy::inside(root, self.config.workdir()).map_err(|e| e.to_string())?;
                if std::fs::symlink_metadata(&dir).is_err() {
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                Ok(())
            }
            Command::Run(run) => self.run(run, position, earlier, root, progress),
            Command::Copy(copy) => {
                let options =
                    self.copy_options(root, copy.chown.as_deref(), copy.chmod.as_deref(), copy.parents, &copy.exclude)?;
                self.copy(&copy.sources, position, earlier, root, options)
            }
            Command::Add(add) => {
                if add.keep_git_dir.is_some() {
                    return Err("ADD --keep-git-dir: git sources are not supported".to_owned());
                }
                let options =
                    self.copy_options(root, add.chown.as_deref(), add.chmod.as_deref(), false, &add.exclude)?;
                self.add(add, root, options)
            }
            _ => Ok(()),
        }
    }

    fn copy_options(
        &self,
        root: &Path,
        chown: Option<&str>,
        chmod: Option<&str>,
        parents: bool,
        exclude: &[String],
    ) -> Result<CopyOptions, String> {
        let owner = match chown {
            Some(spec) => {
                let user = archway_sandbox::User::resolve(root, spec).map_err(|e| format!("--chown={spec}: {e}"))?;
                Some((user.uid, user.gid))
            }
            None => None,
        };
        let mode = chmod.map(parse_chmod).transpose()?;
        let exclude = Ignore::parse(&exclude.join("\n")).map_err(|e| format!("--exclude: {e}"))?;
        Ok(CopyOptions { owner, mode, parents, several: false, exclude })
    }

    /// The destination of `COPY`/`ADD` in the stage: relative ones under `WORKDIR`, a
    /// trailing `/` kept.
    fn destination(&self, sources: &Sources) -> String {
        if sources.destination.starts_with('/') {
            return sources.destination.clone();
        }
        let joined = join_workdir(self.config.workdir(), &sources.destination);
        if sources.destination.ends_with('/') {
            format!("{}/", joined.trim_end_matches('/'))
        } else {
            joined
        }
    }

    /// `ADD`: URLs downloaded (checked against `--checksum`), local tar archives extracted
    /// into the destination (unless `--unpack=false`; a downloaded one only with
    /// `--unpack=true`), other files copied.
    fn add(&mut self, add: &crate::instructions::Add, root: &Path, mut options: CopyOptions) -> Result<(), String> {
        let sources = &add.sources;
        if add.checksum.is_some() && !(sources.paths.len() == 1 && add::is_url(&sources.paths[0])) {
            return Err("ADD --checksum needs exactly one URL source".to_owned());
        }
        let destination = self.destination(sources);
        options.several = sources.paths.len() + sources.contents.len() > 1;
        let context = self.shared.context.root().to_path_buf();
        let ignore = self.shared.context.ignore().clone();
        for word in &sources.paths {
            if add::is_url(word) {
                let file = add::download(word, &self.shared.work.join("downloads"))?;
                if let Some(expected) = &add.checksum {
                    let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                    let actual = archway_image::Digest::of(&bytes).to_string();
                    if &actual != expected {
                        return Err(format!(
                            "ADD {word}: the download's digest is {actual}, not --checksum={expected}"
                        ));
                    }
                }
                if add.unpack == Some(true) {
                    let scratch = self.shared.scratch("extract");
                    if let Some(dir) = add::extract_if_archive(&file, &scratch)? {
                        copy_extracted(root, &dir, &destination, &options)?;
                        continue;
                    }
                }
                let source = Source { relative: add::url_file_name(word), path: file };
                let url_options = CopyOptions { mode: options.mode.or(Some(0o600)), ..options.clone() };
                copy_sources(root, &[source], &destination, &Ignore::default(), &url_options)
                    .map_err(|e| e.to_string())?;
                continue;
            }
            options.several |= glob::has_wildcards(word);
            let resolved = resolve_sources(&context, word, &ignore).map_err(|e| e.to_string())?;
            for source in resolved {
                let scratch = self.shared.scratch("extract");
                let extracted =
                    if source.path.is_file() { add::extract_if_archive(&source.path, &scratch)? } else { None };
                let Some(dir) = extracted else {
                    copy_sources(root, &[source], &destination, &ignore, &options).map_err(|e| e.to_string())?;
                    continue;
                };
                copy_extracted(root, &dir, &destination, &options)?;
            }
        }
        self.inline_contents(sources, root, &destination, &options)
    }

    fn copy(
        &mut self,
        sources: &Sources,
        position: usize,
        earlier: &[Option<StageResult>],
        root: &Path,
        mut options: CopyOptions,
    ) -> Result<(), String> {
        let destination = self.destination(sources);
        let source = step_source(self.shared, self.source_of(position), earlier, &self.stage.platform)?;
        let (tree, ignore) = source.tree(self.shared)?;
        let mut resolved = Vec::new();
        for word in &sources.paths {
            options.several |= glob::has_wildcards(word);
            resolved.extend(resolve_sources(&tree, word, &ignore).map_err(|e| e.to_string())?);
        }
        options.several |= sources.paths.len() + sources.contents.len() > 1;
        if !resolved.is_empty() {
            copy_sources(root, &resolved, &destination, &ignore, &options).map_err(|e| e.to_string())?;
        }
        self.inline_contents(sources, root, &destination, &options)
    }

    /// Heredoc sources (`COPY <<EOF /dest`), expanded unless their name was quoted.
    fn inline_contents(
        &self,
        sources: &Sources,
        root: &Path,
        destination: &str,
        options: &CopyOptions,
    ) -> Result<(), String> {
        for content in &sources.contents {
            let data = if content.expand {
                self.lexer
                    .expand_word(&content.data, &self.scope.expansion_env())
                    .map(|e| e.word)
                    .map_err(|e| e.to_string())?
            } else {
                content.data.clone()
            };
            write_inline(root, destination, &content.name, &data, options).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn run(
        &mut self,
        run: &Run,
        position: usize,
        earlier: &[Option<StageResult>],
        root: &Path,
        progress: &mut StepProgress,
    ) -> Result<(), String> {
        if !run.devices.is_empty() {
            return Err("RUN --device is not supported".to_owned());
        }
        if run.insecure {
            return Err("RUN --security=insecure is not supported".to_owned());
        }
        let mut argv = self.run_argv(run);
        if !run.command.files.is_empty() {
            let [file] = run.command.files.as_slice() else {
                return Err("RUN with more than one heredoc is not implemented yet".to_owned());
            };
            let only_the_heredoc = run
                .command
                .args
                .join(" ")
                .trim()
                .trim_start_matches("<<")
                .trim_start_matches('-')
                .trim_matches(['\'', '"'])
                == file.name;
            if !run.command.shell_form || !only_the_heredoc {
                return Err("RUN with a heredoc is implemented only as the whole script (RUN <<EOF)".to_owned());
            }
            let script = if file.chomp {
                file.data.lines().map(|l| l.trim_start_matches('\t')).collect::<Vec<_>>().join("\n") + "\n"
            } else {
                file.data.clone()
            };
            argv = with_shell(&self.config.shell(), &[script]);
        }
        let mut mounts = Vec::new();
        let (mut extra_env, mut agents) = (Vec::new(), 0);
        for (mount, from) in self.run_mounts(run, position)? {
            if matches!(mount.kind, MountType::Secret | MountType::Ssh) {
                let lent = lend(self.shared, &mount, agents)?;
                agents += usize::from(mount.kind == MountType::Ssh);
                mounts.extend(lent.mount);
                extra_env.extend(lent.env);
                continue;
            }
            let target = mount.target.clone().ok_or("a mount needs a target")?;
            let target = if target.starts_with('/') { target } else { join_workdir(self.config.workdir(), &target) };
            match mount.kind {
                MountType::Cache => {
                    let id = mount.id.clone().unwrap_or_else(|| target.clone());
                    let name = format!(
                        "{:x}",
                        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(id.as_bytes()))
                    );
                    let dir = self.shared.state.join("cache-mounts").join(&name[..32]);
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    mounts.push(BindMount { source: dir, target, read_only: mount.read_only });
                }
                MountType::Bind => {
                    let (tree, _) = step_source(self.shared, from, earlier, &self.stage.platform)?.tree(self.shared)?;
                    let source = crate::copy::inside(&tree, mount.source.as_deref().unwrap_or("/"))
                        .map_err(|e| e.to_string())?;
                    if std::fs::symlink_metadata(&source).is_err() {
                        let name = mount.source.as_deref().unwrap_or("/");
                        return Err(format!("failed to compute cache key: {name:?} not found"));
                    }
                    let source = if mount.read_only { source } else { writable_copy(self.shared, &source)? };
                    mounts.push(BindMount { source, target, read_only: mount.read_only });
                }
                MountType::Tmpfs => {
                    let dir = self.shared.scratch("tmpfs");
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    mounts.push(BindMount { source: dir, target, read_only: false });
                }
                // Lent above.
                MountType::Secret | MountType::Ssh => {}
            }
        }
        let mut request = Request::new(root, self.stage.platform.clone(), &[]);
        request.argv = argv.clone();
        request.env = self.scope.run_env().iter().map(|(k, v)| format!("{k}={v}")).collect();
        request.env.extend(extra_env);
        request.workdir = self.config.workdir().to_owned();
        request.user = self.config.image.config.user.clone();
        request.interpreter = self.shared.interpreter_for(&self.stage.platform);
        request.network =
            if run.network == Network::None { archway_sandbox::Network::None } else { archway_sandbox::Network::Host };
        request.mounts = mounts;
        request.cancel = self.shared.cancel.clone();
        let outcome = archway_sandbox::run(&request, &mut |stream, bytes| {
            progress.output(matches!(stream, archway_sandbox::OutputStream::Stderr) as usize, bytes)
        });
        match outcome.ending {
            Ending::Exited(0) => Ok(()),
            Ending::Exited(code) => {
                Err(format!("process {:?} did not complete successfully: exit code: {code}", argv.join(" ")))
            }
            other => Err(format!("process {:?} did not complete successfully: {other}", argv.join(" "))),
        }
    }
}

/// Copy the contents of an extracted archive (`dir`, removed afterwards) into the
/// directory `destination` of the stage root.
fn copy_extracted(root: &Path, dir: &Path, destination: &str, options: &CopyOptions) -> Result<(), String> {
    let into = format!("{}/", destination.trim_end_matches('/'));
    let contents = Source { relative: String::new(), path: dir.to_path_buf() };
    let single = CopyOptions { several: false, ..options.clone() };
    let copied = copy_sources(root, &[contents], &into, &Ignore::default(), &single);
    let _ = std::fs::remove_dir_all(dir);
    copied.map_err(|e| e.to_string())
}
