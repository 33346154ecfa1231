//! The check's result, as a CI job reads it (`--json`, shape fixed and documented in the
//! README) and as a person reads it (per platform: the verdict, then the findings, most
//! severe first, each with its file, architecture, reason and a one-line hint).

use crate::census::Census;
use crate::chain::Step;
use crate::finding::{Finding, Severity, Verdict};
use crate::smoke_check::SmokeReport;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub image: String,
    pub verdict: Verdict,
    pub platforms: Vec<PlatformReport>,
    /// Index entries that are not images (attestations, artifacts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<SetAsideEntry>,
    /// Why the image could not be checked (verdict `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An index entry that was not checked.
#[derive(Debug, Clone, Serialize)]
pub struct SetAsideEntry {
    pub digest: String,
    pub reason: String,
}

/// One platform's result.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    pub platform: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    pub census: Census,
    /// The census of each layer (`--layers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerCensus>>,
    pub entrypoint: Vec<Step>,
    pub findings: Vec<Finding>,
    pub smoke: Option<SmokeReport>,
}

/// ELF files a layer adds, by architecture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayerCensus {
    pub layer: usize,
    pub digest: String,
    pub elf_files: usize,
    pub by_architecture: BTreeMap<String, usize>,
}

impl Report {
    /// A report for an image that could not be read.
    pub fn error(image: &str, message: String) -> Report {
        Report {
            image: image.to_string(),
            verdict: Verdict::Error,
            platforms: Vec::new(),
            set_aside: Vec::new(),
            error: Some(message),
        }
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot write the report: {e}\"}}"))
    }

    /// The human form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}: {}", self.image, self.verdict.as_str().to_uppercase());
        if let Some(error) = &self.error {
            let _ = writeln!(out, "  error: {error}");
        }
        for platform in &self.platforms {
            platform.write_text(&mut out);
        }
        for entry in &self.set_aside {
            let _ = writeln!(out, "  not checked: {} ({})", entry.digest, entry.reason);
        }
        out
    }
}

impl PlatformReport {
    fn write_text(&self, out: &mut String) {
        let _ = writeln!(out, "\n{}: {}", self.platform, self.verdict.as_str());
        let claims: Vec<String> = [("index", &self.index_platform), ("config", &self.config_platform)]
            .iter()
            .filter_map(|(what, p)| p.as_ref().map(|p| format!("{what} {p}")))
            .collect();
        let archs: Vec<String> = self.census.by_architecture.iter().map(|(a, n)| format!("{n} {a}")).collect();
        let _ = writeln!(
            out,
            "  claims: {}; ELF files: {}{}",
            if claims.is_empty() { "none".to_string() } else { claims.join(", ") },
            self.census.elf_files,
            if archs.is_empty() { String::new() } else { format!(" ({})", archs.join(", ")) }
        );
        if !self.entrypoint.is_empty() {
            let chain: Vec<String> = self
                .entrypoint
                .iter()
                .filter(|s| s.role != "library")
                .map(|s| {
                    format!("{}{}", s.path, s.architecture.as_ref().map(|a| format!(" [{a}]")).unwrap_or_default())
                })
                .collect();
            let libraries = self.entrypoint.iter().filter(|s| s.role == "library").count();
            let _ = writeln!(out, "  entrypoint: {} + {libraries} libraries", chain.join(" -> "));
        }
        if let Some(layers) = &self.layers {
            for layer in layers {
                let archs: Vec<String> = layer.by_architecture.iter().map(|(a, n)| format!("{n} {a}")).collect();
                let _ = writeln!(
                    out,
                    "  layer {} {}: {} ELF files {}",
                    layer.layer,
                    &layer.digest,
                    layer.elf_files,
                    archs.join(", ")
                );
            }
        }
        if let Some(smoke) = &self.smoke {
            let _ = writeln!(out, "  smoke test: {}", smoke.summary());
        }
        let mut findings: Vec<&Finding> = self.findings.iter().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in findings {
            let label = match f.severity {
                Severity::Blocker => "BLOCKER",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(out, "  {label} [{}] {}", f.kind, f.message);
            let _ = writeln!(out, "      hint: {}", f.hint);
        }
    }
}
