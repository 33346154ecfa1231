//! BuildKit's AST dump (`Node.Dump`), which its parser tests compare and `archway build
//! --print-ast` prints: one line per instruction, `(keyword ["--flag" ...] "arg" ...)`,
//! the keyword in lower case, every string quoted as Go's `strconv.Quote` quotes it,
//! `ENV`/`LABEL` pairs as `"KEY" "VALUE" "="` (`""` for the legacy form), `ONBUILD`'s
//! instruction nested in parentheses.

use super::{Arguments, Dockerfile, Instruction};
use unicode_general_category::{get_general_category, GeneralCategory};

impl Dockerfile {
    /// The dump of every instruction, each on its own line ending in `\n`.
    pub fn dump(&self) -> String {
        self.instructions.iter().map(|instruction| format!("({})\n", instruction.dump())).collect()
    }
}

impl Instruction {
    /// This instruction's dump, without the parentheses around it.
    pub fn dump(&self) -> String {
        let mut out = self.keyword.to_lowercase();
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|flag| go_quote(flag)).collect();
            out.push_str(&format!(" [{}]", flags.join(" ")));
        }
        dump_arguments(&self.arguments, &mut out);
        out.trim().to_owned()
    }
}

/// Append ` "arg"` for each argument.
fn dump_arguments(arguments: &Arguments, out: &mut String) {
    let mut quoted = |s: &str| {
        out.push(' ');
        out.push_str(&go_quote(s));
    };
    match arguments {
        Arguments::None => {}
        Arguments::Unknown => quoted(""),
        Arguments::Text(text) => quoted(text),
        Arguments::Words(words) | Arguments::Json(words) => words.iter().for_each(|w| quoted(w)),
        Arguments::Pairs(pairs) => {
            for pair in pairs {
                quoted(&pair.key);
                quoted(&pair.value);
                quoted(if pair.legacy { "" } else { "=" });
            }
        }
        Arguments::Health { kind, command } => {
            quoted(kind);
            dump_arguments(command, out);
        }
        Arguments::Nested(instruction) => {
            out.push_str(&format!(" ({})", instruction.dump()));
        }
    }
}

/// `s` in double quotes as Go's `strconv.Quote` writes it: printable characters as they
/// are, `\a \b \f \n \r \t \v`, `\xNN` for other ASCII controls, `\uNNNN` and
/// `\UNNNNNNNN` for other characters that are not printable.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ if is_go_printable(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            _ if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII
/// space.
fn is_go_printable(c: char) -> bool {
    use GeneralCategory::*;
    c == ' '
        || !matches!(
            get_general_category(c),
            SpaceSeparator
                | LineSeparator
                | ParagraphSeparator
                | Control
                | Format
                | Surrogate
                | PrivateUse
                | Unassigned
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_go_does() {
        assert_eq!(go_quote("a \"b\" \\ ♥"), r#""a \"b\" \\ ♥""#);
        assert_eq!(go_quote("\x07\x08\x0c\n\r\t\x0b\0\x7f"), r#""\a\b\f\n\r\t\v\x00\x7f""#);
        assert_eq!(go_quote("\u{a0}\u{200b}\u{feff}"), r#""\u00a0\u200b\ufeff""#);
        assert_eq!(go_quote("\u{e000}\u{10ffff}😀"), "\"\\ue000\\U0010ffff😀\"");
    }
}
