//! A set of words from a fixed list (route flags, neighbour states, FDB
//! flags), held as bits: a node prints one such list per peer, and a list
//! of names would cost an allocation each.

use serde::Serialize;
use std::marker::PhantomData;

/// The words a [`WordSet`] may hold, in the order iproute2 prints them
/// (at most 16).
pub trait Words {
    /// The words.
    const LIST: &'static [&'static str];
}

/// A set of the words of `L`.
pub struct WordSet<L: Words>(u16, PhantomData<L>);

impl<L: Words> WordSet<L> {
    /// Adds a word; `false` when it is not one of `L`.
    pub fn insert(&mut self, word: &str) -> bool {
        match L::LIST.iter().position(|w| *w == word) {
            Some(at) if at < 16 => {
                self.0 |= 1 << at;
                true
            }
            _ => false,
        }
    }

    /// Whether the word is in the set.
    pub fn contains(&self, word: &str) -> bool {
        L::LIST
            .iter()
            .position(|w| *w == word)
            .is_some_and(|at| at < 16 && self.0 & (1 << at) != 0)
    }

    /// The words in the set, in `L`'s order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        L::LIST
            .iter()
            .enumerate()
            .filter(|(at, _)| *at < 16 && self.0 & (1 << at) != 0)
            .map(|(_, w)| *w)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

// Derives would ask `L` for the traits; the set is plain bits.
impl<L: Words> Clone for WordSet<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Words> Copy for WordSet<L> {}

impl<L: Words> Default for WordSet<L> {
    fn default() -> Self {
        WordSet(0, PhantomData)
    }
}

impl<L: Words> PartialEq for WordSet<L> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<L: Words> Eq for WordSet<L> {}

impl<L: Words> std::fmt::Debug for WordSet<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<L: Words> Serialize for WordSet<L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
