//! Heredoc words (`<<EOF`, `<<-EOF`, `3<<'EOF'`) in a `RUN`, `COPY` or `ADD` line, as
//! BuildKit finds them: the line is split into shell words with quotes and escapes
//! kept and unset variables left as written, and each word that matches
//! `^(\d*)<<(-?)\s*([^<]*)$` with a single-word name is a heredoc. Its name is that word
//! with quotes removed; any quoting in it turns expansion of the body off.

use crate::shell::Lexer;

/// Heredoc words are split with no variables set.
const NO_ENV: [(&str, &str); 0] = [];

/// One heredoc of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator word, quotes removed.
    pub name: String,
    /// The file descriptor it feeds (`3<<EOF`), 0 when none is written.
    pub descriptor: u64,
    /// Whether variables in the body are expanded (no part of the name was quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body lines and the terminator.
    pub chomp: bool,
    /// The body lines, newlines included, the terminator line excluded.
    pub content: String,
}

impl Heredoc {
    /// The body as the instruction sees it: with `<<-`, leading tabs removed from
    /// every line.
    pub fn effective_content(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content.split_inclusive('\n').map(|line| line.trim_start_matches('\t')).collect()
    }
}

/// The heredocs whose words appear on `line`, bodies still empty.
pub(super) fn words_of(line: &str) -> Result<Vec<Heredoc>, String> {
    let lexer = Lexer::new('\\').raw_quotes(true).raw_escapes(true).skip_unset_env(true);
    // BuildKit ignores a line that does not split (an open quote): no heredocs then.
    let words = lexer.expand_words(line, &NO_ENV).unwrap_or_default();
    let mut heredocs = Vec::new();
    for word in words {
        if let Some(heredoc) = parse_word(&word)? {
            heredocs.push(heredoc);
        }
    }
    Ok(heredocs)
}

/// `word` as a heredoc, `None` if it is not one, an error if its name is badly quoted.
pub fn parse_word(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let Some(rest) = word[digits..].strip_prefix("<<") else { return Ok(None) };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let name = rest.trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
    if name.is_empty() || name.contains('<') {
        return Ok(None);
    }
    let lexer = Lexer::new('\\').skip_unset_env(true);
    let words = lexer.expand_words(name, &NO_ENV).map_err(|e| e.to_string())?;
    let [unquoted] = words.as_slice() else { return Ok(None) };
    let raw = lexer.raw_quotes(true).expand_words(name, &NO_ENV).map_err(|e| e.to_string())?;
    let [raw] = raw.as_slice() else {
        return Err(format!("internal lexing of heredoc produced inconsistent results: {name}"));
    };
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Ok(Some(Heredoc {
        name: unquoted.clone(),
        // BuildKit ignores an overflowing descriptor number's error and keeps the maximum.
        descriptor: word[..digits].parse().unwrap_or(if digits == 0 { 0 } else { u64::MAX }),
        expand: quotes(unquoted) == quotes(raw),
        chomp,
        content: String::new(),
    }))
}
