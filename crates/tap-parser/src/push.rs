//! The push front end: `PushParser` accepts arbitrary byte chunks (a child process's pipe).

use crate::event::{Event, Span};
use crate::machine::Machine;
use crate::options::Options;

/// A push parser: feed it byte chunks as they arrive, it calls your sink with the events of
/// every complete line. It uses the same line classifier as [`crate::Parser`], so any
/// chunking of a stream gives the same events and spans as parsing it whole.
///
/// Memory: the open subtests plus the current incomplete line (at most
/// [`Options::max_line_bytes`]). Events borrow from the chunk or the line buffer and live
/// only during the sink call; use [`Event::into_owned`] to keep one.
///
/// ```
/// use pgfarm_tap_parser::{PushParser, Summarizer};
/// let mut parser = PushParser::new();
/// let mut summary = Summarizer::new();
/// for chunk in ["1..2\nok 1 - fi", "rst\r", "\nnot ok 2\n"] {
///     parser.push(chunk.as_bytes(), |event, _span| summary.event(&event));
/// }
/// parser.finish(|event, _span| summary.event(&event));
/// let summary = summary.finish();
/// assert_eq!((summary.pass, summary.fail, summary.ok), (1, 1, false));
/// ```
#[derive(Debug)]
pub struct PushParser {
    machine: Machine,
    /// The start of the incomplete line (at most `max_line_bytes` of it).
    partial: Vec<u8>,
    /// Length of the incomplete line, including bytes dropped beyond the limit.
    partial_len: usize,
    /// Stream offset where the incomplete line starts.
    offset: usize,
    /// The incomplete line ended with `\r` at the end of a chunk: whether a `\n` follows
    /// is known only with the next chunk.
    pending_cr: bool,
    max_line_bytes: usize,
    line_ends: crate::parser::LineEnds,
    finished: bool,
}

impl Default for PushParser {
    fn default() -> PushParser {
        PushParser::new()
    }
}

impl PushParser {
    /// A push parser with the default [`Options`].
    pub fn new() -> PushParser {
        PushParser::with_options(Options::default())
    }

    /// A push parser with the given options.
    pub fn with_options(options: Options) -> PushParser {
        PushParser {
            machine: Machine::new(options),
            partial: Vec::new(),
            partial_len: 0,
            offset: 0,
            pending_cr: false,
            max_line_bytes: options.max_line_bytes,
            line_ends: crate::parser::LineEnds::new(),
            finished: false,
        }
    }

    /// Bytes received so far.
    pub fn position(&self) -> usize {
        self.offset + self.partial_len + usize::from(self.pending_cr)
    }

    /// Feeds one chunk; `sink` receives the events of the lines it completes.
    pub fn push<F>(&mut self, chunk: &[u8], mut sink: F)
    where
        F: for<'b> FnMut(Event<'b>, Span),
    {
        if self.finished || chunk.is_empty() {
            return;
        }
        let mut rest = chunk;
        if self.pending_cr {
            self.pending_cr = false;
            let lf = usize::from(rest.first() == Some(&b'\n'));
            rest = &rest[lf..];
            self.emit_partial(1 + lf, &mut sink);
        }
        if self.partial_len > 0 {
            match memchr::memchr2(b'\n', b'\r', rest) {
                None => {
                    self.append(rest);
                    return;
                }
                Some(i) => {
                    self.append(&rest[..i]);
                    if rest[i] == b'\r' && i + 1 == rest.len() {
                        self.pending_cr = true;
                        return;
                    }
                    let terminator = if rest[i] == b'\r' && rest[i + 1] == b'\n' { 2 } else { 1 };
                    self.emit_partial(terminator, &mut sink);
                    rest = &rest[i + terminator..];
                }
            }
        }
        // Whole lines inside the chunk are parsed in place, without copying.
        let mut cr_free = memchr::memchr(b'\r', rest).unwrap_or(rest.len());
        loop {
            match self.line_ends.find(rest, cr_free) {
                None => {
                    self.append(rest);
                    return;
                }
                Some(i) => {
                    if rest[i] == b'\r' && i + 1 == rest.len() {
                        self.append(&rest[..i]);
                        self.pending_cr = true;
                        return;
                    }
                    let terminator = if rest[i] == b'\r' && rest[i + 1] == b'\n' { 2 } else { 1 };
                    let line = &rest[..i];
                    let span = self.offset..self.offset + i + terminator;
                    self.offset = span.end;
                    if line.len() > self.max_line_bytes {
                        self.machine.long_line(&line[..self.max_line_bytes], span, &mut sink);
                    } else {
                        self.machine.line(line, span, &mut sink);
                    }
                    rest = &rest[i + terminator..];
                    cr_free = match cr_free.checked_sub(i + terminator) {
                        Some(left) => left,
                        None => memchr::memchr(b'\r', rest).unwrap_or(rest.len()),
                    };
                }
            }
        }
    }

    /// Ends the stream: the last line (if it had no line ending) and the end-of-stream checks.
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: for<'b> FnMut(Event<'b>, Span),
    {
        if self.finished {
            return;
        }
        if self.pending_cr {
            self.pending_cr = false;
            self.emit_partial(1, &mut sink);
        } else if self.partial_len > 0 {
            self.emit_partial(0, &mut sink);
        }
        self.finished = true;
        self.machine.finish(self.offset, &mut sink);
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = self.max_line_bytes.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.partial_len += bytes.len();
    }

    fn emit_partial<F>(&mut self, terminator: usize, sink: &mut F)
    where
        F: for<'b> FnMut(Event<'b>, Span),
    {
        let span = self.offset..self.offset + self.partial_len + terminator;
        self.offset = span.end;
        if self.partial_len > self.max_line_bytes {
            self.machine.long_line(&self.partial[..self.max_line_bytes], span, sink);
        } else {
            self.machine.line(&self.partial, span, sink);
        }
        self.partial.clear();
        self.partial_len = 0;
    }
}
