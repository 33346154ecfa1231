//! Word expansion and word splitting for Dockerfile instructions, agreeing with BuildKit's shell lexer on Linux
//! (moby/buildkit `frontend/dockerfile/shell/lex.go`: `ProcessWord`, `ProcessWords`, `ProcessWordWithMatches`),
//! including where BuildKit differs from a POSIX shell.
//!
//! - [`Lexer`]: the escape token and options; [`Lexer::expand_word`] expands one word and reports the variables
//!   it used ([`Expansion`]), [`Lexer::expand_words`] splits into words after expansion.
//! - [`Env`]: where values come from (lists in `ENV` order, maps), [`env_from_assignments`] for `NAME=value`.
//! - [`ShellError`] / [`ShellErrorKind`]: why a word was refused.
//!
//! Inside: `expand` walks the word, `words` splits it, `pattern` and `substitution` are the `#`, `%` and `/`
//! operators, `unicode_class` is Go's notion of letters and digits for names.
//!
//! The language, as BuildKit has it:
//! - `'...'` keeps everything; `"..."` expands `$` and lets the escape token escape `"`, `$` and itself only
//!   (before anything else the escape token stays). Outside quotes the escape token escapes any character and
//!   is dropped at the very end of the word.
//! - `$name` and `${name}`; a name is letters, digits and `_` (Unicode letters and decimal digits, as Go), or all
//!   the digits of a positional parameter (`$10` is `${10}`, `$001` is `${001}`), or one of `@ * # ? - $ !`.
//!   These come from the environment given like any name; a Dockerfile never sets them, so they expand to
//!   nothing. A `$` not followed by a name is literal.
//! - `${name-word}`, `${name:-word}`, `${name+word}`, `${name:+word}`, `${name?word}`, `${name:?word}`,
//!   `${name#pattern}`, `${name##pattern}`, `${name%pattern}`, `${name%%pattern}`, `${name/pattern/replacement}`,
//!   `${name//pattern/replacement}`. Anything else after the name is an error: `${name=word}`, `${name:#...}`,
//!   `${name:%...}`, and also `${#name}` (BuildKit reads `#` as the special parameter, then fails on `name`).
//! - `<<` and the blanks after it stay together as one word (a heredoc marker).
//!
//! Submodules: `env` (where expansion reads variables), `error` (why a word could not be
//! expanded).

mod env;
mod error;
mod expand;
mod pattern;
mod substitution;
mod unicode_class;
mod words;

use std::collections::BTreeSet;

pub use env::{env_from_assignments, Env};
pub use error::{ShellError, ShellErrorKind};

/// How words are expanded: the escape token and BuildKit's options, all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    escape: char,
    raw_quotes: bool,
    raw_escapes: bool,
    skip_process_quotes: bool,
    skip_unset_env: bool,
}

/// An expanded word and the variables it referred to: the build cache keys a step on the build arguments the
/// step really uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The word with quotes removed and variables expanded.
    pub word: String,
    /// The names looked up and found (also when found empty).
    pub matched: BTreeSet<String>,
    /// The names looked up and not set.
    pub unmatched: BTreeSet<String>,
}

impl Lexer {
    /// A lexer with this escape token: `\` by default in a Dockerfile, `` ` `` with `# escape=``.
    pub fn new(escape: char) -> Lexer {
        Lexer { escape, raw_quotes: false, raw_escapes: false, skip_process_quotes: false, skip_unset_env: false }
    }

    /// Keep the quote characters in the result (what they quote is still treated as quoted).
    pub fn raw_quotes(self, on: bool) -> Lexer {
        Lexer { raw_quotes: on, ..self }
    }

    /// Keep escape tokens in the result. This applies to the word itself; in the word of `${name-word}`,
    /// `${name+word}` and `${name?word}` escapes are always removed, in patterns and replacements always kept.
    /// Inside double quotes an escape token before an ordinary character then appears twice, as in BuildKit.
    pub fn raw_escapes(self, on: bool) -> Lexer {
        Lexer { raw_escapes: on, ..self }
    }

    /// Treat `'` and `"` as ordinary characters.
    pub fn skip_process_quotes(self, on: bool) -> Lexer {
        Lexer { skip_process_quotes: on, ..self }
    }

    /// Leave a reference to an unset variable as written (`$name`, `${name}`, `${name:-word}` with its word
    /// already expanded) instead of expanding it. `${name//pattern/replacement}` comes back with a single `/`,
    /// as in BuildKit.
    pub fn skip_unset_env(self, on: bool) -> Lexer {
        Lexer { skip_unset_env: on, ..self }
    }

    /// Expands one word: quotes removed, variables expanded, no splitting (BuildKit's `ProcessWordWithMatches`).
    pub fn expand_word(&self, word: &str, env: &dyn Env) -> Result<Expansion, ShellError> {
        let walked = expand::walk(self, env, word).map_err(|kind| ShellError::new(word, kind))?;
        Ok(Expansion { word: walked.text, matched: walked.matched, unmatched: walked.unmatched })
    }

    /// Splits into words as BuildKit's `ProcessWords` does: after expansion, at unquoted whitespace, including
    /// whitespace that came from a variable's value; quoted and escaped whitespace stays inside a word, and empty
    /// words disappear. BuildKit loses the text of the current word before any `${name<op>...}` expansion
    /// (`a${X:-b}` gives `b`); so does this.
    pub fn expand_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, ShellError> {
        let walked = expand::walk(self, env, word).map_err(|kind| ShellError::new(word, kind))?;
        Ok(walked.words)
    }
}
