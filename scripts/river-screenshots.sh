#!/usr/bin/env bash
# What a subscriber sees, for the README: the index page of the bundled
# sample feeds in headless Chromium (Debian's `chromium` package), and the
# river's Atom feed listed by newsboat in a tmux pane, saved as text.
#
#   scripts/river-screenshots.sh      (writes docs/index.png, docs/newsboat.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in chromium newsboat tmux; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install $tool" >&2; exit 2; }
done

work=$(mktemp -d)
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  tmux kill-session -t river-shot 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=18193
cp -r config/samples "$work/"
sed -e 's|path = "../data/tributary.db"|path = "tributary.db"|' \
    -e "s|listen = \"127.0.0.1:8080\"|listen = \"127.0.0.1:$port\"|" \
    -e 's|^out_dir = .*||' config/tributary.toml > "$work/tributary.toml"
cargo build --quiet --locked
bin=$PWD/target/debug/tributary
"$bin" --config "$work/tributary.toml" fetch > /dev/null
"$bin" --config "$work/tributary.toml" run 2> "$work/run.log" &
daemon=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/" -o /dev/null && break
  sleep 0.2
done

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1000,1300 \
  --screenshot="$work/index.png" "http://127.0.0.1:$port/" 2>/dev/null
mv "$work/index.png" docs/index.png

# newsboat in a 100×30 pane: reload, open the feed, print the pane.
mkdir -p "$work/nb"
echo "http://127.0.0.1:$port/feed.atom" > "$work/nb/urls"
: > "$work/nb/config"
tmux new-session -d -s river-shot -x 100 -y 30 \
  "HOME=$work/nb newsboat -u $work/nb/urls -C $work/nb/config -c $work/nb/cache.db -r"
sleep 3
tmux send-keys -t river-shot Enter
sleep 1
tmux capture-pane -t river-shot -p | sed -e 's/[[:space:]]*$//' > docs/newsboat.txt
tmux send-keys -t river-shot q q
echo "wrote docs/index.png and docs/newsboat.txt"
