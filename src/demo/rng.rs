//! A small deterministic generator (xorshift64*), so that the demo is the same every
//! time it is loaded.

use chrono::NaiveDate;

/// A list of items with integer weights, as the demo's data files write them.
pub type Weighted = Vec<(String, u32)>;

/// The generator; seeded from the demo's data files.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; an odd state is kept so it never sticks at 0).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or_default()
    }

    /// One of `items`, if there is any.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }

    /// `n` distinct items of `items` (all of them, in a random order, when there are
    /// fewer): a partial Fisher-Yates shuffle.
    pub fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let n = n.min(pool.len());
        for i in 0..n {
            let j = i + self.below(pool.len() - i);
            pool.swap(i, j);
        }
        pool.truncate(n);
        pool
    }

    /// One of `items`, drawn by weight.
    pub fn weighted<'a>(&mut self, items: &'a Weighted) -> Option<&'a str> {
        let total: u32 = items.iter().map(|(_, w)| *w).sum();
        let mut roll = u32::try_from(self.next_u64() % u64::from(total.max(1))).unwrap_or_default();
        for (item, weight) in items {
            if roll < *weight {
                return Some(item);
            }
            roll -= weight;
        }
        items.last().map(|(item, _)| item.as_str())
    }

    /// Whether an event of probability `p` percent happens.
    pub fn percent(&mut self, p: u32) -> bool {
        self.next_u64() % 100 < u64::from(p)
    }

    /// A day in `[from, until)` (`from` when the span is empty).
    pub fn day_between(&mut self, from: NaiveDate, until: NaiveDate) -> NaiveDate {
        let span = (until - from).num_days().max(1);
        from + chrono::Duration::days(
            i64::try_from(self.next_u64() % u64::try_from(span).unwrap_or(1)).unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_numbers() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        let drawn: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(drawn, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(drawn[0], Rng::new(44).next_u64());
    }

    #[test]
    fn a_sample_holds_distinct_items_of_the_list() {
        let items: Vec<u32> = (0..20).collect();
        let mut rng = Rng::new(7);
        let mut drawn = rng.sample(&items, 8);
        assert_eq!(drawn.len(), 8);
        drawn.sort_unstable();
        drawn.dedup();
        assert_eq!(drawn.len(), 8);
        assert!(drawn.iter().all(|d| items.contains(d)));
        assert_eq!(rng.sample(&items[..3], 8).len(), 3);
    }
}
