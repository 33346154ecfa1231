//! `.dockerignore`: which files of the build context a build never sees, read and
//! matched as docker's `patternmatcher` does.
//!
//! A line is a pattern unless it starts with `#` (at column 0) or is blank; spaces
//! around it are trimmed, `!` makes it an exception, and it is cleaned as a path
//! (`./a//b/` is `a/b`, a leading `/` dropped). Patterns are matched against paths
//! relative to the context root, in order, the last match deciding: `*` and `?` stay
//! within a path component, `**` spans any number of them, `[...]` is a character
//! class, `\` escapes. A path is excluded when a pattern matches it or one of its
//! parent directories, so `node_modules` excludes everything under it.

use regex::Regex;

/// The patterns of a `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    exception: bool,
    matcher: Matcher,
}

/// How a pattern matches, after compiling it as patternmatcher does.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    /// `dir/**`.
    Prefix(String),
    /// `**/name`.
    Suffix(String),
    Regex(Regex),
}

impl Ignore {
    /// Read a `.dockerignore`'s text; a bad pattern (`!` alone, an unclosed `[`) is an
    /// error naming it.
    pub fn parse(text: &str) -> Result<Ignore, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if exception && pattern.is_empty() {
                return Err("illegal exclusion pattern: \"!\"".to_owned());
            }
            let mut cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let matcher = compile(&cleaned).map_err(|e| format!("bad .dockerignore pattern {line:?}: {e}"))?;
            patterns.push(Pattern { exception, matcher });
        }
        Ok(Ignore { patterns })
    }

    /// Whether `path` (relative to the context root, `/`-separated) is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = match path.rsplit_once('/') {
            Some((parent, _)) => parent.split('/').collect(),
            None => Vec::new(),
        };
        let mut excluded = false;
        for pattern in &self.patterns {
            if pattern.exception != excluded {
                continue;
            }
            let matches = pattern.matcher.matches(&path)
                || (1..=parents.len()).any(|n| pattern.matcher.matches(&parents[..n].join("/")));
            if matches {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether an exception might re-include something under an excluded directory (a
    /// walk must then descend into it).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }
}

impl Matcher {
    fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Exact(exact) => path == exact,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Matcher::Regex(regex) => regex.is_match(path),
        }
    }
}

/// Compile a cleaned pattern into the cheapest matcher that agrees with patternmatcher's
/// regular expression for it.
fn compile(pattern: &str) -> Result<Matcher, String> {
    #[derive(PartialEq)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut regex = String::from("^");
    let mut kind = Kind::Exact;
    let mut chars = pattern.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        regex.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    regex.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                regex.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                regex.push_str("[^/]");
                kind = Kind::Regex;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                regex.push('\\');
                regex.push(c);
            }
            '\\' => match chars.next() {
                Some(next) => {
                    regex.push('\\');
                    regex.push(next);
                    kind = Kind::Regex;
                }
                None => regex.push_str("\\\\"),
            },
            '[' | ']' => {
                regex.push(c);
                kind = Kind::Regex;
            }
            _ => regex.push(c),
        }
        first = false;
    }
    check_brackets(pattern)?;
    Ok(match kind {
        Kind::Exact => Matcher::Exact(pattern.to_owned()),
        Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_owned()),
        Kind::Suffix => Matcher::Suffix(pattern[2..].to_owned()),
        Kind::Regex => {
            regex.push('$');
            Matcher::Regex(Regex::new(&regex).map_err(|e| e.to_string())?)
        }
    })
}

/// Refuse what Go's `filepath.Match` calls a bad pattern: an unclosed `[`, an empty
/// class, a trailing `\`.
fn check_brackets(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return Err("syntax error in pattern".to_owned()),
            '[' => {
                let mut class = chars.clone();
                if class.clone().next() == Some('^') {
                    class.next();
                }
                let mut size = 0;
                loop {
                    match class.next() {
                        None => return Err("syntax error in pattern".to_owned()),
                        Some(']') if size > 0 => break,
                        Some('\\') => {
                            class.next();
                        }
                        Some(_) => {}
                    }
                    size += 1;
                }
                chars = class;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go's `filepath.Clean` on a `/`-separated path: no `.` components, `..` resolved
/// lexically, no repeated or trailing `/`; empty is `.`.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        Ignore::parse(text).unwrap()
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("./a//b/"), "a/b");
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean(""), ".");
    }

    #[test]
    fn patterns_as_docker_matches_them() {
        let rules = ignore("# comment\nnode_modules\n*.log\n!keep.log\n**/*.tmp\ndocs/**\n/build\n");
        assert!(rules.excludes("node_modules/x/y.js"));
        assert!(rules.excludes("a.log"));
        assert!(!rules.excludes("keep.log"));
        assert!(!rules.excludes("sub/a.log"), "* stays within one component");
        assert!(rules.excludes("a/b/c.tmp"));
        assert!(rules.excludes("x.tmp"));
        assert!(rules.excludes("docs/a/b"));
        assert!(rules.excludes("build/out"));
        assert!(!rules.excludes("src/main.rs"));
        assert!(!rules.excludes("."));
        let exceptions = ignore("*\n!src\n");
        assert!(exceptions.excludes("Dockerfile"));
        assert!(!exceptions.excludes("src/a.c"));
        assert!(exceptions.has_exceptions());
        assert!(ignore("a?c\n").excludes("abc") && !ignore("a?c\n").excludes("a/c"));
        assert!(ignore("[ab].txt\n").excludes("b.txt"));
        assert!(ignore("  spaced.txt  \n").excludes("spaced.txt"));
        assert!(ignore("a\\*b\n").excludes("a*b") && !ignore("a\\*b\n").excludes("axb"));
        assert!(ignore("**\n").excludes("anything/at/all"));
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(Ignore::parse("!\n").unwrap_err(), "illegal exclusion pattern: \"!\"");
        assert!(Ignore::parse("[abc\n").is_err());
        assert!(Ignore::parse("a\\\n").is_err());
    }
}
