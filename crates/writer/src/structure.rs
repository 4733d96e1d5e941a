//! Post structures: the template engine's layouts and the arms of the
//! structure bandit. A structure fixes the hook style, where the call to
//! action goes, whether the post closes with a question to the audience or
//! with a statement, and how many emoji it carries. Ids are stable strings
//! (`"{hook}-hook/cta-{end|mid}/{ask|tell}/emoji-{low|high}"`): the bandit
//! stores its statistics under them, so never rename one — add a new one.

/// How the first line grabs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookStyle {
    /// A question to the reader.
    Question,
    /// Opens with a number.
    Number,
    /// A bold statement / open loop ("What nobody tells you about…").
    Statement,
    /// Speaks to the reader ("You don't need…", "Imagina…").
    Reader,
    /// "How to…" / "Así es como…".
    HowTo,
}

impl HookStyle {
    pub const ALL: [HookStyle; 5] = [
        HookStyle::Question,
        HookStyle::Number,
        HookStyle::Statement,
        HookStyle::Reader,
        HookStyle::HowTo,
    ];
}

/// Where the call to action goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtaPosition {
    /// After the first body paragraph.
    Middle,
    /// Last line before the hashtags (before the closing question, if any).
    End,
}

/// How the post closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Closing {
    /// A question to the audience (the post ends with a question).
    Ask,
    /// A closing statement.
    Tell,
}

/// Emoji density (only when the brief allows emoji).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmojiDensity {
    /// One emoji, at the end of the hook.
    Low,
    /// Two or three: hook, first paragraph and closing line.
    High,
}

/// One layout of the template engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Structure {
    pub id: &'static str,
    pub hook: HookStyle,
    pub cta: CtaPosition,
    pub closing: Closing,
    pub emoji: EmojiDensity,
}

use Closing::{Ask, Tell};
use CtaPosition::{End, Middle};
use EmojiDensity::{High, Low};
use HookStyle::{HowTo, Number, Question, Reader, Statement};

const fn s(
    id: &'static str,
    hook: HookStyle,
    cta: CtaPosition,
    closing: Closing,
    emoji: EmojiDensity,
) -> Structure {
    Structure {
        id,
        hook,
        cta,
        closing,
        emoji,
    }
}

/// Eight curated structures (not the full 5×2×2×2 product): every hook
/// style at least once, both CTA positions, both closings, both densities.
pub const STRUCTURES: &[Structure] = &[
    s(
        "question-hook/cta-end/ask/emoji-low",
        Question,
        End,
        Ask,
        Low,
    ),
    s("number-hook/cta-end/tell/emoji-low", Number, End, Tell, Low),
    s(
        "statement-hook/cta-mid/ask/emoji-high",
        Statement,
        Middle,
        Ask,
        High,
    ),
    s("reader-hook/cta-end/ask/emoji-high", Reader, End, Ask, High),
    s(
        "howto-hook/cta-mid/tell/emoji-low",
        HowTo,
        Middle,
        Tell,
        Low,
    ),
    s(
        "question-hook/cta-mid/tell/emoji-high",
        Question,
        Middle,
        Tell,
        High,
    ),
    s("number-hook/cta-end/ask/emoji-high", Number, End, Ask, High),
    s(
        "statement-hook/cta-end/tell/emoji-low",
        Statement,
        End,
        Tell,
        Low,
    ),
];

/// The structure with this id.
pub fn by_id(id: &str) -> Option<&'static Structure> {
    STRUCTURES.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_describe_the_structure() {
        for (i, a) in STRUCTURES.iter().enumerate() {
            assert!(STRUCTURES[i + 1..].iter().all(|b| b.id != a.id));
            let hook = match a.hook {
                Question => "question",
                Number => "number",
                Statement => "statement",
                Reader => "reader",
                HowTo => "howto",
            };
            let cta = if a.cta == End { "end" } else { "mid" };
            let close = if a.closing == Ask { "ask" } else { "tell" };
            let emoji = if a.emoji == Low { "low" } else { "high" };
            assert_eq!(a.id, format!("{hook}-hook/cta-{cta}/{close}/emoji-{emoji}"));
            assert_eq!(by_id(a.id), Some(a));
        }
        for h in HookStyle::ALL {
            assert!(STRUCTURES.iter().any(|s| s.hook == h));
        }
        assert!(by_id("nope").is_none());
    }
}
