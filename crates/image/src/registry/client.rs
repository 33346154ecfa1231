//! The HTTP side of one registry: a ureq agent, the scheme (see the module doc of
//! [`super`] for when plain HTTP is used), and requests that authenticate as the
//! registry's `401` challenges ask, with bearer tokens cached per scope for the client's
//! life: GETs for reading, any method with a document body for pushing, and the one
//! streamed `PUT` that finishes a blob upload.

use super::auth::{parse_challenges, Challenge};
use super::auth_file::Lookup;
use super::body::{read_limited, BodyError};
use super::failure::{describe_transport, refusal_error, Refusal, Subject};
use super::tls::{tls_failure, unverified_config};
use crate::error::Error;
use crate::reference::DOCKER_HUB;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;
use ureq::OrAnyStatus as _;
use url::Url;

/// The host that serves Docker Hub's distribution API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The most of a token server's answer archway reads.
const TOKEN_ANSWER_LIMIT: u64 = 1 << 20;

/// The host (`HOST[:PORT]`) that serves `registry`'s API: Docker Hub's own for `docker.io`.
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// Whether `host` (`HOST[:PORT]`, `[V6]:PORT`) is this machine: `localhost`, 127.0.0.0/8
/// or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => host.split(':').next().unwrap_or(host),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// One registry, as the requests of one store see it.
pub struct Client {
    agent: ureq::Agent,
    /// The registry as the reference names it (`docker.io`, `HOST:PORT`).
    registry: String,
    /// The host its API is on.
    host: String,
    tls_verify: bool,
    /// `https` or `http` once a connection has succeeded; tried in that order until then.
    scheme: Option<&'static str>,
    credentials: Lookup,
    /// Bearer tokens by the scope of the requests they were fetched for.
    tokens: HashMap<String, String>,
    /// Whether the registry asked for Basic credentials (then every request sends them).
    basic: bool,
}

impl Client {
    pub fn new(registry: &str, tls_verify: bool, credentials: Lookup) -> Result<Client, Error> {
        let mut agent = ureq::AgentBuilder::new()
            .user_agent(concat!("archway/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(120))
            .redirect_auth_headers(ureq::RedirectAuthHeaders::SameHost);
        if !tls_verify {
            let config = unverified_config().map_err(|e| Error::Registry {
                registry: registry.to_string(),
                reason: format!("cannot set up TLS without certificate verification: {e}"),
            })?;
            agent = agent.tls_config(config);
        }
        Ok(Client {
            agent: agent.build(),
            registry: registry.to_string(),
            host: api_host(registry).to_string(),
            tls_verify,
            scheme: None,
            credentials,
            tokens: HashMap::new(),
            basic: false,
        })
    }

    /// The registry as the reference names it.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// How archway presents itself to the registry, for a refusal to say.
    pub fn identity(&self) -> String {
        let registry = &self.registry;
        match &self.credentials {
            Lookup::Found(credentials) => {
                format!("with the credentials of user {:?} from {}", credentials.username, credentials.source)
            }
            Lookup::Missing { searched } if searched.is_empty() => {
                format!("anonymously: no credentials for {registry} (no --creds, no auth file)")
            }
            Lookup::Missing { searched } => {
                let files: Vec<String> = searched.iter().map(|file| file.display().to_string()).collect();
                format!("anonymously: no credentials for {registry} in --creds or in {}", files.join(", "))
            }
            Lookup::Unusable { file, reason } => format!(
                "anonymously: auth file {} has an entry for {registry}, but {reason}; pass --creds USER:PASSWORD \
                 or an --authfile that holds them",
                file.display()
            ),
        }
    }

    /// `GET /v2/{path}` with `Accept: accept`, authenticated for `scope` as the registry
    /// asks. Any answer but a success (after redirects) is an error about `subject`.
    pub fn get(
        &mut self,
        path: &str,
        accept: Option<&str>,
        scope: &str,
        subject: &Subject,
    ) -> Result<ureq::Response, Error> {
        let response = self.exchange("GET", path, Parts { accept, ..Parts::default() }, scope, subject)?;
        if (200..300).contains(&response.status()) {
            return Ok(response);
        }
        let identity = self.identity_for(&response);
        Err(refusal_error(&self.registry, subject, &Refusal::read(response), &identity))
    }

    /// `METHOD /v2/{path}` with `parts`, authenticated for `scope` as the registry asks:
    /// a `401` is answered (a token, Basic credentials) and the request sent again, once.
    /// The answer, whatever its status; a failure to reach the registry is an error about
    /// `subject`.
    pub fn exchange(
        &mut self,
        method: &str,
        path: &str,
        parts: Parts,
        scope: &str,
        subject: &Subject,
    ) -> Result<ureq::Response, Error> {
        let mut authenticated = false;
        loop {
            let authorization = self.authorization(scope);
            let response = self.send(method, path, &parts, authorization.as_deref(), subject)?;
            if response.status() == 401 && !authenticated {
                let challenges = parse_challenges(response.all("WWW-Authenticate"));
                if self.authenticate(&challenges, scope, subject)? {
                    authenticated = true;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// `PUT url` (an upload's `Location`, made absolute, with its query) with `length`
    /// bytes from `body`, sent once: a stream cannot be sent again, so the request that
    /// opened the upload is the one that authenticated. `Authorization` (for `scope`) goes
    /// only to the registry's own origin.
    pub fn put_stream(
        &self,
        url: &Url,
        content_type: &str,
        body: &mut dyn Read,
        length: u64,
        scope: &str,
    ) -> Result<ureq::Response, Box<ureq::Transport>> {
        let mut request = self
            .agent
            .request_url("PUT", url)
            .set("Content-Type", content_type)
            .set("Content-Length", &length.to_string());
        let own_origin = self.scheme.is_some_and(|scheme| {
            Url::parse(&format!("{scheme}://{}/", self.host)).is_ok_and(|api| api.origin() == url.origin())
        });
        if let Some(authorization) = self.authorization(scope).filter(|_| own_origin) {
            request = request.set("Authorization", &authorization);
        }
        request.send(body).or_any_status().map_err(Box::new)
    }

    /// How archway presented itself in the request `response` answers, for a refusal to
    /// say: [`Client::identity`], and the schemes the registry asks for if archway
    /// speaks none of them.
    pub fn identity_for(&self, response: &ureq::Response) -> String {
        let challenges = parse_challenges(response.all("WWW-Authenticate"));
        match unsupported(&challenges).filter(|_| response.status() == 401) {
            Some(schemes) => {
                format!(
                    "{}; the registry asks for {schemes} authentication, which archway does not speak",
                    self.identity()
                )
            }
            None => self.identity(),
        }
    }

    /// Describe a failure to reach the registry or to read its answer.
    pub fn describe(&self, error: &ureq::Transport) -> String {
        describe_transport(error, &self.host, self.tls_verify)
    }

    /// What to send as `Authorization` for `scope`: its token, Basic credentials once
    /// the registry asked for them, or nothing.
    fn authorization(&self, scope: &str) -> Option<String> {
        if let Some(token) = self.tokens.get(scope) {
            return Some(format!("Bearer {token}"));
        }
        match &self.credentials {
            Lookup::Found(credentials) if self.basic => Some(credentials.basic_authorization()),
            _ => None,
        }
    }

    /// Answer a `401`'s challenges (a bearer token, preferred, or Basic credentials);
    /// `false` if archway has nothing to answer with.
    fn authenticate(&mut self, challenges: &[Challenge], scope: &str, subject: &Subject) -> Result<bool, Error> {
        let bearer = challenges.iter().find(|c| matches!(c, Challenge::Bearer { .. }));
        match bearer.or_else(|| challenges.iter().find(|c| matches!(c, Challenge::Basic))) {
            Some(Challenge::Bearer { realm, service, scope: asked }) => {
                // What this request needs, with what the registry asks for besides.
                let scopes = merge_scopes(scope, asked.as_deref().unwrap_or(""));
                let token = self.fetch_token(realm, service.as_deref(), &scopes, subject)?;
                self.tokens.insert(scope.to_string(), token);
                Ok(true)
            }
            Some(Challenge::Basic) if matches!(self.credentials, Lookup::Found(_)) => {
                self.basic = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A token for `scopes` from the token server at `realm` (distribution's token
    /// protocol: one `scope` parameter each), asked with Basic credentials when archway
    /// has them.
    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        subject: &Subject,
    ) -> Result<String, Error> {
        let fail = |reason: String| Error::Registry {
            registry: self.registry.clone(),
            reason: format!("{subject}: token server {realm}: {reason}"),
        };
        let mut request = self.agent.get(realm);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        for scope in scopes {
            request = request.query("scope", scope);
        }
        if let Lookup::Found(credentials) = &self.credentials {
            if self.tls_verify && realm.starts_with("http://") {
                return Err(fail(format!(
                    "plain HTTP: archway sends the credentials from {} there only with --tls-verify=false",
                    credentials.source
                )));
            }
            request = request.set("Authorization", &credentials.basic_authorization());
        }
        let response =
            request.call().or_any_status().map_err(|e| fail(describe_transport(&e, realm, self.tls_verify)))?;
        if !(200..300).contains(&response.status()) {
            let refusal = Refusal::read(response);
            return Err(fail(format!("refused ({refusal}); archway asked {}", self.identity())));
        }
        let answer = match read_limited(response, TOKEN_ANSWER_LIMIT) {
            Ok(answer) => answer,
            Err(BodyError::TooLarge { limit }) => return Err(fail(format!("answer larger than {limit} bytes"))),
            Err(BodyError::Read { read, error }) => {
                return Err(fail(format!("connection lost after {read} bytes of its answer: {error}")))
            }
        };
        let TokenAnswer { token, access_token } = serde_json::from_slice(&answer)
            .map_err(|e| fail(format!("answer is not the token protocol's JSON: {e}")))?;
        token
            .into_iter()
            .chain(access_token)
            .find(|token| !token.is_empty())
            .ok_or_else(|| fail("answer has neither \"token\" nor \"access_token\"".to_string()))
    }

    /// One request, over the scheme already chosen or, the first time, https and then
    /// (with `tls_verify` off, after a failed TLS handshake or any failure to reach a
    /// loopback host) http.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        parts: &Parts,
        authorization: Option<&str>,
        subject: &Subject,
    ) -> Result<ureq::Response, Error> {
        let describe = |error: &ureq::Transport| describe_transport(error, &self.host, self.tls_verify);
        let fail = |reason: String| Error::Registry {
            registry: self.registry.clone(),
            reason: format!("{subject}: {reason}"),
        };
        if let Some(scheme) = self.scheme {
            return self.request(scheme, method, path, parts, authorization).map_err(|e| fail(describe(&e)));
        }
        let https = match self.request("https", method, path, parts, authorization) {
            Ok(response) => {
                self.scheme = Some("https");
                return Ok(response);
            }
            Err(https) => https,
        };
        if self.tls_verify || (tls_failure(&https).is_none() && !is_loopback(&self.host)) {
            return Err(fail(describe(&https)));
        }
        match self.request("http", method, path, parts, authorization) {
            Ok(response) => {
                self.scheme = Some("http");
                Ok(response)
            }
            Err(http) => {
                let (http, https) = (describe(&http), describe(&https));
                Err(fail(if http == https {
                    format!("{http} (tried https and http)")
                } else {
                    format!("over http: {http}; over https: {https}")
                }))
            }
        }
    }

    fn request(
        &self,
        scheme: &str,
        method: &str,
        path: &str,
        parts: &Parts,
        authorization: Option<&str>,
    ) -> Result<ureq::Response, Box<ureq::Transport>> {
        let mut request = self.agent.request(method, &format!("{scheme}://{}/v2/{path}", self.host));
        for (name, value) in parts.query {
            request = request.query(name, value);
        }
        let headers =
            [("Accept", parts.accept), ("Content-Type", parts.content_type), ("Authorization", authorization)];
        for (name, value) in headers {
            if let Some(value) = value {
                request = request.set(name, value);
            }
        }
        match parts.body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        }
        .or_any_status()
        .map_err(Box::new)
    }
}

/// What a request sends besides its method, path and `Authorization`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub accept: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// Query parameters, appended in order.
    pub query: &'a [(&'a str, &'a str)],
    /// The body (with its `Content-Length`, `0` for an empty one); `None` sends none.
    pub body: Option<&'a [u8]>,
}

/// The scopes of `needed` (space-separated, `repository:NAME:ACTIONS`) with those of
/// `asked` (a challenge's `scope`) merged in: one scope per resource, the union of the
/// actions, in first-seen order.
pub fn merge_scopes(needed: &str, asked: &str) -> Vec<String> {
    let mut merged: Vec<(&str, Vec<&str>)> = Vec::new();
    for scope in needed.split_whitespace().chain(asked.split_whitespace()) {
        let (resource, actions) = scope.rsplit_once(':').unwrap_or((scope, ""));
        let index = match merged.iter().position(|(known, _)| *known == resource) {
            Some(index) => index,
            None => {
                merged.push((resource, Vec::new()));
                merged.len() - 1
            }
        };
        for action in actions.split(',').filter(|action| !action.is_empty()) {
            if !merged[index].1.contains(&action) {
                merged[index].1.push(action);
            }
        }
    }
    merged
        .into_iter()
        .map(
            |(resource, actions)| {
                if actions.is_empty() {
                    resource.to_string()
                } else {
                    format!("{resource}:{}", actions.join(","))
                }
            },
        )
        .collect()
}

/// A token server's answer: `token`, or OAuth's `access_token`.
#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

/// The challenges archway cannot answer, if those are all there are: `Negotiate, Digest`.
fn unsupported(challenges: &[Challenge]) -> Option<String> {
    let names: Vec<&str> = challenges
        .iter()
        .map(|c| match c {
            Challenge::Unsupported(name) => Some(name.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!names.is_empty()).then(|| names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        assert_eq!(api_host("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn scopes_merge_per_resource() {
        assert_eq!(merge_scopes("repository:a/b:pull", "repository:a/b:pull"), ["repository:a/b:pull"]);
        assert_eq!(merge_scopes("repository:a/b:pull,push", "repository:a/b:pull"), ["repository:a/b:pull,push"]);
        assert_eq!(merge_scopes("repository:a/b:pull", ""), ["repository:a/b:pull"]);
        assert_eq!(
            merge_scopes("repository:a/b:pull,push repository:c/d:pull", "repository:c/d:push registry:catalog:*"),
            ["repository:a/b:pull,push", "repository:c/d:pull,push", "registry:catalog:*"]
        );
        assert_eq!(merge_scopes("", "odd"), ["odd"]);
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST:5000", "127.0.0.1", "127.1.2.3:443", "[::1]:5000"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["docker.io", "10.0.0.1:5000", "[2001:db8::1]:5000", "localhost.example", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
