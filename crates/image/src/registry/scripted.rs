//! A scripted HTTP server on 127.0.0.1 for the registry's tests: every request answered
//! as the test says, on a connection of its own, and kept for the test to look at.

use super::auth::{CredentialSource, Credentials};
use super::auth_file::Lookup;
use super::{Pusher, RegistryStore};
use crate::digest::Digest;
use crate::reference::RegistryRef;
use oci_spec::image::Descriptor;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The most of a request's body the server reads.
pub const BODY_LIMIT: u64 = 1 << 20;
/// A request as the scripted server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as far as the server read it (at most [`BODY_LIMIT`] bytes).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or(&self.target)
    }
}

/// What the server sends back: a whole response, a head that announces more body than
/// follows before the connection is closed, or nothing (the connection is closed with
/// what the client sent unread, which resets it).
pub enum Answer {
    Whole(Vec<u8>),
    CutShort { head: Vec<u8>, body: Vec<u8> },
    HangUp,
}

/// A server on 127.0.0.1 that answers every HTTP request with `answer(request)` on a
/// connection of its own (`Connection: close`, a thread each), answers a TLS hello as a
/// plain-HTTP server does (`400`), and keeps the requests. Its accepting thread lives as
/// long as the test process.
pub struct Scripted {
    pub host: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Scripted {
    pub fn start(answer: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (seen, answer) = (requests.clone(), Arc::new(answer));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, answer) = (seen.clone(), answer.clone());
                std::thread::spawn(move || serve(stream, &seen, &*answer));
            }
        });
        Scripted { host, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn store(&self, repository_reference: &str, credentials: Lookup) -> RegistryStore {
        let reference = RegistryRef::parse(&format!("{}/{repository_reference}", self.host)).unwrap();
        RegistryStore::with_credentials(&reference, false, credentials).unwrap()
    }

    /// A pusher to `repository_reference` (`REPO:TAG`) on this server.
    pub fn pusher(&self, repository_reference: &str, credentials: Lookup) -> Pusher {
        let reference = RegistryRef::parse(&format!("{}/{repository_reference}", self.host)).unwrap();
        Pusher::with_credentials(&reference, false, credentials).unwrap()
    }
}

/// Answer the one request on `stream`, then close it the orderly way (shut down, then
/// read what the client still sends until it closes, so that no reset cuts the answer).
fn serve(mut stream: TcpStream, seen: &Mutex<Vec<Request>>, answer: &dyn Fn(&Request) -> Answer) {
    let written = match read_request(&stream) {
        None => stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"),
        Some(request) => {
            seen.lock().unwrap().push(request.clone());
            match answer(&request) {
                Answer::Whole(bytes) => stream.write_all(&bytes),
                Answer::CutShort { head, body } => stream.write_all(&head).and_then(|()| stream.write_all(&body)),
                Answer::HangUp => return,
            }
        }
    };
    if written.is_ok() && stream.shutdown(std::net::Shutdown::Write).is_ok() {
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
    }
}

/// The request on `stream`, or `None` for a TLS hello or garbage.
fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    if reader.fill_buf().ok()?.first() == Some(&0x16) {
        return None;
    }
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split(' ');
    let method = words.next()?.to_string();
    let target = words.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers.iter().find(|(name, _)| name == "content-length").and_then(|(_, v)| v.parse::<u64>().ok());
    let mut body = Vec::new();
    reader.take(length.unwrap_or(0).min(BODY_LIMIT)).read_to_end(&mut body).ok()?;
    Some(Request { method, target, headers, body })
}

pub fn head(status: &str, headers: &[(&str, &str)], length: usize) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

pub fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut bytes = head(status, headers, body.len());
    bytes.extend_from_slice(body);
    Answer::Whole(bytes)
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn manifest() -> Vec<u8> {
    format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{}},"layers":[]}}"#).into_bytes()
}

pub fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    let digest: oci_spec::image::Digest = Digest::of(bytes).to_string().parse().unwrap();
    Descriptor::new(media_type.into(), bytes.len() as u64, digest)
}

/// The `Authorization` value of Basic credentials.
pub fn basic(name: &str, password: &str) -> String {
    Credentials { username: name.into(), password: password.into(), source: CredentialSource::Options }
        .basic_authorization()
}

pub fn user(name: &str, password: &str) -> Lookup {
    Lookup::Found(Credentials { username: name.into(), password: password.into(), source: CredentialSource::Options })
}

pub fn anonymous() -> Lookup {
    Lookup::Missing { searched: vec![] }
}
