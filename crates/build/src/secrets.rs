//! What the caller lends a build's `RUN` steps and never puts in an image or a cache
//! key: secrets (`--secret id=NAME[,src=FILE|,env=VAR]`, read by
//! `RUN --mount=type=secret`) and SSH agent sockets (`--ssh default|ID[=SOCKET]`, read by
//! `RUN --mount=type=ssh`), as buildx spells them.
//!
//! A secret given with neither `src` nor `env` is the environment variable named like
//! its id, else the file of that name, as buildx decides. `--ssh default` is
//! `$SSH_AUTH_SOCK`; only agent sockets are lent (key files would need an agent of our
//! own, and are refused).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The secrets and agent sockets of one build.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    secrets: BTreeMap<String, Vec<u8>>,
    agents: BTreeMap<String, PathBuf>,
}

impl Secrets {
    /// Read `--secret` and `--ssh` values; a secret's file or variable is read now.
    pub fn parse(secrets: &[String], agents: &[String]) -> Result<Secrets, String> {
        let mut parsed = Secrets::default();
        for text in secrets {
            let (id, value) = secret(text, &|name| std::env::var_os(name))?;
            parsed.secrets.insert(id, value);
        }
        for text in agents {
            let (id, socket) = agent(text, std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from))?;
            parsed.agents.insert(id, socket);
        }
        Ok(parsed)
    }

    /// The bytes of secret `id`.
    pub fn secret(&self, id: &str) -> Option<&[u8]> {
        self.secrets.get(id).map(Vec::as_slice)
    }

    /// The agent socket `id` (`default` unless the mount names one).
    pub fn agent(&self, id: &str) -> Option<&PathBuf> {
        self.agents.get(id)
    }
}

/// One `--secret` value: `id=NAME`, with `src=`/`source=` a file or `env=` a variable
/// (`type=file|env` accepted as buildx writes it).
fn secret(text: &str, environment: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Result<(String, Vec<u8>), String> {
    let error = |reason: &str| format!("--secret {text}: {reason}");
    let (mut id, mut file, mut variable, mut kind) = (None, None, None, None);
    for field in text.split(',') {
        let (key, value) = field.split_once('=').ok_or_else(|| error(&format!("{field:?} is not KEY=VALUE")))?;
        match key {
            "id" => id = Some(value.to_owned()),
            "src" | "source" => file = Some(PathBuf::from(value)),
            "env" => variable = Some(value.to_owned()),
            "type" if value == "file" || value == "env" => kind = Some(value.to_owned()),
            _ => return Err(error(&format!("unexpected key {key:?} (id, src, env, type=file|env)"))),
        }
    }
    let id = id.filter(|id| !id.is_empty()).ok_or_else(|| error("id= is required"))?;
    let from_env = |name: &str| {
        environment(name)
            .map(|value| value.into_encoded_bytes())
            .ok_or_else(|| error(&format!("the environment variable {name} is not set")))
    };
    let from_file =
        |path: &PathBuf| std::fs::read(path).map_err(|e| error(&format!("reading {}: {e}", path.display())));
    let value = match (kind.as_deref(), file, variable) {
        (_, Some(path), None) => from_file(&path)?,
        (_, None, Some(name)) => from_env(&name)?,
        (_, Some(_), Some(_)) => return Err(error("give src= or env=, not both")),
        (Some("file"), None, None) => from_file(&PathBuf::from(&id))?,
        (Some("env"), None, None) => from_env(&id)?,
        _ => match environment(&id) {
            Some(value) => value.into_encoded_bytes(),
            None => from_file(&PathBuf::from(&id))?,
        },
    };
    Ok((id, value))
}

/// One `--ssh` value: `ID` (the `SSH_AUTH_SOCK` agent) or `ID=SOCKET`.
fn agent(text: &str, auth_sock: Option<PathBuf>) -> Result<(String, PathBuf), String> {
    let error = |reason: &str| format!("--ssh {text}: {reason}");
    let (id, paths) = match text.split_once('=') {
        Some((id, paths)) => (id, Some(paths)),
        None => (text, None),
    };
    if id.is_empty() {
        return Err(error("an id is required (default)"));
    }
    let socket = match paths {
        None => auth_sock.ok_or_else(|| error("SSH_AUTH_SOCK is not set (start ssh-agent, or give ID=SOCKET)"))?,
        Some(paths) if paths.contains(',') => {
            return Err(error("several paths are not supported; give one agent socket"));
        }
        Some(path) => PathBuf::from(path),
    };
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(&socket) {
        Ok(metadata) if metadata.file_type().is_socket() => Ok((id.to_owned(), socket)),
        Ok(_) => Err(error(&format!(
            "{} is not an agent socket (key files are not supported; load them into ssh-agent)",
            socket.display()
        ))),
        Err(e) => Err(error(&format!("{}: {e}", socket.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_from_files_and_variables() {
        let dir = std::env::temp_dir().join(format!("archway-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "s3cret").unwrap();
        let environment = |name: &str| (name == "TOKEN" || name == "token").then(|| "from-env".into());
        let read = |text: &str| secret(text, &environment);
        assert_eq!(read(&format!("id=a,src={}", file.display())).unwrap(), ("a".into(), b"s3cret".to_vec()));
        assert_eq!(read(&format!("id=a,type=file,source={}", file.display())).unwrap().1, b"s3cret");
        assert_eq!(read("id=b,env=TOKEN").unwrap(), ("b".into(), b"from-env".to_vec()));
        assert_eq!(read("id=token").unwrap().1, b"from-env", "the variable named like the id");
        assert!(read("id=c,env=NOPE").unwrap_err().contains("NOPE is not set"));
        assert!(read("src=/x").unwrap_err().contains("id= is required"));
        assert!(read("id=d,src=/nonexistent").unwrap_err().contains("reading /nonexistent"));
        assert!(read("id=d,bogus=1").unwrap_err().contains("unexpected key"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn agents_are_sockets() {
        let dir = std::env::temp_dir().join(format!("archway-agents-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("agent.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert_eq!(agent("default", Some(socket.clone())).unwrap(), ("default".into(), socket.clone()));
        assert_eq!(agent(&format!("git={}", socket.display()), None).unwrap().1, socket);
        assert!(agent("default", None).unwrap_err().contains("SSH_AUTH_SOCK is not set"));
        std::fs::write(dir.join("id_ed25519"), "key").unwrap();
        assert!(agent(&format!("default={}", dir.join("id_ed25519").display()), None)
            .unwrap_err()
            .contains("not an agent socket"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
