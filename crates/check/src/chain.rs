//! The entrypoint chain: what the image would run, followed file by file inside the
//! image, as the kernel and the loader would.
//!
//! ENTRYPOINT + CMD (the config's exec form; a shell form is stored as `sh -c "..."`,
//! whose first word is followed too), the program found on the config's `PATH` (or
//! relative to `WorkingDir`), symbolic links resolved inside the image root; a `#!`
//! script leads to its interpreter (`/usr/bin/env NAME` to `NAME` on `PATH`), up to the
//! kernel's four levels; an ELF program to its loader (`PT_INTERP`) and, breadth first,
//! to every needed library ([`crate::libraries`]). Each step is checked against the
//! platform's architecture; every missing or foreign file is a blocker naming the
//! exact path and what needed it.

use crate::facts::FileFacts;
use crate::finding::{Finding, Severity};
use crate::libraries::{Found, SearchPath};
use archway_arch::{Arch, Elf};
use archway_image::tree::{NodeKind, ResolveError, Tree};
use serde::Serialize;
use std::collections::{BTreeSet, VecDeque};

/// What a container would run, from the image config.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=value`.
    pub env: Vec<String>,
    pub working_dir: String,
}

impl Command {
    /// ENTRYPOINT followed by CMD.
    pub fn argv(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }

    /// `PATH` from the environment, or Docker's default.
    pub fn path(&self) -> String {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .to_string()
    }
}

/// One file of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `program`, `interpreter`, `loader` or `library`.
    pub role: &'static str,
    /// Where it is in the image (symlinks resolved).
    pub path: String,
    /// Its architecture, for ELF files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// What led to it (`ENTRYPOINT`, `#! of /usr/bin/app`, `needed by /usr/bin/python3.11`).
    pub via: String,
}

/// The chain and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
}

/// The kernel's limit of nested `#!` interpreters.
const MAX_SCRIPT_DEPTH: usize = 4;

/// Follow `command` in `tree` for a platform of architecture `arch`.
pub fn follow(tree: &Tree<FileFacts>, arch: &'static Arch, command: &Command) -> Chain {
    let mut chain = Chain::default();
    let argv = command.argv();
    let Some(program) = argv.first() else {
        chain.findings.push(Finding::new(
            Severity::Info,
            "no-entrypoint",
            "the config has neither ENTRYPOINT nor CMD: nothing to follow",
            "a base image is fine without one; an application image needs ENTRYPOINT or CMD",
        ));
        return chain;
    };
    let mut walker = Walker { tree, arch, command, chain: &mut chain, seen: BTreeSet::new() };
    walker.program(program, "ENTRYPOINT/CMD", 0);
    // A shell form: `sh -c "WORDS"` also runs the first program of WORDS.
    if argv.len() >= 3 && argv[1] == "-c" && is_shell(program) {
        if let Some(first) = first_program(&argv[2]) {
            walker.program(&first, "the shell command of CMD", 0);
        }
    }
    chain
}

fn is_shell(program: &str) -> bool {
    matches!(program.rsplit('/').next(), Some("sh" | "bash" | "dash" | "ash" | "zsh" | "ksh"))
}

/// The first program a simple shell command runs: past `exec`, `env` and assignments;
/// `None` for anything the shell itself decides (builtins, expansions, compound commands).
fn first_program(command: &str) -> Option<String> {
    let mut words = command.split_whitespace().skip_while(|w| *w == "exec" || (w.contains('=') && !w.starts_with('=')));
    let word = words.next()?;
    let plain = word.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+'));
    let builtin = matches!(
        word,
        "cd" | "echo"
            | "set"
            | "export"
            | "test"
            | "["
            | "true"
            | "false"
            | ":"
            | "."
            | "source"
            | "if"
            | "for"
            | "while"
            | "case"
            | "{"
            | "("
    );
    (plain && !builtin).then(|| word.to_string())
}

struct Walker<'a> {
    tree: &'a Tree<FileFacts>,
    arch: &'static Arch,
    command: &'a Command,
    chain: &'a mut Chain,
    /// Paths already checked as ELF objects.
    seen: BTreeSet<String>,
}

impl Walker<'_> {
    fn block(&mut self, kind: &'static str, path: &str, message: String, hint: &str) {
        self.chain.findings.push(Finding::new(Severity::Blocker, kind, message, hint).at(path));
    }

    /// Find program `name` as the kernel would be given it, then follow it.
    fn program(&mut self, name: &str, via: &str, depth: usize) {
        let candidates: Vec<String> = if name.contains('/') {
            let path = if name.starts_with('/') {
                name.to_string()
            } else {
                format!("{}/{name}", self.command.working_dir.trim_end_matches('/'))
            };
            vec![path]
        } else {
            self.command.path().split(':').filter(|d| !d.is_empty()).map(|d| format!("{d}/{name}")).collect()
        };
        let mut first_error = None;
        for candidate in &candidates {
            match self.tree.resolve(candidate) {
                Ok((path, node)) if matches!(node.kind, NodeKind::File(_)) && node.mode & 0o111 != 0 => {
                    self.file(&path, via, depth);
                    return;
                }
                Ok((path, _)) if name.contains('/') => {
                    let message = format!("{via} runs {name}, and /{path} is not an executable file");
                    self.block(
                        "entrypoint-not-executable",
                        &path,
                        message,
                        "make it executable, or point ENTRYPOINT at a program",
                    );
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let (kind, hint) = if depth == 0 {
            ("entrypoint-missing", "install the program in the image, or fix ENTRYPOINT/CMD")
        } else {
            ("interpreter-missing", "install the interpreter in the image, or change the #! line")
        };
        let message = match (name.contains('/'), first_error) {
            (true, Some(e @ ResolveError::Missing { .. })) => format!("{via} runs {name}, but {e}"),
            (true, Some(e)) => format!("{via} runs {name}: {e}"),
            _ => format!("{via} runs {name}, which is on no directory of PATH={}", self.command.path()),
        };
        let path = if name.starts_with('/') { name.to_string() } else { format!("/{name}") };
        self.block(kind, &path, message, hint);
    }

    /// Follow the executable file at `path`.
    fn file(&mut self, path: &str, via: &str, depth: usize) {
        let Some(node) = self.tree.get(path) else { return };
        let NodeKind::File(facts) = &node.kind else { return };
        match facts {
            FileFacts::Script(line) => {
                let role = if depth == 0 { "program" } else { "interpreter" };
                self.chain.steps.push(Step {
                    role,
                    path: format!("/{path}"),
                    architecture: None,
                    via: via.to_string(),
                });
                if depth >= MAX_SCRIPT_DEPTH {
                    self.block(
                        "interpreter-loop",
                        path,
                        format!("/{path}: more than {MAX_SCRIPT_DEPTH} levels of #! interpreters"),
                        "shorten the #! chain",
                    );
                    return;
                }
                let mut words = line.split_whitespace();
                let Some(interpreter) = words.next() else {
                    self.block(
                        "interpreter-missing",
                        path,
                        format!("/{path} starts with an empty #! line"),
                        "name the interpreter after #!",
                    );
                    return;
                };
                let via = format!("#! of /{path}");
                if interpreter.rsplit('/').next() == Some("env") {
                    // `#!/usr/bin/env [-S] NAME`: env runs NAME from PATH.
                    self.program(interpreter, &via, depth + 1);
                    if let Some(name) = words.find(|w| !w.starts_with('-')) {
                        self.program(name, &format!("{via} (through env)"), depth + 1);
                    }
                } else {
                    self.program(interpreter, &via, depth + 1);
                }
            }
            FileFacts::Elf(elf) => self.elf(path, elf, if depth == 0 { "program" } else { "interpreter" }, via),
            FileFacts::ElfHeader(header, reason) => {
                self.chain.steps.push(Step {
                    role: "program",
                    path: format!("/{path}"),
                    architecture: header.arch().map(|a| a.platform.to_string()),
                    via: via.to_string(),
                });
                if header.arch() != Some(self.arch) {
                    self.foreign("entrypoint-foreign", path, header.arch(), via);
                } else {
                    self.chain.findings.push(
                        Finding::new(
                            Severity::Warning,
                            "elf-unreadable",
                            format!("/{path}: {reason}"),
                            "its loader and libraries were not checked",
                        )
                        .at(path),
                    );
                }
            }
            _ => self.block(
                "entrypoint-not-executable",
                path,
                format!("{via} runs /{path}, which is neither an ELF program nor a #! script (exec format error)"),
                "point ENTRYPOINT at a program",
            ),
        }
    }

    fn foreign(&mut self, kind: &'static str, path: &str, arch: Option<&'static Arch>, via: &str) {
        let name = arch.map_or("an unknown architecture", |a| a.platform);
        self.chain.findings.push(
            Finding::new(
                Severity::Blocker,
                kind,
                format!(
                    "/{path} ({via}) is built for {name}, not {}: it cannot run on this platform",
                    self.arch.platform
                ),
                format!(
                    "build it for {} (docker buildx --platform linux/{0}), or install the {0} package",
                    self.arch.platform
                ),
            )
            .at(path)
            .arch(name),
        );
    }

    /// An ELF object of the chain: its architecture, loader and needed libraries.
    fn elf(&mut self, path: &str, elf: &Elf, role: &'static str, via: &str) {
        if !self.seen.insert(path.to_string()) {
            return;
        }
        let arch = elf.arch();
        self.chain.steps.push(Step {
            role,
            path: format!("/{path}"),
            architecture: arch.map(|a| a.platform.to_string()),
            via: via.to_string(),
        });
        if arch != Some(self.arch) {
            let kind = if role == "library" { "library-foreign" } else { "entrypoint-foreign" };
            self.foreign(kind, path, arch, via);
            return;
        }
        let Some(loader) = &elf.interpreter else { return };
        match self.tree.resolve(loader) {
            Ok((loader_path, node)) => match &node.kind {
                NodeKind::File(FileFacts::Elf(loader_elf)) => {
                    if loader_elf.arch() != Some(self.arch) {
                        self.foreign(
                            "loader-foreign",
                            &loader_path,
                            loader_elf.arch(),
                            &format!("the loader of /{path}"),
                        );
                        return;
                    }
                    self.seen.insert(loader_path.clone());
                    self.chain.steps.push(Step {
                        role: "loader",
                        path: format!("/{loader_path}"),
                        architecture: Some(self.arch.platform.to_string()),
                        via: format!("PT_INTERP of /{path}"),
                    });
                }
                _ => self.block(
                    "loader-missing",
                    &loader_path,
                    format!("/{path} needs the loader {loader}, and /{loader_path} is not an ELF file"),
                    "install the C library of the image's architecture",
                ),
            },
            Err(e) => self.block(
                "loader-missing",
                loader,
                format!("/{path} needs the loader {loader}, but {e}"),
                &format!("install the {} C library (libc6, or musl for Alpine)", self.arch.platform),
            ),
        }
        self.libraries(path, elf);
    }

    /// Every library `elf` (at `path`) needs, and theirs, breadth first.
    fn libraries(&mut self, path: &str, elf: &Elf) {
        let search = SearchPath::new(self.tree, self.arch, elf.interpreter.as_deref(), &self.command.env);
        let mut queue: VecDeque<(String, Elf)> = VecDeque::from([(path.to_string(), elf.clone())]);
        while let Some((object_path, object)) = queue.pop_front() {
            for name in &object.needed {
                match search.find(self.tree, name, &object, &object_path) {
                    Found::Fits(found) => {
                        if self.seen.insert(found.clone()) {
                            if let Some(NodeKind::File(FileFacts::Elf(library))) = self.tree.get(&found).map(|n| &n.kind) {
                                self.chain.steps.push(Step {
                                    role: "library",
                                    path: format!("/{found}"),
                                    architecture: Some(self.arch.platform.to_string()),
                                    via: format!("needed by /{object_path}"),
                                });
                                queue.push_back((found, library.clone()));
                            }
                        }
                    }
                    Found::Foreign(found, arch) => self.chain.findings.push(
                        Finding::new(
                            Severity::Blocker,
                            "library-foreign",
                            format!("/{object_path} needs {name}; the only one in the image, /{found}, is built for {arch}, not {} (the loader says: cannot open shared object file)", self.arch.platform),
                            format!("install the {} build of the library", self.arch.platform),
                        )
                        .at(found)
                        .arch(arch),
                    ),
                    Found::Missing => self.block(
                        "library-missing",
                        &object_path,
                        format!("/{object_path} needs {name}, which is in none of the library directories of the image"),
                        "install the package that provides it",
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_programs_of_shell_commands() {
        assert_eq!(first_program("exec /app/server --port 80").as_deref(), Some("/app/server"));
        assert_eq!(first_program("A=1 B=2 python3 app.py").as_deref(), Some("python3"));
        assert_eq!(first_program("echo hi && run"), None);
        assert_eq!(first_program("$HOME/bin/x"), None);
        assert!(is_shell("/bin/sh") && is_shell("bash") && !is_shell("/usr/bin/python3"));
    }
}
