//! Reference forms as skopeo, podman, docker and buildx write them.

use super::*;

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn registry(text: &str) -> RegistryRef {
    match ImageRef::parse(text).unwrap() {
        ImageRef::Registry(r) => r,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn registry_references_normalise_like_docker() {
    let r = registry("busybox");
    assert_eq!(
        (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
        ("docker.io", "library/busybox", Some("latest"))
    );
    assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
    let r = registry("docker://ghcr.io/org/app:1.0");
    assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("ghcr.io", "org/app", Some("1.0")));
    let r = registry("docker://127.0.0.1:5000/team/app");
    assert_eq!(
        (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
        ("127.0.0.1:5000", "team/app", Some("latest"))
    );
    let r = registry(&format!("docker://localhost/app@{D}"));
    assert_eq!((r.registry.as_str(), r.tag.clone(), r.reference()), ("localhost", None, D.to_string()));
    let r = registry(&format!("docker://localhost:5000/app:v2@{D}"));
    assert_eq!((r.tag.as_deref(), r.reference()), (Some("v2"), D.to_string()));
    let r = registry("docker://org/app");
    assert_eq!((r.registry.as_str(), r.repository.as_str()), ("docker.io", "org/app"));
    let r = registry("docker://index.docker.io/library/debian:bookworm");
    assert_eq!(r.to_string(), "docker.io/library/debian:bookworm");
}

#[test]
fn bad_registry_references() {
    for bad in ["docker://", "docker://UPPER/case", "docker://app:bad tag", "docker://app@sha256:12", "docker://a//b"] {
        assert!(ImageRef::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn layouts_and_archives() {
    assert_eq!(
        ImageRef::parse("oci:/tmp/layout:v1").unwrap(),
        ImageRef::OciLayout { dir: "/tmp/layout".into(), selector: Selector::Tag("v1".into()) }
    );
    assert_eq!(
        ImageRef::parse(&format!("oci:/tmp/layout@{D}")).unwrap(),
        ImageRef::OciLayout { dir: "/tmp/layout".into(), selector: Selector::Digest(Digest::parse(D).unwrap()) }
    );
    assert_eq!(
        ImageRef::parse(&format!("oci:/tmp/layout:@{D}")).unwrap(),
        ImageRef::OciLayout { dir: "/tmp/layout".into(), selector: Selector::Digest(Digest::parse(D).unwrap()) }
    );
    assert_eq!(
        ImageRef::parse("oci-layout:///tmp/l:tag").unwrap(),
        ImageRef::OciLayout { dir: "/tmp/l".into(), selector: Selector::Tag("tag".into()) }
    );
    assert_eq!(
        ImageRef::parse("oci-archive:img.tar").unwrap(),
        ImageRef::OciArchive { file: "img.tar".into(), selector: Selector::Default }
    );
    assert_eq!(
        ImageRef::parse("docker-archive:save.tar:app:1.0").unwrap(),
        ImageRef::DockerArchive { file: "save.tar".into(), selector: Selector::Tag("app:1.0".into()) }
    );
    assert_eq!(
        ImageRef::parse("docker-archive:save.tar:@1").unwrap(),
        ImageRef::DockerArchive { file: "save.tar".into(), selector: Selector::Index(1) }
    );
    assert_eq!(ImageRef::parse("dir:/srv/root").unwrap(), ImageRef::RootDir { dir: "/srv/root".into() });
    for bad in ["oci:", "oci::tag", "oci-archive:x.tar@sha256:00", "dir:", "docker-archive:x.tar:@one"] {
        assert!(ImageRef::parse(bad).is_err(), "{bad}");
    }
    let unsupported = ImageRef::parse("containers-storage:app").unwrap_err();
    assert!(unsupported.reason.contains("skopeo copy"), "{unsupported}");
}

#[test]
fn bare_paths_are_recognised() {
    let dir = std::env::temp_dir().join(format!("archway-ref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(ImageRef::parse(dir.to_str().unwrap()).unwrap(), ImageRef::RootDir { dir: dir.clone() });
    std::fs::write(dir.join("oci-layout"), "{}").unwrap();
    assert!(matches!(ImageRef::parse(dir.to_str().unwrap()).unwrap(), ImageRef::OciLayout { .. }));
    let file = dir.join("oci-layout");
    assert!(matches!(ImageRef::parse(file.to_str().unwrap()).unwrap(), ImageRef::DockerArchive { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn display_round_trips() {
    for text in [
        "oci:/tmp/x:v1",
        "oci-archive:/tmp/a.tar",
        "docker-archive:/tmp/s.tar:@2",
        "dir:/r",
        "docker://docker.io/library/busybox:latest",
    ] {
        assert_eq!(ImageRef::parse(text).unwrap().to_string(), text);
    }
}
