//! The one integration-test binary: the real `tributary` binary against a
//! real HTTP server on 127.0.0.1 and a real SQLite file.

mod bounded;
mod child;
mod clients;
mod corpus;
mod crash;
mod daemon;
mod dedup_corpus;
mod dedup_eval;
mod digests;
mod driven;
mod faults;
mod fulltext;
mod group_commit;
mod hostile;
mod ingest;
mod logs;
mod ops;
mod ops_config;
mod origins;
mod outputs;
mod private;
mod props;
mod publish;
mod reach;
mod readers;
mod regressions;
mod requests;
mod rules;
mod secrets;
mod served;
mod server;
mod ssrf;
mod tombstones;
mod util;
mod websub;
