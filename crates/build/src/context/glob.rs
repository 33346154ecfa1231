//! Go's `filepath.Match` for one path component: `*` (any run of characters), `?` (one
//! character), `[class]` with ranges and `^` negation, `\` escaping the next character.
//! `COPY` sources match their wildcards component by component with it.

/// Whether `name` matches `pattern`; an error for a malformed pattern.
pub fn matches(pattern: &str, name: &str) -> Result<bool, String> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    validate(&pattern)?;
    Ok(match_from(&pattern, &name))
}

/// Whether `word` has a wildcard that `matches` would interpret.
pub fn has_wildcards(word: &str) -> bool {
    word.contains(['*', '?', '['])
}

fn match_from(pattern: &[char], name: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| match_from(&pattern[1..], &name[skip..])),
        Some(_) if name.is_empty() => false,
        Some('?') => match_from(&pattern[1..], &name[1..]),
        Some('[') => match class(&pattern[1..], name[0]) {
            Some((true, rest)) => match_from(rest, &name[1..]),
            _ => false,
        },
        Some('\\') if pattern.len() > 1 => pattern[1] == name[0] && match_from(&pattern[2..], &name[1..]),
        Some(&c) => c == name[0] && match_from(&pattern[1..], &name[1..]),
    }
}

/// Match `c` against the class starting after `[`: whether it matched, and the pattern
/// after the closing `]`.
fn class(pattern: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut rest) = match pattern.first() {
        Some('^') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match rest.first()? {
            ']' if !first => return Some((matched != negated, &rest[1..])),
            _ => {
                let (low, after) = class_char(rest)?;
                let (high, after) = match after.first() {
                    Some('-') if after.get(1) != Some(&']') => class_char(&after[1..])?,
                    _ => (low, after),
                };
                matched |= low <= c && c <= high;
                rest = after;
            }
        }
        first = false;
    }
}

/// One character of a class, `\` escaping.
fn class_char(pattern: &[char]) -> Option<(char, &[char])> {
    match pattern {
        ['\\', c, rest @ ..] => Some((*c, rest)),
        ['\\'] | [] => None,
        [c, rest @ ..] => Some((*c, rest)),
    }
}

/// Go reports a malformed pattern even when the name does not match: an unclosed or
/// empty class, or a trailing `\`.
fn validate(pattern: &[char]) -> Result<(), String> {
    let mut rest = pattern;
    while let Some(&c) = rest.first() {
        rest = match c {
            '\\' if rest.len() == 1 => return Err("syntax error in pattern".to_owned()),
            '\\' => &rest[2..],
            '[' => match class(&rest[1..], '\0') {
                Some((_, after)) => after,
                None => return Err("syntax error in pattern".to_owned()),
            },
            _ => &rest[1..],
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match() {
        let yes = |p, n| assert_eq!(matches(p, n), Ok(true), "{p} {n}");
        let no = |p, n| assert_eq!(matches(p, n), Ok(false), "{p} {n}");
        yes("*.go", "main.go");
        no("*.go", "main.rs");
        yes("a?c", "abc");
        yes("[a-c]x", "bx");
        no("[^a-c]x", "bx");
        yes("[^a-c]x", "dx");
        yes("\\*", "*");
        no("\\*", "a");
        yes("*", "");
        yes("a*b*c", "aXbYc");
        assert!(matches("[", "a").is_err());
        assert!(matches("[]", "a").is_err());
        assert!(matches("a\\", "a").is_err());
        assert!(has_wildcards("*.txt") && !has_wildcards("plain"));
    }
}
