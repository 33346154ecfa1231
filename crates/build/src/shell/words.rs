//! Word splitting as BuildKit's `ProcessWords` does it, while the word is walked: unquoted text (literal or from a
//! `$` expansion) splits at whitespace; quoted text, escaped characters and heredoc markers stay whole inside the
//! current word. An empty quoted string (`""`) makes no word of its own.
//!
//! BuildKit keeps the word being built in one buffer shared by the whole walk, and the walk of the word inside
//! `${var<op>word}` (every operator, also inside double quotes) empties that buffer: the unquoted or quoted text
//! just before such an expansion, back to the last split, is lost (`a${X:-b}` splits to `b`). The walker keeps the
//! same shared partial word, so the same happens here.

/// The words finished so far by one walk; the partial word is owned by the walker (see the module doc).
#[derive(Debug, Default)]
pub(super) struct Words {
    finished: Vec<String>,
}

impl Words {
    /// Adds text that splits at whitespace (Go's `unicode.IsSpace`, the same set as `char::is_whitespace`).
    pub(super) fn add_splitting(&mut self, partial: &mut String, text: impl IntoIterator<Item = char>) {
        for c in text {
            if !c.is_whitespace() {
                partial.push(c);
            } else if !partial.is_empty() {
                self.finished.push(std::mem::take(partial));
            }
        }
    }

    /// Ends the walk: the partial word, if any, is the last word.
    pub(super) fn finish(mut self, partial: &mut String) -> Vec<String> {
        if !partial.is_empty() {
            self.finished.push(std::mem::take(partial));
        }
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_any_whitespace_and_drops_empty_words() {
        let mut partial = String::new();
        let mut words = Words::default();
        words.add_splitting(&mut partial, "  a b\t\nc\u{3000}d  ".chars());
        partial.push_str(" kept whole ");
        words.add_splitting(&mut partial, "e ".chars());
        assert_eq!(words.finish(&mut partial), ["a", "b", "c", "d", " kept whole e"]);
        assert!(partial.is_empty());
    }
}
