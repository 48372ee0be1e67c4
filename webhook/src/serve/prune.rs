//! Before the one-pass decode ([`super::review`]): the parts of a review that the decoder only
//! skips are found by a structural scan and replaced, in a copy of the body, by a placeholder
//! of the same JSON type. They are each object's `metadata.managedFields`, its last-applied
//! annotation (a string), and for `/mutate` the whole `oldObject` (only its type is read).
//! Together they are most of a review's bytes, and skipping them through the JSON parser costs
//! far more per byte than this scan.
//!
//! A part is replaced only when the scan has checked it at least as strictly as the decoder
//! checks what it skips: JSON grammar throughout (strings closed, escapes valid, no control
//! characters, numbers well formed, no trailing commas; the body is UTF-8, checked before), and
//! no `\u` escape at all (the decoder refuses a lone surrogate in some of these places, and this
//! scan does not pair them). Anything else — a part that fails these checks, a key written with
//! escapes, a body the scan cannot follow — is left as it is, and the decoder sees it and
//! decides as before. The scan never makes the fast way accept what it would refuse.

use super::review::Webhook;
use super::strict::LAST_APPLIED;

/// Bodies larger than this are decoded as they are (a copy would add to their memory).
pub const MAX_PRUNED_BODY: usize = 256 * 1024;

/// The body with the skipped parts replaced, or `None` when there is nothing to replace (or
/// the body is too large, or not what the scan can follow).
pub fn prune(body: &str, webhook: Webhook) -> Option<String> {
    if body.len() > MAX_PRUNED_BODY {
        return None;
    }
    let mut scan = Scan {
        bytes: body.as_bytes(),
        at: 0,
        webhook,
        cuts: Vec::new(),
    };
    scan.ws();
    scan.value(Place::Root)?;
    if scan.cuts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    let mut from = 0;
    for cut in &scan.cuts {
        out.push_str(&body[from..cut.start]);
        out.push_str(cut.placeholder);
        from = cut.end;
    }
    out.push_str(&body[from..]);
    Some(out)
}

/// Where a value sits, as far as the decoder treats it specially.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    Request,
    /// `request.object` or `request.oldObject` (for `/validate`).
    Object,
    Metadata,
    Annotations,
    /// Anywhere else: checked and passed over.
    Other,
}

/// A replaced part: `bytes[start..end]` becomes `placeholder`.
struct Cut {
    start: usize,
    end: usize,
    placeholder: &'static str,
}

struct Scan<'b> {
    bytes: &'b [u8],
    at: usize,
    webhook: Webhook,
    cuts: Vec<Cut>,
}

/// What one checked string held.
struct Str {
    /// The bytes between the quotes, as written (escapes not decoded).
    raw_start: usize,
    raw_end: usize,
    escapes: bool,
    unicode_escape: bool,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> Option<Str> {
        self.eat(b'"')?;
        let raw_start = self.at;
        let (mut escapes, mut unicode_escape) = (false, false);
        loop {
            let rest = &self.bytes[self.at..];
            let stop = memchr::memchr2(b'"', b'\\', rest)?;
            // Written to have no early exit, so it is compiled to wide compares.
            if rest[..stop].iter().fold(false, |c, &b| c | (b < 0x20)) {
                return None;
            }
            self.at += stop;
            match self.bytes[self.at] {
                b'"' => {
                    let raw_end = self.at;
                    self.at += 1;
                    return Some(Str {
                        raw_start,
                        raw_end,
                        escapes,
                        unicode_escape,
                    });
                }
                b'\\' => {
                    escapes = true;
                    match *self.bytes.get(self.at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 2..self.at + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            unicode_escape = true;
                            self.at += 6;
                        }
                        _ => return None,
                    }
                }
                // A control character: not JSON.
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    /// A number as JSON writes it: `-`? (`0` | [1-9][0-9]*) (`.` [0-9]+)? ([eE] [+-]? [0-9]+)?
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            (self.digits() > 0).then_some(())?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            (self.digits() > 0).then_some(())?;
        }
        // A digit right after a leading zero ("01") is not a number.
        match self.peek() {
            Some(b'0'..=b'9') => None,
            _ => Some(()),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Any value, checked and passed over without recursion (no depth limit, as the decoder
    /// has none where it skips). Returns whether a `\u` escape occurred in it.
    fn skip(&mut self) -> Option<bool> {
        let mut unicode_escape = false;
        // Open containers: `true` for an object (whose next item is a key).
        let mut open: Vec<bool> = Vec::new();
        loop {
            // A value.
            self.ws();
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.peek()? == b'{';
                    self.at += 1;
                    self.ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.at += 1;
                    } else {
                        open.push(object);
                        if object {
                            unicode_escape |= self.key()?;
                        }
                        continue;
                    }
                }
                b'"' => unicode_escape |= self.string()?.unicode_escape,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => self.number()?,
            }
            // After a value: close what ends here, or go on to the next item.
            loop {
                let Some(&object) = open.last() else {
                    return Some(unicode_escape);
                };
                self.ws();
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.ws();
                            unicode_escape |= self.key()?;
                        }
                        break;
                    }
                    b'}' if object => {
                        self.at += 1;
                        open.pop();
                    }
                    b']' if !object => {
                        self.at += 1;
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A key and its colon; returns whether the key held a `\u` escape.
    fn key(&mut self) -> Option<bool> {
        let key = self.string()?;
        self.ws();
        self.eat(b':')?;
        Some(key.unicode_escape)
    }

    /// Passes over a value at `place`, recording the parts to replace inside it.
    fn value(&mut self, place: Place) -> Option<()> {
        if place == Place::Other || self.peek()? != b'{' {
            return self.skip().map(|_| ());
        }
        self.at += 1;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            // A key written with escapes is not matched (the decoder sees the part as is).
            let name = if key.escapes {
                None
            } else {
                std::str::from_utf8(&self.bytes[key.raw_start..key.raw_end]).ok()
            };
            let cut = match (place, name) {
                // Only its JSON type is read: an object stays an object.
                (Place::Request, Some("oldObject")) if self.webhook == Webhook::Mutate => {
                    self.cut_if(Some(b'{'), "{}")?
                }
                (Place::Metadata, Some("managedFields")) => self.cut_if(None, "[]")?,
                (Place::Annotations, Some(LAST_APPLIED)) => self.cut_if(Some(b'"'), "\"\"")?,
                _ => false,
            };
            if !cut {
                let child = match (place, name) {
                    (Place::Root, Some("request")) => Place::Request,
                    (Place::Request, Some("object" | "oldObject")) => Place::Object,
                    (Place::Object, Some("metadata")) => Place::Metadata,
                    (Place::Metadata, Some("annotations")) => Place::Annotations,
                    _ => Place::Other,
                };
                self.value(child)?;
            }
            self.ws();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Records the value here as a cut, and passes over it, when it starts with `first` (any
    /// value for `None`), checks out and has no `\u` escape; otherwise leaves it for the caller
    /// to pass over (`false`).
    fn cut_if(&mut self, first: Option<u8>, placeholder: &'static str) -> Option<bool> {
        let start = self.at;
        if first.is_some_and(|f| self.peek() != Some(f)) {
            return Some(false);
        }
        if self.skip()? {
            // Checked, but holds a `\u` escape.
            self.at = start;
            return Some(false);
        }
        self.cuts.push(Cut {
            start,
            end: self.at,
            placeholder,
        });
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(meta: &str) -> String {
        format!(r#"{{"apiVersion":"v","metadata":{{"name":"a",{meta}}},"spec":{{"x":1}}}}"#)
    }

    fn review(object: &str, old: &str) -> String {
        format!(
            r#"{{"kind":"AdmissionReview","request":{{"uid":"u","operation":"UPDATE","object":{object},"oldObject":{old},"dryRun":false}}}}"#
        )
    }

    #[test]
    fn replaces_managed_fields_last_applied_and_the_old_object_for_mutate() {
        let meta = r#""managedFields":[{"f:spec":{".":{},"f:x":{}}},1.5e3,-0,true,null],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"a\":\"b\\n\"}\n","other":"kept"}"#;
        let body = review(&object(meta), &object(meta));
        let kept = object(
            r#""managedFields":[],"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"","other":"kept"}"#,
        );
        assert_eq!(
            prune(&body, Webhook::Validate).as_deref(),
            Some(review(&kept, &kept).as_str())
        );
        assert_eq!(
            prune(&body, Webhook::Mutate).as_deref(),
            Some(review(&kept, "{}").as_str())
        );
        // Parts elsewhere are not touched.
        let elsewhere = r#"{"request":{"userInfo":{"managedFields":[1]},"object":{"spec":{"managedFields":[1]}}},"metadata":{"managedFields":[1]}}"#;
        assert_eq!(prune(elsewhere, Webhook::Validate), None);
    }

    #[test]
    fn leaves_what_it_cannot_vouch_for() {
        for meta in [
            r#""managedFields":["\ud800"]"#,
            r#""managedFields":["\u0041"]"#,
            r#""managedFields":[1,]"#,
            r#""managedFields":[01]"#,
            r#""managedFields":[1.]"#,
            r#""managedFields":[1e]"#,
            r#""managedFields":[tru]"#,
            r#""managedFields":{"a" 1}"#,
            r#""managedFields":{"a":1,}"#,
            r#""managedFields":["\q"]"#,
            "\"managedFields\":[\"a\u{1}b\"]",
            r#""managedFields":[1"#,
            r#""annotations":{"kubectl.kubernetes.io/last-applied-configuration":"\ud83d\ude00"}"#,
            r#""annotations":{"kubectl.kubernetes.io/last-applied-configuration":5}"#,
            r#""annotations":{"kubectl.kubernetes.io\/last-applied-configuration":"x"}"#,
            r#""managed\u0046ields":[1]"#,
        ] {
            let body = review(&object(meta), "null");
            let pruned = prune(&body, Webhook::Validate);
            assert!(
                pruned.as_deref().is_none_or(|p| p == body),
                "{meta}: {pruned:?}"
            );
        }
        // An old object that is not an object keeps its type for /mutate.
        let body = review(&object(r#""x":1"#), "[1,2]");
        assert_eq!(prune(&body, Webhook::Mutate), None);
        let body = review(&object(r#""x":1"#), r#"{"\u00e9":1}"#);
        assert_eq!(prune(&body, Webhook::Mutate), None);
    }

    #[test]
    fn deep_and_large_parts_are_passed_over() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let body = review(&object(&format!(r#""managedFields":{deep}"#)), "null");
        let pruned = prune(&body, Webhook::Validate).expect("pruned");
        assert!(pruned.contains(r#""managedFields":[]"#), "{pruned}");
        let big = "x".repeat(MAX_PRUNED_BODY);
        let body = review(&object(&format!(r#""managedFields":["{big}"]"#)), "null");
        assert_eq!(prune(&body, Webhook::Validate), None);
    }
}
