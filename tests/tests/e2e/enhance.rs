//! `POST /api/enhance` through the real host: weak posts get better (and
//! their bait is gone, as `/api/analyze` confirms), strong posts are not
//! made worse, bad input gets JSON 4xx errors, and answers are cached.

use serde_json::{Value, json};
use support::{Server, post_json, post_raw};

const WEAK_ES: &str = "HOLA A TODOS!!! DALE LIKE SI TE GUSTA EL CAFÉ Y COMPARTE CON TUS AMIGOS!!! Nuestro café de Colombia cuesta 4,50 € y lo servimos desde las 8:00 en la calle Mayor 12. Etiqueta a 3 amigos!!! #cafe #coffee #rico #amor #instafood #foodie #CAFETERIA #desayuno";
const WEAK_EN: &str = "LIKE AND SHARE IF YOU LOVE PIZZA!!! TAG A FRIEND WHO NEEDS PIZZA!!! Our Margherita is $12 and we are open until 11pm at 45 Baker Street. #pizza #food #yummy #love #instafood #foodie #PIZZAPARTY #dinner";
const STRONG_ES: &str = "¿Sabías que el 80% del sabor del café depende del tueste? ☕\nEste sábado te enseñamos en directo cómo tostamos cada lote, con tiempo para tus preguntas.\nReserva tu plaza en el enlace de la bio. ¿Qué café preparas tú en casa? 👇 #CaféDeEspecialidad";

fn enhance(server: &Server, body: &Value) -> Value {
    let reply = post_json(server, "/api/enhance", body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    reply.body
}

fn bait_signal(server: &Server, text: &str, lang: &str) -> f64 {
    let reply = post_json(
        server,
        "/api/analyze",
        &json!({ "text": text, "language": lang }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "engagement_bait")
        .expect("engagement_bait signal")["score"]
        .as_f64()
        .unwrap()
}

#[test]
fn enhance_improves_weak_posts_and_removes_bait() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    for (text, lang, facts) in [
        (
            WEAK_ES,
            "es",
            &["4,50", "8:00", "Mayor", "12", "Colombia"][..],
        ),
        (
            WEAK_EN,
            "en",
            &["$12", "11pm", "45", "Baker", "Street", "Margherita"][..],
        ),
    ] {
        let body = enhance(&server, &json!({ "text": text, "target_score": 0.9 }));
        let original = body["original"]["score"].as_f64().unwrap();
        let enhanced = body["enhanced"]["score"].as_f64().unwrap();
        let out = body["enhanced"]["text"].as_str().unwrap();
        assert_eq!(body["original"]["text"], text);
        assert_eq!(body["language"], lang);
        assert!(
            enhanced > original,
            "{lang}: {original} -> {enhanced}\n{body:#}"
        );
        assert_eq!(body["target_reached"], enhanced >= 0.9);
        if enhanced < 0.9 {
            assert!(!body["message"].as_str().unwrap().is_empty());
        }
        let edits = body["edits"].as_array().unwrap();
        assert!(!edits.is_empty());
        for e in edits {
            assert!(!e["rule"].as_str().unwrap().is_empty(), "{e}");
            assert!(e["before"].is_string() && e["after"].is_string(), "{e}");
        }
        assert!(
            edits.iter().any(|e| e["rule"] == "engagement_bait"),
            "{edits:?}"
        );
        for f in facts {
            assert!(out.contains(f), "{lang}: lost {f} in {out}");
        }
        assert!(body["scorer_version"].is_string() && body["rewrite_version"].is_string());
        // The analyse step agrees: no bait left, and the same score.
        assert_eq!(bait_signal(&server, out, lang), 1.0, "{out}");
        assert!(bait_signal(&server, text, lang) < 1.0);
        let again = post_json(
            &server,
            "/api/analyze",
            &json!({ "text": out, "language": lang }),
        );
        assert_eq!(again.body["score"].as_f64().unwrap(), enhanced);
    }
}

#[test]
fn enhance_never_lowers_a_strong_post_and_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let body = json!({ "text": STRONG_ES, "target_score": 1.0 });
    let first = post_json(&server, "/api/enhance", &body);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.cache.as_deref(), Some("miss"));
    let b = &first.body;
    assert!(b["enhanced"]["score"].as_f64().unwrap() >= b["original"]["score"].as_f64().unwrap());
    assert_eq!(b["target_reached"], false);
    assert!(!b["message"].as_str().unwrap().is_empty());
    let second = post_json(&server, "/api/enhance", &body);
    assert_eq!(second.cache.as_deref(), Some("hit"));
    assert_eq!(second.body, first.body, "deterministic and cached");
    // Default target: a strong post already meets it, untouched.
    let b = enhance(&server, &json!({ "text": STRONG_ES }));
    assert_eq!(b["target_reached"], true);
    assert_eq!(b["enhanced"]["text"], STRONG_ES);
    assert_eq!(b["edits"], json!([]));
}

#[test]
fn enhance_rejects_bad_input_with_json_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::app(dir.path());
    let cases: Vec<(&str, &[u8], u16)> = vec![
        ("not json", b"{text: nope", 400),
        ("missing text", br#"{"language":"es"}"#, 422),
        ("empty text", br#"{"text":"  "}"#, 422),
        ("text not a string", br#"{"text":5}"#, 422),
        (
            "target too high",
            br#"{"text":"hola","target_score":1.5}"#,
            422,
        ),
        (
            "target not a number",
            br#"{"text":"hola","target_score":"alto"}"#,
            422,
        ),
        ("max_edits zero", br#"{"text":"hola","max_edits":0}"#, 422),
        ("bad language", br#"{"text":"hola","language":"fr"}"#, 422),
    ];
    for (name, body, status) in cases {
        let reply = post_raw(&server, "/api/enhance", "application/json", body.to_vec());
        assert_eq!(reply.status, status, "{name}: {}", reply.text);
        assert!(
            reply.body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{name}: {}",
            reply.text
        );
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: {}",
            reply.text
        );
    }
}
