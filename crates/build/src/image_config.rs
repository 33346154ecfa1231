//! The image configuration a stage builds up (the OCI config with Docker's extensions:
//! `Healthcheck`, `OnBuild`, `Shell`), and how each metadata instruction changes it, as
//! BuildKit's dispatcher does:
//!
//! - a stage starts from its base image's config, `PATH` added when it has none;
//! - shell forms of `CMD` and `ENTRYPOINT` run through `SHELL` (default `/bin/sh -c`);
//!   `ENTRYPOINT` clears a `CMD` inherited from the base image, not one set in the stage;
//! - `WORKDIR` is joined with the previous one; `EXPOSE 8000-8001` opens each port,
//!   `tcp` unless said otherwise;
//! - every instruction adds a history entry (`empty_layer` unless it made a layer).

use crate::instructions::{Command, Health};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `PATH` when the base image sets none (BuildKit's default for Linux).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The shell of shell forms when `SHELL` was not used.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// An image configuration (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: RunConfig,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// What a container of the image runs with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_build: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shell: Vec<String>,
    /// Docker's `ArgsEscaped`, set with `CMD` as BuildKit sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
}

/// `{}` in maps of ports and volumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Docker's health check; durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The layers' uncompressed digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> RootFs {
        RootFs { kind: "layers".to_owned(), diff_ids: Vec::new() }
    }
}

/// One history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// A stage's configuration as instructions change it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageConfig {
    pub image: ImageConfig,
    /// `CMD` was set in this stage (an `ENTRYPOINT` then keeps it).
    cmd_set: bool,
}

impl StageConfig {
    /// Start from a base image's configuration (`FROM scratch`: an empty one for the
    /// platform), with `PATH` set if it is missing.
    pub fn from_base(mut image: ImageConfig) -> StageConfig {
        if !image.config.env.iter().any(|entry| entry.split('=').next() == Some("PATH")) {
            image.config.env.push(format!("PATH={DEFAULT_PATH}"));
        }
        StageConfig { image, cmd_set: false }
    }

    /// The environment as `(name, value)` pairs.
    pub fn env(&self) -> Vec<(String, String)> {
        let split = |entry: &String| match entry.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (entry.clone(), String::new()),
        };
        self.image.config.env.iter().map(split).collect()
    }

    /// The working directory for the steps (`/` when unset).
    pub fn workdir(&self) -> &str {
        match self.image.config.working_dir.as_str() {
            "" => "/",
            dir => dir,
        }
    }

    /// `SHELL`, or `/bin/sh -c`.
    pub fn shell(&self) -> Vec<String> {
        if self.image.config.shell.is_empty() {
            DEFAULT_SHELL.iter().map(|s| (*s).to_owned()).collect()
        } else {
            self.image.config.shell.clone()
        }
    }

    /// Record a history entry.
    pub fn history(&mut self, created_by: String, made_layer: bool, created: Option<String>) {
        self.image.history.push(History {
            created,
            created_by,
            comment: "buildkit.dockerfile.v0".to_owned(),
            empty_layer: !made_layer,
        });
    }

    /// Apply a metadata instruction (its words already expanded). Returns the history
    /// text; filesystem instructions (`RUN`, `COPY`, `ADD`) and `ARG` are not handled
    /// here and return `None`.
    pub fn apply(&mut self, command: &Command) -> Result<Option<String>, String> {
        let config = &mut self.image.config;
        Ok(Some(match command {
            Command::Env(pairs) => {
                for pair in pairs {
                    config.env.retain(|entry| entry.split('=').next() != Some(pair.key.as_str()));
                    config.env.push(format!("{}={}", pair.key, pair.value));
                }
                let text: Vec<String> = pairs.iter().map(|p| format!("{}={}", p.key, p.value)).collect();
                format!("ENV {}", text.join(" "))
            }
            Command::Label(pairs) => {
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for pair in pairs {
                    labels.insert(pair.key.clone(), pair.value.clone());
                }
                let text: Vec<String> = pairs.iter().map(|p| format!("{}={}", p.key, p.value)).collect();
                format!("LABEL {}", text.join(" "))
            }
            Command::Maintainer(author) => {
                self.image.author = Some(author.clone());
                format!("MAINTAINER {author}")
            }
            Command::Workdir(path) => {
                config.working_dir = join_workdir(&config.working_dir, path);
                format!("WORKDIR {}", config.working_dir)
            }
            Command::User(user) => {
                config.user = user.clone();
                format!("USER {user}")
            }
            Command::Expose(ports) => {
                let exposed = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for port in ports {
                    for spec in port_specs(port)? {
                        exposed.insert(spec, Empty {});
                    }
                }
                format!("EXPOSE map[{}]", exposed.keys().map(|k| format!("{k}:{{}}")).collect::<Vec<_>>().join(" "))
            }
            Command::Volume(volumes) => {
                let map = config.volumes.get_or_insert_with(BTreeMap::new);
                for volume in volumes {
                    map.insert(volume.clone(), Empty {});
                }
                format!("VOLUME [{}]", volumes.join(" "))
            }
            Command::StopSignal(signal) => {
                check_signal(signal)?;
                config.stop_signal = signal.clone();
                format!("STOPSIGNAL {signal}")
            }
            Command::Shell(shell) => {
                config.shell = shell.clone();
                format!("SHELL [{}]", shell.join(" "))
            }
            Command::Onbuild(trigger) => {
                config.on_build.push(trigger.clone());
                return Ok(None);
            }
            Command::Healthcheck(health) => {
                config.healthcheck = Some(healthcheck(health));
                format!("HEALTHCHECK {:?}", health.test)
            }
            Command::Cmd(line) => {
                let args = if line.shell_form { with_shell(&self.shell(), &line.args) } else { line.args.clone() };
                let config = &mut self.image.config;
                config.cmd = Some(args.clone());
                config.args_escaped = true;
                self.cmd_set = true;
                format!("CMD {args:?}")
            }
            Command::Entrypoint(line) => {
                let args = if line.shell_form { with_shell(&self.shell(), &line.args) } else { line.args.clone() };
                let config = &mut self.image.config;
                config.entrypoint = if args.is_empty() && !line.shell_form { None } else { Some(args.clone()) };
                if !self.cmd_set {
                    config.cmd = None;
                }
                format!("ENTRYPOINT {args:?}")
            }
            Command::Run(_) | Command::Copy(_) | Command::Add(_) | Command::Arg(_) => return Ok(None),
        }))
    }
}

/// A shell form's words behind the shell: `["/bin/sh", "-c", "the text"]`.
pub fn with_shell(shell: &[String], args: &[String]) -> Vec<String> {
    let mut words = shell.to_vec();
    words.push(args.join(" "));
    words
}

/// `WORKDIR path` after `current`: absolute paths replace, relative ones are joined;
/// the result is cleaned.
pub fn join_workdir(current: &str, path: &str) -> String {
    let joined =
        if path.starts_with('/') { path.to_owned() } else { format!("{}/{path}", current.trim_end_matches('/')) };
    crate::context::clean_path(&format!("/{}", joined.trim_start_matches('/')))
}

/// `EXPOSE` words as `PORT/PROTO` keys: ranges opened port by port, `tcp` by default.
fn port_specs(word: &str) -> Result<Vec<String>, String> {
    let (ports, protocol) = word.split_once('/').unwrap_or((word, "tcp"));
    let protocol = protocol.to_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {protocol}"));
    }
    let invalid = || format!("invalid containerPort: {ports}");
    let (first, last) = match ports.split_once('-') {
        Some((first, last)) => {
            (first.parse::<u16>().map_err(|_| invalid())?, last.parse::<u16>().map_err(|_| invalid())?)
        }
        None => {
            let port = ports.parse::<u16>().map_err(|_| invalid())?;
            (port, port)
        }
    };
    if last < first {
        return Err(format!("invalid range specified for container: {ports}"));
    }
    Ok((first..=last).map(|port| format!("{port}/{protocol}")).collect())
}

/// `STOPSIGNAL`: a signal name (`SIGTERM`, `TERM`) or number.
fn check_signal(signal: &str) -> Result<(), String> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];
    let name = signal.strip_prefix("SIG").unwrap_or(signal);
    let known = NAMES.contains(&name)
        || name.parse::<u32>().is_ok_and(|n| (1..=64).contains(&n))
        || name.strip_prefix("RTMIN").is_some()
        || name.strip_prefix("RTMAX").is_some();
    if known {
        Ok(())
    } else {
        Err(format!("Invalid signal: {signal}"))
    }
}

fn healthcheck(health: &Health) -> Healthcheck {
    let nanos = |d: std::time::Duration| d.as_nanos() as u64;
    Healthcheck {
        test: health.test.clone(),
        interval: nanos(health.interval),
        timeout: nanos(health.timeout),
        start_period: nanos(health.start_period),
        start_interval: nanos(health.start_interval),
        retries: u64::from(health.retries),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instructions::{CommandLine, Pair};

    fn line(args: &[&str], shell_form: bool) -> CommandLine {
        CommandLine { args: args.iter().map(|a| (*a).to_owned()).collect(), shell_form, files: Vec::new() }
    }

    #[test]
    fn instructions_change_the_config_as_buildkit() {
        let mut base = ImageConfig::default();
        base.config.cmd = Some(vec!["bash".into()]);
        let mut stage = StageConfig::from_base(base);
        assert_eq!(stage.image.config.env, [format!("PATH={DEFAULT_PATH}")]);
        stage.apply(&Command::Env(vec![Pair { key: "PATH".into(), value: "/opt/bin".into() }])).unwrap();
        assert_eq!(stage.env(), [("PATH".to_owned(), "/opt/bin".to_owned())]);
        stage.apply(&Command::Workdir("/app".into())).unwrap();
        stage.apply(&Command::Workdir("src/../lib".into())).unwrap();
        assert_eq!(stage.workdir(), "/app/lib");
        stage.apply(&Command::Entrypoint(line(&["serve --port 80"], true))).unwrap();
        assert_eq!(
            stage.image.config.entrypoint.as_deref(),
            Some(&["/bin/sh".to_owned(), "-c".into(), "serve --port 80".into()][..])
        );
        assert_eq!(stage.image.config.cmd, None, "ENTRYPOINT clears the base image's CMD");
        stage.apply(&Command::Cmd(line(&["--verbose"], false))).unwrap();
        stage.apply(&Command::Shell(vec!["/bin/bash".into(), "-xc".into()])).unwrap();
        stage.apply(&Command::Entrypoint(line(&["app"], true))).unwrap();
        assert_eq!(stage.image.config.cmd.as_deref(), Some(&["--verbose".to_owned()][..]), "a CMD of the stage stays");
        assert_eq!(stage.image.config.entrypoint.as_ref().unwrap()[0], "/bin/bash");
        stage.apply(&Command::Expose(vec!["8000-8001".into(), "53/UDP".into()])).unwrap();
        let ports: Vec<&String> = stage.image.config.exposed_ports.as_ref().unwrap().keys().collect();
        assert_eq!(ports, ["53/udp", "8000/tcp", "8001/tcp"]);
        assert!(stage.apply(&Command::Expose(vec!["http".into()])).is_err());
        assert!(stage.apply(&Command::StopSignal("SIGWINCH".into())).is_ok());
        assert_eq!(stage.apply(&Command::StopSignal("SIGNOPE".into())), Err("Invalid signal: SIGNOPE".into()));
        let json = serde_json::to_value(&stage.image).unwrap();
        assert_eq!(json["config"]["WorkingDir"], "/app/lib");
        assert_eq!(json["config"]["ExposedPorts"]["8000/tcp"], serde_json::json!({}));
    }
}
