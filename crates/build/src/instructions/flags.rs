//! An instruction's `--name[=value]` flags checked against the flags it accepts, as
//! BuildKit's `BFlags` checks them: unknown flags, a repeated single-valued flag, a
//! string flag without a value, and a boolean that is not `true`/`false` are errors; a
//! lone `--` ends the flags.

use super::suggest::did_you_mean;

/// What a flag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `--link` or `--link=true|false`.
    Bool,
    /// `--from=VALUE`, once.
    String,
    /// `--mount=VALUE`, any number of times.
    Strings,
}

/// The flags an instruction was given, by name.
#[derive(Debug, Default)]
pub(super) struct Flags {
    values: Vec<(&'static str, Vec<String>)>,
}

impl Flags {
    /// Check `given` (`--name=value` words) against `accepted`.
    pub fn parse(given: &[String], accepted: &[(&'static str, Kind)]) -> Result<Flags, String> {
        let mut flags = Flags::default();
        for word in given {
            if word == "--" {
                break;
            }
            let Some(spelled) = word.strip_prefix("--") else {
                return Err(format!("arg should start with -- : {word}"));
            };
            let (name, value) = match spelled.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (spelled, None),
            };
            let Some(&(name, kind)) = accepted.iter().find(|(known, _)| *known == name) else {
                let names: Vec<&str> = accepted.iter().map(|(known, _)| *known).collect();
                return Err(format!("unknown flag: --{name}{}", did_you_mean(name, &names, "--")));
            };
            if kind != Kind::Strings && flags.values.iter().any(|(used, _)| *used == name) {
                return Err(format!("duplicate flag specified: --{name}"));
            }
            let value = match (kind, value) {
                (Kind::Bool, Some("")) => return Err(format!("missing a value on flag: --{name}")),
                (Kind::Bool, None) => "true".to_owned(),
                (Kind::Bool, Some(value)) => match value.to_lowercase().as_str() {
                    "true" => "true".to_owned(),
                    "false" => "false".to_owned(),
                    _ => return Err(format!("expecting boolean value for flag --{name}, not: {value}")),
                },
                (_, None) => return Err(format!("missing a value on flag: --{name}")),
                (_, Some(value)) => value.to_owned(),
            };
            match flags.values.iter_mut().find(|(used, _)| *used == name) {
                Some((_, values)) => values.push(value),
                None => flags.values.push((name, vec![value])),
            }
        }
        Ok(flags)
    }

    /// The value of a single-valued flag, if given.
    pub fn string(&self, name: &str) -> Option<String> {
        self.strings(name).last().cloned()
    }

    /// Every value of a flag, in order.
    pub fn strings(&self, name: &str) -> &[String] {
        self.values.iter().find(|(used, _)| *used == name).map_or(&[], |(_, values)| values)
    }

    /// A boolean flag: `None` if not given.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|value| value == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: [(&str, Kind); 3] = [("from", Kind::String), ("link", Kind::Bool), ("mount", Kind::Strings)];

    fn parse(words: &[&str]) -> Result<Flags, String> {
        Flags::parse(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>(), &ACCEPTED)
    }

    #[test]
    fn values_and_errors_as_buildkit() {
        let flags = parse(&["--from=a", "--link", "--mount=x", "--mount=y"]).unwrap();
        assert_eq!(flags.string("from").as_deref(), Some("a"));
        assert_eq!(flags.bool("link"), Some(true));
        assert_eq!(flags.strings("mount"), ["x", "y"]);
        assert_eq!(parse(&["--link=FALSE"]).unwrap().bool("link"), Some(false));
        assert_eq!(parse(&["--form=a"]).unwrap_err(), "unknown flag: --form (did you mean --from?)");
        assert_eq!(parse(&["--from=a", "--from=b"]).unwrap_err(), "duplicate flag specified: --from");
        assert_eq!(parse(&["--from"]).unwrap_err(), "missing a value on flag: --from");
        assert_eq!(parse(&["--link="]).unwrap_err(), "missing a value on flag: --link");
        assert_eq!(parse(&["--link=yes"]).unwrap_err(), "expecting boolean value for flag --link, not: yes");
        assert!(parse(&["--", "--whatever"]).is_ok());
    }
}
