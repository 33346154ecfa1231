//! Physical lines to logical ones: the byte-order mark, parser directives, comments and
//! line continuations, as BuildKit's `Parse` reads them.
//!
//! A physical line keeps its `\n` (heredoc bodies are kept byte for byte). The first
//! line of an instruction has its newline and leading white space removed; the lines
//! that continue it keep their leading white space. A line is a continuation request
//! when it ends with the escape token followed only by spaces and tabs, unless the
//! token is itself escaped (`foo \\`); the token and those spaces are dropped. Inside a
//! continued instruction, comment lines are skipped, and so are empty lines (with a
//! warning, as BuildKit gives one).

use super::heredoc::Heredoc;
use super::{Directive, ParseError, Warning};

/// The parser directives BuildKit knows; another `# name=value` comment ends them.
const DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

/// An instruction's logical line.
pub(super) struct Logical {
    /// The physical lines joined, continuation tokens removed.
    pub text: String,
    /// Its first line (1-based).
    pub first_line: usize,
    /// The comments right before it.
    pub comments: Vec<String>,
}

/// Reads a Dockerfile's lines, tracking the directives and the escape token.
pub(super) struct Reader<'a> {
    rest: std::str::SplitInclusive<'a, char>,
    /// Physical lines read so far, which is the number of the last one read.
    line: usize,
    escape: char,
    directives: Directives,
    comments: Vec<String>,
    warnings: Vec<Warning>,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader {
            rest: text.split_inclusive('\n'),
            line: 0,
            escape: '\\',
            directives: Directives::default(),
            comments: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The escape token in force.
    pub fn escape(&self) -> char {
        self.escape
    }

    /// The number of the last line read (1-based; 0 before any).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The directives, the escape token and the warnings, once the file is read.
    pub fn finish(self) -> (Vec<Directive>, char, Vec<Warning>) {
        (self.directives.found, self.escape, self.warnings)
    }

    /// The next physical line, newline included, a byte-order mark dropped from the first.
    fn physical(&mut self) -> Option<&'a str> {
        let line = self.rest.next()?;
        self.line += 1;
        Some(if self.line == 1 { line.strip_prefix('\u{feff}').unwrap_or(line) } else { line })
    }

    /// The next instruction's logical line, or `None` at the end of the file.
    pub fn next_instruction(&mut self) -> Result<Option<Logical>, ParseError> {
        loop {
            let Some(raw) = self.physical() else { return Ok(None) };
            if is_comment(raw) {
                // BuildKit drops the line's first character, not its `#`, before trimming.
                let mut chars = raw.chars();
                chars.next();
                match chars.as_str().trim() {
                    "" => self.comments.clear(),
                    comment => self.comments.push(comment.to_owned()),
                }
            }
            let token = trim_newline(raw).trim_start();
            if self.directive(token)? {
                self.comments.pop();
            }
            let (text, mut complete) = self.trim_continuation(uncommented(token));
            if complete && text.is_empty() {
                continue;
            }
            let first_line = self.line;
            let mut text = text.to_owned();
            let mut skipped_empty_line = false;
            while !complete {
                let Some(raw) = self.physical() else { break };
                if is_comment(raw) {
                    continue;
                }
                let continued = trim_newline(raw);
                if continued.trim_start().is_empty() {
                    skipped_empty_line = true;
                    continue;
                }
                let (part, done) = self.trim_continuation(continued);
                text.push_str(part);
                complete = done;
            }
            if skipped_empty_line {
                self.warnings
                    .push(Warning { line: self.line, message: format!("Empty continuation line found in: {text}") });
            }
            return Ok(Some(Logical { text, first_line, comments: std::mem::take(&mut self.comments) }));
        }
    }

    /// The body of `heredoc`: the lines up to its terminator (not included), or `None` if
    /// the file ends first. With `<<-` the terminator may be indented with tabs.
    pub fn heredoc_body(&mut self, heredoc: &Heredoc) -> Option<String> {
        let mut body = String::new();
        loop {
            let raw = self.physical()?;
            let mut candidate = trim_newline(raw);
            if heredoc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == heredoc.name {
                return Some(body);
            }
            body.push_str(raw);
        }
    }

    /// `line` without a continuation token at its end, and whether the instruction ends
    /// on this line (no token).
    fn trim_continuation(&self, line: &'a str) -> (&'a str, bool) {
        let Some(before) = line.trim_end_matches([' ', '\t']).strip_suffix(self.escape) else {
            return (line, true);
        };
        match before.chars().next_back() {
            Some(previous) if previous == self.escape => (line, true),
            _ => (before, false),
        }
    }

    /// Read `line` (newline and leading white space removed) as a parser directive if
    /// directives are still being looked for; whether it was one.
    fn directive(&mut self, line: &str) -> Result<bool, ParseError> {
        let Some((name, value)) = self.directives.candidate(line) else { return Ok(false) };
        if self.directives.found.iter().any(|d| d.name == name) {
            return Err(ParseError::new(self.line, format!("only one {name} parser directive can be used")));
        }
        if name == "escape" {
            self.escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(ParseError::new(
                        self.line,
                        format!("invalid escape token '{value}' does not match ` or \\"),
                    ))
                }
            };
        }
        self.directives.found.push(Directive { name, value, line: self.line });
        Ok(true)
    }
}

/// The directives found, and whether the search has ended.
#[derive(Default)]
struct Directives {
    found: Vec<Directive>,
    done: bool,
}

impl Directives {
    /// The `(name, value)` of a directive on `line`, or `None` (ending the search when
    /// the line is anything but a known directive).
    fn candidate(&mut self, line: &str) -> Option<(String, String)> {
        if self.done {
            return None;
        }
        let parsed = line.strip_prefix('#').and_then(|rest| name_and_value(rest.trim_start()));
        match parsed {
            Some((name, value)) if DIRECTIVES.contains(&name.to_lowercase().as_str()) => {
                Some((name.to_lowercase(), value.to_owned()))
            }
            _ => {
                self.done = true;
                None
            }
        }
    }
}

/// `name = value` as BuildKit's directive pattern `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
/// matches it (`\s` being ASCII white space without `\v`).
fn name_and_value(text: &str) -> Option<(&str, &str)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c');
    if !text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let name_end = text.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let after_equals = rest.trim_start_matches(is_space).strip_prefix('=')?;
    let value = after_equals.trim_matches(is_space);
    if !value.is_empty() {
        return Some((name, value));
    }
    // Only white space after `=`: the lazy value still takes one character, the last.
    let last = after_equals.chars().next_back()?;
    Some((name, &after_equals[after_equals.len() - last.len_utf8()..]))
}

/// `line` without the `\r` and `\n` characters at its end.
fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Whether `line` is a comment: `#` after leading white space.
fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// `line`, or nothing if it is a comment.
fn uncommented(line: &str) -> &str {
    if is_comment(line) {
        ""
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_pattern() {
        assert_eq!(name_and_value("escape=`"), Some(("escape", "`")));
        assert_eq!(name_and_value("syntax = docker/dockerfile:1 "), Some(("syntax", "docker/dockerfile:1")));
        assert_eq!(name_and_value("escape=  "), Some(("escape", " ")));
        assert_eq!(name_and_value("escape="), None);
        assert_eq!(name_and_value("1escape=x"), None);
        assert_eq!(name_and_value("esc ape=x"), None);
    }

    #[test]
    fn continuation_tokens() {
        let reader = Reader::new("");
        assert_eq!(reader.trim_continuation("RUN a \\"), ("RUN a ", false));
        assert_eq!(reader.trim_continuation("RUN a \\ \t"), ("RUN a ", false));
        assert_eq!(reader.trim_continuation("\\"), ("", false));
        assert_eq!(reader.trim_continuation("RUN a \\\\"), ("RUN a \\\\", true));
        assert_eq!(reader.trim_continuation("RUN a"), ("RUN a", true));
    }

    #[test]
    fn directives_stop_at_the_first_other_line() {
        let mut reader = Reader::new("");
        assert!(reader.directive("# escape=`").unwrap());
        assert_eq!(reader.escape(), '`');
        assert!(!reader.directive("# a comment").unwrap());
        assert!(!reader.directive("# syntax=x").unwrap());
        let mut reader = Reader::new("");
        assert!(reader.directive("#check=skip=all").unwrap());
        assert!(reader.directive("#check=x").unwrap_err().message.contains("only one check"));
        let mut reader = Reader::new("");
        assert!(reader.directive("# escape=$").unwrap_err().message.contains("invalid escape token '$'"));
    }
}
