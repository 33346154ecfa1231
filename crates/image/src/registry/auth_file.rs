//! Credentials from the auth files podman, skopeo and buildah (containers/image) and
//! docker write, searched in skopeo's order ([`candidate_files`]); the first file with
//! an entry for the registry decides ([`lookup`]).
//!
//! An entry is `{"auths": {"KEY": {"auth": base64("user:password")}}}`. KEY is the
//! registry (`HOST[:PORT]`), optionally with a repository path (`HOST/org/app`, the most
//! specific key wins) or a scheme and path as docker writes them
//! (`https://index.docker.io/v1/`); `docker.io`, `index.docker.io` and
//! `registry-1.docker.io` are one registry. Credentials kept by a docker credential
//! helper (`credHelpers`, or `credsStore` with an empty `auths` entry) are not run: the
//! lookup reports them as [`Lookup::Unusable`], which the registry's refusal names.

use super::auth::{CredentialSource, Credentials};
use crate::error::Error;
use crate::reference::DOCKER_HUB;
use crate::store::DOCUMENT_LIMIT;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What the auth files hold for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Credentials),
    /// No file has an entry for the registry; these files were searched.
    Missing {
        searched: Vec<PathBuf>,
    },
    /// The first file with an entry for the registry holds nothing archway can use.
    Unusable {
        file: PathBuf,
        reason: String,
    },
}

/// The auth files to search, in order: `explicit` (`--authfile`), `$REGISTRY_AUTH_FILE`,
/// `$XDG_RUNTIME_DIR/containers/auth.json`, `$HOME/.config/containers/auth.json`,
/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. `env` reads a
/// variable (tests pass their own instead of the process's).
pub fn candidate_files(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |name: &str| env(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    let mut files: Vec<PathBuf> = explicit.map(Path::to_path_buf).into_iter().collect();
    files.extend(var("REGISTRY_AUTH_FILE"));
    files.extend(var("XDG_RUNTIME_DIR").map(|dir| dir.join("containers/auth.json")));
    files.extend(var("HOME").map(|home| home.join(".config/containers/auth.json")));
    match var("DOCKER_CONFIG") {
        Some(dir) => files.push(dir.join("config.json")),
        None => files.extend(var("HOME").map(|home| home.join(".docker/config.json"))),
    }
    files
}

/// The credentials for `repository` on `registry` in the first of `files` that has an
/// entry for it. Files that do not exist are skipped, except `explicit`, which must;
/// a file that cannot be read or parsed is an error naming it.
pub fn lookup(registry: &str, repository: &str, files: &[PathBuf], explicit: Option<&Path>) -> Result<Lookup, Error> {
    for file in files {
        let config = match read_config(file) {
            Ok(config) => config,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && Some(file.as_path()) != explicit => continue,
            Err(error) => return Err(Error::io(file, error)),
        };
        let config: AuthConfig =
            serde_json::from_slice(&config).map_err(|e| Error::invalid(format!("auth file {}", file.display()), e))?;
        if let Some(lookup) = entry_for(&config, registry, repository, file)? {
            return Ok(lookup);
        }
    }
    Ok(Lookup::Missing { searched: files.to_vec() })
}

fn read_config(file: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)?.take(DOCUMENT_LIMIT).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The parts of an auth file archway reads.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct AuthConfig {
    auths: BTreeMap<String, AuthEntry>,
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthEntry {
    auth: Option<String>,
    identitytoken: Option<String>,
}

/// What one file says about the registry, `None` if nothing.
fn entry_for(config: &AuthConfig, registry: &str, repository: &str, file: &Path) -> Result<Option<Lookup>, Error> {
    let registry = canonical_host(registry);
    let unusable = |reason: String| Ok(Some(Lookup::Unusable { file: file.to_path_buf(), reason }));
    let entry = repository_keys(registry, repository)
        .iter()
        .find_map(|key| config.auths.get(key.as_str()).map(|entry| (key.clone(), entry)))
        .or_else(|| {
            let mut hosts = config.auths.iter().filter(|(key, _)| host_of_key(key) == registry);
            hosts.next().map(|(key, entry)| (key.clone(), entry))
        });
    if let Some((key, AuthEntry { auth: Some(auth), .. })) = &entry {
        if !auth.is_empty() {
            return decode(auth, key, file).map(Some);
        }
    }
    if let Some((_, helper)) = config.cred_helpers.iter().find(|(key, _)| host_of_key(key) == registry) {
        return unusable(format!(
            "it names credential helper docker-credential-{helper} (credHelpers) for {registry}, which archway does not run"
        ));
    }
    match (&entry, &config.creds_store) {
        (None, _) => Ok(None),
        (Some(_), Some(store)) => unusable(format!(
            "its credentials for {registry} are kept by credential store docker-credential-{store} (credsStore), which archway does not run"
        )),
        (Some((key, AuthEntry { identitytoken: Some(_), .. })), None) => {
            unusable(format!("its entry {key:?} holds an identity token, which archway cannot use"))
        }
        (Some((key, _)), None) => unusable(format!("its entry {key:?} has no \"auth\" value")),
    }
}

/// `HOST/a/b/c`, `HOST/a/b`, `HOST/a`, `HOST`: the keys that name the repository, most
/// specific first.
fn repository_keys(registry: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut path = repository;
    while !path.is_empty() {
        keys.push(format!("{registry}/{path}"));
        path = path.rfind('/').map_or("", |slash| &path[..slash]);
    }
    keys.push(registry.to_string());
    keys
}

/// The registry a key names, as containers/image normalises keys: a URL
/// (`https://HOST/v1/`, as `docker login` wrote them) names its host; a key without a
/// scheme is itself (`HOST/org/app` names that repository only). Docker Hub's hosts
/// are `docker.io`.
fn host_of_key(key: &str) -> &str {
    match key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")) {
        Some(url) => canonical_host(url.split('/').next().unwrap_or(url)),
        None => canonical_host(key),
    }
}

fn canonical_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
        _ => host,
    }
}

fn decode(auth: &str, key: &str, file: &Path) -> Result<Lookup, Error> {
    let what = || format!("auth file {}, entry {key:?}", file.display());
    let decoded =
        STANDARD.decode(auth.trim()).map_err(|e| Error::invalid(what(), format!("\"auth\" is not base64: {e}")))?;
    let text = String::from_utf8(decoded).map_err(|_| Error::invalid(what(), "\"auth\" is not UTF-8 text"))?;
    let (username, password) =
        text.split_once(':').ok_or_else(|| Error::invalid(what(), "\"auth\" is not base64 of user:password"))?;
    Ok(Lookup::Found(Credentials {
        username: username.to_string(),
        password: password.to_string(),
        source: CredentialSource::AuthFile(file.to_path_buf()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("archway-auth-file-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn found(user: &str, password: &str, file: &Path) -> Lookup {
        Lookup::Found(Credentials {
            username: user.into(),
            password: password.into(),
            source: CredentialSource::AuthFile(file.to_path_buf()),
        })
    }

    fn auth(user_password: &str) -> String {
        STANDARD.encode(user_password)
    }

    #[test]
    fn candidates_in_skopeo_order() {
        let env: BTreeMap<&str, &str> = [
            ("REGISTRY_AUTH_FILE", "/r/auth.json"),
            ("XDG_RUNTIME_DIR", "/run/user/1"),
            ("HOME", "/home/u"),
            ("DOCKER_CONFIG", "/d"),
        ]
        .into();
        let all = candidate_files(Some(Path::new("/explicit.json")), &|name| env.get(name).map(OsString::from));
        let expected = [
            "/explicit.json",
            "/r/auth.json",
            "/run/user/1/containers/auth.json",
            "/home/u/.config/containers/auth.json",
            "/d/config.json",
        ];
        assert_eq!(all, expected.map(PathBuf::from));
        let home_only = candidate_files(None, &|name| (name == "HOME").then(|| OsString::from("/home/u")));
        assert_eq!(
            home_only,
            ["/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"].map(PathBuf::from)
        );
        assert_eq!(candidate_files(None, &|_| Some(OsString::new())), Vec::<PathBuf>::new());
    }

    #[test]
    fn first_file_with_an_entry_decides() {
        let dir = TempDir::new("first");
        let other = dir.write("other.json", &format!(r#"{{"auths": {{"quay.io": {{"auth": "{}"}}}}}}"#, auth("q:q")));
        let podman = dir.write(
            "containers/auth.json",
            &format!(r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{}"}}}}}}"#, auth("alice:pa:ss")),
        );
        let docker = dir.write(
            "docker/config.json",
            &format!(r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{}"}}}}}}"#, auth("bob:x")),
        );
        let missing = dir.0.join("missing.json");
        let files = [missing.clone(), other.clone(), podman.clone(), docker.clone()];
        assert_eq!(lookup("127.0.0.1:5000", "test/app", &files, None).unwrap(), found("alice", "pa:ss", &podman));
        assert_eq!(lookup("quay.io", "org/app", &files, None).unwrap(), found("q", "q", &other));
        assert_eq!(lookup("ghcr.io", "org/app", &files, None).unwrap(), Lookup::Missing { searched: files.to_vec() });
        // An explicit file must exist.
        let error = lookup("quay.io", "org/app", &files, Some(&missing)).unwrap_err();
        assert!(error.to_string().starts_with(&missing.display().to_string()), "{error}");
    }

    #[test]
    fn docker_hub_keys_and_repository_keys() {
        let dir = TempDir::new("keys");
        let docker = dir.write(
            "config.json",
            &format!(
                r#"{{"auths": {{
                    "https://index.docker.io/v1/": {{"auth": "{}"}},
                    "registry.example:5000/team/app": {{"auth": "{}"}},
                    "registry.example:5000": {{"auth": "{}"}}
                }}}}"#,
                auth("hub:h"),
                auth("team:t"),
                auth("any:a")
            ),
        );
        let files = [docker.clone()];
        assert_eq!(lookup("docker.io", "library/busybox", &files, None).unwrap(), found("hub", "h", &docker));
        assert_eq!(lookup("registry.example:5000", "team/app/sub", &files, None).unwrap(), found("team", "t", &docker));
        assert_eq!(lookup("registry.example:5000", "team/other", &files, None).unwrap(), found("any", "a", &docker));
        // A repository's key is for that repository (and those under it) only.
        let scoped = dir.write(
            "scoped.json",
            &format!(r#"{{"auths": {{"registry.example:5000/team/app": {{"auth": "{}"}}}}}}"#, auth("team:t")),
        );
        let scoped = [scoped];
        assert!(matches!(
            lookup("registry.example:5000", "team/other", &scoped, None).unwrap(),
            Lookup::Missing { .. }
        ));
        assert!(matches!(lookup("registry.example:5000", "team/app", &scoped, None).unwrap(), Lookup::Found(_)));
    }

    #[test]
    fn helpers_and_broken_entries_are_named() {
        let dir = TempDir::new("helpers");
        let helpers = dir.write("helpers.json", r#"{"auths": {}, "credHelpers": {"gcr.io": "gcloud"}}"#);
        let store =
            dir.write("store.json", r#"{"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "desktop"}"#);
        let token = dir.write("token.json", r#"{"auths": {"quay.io": {"identitytoken": "t"}}}"#);
        let lookup_in = |registry: &str, file: &PathBuf| lookup(registry, "a/b", std::slice::from_ref(file), None);
        let Lookup::Unusable { file, reason } = lookup_in("gcr.io", &helpers).unwrap() else { panic!("not unusable") };
        assert_eq!(file, helpers);
        assert!(reason.contains("docker-credential-gcloud (credHelpers)"), "{reason}");
        let Lookup::Unusable { reason, .. } = lookup_in("docker.io", &store).unwrap() else { panic!("not unusable") };
        assert!(reason.contains("docker-credential-desktop (credsStore)"), "{reason}");
        // A store without an entry for the registry says nothing about it.
        assert!(matches!(lookup_in("quay.io", &store).unwrap(), Lookup::Missing { .. }));
        let Lookup::Unusable { reason, .. } = lookup_in("quay.io", &token).unwrap() else { panic!("not unusable") };
        assert!(reason.contains("identity token"), "{reason}");

        let not_json = dir.write("not-json.json", "{");
        assert!(lookup_in("quay.io", &not_json).unwrap_err().to_string().contains("not-json.json"));
        let not_base64 = dir.write("bad.json", r#"{"auths": {"quay.io": {"auth": "%%%"}}}"#);
        let error = lookup_in("quay.io", &not_base64).unwrap_err().to_string();
        assert!(error.contains("bad.json") && error.contains("not base64"), "{error}");
        let no_colon = dir.write("colon.json", &format!(r#"{{"auths": {{"quay.io": {{"auth": "{}"}}}}}}"#, auth("x")));
        assert!(lookup_in("quay.io", &no_colon).unwrap_err().to_string().contains("user:password"));
    }
}
