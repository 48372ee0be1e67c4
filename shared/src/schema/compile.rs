//! A node of a structural schema (`openAPIV3Schema` and everything below it), read once from the
//! CRD's JSON into the parts validation needs.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::cel;

/// The JSON type a node asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    /// `x-kubernetes-int-or-string`.
    IntOrString,
    /// No `type` (only under `x-kubernetes-preserve-unknown-fields`).
    Any,
}

impl Type {
    fn parse(node: &Value) -> Type {
        if node["x-kubernetes-int-or-string"] == Value::Bool(true) {
            return Type::IntOrString;
        }
        match node["type"].as_str() {
            Some("object") => Type::Object,
            Some("array") => Type::Array,
            Some("string") => Type::String,
            Some("integer") => Type::Integer,
            Some("number") => Type::Number,
            Some("boolean") => Type::Boolean,
            _ => Type::Any,
        }
    }

    /// The name the API server's messages use.
    pub fn name(self) -> &'static str {
        match self {
            Type::Object => "object",
            Type::Array => "array",
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::IntOrString => "integer,string",
            Type::Any => "any",
        }
    }
}

/// One CEL rule of a node and its implementation (`None`: not implemented, so not checked).
#[derive(Debug)]
pub struct Rule {
    pub rule: String,
    pub message: String,
    pub check: Option<cel::Check>,
}

/// A bound of `minimum`/`maximum`: the value and whether it is exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub exclusive: bool,
}

/// A compiled schema node.
#[derive(Debug)]
pub struct Node {
    pub ty: Type,
    pub nullable: bool,
    pub preserve_unknown: bool,
    pub properties: BTreeMap<String, Node>,
    /// `additionalProperties` with a schema (a map); `Some(None)` for `additionalProperties: true`.
    pub additional: Option<Option<Box<Node>>>,
    pub items: Option<Box<Node>>,
    pub required: Vec<String>,
    pub enumeration: Option<Vec<Value>>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    /// The pattern as written, and compiled (`None` when Rust's regex cannot read it).
    pub pattern: Option<(String, Option<Regex>)>,
    pub format: Option<String>,
    /// `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`.
    pub list_type: Option<String>,
    pub list_map_keys: Vec<String>,
    pub rules: Vec<Rule>,
    pub default: Option<Value>,
}

fn count(node: &Value, key: &str) -> Option<u64> {
    node.get(key).and_then(Value::as_u64)
}

impl Node {
    /// Reads a node (and everything below it) from its JSON.
    pub fn compile(node: &Value) -> Node {
        let properties = node
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), Node::compile(v)))
                    .collect()
            })
            .unwrap_or_default();
        let additional = match node.get("additionalProperties") {
            Some(Value::Bool(true)) => Some(None),
            Some(v @ Value::Object(_)) => Some(Some(Box::new(Node::compile(v)))),
            _ => None,
        };
        let bound = |value: &str, exclusive: &str| {
            node.get(value).and_then(Value::as_f64).map(|v| Bound {
                value: v,
                exclusive: node[exclusive] == Value::Bool(true),
            })
        };
        let rules = node
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                let rule = r["rule"].as_str().unwrap_or_default().to_string();
                let message = r["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("failed rule: {rule}"));
                Rule {
                    check: cel::of(&rule),
                    rule,
                    message,
                }
            })
            .collect();
        Node {
            ty: Type::parse(node),
            nullable: node["nullable"] == Value::Bool(true),
            preserve_unknown: node["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true),
            properties,
            additional,
            items: node
                .get("items")
                .filter(|i| i.is_object())
                .map(|i| Box::new(Node::compile(i))),
            required: node
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            enumeration: node.get("enum").and_then(Value::as_array).cloned(),
            minimum: bound("minimum", "exclusiveMinimum"),
            maximum: bound("maximum", "exclusiveMaximum"),
            min_length: count(node, "minLength"),
            max_length: count(node, "maxLength"),
            min_items: count(node, "minItems"),
            max_items: count(node, "maxItems"),
            min_properties: count(node, "minProperties"),
            max_properties: count(node, "maxProperties"),
            pattern: node
                .get("pattern")
                .and_then(Value::as_str)
                .map(|p| (p.to_string(), Regex::new(p).ok())),
            format: node
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
            list_type: node
                .get("x-kubernetes-list-type")
                .and_then(Value::as_str)
                .map(str::to_string),
            list_map_keys: node
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            rules,
            default: node.get("default").cloned(),
        }
    }

    /// The schema of the value under `key` of an object of this node.
    pub fn child(&self, key: &str) -> Option<&Node> {
        self.properties.get(key).or(match &self.additional {
            Some(Some(node)) => Some(node),
            _ => None,
        })
    }

    /// The node at a dotted path of property names (`spec.topology.servers`), for tests and the
    /// catalogue's record of which constraints the schema holds.
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('.')
            .filter(|p| !p.is_empty())
            .try_fold(self, |node, key| {
                node.properties
                    .get(key)
                    .or_else(|| (key == "[]").then_some(node.items.as_deref()).flatten())
            })
    }

    /// Calls `f` on this node and every node below it.
    pub fn visit(&self, f: &mut impl FnMut(&Node)) {
        f(self);
        for p in self.properties.values() {
            p.visit(f);
        }
        if let Some(Some(a)) = &self.additional {
            a.visit(f);
        }
        if let Some(i) = &self.items {
            i.visit(f);
        }
    }
}
