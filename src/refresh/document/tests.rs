use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;

#[test]
fn one_processor_per_core() {
    assert_eq!(processors(0), 1);
    assert_eq!(processors(1), 1);
    assert_eq!(processors(2), 2);
    assert_eq!(processors(8), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_take_turns_on_the_processors() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..processors(cores) + 4)
        .map(|_| {
            let (now, most) = (Arc::clone(&now), Arc::clone(&most));
            tokio::spawn(on_a_processor(move || {
                let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(at_once, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30));
                now.fetch_sub(1, Ordering::SeqCst);
            }))
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // Every task ran, never more at once than the processors. (Other
    // tests of this process share the limit, so fewer may have run at
    // once than it allows.)
    assert_eq!(now.load(Ordering::SeqCst), 0);
    let most = most.load(Ordering::SeqCst);
    assert!((1..=processors(cores)).contains(&most), "{most} at once");
}
