//! Tests of the walk through the public API: quotes, both escape tokens, names, every operator, the options,
//! splitting, the variables noted, and BuildKit's quirks.

use crate::shell::{env_from_assignments, Expansion, Lexer, ShellErrorKind};

fn env() -> Vec<(String, String)> {
    env_from_assignments(["PWD=/home", "EMPTY=", "SPACED= a  b ", "FILE=dir/name.tar.gz", "STAR=*"])
}

fn word_with(lexer: Lexer, word: &str) -> Result<String, ShellErrorKind> {
    lexer.expand_word(word, &env()).map(|expansion| expansion.word).map_err(|error| error.kind().clone())
}

fn word(word: &str) -> String {
    word_with(Lexer::new('\\'), word).unwrap_or_else(|error| panic!("{word:?}: {error}"))
}

fn error(word: &str) -> ShellErrorKind {
    word_with(Lexer::new('\\'), word).expect_err(word)
}

fn words_with(lexer: Lexer, word: &str) -> Vec<String> {
    lexer.expand_words(word, &env()).unwrap_or_else(|error| panic!("{word:?}: {error}"))
}

fn words(word: &str) -> Vec<String> {
    words_with(Lexer::new('\\'), word)
}

#[test]
fn quotes() {
    assert_eq!(word(r#"'a $PWD \" b'"#), r#"a $PWD \" b"#);
    assert_eq!(word(r#""a $PWD \" \$ \\ \x b""#), r#"a /home " $ \ \x b"#);
    assert_eq!(word(r#"x"'"'"'y"#), r#"x'"y"#);
    assert_eq!(error("'abc"), ShellErrorKind::UnterminatedQuote { quote: '\'' });
    assert_eq!(error(r#""abc\""#), ShellErrorKind::UnterminatedQuote { quote: '"' });
    assert_eq!(word_with(Lexer::new('\\').raw_quotes(true), r#"'a'"$PWD""#).unwrap(), r#"'a'"/home""#);
    assert_eq!(word_with(Lexer::new('\\').skip_process_quotes(true), r#"'$PWD' "b"#).unwrap(), r#"'/home' "b"#);
}

#[test]
fn escapes() {
    assert_eq!(word(r"a\ b\$PWD\\\'"), r"a b$PWD\'");
    assert_eq!(word(r"trailing\"), "trailing");
    let raw = Lexer::new('\\').raw_escapes(true);
    assert_eq!(word_with(raw, r"a\ b\$PWD").unwrap(), r"a\ b\$PWD");
    // Inside double quotes, raw escapes double an escape before an ordinary character.
    assert_eq!(word_with(raw, r#""\x\$""#).unwrap(), r#"\\x\$"#);
    // The word of `-` drops escapes even with raw escapes; a pattern keeps them.
    assert_eq!(word_with(raw, r"${NO:-\a}").unwrap(), "a");
    assert_eq!(word(r"${STAR#\*}"), "");
}

#[test]
fn backtick_escape_token() {
    let lexer = Lexer::new('`');
    assert_eq!(word_with(lexer, r"C:\path` with` space`$PWD").unwrap(), r"C:\path with space$PWD");
    assert_eq!(word_with(lexer, r#""`"`$PWD``\n""#).unwrap(), r#""$PWD`\n"#);
    assert_eq!(word_with(lexer, "a`").unwrap(), "a");
    assert_eq!(words_with(lexer, "a` b c"), ["a b", "c"]);
    // Patterns keep their own `\` escapes; the backtick is a literal there.
    assert_eq!(word_with(lexer, r"${STAR#\*}").unwrap(), "");
    assert_eq!(word_with(lexer, "${FILE#`*}").unwrap(), "dir/name.tar.gz");
}

#[test]
fn names() {
    assert_eq!(word("$PWD.x ${PWD}x $PWDx"), "/home.x /homex ");
    assert_eq!(word("$ $. a$"), "$ $. a$");
    assert_eq!(word("$1x $10x $@x $$x ${#}x"), "x x x x x");
    assert_eq!(error("${}"), ShellErrorKind::BadSubstitution);
    assert_eq!(error("${:-a}"), ShellErrorKind::BadSubstitution);
    assert_eq!(error("${{a}"), ShellErrorKind::BadSubstitution);
    assert_eq!(error("${PWD"), ShellErrorKind::MissingDelimiter { delimiter: '}' });
    assert_eq!(error("${"), ShellErrorKind::MissingDelimiter { delimiter: '}' });
    assert_eq!(error("${P.}"), ShellErrorKind::UnsupportedModifier { modifier: ".".into() });
    // `${#name}` is not a length: `#` is a special parameter, then `P` is no operator.
    assert_eq!(error("${#PWD}"), ShellErrorKind::UnsupportedModifier { modifier: "P".into() });
}

#[test]
fn default_and_alternative() {
    assert_eq!(word("${NO-a}|${EMPTY-a}|${PWD-a}"), "a||/home");
    assert_eq!(word("${NO:-a}|${EMPTY:-a}|${PWD:-a}"), "a|a|/home");
    assert_eq!(word("${NO+a}|${EMPTY+a}|${PWD+a}"), "|a|a");
    assert_eq!(word("${NO:+a}|${EMPTY:+a}|${PWD:+a}"), "||a");
    assert_eq!(word("${NO:-'}' \"$PWD\" ${NO2:-x}}"), "} /home x");
    assert_eq!(error("${PWD:=a}"), ShellErrorKind::UnsupportedModifier { modifier: ":=".into() });
    assert_eq!(error("${PWD=a}"), ShellErrorKind::UnsupportedModifier { modifier: "=".into() });
    assert_eq!(error("${NO:-a"), ShellErrorKind::MissingDelimiter { delimiter: '}' });
    assert_eq!(error("${NO:-'a}"), ShellErrorKind::MissingDelimiter { delimiter: '}' });
}

#[test]
fn required() {
    assert_eq!(word("${PWD?x}${EMPTY?x}${PWD:?x}"), "/home/home");
    let required = |name: &str, message: &str| ShellErrorKind::Required { name: name.into(), message: message.into() };
    assert_eq!(error("${NO?}"), required("NO", "is not allowed to be unset"));
    assert_eq!(error("${NO:?}"), required("NO", "is not allowed to be unset"));
    assert_eq!(error("${EMPTY:?}"), required("EMPTY", "is not allowed to be empty"));
    assert_eq!(error("${EMPTY:?set it $PWD}"), required("EMPTY", "set it /home"));
    assert_eq!(required("A", "m").to_string(), "A: m");
}

#[test]
fn trims() {
    assert_eq!(word("${FILE#*.}|${FILE##*.}|${FILE%.*}|${FILE%%.*}"), "tar.gz|gz|dir/name.tar|dir/name");
    assert_eq!(
        word("${FILE#dir/}|${FILE%.gz}|${FILE#nope}|${NO#*}|${FILE#}"),
        "name.tar.gz|dir/name.tar|dir/name.tar.gz||dir/name.tar.gz"
    );
    assert_eq!(word("${FILE#'*'.}"), "tar.gz");
    assert_eq!(error("${FILE:#x}"), ShellErrorKind::UnsupportedModifier { modifier: ":#".into() });
    assert_eq!(error("${FILE:%%x}"), ShellErrorKind::UnsupportedModifier { modifier: ":%".into() });
    assert!(matches!(error(r"${FILE#\x}"), ShellErrorKind::InvalidPattern { .. }));
}

#[test]
fn replacements() {
    assert_eq!(word("${FILE/./-}|${FILE//./-}|${FILE/*/x}|${NO/a/b}"), "dir/name-tar.gz|dir/name-tar-gz|x|");
    assert_eq!(word(r"${FILE//\//\\}"), r"dir\\name.tar.gz");
    assert_eq!(word("${FILE//a/'[$0]'}|${FILE/a/'[$0]'}"), "dir/n[a]me.t[a]r.gz|dir/n[$0]me.tar.gz");
    assert_eq!(error("${FILE//a}"), ShellErrorKind::MissingDelimiter { delimiter: '/' });
    assert_eq!(word("${FILE//a/}}"), "dir/nme.tr.gz}");
    assert_eq!(error("${FILE/a/b"), ShellErrorKind::MissingDelimiter { delimiter: '}' });
}

#[test]
fn skip_unset_env_keeps_references() {
    let lexer = Lexer::new('\\').skip_unset_env(true);
    let cases = [
        ("$NO ${NO} $PWD", "$NO ${NO} /home"),
        ("${NO:-$PWD} ${NO#x} ${NO:x}", "${NO:-/home} ${NO#x} ${NO:x}"),
        ("${NO//a/b}", "${NO/a/b}"),
        ("$$ $1", "$$ $1"),
    ];
    for (input, expected) in cases {
        assert_eq!(word_with(lexer, input).unwrap(), expected, "{input}");
    }
}

#[test]
fn splitting() {
    assert_eq!(words("  a  b\t$SPACED\"$SPACED\" ''  \"\" c"), ["a", "b", "a", "b", " a  b ", "c"]);
    assert_eq!(words(r"a\ b 'c d'e"), ["a b", "c de"]);
    assert_eq!(words("cat <<  EOF <x"), ["cat", "<<  EOF", "<x"]);
    assert!(words("  ").is_empty());
    // BuildKit loses the current word before a `${name<op>...}` expansion, also inside quotes.
    assert_eq!(words("x a${NO:-b}c"), ["x", "bc"]);
    assert_eq!(words("a\"${NO:-b}\"c a${PWD}"), ["bc", "a/home"]);
    assert_eq!(word("a${NO:-b}c"), "abc");
}

#[test]
fn matched_and_unmatched() {
    let expansion = Lexer::new('\\').expand_word("${PWD} ${EMPTY:-x} ${NO} ${NO2:-$PWD} $1 ${NO3#$FILE}", &env());
    let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect();
    let expected = Expansion {
        word: "/home x  /home  ".into(),
        matched: names(&["EMPTY", "FILE", "PWD"]),
        unmatched: names(&["1", "NO", "NO2", "NO3"]),
    };
    assert_eq!(expansion.unwrap(), expected);
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    assert_eq!(word("\u{FEFF}$PWD\u{FEFF}"), "/home\u{FEFF}");
}
