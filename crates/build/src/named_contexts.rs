//! `--build-context NAME=VALUE`, as buildx reads it: a name that `FROM NAME`,
//! `COPY --from=NAME` and `RUN --mount=from=NAME` then mean instead of the image of
//! that name.
//!
//! | value | the context |
//! | --- | --- |
//! | `docker-image://REF` (also `docker://REF`) | an image in a registry, for the stage's platform |
//! | `oci-layout://DIR[:TAG\|@DIGEST]` | an image in a local OCI layout |
//! | a directory | its files, less what its `.dockerignore` excludes |
//!
//! Names are compared as BuildKit compares them: as image references in docker's short
//! form, without `:latest` (`docker.io/library/alpine:latest` and `alpine` are one name).
//! Git and URL contexts are refused, as are `target:` (a bake feature).

use crate::context::Context;
use archway_image::reference::{RegistryRef, DOCKER_HUB};
use std::collections::BTreeMap;
use std::path::Path;

/// What a named context stands for.
#[derive(Debug, Clone)]
pub enum NamedContext {
    /// An image reference in the transport syntax of [`archway_image::ImageRef`].
    Image(String),
    /// A local directory with its ignore rules.
    Directory(Context),
}

/// The named contexts of one build, by normalised name.
#[derive(Debug, Clone, Default)]
pub struct NamedContexts {
    contexts: BTreeMap<String, NamedContext>,
}

impl NamedContexts {
    /// Read `--build-context` values; a name given twice is refused.
    pub fn parse(values: &[String]) -> Result<NamedContexts, String> {
        let mut contexts = BTreeMap::new();
        for value in values {
            let (name, context) = parse_one(value)?;
            if contexts.insert(normalize(&name)?, context).is_some() {
                return Err(format!("--build-context {value}: the name {name:?} is given twice"));
            }
        }
        Ok(NamedContexts { contexts })
    }

    /// The context `name` (as written in the Dockerfile) stands for, if one was given.
    pub fn get(&self, name: &str) -> Option<&NamedContext> {
        normalize(name).ok().and_then(|key| self.contexts.get(&key))
    }

    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty()
    }
}

/// One `NAME=VALUE`.
fn parse_one(text: &str) -> Result<(String, NamedContext), String> {
    let error = |reason: &str| format!("--build-context {text}: {reason}");
    let (name, value) = text.split_once('=').ok_or_else(|| error("expected NAME=VALUE"))?;
    if name.is_empty() || value.is_empty() {
        return Err(error("expected NAME=VALUE"));
    }
    if let Some(reference) = value.strip_prefix("docker-image://").or_else(|| value.strip_prefix("docker://")) {
        RegistryRef::parse(reference).map_err(|e| error(&e.to_string()))?;
        return Ok((name.to_owned(), NamedContext::Image(format!("docker://{reference}"))));
    }
    if value.starts_with("oci-layout://") {
        archway_image::ImageRef::parse(value).map_err(|e| error(&e.to_string()))?;
        return Ok((name.to_owned(), NamedContext::Image(value.to_owned())));
    }
    if value.starts_with("target:") {
        return Err(error("target: contexts are a bake feature; name the stage instead"));
    }
    let remote = ["http://", "https://", "git://", "git@", "ssh://"];
    if remote.iter().any(|prefix| value.starts_with(prefix)) || value.ends_with(".git") {
        return Err(error("git and URL contexts are not supported yet (clone or download into a directory)"));
    }
    let dir = Path::new(value);
    if !dir.is_dir() {
        return Err(error(
            "not a directory (local contexts are directories; images are docker-image://REF or oci-layout://DIR:TAG)",
        ));
    }
    let context = Context::open(dir, None).map_err(|e| error(&e.to_string()))?;
    Ok((name.to_owned(), NamedContext::Directory(context)))
}

/// BuildKit's name of a context: the reference in docker's short form, `:latest` dropped.
fn normalize(name: &str) -> Result<String, String> {
    let reference = RegistryRef::parse(name).map_err(|e| format!("invalid context name {name:?}: {e}"))?;
    let mut short = if reference.registry == DOCKER_HUB {
        reference.repository.strip_prefix("library/").unwrap_or(&reference.repository).to_owned()
    } else {
        format!("{}/{}", reference.registry, reference.repository)
    };
    if let Some(tag) = &reference.tag {
        short = format!("{short}:{tag}");
    }
    if let Some(digest) = &reference.digest {
        short = format!("{short}@{digest}");
    }
    Ok(short.strip_suffix(":latest").map(str::to_owned).unwrap_or(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_references() {
        assert_eq!(normalize("alpine").unwrap(), "alpine");
        assert_eq!(normalize("docker.io/library/alpine:latest").unwrap(), "alpine");
        assert_eq!(normalize("alpine:3.19").unwrap(), "alpine:3.19");
        assert_eq!(normalize("127.0.0.1:5000/debian:bookworm").unwrap(), "127.0.0.1:5000/debian:bookworm");
        assert_eq!(normalize("build").unwrap(), "build");
        assert!(normalize("Upper").is_err());
    }

    #[test]
    fn values() {
        let dir = std::env::temp_dir().join(format!("archway-named-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let contexts = NamedContexts::parse(&[
            "alpine=docker-image://127.0.0.1:5000/alpine:3".to_owned(),
            "base=oci-layout:///layouts/base:1".to_owned(),
            format!("files={}", dir.display()),
        ])
        .unwrap();
        assert!(
            matches!(contexts.get("docker.io/library/alpine"), Some(NamedContext::Image(r)) if r == "docker://127.0.0.1:5000/alpine:3")
        );
        assert!(matches!(contexts.get("base"), Some(NamedContext::Image(r)) if r == "oci-layout:///layouts/base:1"));
        assert!(matches!(contexts.get("files"), Some(NamedContext::Directory(_))));
        assert!(contexts.get("other").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refusals() {
        let refused = |value: &str| NamedContexts::parse(&[value.to_owned()]).unwrap_err();
        assert!(refused("x").contains("expected NAME=VALUE"));
        assert!(refused("x=").contains("expected NAME=VALUE"));
        assert!(refused("x=https://github.com/o/r.git").contains("not supported yet"));
        assert!(refused("x=target:build").contains("bake"));
        assert!(refused("x=/nonexistent/dir").contains("not a directory"));
        assert!(refused("x=docker-image://UPPER/x").contains("x"));
        let twice = NamedContexts::parse(&["a=docker-image://a".to_owned(), "a:latest=docker-image://b".to_owned()]);
        assert!(twice.unwrap_err().contains("given twice"));
    }
}
