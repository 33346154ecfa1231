//! Checked copies between system call handlers and guest memory.
//!
//! Guest memory is host memory, so a handler could just dereference a guest pointer;
//! but a bad pointer would then crash archway instead of returning `EFAULT` as the
//! kernel does. Copies go through `process_vm_readv`/`process_vm_writev` on our own
//! process, which check the range like any system call would (and respect page
//! protections). Where those calls are forbidden (some seccomp profiles) or missing
//! (qemu-user), the copy goes through a pipe instead: `write(2)` from the source and
//! `read(2)` into the destination, which the kernel checks the same way.

use std::sync::atomic::{AtomicBool, Ordering};

/// `EFAULT` as a negative errno, ready to be a system call result.
pub const EFAULT: i64 = -(libc::EFAULT as i64);

/// Set once `process_vm_readv`/`writev` turned out to be unavailable.
static THROUGH_PIPES: AtomicBool = AtomicBool::new(false);

/// Copy `buf.len()` bytes from guest address `addr` into `buf`.
pub fn read(addr: u64, buf: &mut [u8]) -> Result<(), i64> {
    if buf.is_empty() {
        return Ok(());
    }
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: buf.len() };
    copy(
        || {
            // SAFETY: `local` describes `buf`; the kernel checks `remote`.
            unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) }
        },
        addr as *const u8,
        buf.as_mut_ptr(),
        buf.len(),
    )
}

/// Copy `bytes` to guest address `addr`.
pub fn write(addr: u64, bytes: &[u8]) -> Result<(), i64> {
    if bytes.is_empty() {
        return Ok(());
    }
    let local = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: bytes.len() };
    copy(
        || {
            // SAFETY: `local` describes `bytes`; the kernel checks `remote`.
            unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) }
        },
        bytes.as_ptr(),
        addr as *mut u8,
        bytes.len(),
    )
}

/// Read a little-endian u64 at `addr`.
pub fn read_u64(addr: u64) -> Result<u64, i64> {
    let mut bytes = [0u8; 8];
    read(addr, &mut bytes)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Write a little-endian u64 at `addr`.
pub fn write_u64(addr: u64, value: u64) -> Result<(), i64> {
    write(addr, &value.to_le_bytes())
}

/// Read a NUL-terminated string of at most `max` bytes (without the NUL) at `addr`.
/// A longer string is `-ENAMETOOLONG`.
pub fn read_c_string(addr: u64, max: usize) -> Result<Vec<u8>, i64> {
    const CHUNK: u64 = 256;
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        // Never read across a page boundary in one go: the next page may be unmapped
        // although the string ends before it. 4096 divides every host page size.
        let to_page_end = 4096 - (at % 4096);
        let mut chunk = vec![0u8; CHUNK.min(to_page_end) as usize];
        read(at, &mut chunk)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return if out.len() > max { Err(-(libc::ENAMETOOLONG as i64)) } else { Ok(out) };
        }
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(-(libc::ENAMETOOLONG as i64));
        }
        at += chunk.len() as u64;
    }
}

/// Copy `len` bytes from `from` to `to` with `checked` (a `process_vm_*` call), or
/// through a pipe when those calls are unavailable.
fn copy(checked: impl FnOnce() -> isize, from: *const u8, to: *mut u8, len: usize) -> Result<(), i64> {
    if !THROUGH_PIPES.load(Ordering::Relaxed) {
        let done = checked();
        if done == len as isize {
            return Ok(());
        }
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if done >= 0 || !matches!(errno, libc::EPERM | libc::ENOSYS) {
            return Err(EFAULT);
        }
        tracing::debug!("process_vm_readv/writev unavailable (errno {errno}): guest memory is copied through pipes");
        THROUGH_PIPES.store(true, Ordering::Relaxed);
    }
    copy_through_pipe(from, to, len)
}

/// Copy `len` bytes from `from` to `to` through a fresh pipe, a page at a time (a pipe
/// holds at least one page, and writes up to `PIPE_BUF` are all or nothing): the
/// kernel checks the source in `write(2)` and the destination in `read(2)`.
fn copy_through_pipe(from: *const u8, to: *mut u8, len: usize) -> Result<(), i64> {
    const PAGE: usize = 4096;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(-(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EMFILE) as i64));
    }
    let mut result = Ok(());
    let mut done = 0;
    while done < len {
        let n = PAGE.min(len - done);
        // SAFETY: the kernel checks both ranges; the pipe is ours.
        let moved = unsafe {
            let written = libc::write(fds[1], from.add(done).cast(), n);
            if written == n as isize {
                libc::read(fds[0], to.add(done).cast(), n)
            } else {
                written
            }
        };
        if moved != n as isize {
            result = Err(EFAULT);
            break;
        }
        done += n;
    }
    // SAFETY: closing the two descriptors pipe2 gave.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_round_trip() {
        let mut target = [0u8; 16];
        write(target.as_mut_ptr() as u64, b"hello").unwrap();
        let mut back = [0u8; 5];
        read(target.as_ptr() as u64, &mut back).unwrap();
        assert_eq!(&back, b"hello");
    }

    #[test]
    fn bad_pointers_are_efault() {
        let mut buf = [0u8; 8];
        assert_eq!(read(8, &mut buf), Err(EFAULT));
        assert_eq!(write(8, &buf), Err(EFAULT));
    }

    #[test]
    fn pipes_copy_and_check_as_process_vm_calls_do() {
        let source: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut copied = vec![0u8; source.len()];
        assert_eq!(copy_through_pipe(source.as_ptr(), copied.as_mut_ptr(), source.len()), Ok(()));
        assert_eq!(copied, source);
        assert_eq!(copy_through_pipe(8 as *const u8, copied.as_mut_ptr(), 8), Err(EFAULT));
        assert_eq!(copy_through_pipe(source.as_ptr(), 8 as *mut u8, 8), Err(EFAULT));
        let read_only = b"constant";
        assert_eq!(copy_through_pipe(source.as_ptr(), read_only.as_ptr() as *mut u8, 8), Err(EFAULT));
    }

    #[test]
    fn strings_stop_at_nul_and_length() {
        let s = b"/proc/self/exe\0";
        assert_eq!(read_c_string(s.as_ptr() as u64, 100).unwrap(), b"/proc/self/exe");
        assert_eq!(read_c_string(s.as_ptr() as u64, 4), Err(-(libc::ENAMETOOLONG as i64)));
    }
}
