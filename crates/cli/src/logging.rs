//! Logging: `ARCHWAY_LOG` takes a tracing filter (`warn`, `debug`,
//! `archway_jit=debug`, ...). Logs go to stderr; the default shows only errors so a
//! guest's own output is never mixed with ours.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber from `ARCHWAY_LOG`.
pub fn init() {
    let filter = EnvFilter::try_from_env("ARCHWAY_LOG").unwrap_or_else(|_| EnvFilter::new("error"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
