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
/// it, and a fast generator seeded once from the OS for the random bits.
struct V7 {
    last_ms: u64,
    counter: u64,
    rng: rand::rngs::SmallRng,
}

impl V7 {
    fn new() -> V7 {
        use rand::SeedableRng;
        let rng = rand::rngs::SmallRng::try_from_os_rng().unwrap_or_else(|_| {
            // No OS randomness: ids stay unique by time, thread and address.
            let t = Timestamp::now().as_micros() as u64;
            let here = &t as *const u64 as u64;
            rand::rngs::SmallRng::seed_from_u64(t ^ here.rotate_left(32))
        });
        V7 {
            last_ms: 0,
            counter: 0,
            rng,
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
