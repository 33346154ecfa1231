//! Image references in the transport syntax of skopeo and podman (containers/image),
//! and buildx's `oci-layout://`:
//!
//! | form | what |
//! | --- | --- |
//! | `oci:DIR[:TAG\|@DIGEST]` | an OCI image layout directory; the tag is the `org.opencontainers.image.ref.name` annotation |
//! | `oci-layout://DIR[:TAG\|@DIGEST]` | the same, as buildx spells it |
//! | `oci-archive:FILE[:TAG]` | a tar of an OCI layout |
//! | `docker-archive:FILE[:REF\|:@N]` | what `docker save` writes (a `RepoTags` entry, or the N-th image) |
//! | `docker://[HOST[:PORT]/]REPO[:TAG\|@DIGEST]` | a registry (OCI distribution API) |
//! | `dir:ROOTFS` | an unpacked root file system, no manifest or config |
//!
//! Without a transport, an existing directory is an OCI layout (if it has `oci-layout`)
//! or a root file system, an existing file an archive, and anything else a registry
//! reference (`busybox`, `ghcr.io/org/app:1.0`).
//!
//! Registry references are normalised as docker does: no registry means `docker.io`, a
//! one-part repository on `docker.io` gets `library/`, no tag and no digest means
//! `latest`. The first part names a registry only if it has a `.` or a `:` or is
//! `localhost`. As in containers/image, the first `:` after `oci:` ends the path.

use crate::digest::Digest;
use std::fmt;
use std::path::{Path, PathBuf};

/// Docker Hub's name in references and its registry host.
pub const DOCKER_HUB: &str = "docker.io";

/// Which image in a layout or archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The only image, or the one tagged `latest` when there are several.
    Default,
    Tag(String),
    Digest(Digest),
    /// The N-th image of a docker archive (`:@N`).
    Index(usize),
}

/// An image in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `HOST[:PORT]`, `docker.io` for Docker Hub.
    pub registry: String,
    /// `library/busybox`, `org/app`.
    pub repository: String,
    /// A tag, or `None` when only a digest was given.
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Where an image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    OciLayout { dir: PathBuf, selector: Selector },
    OciArchive { file: PathBuf, selector: Selector },
    DockerArchive { file: PathBuf, selector: Selector },
    Registry(RegistryRef),
    RootDir { dir: PathBuf },
}

/// Why a reference cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

impl ImageRef {
    /// Read a reference in any of the forms above.
    pub fn parse(text: &str) -> Result<ImageRef, ReferenceError> {
        let error = |reason: &str| ReferenceError { reference: text.to_string(), reason: reason.to_string() };
        if let Some(rest) = text.strip_prefix("docker://") {
            return RegistryRef::parse(rest).map(ImageRef::Registry).map_err(|e| error(&e.reason));
        }
        if let Some(rest) = text.strip_prefix("oci-layout://") {
            let (dir, selector) = split_buildx(rest).map_err(|e| error(&e))?;
            return Ok(ImageRef::OciLayout { dir, selector });
        }
        if let Some((transport, rest)) = text.split_once(':') {
            match transport {
                "oci" => {
                    let (dir, selector) = split_path(rest, true).map_err(|e| error(&e))?;
                    return Ok(ImageRef::OciLayout { dir, selector });
                }
                "oci-archive" => {
                    let (file, selector) = split_path(rest, false).map_err(|e| error(&e))?;
                    return Ok(ImageRef::OciArchive { file, selector });
                }
                "docker-archive" => {
                    let (file, selector) = split_docker_archive(rest).map_err(|e| error(&e))?;
                    return Ok(ImageRef::DockerArchive { file, selector });
                }
                "dir" => {
                    if rest.is_empty() {
                        return Err(error("dir: needs a directory"));
                    }
                    return Ok(ImageRef::RootDir { dir: PathBuf::from(rest) });
                }
                "containers-storage" | "docker-daemon" | "ostree" | "sif" | "tarball" => {
                    return Err(error(&format!(
                        "the {transport}: transport is not supported (save the image with `skopeo copy {text} oci:DIR`)"
                    )))
                }
                _ => {}
            }
        }
        let path = Path::new(text);
        if path.is_dir() {
            return Ok(if path.join("oci-layout").is_file() {
                ImageRef::OciLayout { dir: path.to_path_buf(), selector: Selector::Default }
            } else {
                ImageRef::RootDir { dir: path.to_path_buf() }
            });
        }
        if path.is_file() {
            return Ok(ImageRef::DockerArchive { file: path.to_path_buf(), selector: Selector::Default });
        }
        RegistryRef::parse(text).map(ImageRef::Registry).map_err(|e| error(&e.reason))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let selector = |s: &Selector| match s {
            Selector::Default => String::new(),
            Selector::Tag(t) => format!(":{t}"),
            Selector::Digest(d) => format!("@{d}"),
            Selector::Index(n) => format!(":@{n}"),
        };
        match self {
            ImageRef::OciLayout { dir, selector: s } => write!(f, "oci:{}{}", dir.display(), selector(s)),
            ImageRef::OciArchive { file, selector: s } => write!(f, "oci-archive:{}{}", file.display(), selector(s)),
            ImageRef::DockerArchive { file, selector: s } => {
                write!(f, "docker-archive:{}{}", file.display(), selector(s))
            }
            ImageRef::Registry(r) => write!(f, "docker://{r}"),
            ImageRef::RootDir { dir } => write!(f, "dir:{}", dir.display()),
        }
    }
}

/// `PATH[:TAG|@DIGEST]` after `oci:` or `oci-archive:` (also `PATH:@DIGEST`): the first
/// `:` or `@` ends the path.
fn split_path(rest: &str, digest_allowed: bool) -> Result<(PathBuf, Selector), String> {
    let end = rest.find([':', '@']).unwrap_or(rest.len());
    let (path, after) = rest.split_at(end);
    if path.is_empty() {
        return Err("no path".into());
    }
    let digest = after.strip_prefix(":@").or_else(|| after.strip_prefix('@'));
    let selector = match (digest, after.strip_prefix(':')) {
        (Some(_), _) if !digest_allowed => return Err("a digest cannot select an image here".into()),
        (Some(digest), _) => Selector::Digest(Digest::parse(digest).map_err(|e| e.to_string())?),
        (None, Some("")) | (None, None) => Selector::Default,
        (None, Some(tag)) => Selector::Tag(valid_tag(tag)?),
    };
    Ok((PathBuf::from(path), selector))
}

/// buildx's `DIR[:TAG|@DIGEST]`: the last `:` or `@` that is not part of the path.
fn split_buildx(rest: &str) -> Result<(PathBuf, Selector), String> {
    if let Some((path, digest)) = rest.rsplit_once('@') {
        return Ok((PathBuf::from(path), Selector::Digest(Digest::parse(digest).map_err(|e| e.to_string())?)));
    }
    match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') && !path.is_empty() => {
            Ok((PathBuf::from(path), Selector::Tag(valid_tag(tag)?)))
        }
        _ if rest.is_empty() => Err("no path".into()),
        _ => Ok((PathBuf::from(rest), Selector::Default)),
    }
}

/// `FILE[:REF|:@N]` after `docker-archive:`.
fn split_docker_archive(rest: &str) -> Result<(PathBuf, Selector), String> {
    let (path, selector) = match rest.split_once(':') {
        None => (rest, Selector::Default),
        Some((path, index)) if index.starts_with('@') => {
            let n = index[1..].parse().map_err(|_| format!("{index:?} is not an image index (:@0, :@1...)"))?;
            (path, Selector::Index(n))
        }
        Some((path, reference)) => (path, Selector::Tag(reference.to_string())),
    };
    if path.is_empty() {
        return Err("no file".into());
    }
    Ok((PathBuf::from(path), selector))
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> Result<String, String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(tag.to_string())
    } else {
        Err(format!("{tag:?} is not a valid tag"))
    }
}

/// A repository path component: lower-case letters and digits with `.`, `_`, `__` and
/// `-` runs between them.
fn valid_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
}

impl RegistryRef {
    /// `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`, normalised as docker does.
    pub fn parse(text: &str) -> Result<RegistryRef, ReferenceError> {
        let error = |reason: String| ReferenceError { reference: text.to_string(), reason };
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(Digest::parse(digest).map_err(|e| error(e.to_string()))?)),
            None => (text, None),
        };
        // A tag is after the last ':' that follows the last '/' (a port is before a '/').
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(valid_tag(&name[last_slash + i + 1..]).map_err(error)?)),
            None => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let registry = if registry == "index.docker.io" { DOCKER_HUB.to_string() } else { registry };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if repository.is_empty() || !repository.split('/').all(valid_component) {
            return Err(error(format!("{repository:?} is not a repository name (lower case, digits, . _ -)")));
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_string()) } else { tag };
        Ok(RegistryRef { registry, repository, tag, digest })
    }

    /// What the distribution API's manifest URL names: the digest if there is one.
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
