//! `epoll_ctl`, `epoll_pwait`, `epoll_pwait2`: `struct epoll_event` is packed on
//! x86_64 (12 bytes: `events` u32, `data` u64 at offset 4) and naturally aligned on
//! arm64 (16 bytes: `data` at offset 8), so events are converted both ways (the host
//! layout is the `libc` crate's; on an arm64 host both sides are the same).
//! `epoll_pwait` fills the guest's own buffer and converts in place (no cap on
//! `maxevents` but the kernel's).

use super::{errno, host_syscall, ret, Args, Outcome, SyscallContext};
use crate::guest_memory;

const GUEST_EVENT_SIZE: usize = 16;
const HOST_EVENT_SIZE: usize = std::mem::size_of::<libc::epoll_event>();
/// Offset of `data` in the host's `epoll_event`.
const HOST_DATA_OFFSET: usize = std::mem::offset_of!(libc::epoll_event, u64);
const EPOLL_CTL_DEL: u64 = 2;

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
    let data = u64::from_le_bytes(bytes[HOST_DATA_OFFSET..HOST_DATA_OFFSET + 8].try_into().unwrap_or_default());
    (events, data)
}

fn encode_host((events, data): Event) -> [u8; HOST_EVENT_SIZE] {
    let mut out = [0u8; HOST_EVENT_SIZE];
    out[0..4].copy_from_slice(&events.to_le_bytes());
    out[HOST_DATA_OFFSET..HOST_DATA_OFFSET + 8].copy_from_slice(&data.to_le_bytes());
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

/// The most events one call may ask for: the kernel's `EP_MAX_EVENTS` for the guest's
/// 16-byte events (`INT_MAX / sizeof(struct epoll_event)`); more is `EINVAL`.
const GUEST_MAX_EVENTS: usize = i32::MAX as usize / GUEST_EVENT_SIZE;

/// Wait with the guest's own buffer as the host's: `maxevents` guest events have room
/// for as many 12-byte host events, so the host fills the front of it and the events
/// are then spread out to the guest layout in place, from the last one down (event
/// `i` moves from `12 i` to `16 i`, never over an event not yet moved). No copy, no
/// allocation, and no cap below the kernel's own on `maxevents`.
fn wait_for_events(host_nr: libc::c_long, a: &Args) -> Outcome {
    let [epfd, events, maxevents, timeout, sigmask, sigsetsize] = *a;
    let maxevents = maxevents as u32 as i32;
    if maxevents <= 0 || maxevents as usize > GUEST_MAX_EVENTS {
        return ret(errno(libc::EINVAL));
    }
    let got = host_syscall(host_nr, &[epfd, events, maxevents as u64, timeout, sigmask, sigsetsize]);
    if got <= 0 {
        return ret(got);
    }
    for i in (0..got as u64).rev() {
        let mut host = [0u8; HOST_EVENT_SIZE];
        let moved = guest_memory::read(events + i * HOST_EVENT_SIZE as u64, &mut host).and_then(|()| {
            guest_memory::write(events + i * GUEST_EVENT_SIZE as u64, &encode_guest(decode_host(&host)))
        });
        if let Err(e) = moved {
            return ret(e);
        }
    }
    ret(got)
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
        assert_eq!(decode_host(&host), event);
        let expected_host_layout = if cfg!(target_arch = "x86_64") { (12, 4) } else { (16, 8) };
        assert_eq!((HOST_EVENT_SIZE, HOST_DATA_OFFSET), expected_host_layout);
    }
}
