//! The floor the reports are compared with: one core scanning packed rows (one `u32`
//! per person, ordered by province so that a province is a contiguous slice) and
//! counting a workforce profile: headcount by child and five distributions.

use std::{hint::black_box, time::Instant};

use crate::{measure::Timing, people::Rng};

/// Children of the country (provinces) and buckets per child.
const CHILDREN: usize = 34;
const BUCKETS: usize = 64;

/// Counts the profile of `rows`, children taken from the low bits.
fn profile(rows: &[u32], counts: &mut [u32]) {
    counts.fill(0);
    for &row in rows {
        let child = (row & 0x3f) as usize % CHILDREN;
        let base = child * BUCKETS;
        // Category (2 bits), gender (1), age band (3), professional (3), political (3).
        counts[base] += 1;
        counts[base + 1 + ((row >> 6) & 3) as usize] += 1;
        counts[base + 5 + ((row >> 8) & 1) as usize] += 1;
        counts[base + 8 + ((row >> 9) & 7) as usize] += 1;
        counts[base + 16 + ((row >> 12) & 7) as usize] += 1;
        counts[base + 24 + ((row >> 15) & 7) as usize] += 1;
    }
}

/// The floor for `people` rows: the whole country, an average province and an
/// average commune (45 % of a province's people over its ~98 communes).
pub fn measure(people: usize, iterations: usize) -> [(String, Timing); 3] {
    let mut rng = Rng::new(7);
    let rows: Vec<u32> = (0..people).map(|_| (rng.next() >> 16) as u32).collect();
    let province = people / CHILDREN;
    let commune = (people * 45 / 100 / 3_321).max(1);
    let mut counts = vec![0u32; CHILDREN * BUCKETS];
    let mut time = |slice: &[u32]| {
        let mut times = Vec::with_capacity(iterations);
        profile(black_box(slice), &mut counts);
        for _ in 0..iterations {
            let t = Instant::now();
            profile(black_box(slice), &mut counts);
            black_box(&counts);
            times.push(t.elapsed());
        }
        Timing::of(times)
    };
    [
        (format!("country ({people} rows)"), time(&rows)),
        (format!("province ({province} rows)"), time(&rows[..province.min(rows.len())])),
        (format!("commune ({commune} rows)"), time(&rows[..commune.min(rows.len())])),
    ]
}
