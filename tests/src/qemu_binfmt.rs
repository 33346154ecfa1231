//! qemu-aarch64-static with a binfmt_misc table of its own, so that the aarch64 programs
//! a guest executes run under qemu too (plain qemu-user cannot follow an `execve` of a
//! foreign program without an entry in the host's table, which tests must not touch).
//!
//! The command runs in a private user+mount namespace (`unshare --user --map-root-user
//! --mount`) that mounts its own binfmt_misc instance (Linux 6.7 and later give each
//! user namespace one) on a scratch directory and registers qemu-aarch64-static for
//! aarch64 ELF programs (magic and mask from archway-arch's table, flag F), then
//! executes qemu. The instance lives as long as that mount, so the scratch directory is
//! removed only when the [`QemuWithBinfmt`] is dropped, after the run.

use crate::{qemu, QEMU_FORK_SAFE_ENV};
use std::path::PathBuf;
use std::process::Command;

/// What the namespace runs: mount, register, exec the rest of the arguments.
const SCRIPT: &str = r#"mount -t binfmt_misc binfmt_misc "$ARCHWAY_TEST_BINFMT"
printf '%s' "$ARCHWAY_TEST_REGISTER" > "$ARCHWAY_TEST_BINFMT/register"
exec "$@""#;

/// A scratch mount point for one qemu run with its own binfmt_misc.
pub struct QemuWithBinfmt {
    mount_point: PathBuf,
}

impl QemuWithBinfmt {
    /// A fresh mount point named after `name` (unique per process).
    pub fn new(name: &str) -> QemuWithBinfmt {
        let mount_point = std::env::temp_dir().join(format!("archway-qemu-binfmt-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&mount_point).unwrap_or_else(|e| panic!("{}: {e}", mount_point.display()));
        QemuWithBinfmt { mount_point }
    }

    /// `qemu-aarch64-static` (with [`QEMU_FORK_SAFE_ENV`]) in the namespace; add the
    /// program and its arguments.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args(["--user", "--map-root-user", "--mount", "sh", "-ec", SCRIPT, "sh"])
            .arg(qemu())
            .env("ARCHWAY_TEST_BINFMT", &self.mount_point)
            .env("ARCHWAY_TEST_REGISTER", register_line())
            .envs(QEMU_FORK_SAFE_ENV);
        cmd
    }
}

impl Drop for QemuWithBinfmt {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.mount_point);
    }
}

/// The binfmt_misc registration of qemu-aarch64-static for aarch64 ELF programs.
fn register_line() -> String {
    let arm64 = archway_arch::Arch::find("arm64").expect("arm64 is in the table");
    let emulation = arm64.emulation.as_ref().expect("arm64 has binfmt facts");
    let escaped = |bytes: &[u8]| bytes.iter().map(|b| format!("\\x{b:02x}")).collect::<String>();
    format!(
        ":archway-test-qemu-aarch64:M::{}:{}:{}:F",
        escaped(&emulation.magic),
        escaped(&emulation.mask),
        qemu().display()
    )
}
