//! Who archway is to a registry: credentials and where they came from, and the
//! `WWW-Authenticate` challenges (RFC 7235) of a `401` that say how to present them.
//!
//! Registries use two schemes: `Basic` (credentials on every request) and `Bearer`
//! (the distribution token protocol: get a token from the challenge's `realm` for its
//! `service` and `scope`, then send `Authorization: Bearer TOKEN`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::fmt;
use std::path::PathBuf;

/// Where credentials came from, so that a refusal can say which ones were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// [`super::RegistryOptions::credentials`] (skopeo's `--creds`).
    Options,
    /// An `auths` entry of this auth file.
    AuthFile(PathBuf),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Options => write!(f, "--creds"),
            CredentialSource::AuthFile(path) => write!(f, "auth file {}", path.display()),
        }
    }
}

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub source: CredentialSource,
}

impl Credentials {
    /// The `Authorization` value of HTTP Basic authentication.
    pub fn basic_authorization(&self) -> String {
        format!("Basic {}", STANDARD.encode(format!("{}:{}", self.username, self.password)))
    }
}

/// Never prints the password.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("source", &self.source).finish()
    }
}

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Get a token from `realm` (for `service` and `scope`, when given).
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
    /// Send Basic credentials.
    Basic,
    /// A scheme archway does not speak, or a `Bearer` without a realm: what it was.
    Unsupported(String),
}

/// Every challenge of every `WWW-Authenticate` header value, in order. Malformed
/// parameters are skipped: what is left decides.
pub fn parse_challenges<'a>(headers: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut challenges = Vec::new();
    for header in headers {
        let mut cursor = Cursor { rest: header };
        let mut current: Option<(String, Vec<(String, String)>)> = None;
        loop {
            cursor.skip(|c| c == ',' || c.is_ascii_whitespace());
            let name = cursor.take_while(is_token_char);
            if name.is_empty() {
                break;
            }
            cursor.skip(|c| c == ' ' || c == '\t');
            if cursor.eat('=') {
                cursor.skip(|c| c == ' ' || c == '\t');
                let value = cursor.value();
                if let Some((_, params)) = current.as_mut() {
                    params.push((name.to_ascii_lowercase(), value));
                }
            } else {
                challenges.extend(current.take().map(|(scheme, params)| challenge(&scheme, params)));
                current = Some((name.to_string(), Vec::new()));
            }
        }
        challenges.extend(current.map(|(scheme, params)| challenge(&scheme, params)));
    }
    challenges
}

fn challenge(scheme: &str, params: Vec<(String, String)>) -> Challenge {
    let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    if scheme.eq_ignore_ascii_case("basic") {
        Challenge::Basic
    } else if scheme.eq_ignore_ascii_case("bearer") {
        match param("realm") {
            Some(realm) if !realm.is_empty() => {
                Challenge::Bearer { realm, service: param("service"), scope: param("scope") }
            }
            _ => Challenge::Unsupported("Bearer without a realm".to_string()),
        }
    } else {
        Challenge::Unsupported(scheme.to_string())
    }
}

/// RFC 7230 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The unparsed rest of a header value.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip(&mut self, unwanted: impl Fn(char) -> bool) {
        self.rest = self.rest.trim_start_matches(unwanted);
    }

    fn take_while(&mut self, wanted: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !wanted(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// A parameter's value: a quoted string (with `\` escapes) or everything up to the
    /// next `,` or space (registries send unquoted realms with `:` and `/` in them).
    fn value(&mut self) -> String {
        if !self.eat('"') {
            return self.take_while(|c| c != ',' && !c.is_ascii_whitespace()).to_string();
        }
        let mut value = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return value;
                }
                '\\' => value.extend(chars.next().map(|(_, escaped)| escaped)),
                _ => value.push(c),
            }
        }
        self.rest = "";
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_as_registries_send_them() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#;
        assert_eq!(
            parse_challenges([hub]),
            [Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            }]
        );
        // Unquoted values, spaces around `=`, no scope, an error parameter.
        let loose = "bearer realm = https://ghcr.io/token , service=ghcr.io,error=\"invalid_token\"";
        assert_eq!(
            parse_challenges([loose]),
            [Challenge::Bearer { realm: "https://ghcr.io/token".into(), service: Some("ghcr.io".into()), scope: None }]
        );
        // Escapes in quoted strings; a scope with several actions.
        let escaped = r#"Bearer realm="https://r/t\"x\\",scope="repository:a/b:pull,push""#;
        assert_eq!(
            parse_challenges([escaped]),
            [Challenge::Bearer {
                realm: r#"https://r/t"x\"#.into(),
                service: None,
                scope: Some("repository:a/b:pull,push".into())
            }]
        );
    }

    #[test]
    fn basic_other_and_several_challenges() {
        assert_eq!(parse_challenges([r#"Basic realm="basic-realm""#]), [Challenge::Basic]);
        assert_eq!(parse_challenges(["Basic"]), [Challenge::Basic]);
        assert_eq!(
            parse_challenges([
                r#"Negotiate, Basic realm="r", Bearer realm="https://t",service="s""#,
                "Digest realm=\"x\""
            ]),
            [
                Challenge::Unsupported("Negotiate".into()),
                Challenge::Basic,
                Challenge::Bearer { realm: "https://t".into(), service: Some("s".into()), scope: None },
                Challenge::Unsupported("Digest".into()),
            ]
        );
        assert_eq!(
            parse_challenges([r#"Bearer service="s""#]),
            [Challenge::Unsupported("Bearer without a realm".into())]
        );
        // Nothing, garbage, an unterminated quote: no panic, whatever can be read.
        assert_eq!(parse_challenges([""]), []);
        assert_eq!(parse_challenges(["=,=,\"\""]), []);
        assert_eq!(
            parse_challenges([r#"Bearer realm="https://t"#]),
            [Challenge::Bearer { realm: "https://t".into(), service: None, scope: None }]
        );
    }

    #[test]
    fn basic_authorization_and_no_password_in_debug() {
        let credentials =
            Credentials { username: "user".into(), password: "secret".into(), source: CredentialSource::Options };
        assert_eq!(credentials.basic_authorization(), "Basic dXNlcjpzZWNyZXQ=");
        assert!(!format!("{credentials:?}").contains("secret"));
        assert_eq!(CredentialSource::AuthFile("/a/auth.json".into()).to_string(), "auth file /a/auth.json");
    }
}
