//! Distinct names (client IPs, object keys, sections) numbered in the order
//! the counting first meets them.
//!
//! Every row touches a dozen sets and maps keyed by its IP and its key;
//! hashing and comparing the strings each time, and allocating a string per
//! (key, IP) pair, was most of the report's cost. With names numbered once
//! per row, those sets and maps hold `u32`s and a pair is one `u64`.
//! Two tallies number the same names differently, so adding one into the
//! other goes through [`Names::absorb`]'s table from their ids to ours.

use std::collections::{HashMap, HashSet};

type Fast = foldhash::fast::RandomState;

/// A name's number within one [`Names`].
pub type Id = u32;

/// A set of names by number.
pub type IdSet = HashSet<Id, Fast>;

/// Serialized as the names in number order; the lookup is rebuilt on reading.
#[derive(Default, serde::Deserialize)]
#[serde(from = "Vec<Box<str>>")]
pub struct Names {
    ids: HashMap<Box<str>, Id, Fast>,
    names: Vec<Box<str>>,
}

impl From<Vec<Box<str>>> for Names {
    fn from(names: Vec<Box<str>>) -> Self {
        let mut all = Names::default();
        for name in names {
            all.insert(name);
        }
        all
    }
}

impl serde::Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, to: S) -> Result<S::Ok, S::Error> {
        self.names.serialize(to)
    }
}

impl Names {
    /// The number of `name`, given the next free one the first time.
    pub fn id(&mut self, name: &str) -> Id {
        match self.ids.get(name) {
            Some(&id) => id,
            None => self.insert(name.into()),
        }
    }

    /// The number of `name` and whether it was new.
    pub fn id_new(&mut self, name: &str) -> (Id, bool) {
        match self.ids.get(name) {
            Some(&id) => (id, false),
            None => (self.insert(name.into()), true),
        }
    }

    fn insert(&mut self, name: Box<str>) -> Id {
        let id = Id::try_from(self.names.len()).expect("fewer than 2^32 distinct names");
        self.ids.insert(name.clone(), id);
        self.names.push(name);
        id
    }

    pub fn name(&self, id: Id) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name with its number, in number order.
    pub fn iter(&self) -> impl Iterator<Item = (Id, &str)> {
        self.names.iter().enumerate().map(|(i, n)| (i as Id, &**n))
    }

    /// Takes in `other`'s names; the result maps each of `other`'s numbers
    /// (its index) to the number the name has here.
    pub fn absorb(&mut self, other: Names) -> Vec<Id> {
        other
            .names
            .into_iter()
            .map(|name| match self.ids.get(&name) {
                Some(&id) => id,
                None => self.insert(name),
            })
            .collect()
    }
}

/// `set` with each of its numbers replaced through `map`.
pub fn remapped(set: IdSet, map: &[Id]) -> impl Iterator<Item = Id> + '_ {
    set.into_iter().map(move |id| map[id as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_order_of_first_sight_and_absorbs_through_a_table() {
        let mut a = Names::default();
        assert_eq!((a.id("x"), a.id("y"), a.id("x")), (0, 1, 0));
        assert_eq!(a.id_new("z"), (2, true));
        assert_eq!(a.id_new("z"), (2, false));
        let mut b = Names::default();
        b.id("y");
        b.id("w");
        let map = a.absorb(b);
        assert_eq!(map, vec![1, 3]);
        assert_eq!(a.name(3), "w");
        assert_eq!(a.len(), 4);
        let set: IdSet = [0, 1].into_iter().collect();
        let mut moved: Vec<Id> = remapped(set, &map).collect();
        moved.sort_unstable();
        assert_eq!(moved, vec![1, 3]);
    }
}
