//! The slice of a long list that is in view: from the scroll offset, the row height and the
//! viewport height, which rows to render and how tall the spacers above and below them are.

/// Rows to render and the spacer heights that keep the scroll height of the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualWindow {
    /// First row to render (inclusive).
    pub start: usize,
    /// Row after the last one to render (exclusive); `start <= end <= n_rows`.
    pub end: usize,
    /// Height in pixels of the spacer before `start`.
    pub top_px: u64,
    /// Height in pixels of the spacer after `end`.
    pub bottom_px: u64,
}

impl VirtualWindow {
    /// The rows in view, plus `overscan` rows on each side so fast scrolling shows no gaps.
    ///
    /// `scroll_top` is the list's scroll offset in pixels (negative or past the end are
    /// clamped), `viewport_px` the visible height; a zero `row_px` is treated as 1.
    pub fn compute(
        n_rows: usize,
        row_px: u32,
        scroll_top: f64,
        viewport_px: f64,
        overscan: usize,
    ) -> VirtualWindow {
        let row = u64::from(row_px.max(1));
        let total = n_rows as u64 * row;
        let top = if scroll_top.is_finite() { scroll_top.max(0.0) as u64 } else { 0 };
        let top = top.min(total);
        let height = if viewport_px.is_finite() { viewport_px.max(0.0) as u64 } else { 0 };
        let first = (top / row) as usize;
        let last = (top + height).div_ceil(row) as usize;
        let start = first.saturating_sub(overscan).min(n_rows);
        let end = last.saturating_add(overscan).min(n_rows).max(start);
        VirtualWindow {
            start,
            end,
            top_px: start as u64 * row,
            bottom_px: (n_rows - end) as u64 * row,
        }
    }

    /// How many rows are rendered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when nothing is rendered.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_at_the_top_renders_the_viewport_and_overscan() {
        let w = VirtualWindow::compute(20_000, 20, 0.0, 600.0, 10);
        assert_eq!((w.start, w.end), (0, 40));
        assert_eq!(w.top_px, 0);
        assert_eq!(w.bottom_px, (20_000 - 40) * 20);
    }

    #[test]
    fn spacers_and_rows_always_add_up_to_the_full_height() {
        for n in [0usize, 1, 7, 100, 20_000] {
            for scroll in [-50.0, 0.0, 13.0, 999.5, 1e9, f64::NAN] {
                for viewport in [0.0, 1.0, 600.0, 1e7] {
                    let w = VirtualWindow::compute(n, 18, scroll, viewport, 5);
                    assert!(w.start <= w.end && w.end <= n, "{n} {scroll} {viewport}: {w:?}");
                    assert_eq!(w.top_px + w.len() as u64 * 18 + w.bottom_px, n as u64 * 18);
                }
            }
        }
    }

    #[test]
    fn scrolled_to_the_middle_renders_the_rows_under_the_viewport() {
        let w = VirtualWindow::compute(10_000, 20, 100_010.0, 400.0, 0);
        assert_eq!((w.start, w.end), (5000, 5021));
        let w = VirtualWindow::compute(10_000, 20, 1e12, 400.0, 3);
        assert_eq!((w.start, w.end), (9997, 10_000));
        assert_eq!(w.bottom_px, 0);
    }

    #[test]
    fn zero_row_height_does_not_divide_by_zero() {
        let w = VirtualWindow::compute(10, 0, 5.0, 3.0, 0);
        assert_eq!((w.start, w.end), (5, 8));
    }
}
