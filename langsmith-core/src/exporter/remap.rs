//! Replica ids, as the Python SDK derives them: a run written to a replica
//! under a project other than its own gets new ids (`uuid7_deterministic`:
//! the original's timestamp, then bits of XXH3-128 of `"{id}:{project}"`),
//! so the copy cannot collide with the original in the same workspace, and
//! a trace replicated by several services (any SDK) stays linked.

use crate::run::RunRecord;
use uuid::Uuid;

const P32_1: u64 = 0x9E37_79B1;
const P32_2: u64 = 0x85EB_CA77;
const P32_3: u64 = 0xC2B2_AE3D;
const P64_1: u64 = 0x9E37_79B1_85EB_CA87;
const P64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P64_3: u64 = 0x1656_67B1_9E37_79F9;
const P64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const P64_5: u64 = 0x27D4_EB2F_1656_67C5;
const PMX_1: u64 = 0x1656_6791_9E37_79F9;

/// XXH3's default secret.
const SECRET: [u8; 192] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
];

fn r64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        w.copy_from_slice(s);
    }
    u64::from_le_bytes(w)
}

fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(PMX_1);
    h ^ (h >> 32)
}

fn mix16(input: &[u8], at: usize, sec: usize, seed: u64) -> u64 {
    fold(
        r64(input, at) ^ r64(&SECRET, sec).wrapping_add(seed),
        r64(input, at + 8) ^ r64(&SECRET, sec + 8).wrapping_sub(seed),
    )
}

fn mix32(acc: (u64, u64), input: &[u8], a: usize, b: usize, sec: usize, seed: u64) -> (u64, u64) {
    let mut lo = acc.0.wrapping_add(mix16(input, a, sec, seed));
    lo ^= r64(input, b).wrapping_add(r64(input, b + 8));
    let mut hi = acc.1.wrapping_add(mix16(input, b, sec + 16, seed));
    hi ^= r64(input, a).wrapping_add(r64(input, a + 8));
    (lo, hi)
}

fn finish(acc: (u64, u64), len: u64) -> u128 {
    let lo = acc.0.wrapping_add(acc.1);
    let hi = acc
        .0
        .wrapping_mul(P64_1)
        .wrapping_add(acc.1.wrapping_mul(P64_4))
        .wrapping_add(len.wrapping_mul(P64_2));
    let lo = avalanche(lo);
    let hi = 0u64.wrapping_sub(avalanche(hi));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// XXH3-128 (seed 0, default secret) of inputs of 17 bytes or more, as
/// `high << 64 | low`; `None` for shorter ones (never needed here).
pub(crate) fn xxh3_128(input: &[u8]) -> Option<u128> {
    let len = input.len();
    let l = len as u64;
    match len {
        0..=16 => None,
        17..=128 => {
            let mut acc = (l.wrapping_mul(P64_1), 0);
            if len > 32 {
                if len > 64 {
                    if len > 96 {
                        acc = mix32(acc, input, 48, len - 64, 96, 0);
                    }
                    acc = mix32(acc, input, 32, len - 48, 64, 0);
                }
                acc = mix32(acc, input, 16, len - 32, 32, 0);
            }
            acc = mix32(acc, input, 0, len - 16, 0, 0);
            Some(finish(acc, l))
        }
        129..=240 => {
            let rounds = len / 32;
            let mut acc = (l.wrapping_mul(P64_1), 0);
            for i in 0..4 {
                acc = mix32(acc, input, 32 * i, 32 * i + 16, 32 * i, 0);
            }
            acc = (avalanche(acc.0), avalanche(acc.1));
            for i in 4..rounds {
                acc = mix32(acc, input, 32 * i, 32 * i + 16, 3 + 32 * (i - 4), 0);
            }
            acc = mix32(acc, input, len - 16, len - 32, 136 - 17 - 16, 0);
            Some(finish(acc, l))
        }
        _ => Some(long(input)),
    }
}

fn long(input: &[u8]) -> u128 {
    const STRIPE: usize = 64;
    const PER_BLOCK: usize = (SECRET.len() - STRIPE) / 8;
    const BLOCK: usize = STRIPE * PER_BLOCK;
    let len = input.len();
    let mut acc = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1];
    let stripe = |acc: &mut [u64; 8], at: usize, sec: usize| {
        for i in 0..8 {
            let v = r64(input, at + 8 * i);
            let k = v ^ r64(&SECRET, sec + 8 * i);
            acc[i ^ 1] = acc[i ^ 1].wrapping_add(v);
            acc[i] = acc[i].wrapping_add((k & 0xFFFF_FFFF).wrapping_mul(k >> 32));
        }
    };
    let blocks = (len - 1) / BLOCK;
    for n in 0..blocks {
        for s in 0..PER_BLOCK {
            stripe(&mut acc, n * BLOCK + s * STRIPE, s * 8);
        }
        for (i, a) in acc.iter_mut().enumerate() {
            let mut x = *a;
            x ^= x >> 47;
            x ^= r64(&SECRET, SECRET.len() - STRIPE + 8 * i);
            *a = x.wrapping_mul(P32_1);
        }
    }
    let stripes = ((len - 1) - BLOCK * blocks) / STRIPE;
    for s in 0..stripes {
        stripe(&mut acc, blocks * BLOCK + s * STRIPE, s * 8);
    }
    stripe(&mut acc, len - STRIPE, SECRET.len() - STRIPE - 7);
    let merge = |sec: usize, start: u64| {
        let mut r = start;
        for i in 0..4 {
            r = r.wrapping_add(fold(
                acc[2 * i] ^ r64(&SECRET, sec + 16 * i),
                acc[2 * i + 1] ^ r64(&SECRET, sec + 16 * i + 8),
            ));
        }
        avalanche(r)
    };
    let l = len as u64;
    let lo = merge(11, l.wrapping_mul(P64_1));
    let hi = merge(SECRET.len() - 64 - 11, !l.wrapping_mul(P64_2));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The Python SDK's `uuid7_deterministic(original, key)`.
pub(crate) fn uuid7_deterministic(original: Uuid, key: &str) -> Uuid {
    let input = format!("{}:{key}", original.hyphenated());
    let h = xxh3_128(input.as_bytes()).unwrap_or_default().to_be_bytes();
    let o = original.as_bytes();
    let mut b = [0u8; 16];
    if original.get_version_num() == 7 {
        b[..6].copy_from_slice(&o[..6]);
    } else {
        b[..6].copy_from_slice(&h[10..16]);
    }
    b[6] = 0x70 | (h[0] & 0x0F);
    b[7] = h[1];
    b[8] = 0x80 | (h[2] & 0x3F);
    b[9..16].copy_from_slice(&h[3..10]);
    Uuid::from_bytes(b)
}

/// A run's ids as one destination sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    pub(crate) id: Uuid,
    pub(crate) trace_id: Uuid,
    pub(crate) parent_run_id: Option<Uuid>,
    pub(crate) dotted_order: String,
}

/// The ids to send `run` with to a destination whose project is `project`:
/// `None` when they stay as they are (no project override, or the run's own
/// project), like the Python SDK's `_remap_for_project`.
pub(crate) fn remap(run: &RunRecord, project: Option<&str>) -> Option<Ids> {
    let p = project?;
    if p == &*run.session_name {
        return None;
    }
    let segs: Vec<&str> = run.dotted_order.split('.').collect();
    let mut dotted = String::with_capacity(run.dotted_order.len());
    let new_id = uuid7_deterministic(run.id, p);
    for (i, seg) in segs.iter().enumerate() {
        if i > 0 {
            dotted.push('.');
        }
        let split = seg.len().saturating_sub(36);
        // `get` rather than `split_at`: a hand-edited dotted order may hold
        // anything, and this must not panic.
        let (Some(stamp), Some(id)) = (seg.get(..split), seg.get(split..)) else {
            dotted.push_str(seg);
            continue;
        };
        dotted.push_str(stamp);
        let mapped = if i + 1 == segs.len() {
            new_id
        } else {
            match Uuid::try_parse(id) {
                Ok(u) => uuid7_deterministic(u, p),
                Err(_) => {
                    dotted.push_str(id);
                    continue;
                }
            }
        };
        let mut tmp = Uuid::encode_buffer();
        dotted.push_str(mapped.hyphenated().encode_lower(&mut tmp));
    }
    Some(Ids {
        id: new_id,
        trace_id: uuid7_deterministic(run.trace_id, p),
        parent_run_id: run.parent_run_id.map(|u| uuid7_deterministic(u, p)),
        dotted_order: dotted,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Made with the Python `xxhash` package: `xxh3_128(data).hexdigest()`
    /// for `data = bytes((i*31+7) % 251 for i in range(n))`.
    const VECTORS: &[(usize, &str)] = &[
        (17, "d443578f2c4e2fb495c34448580e19c8"),
        (31, "deb01d8ab3a909306841d88c0d471a16"),
        (32, "7e6bb3a654986c3373367e068a010989"),
        (33, "97fbf3ce109f139623a0b885a7dac302"),
        (63, "0d1ff0ca9aa9ba0e0d81652c4d7253ff"),
        (64, "3515800f003ddbd064524fe2047012df"),
        (65, "7fd00229a220a25b3b589ad4300ec5d5"),
        (96, "0f5fdafe3c60a2ba6aaa14172a8f6957"),
        (97, "203fb0b6f9a8419aaedfb1405f779a9d"),
        (127, "659e0a0b25c7075a72400e87372440e9"),
        (128, "22c34350373a38ae5b77925b2c683a12"),
        (129, "c4a7d8f7893f2090d6d9e73553568be1"),
        (130, "ecaf69fb815b73def805e2b48cc55a96"),
        (159, "17f6464a68a4263ef9870ba424c5db9c"),
        (160, "3c1fd79640cf3c229df001f621092150"),
        (200, "7d5b21c921158e644ec0706f02ef2a5b"),
        (239, "9a032056470c2a3686bba9345dc34ac3"),
        (240, "e29d70b8920fd24bc6ed4333f79384f8"),
        (241, "f91b3cb8ed0fa91a07525dbc14902c7f"),
        (255, "95bf93be894101733e64256196c9377b"),
        (256, "6e4ce5e0d8c8f76fa49b06aa88ab05e1"),
        (300, "c9d32699472a978aa159ad938f97c039"),
        (1023, "0789e58514a0668bfe4f1eaedb87b59b"),
        (1024, "f53a1b1e9f1efedfe2898655db7bc9ee"),
        (1025, "a906cca0f6e772a7134c652ba3d6fb9e"),
        (1087, "c9ef4ef0518a11a71016e0c0479524e1"),
        (1088, "e3fdc658d13e0bb833aefff80de9aa91"),
        (2048, "aceedd29e1caaad363a78a59658d80f4"),
        (2049, "aa660af6b116a0d40bfdaada21607d33"),
        (3000, "7f30bf741f8b32824b4d4c38d3c7d2b6"),
    ];

    #[test]
    fn xxh3_128_matches_the_reference() {
        for (n, hex) in VECTORS {
            let data: Vec<u8> = (0..*n).map(|i| ((i * 31 + 7) % 251) as u8).collect();
            assert_eq!(
                format!("{:032x}", xxh3_128(&data).unwrap()),
                *hex,
                "length {n}"
            );
        }
        assert_eq!(xxh3_128(b"short"), None);
    }

    #[test]
    fn uuid7_deterministic_matches_the_python_sdk() {
        let v7: Uuid = "01a1fc6d-6bcc-7fc1-9c34-b9bc502f6e0f".parse().unwrap();
        assert_eq!(
            uuid7_deterministic(v7, "project-a").to_string(),
            "01a1fc6d-6bcc-7629-a9bd-d4e4a4bc5a8f"
        );
        let v1: Uuid = "6ba7b810-9dad-41d1-80b4-00c04fd430c8".parse().unwrap();
        assert_eq!(
            uuid7_deterministic(v1, &"p".repeat(300)).to_string(),
            "4eaf42dd-f2c5-77bc-b0e3-6316cbb4fe0d"
        );
    }

    #[test]
    fn a_child_run_is_remapped_like_the_python_sdk_does() {
        use crate::{DottedOrder, RunType, Timestamp};
        let root: Uuid = "01a1fc6d-6bcc-7fc1-9c34-b9bc502f6e0f".parse().unwrap();
        let child: Uuid = "01a1fc6d-6bd7-71b0-8fdd-4f483424ecd2".parse().unwrap();
        let t0 = Timestamp::parse_rfc3339("2026-11-21T04:46:31.884900+00:00").unwrap();
        let t1 = Timestamp::parse_rfc3339("2026-11-21T04:46:31.895212+00:00").unwrap();
        let dotted = DottedOrder::root(t0, root).child(t1, child);
        let run = RunRecord::new(
            child,
            "child",
            RunType::Chain,
            t1,
            dotted,
            Some(root),
            "own".into(),
        );
        assert_eq!(remap(&run, None), None);
        assert_eq!(
            remap(&run, Some("own")),
            None,
            "the run's own project keeps its ids"
        );
        // From the Python SDK: RunTree(...).create_child(...)._remap_for_project("replica-project").
        let ids = remap(&run, Some("replica-project")).unwrap();
        assert_eq!(ids.id.to_string(), "01a1fc6d-6bd7-796e-8faf-ebe38f541a13");
        assert_eq!(
            ids.trace_id.to_string(),
            "01a1fc6d-6bcc-7c72-a04b-1c9972e17a11"
        );
        assert_eq!(
            ids.parent_run_id.unwrap().to_string(),
            "01a1fc6d-6bcc-7c72-a04b-1c9972e17a11"
        );
        assert_eq!(
            ids.dotted_order,
            "20261121T044631884900Z01a1fc6d-6bcc-7c72-a04b-1c9972e17a11.20261121T044631895212Z01a1fc6d-6bd7-796e-8faf-ebe38f541a13"
        );
        // Garbage in a hand-edited dotted order does not panic.
        let mut odd = run.clone();
        odd.dotted_order = "é".repeat(30) + "a.x"; // split point inside a char
        assert!(remap(&odd, Some("p")).is_some());
    }
}
