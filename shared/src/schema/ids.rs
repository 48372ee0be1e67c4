//! The rule ids of the API server's own checks (the `schema` table of the rule catalogue).

/// Unknown field (strict field validation).
pub const UNKNOWN_FIELD: &str = "unknown-field";
/// A value of the wrong JSON type.
pub const TYPE: &str = "schema-type";
/// A required field left out.
pub const REQUIRED: &str = "schema-required";
/// A value outside the field's `enum`.
pub const ENUM: &str = "schema-enum";
/// A number outside `minimum`/`maximum`.
pub const RANGE: &str = "schema-range";
/// A string not matching the field's `pattern`.
pub const PATTERN: &str = "schema-pattern";
/// A string longer than `maxLength` or shorter than `minLength`.
pub const LENGTH: &str = "schema-length";
/// A list or map with more or fewer entries than `maxItems`/`minItems`/`maxProperties`/`minProperties` allow.
pub const SIZE: &str = "schema-size";
/// Two items of a list-type `map` with the same key (or equal items of a list-type `set`).
pub const DUPLICATE: &str = "schema-duplicate";
/// A CEL rule (`x-kubernetes-validations`) that does not hold.
pub const RULE: &str = "schema-rule";
/// `metadata.name` that is not a DNS-1123 subdomain.
pub const METADATA_NAME: &str = "metadata-name-invalid";
