//! A host fault in translated x86_64 code, moved to the region's trap exit (the back
//! end's part of `archway_engine::fault`).
//!
//! A fault in a block resumes at the trap exit routine with `rax` = guest PC and
//! `rcx` = signal, as a `Trap` terminal would. A fault in a helper called from a block
//! (SIMD structure loads) is found through the call's return address, which is just
//! below the frame `rsp` the entry trampoline recorded (blocks never move `rsp`); it
//! resumes at the same routine with `rsp` and `r15` (the state) put back.
//!
//! Only x86_64 hosts run this code; on another host nothing faults in it.

use archway_engine::backend::TranslatedCode;

/// See the module docs; false if the PC belongs to no block (the fault is not the
/// guest's).
///
/// # Safety
/// `uc` must be a signal handler's `ucontext_t`, interrupted while `code` described
/// the thread's translated code.
#[cfg(target_arch = "x86_64")]
pub unsafe fn redirect_to_trap_exit(uc: *mut libc::ucontext_t, code: &TranslatedCode, signal: i32) -> bool {
    // SAFETY: the caller guarantees `uc`, and that `code` is the running code (so its
    // lookups and the frame pointer are live).
    unsafe {
        let gregs = &mut (*uc).uc_mcontext.gregs;
        let rip = gregs[libc::REG_RIP as usize] as usize;
        let (guest_pc, helper) = match code.guest_pc_at(rip) {
            Some(pc) => (pc, false),
            None => {
                let ret = *((code.frame_sp() - 8) as *const usize);
                match code.guest_pc_at(ret.wrapping_sub(1)) {
                    Some(pc) => (pc, true),
                    None => return false,
                }
            }
        };
        if helper {
            gregs[libc::REG_RSP as usize] = code.frame_sp() as i64;
            gregs[libc::REG_R15 as usize] = code.state() as i64;
        }
        gregs[libc::REG_RAX as usize] = guest_pc as i64;
        gregs[libc::REG_RCX as usize] = i64::from(signal);
        gregs[libc::REG_RIP as usize] = code.exit_trap() as i64;
    }
    true
}

/// x86_64 code never runs on this host, so no fault comes from it.
///
/// # Safety
/// Nothing to uphold; `unsafe` to match the x86_64 host's version.
#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn redirect_to_trap_exit(_: *mut libc::ucontext_t, _: &TranslatedCode, _: i32) -> bool {
    false
}
