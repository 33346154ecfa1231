//! One binfmt_misc entry: the line written to `register`, and the kernel's view of an
//! existing entry read back from `<mount>/NAME`.

use crate::arch::{self, Arch};
use crate::Error;
use std::path::{Path, PathBuf};

/// The flags of an entry, by the kernel's letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// P: the interpreter gets the original argv[0] (and `AT_FLAGS` bit 0).
    pub preserve_argv0: bool,
    /// O: the kernel opens the binary and hands the interpreter `AT_EXECFD`.
    pub open_binary: bool,
    /// C: credentials (setuid/setgid, capabilities) come from the binary; implies O.
    pub credentials: bool,
    /// F: the interpreter is opened at registration (works in chroots and containers).
    pub fix_binary: bool,
}

/// Reaches one flag's field.
type Field = fn(&mut Flags) -> &mut bool;

/// The letters in the order the kernel prints them, with the field each sets.
const LETTERS: [(char, Field); 4] = [
    ('P', |f| &mut f.preserve_argv0),
    ('O', |f| &mut f.open_binary),
    ('C', |f| &mut f.credentials),
    ('F', |f| &mut f.fix_binary),
];

impl Flags {
    /// Flags from letters (`"POCF"`); unknown letters are ignored.
    pub fn parse(letters: &str) -> Flags {
        let mut flags = Flags::default();
        for (letter, field) in LETTERS {
            if letters.contains(letter) {
                *field(&mut flags) = true;
            }
        }
        flags
    }

    /// The letters in the kernel's order (`"POCF"`), empty for none.
    pub fn letters(self) -> String {
        let mut copy = self;
        LETTERS.iter().filter(|(_, field)| *field(&mut copy)).map(|(letter, _)| *letter).collect()
    }

    /// The flags as the kernel records them: C sets O as well.
    pub fn normalised(self) -> Flags {
        Flags { open_binary: self.open_binary || self.credentials, ..self }
    }
}

/// An entry to register: match `magic` under `mask` at `offset`, run `interpreter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub offset: u32,
    pub magic: Vec<u8>,
    pub mask: Vec<u8>,
    pub interpreter: PathBuf,
    pub flags: Flags,
}

impl Entry {
    /// The entry for `arch` run by `interpreter` (an absolute path); its name is the
    /// interpreter's (`archway-aarch64`).
    pub fn for_arch(arch: &'static Arch, interpreter: &Path, flags: Flags) -> Result<Entry, Error> {
        let emulation = arch::emulation(arch)?;
        let text = interpreter.to_str().unwrap_or("");
        if !interpreter.is_absolute() || text.is_empty() || text.contains([':', '\n']) {
            return Err(Error::BadInterpreter {
                path: interpreter.to_path_buf(),
                reason: "binfmt_misc needs an absolute UTF-8 path without `:` or newlines".into(),
            });
        }
        Ok(Entry {
            name: arch.interpreter_name(),
            offset: 0,
            magic: emulation.magic.to_vec(),
            mask: emulation.mask.to_vec(),
            interpreter: interpreter.to_path_buf(),
            flags,
        })
    }

    /// Check the interpreter before anything changes: it must be an ELF file, and a
    /// static one when the entry has the F flag.
    pub fn check_interpreter(&self) -> Result<(), Error> {
        let is_static = crate::interpreter::is_static(&self.interpreter)?;
        if self.flags.fix_binary && !is_static {
            return Err(Error::NotStatic { path: self.interpreter.clone() });
        }
        Ok(())
    }

    /// The line for `register`: `:NAME:M:0:MAGIC:MASK:INTERPRETER:FLAGS`, bytes as `\xHH`.
    pub fn render(&self) -> String {
        format!(
            ":{}:M:{}:{}:{}:{}:{}",
            self.name,
            self.offset,
            escape(&self.magic),
            escape(&self.mask),
            self.interpreter.display(),
            self.flags.letters()
        )
    }

    /// Whether the kernel's `existing` entry is exactly this one (enabled, same
    /// interpreter, flags, offset, mask, and magic under the mask: the kernel may
    /// store the magic masked).
    pub fn same_as(&self, existing: &Registered) -> bool {
        let masked = |magic: &[u8]| -> Vec<u8> { magic.iter().zip(&self.mask).map(|(m, k)| m & k).collect() };
        existing.enabled
            && existing.interpreter == self.interpreter
            && existing.flags == self.flags.normalised()
            && existing.offset == self.offset
            && existing.mask.as_deref() == Some(&self.mask[..])
            && existing
                .magic
                .as_deref()
                .is_some_and(|m| m.len() == self.magic.len() && masked(m) == masked(&self.magic))
    }
}

/// Every byte as `\xHH`, so no byte can end a field early.
fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

/// An entry as the kernel shows it in `<mount>/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registered {
    pub name: String,
    pub enabled: bool,
    pub interpreter: PathBuf,
    pub flags: Flags,
    pub offset: u32,
    /// `None` for extension entries.
    pub magic: Option<Vec<u8>>,
    pub mask: Option<Vec<u8>>,
    /// The file extension of an `E` entry.
    pub extension: Option<String>,
}

impl Registered {
    /// Parse the kernel's text for entry `name`; unknown lines are ignored, so any
    /// input gives an entry.
    pub fn parse(name: &str, text: &str) -> Registered {
        let mut entry = Registered { name: name.to_string(), ..Registered::default() };
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "enabled" => entry.enabled = true,
                "interpreter" => entry.interpreter = PathBuf::from(value),
                "flags:" => entry.flags = Flags::parse(value),
                "offset" => entry.offset = value.trim().parse().unwrap_or(0),
                "magic" => entry.magic = unhex(value),
                "mask" => entry.mask = unhex(value),
                "extension" => entry.extension = Some(value.trim_start_matches('.').to_string()),
                _ => {}
            }
        }
        entry
    }

    /// The `register` line that recreates this entry as the kernel shows it (magic
    /// entries with the magic as stored, extension entries by their extension); `None`
    /// when the view lacks what the line needs. A disabled entry comes back enabled:
    /// write `0` to it afterwards.
    pub fn register_line(&self) -> Option<String> {
        let interpreter = self.interpreter.to_str().filter(|i| !i.is_empty())?;
        let flags = self.flags.letters();
        match (&self.extension, &self.magic) {
            (Some(extension), _) => Some(format!(":{}:E::{extension}::{interpreter}:{flags}", self.name)),
            (None, Some(magic)) => Some(format!(
                ":{}:M:{}:{}:{}:{interpreter}:{flags}",
                self.name,
                self.offset,
                escape(magic),
                self.mask.as_deref().map(escape).unwrap_or_default()
            )),
            (None, None) => None,
        }
    }
}

/// Bytes from the kernel's plain hex (`7f454c46...`); `None` if malformed.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ARCHES;

    #[test]
    fn renders_like_qemu_binfmt_conf() {
        let flags = Flags { preserve_argv0: true, fix_binary: true, ..Flags::default() };
        let e = Entry::for_arch(&ARCHES[0], Path::new("/usr/bin/archway-aarch64"), flags).unwrap();
        assert_eq!(
            e.render(),
            ":archway-aarch64:M:0:\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\
             \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:\
             /usr/bin/archway-aarch64:PF"
        );
    }

    #[test]
    fn flags_round_trip_in_kernel_order() {
        assert_eq!(Flags::parse("FCOP").letters(), "POCF");
        assert_eq!(Flags::parse("").letters(), "");
        assert_eq!(Flags::parse("C").normalised().letters(), "OC");
    }

    #[test]
    fn parses_the_kernel_view_and_compares() {
        let text = "enabled\ninterpreter /usr/bin/archway-aarch64\nflags: POC\noffset 0\n\
                    magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";
        let r = Registered::parse("archway-aarch64", text);
        assert!(r.enabled);
        assert_eq!(r.flags.letters(), "POC");
        let flags = Flags { preserve_argv0: true, credentials: true, ..Flags::default() };
        let e = Entry::for_arch(&ARCHES[0], Path::new("/usr/bin/archway-aarch64"), flags).unwrap();
        assert!(e.same_as(&r));
        let other = Entry { flags: Flags::default(), ..e };
        assert!(!other.same_as(&r));
    }

    #[test]
    fn the_kernel_view_gives_back_its_register_line() {
        let flags = Flags { credentials: true, fix_binary: true, ..Flags::default() };
        let e = Entry::for_arch(&ARCHES[0], Path::new("/usr/bin/archway-aarch64"), flags.normalised()).unwrap();
        let text = "enabled\ninterpreter /usr/bin/archway-aarch64\nflags: OCF\noffset 0\n\
                    magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";
        assert_eq!(Registered::parse(&e.name, text).register_line(), Some(e.render()));
        let ext = Registered::parse("x", "disabled\ninterpreter /bin/cat\nflags: \nextension .xyz\n");
        assert_eq!(ext.register_line().as_deref(), Some(":x:E::xyz::/bin/cat:"));
        assert_eq!(Registered::parse("y", "enabled\n").register_line(), None);
    }

    #[test]
    fn bad_input_never_panics() {
        let r = Registered::parse("x", "magic 7\nmask zz\noffset -1\nflags:\n\u{1F600}");
        assert_eq!((r.magic, r.mask, r.offset, r.enabled), (None, None, 0, false));
        assert!(Entry::for_arch(&ARCHES[0], Path::new("rel/path"), Flags::default()).is_err());
        assert!(Entry::for_arch(&ARCHES[0], Path::new("/a:b"), Flags::default()).is_err());
    }
}
