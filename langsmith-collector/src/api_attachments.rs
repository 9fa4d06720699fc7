//! `GET /attachments/{run_id}/{name}`: the bytes of a stored attachment,
//! where the runs' `s3_urls` (LangSmith's presigned URLs) point.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::api_read::{parse_id, store_error};
use crate::query;
use crate::server::{AppState, constant_time_eq, detail};

/// `GET /attachments/{run_id}/{name}?token=..`: an attachment's bytes, with
/// its content type. Allowed without an API key when the collector has none,
/// or with the `token` the run answers put in the URL (as LangSmith's
/// presigned URLs, which the Python SDK's `read_run` downloads without its
/// key), or with the key.
///
/// The bytes are the sender's: they are served so that a browser cannot run
/// them in the viewer's origin (`Content-Security-Policy: sandbox`,
/// `nosniff`), inline only when they are a raster image or plain text.
pub(crate) async fn get_attachment(
    State(st): State<AppState>,
    Path((run_id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: http::HeaderMap,
) -> Response {
    if let Some(key) = &st.cfg.api_key {
        let given_key = headers.get("x-api-key").map(|v| v.as_bytes());
        let given_token = query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(str::as_bytes)
        });
        let ok = given_key.is_some_and(|k| constant_time_eq(k, key.as_bytes()))
            || given_token.is_some_and(|t| constant_time_eq(t, st.attachment_token.as_bytes()));
        if !ok {
            return detail(
                StatusCode::UNAUTHORIZED,
                "an attachment needs the x-api-key header or its URL's token",
            );
        }
    }
    let run_id = match parse_id(&run_id, "run id") {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let lookup = name.clone();
    let found = st
        .store
        .read_async(move |c| query::attachment_data(c, run_id, &lookup))
        .await;
    let (content_type, data) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            return detail(
                StatusCode::NOT_FOUND,
                format!("no attachment {name:?} with stored bytes for run {run_id}"),
            );
        }
        Err(e) => return store_error(e),
    };
    let content_type = content_type
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let essence = content_type
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let inline =
        (essence.starts_with("image/") && essence != "image/svg+xml") || essence == "text/plain";
    let disposition = if inline {
        HeaderValue::from_static("inline")
    } else {
        let safe: String = name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
                _ => '_',
            })
            .collect();
        HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
            .unwrap_or(HeaderValue::from_static("attachment"))
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            ),
        ],
        data,
    )
        .into_response()
}
