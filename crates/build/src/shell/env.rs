//! Where expansion reads variables: the [`Env`] trait and its implementations for lists in definition order and
//! for maps.

use std::collections::{BTreeMap, HashMap};

/// The variables a word is expanded with. A name is case-sensitive (BuildKit on Linux).
pub trait Env {
    /// The value of `name`, or `None` when it is not set (set but empty is `Some("")`).
    fn get(&self, name: &str) -> Option<&str>;
}

/// A list of `(name, value)` in definition order: the last definition of a name wins, as with successive `ENV`.
impl<K: AsRef<str>, V: AsRef<str>> Env for [(K, V)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter().rev().find(|(key, _)| key.as_ref() == name).map(|(_, value)| value.as_ref())
    }
}

/// Same as for a slice: the last definition wins.
impl<K: AsRef<str>, V: AsRef<str>> Env for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }
}

/// Same as for a slice: the last definition wins.
impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Env for [(K, V); N] {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
}

/// Reads `NAME=value` assignments (as in a process environment or `ENV NAME=value`) into a list in order, as
/// BuildKit's `EnvsFromSlice` does: the value is everything after the first `=`, verbatim; without `=` the value
/// is empty.
pub fn env_from_assignments<'a>(assignments: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    assignments
        .into_iter()
        .map(|assignment| {
            let (name, value) = assignment.split_once('=').unwrap_or((assignment, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_definition_wins() {
        let env = env_from_assignments(["foo=bar", "car=hat", "car=bike", "empty=", "bare", "eq=a=b "]);
        assert_eq!(Env::get(&env, "foo"), Some("bar"));
        assert_eq!(Env::get(&env, "car"), Some("bike"));
        assert_eq!(Env::get(&env, "empty"), Some(""));
        assert_eq!(Env::get(&env, "bare"), Some(""));
        assert_eq!(Env::get(&env, "eq"), Some("a=b "));
        assert_eq!(Env::get(&env, "FOO"), None);
        assert_eq!(Env::get(&[("A", "1"), ("A", "2")], "A"), Some("2"));
    }

    #[test]
    fn maps() {
        let map: BTreeMap<String, String> = [("A".to_owned(), "1".to_owned())].into();
        assert_eq!(Env::get(&map, "A"), Some("1"));
        let map: HashMap<String, String> = map.into_iter().collect();
        assert_eq!(Env::get(&map, "B"), None);
    }
}
