//! Native payloads in the merged view: Python extension modules and wheel tags, Node
//! addons, native libraries inside jars ([`crate::payloads`] reads them). A payload
//! built only for another architecture is a blocker when the image holds the runtime
//! that would load it (a Python, Node or Java of the platform's architecture), and a
//! warning otherwise.

use crate::facts::FileFacts;
use crate::finding::{Finding, Severity};
use crate::payloads;
use archway_arch::Arch;
use archway_image::tree::{NodeKind, Tree};

/// A kind of native payload and its runtime.
struct Runtime {
    /// What the payload is, for messages.
    what: &'static str,
    /// The runtime's program names (an ELF file of the platform's architecture with one
    /// of these names anywhere in the image counts).
    programs: &'static [&'static str],
    hint: &'static str,
}

const PYTHON: Runtime = Runtime {
    what: "Python extension module",
    programs: &[
        "python3",
        "python",
        "python2",
        "python3.8",
        "python3.9",
        "python3.10",
        "python3.11",
        "python3.12",
        "python3.13",
    ],
    hint:
        "install the wheel built for this platform (pip download --platform ...), or build it from source in the image",
};
const NODE: Runtime = Runtime {
    what: "Node.js addon",
    programs: &["node", "nodejs"],
    hint: "run npm install (or npm rebuild) inside the image for this platform, not on the build host",
};
const JAVA: Runtime = Runtime {
    what: "jar",
    programs: &["java"],
    hint: "use a release of the library that ships native code for this platform (or the pure-Java fallback)",
};

/// Whether `path` is a Python extension module.
fn is_python_extension(path: &str) -> bool {
    path.ends_with(".so")
        && (path.contains("/site-packages/") || path.contains("/dist-packages/") || path.contains("/lib-dynload/"))
}

/// Whether the image has an ELF program named like `runtime` built for `arch`.
fn has_runtime(tree: &Tree<FileFacts>, runtime: &Runtime, arch: &Arch) -> bool {
    tree.iter().any(|(path, node)| {
        let name = path.rsplit('/').next().unwrap_or(path);
        runtime.programs.contains(&name)
            && matches!(&node.kind, NodeKind::File(facts) if facts.elf_header().and_then(|h| h.arch()) == Some(arch))
    })
}

fn finding(tree: &Tree<FileFacts>, runtime: &Runtime, arch: &Arch, path: &str, found: String, layer: usize) -> Finding {
    let loaded = has_runtime(tree, runtime, arch);
    let (severity, consequence) = if loaded {
        (Severity::Blocker, format!("the image's {} runtime will fail to load it", arch.platform))
    } else {
        (Severity::Warning, "no runtime of this platform in the image loads it".to_string())
    };
    Finding::new(
        severity,
        "payload-foreign",
        format!("/{path}: a {} built for {found}, not {}: {consequence}", runtime.what, arch.platform),
        runtime.hint,
    )
    .at(path)
    .arch(found)
    .layer(layer)
}

/// The payload findings of `tree` for architecture `arch`.
pub fn findings(tree: &Tree<FileFacts>, arch: &Arch) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, node) in tree.iter() {
        let NodeKind::File(facts) = &node.kind else { continue };
        let runtime = if is_python_extension(path) {
            Some(&PYTHON)
        } else if path.ends_with(".node") {
            Some(&NODE)
        } else {
            None
        };
        if let (Some(runtime), Some(header)) = (runtime, facts.elf_header()) {
            if header.arch() != Some(arch) {
                let found =
                    header.arch().map_or_else(|| format!("machine {}", header.machine), |a| a.platform.to_string());
                out.push(finding(tree, runtime, arch, path, found, node.layer));
            }
            continue;
        }
        match facts {
            FileFacts::Jar(bytes) => match payloads::jar(path, bytes) {
                Ok(jar) if !jar.runs_on_linux(arch) => {
                    out.push(finding(tree, &JAVA, arch, path, names(&jar.linux_architectures()), node.layer));
                }
                Ok(_) => {}
                Err(e) => out.push(
                    Finding::new(Severity::Warning, "payload-unreadable", format!("/{path}: {e}"), "check the jar")
                        .at(path)
                        .layer(node.layer),
                ),
            },
            FileFacts::Text(bytes) if path.ends_with(".dist-info/WHEEL") => {
                let wheel = payloads::wheel_tags(path, &String::from_utf8_lossy(bytes));
                if !wheel.runs_on_linux(arch) {
                    out.push(finding(tree, &PYTHON, arch, path, names(&wheel.linux_architectures()), node.layer));
                }
            }
            _ => {}
        }
    }
    out
}

/// `amd64, ppc64le`, or `another system` when no Linux architecture is among them.
fn names(archs: &[&'static Arch]) -> String {
    if archs.is_empty() {
        "another system".to_string()
    } else {
        archs.iter().map(|a| a.platform).collect::<Vec<_>>().join(", ")
    }
}
