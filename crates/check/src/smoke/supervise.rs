//! Watching the running command: its stdout and stderr drained as they come (the last
//! [`EXCERPT_BYTES`] of each kept), the end of the sandbox's init (pid 1 of the pid
//! namespace, which exits when the command has ended and reported its wait status)
//! awaited on its pidfd until the timeout, then `SIGKILL` to the init. When pid 1 dies
//! the kernel kills every other process of the namespace and waits for them before the
//! init's end is reported: after [`supervise`] nothing of the sandbox runs.

use super::report::Report;
use super::sandbox::Child;
use super::Excerpt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How much of the end of stdout and of stderr is kept.
pub const EXCERPT_BYTES: usize = 2048;

/// How long output is still read after the sandbox is gone (every writer is dead by
/// then; only a descriptor another thread of the caller inherited could delay the end).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// The last bytes of a stream and how many there were.
#[derive(Debug, Default)]
struct Tail {
    kept: Vec<u8>,
    total: u64,
}

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        self.kept.extend_from_slice(bytes);
        if self.kept.len() > 2 * EXCERPT_BYTES {
            self.kept.drain(..self.kept.len() - EXCERPT_BYTES);
        }
    }

    fn excerpt(mut self) -> Excerpt {
        if self.kept.len() > EXCERPT_BYTES {
            self.kept.drain(..self.kept.len() - EXCERPT_BYTES);
        }
        Excerpt { text: String::from_utf8_lossy(&self.kept).into_owned(), total_bytes: self.total }
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Exited(i32),
    Signaled {
        signal: i32,
        core_dumped: bool,
    },
    /// Killed at the timeout.
    TimedOut,
}

/// The command's end, how long it ran, and its output.
pub(crate) struct Finished {
    pub status: io::Result<Status>,
    pub elapsed: Duration,
    pub stdout: Excerpt,
    pub stderr: Excerpt,
}

/// An output pipe being read.
struct Stream {
    fd: OwnedFd,
    tail: Tail,
    open: bool,
}

impl Stream {
    fn new(fd: OwnedFd) -> Stream {
        Stream { fd, tail: Tail::default(), open: true }
    }

    /// Read what is there (after `poll` said so); end of file closes the stream.
    fn read(&mut self) {
        let mut buffer = [0u8; 16 * 1024];
        // SAFETY: reads into our buffer.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        match n {
            n if n > 0 => self.tail.push(&buffer[..n as usize]),
            0 => self.open = false,
            _ => {
                if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    self.open = false;
                }
            }
        }
    }
}

/// Wait for the sandbox's init `child` to end (the command started at `started`), at
/// most `timeout`, collecting `stdout` and `stderr`; the command's status comes on
/// `report`.
pub(crate) fn supervise(
    child: Child,
    report: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    started: Instant,
    timeout: Duration,
) -> Finished {
    let mut streams = [Stream::new(stdout), Stream::new(stderr)];
    let deadline = started + timeout;
    let mut timed_out = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            timed_out = true;
            break;
        }
        if poll(&child.pidfd, &mut streams, deadline - now) {
            break;
        }
    }
    let status = if timed_out {
        kill(&child).and_then(|()| reap(&child)).map(|()| Status::TimedOut)
    } else {
        reap(&child).and_then(|()| command_status(&report))
    };
    let elapsed = started.elapsed();
    let drain_deadline = Instant::now() + DRAIN_LIMIT;
    while streams.iter().any(|s| s.open) {
        let now = Instant::now();
        if now >= drain_deadline {
            break;
        }
        poll_streams(&mut streams, drain_deadline - now);
    }
    let [stdout, stderr] = streams;
    Finished { status, elapsed, stdout: stdout.tail.excerpt(), stderr: stderr.tail.excerpt() }
}

/// Poll the pidfd and the open streams for at most `limit`; read what is readable.
/// True when the child has ended.
fn poll(pidfd: &OwnedFd, streams: &mut [Stream; 2], limit: Duration) -> bool {
    let mut fds = vec![libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
    fds.extend(streams.iter().map(pollfd));
    wait_for(&mut fds, limit);
    read_ready(streams, &fds[1..]);
    fds[0].revents != 0
}

/// Poll the open streams for at most `limit`; read what is readable.
fn poll_streams(streams: &mut [Stream; 2], limit: Duration) {
    let mut fds: Vec<libc::pollfd> = streams.iter().map(pollfd).collect();
    wait_for(&mut fds, limit);
    read_ready(streams, &fds);
}

/// A stream's poll entry (a negative descriptor, ignored by poll, once it is closed).
fn pollfd(stream: &Stream) -> libc::pollfd {
    let fd = if stream.open { stream.fd.as_raw_fd() } else { -1 };
    libc::pollfd { fd, events: libc::POLLIN, revents: 0 }
}

fn wait_for(fds: &mut [libc::pollfd], limit: Duration) {
    let millis = limit.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: polls our array of the length given. EINTR leaves every revents 0: the
    // caller's loop polls again.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
}

fn read_ready(streams: &mut [Stream; 2], fds: &[libc::pollfd]) {
    for (stream, fd) in streams.iter_mut().zip(fds) {
        if stream.open && fd.revents != 0 {
            stream.read();
        }
    }
}

/// `SIGKILL` to the child through its pidfd (no pid reuse can misdirect it).
pub(crate) fn kill(child: &Child) -> io::Result<()> {
    // SAFETY: sends a signal through our own pidfd.
    let result = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, child.pidfd.as_raw_fd(), libc::SIGKILL, std::ptr::null::<u8>(), 0)
    };
    let error = io::Error::last_os_error();
    // ESRCH: it has already ended (a zombie awaiting `wait`), which is what was wanted.
    if result < 0 && error.raw_os_error() != Some(libc::ESRCH) {
        return Err(error);
    }
    Ok(())
}

/// Reap the sandbox's init (after it ended, or was killed).
pub(crate) fn reap(child: &Child) -> io::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain data; waitid fills it for our own child.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let result =
            unsafe { libc::waitid(libc::P_PIDFD, child.pidfd.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED) };
        if result == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The command's end, as the init reported it before exiting.
fn command_status(report: &OwnedFd) -> io::Result<Status> {
    match Report::receive(report.as_raw_fd()) {
        Ok(Some(Report::Ended { wait_status })) => Ok(status_of(wait_status)),
        Ok(other) => {
            Err(io::Error::other(format!("the sandbox's init ended without the command's status ({other:?})")))
        }
        Err(errno) => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// A wait status as [`Status`].
fn status_of(wait_status: libc::c_int) -> Status {
    if libc::WIFEXITED(wait_status) {
        Status::Exited(libc::WEXITSTATUS(wait_status))
    } else {
        Status::Signaled { signal: libc::WTERMSIG(wait_status), core_dumped: libc::WCOREDUMP(wait_status) }
    }
}
