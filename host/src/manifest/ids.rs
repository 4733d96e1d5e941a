//! The names a manifest defines, as validating newtypes: a value of one of
//! these types has been checked against Spin's naming rule for it (Spin's
//! `KebabId` / `LowerSnakeId`), so the rest of the manifest code never sees a
//! malformed id. Each deserializes from a string and fails with a message
//! naming the kind of name and the rule it breaks.

use std::fmt;

use serde::Deserialize;

/// Checks an identifier made of `delim`-separated words, each starting with an
/// ASCII letter, containing only ASCII letters and digits, and either all
/// lowercase or all uppercase (`lower_only`: lowercase only).
fn check_words(id: &str, delim: char, lower_only: bool) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    let other = if delim == '-' { '_' } else { '-' };
    if id.contains(other) {
        return Err(format!(
            "words must be separated with '{delim}', not '{other}'"
        ));
    }
    for word in id.split(delim) {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!(
                "must not start or end with '{delim}' or contain '{delim}{delim}'"
            ));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!(
                "each '{delim}'-separated word must start with an ASCII letter; got {first:?}"
            ));
        }
        let upper = first.is_ascii_uppercase();
        for c in chars.filter(|c| !c.is_ascii_digit()) {
            if !c.is_ascii_alphanumeric() {
                return Err(format!(
                    "may only contain ASCII letters, digits and '{delim}'; got {c:?}"
                ));
            }
            if c.is_ascii_uppercase() != upper {
                return Err(format!(
                    "each word must be all lowercase or all UPPERCASE; got {word:?}"
                ));
            }
        }
        if lower_only && upper {
            return Err("must be all lowercase".into());
        }
    }
    Ok(())
}

/// Defines a string newtype that deserializes only when `$check` accepts it.
macro_rules! checked_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                match check(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(reason) => Err(format!("invalid {} {value:?}: {reason}", $what)),
                }
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $name {
            /// The name as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_name!(
    /// A component id: kebab-case (`my-component`, `API-v2`).
    ComponentId,
    "component id",
    |id| check_words(id, '-', false)
);

checked_name!(
    /// An application or component variable name: lower snake_case (`api_key`).
    VariableName,
    "variable name",
    |name| check_words(name, '_', true)
);

checked_name!(
    /// A key-value store label: kebab-case or snake_case (`default`, `my-store`).
    StoreLabel,
    "key-value store label",
    |label| {
        check_words(label, '-', false)
            .or_else(|_| check_words(label, '_', false))
            .map_err(|_| "must be kebab-case or snake_case (e.g. `default`, `my-store`)".into())
    }
);

checked_name!(
    /// A component dependency's name: a plain kebab-case name, or a package
    /// reference `namespace:package[/interface][@version]`.
    DependencyName,
    "dependency name",
    |name| parse_dependency_name(name).map(|_| ())
);

/// What a [`DependencyName`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyNameKind {
    /// A plain name (`my-dep`): the dependency table must name the package.
    Plain,
    /// A whole package (`ns:pkg[@version]`).
    Package,
    /// One interface of a package (`ns:pkg/iface[@version]`).
    Interface,
}

impl DependencyNameKind {
    /// Whether a (valid) dependency name is plain, a package or an interface.
    pub fn of(name: &str) -> DependencyNameKind {
        parse_dependency_name(name).unwrap_or(DependencyNameKind::Plain)
    }
}

fn parse_dependency_name(name: &str) -> Result<DependencyNameKind, String> {
    if !name.contains([':', '/']) {
        return check_words(name, '-', false).map(|()| DependencyNameKind::Plain);
    }
    let (unversioned, version) = match name.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    };
    if let Some(v) = version {
        let core = v.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if parts.len() != 3 || !parts.iter().all(numeric) {
            return Err(format!("version {v:?} is not a semantic version"));
        }
    }
    let (package, interface) = match unversioned.split_once('/') {
        Some((p, i)) => (p, Some(i)),
        None => (unversioned, None),
    };
    let Some((namespace, pkg)) = package.split_once(':') else {
        return Err("package names must be `namespace:name`".into());
    };
    for (what, part) in [("namespace", namespace), ("package name", pkg)]
        .into_iter()
        .chain(interface.map(|i| ("interface name", i)))
    {
        check_words(part, '-', false).map_err(|e| format!("{what} {part:?} {e}"))?;
    }
    Ok(match interface {
        Some(_) => DependencyNameKind::Interface,
        None => DependencyNameKind::Package,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_ids_are_kebab_case_words() {
        for good in ["a1", "my-component", "API-v2", "x"] {
            assert!(ComponentId::try_from(good.to_string()).is_ok(), "{good}");
        }
        for bad in [
            "bad_id",
            "1st",
            "Mixed-Case",
            "trailing-",
            "a--b",
            "dot.ted",
            "",
        ] {
            let e = ComponentId::try_from(bad.to_string()).unwrap_err();
            assert!(e.starts_with("invalid component id"), "{bad}: {e}");
        }
    }

    #[test]
    fn dependency_names_know_their_kind() {
        let kind = DependencyNameKind::of;
        assert_eq!(kind("my-dep"), DependencyNameKind::Plain);
        assert_eq!(kind("wasi:nn@0.2.0"), DependencyNameKind::Package);
        assert_eq!(
            kind("fbposts:ml/inference@0.1.0"),
            DependencyNameKind::Interface
        );
        assert!(DependencyName::try_from("a:b@1".to_string()).is_err());
        assert!(DependencyName::try_from("nons/iface".to_string()).is_err());
    }
}
