//! Jobs that the command line and the daemon share: the feeds as the
//! store should know them, a round over every feed (`round`), planning
//! each feed's next check after a fetch (`plan`), making and delivering
//! digests (`digests`), applying the retention settings (`retention`),
//! delivering notifications (`notify`), and the runtime both run on
//! (`threads`). The daemon owns only its timers and signals and calls
//! these; `tributary fetch`, `digest` and `prune` call the same ones, and
//! the benchmark's ingest phase runs the same round.

pub mod digests;
pub mod notify;
pub mod plan;
pub mod retention;
pub mod round;
pub mod threads;

use chrono::Utc;

use crate::config::{Config, FeedConfig};
use crate::fetch::Redactor;
use crate::model::FeedSpec;
use crate::store::SharedStore;
use plan::{jitter_seed, next_due, Due};

/// Feeds in the config as the store should know them (URLs redacted: the
/// store never holds a feed's secrets).
pub fn feed_specs(config: &Config) -> Vec<FeedSpec> {
    config
        .feeds
        .iter()
        .map(|f| FeedSpec {
            name: f.name.clone(),
            url: Redactor::new(&f.http, &f.url, &config.fetch.url_secrets).url(&f.url),
            tags: f.tags.clone(),
            dedup: f.dedup,
        })
        .collect()
}

/// Plans and stores the next check of each feed of a round, each with
/// its response: one trip to the store and one
/// transaction, not one of each per feed (1,000 commits were a third of an
/// unchanged round of 1,000 feeds). One result per feed, in order.
pub async fn store_next_checks(
    store: &SharedStore,
    refreshed: Vec<(FeedConfig, Option<crate::fetch::ResponseMeta>)>,
    schedule: crate::config::ScheduleConfig,
) -> crate::store::Result<Vec<Option<Due>>> {
    store
        .call(move |s| {
            let now = Utc::now();
            let mut planned = Vec::with_capacity(refreshed.len());
            let mut writes = Vec::with_capacity(refreshed.len());
            s.snapshot(|s| {
                for (feed, response) in &refreshed {
                    let Some(row) = s.feed_by_name(&feed.name)? else {
                        planned.push(None);
                        continue;
                    };
                    let recent = s.recent_entry_times(row.id, plan::ADAPTIVE_SAMPLE)?;
                    let seed = jitter_seed(&feed.name, now);
                    let mut due =
                        next_due(now, feed, &row, response.as_ref(), &recent, &schedule, seed);
                    if let Some(every) = schedule.pushed_poll {
                        let lease = s.subscription_of(row.id)?.filter(|sub| sub.live(now));
                        let until = lease.and_then(|l| l.lease_expires_at);
                        due = plan::while_pushed(due, now, every, until);
                    }
                    writes.push((row.id, due.at, due.reason.clone()));
                    planned.push(Some(due));
                }
                Ok(())
            })?;
            s.set_next_checks(&writes)?;
            Ok(planned)
        })
        .await
}
