//! Files attached to a run (images, audio, documents): sent next to the run
//! as `attachment.{run_id}.{name}` parts of the multipart body, with their
//! own `Content-Type`, as the Python SDK sends them.

use bytes::Bytes;
use std::fmt;

/// A file attached to a run, added with [`Run::add_attachment`](crate::Run::add_attachment).
///
/// Checked when made: the name becomes part of a multipart part name
/// (`attachment.{run_id}.{name}`) and the MIME type a part header, so a
/// name must be non-empty without `.` (LangSmith's rule, which the Python
/// SDK enforces too), quotes or control characters, and a MIME type must be
/// non-empty printable ASCII. The data is [`Bytes`]: cloning an attachment
/// (as `#[traceable]` does with an `Attachment` argument) does not copy it.
///
/// ```
/// use langsmith_core::Attachment;
/// let png = Attachment::new("photo", "image/png", vec![0x89, b'P', b'N', b'G']).unwrap();
/// assert_eq!((png.name(), png.mime_type(), png.data().len()), ("photo", "image/png", 4));
/// assert!(Attachment::new("photo.png", "image/png", Vec::new()).is_err());
/// assert!(Attachment::new("photo", "image/png\r\nX-Evil: 1", Vec::new()).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    name: String,
    mime_type: String,
    data: Bytes,
}

impl Attachment {
    /// An attachment, or why the name or MIME type cannot be sent.
    pub fn new(
        name: impl Into<String>,
        mime_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Result<Attachment, InvalidAttachment> {
        let name = name.into();
        let mime_type = mime_type.into();
        if name.is_empty()
            || name
                .chars()
                .any(|c| c == '.' || c == '"' || c == '\\' || c.is_control())
        {
            return Err(InvalidAttachment::Name(name));
        }
        if mime_type.is_empty() || !mime_type.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(InvalidAttachment::MimeType(mime_type));
        }
        Ok(Attachment {
            name,
            mime_type,
            data: data.into(),
        })
    }

    /// The name (unique per run: a later attachment of the same name
    /// replaces an earlier one).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MIME type, sent as the part's `Content-Type`.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    /// The contents.
    pub fn data(&self) -> &Bytes {
        &self.data
    }
}

/// Why [`Attachment::new`] refused an attachment.
///
/// ```
/// use langsmith_core::{Attachment, InvalidAttachment};
/// let err = Attachment::new("a.b", "text/plain", "x").unwrap_err();
/// assert!(matches!(err, InvalidAttachment::Name(_)));
/// assert!(err.to_string().contains("a.b"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidAttachment {
    /// Empty, or with a `.`, a quote, a backslash or a control character.
    Name(String),
    /// Empty, or with a character that is not printable ASCII.
    MimeType(String),
}

impl fmt::Display for InvalidAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidAttachment::Name(n) => write!(
                f,
                "invalid attachment name {n:?}: it must be non-empty, without '.', quotes, \
                 backslashes or control characters"
            ),
            InvalidAttachment::MimeType(m) => write!(
                f,
                "invalid attachment MIME type {m:?}: it must be non-empty printable ASCII"
            ),
        }
    }
}

impl std::error::Error for InvalidAttachment {}

/// Adds `new` to `list`, replacing an attachment of the same name.
pub(crate) fn upsert(list: &mut Vec<Attachment>, new: Attachment) {
    match list.iter_mut().find(|a| a.name == new.name) {
        Some(old) => *old = new,
        None => list.push(new),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_and_types_that_would_break_the_multipart_body_are_refused() {
        for name in ["", "a.b", "a\"b", "a\\b", "a\r\nb", "tab\t", "nul\0"] {
            assert_eq!(
                Attachment::new(name, "text/plain", "x"),
                Err(InvalidAttachment::Name(name.into())),
                "{name:?}"
            );
        }
        for mime in [
            "",
            "text/plain\r\nX: y",
            "text/plain\n",
            "tëxt/plain",
            "a\tb",
        ] {
            assert_eq!(
                Attachment::new("a", mime, "x"),
                Err(InvalidAttachment::MimeType(mime.into())),
                "{mime:?}"
            );
        }
        for (name, mime) in [
            ("photo", "image/png"),
            ("my-file_2", "text/plain; charset=utf-8"),
            ("résumé", "application/pdf"),
        ] {
            let a = Attachment::new(name, mime, vec![1, 2, 3]).unwrap();
            assert_eq!(
                (a.name(), a.mime_type(), &a.data()[..]),
                (name, mime, &[1, 2, 3][..])
            );
        }
    }

    #[test]
    fn each_attachment_is_sent_once_with_the_next_post_patch_or_end() {
        use crate::{Client, MemorySink, RunOp, RunTree};
        let a = |n: &str, d: &'static str| Attachment::new(n, "text/plain", d).unwrap();
        let sink = MemorySink::new();
        let client = Client::builder().sink(sink.clone()).build();
        let mut run = RunTree::new("r").client(client).start();
        run.add_attachment(a("plan", "v1"));
        run.post();
        run.patch(); // nothing new: no attachment
        run.add_attachment(a("progress", "50%"));
        run.patch();
        run.add_attachment(a("result", "done"));
        run.add_attachment(a("plan", "v2"));
        run.end();
        let sent: Vec<(bool, Vec<(String, String)>)> = sink
            .ops()
            .iter()
            .map(|op| match op {
                RunOp::Create(r) | RunOp::Update(r) => (
                    matches!(op, RunOp::Create(_)),
                    r.attachments
                        .iter()
                        .map(|a| {
                            (
                                a.name().to_owned(),
                                String::from_utf8_lossy(a.data()).into(),
                            )
                        })
                        .collect(),
                ),
                RunOp::Feedback(_) => unreachable!(),
            })
            .collect();
        let pair = |n: &str, d: &str| (n.to_owned(), d.to_owned());
        assert_eq!(
            sent,
            [
                (true, vec![pair("plan", "v1")]),
                (false, vec![]),
                (false, vec![pair("progress", "50%")]),
                (false, vec![pair("result", "done"), pair("plan", "v2")]),
            ]
        );
        // The merged view keeps every attachment once, the last of a name.
        let names: Vec<_> = sink.runs()[0]
            .attachments
            .iter()
            .map(|a| {
                (
                    a.name().to_owned(),
                    String::from_utf8_lossy(a.data()).into_owned(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                pair("plan", "v2"),
                pair("progress", "50%"),
                pair("result", "done")
            ]
        );
    }

    #[test]
    fn upsert_replaces_by_name_and_keeps_order() {
        let a = |n: &str, d: &'static str| Attachment::new(n, "text/plain", d).unwrap();
        let mut list = vec![a("x", "1"), a("y", "2")];
        upsert(&mut list, a("x", "3"));
        upsert(&mut list, a("z", "4"));
        let got: Vec<_> = list.iter().map(|a| (a.name(), &a.data()[..])).collect();
        assert_eq!(got, [("x", &b"3"[..]), ("y", b"2"), ("z", b"4")]);
    }
}
