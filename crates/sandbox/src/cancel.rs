//! Stopping runs from elsewhere: a [`Cancel`] token, an `eventfd` that [`crate::run`]
//! polls beside the command's output. Cancelling is one `write(2)`, so a `SIGINT`
//! handler may do it (keep the token in a static the handler can reach).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

/// A token shared by the runs it may stop; clones are the same token. Once cancelled it
/// stays so: every run using it, running or yet to start, ends as
/// [`crate::Ending::Cancelled`].
#[derive(Debug, Clone)]
pub struct Cancel {
    event: Arc<OwnedFd>,
}

impl Cancel {
    pub fn new() -> io::Result<Cancel> {
        // SAFETY: eventfd returns a new descriptor of ours or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just gave us this descriptor.
        Ok(Cancel { event: Arc::new(unsafe { OwnedFd::from_raw_fd(fd) }) })
    }

    /// Cancel every run using this token. Async-signal-safe.
    pub fn cancel(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes of ours to our eventfd; a full counter (EAGAIN) is
        // cancelled already.
        unsafe { libc::write(self.event.as_raw_fd(), one.as_ptr().cast(), one.len()) };
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        let mut fd = libc::pollfd { fd: self.raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: polls one entry of ours without waiting.
        unsafe { libc::poll(&mut fd, 1, 0) };
        fd.revents & libc::POLLIN != 0
    }

    /// The descriptor to poll: readable once cancelled.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.event.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_stays_cancelled_for_all_its_clones() {
        let token = Cancel::new().unwrap();
        let clone = token.clone();
        assert!(!token.is_cancelled() && !clone.is_cancelled());
        clone.cancel();
        clone.cancel();
        assert!(token.is_cancelled() && clone.is_cancelled());
        assert!(token.is_cancelled(), "polling does not consume it");
    }
}
