//! What the sandbox's init tells the parent, on one close-on-exec pipe: a step failed
//! (its number and `errno`), the command started (its `execve` succeeded), the command
//! ended (its wait status). Fixed-size messages of one `write` each, which a pipe
//! delivers whole; sent and received with system calls only, since the init (a copy of
//! a multi-threaded process) may do nothing else.

use std::ffi::c_int;
use std::os::fd::RawFd;

/// One message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    StepFailed { index: usize, errno: c_int },
    Started,
    Ended { wait_status: c_int },
}

/// Bytes of a message: kind, then two numbers.
const LEN: usize = 12;

impl Report {
    fn encode(self) -> [u8; LEN] {
        let (kind, first, second) = match self {
            Report::StepFailed { index, errno } => (0u32, index as u32, errno),
            Report::Started => (1, 0, 0),
            Report::Ended { wait_status } => (2, 0, wait_status),
        };
        let mut message = [0u8; LEN];
        message[..4].copy_from_slice(&kind.to_ne_bytes());
        message[4..8].copy_from_slice(&first.to_ne_bytes());
        message[8..].copy_from_slice(&second.to_ne_bytes());
        message
    }

    fn decode(message: [u8; LEN]) -> Option<Report> {
        let [k0, k1, k2, k3, f0, f1, f2, f3, s0, s1, s2, s3] = message;
        let (first, second) = (u32::from_ne_bytes([f0, f1, f2, f3]), c_int::from_ne_bytes([s0, s1, s2, s3]));
        match u32::from_ne_bytes([k0, k1, k2, k3]) {
            0 => Some(Report::StepFailed { index: first as usize, errno: second }),
            1 => Some(Report::Started),
            2 => Some(Report::Ended { wait_status: second }),
            _ => None,
        }
    }

    /// Write it to `fd`. A failure to write is not reported: the reader then sees the
    /// pipe close early.
    pub(crate) fn send(self, fd: RawFd) {
        let message = self.encode();
        // SAFETY: writes our own buffer.
        unsafe { libc::write(fd, message.as_ptr().cast(), LEN) };
    }

    /// Read one message from `fd`: `Ok(None)` when the pipe closed before one began,
    /// `Err(errno)` on a read error, a cut message (`EPIPE`) or an unknown one (`EPROTO`).
    pub(crate) fn receive(fd: RawFd) -> Result<Option<Report>, c_int> {
        let mut message = [0u8; LEN];
        let mut filled = 0;
        while let Some(rest) = message.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            // SAFETY: reads into the unfilled rest of our buffer.
            let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
            if n < 0 {
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
                if errno != libc::EINTR {
                    return Err(errno);
                }
            } else if n == 0 {
                return if filled == 0 { Ok(None) } else { Err(libc::EPIPE) };
            } else {
                filled += n as usize;
            }
        }
        Report::decode(message).map(Some).ok_or(libc::EPROTO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_a_pipe() {
        let mut fds = [0; 2];
        // SAFETY: a pipe of our own, closed below.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let sent =
            [Report::StepFailed { index: 7, errno: libc::EPERM }, Report::Started, Report::Ended { wait_status: 0x8b }];
        for report in sent {
            report.send(fds[1]);
        }
        // SAFETY: closing our own write end.
        unsafe { libc::close(fds[1]) };
        for report in sent {
            assert_eq!(Report::receive(fds[0]), Ok(Some(report)));
        }
        assert_eq!(Report::receive(fds[0]), Ok(None));
        // SAFETY: closing our own read end.
        unsafe { libc::close(fds[0]) };
        assert_eq!(Report::decode([9; LEN]), None);
    }
}
