//! Compact values shared by many records: [`Name`], a string that every
//! node's copy of the same line or chain can share through an [`Interner`],
//! and [`Mac`], a link-layer address as its six bytes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An immutable string that is cheap to clone and can be shared: a chain,
/// a device, a protocol, or a whole line that every node printed the same
/// (kube-proxy writes the same rules on every node, flannel the same route
/// towards a peer). Compares, hashes, prints and serializes as its text.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::from(s))
    }
}

impl From<&Name> for String {
    fn from(n: &Name) -> String {
        n.0.to_string()
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        String::deserialize(d).map(Name::from)
    }
}

impl schemars::JsonSchema for Name {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Name".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string"})
    }
}

/// Makes equal [`Name`]s one allocation. The set holds each distinct text
/// once, so it is never larger than the input it was fed.
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Name>,
}

impl Interner {
    /// A new, empty interner.
    pub fn new() -> Interner {
        Interner::default()
    }

    /// Replaces `name` by the shared copy of its text, keeping it as the
    /// shared copy when the text is new.
    pub fn intern(&mut self, name: &mut Name) {
        match self.set.get(name.as_str()) {
            Some(shared) => *name = shared.clone(),
            None => {
                self.set.insert(name.clone());
            }
        }
    }

    /// The shared copy of a text.
    pub fn get(&mut self, text: &str) -> Name {
        match self.set.get(text) {
            Some(shared) => shared.clone(),
            None => {
                let n = Name::from(text);
                self.set.insert(n.clone());
                n
            }
        }
    }

    /// Distinct texts held.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Records whose shared strings an [`Interner`] can fold together.
pub trait Intern {
    /// Replaces each [`Name`] in `self` by its shared copy.
    fn intern(&mut self, names: &mut Interner);
}

impl Intern for Name {
    fn intern(&mut self, names: &mut Interner) {
        names.intern(self);
    }
}

impl<T: Intern> Intern for Option<T> {
    fn intern(&mut self, names: &mut Interner) {
        if let Some(v) = self {
            v.intern(names);
        }
    }
}

impl<T: Intern> Intern for Vec<T> {
    fn intern(&mut self, names: &mut Interner) {
        for v in self.iter_mut() {
            v.intern(names);
        }
        self.shrink_to_fit();
    }
}

/// An Ethernet (EUI-48) address: six bytes, printed `6e:2f:1a:00:00:01`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// As printed: lowercase hex pairs joined by colons (ASCII).
    pub fn ascii(&self) -> [u8; 17] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            out[i * 3] = HEX[usize::from(b >> 4)];
            out[i * 3 + 1] = HEX[usize::from(b & 0xf)];
        }
        out
    }

    /// Reads `aa:bb:cc:dd:ee:ff` (either case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Mac> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next()?;
            if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        parts.next().is_none().then_some(Mac(out))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.ascii()).unwrap_or_default())
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Mac, D::Error> {
        let s = String::deserialize(d)?;
        Mac::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a MAC address: '{s}'")))
    }
}

impl schemars::JsonSchema for Mac {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Mac".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "a MAC address, lowercase, e.g. `6e:2f:1a:00:00:01`",
        })
    }
}

impl PartialEq<str> for Mac {
    fn eq(&self, other: &str) -> bool {
        Mac::parse(other) == Some(*self)
    }
}

impl PartialEq<&str> for Mac {
    fn eq(&self, other: &&str) -> bool {
        Mac::parse(other) == Some(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_names_share_one_allocation() {
        let mut names = Interner::new();
        let mut a = Name::from("KUBE-SERVICES");
        let mut b = Name::from(String::from("KUBE-SERVICES"));
        names.intern(&mut a);
        names.intern(&mut b);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(names.len(), 1);
        assert_eq!(a, "KUBE-SERVICES");
        assert_eq!(
            serde_json::to_string(&a).ok().as_deref(),
            Some("\"KUBE-SERVICES\"")
        );
    }

    #[test]
    fn macs_read_either_case_and_print_lowercase() {
        let m = Mac::parse("6E:2f:1a:00:00:01");
        assert_eq!(
            m.map(|m| m.to_string()).as_deref(),
            Some("6e:2f:1a:00:00:01")
        );
        for bad in [
            "",
            "6e:2f:1a:00:00",
            "6e:2f:1a:00:00:01:02",
            "6e:2f:1a:00:00:0g",
            "6e:2f:1a:00:000:1",
            "+e:2f:1a:00:00:01",
        ] {
            assert_eq!(Mac::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn mac_text_round_trips(bytes in proptest::array::uniform6(any::<u8>())) {
            let m = Mac(bytes);
            prop_assert_eq!(Mac::parse(&m.to_string()), Some(m));
            prop_assert_eq!(Mac::parse(&m.to_string().to_uppercase()), Some(m));
        }
    }
}
