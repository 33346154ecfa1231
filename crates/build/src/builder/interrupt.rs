//! Ctrl-C and `kill` during a build: SIGINT, SIGTERM and SIGHUP cancel the running step
//! (its sandbox kills every process of the step) and every step not yet started, so the
//! build returns an error and its scratch directory is removed on the way out, instead of
//! the builder dying in the middle of writing.

use archway_sandbox::Cancel;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// The token the signal handler cancels.
static TOKEN: OnceLock<Cancel> = OnceLock::new();

/// The signals that interrupt a build.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Set by the handler: the build was interrupted (the token is also cancelled when a
/// platform fails).
static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
    if let Some(token) = TOKEN.get() {
        token.cancel();
    }
}

/// The build's cancel token, with the handlers installed (once per process).
pub fn token() -> Option<Cancel> {
    if let Some(token) = TOKEN.get() {
        return Some(token.clone());
    }
    let token = Cancel::new().ok()?;
    let token = TOKEN.get_or_init(|| token).clone();
    for signal in SIGNALS {
        // SAFETY: the handler only calls Cancel::cancel, which is async-signal-safe (one
        // write(2)); the sigaction structure is zeroed and then filled in.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    Some(token)
}

/// Whether the build was interrupted.
pub fn interrupted() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}
