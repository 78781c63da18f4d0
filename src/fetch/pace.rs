//! [`Pace`]: the stall guard of a [`Pipeline`](super::Pipeline).
//!
//! Some servers hold pipelined answers back: one that writes each answer on
//! its own with Nagle's algorithm on waits for the client's ACK of the
//! previous answer, which the client's kernel may delay by 40 ms or more
//! (the pipeline asks it not to, where the system allows). Pipelining must
//! never be slower than single requests, so every batch is timed: a batch
//! is stalled when the wait for one of its later answers, with the answer
//! before it read, is at least [`STALL`] and 4 times the fastest first
//! answer (on a healthy pipeline the next answer is already on its way).
//! After [`MAX_STALLED`] stalled batches, if they are at least half of all,
//! single requests are faster than this server's pipelining.

use std::time::Duration;

/// A wait for the next answer of a batch, once the one before it is read,
/// counts as a stall from this long (and from 4 times the fastest first
/// answer seen: on a slow link, answers come a round trip apart anyway).
const STALL: Duration = Duration::from_millis(20);

/// Stalled batches that end pipelining for the rest of the run, when they
/// are also at least half the batches read so far.
const MAX_STALLED: u32 = 3;

/// How the batches of a pipeline went: the stall guard's evidence.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pace {
    /// The fastest wait seen for a batch's first answer (a round trip and
    /// the server's time for one file).
    pub first_min: Option<Duration>,
    /// Batches of two or more files read whole.
    pub batches: u32,
    /// Of those, batches in which the server held an answer back.
    pub stalled: u32,
    /// Whether the stall guard has turned pipelining off.
    pub gave_up: bool,
}

impl Pace {
    /// Records a batch of `files` read whole, given how long each answer's
    /// first bytes were waited for when none had come with the answer
    /// before (`waits[0]`: the batch's first answer). Whether pipelining
    /// should stop now (true once).
    pub(super) fn record(&mut self, waits: &[Duration], files: usize) -> bool {
        let Some((first, later)) = waits.split_first() else {
            return false;
        };
        if files < 2 || self.gave_up {
            return false;
        }
        let fastest = self.first_min.map_or(*first, |m| m.min(*first));
        self.first_min = Some(fastest);
        self.batches += 1;
        let limit = STALL.max(fastest * 4);
        if later.iter().any(|w| *w >= limit) {
            self.stalled += 1;
        }
        self.gave_up = self.stalled >= MAX_STALLED && self.stalled * 2 >= self.batches;
        self.gave_up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn stalls_in_most_batches_end_pipelining_once() {
        let mut pace = Pace::default();
        assert!(!pace.record(&ms(&[1, 0, 0]), 3));
        assert!(!pace.record(&ms(&[1, 40]), 10));
        assert!(!pace.record(&ms(&[1, 0, 45]), 10));
        assert!(pace.record(&ms(&[1, 41]), 10), "{pace:?}");
        assert_eq!((pace.batches, pace.stalled, pace.gave_up), (4, 3, true));
        assert!(!pace.record(&ms(&[1, 41]), 10), "says so once");
    }

    #[test]
    fn slow_links_and_rare_stalls_keep_pipelining() {
        let mut pace = Pace::default();
        // A 100 ms round trip: answers 150 ms apart are no stall.
        for _ in 0..10 {
            assert!(!pace.record(&ms(&[100, 150, 150]), 10));
        }
        assert_eq!(pace.stalled, 0);
        // Three stalls among many healthy batches are a minority.
        for _ in 0..3 {
            assert!(!pace.record(&ms(&[100, 500]), 10));
        }
        assert!(!pace.gave_up && pace.stalled == 3, "{pace:?}");
        // Single files and batches without waits say nothing.
        assert!(!pace.record(&ms(&[100]), 1));
        assert!(!pace.record(&[], 10));
    }
}
