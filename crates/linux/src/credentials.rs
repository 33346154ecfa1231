//! The credentials a new guest sees in its auxv, and secure-execution mode.
//!
//! Under binfmt_misc's C flag the kernel starts the interpreter with the credentials of
//! a setuid or setgid guest binary (a setuid-root program run by `nobody` gives archway
//! euid 0) and marks the exec secure: `AT_SECURE` is 1 in archway's own auxv. The guest
//! gets the same view, so its dynamic loader drops `LD_PRELOAD` and friends as it would
//! on arm64 hardware. In secure mode archway itself ignores everything the invoking
//! user could set to change what runs ([`secure_execution`]): the `ARCHWAY_*`
//! variables and the private relaunch command line.

/// The process credentials reported in the auxv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u64,
    pub euid: u64,
    pub gid: u64,
    pub egid: u64,
    /// `AT_SECURE`: the exec changed privileges.
    pub secure: bool,
}

impl Credentials {
    /// The host process's credentials and secure mode.
    pub fn of_host() -> Credentials {
        // SAFETY: these calls have no preconditions and cannot fail.
        let (uid, euid, gid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
        Credentials {
            uid: u64::from(uid),
            euid: u64::from(euid),
            gid: u64::from(gid),
            egid: u64::from(egid),
            secure: secure_execution(),
        }
    }
}

/// Whether this process runs in secure-execution mode: the kernel said so (`AT_SECURE`,
/// set when an exec raised privileges, as binfmt_misc's C flag does for a setuid guest)
/// or the real and effective ids differ.
pub fn secure_execution() -> bool {
    // SAFETY: getauxval only reads the auxiliary vector (0 when absent); the id calls
    // have no preconditions.
    unsafe {
        libc::getauxval(libc::AT_SECURE) != 0 || libc::getuid() != libc::geteuid() || libc::getgid() != libc::getegid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_process_is_not_secure() {
        let creds = Credentials::of_host();
        assert!(!creds.secure);
        assert!(!secure_execution());
        assert_eq!(creds.uid, creds.euid);
    }
}
