//! BuildKit's own shell-lexer conformance data (`tests/buildkit/shell`, see its README) run through
//! `archway_build::shell`: `envVarTest` through `expand_word`, `wordsTest` through `expand_words`. Every mismatch
//! is reported together. A second test feeds every prefix and suffix of those inputs, and hostile words, through
//! both functions with several lexer setups and only checks that nothing panics.

use std::fmt::Write as _;
use std::path::PathBuf;

use archway_build::shell::{env_from_assignments, Lexer};

/// Cases on Linux in `envVarTest` (`A` and `U` lines) and cases in `wordsTest`.
const ENV_VAR_CASES: usize = 228;
const WORDS_CASES: usize = 24;

fn data(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "buildkit", "shell", name].iter().collect();
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// One case and the line it is on.
struct Case {
    line: usize,
    input: String,
    expected: Vec<String>,
}

/// `PLATFORM|input|expected`, skipping comments, blank lines and Windows-only (`W`) cases.
fn env_var_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (index, line) in data("envVarTest").lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [platform, input, expected] = fields[..] else { panic!("envVarTest line {}: not 3 fields", index + 1) };
        assert!(matches!(platform, "A" | "U" | "W"), "envVarTest line {}: platform {platform:?}", index + 1);
        if platform != "W" {
            cases.push(Case { line: index + 1, input: input.to_owned(), expected: vec![expected.to_owned()] });
        }
    }
    cases
}

/// `input | w1,w2,...` with `ENV name=value` lines (kept verbatim) adding to the environment of later cases.
fn words_cases() -> Vec<(Case, Vec<(String, String)>)> {
    let mut env = Vec::new();
    let mut cases = Vec::new();
    for (index, line) in data("wordsTest").lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(assignment) = line.strip_prefix("ENV ") {
            env.extend(env_from_assignments([assignment.trim_start_matches(' ')]));
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        let [input, expected] = fields[..] else { panic!("wordsTest line {}: not 2 fields", index + 1) };
        let expected = expected.trim_start_matches(' ').split(',').map(str::to_owned).collect();
        cases.push((Case { line: index + 1, input: input.trim().to_owned(), expected }, env.clone()));
    }
    cases
}

fn buildkit_test_env() -> Vec<(String, String)> {
    env_from_assignments(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="])
}

#[test]
fn buildkit_conformance() {
    let lexer = Lexer::new('\\');
    let mut report = String::new();

    let env = buildkit_test_env();
    let env_var_cases = env_var_cases();
    let mut env_var_passed = 0;
    for case in &env_var_cases {
        let got = match lexer.expand_word(&case.input, &env) {
            Ok(expansion) => expansion.word,
            Err(_) => "error".to_owned(),
        };
        if got == case.expected[0] {
            env_var_passed += 1;
        } else {
            let _ = writeln!(
                report,
                "envVarTest line {}: input {:?}: expected {:?}, got {:?}",
                case.line, case.input, case.expected[0], got
            );
        }
    }

    let words_cases = words_cases();
    let mut words_passed = 0;
    for (case, env) in &words_cases {
        let got = lexer.expand_words(&case.input, env).unwrap_or_else(|_| vec!["error".to_owned()]);
        if got == case.expected {
            words_passed += 1;
        } else {
            let _ = writeln!(
                report,
                "wordsTest line {}: input {:?}: expected {:?}, got {:?}",
                case.line, case.input, case.expected, got
            );
        }
    }

    println!("envVarTest: {env_var_passed}/{} passed", env_var_cases.len());
    println!("wordsTest: {words_passed}/{} passed", words_cases.len());
    assert!(report.is_empty(), "mismatches:\n{report}");
    assert_eq!((env_var_cases.len(), words_cases.len()), (ENV_VAR_CASES, WORDS_CASES), "case counts");
}

#[test]
fn no_input_panics() {
    let mut inputs: Vec<String> = env_var_cases().into_iter().map(|case| case.input).collect();
    inputs.extend(words_cases().into_iter().map(|(case, _)| case.input));
    inputs.extend(
        [
            "${",
            "${{",
            "${a",
            "${a:",
            "${a:-",
            "${a/",
            "${a//",
            "${a/b",
            "${a/b/",
            "${a#",
            "${a%%",
            "${a:?",
            "}}}}${${${",
            "\\",
            "`",
            "\"\\",
            "\"`",
            "'",
            "\"",
            "$",
            "$한",
            "한$",
            "${한}",
            "${한:-국}어",
            "$\u{FEFF}",
            "\u{FEFF}",
            "\u{FEFF}$PWD",
            "$\u{10FFFF}",
            "${PWD/\\",
            "${PWD#\\x}",
            "${PWD%\\}",
            "${PWD//*/$0}",
            "${PWD//'$'/$$}",
            "<<",
            "<< \t\r",
            "\0${\0}",
            "${PWD:#}",
            "${#PWD}",
        ]
        .map(str::to_owned),
    );
    let env = buildkit_test_env();
    let lexers = [
        Lexer::new('\\'),
        Lexer::new('`'),
        Lexer::new('\\').raw_quotes(true).raw_escapes(true).skip_unset_env(true),
        Lexer::new('`').skip_process_quotes(true).raw_escapes(true),
    ];
    for input in &inputs {
        let boundaries: Vec<usize> = input.char_indices().map(|(index, _)| index).chain([input.len()]).collect();
        for &boundary in &boundaries {
            for piece in [&input[..boundary], &input[boundary..]] {
                for lexer in &lexers {
                    let _ = lexer.expand_word(piece, &env);
                    let _ = lexer.expand_words(piece, &env);
                }
            }
        }
    }
}
