//! Questions to the audience: the cheapest way to invite comments.
//!
//! Facebook ranks posts by the "meaningful interactions" they start
//! (comments and replies weigh more than reactions, per the January 2018
//! News Feed update), and questions reliably draw comments: Buddy Media's
//! study of brand Page posts ("Strategies for Effective Wall Posts", 2011)
//! found question posts got about twice the comments, and posts *ending*
//! with a question ~15% more engagement. A question at the end works best
//! (it is the last thing read); a string of
//! questions reads as an interrogation.

use crate::scoring::Signal;
use crate::text::{Doc, TokKind};
use crate::{Language, round3};

/// Question measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Questions {
    /// Sentences that are questions (contain `?` or `¿`).
    pub count: usize,
    /// The last sentence with words is a question.
    pub ends_with_question: bool,
    /// `?` characters.
    pub marks: usize,
}

pub fn measure(doc: &Doc<'_>) -> Questions {
    let count = doc.sentences.iter().filter(|s| s.is_question).count();
    let ends_with_question = doc.sentences.last().is_some_and(|s| s.is_question);
    let marks = doc.of_kind(TokKind::Punct).filter(|t| t.raw == "?").count();
    Questions {
        count,
        ends_with_question,
        marks,
    }
}

/// 0..=1: none 0.35, one or more 0.85, ending on a question 1.0, more than
/// three 0.7.
pub fn score(q: &Questions) -> f64 {
    match q.count {
        0 => 0.35,
        n if n > 3 => 0.7,
        _ if q.ends_with_question => 1.0,
        _ => 0.85,
    }
}

pub fn signal(q: &Questions, lang: Language) -> Signal {
    let n = q.count;
    let detail = match n {
        0 => tr!(
            lang,
            "No question to the audience.",
            "Sin preguntas a la audiencia."
        ),
        n if n > 3 => tr!(
            lang,
            "{n} questions: too many reads like a quiz; keep one clear question.",
            "{n} preguntas: demasiadas parece un cuestionario; deja una pregunta clara."
        ),
        _ if q.ends_with_question => tr!(
            lang,
            "Ends with a question: invites comments.",
            "Termina con una pregunta: invita a comentar."
        ),
        _ => tr!(
            lang,
            "Asks a question; placing it at the end makes it easier to answer.",
            "Hace una pregunta; ponerla al final facilita la respuesta."
        ),
    };
    Signal::new("question", round3(score(q)), detail)
}

pub fn suggestion(q: &Questions, lang: Language) -> Option<String> {
    if score(q) >= 0.75 {
        return None;
    }
    Some(if q.count == 0 {
        tr!(
            lang,
            "Add a question at the end to invite comments, e.g. \"Which one would you pick?\" or \"What would you add?\"",
            "Añade una pregunta al final para invitar a comentar, p. ej. «¿Cuál elegirías tú?» o «¿Qué añadirías?»"
        )
    } else {
        tr!(
            lang,
            "Keep one clear question instead of several, and put it at the end.",
            "Deja una sola pregunta clara en lugar de varias, y ponla al final."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ending_question_scores_best() {
        let none = measure(&Doc::new("We opened a new store downtown."));
        let mid = measure(&Doc::new(
            "Have you been there? We opened a new store downtown.",
        ));
        let end = measure(&Doc::new(
            "We opened a new store downtown. ¿Ya la conoces? 👇",
        ));
        let many = measure(&Doc::new("Why? How? When? Where? Who?"));
        assert_eq!(none.count, 0);
        assert!(end.ends_with_question);
        assert!(score(&none) < score(&mid));
        assert!(score(&mid) < score(&end));
        assert!(score(&many) < score(&end));
    }
}
