//! The ELF census of a merged root, and what it says about the platform claims.
//!
//! Every ELF file is counted by architecture. The image's claims are compared: the
//! platform the index gives, the one the config gives, and the architecture most of the
//! ELF files are built for. Foreign ELF files that the entrypoint chain does not reach
//! are warnings (a build tool's fixture, a vendored library); when most of the image is
//! foreign, one blocker says so instead of a warning per file.

use crate::facts::FileFacts;
use crate::finding::{Finding, Severity};
use archway_arch::{Arch, Platform};
use archway_image::tree::{NodeKind, Tree};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Foreign files named one by one, at most; the rest are counted.
const LISTED: usize = 20;

/// ELF files by architecture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Census {
    pub elf_files: usize,
    /// Architecture name (or `machine N`) -> count.
    pub by_architecture: BTreeMap<String, usize>,
}

/// A foreign ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub path: String,
    pub architecture: String,
    pub layer: usize,
}

/// The name of a file's architecture.
pub fn arch_name(facts: &FileFacts) -> Option<String> {
    let header = facts.elf_header()?;
    Some(header.arch().map_or_else(|| format!("machine {}", header.machine), |a| a.platform.to_string()))
}

/// Count the ELF files of `tree`, and list those not built for `arch`.
pub fn census(tree: &Tree<FileFacts>, arch: &Arch) -> (Census, Vec<Foreign>) {
    let mut census = Census::default();
    let mut foreign = Vec::new();
    for (path, node) in tree.iter() {
        let NodeKind::File(facts) = &node.kind else { continue };
        let Some(name) = arch_name(facts) else { continue };
        census.elf_files += 1;
        *census.by_architecture.entry(name.clone()).or_default() += 1;
        if name != arch.platform {
            foreign.push(Foreign { path: path.to_string(), architecture: name, layer: node.layer });
        }
    }
    (census, foreign)
}

/// The findings of the claims: the index against the config, and both against the
/// binaries.
pub fn claims(index: Option<&Platform>, config: &Platform, census: &Census) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(index) = index {
        // Variants are compared only when both documents give one (configs often omit it).
        let (i, c) = (index.normalize(), config.normalize());
        let variants_differ = !index.variant.is_empty() && !config.variant.is_empty() && i.variant != c.variant;
        if i.os != c.os || i.architecture != c.architecture || variants_differ {
            findings.push(Finding::new(
                Severity::Blocker,
                "index-config-mismatch",
                format!("the index lists this image as {index}, but its config says {config}"),
                "rebuild the index from the per-platform images (docker buildx imagetools create, podman manifest)",
            ));
        }
    }
    let claimed = index.unwrap_or(config).normalize();
    if let Some((majority, count)) = census.by_architecture.iter().max_by_key(|(_, n)| **n) {
        if *majority != claimed.architecture && *count * 2 > census.elf_files {
            findings.push(
                Finding::new(
                    Severity::Blocker,
                    "binaries-architecture",
                    format!(
                        "the image claims {claimed}, but {count} of its {} ELF files are built for {majority}",
                        census.elf_files
                    ),
                    format!(
                        "build the image for {claimed} (FROM --platform=$TARGETPLATFORM, buildx --platform {claimed})"
                    ),
                )
                .arch(majority.clone()),
            );
        }
    }
    findings
}

/// Warnings for foreign ELF files the chain does not use (`in_chain`), at most
/// [`LISTED`] of them named, or nothing when a blocker already says the image is
/// mostly foreign.
pub fn foreign_files(
    foreign: &[Foreign],
    in_chain: &BTreeSet<String>,
    mostly_foreign: bool,
    arch: &Arch,
) -> Vec<Finding> {
    if mostly_foreign {
        return Vec::new();
    }
    let elsewhere: Vec<&Foreign> = foreign.iter().filter(|f| !in_chain.contains(&format!("/{}", f.path))).collect();
    let mut findings: Vec<Finding> = elsewhere
        .iter()
        .take(LISTED)
        .map(|f| {
            Finding::new(
                Severity::Warning,
                "foreign-elf",
                format!(
                    "/{} is built for {}, not {}; nothing the entrypoint runs uses it",
                    f.path, f.architecture, arch.platform
                ),
                "remove it, or ship the build for this platform if something runs it",
            )
            .at(&f.path)
            .arch(f.architecture.clone())
            .layer(f.layer)
        })
        .collect();
    if elsewhere.len() > LISTED {
        findings.push(Finding::new(
            Severity::Warning,
            "foreign-elf",
            format!(
                "{} more ELF files are built for another architecture than {}",
                elsewhere.len() - LISTED,
                arch.platform
            ),
            "run with --json for the census by layer, or --layers",
        ));
    }
    findings
}

/// Info findings for the paths whiteouts removed (at most [`LISTED`] named).
pub fn whiteouts(tree: &Tree<FileFacts>) -> Vec<Finding> {
    let mut findings: Vec<Finding> = tree
        .removed
        .iter()
        .take(LISTED)
        .map(|r| {
            Finding::new(
                Severity::Info,
                "whiteout",
                format!("/{} is removed by layer {}", r.path, r.layer),
                "nothing to do: it is not in the image",
            )
            .at(&r.path)
            .layer(r.layer)
        })
        .collect();
    if tree.removed.len() > LISTED {
        findings.push(Finding::new(
            Severity::Info,
            "whiteout",
            format!("{} more paths are removed by whiteouts", tree.removed.len() - LISTED),
            "nothing to do",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn census_of(pairs: &[(&str, usize)]) -> Census {
        let by_architecture: BTreeMap<String, usize> = pairs.iter().map(|(a, n)| (a.to_string(), *n)).collect();
        Census { elf_files: by_architecture.values().sum(), by_architecture }
    }

    #[test]
    fn claims_against_each_other_and_the_binaries() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        let arm64_v8 = Platform::parse("linux/arm64/v8").unwrap();
        let amd64 = Platform::parse("linux/amd64").unwrap();
        assert!(claims(Some(&arm64_v8), &arm64, &census_of(&[("arm64", 10)])).is_empty());
        let kinds = |f: Vec<Finding>| f.iter().map(|f| f.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(claims(Some(&arm64), &amd64, &census_of(&[("amd64", 10)]))),
            ["index-config-mismatch", "binaries-architecture"]
        );
        assert_eq!(kinds(claims(None, &arm64, &census_of(&[("amd64", 9), ("arm64", 1)]))), ["binaries-architecture"]);
        assert!(claims(None, &arm64, &census_of(&[("amd64", 1), ("arm64", 9)])).is_empty());
        assert!(claims(None, &arm64, &Census::default()).is_empty(), "no ELF files: nothing to contradict");
    }
}
