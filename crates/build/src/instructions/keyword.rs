//! Each keyword's arguments and flags read into a typed command, with BuildKit's
//! argument counts, flag sets and error texts (`instructions/parse.go`).

use super::command::{
    Add, ArgDefinition, Command, CommandLine, Copy, Health, InlineContent, InlineFile, Network, Pair, Run, Sources,
};
use super::flags::{Flags, Kind};
use super::mount::parse_mount;
use super::{duration, suggest, Stage};
use crate::dockerfile::{go_quote, parse_heredoc_word, Arguments, Instruction};
use std::time::Duration;

/// Every instruction name, for suggestions.
const INSTRUCTIONS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

/// The words of an instruction's arguments, as BuildKit's `nodeArgs` lists them.
fn words(arguments: &Arguments) -> Vec<String> {
    match arguments {
        Arguments::None => Vec::new(),
        Arguments::Unknown => vec![String::new()],
        Arguments::Text(text) => vec![text.clone()],
        Arguments::Words(words) | Arguments::Json(words) => words.clone(),
        Arguments::Pairs(pairs) => pairs
            .iter()
            .flat_map(|p| [p.key.clone(), p.value.clone(), if p.legacy { String::new() } else { "=".to_owned() }])
            .collect(),
        Arguments::Health { kind, command } => std::iter::once(kind.clone()).chain(words(command)).collect(),
        Arguments::Nested(inner) => std::iter::once(inner.keyword.clone()).chain(words(&inner.arguments)).collect(),
    }
}

/// `FROM`.
pub(super) fn stage(instruction: &Instruction) -> Result<Stage, String> {
    let args = words(&instruction.arguments);
    let name = match args.as_slice() {
        [_, as_word, name] if as_word.eq_ignore_ascii_case("as") => {
            let lower = name.to_lowercase();
            if !is_valid_stage_name(&lower) {
                return Err(format!(
                    "invalid name for build stage: {}, name can't start with a number or contain symbols",
                    go_quote(name)
                ));
            }
            Some(lower)
        }
        [_] => None,
        _ => return Err("FROM requires either one or three arguments".to_owned()),
    };
    let flags = Flags::parse(&instruction.flags, &[("platform", Kind::String)])?;
    Ok(Stage {
        base: args[0].clone(),
        name,
        platform: flags.string("platform"),
        commands: Vec::new(),
        line: instruction.lines.0,
        source: instruction.original.trim().to_owned(),
    })
}

/// `^[a-z][a-z0-9-_.]*$`.
fn is_valid_stage_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Any instruction but `FROM`.
pub(super) fn command(instruction: &Instruction) -> Result<Command, String> {
    let args = words(&instruction.arguments);
    let keyword = instruction.name();
    let upper = keyword.to_uppercase();
    let flags = |accepted: &[(&'static str, Kind)]| Flags::parse(&instruction.flags, accepted);
    let exactly_one = || match args.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("{upper} requires exactly one argument")),
    };
    let at_least_one = || if args.is_empty() { Err(format!("{upper} requires at least one argument")) } else { Ok(()) };
    Ok(match keyword.as_str() {
        "env" | "label" => {
            flags(&[])?;
            let pairs = pairs(&args, &upper)?;
            if keyword == "env" {
                Command::Env(pairs)
            } else {
                Command::Label(pairs)
            }
        }
        "maintainer" => {
            let maintainer = exactly_one()?;
            flags(&[])?;
            Command::Maintainer(maintainer)
        }
        "copy" => {
            let f = flags(&[
                ("chown", Kind::String),
                ("from", Kind::String),
                ("chmod", Kind::String),
                ("link", Kind::Bool),
                ("exclude", Kind::Strings),
                ("parents", Kind::Bool),
            ])?;
            Command::Copy(Copy {
                sources: sources(instruction, &args, &upper)?,
                from: f.string("from"),
                chown: f.string("chown"),
                chmod: f.string("chmod"),
                link: f.bool("link").unwrap_or(false),
                parents: f.bool("parents").unwrap_or(false),
                exclude: f.strings("exclude").to_vec(),
            })
        }
        "add" => {
            let f = flags(&[
                ("chown", Kind::String),
                ("chmod", Kind::String),
                ("link", Kind::Bool),
                ("keep-git-dir", Kind::Bool),
                ("checksum", Kind::String),
                ("unpack", Kind::Bool),
                ("exclude", Kind::Strings),
            ])?;
            Command::Add(Add {
                sources: sources(instruction, &args, &upper)?,
                chown: f.string("chown"),
                chmod: f.string("chmod"),
                link: f.bool("link").unwrap_or(false),
                exclude: f.strings("exclude").to_vec(),
                keep_git_dir: f.bool("keep-git-dir"),
                checksum: f.string("checksum"),
                unpack: f.bool("unpack"),
            })
        }
        "workdir" => {
            let path = exactly_one()?;
            flags(&[])?;
            Command::Workdir(path)
        }
        "run" => {
            let f = flags(&[
                ("mount", Kind::Strings),
                ("network", Kind::String),
                ("security", Kind::String),
                ("device", Kind::Strings),
            ])?;
            let network = match f.string("network").as_deref().unwrap_or("default") {
                "default" => Network::Default,
                "none" => Network::None,
                "host" => Network::Host,
                other => return Err(format!("invalid network mode {}", go_quote(other))),
            };
            let insecure = match f.string("security").as_deref().unwrap_or("sandbox") {
                "sandbox" => false,
                "insecure" => true,
                other => return Err(format!("security {} is not valid", go_quote(other))),
            };
            for mount in f.strings("mount") {
                // Checked now without expansion, as BuildKit does; read again at build time.
                parse_mount(mount, &mut |value| Ok(value.to_owned()))?;
            }
            Command::Run(Run {
                command: command_line(instruction, &args),
                mounts: f.strings("mount").to_vec(),
                network,
                insecure,
                devices: f.strings("device").to_vec(),
            })
        }
        "cmd" => {
            flags(&[])?;
            Command::Cmd(command_line(instruction, &args))
        }
        "entrypoint" => {
            flags(&[])?;
            Command::Entrypoint(command_line(instruction, &args))
        }
        "healthcheck" => {
            at_least_one()?;
            Command::Healthcheck(health(instruction, &args)?)
        }
        "expose" => {
            at_least_one()?;
            flags(&[])?;
            let mut ports = args;
            ports.sort();
            Command::Expose(ports)
        }
        "user" => {
            let user = exactly_one()?;
            flags(&[])?;
            Command::User(user)
        }
        "volume" => {
            at_least_one()?;
            flags(&[])?;
            let volumes: Vec<String> = args.iter().map(|v| v.trim().to_owned()).collect();
            if volumes.iter().any(String::is_empty) {
                return Err("VOLUME specified can not be an empty string".to_owned());
            }
            Command::Volume(volumes)
        }
        // BuildKit does not check STOPSIGNAL's flags.
        "stopsignal" => Command::StopSignal(exactly_one()?),
        "arg" => {
            at_least_one()?;
            flags(&[])?;
            let definitions = args.iter().map(|arg| match arg.split_once('=') {
                Some(("", _)) => Err("ARG names can not be blank".to_owned()),
                Some((name, default)) => Ok(ArgDefinition { name: name.to_owned(), default: Some(default.to_owned()) }),
                None => Ok(ArgDefinition { name: arg.clone(), default: None }),
            });
            Command::Arg(definitions.collect::<Result<_, _>>()?)
        }
        "shell" => {
            flags(&[])?;
            let line = command_line(instruction, &args);
            match (line.args.is_empty(), line.shell_form) {
                (true, _) => return Err("SHELL requires at least one argument".to_owned()),
                (false, false) => Command::Shell(line.args),
                (false, true) => {
                    return Err(format!(
                        "SHELL requires the arguments to be in JSON form: {}",
                        instruction.original.trim()
                    ))
                }
            }
        }
        "onbuild" => onbuild(instruction, &args)?,
        _ => {
            return Err(format!(
                "unknown instruction: {}{}",
                instruction.keyword,
                suggest::did_you_mean(&keyword, &INSTRUCTIONS, "")
            ))
        }
    })
}

/// `ENV`/`LABEL` pairs from their `KEY VALUE SEP` triples.
fn pairs(args: &[String], keyword: &str) -> Result<Vec<Pair>, String> {
    if args.is_empty() {
        return Err(format!("{keyword} requires at least one argument"));
    }
    if !args.len().is_multiple_of(3) {
        return Err(format!("Bad input to {keyword}, too many arguments"));
    }
    args.chunks(3)
        .map(|triple| match &triple[0] {
            key if key.is_empty() => Err(format!("{keyword} names can not be blank")),
            key => Ok(Pair { key: key.clone(), value: triple[1].clone() }),
        })
        .collect()
}

/// The sources and destination of `COPY`/`ADD`, heredoc sources turned into contents.
fn sources(instruction: &Instruction, args: &[String], keyword: &str) -> Result<Sources, String> {
    let Some((destination, paths)) = args.split_last().filter(|(_, paths)| !paths.is_empty()) else {
        return Err(format!(
            "{keyword} requires at least two arguments, but only one was provided. Destination could not be determined"
        ));
    };
    if matches!(parse_heredoc_word(destination), Ok(Some(_))) {
        return Err(format!("{keyword} cannot accept a heredoc as a destination"));
    }
    let mut sources = Sources { paths: Vec::new(), contents: Vec::new(), destination: destination.clone() };
    for path in paths {
        match parse_heredoc_word(path) {
            Ok(Some(word)) => {
                let heredoc = instruction.heredocs.iter().find(|h| h.name == word.name);
                sources.contents.push(InlineContent {
                    name: word.name,
                    data: heredoc.map(|h| h.effective_content()).unwrap_or_default(),
                    expand: word.expand,
                });
            }
            _ => sources.paths.push(path.clone()),
        }
    }
    Ok(sources)
}

/// `RUN`, `CMD`, `ENTRYPOINT` and `SHELL` arguments: exec form as they are, shell form
/// joined into one word.
fn command_line(instruction: &Instruction, args: &[String]) -> CommandLine {
    let shell_form = !instruction.arguments.is_json();
    let args = if shell_form && !args.is_empty() { vec![args.join(" ")] } else { args.to_vec() };
    let files = instruction
        .heredocs
        .iter()
        .map(|h| InlineFile { name: h.name.clone(), data: h.content.clone(), chomp: h.chomp })
        .collect();
    CommandLine { args, shell_form, files }
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval ...] CMD ...`.
fn health(instruction: &Instruction, args: &[String]) -> Result<Health, String> {
    let kind = args[0].to_uppercase();
    let rest = &args[1..];
    let none = Health {
        test: vec![kind.clone()],
        interval: Duration::ZERO,
        timeout: Duration::ZERO,
        start_period: Duration::ZERO,
        start_interval: Duration::ZERO,
        retries: 0,
    };
    if kind == "NONE" {
        if !rest.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".to_owned());
        }
        return Ok(none);
    }
    let f = Flags::parse(
        &instruction.flags,
        &[
            ("interval", Kind::String),
            ("timeout", Kind::String),
            ("start-period", Kind::String),
            ("start-interval", Kind::String),
            ("retries", Kind::String),
        ],
    )?;
    if kind != "CMD" {
        return Err(format!("Unknown type {} in HEALTHCHECK (try CMD)", go_quote(&kind)));
    }
    let command = command_line(instruction, rest);
    if command.args.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".to_owned());
    }
    let test_kind = if command.shell_form { "CMD-SHELL" } else { "CMD" };
    let retries = match f.string("retries").filter(|r| !r.is_empty()) {
        None => 0,
        Some(text) => match text.parse::<i32>() {
            Ok(n) if n < 0 => return Err(format!("--retries cannot be negative ({n})")),
            Ok(n) => n as u32,
            Err(_) => return Err(format!("strconv.ParseInt: parsing {}: invalid syntax", go_quote(&text))),
        },
    };
    Ok(Health {
        test: std::iter::once(test_kind.to_owned()).chain(command.args).collect(),
        interval: duration::health_interval("interval", f.string("interval"))?,
        timeout: duration::health_interval("timeout", f.string("timeout"))?,
        start_period: duration::health_interval("start-period", f.string("start-period"))?,
        start_interval: duration::health_interval("start-interval", f.string("start-interval"))?,
        retries,
    })
}

/// `ONBUILD INSTRUCTION`: the trigger's text (heredoc bodies appended), checked.
fn onbuild(instruction: &Instruction, args: &[String]) -> Result<Command, String> {
    let Some(trigger) = args.first() else { return Err("ONBUILD requires at least one argument".to_owned()) };
    Flags::parse(&instruction.flags, &[])?;
    match trigger.trim().to_uppercase().as_str() {
        "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".to_owned()),
        upper @ ("MAINTAINER" | "FROM") => return Err(format!("{upper} isn't allowed as an ONBUILD trigger")),
        _ => {}
    }
    let original = instruction.original.trim_start();
    let mut expression = match original.get(..7) {
        Some(keyword) if keyword.eq_ignore_ascii_case("onbuild") => original[7..].trim_start().to_owned(),
        _ => original.to_owned(),
    };
    for heredoc in &instruction.heredocs {
        expression.push('\n');
        expression.push_str(&heredoc.content);
        expression.push_str(&heredoc.name);
    }
    Ok(Command::Onbuild(expression))
}
