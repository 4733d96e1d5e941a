//! The suggestions consumer (the plan's optimization triggers), run by
//! `[[trigger.redis]]` for each `post.published` message: a post whose
//! outcome fell below the forecast's p10 gets a suggestion — why (the
//! weakest signals of its text, scored by the `analysis` step through
//! `fbposts:pipeline/analysis`) and what to try — and the page's streak of
//! posts below p10 is updated; the third in a row raises a business alert
//! ([`fbposts_guest_kit::suggestions`]), which also goes on the live stream
//! (`GET /api/analytics/stream`, `event: alert.business`). The streak changes with
//! `apply_once`, so a replayed event is counted once; the suggestion is
//! keyed by the event id, so writing it again changes nothing. An
//! unreadable message is logged and dropped; an unavailable store fails
//! the message, which the host logs.

use fbposts_core::{AnalyzeRequest, ApiError};
use fbposts_guest_kit::events::{Event, event_from_message};
use fbposts_guest_kit::live;
use fbposts_guest_kit::state::StateStore;
use fbposts_guest_kit::suggestions::{BusinessAlert, Published, Streak, suggestion};

/// spin-sdk's `#[redis_subscriber]` export; its generated ABI glue needs
/// `unsafe` (the workspace denies it everywhere else).
#[allow(unsafe_code)]
mod subscriber {
    #[spin_sdk::redis_subscriber]
    async fn on_message(message: Vec<u8>) -> Result<(), String> {
        super::on_message(message).await
    }
}

async fn on_message(message: Vec<u8>) -> Result<(), String> {
    let Some(event) = event_from_message("suggestions", &message) else {
        return Ok(());
    };
    let post = match Published::from_event(&event) {
        Ok(post) => post,
        Err(why) => {
            eprintln!("suggestions: event dropped: {why}");
            return Ok(());
        }
    };
    consider(&event, &post).await.map_err(|e| e.message)
}

/// Records the suggestion (if the post fell short) and the page's streak.
async fn consider(event: &Event, post: &Published) -> Result<(), ApiError> {
    let state = StateStore::open().await?;
    let below = post.below_p10();
    if below {
        let analysis = post.text.as_ref().and_then(|text| analysis_of(text, post));
        let advice = suggestion(event, post, analysis.as_ref());
        state.set(&post.suggestion_key(&event.id), &advice).await?;
    }
    let (stored, applied) = state
        .apply_once(&post.streak_key(), &event.id, |current| {
            Streak::apply(current, &post.page_id, below, event.at_ms)
        })
        .await?;
    let fired = serde_json::from_slice::<Streak>(&stored)
        .ok()
        .and_then(|streak| streak.alert)
        .filter(|alert| applied && alert.fired_at_ms == event.at_ms);
    if let Some(alert) = fired {
        eprintln!("suggestions: business alert: {}", alert.message);
        announce(&state, event, &alert).await;
    }
    Ok(())
}

/// Puts a business alert on the live stream (`event: alert.business`); a
/// failure is logged (the alert itself is stored with the streak).
async fn announce(state: &StateStore, event: &Event, alert: &BusinessAlert) {
    let announcement = Event {
        id: format!("alert-{}", event.id),
        kind: "alert.business".into(),
        at_ms: event.at_ms,
        data: serde_json::to_value(alert).unwrap_or_default(),
    };
    if let Err(err) = live::append(state, &announcement).await {
        eprintln!(
            "suggestions: the alert did not reach the live stream: {}",
            err.message
        );
    }
}

/// The text's analysis, or `None` (logged) when the step refuses it.
fn analysis_of(text: &str, post: &Published) -> Option<fbposts_core::Analysis> {
    let request = AnalyzeRequest {
        text: text.to_string(),
        language: None,
        post_type: fbposts_core::PostType::parse(&post.post_type),
        audience: None,
        tone: None,
    };
    fbposts_guest_kit::analysis::analyze(&request)
        .map_err(|e| eprintln!("suggestions: the text was not analysed: {}", e.message))
        .ok()
}
