//! `dotted_order`: the path from a trace's root to a run, as LangSmith sorts it.
//!
//! For each ancestor from the root down to the run itself, the segment is the
//! run's start time as `YYYYMMDDTHHMMSSffffffZ` immediately followed by its id;
//! segments are joined with `.`. The first id is the trace id, the last the
//! run's own id, the one before it the parent's.

use crate::time::{DOTTED_STAMP_LEN, Timestamp};
use std::fmt;
use uuid::Uuid;

const ID_LEN: usize = 36;
const SEGMENT_LEN: usize = DOTTED_STAMP_LEN + ID_LEN;

/// The deepest dotted order accepted from outside (headers, wire data).
pub const MAX_DEPTH: usize = 128;

/// A validated `dotted_order`.
///
/// ```
/// use langsmith_core::{DottedOrder, Timestamp};
/// use uuid::Uuid;
/// let root_id: Uuid = "0193d5a2-0000-7000-8000-000000000001".parse().unwrap();
/// let root = DottedOrder::root(Timestamp::from_micros(1_767_323_045_678_901), root_id);
/// assert_eq!(root.as_str(), "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001");
/// let child_id: Uuid = "0193d5a2-0000-7000-8000-000000000064".parse().unwrap();
/// let child = root.child(Timestamp::from_micros(1_767_323_045_678_906), child_id);
/// assert_eq!(child.trace_id(), root_id);
/// assert_eq!(child.parent_id(), Some(root_id));
/// assert_eq!(child.run_id(), child_id);
/// ```
#[derive(Clone)]
pub struct DottedOrder {
    /// The canonical string.
    text: String,
    /// The ids and the last start time, read once when it is built (a
    /// server reads them for every request that continues a trace).
    ids: Ids,
}

/// What the accessors return without re-reading the string.
#[derive(Clone, Copy, Debug)]
struct Ids {
    trace_id: Uuid,
    parent_id: Option<Uuid>,
    run_id: Uuid,
    start: Timestamp,
}

impl PartialEq for DottedOrder {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DottedOrder {}

impl std::hash::Hash for DottedOrder {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

/// Why a string is not a valid `dotted_order`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DottedOrderError {
    /// The string is empty.
    Empty,
    /// More than 128 segments.
    TooDeep,
    /// Segment `index` (0-based) is not `YYYYMMDDTHHMMSSffffffZ` + a UUID.
    BadSegment {
        /// Which segment, counted from the root.
        index: usize,
    },
    /// Segment `index` names a run that is already its ancestor (a cycle).
    RepeatedId {
        /// Which segment, counted from the root.
        index: usize,
    },
}

impl fmt::Display for DottedOrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DottedOrderError::Empty => f.write_str("empty dotted order"),
            DottedOrderError::TooDeep => write!(f, "dotted order deeper than {MAX_DEPTH}"),
            DottedOrderError::BadSegment { index } => {
                write!(
                    f,
                    "dotted order segment {index} is not <YYYYMMDDTHHMMSSffffffZ><uuid>"
                )
            }
            DottedOrderError::RepeatedId { index } => {
                write!(
                    f,
                    "dotted order segment {index} repeats an ancestor's run id"
                )
            }
        }
    }
}

impl std::error::Error for DottedOrderError {}

impl DottedOrder {
    /// The dotted order of a root run.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let id = uuid7();
    /// let d = DottedOrder::root(Timestamp::now(), id);
    /// assert_eq!(d.trace_id(), id);
    /// assert_eq!(d.parent_id(), None);
    /// ```
    pub fn root(start: Timestamp, id: Uuid) -> Self {
        let mut text = String::with_capacity(SEGMENT_LEN);
        push_segment(&mut text, start, id);
        DottedOrder {
            text,
            ids: Ids {
                trace_id: id,
                parent_id: None,
                run_id: id,
                start,
            },
        }
    }

    /// The dotted order of a child of this run. The caller clamps `start` to
    /// be no earlier than the parent's (see [`DottedOrder::start_time`]).
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let root = DottedOrder::root(Timestamp::now(), uuid7());
    /// let child = root.child(Timestamp::now(), uuid7());
    /// assert_eq!(child.depth(), 2);
    /// assert!(child.as_str().starts_with(root.as_str()));
    /// ```
    pub fn child(&self, start: Timestamp, id: Uuid) -> Self {
        let mut text = String::with_capacity(self.text.len() + 1 + SEGMENT_LEN);
        text.push_str(&self.text);
        text.push('.');
        push_segment(&mut text, start, id);
        DottedOrder {
            text,
            ids: Ids {
                trace_id: self.ids.trace_id,
                parent_id: Some(self.ids.run_id),
                run_id: id,
                start,
            },
        }
    }

    /// Parses and validates a dotted order (e.g. from a `langsmith-trace` header).
    ///
    /// ```
    /// # use langsmith_core::DottedOrder;
    /// let d = DottedOrder::parse("20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001").unwrap();
    /// assert_eq!(d.depth(), 1);
    /// assert!(DottedOrder::parse("not-a-dotted-order").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, DottedOrderError> {
        let s = s.trim();
        let (canonical, ids) = Self::validate(s)?;
        let text = if canonical {
            s.to_owned()
        } else {
            normalised(s)
        };
        Ok(DottedOrder { text, ids })
    }

    /// [`DottedOrder::parse`] of an owned string: when it is already in the
    /// canonical form (lower-case ids, what every SDK writes) and has no
    /// surrounding whitespace, its allocation is kept.
    pub(crate) fn parse_owned(s: String) -> Result<Self, DottedOrderError> {
        let trimmed = s.trim();
        let (canonical, ids) = Self::validate(trimmed)?;
        let text = if !canonical {
            normalised(trimmed)
        } else if trimmed.len() == s.len() {
            s
        } else {
            trimmed.to_owned()
        };
        Ok(DottedOrder { text, ids })
    }

    /// Checks `s`; `true` when it is already in the canonical form (stamps
    /// with upper-case `T`/`Z`, ids in lower case), and its ids.
    fn validate(s: &str) -> Result<(bool, Ids), DottedOrderError> {
        if s.is_empty() {
            return Err(DottedOrderError::Empty);
        }
        if s.len() > MAX_DEPTH * (SEGMENT_LEN + 1) {
            return Err(DottedOrderError::TooDeep);
        }
        // The ancestors' ids, for the cycle check: the first few inline (a
        // header usually carries one to a handful), the rest on the heap.
        let mut near = [Uuid::nil(); 8];
        let mut far: Vec<Uuid> = Vec::new();
        let mut canonical = true;
        let mut ids = Ids {
            trace_id: Uuid::nil(),
            parent_id: None,
            run_id: Uuid::nil(),
            start: Timestamp::from_micros(0),
        };
        for (index, seg) in s.split('.').enumerate() {
            if index >= MAX_DEPTH {
                return Err(DottedOrderError::TooDeep);
            }
            let (start, id) = parse_segment(seg).ok_or(DottedOrderError::BadSegment { index })?;
            if index == 0 {
                ids.trace_id = id;
            } else {
                ids.parent_id = Some(ids.run_id);
            }
            ids.run_id = id;
            ids.start = start;
            // Valid, so ASCII of the right length: only the `T`, the `Z`
            // and the id's hex letters can be in the other case.
            let b = seg.as_bytes();
            canonical &= b.get(8) == Some(&b'T')
                && b.get(DOTTED_STAMP_LEN - 1) == Some(&b'Z')
                && b.get(DOTTED_STAMP_LEN..)
                    .is_some_and(|id| !id.iter().any(u8::is_ascii_uppercase));
            let seen = &near[..index.min(near.len())];
            if seen.contains(&id) || far.contains(&id) {
                return Err(DottedOrderError::RepeatedId { index });
            }
            match near.get_mut(index) {
                Some(slot) => *slot = id,
                None => far.push(id),
            }
        }
        Ok((canonical, ids))
    }

    /// The string form.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let d = DottedOrder::root(Timestamp::from_micros(0), uuid7());
    /// assert!(d.as_str().starts_with("19700101T000000000000Z"));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The string form, by value.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let d = DottedOrder::root(Timestamp::from_micros(0), uuid7());
    /// assert_eq!(d.clone().into_string(), d.as_str());
    /// ```
    pub fn into_string(self) -> String {
        self.text
    }

    /// Takes the text out, leaving this dotted order's text empty (its ids
    /// and start time stay): for a context about to be dropped.
    pub(crate) fn take_text(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// `(start time, run id)` of each run from the root down.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let d = DottedOrder::root(Timestamp::from_micros(5), uuid7());
    /// let segs: Vec<_> = d.segments().collect();
    /// assert_eq!(segs[0].0, Timestamp::from_micros(5));
    /// ```
    pub fn segments(&self) -> impl Iterator<Item = (Timestamp, Uuid)> + '_ {
        // Validated at construction; a segment that somehow fails is skipped.
        self.text.split('.').filter_map(parse_segment)
    }

    /// Number of runs on the path (1 for a root).
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// assert_eq!(DottedOrder::root(Timestamp::now(), uuid7()).depth(), 1);
    /// ```
    pub fn depth(&self) -> usize {
        self.text.split('.').count()
    }

    /// The id of the root run: the trace id.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let id = uuid7();
    /// let d = DottedOrder::root(Timestamp::now(), id).child(Timestamp::now(), uuid7());
    /// assert_eq!(d.trace_id(), id);
    /// ```
    pub fn trace_id(&self) -> Uuid {
        self.ids.trace_id
    }

    /// The id of the run this dotted order belongs to (the last segment).
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let id = uuid7();
    /// assert_eq!(DottedOrder::root(Timestamp::now(), id).run_id(), id);
    /// ```
    pub fn run_id(&self) -> Uuid {
        self.ids.run_id
    }

    /// The start time in the last segment.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let t = Timestamp::from_micros(123);
    /// assert_eq!(DottedOrder::root(t, uuid7()).start_time(), t);
    /// ```
    pub fn start_time(&self) -> Timestamp {
        self.ids.start
    }

    /// The id of the parent run (the segment before the last), if any.
    ///
    /// ```
    /// # use langsmith_core::{DottedOrder, Timestamp, uuid7};
    /// let root = DottedOrder::root(Timestamp::now(), uuid7());
    /// assert_eq!(root.parent_id(), None);
    /// ```
    pub fn parent_id(&self) -> Option<Uuid> {
        self.ids.parent_id
    }
}

impl fmt::Display for DottedOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DottedOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl std::str::FromStr for DottedOrder {
    type Err = DottedOrderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DottedOrder::parse(s)
    }
}

fn push_segment(s: &mut String, start: Timestamp, id: Uuid) {
    let mut seg = [0u8; SEGMENT_LEN];
    seg[..DOTTED_STAMP_LEN].copy_from_slice(&start.dotted_bytes());
    seg[DOTTED_STAMP_LEN..].copy_from_slice(&crate::id::hyphenated(&id));
    // Digits, letters and `-` only: one check for the whole segment.
    if let Ok(seg) = std::str::from_utf8(&seg) {
        s.push_str(seg);
    }
}

/// A validated dotted order in canonical form: stamps upper-case, ids
/// lower-case (only digits, hex letters, `T`, `Z`, `-` and `.` are left after
/// validation).
fn normalised(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_lowercase() {
            't' => 'T',
            'z' => 'Z',
            c => c,
        })
        .collect()
}

fn parse_segment(seg: &str) -> Option<(Timestamp, Uuid)> {
    if seg.len() != SEGMENT_LEN || !seg.is_ascii() {
        return None;
    }
    let (stamp, id) = seg.split_at(DOTTED_STAMP_LEN);
    // Upper-cased on the stack (`t`/`z` are accepted): no allocation.
    let mut upper = [0u8; DOTTED_STAMP_LEN];
    upper.copy_from_slice(stamp.as_bytes());
    upper.make_ascii_uppercase();
    let t = Timestamp::parse_dotted_segment(std::str::from_utf8(&upper).ok()?)?;
    // 36 characters can only be the hyphenated form.
    let id = Uuid::try_parse(id).ok()?;
    Some((t, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";

    #[test]
    fn python_child_vector() {
        let root = DottedOrder::parse(ROOT).unwrap();
        let child = root.child(
            Timestamp::parse_rfc3339("2026-01-02T03:04:05.678906+00:00").unwrap(),
            "0193d5a2-0000-7000-8000-000000000064".parse().unwrap(),
        );
        assert_eq!(
            child.as_str(),
            "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001.20260102T030405678906Z0193d5a2-0000-7000-8000-000000000064"
        );
        assert_eq!(child.parent_id(), Some(root.run_id()));
        assert_eq!(DottedOrder::parse(child.as_str()).unwrap(), child);
    }

    #[test]
    fn ids_read_once_agree_with_the_segments() {
        let a = DottedOrder::parse(ROOT).unwrap();
        let b = a.child(
            Timestamp::from_micros(1_767_323_045_678_902),
            crate::uuid7(),
        );
        let c = b.child(
            Timestamp::from_micros(1_767_323_045_678_903),
            crate::uuid7(),
        );
        // Parsed from text (canonical and upper-case), owned or not.
        let upper = c.as_str().to_uppercase();
        for d in [
            c.clone(),
            DottedOrder::parse(c.as_str()).unwrap(),
            DottedOrder::parse(&upper).unwrap(),
            DottedOrder::parse_owned(format!(" {} ", c.as_str())).unwrap(),
        ] {
            let segs: Vec<_> = d.segments().collect();
            assert_eq!(segs.len(), 3);
            assert_eq!(d.trace_id(), segs[0].1);
            assert_eq!(d.parent_id(), Some(segs[1].1));
            assert_eq!(d.run_id(), segs[2].1);
            assert_eq!(d.start_time(), segs[2].0);
            assert_eq!(d, c);
        }
        assert_eq!(a.parent_id(), None);
        assert_eq!(
            (a.trace_id(), a.run_id()),
            (b.trace_id(), b.parent_id().unwrap())
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            ".",
            "x",
            &format!("{ROOT}."),
            &format!(".{ROOT}"),
            &format!("{ROOT}..{ROOT}"),
            "20260102T030405678901Z0193d5a2000070008000000000000001xxxx",
            "20261302T030405678901Z0193d5a2-0000-7000-8000-000000000001",
            "20260102T030405678901Z{0193d5a2-0000-7000-8000-00000000001}",
            "2026010éT030405678901Z0193d5a2-0000-7000-8000-000000000001",
        ] {
            assert!(DottedOrder::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        let deep = vec![ROOT; MAX_DEPTH + 1].join(".");
        assert_eq!(DottedOrder::parse(&deep), Err(DottedOrderError::TooDeep));
        assert_eq!(
            DottedOrder::parse(&format!("{ROOT}.{ROOT}")),
            Err(DottedOrderError::RepeatedId { index: 1 })
        );
    }

    #[test]
    fn accessors_match_the_segments_at_any_depth() {
        let seg = |i: usize| format!("20260102T0304056789{i:02}Z0193d5a2-0000-7000-8000-{i:012}");
        for depth in 1..=4 {
            let s: Vec<String> = (1..=depth).map(seg).collect();
            let d = DottedOrder::parse(&s.join(".")).unwrap();
            let segs: Vec<_> = d.segments().collect();
            let last = segs[depth - 1];
            assert_eq!(
                (d.trace_id(), d.parent_id(), d.run_id(), d.start_time()),
                (
                    segs[0].1,
                    depth.checked_sub(2).map(|i| segs[i].1),
                    last.1,
                    last.0
                ),
                "depth {depth}"
            );
        }
    }

    #[test]
    fn owned_parse_keeps_canonical_strings_and_normalises_others() {
        let d = DottedOrder::parse_owned(format!(" {ROOT}\t")).unwrap();
        assert_eq!(d.as_str(), ROOT);
        let d = DottedOrder::parse_owned(ROOT.to_uppercase()).unwrap();
        assert_eq!(d.as_str(), ROOT);
        let d = DottedOrder::parse_owned(ROOT.to_lowercase()).unwrap();
        assert_eq!(d.as_str(), ROOT);
        assert!(DottedOrder::parse_owned("x".into()).is_err());
    }

    #[test]
    fn uppercase_ids_are_normalised() {
        let d = DottedOrder::parse(&ROOT.to_uppercase()).unwrap();
        assert_eq!(d.as_str(), ROOT);
        // Lower-case stamps are read too, and written upper-case.
        let d = DottedOrder::parse(&ROOT.to_lowercase()).unwrap();
        assert_eq!(d.as_str(), ROOT);
    }

    #[test]
    fn repeated_ids_are_found_at_any_depth() {
        let seg = |i: usize| format!("20260102T030405678901Z0193d5a2-0000-7000-8000-{i:012}");
        let path = |ids: &[usize]| ids.iter().map(|&i| seg(i)).collect::<Vec<_>>().join(".");
        let deep: Vec<usize> = (1..=12).collect();
        assert_eq!(DottedOrder::parse(&path(&deep)).map(|d| d.depth()), Ok(12));
        for (repeat_of, at) in [(1, 12), (9, 12), (10, 11), (3, 7)] {
            let mut ids: Vec<usize> = (1..at).collect();
            ids.push(repeat_of);
            assert_eq!(
                DottedOrder::parse(&path(&ids)),
                Err(DottedOrderError::RepeatedId { index: at - 1 }),
                "id {repeat_of} repeated at depth {at}"
            );
        }
    }
}
