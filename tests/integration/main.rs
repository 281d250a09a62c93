//! The one integration-test binary: the real `tributary` binary against a
//! real HTTP server on 127.0.0.1 and a real SQLite file.

mod corpus;
mod daemon;
mod dedup_corpus;
mod dedup_eval;
mod ingest;
mod ops;
mod ops_config;
mod publish;
mod util;
