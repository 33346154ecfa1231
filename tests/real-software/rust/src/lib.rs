//! What an aarch64 Rust program needs from archway: std threads, channels, scoped
//! threads over shared data, atomics, and unwinding (`catch_unwind`). Built with
//! Debian's rustc for `aarch64-unknown-linux-gnu`; `cargo test` runs its tests under
//! archway as the target runner (see scripts/real-software.sh).

use std::panic;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

/// Sums `i * i` for `i` in `0..n` on `workers` threads that send partial sums over a channel.
pub fn parallel_sum_squares(n: u64, workers: u64) -> u64 {
    let (tx, rx) = mpsc::channel();
    for w in 0..workers {
        let tx = tx.clone();
        thread::spawn(move || {
            let part: u64 = (w..n).step_by(workers as usize).map(|i| i * i).sum();
            tx.send(part).unwrap();
        });
    }
    drop(tx);
    rx.iter().sum()
}

/// Counts to `per_thread * threads` with an atomic and with a mutex; returns both.
pub fn contended_counts(threads: usize, per_thread: u64) -> (u64, u64) {
    let atomic = Arc::new(AtomicU64::new(0));
    let locked = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (atomic, locked) = (atomic.clone(), locked.clone());
            thread::spawn(move || {
                for _ in 0..per_thread {
                    atomic.fetch_add(1, Ordering::Relaxed);
                    *locked.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let counted = *locked.lock().unwrap();
    (atomic.load(Ordering::SeqCst), counted)
}

/// Divides, panicking on zero; `checked_divide` turns the panic back into `None`.
pub fn divide(a: i64, b: i64) -> i64 {
    if b == 0 {
        panic!("division of {a} by zero");
    }
    a / b
}

/// `divide` under `catch_unwind`: the panic unwinds through the frames and is caught.
///
/// ```
/// std::panic::set_hook(Box::new(|_| {}));
/// assert_eq!(rustprobe::checked_divide(9, 3), Some(3));
/// assert_eq!(rustprobe::checked_divide(9, 0), None);
/// ```
pub fn checked_divide(a: i64, b: i64) -> Option<i64> {
    panic::catch_unwind(|| divide(a, b)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_channels_sum() {
        assert_eq!(parallel_sum_squares(100_000, 8), (0..100_000u64).map(|i| i * i).sum());
    }

    #[test]
    fn atomics_and_mutexes_agree_under_contention() {
        assert_eq!(contended_counts(8, 20_000), (160_000, 160_000));
    }

    #[test]
    fn catch_unwind_recovers_from_a_panic() {
        panic::set_hook(Box::new(|_| {}));
        assert_eq!(checked_divide(84, 2), Some(42));
        assert_eq!(checked_divide(1, 0), None);
        let _ = panic::take_hook();
    }

    #[test]
    #[should_panic(expected = "division of 7 by zero")]
    fn a_panic_is_reported_to_the_harness() {
        divide(7, 0);
    }

    #[test]
    fn a_panicking_thread_is_seen_by_join() {
        let result = thread::spawn(|| divide(1, 0)).join();
        assert!(result.is_err());
    }

    #[test]
    fn scoped_threads_share_a_slice() {
        let mut data: Vec<u64> = (0..1000).collect();
        thread::scope(|s| {
            for chunk in data.chunks_mut(100) {
                s.spawn(move || chunk.iter_mut().for_each(|x| *x *= 2));
            }
        });
        assert_eq!(data.iter().sum::<u64>(), 999_000);
    }
}
