//! `POST /api/generate`: a brief in, N ranked candidate posts out.
//!
//! 1. Validate the brief (`fbposts_writer::Brief`); identical briefs with the
//!    same seed are answered from the response cache.
//! 2. Choose the generator for the brief's context (`<language>.<goal>.<tone>`)
//!    by Thompson sampling over each generator's reward posterior, minus a
//!    cost penalty, within the brief's budget ([`fbposts_learning::selection`]).
//!    The LLM generator is available only when `llm_base_url` is set and its
//!    circuit breaker (shared through the `default` store) is closed.
//! 3. Assign variants by Thompson sampling: template structures for the
//!    template engine, prompt variants for the LLM ([`llm`]). On LLM failure
//!    the template engine answers and the response says so.
//! 4. Score each candidate (the imported `fbposts:pipeline/analysis` step);
//!    one scoring below 0.8 is enhanced automatically (the `/api/enhance`
//!    rewrite, [`fbposts_rewrite::auto_enhance`]) and the rewrite is kept only
//!    when it scores higher, both versions shown under `auto_enhancement`;
//!    predict its engagement (the imported `fbposts:pipeline/forecast` step,
//!    blended with the page's own model when the brief names a page; its
//!    best time inside the body's `posting_window`, as `/api/predict` reads
//!    it, default 07:00–22:00 UTC), rank,
//!    store each candidate under
//!    `candidate/<id>` so `/api/feedback` can credit its arms, and cache.
//!    Candidates expire after `candidate_lifetime_secs` (a week by default);
//!    the cached response lives at most half that, so an id handed out from
//!    the cache still has at least half its lifetime left for feedback.
//!
//! `rank_score = 0.8 × quality score + 0.2 × posterior mean reward of the
//! candidate's variant`: the text decides, past performance breaks ties.
//! The engagement model does not read the text, so every candidate of one
//! brief gets the same predicted engagement; it is shown, not ranked on.

mod generators;
mod llm;

use generators::{Generator, LLM, LlmGenerator, TEMPLATE, TemplateEngine};

use bytes::Bytes;
use fbposts_core::{Analysis, AnalyzeRequest, ApiError, PostType};
use fbposts_engagement::{PostingWindow, PredictRequest, PredictResponse, respond};
use fbposts_guest_kit::arms::ArmId;
use fbposts_guest_kit::events::{EventKind, Publisher, new_event_id};
use fbposts_guest_kit::pages::load_page_models;
use fbposts_guest_kit::post::{BodyEnd, PostRequest};
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::{
    CacheStatus, JsonResponse, ResponseCache, analysis, error_response, expiring, expiry, forecast,
    json_bytes,
};
use fbposts_learning::records::FAMILY_GENERATOR;
use fbposts_learning::{
    ArmStats, CandidateRecord, GeneratorOption, assign_distinct, choose_generator, context_key,
    rng_from_seed,
};
use fbposts_rewrite::{
    AUTO_ENHANCE_BELOW, AutoEnhancement, EnhanceRequest, REWRITE_VERSION, Scored, auto_enhance,
};
use fbposts_writer::{Brief, GenericNotice, WRITER_VERSION, check, conform, generic_notice};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Reward units one USD of estimated cost is worth (0.01 USD → −0.1).
const COST_WEIGHT: f64 = 10.0;
/// Weight of the quality score in `rank_score`.
const QUALITY_WEIGHT: f64 = 0.8;
/// Page likes assumed when the brief gives none (the training page's
/// median, about 129k).
const DEFAULT_PAGE_LIKES: u64 = 129_600;
/// Suggestions shown per candidate.
const SUGGESTIONS: usize = 3;

#[derive(Serialize)]
struct Candidate {
    id: String,
    rank: usize,
    text: String,
    generator: String,
    prompt_variant: String,
    rank_score: f64,
    quality: Value,
    /// Present when the draft scored below 0.8: both versions, and whether
    /// the rewrite replaced the draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_enhancement: Option<AutoEnhancement>,
    predicted_engagement: Value,
}

#[derive(Serialize)]
struct GeneratorReport {
    chosen: String,
    /// What answered in the end (differs from `chosen` after a fallback).
    used: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
    considered: Value,
}

#[derive(Serialize)]
struct GenerateResponse {
    candidates: Vec<Candidate>,
    generator: GeneratorReport,
    language: &'static str,
    context: String,
    /// Present when the brief has no `details`: the candidates are generic,
    /// and what to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    generic: Option<GenericNotice>,
    cache: &'static str,
    writer_version: &'static str,
}

fbposts_guest_kit::json_post_service!(handle);

async fn handle(req: PostRequest) -> JsonResponse {
    match run(req).await {
        Ok((body, status)) => {
            if let Some(publisher) = Publisher::from_variables().await {
                publisher
                    .publish(
                        EventKind::Generated,
                        new_event_id("generated"),
                        generated_event_data(&body),
                    )
                    .await;
            }
            json_bytes(200, body, &[status.header()])
        }
        Err(err) => error_response(&err),
    }
}

/// The `post.generated` event's data: the A/B variant of each candidate
/// (read back from the answer, cached or fresh).
fn generated_event_data(body: &[u8]) -> serde_json::Value {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let variants: Vec<&serde_json::Value> = answer["candidates"]
        .as_array()
        .map(|c| c.iter().map(|c| &c["prompt_variant"]).collect())
        .unwrap_or_default();
    serde_json::json!({ "variants": variants })
}

async fn run(req: PostRequest) -> Result<(Bytes, CacheStatus), ApiError> {
    let body = req.read_json(BodyEnd::LengthChecked).await?;
    let brief = Brief::from_json(&body)?;
    let preference = generator_preference(&body)?;
    let posting_window = PostingWindow::from_field(&fbposts_core::json::object(&body)?)?;
    let llm_config = llm::config().await;
    let cache_key = {
        let mut h = Sha256::new();
        h.update(brief.cache_key());
        h.update(REWRITE_VERSION);
        h.update(preference.unwrap_or("auto"));
        h.update(
            [posting_window.start, posting_window.end]
                .map(u16::to_be_bytes)
                .concat(),
        );
        if let Some(cfg) = &llm_config {
            h.update(cfg.endpoint());
            h.update(&cfg.model);
        }
        hex::encode(h.finalize())
    };
    let candidate_lifetime = expiry::lifetime_from_variable(
        expiring::CANDIDATE_LIFETIME,
        expiring::DEFAULT_CANDIDATE_SECS,
    )
    .await;
    let mut cache = ResponseCache::open("generate").await;
    // A cached answer hands out candidate ids: each must still have at least
    // half its lifetime left for its feedback.
    cache.limit_lifetime(candidate_lifetime / 2);
    if let Some(cached) = cache.get(&cache_key).await
        && let Ok(mut value) = serde_json::from_slice::<Value>(&cached)
    {
        value["cache"] = json!("hit");
        let bytes = serde_json::to_vec(&value).unwrap_or(cached);
        return Ok((Bytes::from(bytes), CacheStatus::Hit));
    }

    let state = StateStore::open().await?;
    let language = brief.language.code();
    let context = context_key(language, brief.goal.code(), brief.tone.code());
    let mut rng = rng_from_seed(brief.seed ^ 0x9e37_79b9_7f4a_7c15);
    let n = usize::from(brief.n);

    // 1. The generator.
    let template = TemplateEngine;
    let llm_generator = llm_config.map(|config| LlmGenerator { config });
    let mut generators: Vec<&dyn Generator> = vec![&template];
    if let Some(g) = &llm_generator {
        generators.push(g);
    }
    let mut options = Vec::with_capacity(generators.len());
    for g in &generators {
        options.push(GeneratorOption {
            id: g.id().into(),
            stats: state.arm(FAMILY_GENERATOR, &context, g.id()).await?,
            cost_usd: g.estimated_cost(&brief),
            available: g.availability(&state, &brief).await,
        });
    }
    if let Some(wanted) = preference {
        // A forced generator: the others are not considered.
        for option in options.iter_mut().filter(|o| o.id != wanted) {
            option.available = Err(format!("the brief asked for generator \"{wanted}\""));
        }
        if !options.iter().any(|o| o.id == wanted) {
            options.push(GeneratorOption {
                id: wanted.into(),
                stats: ArmStats::default(),
                cost_usd: 0.0,
                available: Err("no LLM endpoint is configured (llm_base_url)".into()),
            });
        }
    }
    let choice = choose_generator(&options, brief.budget_usd, COST_WEIGHT, TEMPLATE, &mut rng);
    let mut fallback = preference
        .filter(|wanted| *wanted != choice.id)
        .and_then(|wanted| {
            let skipped = choice.considered.iter().find(|c| c.id == wanted)?;
            let why = skipped.skipped.as_ref()?;
            Some(format!(
                "the {wanted} generator was not used: {why}; the template engine answered"
            ))
        })
        .or_else(|| spend_cap_notice(&options));

    // 2. Drafts: (text, generator, variant family, variant id); the template
    // engine writes whatever the chosen generator could not.
    let mut drafts: Vec<(String, &'static str, &'static str, String)> = Vec::new();
    let chosen = generators
        .iter()
        .find(|g| g.id() == choice.id)
        .copied()
        .unwrap_or(&template);
    let mut order = vec![chosen];
    if chosen.id() != TEMPLATE {
        order.push(&template);
    }
    for g in order {
        if drafts.len() >= n {
            break;
        }
        let missing = n - drafts.len();
        let arms = arms(&state, g.variant_family(), &context, g.variants()).await?;
        let refs: Vec<&ArmStats> = arms.iter().map(|(_, a)| a).collect();
        let variants: Vec<&'static str> =
            assign_distinct(&refs, g.variants_per_request(missing), &mut rng)
                .into_iter()
                .map(|i| arms[i].0)
                .collect();
        match g.write(&state, &brief, &variants, missing).await {
            Ok(written) => {
                let got = written.len();
                for (text, variant) in written {
                    drafts.push((text, g.id(), g.variant_family(), variant.to_string()));
                }
                if got < missing && g.id() != TEMPLATE {
                    fallback = Some(format!(
                        "the {} generator returned {got} usable posts of {missing}; the template engine wrote the rest",
                        g.id()
                    ));
                }
            }
            Err(reason) => fallback = Some(format!("{reason}; the template engine answered")),
        }
    }
    let used = if drafts.iter().any(|d| d.1 == LLM) {
        LLM
    } else {
        TEMPLATE
    };

    // 3. Predicted engagement (same for every candidate: text is not a feature).
    let prediction = predict_for(&state, &brief, posting_window).await?;
    let predicted = predicted_json(&prediction);

    // 4. Count the pulls (one atomic increment per arm and candidate), then
    // score, rank, record.
    let mut pulled: Vec<ArmId> = drafts
        .iter()
        .map(|(_, _, family, variant)| ArmId::new(family, &context, variant))
        .collect();
    pulled.push(ArmId::new(FAMILY_GENERATOR, &context, used));
    let pulled = state.record_pulls(&pulled).await?;
    let mut candidates = Vec::with_capacity(drafts.len());
    for (i, (text, generator, family, variant)) in drafts.into_iter().enumerate() {
        let (text, analysis, auto_enhancement) = improved(&brief, text)?;
        let rank_score =
            QUALITY_WEIGHT * analysis.score + (1.0 - QUALITY_WEIGHT) * pulled[i].mean();
        let id = candidate_id(&cache_key, i);
        state
            .set_expiring(
                &format!("candidate/{id}"),
                &CandidateRecord {
                    id: id.clone(),
                    text: text.clone(),
                    language: language.to_string(),
                    context: context.clone(),
                    generator: generator.to_string(),
                    variant_family: family.to_string(),
                    variant: variant.clone(),
                    post_type: brief.post_type.map(|p| p.code().to_string()),
                    page_id: brief.page.as_ref().map(|p| p.id.clone()),
                    page_likes: brief.page.as_ref().and_then(|p| p.likes),
                },
                expiry::now_secs().saturating_add(candidate_lifetime),
            )
            .await?;
        candidates.push(Candidate {
            id,
            rank: 0,
            text,
            generator: generator.to_string(),
            prompt_variant: variant,
            rank_score: round3(rank_score),
            quality: json!({
                "score": analysis.score,
                "grade": analysis.grade,
                "suggestions": analysis.suggestions.iter().take(SUGGESTIONS).collect::<Vec<_>>(),
            }),
            auto_enhancement,
            predicted_engagement: predicted.clone(),
        });
    }
    candidates.sort_by(|a, b| b.rank_score.total_cmp(&a.rank_score));
    for (i, c) in candidates.iter_mut().enumerate() {
        c.rank = i + 1;
    }

    let response = GenerateResponse {
        candidates,
        generator: GeneratorReport {
            chosen: choice.id.clone(),
            used: used.to_string(),
            reason: choice.reason,
            fallback,
            considered: serde_json::to_value(&choice.considered).unwrap_or_default(),
        },
        language,
        context,
        generic: generic_notice(&brief),
        cache: "miss",
        writer_version: WRITER_VERSION,
    };
    let encoded = serde_json::to_vec(&response).map_err(|_| {
        ApiError::new(
            500,
            "internal",
            "internal error: could not encode the response",
        )
    })?;
    cache.put(&cache_key, &encoded).await;
    Ok((Bytes::from(encoded), CacheStatus::Miss))
}

/// The optional `generator` field: `"auto"` (default: the bandit decides),
/// `"template"` or `"llm"` (forced; an unavailable LLM still falls back to
/// the template engine, with the reason).
fn generator_preference(body: &[u8]) -> Result<Option<&'static str>, ApiError> {
    let obj = fbposts_core::json::object(body)?;
    fbposts_core::json::opt_enum(&obj, "generator", &["auto", TEMPLATE, LLM], |s| match s {
        "auto" => Some(None),
        "template" => Some(Some(TEMPLATE)),
        "llm" => Some(Some(LLM)),
        _ => None,
    })
    .map(Option::flatten)
}

/// A notice when the server's LLM spend cap kept the LLM out of the
/// choice, even when the brief did not ask for it by name.
fn spend_cap_notice(options: &[GeneratorOption]) -> Option<String> {
    let why = options
        .iter()
        .find(|o| o.id == LLM)?
        .available
        .as_ref()
        .err()
        .filter(|why| fbposts_llm::spend::is_cap_reason(why))?;
    Some(format!(
        "the {LLM} generator was not used: {why}; the template engine answered"
    ))
}

/// The arms of one family in a context, in the given order.
async fn arms(
    state: &StateStore,
    family: &str,
    context: &str,
    ids: Vec<&'static str>,
) -> Result<Vec<(&'static str, ArmStats)>, ApiError> {
    let arms: Vec<ArmId> = ids
        .iter()
        .map(|id| ArmId::new(family, context, id))
        .collect();
    let stats = state.arms(&arms).await?;
    Ok(ids.into_iter().zip(stats).collect())
}

/// A candidate's id: stable for the same brief, seed and position.
fn candidate_id(cache_key: &str, index: usize) -> String {
    let digest = Sha256::digest(format!("{cache_key}:{index}"));
    format!("c-{}", &hex::encode(digest)[..24])
}

/// The predict step's answer for the brief's page and post type, posting
/// now (UTC), with the page's own model when the brief names a page, best
/// times inside `posting_window` (UTC).
async fn predict_for(
    state: &StateStore,
    brief: &Brief,
    posting_window: PostingWindow,
) -> Result<PredictResponse, ApiError> {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let request = PredictRequest::scheduled(
        brief
            .page
            .as_ref()
            .and_then(|p| p.likes)
            .unwrap_or(DEFAULT_PAGE_LIKES),
        brief.post_type.unwrap_or(PostType::Photo),
        now,
        brief.page.as_ref().map(|p| p.id.as_str()),
    )?;
    let request = PredictRequest {
        posting_window,
        ..request
    };
    let page = match &request.page_id {
        Some(id) => Some(load_page_models(state, id).await?),
        None => None,
    };
    let outlook = forecast::outlook(&request, page.as_ref()).map_err(|e| {
        eprintln!("generate: inference failed: {e:?}");
        e.to_api_error()
    })?;
    let model = outlook.model_info(forecast::implementation());
    Ok(respond(
        &request,
        &outlook.requested,
        &outlook.best_times,
        &outlook.best_times_basis,
        model,
        None,
    ))
}

fn predicted_json(p: &PredictResponse) -> Value {
    json!({
        "total_interactions": p.predictions.total_interactions,
        "engaged_users": p.predictions.engaged_users,
        "reach": p.predictions.reach,
        "best_time": p.best_times.first(),
        "best_time_basis": p.best_times_basis.source,
        "answered_by": p.model.answered_by,
    })
}

/// A draft as the brief's audience reads it: its analysis request.
fn scoring_request(brief: &Brief, text: &str) -> AnalyzeRequest {
    let mut request = AnalyzeRequest::new(text);
    request.language = Some(brief.language);
    request.post_type = brief.post_type;
    request.tone = Some(brief.tone);
    request.audience = brief.audience.clone();
    request
}

/// The draft, or its automatic rewrite when the draft scores below 0.8 and
/// the rewrite — conformed to the brief (hashtags, emoji, words, CTA,
/// length) — passes every constraint of the brief and scores higher; with
/// its analysis and, below 0.8, both versions. Both are scored in the brief's
/// full context.
fn improved(
    brief: &Brief,
    draft: String,
) -> Result<(String, Analysis, Option<AutoEnhancement>), ApiError> {
    let request = EnhanceRequest {
        language: Some(brief.language),
        post_type: brief.post_type,
        tone: Some(brief.tone),
        ..EnhanceRequest::new(draft.clone())
    };
    let with_audience = |r: &AnalyzeRequest| {
        analysis::analyze(&AnalyzeRequest {
            audience: brief.audience.clone(),
            ..r.clone()
        })
    };
    let draft_analysis = analysis::analyze(&scoring_request(brief, &draft))?;
    if draft_analysis.score >= AUTO_ENHANCE_BELOW {
        return Ok((draft, draft_analysis, None));
    }
    let Some(mut auto) = auto_enhance(&request, with_audience)? else {
        return Ok((draft, draft_analysis, None));
    };
    if auto.applied {
        let conformed = conform(brief, &auto.enhanced.text);
        let conformed_analysis = analysis::analyze(&scoring_request(brief, &conformed))?;
        auto.applied =
            conformed_analysis.score > auto.original.score && check(brief, &conformed).is_empty();
        auto.enhanced = Scored {
            text: conformed,
            score: conformed_analysis.score,
        };
        if auto.applied {
            return Ok((auto.enhanced.text.clone(), conformed_analysis, Some(auto)));
        }
    }
    Ok((draft, draft_analysis, Some(auto)))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
