//! A YAML document as a tree whose every key and value knows its line and
//! column, so that every error in a rule file can point at its place.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

fn pos(loc: &serde_saphyr::Location) -> Pos {
    Pos {
        line: u32::try_from(loc.line()).unwrap_or(0),
        column: u32::try_from(loc.column()).unwrap_or(0),
    }
}

/// A node of the tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// Mapping, keys in order, each with its position.
    Map(Vec<(String, Pos, Spanned<Node>)>),
    /// Sequence.
    Seq(Vec<Spanned<Node>>),
    /// Any scalar.
    Scalar(Value),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            out.push((key.value, pos(&key.referenced), value));
        }
        Ok(Node::Map(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Spanned<Node>>()? {
            out.push(v);
        }
        Ok(Node::Seq(out))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
}

/// Parses a rule file into a spanned tree.
pub fn parse(text: &str) -> Result<Spanned<Node>, (Pos, String)> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options).map_err(|e| {
        let msg = e.to_string();
        (
            error_pos(&msg),
            msg.lines().next().unwrap_or_default().to_owned(),
        )
    })
}

/// `line N column M` from a serde-saphyr message.
fn error_pos(msg: &str) -> Pos {
    let num_after = |key: &str| {
        msg.split(key)
            .nth(1)
            .and_then(|r| r.trim_start().split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
    };
    Pos {
        line: num_after("line").unwrap_or(1),
        column: num_after("column").unwrap_or(1),
    }
}

/// The tree as plain JSON, and the position of every value by its dotted path
/// (`match.logs.pattern`, `caused_by.0.rule`).
pub fn to_json(node: &Spanned<Node>) -> (Value, BTreeMap<String, Pos>) {
    let mut positions = BTreeMap::new();
    let v = walk(node, String::new(), &mut positions);
    (v, positions)
}

fn walk(node: &Spanned<Node>, path: String, positions: &mut BTreeMap<String, Pos>) -> Value {
    positions.insert(path.clone(), pos(&node.referenced));
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_owned()
        } else {
            format!("{p}.{k}")
        }
    };
    match &node.value {
        Node::Map(entries) => {
            let mut m = Map::new();
            for (k, key_pos, v) in entries {
                positions.insert(format!("{}#key", join(&path, k)), *key_pos);
                m.insert(k.clone(), walk(v, join(&path, k), positions));
            }
            Value::Object(m)
        }
        Node::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| walk(v, join(&path, &i.to_string()), positions))
                .collect(),
        ),
        Node::Scalar(v) => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_keep_positions() {
        let t =
            parse("id: a\nmatch:\n  logs:\n    pattern: 'x('\ncaused_by:\n- rule: b\n").unwrap();
        let (v, pos) = to_json(&t);
        assert_eq!(v["match"]["logs"]["pattern"], "x(");
        assert_eq!(pos["match.logs.pattern"].line, 4);
        assert_eq!(pos["caused_by.0.rule"].line, 6);
        assert_eq!(pos["caused_by#key"], Pos { line: 5, column: 1 });
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (p, msg) = parse("id: a\nmatch: [\n").unwrap_err();
        assert!(p.line >= 2, "{p} {msg}");
    }
}
