//! `IdSet`: the test point ids seen in one document, stored as runs of consecutive ids.
//!
//! Memory is O(number of runs), not O(ids): a stream numbered 1, 2, 3, ... costs one run
//! whatever its length, so duplicate detection keeps the parser's memory bounded by
//! nesting depth for well-behaved producers. Shuffled ids cost one run per gap.

use std::collections::BTreeMap;

/// Disjoint runs `start..=end`; the run being extended is kept outside the map.
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    runs: BTreeMap<u64, u64>,
    current: Option<(u64, u64)>,
}

impl IdSet {
    /// Adds `id`; returns false when it was already present.
    #[inline]
    pub(crate) fn insert(&mut self, id: u64) -> bool {
        if let Some((start, end)) = self.current {
            if id >= start && id <= end {
                return false;
            }
            if end.checked_add(1) == Some(id) && !self.in_runs(id) {
                // The common case: the next id in sequence.
                self.current = Some((start, id));
                return true;
            }
        }
        if self.in_runs(id) {
            return false;
        }
        if let Some((start, end)) = self.current.take() {
            self.store(start, end);
        }
        self.current = Some((id, id));
        true
    }

    fn in_runs(&self, id: u64) -> bool {
        if self.runs.is_empty() {
            return false;
        }
        matches!(self.runs.range(..=id).next_back(), Some((_, &end)) if end >= id)
    }

    /// Stores a run, merging it with adjacent runs.
    fn store(&mut self, mut start: u64, mut end: u64) {
        if let Some((&prev_start, &prev_end)) = self.runs.range(..start).next_back()
            && prev_end.checked_add(1) == Some(start)
        {
            self.runs.remove(&prev_start);
            start = prev_start;
        }
        if let Some(next_start) = end.checked_add(1)
            && let Some(next_end) = self.runs.remove(&next_start)
        {
            end = next_end;
        }
        self.runs.insert(start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_new() {
        let mut ids = IdSet::default();
        assert!((1..1000).all(|id| ids.insert(id)));
        assert!(ids.runs.is_empty());
    }

    #[test]
    fn repeated_id_is_detected_in_any_order() {
        let mut ids = IdSet::default();
        for id in [5, 6, 1, 2, 9, 3] {
            assert!(ids.insert(id), "{id} is new");
        }
        for id in [1, 2, 3, 5, 6, 9] {
            assert!(!ids.insert(id), "{id} repeats");
        }
        assert!(ids.insert(4));
        assert!(ids.insert(7));
        assert!(!ids.insert(4));
    }

    #[test]
    fn extreme_ids_do_not_overflow() {
        let mut ids = IdSet::default();
        assert!(ids.insert(u64::MAX));
        assert!(ids.insert(0));
        assert!(!ids.insert(u64::MAX));
    }
}
