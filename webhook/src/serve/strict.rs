//! A serde `Deserializer` adapter for decoding typed objects straight from the request body,
//! with the same acceptance as parsing the body into a `serde_json::Value` first:
//!
//! - parts a typed struct does not know (serde asks for `IgnoredAny`, which serde_json skips
//!   with a lenient scanner) are parsed in full and dropped, so a lone surrogate escape or a
//!   number out of range is refused exactly as when building a `Value`, without building one;
//! - every map entry and list item decoded counts against a per-review [`Budget`], so a review
//!   of a hundred thousand tiny values cannot make a typed tree a hundred times its size;
//! - inside an object (`Level::Object`), `metadata.managedFields` is skipped as the `Value`
//!   decoder skips it (see `decode.rs`), the `kubectl.kubernetes.io/last-applied-configuration`
//!   annotation is skipped and its text checked as parsing would check it (no rule reads it;
//!   it is often the largest string of an object), and the object's `apiVersion` (and, when asked for, its `spec` as a `Value`, which
//!   the mutating webhook needs to compute its patch) are kept on the side.
//!
//! Errors only need to be errors: a caller that gets one decodes the body again the slow, exact
//! way, which produces the message the client sees.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::Value;

/// The annotation `kubectl apply` writes: a copy of the whole object as a string.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// How many map entries and list items one review may decode.
#[derive(Debug)]
pub struct Budget {
    left: Cell<usize>,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Self {
        Budget {
            left: Cell::new(limit),
            limit,
        }
    }

    /// Takes one value; an error once the budget is spent.
    pub fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "{}{}",
                BUDGET_ERROR_PREFIX, self.limit
            ))),
        }
    }

    pub fn spent(&self) -> bool {
        self.left.get() == 0
    }
}

/// Start of the error a spent [`Budget`] raises.
pub const BUDGET_ERROR_PREFIX: &str = "too many JSON values: the review holds more than ";

/// Where in an object the decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Nothing special below here.
    Plain,
    /// The root of `request.object` or `request.oldObject`.
    Object,
    /// The object's `metadata`.
    Metadata,
    /// The object's `metadata.annotations`.
    Annotations,
}

/// What is kept of one object besides its typed form.
#[derive(Debug, Default)]
pub struct Captured {
    /// The object's `apiVersion` if it is a string ("" otherwise), as the envelope rule reads it.
    pub api_version: RefCell<String>,
    /// The object's `spec` as a `Value`, when [`Context::keep_spec`] asks for it.
    pub spec: RefCell<Option<Value>>,
}

/// Shared by every wrapper decoding one object.
#[derive(Clone, Copy)]
pub struct Context<'c> {
    pub budget: &'c Budget,
    pub captured: Option<&'c Captured>,
    pub keep_spec: bool,
    /// Refuse a map key that serde_json's `Value` parser treats specially (see
    /// [`RAW_VALUE_TOKEN`]), so the fast way never differs from parsing into a `Value`.
    pub fast: bool,
}

/// With serde_json's `raw_value` feature (on in this build), a JSON object whose first key is
/// this token is parsed into a `Value` as the JSON text in its string value. A typed decoder
/// sees an ordinary unknown key instead, so the fast way leaves such bodies to the exact one.
pub const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Whether a key is [`RAW_VALUE_TOKEN`].
pub fn is_raw_value_token(key: &str) -> bool {
    key.starts_with('$') && key == RAW_VALUE_TOKEN
}

/// The adapter around a deserializer `D` at `level`.
pub struct Strict<'c, D> {
    pub de: D,
    pub cx: Context<'c>,
    pub level: Level,
}

/// A seed that decodes its value through [`Strict`].
pub struct StrictSeed<'c, S> {
    pub seed: S,
    pub cx: Context<'c>,
    pub level: Level,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Strict {
            de,
            cx: self.cx,
            level: self.level,
        })
    }
}

/// Parses any value with serde_json's full checks (strings, numbers, depth) and keeps nothing.
pub struct Discard;

impl<'de> DeserializeSeed<'de> for Discard {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Discard)
    }
}

impl<'de> Visitor<'de> for Discard {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Discard)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Discard)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Discard)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key_seed(KeySeed)? {
            if is_raw_value_token(&key) {
                return Err(de::Error::custom("a key the Value parser treats specially"));
            }
            map.next_value_seed(Discard)?;
        }
        Ok(())
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let ((), variant) = data.variant_seed(Discard)?;
        variant.newtype_variant_seed(Discard)
    }
}

/// Checks the raw text of a value the parser has skipped (`RawValue`) as parsing it into a
/// `String` would: it must be a string, and its `\u` escapes must pair surrogates. Skipping
/// already checked everything else (the end of the string, escape syntax, no control
/// characters; the fast way checks UTF-8 for the whole body first). A string with a `\u` in it
/// is parsed again in full, so a lone surrogate is refused as before.
fn skipped_string<E: de::Error>(raw: &str) -> Result<(), E> {
    if !raw.starts_with('"') {
        return Err(E::custom("not a string"));
    }
    if raw.contains("\\u") {
        DiscardString
            .deserialize(&mut serde_json::Deserializer::from_str(raw))
            .map_err(E::custom)?;
    }
    Ok(())
}

/// Parses a string with the parser's full checks and drops it; anything else is an error.
struct DiscardString;

impl<'de> DeserializeSeed<'de> for DiscardString {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_str(DiscardString)
    }
}

impl<'de> Visitor<'de> for DiscardString {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method(Wrap { visitor, cx: self.cx, level: self.level })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'_, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = Wrap {
            visitor,
            cx: self.cx,
            level: self.level,
        };
        self.de.deserialize_enum(name, variants, visitor)
    }

    /// What serde asks for unknown fields: parsed in full (serde_json's own skipping is more
    /// lenient than its parser), nothing kept.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(Discard)?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// The visitor side of [`Strict`]: wraps every nested access so the adapter follows the value
/// all the way down.
struct Wrap<'c, V> {
    visitor: V,
    cx: Context<'c>,
    level: Level,
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.visitor.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(Strict {
            de,
            cx: self.cx,
            level: self.level,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_newtype_struct(Strict {
            de,
            cx: self.cx,
            level: self.level,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.level == Level::Object {
            // The object itself must be a JSON object; an array would decode into a struct.
            return Err(de::Error::custom("the object is not a JSON object"));
        }
        self.visitor.visit_seq(WrapSeq { seq, cx: self.cx })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(WrapMap {
            map,
            cx: self.cx,
            level: self.level,
            next: Next::Plain,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(WrapEnum { data, cx: self.cx })
    }
}

struct WrapSeq<'c, A> {
    seq: A,
    cx: Context<'c>,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for WrapSeq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.cx.budget.take()?;
        self.seq.next_element_seed(StrictSeed {
            seed,
            cx: self.cx,
            level: Level::Plain,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// What the value after the current key is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Plain,
    Metadata,
    Annotations,
    ApiVersion,
    Spec,
}

struct WrapMap<'c, A> {
    map: A,
    cx: Context<'c>,
    level: Level,
    next: Next,
}

/// A map key, borrowed from the body when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Key<'de>, D::Error> {
        de.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(std::borrow::Cow::Owned(v)))
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WrapMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(Key(key)) = self.map.next_key_seed(KeySeed)? else {
                return Ok(None);
            };
            self.cx.budget.take()?;
            if self.cx.fast && is_raw_value_token(&key) {
                return Err(de::Error::custom("a key the Value parser treats specially"));
            }
            self.next = match (self.level, &*key) {
                (Level::Object, "metadata") => Next::Metadata,
                (Level::Object, "apiVersion") if self.cx.captured.is_some() => Next::ApiVersion,
                (Level::Object, "spec") if self.cx.keep_spec => Next::Spec,
                (Level::Metadata, "managedFields") => {
                    // Skipped as the Value decoder skips it (serde_json's lenient scanner).
                    self.map.next_value::<IgnoredAny>()?;
                    continue;
                }
                (Level::Metadata, "annotations") => Next::Annotations,
                (Level::Annotations, LAST_APPLIED) => {
                    // Checked as parsing it would check it, without building it; it must be a
                    // string, as the typed map requires.
                    let raw: &'de serde_json::value::RawValue = self.map.next_value()?;
                    skipped_string(raw.get())?;
                    continue;
                }
                _ => Next::Plain,
            };
            let key = match key {
                std::borrow::Cow::Borrowed(k) => {
                    seed.deserialize(de::value::BorrowedStrDeserializer::<A::Error>::new(k))
                }
                std::borrow::Cow::Owned(k) => {
                    seed.deserialize(de::value::StringDeserializer::<A::Error>::new(k))
                }
            }?;
            return Ok(Some(key));
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let level = match self.next {
            Next::Plain => Level::Plain,
            Next::Metadata => Level::Metadata,
            Next::Annotations => Level::Annotations,
            Next::ApiVersion | Next::Spec => {
                let value: Value = self.map.next_value_seed(StrictSeed {
                    seed: std::marker::PhantomData::<Value>,
                    cx: self.cx,
                    level: Level::Plain,
                })?;
                // The typed decoder reads the same value (decoding from a `Value` consumes it).
                let typed = seed.deserialize(value.clone()).map_err(de::Error::custom)?;
                if let Some(captured) = self.cx.captured {
                    if self.next == Next::ApiVersion {
                        *captured.api_version.borrow_mut() =
                            value.as_str().unwrap_or_default().to_owned();
                    } else {
                        *captured.spec.borrow_mut() = Some(value);
                    }
                }
                return Ok(typed);
            }
        };
        self.map.next_value_seed(StrictSeed {
            seed,
            cx: self.cx,
            level,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct WrapEnum<'c, A> {
    data: A,
    cx: Context<'c>,
}

impl<'de, 'c, A: EnumAccess<'de>> EnumAccess<'de> for WrapEnum<'c, A> {
    type Error = A::Error;
    type Variant = WrapVariant<'c, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.data.variant_seed(StrictSeed {
            seed,
            cx: self.cx,
            level: Level::Plain,
        })?;
        Ok((
            value,
            WrapVariant {
                variant,
                cx: self.cx,
            },
        ))
    }
}

struct WrapVariant<'c, A> {
    variant: A,
    cx: Context<'c>,
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for WrapVariant<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.variant.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.variant.newtype_variant_seed(StrictSeed {
            seed,
            cx: self.cx,
            level: Level::Plain,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.variant.tuple_variant(
            len,
            Wrap {
                visitor,
                cx: self.cx,
                level: Level::Plain,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.variant.struct_variant(
            fields,
            Wrap {
                visitor,
                cx: self.cx,
                level: Level::Plain,
            },
        )
    }
}
