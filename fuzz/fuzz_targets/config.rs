//! Arbitrary text through the config loader: it must return a config or a
//! located error, never panic or overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("/nonexistent/fuzz/tributary.toml");
    let _ = tributary::config::Config::parse(text, path);
});
