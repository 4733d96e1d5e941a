//! Spin application variables: `[variables]` in `spin.toml`, their values from
//! the environment, the `{{ name }}` templates of `[component.<id>.variables]`
//! (and of `allowed_outbound_hosts`), and `spin:variables/variables@3.0.0` for
//! guests.
//!
//! Values are read once, when the app loads: an application variable `name`
//! takes the value of the environment variable `SPIN_VARIABLE_NAME` (the name
//! upper-cased, as Spin's environment provider does) or else its `default`. A
//! `required` variable with neither fails start-up, naming the variable. Each
//! component's templates are then rendered into a map that its requests share;
//! `get` of a name the component did not declare is `undefined`.
//!
//! A component can declare how much of the request deadline its own waiting
//! may take: a component variable named `…_deadline_ms` (generate's
//! `llm_deadline_ms`). The host knows nothing else about it, but refuses at
//! start-up a value that does not leave [`DEADLINE_MARGIN`] of the request
//! deadline (`--request-timeout`) to answer in, naming the manifest key —
//! so a component that keeps within its declared deadline can always record
//! a failure and answer before the host kills it.
//!
//! Values never reach the logs: the types holding them print names only, and
//! errors name variables and templates, never what they expand to.

use crate::capability::{AppContext, Capability, ComponentContext, HasState};
use crate::host_state::HostState;
use crate::manifest::VariableDef;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Accessor, HasData, Linker};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-variables.wit",
        world: "variables-host",
        imports: { default: async | trappable },
        trappable_error_type: {
            "spin:variables/variables@3.0.0.error" => Error,
        },
    });
    pub use spin::variables::variables::*;
}

use bindings::Error as WitError;

/// The prefix of the environment variables that set application variables.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

/// The environment variable that sets application variable `name`.
pub fn env_name(name: &str) -> String {
    format!("{ENV_PREFIX}{}", name.to_ascii_uppercase())
}

/// Why the application variables could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    #[error(
        "required application variable{} {} ha{} no value: set {}",
        plural(.0.len()),
        .0.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
        if .0.len() == 1 { "s" } else { "ve" },
        .0.iter().map(|n| env_name(n)).collect::<Vec<_>>().join(", ")
    )]
    RequiredMissing(Vec<String>),
    #[error("environment variable {env} (application variable `{0}`) is not valid UTF-8", env = env_name(.0))]
    NotUnicode(String),
    #[error("template {template:?}: {reason}")]
    Template { template: String, reason: String },
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One resolved application variable.
#[derive(Clone)]
struct Value {
    value: String,
    secret: bool,
}

/// The application variables' values, resolved at start-up.
#[derive(Clone, Default)]
pub struct AppVariables {
    values: BTreeMap<String, Value>,
}

impl fmt::Debug for AppVariables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppVariables")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl AppVariables {
    /// Resolves `defs` against the process environment.
    pub fn from_env(defs: &BTreeMap<String, VariableDef>) -> Result<Self, VariablesError> {
        Self::resolve(defs, |key| match std::env::var(key) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(()),
        })
    }

    /// Resolves `defs`, looking values up with `lookup(env_name)`; `Err(())`
    /// means the value exists but is unusable (not UTF-8).
    pub fn resolve(
        defs: &BTreeMap<String, VariableDef>,
        lookup: impl Fn(&str) -> Result<Option<String>, ()>,
    ) -> Result<Self, VariablesError> {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, def) in defs {
            let from_env =
                lookup(&env_name(name)).map_err(|()| VariablesError::NotUnicode(name.clone()))?;
            let source = if from_env.is_some() {
                "environment"
            } else {
                "default"
            };
            match from_env.or_else(|| def.default.clone()) {
                Some(value) => {
                    tracing::debug!(variable = %name, secret = def.secret, source, "application variable");
                    values.insert(
                        name.clone(),
                        Value {
                            value,
                            secret: def.secret,
                        },
                    );
                }
                None => missing.push(name.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(VariablesError::RequiredMissing(missing));
        }
        Ok(Self { values })
    }

    /// Expands a `{{ name }}` template; also says whether a secret went in.
    pub fn render(&self, template: &str) -> Result<(String, bool), VariablesError> {
        let bad = |reason: String| VariablesError::Template {
            template: template.to_string(),
            reason,
        };
        let mut out = String::with_capacity(template.len());
        let mut secret = false;
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| bad("unmatched `{{`".into()))?;
            let name = after[..end].trim();
            let value = self
                .values
                .get(name)
                .ok_or_else(|| bad(format!("unknown application variable `{name}`")))?;
            out.push_str(&value.value);
            secret |= value.secret;
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok((out, secret))
    }

    /// Renders a component's `[component.<id>.variables]`.
    pub fn component(
        &self,
        templates: &BTreeMap<String, String>,
    ) -> Result<ComponentVariables, VariablesError> {
        let mut values = BTreeMap::new();
        for (name, template) in templates {
            let (value, _) = self.render(template)?;
            values.insert(name.clone(), value);
        }
        Ok(ComponentVariables { values })
    }
}

/// The suffix of a component variable declaring a deadline (module docs).
pub const DEADLINE_SUFFIX: &str = "_deadline_ms";
/// What a declared deadline must leave of the request deadline.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// Checks each `…_deadline_ms` variable of component `id` against the
/// request deadline. Errors name the manifest key, and the value only when
/// no secret went into it.
pub fn check_deadlines(
    app: &AppVariables,
    id: &str,
    templates: &BTreeMap<String, String>,
    request_timeout: Duration,
) -> anyhow::Result<()> {
    let limit = request_timeout.saturating_sub(DEADLINE_MARGIN);
    for (name, template) in templates
        .iter()
        .filter(|(n, _)| n.ends_with(DEADLINE_SUFFIX))
    {
        let key = format!("[component.{id}.variables] {name}");
        let (value, secret) = app.render(template)?;
        let shown = if secret {
            "its value".to_string()
        } else {
            format!("{:?}", value.trim())
        };
        let Ok(ms) = value.trim().parse::<u64>() else {
            anyhow::bail!("{key}: {shown} is not a whole number of milliseconds");
        };
        if Duration::from_millis(ms) > limit {
            anyhow::bail!(
                "{key}: {shown} ms does not fit the request deadline of {} ms (--request-timeout) with {} ms left to answer; lower it or raise --request-timeout",
                request_timeout.as_millis(),
                DEADLINE_MARGIN.as_millis()
            );
        }
    }
    Ok(())
}

/// One component's variables, rendered; shared by its requests.
#[derive(Clone, Default)]
pub struct ComponentVariables {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for ComponentVariables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentVariables")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Spin's rule for names passed to `get` (`spin_expressions::Key`): lowercase
/// ASCII letters, digits and single underscores, starting with a letter and
/// not ending with an underscore.
fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.bytes().next() else {
        return Err("must not be empty".into());
    };
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {c:?}; variable names may contain only lowercase letters, digits and underscores"
        ));
    }
    if !first.is_ascii_lowercase() {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if name.ends_with('_') {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if name.contains("__") {
        return Err("must not contain consecutive underscores".into());
    }
    Ok(())
}

/// Per-request variables state: the component's id and rendered values.
#[derive(Debug, Clone)]
pub struct VariablesHost {
    component: Arc<str>,
    values: Arc<ComponentVariables>,
}

impl VariablesHost {
    pub fn new(component: Arc<str>, values: Arc<ComponentVariables>) -> Self {
        Self { component, values }
    }

    fn get(&self, name: &str) -> Result<String, WitError> {
        check_name(name).map_err(|reason| WitError::InvalidName(format!("{name:?}: {reason}")))?;
        self.values.values.get(name).cloned().ok_or_else(|| {
            WitError::Undefined(format!(
                "no variable {name:?} for component {:?}",
                self.component
            ))
        })
    }
}

/// The variables capability: the application variables, resolved once; also
/// the bindings' marker (their data is `&mut VariablesHost`).
pub struct Variables {
    app: AppVariables,
    /// `--request-timeout`, which declared deadlines must fit.
    request_timeout: Duration,
}

impl Variables {
    /// The resolved application variables, for capabilities that render
    /// templates (outbound HTTP's `allowed_outbound_hosts`).
    pub fn app(&self) -> &AppVariables {
        &self.app
    }
}

impl HasData for Variables {
    type Data<'a> = &'a mut VariablesHost;
}

impl Capability for Variables {
    type Prepared = VariablesHost;
    type InstanceState = VariablesHost;

    /// Adds `spin:variables/variables@3.0.0`.
    fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        bindings::add_to_linker::<HostState, Variables>(
            linker,
            <HostState as HasState<Self>>::state,
        )
    }

    /// Resolves `[variables]`: a required variable without a value fails here.
    async fn configure_app(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
        Ok(Self {
            app: AppVariables::from_env(&ctx.manifest.variables)?,
            request_timeout: ctx.options.request_timeout,
        })
    }

    /// Renders the component's `variables` templates; checks its declared
    /// deadlines against the request deadline.
    fn prepare(&self, ctx: &ComponentContext<'_>) -> anyhow::Result<VariablesHost> {
        check_deadlines(
            &self.app,
            &ctx.component.id,
            &ctx.component.variables,
            self.request_timeout,
        )?;
        let values = self
            .app
            .component(&ctx.component.variables)
            .context("variables")?;
        Ok(VariablesHost::new(
            ctx.component.id.as_str().into(),
            Arc::new(values),
        ))
    }

    fn instance(prepared: &VariablesHost) -> VariablesHost {
        prepared.clone()
    }
}

impl bindings::Host for VariablesHost {
    fn convert_error(&mut self, err: WitError) -> wasmtime::Result<WitError> {
        Ok(err)
    }
}

impl<T> bindings::HostWithStore<T> for Variables {
    async fn get(accessor: &Accessor<T, Self>, name: String) -> Result<String, WitError> {
        accessor.with(|mut access| access.get().get(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(default: Option<&str>, secret: bool) -> VariableDef {
        VariableDef {
            default: default.map(str::to_string),
            required: default.is_none(),
            secret,
            description: None,
        }
    }

    fn defs() -> BTreeMap<String, VariableDef> {
        BTreeMap::from([
            ("region".to_string(), def(Some("eu"), false)),
            ("api_key".to_string(), def(None, true)),
        ])
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Result<Option<String>, ()> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| Ok(pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }

    #[test]
    fn env_overrides_default_and_fills_required() {
        let vars = AppVariables::resolve(
            &defs(),
            env(&[
                ("SPIN_VARIABLE_REGION", "us"),
                ("SPIN_VARIABLE_API_KEY", "s3cr3t"),
            ]),
        )
        .unwrap();
        assert_eq!(vars.render("{{ region }}").unwrap(), ("us".into(), false));
        assert_eq!(
            vars.render("https://{{region}}.x/{{ api_key }}?").unwrap(),
            ("https://us.x/s3cr3t?".into(), true)
        );
        assert!(!format!("{vars:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_declared_deadline_that_does_not_fit_the_request_deadline_is_refused() {
        let defs = BTreeMap::from([
            ("llm_deadline_ms".to_string(), def(Some("20000"), false)),
            ("hidden".to_string(), def(Some("99000"), true)),
        ]);
        let vars = AppVariables::resolve(&defs, env(&[])).unwrap();
        let templates = |template: &str| {
            BTreeMap::from([("llm_deadline_ms".to_string(), template.to_string())])
        };
        let thirty = Duration::from_secs(30);
        check_deadlines(
            &vars,
            "generate",
            &templates("{{ llm_deadline_ms }}"),
            thirty,
        )
        .unwrap();
        let err = check_deadlines(
            &vars,
            "generate",
            &templates("{{ llm_deadline_ms }}"),
            Duration::from_secs(20),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "[component.generate.variables] llm_deadline_ms: \"20000\" ms does not fit the request deadline of 20000 ms (--request-timeout) with 1000 ms left to answer; lower it or raise --request-timeout"
        );
        let err = check_deadlines(&vars, "generate", &templates("{{ hidden }}"), thirty)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("its value ms") && !err.contains("99000"),
            "{err}"
        );
        let err = check_deadlines(&vars, "generate", &templates("soon"), thirty)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "[component.generate.variables] llm_deadline_ms: \"soon\" is not a whole number of milliseconds"
        );
        // Other names are not deadlines.
        let other = BTreeMap::from([("timeout_ms".to_string(), "999999".to_string())]);
        check_deadlines(&vars, "generate", &other, thirty).unwrap();
    }

    #[test]
    fn required_missing_names_the_variable() {
        let err = AppVariables::resolve(&defs(), env(&[])).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`api_key`"), "{msg}");
        assert!(msg.contains("SPIN_VARIABLE_API_KEY"), "{msg}");
    }

    #[test]
    fn component_get() {
        let vars = AppVariables::resolve(&defs(), env(&[("SPIN_VARIABLE_API_KEY", "k")])).unwrap();
        let component = vars
            .component(&BTreeMap::from([
                (
                    "url".to_string(),
                    "https://{{ region }}.example.com".to_string(),
                ),
                ("literal".to_string(), "plain".to_string()),
            ]))
            .unwrap();
        let host = VariablesHost::new("c".into(), Arc::new(component));
        assert_eq!(host.get("url").unwrap(), "https://eu.example.com");
        assert_eq!(host.get("literal").unwrap(), "plain");
        assert!(matches!(host.get("region"), Err(WitError::Undefined(_))));
        for bad in ["", "Url", "a-b", "_a", "a_", "a__b", "1a"] {
            assert!(
                matches!(host.get(bad), Err(WitError::InvalidName(_))),
                "{bad:?}"
            );
        }
    }
}
