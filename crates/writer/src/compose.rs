//! The template engine: [`write_drafts`] turns a brief into `n` drafts, one
//! per requested structure, by filling curated phrases (`bank.rs`) with the
//! topic, audience, keywords and brand words, choosing emoji and hashtags,
//! fitting the length and running every draft through [`conform`] and
//! [`check`].
//!
//! With `details`, the post is built around them (`details.rs`): the hook
//! opens with the most striking detail, the others follow as labelled
//! lines right after it, a link among them becomes the call to action's
//! link, and generic body lines are only added to reach the length.
//!
//! Drafts in one response never share a hook template or an opening (first
//! 5 words), and body lines and calls to action are rotated so each draft
//! reads differently. Choices come from a SplitMix64 seeded with
//! `brief.seed`: same brief and seed, same drafts.

use crate::bank::{Bank, bank};
use crate::brief::{Brief, Cta, Goal};
use crate::conform::{brand_line, check, conform, cta_sentence};
use crate::details::{self, DetailKind};
use crate::emoji;
use crate::rng::Rng;
use crate::structure::{Closing, CtaPosition, EmojiDensity, STRUCTURES, Structure, by_id};
use crate::text::{self, a, capitalize, de, find_words, join_list, measure, opening};
use fbposts_core::Language;

/// Words compared for "the same opening".
pub const OPENING_WORDS: usize = 5;

/// One generated post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub text: String,
    /// The [`Structure::id`] it was written with.
    pub structure: &'static str,
}

/// Values the templates' placeholders are filled with.
struct Ctx<'a> {
    lang: Language,
    topic: &'a str,
    audience: Option<&'a str>,
    keywords: &'a [String],
    url: Option<&'a str>,
}

impl Ctx<'_> {
    fn fill(&self, tpl: &str) -> String {
        let (aud, who) = match (self.lang, self.audience) {
            (Language::Es, Some(a)) => (format!("para {a}"), a.to_string()),
            (Language::Es, None) => ("para ti".to_string(), "ti".to_string()),
            (Language::En, Some(a)) => (format!("for {a}"), a.to_string()),
            (Language::En, None) => ("for you".to_string(), "you".to_string()),
        };
        let kws = join_list(self.lang, self.keywords);
        let mut s = tpl
            .replace("{Topic}", &capitalize(self.topic))
            .replace("{de_topic}", &de(self.lang, self.topic))
            .replace("{a_topic}", &a(self.lang, self.topic))
            .replace("{topic}", self.topic)
            .replace("{aud}", &aud)
            .replace("{who}", &who)
            .replace("{de_kws}", &de(self.lang, &kws))
            .replace("{kws}", &kws);
        if let Some(u) = self.url {
            s = s.replace("{url}", u);
        }
        capitalize(&s)
    }
}

/// Does a filled line avoid every word to avoid?
fn allowed(brief: &Brief, line: &str) -> bool {
    brief
        .avoid_words()
        .iter()
        .all(|w| find_words(line, w, false).is_empty())
}

/// Folded words of `text`.
fn folded_words(text: &str) -> Vec<String> {
    text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Would `line` repeat the draft? True when it shares a pair of adjacent
/// words containing a content word (e.g. "todos los detalles", "cada
/// paso", "más de lo que parece") or its first word, when that is a
/// content word ("Aviso: …" twice), with `current`.
fn repeats(lang: Language, current: &str, line: &str) -> bool {
    let content = |w: &str| w.len() >= 3 && !fbposts_core::lang::is_stopword(lang, w);
    let pairs = |ws: &[String]| -> Vec<(String, String)> {
        ws.windows(2)
            .filter(|p| content(&p[0]) || content(&p[1]))
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect()
    };
    let cur = folded_words(current);
    let cand = folded_words(line);
    let cur_pairs = pairs(&cur);
    if pairs(&cand).iter().any(|p| cur_pairs.contains(p)) {
        return true;
    }
    let first = |s: &str| folded_words(s).into_iter().next();
    match first(line) {
        Some(f) if content(&f) && f.len() >= 4 => current
            .lines()
            .flat_map(text::sentences)
            .any(|s| first(&s).as_deref() == Some(f.as_str())),
        _ => false,
    }
}

/// What the drafts of one response have used so far.
#[derive(Default)]
struct Used {
    hooks: Vec<usize>,
    openings: Vec<String>,
    lines: Vec<String>,
}

impl Used {
    fn count(&self, line: &str) -> usize {
        self.lines.iter().filter(|l| *l == line).count()
    }
}

/// Picks one of `options` (already filled), preferring the least used in
/// this response, at random among those.
fn pick(rng: &mut Rng, options: &[String], used: &Used) -> Option<String> {
    let min = options.iter().map(|o| used.count(o)).min()?;
    let best: Vec<&String> = options.iter().filter(|o| used.count(o) == min).collect();
    Some(best[rng.below(best.len())].clone())
}

/// The parts of a draft before layout.
struct Parts {
    hook: String,
    /// Labelled detail lines, one per line right after the hook.
    facts: Vec<String>,
    body: Vec<String>,
    mid: Vec<String>,
    end: Vec<String>,
}

fn render(p: &Parts, tags: &[String], emoji: &[&str], density: EmojiDensity) -> String {
    let with = |line: &str, e: Option<&&str>| match e {
        Some(e) => format!("{line} {e}"),
        None => line.to_string(),
    };
    let mut out = with(&p.hook, emoji.first());
    for f in &p.facts {
        out.push('\n');
        out.push_str(f);
    }
    let high = density == EmojiDensity::High;
    // Paragraphs of at most two sentences; the mid-post CTA follows the
    // first one.
    let paragraphs: Vec<String> = p.body.chunks(2).map(|c| c.join(" ")).collect();
    if paragraphs.is_empty() && !p.mid.is_empty() {
        out.push_str("\n\n");
        out.push_str(&p.mid.join("\n"));
    }
    for (i, para) in paragraphs.iter().enumerate() {
        out.push_str("\n\n");
        out.push_str(&with(
            para,
            if high && i == 0 { emoji.get(1) } else { None },
        ));
        if i == 0 {
            for m in &p.mid {
                out.push('\n');
                out.push_str(m);
            }
        }
    }
    if !p.end.is_empty() {
        out.push_str("\n\n");
        let last = p.end.len() - 1;
        for (i, l) in p.end.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let e = if high && i == last && paragraphs.is_empty() {
                emoji.get(1)
            } else {
                None
            };
            out.push_str(&with(l, e));
        }
    }
    if !tags.is_empty() {
        out.push_str("\n\n");
        out.push_str(&tags.join(" "));
    }
    text::tidy(&out)
}

/// `n` drafts, one per structure id in `structures` (cycled when there are
/// fewer ids than `n`; unknown ids are skipped; no valid id → all of
/// [`STRUCTURES`]). Every draft has passed [`conform`]; it also passes
/// [`check`] unless the brief is impossible to satisfy (e.g. a 200-char
/// topic in a short post), in which case the best attempt is returned and
/// [`check`] says why. Keywords appear in every medium and long draft, and
/// in short ones when they fit beside the hook and the call to action.
/// At most 25 drafts (the number of hook templates per
/// language).
pub fn write_drafts(brief: &Brief, structures: &[&str], n: usize) -> Vec<Draft> {
    let mut list: Vec<&'static Structure> = structures.iter().filter_map(|s| by_id(s)).collect();
    if list.is_empty() {
        list = STRUCTURES.iter().collect();
    }
    let b = bank(brief.language);
    let mut rng = Rng::new(brief.seed);
    let mut used = Used::default();
    let mut out = Vec::new();
    for i in 0..n.min(b.hooks.len()) {
        let s = list[i % list.len()];
        let mut best: Option<(usize, String, usize, Vec<String>)> = None;
        for attempt in 0..12 {
            let mut r = rng.fork((i * 100 + attempt) as u64);
            let Some((hook_idx, text, lines, fits)) = build(brief, b, s, &mut r, &used) else {
                continue;
            };
            // Constraint violations first; then whether it had to be cut,
            // and keywords left out for lack of room.
            let missing_keywords = brief
                .keywords
                .iter()
                .filter(|k| !text::contains_words(&text, k))
                .count();
            let problems = 4 * check(brief, &text).len() + usize::from(!fits) + missing_keywords;
            if best.as_ref().is_none_or(|(p, ..)| problems < *p) {
                best = Some((problems, text, hook_idx, lines));
            }
            if problems == 0 {
                break;
            }
        }
        let Some((_, text, hook_idx, lines)) = best else {
            break;
        };
        used.hooks.push(hook_idx);
        used.openings.push(opening(&text, OPENING_WORDS));
        used.lines.extend(lines);
        out.push(Draft {
            text,
            structure: s.id,
        });
    }
    out
}

/// Offset of detail hooks in [`Used::hooks`] (generic hooks are `0..25`).
const DETAIL_HOOK_BASE: usize = 1000;

/// A hook opening with `detail`: the structure's style first, any unused
/// one otherwise. Returns (hook id, text).
fn detail_hook(
    brief: &Brief,
    s: &Structure,
    rng: &mut Rng,
    used: &Used,
    detail: &str,
) -> Option<(usize, String)> {
    let hooks = details::hooks(brief.language);
    let fill = |i: usize| details::fill_hook(hooks[i].1, detail, &brief.topic);
    let fresh = |i: &usize| {
        !used.hooks.contains(&(DETAIL_HOOK_BASE + i)) && {
            let h = fill(*i);
            allowed(brief, &h)
                && text::measure(&h) <= 150
                && !used.openings.contains(&opening(&h, OPENING_WORDS))
        }
    };
    let mut idx: Vec<usize> = (0..hooks.len())
        .filter(|i| hooks[*i].0 == s.hook)
        .filter(fresh)
        .collect();
    if idx.is_empty() {
        idx = (0..hooks.len()).filter(fresh).collect();
    }
    if idx.is_empty() {
        return None;
    }
    let i = idx[rng.below(idx.len())];
    Some((DETAIL_HOOK_BASE + i, fill(i)))
}

/// A hook from the generic bank: the structure's style first, any unused
/// one otherwise. Returns (hook id, text).
fn generic_hook(
    brief: &Brief,
    b: &Bank,
    ctx: &Ctx<'_>,
    s: &Structure,
    rng: &mut Rng,
    used: &Used,
) -> Option<(usize, String)> {
    let fresh = |i: &usize| {
        !used.hooks.contains(i) && {
            let h = ctx.fill(b.hooks[*i].1);
            allowed(brief, &h) && !used.openings.contains(&opening(&h, OPENING_WORDS))
        }
    };
    let mut idx: Vec<usize> = (0..b.hooks.len())
        .filter(|i| b.hooks[*i].0 == s.hook)
        .filter(fresh)
        .collect();
    if idx.is_empty() {
        idx = (0..b.hooks.len()).filter(fresh).collect();
    }
    if idx.is_empty() {
        return None;
    }
    let i = idx[rng.below(idx.len())];
    Some((i, ctx.fill(b.hooks[i].1)))
}

/// One attempt at a draft: (hook index, conformed text, lines used,
/// whether it fitted the length before conform).
fn build(
    brief: &Brief,
    b: &Bank,
    s: &Structure,
    rng: &mut Rng,
    used: &Used,
) -> Option<(usize, String, Vec<String>, bool)> {
    let lang = brief.language;
    let url = match &brief.cta {
        Some(Cta::Url(u)) => Some(u.as_str()),
        _ => details::link(brief),
    };
    // A link among the details is carried by the call to action.
    let link_cta = url.is_some() && !matches!(brief.cta, Some(Cta::Text(_)));
    let ctx = Ctx {
        lang,
        topic: &brief.topic,
        audience: brief.audience.as_deref(),
        keywords: &brief.keywords,
        url,
    };
    let fill_all = |tpls: &mut dyn Iterator<Item = &&str>| -> Vec<String> {
        tpls.map(|t| ctx.fill(t))
            .filter(|l| allowed(brief, l))
            .collect()
    };

    // Hook: from the most striking detail when there is one; else the
    // structure's style first, any unused one otherwise.
    let facts_list = details::classified(brief);
    let striking = facts_list.first().filter(|d| d.kind != DetailKind::Link);
    let (hook_idx, hook, hook_detail) = match striking.and_then(|d| {
        detail_hook(brief, s, rng, used, &d.text).map(|(i, h)| (i, h, Some(d.text.clone())))
    }) {
        Some(found) => found,
        None => {
            let (i, h) = generic_hook(brief, b, &ctx, s, rng, used)?;
            (i, h, None)
        }
    };
    let facts: Vec<String> = facts_list
        .iter()
        .filter(|d| Some(&d.text) != hook_detail.as_ref())
        .filter(|d| !(d.kind == DetailKind::Link && link_cta && url == Some(d.text.as_str())))
        .map(|d| details::line(d, lang))
        .collect();
    let mut lines_used = Vec::new();

    // Call to action.
    let question_goal = matches!(brief.goal, Goal::Engagement | Goal::Community);
    let goal_ctas = fill_all(&mut b.ctas.iter().filter(|c| c.0 == brief.goal).map(|c| &c.1));
    let mut cta_lines: Vec<String> = Vec::new();
    let mut link_line: Option<String> = None;
    match &brief.cta {
        Some(Cta::Text(t)) => cta_lines.push(cta_sentence(t, lang)),
        _ if link_cta && !question_goal => {
            let opts = fill_all(
                &mut b
                    .link_ctas
                    .iter()
                    .filter(|c| c.0 == brief.goal)
                    .map(|c| &c.1),
            );
            let l = pick(rng, &opts, used).unwrap_or_else(|| ctx.fill(b.link_line));
            cta_lines.push(l);
        }
        _ if link_cta => {
            cta_lines.extend(pick(rng, &goal_ctas, used));
            link_line = Some(ctx.fill(b.link_line));
        }
        _ => cta_lines.extend(pick(rng, &goal_ctas, used)),
    }
    lines_used.extend(cta_lines.iter().cloned());

    // Closing.
    let closing = match s.closing {
        Closing::Ask if question_goal && !matches!(brief.cta, Some(Cta::Text(_))) => None,
        Closing::Ask => pick(rng, &fill_all(&mut b.questions.iter()), used),
        Closing::Tell => pick(
            rng,
            &fill_all(
                &mut b
                    .closings
                    .iter()
                    .filter(|c| c.0 == brief.tone)
                    .map(|c| &c.1),
            ),
            used,
        ),
    };
    lines_used.extend(closing.iter().cloned());

    // Layout of the fixed parts.
    let mut mid = Vec::new();
    let mut end = Vec::new();
    let cta_last = question_goal && !matches!(brief.cta, Some(Cta::Text(_)));
    if cta_last {
        // The CTA is the question: it closes the post.
        mid.extend(link_line.clone());
        end.extend(closing.clone());
        end.extend(cta_lines.iter().cloned());
    } else {
        match s.cta {
            CtaPosition::Middle => mid.extend(cta_lines.iter().cloned()),
            CtaPosition::End => end.extend(cta_lines.iter().cloned()),
        }
        end.extend(closing.clone());
    }

    // Body: keyword and brand lines first, then up to two lines each about
    // the tone, the topic and the goal, least used in this response first.
    let mut body: Vec<String> = Vec::new();
    let mut keyword_line = None;
    if !brief.keywords.is_empty() {
        let k = fill_all(&mut b.keyword_lines.iter());
        keyword_line = pick(rng, &k, used);
        body.extend(keyword_line.clone());
    }
    if !brief.use_words().is_empty() {
        body.push(brand_line(brief, brief.use_words()));
    }
    let mut reserve: Vec<String> = Vec::new();
    let mut pool = |lines: Vec<String>| -> Vec<String> {
        let mut lines = lines;
        rng.shuffle(&mut lines);
        lines.sort_by_key(|l| used.count(l));
        reserve.extend(lines.drain(2.min(lines.len())..));
        lines
    };
    let tone_lines = pool(fill_all(
        &mut b
            .tone_lines
            .iter()
            .filter(|t| t.0 == brief.tone)
            .map(|t| &t.1),
    ));
    let topic_lines = pool(fill_all(&mut b.topic_lines.iter()));
    let goal_lines = pool(fill_all(
        &mut b
            .goal_lines
            .iter()
            .filter(|t| t.0 == brief.goal)
            .map(|t| &t.1),
    ));
    let mut optional: Vec<String> = Vec::new();
    let swap = rng.chance(0.5);
    for i in 0..2 {
        optional.extend(tone_lines.get(i).cloned());
        let (x, y) = if swap {
            (&goal_lines, &topic_lines)
        } else {
            (&topic_lines, &goal_lines)
        };
        optional.extend(x.get(i).cloned());
        optional.extend(y.get(i).cloned());
    }

    // Emoji.
    let emoji_set: Vec<&str> = if brief.emoji {
        let tone = emoji::for_tone(brief.tone);
        let t1 = tone[rng.below(tone.len())];
        let topic = emoji::for_topic(&brief.topic)
            .or_else(|| brief.keywords.iter().find_map(|k| emoji::for_topic(k)));
        match (s.emoji, topic) {
            (EmojiDensity::Low, Some(e)) if rng.chance(0.5) => vec![e],
            (EmojiDensity::Low, _) => vec![t1],
            (EmojiDensity::High, Some(e)) => vec![e, t1],
            (EmojiDensity::High, None) => {
                let t2 = tone[(tone.iter().position(|x| *x == t1).unwrap_or(0) + 1) % tone.len()];
                vec![t1, t2]
            }
        }
    } else {
        Vec::new()
    };
    let tags = crate::hashtags::choose(brief, &[]);

    // Fit the length: the fixed parts first (dropping the closing line,
    // then the keyword line, if they alone are too long), then optional
    // lines until the target is reached.
    let (lo, hi) = brief.length_range();
    let target = rng.range(lo + (hi - lo) / 5, lo + (hi - lo) * 3 / 5);
    // With details the facts carry the post: generic lines only to reach
    // the shortest length asked for.
    let target = if brief.details.is_empty() { target } else { lo };
    let topic_uses = |t: &str| find_words(t, &brief.topic, false).len();
    let audience_uses = |t: &str| {
        brief
            .audience
            .as_deref()
            .map_or(0, |a| find_words(t, a, false).len())
    };
    let mut parts = Parts {
        hook,
        facts,
        body,
        mid,
        end,
    };
    let too_long = |p: &Parts| measure(&render(p, &tags, &emoji_set, s.emoji)) > hi;
    if too_long(&parts)
        && let Some(c) = &closing
    {
        parts.end.retain(|l| l != c);
    }
    if too_long(&parts)
        && let Some(k) = &keyword_line
    {
        parts.body.retain(|l| l != k);
    }
    // Details leave less room: a link line already is a call to action,
    // so the goal's own call to action goes first.
    if too_long(&parts) && link_line.is_some() {
        parts.mid.retain(|l| !cta_lines.contains(l));
        parts.end.retain(|l| !cta_lines.contains(l));
    }
    for line in optional {
        let current = render(&parts, &tags, &emoji_set, s.emoji);
        if measure(&current) >= target {
            break;
        }
        if (line.contains(&brief.topic) && topic_uses(&current) >= 2)
            || (audience_uses(&line) > 0 && audience_uses(&current) >= 1)
            || repeats(lang, &current, &line)
        {
            continue;
        }
        parts.body.push(line);
        if too_long(&parts) {
            parts.body.pop();
        }
    }
    // Still short of the range (long posts): the reserve lines.
    for line in reserve {
        let current = render(&parts, &tags, &emoji_set, s.emoji);
        if measure(&current) >= lo {
            break;
        }
        if (line.contains(&brief.topic) && topic_uses(&current) >= 2)
            || (audience_uses(&line) > 0 && audience_uses(&current) >= 1)
            || repeats(lang, &current, &line)
        {
            continue;
        }
        parts.body.push(line);
        if too_long(&parts) {
            parts.body.pop();
        }
    }
    // When even the essentials do not fit, conform has to cut: another
    // attempt with other phrases is preferred (see `write_drafts`).
    let fits = !too_long(&parts);
    lines_used.extend(parts.body.iter().cloned());
    let text = conform(brief, &render(&parts, &tags, &emoji_set, s.emoji));
    if used.openings.contains(&opening(&text, OPENING_WORDS)) {
        return None;
    }
    Some((hook_idx, text, lines_used, fits))
}
