//! Fencing: a replica writes only while it holds the lease with margin.
//!
//! Each successful renewal (or acquisition) extends [`Fence`] to the moment the renewal
//! attempt *started* plus the renew deadline. The lease itself is valid for the longer lease
//! duration, and a standby takes it only after seeing the record unchanged for that long on its
//! own clock, so a replica that stops writing at its fence never overlaps the next leader, with
//! `lease duration − renew deadline` to spare (5 s with the defaults).
//!
//! The fence is checked on the monotonic clock, which keeps running while the process is
//! stopped: a leader paused (SIGSTOP, a frozen VM, a long GC-like stall) past its fence finds
//! it expired the moment it runs again, before any pending reconcile can write. It is checked
//! twice: by every write path before counting and sending (`Error::NotLeader`), and by
//! [`FenceLayer`] in the client that every controller shares, for any write request (POST, PUT,
//! PATCH, DELETE) a path might send, right before the request leaves. Reads and watches pass.
//! The lease's own requests use a client without the layer.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Method, Request};
use tokio::sync::Notify;
use tower::{Layer, Service};

use crate::metrics::Metrics;

/// The error of a write refused by the fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("write not sent: this replica does not hold the leader lease with margin")]
pub struct NotLeader;

#[derive(Debug)]
enum State {
    /// No leader election: always allowed.
    Always,
    /// Writes allowed until this instant (`None`: never acquired, or given up).
    Until(Option<Instant>),
}

/// Whether this replica may write now.
#[derive(Debug)]
pub struct Fence {
    state: Mutex<State>,
    changed: Notify,
}

impl Fence {
    /// A fence that always allows (a single replica without leader election).
    pub fn always() -> Arc<Fence> {
        Arc::new(Fence {
            state: Mutex::new(State::Always),
            changed: Notify::new(),
        })
    }

    /// A fence closed until [`Fence::extend`] opens it.
    pub fn leased() -> Arc<Fence> {
        Arc::new(Fence {
            state: Mutex::new(State::Until(None)),
            changed: Notify::new(),
        })
    }

    /// Allows writes until `until` (never shortens an earlier extension).
    pub fn extend(&self, until: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let State::Until(current) = &mut *s {
            *current = Some(current.map_or(until, |c| c.max(until)));
        }
        drop(s);
        self.changed.notify_waiters();
    }

    /// Closes the fence for good (leadership given up or lost).
    pub fn revoke(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s = State::Until(None);
        drop(s);
        self.changed.notify_waiters();
    }

    /// `Ok` when a write may be sent now.
    pub fn check(&self) -> Result<(), NotLeader> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match &*s {
            State::Always => Ok(()),
            State::Until(Some(until)) if Instant::now() < *until => Ok(()),
            State::Until(_) => Err(NotLeader),
        }
    }

    /// Resolves as soon as writes are no longer allowed (never for [`Fence::always`]).
    pub async fn closed(&self) {
        loop {
            let changed = self.changed.notified();
            let until = {
                let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                match &*s {
                    State::Always => None,
                    State::Until(None) => return,
                    State::Until(Some(u)) => Some(*u),
                }
            };
            match until {
                Some(u) if Instant::now() >= u => return,
                Some(u) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(tokio::time::Instant::from_std(u)) => {},
                        () = changed => {},
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// Whether `method` writes.
fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A tower layer that refuses write requests while the fence is closed (counted in
/// `neo4j_controller_fenced_writes_total`).
#[derive(Clone)]
pub struct FenceLayer {
    fence: Arc<Fence>,
    metrics: Arc<Metrics>,
}

impl FenceLayer {
    pub fn new(fence: Arc<Fence>, metrics: Arc<Metrics>) -> Self {
        FenceLayer { fence, metrics }
    }
}

impl<S> Layer<S> for FenceLayer {
    type Service = Fenced<S>;
    fn layer(&self, inner: S) -> Fenced<S> {
        Fenced {
            inner,
            fence: self.fence.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`FenceLayer`] makes.
#[derive(Clone)]
pub struct Fenced<S> {
    inner: S,
    fence: Arc<Fence>,
    metrics: Arc<Metrics>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B> Service<Request<B>> for Fenced<S>
where
    S: Service<Request<B>>,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if writes(req.method())
            && let Err(e) = self.fence.check()
        {
            self.metrics.fenced.inc();
            tracing::warn!(method = %req.method(), path = req.uri().path(), "write refused by the fence");
            return Box::pin(std::future::ready(Err(Box::new(e) as BoxError)));
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_leased_fence_opens_on_extension_and_closes_at_its_deadline() {
        let f = Fence::leased();
        assert_eq!(f.check(), Err(NotLeader), "closed before the first renewal");
        f.extend(Instant::now() + Duration::from_secs(60));
        assert!(f.check().is_ok());
        f.extend(Instant::now());
        assert!(f.check().is_ok(), "an older deadline never shortens it");
        f.revoke();
        assert_eq!(f.check(), Err(NotLeader));
        let past = Fence::leased();
        past.extend(Instant::now() - Duration::from_millis(1));
        assert_eq!(past.check(), Err(NotLeader));
        assert!(Fence::always().check().is_ok());
    }

    #[tokio::test]
    async fn closed_resolves_at_the_deadline_and_after_revocation() {
        let f = Fence::leased();
        f.extend(Instant::now() + Duration::from_millis(50));
        let started = Instant::now();
        f.closed().await;
        assert!(started.elapsed() >= Duration::from_millis(40));
        assert_eq!(f.check(), Err(NotLeader));
        let g = Fence::leased();
        g.extend(Instant::now() + Duration::from_secs(600));
        let g2 = Arc::new(g);
        let waiter = {
            let g = g2.clone();
            tokio::spawn(async move { g.closed().await })
        };
        tokio::task::yield_now().await;
        g2.revoke();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("closed() resolves on revoke")
            .unwrap();
    }

    #[tokio::test]
    async fn the_layer_refuses_writes_but_not_reads_while_closed() {
        let fence = Fence::leased();
        let metrics = Arc::new(Metrics::new());
        let inner = tower::service_fn(|_req: Request<()>| async { Ok::<_, BoxError>("sent") });
        let mut svc = FenceLayer::new(fence.clone(), metrics.clone()).layer(inner);
        let req = |m: Method| Request::builder().method(m).uri("/x").body(()).unwrap();
        assert_eq!(svc.call(req(Method::GET)).await.unwrap(), "sent");
        let refused = svc.call(req(Method::PATCH)).await.unwrap_err();
        assert!(refused.is::<NotLeader>(), "{refused}");
        assert_eq!(metrics.fenced.get(), 1);
        fence.extend(Instant::now() + Duration::from_secs(60));
        assert_eq!(svc.call(req(Method::DELETE)).await.unwrap(), "sent");
    }
}
