//! Resource requests and limits, in every `resources` block of every kind (the servers', the MCP
//! server's, a backup's or restore's Job, a plugin's): each a Kubernetes quantity, none negative,
//! no memory or CPU of zero, and no request above its limit. Kubernetes would refuse the Pod
//! later; the object itself must not be admitted with a value no Pod can have.

use std::collections::BTreeMap;
use std::fmt::Display;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::units::quantity;
use crate::validate::{KeyPath, SubPath, shown};
use crate::verdict::Verdict;

/// Resources whose zero is refused too (a zero memory or CPU limit starts no container).
const POSITIVE: [&str; 2] = ["memory", "cpu"];

/// `resources-quantity-format`, `resources-quantity-positive` and `resources-request-le-limit`
/// on the block at `path` (e.g. `spec.resources`, `spec.options.resources`).
pub fn resources(path: &str, r: Option<&corev1::ResourceRequirements>, v: &mut Verdict) {
    let Some(r) = r else { return };
    for (section, map) in [("limits", &r.limits), ("requests", &r.requests)] {
        for (res, q) in map.iter().flatten() {
            quantity_value(KeyPath(SubPath(path, section), res), res, &q.0, v);
        }
    }
    for res in POSITIVE {
        if let (Some(req), Some(lim)) = (entry(&r.requests, res), entry(&r.limits, res))
            && let (Some(rq), Some(lq)) = (quantity(req), quantity(lim))
            && rq > lq
        {
            let field = KeyPath(SubPath(path, "requests"), res).to_string();
            v.error(
                "resources-request-le-limit",
                &field,
                format!("{field} is {}, above the limit {}; a request may not exceed its limit — lower the request or raise the limit", shown(req), shown(lim)),
            );
        }
    }
}

fn entry<'a>(map: &'a Option<BTreeMap<String, Quantity>>, res: &str) -> Option<&'a str> {
    map.as_ref().and_then(|m| m.get(res)).map(|q| q.0.as_str())
}

/// One quantity of resource `res` at `field`: well-formed, not negative, and above zero for
/// memory and CPU. Returns the value when it is usable.
pub fn quantity_value(field: impl Display, res: &str, q: &str, v: &mut Verdict) -> Option<f64> {
    let Some(value) = quantity(q) else {
        v.error(
            "resources-quantity-format",
            field.to_string(),
            format!(
                "{field} is {}, not a Kubernetes quantity; use e.g. 4Gi for memory or 500m for CPU",
                shown(q)
            ),
        );
        return None;
    };
    let zero_refused = POSITIVE.contains(&res);
    if value < 0.0 || (zero_refused && value == 0.0) {
        let what = if value < 0.0 { "negative" } else { "zero" };
        v.error(
            "resources-quantity-positive",
            field.to_string(),
            format!("{field} is {} ({what}); a container needs a positive amount — give e.g. 4Gi for memory or 500m for CPU, or remove the entry", shown(q)),
        );
        return None;
    }
    Some(value)
}
