#!/bin/sh
# Builds and runs one fuzz target of fuzz/ with nothing but stable Rust and
# a C++ compiler (libfuzzer-sys builds its bundled libFuzzer with it):
#
#   scripts/fuzz.sh process [SECONDS]   # refresh::process, any bytes
#   scripts/fuzz.sh config  [SECONDS]   # Config::parse, any text
#
# SECONDS defaults to 600. No cargo-fuzz and no nightly toolchain:
# RUSTC_BOOTSTRAP=1 lets stable rustc take the flags cargo-fuzz would pass
# (SanitizerCoverage for libFuzzer, `--cfg fuzzing`, debug assertions and
# overflow checks, so an integer overflow is a crash). No AddressSanitizer:
# the code under test is safe Rust, and ASan only slowed the build (55 min)
# and the runs.
#
# Working corpus: fuzz/corpus/TARGET (kept between runs, git-ignored),
# seeded from fuzz/corpus/seeds-TARGET: the sample feeds and config, the
# regression inputs, and a few hundred files of the shared corpus if
# $CORPUS (default ../shared/corpus beside this checkout) exists. Findings land in
# fuzz/artifacts/TARGET/ (crash-*, timeout-*, oom-*); minimize one with
#   fuzz/target/x86_64-unknown-linux-gnu/release/TARGET -minimize_crash=1 \
#       -runs=10000 fuzz/artifacts/TARGET/crash-…
# then keep it in tests/fixtures/regressions/ (see the README there).
#
# Environment: JOBS (cargo build jobs, default 2), MAX_LEN (default 65536),
# CORPUS; extra libFuzzer flags after SECONDS are passed on.
set -eu

target=${1:?usage: scripts/fuzz.sh process|config [SECONDS] [libFuzzer flags…]}
seconds=${2:-600}
[ $# -ge 2 ] && shift 2 || shift $#
case $target in
process | config) ;;
*) echo "unknown target $target (process or config)" >&2 && exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz=$root/fuzz
triple=$(rustc -vV | sed -n 's/^host: //p')
corpus_src=${CORPUS:-$root/../shared/corpus}

# --target keeps these flags off build scripts and proc macros (they would
# not link without libFuzzer), as cargo-fuzz does.
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
(cd "$fuzz" && cargo build --release -j "${JOBS:-2}" --target "$triple" --bin "$target")
bin=$fuzz/target/$triple/release/$target

seeds=$fuzz/corpus/seeds-$target
work=$fuzz/corpus/$target
artifacts=$fuzz/artifacts/$target
mkdir -p "$seeds" "$work" "$artifacts"
if [ -z "$(ls -A "$seeds")" ]; then
	if [ "$target" = process ]; then
		# The target's first byte picks the content type and identity
		# mode (0: none, Guid; 3: application/feed+json; 0x81: RSS with
		# a Latin-1 charset, Link): each seed goes in with one of them.
		add() { # add PREFIX-BYTE FILE
			name=$(printf '%s' "$2" | cksum | cut -d' ' -f1)
			{ printf "\\$(printf %03o "$1")"; cat "$2"; } >"$seeds/$1-$name"
		}
		for f in "$root"/config/samples/*.rss "$root"/config/samples/*.atom \
			"$root"/config/samples/*.rdf "$root"/tests/fixtures/regressions/process-*; do
			add 0 "$f"
			add 129 "$f"
		done
		add 3 "$root/config/samples/science.json"
		if [ -d "$corpus_src" ]; then
			# Every 12th file under 16 KB, sorted by path: about 300
			# files from every source of the corpus.
			find "$corpus_src" -type f -size -16k ! -name '*.md' ! -name '*.jsonl' |
				LC_ALL=C sort | awk 'NR % 12 == 0' | while read -r f; do
				case $f in
				*.json) add 3 "$f" ;;
				*) add 0 "$f" ;;
				esac
			done
		fi
	else
		cp "$root/config/tributary.toml" "$seeds/config-tributary.toml"
		cp "$root/systemd/tributary.toml" "$seeds/systemd-tributary.toml"
		for f in "$root"/tests/fixtures/dedup/*.toml; do cp "$f" "$seeds/dedup-$(basename "$f")"; done
		for f in "$root"/tests/fixtures/regressions/config-*; do
			[ -e "$f" ] && cp "$f" "$seeds/"
		done
	fi
fi

cd "$fuzz"
exec "$bin" "$work" "$seeds" -max_total_time="$seconds" -max_len="${MAX_LEN:-65536}" \
	-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$@"
