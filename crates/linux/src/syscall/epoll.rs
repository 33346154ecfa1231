//! `epoll_ctl`, `epoll_pwait`, `epoll_pwait2`: `struct epoll_event` is packed on
//! x86_64 (12 bytes: `events` u32, `data` u64 at offset 4) and naturally aligned on
//! arm64 (16 bytes: `data` at offset 8), so events are converted both ways.

use super::{errno, host_syscall, ret, Args, Outcome, SyscallContext};
use crate::guest_memory;

const GUEST_EVENT_SIZE: usize = 16;
const HOST_EVENT_SIZE: usize = 12;
const EPOLL_CTL_DEL: u64 = 2;
/// Most events fetched per call (a smaller `maxevents` is always allowed).
const MAX_EVENTS_PER_CALL: usize = 1024;

/// One event as `(events, data)`.
type Event = (u32, u64);

fn decode_guest(bytes: &[u8]) -> Event {
    let events = u32::from_le_bytes(bytes[0..4].try_into().unwrap_or_default());
    let data = u64::from_le_bytes(bytes[8..16].try_into().unwrap_or_default());
    (events, data)
}

fn encode_guest((events, data): Event) -> [u8; GUEST_EVENT_SIZE] {
    let mut out = [0u8; GUEST_EVENT_SIZE];
    out[0..4].copy_from_slice(&events.to_le_bytes());
    out[8..16].copy_from_slice(&data.to_le_bytes());
    out
}

fn decode_host(bytes: &[u8]) -> Event {
    let events = u32::from_le_bytes(bytes[0..4].try_into().unwrap_or_default());
    let data = u64::from_le_bytes(bytes[4..12].try_into().unwrap_or_default());
    (events, data)
}

fn encode_host((events, data): Event) -> [u8; HOST_EVENT_SIZE] {
    let mut out = [0u8; HOST_EVENT_SIZE];
    out[0..4].copy_from_slice(&events.to_le_bytes());
    out[4..12].copy_from_slice(&data.to_le_bytes());
    out
}

/// `epoll_ctl(epfd, op, fd, event)`.
pub fn epoll_ctl(_: &mut SyscallContext, a: &Args) -> Outcome {
    let [epfd, op, fd, event, ..] = *a;
    if op & 0xffff_ffff == EPOLL_CTL_DEL || event == 0 {
        return ret(host_syscall(libc::SYS_epoll_ctl, &[epfd, op, fd, event, 0, 0]));
    }
    let mut guest = [0u8; GUEST_EVENT_SIZE];
    if let Err(e) = guest_memory::read(event, &mut guest) {
        return ret(e);
    }
    let host = encode_host(decode_guest(&guest));
    ret(host_syscall(libc::SYS_epoll_ctl, &[epfd, op, fd, host.as_ptr() as u64, 0, 0]))
}

/// `epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize)`.
pub fn epoll_pwait(_: &mut SyscallContext, a: &Args) -> Outcome {
    wait_for_events(libc::SYS_epoll_pwait, a)
}

/// `epoll_pwait2(epfd, events, maxevents, timeout_ts, sigmask, sigsetsize)`.
pub fn epoll_pwait2(_: &mut SyscallContext, a: &Args) -> Outcome {
    wait_for_events(libc::SYS_epoll_pwait2, a)
}

/// Wait into a host-layout buffer, then copy the events out in the guest layout.
fn wait_for_events(host_nr: libc::c_long, a: &Args) -> Outcome {
    let [epfd, events, maxevents, timeout, sigmask, sigsetsize] = *a;
    let maxevents = maxevents as u32 as i32;
    if maxevents <= 0 {
        return ret(errno(libc::EINVAL));
    }
    let count = (maxevents as usize).min(MAX_EVENTS_PER_CALL);
    let mut host = vec![0u8; count * HOST_EVENT_SIZE];
    let got = host_syscall(host_nr, &[epfd, host.as_mut_ptr() as u64, count as u64, timeout, sigmask, sigsetsize]);
    if got <= 0 {
        return ret(got);
    }
    let guest: Vec<u8> =
        host.chunks_exact(HOST_EVENT_SIZE).take(got as usize).flat_map(|e| encode_guest(decode_host(e))).collect();
    super::ret_or_fault(guest_memory::write(events, &guest), got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_layouts() {
        let event = (libc::EPOLLIN as u32 | libc::EPOLLET as u32, 0x1122_3344_5566_7788);
        let guest = encode_guest(event);
        assert_eq!(&guest[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(decode_guest(&guest), event);
        let host = encode_host(event);
        assert_eq!(std::mem::size_of::<libc::epoll_event>(), HOST_EVENT_SIZE);
        assert_eq!(decode_host(&host), event);
    }
}
