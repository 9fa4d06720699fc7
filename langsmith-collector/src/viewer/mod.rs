//! The trace viewer: a small hand-written page (HTML, vanilla JS, CSS,
//! embedded in the binary, no build step) served at `/`, and the read
//! endpoint it needs besides the existing ones (`GET /api/traces`).
//!
//! The page and its assets are served without an API key; every API call it
//! makes sends the key (taken from the URL fragment `#key=…` or typed into
//! the page, kept in `sessionStorage`) as `x-api-key`. Run content is only
//! ever put into the page as text (`textContent`), and the page is served
//! with a Content-Security-Policy that allows no inline script.

mod list;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::server::{AppState, detail, json_response};

use list::{ListParams, TraceQuery};

/// The page's Content-Security-Policy: only same-origin script, style and
/// fetches; no inline script or style elements, no plugins, no framing.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

static INDEX: Asset = Asset {
    path: "/",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../../assets/viewer/index.html"),
};

/// The files under `/viewer/`; served without an API key.
static ASSETS: [Asset; 3] = [
    Asset {
        path: "/viewer/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/viewer/app.js"),
    },
    Asset {
        path: "/viewer/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/viewer/app.css"),
    },
    Asset {
        path: "/viewer/icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/viewer/icon.svg"),
    },
];

/// Whether `path` is one of the page's static files, which need no API key.
pub(crate) fn is_public_asset(path: &str) -> bool {
    ASSETS.iter().any(|a| a.path == path)
}

/// The viewer's routes besides `/` (see [`index`]).
pub(crate) fn routes() -> Router<AppState> {
    let mut r = Router::new().route("/api/traces", get(list_traces));
    for a in &ASSETS {
        r = r.route(a.path, get(move || async move { serve(a) }));
    }
    r
}

fn serve(a: &'static Asset) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    (StatusCode::OK, h, a.body).into_response()
}

/// `GET /`: the viewer page; a client that asks for JSON only (an `Accept`
/// with `application/json` and without `text/html`) gets the collector's
/// name and version as before.
pub(crate) async fn index(headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("application/json") && !accept.contains("text/html") {
        return crate::api_read::root().await;
    }
    serve(&INDEX)
}

/// `GET /api/traces?project=&name=&error=&cursor=&limit=`: traces newest
/// first, one row each (root run's name and type, project, run count, error
/// and pending counts, duration), and `cursors.next` for the next page.
async fn list_traces(
    State(st): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let q = match params
        .map_err(|e| e.body_text())
        .and_then(|Query(p)| TraceQuery::parse(&p))
    {
        Ok(q) => q,
        Err(msg) => return detail(StatusCode::UNPROCESSABLE_ENTITY, msg),
    };
    match st.store.read_async(move |c| list::list_traces(c, &q)).await {
        Ok((traces, next)) => json_response(
            StatusCode::OK,
            json!({ "traces": traces, "cursors": { "next": next } }),
        ),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_public_and_nothing_else() {
        assert!(is_public_asset("/viewer/app.js"));
        assert!(is_public_asset("/viewer/app.css"));
        assert!(!is_public_asset("/viewer/"));
        assert!(!is_public_asset("/api/traces"));
        assert!(!CSP.contains("unsafe"));
    }

    #[test]
    fn the_page_has_no_inline_script() {
        let html = String::from_utf8_lossy(INDEX.body);
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert_eq!(scripts.len(), 1, "one script element");
        for s in scripts {
            let (tag, rest) = s.split_once('>').unwrap_or((s, ""));
            assert!(tag.contains("src=\"/viewer/app.js\""), "{tag}");
            assert!(rest.starts_with("</script>"), "no inline code");
        }
        assert!(!html.contains(" style="), "no inline styles");
        let handler = html.split(" on").skip(1).any(|rest| {
            let attr: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !attr.is_empty() && rest[attr.len()..].starts_with('=')
        });
        assert!(!handler, "no inline event handlers");
    }
}
