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
    /// Offset of the next `\r` at or after `pos` (input length if none; MAX before the first search).
    next_cr: usize,
    line_ends: LineEnds,
    finished: bool,
}

/// Finds line ends. On x86_64 with AVX2 it keeps memchr's AVX2 searcher, skipping the
/// per-call CPU dispatch of `memchr::memchr` (measurable at one call per ~50-byte line).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineEnds {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl LineEnds {
    pub(crate) fn new() -> LineEnds {
        LineEnds {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    fn newline(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(searcher) = &self.avx2 {
            return searcher.find(haystack);
        }
        memchr::memchr(b'\n', haystack)
    }

    /// The end of the line at the start of `rest`: the first `\n` or `\r`, given that
    /// `rest[..cr_free]` holds no `\r`.
    pub(crate) fn find(&self, rest: &[u8], cr_free: usize) -> Option<usize> {
        let cr_free = cr_free.min(rest.len());
        match self.newline(&rest[..cr_free]) {
            Some(i) => Some(i),
            None => memchr::memchr2(b'\n', b'\r', &rest[cr_free..]).map(|i| cr_free + i),
        }
    }
}

/// Keeps the first event of a line out of the queue (most lines make exactly one event).
struct Slot<'q, 'a> {
    first: Option<(Event<'a>, Span)>,
    queue: &'q mut VecDeque<(Event<'a>, Span)>,
}

impl<'a> crate::machine::Sink<'a> for Slot<'_, 'a> {
    #[inline]
    fn emit(&mut self, event: Event<'a>, span: Span) {
        if self.first.is_none() && self.queue.is_empty() {
            self.first = Some((event, span));
        } else {
            if let Some(first) = self.first.take() {
                self.queue.push_back(first);
            }
            self.queue.push_back((event, span));
        }
    }
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
            next_cr: usize::MAX,
            line_ends: LineEnds::new(),
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
            if start > self.next_cr || self.next_cr == usize::MAX {
                // Lone `\r` line endings are rare: find the next `\r` once (linear over the
                // whole input), and split the CR-free stretch before it at `\n` only.
                self.next_cr = memchr::memchr(b'\r', rest).map_or(self.input.len(), |i| start + i);
            }
            let found = self.line_ends.find(rest, self.next_cr - start);
            let (line_len, next) = match found {
                Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => (i, i + 2),
                Some(i) => (i, i + 1),
                None => (rest.len(), rest.len()),
            };
            self.pos = start + next;
            let line = &rest[..line_len];
            let span = start..start + next;
            let mut sink = Slot { first: None, queue: &mut self.queue };
            if line_len > self.max_line_bytes {
                self.machine.long_line(&line[..self.max_line_bytes], span, &mut sink);
            } else {
                self.machine.line(line, span, &mut sink);
            }
            if let Some(first) = sink.first {
                return Some(first);
            }
        }
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Event<'a>;

    #[inline]
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
