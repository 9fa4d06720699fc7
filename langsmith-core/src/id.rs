//! Run ids: UUID v7, as the official SDKs create them.

use crate::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// A new UUID v7 (time-ordered), the id format LangSmith expects for runs.
///
/// ```
/// let id = langsmith_core::uuid7();
/// assert_eq!(id.get_version_num(), 7);
/// ```
pub fn uuid7() -> Uuid {
    Uuid::now_v7()
}

/// Per-thread v7 state: the last millisecond used, a 42-bit counter within
/// it, and a fast generator seeded from the OS for the random bits.
struct V7 {
    last_ms: u64,
    counter: u64,
    rng: rand::rngs::SmallRng,
    /// [`fork::generation`] when `rng` was seeded.
    seeded_in: u32,
}

impl V7 {
    fn new() -> V7 {
        let seeded_in = fork::generation();
        V7 {
            last_ms: 0,
            counter: 0,
            rng: seeded_rng(),
            seeded_in,
        }
    }

    /// The id for a run started at `ms` (milliseconds since the epoch).
    ///
    /// Layout (RFC 9562, "method 1" of §6.2, as the uuid crate's
    /// `ContextV7`): 48 bits of milliseconds, the version, 12 bits of
    /// counter, the variant, 30 more bits of counter, 32 random bits. A new
    /// millisecond starts the counter at a random 41-bit value (headroom to
    /// count up); within one (or when the clock steps back) it counts up, and
    /// on the rare overflow borrows the next millisecond — so ids made one
    /// after the other on a thread always increase.
    fn next(&mut self, ms: u64) -> Uuid {
        use rand::RngCore;
        let generation = fork::generation();
        if generation != self.seeded_in {
            // A forked child: its copy of this state would draw the same
            // counters and random bits as the parent's. Start afresh.
            *self = V7 {
                seeded_in: generation,
                ..V7::new()
            };
        }
        if ms > self.last_ms {
            self.last_ms = ms;
            self.counter = self.rng.next_u64() >> 23;
        } else {
            self.counter += 1;
            if self.counter >> 42 != 0 {
                self.last_ms += 1;
                self.counter = self.rng.next_u64() >> 23;
            }
        }
        let random = u128::from(self.rng.next_u64() as u32);
        let ms = u128::from(self.last_ms & 0xFFFF_FFFF_FFFF);
        let counter = u128::from(self.counter);
        Uuid::from_u128(
            ms << 80
                | 0x7 << 76
                | (counter >> 30) << 64
                | 0b10 << 62
                | (counter & 0x3FFF_FFFF) << 32
                | random,
        )
    }
}

/// A generator seeded from the OS (or, without OS randomness, from the
/// time and an address: ids then stay unique by time, thread and address).
fn seeded_rng() -> rand::rngs::SmallRng {
    use rand::SeedableRng;
    rand::rngs::SmallRng::try_from_os_rng().unwrap_or_else(|_| {
        let t = Timestamp::now().as_micros() as u64;
        let here = &t as *const u64 as u64;
        rand::rngs::SmallRng::seed_from_u64(t ^ here.rotate_left(32))
    })
}

/// Telling a forked child from its parent. The child of `fork()` starts
/// with a copy of the forking thread's id state, random generator included,
/// so both processes would make the same ids; a `pthread_atfork` handler
/// counts forks, and [`V7::next`] reseeds when the count moved (one relaxed
/// load per id; checking the pid instead would be a system call per id).
mod fork {
    use std::sync::atomic::{AtomicU32, Ordering};

    static FORKS: AtomicU32 = AtomicU32::new(0);

    /// How many times this process (or the parents it was forked from,
    /// since the handler was registered) has forked into a child.
    pub(super) fn generation() -> u32 {
        register();
        FORKS.load(Ordering::Relaxed)
    }

    #[cfg(unix)]
    #[allow(unsafe_code)] // the one FFI call below
    fn register() {
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        extern "C" fn in_child() {
            // Async-signal-safe: one atomic add, no allocation, no lock.
            FORKS.fetch_add(1, Ordering::Relaxed);
        }
        REGISTERED.call_once(|| {
            // SAFETY: registers a handler that only touches an atomic; no
            // prepare/parent handlers. A non-zero result (ENOMEM) leaves
            // forks undetected, as before this existed.
            let failed = unsafe { libc::pthread_atfork(None, None, Some(in_child)) } != 0;
            if failed {
                tracing::debug!(
                    "pthread_atfork failed: run ids are not reseeded in forked children"
                );
            }
        });
    }

    #[cfg(not(unix))]
    fn register() {}
}

thread_local! {
    static V7_STATE: std::cell::RefCell<V7> = std::cell::RefCell::new(V7::new());
}

/// A new UUID v7 for a run that starts at `start`, a time just read from the
/// clock: its millisecond is the id's, so no second clock read is needed,
/// and there is no process-wide lock ([`uuid7`] has both). Ids made one
/// after the other on a thread increase, as [`uuid7`]'s do.
pub(crate) fn uuid7_at(start: Timestamp) -> Uuid {
    match u64::try_from(start.as_micros()) {
        Ok(micros) => V7_STATE
            .try_with(|v| v.borrow_mut().next(micros / 1_000))
            .unwrap_or_else(|_| uuid7()),
        Err(_) => uuid7(),
    }
}

/// `"00"` to `"ff"`, indexed by byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    table
};

/// Where each byte's two hex digits go in the hyphenated form.
const HYPHENATED_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// The lower-case hyphenated form of `id` (what `Display` writes), from a
/// table of digit pairs. Ids are written several times per run (dotted
/// order, the exporter's part names and JSON); under wrk (callgrind) the
/// exporter spent ≈ 1,400 instructions per traced request in
/// `Uuid::hyphenated().encode_lower` and ≈ 420 in this.
pub(crate) fn hyphenated(id: &Uuid) -> [u8; 36] {
    let mut out = [b'-'; 36];
    for (byte, at) in id.as_bytes().iter().zip(HYPHENATED_AT) {
        let pair = HEX_PAIRS[usize::from(*byte)];
        out[at] = pair[0];
        out[at + 1] = pair[1];
    }
    out
}

/// Appends `id`'s hyphenated lower-case form to `out`.
pub(crate) fn push_hyphenated(out: &mut String, id: &Uuid) {
    // Only hex digits and `-` were written.
    if let Ok(text) = std::str::from_utf8(&hyphenated(id)) {
        out.push_str(text);
    }
}

static WARNED_NON_V7: AtomicBool = AtomicBool::new(false);

/// Accepts a caller-chosen run id. A non-v7 id still works, but LangSmith
/// orders and partitions runs by the time inside v7 ids, so the first one in
/// the process is reported with a warning, as the official SDKs do.
pub(crate) fn check_custom_id(id: Uuid) -> Uuid {
    if id.get_version_num() != 7 && !WARNED_NON_V7.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            run_id = %id,
            "LangSmith run ids should be UUID v7 (use langsmith::uuid7()); \
             other versions are accepted but sort badly. This is reported once per process."
        );
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `fork()`: parent and child make ids for the same millisecond
    /// from the same (copied) state; without the reseed they would be the
    /// same 64 ids.
    #[cfg(unix)]
    #[test]
    #[allow(unsafe_code)] // fork, pipe, read, write, waitpid, _exit
    fn a_forked_child_makes_other_ids_than_its_parent() {
        let start = Timestamp::now();
        let _ = uuid7_at(start); // this thread's state exists before the fork
        let make = || -> Vec<u8> { (0..64).flat_map(|_| *uuid7_at(start).as_bytes()).collect() };
        let mut fds = [0; 2];
        // SAFETY: two ints for pipe(2) to fill.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only makes ids (thread-local state, the OS
        // generator), writes them and leaves with _exit: no lock another
        // thread of the test harness could hold is taken.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ids = make();
            // SAFETY: writes our own buffer to the pipe, then exits without
            // running the harness's destructors.
            unsafe {
                let n = libc::write(fds[1], ids.as_ptr().cast(), ids.len());
                libc::_exit(if n == ids.len() as isize { 0 } else { 1 });
            }
        }
        let parent = make();
        let mut child = vec![0u8; parent.len()];
        let mut got = 0;
        while got < child.len() {
            // SAFETY: reads into the unfilled rest of `child`.
            let n =
                unsafe { libc::read(fds[0], child[got..].as_mut_ptr().cast(), child.len() - got) };
            assert!(n > 0, "the child sent {got} bytes");
            got += n as usize;
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        // SAFETY: closes the two ends we opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        let ids = |b: &[u8]| -> std::collections::HashSet<[u8; 16]> {
            b.chunks(16).filter_map(|c| c.try_into().ok()).collect()
        };
        let (parent, child) = (ids(&parent), ids(&child));
        assert_eq!((parent.len(), child.len()), (64, 64));
        assert!(
            parent.is_disjoint(&child),
            "{} ids made by both the parent and its forked child",
            parent.intersection(&child).count()
        );
    }

    #[test]
    fn ids_are_v7_and_ordered() {
        let a = uuid7();
        let b = uuid7();
        assert_eq!(a.get_version_num(), 7);
        assert!(b > a, "v7 ids made one after the other sort in order");
    }

    #[test]
    fn ids_at_a_start_time_carry_its_millisecond_and_increase() {
        let t = Timestamp::from_micros(1_767_323_045_678_901);
        let ids: Vec<Uuid> = (0..1000).map(|_| uuid7_at(t)).collect();
        for (a, b) in ids.iter().zip(&ids[1..]) {
            assert!(b > a, "{a} then {b}");
        }
        for id in &ids {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
            assert_eq!((secs, nanos / 1_000_000), (1_767_323_045, 678));
        }
        // Before 1970: still a v7 id (of now).
        assert_eq!(uuid7_at(Timestamp::from_micros(-5)).get_version_num(), 7);
        // Each from its own clock read.
        let a = uuid7_at(Timestamp::now());
        let b = uuid7_at(Timestamp::now());
        assert!(b > a);
    }

    #[test]
    fn ids_increase_across_a_clock_step_back_and_a_counter_overflow() {
        let mut v = V7::new();
        let ms = 1_767_323_045_678;
        let a = v.next(ms);
        let b = v.next(ms - 5); // the clock stepped back: counts on
        assert!(b > a);
        v.counter = (1 << 42) - 1; // the next id overflows the counter
        let c = v.next(ms);
        assert!(c > b);
        let (secs, nanos) = c.get_timestamp().unwrap().to_unix();
        assert_eq!(
            secs * 1_000 + u64::from(nanos) / 1_000_000,
            ms + 1,
            "borrowed the next ms"
        );
        for id in [a, b, c] {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        }
        // Two threads' ids of the same millisecond differ (own random state).
        let other = std::thread::spawn(move || V7::new().next(ms))
            .join()
            .unwrap();
        assert_ne!(other, V7::new().next(ms));
    }

    #[test]
    fn hyphenated_is_the_display_form() {
        let mut ids = vec![Uuid::nil(), Uuid::max(), uuid7()];
        ids.extend((0..200).map(|_| Uuid::new_v4()));
        ids.extend((0..=255u8).map(|b| Uuid::from_bytes([b; 16])));
        for id in ids {
            assert_eq!(hyphenated(&id), id.to_string().as_bytes(), "{id}");
            let mut s = String::from("x");
            push_hyphenated(&mut s, &id);
            assert_eq!(s, format!("x{id}"));
        }
    }

    #[test]
    fn non_v7_is_kept() {
        let v4 = Uuid::new_v4();
        assert_eq!(check_custom_id(v4), v4);
        assert!(WARNED_NON_V7.load(Ordering::Relaxed));
    }
}
