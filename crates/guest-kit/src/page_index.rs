//! The index of pages that have an online model, so the learning loop reads
//! the pages' models without listing the store.
//!
//! `page-index/count` is an atomic counter of slots; `page-index/<n>`, from
//! slot 1 on, holds one page id. `feedback` adds a page when its event
//! creates the page's first model: exactly one request sees the model absent
//! in its compare-and-swap, so a page is added once. A crash between creating
//! the model and adding the page leaves it out of the pooled prior, nothing
//! else. Readers walk the slots in batches ([`PAGE_SLOTS_PER_READ`]).

use crate::state::StateStore;
use fbposts_core::ApiError;

/// Key of the slot counter.
pub const PAGE_INDEX_COUNT: &str = "page-index/count";
/// Slots read per batch call (within the host's 1,000 keys).
pub const PAGE_SLOTS_PER_READ: u64 = 500;

/// Key of slot `n`.
pub fn page_slot_key(n: u64) -> String {
    format!("page-index/{n}")
}

impl StateStore {
    /// Adds `page_id` to the index.
    pub async fn index_page(&self, page_id: &str) -> Result<(), ApiError> {
        let slot = self.increment(PAGE_INDEX_COUNT, 1).await?;
        self.set_bytes(&page_slot_key(slot as u64), page_id.as_bytes().to_vec())
            .await
    }

    /// Every indexed page id, in the order they were added (read in batches).
    pub async fn indexed_pages(&self) -> Result<Vec<String>, ApiError> {
        let count = self
            .get_bytes(PAGE_INDEX_COUNT)
            .await?
            .and_then(|c| std::str::from_utf8(&c).ok()?.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let mut pages = Vec::new();
        let mut first = 1;
        while first <= count {
            let last = count.min(first + PAGE_SLOTS_PER_READ - 1);
            let keys: Vec<String> = (first..=last).map(page_slot_key).collect();
            pages.extend(
                self.get_many(&keys)
                    .await?
                    .into_iter()
                    .flatten()
                    .filter_map(|id| String::from_utf8(id).ok()),
            );
            first = last + 1;
        }
        Ok(pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_numbered_under_the_index_prefix() {
        assert_eq!(page_slot_key(1), "page-index/1");
        assert_ne!(page_slot_key(1), PAGE_INDEX_COUNT);
    }
}
