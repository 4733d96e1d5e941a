//! Auto-quality enhancement, for steps that write posts (`generate`): a
//! draft scoring below [`AUTO_ENHANCE_BELOW`] goes through the same form-only
//! rewrite as `/api/enhance`, and the rewrite replaces it only when it scores
//! strictly higher. Both versions are reported so the caller can show them.

use crate::{EnhanceRequest, Scored, enhance_with};
use fbposts_core::{Analysis, AnalyzeRequest};
use serde::Serialize;

/// Drafts scoring below this are enhanced automatically.
pub const AUTO_ENHANCE_BELOW: f64 = 0.8;

/// What happened to one draft that scored below [`AUTO_ENHANCE_BELOW`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoEnhancement {
    /// Whether `enhanced` replaced the draft (only when it scores higher).
    pub applied: bool,
    pub original: Scored,
    pub enhanced: Scored,
    /// The rules applied, in order.
    pub edits: Vec<&'static str>,
}

impl AutoEnhancement {
    /// The text to keep: the enhanced one when applied, else the draft.
    pub fn kept_text(&self) -> &str {
        if self.applied {
            &self.enhanced.text
        } else {
            &self.original.text
        }
    }
}

/// Enhances `req.text` if it scores below [`AUTO_ENHANCE_BELOW`]; `None`
/// when it does not. `score` is the caller's scorer, so both versions are
/// scored in the caller's full context (e.g. with its audience).
pub fn auto_enhance<E>(
    req: &EnhanceRequest,
    score: impl Fn(&AnalyzeRequest) -> Result<Analysis, E>,
) -> Result<Option<AutoEnhancement>, E> {
    let req = EnhanceRequest {
        target_score: req.target_score.max(AUTO_ENHANCE_BELOW),
        ..req.clone()
    };
    let enhancement = enhance_with(&req, score)?;
    if enhancement.original.score >= AUTO_ENHANCE_BELOW {
        return Ok(None);
    }
    Ok(Some(AutoEnhancement {
        applied: enhancement.enhanced.score > enhancement.original.score,
        edits: enhancement.edits.iter().map(|edit| edit.rule).collect(),
        original: Scored {
            text: req.text.clone(),
            score: enhancement.original.score,
        },
        enhanced: enhancement.enhanced,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::POSTS;
    use fbposts_core::{Language, analyze};

    fn auto(lang: &str, text: &str) -> Option<AutoEnhancement> {
        let req = EnhanceRequest {
            language: Language::parse(lang),
            ..EnhanceRequest::new(text)
        };
        match auto_enhance(&req, |r| Ok::<_, std::convert::Infallible>(analyze(r))) {
            Ok(result) => result,
            Err(never) => match never {},
        }
    }

    #[test]
    fn a_draft_at_or_above_the_threshold_is_left_alone() {
        let strong = POSTS
            .iter()
            .find(|(lang, text)| {
                let req = AnalyzeRequest {
                    language: Language::parse(lang),
                    ..AnalyzeRequest::new(*text)
                };
                analyze(&req).score >= AUTO_ENHANCE_BELOW
            })
            .expect("the corpus has a post scoring at least 0.8");
        assert_eq!(auto(strong.0, strong.1), None);
    }

    #[test]
    fn a_weak_draft_is_replaced_only_by_a_higher_scoring_rewrite() {
        let mut applied = 0;
        let mut seen = 0;
        for (lang, text) in POSTS {
            let Some(result) = auto(lang, text) else {
                continue;
            };
            seen += 1;
            assert!(result.original.score < AUTO_ENHANCE_BELOW, "{text}");
            assert_eq!(result.original.text, *text);
            assert_eq!(
                result.applied,
                result.enhanced.score > result.original.score,
                "{result:#?}"
            );
            if result.applied {
                applied += 1;
                assert_eq!(result.kept_text(), result.enhanced.text);
                assert!(!result.edits.is_empty(), "{result:#?}");
            } else {
                assert_eq!(result.kept_text(), *text);
            }
        }
        assert!(
            seen >= 5,
            "only {seen} corpus posts score below the threshold"
        );
        assert!(applied >= 1, "no weak corpus post was improved");
    }

    #[test]
    fn the_rewrite_aims_at_least_at_the_threshold() {
        let weak = POSTS
            .iter()
            .find_map(|(lang, text)| auto(lang, text).filter(|result| result.applied))
            .expect("a weak corpus post that can be improved");
        let lenient = EnhanceRequest {
            target_score: 0.1,
            ..EnhanceRequest::new(weak.original.text.clone())
        };
        let again = auto_enhance(&lenient, |r| Ok::<_, std::convert::Infallible>(analyze(r)))
            .unwrap()
            .unwrap();
        assert_eq!(again.enhanced, weak.enhanced);
    }
}
