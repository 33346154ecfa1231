//! Watching the running command: its stdout and stderr drained as they come, handed to
//! the caller and the last [`EXCERPT_BYTES`] of each kept; the end of the sandbox's
//! init (pid 1 of the pid namespace, which exits when the command has ended and
//! reported its wait status) awaited on its pidfd until the timeout or a cancel, then
//! `SIGKILL` to the init. When pid 1 dies the kernel kills every other process of the
//! namespace and waits for them before the init's end is reported: after [`supervise`]
//! nothing of the sandbox runs.

use crate::cancel::Cancel;
use crate::init::Child;
use crate::outcome::{Excerpt, OutputStream, EXCERPT_BYTES};
use crate::report::Report;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

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
    /// Killed when cancelled.
    Cancelled,
}

/// The command's end, how long it ran, and its output.
pub(crate) struct Finished {
    pub status: io::Result<Status>,
    pub elapsed: Duration,
    pub stdout: Excerpt,
    pub stderr: Excerpt,
}

/// Where the command's output goes as it comes.
pub(crate) type Sink<'a> = dyn FnMut(OutputStream, &[u8]) + 'a;

/// What ends the wait early.
pub(crate) struct Limits<'a> {
    pub deadline: Option<Instant>,
    pub cancel: Option<&'a Cancel>,
}

/// An output pipe being read.
struct Stream {
    which: OutputStream,
    fd: OwnedFd,
    tail: Tail,
    open: bool,
}

impl Stream {
    fn new(which: OutputStream, fd: OwnedFd) -> Stream {
        Stream { which, fd, tail: Tail::default(), open: true }
    }

    /// Read what is there (after `poll` said so) and hand it on; end of file closes the
    /// stream.
    fn read(&mut self, sink: &mut Sink<'_>) {
        let mut buffer = [0u8; 16 * 1024];
        // SAFETY: reads into our buffer.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        match n {
            n if n > 0 => {
                let bytes = &buffer[..n as usize];
                self.tail.push(bytes);
                sink(self.which, bytes);
            }
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
/// most until `limits` say, handing `stdout` and `stderr` to `sink`; the command's
/// status comes on `report`.
pub(crate) fn supervise(
    child: Child,
    report: OwnedFd,
    (stdout, stderr): (OwnedFd, OwnedFd),
    started: Instant,
    limits: Limits,
    sink: &mut Sink<'_>,
) -> Finished {
    let mut streams = [Stream::new(OutputStream::Stdout, stdout), Stream::new(OutputStream::Stderr, stderr)];
    let cancel_fd = limits.cancel.map_or(-1, Cancel::raw_fd);
    let stopped = loop {
        let now = Instant::now();
        if limits.deadline.is_some_and(|deadline| now >= deadline) {
            break Some(Status::TimedOut);
        }
        let left = limits.deadline.map(|deadline| deadline - now);
        match poll(&child.pidfd, cancel_fd, &mut streams, left, sink) {
            Event::Ended => break None,
            Event::Cancelled => break Some(Status::Cancelled),
            Event::Nothing => {}
        }
    };
    let status = match stopped {
        Some(killed) => kill(&child).and_then(|()| reap(&child)).map(|()| killed),
        None => reap(&child).and_then(|()| command_status(&report)),
    };
    let elapsed = started.elapsed();
    let drain_deadline = Instant::now() + DRAIN_LIMIT;
    while streams.iter().any(|s| s.open) {
        let now = Instant::now();
        if now >= drain_deadline {
            break;
        }
        poll_streams(&mut streams, drain_deadline - now, sink);
    }
    let [stdout, stderr] = streams;
    Finished { status, elapsed, stdout: stdout.tail.excerpt(), stderr: stderr.tail.excerpt() }
}

/// What a poll saw.
enum Event {
    Ended,
    Cancelled,
    Nothing,
}

/// Poll the pidfd, the cancel descriptor (none when negative) and the open streams for
/// at most `limit` (no limit when `None`); hand on what is readable.
fn poll(
    pidfd: &OwnedFd,
    cancel_fd: i32,
    streams: &mut [Stream; 2],
    limit: Option<Duration>,
    sink: &mut Sink<'_>,
) -> Event {
    let watch = |fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let mut fds = vec![watch(pidfd.as_raw_fd()), watch(cancel_fd)];
    fds.extend(streams.iter().map(pollfd));
    wait_for(&mut fds, limit);
    read_ready(streams, &fds[2..], sink);
    if fds[0].revents != 0 {
        Event::Ended
    } else if fds[1].revents != 0 {
        Event::Cancelled
    } else {
        Event::Nothing
    }
}

/// Poll the open streams for at most `limit`; hand on what is readable.
fn poll_streams(streams: &mut [Stream; 2], limit: Duration, sink: &mut Sink<'_>) {
    let mut fds: Vec<libc::pollfd> = streams.iter().map(pollfd).collect();
    wait_for(&mut fds, Some(limit));
    read_ready(streams, &fds, sink);
}

/// A stream's poll entry (a negative descriptor, ignored by poll, once it is closed).
fn pollfd(stream: &Stream) -> libc::pollfd {
    let fd = if stream.open { stream.fd.as_raw_fd() } else { -1 };
    libc::pollfd { fd, events: libc::POLLIN, revents: 0 }
}

fn wait_for(fds: &mut [libc::pollfd], limit: Option<Duration>) {
    let millis = limit.map_or(-1, |limit| limit.as_millis().clamp(1, i32::MAX as u128) as libc::c_int);
    // SAFETY: polls our array of the length given. EINTR leaves every revents 0: the
    // caller's loop polls again.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
}

fn read_ready(streams: &mut [Stream; 2], fds: &[libc::pollfd], sink: &mut Sink<'_>) {
    for (stream, fd) in streams.iter_mut().zip(fds) {
        if stream.open && fd.revents != 0 {
            stream.read(sink);
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
            // SAFETY: waitid on the child's pidfd, which we own, into a siginfo of ours.
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
