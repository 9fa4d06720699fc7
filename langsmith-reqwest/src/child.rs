//! The child run recorded for one outgoing call.

use langsmith_core::{CANCELLED, Run};
use reqwest_middleware::reqwest::{Request, Response, Url};

/// `"{METHOD} {host}[:{port}]{template or path}"`, e.g. `GET api.example.com/users/{id}`.
pub(crate) fn run_name(req: &Request, template: Option<&str>) -> String {
    let url = req.url();
    let path = template.unwrap_or_else(|| url.path());
    format!("{} {}{}", req.method(), authority(url), path)
}

/// Host and explicit port, never user info.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The URL without user info, query or fragment (they may carry secrets).
pub(crate) fn safe_url(url: &Url) -> String {
    format!("{}://{}{}", url.scheme(), authority(url), url.path())
}

/// Ends the child run when the call finishes; if the call's future is
/// dropped first, ends it as cancelled.
pub(crate) struct ChildGuard(pub(crate) Option<Run>);

impl ChildGuard {
    pub(crate) fn finish(
        &mut self,
        result: &reqwest_middleware::Result<Response>,
        error: Option<String>,
    ) {
        let Some(mut run) = self.0.take() else {
            return;
        };
        if let Ok(resp) = result {
            let status = resp.status();
            run.set_outputs(&serde_json::json!({ "status": status.as_u16() }));
            if status.is_server_error() {
                run.set_error(format!("HTTP {status}"));
            }
        }
        if let Some(error) = error {
            run.set_error(error);
        }
        run.end();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut run) = self.0.take() {
            if !std::thread::panicking() {
                run.set_error(CANCELLED);
            }
            run.end();
        }
    }
}

/// The error's text without its URL (a query string may carry secrets);
/// returns the error unchanged otherwise.
pub(crate) fn describe(err: reqwest_middleware::Error) -> (reqwest_middleware::Error, String) {
    let url = err.url().cloned();
    let stripped = err.without_url();
    let text = stripped.to_string();
    let err = match url {
        Some(url) => stripped.with_url(url),
        None => stripped,
    };
    (err, text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use reqwest_middleware::reqwest::Method;

    fn req(url: &str) -> Request {
        Request::new(Method::POST, Url::parse(url).unwrap())
    }

    #[test]
    fn names_use_template_or_path_and_hide_credentials() {
        let r = req("http://user:pw@api.example.com:8080/users/7?token=s#f");
        assert_eq!(run_name(&r, None), "POST api.example.com:8080/users/7");
        assert_eq!(
            run_name(&r, Some("/users/{id}")),
            "POST api.example.com:8080/users/{id}"
        );
        assert_eq!(safe_url(r.url()), "http://api.example.com:8080/users/7");
        let r = req("https://api.example.com/");
        assert_eq!(run_name(&r, None), "POST api.example.com/");
    }
}
