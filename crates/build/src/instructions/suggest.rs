//! " (did you mean X?)" for a misspelt instruction, flag or key, as BuildKit suggests
//! the closest known name.

/// ` (did you mean PREFIX+NAME?)` for the known name closest to `word` (case-insensitive,
/// at most two edits away, and fewer edits than the word is long), or nothing.
pub(super) fn did_you_mean(word: &str, known: &[&str], prefix: &str) -> String {
    let word = word.to_lowercase();
    let best = known
        .iter()
        .map(|name| (edit_distance(&word, &name.to_lowercase()), *name))
        .filter(|&(distance, _)| distance <= 2 && distance < word.chars().count())
        .min_by_key(|&(distance, _)| distance);
    match best {
        Some((_, name)) => format!(" (did you mean {prefix}{name}?)"),
        None => String::new(),
    }
}

/// The Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        assert_eq!(edit_distance("copy", "cpoy"), 2);
        assert_eq!(did_you_mean("COPPY", &["copy", "cmd"], ""), " (did you mean copy?)");
        assert_eq!(did_you_mean("frobnicate", &["copy"], ""), "");
        assert_eq!(did_you_mean("x", &["y"], ""), "");
    }
}
