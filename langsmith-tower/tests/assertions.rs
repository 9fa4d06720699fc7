//! Static guarantees: the layer, service, futures and bodies are `Send`
//! (and `Sync` where axum 0.8 needs it) whatever the request body type —
//! here one that is neither `Send` nor `Sync`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Request, Response};
use langsmith_tower::{
    LangSmithLayer, LangSmithService, Propagate, PropagateLayer, ResponseFuture, TracedBody,
};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Ready;
use std::marker::PhantomData;
use std::rc::Rc;
use tower::{Layer, Service};

fn send_sync<T: Send + Sync>() {}
fn send_sync_clone_static<T: Send + Sync + Clone + 'static>() {}

/// A request body that is neither `Send` nor `Sync`.
#[allow(dead_code)]
struct LocalBody(PhantomData<Rc<Cell<u8>>>);

#[derive(Clone)]
struct Inner;

impl<B> Service<Request<B>> for Inner {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Request<B>) -> Self::Future {
        std::future::ready(Ok(Response::new(String::new())))
    }
}

#[test]
fn send_sync_whatever_the_request_body() {
    send_sync_clone_static::<LangSmithLayer>();
    send_sync_clone_static::<PropagateLayer>();
    send_sync_clone_static::<LangSmithService<Inner>>();
    send_sync_clone_static::<Propagate<Inner>>();
    send_sync::<ResponseFuture<<Inner as Service<Request<LocalBody>>>::Future>>();
    send_sync::<TracedBody<String>>();
    // The service really serves requests with such a body.
    fn serves<S: Service<Request<LocalBody>>>(_: &S) {}
    serves(&LangSmithLayer::new().layer(Inner));
    serves(&PropagateLayer::new().layer(Inner));
}

#[cfg(feature = "axum")]
#[test]
fn axum_accepts_the_layer_and_extractor() {
    use axum::{Router, routing::get};
    use langsmith_tower::CurrentRun;
    fn router_is_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    let app: Router = Router::new()
        .route("/", get(|_run: CurrentRun| async { "ok" }))
        .layer(LangSmithLayer::new())
        .route_layer(LangSmithLayer::new());
    router_is_send_sync(&app);
}
