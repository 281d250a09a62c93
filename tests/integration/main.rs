//! The one integration-test binary: the real `tributary` binary against a
//! real HTTP server on 127.0.0.1 and a real SQLite file.

mod corpus;
mod daemon;
mod dedup_corpus;
mod dedup_eval;
mod digests;
mod ingest;
mod ops;
mod ops_config;
mod outputs;
mod publish;
mod served;
mod server;
mod util;
