//! `semctl`: `struct semid64_ds` differs between the two ABIs. arm64 uses the
//! asm-generic 64-bit layout (88 bytes: `sem_otime` at 48, `sem_ctime` at 56,
//! `sem_nsems` at 64); x86_64 pads each time field with an unused word (104 bytes:
//! `sem_otime` at 48, `sem_ctime` at 64, `sem_nsems` at 80). The host layout is the
//! `libc` crate's `semid_ds` (glibc's, the kernel's `semid64_ds`). The commands that carry
//! the structure (IPC_STAT, SEM_STAT, SEM_STAT_ANY, IPC_SET) are converted; every
//! other command, and `msgctl`/`shmctl` (same layouts on both), pass through.

use super::{host_syscall, ret, Args, Outcome, SyscallContext};
use crate::guest_memory;

const IPC_SET: u64 = 1;
const IPC_STAT: u64 = 2;
const SEM_STAT: u64 = 18;
const SEM_STAT_ANY: u64 = 20;
/// The `IPC_64` version flag some callers add to `cmd`.
const IPC_64: u64 = 0x100;

const GUEST_SIZE: usize = 88;
const HOST_SIZE: usize = std::mem::size_of::<libc::semid_ds>();
/// `struct ipc64_perm` (48 bytes) is the same on both.
const PERM_SIZE: usize = 48;
/// `(guest offset, host offset)` of each 8-byte field after the permissions:
/// sem_otime, sem_ctime, sem_nsems (the rest is reserved, zero).
const FIELDS: [(usize, usize); 3] = [
    (48, std::mem::offset_of!(libc::semid_ds, sem_otime)),
    (56, std::mem::offset_of!(libc::semid_ds, sem_ctime)),
    (64, std::mem::offset_of!(libc::semid_ds, sem_nsems)),
];

fn to_guest(host: &[u8; HOST_SIZE]) -> [u8; GUEST_SIZE] {
    let mut guest = [0u8; GUEST_SIZE];
    guest[..PERM_SIZE].copy_from_slice(&host[..PERM_SIZE]);
    for (g, h) in FIELDS {
        guest[g..g + 8].copy_from_slice(&host[h..h + 8]);
    }
    guest
}

fn to_host(guest: &[u8; GUEST_SIZE]) -> [u8; HOST_SIZE] {
    let mut host = [0u8; HOST_SIZE];
    host[..PERM_SIZE].copy_from_slice(&guest[..PERM_SIZE]);
    for (g, h) in FIELDS {
        host[h..h + 8].copy_from_slice(&guest[g..g + 8]);
    }
    host
}

/// `semctl(semid, semnum, cmd, arg)`.
pub fn semctl(_: &mut SyscallContext, a: &Args) -> Outcome {
    let [semid, semnum, cmd, arg, ..] = *a;
    let call = |buf: u64| host_syscall(libc::SYS_semctl, &[semid, semnum, cmd, buf, 0, 0]);
    match cmd & !IPC_64 & 0xffff_ffff {
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let mut host = [0u8; HOST_SIZE];
            let result = call(host.as_mut_ptr() as u64);
            if result < 0 {
                return ret(result);
            }
            match guest_memory::write(arg, &to_guest(&host)) {
                Ok(()) => ret(result),
                Err(e) => ret(e),
            }
        }
        IPC_SET => {
            let mut guest = [0u8; GUEST_SIZE];
            if let Err(e) = guest_memory::read(arg, &mut guest) {
                return ret(e);
            }
            let mut host = to_host(&guest);
            ret(call(host.as_mut_ptr() as u64))
        }
        _ => ret(call(arg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_convert_both_ways() {
        let (size, ctime, nsems) = if cfg!(target_arch = "x86_64") { (104, 64, 80) } else { (88, 56, 64) };
        assert_eq!((HOST_SIZE, FIELDS[1].1, FIELDS[2].1), (size, ctime, nsems), "the host's semid64_ds");
        let mut host = [0u8; HOST_SIZE];
        host[..PERM_SIZE].iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        host[48..56].copy_from_slice(&111u64.to_le_bytes()); // sem_otime
        host[ctime..ctime + 8].copy_from_slice(&222u64.to_le_bytes());
        host[nsems..nsems + 8].copy_from_slice(&3u64.to_le_bytes());
        let guest = to_guest(&host);
        assert_eq!(guest[..PERM_SIZE], host[..PERM_SIZE]);
        assert_eq!(u64::from_le_bytes(guest[48..56].try_into().unwrap()), 111);
        assert_eq!(u64::from_le_bytes(guest[56..64].try_into().unwrap()), 222);
        assert_eq!(u64::from_le_bytes(guest[64..72].try_into().unwrap()), 3);
        assert_eq!(to_host(&guest), host);
    }
}
