//! The shell patterns of `${var#pattern}`, `${var%pattern}` and `${var/pattern/replacement}`, parsed and matched
//! the way BuildKit does it: BuildKit turns the pattern into a Go regular expression, so matching follows Go's
//! regexp rules rather than a shell's.
//!
//! - `*` is any run of characters, `?` any one character; everything else is literal. There are no bracket
//!   expressions: `[` is literal.
//! - `\*`, `\?` and `\\` are literal `*`, `?`, `\`. A `\` before `}` or `/` is dropped (it only kept the
//!   character from ending the `${...}`). Any other `\x`, and a `\` at the end, make the pattern invalid. The
//!   backslash is fixed here: a Dockerfile's escape token does not change it.
//! - `*` and `?` never match a newline (Go's `.` without the `s` flag).
//! - Matching is leftmost-first (Go's default, as Perl's): the match starting earliest wins, and among those the
//!   one a backtracking matcher would find first: runs are greedy or lazy as the caller asks.
//! - Like Go's `text/scanner`, a byte order mark at the very start of the pattern is skipped.

use std::fmt;

/// One element of a parsed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    /// Exactly this character.
    Literal(char),
    /// Any one character but a newline (`?`).
    AnyChar,
    /// Any run of characters without a newline (`*`).
    AnyRun,
}

impl Element {
    fn accepts(self, c: char) -> bool {
        match self {
            Element::Literal(literal) => c == literal,
            Element::AnyChar | Element::AnyRun => c != '\n',
        }
    }
}

/// A pattern was refused: an escape other than `\*`, `\?`, `\\` (or a dropped `\}`, `\/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InvalidEscape {
    /// The character after the backslash; `None` when the backslash ended the pattern.
    escaped: Option<char>,
}

impl fmt::Display for InvalidEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.escaped {
            Some(c) => write!(f, "invalid escape '\\{c}'"),
            None => write!(f, "invalid escape: '\\' at the end of the pattern"),
        }
    }
}

/// A parsed pattern; `greedy` says whether `*` takes the longest run it can (`.*`) or the shortest (`.*?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    elements: Vec<Element>,
    greedy: bool,
}

/// One candidate match in progress: the element it waits at and where its match started.
#[derive(Debug, Clone, Copy)]
struct Thread {
    element: usize,
    start: usize,
}

/// The threads alive at one text position, in priority order, at most one per element (the first to get there).
struct ThreadList {
    threads: Vec<Thread>,
    present: Vec<bool>,
}

impl ThreadList {
    fn new(states: usize) -> ThreadList {
        ThreadList { threads: Vec::new(), present: vec![false; states] }
    }

    fn clear(&mut self) {
        self.threads.clear();
        self.present.iter_mut().for_each(|p| *p = false);
    }
}

impl Pattern {
    /// Parses `pattern` (see the module doc for the syntax).
    pub(super) fn parse(pattern: &str, greedy: bool) -> Result<Pattern, InvalidEscape> {
        let pattern = pattern.strip_prefix('\u{FEFF}').unwrap_or(pattern);
        let mut elements = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let element = match c {
                '*' => Element::AnyRun,
                '?' => Element::AnyChar,
                '\\' if matches!(chars.peek(), Some('}' | '/')) => continue,
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '?' | '\\')) => Element::Literal(escaped),
                    escaped => return Err(InvalidEscape { escaped }),
                },
                literal => Element::Literal(literal),
            };
            elements.push(element);
        }
        Ok(Pattern { elements, greedy })
    }

    /// The leftmost-first match starting exactly at `start`, as its end.
    pub(super) fn match_at(&self, text: &[char], start: usize) -> Option<usize> {
        self.run(text, start, true).map(|(_, end)| end)
    }

    /// The leftmost-first match starting at `from` or later, as `(start, end)`.
    pub(super) fn find(&self, text: &[char], from: usize) -> Option<(usize, usize)> {
        self.run(text, from, false)
    }

    /// A Pike VM over the pattern (the way Go's regexp runs without backtracking): every thread steps through the
    /// text together, so time is elements × characters and memory is elements, whatever the input.
    fn run(&self, text: &[char], from: usize, anchored: bool) -> Option<(usize, usize)> {
        let accept = self.elements.len();
        let mut current = ThreadList::new(accept + 1);
        let mut next = ThreadList::new(accept + 1);
        let mut found = None;
        let mut position = from;
        while position <= text.len() {
            if found.is_none() && (!anchored || position == from) {
                self.add(&mut current, Thread { element: 0, start: position });
            }
            if current.threads.is_empty() {
                break;
            }
            next.clear();
            for &thread in &current.threads {
                if thread.element == accept {
                    // Every thread after this one has lower priority: this match beats theirs.
                    found = Some((thread.start, position));
                    break;
                }
                let element = self.elements[thread.element];
                if text.get(position).is_some_and(|&c| element.accepts(c)) {
                    let after = if element == Element::AnyRun { thread.element } else { thread.element + 1 };
                    self.add(&mut next, Thread { element: after, start: thread.start });
                }
            }
            std::mem::swap(&mut current, &mut next);
            position += 1;
        }
        found
    }

    /// Adds `thread` and everything it reaches without reading a character (leaving a run), in priority order.
    fn add(&self, list: &mut ThreadList, thread: Thread) {
        let mut element = thread.element;
        // The exits of lazy runs are tried before the runs themselves, so those runs wait here until the end.
        let mut deferred_runs = Vec::new();
        loop {
            if list.present[element] {
                break;
            }
            list.present[element] = true;
            match self.elements.get(element) {
                Some(Element::AnyRun) if !self.greedy => deferred_runs.push(element),
                _ => list.threads.push(Thread { element, start: thread.start }),
            }
            if self.elements.get(element) != Some(&Element::AnyRun) {
                break;
            }
            element += 1;
        }
        for element in deferred_runs.into_iter().rev() {
            list.threads.push(Thread { element, start: thread.start });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn find(pattern: &str, greedy: bool, text: &str) -> Option<(usize, usize)> {
        Pattern::parse(pattern, greedy).unwrap().find(&chars(text), 0)
    }

    fn match_at(pattern: &str, greedy: bool, text: &str) -> Option<usize> {
        Pattern::parse(pattern, greedy).unwrap().match_at(&chars(text), 0)
    }

    #[test]
    fn parses_wildcards_and_escapes() {
        let parsed = Pattern::parse(r"a*?\*\?\\\}\/[.", true).unwrap();
        use Element::*;
        let expected =
            [Literal('a'), AnyRun, AnyChar, Literal('*'), Literal('?'), Literal('\\'), Literal('}'), Literal('/')];
        assert_eq!(parsed.elements[..8], expected);
        assert_eq!(parsed.elements[8..], [Literal('['), Literal('.')]);
    }

    #[test]
    fn refuses_other_escapes() {
        for (pattern, escaped) in [(r"\x", Some('x')), (r"a\", None), (r"\\\", None), (r"\#", Some('#'))] {
            assert_eq!(Pattern::parse(pattern, true), Err(InvalidEscape { escaped }), "{pattern}");
        }
        assert_eq!(InvalidEscape { escaped: Some('x') }.to_string(), r"invalid escape '\x'");
    }

    #[test]
    fn skips_a_leading_byte_order_mark_only() {
        assert_eq!(Pattern::parse("\u{FEFF}a", true).unwrap().elements, [Element::Literal('a')]);
        assert_eq!(Pattern::parse("a\u{FEFF}", true).unwrap().elements.len(), 2);
    }

    #[test]
    fn greedy_and_lazy_runs() {
        assert_eq!(match_at("*x", true, "axbxc"), Some(4));
        assert_eq!(match_at("*x", false, "axbxc"), Some(2));
        assert_eq!(match_at("*", false, "abc"), Some(0));
        assert_eq!(match_at("*", true, "abc"), Some(3));
        assert_eq!(match_at("*x*y", false, "xxyy"), Some(3));
        assert_eq!(match_at("*x*y", true, "xxyy"), Some(4));
        assert_eq!(match_at("?", true, ""), None);
        assert_eq!(match_at("b", true, "ab"), None);
    }

    #[test]
    fn leftmost_first() {
        assert_eq!(find("b*", true, "abcbd"), Some((1, 5)));
        assert_eq!(find("b*", false, "abcbd"), Some((1, 2)));
        assert_eq!(find("", true, "abc"), Some((0, 0)));
        assert_eq!(find("*", true, "abc"), Some((0, 3)));
        assert_eq!(find("c", true, "abc"), Some((2, 3)));
        assert_eq!(find("d", true, "abc"), None);
        assert_eq!(Pattern::parse("a", true).unwrap().find(&chars("aaa"), 1), Some((1, 2)));
    }

    #[test]
    fn wildcards_stop_at_newlines() {
        assert_eq!(match_at("*", true, "ab\ncd"), Some(2));
        assert_eq!(match_at("a?b", true, "a\nb"), None);
        assert_eq!(find("*", true, "\nab"), Some((0, 0)));
        assert_eq!(find("?", true, "\nab"), Some((1, 2)));
    }

    #[test]
    fn long_inputs_stay_linear() {
        let text: Vec<char> = "a".repeat(20_000).chars().collect();
        assert_eq!(Pattern::parse(&"*a".repeat(50), true).unwrap().match_at(&text, 0), Some(20_000));
        assert_eq!(Pattern::parse(&"*a".repeat(50), false).unwrap().match_at(&text, 0), Some(50));
        assert_eq!(Pattern::parse(&"*b".repeat(50), true).unwrap().find(&text, 0), None);
    }
}
