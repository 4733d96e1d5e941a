//! A page's online models (`page/<page>/model/<target>` in the `default`
//! store), which every step that forecasts engagement passes to the
//! forecast and `feedback` teaches. A page without a model starts from the
//! pooled prior of all pages (`prior/page-model/<target>`) when the
//! learning loop has written one.

use crate::state::StateStore;
use fbposts_core::ApiError;
use fbposts_engagement::page::PAGE_TARGETS;
use fbposts_engagement::page::pooled_prior_key;
use fbposts_engagement::{PageModels, page_model_key};
use fbposts_learning::PageModel;

/// A page's online models from the `default` store (where absent, the
/// pooled prior, else fresh ones; an unreadable stored model is logged and
/// replaced by a fresh one).
pub async fn load_page_models(state: &StateStore, page_id: &str) -> Result<PageModels, ApiError> {
    let mut page = PageModels {
        page_id: page_id.to_string(),
        ..PageModels::default()
    };
    for ((target, _), model) in PAGE_TARGETS.iter().zip(page.models.iter_mut()) {
        let key = page_model_key(page_id, target);
        let stored = match state.get_bytes(&key).await? {
            Some(bytes) => Some(bytes),
            None => state.get_bytes(&pooled_prior_key(target)).await?,
        };
        if let Some(bytes) = stored {
            match PageModel::from_json(&bytes) {
                Ok(stored) => *model = stored,
                Err(err) => eprintln!("{key}: {err}; using a fresh model"),
            }
        }
    }
    Ok(page)
}
