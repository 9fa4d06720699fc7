//! Describing an actix-web request to the core ([`RequestInfo`]).

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use langsmith_core::server::{HeaderSource, RequestInfo, ServerOptions, ServerRun};

/// actix-web's header map as `(name, bytes)` pairs (actix-web 4 is on
/// `http` 0.2, so the core sees plain strings and bytes).
struct ActixHeaders<'a>(&'a HeaderMap);

impl HeaderSource for ActixHeaders<'_> {
    fn for_each_header<'s>(&'s self, f: &mut dyn FnMut(&'s str, &'s [u8])) {
        for (name, value) in self.0.iter() {
            f(name.as_str(), value.as_bytes());
        }
    }
}

/// Whether `req` can be traced at all; see [`ServerOptions::may_trace`].
pub(crate) fn may_trace(opts: &ServerOptions, req: &ServiceRequest) -> bool {
    opts.may_trace(&ActixHeaders(req.headers()))
}

/// Starts the run of `req` (the route template from `match_pattern()`).
pub(crate) fn start_run(opts: &ServerOptions, req: &ServiceRequest) -> ServerRun {
    let headers = ActixHeaders(req.headers());
    let route = req.match_pattern();
    let info = RequestInfo::new(req.method().as_str(), req.path(), &headers)
        .route(route.as_deref())
        .query(Some(req.query_string()))
        .client_ip(req.peer_addr().map(|a| a.ip()));
    ServerRun::start(opts, &info)
}
