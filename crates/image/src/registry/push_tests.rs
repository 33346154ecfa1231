//! Pushing against scripted registries on 127.0.0.1: the requests a push makes, in
//! order, with their bodies, headers and tokens; and what real registries do only in
//! situations hard to make (refusals at each step, lying digests, a connection closed
//! mid-upload, uploads sent to another origin, mounts). crates/image/tests/registry_push.rs
//! pushes to Debian's docker-registry.

use super::scripted::*;
use super::*;
use crate::resolve::media;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// Documents and blobs in memory, by digest, as a [`Store`].
#[derive(Default, Clone)]
struct Memory {
    blobs: HashMap<Digest, Vec<u8>>,
}

impl Memory {
    /// Keep `bytes`; their descriptor.
    fn add(&mut self, media_type: &str, bytes: &[u8]) -> serde_json::Value {
        let digest = Digest::of(bytes);
        self.blobs.insert(digest.clone(), bytes.to_vec());
        serde_json::json!({"mediaType": media_type, "digest": digest.to_string(), "size": bytes.len()})
    }

    /// Keep a document made of `json`; the document.
    fn document(&mut self, media_type: &str, json: serde_json::Value) -> Document {
        let bytes = serde_json::to_vec_pretty(&json).unwrap();
        self.add(media_type, &bytes);
        Document { media_type: media_type.into(), digest: Digest::of(&bytes), bytes }
    }

    fn bytes(&self, descriptor: &Descriptor) -> Result<Vec<u8>, Error> {
        let digest = descriptor_digest(descriptor)?;
        self.blobs.get(&digest).cloned().ok_or(Error::Blob { digest, reason: "not in memory".into() })
    }
}

impl Store for Memory {
    fn top(&mut self) -> Result<Document, Error> {
        Err(Error::invalid("memory", "pushes are given their root"))
    }

    fn fetch(&mut self, descriptor: &Descriptor) -> Result<Document, Error> {
        let digest = descriptor_digest(descriptor)?;
        let bytes = Verified::new(&self.bytes(descriptor)?[..], digest.clone(), descriptor.size())
            .read_all()
            .map_err(|e| Error::Blob { digest: digest.clone(), reason: e.to_string() })?;
        Ok(Document { media_type: media_type(descriptor), bytes, digest })
    }

    fn open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, Error> {
        let bytes = self.bytes(descriptor)?;
        Ok(Box::new(Verified::new(std::io::Cursor::new(bytes), descriptor_digest(descriptor)?, descriptor.size())))
    }
}

/// Two images sharing their config, one with a foreign layer, and an index over them.
fn two_images() -> (Memory, Document) {
    let mut memory = Memory::default();
    let config = memory.add(media::OCI_CONFIG, br#"{"architecture":"arm64","os":"linux"}"#);
    let first = memory.add(LAYER, &[1u8; 3000]);
    let second = memory.add(LAYER, &[2u8; 70_000]);
    let foreign = serde_json::json!({"mediaType": FOREIGN, "digest": Digest::of(b"elsewhere").to_string(), "size": 9,
        "urls": ["https://example.com/layer"]});
    let mut manifest = |layers: Vec<serde_json::Value>| {
        let document = memory.document(
            media::OCI_MANIFEST,
            serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": config, "layers": layers}),
        );
        serde_json::json!({"mediaType": media::OCI_MANIFEST, "digest": document.digest.to_string(),
            "size": document.bytes.len(), "platform": {"architecture": "arm64", "os": "linux"}})
    };
    let manifests = vec![manifest(vec![first.clone()]), manifest(vec![first, foreign, second])];
    let index = memory.document(
        media::OCI_INDEX,
        serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests}),
    );
    (memory, index)
}

/// What a scripted registry keeps: `blobs/DIGEST` and `manifests/REFERENCE`.
type Stored = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// The digest a blob upload's query names.
fn query_digest(target: &str) -> Option<Digest> {
    let value = target.split(['?', '&']).find_map(|pair| pair.strip_prefix("digest="))?;
    Digest::parse(&value.replace("%3A", ":")).ok()
}

/// A registry of repository `test/app` that wants bearer tokens with push access,
/// answers uploads with a relative `Location` carrying its own query, and keeps what it
/// is sent.
fn token_registry(stored: Stored) -> Scripted {
    Scripted::start(move |request| {
        let host = request.header("host").unwrap_or_default();
        if request.path() == "/token" {
            return if request.target.contains("scope=repository%3Atest%2Fapp%3Apull%2Cpush") {
                answer("200 OK", &[], br#"{"token":"pusher"}"#)
            } else {
                answer("403 Forbidden", &[], b"")
            };
        }
        if request.header("authorization") != Some("Bearer pusher") {
            // Like distribution: a HEAD only asks for pull.
            let actions = if request.method == "HEAD" { "pull" } else { "pull,push" };
            let challenge = format!(r#"Bearer realm="http://{host}/token",scope="repository:test/app:{actions}""#);
            return answer("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"");
        }
        let mut stored = stored.lock().unwrap();
        let path = request.path().strip_prefix("/v2/test/app/").unwrap_or_default().to_string();
        match (request.method.as_str(), path.as_str()) {
            ("HEAD", _) if stored.contains_key(&path) => answer("200 OK", &[], b""),
            ("HEAD", _) => answer("404 Not Found", &[], b""),
            ("POST", "blobs/uploads/") => {
                answer("202 Accepted", &[("Location", "/v2/test/app/blobs/uploads/u1?_state=s%2B1")], b"")
            }
            ("PUT", "blobs/uploads/u1") if request.target.contains("?_state=s%2B1&digest=") => {
                let digest = query_digest(&request.target).unwrap();
                assert_eq!(Digest::of(&request.body), digest);
                stored.insert(format!("blobs/{digest}"), request.body.clone());
                answer("201 Created", &[("Docker-Content-Digest", &digest.to_string())], b"")
            }
            ("PUT", _) if path.starts_with("manifests/") => {
                let digest = Digest::of(&request.body);
                stored.insert(path.clone(), request.body.clone());
                stored.insert(format!("manifests/{digest}"), request.body.clone());
                answer("201 Created", &[("Docker-Content-Digest", &digest.to_string())], b"")
            }
            _ => answer("400 Bad Request", &[], b"unexpected"),
        }
    })
}

/// Every event of a push, as `(kind, digest, stage)`.
type Events = Vec<(PushKind, Digest, PushStage)>;

fn push(pusher: &mut Pusher, source: &mut dyn Store, root: &Document) -> (Result<Digest, Error>, Events) {
    let mut events = Vec::new();
    let result = pusher.push(source, root, &mut |event| {
        events.push((event.item.kind, event.item.digest.clone(), event.stage));
    });
    (result, events)
}

/// The events other than `Sent`.
fn steps(events: &Events) -> Vec<(PushKind, Digest, PushStage)> {
    events.iter().filter(|(_, _, stage)| !matches!(stage, PushStage::Sent(_))).cloned().collect()
}

#[test]
fn an_index_goes_blobs_first_byte_for_byte_with_a_push_token() {
    let stored = Stored::default();
    let server = token_registry(stored.clone());
    let (mut memory, index) = two_images();
    let mut pusher = server.pusher("test/app:v1", anonymous());
    let (digest, events) = push(&mut pusher, &mut memory, &index);
    assert_eq!(digest.unwrap(), index.digest);

    // Every item once, children before their parents, the foreign layer left out.
    let parsed: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
    let entry = |i: usize| Digest::parse(parsed["manifests"][i]["digest"].as_str().unwrap()).unwrap();
    let manifest = |i: usize| -> serde_json::Value { serde_json::from_slice(&memory.blobs[&entry(i)]).unwrap() };
    let digest_of = |value: &serde_json::Value| Digest::parse(value["digest"].as_str().unwrap()).unwrap();
    let (config, first) = (digest_of(&manifest(0)["config"]), digest_of(&manifest(0)["layers"][0]));
    let (foreign, second) = (digest_of(&manifest(1)["layers"][1]), digest_of(&manifest(1)["layers"][2]));
    use PushKind::{Blob, Manifest};
    use PushStage::{Done, NotDistributable, Started};
    let expected = vec![
        (Blob, config.clone(), Started),
        (Blob, config.clone(), Done),
        (Blob, first.clone(), Started),
        (Blob, first.clone(), Done),
        (Manifest, entry(0), Started),
        (Manifest, entry(0), Done),
        (Blob, foreign.clone(), NotDistributable),
        (Blob, second.clone(), Started),
        (Blob, second.clone(), Done),
        (Manifest, entry(1), Started),
        (Manifest, entry(1), Done),
        (Manifest, index.digest.clone(), Started),
        (Manifest, index.digest.clone(), Done),
    ];
    assert_eq!(steps(&events), expected);
    // Bytes as they went, ending at the blob's size.
    let sent: Vec<u64> = events
        .iter()
        .filter_map(|(_, digest, stage)| match stage {
            PushStage::Sent(n) if *digest == second => Some(*n),
            _ => None,
        })
        .collect();
    assert!(sent.windows(2).all(|w| w[0] < w[1]) && sent.last() == Some(&70_000), "{sent:?}");

    // What the registry holds is byte for byte what the store holds.
    let stored = stored.lock().unwrap().clone();
    for digest in [&config, &first, &second] {
        assert_eq!(stored[&format!("blobs/{digest}")], memory.blobs[digest]);
    }
    assert!(!stored.contains_key(&format!("blobs/{foreign}")));
    for i in 0..2 {
        assert_eq!(stored[&format!("manifests/{}", entry(i))], memory.blobs[&entry(i)]);
    }
    assert_eq!(stored["manifests/v1"], index.bytes);

    // One token, for pull and push, sent with every request after the first refusal.
    let requests = server.requests();
    let tokens: Vec<&Request> = requests.iter().filter(|r| r.path() == "/token").collect();
    assert_eq!(tokens.len(), 1, "{requests:?}");
    assert_eq!(tokens[0].target, "/token?scope=repository%3Atest%2Fapp%3Apull%2Cpush");
    let api: Vec<&Request> = requests.iter().filter(|r| r.path() != "/token").collect();
    assert!(api[1..].iter().all(|r| r.header("authorization") == Some("Bearer pusher")), "{api:?}");
    // Headers of each kind of request.
    let put_blob = api.iter().find(|r| r.method == "PUT" && r.path().contains("/blobs/")).unwrap();
    assert_eq!(put_blob.header("content-type"), Some("application/octet-stream"));
    let put_index = api.iter().find(|r| r.path() == "/v2/test/app/manifests/v1").unwrap();
    assert_eq!(put_index.header("content-type"), Some(media::OCI_INDEX));
    assert_eq!(put_index.header("content-length"), Some(index.bytes.len().to_string().as_str()));
    let put_manifest =
        api.iter().find(|r| r.method == "PUT" && r.target == format!("/v2/test/app/manifests/{}", entry(0))).unwrap();
    assert_eq!(put_manifest.header("content-type"), Some(media::OCI_MANIFEST));
    let post = api.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!((post.target.as_str(), post.header("content-length")), ("/v2/test/app/blobs/uploads/", Some("0")));

    // Again: everything is there, nothing but the root is sent.
    let before = server.requests().len();
    let (digest, events) = push(&mut pusher, &mut memory, &index);
    assert_eq!(digest.unwrap(), index.digest);
    use PushStage::Exists;
    let again = vec![
        (Blob, config.clone(), Exists),
        (Blob, first.clone(), Exists),
        (Manifest, entry(0), Exists),
        (Blob, foreign, NotDistributable),
        (Blob, second, Exists),
        (Manifest, entry(1), Exists),
        (Manifest, index.digest.clone(), Started),
        (Manifest, index.digest.clone(), Done),
    ];
    assert_eq!(events, again);
    let methods: Vec<String> = server.requests()[before..].iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["HEAD", "HEAD", "HEAD", "HEAD", "HEAD", "PUT"]);
}

#[test]
fn a_destination_digest_must_be_the_roots() {
    let stored = Stored::default();
    let server = token_registry(stored.clone());
    let (mut memory, index) = two_images();
    let other = Digest::of(b"other");
    let mut wrong = server.pusher(&format!("test/app@{other}"), anonymous());
    let error = push(&mut wrong, &mut memory, &index).0.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "docker://{}/test/app@{other}: the document to push has digest {}, not the reference's {other}",
            server.host, index.digest
        )
    );
    assert!(server.requests().is_empty(), "nothing sent");
    // A document whose bytes are not its digest's.
    let mut lying = index.clone();
    lying.bytes.push(b'\n');
    let error = push(&mut server.pusher("test/app:v1", anonymous()), &mut memory, &lying).0.unwrap_err();
    assert!(error.to_string().contains("it cannot be pushed as"), "{error}");
    // By digest only: the root goes to /manifests/DIGEST.
    let mut by_digest = server.pusher(&format!("test/app@{}", index.digest), anonymous());
    assert_eq!(push(&mut by_digest, &mut memory, &index).0.unwrap(), index.digest);
    assert_eq!(stored.lock().unwrap()[&format!("manifests/{}", index.digest)], index.bytes);
    assert!(server.requests().iter().any(|r| r.target == format!("/v2/test/app/manifests/{}", index.digest)));
}

/// One image: a config and no layers.
fn one_image() -> (Memory, Document) {
    let mut memory = Memory::default();
    let config = memory.add(media::DOCKER_CONFIG, br#"{"architecture":"amd64","os":"linux"}"#);
    let manifest = memory.document(
        media::DOCKER_MANIFEST,
        serde_json::json!({"schemaVersion": 2, "mediaType": media::DOCKER_MANIFEST, "config": config, "layers": []}),
    );
    (memory, manifest)
}

#[test]
fn refusals_name_the_registry_the_item_and_the_step() {
    let (mut memory, manifest) = one_image();
    let config: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
    let config = config["config"]["digest"].as_str().unwrap().to_string();
    let wrong = Digest::of(b"something else").to_string();
    let lie = wrong.clone();
    let server = Scripted::start(move |request| {
        let repository = request.path().trim_start_matches("/v2/").split('/').take(2).collect::<Vec<_>>().join("/");
        let location = format!("/v2/{repository}/blobs/uploads/u");
        let uploaded = || answer("201 Created", &[], b"");
        let invalid = |code: &str, message: &str| {
            answer(
                "400 Bad Request",
                &[],
                format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#).as_bytes(),
            )
        };
        match (repository.as_str(), request.method.as_str()) {
            ("test/denied", "HEAD") => answer("403 Forbidden", &[], b""),
            (_, "HEAD") => answer("404 Not Found", &[], b""),
            ("test/unknown", "POST") => answer(
                "404 Not Found",
                &[],
                br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
            ),
            ("test/mirror", "POST") => answer(
                "405 Method Not Allowed",
                &[],
                br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#,
            ),
            ("test/nowhere", "POST") => answer("202 Accepted", &[], b""),
            (_, "POST") => answer("202 Accepted", &[("Location", &location)], b""),
            ("test/failing", "PUT") => answer("500 Internal Server Error", &[], b"disk full"),
            ("test/invalid", "PUT") => invalid("DIGEST_INVALID", "provided digest did not match uploaded content"),
            ("test/liar", "PUT") => answer("201 Created", &[("Docker-Content-Digest", &lie)], b""),
            ("test/manifest", "PUT") if request.path().contains("/manifests/") => {
                invalid("MANIFEST_BLOB_UNKNOWN", "blob unknown to registry")
            }
            ("test/hangup", "PUT") => Answer::HangUp,
            _ => uploaded(),
        }
    });
    let host = &server.host;
    let mut push_to = |repository: &str| {
        let mut pusher = server.pusher(&format!("{repository}:t"), user("eve", "pw"));
        push(&mut pusher, &mut memory, &manifest).0.unwrap_err().to_string()
    };
    let blob = |repository: &str| format!("{host}: blob {config} of {repository}");
    assert_eq!(
        push_to("test/denied"),
        format!(
            "{}: checking whether the registry has it: access refused (403 Forbidden); archway asked with the \
             credentials of user \"eve\" from --creds",
            blob("test/denied")
        )
    );
    assert_eq!(
        push_to("test/unknown"),
        format!(
            "{}: starting its upload: not found (404 Not Found: NAME_UNKNOWN: repository name not known to registry)",
            blob("test/unknown")
        )
    );
    assert_eq!(
        push_to("test/mirror"),
        format!(
            "{}: starting its upload: the registry does not take pushes here (405 Method Not Allowed: UNSUPPORTED: \
             The operation is unsupported.); is it a read-only mirror or cache?",
            blob("test/mirror")
        )
    );
    assert_eq!(
        push_to("test/nowhere"),
        format!("{}: starting its upload: the registry answered 202 without a Location", blob("test/nowhere"))
    );
    assert_eq!(
        push_to("test/failing"),
        format!("{}: uploading it: the registry failed (500 Internal Server Error: disk full)", blob("test/failing"))
    );
    assert_eq!(
        push_to("test/invalid"),
        format!(
            "{}: uploading it: refused as invalid (400 Bad Request: DIGEST_INVALID: provided digest did not match \
             uploaded content)",
            blob("test/invalid")
        )
    );
    assert_eq!(
        push_to("test/liar"),
        format!("{}: the registry says it stored {wrong}, not the {config} archway sent", blob("test/liar"))
    );
    assert_eq!(
        push_to("test/manifest"),
        format!(
            "{host}: manifest test/manifest:t: putting it: refused as invalid (400 Bad Request: \
             MANIFEST_BLOB_UNKNOWN: blob unknown to registry)"
        )
    );
    // A server that hangs up instead of answering.
    let error = push_to("test/hangup");
    assert!(
        error.starts_with(&format!("{}: uploading it: connection lost after sending ", blob("test/hangup"))),
        "{error}"
    );
    // The manifest went with its own media type.
    let put = server.requests().into_iter().find(|r| r.path() == "/v2/test/manifest/manifests/t").unwrap();
    assert_eq!(put.header("content-type"), Some(media::DOCKER_MANIFEST));
    assert_eq!(put.body, manifest.bytes);
}

#[test]
fn a_connection_closed_mid_upload_says_how_far_it_got() {
    let mut memory = Memory::default();
    let size = 8 << 20;
    let layer = memory.add(LAYER, &vec![5u8; size]);
    let config = memory.add(media::OCI_CONFIG, b"{}");
    let manifest = memory
        .document(media::OCI_MANIFEST, serde_json::json!({"schemaVersion": 2, "config": config, "layers": [layer]}));
    let server = Scripted::start(|request| match request.method.as_str() {
        "HEAD" if request.path().contains(&Digest::of(b"{}").to_string()) => answer("200 OK", &[], b""),
        "HEAD" => answer("404 Not Found", &[], b""),
        "POST" => answer("202 Accepted", &[("Location", "/v2/test/app/blobs/uploads/u")], b""),
        _ => Answer::HangUp,
    });
    let error = push(&mut server.pusher("test/app:t", anonymous()), &mut memory, &manifest).0.unwrap_err();
    let error = error.to_string();
    let expected = format!(
        "{}: blob {} of test/app: uploading it: connection lost after sending ",
        server.host,
        layer["digest"].as_str().unwrap()
    );
    assert!(error.starts_with(&expected) && error.contains(&format!(" of {size} bytes: ")), "{error}");
    // The server read no more than its limit: the rest never arrived.
    let put = server.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.body.len() as u64, BODY_LIMIT);
}

#[test]
fn a_corrupt_source_is_named_not_the_registry() {
    let (mut memory, manifest) = one_image();
    let config: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
    let config = Digest::parse(config["config"]["digest"].as_str().unwrap()).unwrap();
    let bytes = memory.blobs.get_mut(&config).unwrap();
    bytes[0] = b'[';
    let server = Scripted::start(|request| match request.method.as_str() {
        "HEAD" => answer("404 Not Found", &[], b""),
        "POST" => answer("202 Accepted", &[("Location", "/v2/test/app/blobs/uploads/u")], b""),
        _ => answer("400 Bad Request", &[], br#"{"errors":[{"code":"DIGEST_INVALID"}]}"#),
    });
    let error = push(&mut server.pusher("test/app:t", anonymous()), &mut memory, &manifest).0.unwrap_err();
    assert!(matches!(error, Error::Blob { .. }), "{error:?}");
    let error = error.to_string();
    let expected = format!(
        "blob {config}: reading it from the source to push it to {}/test/app: blob {config}: content has digest ",
        server.host
    );
    assert!(error.starts_with(&expected), "{error}");
}

#[test]
fn uploads_elsewhere_get_no_credentials_and_mounts_send_nothing() {
    let (mut memory, manifest) = one_image();
    let elsewhere = Scripted::start(|_| answer("201 Created", &[], b""));
    let upload_host = elsewhere.host.clone();
    let registry = Scripted::start(move |request| {
        if request.header("authorization") != Some(basic("carol", "pw").as_str()) {
            return answer("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"r\"")], b"");
        }
        let mount = request.target.contains("mount=");
        match request.method.as_str() {
            "HEAD" => answer("404 Not Found", &[], b""),
            "POST" if mount && request.target.contains("from=test%2Fsource") => answer("201 Created", &[], b""),
            "POST" => {
                let location = format!("http://{upload_host}/upload/u?sig=1");
                answer("202 Accepted", &[("Location", &location)], b"")
            }
            _ => answer("201 Created", &[], b""),
        }
    });
    let mut pusher = registry.pusher("test/app:t", user("carol", "pw"));
    let (result, events) = push(&mut pusher, &mut memory, &manifest);
    result.unwrap();
    assert!(events.iter().any(|(kind, _, stage)| *kind == PushKind::Blob && *stage == PushStage::Done));
    let uploads = elsewhere.requests();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].method, "PUT");
    assert!(uploads[0].target.starts_with("/upload/u?sig=1&digest=sha256%3A"), "{}", uploads[0].target);
    assert_eq!(uploads[0].header("authorization"), None);

    // A mount from another repository of the same registry: nothing is sent.
    let same = RegistryRef::parse(&format!("{}/test/source:x", registry.host)).unwrap();
    let mut mounting = registry.pusher("test/app:t", user("carol", "pw")).mount_from(&same);
    let (result, events) = push(&mut mounting, &mut memory, &manifest);
    result.unwrap();
    let blob_events: Vec<&PushStage> =
        events.iter().filter(|(kind, _, _)| *kind == PushKind::Blob).map(|(_, _, stage)| stage).collect();
    assert_eq!(blob_events, [&PushStage::Mounted { from: "test/source".into() }]);
    assert_eq!(elsewhere.requests().len(), 1, "no upload");
    // Another registry is no source to mount from.
    let other = RegistryRef::parse("ghcr.io/test/source:x").unwrap();
    let mut not_mounting = registry.pusher("test/app:t", user("carol", "pw")).mount_from(&other);
    let (result, events) = push(&mut not_mounting, &mut memory, &manifest);
    result.unwrap();
    assert!(events.iter().all(|(_, _, stage)| !matches!(stage, PushStage::Mounted { .. })));
    assert_eq!(elsewhere.requests().len(), 2, "uploaded");
}
