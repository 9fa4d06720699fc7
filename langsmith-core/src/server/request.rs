//! [`RequestInfo`]: what the server adapters tell the core about a request,
//! without depending on any `http` crate version.

use std::fmt;
use std::net::IpAddr;

/// Read access to a request's headers, whatever type the framework keeps
/// them in. Names are compared case-insensitively; values are raw bytes
/// (header values need not be UTF-8).
///
/// Implemented for slices and vectors of `(name, value)` pairs; adapters wrap
/// their framework's header map in a small newtype.
///
/// ```
/// use langsmith_core::server::HeaderSource;
/// let headers = [("User-Agent", &b"curl/8"[..]), ("x-a", b"1"), ("X-A", b"2")];
/// assert_eq!(headers.header("user-agent"), Some(&b"curl/8"[..]));
/// let mut n = 0;
/// headers.for_each_header(&mut |name, _| n += name.eq_ignore_ascii_case("x-a") as usize);
/// assert_eq!(n, 2);
/// ```
pub trait HeaderSource {
    /// Calls `f` with every header, in order (a repeated header once per value).
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8]));

    /// The first value of header `name` (case-insensitive).
    ///
    /// ```
    /// use langsmith_core::server::HeaderSource;
    /// let headers = vec![("host".to_string(), b"example.com".to_vec())];
    /// assert_eq!(headers.header("Host"), Some(&b"example.com"[..]));
    /// assert_eq!(headers.header("baggage"), None);
    /// ```
    fn header(&self, name: &str) -> Option<&[u8]> {
        let mut found = None;
        self.for_each_header(&mut |n, v| {
            if found.is_none() && n.eq_ignore_ascii_case(name) {
                found = Some(v);
            }
        });
        found
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for [(K, V)] {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        for (k, v) in self {
            f(k.as_ref(), v.as_ref());
        }
    }
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        (**self).for_each_header(f)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>, const N: usize> HeaderSource for [(K, V); N] {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        self[..].for_each_header(f)
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderSource for Vec<(K, V)> {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        self[..].for_each_header(f)
    }
}

/// The part of a request that decides how it is traced: seen by skip rules,
/// the trace decision hook and the run-name function of
/// [`ServerOptions`](super::ServerOptions), and recorded as the run's inputs
/// as far as [`RecordOptions`](super::RecordOptions) allow.
///
/// ```
/// use langsmith_core::server::RequestInfo;
/// let headers = [("x-tenant", &b"acme"[..])];
/// let req = RequestInfo::new("GET", "/users/42", &headers).route(Some("/users/{id}"));
/// assert_eq!(req.route, Some("/users/{id}"));
/// assert_eq!(req.header_str("X-Tenant"), Some("acme"));
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a str,
    /// The raw path, without the query string, e.g. `/users/42`.
    pub path: &'a str,
    /// The route template the router matched, e.g. `/users/{id}`, when known.
    pub route: Option<&'a str>,
    /// The query string without `?`, when there is one.
    pub query: Option<&'a str>,
    /// The request headers.
    pub headers: &'a dyn HeaderSource,
    /// The peer address of the connection (not `X-Forwarded-For`, which
    /// any client can set), when the adapter knows it.
    pub client_ip: Option<IpAddr>,
}

impl fmt::Debug for RequestInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are not printed: they may hold credentials.
        f.debug_struct("RequestInfo")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("route", &self.route)
            .field("query", &self.query)
            .field("client_ip", &self.client_ip)
            .finish_non_exhaustive()
    }
}

impl<'a> RequestInfo<'a> {
    /// A request with `method`, `path` and `headers`; no route, query or client address.
    ///
    /// ```
    /// use langsmith_core::server::RequestInfo;
    /// let none: [(&str, &[u8]); 0] = [];
    /// let req = RequestInfo::new("POST", "/chat", &none);
    /// assert_eq!(req.route, None);
    /// ```
    pub fn new(method: &'a str, path: &'a str, headers: &'a dyn HeaderSource) -> Self {
        RequestInfo {
            method,
            path,
            route: None,
            query: None,
            headers,
            client_ip: None,
        }
    }

    /// Sets the matched route template.
    ///
    /// ```
    /// # use langsmith_core::server::RequestInfo;
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let req = RequestInfo::new("GET", "/a/1", &none).route(Some("/a/{n}"));
    /// assert_eq!(req.route, Some("/a/{n}"));
    /// ```
    pub fn route(mut self, route: Option<&'a str>) -> Self {
        self.route = route;
        self
    }

    /// Sets the query string (without `?`; an empty one counts as none).
    ///
    /// ```
    /// # use langsmith_core::server::RequestInfo;
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let req = RequestInfo::new("GET", "/s", &none).query(Some("q=rust"));
    /// assert_eq!(req.query, Some("q=rust"));
    /// ```
    pub fn query(mut self, query: Option<&'a str>) -> Self {
        self.query = query.filter(|q| !q.is_empty());
        self
    }

    /// Sets the peer address of the connection.
    ///
    /// ```
    /// # use langsmith_core::server::RequestInfo;
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let req = RequestInfo::new("GET", "/", &none).client_ip(Some([127, 0, 0, 1].into()));
    /// assert!(req.client_ip.unwrap().is_loopback());
    /// ```
    pub fn client_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.client_ip = ip;
        self
    }

    /// The first value of header `name` (case-insensitive), raw.
    ///
    /// ```
    /// # use langsmith_core::server::RequestInfo;
    /// let h = [("x-id", &[0xff_u8][..])];
    /// assert_eq!(RequestInfo::new("GET", "/", &h).header("x-id"), Some(&[0xff_u8][..]));
    /// ```
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.header(name)
    }

    /// The first value of header `name` when it is UTF-8.
    ///
    /// ```
    /// # use langsmith_core::server::RequestInfo;
    /// let h = [("x-id", &[0xff_u8][..]), ("x-ok", b"yes")];
    /// let req = RequestInfo::new("GET", "/", &h);
    /// assert_eq!(req.header_str("x-id"), None);
    /// assert_eq!(req.header_str("x-ok"), Some("yes"));
    /// ```
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }
}
