//! The HTTP side of one registry: a ureq agent, the scheme (see the module doc of
//! [`super`] for when plain HTTP is used), and GETs that authenticate as the registry's
//! `401` challenges ask, with bearer tokens cached per scope for the client's life.

use super::auth::{parse_challenges, Challenge};
use super::auth_file::Lookup;
use super::body::{read_limited, BodyError};
use super::failure::{describe_transport, refusal_error, Refusal, Subject};
use super::tls::{tls_failure, unverified_config};
use crate::error::Error;
use crate::reference::DOCKER_HUB;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use ureq::OrAnyStatus as _;

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
        let mut authenticated = false;
        loop {
            let authorization = self.authorization(scope);
            let response = self.send(path, accept, authorization.as_deref(), subject)?;
            if (200..300).contains(&response.status()) {
                return Ok(response);
            }
            if response.status() == 401 && !authenticated {
                let challenges = parse_challenges(response.all("WWW-Authenticate"));
                if self.authenticate(&challenges, scope, subject)? {
                    authenticated = true;
                    continue;
                }
                let identity = match unsupported(&challenges) {
                    Some(schemes) => format!(
                        "{}; the registry asks for {schemes} authentication, which archway does not speak",
                        self.identity()
                    ),
                    None => self.identity(),
                };
                return Err(refusal_error(&self.registry, subject, &Refusal::read(response), &identity));
            }
            return Err(refusal_error(&self.registry, subject, &Refusal::read(response), &self.identity()));
        }
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
                // The registry's scope if it names one, else the one this request needs.
                let token = self.fetch_token(realm, service.as_deref(), asked.as_deref().unwrap_or(scope), subject)?;
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

    /// A token from the token server at `realm` (distribution's token protocol), asked
    /// with Basic credentials when archway has them.
    fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &str, subject: &Subject) -> Result<String, Error> {
        let fail = |reason: String| Error::Registry {
            registry: self.registry.clone(),
            reason: format!("{subject}: token server {realm}: {reason}"),
        };
        let mut request = self.agent.get(realm);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        request = request.query("scope", scope);
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
        path: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
        subject: &Subject,
    ) -> Result<ureq::Response, Error> {
        let describe = |error: &ureq::Transport| describe_transport(error, &self.host, self.tls_verify);
        let fail = |reason: String| Error::Registry {
            registry: self.registry.clone(),
            reason: format!("{subject}: {reason}"),
        };
        if let Some(scheme) = self.scheme {
            return self.request(scheme, path, accept, authorization).map_err(|e| fail(describe(&e)));
        }
        let https = match self.request("https", path, accept, authorization) {
            Ok(response) => {
                self.scheme = Some("https");
                return Ok(response);
            }
            Err(https) => https,
        };
        if self.tls_verify || (tls_failure(&https).is_none() && !is_loopback(&self.host)) {
            return Err(fail(describe(&https)));
        }
        match self.request("http", path, accept, authorization) {
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
        path: &str,
        accept: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<ureq::Response, Box<ureq::Transport>> {
        let mut request = self.agent.get(&format!("{scheme}://{}/v2/{path}", self.host));
        if let Some(accept) = accept {
            request = request.set("Accept", accept);
        }
        if let Some(authorization) = authorization {
            request = request.set("Authorization", authorization);
        }
        request.call().or_any_status().map_err(Box::new)
    }
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
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST:5000", "127.0.0.1", "127.1.2.3:443", "[::1]:5000"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["docker.io", "10.0.0.1:5000", "[2001:db8::1]:5000", "localhost.example", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
