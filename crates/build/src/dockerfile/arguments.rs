//! One logical line split into keyword, `--flags` and arguments, each keyword's
//! arguments split its own way, as BuildKit's `splitCommand`, `extractBuilderFlags` and
//! line parsers (`line_parsers.go`) split them. Quotes and escapes inside arguments are
//! kept: removing them is word expansion's job, later, per instruction.

use super::Instruction;

/// An instruction's arguments, in the form its keyword gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arguments {
    /// Nothing after the keyword (and its flags).
    None,
    /// A keyword the parser does not know: its arguments are not kept.
    Unknown,
    /// One string: the shell form of `RUN`, `CMD`, `ENTRYPOINT` and `SHELL`, and the
    /// argument of `USER`, `WORKDIR`, `STOPSIGNAL` and `MAINTAINER`.
    Text(String),
    /// Words: split at spaces and tabs (`FROM`, `EXPOSE`, and `COPY`, `ADD`, `VOLUME`
    /// outside JSON form), or shell-like words with their quotes (`ARG`).
    Words(Vec<String>),
    /// The JSON array form (`["sh", "-c", "x"]`).
    Json(Vec<String>),
    /// `ENV` and `LABEL`.
    Pairs(Vec<KeyValue>),
    /// `HEALTHCHECK`: its type word (`CMD`, `NONE`) and the command after it.
    Health { kind: String, command: Box<Arguments> },
    /// `ONBUILD`: the instruction it holds.
    Nested(Box<Instruction>),
}

impl Arguments {
    /// Whether the arguments are in JSON form (a `HEALTHCHECK`'s if its command is).
    pub fn is_json(&self) -> bool {
        match self {
            Arguments::Json(_) => true,
            Arguments::Health { command, .. } => command.is_json(),
            _ => false,
        }
    }
}

/// One `KEY=VALUE` of `ENV` or `LABEL`, quotes and escapes still in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    /// Written the old way, `ENV KEY VALUE`: one pair, the value the rest of the line.
    pub legacy: bool,
}

/// How a keyword's arguments are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// JSON array, else the text as it is ([`Arguments::Text`]).
    JsonOrText,
    /// JSON array, else words split at white space.
    JsonOrWords,
    /// Words split at white space.
    Whitespace,
    /// The text as it is.
    Text,
    /// `KEY=VALUE ...`, or the legacy `KEY VALUE`.
    Pairs,
    /// Shell-like words, quotes kept (`ARG name=value other`).
    ShellWords,
    /// A type word, then JSON or text.
    Health,
    /// Another instruction.
    Nested,
}

/// The keywords BuildKit's parser knows and how each splits its arguments.
const KEYWORDS: [(&str, Form); 18] = [
    ("add", Form::JsonOrWords),
    ("arg", Form::ShellWords),
    ("cmd", Form::JsonOrText),
    ("copy", Form::JsonOrWords),
    ("entrypoint", Form::JsonOrText),
    ("env", Form::Pairs),
    ("expose", Form::Whitespace),
    ("from", Form::Whitespace),
    ("healthcheck", Form::Health),
    ("label", Form::Pairs),
    ("maintainer", Form::Text),
    ("onbuild", Form::Nested),
    ("run", Form::JsonOrText),
    ("shell", Form::JsonOrText),
    ("stopsignal", Form::Text),
    ("user", Form::Text),
    ("volume", Form::JsonOrWords),
    ("workdir", Form::Text),
];

/// The white space BuildKit splits words at (`[\t\v\f\r ]+`).
fn is_separator(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Parse one logical line into an instruction (lines, heredocs and comments left empty).
pub(super) fn instruction(line: &str, escape: char) -> Result<Instruction, String> {
    let trimmed = line.trim();
    let (keyword, rest) = match trimmed.find(is_separator) {
        Some(at) => (&trimmed[..at], trimmed[at..].trim_start_matches(is_separator)),
        None => (trimmed, ""),
    };
    let (rest, flags) = if rest.is_empty() { ("", Vec::new()) } else { builder_flags(rest, escape) };
    let rest = rest.trim();
    let lower = keyword.to_lowercase();
    let form = KEYWORDS.iter().find(|(name, _)| *name == lower).map(|&(_, form)| form);
    let arguments = match form {
        None => Arguments::Unknown,
        Some(form) => arguments(form, rest, keyword, escape)?,
    };
    Ok(Instruction {
        keyword: keyword.to_owned(),
        flags,
        arguments,
        original: line.to_owned(),
        heredocs: Vec::new(),
        comments: Vec::new(),
        lines: (0, 0),
    })
}

/// Split `rest` (trimmed) the way `form` says.
fn arguments(form: Form, rest: &str, keyword: &str, escape: char) -> Result<Arguments, String> {
    if rest.is_empty() {
        return Ok(Arguments::None);
    }
    Ok(match form {
        Form::JsonOrText => json(rest)?.unwrap_or_else(|| Arguments::Text(rest.to_owned())),
        Form::JsonOrWords => json(rest)?.unwrap_or_else(|| whitespace_words(rest)),
        Form::Whitespace => whitespace_words(rest),
        Form::Text => Arguments::Text(rest.to_owned()),
        Form::Pairs => pairs(rest, &keyword.to_uppercase(), escape)?,
        Form::ShellWords => Arguments::Words(shell_words(rest, escape)),
        Form::Health => {
            let kind_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let command = arguments(Form::JsonOrText, rest[kind_end..].trim_start(), keyword, escape)?;
            Arguments::Health { kind: rest[..kind_end].to_owned(), command: Box::new(command) }
        }
        Form::Nested => Arguments::Nested(Box::new(instruction(rest, escape)?)),
    })
}

/// `rest` split at runs of spaces and tabs; nothing if it is empty.
fn whitespace_words(rest: &str) -> Arguments {
    if rest.is_empty() {
        return Arguments::None;
    }
    Arguments::Words(rest.split(is_separator).filter(|w| !w.is_empty()).map(str::to_owned).collect())
}

/// The JSON array form: `Ok(None)` if `rest` is not a JSON array (the other form
/// applies), an error if it is one with something other than strings in it.
fn json(rest: &str) -> Result<Option<Arguments>, String> {
    if !rest.trim_start().starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(rest) else { return Ok(None) };
    let strings = values.into_iter().map(|value| match value {
        serde_json::Value::String(s) => Ok(s),
        _ => Err("when using JSON array syntax, arrays must be comprised of strings only".to_owned()),
    });
    Ok(Some(Arguments::Json(strings.collect::<Result<_, _>>()?)))
}

/// `ENV`/`LABEL` pairs: `KEY=VALUE ...` (each word must have a `=`), or, when the first
/// word has none, the legacy `KEY VALUE` with the rest of the line as the value.
fn pairs(rest: &str, keyword: &str, escape: char) -> Result<Arguments, String> {
    let words = shell_words(rest, escape);
    let Some(first) = words.first() else { return Ok(Arguments::None) };
    if !first.contains('=') {
        let Some(at) = rest.find(is_separator) else { return Err(format!("{keyword} must have two arguments")) };
        let value = rest[at..].trim_start_matches(is_separator);
        return Ok(Arguments::Pairs(vec![KeyValue {
            key: rest[..at].to_owned(),
            value: value.to_owned(),
            legacy: true,
        }]));
    }
    let pairs = words.into_iter().map(|word| match word.split_once('=') {
        Some((key, value)) => Ok(KeyValue { key: key.to_owned(), value: value.to_owned(), legacy: false }),
        None => Err(format!(
            "Syntax error - can't find = in {}. Must be of the form: name=value",
            super::dump::go_quote(&word)
        )),
    });
    Ok(Arguments::Pairs(pairs.collect::<Result<_, _>>()?))
}

/// Where a word scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    BetweenWords,
    InWord,
    InQuote(char),
}

/// Shell-like words with their quotes and escapes kept (BuildKit's `parseWords`): white
/// space outside quotes separates words; inside double quotes the escape token keeps
/// the next character; inside single quotes nothing is special but the closing quote;
/// an escape token at the very end is dropped; `""` is a word of its own.
fn shell_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut phase = Phase::BetweenWords;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match phase {
            Phase::BetweenWords if c.is_whitespace() => continue,
            Phase::BetweenWords | Phase::InWord if c.is_whitespace() => {
                if quoted || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                quoted = false;
                phase = Phase::BetweenWords;
                continue;
            }
            Phase::BetweenWords | Phase::InWord => {
                phase = Phase::InWord;
                if c == '\'' || c == '"' {
                    quoted = true;
                    phase = Phase::InQuote(c);
                } else if c == escape {
                    let Some(next) = chars.next() else { break };
                    word.push(c);
                    word.push(next);
                    continue;
                }
            }
            Phase::InQuote(quote) => {
                if c == quote {
                    phase = Phase::InWord;
                } else if c == escape && quote != '\'' {
                    let Some(next) = chars.next() else {
                        phase = Phase::InWord;
                        break;
                    };
                    word.push(c);
                    word.push(next);
                    continue;
                }
            }
        }
        word.push(c);
    }
    if phase != Phase::BetweenWords && (quoted || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// The `--name[=value]` words at the start of `line` (quotes and escapes removed; a
/// lone `--` ends them and is dropped) and the rest of the line (BuildKit's
/// `extractBuilderFlags`).
fn builder_flags(line: &str, escape: char) -> (&str, Vec<String>) {
    let mut flags = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut phase = Phase::BetweenWords;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match phase {
            Phase::BetweenWords if c.is_whitespace() => {}
            Phase::BetweenWords => {
                if !(c == '-' && chars.peek().is_some_and(|&(_, next)| next == '-')) {
                    return (&line[at..], flags);
                }
                phase = Phase::InWord;
                word.push(c);
            }
            Phase::InWord if c.is_whitespace() => {
                if word == "--" {
                    return (&line[at..], flags);
                }
                if quoted || !word.is_empty() {
                    flags.push(std::mem::take(&mut word));
                }
                quoted = false;
                phase = Phase::BetweenWords;
            }
            Phase::InWord if c == '\'' || c == '"' => {
                quoted = true;
                phase = Phase::InQuote(c);
            }
            Phase::InWord | Phase::InQuote(_) => {
                if phase == Phase::InQuote(c) {
                    phase = Phase::InWord;
                    continue;
                }
                if c == escape {
                    match chars.next() {
                        Some((_, next)) => word.push(next),
                        None if phase == Phase::InWord => {}
                        None => phase = Phase::InWord,
                    }
                    continue;
                }
                word.push(c);
            }
        }
    }
    if phase != Phase::BetweenWords && word != "--" && (quoted || !word.is_empty()) {
        flags.push(word);
    }
    ("", flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(shell_words(r#"abc="123 456" def"#, '\\'), [r#"abc="123 456""#, "def"]);
        assert_eq!(shell_words(r#"a\ b 'c\' d"#, '\\'), [r"a\ b", r"'c\'", "d"]);
        assert_eq!(shell_words(r#""" x\"#, '\\'), [r#""""#, "x"]);
        assert_eq!(shell_words("a `\"b", '`'), ["a", "`\"b"]);
    }

    #[test]
    fn flags_before_the_arguments() {
        assert_eq!(
            builder_flags("--from=a --chown='x y' src dst", '\\'),
            ("src dst", vec!["--from=a".into(), "--chown=x y".into()])
        );
        assert_eq!(builder_flags("--a -- --b c", '\\'), (" --b c", vec!["--a".to_owned()]));
        assert_eq!(builder_flags("-x", '\\'), ("-x", vec![]));
        assert_eq!(builder_flags("--a=\"b\\\"c\"", '\\'), ("", vec!["--a=b\"c".to_owned()]));
        assert_eq!(builder_flags("--a=b\\", '\\'), ("", vec!["--a=b".to_owned()]));
    }

    #[test]
    fn json_only_of_strings() {
        assert_eq!(json(r#"[ "a", "b" ]"#), Ok(Some(Arguments::Json(vec!["a".into(), "b".into()]))));
        assert_eq!(json(r#"["a"] x"#), Ok(None));
        assert!(json(r#"["a", 1]"#).is_err());
        assert_eq!(json("echo [x]"), Ok(None));
    }

    #[test]
    fn legacy_and_new_pairs() {
        let Ok(Arguments::Pairs(p)) = pairs("A b c", "ENV", '\\') else { panic!() };
        assert_eq!((p[0].key.as_str(), p[0].value.as_str(), p[0].legacy), ("A", "b c", true));
        assert_eq!(pairs("A", "ENV", '\\'), Err("ENV must have two arguments".into()));
        assert!(pairs("A=1 B", "LABEL", '\\').unwrap_err().contains(r#"can't find = in "B""#));
    }
}
