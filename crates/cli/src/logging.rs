//! Logging: `ARCHWAY_LOG` takes a tracing filter (`warn`, `debug`,
//! `archway::jit=debug`, ...). Logs go to stderr; the default shows only errors so a
//! guest's own output is never mixed with ours. In secure mode (a setuid guest)
//! `ARCHWAY_LOG` is ignored: the invoking user does not get to see a privileged
//! program's code and addresses.

use archway_linux::credentials::secure_execution;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber from `ARCHWAY_LOG`.
pub fn init() {
    let from_env = if secure_execution() { None } else { EnvFilter::try_from_env("ARCHWAY_LOG").ok() };
    let filter = from_env.unwrap_or_else(|| EnvFilter::new("error"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
