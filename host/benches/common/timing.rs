//! Timing an async operation for the benches that measure whole queries: one run to
//! warm caches, then the median of `samples` runs. Shared by the `reports` and `inbox`
//! benches.

use std::time::{Duration, Instant};

pub async fn median_of<F, Fut>(samples: usize, mut run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    run().await;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        run().await;
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}
