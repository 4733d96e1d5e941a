//! Why a manifest could not be loaded, and where: every error names the TOML
//! path of the offending key (`component.api.build.command`) and its line and
//! column. Errors found while deserializing come from `serde_path_to_error`
//! (the path) and toml's spans (the position); the checks that run after
//! deserializing build their errors from `Spanned` values.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde_path_to_error::Segment;

/// A 1-based position in the manifest text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// The position of byte `span.start` of `src`.
    pub fn of(src: &str, span: Range<usize>) -> Location {
        let mut offset = span.start.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &src[..offset];
        Location {
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a manifest could not be loaded. `path` fields are TOML paths such as
/// `component.api.build.command`; `location` is where the value (or, for a
/// missing key, its table) is.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML (the message carries line and column).
    #[error("the manifest is not valid TOML: {0}")]
    Syntax(Box<toml::de::Error>),
    /// `spin_manifest_version` is not 2.
    #[error(
        "`spin_manifest_version` at {location} is {found}, but only version 2 manifests are supported (`spin_manifest_version = 2`)"
    )]
    UnsupportedVersion { found: String, location: Location },
    /// A required key is missing.
    #[error("missing required key `{path}` (in the table at {location})")]
    MissingKey { path: String, location: Location },
    /// A key the schema does not have (typo?).
    #[error("unknown key `{path}` at {location}; expected {expected}")]
    UnknownKey {
        path: String,
        location: Location,
        expected: String,
    },
    /// A value of the wrong type, a name breaking Spin's naming rules, or a
    /// value the rules refuse.
    #[error("invalid `{path}` at {location}: {message}")]
    Invalid {
        path: String,
        location: Location,
        message: String,
    },
    /// A reference to a component id that has no `[component.<id>]` table.
    #[error(
        "`{path}` at {location} refers to component `{component}`, which is not defined (defined components: {defined})"
    )]
    UnknownComponent {
        path: String,
        location: Location,
        component: String,
        defined: String,
    },
    /// A valid Spin feature this host does not implement.
    #[error("`{path}` at {location}: {what} is not supported by fbposts")]
    Unsupported {
        path: String,
        location: Location,
        what: String,
    },
    /// `--profile NAME` where no component defines `profile.NAME`.
    #[error("profile `{profile}` is not defined in this application (defined profiles: {defined})")]
    UnknownProfile { profile: String, defined: String },
}

/// The prefix of a deserialization message that reports a refused feature
/// (see [`unsupported`]); it becomes [`ManifestError::Unsupported`].
const UNSUPPORTED: &str = "unsupported feature: ";

/// A deserialization error for a Spin feature this host refuses.
pub fn unsupported<E: serde::de::Error>(what: impl fmt::Display) -> E {
    E::custom(format_args!("{UNSUPPORTED}{what}"))
}

/// Appends a key to a TOML path, quoting it when it is not a bare key.
pub fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// The TOML path of a `serde_path_to_error` path, without the segments
/// `Spanned` adds.
fn toml_path(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .fold(String::new(), |out, segment| match segment {
            Segment::Map { key } if key.starts_with("$__serde_spanned_private") => out,
            Segment::Map { key } => join(&out, key),
            Segment::Seq { index } => format!("{out}[{index}]"),
            Segment::Enum { .. } => out,
            Segment::Unknown => join(&out, "?"),
        })
}

impl ManifestError {
    /// Classifies a deserialization error: serde's "missing field" and
    /// "unknown field" messages become [`ManifestError::MissingKey`] and
    /// [`ManifestError::UnknownKey`], refusals [`ManifestError::Unsupported`],
    /// anything else [`ManifestError::Invalid`].
    pub fn from_serde(err: serde_path_to_error::Error<toml::de::Error>, src: &str) -> Self {
        let path = toml_path(err.path());
        let last_key = match err.path().iter().next_back() {
            Some(Segment::Map { key }) => key.clone(),
            _ => String::new(),
        };
        let inner = err.into_inner();
        let location = Location::of(src, inner.span().unwrap_or(0..0));
        let message = inner.message();
        if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.trim_end_matches('`');
            return ManifestError::MissingKey {
                path: join(&path, key),
                location,
            };
        }
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, rest) = rest.split_once('`').unwrap_or((rest, ""));
            let expected = rest
                .split_once(", expected ")
                .map_or("no key here", |(_, e)| e);
            return ManifestError::UnknownKey {
                // Keys checked after reading a table are not in the path yet.
                path: if key == last_key {
                    path
                } else {
                    join(&path, key)
                },
                location,
                expected: expected.to_string(),
            };
        }
        if let Some(what) = message.strip_prefix(UNSUPPORTED) {
            return ManifestError::Unsupported {
                path,
                location,
                what: what.to_string(),
            };
        }
        ManifestError::Invalid {
            path,
            location,
            message: message.to_string(),
        }
    }
}
