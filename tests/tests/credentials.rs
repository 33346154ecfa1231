//! A threaded guest changes its credentials for real (as root): glibc's set*id calls
//! broadcast signal 33 (SIGSETXID) to every thread, each of which must change its own
//! ids, as on arm64 Linux. The unprivileged half of the same fixture (the broadcast
//! with unchanged ids, signals 32 and 33 to guest handlers) is in fixtures/list.txt.

use archway_tests::{archway_bin, run_with_limit, workspace, Ending};
use std::process::Command;
use std::time::Duration;

#[test]
fn every_thread_of_a_guest_takes_the_new_ids() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "changing ids needs root (scripts/test.sh runs as root)");
    let program = workspace().join("fixtures/bin/thread_signals");
    for engine in ["jit", "interp"] {
        let mut cmd = Command::new(archway_bin());
        cmd.args(["run", "--engine", engine]).arg(&program).arg("change").env_remove("ARCHWAY_ENGINE");
        let out = run_with_limit(&mut cmd, Duration::from_secs(60));
        assert_eq!(out.ending, Ending::Exited(0), "{engine}: {}", out.stderr_text());
        assert_eq!(
            out.stdout_text(),
            "setresgid 0, setresuid 0 with 3 threads running\nevery thread has the new ids: yes\neuid 65534 egid 65534\n",
            "{engine}: stderr {}",
            out.stderr_text()
        );
    }
}
