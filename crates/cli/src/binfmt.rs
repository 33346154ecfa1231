//! `archway binfmt`: register archway's interpreters with the kernel's binfmt_misc,
//! with the flags of multiarch/qemu-user-static (`--reset -p yes`) and the
//! `--install`/`--uninstall` of tonistiigi/binfmt, and a status view that probes which
//! platforms actually run.

use archway_binfmt::{probe, table, Arch, Entry, Error, Flags, Registered, Registration, Table};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// `yes`/`no`, as qemu-binfmt-conf.sh spells its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

/// The options of `archway binfmt`.
#[derive(Debug, Args)]
pub struct BinfmtArgs {
    /// Remove every archway-* and qemu-* entry first (other entries stay), then register
    /// (replacing an archway entry with different flags).
    #[arg(long)]
    pub reset: bool,
    /// F: the kernel opens the interpreter now, so it works inside chroots and containers
    /// that do not contain it (the interpreter must be static).
    #[arg(short = 'p', long, value_name = "yes|no")]
    pub persistent: Option<YesNo>,
    /// O and C: the kernel opens the binary (execute-only programs run) and takes
    /// credentials from it (setuid guests).
    #[arg(short = 'c', long, value_name = "yes|no")]
    pub credential: Option<YesNo>,
    /// P: pass the original argv[0] (busybox-style multi-call programs need it).
    #[arg(long, value_name = "yes|no", default_value = "yes")]
    pub preserve_argv0: YesNo,
    /// Exactly these flags, by the kernel's letters (`POCF`, `OF`, `""` for none), in
    /// place of -p, -c and --preserve-argv0. C implies O, as the kernel records it.
    #[arg(long, value_name = "LETTERS", value_parser = parse_flags,
          conflicts_with_all = ["persistent", "credential", "preserve_argv0"])]
    pub flags: Option<Flags>,
    /// Architectures to register (arm64/aarch64, amd64/x86_64, or all); the host's own is
    /// skipped. Default with --reset, -p or -c and no --install: every foreign one.
    #[arg(long, value_name = "ARCH[,ARCH]", value_delimiter = ',')]
    pub install: Vec<String>,
    /// Remove entries by name or glob (`qemu-*`); may be repeated.
    #[arg(long, value_name = "NAME|GLOB")]
    pub uninstall: Vec<String>,
    /// Show registered emulators and the platforms the kernel runs now (the default when
    /// nothing else is asked).
    #[arg(long)]
    pub status: bool,
    /// Status as JSON: {"supported": [...], "emulators": [...]}.
    #[arg(long)]
    pub json: bool,
    /// Print the lines that would be written to binfmt_misc's `register` (the format of
    /// systemd's binfmt.d files, one per architecture) and change nothing; the
    /// interpreter need not exist on this machine.
    #[arg(long, conflicts_with_all = ["uninstall", "status", "json", "reset"])]
    pub print: bool,
    /// Where archway-aarch64 lives (default: the directory of this archway binary).
    #[arg(long, value_name = "DIR")]
    pub interpreter_dir: Option<PathBuf>,
    /// The binfmt_misc mount (mounted there if missing).
    #[arg(long, value_name = "DIR", default_value = table::DEFAULT_MOUNT)]
    pub mount: PathBuf,
}

/// Examples shown by `archway binfmt --help`.
pub const EXAMPLES: &str = "Examples:\n  \
    sudo archway binfmt --reset -p yes        # like multiarch/qemu-user-static --reset -p yes\n  \
    sudo archway binfmt --install arm64       # like tonistiigi/binfmt --install arm64\n  \
    sudo archway binfmt --install all -c yes  # also O and C: execute-only and setuid guests\n  \
    sudo archway binfmt --uninstall 'qemu-*'  # remove entries by glob\n  \
    archway binfmt --json                     # what is registered, what runs\n  \
    archway binfmt --install arm64 -p yes -c yes --interpreter-dir /usr/local/bin --print \\\n    \
      > /etc/binfmt.d/archway-aarch64.conf    # for systemd-binfmt at boot\n\n\
    Flags: P (--preserve-argv0, on by default), F (-p yes), O and C (-c yes); or exactly\n\
    the letters given with --flags (--flags OF).\n\
    -p yes needs the static interpreter: bash scripts/build-static.sh, then\n  \
    sudo archway binfmt --reset -p yes --interpreter-dir target/x86_64-unknown-linux-gnu/release\n\
    Entries are named archway-<arch> (archway-aarch64); registering again is a no-op.";

/// Run the command; returns the exit status.
pub fn run(args: &BinfmtArgs) -> i32 {
    match execute(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("archway binfmt: {e}");
            1
        }
    }
}

fn execute(args: &BinfmtArgs) -> Result<(), Error> {
    let say = |line: String| if args.json || args.print { eprintln!("{line}") } else { println!("{line}") };
    // Everything that can be checked is checked before the table changes.
    let (flags, dir) = (flags(args), interpreter_dir(args)?);
    let mut entries = Vec::new();
    for arch in targets(args)? {
        if arch.is_host() {
            say(format!("{}: skipped, this host runs it natively", arch.platform));
            continue;
        }
        let entry = Entry::for_arch(arch, &dir.join(arch.interpreter_name()), flags)?;
        if args.print {
            println!("{}", entry.render());
            continue;
        }
        entry.check_interpreter()?;
        entries.push(entry);
    }
    if args.print {
        return Ok(());
    }
    let table = Table::open(&args.mount)?;
    for pattern in &args.uninstall {
        let removed = table.remove_matching(pattern)?;
        if removed.is_empty() {
            say(format!("no entry matches {pattern}"));
        }
        removed.iter().for_each(|name| say(format!("removed {name}")));
    }
    if args.reset {
        table.reset()?.iter().for_each(|name| say(format!("removed {name}")));
    }
    for entry in &entries {
        let done = match table.register(entry, args.reset)? {
            Registration::Added => "registered",
            Registration::Replaced => "re-registered",
            Registration::Unchanged => "already registered",
        };
        say(format!("{done} {} -> {} (flags {:?})", entry.name, entry.interpreter.display(), flags.letters()));
    }
    let asked = args.reset || !args.install.is_empty() || !args.uninstall.is_empty() || wants_all(args);
    if args.status || args.json || !asked {
        show_status(&table, args.json)?;
    }
    Ok(())
}

/// Whether -p, -c, --flags or --print alone asks for every foreign architecture.
fn wants_all(args: &BinfmtArgs) -> bool {
    args.persistent.is_some() || args.credential.is_some() || args.flags.is_some() || args.print
}

/// The architectures to register, checked before anything changes.
fn targets(args: &BinfmtArgs) -> Result<Vec<&'static Arch>, Error> {
    if args.install.is_empty() {
        return Ok(if args.reset || wants_all(args) { archway_binfmt::arch::foreign().collect() } else { Vec::new() });
    }
    let mut out: Vec<&'static Arch> = Vec::new();
    for name in &args.install {
        let found: Vec<&'static Arch> = if name.eq_ignore_ascii_case("all") {
            archway_binfmt::arch::foreign().collect()
        } else {
            vec![archway_binfmt::arch::find(name)?]
        };
        for arch in found {
            if !out.contains(&arch) {
                out.push(arch);
            }
        }
    }
    Ok(out)
}

/// `--flags` letters: only P, O, C and F.
fn parse_flags(letters: &str) -> Result<Flags, String> {
    match letters.chars().find(|c| !"POCF".contains(*c)) {
        Some(bad) => Err(format!("unknown flag {bad:?}: binfmt_misc's flags are P, O, C and F")),
        None => Ok(Flags::parse(letters)),
    }
}

fn flags(args: &BinfmtArgs) -> Flags {
    if let Some(exact) = args.flags {
        return exact;
    }
    let credential = args.credential == Some(YesNo::Yes);
    Flags {
        preserve_argv0: args.preserve_argv0 == YesNo::Yes,
        open_binary: credential,
        credentials: credential,
        fix_binary: args.persistent == Some(YesNo::Yes),
    }
}

/// `--interpreter-dir` made absolute, or the directory of the running binary.
fn interpreter_dir(args: &BinfmtArgs) -> Result<PathBuf, Error> {
    let dir = match &args.interpreter_dir {
        Some(dir) => dir.clone(),
        None => {
            let exe = std::env::current_exe().map_err(|e| Error::Io { path: "/proc/self/exe".into(), source: e })?;
            exe.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    };
    std::path::absolute(&dir).map_err(|e| Error::Io { path: dir, source: e })
}

/// Registered entries and the platforms whose probe runs.
fn show_status(table: &Table, json: bool) -> Result<(), Error> {
    let entries = table.list()?;
    let supported: Vec<String> =
        archway_binfmt::ARCHES.iter().filter(|a| probe::runs(a)).map(|a| a.platform_string()).collect();
    if json {
        println!("{}", status_json(&supported, &entries));
        return Ok(());
    }
    println!("binfmt_misc at {}", table.dir().display());
    if entries.is_empty() {
        println!("no emulators registered");
    }
    for e in &entries {
        let state = if e.enabled { "enabled" } else { "disabled" };
        println!("  {:<20} {state:<8} flags {:<5} {}", e.name, e.flags.letters(), e.interpreter.display());
    }
    println!("platforms this kernel runs now: {}", supported.join(", "));
    Ok(())
}

/// `{"supported": [...], "emulators": [names], "entries": [{...}]}`.
fn status_json(supported: &[String], entries: &[Registered]) -> String {
    let list = |items: Vec<String>| format!("[{}]", items.join(", "));
    let details = entries
        .iter()
        .map(|e| {
            format!(
                "{{\"name\": {}, \"enabled\": {}, \"interpreter\": {}, \"flags\": {}}}",
                quote(&e.name),
                e.enabled,
                quote(&e.interpreter.to_string_lossy()),
                quote(&e.flags.letters())
            )
        })
        .collect();
    format!(
        "{{\"supported\": {}, \"emulators\": {}, \"entries\": {}}}",
        list(supported.iter().map(|s| quote(s)).collect()),
        list(entries.iter().map(|e| quote(&e.name)).collect()),
        list(details)
    )
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_escaped() {
        assert_eq!(quote("a\"b\\\n"), "\"a\\\"b\\\\\\u000a\"");
        let e = Registered { name: "qemu-arm".into(), enabled: true, ..Registered::default() };
        assert_eq!(
            status_json(&["linux/amd64".into()], &[e]),
            "{\"supported\": [\"linux/amd64\"], \"emulators\": [\"qemu-arm\"], \"entries\": \
             [{\"name\": \"qemu-arm\", \"enabled\": true, \"interpreter\": \"\", \"flags\": \"\"}]}"
        );
    }
}
