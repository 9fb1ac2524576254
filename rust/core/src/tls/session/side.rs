//! The two directions of a connection ([`Side`]) and Python's per-side dicts ([`SideMap`]).

/// A direction of the TCP connection: `A` sent the first packet seen (or the SYN), `B` is its peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    #[default]
    A,
    B,
}

impl Side {
    /// The other direction.
    pub fn peer(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// The Python engine's name: `"a"` or `"b"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::A => "a",
            Side::B => "b",
        }
    }
}

/// A per-side dict (`dict[str, T]` in Python): at most two entries, kept in insertion order
/// (Python iterates `session.prelude.values()` in that order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideMap<T> {
    entries: Vec<(Side, T)>,
}

impl<T> Default for SideMap<T> {
    fn default() -> Self {
        SideMap { entries: Vec::new() }
    }
}

impl<T> SideMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, side: Side) -> Option<&T> {
        self.entries.iter().find(|(s, _)| *s == side).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, side: Side) -> Option<&mut T> {
        self.entries.iter_mut().find(|(s, _)| *s == side).map(|(_, v)| v)
    }

    pub fn contains_key(&self, side: Side) -> bool {
        self.get(side).is_some()
    }

    /// `d[side] = value`: replaces in place (keeping the entry's position) or appends.
    pub fn insert(&mut self, side: Side, value: T) {
        match self.get_mut(side) {
            Some(v) => *v = value,
            None => self.entries.push((side, value)),
        }
    }

    /// `d.setdefault(side, value)`: the existing value, or `value` inserted.
    pub fn setdefault(&mut self, side: Side, value: T) -> &mut T {
        self.setdefault_with(side, || value)
    }

    /// `setdefault` with a lazily built default.
    pub fn setdefault_with(&mut self, side: Side, value: impl FnOnce() -> T) -> &mut T {
        let i = match self.entries.iter().position(|(s, _)| *s == side) {
            Some(i) => i,
            None => {
                self.entries.push((side, value()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// `d.pop(side, None)`.
    pub fn remove(&mut self, side: Side) -> Option<T> {
        let i = self.entries.iter().position(|(s, _)| *s == side)?;
        Some(self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (side, value) in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        self.entries.iter().map(|(s, v)| (*s, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = Side> + '_ {
        self.entries.iter().map(|(s, _)| *s)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, v)| v)
    }
}
