//! Findings, their severities and the verdicts they add up to.
//!
//! - **blocker**: the image will not run on the platform: the platform claims disagree
//!   with each other or with the binaries the entrypoint runs; the entrypoint, its
//!   interpreter, loader or a needed library is missing or built for another
//!   architecture; a foreign native payload whose runtime is in the image.
//! - **warning**: a foreign ELF file or payload elsewhere, with nothing in the image to
//!   run it; a smoke test that started but failed.
//! - **info**: facts worth knowing (files removed by whiteouts, no entrypoint).
//!
//! A platform's verdict is `blocked` with any blocker, `warnings` with any warning,
//! else `ready`; an image that cannot be read is `error`. The overall verdict is the
//! worst of the platforms'.

use serde::Serialize;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Blocker,
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name of the kind of problem (`library-foreign`, `index-config-mismatch`...).
    pub kind: &'static str,
    /// The file it is about (absolute, inside the image), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What is wrong and why it matters.
    pub message: String,
    /// The architecture the file is built for, if that is the point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The layer (0 = base) the file comes from, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// One line on what to do about it.
    pub hint: String,
}

impl Finding {
    pub fn new(severity: Severity, kind: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Finding {
        Finding {
            severity,
            kind,
            path: None,
            message: message.into(),
            architecture: None,
            layer: None,
            hint: hint.into(),
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Finding {
        let path = path.into();
        self.path = Some(if path.starts_with('/') { path } else { format!("/{path}") });
        self
    }

    pub fn arch(mut self, architecture: impl Into<String>) -> Finding {
        self.architecture = Some(architecture.into());
        self
    }

    pub fn layer(mut self, layer: usize) -> Finding {
        self.layer = Some(layer);
        self
    }
}

/// The verdict on a platform, or on the whole image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ready,
    Warnings,
    Blocked,
    Error,
}

impl Verdict {
    /// The verdict findings add up to.
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Blocker) => Verdict::Blocked,
            Some(Severity::Warning) => Verdict::Warnings,
            _ => Verdict::Ready,
        }
    }

    /// The exit code a CI job gates on: ready 0, warnings 0 (1 when `strict`), blocked 1,
    /// error 2.
    pub fn exit_code(self, strict: bool) -> i32 {
        match self {
            Verdict::Ready => 0,
            Verdict::Warnings => i32::from(strict),
            Verdict::Blocked => 1,
            Verdict::Error => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Warnings => "warnings",
            Verdict::Blocked => "blocked",
            Verdict::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_and_exit_codes() {
        let info = Finding::new(Severity::Info, "whiteout", "x", "y");
        let warning = Finding::new(Severity::Warning, "foreign-elf", "x", "y");
        let blocker = Finding::new(Severity::Blocker, "library-missing", "x", "y").at("usr/lib/libz.so.1");
        assert_eq!(blocker.path.as_deref(), Some("/usr/lib/libz.so.1"));
        assert_eq!(Verdict::of(&[]), Verdict::Ready);
        assert_eq!(Verdict::of(std::slice::from_ref(&info)), Verdict::Ready);
        assert_eq!(Verdict::of(&[info.clone(), warning.clone()]), Verdict::Warnings);
        assert_eq!(Verdict::of(&[warning, blocker, info]), Verdict::Blocked);
        let codes: Vec<i32> = [Verdict::Ready, Verdict::Warnings, Verdict::Blocked, Verdict::Error]
            .iter()
            .map(|v| v.exit_code(false))
            .collect();
        assert_eq!(codes, [0, 0, 1, 2]);
        assert_eq!(Verdict::Warnings.exit_code(true), 1);
        assert!(Verdict::Error > Verdict::Blocked && Verdict::Blocked > Verdict::Warnings);
    }
}
