//! Checked copies between system call handlers and guest memory.
//!
//! Guest memory is host memory, so a handler could just dereference a guest pointer;
//! but a bad pointer would then crash archway instead of returning `EFAULT` as the
//! kernel does. Copies go through `process_vm_readv`/`process_vm_writev` on our own
//! process, which check the range like any system call would (and respect page
//! protections). Where those calls are forbidden (some seccomp profiles), the copy is
//! done directly: a bad pointer then faults the process as a guest fault would.

use std::sync::atomic::{AtomicBool, Ordering};

/// `EFAULT` as a negative errno, ready to be a system call result.
pub const EFAULT: i64 = -(libc::EFAULT as i64);

/// Set once `process_vm_readv`/`writev` turned out to be unavailable.
static DIRECT_ACCESS: AtomicBool = AtomicBool::new(false);

/// Copy `buf.len()` bytes from guest address `addr` into `buf`.
pub fn read(addr: u64, buf: &mut [u8]) -> Result<(), i64> {
    if buf.is_empty() {
        return Ok(());
    }
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: buf.len() };
    copy(
        buf.len(),
        || {
            // SAFETY: `local` describes `buf`; the kernel checks `remote`.
            unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) }
        },
        || {
            // SAFETY: direct access is the documented fallback; a bad guest pointer faults
            // the process like the guest's own access would.
            unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) }
        },
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
        bytes.len(),
        || {
            // SAFETY: `local` describes `bytes`; the kernel checks `remote`.
            unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) }
        },
        || {
            // SAFETY: as in `read`.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) }
        },
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

/// Run a checked copy of `len` bytes, or the direct one when checking is unavailable.
fn copy(len: usize, checked: impl FnOnce() -> isize, direct: impl FnOnce()) -> Result<(), i64> {
    if !DIRECT_ACCESS.load(Ordering::Relaxed) {
        let done = checked();
        if done == len as isize {
            return Ok(());
        }
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if done >= 0 || !matches!(errno, libc::EPERM | libc::ENOSYS) {
            return Err(EFAULT);
        }
        tracing::debug!("process_vm_readv/writev unavailable (errno {errno}): guest memory is copied unchecked");
        DIRECT_ACCESS.store(true, Ordering::Relaxed);
    }
    direct();
    Ok(())
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
    fn strings_stop_at_nul_and_length() {
        let s = b"/proc/self/exe\0";
        assert_eq!(read_c_string(s.as_ptr() as u64, 100).unwrap(), b"/proc/self/exe");
        assert_eq!(read_c_string(s.as_ptr() as u64, 4), Err(-(libc::ENAMETOOLONG as i64)));
    }
}
