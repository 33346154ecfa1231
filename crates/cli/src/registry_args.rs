//! The registry flags shared by `archway check`, `archway manifest` and `archway build`:
//! `--tls-verify`, `--creds USER:PASSWORD` and `--authfile`, as skopeo and podman
//! spell them.

use archway_image::RegistryOptions;
use clap::Args;
use std::path::PathBuf;

/// Registry access options.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Require HTTPS and verify certificates (--tls-verify=false for a plain-HTTP registry
    /// such as one on 127.0.0.1).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub tls_verify: bool,
    /// Registry credentials (default: $REGISTRY_AUTH_FILE, containers' auth.json, ~/.docker/config.json).
    #[arg(long, value_name = "USER:PASSWORD")]
    pub creds: Option<String>,
    /// An auth file to read credentials from.
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
}

impl RegistryArgs {
    /// The options for the image crate; `--creds` without a `:` is an error.
    pub fn options(&self) -> Result<RegistryOptions, String> {
        let credentials = match self.creds.as_deref().map(|c| c.split_once(':')) {
            None => None,
            Some(Some((user, password))) => Some((user.to_owned(), password.to_owned())),
            Some(None) => return Err("--creds takes USER:PASSWORD".to_owned()),
        };
        Ok(RegistryOptions { tls_verify: self.tls_verify, credentials, auth_file: self.authfile.clone() })
    }
}
