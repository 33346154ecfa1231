//! The check of one image reference, start to end: open the store, resolve the
//! platforms, and for each platform merge the layers (streaming each once, with the
//! census's capture), compare the claims, follow the entrypoint chain, look at native
//! payloads, run the smoke test, and add up the verdict. Any failure to read the image
//! itself ends in the `error` verdict with the image crate's message.

use crate::census::{self, arch_name};
use crate::chain::{self, Command};
use crate::facts::{self, FileFacts};
use crate::finding::{Finding, Severity, Verdict};
use crate::payloads_check;
use crate::report::{LayerCensus, PlatformReport, Report, SetAsideEntry};
use crate::smoke_check::{self, SmokeMode};
use archway_arch::{Arch, Platform};
use archway_image::resolve::{resolve, PlatformImage};
use archway_image::tree::Tree;
use archway_image::{layer, rootfs, Digest, Error, ImageRef, RegistryOptions, Store};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The platforms to check (empty: every platform the image has).
    pub platforms: Vec<Platform>,
    /// Report the census of each layer too.
    pub per_layer: bool,
    pub smoke: SmokeMode,
    pub timeout: Duration,
    /// Where the static interpreters (`archway-aarch64`...) are, for smoke tests of
    /// foreign platforms.
    pub interpreter_dir: Option<PathBuf>,
    pub registry: RegistryOptions,
    /// Show progress bars on stderr (only when it is a terminal).
    pub progress: bool,
}

/// Check `reference`.
pub fn check(reference: &str, options: &Options) -> Report {
    match ImageRef::parse(reference) {
        Ok(ImageRef::RootDir { dir }) => check_root_dir(reference, &dir, options),
        Ok(image) => match archway_image::open(&image, &options.registry) {
            Ok(mut store) => check_store(reference, store.as_mut(), options),
            Err(e) => Report::error(reference, e.to_string()),
        },
        Err(e) => Report::error(reference, e.to_string()),
    }
}

fn check_store(reference: &str, store: &mut dyn Store, options: &Options) -> Report {
    // Every image the reference holds, so that a wanted platform it lacks is a finding
    // (the image is not ready for it) rather than a failure to read it.
    let resolved = match resolve(store, &[]) {
        Ok(resolved) => resolved,
        Err(e) => return Report::error(reference, e.to_string()),
    };
    let mut platforms = Vec::new();
    for selected in select(&resolved.images, &options.platforms) {
        let report = match selected {
            Selected::Image(image) => check_platform(store, image, options),
            Selected::Missing(wanted) => Ok(missing_platform(wanted, &resolved.images)),
        };
        match report {
            Ok(report) => platforms.push(report),
            Err(e) => return Report::error(reference, e.to_string()),
        }
    }
    let set_aside = resolved
        .set_aside
        .iter()
        .map(|s| SetAsideEntry { digest: s.digest.to_string(), reason: s.reason.clone() })
        .collect();
    finish(reference, platforms, set_aside)
}

/// A platform to report on: an image for it, or none.
enum Selected<'a> {
    Image(&'a PlatformImage),
    Missing(&'a Platform),
}

/// The images to check: all of them when no platform is wanted, else for each wanted
/// platform the first image whose platform (the index's, or the config's for a manifest
/// named directly) matches, as containerd picks.
fn select<'a>(images: &'a [PlatformImage], wanted: &'a [Platform]) -> Vec<Selected<'a>> {
    if wanted.is_empty() {
        return images.iter().map(Selected::Image).collect();
    }
    let mut out: Vec<Selected> = Vec::new();
    for want in wanted {
        let found = images.iter().find(|i| i.index_platform.as_ref().unwrap_or(&i.config_platform).matches(want));
        match found {
            Some(image) if out.iter().any(|s| matches!(s, Selected::Image(i) if std::ptr::eq(*i, image))) => {}
            Some(image) => out.push(Selected::Image(image)),
            None => out.push(Selected::Missing(want)),
        }
    }
    out
}

/// The report on a platform the image has no image for: blocked.
fn missing_platform(wanted: &Platform, images: &[PlatformImage]) -> PlatformReport {
    let offered: Vec<String> =
        images.iter().map(|i| i.index_platform.as_ref().unwrap_or(&i.config_platform).to_string()).collect();
    let mut report = empty_report(wanted, None, None);
    report.findings.push(Finding::new(
        Severity::Blocker,
        "platform-missing",
        format!("the image has no image for {wanted}; it offers {}", offered.join(", ")),
        format!("build and push it for {wanted} too (docker buildx build --platform ...,{wanted})"),
    ));
    report.verdict = Verdict::of(&report.findings);
    report
}

fn finish(reference: &str, platforms: Vec<PlatformReport>, set_aside: Vec<SetAsideEntry>) -> Report {
    let verdict = platforms.iter().map(|p| p.verdict).max().unwrap_or(Verdict::Ready);
    Report { image: reference.to_string(), verdict, platforms, set_aside, error: None }
}

/// The merged view of one image, with the census of each layer.
fn merge(
    store: &mut dyn Store,
    image: &PlatformImage,
    options: &Options,
) -> Result<(Tree<FileFacts>, Vec<LayerCensus>), Error> {
    let mut tree = Tree::default();
    let mut layers = Vec::new();
    let bar = crate::progress::Bar::new(options.progress, image.layers.iter().map(|l| l.size()).sum());
    for (index, descriptor) in image.layers.iter().enumerate() {
        let digest = Digest::parse(descriptor.digest().as_ref())?;
        let mut census = LayerCensus { layer: index, digest: digest.to_string(), ..LayerCensus::default() };
        let reader = bar.wrap(store.open(descriptor)?);
        layer::apply(&mut tree, index, &digest, reader, &mut |entry| {
            let facts = facts::capture(entry.path, entry.size, entry.contents)?;
            if let Some(name) = arch_name(&facts) {
                census.elf_files += 1;
                *census.by_architecture.entry(name).or_default() += 1;
            }
            Ok(facts)
        })?;
        layers.push(census);
    }
    bar.finish();
    Ok((tree, layers))
}

fn command_of(image: &PlatformImage) -> Command {
    let config = image.config.config().clone().unwrap_or_default();
    Command {
        entrypoint: config.entrypoint().clone().unwrap_or_default(),
        cmd: config.cmd().clone().unwrap_or_default(),
        env: config.env().clone().unwrap_or_default(),
        working_dir: config.working_dir().clone().filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into()),
    }
}

fn check_platform(store: &mut dyn Store, image: &PlatformImage, options: &Options) -> Result<PlatformReport, Error> {
    let (tree, layers) = merge(store, image, options)?;
    let claimed = image.index_platform.clone().unwrap_or_else(|| image.config_platform.clone());
    let command = command_of(image);
    let mut report = analyse(&tree, &claimed, Some(&image.config_platform), image.index_platform.as_ref(), &command);
    report.manifest = Some(image.manifest.digest.to_string());
    report.config = Some(image.config_digest.to_string());
    if image.config.rootfs().diff_ids().len() != image.layers.len() {
        report.findings.push(Finding::new(
            Severity::Blocker,
            "config-layers-mismatch",
            format!(
                "the manifest has {} layers, the config's rootfs.diff_ids {}: runtimes refuse such an image",
                image.layers.len(),
                image.config.rootfs().diff_ids().len()
            ),
            "rebuild the image",
        ));
    }
    if options.per_layer {
        report.layers = Some(layers);
    }
    if let Some(arch) = claimed.arch() {
        report.smoke = smoke_check::run(store, image, &tree, arch, &command, options)?;
        if let Some(smoke) = &report.smoke {
            report.findings.extend(smoke_check::findings(smoke, arch));
        }
    }
    report.verdict = Verdict::of(&report.findings);
    Ok(report)
}

/// A report on `platform` with nothing found yet.
fn empty_report(platform: &Platform, config: Option<&Platform>, index: Option<&Platform>) -> PlatformReport {
    PlatformReport {
        platform: platform.to_string(),
        verdict: Verdict::Ready,
        index_platform: index.map(Platform::to_string),
        config_platform: config.map(Platform::to_string),
        manifest: None,
        config: None,
        census: Default::default(),
        layers: None,
        entrypoint: Vec::new(),
        findings: Vec::new(),
        smoke: None,
    }
}

/// Everything the merged view says about a platform.
fn analyse(
    tree: &Tree<FileFacts>,
    claimed: &Platform,
    config: Option<&Platform>,
    index: Option<&Platform>,
    command: &Command,
) -> PlatformReport {
    let mut report = empty_report(claimed, config, index);
    let Some(arch) = claimed.arch() else {
        report.findings.push(Finding::new(
            Severity::Blocker,
            "unknown-architecture",
            format!("archway does not know the architecture of {claimed}"),
            "check the platform's spelling (linux/arm64, linux/amd64...)",
        ));
        report.verdict = Verdict::of(&report.findings);
        return report;
    };
    let (census, foreign) = census::census(tree, arch);
    let claims = config.map(|c| census::claims(index, c, &census)).unwrap_or_default();
    let mostly_foreign = claims.iter().any(|f| f.kind == "binaries-architecture");
    report.findings.extend(claims);
    let chain = chain::follow(tree, arch, command);
    let in_chain: BTreeSet<String> = chain.steps.iter().map(|s| s.path.clone()).collect();
    report.findings.extend(chain.findings);
    report.entrypoint = chain.steps;
    report.findings.extend(payloads_check::findings(tree, arch));
    // A foreign file that already has a finding (in the chain, a payload) is not listed again.
    let explained: BTreeSet<String> = report.findings.iter().filter_map(|f| f.path.clone()).chain(in_chain).collect();
    report.findings.extend(census::foreign_files(&foreign, &explained, mostly_foreign, arch));
    report.findings.extend(census::whiteouts(tree));
    report.census = census;
    report.verdict = Verdict::of(&report.findings);
    report
}

/// `dir:ROOTFS`: no manifest and no config; the platform is the one asked for, or the
/// architecture most ELF files are built for.
fn check_root_dir(reference: &str, dir: &std::path::Path, options: &Options) -> Report {
    let tree = match rootfs::tree_of(dir, &mut |entry| facts::capture(entry.path, entry.size, entry.contents)) {
        Ok(tree) => tree,
        Err(e) => return Report::error(reference, e.to_string()),
    };
    let platforms: Vec<Platform> = if options.platforms.is_empty() {
        let (census, _) = census::census(&tree, Arch::host());
        match census.by_architecture.iter().max_by_key(|(_, n)| **n) {
            Some((arch, _)) => vec![Platform::linux(arch)],
            None => vec![Platform::host()],
        }
    } else {
        options.platforms.clone()
    };
    let command = match &options.smoke {
        SmokeMode::Command(argv) => Command { entrypoint: argv.clone(), working_dir: "/".into(), ..Command::default() },
        _ => Command::default(),
    };
    let mut reports = Vec::new();
    for platform in &platforms {
        let mut report = analyse(&tree, platform, None, None, &command);
        if let (Some(arch), SmokeMode::Command(_)) = (platform.arch(), &options.smoke) {
            report.smoke = smoke_check::run_in_dir(dir, arch, &command, options);
            if let Some(smoke) = &report.smoke {
                report.findings.extend(smoke_check::findings(smoke, arch));
            }
            report.verdict = Verdict::of(&report.findings);
        }
        reports.push(report);
    }
    finish(reference, reports, Vec::new())
}
