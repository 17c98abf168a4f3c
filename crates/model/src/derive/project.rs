//! The parts of a record something reads: a tree of field names, each kept
//! whole or narrowed further. A rule that reads `r.object.spec.dnsPolicy`
//! of every Pod needs that field, not the Pod (the rules crate finds the
//! paths in a rule's expressions).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The parts of a value to keep.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    /// Keep the value at this point whole.
    whole: bool,
    /// Else the fields to keep, each projected further.
    fields: BTreeMap<String, Projection>,
}

impl Projection {
    /// Everything.
    pub fn all() -> Projection {
        Projection {
            whole: true,
            fields: BTreeMap::new(),
        }
    }

    /// Whether everything is kept.
    pub fn is_all(&self) -> bool {
        self.whole
    }

    /// Keeps the value at `path` (field names from here) whole.
    pub fn add(&mut self, path: &[&str]) {
        if self.whole {
            return;
        }
        match path.split_first() {
            None => {
                self.whole = true;
                self.fields.clear();
            }
            Some((first, rest)) => self
                .fields
                .entry((*first).to_owned())
                .or_default()
                .add(rest),
        }
    }

    /// What to keep of field `name`, or `None` for nothing.
    pub fn field(&self, name: &str) -> Option<&Projection> {
        if self.whole {
            return Some(self);
        }
        self.fields.get(name)
    }

    /// `value` with only the projected parts. A part a path goes through
    /// that is not a map is kept whole, so that selecting into it fails as
    /// it would have.
    pub fn apply(&self, value: &Value) -> Value {
        if self.whole {
            return value.clone();
        }
        match value {
            Value::Object(m) => Value::Object(
                self.fields
                    .iter()
                    .filter_map(|(k, p)| m.get(k).map(|v| (k.clone(), p.apply(v))))
                    .collect::<Map<_, _>>(),
            ),
            other => other.clone(),
        }
    }
}
