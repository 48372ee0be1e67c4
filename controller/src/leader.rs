//! Leader election through a coordination.k8s.io Lease, so two replicas can run: only the
//! holder starts its watches and controllers; the standby polls. Writes use the Lease's
//! resourceVersion as the precondition, so two candidates can never both win: the loser of a
//! race gets a 409 and stays standby (no retry loop; it simply looks again next period).
//!
//! Expiry is judged on the local clock from when this process last saw the record change
//! (as client-go does), never by comparing another machine's timestamps with ours.
//!
//! Every successful acquisition or renewal extends the [`Fence`] to the start of that attempt
//! plus the renew deadline: the holder stops writing before any standby can take over
//! (`fence.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use crate::error::{Error, Result, is_conflict};
use crate::fence::Fence;

#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub name: String,
    pub namespace: String,
    pub identity: String,
    /// How long a record stays valid without renewal.
    pub lease_duration: Duration,
    /// The holder gives up when it could not renew for this long (< lease_duration).
    pub renew_deadline: Duration,
    /// Period of attempts (standby) and renewals (holder).
    pub retry_period: Duration,
}

/// The part of the record that changes on every renewal; seeing it change means the holder is alive.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    transitions: Option<i32>,
}

/// What a candidate may do with the record it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it.
    Acquire,
    /// Someone else holds a live lease.
    Wait,
}

/// Pure decision: `holder` of the record, and how long ago this process saw it change.
pub fn judge(holder: Option<&str>, me: &str, unchanged_for: Duration, lease: Duration) -> Verdict {
    match holder {
        Some(h) if h == me => Verdict::Renew,
        Some(h) if !h.is_empty() && unchanged_for < lease => Verdict::Wait,
        _ => Verdict::Acquire,
    }
}

pub struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
    seen: Option<(Seen, Instant)>,
    fence: Option<Arc<Fence>>,
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

impl Elector {
    pub fn new(client: kube::Client, config: LeaseConfig) -> Self {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            seen: None,
            fence: None,
        }
    }

    /// Extends `fence` on every successful acquisition or renewal.
    pub fn with_fence(mut self, fence: Arc<Fence>) -> Self {
        self.fence = Some(fence);
        self
    }

    /// This process holds the lease as of an attempt started at `started`.
    fn held_since(&self, started: Instant) {
        if let Some(f) = &self.fence {
            f.extend(started + self.config.renew_deadline);
        }
    }

    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    fn spec(&self, acquire_time: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let t = now();
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(15),
            ),
            acquire_time: Some(acquire_time.unwrap_or_else(|| t.clone())),
            renew_time: Some(t),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    /// One attempt to acquire or renew; true when this process holds the lease afterwards.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool> {
        let started = Instant::now();
        let held = self.attempt().await;
        if matches!(held, Ok(true)) {
            self.held_since(started);
        }
        held
    }

    async fn attempt(&mut self) -> Result<bool> {
        let name = self.config.name.clone();
        let current = self
            .api
            .get_opt(&name)
            .await
            .map_err(|e| Error::kube("get", "leases", &name, e))?;
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec(None, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if is_conflict(&e) => Ok(false),
                Err(e) => Err(Error::kube("create", "leases", &name, e)),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let seen = Seen {
            holder: spec.holder_identity.clone(),
            renew_time: spec.renew_time.clone(),
            transitions: spec.lease_transitions,
        };
        let changed_at = match &self.seen {
            Some((s, at)) if *s == seen => *at,
            _ => Instant::now(),
        };
        self.seen = Some((seen, changed_at));
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .unwrap_or(self.config.lease_duration);
        let verdict = judge(
            spec.holder_identity.as_deref(),
            &self.config.identity,
            changed_at.elapsed(),
            duration,
        );
        let transitions = spec.lease_transitions.unwrap_or(0);
        lease.spec = Some(match verdict {
            Verdict::Wait => return Ok(false),
            Verdict::Renew => self.spec(spec.acquire_time.clone(), transitions),
            Verdict::Acquire => self.spec(None, transitions + 1),
        });
        // metadata.resourceVersion is kept: the write fails with 409 if anyone wrote since.
        match self
            .api
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_conflict(&e) => Ok(false),
            Err(e) => Err(Error::kube("update", "leases", &name, e)),
        }
    }

    /// Waits until this process holds the lease.
    pub async fn acquire(&mut self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(identity = %self.config.identity, lease = %self.config.name, "became leader");
                    return;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "leader election attempt failed"),
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Renews until a renewal cannot be made within the renew deadline, then returns: the
    /// caller must stop acting as leader at once.
    pub async fn hold(&mut self) {
        let mut last_renewed = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let started = Instant::now();
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renewed = started,
                Ok(false) => {
                    tracing::error!("lease taken by another candidate");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "lease renewal failed"),
            }
            if last_renewed.elapsed() > self.config.renew_deadline {
                tracing::error!("lease not renewed within the renew deadline");
                return;
            }
        }
    }

    /// Gives the lease up (on shutdown) so the standby takes over without waiting for expiry.
    pub async fn release(&mut self) {
        let name = self.config.name.clone();
        let Ok(Some(mut lease)) = self.api.get_opt(&name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.renew_time = Some(now());
        if let Err(e) = self
            .api
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(error = %e, "could not release the lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_wait_for_a_live_holder_and_take_a_stale_one() {
        let lease = Duration::from_secs(15);
        let table = [
            (Some("me"), Duration::from_secs(100), Verdict::Renew),
            (Some("other"), Duration::from_secs(3), Verdict::Wait),
            (Some("other"), Duration::from_secs(15), Verdict::Acquire),
            (Some(""), Duration::ZERO, Verdict::Acquire),
            (None, Duration::ZERO, Verdict::Acquire),
        ];
        for (holder, unchanged, want) in table {
            assert_eq!(
                judge(holder, "me", unchanged, lease),
                want,
                "{holder:?} {unchanged:?}"
            );
        }
    }
}
