//! The Dockerfile parser: text to a list of [`Instruction`]s, agreeing with BuildKit's
//! parser (`frontend/dockerfile/parser`) on what it accepts, rejects and how it splits
//! each instruction's arguments, so that [`Dockerfile::dump`] prints BuildKit's AST dump.
//!
//! How a file is read:
//! - [`lines`]: physical lines (their `\n` kept), a UTF-8 byte-order mark dropped from
//!   the first, parser directives at the top (`# syntax=`, `# escape=`, `# check=`; any
//!   other comment, blank line or instruction ends them), comments, and line
//!   continuations with the escape token (`\` or `` ` ``), where comment lines and empty
//!   lines inside a continued instruction are skipped (the latter with a warning).
//! - [`arguments`]: one logical line split into the keyword, its `--flags` and its
//!   arguments, which each keyword splits its own way (JSON or shell form,
//!   whitespace-separated words, `KEY=VALUE` pairs, a nested instruction for `ONBUILD`).
//!   A keyword the parser does not know parses with its arguments dropped, as BuildKit
//!   does; refusing it is the builder's job.
//! - [`heredoc`]: `<<EOF` words of `RUN`, `COPY` and `ADD` and the bodies that follow.
//! - [`dump`]: the AST dump, strings quoted as Go's `strconv.Quote` quotes them.
//!
//! Where BuildKit's parser reads bytes and archway reads characters the results differ
//! only for text that is not UTF-8 (refused here, with its line) and for non-ASCII
//! characters inside `--flag` values and after `HEALTHCHECK`, which BuildKit's
//! byte-wise scanners mangle and archway keeps whole. Two more differences: a JSON
//! array with a lone UTF-16 surrogate escape (`"\ud800"`), which Go decodes as U+FFFD
//! and serde_json refuses, is read in shell form here; BuildKit's 64 KiB limit on a
//! physical line is not imposed.

mod arguments;
mod dump;
mod heredoc;
mod lines;

pub use arguments::{Arguments, KeyValue};
pub(crate) use dump::go_quote;
pub use heredoc::{parse_word as parse_heredoc_word, Heredoc};

use std::fmt;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The instructions in order.
    pub instructions: Vec<Instruction>,
    /// The parser directives found at the top, in order.
    pub directives: Vec<Directive>,
    /// The escape token in force (`\` unless `# escape=` set `` ` ``).
    pub escape: char,
    /// Things BuildKit accepts but warns about.
    pub warnings: Vec<Warning>,
}

/// One instruction: a logical line (continuations joined) and the heredoc bodies after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword as written (`RUN`, `run`, or an unknown word).
    pub keyword: String,
    /// The `--name[=value]` words before the arguments, quotes and escapes removed.
    pub flags: Vec<String>,
    /// The arguments, split as this keyword splits them.
    pub arguments: Arguments,
    /// The whole logical line, continuations joined, as the arguments were split from.
    pub original: String,
    /// Heredocs (`RUN <<EOF`), in the order their words appear.
    pub heredocs: Vec<Heredoc>,
    /// The comment lines right before the instruction, `#` and spaces removed.
    pub comments: Vec<String>,
    /// The first and last line (1-based) the instruction and its heredocs occupy.
    pub lines: (usize, usize),
}

impl Instruction {
    /// The keyword in lower case, as instructions are matched.
    pub fn name(&self) -> String {
        self.keyword.to_lowercase()
    }
}

/// A parser directive (`# escape=\``).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// `syntax`, `escape` or `check` (lower case).
    pub name: String,
    /// The value, spaces around it removed.
    pub value: String,
    /// Its line (1-based).
    pub line: usize,
}

/// Something BuildKit accepts but warns about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The line (1-based) the warning is about.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Why a Dockerfile does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line (1-based) of the instruction or directive at fault.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    fn new(line: usize, message: impl Into<String>) -> ParseError {
        ParseError { line, message: message.into() }
    }

    /// `FILE:LINE: message`, as BuildKit names the place of an error.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.message)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse a Dockerfile's bytes. Text that is not UTF-8 is refused with the line it is on.
pub fn parse_bytes(bytes: &[u8]) -> Result<Dockerfile, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(ParseError::new(line, "the Dockerfile is not UTF-8 text"))
        }
    }
}

/// Parse a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let mut reader = lines::Reader::new(text);
    let mut instructions = Vec::new();
    while let Some(logical) = reader.next_instruction()? {
        let mut instruction = arguments::instruction(&logical.text, reader.escape())
            .map_err(|message| ParseError::new(logical.first_line, message))?;
        instruction.comments = logical.comments;
        if instruction.may_have_heredocs() && logical.text.contains("<<") {
            for mut heredoc in heredoc::words_of(&logical.text).map_err(|m| ParseError::new(logical.first_line, m))? {
                heredoc.content = reader
                    .heredoc_body(&heredoc)
                    .ok_or_else(|| ParseError::new(logical.first_line, "unterminated heredoc"))?;
                instruction.heredocs.push(heredoc);
            }
        }
        instruction.lines = (logical.first_line, reader.line());
        instructions.push(instruction);
    }
    if instructions.is_empty() {
        return Err(ParseError::new(reader.line().max(1), "file with no instructions"));
    }
    let (directives, escape, warnings) = reader.finish();
    Ok(Dockerfile { instructions, directives, escape, warnings })
}

impl Instruction {
    /// Whether heredocs are read after this instruction: `RUN`, `COPY` and `ADD` in shell
    /// form, also under `ONBUILD`.
    fn may_have_heredocs(&self) -> bool {
        let instruction = match &self.arguments {
            Arguments::Nested(inner) if self.name() == "onbuild" => inner,
            _ => self,
        };
        matches!(instruction.name().as_str(), "run" | "copy" | "add") && !instruction.arguments.is_json()
    }
}
