//! What the golden tests share: comparing generated text with its file in
//! `tests/golden/`, or rewriting the file under `UPDATE_GOLDEN=1`.

use std::path::PathBuf;

/// Compare `text` with `tests/golden/FILE` (rewrite the file under `UPDATE_GOLDEN`);
/// panic at the first differing line.
pub fn check_golden(file: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want != text {
        let first = want.lines().zip(text.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{} differs from the generated code (first difference at line {}):\n  want: {:?}\n  got:  {:?}\n\
             rerun with UPDATE_GOLDEN=1 to accept the new code",
            path.display(),
            first + 1,
            want.lines().nth(first),
            text.lines().nth(first)
        );
    }
}
