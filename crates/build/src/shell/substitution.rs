//! What the pattern operators do to a variable's value, with BuildKit's results (patterns: [`super::pattern`]).
//!
//! - `${var#pattern}` / `${var##pattern}` remove the prefix the pattern matches at the start, with lazy / greedy
//!   `*` (leftmost-first, so with several `*` the "shortest" prefix is the lazy match, as in Go).
//! - `${var%pattern}` / `${var%%pattern}` do the same on the reversed value with the reversed pattern (an escape
//!   pair such as `\*` stays in order) and reverse the result back.
//! - `${var/pattern/replacement}` replaces the first match (greedy `*`); the replacement is literal.
//! - `${var//pattern/replacement}` replaces every match as Go's `Regexp.ReplaceAllString` does: the replacement is
//!   a Go template (`$0` or `${0}` is the matched text, `$$` is `$`, any other `$name` or `${name}` is empty, a `$`
//!   without a name stays), and an empty match right after a match is not replaced.

use super::pattern::{InvalidEscape, Pattern};
use super::unicode_class::is_name_char;

/// `${var#pattern}` (`longest` false) and `${var##pattern}` (`longest` true).
pub(super) fn trim_prefix(pattern: &str, value: &str, longest: bool) -> Result<String, InvalidEscape> {
    let pattern = Pattern::parse(pattern, longest)?;
    let text: Vec<char> = value.chars().collect();
    Ok(match pattern.match_at(&text, 0) {
        Some(end) => text[end..].iter().collect(),
        None => value.to_owned(),
    })
}

/// `${var%pattern}` (`longest` false) and `${var%%pattern}` (`longest` true).
pub(super) fn trim_suffix(pattern: &str, value: &str, longest: bool) -> Result<String, InvalidEscape> {
    let reversed_value: String = value.chars().rev().collect();
    let trimmed = trim_prefix(&reverse_pattern(pattern), &reversed_value, longest)?;
    Ok(trimmed.chars().rev().collect())
}

/// `${var/pattern/replacement}`.
pub(super) fn replace_first(pattern: &str, value: &str, replacement: &str) -> Result<String, InvalidEscape> {
    let pattern = Pattern::parse(pattern, true)?;
    let text: Vec<char> = value.chars().collect();
    Ok(match pattern.find(&text, 0) {
        Some((start, end)) => {
            let mut replaced: String = text[..start].iter().collect();
            replaced.push_str(replacement);
            replaced.extend(&text[end..]);
            replaced
        }
        None => value.to_owned(),
    })
}

/// `${var//pattern/replacement}`.
pub(super) fn replace_all(pattern: &str, value: &str, template: &str) -> Result<String, InvalidEscape> {
    let pattern = Pattern::parse(pattern, true)?;
    let text: Vec<char> = value.chars().collect();
    let mut replaced = String::new();
    let mut last_match_end = 0;
    let mut search_from = 0;
    while search_from <= text.len() {
        let Some((start, end)) = pattern.find(&text, search_from) else { break };
        replaced.extend(&text[last_match_end..start]);
        if end > last_match_end || start == 0 {
            let matched: String = text[start..end].iter().collect();
            replaced.push_str(&expand_template(template, &matched));
        }
        last_match_end = end;
        // Go always moves on by at least one character.
        search_from = if end > search_from { end } else { search_from + 1 };
    }
    replaced.extend(&text[last_match_end..]);
    Ok(replaced)
}

/// The pattern read backwards, a `\` and the character it escapes kept together in their order.
fn reverse_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut units = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let length = if chars[index] == '\\' && index + 1 < chars.len() { 2 } else { 1 };
        units.push(&chars[index..index + length]);
        index += length;
    }
    units.iter().rev().flat_map(|unit| unit.iter()).collect()
}

/// Go's `Regexp.Expand` for a pattern without groups: only group 0 (the whole match) has text.
fn expand_template(template: &str, matched: &str) -> String {
    let mut expanded = String::new();
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        expanded.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            expanded.push('$');
            rest = after;
            continue;
        }
        match template_reference(rest) {
            Some((name, after)) => {
                if name == "0" {
                    expanded.push_str(matched);
                }
                rest = after;
            }
            None => expanded.push('$'),
        }
    }
    expanded.push_str(rest);
    expanded
}

/// The `name` or `{name}` after a template's `$`, and the text after it; `None` when there is none (the `$` is
/// then literal).
fn template_reference(text: &str) -> Option<(&str, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let name_length = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    if name_length == 0 {
        return None;
    }
    let (name, after) = body.split_at(name_length);
    let after = if braced { after.strip_prefix('}')? } else { after };
    Some((name, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_prefixes() {
        assert_eq!(trim_prefix("*x", "axbxc", false).unwrap(), "bxc");
        assert_eq!(trim_prefix("*x", "axbxc", true).unwrap(), "c");
        assert_eq!(trim_prefix("*x*y", "xxyy", false).unwrap(), "y");
        assert_eq!(trim_prefix("q", "abc", true).unwrap(), "abc");
        assert_eq!(trim_prefix("", "abc", true).unwrap(), "abc");
        assert_eq!(trim_prefix(r"()[]{\}^$.\*\?|\\", r"()[]{}^$.*?|\x", false).unwrap(), "x");
        // `*` stops at a newline.
        assert_eq!(trim_prefix("*", "a\nb", true).unwrap(), "\nb");
    }

    #[test]
    fn trims_suffixes() {
        assert_eq!(trim_suffix("x*", "axbxc", false).unwrap(), "axb");
        assert_eq!(trim_suffix("x*", "axbxc", true).unwrap(), "a");
        assert_eq!(trim_suffix(r"\**", "xx**", true).unwrap(), "xx");
        assert_eq!(trim_suffix(r"\**\*", "a***yy*", true).unwrap(), "a");
        assert_eq!(trim_suffix("x", "xxyy", false).unwrap(), "xxyy");
        assert_eq!(trim_suffix("한*", "가한나한다", false).unwrap(), "가한나");
    }

    #[test]
    fn reverses_patterns_keeping_escapes() {
        assert_eq!(reverse_pattern(r"a\*c"), r"c\*a");
        assert_eq!(reverse_pattern(r"\\\ab"), r"b\a\\");
        assert_eq!(reverse_pattern(r"ab\"), r"\ba");
        assert_eq!(reverse_pattern(r"👽\🚀🖖"), r"🖖\🚀👽");
    }

    #[test]
    fn replaces_first_match_literally() {
        assert_eq!(replace_first(r"\*/", "/foo*/*/*.txt", ".").unwrap(), "/foo.*/*.txt");
        assert_eq!(replace_first("", "xxyy", "ww").unwrap(), "wwxxyy");
        assert_eq!(replace_first("/?/", "/a/foo/b/c.txt", "/").unwrap(), "/foo/b/c.txt");
        assert_eq!(replace_first("o", "foo", "$0$0").unwrap(), "f$0$0o");
    }

    #[test]
    fn replaces_every_match_as_go_does() {
        assert_eq!(replace_all(r"\*/", "/foo*/*/*.txt", ".").unwrap(), "/foo..*.txt");
        assert_eq!(replace_all("/tmp", "/tmp/tmp/bar.txt", "").unwrap(), "/bar.txt");
        assert_eq!(replace_all("/?/", "/a/foo/b/c.txt", "/").unwrap(), "/foo/c.txt");
        assert_eq!(replace_all(r"\/", "/tmp/foo.txt", r"\/").unwrap(), r"\/tmp\/foo.txt");
        // Empty matches: between characters, but not right after a match.
        assert_eq!(replace_all("", "abc", "-").unwrap(), "-a-b-c-");
        assert_eq!(replace_all("*", "abc", "-").unwrap(), "-");
        assert_eq!(replace_all("*", "ab\ncd", "-").unwrap(), "-\n-");
        assert_eq!(replace_all("b*", "abcb", "-").unwrap(), "a-");
    }

    #[test]
    fn expands_go_templates() {
        assert_eq!(expand_template("<$0>", "m"), "<m>");
        assert_eq!(expand_template("<${0}>", "m"), "<m>");
        assert_eq!(expand_template("$$0", "m"), "$0");
        assert_eq!(expand_template("$1$00$x${x}_", "m"), "_");
        assert_eq!(expand_template("$0x", "m"), "");
        assert_eq!(expand_template("$", "m"), "$");
        assert_eq!(expand_template("$-${0", "m"), "$-${0");
        assert_eq!(expand_template("${}a", "m"), "${}a");
        assert_eq!(replace_all("o", "foo", "[$0]").unwrap(), "f[o][o]");
    }
}
