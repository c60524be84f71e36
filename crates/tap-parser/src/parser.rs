//! The pull front end: `Parser` (an iterator of events over borrowed input) and `Spanned`.

use std::collections::VecDeque;

use crate::event::{Event, Span};
use crate::machine::Machine;
use crate::options::Options;

/// A pull parser over a whole TAP stream in memory; an [`Iterator`] of [`Event`]s that
/// borrow from the input.
///
/// Lines end at `\n`, `\r\n` or a lone `\r` (the spec's "should normalize line endings").
/// The input may be invalid UTF-8 ([`Parser::from_bytes`]); text is kept byte for byte.
///
/// ```
/// use pgfarm_tap_parser::{Event, Parser};
/// let n_points = Parser::new("1..2\nok 1\nnot ok 2\n")
///     .filter(|e| matches!(e, Event::TestPoint(_)))
///     .count();
/// assert_eq!(n_points, 2);
/// ```
#[derive(Debug)]
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    machine: Machine,
    queue: VecDeque<(Event<'a>, Span)>,
    max_line_bytes: usize,
    finished: bool,
}

impl<'a> Parser<'a> {
    /// A parser with the default [`Options`].
    pub fn new(input: &'a str) -> Parser<'a> {
        Parser::from_bytes_with_options(input.as_bytes(), Options::default())
    }

    /// A parser with the given options.
    pub fn with_options(input: &'a str, options: Options) -> Parser<'a> {
        Parser::from_bytes_with_options(input.as_bytes(), options)
    }

    /// A parser over bytes that need not be UTF-8.
    pub fn from_bytes(input: &'a [u8]) -> Parser<'a> {
        Parser::from_bytes_with_options(input, Options::default())
    }

    /// A parser over bytes that need not be UTF-8, with the given options.
    pub fn from_bytes_with_options(input: &'a [u8], options: Options) -> Parser<'a> {
        Parser {
            input,
            pos: 0,
            machine: Machine::new(options),
            queue: VecDeque::new(),
            max_line_bytes: options.max_line_bytes,
            finished: false,
        }
    }

    /// Yields each event with the byte range of the line it came from (empty for
    /// synthetic events).
    pub fn spanned(self) -> Spanned<'a> {
        Spanned { parser: self }
    }

    fn next_spanned(&mut self) -> Option<(Event<'a>, Span)> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.pos >= self.input.len() {
                if self.finished {
                    return None;
                }
                self.finished = true;
                let queue = &mut self.queue;
                self.machine.finish(self.input.len(), &mut |e, s| queue.push_back((e, s)));
                continue;
            }
            let start = self.pos;
            let rest = &self.input[start..];
            let (line_len, next) = match memchr::memchr2(b'\n', b'\r', rest) {
                Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => (i, i + 2),
                Some(i) => (i, i + 1),
                None => (rest.len(), rest.len()),
            };
            self.pos = start + next;
            let line = &rest[..line_len];
            let span = start..start + next;
            let queue = &mut self.queue;
            let mut sink = |e, s| queue.push_back((e, s));
            if line_len > self.max_line_bytes {
                self.machine.long_line(&line[..self.max_line_bytes], span, &mut sink);
            } else {
                self.machine.line(line, span, &mut sink);
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        self.next_spanned().map(|(event, _)| event)
    }
}

/// Events with their byte spans; see [`Parser::spanned`].
#[derive(Debug)]
pub struct Spanned<'a> {
    parser: Parser<'a>,
}

impl<'a> Iterator for Spanned<'a> {
    type Item = (Event<'a>, Span);

    fn next(&mut self) -> Option<(Event<'a>, Span)> {
        self.parser.next_spanned()
    }
}
