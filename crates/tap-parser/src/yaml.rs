//! `YamlBlocks`: an adapter that joins `YamlStart`/`YamlLine`/`YamlEnd` runs into one `Event::YamlBlock`.

use crate::event::Event;

/// A whole YAML diagnostic block (made by [`YamlBlocks`]; the parser itself yields lines).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct YamlBlock {
    /// The block's lines, indentation removed, each ending in `\n` (lossy UTF-8).
    pub text: String,
}

impl YamlBlock {
    /// Parses the block as YAML 1.2 (feature `yaml`, with the pure-Rust `yaml-rust2`).
    /// An empty block is `Yaml::Null`.
    ///
    /// ```
    /// # #[cfg(feature = "yaml")] {
    /// use pgfarm_tap_parser::{Event, Parser, YamlBlocks};
    /// let block = YamlBlocks::new(Parser::new("not ok 1\n  ---\n  got: 1\n  ...\n"))
    ///     .find_map(|e| if let Event::YamlBlock(b) = e { Some(b) } else { None })
    ///     .unwrap();
    /// assert_eq!(block.parse().unwrap()["got"].as_i64(), Some(1));
    /// # }
    /// ```
    #[cfg(feature = "yaml")]
    pub fn parse(&self) -> Result<yaml_rust2::Yaml, yaml_rust2::ScanError> {
        let mut docs = yaml_rust2::YamlLoader::load_from_str(&self.text)?;
        Ok(if docs.is_empty() { yaml_rust2::Yaml::Null } else { docs.swap_remove(0) })
    }
}

/// Joins the line events of each YAML block into one [`Event::YamlBlock`] (like
/// pulldown-cmark's `TextMergeStream`); other events pass through. The block's size is
/// bounded by [`crate::Options::max_yaml_bytes`], which the parser enforces.
#[derive(Debug)]
pub struct YamlBlocks<I> {
    inner: I,
    block: Option<YamlBlock>,
}

impl<I> YamlBlocks<I> {
    /// Wraps an event iterator.
    pub fn new(inner: I) -> YamlBlocks<I> {
        YamlBlocks { inner, block: None }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for YamlBlocks<I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = match self.inner.next() {
                Some(event) => event,
                None => return self.block.take().map(Event::YamlBlock),
            };
            match (event, self.block.as_mut()) {
                (Event::YamlStart, _) => self.block = Some(YamlBlock::default()),
                (Event::YamlLine(line), Some(block)) => {
                    block.text.push_str(&line.raw());
                    block.text.push('\n');
                }
                (Event::YamlEnd, Some(_)) => return self.block.take().map(Event::YamlBlock),
                (other, _) => return Some(other),
            }
        }
    }
}
