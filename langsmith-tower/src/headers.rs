//! [`HeaderMapSource`]: an `http::HeaderMap` as a [`HeaderSource`].

use langsmith_core::server::HeaderSource;

/// Lets [`langsmith_core::server`] read an `http` 1 [`http::HeaderMap`].
///
/// ```
/// use langsmith_core::server::HeaderSource;
/// use langsmith_tower::HeaderMapSource;
/// let mut map = http::HeaderMap::new();
/// map.insert("x-tenant", http::HeaderValue::from_static("acme"));
/// assert_eq!(HeaderMapSource(&map).header("X-Tenant"), Some(&b"acme"[..]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderMapSource<'a>(pub &'a http::HeaderMap);

impl HeaderSource for HeaderMapSource<'_> {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        for (name, value) in self.0 {
            f(name.as_str(), value.as_bytes());
        }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(http::HeaderValue::as_bytes)
    }
}
