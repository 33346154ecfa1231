//! The walk over one word, as BuildKit's shell lexer does it (`shellWord.processStopOn` and what it calls):
//! quotes, the escape token, `$name`, `${...}` and heredoc markers, building the expanded text and the split
//! words ([`super::words`]) in one pass.
//!
//! The word of an operator (`${var-word}`, a pattern, a replacement) is walked by the same scan, up to its `}` or
//! `/`, so it may hold quotes, escapes and further expansions. Any failure inside it that happens at the end of
//! the input is reported as the missing `}` (or `/`), as BuildKit does.

use std::collections::BTreeSet;

use super::env::Env;
use super::error::ShellErrorKind;
use super::substitution;
use super::unicode_class::{is_decimal_digit, is_name_char};
use super::words::Words;
use super::Lexer;

/// The special parameters a one-character name can be (`$@`, `${#}`, ...). `$0` is read as a positional
/// parameter (digits) first; none of them is ever set by a Dockerfile, they come from the environment given.
const SPECIAL_PARAMETERS: [char; 7] = ['@', '*', '#', '?', '-', '$', '!'];

/// The operators of `${var<op>word}` and `${var:<op>word}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `-`: the word when unset (or, with `:`, empty), else the value.
    Default,
    /// `+`: empty when unset (or, with `:`, empty), else the word.
    Alternative,
    /// `?`: the value; an error with the word as message when unset (or, with `:`, empty).
    Required,
    /// `#` / `##`: the value without the shortest / longest matching prefix. Not with `:`.
    TrimPrefix,
    /// `%` / `%%`: the value without the shortest / longest matching suffix. Not with `:`.
    TrimSuffix,
}

const OPERATORS: [(char, Operator); 5] = [
    ('-', Operator::Default),
    ('+', Operator::Alternative),
    ('?', Operator::Required),
    ('#', Operator::TrimPrefix),
    ('%', Operator::TrimSuffix),
];

fn operator(c: Option<char>) -> Option<Operator> {
    OPERATORS.iter().find(|(symbol, _)| Some(*symbol) == c).map(|&(_, operator)| operator)
}

/// What walking a whole word produced.
pub(super) struct Walked {
    /// The expanded word (`ProcessWord`).
    pub(super) text: String,
    /// The split words (`ProcessWords`).
    pub(super) words: Vec<String>,
    /// The variables looked up and found.
    pub(super) matched: BTreeSet<String>,
    /// The variables looked up and not set.
    pub(super) unmatched: BTreeSet<String>,
}

/// Walks `word` with `env` as `lexer` is set up.
pub(super) fn walk(lexer: &Lexer, env: &dyn Env, word: &str) -> Result<Walked, ShellErrorKind> {
    // Go's text/scanner skips a byte order mark at the very start of its input.
    let word = word.strip_prefix('\u{FEFF}').unwrap_or(word);
    let mut walker = Walker {
        lexer,
        env,
        chars: word.chars().collect(),
        position: 0,
        raw_escapes: lexer.raw_escapes,
        partial_word: String::new(),
        matched: BTreeSet::new(),
        unmatched: BTreeSet::new(),
    };
    let (text, words) = walker.scan(None, lexer.raw_escapes)?;
    Ok(Walked { text, words, matched: walker.matched, unmatched: walker.unmatched })
}

struct Walker<'a> {
    lexer: &'a Lexer,
    env: &'a dyn Env,
    chars: Vec<char>,
    position: usize,
    /// Whether escape tokens stay in the text: the lexer's setting for the word itself; for an operator's word,
    /// on for patterns and replacements, off for the others.
    raw_escapes: bool,
    /// The word being split out, shared by every scan of the walk (see [`super::words`]).
    partial_word: String,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
}

impl Walker<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.position += usize::from(c.is_some());
        c
    }

    fn at_end(&self) -> bool {
        self.position >= self.chars.len()
    }

    /// Walks up to `stop` (consumed) or, without one, to the end: the expanded text and its words.
    fn scan(&mut self, stop: Option<char>, raw_escapes: bool) -> Result<(String, Vec<String>), ShellErrorKind> {
        let outer_raw_escapes = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let scanned = self.scan_with_current_escapes(stop);
        self.raw_escapes = outer_raw_escapes;
        scanned
    }

    fn scan_with_current_escapes(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), ShellErrorKind> {
        self.partial_word.clear();
        let mut text = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.position += 1;
                return Ok((text, words.finish(&mut self.partial_word)));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    words.add_splitting(&mut self.partial_word, value.chars());
                    text.push_str(&value);
                }
                '<' => {
                    let marker = self.heredoc_marker();
                    self.partial_word.push_str(&marker);
                    text.push_str(&marker);
                }
                '\'' | '"' if !self.lexer.skip_process_quotes => {
                    let quoted = if c == '\'' { self.single_quoted()? } else { self.double_quoted()? };
                    self.partial_word.push_str(&quoted);
                    text.push_str(&quoted);
                }
                _ if c == self.lexer.escape => {
                    self.position += 1;
                    if self.raw_escapes {
                        self.partial_word.push(c);
                        text.push(c);
                    }
                    // An escape token at the very end is dropped.
                    let Some(escaped) = self.next() else { break };
                    self.partial_word.push(escaped);
                    text.push(escaped);
                }
                _ => {
                    self.position += 1;
                    words.add_splitting(&mut self.partial_word, [c]);
                    text.push(c);
                }
            }
        }
        match stop {
            Some(delimiter) => Err(ShellErrorKind::MissingDelimiter { delimiter }),
            None => Ok((text, words.finish(&mut self.partial_word))),
        }
    }

    /// The word of an operator, up to `delimiter`.
    fn operator_word(&mut self, delimiter: char, raw_escapes: bool) -> Result<String, ShellErrorKind> {
        match self.scan(Some(delimiter), raw_escapes) {
            Ok((text, _)) => Ok(text),
            Err(_) if self.at_end() => Err(ShellErrorKind::MissingDelimiter { delimiter }),
            Err(error) => Err(error),
        }
    }

    /// `'...'`: every character as it is; there is no escape inside.
    fn single_quoted(&mut self) -> Result<String, ShellErrorKind> {
        let mut quoted = String::new();
        self.open_quote('\'', &mut quoted);
        loop {
            match self.next() {
                None => return Err(ShellErrorKind::UnterminatedQuote { quote: '\'' }),
                Some('\'') => return Ok(self.close_quote('\'', quoted)),
                Some(c) => quoted.push(c),
            }
        }
    }

    /// `"..."`: `$` expands; the escape token escapes `"`, `$` and itself and is kept before anything else.
    fn double_quoted(&mut self) -> Result<String, ShellErrorKind> {
        let mut quoted = String::new();
        self.open_quote('"', &mut quoted);
        loop {
            match self.peek() {
                None => return Err(ShellErrorKind::UnterminatedQuote { quote: '"' }),
                Some('"') => {
                    self.position += 1;
                    return Ok(self.close_quote('"', quoted));
                }
                Some('$') => {
                    let value = self.dollar()?;
                    quoted.push_str(&value);
                }
                Some(c) => {
                    self.position += 1;
                    if c != self.lexer.escape {
                        quoted.push(c);
                        continue;
                    }
                    if self.raw_escapes {
                        quoted.push(c);
                    }
                    match self.peek() {
                        // Dropped; the missing closing quote is the error.
                        None => {}
                        Some(escaped) if escaped == '"' || escaped == '$' || escaped == self.lexer.escape => {
                            self.position += 1;
                            quoted.push(escaped);
                        }
                        // Kept (so twice with raw escapes, as in BuildKit).
                        Some(_) => quoted.push(c),
                    }
                }
            }
        }
    }

    fn open_quote(&mut self, quote: char, quoted: &mut String) {
        self.position += 1;
        if self.lexer.raw_quotes {
            quoted.push(quote);
        }
    }

    fn close_quote(&self, quote: char, mut quoted: String) -> String {
        if self.lexer.raw_quotes {
            quoted.push(quote);
        }
        quoted
    }

    /// `<<` and the blanks after it stay one piece (a heredoc marker); a lone `<` is itself.
    fn heredoc_marker(&mut self) -> String {
        self.position += 1;
        if self.peek() != Some('<') {
            return "<".to_owned();
        }
        self.position += 1;
        let mut marker = "<<".to_owned();
        while let Some(blank) = self.peek().filter(|c| matches!(c, ' ' | '\t' | '\r')) {
            self.position += 1;
            marker.push(blank);
        }
        marker
    }

    /// A name after `$` or `${`: all the digits of a positional parameter, one special parameter, or letters,
    /// digits and `_`. Empty when none of these follows.
    fn name(&mut self) -> String {
        let mut name = String::new();
        let first = self.peek();
        let continues: fn(char) -> bool = match first {
            Some(c) if is_decimal_digit(c) => is_decimal_digit,
            Some(c) if SPECIAL_PARAMETERS.contains(&c) => {
                self.position += 1;
                name.push(c);
                return name;
            }
            _ => is_name_char,
        };
        while let Some(c) = self.peek().filter(|&c| continues(c)) {
            self.position += 1;
            name.push(c);
        }
        name
    }

    /// Looks `name` up, noting whether it was found.
    fn lookup(&mut self, name: &str) -> Option<String> {
        let value = self.env.get(name).map(str::to_owned);
        let noted = if value.is_some() { &mut self.matched } else { &mut self.unmatched };
        noted.insert(name.to_owned());
        value
    }

    /// A `$` expansion; the scan is at the `$`.
    fn dollar(&mut self) -> Result<String, ShellErrorKind> {
        self.position += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_owned());
            }
            return Ok(self.value_or_reference(&name, || format!("${name}")));
        }
        self.position += 1;
        match self.peek() {
            None => return Err(ShellErrorKind::MissingDelimiter { delimiter: '}' }),
            Some('{' | '}' | ':') => return Err(ShellErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            Some('}') => Ok(self.value_or_reference(&name, || format!("${{{name}}}"))),
            Some('/') => self.replace(&name),
            Some(':') => {
                let symbol = self.next();
                self.operate(&name, symbol, true)
            }
            symbol @ Some('-' | '+' | '?' | '#' | '%') => self.operate(&name, symbol, false),
            Some(other) => Err(ShellErrorKind::UnsupportedModifier { modifier: other.to_string() }),
            None => Err(ShellErrorKind::MissingDelimiter { delimiter: '}' }),
        }
    }

    /// The value of `name`; when unset, empty, or with `skip_unset_env` the reference as written.
    fn value_or_reference(&mut self, name: &str, reference: impl FnOnce() -> String) -> String {
        match self.lookup(name) {
            Some(value) => value,
            None if self.lexer.skip_unset_env => reference(),
            None => String::new(),
        }
    }

    /// `${name<symbol>word}`, or `${name:<symbol>word}` when `colon`; the scan is after the symbol.
    fn operate(&mut self, name: &str, symbol: Option<char>, colon: bool) -> Result<String, ShellErrorKind> {
        let modifier: String = colon.then_some(':').into_iter().chain(symbol).collect();
        let operator = operator(symbol);
        let trims = matches!(operator, Some(Operator::TrimPrefix | Operator::TrimSuffix));
        if colon && trims {
            return Err(ShellErrorKind::UnsupportedModifier { modifier });
        }
        let word = self.operator_word('}', trims)?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.skip_unset_env {
            return Ok(format!("${{{name}{modifier}{word}}}"));
        }
        let Some(operator) = operator else {
            return Err(ShellErrorKind::UnsupportedModifier { modifier });
        };
        let unset_or_null = value.is_none() || (colon && value.as_deref() == Some(""));
        match operator {
            Operator::Default => Ok(if unset_or_null { word } else { value.unwrap_or_default() }),
            Operator::Alternative => Ok(if unset_or_null { String::new() } else { word }),
            Operator::Required if unset_or_null => {
                let default_message =
                    if value.is_none() { "is not allowed to be unset" } else { "is not allowed to be empty" };
                let message = if word.is_empty() { default_message.to_owned() } else { word };
                Err(ShellErrorKind::Required { name: name.to_owned(), message })
            }
            Operator::Required => Ok(value.unwrap_or_default()),
            Operator::TrimPrefix | Operator::TrimSuffix => {
                let symbol = if operator == Operator::TrimPrefix { '#' } else { '%' };
                let (pattern, longest) = match word.strip_prefix(symbol) {
                    Some(pattern) => (pattern, true),
                    None => (word.as_str(), false),
                };
                let value = value.unwrap_or_default();
                let trimmed = if operator == Operator::TrimPrefix {
                    substitution::trim_prefix(pattern, &value, longest)
                } else {
                    substitution::trim_suffix(pattern, &value, longest)
                };
                trimmed.map_err(|error| invalid_pattern(pattern, error))
            }
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`; the scan is after the first `/`.
    fn replace(&mut self, name: &str) -> Result<String, ShellErrorKind> {
        let every = self.peek() == Some('/');
        self.position += usize::from(every);
        let pattern = self.operator_word('/', true)?;
        let replacement = self.operator_word('}', true)?;
        let Some(value) = self.lookup(name).or_else(|| (!self.lexer.skip_unset_env).then(String::new)) else {
            // BuildKit writes a single `/` back, also for `//`.
            return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
        };
        let replaced = if every {
            substitution::replace_all(&pattern, &value, &replacement)
        } else {
            substitution::replace_first(&pattern, &value, &replacement)
        };
        replaced.map_err(|error| invalid_pattern(&pattern, error))
    }
}

fn invalid_pattern(pattern: &str, reason: impl ToString) -> ShellErrorKind {
    ShellErrorKind::InvalidPattern { pattern: pattern.to_owned(), reason: reason.to_string() }
}

#[cfg(test)]
mod tests;
