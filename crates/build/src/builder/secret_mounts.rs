//! `RUN --mount=type=secret` and `RUN --mount=type=ssh`: what the caller lent the build
//! ([`crate::secrets`]) shown to one step, as BuildKit shows it, and never in its layer
//! (the mount point is removed again) or its cache key.
//!
//! - A secret's id is `id=`, else `source=`, else the target's file name; it appears as
//!   a read-only file at the target (default `/run/secrets/ID`; mode 0400 and owner 0:0
//!   unless `mode`/`uid`/`gid` say otherwise), and in the variable `env=` names when
//!   given (then no file unless a target is given too).
//! - An ssh mount's id is `id=` or `default`; the agent socket appears at the target
//!   (default `/run/buildkit/ssh_agent.N`) and `SSH_AUTH_SOCK` points there.
//! - What was not lent fails the step when the mount is `required`, else is left out.

use crate::builder::Shared;
use crate::instructions::{Mount, MountType};
use archway_sandbox::BindMount;
use std::os::unix::fs::PermissionsExt;

/// What a secret or ssh mount adds to a step.
pub struct Lent {
    pub mount: Option<BindMount>,
    /// `NAME=value` entries for the step's environment.
    pub env: Vec<String>,
}

/// Lend `mount` (a secret or ssh mount) to the step; `agents_before` counts the ssh
/// mounts before it (their default targets are numbered).
pub fn lend(shared: &Shared, mount: &Mount, agents_before: usize) -> Result<Lent, String> {
    if mount.kind == MountType::Ssh {
        return lend_agent(shared, mount, agents_before);
    }
    let base_name = |path: &str| path.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned();
    let id = match (&mount.id, &mount.source, &mount.target) {
        (Some(id), _, _) | (None, Some(id), _) => id.clone(),
        (None, None, Some(target)) => base_name(target),
        (None, None, None) => return Err("invalid secret mount: one of source, target required".to_owned()),
    };
    let Some(value) = shared.secrets.secret(&id) else {
        if mount.required {
            return Err(format!("secret {id}: not found (give it with --secret id={id},src=FILE)"));
        }
        return Ok(Lent { mount: None, env: Vec::new() });
    };
    let mut env = Vec::new();
    if let Some(variable) = &mount.env {
        env.push(format!("{variable}={}", String::from_utf8_lossy(value)));
    }
    let target = match (&mount.target, &mount.env) {
        (Some(target), _) => Some(target.clone()),
        (None, None) => Some(format!("/run/secrets/{}", base_name(&id))),
        (None, Some(_)) => None,
    };
    let Some(target) = target else { return Ok(Lent { mount: None, env }) };
    let file = shared.scratch("secret");
    let failed = |e: std::io::Error| format!("secret {id}: {}: {e}", file.display());
    std::fs::write(&file, value).map_err(failed)?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mount.mode.unwrap_or(0o400) & 0o7777))
        .map_err(failed)?;
    std::os::unix::fs::chown(&file, Some(mount.uid.unwrap_or(0)), Some(mount.gid.unwrap_or(0))).map_err(failed)?;
    Ok(Lent { mount: Some(BindMount { source: file, target, read_only: true }), env })
}

/// An ssh agent socket at the mount's target, `SSH_AUTH_SOCK` pointing there.
fn lend_agent(shared: &Shared, mount: &Mount, agents_before: usize) -> Result<Lent, String> {
    let id = mount.id.as_deref().unwrap_or("default");
    let Some(socket) = shared.secrets.agent(id) else {
        if mount.required {
            return Err(format!("no SSH agent {id:?} was given (--ssh {id}[=SOCKET])"));
        }
        return Ok(Lent { mount: None, env: Vec::new() });
    };
    let target = mount.target.clone().unwrap_or_else(|| format!("/run/buildkit/ssh_agent.{agents_before}"));
    Ok(Lent {
        mount: Some(BindMount { source: socket.clone(), target: target.clone(), read_only: false }),
        env: vec![format!("SSH_AUTH_SOCK={target}")],
    })
}
