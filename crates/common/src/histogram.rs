//! A latency histogram with fixed buckets, as Prometheus reads one: a count,
//! a sum and how many observations fell at or below each bound. The HTTP
//! layer times answers with it and the storage engine its commits; the
//! metrics endpoint renders both alike.

use std::time::Duration;

/// Upper bounds of the buckets, in seconds (500 µs to 10 s).
pub const BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Observations of a duration. Buckets are cumulative: `buckets[i]` counts
/// the observations of at most `BOUNDS[i]` seconds; the `+Inf` bucket is
/// `count`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    pub count: u64,
    /// Seconds, summed.
    pub sum: f64,
    pub buckets: [u64; BOUNDS.len()],
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&mut self, took: Duration) {
        let secs = took.as_secs_f64();
        self.count += 1;
        self.sum += secs;
        for (b, le) in self.buckets.iter_mut().zip(BOUNDS) {
            if secs <= le {
                *b += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let mut h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(20));
        assert_eq!(h.count, 3);
        assert!((h.sum - 20.033).abs() < 1e-9);
        let at = |le: f64| h.buckets[BOUNDS.iter().position(|b| *b == le).unwrap()];
        assert_eq!(
            [at(0.0025), at(0.005), at(0.025), at(0.05), at(10.0)],
            [0, 1, 1, 2, 2]
        );
    }
}
