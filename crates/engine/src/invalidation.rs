//! Code invalidation shared by the engines of one guest process.
//!
//! Each guest thread has its own engine and code cache (see [`crate::Engine`]). When
//! one thread unmaps or remaps code, every thread's translations of it must go: the
//! invalidating engine publishes the range here, and every engine compares the log's
//! generation with the last one it applied before it enters translated code (at
//! every return to its dispatcher). Code already running in another thread is not
//! stopped by the log: the Linux layer also raises `exit_request` in the other
//! threads' states, so they come back to their dispatchers at the next block
//! boundary and catch up there.
//!
//! The log keeps the last [`KEPT`] ranges; an engine further behind than that
//! flushes its whole cache instead.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// How many recent invalidations the log remembers.
pub const KEPT: usize = 64;

/// What an engine must forget to catch up with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// Forget translations overlapping each `[start, end)` range.
    Ranges(Vec<(u64, u64)>),
    /// Too far behind: forget everything.
    Everything,
}

/// Recent invalidations of one guest process, newest last.
#[derive(Debug, Default)]
pub struct InvalidationLog {
    generation: AtomicU64,
    /// `(generation, start, end)` of the last [`KEPT`] invalidations.
    recent: Mutex<VecDeque<(u64, u64, u64)>>,
}

impl InvalidationLog {
    /// The number of invalidations published so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Record that `[start, end)` changed; the new generation.
    pub fn publish(&self, start: u64, end: u64) -> u64 {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = self.generation.load(Ordering::Relaxed) + 1;
        if recent.len() == KEPT {
            recent.pop_front();
        }
        recent.push_back((generation, start, end));
        self.generation.store(generation, Ordering::Release);
        generation
    }

    /// What to forget after having applied everything up to generation `seen`, and
    /// the generation that brings the caller to.
    pub fn since(&self, seen: u64) -> (CatchUp, u64) {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = self.generation.load(Ordering::Relaxed);
        let missed = generation.saturating_sub(seen);
        if missed > recent.len() as u64 {
            return (CatchUp::Everything, generation);
        }
        let ranges = recent.iter().filter(|&&(g, ..)| g > seen).map(|&(_, start, end)| (start, end)).collect();
        (CatchUp::Ranges(ranges), generation)
    }
}

/// One engine's view of its process's [`InvalidationLog`].
#[derive(Debug)]
pub struct LogCursor {
    log: std::sync::Arc<InvalidationLog>,
    seen: u64,
}

impl LogCursor {
    /// Follow `log` from its current generation (a new, empty cache has nothing older
    /// to forget).
    pub fn new(log: std::sync::Arc<InvalidationLog>) -> LogCursor {
        let seen = log.generation();
        LogCursor { log, seen }
    }

    /// The shared log, to give to an engine of a new thread.
    pub fn log(&self) -> &std::sync::Arc<InvalidationLog> {
        &self.log
    }

    /// What to forget because of other engines' invalidations since the last call;
    /// `None` when nothing happened (one atomic load: cheap enough for every dispatch).
    pub fn catch_up(&mut self) -> Option<CatchUp> {
        if self.log.generation() == self.seen {
            return None;
        }
        let (what, generation) = self.log.since(self.seen);
        self.seen = generation;
        Some(what)
    }

    /// Publish an invalidation this engine has already applied to itself.
    pub fn publish(&mut self, start: u64, end: u64) {
        let generation = self.log.publish(start, end);
        // Skip our own entry only if nobody else published in between.
        if generation == self.seen + 1 {
            self.seen = generation;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn cursors_see_other_engines_invalidations_once() {
        let log = Arc::new(InvalidationLog::default());
        let mut a = LogCursor::new(log.clone());
        let mut b = LogCursor::new(log.clone());
        assert_eq!(a.catch_up(), None);
        a.publish(0x1000, 0x2000);
        assert_eq!(a.catch_up(), None, "its own invalidation is already applied");
        assert_eq!(b.catch_up(), Some(CatchUp::Ranges(vec![(0x1000, 0x2000)])));
        assert_eq!(b.catch_up(), None);
        b.publish(0x3000, 0x4000);
        a.publish(0x5000, 0x6000);
        // `a` published after `b` without catching up: it sees both again, harmlessly.
        assert_eq!(a.catch_up(), Some(CatchUp::Ranges(vec![(0x3000, 0x4000), (0x5000, 0x6000)])));
        assert_eq!(b.catch_up(), Some(CatchUp::Ranges(vec![(0x5000, 0x6000)])));
    }

    #[test]
    fn a_cursor_far_behind_flushes_everything() {
        let log = Arc::new(InvalidationLog::default());
        let mut behind = LogCursor::new(log.clone());
        for k in 0..=KEPT as u64 {
            log.publish(k, k + 1);
        }
        assert_eq!(behind.catch_up(), Some(CatchUp::Everything));
        assert_eq!(behind.catch_up(), None);
        let late = LogCursor::new(log.clone());
        assert_eq!(late.seen, KEPT as u64 + 1);
    }
}
