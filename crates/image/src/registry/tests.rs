//! The registry transport against scripted HTTP servers on 127.0.0.1: answers a real
//! registry gives only in situations hard to make (bearer tokens, rate limits, server
//! errors, a connection cut mid-blob, redirects to another host, lying headers). The
//! whole path runs: ureq, the https-then-http rule of `tls_verify: false`, challenges,
//! errors. crates/image/tests/registry.rs runs Debian's docker-registry.

use super::scripted::*;
use super::*;
use std::net::TcpListener;

#[test]
fn bearer_tokens_are_fetched_with_credentials_and_cached() {
    let server = Scripted::start(|request| match request.path() {
        "/token" if request.header("authorization") == Some(basic("alice", "secret").as_str()) => {
            answer("200 OK", &[], br#"{"access_token":"t0k3n","expires_in":300}"#)
        }
        "/token" => answer("401 Unauthorized", &[], b""),
        "/v2/test/app/manifests/t" if request.header("authorization") == Some("Bearer t0k3n") => {
            let digest = Digest::of(&manifest()).to_string();
            answer("200 OK", &[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", &digest)], &manifest())
        }
        _ => {
            let host = request.header("host").unwrap_or_default();
            let challenge =
                format!(r#"Bearer realm="http://{host}/token",service="scripted",scope="repository:test/app:pull""#);
            answer("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"")
        }
    });
    let mut store = server.store("test/app:t", user("alice", "secret"));
    for _ in 0..2 {
        let top = store.top().unwrap();
        assert_eq!(
            (top.media_type.as_str(), top.digest.clone(), top.bytes),
            (OCI_MANIFEST, Digest::of(&manifest()), manifest())
        );
    }
    let requests = server.requests();
    let tokens: Vec<&Request> = requests.iter().filter(|r| r.path() == "/token").collect();
    assert_eq!(tokens.len(), 1, "one token for the store's life: {requests:?}");
    assert_eq!(tokens[0].target, "/token?service=scripted&scope=repository%3Atest%2Fapp%3Apull");
    // Anonymous first, then with the token, then the token straight away.
    let manifests: Vec<Option<&str>> =
        requests.iter().filter(|r| r.path() != "/token").map(|r| r.header("authorization")).collect();
    assert_eq!(manifests, [None, Some("Bearer t0k3n"), Some("Bearer t0k3n")]);

    // Without credentials the token server refuses, and the error says so.
    let error = server.store("test/app:t", anonymous()).top().unwrap_err().to_string();
    assert!(error.contains("token server http://") && error.contains("refused (401 Unauthorized)"), "{error}");
    assert!(error.contains("anonymously: no credentials for 127.0.0.1:"), "{error}");
}

#[test]
fn anonymous_tokens_and_tls_verify_against_plain_http() {
    let server = Scripted::start(|request| match request.path() {
        "/token" => answer("200 OK", &[], br#"{"token":"anon","access_token":""}"#),
        _ if request.header("authorization") == Some("Bearer anon") => {
            answer("200 OK", &[("Content-Type", "application/json")], &manifest())
        }
        _ => {
            let challenge = format!(r#"Bearer realm="http://{}/token""#, request.header("host").unwrap_or_default());
            answer("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"")
        }
    });
    // An anonymous token; the media type from the document when Content-Type is generic.
    let top = server.store("test/app:t", anonymous()).top().unwrap();
    assert_eq!(top.media_type, OCI_MANIFEST);
    assert_eq!(
        server.requests().iter().find(|r| r.path() == "/token").unwrap().target,
        "/token?scope=repository%3Atest%2Fapp%3Apull"
    );

    let reference = RegistryRef::parse(&format!("{}/test/app:t", server.host)).unwrap();
    let mut verifying = RegistryStore::with_credentials(&reference, true, user("u", "p")).unwrap();
    let error = verifying.top().unwrap_err().to_string();
    assert!(error.contains("TLS handshake with 127.0.0.1:") && error.contains("use --tls-verify=false"), "{error}");
}

#[test]
fn basic_challenges_and_refusals() {
    let server = Scripted::start(|request| {
        if request.header("authorization") == Some(basic("bob", "right").as_str()) {
            return answer("200 OK", &[("Content-Type", OCI_MANIFEST)], &manifest());
        }
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
        answer("401 Unauthorized", &[("WWW-Authenticate", r#"Basic realm="basic-realm""#)], body)
    });
    let mut store = server.store("test/app:t", user("bob", "right"));
    store.top().unwrap();
    store.top().unwrap();
    let sent: Vec<bool> = server.requests().iter().map(|r| r.header("authorization").is_some()).collect();
    assert_eq!(sent, [false, true, true], "Basic from the first challenge on");

    let error = server.store("test/app:t", user("bob", "wrong")).top().unwrap_err().to_string();
    assert!(
        error.ends_with(
            "manifest test/app:t: access refused (401 Unauthorized: UNAUTHORIZED: authentication required); \
             archway asked with the credentials of user \"bob\" from --creds"
        ),
        "{error}"
    );
    let error = server.store("test/app:t", anonymous()).top().unwrap_err().to_string();
    assert!(error.contains("archway asked anonymously: no credentials for 127.0.0.1:"), "{error}");
    let helper = Lookup::Unusable {
        file: "/x/config.json".into(),
        reason: "it names credential helper docker-credential-pass".into(),
    };
    let error = server.store("test/app:t", helper).top().unwrap_err().to_string();
    assert!(
        error.contains("auth file /x/config.json has an entry for 127.0.0.1:")
            && error.contains("docker-credential-pass"),
        "{error}"
    );
}

#[test]
fn unsupported_challenges_rate_limits_and_server_errors() {
    let server = Scripted::start(|request| match request.path() {
        "/v2/test/negotiate/manifests/latest" => answer("401 Unauthorized", &[("WWW-Authenticate", "Negotiate")], b""),
        "/v2/test/limited/manifests/latest" => answer(
            "429 Too Many Requests",
            &[("Retry-After", "30")],
            br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
        ),
        _ => answer(
            "500 Internal Server Error",
            &[("Content-Type", "application/json")],
            br#"{"errors":[{"code":"UNKNOWN","message":"storage backend unavailable"}]}"#,
        ),
    });
    let error = server.store("test/negotiate", anonymous()).top().unwrap_err().to_string();
    assert!(error.contains("asks for Negotiate authentication, which archway does not speak"), "{error}");
    let error = server.store("test/limited", anonymous()).top().unwrap_err().to_string();
    assert!(
        error.ends_with(
            "manifest test/limited:latest: too many requests (429 Too Many Requests: TOOMANYREQUESTS: You have reached \
             your pull rate limit.); the registry says retry after 30 s"
        ),
        "{error}"
    );
    let config = descriptor("application/vnd.oci.image.config.v1+json", b"{}");
    let error = server.store("test/app", anonymous()).fetch(&config).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{}: blob {} of test/app: the registry failed (500 Internal Server Error: UNKNOWN: storage backend unavailable)",
            server.host,
            Digest::of(b"{}")
        )
    );
}

#[test]
fn blobs_cut_short_name_where() {
    let layer = vec![7u8; 100];
    let sent = layer.clone();
    let server =
        Scripted::start(move |_| Answer::CutShort { head: head("200 OK", &[], sent.len()), body: sent[..10].to_vec() });
    let mut store = server.store("test/app", anonymous());
    let descriptor = descriptor("application/vnd.oci.image.layer.v1.tar", &layer);
    let mut out = Vec::new();
    let error = store.open(&descriptor).unwrap().read_to_end(&mut out).unwrap_err();
    assert_eq!(out.len(), 10);
    let expected =
        format!("{}/test/app: blob {}: connection lost after 10 of 100 bytes", server.host, Digest::of(&layer));
    assert!(error.to_string().starts_with(&expected), "{error}");
    let error = store.fetch(&descriptor).unwrap_err().to_string();
    assert!(error.contains("connection lost after 10 of 100 bytes"), "{error}");
}

#[test]
fn lying_registries_are_caught() {
    let wrong = Digest::of(b"another document").to_string();
    let sent_digest = wrong.clone();
    let server = Scripted::start(move |request| match request.path() {
        "/v2/test/big/manifests/latest" => Answer::CutShort { head: head("200 OK", &[], 17 << 20), body: vec![] },
        "/v2/test/header/manifests/latest" => {
            answer("200 OK", &[("Content-Type", OCI_MANIFEST), ("Docker-Content-Digest", &sent_digest)], &manifest())
        }
        _ => answer("200 OK", &[("Content-Type", OCI_MANIFEST)], &manifest()),
    });
    let error = server.store("test/big", anonymous()).top().unwrap_err().to_string();
    assert!(error.ends_with("manifest test/big:latest: larger than the 16777216 bytes a document may have"), "{error}");
    let error = server.store("test/header", anonymous()).top().unwrap_err().to_string();
    assert!(error.contains(&format!("Docker-Content-Digest says {wrong}")), "{error}");
    let error = server.store(&format!("test/app@{wrong}"), anonymous()).top().unwrap_err().to_string();
    assert!(
        error.contains(&format!("manifest test/app@{wrong}: the registry sent a document whose digest is")),
        "{error}"
    );

    // Documents by digest: content, size and the document limit are checked.
    let mut store = server.store("test/app", anonymous());
    let document = store.fetch(&descriptor(OCI_MANIFEST, &manifest())).unwrap();
    assert_eq!((document.media_type.as_str(), document.bytes), (OCI_MANIFEST, manifest()));
    let mut other = manifest();
    other[0] = b' ';
    let error = store.fetch(&descriptor(OCI_MANIFEST, &other)).unwrap_err().to_string();
    assert!(error.contains("sent content whose digest is"), "{error}");
    let longer = descriptor(OCI_MANIFEST, &manifest()[1..]);
    assert!(store.fetch(&longer).unwrap_err().to_string().contains("sent more than the descriptor's"));
    let huge = Descriptor::new(OCI_MANIFEST.into(), DOCUMENT_LIMIT + 1, descriptor(OCI_MANIFEST, b"").digest().clone());
    assert!(store.fetch(&huge).unwrap_err().to_string().contains("larger than the 16777216 bytes a document may have"));
    // Manifests from /manifests/, the rest from /blobs/.
    let paths: Vec<String> = server.requests().iter().rev().take(3).map(|r| r.path().to_string()).collect();
    assert!(paths.iter().all(|path| path.starts_with("/v2/test/app/manifests/sha256:")), "{paths:?}");
}

#[test]
fn redirects_keep_authorization_on_the_same_host_only() {
    let layer = b"layer bytes".to_vec();
    let served = layer.clone();
    let storage = Scripted::start(move |_| answer("200 OK", &[], &served));
    let storage_port = storage.host.rsplit(':').next().unwrap().to_string();
    let registry = Scripted::start(move |request| {
        if request.header("authorization") != Some(basic("carol", "pw").as_str()) {
            return answer("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"r\"")], b"");
        }
        match request.path() {
            // The same host name: authorization stays.
            path if path.starts_with("/v2/test/app/blobs/") => {
                answer("307 Temporary Redirect", &[("Location", &format!("/v2/test/app/moved{}", &path[18..]))], b"")
            }
            // Another host name (localhost, not 127.0.0.1): authorization does not go there.
            _ => {
                answer("307 Temporary Redirect", &[("Location", &format!("http://localhost:{storage_port}/blob"))], b"")
            }
        }
    });
    let mut store = registry.store("test/app", user("carol", "pw"));
    let mut out = Vec::new();
    store.open(&descriptor("application/octet-stream", &layer)).unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(out, layer);
    let moved = registry.requests().into_iter().find(|r| r.path().starts_with("/v2/test/app/moved/")).unwrap();
    assert!(moved.header("authorization").is_some());
    assert_eq!(storage.requests().len(), 1);
    assert_eq!(storage.requests()[0].header("authorization"), None);
}

#[test]
fn stopped_registries_are_refused_connections() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let reference = RegistryRef::parse(&format!("127.0.0.1:{port}/test/app:t")).unwrap();
    for tls_verify in [false, true] {
        let mut store = RegistryStore::with_credentials(&reference, tls_verify, anonymous()).unwrap();
        let error = store.top().unwrap_err().to_string();
        let expected = format!(
            "127.0.0.1:{port}: manifest test/app:t: connection refused by 127.0.0.1:{port}: is the registry running and listening there?"
        );
        assert!(error.starts_with(&expected), "{error}");
        assert_eq!(error.ends_with("(tried https and http)"), !tls_verify, "{error}");
    }
}
