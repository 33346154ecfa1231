//! `RUN --mount=type=cache,target=/root/.cache,sharing=locked`: the value read as one CSV
//! record of `key=value` fields, as BuildKit reads it (`commands_runmount.go`), with its
//! defaults (a bind mount, read-only unless it is a cache or tmpfs) and its refusals.
//! Values are expanded with the step's variables before they are read, except `from`,
//! which names a stage or image and must not use variables.

use super::suggest::did_you_mean;

/// What is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

/// How a cache mount is shared between concurrent steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

/// One `--mount` of a `RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountType,
    /// A stage or image to take the source from (`from=`).
    pub from: Option<String>,
    /// The path in the source (`source=`, `src=`).
    pub source: Option<String>,
    /// Where it appears in the step (`target=`, `dst=`, `destination=`).
    pub target: Option<String>,
    pub read_only: bool,
    /// A cache's identity (`id=`; the target when not given).
    pub id: Option<String>,
    pub sharing: Option<Sharing>,
    /// `size=` of a tmpfs, in bytes.
    pub size: Option<u64>,
    pub required: bool,
    pub env: Option<String>,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// The keys a mount accepts, for suggestions.
const KEYS: [&str; 19] = [
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

const TYPES: [(&str, MountType); 5] = [
    ("bind", MountType::Bind),
    ("cache", MountType::Cache),
    ("tmpfs", MountType::Tmpfs),
    ("secret", MountType::Secret),
    ("ssh", MountType::Ssh),
];

const SHARINGS: [(&str, Sharing); 3] =
    [("shared", Sharing::Shared), ("private", Sharing::Private), ("locked", Sharing::Locked)];

impl MountType {
    fn name(self) -> &'static str {
        TYPES.iter().find(|(_, kind)| *kind == self).map_or("", |(name, _)| name)
    }
}

/// Read one `--mount` value; `expand` expands a field's value.
pub fn parse_mount(value: &str, expand: &mut dyn FnMut(&str) -> Result<String, String>) -> Result<Mount, String> {
    let fields = csv_fields(value).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
    let mut mount = Mount {
        kind: MountType::Bind,
        from: None,
        source: None,
        target: None,
        read_only: true,
        id: None,
        sharing: None,
        size: None,
        required: false,
        env: None,
        mode: None,
        uid: None,
        gid: None,
    };
    let mut read_only_given = false;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key.to_lowercase(), value),
            None => {
                match field.to_lowercase().as_str() {
                    "readonly" | "ro" => mount.read_only = true,
                    "readwrite" | "rw" => mount.read_only = false,
                    "required" if matches!(mount.kind, MountType::Secret | MountType::Ssh) => mount.required = true,
                    "required" => {
                        return Err(format!("unexpected key 'required' for mount type '{}'", mount.kind.name()))
                    }
                    _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
                }
                read_only_given |= field.to_lowercase() != "required";
                continue;
            }
        };
        if key == "from" && value.find('$').is_some_and(|at| at != value.len() - 1) {
            return Err("'from' doesn't support variable expansion, define alias stage instead".to_owned());
        }
        let value = expand(value)?;
        let invalid = || format!("invalid value for {key}: {value}");
        let number = |radix| u32::from_str_radix(&value, radix).ok();
        match key.as_str() {
            "type" => {
                let lower = value.to_lowercase();
                let Some(&(_, kind)) = TYPES.iter().find(|(name, _)| *name == lower) else {
                    let names: Vec<&str> = TYPES.iter().map(|(name, _)| *name).collect();
                    return Err(format!("unsupported mount type {value:?}{}", did_you_mean(&value, &names, "")));
                };
                mount.kind = kind;
            }
            "from" => mount.from = Some(value),
            "source" | "src" => mount.source = Some(value),
            "target" | "dst" | "destination" => mount.target = Some(value),
            "readonly" | "ro" | "readwrite" | "rw" => {
                let on = go_bool(&value).ok_or_else(invalid)?;
                mount.read_only = if matches!(key.as_str(), "readwrite" | "rw") { !on } else { on };
                read_only_given = true;
            }
            "required" if matches!(mount.kind, MountType::Secret | MountType::Ssh) => {
                mount.required = go_bool(&value).ok_or_else(invalid)?;
            }
            "size" if mount.kind == MountType::Tmpfs => mount.size = Some(ram_in_bytes(&value).ok_or_else(invalid)?),
            "required" | "size" => {
                return Err(format!("unexpected key '{key}' for mount type '{}'", mount.kind.name()));
            }
            "id" => mount.id = Some(value),
            "sharing" => {
                let lower = value.to_lowercase();
                let Some(&(_, sharing)) = SHARINGS.iter().find(|(name, _)| *name == lower) else {
                    return Err(format!("unsupported sharing value {value:?}"));
                };
                mount.sharing = Some(sharing);
            }
            "mode" => mount.mode = Some(number(8).ok_or_else(|| format!("invalid value {value} for mode"))?),
            "uid" => mount.uid = Some(number(10).ok_or_else(|| format!("invalid value {value} for uid"))?),
            "gid" => mount.gid = Some(number(10).ok_or_else(|| format!("invalid value {value} for gid"))?),
            "env" => mount.env = Some(value),
            _ => return Err(format!("unexpected key '{key}' in '{field}'{}", did_you_mean(&key, &KEYS, ""))),
        }
    }
    check(&mut mount, read_only_given)?;
    Ok(mount)
}

/// The defaults and refusals that depend on the whole mount.
fn check(mount: &mut Mount, read_only_given: bool) -> Result<(), String> {
    let file_info_allowed = matches!(mount.kind, MountType::Secret | MountType::Ssh | MountType::Cache);
    for (name, given) in [("mode", mount.mode.is_some()), ("uid", mount.uid.is_some()), ("gid", mount.gid.is_some())] {
        if given && !file_info_allowed {
            return Err(format!("{name} not allowed for {:?} type mounts", mount.kind.name()));
        }
    }
    if !read_only_given {
        mount.read_only = !matches!(mount.kind, MountType::Cache | MountType::Tmpfs);
    }
    if mount.kind == MountType::Secret {
        if mount.from.is_some() {
            return Err("secret mount should not have a from".to_owned());
        }
        if mount.sharing.is_some() {
            return Err("secret mount should not define sharing".to_owned());
        }
        if mount.source.is_none() && mount.target.is_none() && mount.id.is_none() {
            return Err("invalid secret mount. one of source, target required".to_owned());
        }
        if mount.source.is_some() && mount.id.is_some() {
            return Err("both source and id can't be set".to_owned());
        }
    }
    if mount.sharing.is_some() && mount.kind != MountType::Cache {
        return Err(format!("invalid cache sharing set for {} mount", mount.kind.name()));
    }
    Ok(())
}

/// Go's `strconv.ParseBool`.
fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A size such as `64m`, `1.5GiB` or `1024` (bytes), binary multiples as docker's
/// `RAMInBytes` reads them.
fn ram_in_bytes(value: &str) -> Option<u64> {
    let split = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim_start().to_lowercase();
    let unit = unit.strip_suffix("ib").or_else(|| unit.strip_suffix('b')).unwrap_or(&unit);
    let power = ["", "k", "m", "g", "t", "p"].iter().position(|u| *u == unit)?;
    let bytes = number * 1024f64.powi(power as i32);
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// The fields of one CSV record: separated by commas, a field in double quotes may hold
/// commas and `""` for a quote.
fn csv_fields(record: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = record.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("extraneous or missing \" in quoted-field: {record}")),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err(format!("extraneous or missing \" in quoted-field: {record}"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '"' {
                    return Err(format!("bare \" in non-quoted-field: {record}"));
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Mount, String> {
        parse_mount(value, &mut |v| Ok(v.replace("$DIR", "/expanded")))
    }

    #[test]
    fn kinds_defaults_and_expansion() {
        let cache = parse("type=cache,target=$DIR,sharing=locked").unwrap();
        assert_eq!(
            (cache.kind, cache.target.as_deref(), cache.read_only),
            (MountType::Cache, Some("/expanded"), false)
        );
        assert_eq!(cache.sharing, Some(Sharing::Locked));
        let bind = parse("type=bind,from=build,source=/out,target=/in").unwrap();
        assert_eq!((bind.kind, bind.from.as_deref(), bind.read_only), (MountType::Bind, Some("build"), true));
        assert!(!parse("target=/x,rw").unwrap().read_only);
        assert!(!parse("target=/x,readonly=false").unwrap().read_only);
        assert_eq!(parse("type=tmpfs,target=/t,size=64m").unwrap().size, Some(64 << 20));
        assert_eq!(parse("type=cache,target=/c,mode=0755,uid=1000").unwrap().mode, Some(0o755));
        assert_eq!(parse("\"type=bind,x\"").unwrap_err(), "unsupported mount type \"bind,x\" (did you mean bind?)");
    }

    #[test]
    fn refusals() {
        assert_eq!(parse("type=volume").unwrap_err(), "unsupported mount type \"volume\"");
        assert_eq!(
            parse("type=bind,from=$STAGE").unwrap_err().split(',').next(),
            Some("'from' doesn't support variable expansion")
        );
        assert_eq!(parse("target=/x,mode=0700").unwrap_err(), "mode not allowed for \"bind\" type mounts");
        assert_eq!(parse("type=cache,sharing=all").unwrap_err(), "unsupported sharing value \"all\"");
        assert_eq!(parse("target=/x,sharing=locked").unwrap_err(), "invalid cache sharing set for bind mount");
        assert_eq!(parse("type=secret").unwrap_err(), "invalid secret mount. one of source, target required");
        assert_eq!(parse("trget=/x").unwrap_err(), "unexpected key 'trget' in 'trget=/x' (did you mean target?)");
        assert_eq!(parse("target").unwrap_err(), "invalid field 'target' must be a key=value pair");
        assert!(parse("a\"b").is_err());
    }
}
