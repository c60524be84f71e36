//! The job pool: N jobs on at most K threads, started in input order, their results handed
//! back in input order. The farm runs installations with it, `regress` the tests of a
//! parallel group and `--jobs`, `prove` its `-j` scripts.
//!
//! Jobs run on scoped threads, so they may borrow from the caller. The caller's own thread
//! receives each result as it finishes (`on_done`, completion order): it can print progress
//! there with `&mut` state, and stop the pool (no further job starts; running ones finish).
//! A [`CancelFlag`] stops it the same way from outside (Ctrl-C): jobs not yet started are
//! `None` in the results.
//!
//! ```
//! use std::ops::ControlFlow;
//! use pgfarm_runner::pool::Pool;
//!
//! let mut finished = Vec::new();
//! let squares = Pool::new(2).run(vec![1, 2, 3], |_, n| n * n, |index, _| {
//!     finished.push(index);
//!     ControlFlow::Continue(())
//! });
//! assert_eq!(squares, [Some(1), Some(4), Some(9)]);
//! assert_eq!(finished.len(), 3);
//! ```

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::process::CancelFlag;

/// How many jobs run at once, and what stops the pool.
#[derive(Debug, Clone)]
pub struct Pool<'c> {
    threads: usize,
    cancel: Option<&'c CancelFlag>,
}

impl<'c> Pool<'c> {
    /// A pool of at most `threads` threads (0 counts as 1).
    pub fn new(threads: usize) -> Pool<'c> {
        Pool { threads: threads.max(1), cancel: None }
    }

    /// No job starts once `cancel` is set (running jobs watch it themselves).
    pub fn cancel_on(mut self, cancel: &'c CancelFlag) -> Pool<'c> {
        self.cancel = Some(cancel);
        self
    }

    /// Runs `job(index, item)` for every item, at most `threads` at a time, starting them in
    /// input order. `on_done(index, &result)` runs on the calling thread as each job ends
    /// (completion order); `ControlFlow::Break` starts no further job. Returns the results in
    /// input order, `None` for the jobs that never started.
    ///
    /// With one thread (or one item) the jobs run on the calling thread, one after another.
    pub fn run<T, R, J, D>(&self, items: Vec<T>, job: J, mut on_done: D) -> Vec<Option<R>>
    where
        T: Send,
        R: Send,
        J: Fn(usize, T) -> R + Sync,
        D: FnMut(usize, &R) -> ControlFlow<()>,
    {
        let mut results: Vec<Option<R>> =
            std::iter::repeat_with(|| None).take(items.len()).collect();
        self.drive(items, job, |index, result| {
            let flow = on_done(index, &result);
            results[index] = Some(result);
            flow
        });
        results
    }

    /// Like [`run`](Pool::run), but hands each result over on the calling thread in input
    /// order: `on_result(index, result)` runs as soon as every earlier job has been handed
    /// over (later results wait in a buffer). `ControlFlow::Break` starts no further job and
    /// hands nothing more over; jobs still running finish and their results are dropped.
    pub fn run_in_order<T, R, J, D>(&self, items: Vec<T>, job: J, mut on_result: D)
    where
        T: Send,
        R: Send,
        J: Fn(usize, T) -> R + Sync,
        D: FnMut(usize, R) -> ControlFlow<()>,
    {
        let mut waiting: Vec<Option<R>> =
            std::iter::repeat_with(|| None).take(items.len()).collect();
        let mut next = 0;
        let mut stopped = false;
        self.drive(items, job, |index, result| {
            if stopped {
                return ControlFlow::Break(());
            }
            waiting[index] = Some(result);
            while let Some(result) = waiting.get_mut(next).and_then(Option::take) {
                next += 1;
                if on_result(next - 1, result).is_break() {
                    stopped = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
    }

    /// The pool itself: `deliver` gets each result on the calling thread, in completion order.
    fn drive<T, R, J, D>(&self, items: Vec<T>, job: J, mut deliver: D)
    where
        T: Send,
        R: Send,
        J: Fn(usize, T) -> R + Sync,
        D: FnMut(usize, R) -> ControlFlow<()>,
    {
        let cancelled = || self.cancel.is_some_and(CancelFlag::is_cancelled);
        let threads = self.threads.min(items.len());
        if threads <= 1 {
            for (index, item) in items.into_iter().enumerate() {
                if cancelled() || deliver(index, job(index, item)).is_break() {
                    break;
                }
            }
            return;
        }
        let queue = Mutex::new(items.into_iter().enumerate());
        let stop = AtomicBool::new(false);
        // The lock is held only to take the next item, never while a job runs.
        let next = || -> Option<(usize, T)> {
            if stop.load(Ordering::SeqCst) || cancelled() {
                return None;
            }
            queue.lock().ok()?.next()
        };
        // pgnode's settings are scoped per thread (the sandbox among them): the workers run
        // with the caller's.
        let config = pgfarm_pgnode::Config::current();
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel::<(usize, R)>();
            for _ in 0..threads {
                let sender = sender.clone();
                let (job, next, config) = (&job, &next, config.clone());
                scope.spawn(move || {
                    let _scope = config.scoped();
                    while let Some((index, item)) = next() {
                        if sender.send((index, job(index, item))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            for (index, result) in receiver {
                if deliver(index, result).is_break() {
                    stop.store(true, Ordering::SeqCst);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    fn go_on<R>(_: usize, _: &R) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    #[test]
    fn results_come_back_in_input_order() {
        // Later items finish first.
        let items: Vec<u64> = (0..6).collect();
        let out = Pool::new(3).run(
            items,
            |_, n| {
                std::thread::sleep(Duration::from_millis(30 - 5 * n));
                n * 10
            },
            go_on,
        );
        assert_eq!(out, (0..6).map(|n| Some(n * 10)).collect::<Vec<_>>());
    }

    #[test]
    fn at_most_k_jobs_run_at_once() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        Pool::new(2).run(
            vec![(); 8],
            |_, ()| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
                running.fetch_sub(1, Ordering::SeqCst);
            },
            go_on,
        );
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn on_done_runs_on_the_calling_thread_once_per_job() {
        let caller = std::thread::current().id();
        let mut seen = Vec::new();
        Pool::new(4).run(
            (0..5).collect(),
            |_, n: i32| n,
            |index, _| {
                assert_eq!(std::thread::current().id(), caller);
                seen.push(index);
                ControlFlow::Continue(())
            },
        );
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_set_cancel_flag_starts_nothing() {
        let cancel = CancelFlag::new();
        cancel.cancel();
        for threads in [1, 3] {
            let out = Pool::new(threads).cancel_on(&cancel).run(vec![1, 2, 3], |_, n| n, go_on);
            assert_eq!(out, [None, None, None]);
        }
    }

    #[test]
    fn break_starts_no_further_job() {
        for threads in [1, 2] {
            let started = AtomicUsize::new(0);
            let out = Pool::new(threads).run(
                (0..20).collect(),
                |_, n: usize| {
                    started.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    n
                },
                |index, _| {
                    if index == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                },
            );
            // The job that broke and those already running finished (a prefix: jobs start in
            // input order); the rest never started.
            let ran = out.iter().take_while(|r| r.is_some()).count();
            assert!(out[ran..].iter().all(Option::is_none), "{out:?}");
            assert_eq!(ran, started.load(Ordering::SeqCst));
            assert!(if threads == 1 { ran == 1 } else { ran < 20 }, "{threads} threads ran {ran}");
        }
    }

    #[test]
    fn no_items_no_threads() {
        let out: Vec<Option<()>> = Pool::new(4).run(Vec::<()>::new(), |_, ()| (), go_on);
        assert!(out.is_empty());
    }

    #[test]
    fn run_in_order_hands_results_over_in_input_order() {
        for threads in [1, 3] {
            let mut seen = Vec::new();
            Pool::new(threads).run_in_order(
                (0..6u64).collect(),
                |_, n| {
                    std::thread::sleep(Duration::from_millis(30 - 5 * n));
                    n
                },
                |index, n| {
                    assert_eq!(index as u64, n);
                    seen.push(n);
                    ControlFlow::Continue(())
                },
            );
            assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn run_in_order_break_hands_nothing_more_over() {
        for threads in [1, 3] {
            let mut seen = Vec::new();
            Pool::new(threads).run_in_order(
                (0..10).collect(),
                |_, n: usize| n,
                |index, n| {
                    seen.push(n);
                    if index == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                },
            );
            assert_eq!(seen, [0, 1, 2]);
        }
    }
}
