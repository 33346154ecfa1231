//! Why a word could not be expanded: [`ShellError`] (the word) and [`ShellErrorKind`] (what went wrong), with
//! BuildKit's messages.

use std::fmt;

/// What went wrong while expanding a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellErrorKind {
    /// A `'` or `"` was never closed.
    UnterminatedQuote {
        /// The quote character.
        quote: char,
    },
    /// A `${` was never closed by `}`, or a `${var/pattern` has no `/` before the end.
    MissingDelimiter {
        /// `}` or `/`.
        delimiter: char,
    },
    /// `${}`, `${{...}`, `${:...}`: no usable name after `${`.
    BadSubstitution,
    /// An operator BuildKit does not have, such as `${var:=word}`, `${var:#word}` or `${var.}` (the operator as
    /// written, including the `:`).
    UnsupportedModifier {
        /// The operator characters.
        modifier: String,
    },
    /// `${var?message}` with `var` unset, or `${var:?message}` with `var` unset or empty.
    Required {
        /// The variable.
        name: String,
        /// The message written in the word, or BuildKit's default.
        message: String,
    },
    /// The pattern of a `#`, `%` or `/` operator has an escape other than `\*`, `\?`, `\\`, `\}`, `\/`.
    InvalidPattern {
        /// The pattern as expanded.
        pattern: String,
        /// What is wrong in it.
        reason: String,
    },
}

impl fmt::Display for ShellErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShellErrorKind::UnterminatedQuote { quote } => {
                let name = if *quote == '\'' { "single-quote" } else { "double-quote" };
                write!(f, "unexpected end of statement while looking for matching {name}")
            }
            ShellErrorKind::MissingDelimiter { delimiter: '/' } => write!(f, "syntax error: missing '/' in ${{}}"),
            ShellErrorKind::MissingDelimiter { delimiter } => write!(f, "syntax error: missing '{delimiter}'"),
            ShellErrorKind::BadSubstitution => write!(f, "syntax error: bad substitution"),
            ShellErrorKind::UnsupportedModifier { modifier } => {
                write!(f, "unsupported modifier ({modifier}) in substitution")
            }
            ShellErrorKind::Required { name, message } => write!(f, "{name}: {message}"),
            ShellErrorKind::InvalidPattern { pattern, reason } => {
                write!(f, "invalid pattern ({pattern}) in substitution: {reason}")
            }
        }
    }
}

/// A word that could not be expanded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellError {
    word: String,
    kind: ShellErrorKind,
}

impl ShellError {
    pub(super) fn new(word: &str, kind: ShellErrorKind) -> ShellError {
        ShellError { word: word.to_owned(), kind }
    }

    /// The word as given to the lexer.
    pub fn word(&self) -> &str {
        &self.word
    }

    /// What went wrong.
    pub fn kind(&self) -> &ShellErrorKind {
        &self.kind
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to process {:?}: {}", self.word, self.kind)
    }
}

impl std::error::Error for ShellError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let cases = [
            (
                ShellErrorKind::UnterminatedQuote { quote: '"' },
                "unexpected end of statement while looking for matching double-quote",
            ),
            (
                ShellErrorKind::UnterminatedQuote { quote: '\'' },
                "unexpected end of statement while looking for matching single-quote",
            ),
            (ShellErrorKind::MissingDelimiter { delimiter: '}' }, "syntax error: missing '}'"),
            (ShellErrorKind::MissingDelimiter { delimiter: '/' }, "syntax error: missing '/' in ${}"),
            (
                ShellErrorKind::Required { name: "VAR".into(), message: "is not allowed to be unset".into() },
                "VAR: is not allowed to be unset",
            ),
            (
                ShellErrorKind::UnsupportedModifier { modifier: ":=".into() },
                "unsupported modifier (:=) in substitution",
            ),
        ];
        for (kind, message) in cases {
            assert_eq!(kind.to_string(), message);
        }
        let error = ShellError::new("${A:?}", ShellErrorKind::Required { name: "A".into(), message: "no".into() });
        assert_eq!(error.to_string(), r#"failed to process "${A:?}": A: no"#);
    }
}
