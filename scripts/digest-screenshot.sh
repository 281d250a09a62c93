#!/usr/bin/env bash
# Renders a digest of the bundled sample feeds and takes a screenshot of its
# HTML in headless Chromium (Debian's `chromium` package), for the README.
#
#   scripts/digest-screenshot.sh [OUTPUT.png]     (default: docs/digest.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/digest.png}"
command -v chromium >/dev/null || { echo "needs chromium: apt-get install chromium" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r config/samples "$work/"
sed -e 's|path = "../data/tributary.db"|path = "tributary.db"|' config/tributary.toml > "$work/tributary.toml"
# The example config's "daily" digest, at most a dozen stories.
sed -i -e '/^group_by = "tag"$/a max_items = 12' "$work/tributary.toml"
cargo build --quiet --locked
bin=target/debug/tributary
"$bin" --config "$work/tributary.toml" fetch > /dev/null
"$bin" --config "$work/tributary.toml" digest daily --print html > "$work/digest.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=820,1500 \
  --screenshot="$work/shot.png" "file://$work/digest.html" 2>/dev/null
mkdir -p "$(dirname "$out")"
mv "$work/shot.png" "$out"
echo "wrote $out"
