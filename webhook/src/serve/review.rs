//! The fast way through a review: one pass over the body that keeps only what admission reads.
//! `uid`, `operation` and `kind` are borrowed from the body; `object` and `oldObject` are
//! decoded straight into the kind's typed struct (through [`Strict`], so nothing is accepted
//! that parsing into a `serde_json::Value` would refuse); everything else is parsed and dropped.
//!
//! It answers only the common case: a well-formed `admission.k8s.io/v1` review whose request
//! names its kind and operation before its objects (as the API server writes it) and whose
//! objects decode. Anything else — a JSON error, a shape error, an object that does not decode,
//! a duplicated key — returns `None`, and the caller decodes the body the exact way
//! ([`super::decode`]), which finds the precise answer. The two ways agree on every body both
//! accept (`webhook/tests/fast_path.rs` checks it byte for byte).

use std::borrow::Cow;
use std::fmt;

use neo4j_shared::engine::{self, AdmissionDecision};
use neo4j_shared::inventory::Inventory;
use neo4j_shared::policy::Policy;
use neo4j_shared::types::{
    GROUP, Kind, Neo4jBackup, Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
    Neo4jPlugin, Neo4jRestore, Operation,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::strict::{Budget, Captured, Context, Discard, Level, Strict};

const REVIEW_API_VERSION: &str = "admission.k8s.io/v1";
const REVIEW_KIND: &str = "AdmissionReview";

/// Which of the two webhooks a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    Mutate,
    Validate,
}

impl Webhook {
    pub fn name(self) -> &'static str {
        match self {
            Webhook::Mutate => "mutate",
            Webhook::Validate => "validate",
        }
    }
}

/// An object decoded as its kind.
pub enum Decoded {
    Cluster(Box<Neo4jEnterpriseCluster>),
    Standalone(Box<Neo4jEnterpriseStandalone>),
    Backup(Box<Neo4jBackup>),
    Restore(Box<Neo4jRestore>),
    Database(Box<Neo4jDatabase>),
    Plugin(Box<Neo4jPlugin>),
}

/// What the request asks for, decoded.
pub enum Target {
    /// A kind this webhook does not serve (allowed unchanged).
    Unknown { group: String, kind: String },
    /// One of ours on DELETE or CONNECT (allowed, nothing to check).
    Nothing(Kind),
    /// `/validate` on CREATE: the new object, with the `apiVersion` it was sent with.
    Validate { new: Decoded, api_version: String },
    /// `/validate` on an UPDATE whose spec changed: both objects, with the new one's
    /// `apiVersion` as sent. (An UPDATE whose decoded specs are equal goes the exact way, which
    /// decides whether the spec changed on both objects as sent.)
    ValidateUpdate { pair: Pair, api_version: String },
    /// `/mutate` on CREATE or UPDATE: the object and its `spec` as sent.
    Mutate { new: Decoded, spec: Option<Value> },
}

/// A review decoded the fast way.
pub struct FastReview<'a> {
    pub uid: Cow<'a, str>,
    pub operation: Operation,
    pub target: Target,
}

/// Decodes `body` for `webhook`, or `None` when the exact way must answer.
pub fn fast<'a>(body: &'a [u8], webhook: Webhook, budget: &Budget) -> Option<FastReview<'a>> {
    // UTF-8 is checked once for the whole body (a fast scan) instead of string by string as
    // parsing a byte slice does. A body that is not UTF-8 is left to the exact way, which parses
    // it as bytes and words the error as before (a string the parser skips, such as one inside
    // `managedFields`, is not checked by it, and such a body is still answered).
    let text = std::str::from_utf8(body).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let parts = de.deserialize_map(ReviewVisitor { webhook, budget }).ok()?;
    de.end().ok()?;
    parts
}

/// Not an error the client sees: the signal to take the exact way.
fn bail<E: de::Error>(why: &str) -> E {
    E::custom(why)
}

/// A string value (borrowed when it has no escapes), or `None` for any other JSON value, which
/// is parsed in full and dropped.
struct MaybeStr;

impl<'de> DeserializeSeed<'de> for MaybeStr {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(MaybeStr)
    }
}

impl<'de> Visitor<'de> for MaybeStr {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Discard.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Discard.visit_map(map).map(|()| None)
    }
}

/// A map key as text.
struct KeyText;

impl<'de> DeserializeSeed<'de> for KeyText {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        match MaybeStr.deserialize(de)? {
            Some(key) => Ok(key),
            None => Err(bail("a key is not a string")),
        }
    }
}

struct ReviewVisitor<'b> {
    webhook: Webhook,
    budget: &'b Budget,
}

impl<'de> Visitor<'de> for ReviewVisitor<'_> {
    type Value = Option<FastReview<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AdmissionReview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut api_version, mut kind, mut request) = (None, None, None);
        while let Some(key) = map.next_key_seed(KeyText)? {
            match &*key {
                "apiVersion" if api_version.is_none() => {
                    api_version = Some(map.next_value_seed(MaybeStr)?);
                }
                "kind" if kind.is_none() => kind = Some(map.next_value_seed(MaybeStr)?),
                "request" if request.is_none() => {
                    request = Some(map.next_value_seed(RequestSeed {
                        webhook: self.webhook,
                        budget: self.budget,
                    })?);
                }
                "apiVersion" | "kind" | "request" => return Err(bail("a duplicated key")),
                _ => map.next_value_seed(Discard)?,
            }
        }
        let ok = api_version.flatten().as_deref() == Some(REVIEW_API_VERSION)
            && kind.flatten().as_deref() == Some(REVIEW_KIND);
        Ok(request.filter(|_| ok))
    }
}

struct RequestSeed<'b> {
    webhook: Webhook,
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = FastReview<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

/// What is known of `request.kind`.
#[derive(Default)]
struct Gvk<'de> {
    group: Option<Cow<'de, str>>,
    kind: Option<Cow<'de, str>>,
}

struct GvkSeed;

impl<'de> DeserializeSeed<'de> for GvkSeed {
    type Value = Gvk<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(GvkSeed)
    }
}

impl<'de> Visitor<'de> for GvkSeed {
    type Value = Gvk<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a group, version and kind")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Later keys win, as in a parsed `Value`.
        let mut gvk = Gvk::default();
        while let Some(key) = map.next_key_seed(KeyText)? {
            if super::strict::is_raw_value_token(&key) {
                return Err(bail("a key the Value parser treats specially"));
            }
            match &*key {
                "group" => gvk.group = map.next_value_seed(MaybeStr)?,
                "kind" => gvk.kind = map.next_value_seed(MaybeStr)?,
                _ => map.next_value_seed(Discard)?,
            }
        }
        Ok(gvk)
    }
}

/// Where the request stands once its kind and operation are known.
#[derive(Clone, Copy)]
enum Plan {
    /// Not ours, or nothing to check: objects are parsed and dropped.
    Skip,
    /// Ours, on CREATE or UPDATE.
    Decode(Kind, Operation),
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = FastReview<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an admission request")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut uid: Option<Option<Cow<'de, str>>> = None;
        let mut operation: Option<Operation> = None;
        let mut gvk: Option<Gvk<'de>> = None;
        let mut object_seen = false;
        let mut new: Option<(Decoded, Captured)> = None;
        let mut old: Option<Decoded> = None;
        let mut old_seen = false;
        let mut old_shape_ok = true;
        let plan = |operation: Option<Operation>, gvk: &Option<Gvk<'de>>| -> Option<Plan> {
            let operation = operation?;
            let gvk = gvk.as_ref()?;
            let kind = gvk.kind.as_deref()?;
            let ours = (gvk.group.as_deref().unwrap_or_default() == GROUP)
                .then(|| Kind::from_name(kind))
                .flatten();
            Some(match (ours, operation) {
                (Some(kind), Operation::Create | Operation::Update) => {
                    Plan::Decode(kind, operation)
                }
                _ => Plan::Skip,
            })
        };
        while let Some(key) = map.next_key_seed(KeyText)? {
            match &*key {
                "uid" if uid.is_none() => uid = Some(map.next_value_seed(MaybeStr)?),
                "operation" if operation.is_none() => {
                    let text = map.next_value_seed(MaybeStr)?;
                    operation = Some(
                        text.as_deref()
                            .and_then(Operation::parse)
                            .ok_or_else(|| bail::<A::Error>("an unknown operation"))?,
                    );
                }
                "kind" if gvk.is_none() => gvk = Some(map.next_value_seed(GvkSeed)?),
                "object" if !object_seen => {
                    object_seen = true;
                    match plan(operation, &gvk).ok_or_else(|| bail::<A::Error>("early object"))? {
                        Plan::Skip => map.next_value_seed(Discard)?,
                        Plan::Decode(kind, _) => {
                            let captured = Captured::default();
                            let decoded = map.next_value_seed(ObjectSeed {
                                kind,
                                cx: Context {
                                    budget: self.budget,
                                    captured: Some(&captured),
                                    keep_spec: self.webhook == Webhook::Mutate,
                                    fast: true,
                                },
                            })?;
                            new = Some((decoded, captured));
                        }
                    }
                }
                "oldObject" if !old_seen => {
                    old_seen = true;
                    match self.webhook {
                        Webhook::Mutate => {
                            // Only its JSON type matters, as in the exact way.
                            let shape = map.next_value_seed(super::decode::Shape)?;
                            old_shape_ok = matches!(shape, Value::Object(_) | Value::Null);
                        }
                        Webhook::Validate => match plan(operation, &gvk)
                            .ok_or_else(|| bail::<A::Error>("early old object"))?
                        {
                            // The stored object, for the update rules and ratcheting. Its
                            // `apiVersion` and `spec` are not kept: the envelope is the new
                            // object's, and specs are compared decoded (see `Pair::changed`).
                            Plan::Decode(kind, Operation::Update) => {
                                old = Some(map.next_value_seed(ObjectSeed {
                                    kind,
                                    cx: Context {
                                        budget: self.budget,
                                        captured: None,
                                        keep_spec: false,
                                        fast: true,
                                    },
                                })?);
                            }
                            _ => map.next_value_seed(Discard)?,
                        },
                    }
                }
                "uid" | "operation" | "kind" | "object" | "oldObject" => {
                    return Err(bail("a duplicated key"));
                }
                _ => map.next_value_seed(Discard)?,
            }
        }
        let uid = uid
            .flatten()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bail::<A::Error>("no uid"))?;
        let operation = operation.ok_or_else(|| bail::<A::Error>("no operation"))?;
        let plan = plan(Some(operation), &gvk).ok_or_else(|| bail::<A::Error>("no kind"))?;
        let target = match plan {
            Plan::Skip => {
                let gvk = gvk.unwrap_or_default();
                let group = gvk.group.unwrap_or_default().into_owned();
                let kind = gvk.kind.unwrap_or_default().into_owned();
                match (group == GROUP).then(|| Kind::from_name(&kind)).flatten() {
                    Some(kind) => Target::Nothing(kind),
                    None => Target::Unknown { group, kind },
                }
            }
            Plan::Decode(_, operation) => {
                let Some((new, captured)) = new else {
                    return Err(bail("no object"));
                };
                if operation == Operation::Update && !old_shape_ok {
                    return Err(bail("old object of the wrong type"));
                }
                let api_version = captured.api_version.into_inner();
                match (self.webhook, operation) {
                    (Webhook::Validate, Operation::Update) => {
                        // A missing or null stored object, or specs equal as decoded: the
                        // exact way decides.
                        let old = old.ok_or_else(|| bail::<A::Error>("no old object"))?;
                        let pair = Pair::changed(new, old)
                            .ok_or_else(|| bail::<A::Error>("spec unchanged as decoded"))?;
                        Target::ValidateUpdate { pair, api_version }
                    }
                    (Webhook::Validate, _) => Target::Validate { new, api_version },
                    (Webhook::Mutate, _) => Target::Mutate {
                        new,
                        spec: captured.spec.into_inner(),
                    },
                }
            }
        };
        Ok(FastReview {
            uid,
            operation,
            target,
        })
    }
}

/// Decodes an object as `kind` at [`Level::Object`].
struct ObjectSeed<'c> {
    kind: Kind,
    cx: Context<'c>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Decoded;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Decoded, D::Error> {
        let de = Strict {
            de,
            cx: self.cx,
            level: Level::Object,
        };
        Ok(match self.kind {
            Kind::Cluster => Decoded::Cluster(Box::new(Deserialize::deserialize(de)?)),
            Kind::Standalone => Decoded::Standalone(Box::new(Deserialize::deserialize(de)?)),
            Kind::Backup => Decoded::Backup(Box::new(Deserialize::deserialize(de)?)),
            Kind::Restore => Decoded::Restore(Box::new(Deserialize::deserialize(de)?)),
            Kind::Database => Decoded::Database(Box::new(Deserialize::deserialize(de)?)),
            Kind::Plugin => Decoded::Plugin(Box::new(Deserialize::deserialize(de)?)),
        })
    }
}

macro_rules! per_kind {
    ($decoded:expr, |$typed:ident| $body:expr) => {
        match $decoded {
            Decoded::Cluster($typed) => $body,
            Decoded::Standalone($typed) => $body,
            Decoded::Backup($typed) => $body,
            Decoded::Restore($typed) => $body,
            Decoded::Database($typed) => $body,
            Decoded::Plugin($typed) => $body,
        }
    };
}

impl Decoded {
    pub fn kind(&self) -> Kind {
        match self {
            Decoded::Cluster(_) => Kind::Cluster,
            Decoded::Standalone(_) => Kind::Standalone,
            Decoded::Backup(_) => Kind::Backup,
            Decoded::Restore(_) => Kind::Restore,
            Decoded::Database(_) => Kind::Database,
            Decoded::Plugin(_) => Kind::Plugin,
        }
    }
}

/// [`engine::validate_decoded`] for a decoded object on CREATE.
pub fn validate(new: Decoded, api_version: &str, inventory: &dyn Inventory) -> AdmissionDecision {
    per_kind!(new, |typed| engine::validate_decoded(
        api_version,
        None,
        *typed,
        inventory
    ))
}

/// An UPDATE's new object and the stored one it replaces, of one kind, whose specs differ.
pub enum Pair {
    Cluster(Box<Neo4jEnterpriseCluster>, Box<Neo4jEnterpriseCluster>),
    Standalone(
        Box<Neo4jEnterpriseStandalone>,
        Box<Neo4jEnterpriseStandalone>,
    ),
    Backup(Box<Neo4jBackup>, Box<Neo4jBackup>),
    Restore(Box<Neo4jRestore>, Box<Neo4jRestore>),
    Database(Box<Neo4jDatabase>, Box<Neo4jDatabase>),
    Plugin(Box<Neo4jPlugin>, Box<Neo4jPlugin>),
}

macro_rules! per_pair {
    ($pair:expr, |$new:ident, $old:ident| $body:expr) => {
        match $pair {
            Pair::Cluster($new, $old) => $body,
            Pair::Standalone($new, $old) => $body,
            Pair::Backup($new, $old) => $body,
            Pair::Restore($new, $old) => $body,
            Pair::Database($new, $old) => $body,
            Pair::Plugin($new, $old) => $body,
        }
    };
}

impl Pair {
    /// The two objects of an UPDATE when their decoded specs differ; `None` when they are
    /// equal (or of different kinds). Decoding is a function of the JSON value, so specs that
    /// differ decoded differ as JSON too, and the update is judged exactly when the webhook
    /// configurations' matchConditions call the webhook (`object.spec != oldObject.spec`,
    /// `engine::spec_changed`). Equal decoded specs do not prove equal JSON (a field this
    /// version does not know may have changed), so that case is left to the exact way.
    fn changed(new: Decoded, old: Decoded) -> Option<Pair> {
        let pair = match (new, old) {
            (Decoded::Cluster(n), Decoded::Cluster(o)) => Pair::Cluster(n, o),
            (Decoded::Standalone(n), Decoded::Standalone(o)) => Pair::Standalone(n, o),
            (Decoded::Backup(n), Decoded::Backup(o)) => Pair::Backup(n, o),
            (Decoded::Restore(n), Decoded::Restore(o)) => Pair::Restore(n, o),
            (Decoded::Database(n), Decoded::Database(o)) => Pair::Database(n, o),
            (Decoded::Plugin(n), Decoded::Plugin(o)) => Pair::Plugin(n, o),
            _ => return None,
        };
        per_pair!(&pair, |new, old| new.spec != old.spec).then_some(pair)
    }

    pub fn kind(&self) -> Kind {
        fn kind_of<P: Policy>(_: &P) -> Kind {
            P::KIND
        }
        per_pair!(self, |new, _old| kind_of(&**new))
    }
}

/// [`engine::validate_decoded`] for an UPDATE whose spec changed.
pub fn validate_update(
    pair: Pair,
    api_version: &str,
    inventory: &dyn Inventory,
) -> AdmissionDecision {
    per_pair!(pair, |new, old| engine::validate_decoded(
        api_version,
        Some(*old),
        *new,
        inventory
    ))
}

/// [`engine::mutate_decoded`] for a decoded object.
pub fn mutate(
    new: Decoded,
    spec: Option<&Value>,
) -> Result<json_patch::Patch, engine::DecodeError> {
    per_kind!(new, |typed| engine::mutate_decoded(*typed, spec))
}
