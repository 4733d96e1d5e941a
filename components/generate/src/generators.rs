//! The generators behind one trait: what the selector needs to know about
//! each (id, variant family and arms, estimated cost, whether it can answer
//! now) and how it writes posts. The template engine is always there and
//! free; the LLM generator exists when an endpoint is configured.

use crate::llm;
use fbposts_guest_kit::state::StateStore;
use fbposts_learning::records::{FAMILY_PROMPT, FAMILY_STRUCTURE};
use fbposts_llm::LlmConfig;
use fbposts_writer::{Brief, PROMPT_VARIANTS, STRUCTURES, write_drafts};
use futures::future::LocalBoxFuture;

/// Generator ids (bandit arms).
pub const TEMPLATE: &str = "template";
pub const LLM: &str = "llm";

/// A post and the variant (arm) that wrote it.
pub type Written = Vec<(String, &'static str)>;

/// One way of writing posts.
pub trait Generator {
    fn id(&self) -> &'static str;
    /// The bandit family of its variants (`structure`, `prompt`).
    fn variant_family(&self) -> &'static str;
    /// Its variant ids, the arms assigned by Thompson sampling.
    fn variants(&self) -> Vec<&'static str>;
    /// How many variants one request of `n` posts uses.
    fn variants_per_request(&self, n: usize) -> usize;
    /// Estimated cost of one request, USD.
    fn estimated_cost(&self, brief: &Brief) -> f64;
    /// Whether it can answer `brief` now; Err says why not.
    fn availability<'a>(
        &'a self,
        state: &'a StateStore,
        brief: &'a Brief,
    ) -> LocalBoxFuture<'a, Result<(), String>>;
    /// Up to `n` posts, written with the given variants (cycled). Err: why
    /// it failed, safe to show the caller.
    fn write<'a>(
        &'a self,
        state: &'a StateStore,
        brief: &'a Brief,
        variants: &'a [&'static str],
        n: usize,
    ) -> LocalBoxFuture<'a, Result<Written, String>>;
}

/// The offline template engine (`fbposts-writer`).
pub struct TemplateEngine;

impl Generator for TemplateEngine {
    fn id(&self) -> &'static str {
        TEMPLATE
    }

    fn variant_family(&self) -> &'static str {
        FAMILY_STRUCTURE
    }

    fn variants(&self) -> Vec<&'static str> {
        STRUCTURES.iter().map(|s| s.id).collect()
    }

    fn variants_per_request(&self, n: usize) -> usize {
        n
    }

    fn estimated_cost(&self, _: &Brief) -> f64 {
        0.0
    }

    fn availability<'a>(
        &'a self,
        _: &'a StateStore,
        _: &'a Brief,
    ) -> LocalBoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }

    fn write<'a>(
        &'a self,
        _: &'a StateStore,
        brief: &'a Brief,
        variants: &'a [&'static str],
        n: usize,
    ) -> LocalBoxFuture<'a, Result<Written, String>> {
        Box::pin(async move {
            Ok(write_drafts(brief, variants, n)
                .into_iter()
                .map(|d| (d.text, d.structure))
                .collect())
        })
    }
}

/// Any OpenAI-compatible chat-completions endpoint.
pub struct LlmGenerator {
    pub config: LlmConfig,
}

impl Generator for LlmGenerator {
    fn id(&self) -> &'static str {
        LLM
    }

    fn variant_family(&self) -> &'static str {
        FAMILY_PROMPT
    }

    fn variants(&self) -> Vec<&'static str> {
        PROMPT_VARIANTS.iter().map(|p| p.id).collect()
    }

    fn variants_per_request(&self, _: usize) -> usize {
        1
    }

    fn estimated_cost(&self, brief: &Brief) -> f64 {
        llm::estimated_cost(&self.config, brief)
    }

    /// The breaker is closed (or this may be its trial) and the estimated
    /// cost fits what is left of this hour's spend cap.
    fn availability<'a>(
        &'a self,
        state: &'a StateStore,
        brief: &'a Brief,
    ) -> LocalBoxFuture<'a, Result<(), String>> {
        Box::pin(llm::availability(
            &self.config,
            state,
            self.estimated_cost(brief),
        ))
    }

    fn write<'a>(
        &'a self,
        state: &'a StateStore,
        brief: &'a Brief,
        variants: &'a [&'static str],
        n: usize,
    ) -> LocalBoxFuture<'a, Result<Written, String>> {
        Box::pin(async move {
            let variant = variants
                .first()
                .and_then(|id| PROMPT_VARIANTS.iter().find(|p| p.id == *id))
                .unwrap_or(&PROMPT_VARIANTS[0]);
            let posts = llm::generate(&self.config, state, brief, variant, n).await?;
            Ok(posts.into_iter().take(n).map(|p| (p, variant.id)).collect())
        })
    }
}
