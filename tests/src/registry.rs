//! A real registry for tests: Debian's docker-registry on 127.0.0.1, started by
//! scripts/registry.sh on a free port with its storage in a test's directory, and
//! stopped by its pid when the [`Registry`] is dropped (the test passing or failing).

use crate::workspace;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A running docker-registry.
pub struct Registry {
    pub port: u16,
    pid: u32,
}

impl Registry {
    /// Start one storing into `dir`, with Basic auth from `htpasswd` if given.
    pub fn start(dir: &Path, htpasswd: Option<&Path>) -> Registry {
        let mut command = Command::new("bash");
        command.arg(workspace().join("scripts/registry.sh")).arg("start").arg(dir);
        command.args(htpasswd);
        let output = command.output().expect("bash runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "scripts/registry.sh start failed (is docker-registry installed? scripts/install-image-tools.sh): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut words = stdout.split_whitespace();
        match (words.next().and_then(|port| port.parse().ok()), words.next().and_then(|pid| pid.parse().ok())) {
            (Some(port), Some(pid)) => Registry { port, pid },
            _ => panic!("scripts/registry.sh start printed {stdout:?}, not PORT PID"),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let stopped = Command::new("bash")
            .arg(workspace().join("scripts/registry.sh"))
            .arg("stop")
            .arg(self.pid.to_string())
            .status();
        if !stopped.as_ref().is_ok_and(|status| status.success()) {
            eprintln!("scripts/registry.sh stop {} failed: {stopped:?}", self.pid);
        }
    }
}

/// Points the variables that locate registry auth files (HOME, XDG_RUNTIME_DIR,
/// DOCKER_CONFIG, REGISTRY_AUTH_FILE) into a directory that does not exist, once per
/// test binary, before a test does anything else (every registry test calls this first,
/// so no other thread reads the environment meanwhile). skopeo inherits the same.
pub fn isolated_environment() {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let home = std::env::temp_dir().join(format!("archway-registry-no-home-{}", std::process::id()));
        std::env::set_var("HOME", &home);
        std::env::set_var("XDG_RUNTIME_DIR", home.join("run"));
        std::env::set_var("DOCKER_CONFIG", home.join("docker"));
        std::env::set_var("REGISTRY_AUTH_FILE", home.join("auth.json"));
        home
    });
}
