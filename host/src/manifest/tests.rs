//! The manifest's unit tests: a realistic manifest end to end, then each
//! rule with the path and line its error names, then profiles.

use std::path::Path;

use super::dependencies::InheritConfig;
use super::ids::ComponentId;
use super::*;

const REALISTIC: &str = r#"
spin_manifest_version = 2

[application]
name = "facebook-posts"
version = "0.1.0"
description = "Analyzes posts"
authors = ["Someone <someone@example.com>"]

[application.tool.spin-test]
source = "tests.wasm"

[variables]
model_name = { default = "tiny" }
upstream = { default = "https://upstream.example.com" }
api_token = { required = true, secret = true, description = "Upstream token" }

[[trigger.http]]
route = "/api/analyze"
component = "analyze"

[[trigger.http]]
id = "everything-else"
route = "/..."
component = "static-files"

[[trigger.http]]
route = { private = true }
component = "internal"

[component.analyze]
source = "target/wasm32-wasip2/wasm-release/analyze.wasm"
description = "The analyzer"
allowed_outbound_hosts = ["https://api.example.com", "{{ upstream }}"]
key_value_stores = ["default", "cache_store"]
environment = { RUST_LOG = "info" }
dependencies_inherit_configuration = true

[component.analyze.variables]
model = "{{ model_name }}"
token = "Bearer {{ api_token }}"
literal = "plain"

[component.analyze.build]
command = ["cargo build --target wasm32-wasip2 --profile wasm-release", "echo done"]
workdir = "components/analyze"
watch = ["src/**/*.rs", "Cargo.toml"]

[component.analyze.dependencies]
"fbposts:core/scoring" = { path = "deps/core.wasm", export = "fbposts:core/scoring@0.1.0" }
"fbposts:helpers" = { component = "helper" }
"wasi:nn@0.2.0" = "^0.2"
"my-dep" = { version = "1.0.0", package = "acme:dep", registry = "example.com" }
"acme:remote/thing" = { url = "https://example.com/x.wasm", digest = "sha256:abcd" }

[component.static-files]
source = "static.wasm"
key_value_stores = ["default"]
build.command = "make static"

[component.internal]
source = "/abs/internal.wasm"

[component.helper]
source = "helper.wasm"

[component.helper.profile.debug]
source = "helper-debug.wasm"
build.command = "make debug"
"#;

fn parse(text: &str) -> Result<AppManifest, ManifestError> {
    AppManifest::parse(text, Path::new("/app"), None)
}

/// A minimal valid manifest with `extra` appended.
fn with(extra: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n{extra}"
    )
}

fn parse_profile(text: &str, profile: &str) -> Result<AppManifest, ManifestError> {
    AppManifest::parse(text, Path::new("/app"), Some(profile))
}

/// Whether `e` is [`ManifestError::Invalid`] at `path` with `message` in its text.
fn is_invalid(e: &ManifestError, path: &str, message: &str) -> bool {
    matches!(e, ManifestError::Invalid { path: p, message: m, .. } if p == path && m.contains(message))
}

fn err(text: &str) -> ManifestError {
    match parse(text) {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn parses_realistic_manifest() {
    let m = parse(REALISTIC).unwrap();
    assert_eq!(m.name, "facebook-posts");
    assert_eq!(m.version.as_deref(), Some("0.1.0"));
    assert_eq!(m.base_dir, Path::new("/app"));

    assert_eq!(
        m.variables["model_name"],
        VariableDef {
            default: Some("tiny".into()),
            required: false,
            secret: false,
            description: None
        }
    );
    let token = &m.variables["api_token"];
    assert!(token.required && token.secret && token.default.is_none());
    assert_eq!(token.description.as_deref(), Some("Upstream token"));

    assert_eq!(
        m.http_triggers,
        vec![
            HttpTrigger {
                id: None,
                route: HttpRoute::Path("/api/analyze".into()),
                component: "analyze".into()
            },
            HttpTrigger {
                id: Some("everything-else".into()),
                route: HttpRoute::Path("/...".into()),
                component: "static-files".into()
            },
            HttpTrigger {
                id: None,
                route: HttpRoute::Private,
                component: "internal".into()
            },
        ]
    );

    assert_eq!(
        m.component_order,
        ["analyze", "static-files", "internal", "helper"]
    );
    let a = &m.components["analyze"];
    assert_eq!(a.id, "analyze");
    assert_eq!(
        a.source,
        Path::new("/app/target/wasm32-wasip2/wasm-release/analyze.wasm")
    );
    assert_eq!(a.description.as_deref(), Some("The analyzer"));
    assert_eq!(
        a.allowed_outbound_hosts,
        ["https://api.example.com", "{{ upstream }}"]
    );
    assert_eq!(a.key_value_stores, ["default", "cache_store"]);
    assert_eq!(a.environment["RUST_LOG"], "info");
    assert_eq!(a.variables["model"], "{{ model_name }}");
    assert_eq!(a.variables["token"], "Bearer {{ api_token }}");
    assert_eq!(a.variables["literal"], "plain");

    let b = a.build.as_ref().unwrap();
    assert_eq!(b.command.len(), 2);
    assert_eq!(b.workdir.as_deref(), Some(Path::new("components/analyze")));
    assert_eq!(b.watch, ["src/**/*.rs", "Cargo.toml"]);
    assert_eq!(
        b.workdir_in(&m.base_dir),
        Path::new("/app/components/analyze")
    );

    // dependencies_inherit_configuration = true is folded into each dependency.
    assert_eq!(
        a.dependencies["fbposts:core/scoring"],
        DependencyDef::Local {
            path: "/app/deps/core.wasm".into(),
            export: Some("fbposts:core/scoring@0.1.0".into()),
            inherit: InheritConfig::All
        }
    );
    assert_eq!(
        a.dependencies["fbposts:helpers"],
        DependencyDef::Component {
            component: "helper".into(),
            export: None,
            inherit: InheritConfig::All
        }
    );
    assert_eq!(
        a.dependencies["wasi:nn@0.2.0"],
        DependencyDef::Package {
            version: "^0.2".into(),
            registry: None,
            package: None,
            export: None,
            inherit: InheritConfig::All
        }
    );
    assert!(matches!(
        &a.dependencies["my-dep"],
        DependencyDef::Package { package: Some(p), registry: Some(r), .. } if p == "acme:dep" && r == "example.com"
    ));
    assert!(matches!(
        &a.dependencies["acme:remote/thing"],
        DependencyDef::Http { digest, .. } if digest == "sha256:abcd"
    ));
    assert_eq!(
        m.dependency_path(&a.dependencies["fbposts:helpers"]),
        Some(Path::new("/app/helper.wasm"))
    );

    let s = &m.components["static-files"];
    assert_eq!(s.build.as_ref().unwrap().command, ["make static"]);
    assert_eq!(s.build.as_ref().unwrap().workdir, None);
    assert_eq!(
        m.components["internal"].source,
        Path::new("/abs/internal.wasm")
    );

    assert_eq!(
        m.labels_in_use().into_iter().collect::<Vec<_>>(),
        ["cache_store", "default"]
    );
    assert_eq!(
        m.components_in_order()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        m.component_order
    );
}

#[test]
fn accepts_the_project_manifest() {
    let m = parse(include_str!("../../../spin.toml")).unwrap();
    assert!(!m.http_triggers.is_empty());
    crate::routing::Router::build(&m.http_triggers).unwrap();
}

#[test]
fn from_file_resolves_against_manifest_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), with("")).unwrap();
    let canonical = dir.path().canonicalize().unwrap();

    let m = AppManifest::from_file(&dir.path().join("spin.toml"), None).unwrap();
    assert_eq!(m.base_dir, canonical);
    assert_eq!(m.components["a"].source, canonical.join("a.wasm"));

    // A directory means its spin.toml.
    let m = AppManifest::from_file(dir.path(), None).unwrap();
    assert_eq!(m.base_dir, canonical);

    let e = AppManifest::from_file(&dir.path().join("missing.toml"), None).unwrap_err();
    assert!(matches!(e, ManifestError::Read { .. }), "{e}");
}

#[test]
fn syntax_errors_have_a_location() {
    let e = err("spin_manifest_version = 2\n[application\n");
    assert!(matches!(e, ManifestError::Syntax(_)));
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn version_must_be_two() {
    let e = err("spin_manifest_version = \"1\"\n[application]\nname = \"x\"\n");
    assert!(
        matches!(e, ManifestError::UnsupportedVersion { ref found, .. } if found == "\"1\""),
        "{e}"
    );
    let e = err("spin_manifest_version = 3\n");
    assert!(matches!(e, ManifestError::UnsupportedVersion { .. }), "{e}");
    let e = err("[application]\nname = \"x\"\n");
    assert!(
        matches!(e, ManifestError::MissingKey { ref path, .. } if path == "spin_manifest_version"),
        "{e}"
    );
}

#[test]
fn missing_sections_are_reported() {
    let e = err("spin_manifest_version = 2\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n");
    assert!(
        matches!(e, ManifestError::MissingKey { ref path, .. } if path == "application"),
        "{e}"
    );
    let e = err(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[component.a]\nsource = \"a.wasm\"\n",
    );
    assert!(
        matches!(e, ManifestError::MissingKey { ref path, .. } if path == "trigger"),
        "{e}"
    );
    let e = err(&with("[component.b]\ndescription = \"no source\"\n"));
    assert!(
        matches!(e, ManifestError::MissingKey { ref path, .. } if path == "component.b.source"),
        "{e}"
    );
    let e = err(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]]\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n",
    );
    assert!(
        matches!(e, ManifestError::MissingKey { ref path, .. } if path == "trigger.http[0].route"),
        "{e}"
    );
}

#[test]
fn unknown_keys_name_the_toml_path_and_line() {
    let e = err(&with("[component.a.build]\ncomand = \"make\"\n"));
    match &e {
        ManifestError::UnknownKey {
            path,
            location,
            expected,
        } => {
            assert_eq!(path, "component.a.build.comand");
            assert_eq!(location.line, 10);
            assert_eq!(location.column, 1);
            assert!(expected.contains("`command`"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.to_string().contains("component.a.build.comand"), "{e}");
    assert!(e.to_string().contains("line 10"), "{e}");

    for (extra, path) in [
        (
            "key_value_store = [\"default\"]\n",
            "component.a.key_value_store",
        ),
        (
            "[variables]\nx = { default = \"1\", secrett = true }\n",
            "variables.x.secrett",
        ),
        (
            "[application.trigger.http]\nbse = \"/\"\n",
            "application.trigger.http.bse",
        ),
        (
            "[component.a.dependencies]\n\"a:b\" = { path = \"x.wasm\", exprt = \"y\" }\n",
            "component.a.dependencies.\"a:b\".exprt",
        ),
        (
            "[component.a.profile.debug]\nsourc = \"x\"\n",
            "component.a.profile.debug.sourc",
        ),
    ] {
        let e = err(&with(extra));
        assert!(
            matches!(&e, ManifestError::UnknownKey { path: p, .. } if p == path),
            "{extra}: {e}"
        );
    }
    let e = err(&with("").replace("route = \"/\"", "route = \"/\"\nrout = \"/x\""));
    assert!(
        matches!(&e, ManifestError::UnknownKey { path, .. } if path == "trigger.http[0].rout"),
        "{e}"
    );
    let e = err(&with("").replacen("[application]", "extra_root = 1\n[application]", 1));
    assert!(
        matches!(&e, ManifestError::UnknownKey { path, .. } if path == "extra_root"),
        "{e}"
    );
}

#[test]
fn trigger_component_must_exist() {
    let e = err(&with("").replace("component = \"a\"", "component = \"nope\""));
    match &e {
        ManifestError::UnknownComponent {
            path,
            component,
            defined,
            location,
        } => {
            assert_eq!(path, "trigger.http[0].component");
            assert_eq!(component, "nope");
            assert_eq!(defined, "a");
            assert_eq!(location.line, 6);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn component_ids_follow_spin_naming() {
    for bad in [
        "bad_id",
        "1st",
        "Mixed-Case",
        "trailing-",
        "a--b",
        "dot.ted",
    ] {
        let text = with(&format!("[component.\"{bad}\"]\nsource = \"x.wasm\"\n"));
        let e = err(&text);
        assert!(
            is_invalid(
                &e,
                &error::join("component", bad),
                &format!("invalid component id {bad:?}")
            ),
            "{bad}: {e}"
        );
    }
    for good in ["a1", "my-component", "API-v2", "x"] {
        assert!(ComponentId::try_from(good.to_string()).is_ok(), "{good}");
    }
    let e = err(&with("").replace("component = \"a\"", "component = \"1-2-3\""));
    assert!(
        is_invalid(
            &e,
            "trigger.http[0].component",
            "invalid component id \"1-2-3\""
        ),
        "{e}"
    );
}

#[test]
fn variable_rules() {
    let e = err(&with("[variables]\n\"bad-name\" = { default = \"x\" }\n"));
    assert!(
        is_invalid(&e, "variables.bad-name", "invalid variable name"),
        "{e}"
    );
    let e = err(&with("[variables]\nNAME = { default = \"x\" }\n"));
    assert!(
        is_invalid(&e, "variables.NAME", "invalid variable name"),
        "{e}"
    );
    // required XOR default
    let e = err(&with(
        "[variables]\nx = { required = true, default = \"1\" }\n",
    ));
    assert!(
        matches!(&e, ManifestError::Invalid { path, .. } if path == "variables.x"),
        "{e}"
    );
    let e = err(&with("[variables]\nx = { secret = true }\n"));
    assert!(
        matches!(&e, ManifestError::Invalid { path, .. } if path == "variables.x"),
        "{e}"
    );
    // component variables must reference defined app variables
    let e = err(&with("[component.a.variables]\nv = \"{{ nope }}\"\n"));
    assert!(
        matches!(&e, ManifestError::Invalid { path, message, .. } if path == "component.a.variables.v" && message.contains("nope")),
        "{e}"
    );
    let e = err(&with("[component.a.variables]\nv = \"{{ unclosed\"\n"));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    let e = err(&with("[component.a.variables]\nBad = \"x\"\n"));
    assert!(
        is_invalid(&e, "component.a.variables.Bad", "invalid variable name"),
        "{e}"
    );
    // Templated outbound hosts are checked the same way.
    let e = err(&with("allowed_outbound_hosts = [\"{{ host }}\"]\n"));
    assert!(
        matches!(&e, ManifestError::Invalid { path, .. } if path == "component.a.allowed_outbound_hosts[0]"),
        "{e}"
    );
}

#[test]
fn remote_and_registry_sources_are_unsupported() {
    let text = with("").replace(
        "source = \"a.wasm\"",
        "source = { url = \"https://example.com/a.wasm\", digest = \"sha256:00\" }",
    );
    let e = err(&text);
    assert!(
        matches!(&e, ManifestError::Unsupported { path, .. } if path == "component.a.source"),
        "{e}"
    );
    assert!(e.to_string().contains("remote component source"), "{e}");
    let text = with("").replace(
        "source = \"a.wasm\"",
        "source = { registry = \"ttl.sh\", package = \"a:b\", version = \"1.0.0\" }",
    );
    assert!(matches!(err(&text), ManifestError::Unsupported { .. }));
    let text = with("").replace("source = \"a.wasm\"", "source = 5");
    let e = err(&text);
    assert!(
        is_invalid(&e, "component.a.source", "invalid type: integer"),
        "{e}"
    );
}

#[test]
fn unsupported_features_are_rejected_not_ignored() {
    let cases = [
        (
            with("[[trigger.mqtt]]\nchannel = \"x\"\ncomponent = \"a\"\n"),
            "trigger.mqtt",
        ),
        (
            with("").replace("component = \"a\"", "component = { source = \"x.wasm\" }"),
            "trigger.http[0].component",
        ),
        (
            with("").replace(
                "route = \"/\"",
                "route = \"/\"\nexecutor = { type = \"wagi\" }",
            ),
            "trigger.http[0].executor",
        ),
        (
            with("").replace(
                "route = \"/\"",
                "route = \"/\"\nstatic_response = { body = \"hi\" }",
            ),
            "trigger.http[0].static_response",
        ),
        (with("files = [\"static/*\"]\n"), "component.a.files"),
        (
            with("sqlite_databases = [\"default\"]\n"),
            "component.a.sqlite_databases",
        ),
        (
            with("ai_models = [\"llama2-chat\"]\n"),
            "component.a.ai_models",
        ),
        (
            with("allowed_http_hosts = [\"example.com\"]\n"),
            "component.a.allowed_http_hosts",
        ),
        (
            with("[application.trigger.http]\nbase = \"/base\"\n"),
            "application.trigger.http.base",
        ),
    ];
    for (text, path) in cases {
        let e = err(&text);
        assert!(
            matches!(&e, ManifestError::Unsupported { path: p, .. } if p == path),
            "{path}: {e}"
        );
    }
    // Empty lists of unsupported things are fine, as is executor = http and base = "/".
    parse(&with(
        "files = []\nai_models = []\n[application.trigger.http]\nbase = \"/\"\n",
    ))
    .unwrap();
    parse(&with("").replace(
        "route = \"/\"",
        "route = \"/\"\nexecutor = { type = \"http\" }",
    ))
    .unwrap();
}

#[test]
fn routes_and_private_endpoints() {
    let e = err(&with("").replace("route = \"/\"", "route = { private = false }"));
    assert!(
        matches!(&e, ManifestError::Invalid { path, .. } if path == "trigger.http[0].route"),
        "{e}"
    );
    let e = err(&with("").replace("route = \"/\"", "route = 42"));
    assert!(
        is_invalid(&e, "trigger.http[0].route", "invalid type: integer"),
        "{e}"
    );
    let m = parse(&with("").replace("route = \"/\"", "route = { private = true }")).unwrap();
    assert_eq!(m.http_triggers[0].route, HttpRoute::Private);
    assert_eq!(m.http_triggers[0].route.to_string(), "{ private = true }");
}

#[test]
fn component_field_validation() {
    let e = err(&with("key_value_stores = [\"bad store\"]\n"));
    assert!(
        is_invalid(
            &e,
            "component.a.key_value_stores[0]",
            "invalid key-value store label"
        ),
        "{e}"
    );
    let e = err(&with("allowed_outbound_hosts = [\"example.com\"]\n"));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    let e = err(&with(
        "[component.a.build]\ncommand = \"make\"\nworkdir = \"/abs\"\n",
    ));
    assert!(
        matches!(&e, ManifestError::Invalid { path, .. } if path == "component.a.build.workdir"),
        "{e}"
    );
    let e = err(&with("[component.a.build]\ncommand = 1\n"));
    assert!(
        is_invalid(
            &e,
            "component.a.build.command",
            "a command string or an array"
        ),
        "{e}"
    );
    let e = err(&with("[component.a.build]\nworkdir = \"x\"\n"));
    assert!(
        matches!(&e, ManifestError::MissingKey { path, .. } if path == "component.a.build.command"),
        "{e}"
    );
    let e = err(&with("environment = { X = 1 }\n"));
    assert!(
        is_invalid(&e, "component.a.environment.X", "invalid type: integer"),
        "{e}"
    );
}

#[test]
fn dependency_rules() {
    // Plain names need a package.
    let e = err(&with("[component.a.dependencies]\nplain = \"1.0\"\n"));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    // Package names (no interface) may not pick an export.
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b\" = { path = \"x.wasm\", export = \"y\" }\n",
    ));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    // Ambiguous or empty dependency tables.
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", url = \"http://x\" }\n",
    ));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { url = \"http://x\" }\n",
    ));
    assert!(
        matches!(&e, ManifestError::MissingKey { path, .. } if path.ends_with(".digest")),
        "{e}"
    );
    // Bad names.
    let e = err(&with("[component.a.dependencies]\n\"a:b@1\" = \"1\"\n"));
    assert!(
        is_invalid(
            &e,
            "component.a.dependencies.\"a:b@1\"",
            "invalid dependency name"
        ),
        "{e}"
    );
    // Component dependencies must exist...
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { component = \"ghost\" }\n",
    ));
    assert!(
        matches!(&e, ManifestError::UnknownComponent { component, .. } if component == "ghost"),
        "{e}"
    );
    // ...and have no resources of their own.
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { component = \"b\" }\n[component.b]\nsource = \"b.wasm\"\nkey_value_stores = [\"default\"]\n",
    ));
    assert!(
        matches!(&e, ManifestError::Invalid { message, .. } if message.contains("key_value_stores")),
        "{e}"
    );
    // Component-level and per-dependency inheritance are exclusive.
    let e = err(&with(
        "dependencies_inherit_configuration = true\n[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", inherit_configuration = false }\n",
    ));
    assert!(matches!(&e, ManifestError::Invalid { .. }), "{e}");
    let m = parse(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", inherit_configuration = [\"key_value_stores\"] }\n",
    ))
    .unwrap();
    assert!(matches!(
        &m.components["a"].dependencies["a:b/c"],
        DependencyDef::Local { inherit: InheritConfig::Only(keys), .. } if keys == &["key_value_stores"]
    ));
    // A key nobody knows (a typo) is refused where it is written.
    let e = err(&with(
        "[component.a.dependencies]\n\"a:b/c\" = { path = \"x.wasm\", inherit_configuration = [\"key_value_store\"] }\n",
    ));
    assert!(
        is_invalid(
            &e,
            "component.a.dependencies.\"a:b/c\".inherit_configuration",
            "unknown configuration key \"key_value_store\"; known: ai_models, allowed_outbound_hosts, environment, files, key_value_stores, sqlite_databases, variables, wasi_nn"
        ),
        "{e}"
    );
}

#[test]
fn wrong_types_are_reported_with_path() {
    let e = err(&with("[variables]\nx = { required = \"yes\" }\n"));
    match &e {
        ManifestError::Invalid { path, message, .. } => {
            assert_eq!(path, "variables.x.required");
            assert!(message.contains("expected a boolean"), "{message}");
            assert!(message.contains("invalid type: string"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

mod profiles;

#[test]
fn cron_triggers_are_read_with_their_schedule() {
    let m = parse(&with(
        "[[trigger.cron]]\ncomponent = \"a\"\ncron_expression = \"0 0 * * * *\"\n",
    ))
    .unwrap();
    assert_eq!(m.cron_triggers.len(), 1);
    assert_eq!(m.cron_triggers[0].component, "a");
    assert_eq!(m.cron_triggers[0].cron_expression, "0 0 * * * *");
    assert_eq!(m.http_triggers.len(), 1);
}

#[test]
fn a_cron_expression_that_does_not_parse_is_refused_at_its_key() {
    let e = err(&with(
        "[[trigger.cron]]\ncomponent = \"a\"\ncron_expression = \"*/5 * * * *\"\n",
    ));
    assert!(
        is_invalid(
            &e,
            "trigger.cron[0].cron_expression",
            "is not a cron expression with seconds"
        ),
        "{e}"
    );
}

#[test]
fn a_cron_trigger_must_name_a_defined_component() {
    let e = err(&with(
        "[[trigger.cron]]\ncomponent = \"nope\"\ncron_expression = \"0 0 * * * *\"\n",
    ));
    assert!(
        matches!(&e, ManifestError::UnknownComponent { path, .. } if path == "trigger.cron[0].component"),
        "{e}"
    );
}

#[test]
fn redis_triggers_and_the_application_address_are_read_as_written() {
    let m = parse(&with(
        "[[trigger.redis]]\nchannel = \"{{ events }}\"\ncomponent = \"a\"\n[[trigger.redis]]\nchannel = \"b\"\ncomponent = \"a\"\naddress = \"redis://other:6379\"\n[application.trigger.redis]\naddress = \"{{ redis_address }}\"\n",
    ))
    .unwrap();
    assert_eq!(m.redis_triggers.len(), 2);
    assert_eq!(m.redis_triggers[0].channel, "{{ events }}");
    assert_eq!(m.redis_triggers[0].address, None);
    assert_eq!(
        m.redis_triggers[1].address.as_deref(),
        Some("redis://other:6379")
    );
    assert_eq!(m.redis_address.as_deref(), Some("{{ redis_address }}"));
}

#[test]
fn a_redis_trigger_must_name_a_defined_component_and_a_channel() {
    let e = err(&with(
        "[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"nope\"\n",
    ));
    assert!(
        matches!(&e, ManifestError::UnknownComponent { path, .. } if path == "trigger.redis[0].component"),
        "{e}"
    );
    let e = err(&with("[[trigger.redis]]\ncomponent = \"a\"\n"));
    assert!(
        matches!(&e, ManifestError::MissingKey { path, .. } if path == "trigger.redis[0].channel"),
        "{e}"
    );
}

#[test]
fn an_unknown_key_in_the_application_redis_settings_is_refused() {
    let e = err(&with("[application.trigger.redis]\naddres = \"x\"\n"));
    assert!(
        matches!(&e, ManifestError::UnknownKey { path, .. } if path == "application.trigger.redis.addres"),
        "{e}"
    );
}
