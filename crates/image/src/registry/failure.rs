//! A registry's refusals and failed connections as [`Error`]s that name the registry and
//! what was asked for or pushed (repository and tag, or blob), with the registry's own
//! words (the distribution API's `{"errors": [{"code", "message"}]}`) when it sent any.

use super::tls::tls_failure;
use crate::digest::Digest;
use crate::error::Error;
use crate::reference::{ImageRef, RegistryRef};
use serde::Deserialize;
use std::fmt;
use std::io::Read;

/// The most of an error body archway reads.
const ERROR_BODY_LIMIT: u64 = 64 << 10;

/// What a request asked for, as an error names it.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The manifest or index the reference names.
    Reference(&'a RegistryRef),
    /// A manifest or index by digest.
    Manifest { repository: &'a str, digest: &'a Digest },
    /// A config or layer.
    Blob { repository: &'a str, digest: &'a Digest },
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Reference(reference) => match (&reference.digest, &reference.tag) {
                (Some(digest), _) => write!(f, "manifest {}@{digest}", reference.repository),
                (None, tag) => write!(f, "manifest {}:{}", reference.repository, tag.as_deref().unwrap_or("latest")),
            },
            Subject::Manifest { repository, digest } => write!(f, "manifest {digest} of {repository}"),
            Subject::Blob { repository, digest } => write!(f, "blob {digest} of {repository}"),
        }
    }
}

/// An error status the registry answered with, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub status_text: String,
    /// The body's `errors` (`CODE: message; ...`), or the start of a text body.
    pub detail: Option<String>,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
}

impl Refusal {
    /// Read an error response (at most [`ERROR_BODY_LIMIT`] of its body).
    pub fn read(response: ureq::Response) -> Refusal {
        let status = response.status();
        let status_text = response.status_text().to_string();
        let retry_after = response.header("Retry-After").map(str::to_string);
        let mut body = Vec::new();
        // A body cut short still says what it said so far.
        let _ = response.into_reader().take(ERROR_BODY_LIMIT).read_to_end(&mut body);
        Refusal { status, status_text, detail: error_body_detail(&body), retry_after }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.status_text)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// `CODE: message; CODE: message` of a distribution API error body, else the first 200
/// characters of a text body, else nothing.
pub fn error_body_detail(body: &[u8]) -> Option<String> {
    if let Ok(ErrorBody { errors }) = serde_json::from_slice::<ErrorBody>(body) {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (true, _) => e.message.clone(),
                (false, true) => e.code.clone(),
            })
            .filter(|part| !part.is_empty())
            .collect();
        if !parts.is_empty() {
            return Some(parts.join("; "));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    (!text.is_empty()).then_some(text)
}

/// The error for a refusal that authentication did not (or could not) avoid. `identity`
/// says how archway presented itself (see [`super::client::Client::identity`]).
pub fn refusal_error(registry: &str, subject: &Subject, refusal: &Refusal, identity: &str) -> Error {
    let reason = match refusal.status {
        404 => {
            return match *subject {
                Subject::Reference(reference) => Error::NotFound {
                    reference: ImageRef::Registry(reference.clone()).to_string(),
                    reason: format!("manifest unknown to the registry ({refusal})"),
                },
                Subject::Manifest { repository, digest } | Subject::Blob { repository, digest } => Error::Blob {
                    digest: digest.clone(),
                    reason: format!("unknown to {registry}/{repository} ({refusal})"),
                },
            }
        }
        _ => status_reason(refusal, identity),
    };
    Error::Registry { registry: registry.to_string(), reason: format!("{subject}: {reason}") }
}

/// The error for a refusal while pushing `subject`, at `step` ("starting its upload",
/// "putting it"...). `identity` as for [`refusal_error`].
pub fn push_refusal_error(registry: &str, subject: &Subject, step: &str, refusal: &Refusal, identity: &str) -> Error {
    let reason = match refusal.status {
        400 => format!("refused as invalid ({refusal})"),
        404 => format!("not found ({refusal})"),
        405 => format!("the registry does not take pushes here ({refusal}); is it a read-only mirror or cache?"),
        _ => status_reason(refusal, identity),
    };
    Error::Registry { registry: registry.to_string(), reason: format!("{subject}: {step}: {reason}") }
}

/// What an error status means, whatever was asked.
fn status_reason(refusal: &Refusal, identity: &str) -> String {
    match refusal.status {
        401 | 403 => format!("access refused ({refusal}); archway asked {identity}"),
        429 => match &refusal.retry_after {
            Some(after) => format!("too many requests ({refusal}); the registry says retry after {after} s"),
            None => format!("too many requests ({refusal}); retry later, or log in for a higher limit"),
        },
        500..=599 => format!("the registry failed ({refusal})"),
        _ => format!("unexpected answer ({refusal})"),
    }
}

/// What went wrong connecting to `host` (or reading its answer), in words that say what
/// to do about it.
pub fn describe_transport(error: &ureq::Transport, host: &str, tls_verify: bool) -> String {
    if let Some(tls) = tls_failure(error) {
        let hint = if tls_verify { "; for a registry that serves plain HTTP, use --tls-verify=false" } else { "" };
        return format!("TLS handshake with {host} failed ({tls}){hint}");
    }
    let io = std::error::Error::source(error).and_then(|source| source.downcast_ref::<std::io::Error>());
    match (error.kind(), io) {
        (ureq::ErrorKind::ConnectionFailed, Some(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused by {host}: is the registry running and listening there?")
        }
        (ureq::ErrorKind::Dns, _) => format!("cannot resolve {host} ({error})"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, status_text: &str, body: &str) -> Refusal {
        Refusal {
            status,
            status_text: status_text.into(),
            detail: error_body_detail(body.as_bytes()),
            retry_after: None,
        }
    }

    #[test]
    fn error_bodies() {
        let two = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"},{"code":"UNAUTHORIZED","message":"","detail":[]}]}"#;
        assert_eq!(
            error_body_detail(two.as_bytes()).as_deref(),
            Some("DENIED: requested access to the resource is denied; UNAUTHORIZED")
        );
        assert_eq!(
            error_body_detail(b"<html>\n  <b>502</b> Bad   gateway\n</html>").as_deref(),
            Some("<html> <b>502</b> Bad gateway </html>")
        );
        assert_eq!(error_body_detail(b"").as_deref(), None);
        assert_eq!(error_body_detail(&[b'x'; 1000]).map(|d| d.len()), Some(200));
    }

    #[test]
    fn refusals_name_what_and_why() {
        let reference = RegistryRef::parse("127.0.0.1:5000/test/app:t").unwrap();
        let digest = Digest::of(b"x");
        let blob = Subject::Blob { repository: "test/app", digest: &digest };
        let unknown =
            refusal(404, "Not Found", r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#);
        assert_eq!(
            refusal_error("127.0.0.1:5000", &Subject::Reference(&reference), &unknown, "").to_string(),
            "docker://127.0.0.1:5000/test/app:t: manifest unknown to the registry (404 Not Found: MANIFEST_UNKNOWN: manifest unknown)"
        );
        let blob_unknown =
            refusal(404, "Not Found", r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#);
        assert_eq!(
            refusal_error("127.0.0.1:5000", &blob, &blob_unknown, "").to_string(),
            format!("blob {digest}: unknown to 127.0.0.1:5000/test/app (404 Not Found: BLOB_UNKNOWN: blob unknown to registry)")
        );
        let denied =
            refusal(401, "Unauthorized", r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#);
        assert_eq!(
            refusal_error("r.example", &Subject::Reference(&reference), &denied, "with the credentials of user u from --creds")
                .to_string(),
            "r.example: manifest test/app:t: access refused (401 Unauthorized: UNAUTHORIZED: authentication required); \
             archway asked with the credentials of user u from --creds"
        );
        let mut limited =
            refusal(429, "Too Many Requests", r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit"}]}"#);
        limited.retry_after = Some("60".into());
        assert_eq!(
            refusal_error("docker.io", &blob, &limited, "").to_string(),
            format!("docker.io: blob {digest} of test/app: too many requests (429 Too Many Requests: TOOMANYREQUESTS: pull rate limit); the registry says retry after 60 s")
        );
        let invalid = refusal(
            400,
            "Bad Request",
            r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}"#,
        );
        assert_eq!(
            push_refusal_error("r.example", &blob, "uploading it", &invalid, "").to_string(),
            format!("r.example: blob {digest} of test/app: uploading it: refused as invalid (400 Bad Request: DIGEST_INVALID: provided digest did not match uploaded content)")
        );
        let denied = refusal(
            403,
            "Forbidden",
            r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
        );
        assert_eq!(
            push_refusal_error("r.example", &blob, "starting its upload", &denied, "anonymously").to_string(),
            format!("r.example: blob {digest} of test/app: starting its upload: access refused (403 Forbidden: DENIED: requested access to the resource is denied); archway asked anonymously")
        );
        let failed = refusal(503, "Service Unavailable", "");
        let by_digest = Subject::Manifest { repository: "test/app", digest: &digest };
        assert_eq!(
            refusal_error("r.example", &by_digest, &failed, "").to_string(),
            format!("r.example: manifest {digest} of test/app: the registry failed (503 Service Unavailable)")
        );
    }
}
